"""Toolbar and application icons from ``resources/`` (see resource_files.py).

Icons are named by what they do (``icon("pan")``), not by the icon set they come
from; resources/icons/README.md lists the names and their Tabler Icons source.
"""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon

from imaging_viewer.resource_files import application_icon_files, resource_path


@cache
def icon(name: str) -> QIcon:
    """The toolbar icon ``name`` (an SVG, drawn at any size); empty when unknown."""
    path = resource_path("icons", f"{name}.svg")
    if not path.is_file():
        return QIcon()
    return QIcon(str(path))


@cache
def application_icon() -> QIcon:
    """The application's icon, from its PNG sizes (read when first drawn).

    PNGs rather than the SVG, each added with its size (from its hicolor folder
    name) so none is read before a window manager asks for it.
    """
    result = QIcon()
    for path in application_icon_files():
        if path.suffix == ".png":
            side = int(path.parent.parent.name.partition("x")[0])
            result.addFile(str(path), QSize(side, side))
    return result
