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
    NO_SPACING,
    is_within_slab,
    measure_shown,
    spacing_note,
    spacing_source_of,
)
from imaging_viewer.core.annotations.measure import (
    measurement_text as values_text,
)
from imaging_viewer.core.annotations.model import (
    Angle,
    Arrow,
    Bidirectional,
    CobbAngle,
    EllipseRoi,
    Lesion,
    PointMarker,
    PolygonRoi,
    Ruler,
    TextLabel,
)
from imaging_viewer.core.mpr import SlicePlane
from imaging_viewer.core.viewer_state import image_ref_of as image_ref_of

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from numpy.typing import NDArray

    from imaging_viewer.core.annotations.calibration import Calibration
    from imaging_viewer.core.annotations.model import Annotation, AnnotationSet
    from imaging_viewer.core.viewer_state import ViewerState, ViewportState

ELLIPSE_SEGMENTS = 72
PREVIEW_LESION = Lesion(label="new lesion", colour="#ffd54f")
"""Draws a preview whose lesion the tool creates only on release."""


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


def slab_of(state: ViewportState) -> float:
    """How thick (mm) the slab is whose annotations a view shows: its slab, at
    least one slice step."""
    affine = state.pixel_to_lps()
    step = float(np.linalg.norm(affine[:3, 2])) if affine is not None else 1.0
    return max(state.slab_mm, step)


def shown_annotations(
    state: ViewportState, annotations: AnnotationSet | None, *, preview: bool = True
) -> tuple[list[tuple[Lesion, Annotation]], SlicePlane, str] | None:
    """The annotations ``state``'s view draws (with the preview being drawn, if
    asked), the slice's plane and its volume's spacing source; None where none
    are drawn (no annotations, nothing shown, or a flipped or rotated view)."""
    if annotations is None or (
        not len(annotations) and (annotations.preview is None or not preview)
    ):
        return None  # nothing to draw: spare every frame the plane's geometry
    affine = state.pixel_to_lps()
    pixels = state.pixels()
    volume = state.volume
    if affine is None or pixels is None or volume is None:
        return None
    if state.flip_horizontal or state.flip_vertical or state.rotation_quarters % 4:
        return None  # drawn on the unflipped grid only
    plane = plane_of_slice(affine, (pixels.shape[1], pixels.shape[0]))
    ref = image_ref_of(state)
    items = visible_annotations(
        annotations,
        plane,
        slab_of(state),
        frame_of_reference_uid=ref.frame_of_reference_uid,
        sop_instance_uid=ref.sop_instance_uid,
    )
    shown_preview = annotations.preview if preview else None
    if shown_preview is not None:
        lesion = (
            annotations.lesion(shown_preview.lesion_id)
            if annotations.has_lesion(shown_preview.lesion_id)
            else PREVIEW_LESION  # the tool creates this lesion on release
        )
        items.append((lesion, shown_preview))
    return items, plane, spacing_source_of(volume)


def measurement_text(
    annotation: Annotation,
    spacing_source: str,
    calibration: Calibration | None = None,
    extra_lines: tuple[str, ...] = (),
    separator: str = ", ",
) -> str:
    """What an annotation reads, e.g. ``"23.4 mm"``, ``"L 31.0 × S 12.2 mm"``, or
    ``"255.0 px"`` on an image without spacing (PS3.3 10.7.1.3); a reader's
    ``calibration`` of the image gives mm, and says so (``"63.8 mm
    (calibrated)"``), as does Imager Pixel Spacing (PS3.3 10.7.1.1).
    ``extra_lines`` (an ROI's statistics) follow, after ``separator``."""
    values = measure_shown(
        annotation, spacing_source=spacing_source, calibration=calibration
    )
    if not values:
        return annotation.label
    text = values_text(values)
    if any(value.unit in ("mm", "mm2") for value in values):
        note = spacing_note(values[0].spacing_source)
        if note:
            text = f"{text} ({note})"
    if annotation.label and not isinstance(annotation, Bidirectional):
        text = f"{annotation.label}: {text}"
    return separator.join((text, *extra_lines))


def spacing_source_in_views(state: ViewerState, annotation: Annotation) -> str:
    """Spacing source of the image ``annotation`` was drawn on, from the views
    showing it; an annotation of a projection image not shown (no frame of
    reference) counts as without spacing, so pixels are never shown as mm
    (PS3.3 10.7.1.3)."""
    for viewport in state.viewports:
        volume = viewport.volume
        if volume is None:
            continue
        same_frame = (
            annotation.frame_of_reference_uid
            and volume.frame_of_reference_uid == annotation.frame_of_reference_uid
        )
        if same_frame or (
            annotation.referenced_sop_instance_uid
            and image_ref_of(viewport).sop_instance_uid
            == annotation.referenced_sop_instance_uid
        ):
            return spacing_source_of(volume)
    return "" if annotation.frame_of_reference_uid else NO_SPACING


def calibration_of(
    annotations: AnnotationSet | None, annotation: Annotation
) -> Calibration | None:
    """The reader's calibration of the image ``annotation`` was drawn on."""
    if annotations is None:
        return None
    return annotations.calibration(
        annotation.referenced_sop_instance_uid, annotation.referenced_frame
    )


def draw_annotations(
    painter: QPainter,
    items: Iterable[tuple[Lesion, Annotation]],
    plane: SlicePlane,
    to_painter: Callable[[float, float], QPointF],
    *,
    spacing_source: str = "",
    selected_id: str | None = None,
    scale: float = 1.0,
    calibrations: AnnotationSet | None = None,
    roi_lines: Callable[[Annotation], tuple[str, ...]] | None = None,
    bounds: QRectF | None = None,
    avoid: Sequence[QRectF] = (),
) -> list[QRectF]:
    """Draw annotations projected on ``plane``; return where their labels went.

    ``to_painter(column, row)`` maps pixel-centre coordinates of the plane's grid
    to painter coordinates. Lines, marks and labels are sized for the screen
    (1.6 px lines, 10 pt labels) times ``scale``. ``roi_lines(annotation)``
    gives an ROI's statistics lines for its label; labels stay inside
    ``bounds`` (the view) and, where there is room, clear of ``avoid`` (the
    scale bar and corner text); the selected annotation shows its handles.
    """
    font = QFont("DejaVu Sans")
    font.setPointSizeF(10.0 * scale)
    line_width = 1.6 * scale
    painter.setFont(font)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    placed: list[QRectF] = []  # labels already drawn, so the next ones avoid them
    for lesion, annotation in items:
        colour = QColor(lesion.colour)
        width = line_width * (2.0 if annotation.id == selected_id else 1.0)

        def point(lps: NDArray[np.float64] | tuple[float, ...]) -> QPointF:
            pixel = plane.lps_to_pixel(np.asarray(lps, dtype=np.float64))
            return to_painter(float(pixel[0]), float(pixel[1]))

        text = measurement_text(
            annotation,
            spacing_source,
            calibration_of(calibrations, annotation),
            roi_lines(annotation) if roi_lines is not None else (),
            separator="\n",
        )
        label = _draw_one(painter, annotation, point, colour, width, text, scale)
        if label is not None:
            at, text = label
            placed.append(_place_label(painter, at, text, placed, bounds, avoid))
            _outlined_text(painter, placed[-1], text, colour, scale)
        if annotation.id == selected_id:  # on top: a label never hides them
            handles = annotation.points_lps
            step = max(1, -(-len(handles) // MAX_HANDLES))  # a freehand outline
            draw_handles(painter, [point(p) for p in handles[::step]], scale)
    return placed


def _outlined_text(
    painter: QPainter, box: QRectF, text: str, colour: QColor, scale: float
) -> None:
    """``text`` (one or more lines) in ``colour`` outlined in black, in ``box``."""
    metrics = painter.fontMetrics()
    path = QPainterPath()
    for n, line in enumerate(text.split("\n")):
        baseline = box.top() + metrics.ascent() + n * metrics.height()
        path.addText(QPointF(box.left(), baseline), painter.font(), line)
    painter.setPen(QPen(QColor(0, 0, 0), 3 * scale))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawPath(path)
    painter.fillPath(path, QBrush(colour))


MAX_HANDLES = 32
"""At most this many handles show (every n-th vertex of a freehand outline)."""
HANDLE_HALF_PX = 3.5
"""Half the side of a handle's square, screen pixels."""


def draw_handles(painter: QPainter, points: list[QPointF], scale: float) -> None:
    """White squares with a black rim on the points the select tool moves."""
    half = HANDLE_HALF_PX * scale
    painter.setPen(QPen(QColor(0, 0, 0), 1.0 * scale))
    painter.setBrush(QBrush(QColor(255, 255, 255)))
    for at in points:
        painter.drawRect(QRectF(at.x() - half, at.y() - half, 2 * half, 2 * half))
    painter.setBrush(Qt.BrushStyle.NoBrush)


def _draw_one(
    painter: QPainter,
    annotation: Annotation,
    point: Callable[[NDArray[np.float64] | tuple[float, ...]], QPointF],
    colour: QColor,
    width: float,
    text: str,
    scale: float,
) -> tuple[QPointF, str] | None:
    """Draw the shape; return where its label goes, and the label."""

    def offset(x: float, y: float) -> QPointF:
        return QPointF(x * scale, y * scale)

    pen = QPen(colour, width)
    pen.setCosmetic(True)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    label_at: QPointF | None = None
    if isinstance(annotation, PointMarker):
        spot = point(annotation.position_lps)
        painter.drawEllipse(spot, 5 * scale, 5 * scale)
        painter.drawLine(spot + offset(-9, 0), spot + offset(9, 0))
        painter.drawLine(spot + offset(0, -9), spot + offset(0, 9))
        label_at = spot + offset(10, -10)
        text = annotation.label
    elif isinstance(annotation, Arrow):
        tip, tail = point(annotation.tip_lps), point(annotation.tail_lps)
        painter.drawLine(tail, tip)
        _arrow_head(painter, tail, tip, scale)
        label_at = tail + offset(6, 4)
        text = annotation.label
    elif isinstance(annotation, TextLabel):
        label_at = point(annotation.anchor_lps)
        text = annotation.text
    elif isinstance(annotation, Ruler):
        start, end = point(annotation.start_lps), point(annotation.end_lps)
        painter.drawLine(start, end)
        for end_point in (start, end):
            _tick(painter, start, end, end_point, scale)
        label_at = end + offset(8, 4)
    elif isinstance(annotation, Angle):
        vertex = point(annotation.vertex_lps)
        painter.drawLine(vertex, point(annotation.first_lps))
        painter.drawLine(vertex, point(annotation.second_lps))
        label_at = vertex + offset(8, -8)
    elif isinstance(annotation, CobbAngle):
        points = [point(p) for p in annotation.points_lps]
        painter.drawLine(points[0], points[1])
        painter.drawLine(points[2], points[3])
        label_at = points[3] + offset(8, 4)
    elif isinstance(annotation, EllipseRoi):
        centre = np.asarray(annotation.centre_lps)
        a = np.asarray(annotation.axis1_end_lps) - centre
        b = np.asarray(annotation.axis2_end_lps) - centre
        angles = np.linspace(0, 2 * math.pi, ELLIPSE_SEGMENTS, endpoint=False)
        outline = [point(centre + math.cos(t) * a + math.sin(t) * b) for t in angles]
        painter.drawPolygon(QPolygonF(outline))
        label_at = point(centre + a) + offset(8, 0)
    elif isinstance(annotation, PolygonRoi):
        outline = [point(p) for p in annotation.points_lps]
        painter.drawPolygon(QPolygonF(outline))
        label_at = max(outline, key=lambda p: p.x()) + offset(8, 0)
    elif isinstance(annotation, Bidirectional):
        points = [point(p) for p in annotation.points_lps]
        painter.drawLine(points[0], points[1])
        dashed = QPen(pen)
        dashed.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(dashed)
        painter.drawLine(points[2], points[3])
        label_at = points[1] + offset(8, 4)
    if label_at is not None and text:
        return label_at, text
    return None


def _place_label(
    painter: QPainter,
    at: QPointF,
    text: str,
    taken: list[QRectF],
    bounds: QRectF | None = None,
    avoid: Sequence[QRectF] = (),
) -> QRectF:
    """The label's box at ``at`` (baseline of its first line), kept inside
    ``bounds`` and moved down past labels drawn already; on a rectangle of
    ``avoid`` it goes above or below it, or to the other side of its anchor,
    where that is clear, else it stays."""
    metrics = painter.fontMetrics()
    lines = text.split("\n")
    box = QRectF(
        at.x(),
        at.y() - metrics.ascent(),
        max(metrics.horizontalAdvance(line) for line in lines),
        metrics.height() * len(lines),
    )
    if bounds is not None:
        box = clamped(box, bounds)
    while any(box.intersects(other) for other in taken):
        box.translate(0, metrics.height())
    if bounds is not None and box.bottom() > bounds.bottom():
        box = clamped(box, bounds)  # moved past the bottom: overlap rather than hide
    for obstacle in avoid:
        if box.intersects(obstacle):
            side = at.x() - metrics.height()  # the other side of the anchor
            box = _clear_of(box, obstacle, side, taken, avoid, bounds)
            break
    return box.adjusted(0, 0, 0, -metrics.descent())


def _clear_of(
    box: QRectF,
    obstacle: QRectF,
    other_side: float,
    taken: Sequence[QRectF],
    avoid: Sequence[QRectF],
    bounds: QRectF | None = None,
) -> QRectF:
    """``box`` moved above ``obstacle``, below it, or to end at ``other_side``
    (left of its anchor): the first of them that meets no rectangle of
    ``taken`` or ``avoid`` (inside ``bounds``); else ``box`` as it is."""
    for dx, dy in (
        (0.0, obstacle.top() - 1 - box.bottom()),
        (0.0, obstacle.bottom() + 1 - box.top()),
        (other_side - box.right(), 0.0),
    ):
        moved = box.translated(dx, dy)
        if bounds is not None:
            moved = clamped(moved, bounds)
        if not any(moved.intersects(r) for r in avoid) and not any(
            moved.intersects(r) for r in taken
        ):
            return moved
    return box


def clamped(box: QRectF, bounds: QRectF) -> QRectF:
    """``box`` moved the least to lie inside ``bounds`` (its top-left corner
    where it is larger)."""
    x = min(box.left(), bounds.right() - box.width())
    y = min(box.top(), bounds.bottom() - box.height())
    return QRectF(
        max(x, bounds.left()), max(y, bounds.top()), box.width(), box.height()
    )


def _tick(
    painter: QPainter, start: QPointF, end: QPointF, at: QPointF, scale: float
) -> None:
    direction = end - start
    length = math.hypot(direction.x(), direction.y()) or 1.0
    normal = QPointF(-direction.y() / length, direction.x() / length) * (5 * scale)
    painter.drawLine(at - normal, at + normal)


def _arrow_head(painter: QPainter, tail: QPointF, tip: QPointF, scale: float) -> None:
    direction = tip - tail
    length = math.hypot(direction.x(), direction.y()) or 1.0
    unit = QPointF(direction.x() / length, direction.y() / length)
    normal = QPointF(-unit.y(), unit.x())
    size = 12.0 * scale
    base = tip - unit * size
    head = QPolygonF([tip, base + normal * (size / 2.5), base - normal * (size / 2.5)])
    painter.setBrush(QBrush(painter.pen().color()))
    painter.drawPolygon(head)
    painter.setBrush(Qt.BrushStyle.NoBrush)
