"""The magnifier (loupe): a round lens over a viewport that shows the image under
the pointer enlarged, from the rendered image at its own resolution (every
image pixel, in the current window), not from an enlarged screen grab."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:
    from numpy.typing import NDArray
    from PySide6.QtGui import QPaintEvent

    from imaging_viewer.ui.slice_viewport import SliceViewportWidget

LENS_SIZE_PX: Final = 200
"""Side of the lens, screen pixels."""
ZOOMS: Final = (2.0, 3.0, 4.0, 6.0, 8.0)
"""Magnifications the wheel steps through (times the view's own zoom)."""
_OUTSIDE: Final = np.uint32(0xFF000000)
"""Opaque black, where the lens reaches past the image."""


class MagnifierLens(QWidget):
    """A lens of :data:`LENS_SIZE_PX` drawn on ``viewport``'s screen, centred on
    the pointer while the magnifier's button is held.

    Each move reads the lens's pixels out of the viewport's rendered buffer
    (image pixels with the window applied) into arrays made once: moving the
    lens allocates nothing of the lens's size.
    """

    def __init__(self, viewport: SliceViewportWidget) -> None:
        super().__init__(viewport.viewport())
        self._viewport = viewport
        self.zoom_index = 0
        side = LENS_SIZE_PX
        self.resize(side, side)
        self.pixels: NDArray[np.uint32] = np.full((side, side), _OUTSIDE, np.uint32)
        """What the lens shows, [row, column] as 0xAARRGGBB."""
        self._image = QImage(
            self.pixels.data, side, side, 4 * side, QImage.Format.Format_RGB32
        )
        self._offsets = np.arange(side, dtype=np.float64) - side / 2 + 0.5
        """Lens pixel centres from the lens centre, screen pixels."""
        self._along = np.empty(side, dtype=np.float64)
        self._rows = np.empty(side, dtype=np.intp)
        self._columns = np.empty(side, dtype=np.intp)
        self._row_outside = np.empty(side, dtype=bool)
        self._column_outside = np.empty(side, dtype=bool)
        self._index = np.empty((side, side), dtype=np.intp)
        self.hide()

    @property
    def zoom(self) -> float:
        """Lens magnification over the view's own."""
        return ZOOMS[self.zoom_index]

    def step_zoom(self, steps: int) -> None:
        """More (positive ``steps``) or less magnification, within :data:`ZOOMS`."""
        self.zoom_index = max(0, min(len(ZOOMS) - 1, self.zoom_index + steps))

    def show_at(self, position: QPointF) -> None:
        """Centre the lens on widget ``position`` and show what lies under it."""
        if not self._fill(position):
            self.hide()
            return
        half = LENS_SIZE_PX / 2
        self.move(round(position.x() - half), round(position.y() - half))
        self.show()
        self.raise_()
        self.update()

    def _fill(self, position: QPointF) -> bool:
        viewport = self._viewport
        buffer = viewport._buffer
        if buffer is None or buffer.ndim != 2:
            return False
        if viewport._stride > 1:  # a coarse frame: render every pixel first
            viewport.settle()
            buffer = viewport._buffer
            if buffer is None:
                return False
        origin = viewport._widget_point(0.0, 0.0)
        across = viewport._widget_point(1.0, 0.0) - origin
        down = viewport._widget_point(0.0, 1.0) - origin
        if abs(across.x()) < 1e-9 or abs(down.y()) < 1e-9:
            return False
        # Widget position to (fractional) buffer pixel, pixel-centre origin.
        column = (position.x() - origin.x()) / across.x() + 0.5
        row = (position.y() - origin.y()) / down.y() + 0.5
        rows, columns = buffer.shape
        self._sample(self._columns, self._column_outside, column, across.x(), columns)
        self._sample(self._rows, self._row_outside, row, down.y(), rows)
        np.multiply(self._rows[:, None], columns, out=self._index)
        np.add(self._index, self._columns[None, :], out=self._index)
        np.take(buffer.reshape(-1), self._index, out=self.pixels)
        self.pixels[self._row_outside, :] = _OUTSIDE
        self.pixels[:, self._column_outside] = _OUTSIDE
        return True

    def _sample(
        self,
        out: NDArray[np.intp],
        outside: NDArray[np.bool_],
        centre: float,
        screen_per_pixel: float,
        count: int,
    ) -> None:
        """Buffer indices (clipped) of the lens's pixels along one axis, and
        which of them fall outside the image."""
        scale = 1.0 / (screen_per_pixel * self.zoom)
        np.multiply(self._offsets, scale, out=self._along)
        np.add(self._along, centre, out=self._along)
        np.floor(self._along, out=self._along)
        np.less(self._along, 0, out=outside)
        np.logical_or(outside, np.greater_equal(self._along, count), out=outside)
        np.clip(self._along, 0, count - 1, out=self._along)
        out[:] = self._along

    def paintEvent(self, event: QPaintEvent) -> None:
        """The lens: the magnified pixels in a circle with a thin rim."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        bounds = QRectF(0.5, 0.5, LENS_SIZE_PX - 1.0, LENS_SIZE_PX - 1.0)
        outline = QPainterPath()
        outline.addEllipse(bounds)
        painter.setClipPath(outline)
        painter.drawImage(QRectF(0, 0, LENS_SIZE_PX, LENS_SIZE_PX), self._image)
        painter.setClipping(False)
        painter.setPen(QPen(QColor(255, 210, 80), 1.5))
        painter.drawEllipse(bounds)
        painter.setPen(QPen(QColor(255, 210, 80), 1.0))
        painter.drawText(
            QRectF(0, LENS_SIZE_PX - 24, LENS_SIZE_PX, 18),
            Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom,
            f"{self.zoom:g}×",
        )
        painter.end()
