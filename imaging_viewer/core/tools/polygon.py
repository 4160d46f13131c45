"""The polygon tool: a closed outline, traced freehand or clicked vertex by vertex."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from imaging_viewer.core.annotations.measure import roi_area_mm2
from imaging_viewer.core.annotations.model import PolygonRoi, as_point
from imaging_viewer.core.tools.placement import Draft, build_or_none

if TYPE_CHECKING:
    from imaging_viewer.core.annotations.model import AnnotationSet
    from imaging_viewer.core.geometry import Vec3
    from imaging_viewer.core.mpr import SlicePlane
    from imaging_viewer.core.tools.pointer import ImageRef, PointerEvent, ToolGenerator


def _distance(a: Vec3, b: Vec3) -> float:
    return float(np.linalg.norm(a - b))


def draw_polygon(
    annotations: AnnotationSet,
    plane: SlicePlane,
    lesion_id: str | None,
    event: PointerEvent,
    *,
    image: ImageRef | None = None,
    freehand_step_mm: float | None = None,
    close_tolerance_mm: float | None = None,
) -> ToolGenerator:
    """Draw a :class:`PolygonRoi`, freehand or by clicking its vertices.

    Freehand: press, trace the outline and release; a vertex is added every
    ``freehand_step_mm`` of motion and the outline closes on the release.
    By clicks: each click adds a vertex; clicking the first vertex again (within
    ``close_tolerance_mm``), or the last one twice, closes the outline. An
    outline enclosing no area adds nothing.

    Parameters
    ----------
    annotations, plane, lesion_id, event, image
        As for :func:`~imaging_viewer.core.tools.ruler.draw_ruler`.
    freehand_step_mm : float, optional
        Spacing of freehand vertices; default one pixel of ``plane``.
    close_tolerance_mm : float, optional
        How near the first vertex a click closes the outline; default 4 pixels.

    Yields
    ------
    Annotation or None
        The outline so far, closed through the pointer.
    """
    draft = Draft(annotations, plane, lesion_id, image)
    pixel_mm = min(plane.spacing_mm)
    step_mm = pixel_mm if freehand_step_mm is None else freehand_step_mm
    close_mm = 4.0 * pixel_mm if close_tolerance_mm is None else close_tolerance_mm
    vertices = [draft.on_plane(event.position_lps)]
    floating = vertices[0]
    dragging, stroke_points = True, 0

    def build(points: list[Vec3]) -> PolygonRoi | None:
        padded = points + [points[-1]] * (3 - len(points))
        return build_or_none(
            lambda: PolygonRoi(
                **draft.common(), vertices_lps=tuple(as_point(p) for p in padded)
            )
        )

    try:
        while True:
            event = yield draft.show(build([*vertices, floating]))
            floating = draft.on_plane(event.position_lps)
            if event.kind == "press":
                dragging, stroke_points = True, 0
                continue
            if event.kind == "move":
                if dragging and _distance(floating, vertices[-1]) >= step_mm:
                    vertices.append(floating)
                    stroke_points += 1
                continue
            dragging = False
            if stroke_points >= 2:  # a freehand stroke: closes on release
                if _distance(floating, vertices[-1]) > draft.min_step_mm:
                    vertices.append(floating)
                break
            if len(vertices) >= 3 and (
                _distance(floating, vertices[0]) <= close_mm
                or _distance(floating, vertices[-1]) <= draft.min_step_mm
            ):
                break
            if _distance(floating, vertices[-1]) > draft.min_step_mm:
                vertices.append(floating)
        polygon = build(vertices)
        if (
            polygon is not None
            and len(vertices) >= 3
            and roi_area_mm2(polygon) > draft.min_step_mm**2
        ):
            draft.commit(polygon)
    finally:
        draft.show(None)
