"""MPR views of one volume share its time point and grey scale (core, no Qt)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from imaging_viewer.core.dicom.load import load_volume
from imaging_viewer.core.dicom.scan import scan_folder
from imaging_viewer.core.viewer_state import ViewerState
from imaging_viewer.core.volume import Window

if TYPE_CHECKING:
    from tests.conftest import MakeSeries


def _mpr_state(make_series: MakeSeries, time_points: int = 1) -> ViewerState:
    made = make_series(shape=(8, 10, 12), time_points=time_points, modality="MR")
    series = scan_folder(made.folder).series[0]
    state = ViewerState()
    state.viewports[0].show(series, load_volume(series))
    assert state.enter_mpr(0)
    return state


def test_a_time_point_chosen_in_one_view_shows_in_all_three(
    make_series: MakeSeries,
) -> None:
    state = _mpr_state(make_series, time_points=4)
    axial, coronal, sagittal = state.viewports[:3]
    coronal.set_time(2)
    assert [v.time_index for v in (axial, coronal, sagittal)] == [2, 2, 2]
    # What each view shows comes from that time point.
    assert axial.volume is not None
    voxels = axial.volume.time_point(2).voxels
    pixels = axial.pixels()
    assert pixels is not None
    assert (pixels == voxels[axial.slice_index]).all()
    sagittal.set_time(5)  # wraps to 1
    assert [v.time_index for v in (axial, coronal, sagittal)] == [1, 1, 1]


def test_window_and_inversion_are_shared_by_the_three_planes(
    make_series: MakeSeries,
) -> None:
    state = _mpr_state(make_series)
    axial, coronal, sagittal = state.viewports[:3]
    window = Window(center=100.0, width=50.0)
    sagittal.set_window(window)
    for view in (axial, coronal, sagittal):
        assert view.window == window
        assert view.window_label == "manual"
    axial.invert = True
    assert coronal.invert
    assert sagittal.invert


def test_viewports_outside_mpr_keep_their_own_settings(
    make_series: MakeSeries,
) -> None:
    state = _mpr_state(make_series, time_points=3)
    state.exit_mpr()
    first, second = state.viewports[:2]
    assert not first.is_mpr
    assert not second.is_mpr
    before = second.time_index
    first.set_time(2)
    assert second.time_index == before
    first.set_window(Window(center=5.0, width=10.0))
    assert second.window != first.window


def test_scrolling_one_plane_reslices_no_other(make_series: MakeSeries) -> None:
    """The coronal and sagittal planes stay where they are when the axial view
    scrolls (only the cursor moves within them): their slices are kept."""
    state = _mpr_state(make_series)
    axial, coronal, sagittal = state.viewports[:3]
    before = [view.current_slice() for view in (axial, coronal, sagittal)]
    axial.scroll(1)
    after = [view.current_slice() for view in (axial, coronal, sagittal)]
    assert after[0] is not before[0]
    assert after[1] is before[1]
    assert after[2] is before[2]
    # What a view that never cached anything shows at the same cursor.
    fresh = ViewerState()
    fresh.viewports[0].show(coronal.series, coronal.volume)
    assert fresh.enter_mpr(0)
    assert coronal.cursor_lps is not None
    fresh.set_cursor(np.asarray(coronal.cursor_lps), 1)
    for kept, view in zip(after, fresh.viewports[:3], strict=True):
        shown = view.current_slice()
        assert kept is not None
        assert shown is not None
        assert (kept.pixels == shown.pixels).all()
        assert (kept.pixel_to_lps == shown.pixel_to_lps).all()
    coronal.scroll(1)  # its plane moves: a new slice
    assert coronal.current_slice() is not after[1]
    assert sagittal.current_slice() is after[2]
