"""The bidirectional tool: one drag, the long axis with a perpendicular short axis."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest

from imaging_viewer.core.annotations.measure import measure
from imaging_viewer.core.annotations.model import Bidirectional
from imaging_viewer.core.tools.bidirectional import draw_bidirectional
from imaging_viewer.core.tools.pointer import DragSession
from imaging_viewer.core.tools.select import edited
from tests.core.tools.fake_pointer import drag, press, px, release

if TYPE_CHECKING:
    from imaging_viewer.core.annotations.model import AnnotationSet
    from imaging_viewer.core.mpr import SlicePlane


def test_one_drag_draws_both_axes(
    annotations: AnnotationSet, plane: SlicePlane
) -> None:
    # Long axis: 24 columns (12 mm) by 20 rows (16 mm) = 20 mm, a 3-4-5 triangle.
    start, end = px(plane, 40, 20), px(plane, 64, 40)
    session = DragSession(
        draw_bidirectional(annotations, plane, "lesion-1", press(start))
    )
    session.send(drag(end))
    preview = annotations.preview
    assert isinstance(preview, Bidirectional)
    session.send(release(end))
    # One gesture (issue 15 item 3): committed on the release.
    assert not session.active
    (measurement,) = list(annotations.annotations())
    assert isinstance(measurement, Bidirectional)
    long_axis, short_axis = measure(measurement)
    assert long_axis.value == pytest.approx(20.0)
    # OHIF's default: the short axis half the long one, never 0 mm.
    assert short_axis.value == pytest.approx(10.0)
    middle = (start + end) / 2
    np.testing.assert_allclose(measurement.short_axis_lps.mean(axis=0), middle)
    direction = measurement.long_axis_lps[1] - measurement.long_axis_lps[0]
    assert float(
        direction @ (measurement.short_axis_lps[1] - measurement.short_axis_lps[0])
    ) == pytest.approx(0.0, abs=1e-9)
    annotations.undo()
    assert not list(annotations.annotations())
    assert not annotations.can_undo


def test_short_axis_handles_stay_perpendicular_and_never_reach_zero(
    annotations: AnnotationSet, plane: SlicePlane
) -> None:
    start, end = px(plane, 40, 20), px(plane, 64, 40)
    session = DragSession(
        draw_bidirectional(annotations, plane, "lesion-1", press(start))
    )
    session.send(drag(end))
    session.send(release(end))
    (measurement,) = list(annotations.annotations())
    assert isinstance(measurement, Bidirectional)
    across = np.array([-0.8, 0.6, 0.0])  # perpendicular to (0.6, 0.8) in the plane
    along = np.array([0.6, 0.8, 0.0])
    # Drag a short-axis end 2 mm inwards and 3 mm along the long axis: only the
    # perpendicular part counts.
    near, far = measurement.short_axis_lps
    inward = -np.sign(float((near - far) @ across)) * across
    moved = edited(measurement, 2, 2.0 * inward + 3.0 * along)
    assert isinstance(moved, Bidirectional)
    assert measure(moved)[1].value == pytest.approx(8.0)
    direction = moved.long_axis_lps[1] - moved.long_axis_lps[0]
    assert float(
        direction @ (moved.short_axis_lps[1] - moved.short_axis_lps[0])
    ) == pytest.approx(0.0, abs=1e-9)
    # Dragging that end onto the other one would leave a 0 mm axis: refused.
    collapsed = edited(measurement, 2, far - near)
    assert measure(collapsed)[1].value == pytest.approx(10.0)
