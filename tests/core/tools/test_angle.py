"""Angle and Cobb angle tools: several points, one undoable step."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pytest

from imaging_viewer.core.annotations.measure import measure
from imaging_viewer.core.annotations.model import Angle, CobbAngle
from imaging_viewer.core.tools.angle import draw_angle, draw_cobb_angle
from imaging_viewer.core.tools.pointer import DragSession, drive
from tests.core.tools.fake_pointer import click, drag, hover, press, px, release

if TYPE_CHECKING:
    from imaging_viewer.core.annotations.model import AnnotationSet
    from imaging_viewer.core.mpr import SlicePlane


def test_drag_then_click_draws_an_angle(
    annotations: AnnotationSet, plane: SlicePlane
) -> None:
    # Arms of 4 mm along x (8 columns) and 4 mm along y (5 rows): 45° between
    # (8, 0) and (8, 5) pixels would be 32° on the pixel grid.
    first, vertex, second = px(plane, 58, 20), px(plane, 50, 20), px(plane, 58, 25)
    session = DragSession(draw_angle(annotations, plane, "lesion-1", press(first)))
    session.send(drag(vertex))
    session.send(release(vertex))
    assert session.active, "waiting for the second arm"
    session.send(hover(px(plane, 55, 30)))
    preview = annotations.preview
    assert isinstance(preview, Angle)
    np.testing.assert_allclose(preview.vertex_lps, vertex)
    assert not list(annotations.annotations())
    for event in click(second):
        session.send(event)
    assert not session.active
    (angle,) = list(annotations.annotations())
    assert isinstance(angle, Angle)
    np.testing.assert_allclose(angle.points_lps, [first, vertex, second])
    assert measure(angle)[0].value == pytest.approx(45.0)
    annotations.undo()
    assert not list(annotations.annotations())
    assert not annotations.can_undo


def test_three_clicks_draw_an_angle(
    annotations: AnnotationSet, plane: SlicePlane
) -> None:
    first, vertex, second = px(plane, 10, 10), px(plane, 10, 30), px(plane, 42, 30)
    start, *rest = click(first)
    drive(
        draw_angle(annotations, plane, "lesion-1", start),
        [*rest, hover(vertex), *click(vertex), hover(second), *click(second)],
    )
    (angle,) = list(annotations.annotations())
    assert measure(angle)[0].value == pytest.approx(90.0)


def test_two_drags_draw_a_cobb_angle(
    annotations: AnnotationSet, plane: SlicePlane
) -> None:
    a, b = px(plane, 10, 10), px(plane, 50, 10)  # 20 mm along x
    c = px(plane, 10, 40)
    # Line 2 rises 20 mm · tan(20°) over 20 mm: rows are 0.8 mm.
    d = px(plane, 50, 40 - 20.0 * math.tan(math.radians(20.0)) / 0.8)
    session = drive(
        draw_cobb_angle(annotations, plane, "lesion-1", press(a)),
        [drag(b), release(b), hover(c), press(c), drag(d), release(d)],
    )
    assert not session.active
    (cobb,) = list(annotations.annotations())
    assert isinstance(cobb, CobbAngle)
    np.testing.assert_allclose(cobb.points_lps, [a, b, c, d])
    assert measure(cobb)[0].value == pytest.approx(20.0)
    annotations.undo()
    assert not list(annotations.annotations())
