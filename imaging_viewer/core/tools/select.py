"""The select tool: pick the annotation nearest the pointer, then move it or a handle.

Distances are taken in the plane of the view, in mm, between the pointer and
the annotation as projected onto the plane; only annotations shown in the view
(:func:`~imaging_viewer.core.annotations.measure.is_within_slab`) can be picked.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np

from imaging_viewer.core.annotations.measure import is_within_slab, roi_area_mm2
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
from imaging_viewer.core.tools.placement import on_plane

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

    from imaging_viewer.core.annotations.model import Annotation, AnnotationSet
    from imaging_viewer.core.mpr import SlicePlane
    from imaging_viewer.core.tools.pointer import PointerEvent, ToolGenerator

# Straight pieces of each kind's outline, as pairs of indices into points_lps.
_SEGMENTS: Final[dict[type, tuple[tuple[int, int], ...]]] = {
    Ruler: ((0, 1),),
    Arrow: ((0, 1),),
    Angle: ((0, 1), (1, 2)),
    CobbAngle: ((0, 1), (2, 3)),
    Bidirectional: ((0, 1), (2, 3)),
}
_ELLIPSE_OUTLINE_POINTS: Final = 96

# Tiers of a hit, best first: a handle, the outline, the inside of an ROI.
_HANDLE, _OUTLINE, _INSIDE = 0, 1, 2


@dataclass(frozen=True)
class Hit:
    """An annotation under the pointer, and which of its handles (None: all of it)."""

    annotation: Annotation
    handle: int | None
    """Index into ``annotation.points_lps`` of the handle grabbed, or None."""
    distance_mm: float
    """In the plane of the view, from the pointer to the handle or outline."""


def _in_plane_mm(plane: SlicePlane, points_lps: ArrayLike) -> NDArray[np.float64]:
    """(right, down) coordinates in mm of LPS points projected onto ``plane``."""
    offsets = np.asarray(points_lps, dtype=np.float64) - plane.origin_lps
    result: NDArray[np.float64] = np.stack(
        [offsets @ plane.right_lps, offsets @ plane.down_lps], axis=-1
    )
    return result


def _segment_distances(
    point: NDArray[np.float64], starts: NDArray[np.float64], ends: NDArray[np.float64]
) -> NDArray[np.float64]:
    along = ends - starts
    length2 = np.einsum("ij,ij->i", along, along)
    safe = np.where(length2 > 0.0, length2, 1.0)
    t = np.clip(np.einsum("ij,ij->i", point - starts, along) / safe, 0.0, 1.0)
    nearest = starts + t[:, None] * along
    result: NDArray[np.float64] = np.linalg.norm(point - nearest, axis=1)
    return result


def _inside_polygon(point: NDArray[np.float64], outline: NDArray[np.float64]) -> bool:
    x, y = point
    xs, ys = outline[:, 0], outline[:, 1]
    x_next, y_next = np.roll(xs, -1), np.roll(ys, -1)
    crosses = (ys > y) != (y_next > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_cross = xs + (y - ys) * (x_next - xs) / (y_next - ys)
    return bool(np.count_nonzero(crosses & (x < x_cross)) % 2)


def _outline_mm(
    plane: SlicePlane, annotation: Annotation
) -> tuple[NDArray[np.float64], NDArray[np.float64], bool]:
    """Segment starts and ends in plane mm, and whether the outline is closed."""
    if isinstance(annotation, EllipseRoi):
        centre = np.asarray(annotation.centre_lps)
        a = np.asarray(annotation.axis1_end_lps) - centre
        b = np.asarray(annotation.axis2_end_lps) - centre
        theta = np.linspace(0.0, 2.0 * np.pi, _ELLIPSE_OUTLINE_POINTS, endpoint=False)
        ring = centre + np.cos(theta)[:, None] * a + np.sin(theta)[:, None] * b
        ring_mm = _in_plane_mm(plane, ring)
        return ring_mm, np.roll(ring_mm, -1, axis=0), True
    points_mm = _in_plane_mm(plane, annotation.points_lps)
    if isinstance(annotation, PolygonRoi):
        return points_mm, np.roll(points_mm, -1, axis=0), True
    pairs = _SEGMENTS.get(type(annotation), ())
    if not pairs:
        empty = np.zeros((0, 2))
        return empty, empty, False
    index = np.array(pairs)
    return points_mm[index[:, 0]], points_mm[index[:, 1]], False


def find_annotation(
    annotations: AnnotationSet,
    plane: SlicePlane,
    position_lps: ArrayLike,
    *,
    tolerance_mm: float = 3.0,
    slab_mm: float | None = None,
    frame_of_reference_uid: str | None = None,
    sop_instance_uid: str | None = None,
    prefer_lesion_id: str | None = None,
) -> Hit | None:
    """The annotation shown on ``plane`` nearest ``position_lps``, if near enough.

    A handle (one of the annotation's points) within ``tolerance_mm`` wins over
    an outline within it, which wins over the inside of an ROI (the smallest
    such ROI). Ties go to ``prefer_lesion_id``'s annotations.

    Parameters
    ----------
    annotations : AnnotationSet
        Where to look.
    plane : SlicePlane
        The plane of the view.
    position_lps : array_like
        The pointer, LPS mm.
    tolerance_mm : float
        Farthest pick distance, in the plane.
    slab_mm : float, optional
        Thickness shown around the plane (default: one pixel of ``plane``).
    frame_of_reference_uid, sop_instance_uid : str, optional
        The view's image, as for
        :func:`~imaging_viewer.core.annotations.measure.is_within_slab`.
    prefer_lesion_id : str, optional
        The active lesion.

    Returns
    -------
    Hit or None
    """
    thickness = min(plane.spacing_mm) if slab_mm is None else slab_mm
    pointer = _in_plane_mm(plane, position_lps)
    best: tuple[tuple[int, float, bool, float], Hit] | None = None
    for annotation in annotations.annotations():
        if not is_within_slab(
            annotation,
            plane,
            thickness,
            frame_of_reference_uid=frame_of_reference_uid,
            sop_instance_uid=sop_instance_uid,
        ):
            continue
        other_lesion = annotation.lesion_id != prefer_lesion_id
        candidates: list[tuple[tuple[int, float, bool, float], Hit]] = []
        handles = np.linalg.norm(
            _in_plane_mm(plane, annotation.points_lps) - pointer, axis=1
        )
        handle = int(np.argmin(handles))
        if handles[handle] <= tolerance_mm:
            distance = float(handles[handle])
            candidates.append(
                (
                    (_HANDLE, distance, other_lesion, 0.0),
                    Hit(annotation, handle, distance),
                )
            )
        starts, ends, closed = _outline_mm(plane, annotation)
        if len(starts):
            distance = float(_segment_distances(pointer, starts, ends).min())
            if distance <= tolerance_mm:
                candidates.append(
                    (
                        (_OUTLINE, distance, other_lesion, 0.0),
                        Hit(annotation, None, distance),
                    )
                )
            elif closed and _inside_polygon(pointer, starts):
                area = (
                    roi_area_mm2(annotation)
                    if isinstance(annotation, EllipseRoi | PolygonRoi)
                    else 0.0
                )
                candidates.append(
                    ((_INSIDE, 0.0, other_lesion, area), Hit(annotation, None, 0.0))
                )
        for candidate in candidates:
            if best is None or candidate[0] < best[0]:
                best = candidate
    return None if best is None else best[1]


# ------------------------------------------------------------------- editing


def _unit(vector: NDArray[np.float64]) -> NDArray[np.float64] | None:
    norm = float(np.linalg.norm(vector))
    return None if norm < 1e-9 else vector / norm


def _edit_ellipse(
    ellipse: EllipseRoi, handle: int, offset: NDArray[np.float64]
) -> EllipseRoi:
    centre = np.asarray(ellipse.centre_lps)
    a = np.asarray(ellipse.axis1_end_lps) - centre
    b = np.asarray(ellipse.axis2_end_lps) - centre
    normal = _unit(np.cross(a, b))
    assert normal is not None  # the model keeps the semi-axes perpendicular, > 0
    moved = (a if handle == 1 else b) + offset
    moved = moved - float(moved @ normal) * normal
    direction = _unit(moved)
    if direction is None:
        return ellipse
    # The other semi-axis turns with this one and keeps its length.
    if handle == 1:
        a, b = moved, float(np.linalg.norm(b)) * np.cross(normal, direction)
    else:
        a, b = float(np.linalg.norm(a)) * np.cross(direction, normal), moved
    return ellipse.with_points(np.array([centre, centre + a, centre + b]))


def _edit_bidirectional(
    measurement: Bidirectional, handle: int, offset: NDArray[np.float64]
) -> Bidirectional:
    start = np.asarray(measurement.long_start_lps)
    end = np.asarray(measurement.long_end_lps)
    shorts = measurement.short_axis_lps
    long_axis = end - start
    length = float(np.linalg.norm(long_axis))
    normal = _unit(np.cross(long_axis, shorts[1] - shorts[0]))
    if normal is None:
        normal = np.asarray(measurement.plane_normal_lps)
    along = long_axis / length
    across = np.cross(normal, along)
    # Where the short axis crosses the long axis, as a fraction of its length,
    # and how far each short end lies from there along the perpendicular.
    fraction = float((shorts.mean(axis=0) - start) @ along) / length
    crossing = start + fraction * long_axis
    reaches = (shorts - crossing) @ across
    if handle >= 2:
        reaches[handle - 2] = float((shorts[handle - 2] + offset - crossing) @ across)
    else:
        ends = [start, end]
        moved = ends[handle] + offset
        moved = moved - float((moved - start) @ normal) * normal
        ends[handle] = moved
        start, end = ends
        new_along = _unit(end - start)
        if new_along is None:
            return measurement
        across = np.cross(normal, new_along)
        crossing = start + fraction * (end - start)
    if abs(reaches[1] - reaches[0]) <= 1e-3 * length:
        return measurement  # never a 0 mm short axis (RECIST measures two axes)
    points = np.array(
        [start, end, crossing + reaches[0] * across, crossing + reaches[1] * across]
    )
    return measurement.with_points(points)


def edited(
    annotation: Annotation, handle: int | None, offset_lps: ArrayLike
) -> Annotation:
    """``annotation`` with a handle (or, for None, all of it) moved by ``offset_lps``.

    An ellipse's centre moves the ellipse; an end of a semi-axis turns and
    stretches it, and the other semi-axis turns with it. Moving an end of a
    bidirectional measurement's long axis carries the short axis along, still
    perpendicular; an end of the short axis moves only along the perpendicular
    (RECIST: the short axis is perpendicular to the long axis).
    """
    offset = np.asarray(offset_lps, dtype=np.float64)
    if handle is None or isinstance(annotation, PointMarker | TextLabel):
        return annotation.translated(offset)
    if isinstance(annotation, EllipseRoi):
        if handle == 0:
            return annotation.translated(offset)
        return _edit_ellipse(annotation, handle, offset)
    if isinstance(annotation, Bidirectional):
        return _edit_bidirectional(annotation, handle, offset)
    points = annotation.points_lps
    points[handle] += offset
    return annotation.with_points(points)


def select_and_edit(
    annotations: AnnotationSet,
    plane: SlicePlane,
    lesion_id: str | None,
    event: PointerEvent,
    *,
    tolerance_mm: float = 3.0,
    slab_mm: float | None = None,
    frame_of_reference_uid: str | None = None,
    sop_instance_uid: str | None = None,
) -> ToolGenerator:
    """Select the annotation under the press; dragging moves it, or the handle.

    A press on nothing clears the selection. A drag commits one undoable
    ``move <kind>`` (the whole annotation) or ``edit <kind>`` (a handle) on
    the release; the pointer's motion counts in the plane of the view.

    Parameters
    ----------
    annotations : AnnotationSet
        The annotations; the selection is :attr:`AnnotationSet.selected_id`.
    plane : SlicePlane
        The plane of the view.
    lesion_id : str or None
        The active lesion, preferred when two annotations are as near.
    event : PointerEvent
        The press.
    tolerance_mm, slab_mm, frame_of_reference_uid, sop_instance_uid
        As for :func:`find_annotation`.

    Yields
    ------
    Annotation or None
        The annotation as dragged so far (also :attr:`AnnotationSet.preview`).
    """
    hit = find_annotation(
        annotations,
        plane,
        event.position_lps,
        tolerance_mm=tolerance_mm,
        slab_mm=slab_mm,
        frame_of_reference_uid=frame_of_reference_uid,
        sop_instance_uid=sop_instance_uid,
        prefer_lesion_id=lesion_id,
    )
    if hit is None:
        annotations.select(None)
        return
    original = hit.annotation
    annotations.select(original.id)
    start = on_plane(plane, event.position_lps)
    current = original
    try:
        while event.kind != "release":
            event = yield current if current is not original else None
            offset = on_plane(plane, event.position_lps) - start
            # A degenerate shape (e.g. a semi-axis dragged to 0): keep the last one.
            with contextlib.suppress(ValueError):
                current = edited(original, hit.handle, offset)
            annotations.set_preview(current if current != original else None)
        annotations.set_preview(None)
        if current != original:
            verb = "move" if hit.handle is None else "edit"
            annotations.update_annotation(
                current, f"{verb} {original.kind.replace('_', ' ')}"
            )
    finally:
        annotations.set_preview(None)
