"""The bidirectional tool: the long axis by a drag, then the short axis across it."""

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


def draw_bidirectional(
    annotations: AnnotationSet,
    plane: SlicePlane,
    lesion_id: str | None,
    event: PointerEvent,
    *,
    image: ImageRef | None = None,
) -> ToolGenerator:
    """Draw a :class:`Bidirectional` (RECIST) measurement.

    A drag (or two clicks) places the long axis; the pointer then sets the
    half-length of the short axis, perpendicular to the long axis through its
    middle, and a click places it. Its ends can be moved afterwards with the
    select tool (each along the perpendicular).

    Parameters and yields are those of
    :func:`~imaging_viewer.core.tools.ruler.draw_ruler`.

    References
    ----------
    Eisenhauer et al. 2009, revised RECIST guideline 1.1.
    """
    draft = Draft(annotations, plane, lesion_id, image)

    def build(points: list[Point3], _modifiers: frozenset[str]) -> Annotation | None:
        return build_or_none(
            lambda: bidirectional_from_points(draft, points[0], points[1], points[2])
        )

    try:
        points, modifiers = yield from place_points(draft, event, 3, build)
        measurement = build(points, modifiers)
        if measurement is not None:
            draft.commit(measurement)
    finally:
        draft.show(None)
