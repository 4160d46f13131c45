"""The 3D cursor and MPR planes mapped across two studies (issue 13 item 3).

Real data: the corpus head CT and a copy moved by a known rigid transform
(resampled by SimpleITK, another frame of reference, a later date). The two
frames are linked by the known transform, so every expectation comes from the
motion SimpleITK applied, not from our registration.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from imaging_viewer.core.dicom.load import load_volume
from imaging_viewer.core.dicom.scan import scan_folder
from imaging_viewer.core.linked_cursor import (
    cursor_on_slice,
    mapped_plane_rotation,
    rigid_rotation,
)
from imaging_viewer.core.viewer_state import ViewerState, ViewportState
from imaging_viewer.core.viewport_planes import plane_kind, show_plane_in
from tests.core.followup.test_registration import _fixed_series, write_moved_study

if TYPE_CHECKING:
    from pathlib import Path

    from numpy.typing import NDArray


@pytest.fixture(scope="module")
def studies(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """(prior series, prior volume, current series, current volume, truth):
    truth maps the current (moved, later) study's LPS to the prior's."""
    prior_series = _fixed_series(corpus)
    prior = load_volume(prior_series)
    folder = tmp_path_factory.mktemp("linked_cursor") / "later"
    truth = write_moved_study(prior_series, prior, folder)
    (current_series,) = scan_folder(folder).series
    return prior_series, prior, current_series, load_volume(current_series), truth


def _linked(studies: Any, layout: str = "1x2") -> ViewerState:
    prior_series, prior, current_series, current, truth = studies
    state = ViewerState()
    state.layout = layout
    with state.unlinked():
        state.viewports[0].show(current_series, current)
        state.viewports[1].show(prior_series, prior)
    state.set_frame_transform(
        prior.frame_of_reference_uid,
        current.frame_of_reference_uid,
        np.linalg.inv(truth),
    )
    return state


def _map(truth: NDArray[np.float64], point: NDArray[np.float64]) -> Any:
    return truth[:3, :3] @ point + truth[:3, 3]


def _slice_of(volume: Any, point: NDArray[np.float64]) -> int:
    ijk = np.linalg.solve(volume.ijk_to_lps[:3, :3], point - volume.ijk_to_lps[:3, 3])
    return round(float(ijk[2]))


def test_a_cursor_clicked_in_the_current_study_moves_the_prior(studies: Any) -> None:
    _, prior, _, current, truth = studies
    state = _linked(studies)
    view, other = state.viewports[0], state.viewports[1]
    view.set_slice(14)
    point = (current.ijk_to_lps @ np.array([300.0, 220.0, 14.0, 1.0]))[:3]
    view.place_cursor(point)  # the crosshair tool's click
    expected = _map(truth, point)
    assert other.cursor_lps is not None
    np.testing.assert_allclose(other.cursor_lps, expected, atol=1e-6)
    assert abs(other.slice_index - _slice_of(prior, expected)) <= 0
    assert cursor_on_slice(other) is not None, "the prior draws no cursor mark"
    assert view.slice_index == 14  # the clicked view stays


def test_the_cursor_never_crosses_patients(studies: Any) -> None:
    state = _linked(studies)
    view, other = state.viewports[0], state.viewports[1]
    assert other.series is not None
    other.series = replace(other.series, patient_id="SOMEONE-ELSE", patient_name="X")
    before = other.slice_index
    view.set_slice(14)
    view.place_cursor(np.asarray(view.slice_position_lps()))
    assert other.cursor_lps is None
    assert other.slice_index == before


def test_a_radiograph_sets_no_cursor(studies: Any) -> None:
    state = _linked(studies)
    view, other = state.viewports[0], state.viewports[1]
    assert view.volume is not None
    view.volume = replace(view.volume, is_projection=True)
    view.place_cursor(np.asarray(view.slice_position_lps()))
    assert other.cursor_lps is None


def test_mapped_rotation_is_the_transforms(studies: Any) -> None:
    truth = studies[4]
    rotation = rigid_rotation(truth)
    assert rotation is not None
    np.testing.assert_allclose(rotation, truth[:3, :3], atol=1e-9)
    assert mapped_plane_rotation(np.eye(4), None) is None
    assert rigid_rotation(np.diag([1.0, 1.0, -1.0, 1.0])) is None


def _sample(
    volume_plane: Any, points: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Nearest pixel of a shown plane (pixels, pixel_to_lps) at LPS points."""
    affine = volume_plane.pixel_to_lps
    right, down = affine[:3, 0], affine[:3, 1]
    offsets = points - affine[:3, 3]
    columns = np.rint(offsets @ right / (right @ right)).astype(int)
    rows = np.rint(offsets @ down / (down @ down)).astype(int)
    pixels = volume_plane.pixels
    inside = (
        (columns >= 0)
        & (columns < pixels.shape[1])
        & (rows >= 0)
        & (rows < pixels.shape[0])
    )
    values = np.zeros(len(points))
    values[inside] = pixels[rows[inside], columns[inside]]
    return values, inside


def _correlation(
    current: Any, other: Any, cursor: NDArray[np.float64], other_cursor: Any
) -> float:
    """Normalised correlation of two planes, pixel for pixel by in-plane offset
    from their cursors (within 60 mm, inside the head)."""
    affine = current.pixel_to_lps
    right = affine[:3, 0] / np.linalg.norm(affine[:3, 0])
    down = affine[:3, 1] / np.linalg.norm(affine[:3, 1])
    other_affine = other.pixel_to_lps
    other_right = other_affine[:3, 0] / np.linalg.norm(other_affine[:3, 0])
    other_down = other_affine[:3, 1] / np.linalg.norm(other_affine[:3, 1])
    u, v = np.meshgrid(np.arange(-60.0, 60.0, 1.0), np.arange(-60.0, 60.0, 1.0))
    u, v = u.ravel()[:, None], v.ravel()[:, None]
    here, inside = _sample(current, cursor + u * right + v * down)
    there, inside_there = _sample(
        other, np.asarray(other_cursor) + u * other_right + v * other_down
    )
    keep = inside & inside_there & (here > -500) & (there > -500)
    assert keep.sum() > 2000
    return float(np.corrcoef(here[keep], there[keep])[0, 1])


def _agrees_with_simpleitk(
    prior: Any,
    mapped: Any,
    shown: Any,
    cursor: NDArray[np.float64],
    truth: NDArray[np.float64],
) -> float:
    """Correlation of the mapped plane with SimpleITK's linear sampling of the
    prior volume at the current plane's points moved by the known motion."""
    import SimpleITK as sitk

    from imaging_viewer.core.volume_io import volume_to_sitk

    image = sitk.Cast(volume_to_sitk(prior), sitk.sitkFloat32)
    affine = shown.pixel_to_lps
    right = affine[:3, 0] / np.linalg.norm(affine[:3, 0])
    down = affine[:3, 1] / np.linalg.norm(affine[:3, 1])
    u, v = np.meshgrid(np.arange(-60.0, 60.0, 2.0), np.arange(-60.0, 60.0, 2.0))
    points = cursor + u.ravel()[:, None] * right + v.ravel()[:, None] * down
    moved = points @ truth[:3, :3].T + truth[:3, 3]

    def evaluate(point: NDArray[np.float64]) -> float:
        try:
            return float(
                image.EvaluateAtPhysicalPoint(
                    tuple(float(x) for x in point), sitk.sitkLinear
                )
            )
        except RuntimeError:  # outside the volume
            return -2000.0

    reference = np.array([evaluate(point) for point in moved])
    ours, inside = _sample(mapped, moved)
    keep = inside & (reference > -500) & (ours > -500)
    return float(np.corrcoef(ours[keep], reference[keep])[0, 1])


def test_the_priors_coronal_plane_is_the_current_one_mapped(studies: Any) -> None:
    _, prior, _, current, truth = studies
    state = _linked(studies)
    view, other = state.viewports[0], state.viewports[1]
    assert plane_kind(state, 0) == "acquired"
    view.set_slice(14)
    point = (current.ijk_to_lps @ np.array([256.0, 240.0, 14.0, 1.0]))[:3]
    view.place_cursor(point)
    assert show_plane_in(state, 0, "coronal")
    assert show_plane_in(state, 1, "coronal")
    assert plane_kind(state, 0) == "coronal"
    assert view.plane_rotation is None, "the later study's plane stays straight"
    assert plane_kind(state, 1) == "oblique", "the prior's plane is turned"
    assert view.cursor_lps is not None
    assert other.cursor_lps is not None
    cursor = np.asarray(view.cursor_lps)
    np.testing.assert_allclose(other.cursor_lps, _map(truth, cursor), atol=1e-6)
    mapped = other.current_slice()
    np.testing.assert_allclose(
        mapped.pixel_to_lps[:3, 0] / np.linalg.norm(mapped.pixel_to_lps[:3, 0]),
        truth[:3, :3] @ np.array([1.0, 0.0, 0.0]),
        atol=1e-9,
    )
    unmapped_view = ViewportState()
    unmapped_view.show(other.series, prior)
    unmapped_view.cursor_lps = other.cursor_lps
    unmapped_view.orientation = "coronal"
    unmapped = unmapped_view.current_slice()
    shown = view.current_slice()
    with_map = _correlation(shown, mapped, cursor, other.cursor_lps)
    without = _correlation(shown, unmapped, cursor, other.cursor_lps)
    # The moved study was resampled from 5 mm slices: its coronal plane is
    # blurred along z, so the same anatomy correlates at about 0.88 only.
    assert with_map > 0.85, (with_map, without)
    assert with_map - without > 0.2, (with_map, without)
    # Against SimpleITK sampling the prior at the truly mapped points.
    assert _agrees_with_simpleitk(prior, mapped, shown, cursor, truth) > 0.98

    # Moving the cursor in the current coronal view moves the prior's plane.
    moved_to = cursor + np.array([0.0, 10.0, 0.0])
    view.place_cursor(moved_to)
    np.testing.assert_allclose(other.cursor_lps, _map(truth, moved_to), atol=1e-6)
    # Back to the acquired slices: the prior scrolls to the mapped cursor.
    assert show_plane_in(state, 1, "acquired")
    assert other.slice_index == _slice_of(prior, _map(truth, moved_to))


def test_another_series_shown_forgets_the_cursor(studies: Any) -> None:
    prior_series, prior, _, _, _ = studies
    state = _linked(studies)
    view = state.viewports[0]
    view.place_cursor(np.asarray(view.slice_position_lps()))
    assert cursor_on_slice(view) is not None
    view.show(prior_series, prior)
    assert view.cursor_lps is None
