"""Marker tools: a point marker and a text label, placed where the pointer is let go."""

from __future__ import annotations

from typing import TYPE_CHECKING

from imaging_viewer.core.annotations.model import PointMarker, TextLabel, as_point
from imaging_viewer.core.tools.placement import Draft

if TYPE_CHECKING:
    from collections.abc import Callable

    from imaging_viewer.core.annotations.model import Annotation, AnnotationSet, Point3
    from imaging_viewer.core.mpr import SlicePlane
    from imaging_viewer.core.tools.pointer import ImageRef, PointerEvent, ToolGenerator


def _place(
    draft: Draft, event: PointerEvent, build: Callable[[Point3], Annotation]
) -> ToolGenerator:
    """Show the annotation under the pointer until the release, then add it there."""
    try:
        annotation = build(as_point(draft.on_plane(event.position_lps)))
        while event.kind != "release":
            event = yield draft.show(annotation)
            annotation = build(as_point(draft.on_plane(event.position_lps)))
        draft.commit(annotation)
    finally:
        draft.show(None)


def place_marker(
    annotations: AnnotationSet,
    plane: SlicePlane,
    lesion_id: str | None,
    event: PointerEvent,
    *,
    image: ImageRef | None = None,
) -> ToolGenerator:
    """Place a :class:`PointMarker` where the pointer is released.

    It shows in every view of the frame of reference whose slab holds it
    (:func:`~imaging_viewer.core.annotations.measure.is_within_slab`).

    Parameters and yields are those of
    :func:`~imaging_viewer.core.tools.ruler.draw_ruler`.
    """
    draft = Draft(annotations, plane, lesion_id, image)
    return _place(draft, event, lambda p: PointMarker(**draft.common(), position_lps=p))


def place_text_label(
    annotations: AnnotationSet,
    plane: SlicePlane,
    lesion_id: str | None,
    event: PointerEvent,
    *,
    text: str,
    image: ImageRef | None = None,
) -> ToolGenerator:
    """Place a :class:`TextLabel` reading ``text`` where the pointer is released.

    Parameters and yields are those of
    :func:`~imaging_viewer.core.tools.ruler.draw_ruler`.
    """
    draft = Draft(annotations, plane, lesion_id, image)
    return _place(
        draft,
        event,
        lambda p: TextLabel(**draft.common(), anchor_lps=p, text=text),
    )
