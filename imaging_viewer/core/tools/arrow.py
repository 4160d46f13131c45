"""The arrow tool: press at what to point at, release where the tail goes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from imaging_viewer.core.annotations.model import Arrow
from imaging_viewer.core.tools.placement import Draft, build_or_none, place_points

if TYPE_CHECKING:
    from imaging_viewer.core.annotations.model import (
        Annotation,
        AnnotationSet,
        Point3,
    )
    from imaging_viewer.core.mpr import SlicePlane
    from imaging_viewer.core.tools.pointer import ImageRef, PointerEvent, ToolGenerator


def draw_arrow(
    annotations: AnnotationSet,
    plane: SlicePlane,
    lesion_id: str | None,
    event: PointerEvent,
    *,
    image: ImageRef | None = None,
) -> ToolGenerator:
    """Draw an :class:`Arrow` whose tip is at the press and tail at the release.

    Parameters and yields are those of
    :func:`~imaging_viewer.core.tools.ruler.draw_ruler`.
    """
    draft = Draft(annotations, plane, lesion_id, image)

    def build(points: list[Point3], _modifiers: frozenset[str]) -> Annotation | None:
        return build_or_none(
            lambda: Arrow(**draft.common(), tip_lps=points[0], tail_lps=points[1])
        )

    try:
        points, modifiers = yield from place_points(draft, event, 2, build)
        arrow = build(points, modifiers)
        if arrow is not None:
            draft.commit(arrow)
    finally:
        draft.show(None)
