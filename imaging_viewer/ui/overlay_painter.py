"""The one painter of a view's overlays, for the screen and for exported images.

Corner text, orientation letters, the scale bar, lesion annotations and MPR
crosshair lines are drawn by :class:`OverlayPainter` into a target rectangle
(a viewport's widget, or an exported image) at a scale (1 on screen: 9 pt
text, 6 px margins; exports grow with the image). Placement is worked out by
:mod:`imaging_viewer.core.overlay_layout`, so what an export burns in is what
the screen shows.

The viewport paints on every frame: the painter keeps corner text per series
(top) and per state edit (bottom), orientation letters per plane, the scale bar
per zoom, and text blocks as images (:mod:`imaging_viewer.ui.text_blocks`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen

from imaging_viewer.core.overlay_layout import corner_widths, scale_bar
from imaging_viewer.core.overlay_text import corner_text
from imaging_viewer.ui.annotation_overlay import draw_annotations
from imaging_viewer.ui.text_blocks import SHADOW, FittedLines, TextBlockCache

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from PySide6.QtCore import QRect
    from PySide6.QtGui import QPaintDevice

    from imaging_viewer.core.annotations.calibration import Calibration
    from imaging_viewer.core.annotations.model import Annotation, AnnotationSet, Lesion
    from imaging_viewer.core.dicom.series import SeriesInfo
    from imaging_viewer.core.mpr import SlicePlane
    from imaging_viewer.core.viewer_state import ViewportState
    from imaging_viewer.ui.text_blocks import TextBlock

__all__ = ["LETTER_COLOUR", "OverlayPainter"]

LETTER_COLOUR: Final = QColor(255, 220, 120)
_Bar = tuple[list[QLineF], list[QLineF], str, float, float, QRectF, float]
"""A scale bar's shadows, lines, label, label's x and y, rect and width."""
_BAR_COLOUR: Final = QColor(230, 230, 230)
TOP_CORNERS: Final = ("top_left", "top_right")
"""Corners whose text depends on the series alone (patient, study, series)."""
BOTTOM_CORNERS: Final = ("bottom_left", "bottom_right")
_FONT_PT: Final = 9.0
_LETTER_PT: Final = 12.0
_MARGIN_PX: Final = 6
_CORNER_GAP_PX: Final = 16
"""Kept between the two corners of an edge."""
_LETTER_GAP_PX: Final = 12
"""Kept between a line level with an orientation letter and the middle."""
_BAR_WIDTH_PX: Final = 1.5
_BAR_ROWS: Final = 2
"""Bottom corner lines level with the scale bar and its label."""
_CROSSHAIR_WIDTH_PX: Final = 1.2
_CROSSHAIR_GAP_PX: Final = 10.0
"""Crosshair lines stop this far from the cursor (a 20 px gap), to leave it
visible."""
_REFERENCE_WIDTH_PX: Final = 1.2


class OverlayPainter:
    """Draws the overlays of one view onto one paint device at one scale.

    Parameters
    ----------
    device : QPaintDevice
        Where text is measured and drawn (its resolution sets point sizes).
    scale : float, default 1.0
        Sizes (fonts, margins, lines) relative to the screen's.
    """

    def __init__(self, device: QPaintDevice, scale: float = 1.0) -> None:
        self.scale = scale
        self.font = QFont("DejaVu Sans")
        self.font.setPointSizeF(_FONT_PT * scale)
        self.metrics = QFontMetrics(self.font, device)
        self.letter_font = QFont(self.font)
        self.letter_font.setPointSizeF(_LETTER_PT * scale)
        self.letter_font.setBold(True)
        self.letter_metrics = QFontMetrics(self.letter_font, device)
        self.margin = round(_MARGIN_PX * scale)
        self.text_blocks = TextBlockCache(device)
        self.fitted_lines = FittedLines(device)
        self._bar_pen = QPen(_BAR_COLOUR, _BAR_WIDTH_PX * scale)
        self._shadow_pen = QPen(SHADOW, _BAR_WIDTH_PX * scale)
        self._bar_key: tuple[float, int, int] | None = None
        self._bar: _Bar | None = None
        self.scale_bar_rect: QRectF | None = None
        """Where the last :meth:`paint_text` drew the scale bar and its label."""
        self.corner_rects: dict[str, QRectF] = {}
        """Where it drew each corner's text (target coordinates)."""
        self.text_rects: list[QRectF] = []
        """The scale bar's and the corners' rectangles together: annotation
        labels keep clear of them (kept as one list, refilled each frame)."""
        self.label_rects: list[QRectF] = []
        """Where the last :meth:`paint_annotations` drew the labels."""
        self._corner_draws: list[tuple[TextBlock, float, float]] = []
        self._top_texts: tuple[SeriesInfo | None, bool, dict[str, list[str]]] | None
        self._top_texts = None
        self._bottom_key: tuple[Any, ...] | None = None
        self._corner_texts: dict[str, list[str]] = {}
        self._letters_key: tuple[Any, ...] | None = None
        self._letters: dict[str, str] = {}
        self._reference_pens: dict[tuple[int, bool], QPen] = {}

    # ------------------------------------------------------------------ text
    def corner_text(
        self,
        state: ViewportState,
        *,
        generation: int | None = None,
        zoom: float | None = None,
        include_patient: bool = True,
        calibration: Calibration | None = None,
    ) -> dict[str, list[str]]:
        """:func:`corner_text` of ``state``: the top corners once per series,
        the bottom ones once per ``generation`` (a count of state edits; None:
        every call), zoom and the reader's ``calibration`` of the image."""
        series = state.series
        top = self._top_texts
        if top is None or top[0] is not series or top[1] != include_patient:
            texts = corner_text(
                state, include_patient=include_patient, corners=TOP_CORNERS
            )
            top = self._top_texts = (series, include_patient, texts)
        key = (generation, zoom, include_patient, calibration)
        if generation is None or self._bottom_key != key:
            self._bottom_key = key
            bottom = corner_text(
                state,
                zoom=zoom,
                include_patient=include_patient,
                corners=BOTTOM_CORNERS,
                calibration=calibration,
            )
            self._corner_texts = {**top[2], **bottom}
        return self._corner_texts

    def orientation_letters(self, state: ViewportState) -> dict[str, str]:
        """``state``'s orientation letters, recomputed when the plane may turn.

        Window, slice and time edits keep them (a new slice of the same volume
        has the same directions, and MPR planes move with ``cursor_lps``).
        """
        key = (
            state.series,
            state.volume,
            state.orientation,
            state.cursor_lps,
            state.plane_rotation,
            state.flip_horizontal,
            state.flip_vertical,
            state.rotation_quarters,
        )
        last = self._letters_key
        if (
            last is None
            or any(
                a is not b and a != b for a, b in zip(key[2:], last[2:], strict=True)
            )
            or key[0] is not last[0]
            or key[1] is not last[1]
        ):
            self._letters_key = key
            self._letters = state.orientation_letters()
        return self._letters

    def fitted_corners(
        self, texts: dict[str, list[str]], width: int, bar_width: float = 0.0
    ) -> dict[str, tuple[str, ...]]:
        """The corner texts, long lines ending in "…" where they would meet
        (see :func:`~imaging_viewer.core.overlay_layout.corner_widths`).

        The two bottom lines stay clear of a scale bar ``bar_width`` pixels wide
        (with its label) at the bottom centre; a bottom line too long for that
        wraps at a space onto the line above rather than being cut.
        """
        fitted, font, scale = self.fitted_lines, self.font, self.scale
        gap = round(_CORNER_GAP_PX * scale)
        beside_bar = int((width - bar_width) / 2) - self.margin - gap
        if bar_width:
            texts = {
                corner: self._wrapped(lines, beside_bar)
                if corner in BOTTOM_CORNERS
                else lines
                for corner, lines in texts.items()
            }
        natural = {
            corner: fitted.natural_width(tuple(lines), font)
            for corner, lines in texts.items()
        }
        widths = corner_widths(
            natural,
            {corner: len(lines) for corner, lines in texts.items()},
            width,
            margin=self.margin,
            gap=gap,
            letter_gap=round(_LETTER_GAP_PX * scale),
        )
        if bar_width:
            for corner in BOTTOM_CORNERS:
                rooms = widths.get(corner, ())
                widths[corner] = tuple(
                    min(room, beside_bar) if n >= len(rooms) - _BAR_ROWS else room
                    for n, room in enumerate(rooms)
                )
        return {
            corner: fitted.fit(tuple(lines), font, widths[corner]) if lines else ()
            for corner, lines in texts.items()
        }

    def _wrapped(self, lines: list[str], room: int) -> list[str]:
        """``lines`` with the last (beside the scale bar) broken at a space
        onto two lines when it is wider than ``room`` and both halves fit."""
        if not lines or self.metrics.horizontalAdvance(lines[-1]) <= room:
            return lines
        words = lines[-1].split(" ")
        for cut in range(len(words) - 1, 0, -1):
            head, tail = " ".join(words[:cut]), " ".join(words[cut:])
            if self.metrics.horizontalAdvance(head) <= room:
                if self.metrics.horizontalAdvance(tail) <= room:
                    return [*lines[:-1], head, tail]
                break
        return lines

    # ------------------------------------------------------------------ drawing
    def paint_text(
        self,
        painter: QPainter,
        target: QRect | QRectF,
        state: ViewportState,
        *,
        px_per_mm: float,
        generation: int | None = None,
        zoom: float | None = None,
        include_patient: bool = True,
        calibration: Calibration | None = None,
        underneath: Callable[[], None] | None = None,
    ) -> None:
        """Corner text, orientation letters and the scale bar over ``target``.

        ``px_per_mm`` is target pixels per millimetre across the image (for the
        scale bar); ``generation``, ``zoom`` and ``calibration`` are as in
        :meth:`corner_text` (a calibrated image's scale bar uses it).
        ``underneath()`` draws what lies under the text (the annotations): it
        is called once :attr:`text_rects` say where the text goes.
        """
        width, height = round(target.width()), round(target.height())
        left, top = target.left(), target.top()
        texts = self.corner_text(
            state,
            generation=generation,
            zoom=zoom,
            include_patient=include_patient,
            calibration=calibration,
        )
        letters = self.orientation_letters(state)
        series = state.series
        if calibration is not None:
            px_per_mm /= calibration.scale
        bar = None
        if series is None or series.spacing_source != "none" or calibration:
            bar = self._bar_shape(px_per_mm, width, height, "bottom" in letters)
        self.scale_bar_rect = None if bar is None else bar[5].translated(left, top)
        fitted = self.fitted_corners(texts, width, 0.0 if bar is None else bar[6])
        self._lay_out_corners(fitted, width, height)
        rects = self.text_rects
        rects.clear()
        for corner, rect in self.corner_rects.items():
            self.corner_rects[corner] = rect.translated(left, top)
            rects.append(self.corner_rects[corner])
        if self.scale_bar_rect is not None:
            rects.append(self.scale_bar_rect)
        if underneath is not None:
            underneath()
        if left or top:
            painter.save()
            painter.translate(left, top)
        for block, x, y in self._corner_draws:
            block.draw(painter, x, y)
        self._draw_letters(painter, letters, width, height)
        if bar is not None:
            self._draw_scale_bar(painter, bar)
        if left or top:
            painter.restore()

    def _lay_out_corners(
        self, corners: dict[str, tuple[str, ...]], width: int, height: int
    ) -> None:
        """Where each corner's text blocks go (:attr:`corner_rects`, and the
        blocks to draw with their places)."""
        margin, font, blocks = self.margin, self.font, self.text_blocks
        blocks.check_resolution()
        self.corner_rects = {}
        draws = self._corner_draws
        draws.clear()
        for corner, lines in corners.items():
            if not lines:
                continue
            right = corner.endswith("right")
            if corner in TOP_CORNERS:
                # The series' lines: one block, one blit.
                block = blocks.block(lines, font, right_aligned=right)
                x = width - margin - block.width if right else margin
                draws.append((block, x, margin))
                self.corner_rects[corner] = QRectF(x, margin, block.width, block.height)
                continue
            # A block per line: a drag or a scroll changes one or two lines of
            # a corner, and the others are blitted from their images.
            line_blocks = [blocks.block((text,), font) for text in lines]
            line_height = line_blocks[0].line_height
            y = height - margin - line_height * len(line_blocks)
            widest = max(block.width for block in line_blocks)
            x = width - margin - widest if right else margin
            self.corner_rects[corner] = QRectF(
                x, y, widest, line_height * len(line_blocks)
            )
            for n, block in enumerate(line_blocks):
                x = width - margin - block.width if right else margin
                draws.append((block, x, y + n * line_height))

    def _draw_letters(
        self, painter: QPainter, letters: dict[str, str], width: int, height: int
    ) -> None:
        margin, metrics = self.margin, self.letter_metrics
        line, ascent, descent = metrics.height(), metrics.ascent(), metrics.descent()
        x: float
        y: float
        for edge, text in letters.items():
            block = self.text_blocks.block((text,), self.letter_font, LETTER_COLOUR)
            advance = block.width
            # The block's top lies one line above its baseline, plus the descent.
            if edge == "left":
                x, y = margin, height / 2
            elif edge == "right":
                x, y = width - margin - advance, height / 2
            elif edge == "top":
                x, y = (width - advance) / 2, margin + ascent
            else:
                x, y = (width - advance) / 2, height - margin - descent
            block.draw(painter, x, y - line + descent)

    def _bar_shape(
        self, px_per_mm: float, width: int, height: int, above_letter: bool
    ) -> _Bar | None:
        """The scale bar at the bottom centre (above the bottom letter),
        labelled above; worked out once per zoom and size."""
        key = (px_per_mm, width, height if above_letter else -height)
        if self._bar_key != key:
            self._bar_key = key
            self._bar = self._scale_bar_shape(px_per_mm, width, height, above_letter)
        return self._bar

    def _draw_scale_bar(self, painter: QPainter, bar: _Bar) -> None:
        shadows, lines, label, x, y, _, _ = bar
        painter.setPen(self._shadow_pen)
        painter.drawLines(shadows)
        painter.setPen(self._bar_pen)
        painter.drawLines(lines)
        self.text_blocks.block((label,), self.font).draw(painter, x, y)

    def _scale_bar_shape(
        self, px_per_mm: float, width: int, height: int, above_letter: bool
    ) -> _Bar | None:
        margin, metrics = self.margin, self.metrics
        bottom = height - margin
        if above_letter:
            bottom -= self.letter_metrics.height() + margin
        bar = scale_bar(width, bottom, px_per_mm, tick=metrics.height() * 0.4)
        if bar is None:
            return None
        y, top = bar.y, bar.y - bar.tick
        lines = [
            QLineF(bar.left, top, bar.left, y),
            QLineF(bar.left, y, bar.right, y),
            QLineF(bar.right, y, bar.right, top),
        ]
        offset = QPointF(self.scale, self.scale)
        shadows = [line.translated(offset) for line in lines]
        label = bar.label
        block = self.text_blocks.block((label,), self.font)
        label_x = (width - block.width) / 2
        label_y = top - self.scale * 2 - block.height
        span = max(float(block.width), bar.right - bar.left)
        rect = QRectF((width - span) / 2, label_y, span, y + self.scale - label_y)
        return (shadows, lines, label, label_x, label_y, rect, span)

    def paint_annotations(
        self,
        painter: QPainter,
        items: Iterable[tuple[Lesion, Annotation]],
        plane: SlicePlane,
        to_painter: Callable[[float, float], QPointF],
        *,
        spacing_source: str = "",
        selected_id: str | None = None,
        calibrations: AnnotationSet | None = None,
        roi_lines: Callable[[Annotation], tuple[str, ...]] | None = None,
        bounds: QRectF | None = None,
        clear_of_text: bool = False,
    ) -> None:
        """Lesion annotations projected on ``plane``; ``to_painter(column, row)``
        maps the plane's pixel-centre coordinates into the target;
        ``calibrations`` holds the reader's calibrations of the images;
        ``roi_lines`` and ``bounds`` are as in :func:`draw_annotations`;
        ``clear_of_text``: labels avoid :attr:`text_rects` (drawn from
        :meth:`paint_text`'s ``underneath``)."""
        self.label_rects = draw_annotations(
            painter,
            items,
            plane,
            to_painter,
            spacing_source=spacing_source,
            selected_id=selected_id,
            scale=self.scale,
            calibrations=calibrations,
            roi_lines=roi_lines,
            bounds=bounds,
            avoid=self.text_rects if clear_of_text else (),
        )

    def paint_crosshair(
        self,
        painter: QPainter,
        lines: Sequence[tuple[QColor, QPointF, QPointF]],
        reach: float,
    ) -> None:
        """MPR plane lines: (colour, the cursor's point, unit direction) each,
        drawn ``reach`` pixels both ways, clear of the cursor itself."""
        gap = _CROSSHAIR_GAP_PX * self.scale
        for colour, centre, unit in lines:
            painter.setPen(QPen(colour, _CROSSHAIR_WIDTH_PX * self.scale))
            for sign in (1.0, -1.0):
                painter.drawLine(
                    centre + unit * (sign * gap), centre + unit * (sign * reach)
                )

    def paint_reference_lines(
        self,
        painter: QPainter,
        lines: Sequence[tuple[QColor, QPointF, QPointF, bool]],
    ) -> None:
        """Reference lines: (colour, one end, the other, dashed) each; slab
        faces are dashed. Pens are kept per colour."""
        pens = self._reference_pens
        for colour, start, end, dashed in lines:
            key = (colour.rgba(), dashed)
            pen = pens.get(key)
            if pen is None:
                pen = pens[key] = QPen(colour, _REFERENCE_WIDTH_PX * self.scale)
                if dashed:
                    pen.setStyle(Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.drawLine(start, end)
