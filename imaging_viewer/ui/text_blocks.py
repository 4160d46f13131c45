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
        self._font_keys: dict[int, tuple[QFont, str]] = {}
        self._resolution: tuple[float, int, int] | None = None

    def check_resolution(self) -> None:
        """Forget every block if the device's pixel ratio or DPI changed."""
        device = self._device
        resolution = (
            device.devicePixelRatioF(),
            device.logicalDpiX(),
            device.logicalDpiY(),
        )
        if resolution != self._resolution:
            self._resolution = resolution
            self._blocks.clear()

    def block(
        self,
        lines: tuple[str, ...],
        font: QFont,
        colour: QColor = TEXT,
        *,
        right_aligned: bool = False,
    ) -> TextBlock:
        """The block of ``lines`` (each right-aligned to the widest if asked)."""
        known = self._font_keys.get(id(font))
        if known is None or known[0] is not font:
            known = (font, font.key())
            self._font_keys[id(font)] = known
        key = (lines, known[1], colour.rgba(), right_aligned)
        found = self._blocks.get(key)
        if found is not None:
            self._blocks.move_to_end(key)
            return found
        if self._resolution is None:
            self.check_resolution()
        block = self._draw(lines, font, colour, right_aligned)
        self._blocks[key] = block
        if len(self._blocks) > self._size:
            self._blocks.popitem(last=False)
        return block

    def _draw(
        self, lines: tuple[str, ...], font: QFont, colour: QColor, right_aligned: bool
    ) -> TextBlock:
        assert self._resolution is not None
        ratio, dpi_x, dpi_y = self._resolution
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
        image.setDotsPerMeterX(round(dpi_x / 0.0254))
        image.setDotsPerMeterY(round(dpi_y / 0.0254))
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
