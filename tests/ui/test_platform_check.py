"""ui/platform_check.py: a missing xcb library is named with its apt-get line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from imaging_viewer.ui.platform_check import (
    DEBIAN_PACKAGES,
    install_hint,
    missing_library,
    platform_problem,
)
from tests.conftest import REPO_ROOT

if TYPE_CHECKING:
    from pathlib import Path


def test_the_loader_error_names_the_library() -> None:
    error = (
        "/opt/x/libqxcb.so: libxcb-cursor.so.0: cannot open shared object file: "
        "No such file or directory"
    )
    assert missing_library(error) == "libxcb-cursor.so.0"
    assert missing_library("some other failure") is None


def test_the_hint_is_the_debian_package() -> None:
    assert install_hint("libxcb-cursor.so.0") == "sudo apt-get install libxcb-cursor0"
    assert "libfoo.so.3" in install_hint("libfoo.so.3")


def test_the_packages_are_those_the_deb_depends_on() -> None:
    build = (REPO_ROOT / "packaging" / "build.sh").read_text()
    depends = next(line for line in build.splitlines() if line.startswith("Depends:"))
    for package in DEBIAN_PACKAGES.values():
        assert package in depends


def test_other_platforms_are_left_to_qt() -> None:
    assert platform_problem(environ={"QT_QPA_PLATFORM": "offscreen"}) is None


def test_no_display_is_said_plainly() -> None:
    problem = platform_problem(environ={"QT_QPA_PLATFORM": "xcb"})
    assert problem is not None
    assert "DISPLAY" in problem


def test_the_real_plugin_loads_here() -> None:
    """scripts/bootstrap.sh installs every library the xcb plugin needs."""
    assert platform_problem(environ={"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":0"}) is None


def test_a_plugin_with_a_missing_library_is_reported(tmp_path: Path) -> None:
    """A stand-in plugin linked to a library that is then removed, as on a desktop
    without libxcb-cursor0: dlopen fails the way Qt's would. (The library has a
    made-up name: the real libxcb-cursor.so.0 is installed here.)"""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build the stand-in plugin")
    (tmp_path / "gone.c").write_text("int gone(void) { return 1; }\n")
    (tmp_path / "plugin.c").write_text(
        "int gone(void);\nint f(void) { return gone(); }\n"
    )
    library = tmp_path / "libiv-gone.so.0"
    subprocess.run(
        [compiler, "-shared", "-fPIC", "-Wl,-soname,libiv-gone.so.0",
         "-o", str(library), str(tmp_path / "gone.c")],
        check=True,
    )  # fmt: skip
    plugin = tmp_path / "libqxcb.so"
    subprocess.run(
        [compiler, "-shared", "-fPIC", "-o", str(plugin), str(tmp_path / "plugin.c"),
         str(library)],
        check=True,
    )  # fmt: skip
    library.unlink()
    problem = platform_problem(plugin, {"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":0"})
    assert problem is not None
    assert "libiv-gone.so.0 is missing" in problem
    assert "Fix: install the package that provides libiv-gone.so.0" in problem


def test_the_viewer_exits_with_the_word_not_a_qt_abort() -> None:
    env = {
        k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")
    }
    env["QT_QPA_PLATFORM"] = "xcb"
    result = subprocess.run(
        [sys.executable, "-m", "imaging_viewer", str(REPO_ROOT / "sample_data")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 3
    assert "no X display" in result.stderr
    assert "Traceback" not in result.stderr
    assert "Aborted" not in result.stderr
