"""MPR in the window: entering and leaving it, how its views are arranged, and
which viewport fills the grid alone (double-click).

The arrangements themselves (cells of the grid) are core
(:data:`imaging_viewer.core.viewer_state.MPR_LAYOUTS`); this module puts the
viewport widgets in those cells and gives each view its colour, which its
border, its crosshair line and its reference lines share.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from PySide6.QtGui import QColor

from imaging_viewer.core.viewer_state import mpr_gap_warning

if TYPE_CHECKING:
    from PySide6.QtWidgets import QGridLayout

    from imaging_viewer.ui.main_window import MainWindow
    from imaging_viewer.ui.slice_viewport import SliceViewportWidget

__all__ = ["MPR_COLOURS", "VIEWPORT_COLOURS", "MprLayouts", "place_viewports"]

MPR_COLOURS: Final = (QColor(230, 70, 70), QColor(80, 200, 90), QColor(235, 200, 60))
"""Axial, coronal, sagittal: the colour of each MPR view and of its line elsewhere."""
VIEWPORT_COLOURS: Final = (*MPR_COLOURS, QColor(90, 160, 255))
"""The colour of each viewport (border and reference lines): the MPR colours,
then blue for the fourth (the acquired slices in MPR 2×2)."""
MPR_LAYOUT_NAMES: Final = {
    "1x3": "MPR side by side",
    "2x2": "MPR 2×2 (with acquired)",
    "1+2": "MPR 1 large + 2 small",
}
"""Menu text of each MPR arrangement."""


def viewport_colour(index: int) -> QColor | None:
    """The colour of viewport ``index`` (None past the fourth)."""
    return VIEWPORT_COLOURS[index] if index < len(VIEWPORT_COLOURS) else None


def place_viewports(
    grid: QGridLayout,
    widgets: list[SliceViewportWidget],
    cells: tuple[tuple[int, int, int, int], ...],
    maximized: int | None,
) -> None:
    """Put each widget in its cell (row, column, row span, column span), all
    cells equal; the maximized one alone over the whole grid; hide the rest."""
    rows = max(row + height for row, _, height, _ in cells)
    columns = max(column + width for _, column, _, width in cells)
    if maximized is not None and maximized >= len(cells):
        maximized = None
    for n in range(4):
        # Equal cells whatever each viewport's size hint.
        grid.setColumnStretch(n, 1 if n < columns else 0)
        grid.setRowStretch(n, 1 if n < rows else 0)
    for index, widget in enumerate(widgets):
        grid.removeWidget(widget)
        shown = index < len(cells) and maximized in (None, index)
        if not shown:
            widget.hide()
            continue
        if maximized is None:
            grid.addWidget(widget, *cells[index])
        else:
            grid.addWidget(widget, 0, 0, rows, columns)
        widget.show()


class MprLayouts:
    """The window's MPR: enter and leave it, arrange its views, and tell each
    view which other views of its volume cross it (their crosshair lines)."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        state = window.state
        for event in (state.events.mpr_layout, state.events.maximized_index):
            event.connect(lambda *_: window._on_layout_changed())
        for event in (state.events.mpr_layout, state.events.show_reference_lines):
            event.connect(window.refresh_checks)

    def toggle(self, checked: bool | None = None) -> None:
        """Enter (or leave) MPR on the active viewport's volume."""
        window, state = self.window, self.window.state
        entering = state.layout != "mpr" if checked is None else bool(checked)
        if entering:
            if state.enter_mpr(state.active_index):
                window.set_left_tool("crosshair")
                if gaps := mpr_gap_warning(state.active):
                    window.statusBar().showMessage(gaps, 10000)
            else:
                window.statusBar().showMessage(
                    "MPR needs a volume of several slices in the active viewport", 5000
                )
        elif state.layout == "mpr":
            state.exit_mpr()
            window.set_left_tool("window")
        window.refresh_checks()

    def set_layout(self, name: str) -> None:
        """Arrange the MPR views as ``name`` (entering MPR if not in it)."""
        state = self.window.state
        state.set_mpr_layout(name)
        if state.layout != "mpr":
            self.toggle(True)

    def siblings(self, index: int) -> list[tuple[Any, QColor]]:
        """The other shown MPR views of viewport ``index``'s volume, with their
        colours."""
        viewports = self.window.state.viewports
        state = viewports[index]
        if not state.is_mpr:
            return []
        # The free view of 2×2 too, when it shows a plane (in its own colour).
        shown = viewports[: self.window.state.visible_count]
        return [
            (other, VIEWPORT_COLOURS[n])
            for n, other in enumerate(shown[: len(VIEWPORT_COLOURS)])
            if n != index and other.is_mpr and other.volume is state.volume
        ]

    def repaint_siblings(self, index: int) -> None:
        """Repaint the views that draw viewport ``index``'s plane line."""
        siblings = [state for state, _ in self.siblings(index)]
        for widget in self.window.viewport_widgets:
            if any(widget.state is state for state in siblings):
                widget.viewport().update()
