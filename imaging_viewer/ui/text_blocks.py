"""Shadowed overlay text drawn once into small images and reused between frames.

Laying out and drawing text is the dearest part of a viewport frame (about 10 µs
a line, twice for the shadow). Scrolling changes one or two lines, so each block
of lines (a corner, an orientation letter, the scale bar's label) is drawn into
a transparent image the first time it is needed and then blitted.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter

if TYPE_CHECKING:
    from PySide6.QtGui import QPaintDevice

SHADOW = QColor(0, 0, 0)
TEXT = QColor(235, 235, 235)
_PAD = 2
"""Transparent pixels around a block: glyphs may reach past their advance."""


class TextBlock:
    """Lines of shadowed text in an image; ``offset`` is where line 0's box starts.

    Line ``n`` (0-based) has its baseline ``line_height * (n + 1) - descent``
    below the block's top, as :func:`draw_shadowed_text` placed it.
    """

    def __init__(self, image: QImage, width: int, height: int) -> None:
        self.image = image
        self.width = width
        """Widest line's advance (pixels)."""
        self.height = height
        """Line height × lines (pixels)."""

    def draw(self, painter: QPainter, left: float, top: float) -> None:
        """Draw with the lines' box at (``left``, ``top``)."""
        painter.drawImage(QPointF(left - _PAD, top - _PAD), self.image)


class TextBlockCache:
    """Draws and keeps :class:`TextBlock` s for one paint device's resolution."""

    def __init__(self, device: QPaintDevice, size: int = 96) -> None:
        self._device = device
        self._size = size
        self._blocks: OrderedDict[tuple[object, ...], TextBlock] = OrderedDict()

    def block(
        self,
        lines: tuple[str, ...],
        font: QFont,
        colour: QColor = TEXT,
        *,
        right_aligned: bool = False,
    ) -> TextBlock:
        """The block of ``lines`` (each right-aligned to the widest if asked)."""
        ratio = self._device.devicePixelRatioF()
        dpi = (self._device.logicalDpiX(), self._device.logicalDpiY())
        key = (lines, font.key(), colour.rgba(), right_aligned, ratio, dpi)
        found = self._blocks.get(key)
        if found is not None:
            self._blocks.move_to_end(key)
            return found
        block = self._draw(lines, font, colour, right_aligned, ratio, dpi)
        self._blocks[key] = block
        if len(self._blocks) > self._size:
            self._blocks.popitem(last=False)
        return block

    def _draw(
        self,
        lines: tuple[str, ...],
        font: QFont,
        colour: QColor,
        right_aligned: bool,
        ratio: float,
        dpi: tuple[int, int],
    ) -> TextBlock:
        metrics = QFontMetrics(font, self._device)
        line = metrics.height()
        advances = [metrics.horizontalAdvance(text) for text in lines]
        width = max(advances, default=0)
        height = line * len(lines)
        image = QImage(
            max(1, round((width + 1 + 2 * _PAD) * ratio)),
            max(1, round((height + 1 + 2 * _PAD) * ratio)),
            QImage.Format.Format_ARGB32_Premultiplied,
        )
        image.setDevicePixelRatio(ratio)
        # Point sizes become pixels at the device's resolution, as on screen.
        image.setDotsPerMeterX(round(dpi[0] / 0.0254))
        image.setDotsPerMeterY(round(dpi[1] / 0.0254))
        image.fill(0)
        painter = QPainter(image)
        painter.setFont(font)
        for n, (text, advance) in enumerate(zip(lines, advances, strict=True)):
            x = _PAD + (width - advance if right_aligned else 0)
            y = _PAD + line * (n + 1) - metrics.descent()
            draw_shadowed_text(painter, x, y, text, colour)
        painter.end()
        return TextBlock(image, width, height)


def draw_shadowed_text(
    painter: QPainter, x: float, y: float, text: str, colour: QColor | None = None
) -> None:
    """``text`` with its baseline at (x, y) over a black shadow 1 px down-right."""
    painter.setPen(SHADOW)
    painter.drawText(QPointF(x + 1, y + 1), text)
    painter.setPen(colour or TEXT)
    painter.drawText(QPointF(x, y), text)
