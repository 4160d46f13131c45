"""Drawing lesion annotations over a shown slice (viewport and burned-in exports).

Annotations live in LPS millimetres; a view draws those within its slab,
projected onto its plane. The caller supplies how a point of the slice's pixel
grid maps to painter coordinates, so the same code draws in a viewport (screen
pixels) and into an exported image (image pixels).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen, QPolygonF

from imaging_viewer.core.annotations.measure import (
    NoSpacingError,
    is_within_slab,
    measure,
)
from imaging_viewer.core.annotations.model import (
    Angle,
    Arrow,
    Bidirectional,
    CobbAngle,
    EllipseRoi,
    PointMarker,
    PolygonRoi,
    Ruler,
    TextLabel,
)
from imaging_viewer.core.mpr import SlicePlane

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from numpy.typing import NDArray

    from imaging_viewer.core.annotations.model import Annotation, AnnotationSet, Lesion

ELLIPSE_SEGMENTS = 72


def plane_of_slice(
    pixel_to_lps: NDArray[np.float64], size_px: tuple[int, int]
) -> SlicePlane:
    """The :class:`SlicePlane` of a shown slice from its ``pixel_to_lps``."""
    column_mm = float(np.linalg.norm(pixel_to_lps[:3, 0]))
    row_mm = float(np.linalg.norm(pixel_to_lps[:3, 1]))
    return SlicePlane(
        origin_lps=pixel_to_lps[:3, 3].copy(),
        right_lps=pixel_to_lps[:3, 0] / column_mm,
        down_lps=pixel_to_lps[:3, 1] / row_mm,
        spacing_mm=(column_mm, row_mm),
        size_px=size_px,
    )


def visible_annotations(
    annotations: AnnotationSet,
    plane: SlicePlane,
    slab_mm: float,
    *,
    frame_of_reference_uid: str,
    sop_instance_uid: str = "",
) -> list[tuple[Lesion, Annotation]]:
    """(lesion, annotation) pairs that lie within the shown slab."""
    shown = []
    for lesion in annotations.lesions:
        for annotation in lesion.annotations:
            if is_within_slab(
                annotation,
                plane,
                slab_mm,
                frame_of_reference_uid=frame_of_reference_uid,
                sop_instance_uid=sop_instance_uid or None,
            ):
                shown.append((lesion, annotation))
    return shown


def measurement_text(annotation: Annotation, spacing_source: str) -> str:
    """What an annotation reads, e.g. ``"23.4 mm"`` or ``"L 31.0 × S 12.2 mm"``."""
    try:
        values = measure(annotation, spacing_source=spacing_source)
    except NoSpacingError:
        return "no spacing: mm unavailable"
    if not values:
        return annotation.label
    if isinstance(annotation, Bidirectional) and len(values) == 2:
        return f"L {values[0].value:.1f} × S {values[1].value:.1f} mm"
    parts = []
    for value in values:
        unit = {"deg": "°", "mm2": " mm²", "mm": " mm"}.get(
            value.unit, f" {value.unit}"
        )
        parts.append(f"{value.value:.1f}{unit}")
    text = ", ".join(parts)
    return f"{annotation.label}: {text}" if annotation.label else text


def draw_annotations(
    painter: QPainter,
    items: Iterable[tuple[Lesion, Annotation]],
    plane: SlicePlane,
    to_painter: Callable[[float, float], QPointF],
    *,
    spacing_source: str = "",
    selected_id: str | None = None,
    line_width: float = 1.6,
    font_size: float = 10.0,
) -> None:
    """Draw annotations projected on ``plane``.

    ``to_painter(column, row)`` maps pixel-centre coordinates of the plane's grid
    to painter coordinates.
    """
    font = QFont("DejaVu Sans")
    font.setPointSizeF(font_size)
    painter.setFont(font)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    placed: list[QRectF] = []  # labels already drawn, so the next ones avoid them
    for lesion, annotation in items:
        colour = QColor(lesion.colour)
        width = line_width * (2.0 if annotation.id == selected_id else 1.0)

        def point(lps: NDArray[np.float64] | tuple[float, ...]) -> QPointF:
            pixel = plane.lps_to_pixel(np.asarray(lps, dtype=np.float64))
            return to_painter(float(pixel[0]), float(pixel[1]))

        label = _draw_one(painter, annotation, point, colour, width, spacing_source)
        if label is not None:
            at, text = label
            placed.append(_place_label(painter, at, text, placed))
            _outlined_text(painter, placed[-1].bottomLeft(), text, colour)


def _outlined_text(painter: QPainter, at: QPointF, text: str, colour: QColor) -> None:
    path = QPainterPath()
    path.addText(at, painter.font(), text)
    painter.setPen(QPen(QColor(0, 0, 0), 3))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawPath(path)
    painter.fillPath(path, QBrush(colour))


def _draw_one(
    painter: QPainter,
    annotation: Annotation,
    point: Callable[[NDArray[np.float64] | tuple[float, ...]], QPointF],
    colour: QColor,
    width: float,
    spacing_source: str,
) -> tuple[QPointF, str] | None:
    """Draw the shape; return where its label goes, and the label."""
    pen = QPen(colour, width)
    pen.setCosmetic(True)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    label_at: QPointF | None = None
    text = measurement_text(annotation, spacing_source)
    if isinstance(annotation, PointMarker):
        spot = point(annotation.position_lps)
        painter.drawEllipse(spot, 5, 5)
        painter.drawLine(spot + QPointF(-9, 0), spot + QPointF(9, 0))
        painter.drawLine(spot + QPointF(0, -9), spot + QPointF(0, 9))
        label_at = spot + QPointF(10, -10)
        text = annotation.label
    elif isinstance(annotation, Arrow):
        tip, tail = point(annotation.tip_lps), point(annotation.tail_lps)
        painter.drawLine(tail, tip)
        _arrow_head(painter, tail, tip)
        label_at = tail + QPointF(6, 4)
        text = annotation.label
    elif isinstance(annotation, TextLabel):
        label_at = point(annotation.anchor_lps)
        text = annotation.text
    elif isinstance(annotation, Ruler):
        start, end = point(annotation.start_lps), point(annotation.end_lps)
        painter.drawLine(start, end)
        for end_point in (start, end):
            _tick(painter, start, end, end_point)
        label_at = end + QPointF(8, 4)
    elif isinstance(annotation, Angle):
        vertex = point(annotation.vertex_lps)
        painter.drawLine(vertex, point(annotation.first_lps))
        painter.drawLine(vertex, point(annotation.second_lps))
        label_at = vertex + QPointF(8, -8)
    elif isinstance(annotation, CobbAngle):
        points = [point(p) for p in annotation.points_lps]
        painter.drawLine(points[0], points[1])
        painter.drawLine(points[2], points[3])
        label_at = points[3] + QPointF(8, 4)
    elif isinstance(annotation, EllipseRoi):
        centre = np.asarray(annotation.centre_lps)
        a = np.asarray(annotation.axis1_end_lps) - centre
        b = np.asarray(annotation.axis2_end_lps) - centre
        angles = np.linspace(0, 2 * math.pi, ELLIPSE_SEGMENTS, endpoint=False)
        outline = [point(centre + math.cos(t) * a + math.sin(t) * b) for t in angles]
        painter.drawPolygon(QPolygonF(outline))
        label_at = point(centre + a) + QPointF(8, 0)
    elif isinstance(annotation, PolygonRoi):
        outline = [point(p) for p in annotation.points_lps]
        painter.drawPolygon(QPolygonF(outline))
        label_at = max(outline, key=lambda p: p.x()) + QPointF(8, 0)
    elif isinstance(annotation, Bidirectional):
        points = [point(p) for p in annotation.points_lps]
        painter.drawLine(points[0], points[1])
        dashed = QPen(pen)
        dashed.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(dashed)
        painter.drawLine(points[2], points[3])
        label_at = points[1] + QPointF(8, 4)
    if label_at is not None and text:
        return label_at, text
    return None


def _place_label(
    painter: QPainter, at: QPointF, text: str, taken: list[QRectF]
) -> QRectF:
    """The label's box at ``at`` (baseline), moved down past labels drawn already."""
    metrics = painter.fontMetrics()
    box = QRectF(
        at.x(),
        at.y() - metrics.ascent(),
        metrics.horizontalAdvance(text),
        metrics.height(),
    )
    while any(box.intersects(other) for other in taken):
        box.translate(0, metrics.height())
    return box.adjusted(0, 0, 0, -metrics.descent())


def _tick(painter: QPainter, start: QPointF, end: QPointF, at: QPointF) -> None:
    direction = end - start
    length = math.hypot(direction.x(), direction.y()) or 1.0
    normal = QPointF(-direction.y() / length, direction.x() / length) * 5
    painter.drawLine(at - normal, at + normal)


def _arrow_head(painter: QPainter, tail: QPointF, tip: QPointF) -> None:
    direction = tip - tail
    length = math.hypot(direction.x(), direction.y()) or 1.0
    unit = QPointF(direction.x() / length, direction.y() / length)
    normal = QPointF(-unit.y(), unit.x())
    size = 12.0
    base = tip - unit * size
    head = QPolygonF([tip, base + normal * (size / 2.5), base - normal * (size / 2.5)])
    painter.setBrush(QBrush(painter.pen().color()))
    painter.drawPolygon(head)
    painter.setBrush(Qt.BrushStyle.NoBrush)
