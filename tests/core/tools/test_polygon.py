"""The polygon tool: freehand strokes and click-by-click outlines."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pytest

from imaging_viewer.core.annotations.measure import roi_area_mm2
from imaging_viewer.core.annotations.model import PolygonRoi
from imaging_viewer.core.tools.pointer import DragSession, drive
from imaging_viewer.core.tools.polygon import draw_polygon
from tests.core.tools.fake_pointer import click, hover, press, px, stroke

if TYPE_CHECKING:
    from imaging_viewer.core.annotations.model import AnnotationSet
    from imaging_viewer.core.mpr import SlicePlane


def only_polygon(annotations: AnnotationSet) -> PolygonRoi:
    (polygon,) = list(annotations.annotations())
    assert isinstance(polygon, PolygonRoi)
    return polygon


def test_freehand_stroke(annotations: AnnotationSet, plane: SlicePlane) -> None:
    centre = px(plane, 100, 50)
    theta = np.linspace(0.0, 2 * np.pi, 721)[:-1]
    radius = 15.0
    trace = [centre + radius * np.array([math.cos(t), math.sin(t), 0.0]) for t in theta]
    first, *rest = stroke(trace)
    session = DragSession(draw_polygon(annotations, plane, "lesion-1", first))
    for event in rest[:-1]:
        session.send(event)
    assert isinstance(annotations.preview, PolygonRoi)
    session.send(rest[-1])
    assert not session.active
    polygon = only_polygon(annotations)
    # One vertex per pixel (0.5 mm) of motion: ~94 mm of outline.
    assert 150 <= len(polygon.vertices_lps) <= 200
    assert roi_area_mm2(polygon) == pytest.approx(math.pi * radius**2, rel=5e-3)
    annotations.undo()
    assert not list(annotations.annotations())
    assert not annotations.can_undo


def test_clicked_vertices_close_on_the_first(
    annotations: AnnotationSet, plane: SlicePlane
) -> None:
    corners = [
        px(plane, 10, 10),
        px(plane, 50, 10),
        px(plane, 50, 30),
        px(plane, 10, 30),
    ]
    start, *rest = click(corners[0])
    events = [*rest]
    for corner in corners[1:]:
        events += [hover(corner), *click(corner)]
    near_first = corners[0] + np.array([0.4, 0.3, 0.0])
    events += [hover(near_first), *click(near_first)]
    session = drive(draw_polygon(annotations, plane, "lesion-1", start), events)
    assert not session.active
    polygon = only_polygon(annotations)
    np.testing.assert_allclose(polygon.points_lps, corners)
    assert roi_area_mm2(polygon) == pytest.approx(20.0 * 16.0)


def test_clicking_the_last_vertex_twice_closes(
    annotations: AnnotationSet, plane: SlicePlane
) -> None:
    corners = [px(plane, 10, 10), px(plane, 50, 10), px(plane, 30, 40)]
    start, *rest = click(corners[0])
    events = [*rest, *click(corners[1]), *click(corners[2]), *click(corners[2])]
    drive(draw_polygon(annotations, plane, "lesion-1", start), events)
    np.testing.assert_allclose(only_polygon(annotations).points_lps, corners)


def test_a_line_adds_nothing(annotations: AnnotationSet, plane: SlicePlane) -> None:
    line = [px(plane, 10 + n, 10) for n in range(20)]
    first, *rest = stroke(line)
    session = drive(draw_polygon(annotations, plane, "lesion-1", first), rest)
    assert not session.active
    assert not list(annotations.annotations())
    assert annotations.preview is None


def test_press_alone_keeps_waiting(
    annotations: AnnotationSet, plane: SlicePlane
) -> None:
    session = DragSession(
        draw_polygon(annotations, plane, "lesion-1", press(px(plane, 1, 1)))
    )
    assert session.active
    session.cancel()
    assert not list(annotations.annotations())
