"""The ruler tool: a distance between two points, drawn as one drag or two clicks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from imaging_viewer.core.annotations.model import Ruler
from imaging_viewer.core.tools.placement import Draft, build_or_none, place_points

if TYPE_CHECKING:
    from imaging_viewer.core.annotations.model import (
        Annotation,
        AnnotationSet,
        Point3,
    )
    from imaging_viewer.core.mpr import SlicePlane
    from imaging_viewer.core.tools.pointer import ImageRef, PointerEvent, ToolGenerator


def draw_ruler(
    annotations: AnnotationSet,
    plane: SlicePlane,
    lesion_id: str | None,
    event: PointerEvent,
    *,
    image: ImageRef | None = None,
) -> ToolGenerator:
    """Draw a :class:`Ruler` from the press to the release (or the next click).

    Parameters
    ----------
    annotations : AnnotationSet
        Receives the ruler as one undoable step when it is complete.
    plane : SlicePlane
        The plane of the view; points are projected onto it.
    lesion_id : str or None
        The active lesion; None starts a new lesion.
    event : PointerEvent
        The press that started the tool.
    image : ImageRef, optional
        The image shown, recorded in the ruler.

    Yields
    ------
    Annotation or None
        The ruler as drawn so far (also :attr:`AnnotationSet.preview`).
    """
    draft = Draft(annotations, plane, lesion_id, image)

    def build(points: list[Point3], _modifiers: frozenset[str]) -> Annotation | None:
        return build_or_none(
            lambda: Ruler(**draft.common(), start_lps=points[0], end_lps=points[1])
        )

    try:
        points, modifiers = yield from place_points(draft, event, 2, build)
        ruler = build(points, modifiers)
        if ruler is not None:
            draft.commit(ruler)
    finally:
        draft.show(None)
