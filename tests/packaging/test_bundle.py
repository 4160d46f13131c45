"""The frozen app from the .deb (packaging/build.sh): installs, self-tests, shows.

Uses the build in ``$IMAGING_VIEWER_PACKAGE_DIR`` (.ci/run builds into ``dist/`` and
sets it), else ``dist/`` if it holds a .deb. Without a build the tests skip with the
command that makes one; in CI they fail.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.packaging.conftest import require_tool, skip_or_fail

APP_ID = "org.imagingviewer.ImagingViewer"
DEB_LIMIT_MB = 150  # issue 17


@pytest.fixture(scope="session")
def deb() -> Path:
    """The built .deb."""
    folder = Path(os.environ.get("IMAGING_VIEWER_PACKAGE_DIR", REPO_ROOT / "dist"))
    debs = sorted(folder.glob("imaging-viewer_*.deb"))
    if not debs:
        skip_or_fail(f"no .deb in {folder}: build one with packaging/build.sh {folder}")
    return debs[-1]


@pytest.fixture(scope="session")
def installed(deb: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch root with the .deb unpacked in it (``dpkg -x``)."""
    dpkg = require_tool("dpkg", "dpkg")
    root = tmp_path_factory.mktemp("deb_root")
    subprocess.run([dpkg, "-x", str(deb), str(root)], check=True)
    return root


def _frozen(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    program = root / "opt" / "imaging-viewer" / "imaging-viewer"
    result = subprocess.run(
        [str(program), *args],
        env=(env or dict(os.environ)) | {"QT_QPA_PLATFORM": "offscreen"},
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_the_deb_is_small_and_names_the_xcb_libraries(deb: Path) -> None:
    assert deb.stat().st_size <= DEB_LIMIT_MB * 1024 * 1024
    dpkg_deb = require_tool("dpkg-deb", "dpkg")
    depends = subprocess.run(
        [dpkg_deb, "--field", str(deb), "Depends"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for package in ("libxcb-cursor0", "libxkbcommon-x11-0", "libxcb-icccm4", "libegl1"):
        assert package in depends


def test_the_deb_installs_the_app_launcher_menu_icon_and_mime(installed: Path) -> None:
    expected = [
        "opt/imaging-viewer/imaging-viewer",
        "usr/bin/imaging-viewer",
        f"usr/share/applications/{APP_ID}.desktop",
        f"usr/share/metainfo/{APP_ID}.metainfo.xml",
        "usr/share/icons/hicolor/scalable/apps/imaging-viewer.svg",
        "usr/share/icons/hicolor/48x48/apps/imaging-viewer.png",
        "usr/share/mime/packages/imaging-viewer.xml",
    ]
    for path in expected:
        assert (installed / path).is_file(), path
    assert os.access(installed / "usr/bin/imaging-viewer", os.X_OK)
    launcher = (installed / "usr/bin/imaging-viewer").read_text()
    assert "/opt/imaging-viewer/imaging-viewer" in launcher


def test_the_installed_desktop_entry_and_metainfo_validate(installed: Path) -> None:
    desktop = require_tool("desktop-file-validate", "desktop-file-utils")
    appstream = require_tool("appstreamcli", "appstream")
    entry = installed / f"usr/share/applications/{APP_ID}.desktop"
    subprocess.run([desktop, str(entry)], check=True)
    metainfo = installed / f"usr/share/metainfo/{APP_ID}.metainfo.xml"
    subprocess.run([appstream, "validate", "--no-net", str(metainfo)], check=True)


def test_the_frozen_app_passes_its_self_test(installed: Path) -> None:
    out = _frozen(installed, "--self-test")
    assert "(frozen)" in out
    assert "7 passed, 0 failed" in out
    assert "FAIL" not in out


def test_the_frozen_app_shows_the_sample_images(
    installed: Path, tmp_path: Path
) -> None:
    from PIL import Image

    shot = tmp_path / "frozen.png"
    _frozen(
        installed,
        str(REPO_ROOT / "sample_data"),
        "--screenshot",
        str(shot),
        "--size",
        "1200x800",
    )
    with Image.open(shot) as image:
        grey = image.convert("L")
        width, height = grey.size
        # the viewport fills the middle of the window: an image there has many greys
        middle = grey.crop((width // 3, height // 3, 2 * width // 3, 2 * height // 3))
        assert sum(1 for count in middle.histogram() if count) > 20
