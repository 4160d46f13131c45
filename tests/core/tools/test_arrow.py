"""The arrow tool: tip at the press, tail at the release."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from imaging_viewer.core.annotations.model import Arrow
from imaging_viewer.core.tools.arrow import draw_arrow
from imaging_viewer.core.tools.pointer import drive
from tests.core.tools.fake_pointer import drag, press, px, release

if TYPE_CHECKING:
    from imaging_viewer.core.annotations.model import AnnotationSet
    from imaging_viewer.core.mpr import SlicePlane


def test_arrow_points_at_the_press(
    annotations: AnnotationSet, plane: SlicePlane
) -> None:
    tip, tail = px(plane, 50, 50), px(plane, 80, 20)
    drive(
        draw_arrow(annotations, plane, "lesion-1", press(tip)),
        [drag(px(plane, 60, 40)), drag(tail), release(tail)],
    )
    (arrow,) = list(annotations.annotations())
    assert isinstance(arrow, Arrow)
    np.testing.assert_allclose(arrow.tip_lps, tip)
    np.testing.assert_allclose(arrow.tail_lps, tail)
    annotations.undo()
    assert not list(annotations.annotations())
