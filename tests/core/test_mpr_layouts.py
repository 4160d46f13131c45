"""MPR layouts (2×2 with the acquired slices, one large and two small), a
maximized viewport, and the oblique angle in the corner (core, no Qt)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pytest

from imaging_viewer.core.dicom.load import load_volume
from imaging_viewer.core.dicom.scan import scan_folder
from imaging_viewer.core.geometry import rotation_about
from imaging_viewer.core.overlay_text import corner_text
from imaging_viewer.core.viewer_state import ViewerState
from imaging_viewer.core.volume import Window

if TYPE_CHECKING:
    from tests.conftest import MakeSeries


def _state(make_series: MakeSeries, mpr_layout: str = "1x3") -> ViewerState:
    made = make_series(shape=(8, 10, 12), modality="CT")
    series = scan_folder(made.folder).series[0]
    state = ViewerState(mpr_layout=mpr_layout)
    state.viewports[0].show(series, load_volume(series))
    state.viewports[0].set_window(Window(center=40.0, width=400.0))
    assert state.enter_mpr(0)
    return state


def test_the_layouts_place_their_views(make_series: MakeSeries) -> None:
    state = _state(make_series)
    assert (state.grid, state.visible_count) == ((1, 3), 3)
    state.set_mpr_layout("2x2")
    assert (state.grid, state.visible_count) == ((2, 2), 4)
    state.set_mpr_layout("1+2")
    assert (state.grid, state.visible_count) == ((2, 3), 3)
    # The large view spans two rows and two of three columns.
    assert state.cells[0] == (0, 0, 2, 2)
    with pytest.raises(ValueError, match="unknown MPR layout"):
        state.set_mpr_layout("3x3")
    state.exit_mpr()
    assert (state.grid, state.visible_count) == ((1, 1), 1)
    state.layout = "2x2"
    assert state.cells == ((0, 0, 1, 1), (0, 1, 1, 1), (1, 0, 1, 1), (1, 1, 1, 1))


def test_2x2_shows_the_acquired_slices_fourth_and_follows_the_cursor(
    make_series: MakeSeries,
) -> None:
    state = _state(make_series, mpr_layout="2x2")
    axial, coronal, _sagittal, acquired = state.viewports
    assert [v.orientation for v in state.viewports] == [
        "axial",
        "coronal",
        "sagittal",
        "acquired",
    ]
    assert acquired.volume is axial.volume
    assert acquired.window == axial.window
    assert axial.volume is not None
    # Moving the cursor brings the acquired view to the slice nearest it.
    point = axial.volume.ijk_to_lps @ np.array([5.0, 4.0, 2.0, 1.0])
    coronal.place_cursor(point[:3])
    assert acquired.slice_index == 2
    # Scrolling the acquired view moves the cursor onto its slice.
    acquired.set_slice(6)
    slice_origin = axial.volume.ijk_to_lps @ np.array([0.0, 0.0, 6.0, 1.0])
    assert axial.cursor_lps is not None
    assert axial.cursor_lps[2] == pytest.approx(slice_origin[2])
    assert coronal.cursor_lps == axial.cursor_lps


def test_a_viewport_is_maximized_and_given_back(make_series: MakeSeries) -> None:
    state = _state(make_series, mpr_layout="2x2")
    state.toggle_maximized(2)
    assert state.maximized_index == 2
    state.toggle_maximized(2)
    assert state.maximized_index is None
    state.toggle_maximized(1)
    state.set_mpr_layout("1x3")  # a new arrangement shows every view again
    assert state.maximized_index is None
    state.toggle_maximized(0)
    state.exit_mpr()
    assert state.maximized_index is None


def test_the_oblique_angle_is_shown_in_the_corner(make_series: MakeSeries) -> None:
    state = _state(make_series)
    axial, coronal, _ = state.viewports[:3]
    assert axial.oblique_angle_deg() is None
    assert not any("Oblique" in line for line in corner_text(axial)["bottom_left"])
    # Turn the axial plane 12.5° about the coronal normal (P).
    turned = rotation_about(np.array([0.0, 1.0, 0.0]), math.radians(12.5))
    axial.plane_rotation = tuple(float(v) for v in turned.ravel())
    assert axial.oblique_angle_deg() == pytest.approx(12.5)
    assert "Oblique 12.5°" in corner_text(axial)["bottom_left"]
    # A turn within the plane itself does not tilt it.
    spin = rotation_about(np.array([0.0, 0.0, 1.0]), math.radians(30.0))
    axial.plane_rotation = tuple(float(v) for v in spin.ravel())
    assert axial.oblique_angle_deg() is None
    assert coronal.oblique_angle_deg() is None


def test_reference_lines_are_on_by_default_and_toggle() -> None:
    state = ViewerState()
    assert state.show_reference_lines
    state.toggle_reference_lines()
    assert not state.show_reference_lines
