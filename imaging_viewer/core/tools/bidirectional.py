"""The bidirectional tool: one drag draws the long axis and a short axis across it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from imaging_viewer.core.annotations.model import Bidirectional, as_point
from imaging_viewer.core.tools.placement import Draft, build_or_none, place_points

if TYPE_CHECKING:
    from imaging_viewer.core.annotations.model import (
        Annotation,
        AnnotationSet,
        Point3,
    )
    from imaging_viewer.core.mpr import SlicePlane
    from imaging_viewer.core.tools.pointer import ImageRef, PointerEvent, ToolGenerator


def bidirectional_from_points(
    draft: Draft, long_start: Point3, long_end: Point3, width_point: Point3
) -> Bidirectional:
    """A long axis, and a short axis through its middle reaching ``width_point``.

    The short axis lies in the draft's plane, perpendicular to the long axis,
    symmetric about the long axis' midpoint; its half-length is the distance
    from ``width_point`` to the long axis.
    """
    start, end = np.asarray(long_start), np.asarray(long_end)
    direction = end - start
    length = float(np.linalg.norm(direction))
    if length == 0.0:
        raise ValueError("the long axis is 0 mm")
    perpendicular = np.cross(draft.plane.normal_lps, direction / length)
    middle = (start + end) / 2.0
    half = abs(float((np.asarray(width_point) - middle) @ perpendicular))
    return Bidirectional(
        **draft.common(),
        long_start_lps=long_start,
        long_end_lps=long_end,
        short_start_lps=as_point(middle - half * perpendicular),
        short_end_lps=as_point(middle + half * perpendicular),
    )


SHORT_AXIS_FRACTION = 0.5
"""A new short axis is this fraction of the long axis (as OHIF draws it), to be
adjusted by its handles."""


def bidirectional_from_long_axis(
    draft: Draft, long_start: Point3, long_end: Point3
) -> Bidirectional:
    """A long axis, and a short axis half its length across its middle."""
    start, end = np.asarray(long_start), np.asarray(long_end)
    direction = end - start
    length = float(np.linalg.norm(direction))
    if length == 0.0:
        raise ValueError("the long axis is 0 mm")
    perpendicular = np.cross(draft.plane.normal_lps, direction / length)
    middle = (start + end) / 2.0
    reach = middle + perpendicular * (SHORT_AXIS_FRACTION * length / 2.0)
    return bidirectional_from_points(draft, long_start, long_end, as_point(reach))


def draw_bidirectional(
    annotations: AnnotationSet,
    plane: SlicePlane,
    lesion_id: str | None,
    event: PointerEvent,
    *,
    image: ImageRef | None = None,
) -> ToolGenerator:
    """Draw a :class:`Bidirectional` (RECIST) measurement in one gesture.

    A drag (or two clicks) places the long axis; the short axis follows it,
    perpendicular through its middle and half its length (as OHIF draws it),
    so the measurement never has a 0 mm axis. Its ends are then adjusted with
    the handles of the selected measurement (each along the perpendicular).

    Parameters and yields are those of
    :func:`~imaging_viewer.core.tools.ruler.draw_ruler`.

    References
    ----------
    Eisenhauer et al. 2009, revised RECIST guideline 1.1.
    """
    draft = Draft(annotations, plane, lesion_id, image)

    def build(points: list[Point3], _modifiers: frozenset[str]) -> Annotation | None:
        return build_or_none(
            lambda: bidirectional_from_long_axis(draft, points[0], points[1])
        )

    try:
        points, modifiers = yield from place_points(draft, event, 2, build)
        measurement = build(points, modifiers)
        if measurement is not None:
            draft.commit(measurement)
    finally:
        draft.show(None)
