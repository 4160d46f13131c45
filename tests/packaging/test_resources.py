"""resources/: found by importlib.resources; desktop entry, metainfo, MIME type."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from configparser import ConfigParser
from typing import TYPE_CHECKING

import pytest

from imaging_viewer.resource_files import (
    APP_ID,
    application_icon_files,
    resource_path,
    resources_folder,
)
from tests.conftest import REPO_ROOT
from tests.packaging.conftest import require_tool

if TYPE_CHECKING:
    from pathlib import Path

# The names the action table refers to (issue 17); resources/icons/README.md.
TOOLBAR_ICON_NAMES = [
    "document-open",
    "folder-open",
    "disc",
    "export",
    "copy",
    "teaching",
    "layout-1x1",
    "layout-1x2",
    "layout-2x1",
    "layout-2x2",
    "mpr",
    "link",
    "crosshair",
    "overlays",
    "zoom-fit",
    "zoom-original",
    "rotate-right",
    "flip-horizontal",
    "flip-vertical",
    "invert",
    "window-level",
    "auto-window",
    "pan",
    "zoom",
    "select",
    "point",
    "arrow",
    "text",
    "ruler",
    "angle",
    "cobb",
    "ellipse",
    "polygon",
    "bidirectional",
    "undo",
    "redo",
    "delete",
    "tags",
    "help",
    "cine",
    "key-image",
    "magnifier",
    "calibrate",
    "layout-mpr-1x3",
    "layout-mpr-2x2",
    "layout-mpr-1plus2",
]


def test_top_level_resources_is_the_packaged_folder() -> None:
    assert (REPO_ROOT / "resources").resolve() == resources_folder().resolve()
    assert (
        resources_folder().resolve()
        == (REPO_ROOT / "imaging_viewer" / "resources").resolve()
    )


@pytest.mark.parametrize("name", TOOLBAR_ICON_NAMES)
def test_every_toolbar_icon_is_an_svg(name: str) -> None:
    root = ET.parse(resource_path("icons", f"{name}.svg")).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"


def test_icon_licences_are_recorded() -> None:
    licences = resources_folder() / "LICENSES"
    assert "MIT License" in (licences / "tabler-icons.txt").read_text()
    assert "MIT license" in (licences / "pydicom.txt").read_text()


def test_application_icon_has_svg_and_png_sizes() -> None:
    from PIL import Image

    files = application_icon_files()
    assert files[0].suffix == ".svg"
    sizes = set()
    for path in files[1:]:
        with Image.open(path) as image:
            assert image.width == image.height
            assert path.parent.parent.name == f"{image.width}x{image.height}"
            sizes.add(image.width)
    assert {16, 32, 48, 64, 128, 256, 512} <= sizes


def test_desktop_entry_opens_dicom_with_the_icon() -> None:
    entry = ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment, method-assign]
    entry.read(resource_path(f"{APP_ID}.desktop"))
    section = entry["Desktop Entry"]
    assert section["Exec"].split()[0] == "imaging-viewer"
    assert section["Icon"] == "imaging-viewer"
    assert "application/dicom" in section["MimeType"].split(";")


def test_desktop_entry_is_valid() -> None:
    tool = require_tool("desktop-file-validate", "desktop-file-utils")
    result = subprocess.run(
        [tool, str(resource_path(f"{APP_ID}.desktop"))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in result.stdout.lower()


def test_metainfo_is_valid() -> None:
    tool = require_tool("appstreamcli", "appstream")
    result = subprocess.run(
        [tool, "validate", "--no-net", str(resource_path(f"{APP_ID}.metainfo.xml"))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mime_type_matches_dicom_files_and_dicomdir() -> None:
    namespace = {"m": "http://www.freedesktop.org/standards/shared-mime-info"}
    root = ET.parse(resource_path("imaging-viewer-mime.xml")).getroot()
    mime = root.find("m:mime-type", namespace)
    assert mime is not None
    assert mime.get("type") == "application/dicom"
    globs = {g.get("pattern") for g in mime.findall("m:glob", namespace)}
    assert {"*.dcm", "DICOMDIR"} <= globs
    match = mime.find("m:magic/m:match", namespace)
    assert match is not None
    # PS3.10 7.1: the 128-byte preamble, then "DICM"
    assert (match.get("value"), match.get("offset")) == ("DICM", "128")


def test_the_wheel_carries_the_resources(tmp_path: Path) -> None:
    """``pip wheel .`` puts resources/ inside the package, where importlib finds it."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(tmp_path),
            str(REPO_ROOT),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("imaging_viewer-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    packaged = {
        "imaging_viewer/resources/" + str(path.relative_to(resources_folder()))
        for path in resources_folder().rglob("*")
        if path.is_file()
    }
    assert packaged <= names
    assert "imaging_viewer/resources/icons/pan.svg" in names
