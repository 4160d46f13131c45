"""The "Show" submenu of MPR 2×2's free view (its fourth viewport): the
acquired slices, an oblique plane, or a straight one
(:mod:`imaging_viewer.core.mpr_free_view`)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Final

from PySide6.QtGui import QActionGroup

from imaging_viewer.core.mpr_free_view import (
    FREE_VIEW_INDEX,
    FREE_VIEW_KINDS,
    free_view_kind,
    show_in_free_view,
)

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
    view; nothing on other viewports. Returns the submenu, if added."""
    current = free_view_kind(window.state)
    if current is None or widget.state is not window.state.viewports[FREE_VIEW_INDEX]:
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
        action.triggered.connect(functools.partial(_show, window, kind))
    return submenu


def _show(window: MainWindow, kind: str, *_: object) -> None:
    show_in_free_view(window.state, kind)
    if kind == "oblique":
        window.statusBar().showMessage(
            "Oblique free view: drag its blue line in another view to turn it", 8000
        )
