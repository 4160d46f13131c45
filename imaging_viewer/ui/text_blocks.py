"""Shadowed overlay text drawn once into small images and reused between frames.

Laying out and drawing text is the dearest part of a viewport frame (about 10 µs
a line, twice for the shadow). Scrolling changes one or two lines, so each block
of lines (a corner, an orientation letter, the scale bar's label) is drawn into
a transparent image the first time it is needed and then blitted.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter

if TYPE_CHECKING:
    from PySide6.QtGui import QPaintDevice

SHADOW = QColor(0, 0, 0)
TEXT = QColor(235, 235, 235)
_PAD = 2
"""Transparent pixels around a block: glyphs may reach past their advance."""


class TextBlock:
    """Lines of shadowed text, drawn from an image once they have been seen twice.

    Line ``n`` (0-based) has its baseline ``line_height * (n + 1) - descent``
    below the block's top, as :func:`draw_shadowed_text` places it. A block seen
    once (a slice number while scrolling) is drawn as text, which is cheaper
    than making an image that may never be used again.
    """

    def __init__(
        self,
        lines: tuple[str, ...],
        font: QFont,
        colour: QColor,
        right_aligned: bool,
        metrics: QFontMetrics,
    ) -> None:
        self.lines = lines
        self.font = font
        self.colour = colour
        self.right_aligned = right_aligned
        self.line_height = metrics.height()
        self.descent = metrics.descent()
        self.advances = [metrics.horizontalAdvance(text) for text in lines]
        self.width = max(self.advances, default=0)
        """Widest line's advance (pixels)."""
        self.height = self.line_height * len(lines)
        """Line height × lines (pixels)."""
        self.image: QImage | None = None

    def draw(self, painter: QPainter, left: float, top: float) -> None:
        """Draw with the lines' box at (``left``, ``top``)."""
        if self.image is not None:
            painter.drawImage(QPointF(left - _PAD, top - _PAD), self.image)
            return
        painter.setFont(self.font)
        self._draw_text(painter, left, top)

    def _draw_text(self, painter: QPainter, left: float, top: float) -> None:
        for n, (text, advance) in enumerate(
            zip(self.lines, self.advances, strict=True)
        ):
            x = left + (self.width - advance if self.right_aligned else 0)
            y = top + self.line_height * (n + 1) - self.descent
            draw_shadowed_text(painter, x, y, text, self.colour)

    def make_image(self, ratio: float, dpi_x: int, dpi_y: int) -> None:
        """Draw the block once into a transparent image, for blitting from now on."""
        image = QImage(
            max(1, round((self.width + 1 + 2 * _PAD) * ratio)),
            max(1, round((self.height + 1 + 2 * _PAD) * ratio)),
            QImage.Format.Format_ARGB32_Premultiplied,
        )
        image.setDevicePixelRatio(ratio)
        # Point sizes become pixels at the device's resolution, as on screen.
        image.setDotsPerMeterX(round(dpi_x / 0.0254))
        image.setDotsPerMeterY(round(dpi_y / 0.0254))
        image.fill(0)
        painter = QPainter(image)
        painter.setFont(self.font)
        self._draw_text(painter, _PAD, _PAD)
        painter.end()
        self.image = image


class TextBlockCache:
    """Keeps :class:`TextBlock` s for one paint device's resolution."""

    def __init__(self, device: QPaintDevice, size: int = 96) -> None:
        self._device = device
        self._size = size
        self._blocks: OrderedDict[tuple[object, ...], TextBlock] = OrderedDict()
        self._fonts: dict[int, tuple[QFont, str, QFontMetrics]] = {}
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
            self._fonts.clear()

    def block(
        self,
        lines: tuple[str, ...],
        font: QFont,
        colour: QColor = TEXT,
        *,
        right_aligned: bool = False,
    ) -> TextBlock:
        """The block of ``lines`` (each right-aligned to the widest if asked)."""
        if self._resolution is None:
            self.check_resolution()
        known = self._fonts.get(id(font))
        if known is None or known[0] is not font:
            known = (font, font.key(), QFontMetrics(font, self._device))
            self._fonts[id(font)] = known
        key = (lines, known[1], colour.rgba(), right_aligned)
        found = self._blocks.get(key)
        if found is None:
            found = TextBlock(lines, font, colour, right_aligned, known[2])
            self._blocks[key] = found
            if len(self._blocks) > self._size:
                self._blocks.popitem(last=False)
        else:
            self._blocks.move_to_end(key)
            if found.image is None:
                assert self._resolution is not None
                found.make_image(*self._resolution)
        return found


class FittedLines:
    """Lines shortened with "…" to fit widths, remembered between frames.

    Corner texts share the viewport's width: a long patient name or series
    description must not run into the text of the opposite corner.
    """

    def __init__(self, device: QPaintDevice, size: int = 256) -> None:
        self._device = device
        self._size = size
        self._fitted: OrderedDict[tuple[object, ...], tuple[str, ...]] = OrderedDict()
        self._widths: OrderedDict[tuple[object, ...], int] = OrderedDict()
        self._metrics: dict[str, QFontMetrics] = {}

    def _metrics_of(self, font: QFont) -> tuple[str, QFontMetrics]:
        font_key = font.key()
        metrics = self._metrics.get(font_key)
        if metrics is None:
            metrics = self._metrics[font_key] = QFontMetrics(font, self._device)
        return font_key, metrics

    def natural_width(self, lines: tuple[str, ...], font: QFont) -> int:
        """The widest of ``lines``, in pixels, before any shortening."""
        font_key, metrics = self._metrics_of(font)
        key = (lines, font_key)
        found = self._widths.get(key)
        if found is None:
            found = max((metrics.horizontalAdvance(text) for text in lines), default=0)
            self._remember(self._widths, key, found)
        return found

    def fit(
        self, lines: tuple[str, ...], font: QFont, widths: int | tuple[int, ...]
    ) -> tuple[str, ...]:
        """``lines``, each elided on the right to at most its width in pixels
        (one width for all lines, or one per line)."""
        font_key, metrics = self._metrics_of(font)
        key = (lines, font_key, widths)
        found = self._fitted.get(key)
        if found is not None:
            self._fitted.move_to_end(key)
            return found
        rooms = widths if isinstance(widths, tuple) else (widths,) * len(lines)
        elide = Qt.TextElideMode.ElideRight
        found = tuple(
            text
            if metrics.horizontalAdvance(text) <= room
            else metrics.elidedText(text, elide, max(room, 0))
            for text, room in zip(lines, rooms, strict=True)
        )
        self._remember(self._fitted, key, found)
        return found

    def _remember(
        self,
        cache: OrderedDict[tuple[object, ...], Any],
        key: tuple[object, ...],
        value: Any,
    ) -> None:
        cache[key] = value
        if len(cache) > self._size:
            cache.popitem(last=False)


def draw_shadowed_text(
    painter: QPainter, x: float, y: float, text: str, colour: QColor | None = None
) -> None:
    """``text`` with its baseline at (x, y) over a black shadow 1 px down-right."""
    painter.setPen(SHADOW)
    painter.drawText(QPointF(x + 1, y + 1), text)
    painter.setPen(colour or TEXT)
    painter.drawText(QPointF(x, y), text)
