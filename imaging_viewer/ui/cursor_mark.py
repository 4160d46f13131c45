"""The 3D cursor's mark on an acquired slice (issue 13 item 3).

A crosshair-tool click on an acquired view, or the cursor of a linked study
mapped through the registration (:mod:`imaging_viewer.core.linked_cursor`),
leaves the 3D cursor on the slice: a small ring with four ticks marks it while
the crosshair display is on and the cursor lies on the shown slice. MPR views
draw their plane lines instead. The view repaints for the cursor only when
the mark's place on screen (or whether it shows) changes: in MPR 2×2 the
acquired view's cursor moves with every scroll step of the planes, mostly off
its slice or along it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPen

from imaging_viewer.core.linked_cursor import cursor_on_slice

if TYPE_CHECKING:
    from PySide6.QtGui import QPainter

    from imaging_viewer.ui.slice_viewport import SliceViewportWidget

__all__ = [
    "CURSOR_MARK_COLOUR",
    "CursorMark",
    "cursor_mark_point",
    "paint_cursor_mark",
]

CURSOR_MARK_COLOUR: Final = QColor(255, 200, 0)
"""Amber: apart from the MPR line colours and the annotations' green."""
_RING_PX: Final = 6.0
_TICK_PX: Final = 5.0


def cursor_mark_point(widget: SliceViewportWidget) -> QPointF | None:
    """Where the mark goes (widget coordinates), or None when not drawn."""
    if not widget.show_crosshair:
        return None
    cursor = cursor_on_slice(widget.state)
    if cursor is None:
        return None
    pixel = widget._pixel_of_lps(cursor)
    return None if pixel is None else widget._widget_point(*pixel)


class CursorMark:
    """The mark of one viewport widget, and the pixel it was last drawn at."""

    def __init__(self, widget: SliceViewportWidget) -> None:
        self.widget = widget
        self._drawn: tuple[int, int] | None = None

    def paint(self, painter: QPainter) -> None:
        """Draw the mark (if it shows) and remember where."""
        self._drawn = _spot(cursor_mark_point(self.widget))
        if self._drawn is not None:
            _draw_mark(painter, self._drawn)

    def moved(self) -> bool:
        """True when the mark would be drawn at another pixel than it was last,
        or would appear or vanish (a sub-pixel move changes nothing drawn)."""
        return _spot(cursor_mark_point(self.widget)) != self._drawn


def paint_cursor_mark(painter: QPainter, widget: SliceViewportWidget) -> None:
    """Draw the mark of the 3D cursor on an acquired view, if it is on its slice."""
    spot = _spot(cursor_mark_point(widget))
    if spot is not None:
        _draw_mark(painter, spot)


def _spot(centre: QPointF | None) -> tuple[int, int] | None:
    """The widget pixel the mark is centred on: it is drawn on whole pixels."""
    return None if centre is None else (round(centre.x()), round(centre.y()))


def _draw_mark(painter: QPainter, spot: tuple[int, int]) -> None:
    centre = QPointF(*spot)
    painter.save()
    painter.setRenderHint(painter.RenderHint.Antialiasing)
    for colour, width in ((QColor(0, 0, 0, 160), 3.0), (CURSOR_MARK_COLOUR, 1.5)):
        painter.setPen(QPen(colour, width))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawEllipse(centre, _RING_PX, _RING_PX)
        for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            inner = QPointF(centre.x() + dx * _RING_PX, centre.y() + dy * _RING_PX)
            outer = QPointF(
                centre.x() + dx * (_RING_PX + _TICK_PX),
                centre.y() + dy * (_RING_PX + _TICK_PX),
            )
            painter.drawLine(inner, outer)
    painter.restore()
