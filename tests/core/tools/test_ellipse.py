"""The ellipse tool: corner to corner, a circle with shift, from the centre (ctrl)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest

from imaging_viewer.core.annotations.measure import roi_area_mm2
from imaging_viewer.core.annotations.model import EllipseRoi
from imaging_viewer.core.tools.ellipse import draw_ellipse
from imaging_viewer.core.tools.pointer import drive
from tests.core.tools.fake_pointer import drag, press, px, release

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from imaging_viewer.core.annotations.model import AnnotationSet
    from imaging_viewer.core.mpr import SlicePlane


def drawn(
    annotations: AnnotationSet,
    plane: SlicePlane,
    start: NDArray[np.float64],
    end: NDArray[np.float64],
    *modifiers: str,
) -> EllipseRoi:
    drive(
        draw_ellipse(annotations, plane, "lesion-1", press(start, *modifiers)),
        [drag(end, *modifiers), release(end, *modifiers)],
    )
    ellipse = list(annotations.annotations())[-1]
    assert isinstance(ellipse, EllipseRoi)
    return ellipse


def test_corner_to_corner(annotations: AnnotationSet, plane: SlicePlane) -> None:
    # 40 columns × 0.5 mm = 20 mm wide, 10 rows × 0.8 mm = 8 mm high.
    ellipse = drawn(annotations, plane, px(plane, 10, 10), px(plane, 50, 20))
    np.testing.assert_allclose(ellipse.centre_lps, px(plane, 30, 15))
    assert ellipse.semi_axes_mm == pytest.approx((10.0, 4.0))
    np.testing.assert_allclose(ellipse.axis1_end_lps, px(plane, 50, 15))
    assert roi_area_mm2(ellipse) == pytest.approx(np.pi * 40.0)
    annotations.undo()
    assert not list(annotations.annotations())


def test_dragged_up_and_left(annotations: AnnotationSet, plane: SlicePlane) -> None:
    ellipse = drawn(annotations, plane, px(plane, 50, 20), px(plane, 10, 10))
    np.testing.assert_allclose(ellipse.centre_lps, px(plane, 30, 15))
    assert ellipse.semi_axes_mm == pytest.approx((10.0, 4.0))


def test_shift_draws_a_circle(annotations: AnnotationSet, plane: SlicePlane) -> None:
    ellipse = drawn(annotations, plane, px(plane, 10, 10), px(plane, 50, 20), "shift")
    assert ellipse.semi_axes_mm == pytest.approx((10.0, 10.0))
    # The corner stays where the drag began.
    np.testing.assert_allclose(
        ellipse.centre_lps, px(plane, 10, 10) + np.array([10.0, 10.0, 0.0])
    )


def test_control_drags_from_the_centre(
    annotations: AnnotationSet, plane: SlicePlane
) -> None:
    ellipse = drawn(annotations, plane, px(plane, 30, 30), px(plane, 40, 35), "control")
    np.testing.assert_allclose(ellipse.centre_lps, px(plane, 30, 30))
    assert ellipse.semi_axes_mm == pytest.approx((5.0, 4.0))


def test_a_flat_drag_adds_nothing(
    annotations: AnnotationSet, plane: SlicePlane
) -> None:
    session = drive(
        draw_ellipse(annotations, plane, "lesion-1", press(px(plane, 10, 10))),
        [drag(px(plane, 60, 10)), release(px(plane, 60, 10))],
    )
    assert not session.active
    assert not list(annotations.annotations())
    assert annotations.preview is None
