"""The "Show" submenu of MPR 2×2's free view (its fourth viewport), and of
every viewport of a grid layout (the comparison's, issue 13 item 3): the
acquired slices, an oblique plane, or a straight one
(:mod:`imaging_viewer.core.mpr_free_view`,
:mod:`imaging_viewer.core.viewport_planes`)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Final

from PySide6.QtGui import QActionGroup

from imaging_viewer.core.mpr_free_view import FREE_VIEW_KINDS
from imaging_viewer.core.viewport_planes import plane_kind, show_plane_in

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMenu

    from imaging_viewer.ui.main_window import MainWindow
    from imaging_viewer.ui.slice_viewport import SliceViewportWidget

__all__ = ["FREE_VIEW_LABELS", "add_free_view_menu"]

FREE_VIEW_LABELS: Final = {
    "acquired": "Acquired slices",
    "oblique": "Oblique plane",
    "axial": "Axial",
    "coronal": "Coronal",
    "sagittal": "Sagittal",
}
"""Menu text of each thing the free view can show."""


def add_free_view_menu(
    menu: QMenu, window: MainWindow, widget: SliceViewportWidget
) -> QMenu | None:
    """Add "Show" (one checked entry per kind) to the context menu of the free
    view, or of any viewport of a grid layout showing a volume; nothing on the
    other MPR views. Returns the submenu, if added."""
    viewports = window.state.viewports
    index = next((n for n, v in enumerate(viewports) if v is widget.state), None)
    current = None if index is None else plane_kind(window.state, index)
    if index is None or current is None:
        return None
    submenu = menu.addMenu("Show")
    submenu.setObjectName("free_view_menu")
    group = QActionGroup(submenu)
    for kind in FREE_VIEW_KINDS:
        action = submenu.addAction(FREE_VIEW_LABELS[kind])
        action.setObjectName(f"free_view_{kind}")
        action.setCheckable(True)
        action.setChecked(kind == current)
        group.addAction(action)
        action.triggered.connect(functools.partial(_show, window, index, kind))
    return submenu


def _show(window: MainWindow, index: int, kind: str, *_: object) -> None:
    show_plane_in(window.state, index, kind)
    if kind == "oblique":
        window.statusBar().showMessage(
            "Oblique free view: drag its blue line in another view to turn it", 8000
        )
