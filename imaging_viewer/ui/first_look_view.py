"""The first look, painted before the interactive viewport exists.

At start-up the viewer reads one image of the folder while Qt loads
(:mod:`~imaging_viewer.ui.first_look`). The interactive viewport is built on
pyqtgraph, whose import takes about a tenth of a second; this plain widget
paints the image read ahead (windowed by the render core, drawn to scale and
fitted as the viewport fits it) as soon as the window shows, and the window
puts the viewport in its place right after that first paint.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPalette
from PySide6.QtWidgets import QWidget

from imaging_viewer.core.render import render_slice

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray
    from PySide6.QtGui import QPaintEvent

    from imaging_viewer.core.viewer_state import ViewportState

FIT_PADDING = 0.02
"""Margin around the fitted image, a fraction of its size (as the viewport)."""


class FirstLookView(QWidget):
    """Paints a viewport state's slice, fitted and to scale, without interaction."""

    painted = Signal()
    """The image has been painted once."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Black from the palette: QPainter.fillRect's overloads would build
        # every enum of the Qt namespace (about 25 ms) before the first paint.
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor(0, 0, 0))
        self.setPalette(palette)
        self.setAutoFillBackground(True)
        self._buffer: NDArray[np.uint32] | None = None
        self._image: QImage | None = None
        self._size_mm = (1.0, 1.0)
        self._painted = False

    @property
    def has_image(self) -> bool:
        """True once :meth:`show_state` had a slice to show."""
        return self._image is not None

    def show_state(self, state: ViewportState) -> None:
        """Show the state's current slice in its window (nothing if empty)."""
        pixels = state.pixels()
        affine = state.pixel_to_lps()
        volume = state.volume
        if pixels is None or affine is None or volume is None:
            return
        display = volume.display.with_user_inversion(state.invert)
        self._buffer = render_slice(pixels, state.window, display=display)
        rows, columns = self._buffer.shape
        self._image = QImage(
            self._buffer.data, columns, rows, columns * 4, QImage.Format.Format_RGB32
        )
        (rx, dx, *_), (ry, dy, *_), (rz, dz, *_) = affine[:3].tolist()
        self._size_mm = (
            columns * (math.hypot(rx, ry, rz) or 1.0),
            rows * (math.hypot(dx, dy, dz) or 1.0),
        )
        self.update()

    def image_rect(self) -> QRectF:
        """Where the image is drawn: fitted with its aspect in mm, centred."""
        width_mm, height_mm = self._size_mm
        scale = min(
            self.width() / (width_mm * (1 + 2 * FIT_PADDING)),
            self.height() / (height_mm * (1 + 2 * FIT_PADDING)),
        )
        width, height = width_mm * scale, height_mm * scale
        return QRectF(
            (self.width() - width) / 2, (self.height() - height) / 2, width, height
        )

    def paintEvent(self, event: QPaintEvent) -> None:
        """The image over the black background, once there is one."""
        painter = QPainter(self)
        image = self._image
        if image is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawImage(self.image_rect(), image)
        painter.end()
        if image is not None and not self._painted:
            self._painted = True
            self.painted.emit()
