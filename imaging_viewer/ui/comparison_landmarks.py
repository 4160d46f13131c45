"""Landmarks of the comparison, set by two clicks: a point in the current study,
then the same anatomy in the prior. The clicks are caught before the viewport's
tools see them, so nothing is drawn or measured meanwhile; Escape cancels.
The link and its quality are computed in
:meth:`imaging_viewer.core.workspace.comparison.Comparison.set_landmarks`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QMouseEvent

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from imaging_viewer.core.workspace.comparison import Comparison
    from imaging_viewer.ui.main_window import MainWindow
    from imaging_viewer.ui.slice_viewport import SliceViewportWidget

FIRST_CLICK = (
    "Landmark: click a point in the current study (left column), then the same "
    "anatomy in the prior; Esc cancels"
)


class LandmarkPicker(QObject):
    """Catches the two clicks of a landmark pair in the window's viewports."""

    def __init__(self, window: MainWindow, comparison: Comparison) -> None:
        super().__init__(window)
        self._window = window
        self._comparison = comparison
        self._watched: list[SliceViewportWidget] = []
        self._first: tuple[int, NDArray[np.float64]] | None = None
        """(row, current study's point) once the first click is made."""

    @property
    def picking(self) -> bool:
        """Whether the picker waits for clicks."""
        return bool(self._watched)

    def start(self) -> str:
        """Wait for the two clicks; returns what to do, in one line."""
        if not self._comparison.active:
            return "Landmarks link a comparison: compare with the prior first"
        self.stop()
        count = self._window.state.visible_count
        self._watched = list(self._window.viewport_widgets[:count])
        for widget in self._watched:
            widget.viewport().installEventFilter(self)
            widget.installEventFilter(self)
        return FIRST_CLICK

    def stop(self) -> None:
        """Stop waiting for clicks."""
        for widget in self._watched:
            widget.viewport().removeEventFilter(self)
            widget.removeEventFilter(self)
        self._watched = []
        self._first = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Take left clicks (and Escape) while picking; pass the rest on."""
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            if event.key() == Qt.Key.Key_Escape:
                self.stop()
                self._say("Landmarks cancelled")
                return True
            return False
        if event.type() != QEvent.Type.MouseButtonPress:
            return False
        if not isinstance(event, QMouseEvent):
            return False
        if event.button() != Qt.MouseButton.LeftButton:
            return False
        widget = next(
            (w for w in self._watched if watched in (w, w.viewport())),
            None,
        )
        if widget is None:
            return False
        point = widget.lps_at(event.position())
        if point is not None:
            self.click(self._window.viewport_widgets.index(widget), point)
        return True

    def click(self, index: int, point: NDArray[np.float64]) -> None:
        """A click at LPS ``point`` in viewport ``index``."""
        pairs = self._comparison.pairs
        if self._first is None:
            row = next((r for r, pair in enumerate(pairs) if pair[0] == index), None)
            if row is None:
                self._say("First click the current study (left column)")
                return
            self._first = (row, point)
            self._say("Now click the same anatomy in the prior study (right)")
            return
        row, current = self._first
        if index != pairs[row][1]:
            self._say("Click the same anatomy in the prior study beside it")
            return
        self.stop()
        self._say(self._comparison.set_landmarks(current, point, row))

    def _say(self, text: str) -> None:
        self._window.statusBar().showMessage(text, 10_000)
