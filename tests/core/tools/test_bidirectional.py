"""The bidirectional tool: a long axis, then a perpendicular short axis."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest

from imaging_viewer.core.annotations.measure import measure
from imaging_viewer.core.annotations.model import Bidirectional
from imaging_viewer.core.tools.bidirectional import draw_bidirectional
from imaging_viewer.core.tools.pointer import DragSession
from tests.core.tools.fake_pointer import click, drag, hover, press, px, release

if TYPE_CHECKING:
    from imaging_viewer.core.annotations.model import AnnotationSet
    from imaging_viewer.core.mpr import SlicePlane


def test_long_axis_then_width(annotations: AnnotationSet, plane: SlicePlane) -> None:
    # Long axis: 24 columns (12 mm) by 20 rows (16 mm) = 20 mm, a 3-4-5 triangle.
    start, end = px(plane, 40, 20), px(plane, 64, 40)
    session = DragSession(
        draw_bidirectional(annotations, plane, "lesion-1", press(start))
    )
    session.send(drag(end))
    session.send(release(end))
    assert session.active
    middle = (start + end) / 2
    across = np.array([-0.8, 0.6, 0.0])  # perpendicular to (0.6, 0.8) in the plane
    width_point = middle + 3.0 * across + 5.0 * np.array([0.6, 0.8, 0.0])
    session.send(hover(width_point))
    preview = annotations.preview
    assert isinstance(preview, Bidirectional)
    for event in click(width_point):
        session.send(event)
    assert not session.active
    (measurement,) = list(annotations.annotations())
    assert isinstance(measurement, Bidirectional)
    long_axis, short_axis = measure(measurement)
    assert long_axis.value == pytest.approx(20.0)
    assert short_axis.value == pytest.approx(6.0)
    np.testing.assert_allclose(measurement.short_axis_lps.mean(axis=0), middle)
    direction = measurement.long_axis_lps[1] - measurement.long_axis_lps[0]
    assert float(
        direction @ (measurement.short_axis_lps[1] - measurement.short_axis_lps[0])
    ) == pytest.approx(0.0, abs=1e-9)
    annotations.undo()
    assert not list(annotations.annotations())
    assert not annotations.can_undo
