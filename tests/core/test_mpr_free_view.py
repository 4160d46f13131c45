"""The free view of MPR 2×2: acquired slices by default, then an oblique or a
straight plane through the 3D cursor, its angle in the corner (core, no Qt)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pytest

from imaging_viewer.core.dicom.load import load_volume
from imaging_viewer.core.dicom.scan import scan_folder
from imaging_viewer.core.mpr_free_view import free_view_kind, show_in_free_view
from imaging_viewer.core.overlay_text import corner_text
from imaging_viewer.core.viewer_state import ViewerState
from imaging_viewer.core.volume import Window

if TYPE_CHECKING:
    from tests.conftest import MakeSeries


def _state(make_series: MakeSeries, mpr_layout: str = "2x2") -> ViewerState:
    made = make_series(shape=(8, 10, 12), modality="CT")
    series = scan_folder(made.folder).series[0]
    state = ViewerState(mpr_layout=mpr_layout)
    state.viewports[0].show(series, load_volume(series))
    state.viewports[0].set_window(Window(center=40.0, width=400.0))
    assert state.enter_mpr(0)
    return state


def _normal(state: ViewerState, index: int) -> np.ndarray:
    affine = state.viewports[index].pixel_to_lps()
    assert affine is not None
    normal = np.cross(affine[:3, 0], affine[:3, 1])
    return normal / np.linalg.norm(normal)


def test_the_free_view_starts_acquired_and_turns_oblique(
    make_series: MakeSeries,
) -> None:
    state = _state(make_series)
    assert free_view_kind(state) == "acquired"
    free = state.viewports[3]
    assert show_in_free_view(state, "oblique")
    assert free_view_kind(state) == "oblique"
    assert free.is_mpr
    assert free.volume is state.viewports[0].volume
    assert free.cursor_lps == state.viewports[0].cursor_lps
    assert free.window == state.viewports[0].window
    # Its plane: 30° from axial (normal +z), turned about left–right (x).
    normal = _normal(state, 3)
    assert math.degrees(math.acos(abs(normal[2]))) == pytest.approx(30.0, abs=0.01)
    assert normal[0] == pytest.approx(0.0, abs=1e-9)
    assert "Oblique 30.0°" in corner_text(free)["bottom_left"]
    # It follows the cursor with the other planes.
    axial = state.viewports[0]
    assert axial.volume is not None
    point = axial.volume.ijk_to_lps @ np.array([5.0, 4.0, 2.0, 1.0])
    state.viewports[1].place_cursor(point[:3])
    assert free.cursor_lps == state.viewports[1].cursor_lps


@pytest.mark.parametrize(
    ("kind", "axis"), [("axial", 2), ("coronal", 1), ("sagittal", 0)]
)
def test_the_free_view_shows_a_straight_plane(
    make_series: MakeSeries, kind: str, axis: int
) -> None:
    state = _state(make_series)
    assert show_in_free_view(state, kind)
    assert free_view_kind(state) == kind
    assert abs(_normal(state, 3)[axis]) == pytest.approx(1.0)
    assert state.viewports[3].oblique_angle_deg() is None
    # And back to the acquired slices.
    assert show_in_free_view(state, "acquired")
    assert free_view_kind(state) == "acquired"
    assert not state.viewports[3].is_mpr


def test_no_free_view_outside_2x2(make_series: MakeSeries) -> None:
    state = _state(make_series, mpr_layout="1x3")
    assert free_view_kind(state) is None
    assert not show_in_free_view(state, "oblique")
    assert not state.viewports[3].is_mpr
    with pytest.raises(ValueError, match="unknown free view"):
        show_in_free_view(state, "curved")
