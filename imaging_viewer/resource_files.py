"""Where the application's resources are: icons, desktop entry, self-test samples.

The files live in ``imaging_viewer/resources/`` (``resources/`` at the top of a
clone is a link to it), so they travel inside the package: setuptools puts them
in the wheel (``package-data``), PyInstaller beside the frozen package
(``packaging/imaging-viewer.spec``), and ``importlib.resources`` finds them the
same way in a clone, an installed wheel and the frozen bundle.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

APP_ID = "org.imagingviewer.ImagingViewer"
"""Reverse-DNS id of the desktop entry and AppStream metainfo."""
ICON_NAME = "imaging-viewer"
"""The application icon's name in the freedesktop hicolor theme."""


def resources_folder() -> Path:
    """The folder of the resources (on disk in every way the app is installed)."""
    return Path(str(files("imaging_viewer").joinpath("resources")))


def resource_path(*parts: str) -> Path:
    """A file under the resources folder, e.g. ``resource_path("icons", "pan.svg")``."""
    return resources_folder().joinpath(*parts)


def application_icon_files() -> list[Path]:
    """The application icon: the SVG, then each PNG size (largest first)."""
    hicolor = resource_path("hicolor")
    pngs = sorted(
        hicolor.glob(f"*x*/apps/{ICON_NAME}.png"),
        key=lambda path: -int(path.parent.parent.name.partition("x")[0]),
    )
    return [hicolor / "scalable" / "apps" / f"{ICON_NAME}.svg", *pngs]
