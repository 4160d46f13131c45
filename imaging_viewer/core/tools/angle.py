"""Angle tools: an angle at a vertex (three points) and a Cobb angle (two lines)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from imaging_viewer.core.annotations.model import Angle, CobbAngle
from imaging_viewer.core.tools.placement import Draft, build_or_none, place_points

if TYPE_CHECKING:
    from imaging_viewer.core.annotations.model import (
        Annotation,
        AnnotationSet,
        Point3,
    )
    from imaging_viewer.core.mpr import SlicePlane
    from imaging_viewer.core.tools.pointer import ImageRef, PointerEvent, ToolGenerator


def draw_angle(
    annotations: AnnotationSet,
    plane: SlicePlane,
    lesion_id: str | None,
    event: PointerEvent,
    *,
    image: ImageRef | None = None,
) -> ToolGenerator:
    """Draw an :class:`Angle`: first arm end, then the vertex, then the second arm.

    The press places the first point; a drag places the vertex at its release,
    and a click places the second arm's end. Three clicks work as well. The
    tool receives events until the third point is placed.

    Parameters and yields are those of
    :func:`~imaging_viewer.core.tools.ruler.draw_ruler`.
    """
    draft = Draft(annotations, plane, lesion_id, image)

    def build(points: list[Point3], _modifiers: frozenset[str]) -> Annotation | None:
        return build_or_none(
            lambda: Angle(
                **draft.common(),
                first_lps=points[0],
                vertex_lps=points[1],
                second_lps=points[2],
            )
        )

    try:
        points, modifiers = yield from place_points(draft, event, 3, build)
        angle = build(points, modifiers)
        if angle is not None:
            draft.commit(angle)
    finally:
        draft.show(None)


def draw_cobb_angle(
    annotations: AnnotationSet,
    plane: SlicePlane,
    lesion_id: str | None,
    event: PointerEvent,
    *,
    image: ImageRef | None = None,
) -> ToolGenerator:
    """Draw a :class:`CobbAngle`: two lines, each one drag (or two clicks).

    Parameters and yields are those of
    :func:`~imaging_viewer.core.tools.ruler.draw_ruler`.
    """
    draft = Draft(annotations, plane, lesion_id, image)

    def build(points: list[Point3], _modifiers: frozenset[str]) -> Annotation | None:
        return build_or_none(
            lambda: CobbAngle(
                **draft.common(),
                line1_start_lps=points[0],
                line1_end_lps=points[1],
                line2_start_lps=points[2],
                line2_end_lps=points[3],
            )
        )

    try:
        points, modifiers = yield from place_points(draft, event, 4, build)
        cobb = build(points, modifiers)
        if cobb is not None:
            draft.commit(cobb)
    finally:
        draft.show(None)
