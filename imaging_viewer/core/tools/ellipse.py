"""The ellipse tool: an elliptical ROI dragged out across its bounding box."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from imaging_viewer.core.annotations.model import EllipseRoi, as_point
from imaging_viewer.core.tools.placement import Draft, place_points

if TYPE_CHECKING:
    from imaging_viewer.core.annotations.model import AnnotationSet, Point3
    from imaging_viewer.core.mpr import SlicePlane
    from imaging_viewer.core.tools.pointer import ImageRef, PointerEvent, ToolGenerator


def ellipse_from_drag(
    draft: Draft, start: Point3, end: Point3, modifiers: frozenset[str]
) -> EllipseRoi:
    """The ellipse a drag from ``start`` to ``end`` draws on the draft's plane.

    The drag spans the bounding box, whose sides run along the screen axes;
    with ``control`` it goes from the centre out, with ``shift`` it draws a
    circle.
    """
    right, down = draft.plane.right_lps, draft.plane.down_lps
    offset = np.subtract(end, start)
    half_u, half_v = float(offset @ right), float(offset @ down)
    from_centre = "control" in modifiers
    if not from_centre:
        half_u, half_v = half_u / 2.0, half_v / 2.0
    if "shift" in modifiers:
        radius = max(abs(half_u), abs(half_v))
        half_u, half_v = math.copysign(radius, half_u), math.copysign(radius, half_v)
    centre = np.asarray(start)
    if not from_centre:
        centre = centre + half_u * right + half_v * down
    return EllipseRoi(
        **draft.common(),
        centre_lps=as_point(centre),
        axis1_end_lps=as_point(centre + half_u * right),
        axis2_end_lps=as_point(centre + half_v * down),
    )


def draw_ellipse(
    annotations: AnnotationSet,
    plane: SlicePlane,
    lesion_id: str | None,
    event: PointerEvent,
    *,
    image: ImageRef | None = None,
) -> ToolGenerator:
    """Draw an :class:`EllipseRoi` from corner to corner of its bounding box.

    Hold ``shift`` for a circle and ``control`` to drag from the centre. A drag
    too thin to enclose anything (one of its sides under half a pixel) adds
    nothing.

    Parameters and yields are those of
    :func:`~imaging_viewer.core.tools.ruler.draw_ruler`.
    """
    draft = Draft(annotations, plane, lesion_id, image)

    def build(points: list[Point3], modifiers: frozenset[str]) -> EllipseRoi | None:
        try:
            return ellipse_from_drag(draft, points[0], points[1], modifiers)
        except ValueError:
            return None

    try:
        points, modifiers = yield from place_points(draft, event, 2, build)
        ellipse = build(points, modifiers)
        if ellipse is not None and min(ellipse.semi_axes_mm) * 2 > draft.min_step_mm:
            draft.commit(ellipse)
    finally:
        draft.show(None)
