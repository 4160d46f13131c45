"""ViewerState: the view flags and linked scrolling, driven by the model (no Qt)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest

from imaging_viewer.core.dicom.load import load_volume
from imaging_viewer.core.dicom.scan import scan_folder
from imaging_viewer.core.viewer_state import ViewerState

if TYPE_CHECKING:
    from imaging_viewer.core.viewer_state import ViewportState
    from tests.conftest import MakeSeries

ORIGIN_Z_MM = 20.0  # write_series' default origin (-40, -30, 20)


def _two_series(
    make_series: MakeSeries, *, same_frame: bool = True, layout: str = "1x2"
) -> ViewerState:
    """Viewport 0: 20 slices 2 mm apart; viewport 1: 10 slices 4 mm apart."""
    make_series(
        shape=(20, 8, 8),
        spacing_mm=(1.0, 1.0, 2.0),
        folder="study",
        series_number=1,
        frame_of_reference_uid="1.2.3.4.5",
    )
    thick = make_series(
        shape=(10, 8, 8),
        spacing_mm=(1.0, 1.0, 4.0),
        folder="study",
        series_number=2,
        frame_of_reference_uid="1.2.3.4.5" if same_frame else "1.2.3.4.6",
    )
    found = scan_folder(thick.folder).series
    series = sorted(found, key=lambda s: -s.shape_kji[0])
    state = ViewerState(layout=layout)
    for viewport, info in zip(state.viewports, series, strict=False):
        viewport.show(info, load_volume(info))
    return state


def _z_mm(viewport: ViewportState, spacing_mm: float) -> float:
    """Height of the shown slice, from the series as written (origin + k × step)."""
    return ORIGIN_Z_MM + spacing_mm * viewport.slice_index


def test_view_flags_live_in_the_state_and_announce_changes() -> None:
    state = ViewerState()
    assert (state.left_tool, state.show_overlays, state.show_crosshair) == (
        "window",
        True,
        True,
    )
    seen: list[str] = []
    state.events.show_overlays.connect(lambda value: seen.append(f"overlays {value}"))
    state.events.show_crosshair.connect(lambda value: seen.append(f"lines {value}"))
    state.events.left_tool.connect(lambda value: seen.append(f"tool {value}"))
    state.toggle_overlays()
    state.toggle_crosshair()
    state.left_tool = "ruler"
    state.toggle_overlays()
    assert seen == ["overlays False", "lines False", "tool ruler", "overlays True"]


def test_scrolling_one_viewport_brings_the_linked_one_along(
    make_series: MakeSeries,
) -> None:
    state = _two_series(make_series)
    thin, thick = state.viewports[:2]
    for index in (0, 5, 6, 13, 19):
        thin.set_slice(index)
        # The thin series stays where it was put (no echo from the thick one) ...
        assert thin.slice_index == index
        # ... and the thick one shows the slice nearest it, at most 2 mm away.
        assert abs(_z_mm(thin, 2.0) - _z_mm(thick, 4.0)) <= 2.0 + 1e-6
    thick.scroll(-3)
    assert abs(_z_mm(thin, 2.0) - _z_mm(thick, 4.0)) <= 1e-6


def test_unlinked_viewports_stay_until_linked_again(
    make_series: MakeSeries,
) -> None:
    state = _two_series(make_series)
    thin, thick = state.viewports[:2]
    state.toggle_link()
    assert not state.link_scrolling
    before = thick.slice_index
    thin.set_slice(0)
    assert thick.slice_index == before
    # Linking again brings the others to the active viewport.
    state.toggle_link()
    assert abs(_z_mm(thin, 2.0) - _z_mm(thick, 4.0)) <= 2.0 + 1e-6


def test_other_frames_of_reference_do_not_follow(make_series: MakeSeries) -> None:
    state = _two_series(make_series, same_frame=False)
    before = state.viewports[1].slice_index
    state.viewports[0].set_slice(0)
    assert state.viewports[1].slice_index == before


def test_showing_a_series_or_unlinked_changes_move_no_other_viewport(
    make_series: MakeSeries,
) -> None:
    state = _two_series(make_series)
    thin, thick = state.viewports[:2]
    thin.set_slice(0)
    thick_series, thick_volume = thick.series, thick.volume
    assert thick_volume is not None
    # A series opening on its middle slice is not a scroll.
    thick.show(None, None)
    thick.show(thick_series, thick_volume)
    assert thick.slice_index == thick_volume.shape_kji[0] // 2
    assert thin.slice_index == 0
    with state.unlinked():
        thick.set_slice(1)
    assert thin.slice_index == 0


def test_a_hidden_viewport_moves_no_shown_one(make_series: MakeSeries) -> None:
    state = _two_series(make_series, layout="1x1")
    thin, thick = state.viewports[:2]
    before = thin.slice_index
    thick.set_slice(0)
    assert thin.slice_index == before


def test_a_cursor_placed_in_one_mpr_view_moves_the_other_two(
    make_series: MakeSeries,
) -> None:
    made = make_series(shape=(8, 10, 12), modality="MR")
    series = scan_folder(made.folder).series[0]
    state = ViewerState()
    state.viewports[0].show(series, load_volume(series))
    assert state.enter_mpr(0)
    axial, coronal, sagittal = state.viewports[:3]
    target = np.array(axial.cursor_lps) + np.array([1.36, 1.32, 3.0])
    coronal.place_cursor(target)
    for view in (axial, coronal, sagittal):
        assert view.cursor_lps == pytest.approx(tuple(target))
    # Each view shows the voxel plane through the cursor: 0.8 × 0.6 × 2.5 mm
    # voxels as written, so at most half a voxel from it along its normal.
    for view, half_voxel_mm in ((axial, 1.25), (coronal, 0.3), (sagittal, 0.4)):
        shown = view.current_slice()
        assert shown is not None
        normal = np.cross(shown.pixel_to_lps[:3, 0], shown.pixel_to_lps[:3, 1])
        normal /= np.linalg.norm(normal)
        distance = abs(float((target - shown.pixel_to_lps[:3, 3]) @ normal))
        assert distance <= half_voxel_mm + 1e-6


def test_registered_frames_follow_through_the_transform(
    make_series: MakeSeries,
) -> None:
    """Frame .5 (2 mm slices) registered onto frame .6 (4 mm slices) by +8 mm in
    S: a slice at height z lands the other viewport at height z + 8 mm."""
    state = _two_series(make_series, same_frame=False)
    thin, thick = state.viewports[:2]
    shift = np.eye(4)
    shift[2, 3] = 8.0
    state.set_frame_transform("1.2.3.4.5", "1.2.3.4.6", shift)
    for index in (0, 5, 11):
        thin.set_slice(index)
        assert abs(_z_mm(thick, 4.0) - (_z_mm(thin, 2.0) + 8.0)) <= 2.0
    thick.set_slice(3)
    assert abs(_z_mm(thin, 2.0) - (_z_mm(thick, 4.0) - 8.0)) <= 1.0
    state.clear_frame_transforms()
    before = thick.slice_index
    thin.set_slice(0)
    assert thick.slice_index == before
