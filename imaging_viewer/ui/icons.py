"""Toolbar and application icons from ``resources/`` (see resource_files.py).

Icons are named by what they do (``icon("pan")``), not by the icon set they come
from; resources/icons/README.md lists the names and their Tabler Icons source.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon

from imaging_viewer.resource_files import application_icon_files, resource_path

if TYPE_CHECKING:
    from PySide6.QtWidgets import QToolBar


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


TOOLBAR_ICONS = {
    # the text of a toolbar action (ui/main_window.py _build_actions): its icon
    "Layout 1×1": "layout-1x1",
    "Layout 1×2": "layout-1x2",
    "Layout 2×1": "layout-2x1",
    "Layout 2×2": "layout-2x2",
    "W/L": "window-level",
    "Pan": "pan",
    "Zoom": "zoom",
    "Crosshair": "crosshair",
    "MPR": "mpr",
    "Link": "link",
    "Overlays": "overlays",
    "Fit": "zoom-fit",
    "1:1": "zoom-original",
    "Invert": "invert",
    "Flip H": "flip-horizontal",
    "Flip V": "flip-vertical",
    "Rotate": "rotate-right",
    "Cine": "cine",
    "Select": "select",
    "Point": "point",
    "Arrow": "arrow",
    "Text": "text",
    "Ruler": "ruler",
    "Angle": "angle",
    "Cobb": "cobb",
    "Ellipse": "ellipse",
    "Polygon": "polygon",
    "Bidirectional": "bidirectional",
    "Undo": "undo",
    "Redo": "redo",
}
"""Until the declared action table names icons itself (architecture: ui/actions.py)."""


def set_toolbar_icons(toolbar: QToolBar) -> None:
    """Give the actions of ``toolbar`` their icons (:data:`TOOLBAR_ICONS`), with
    their text as the tooltip the icon replaces."""
    for action in toolbar.actions():
        name = TOOLBAR_ICONS.get(action.text())
        if name is not None:
            action.setIcon(icon(name))
