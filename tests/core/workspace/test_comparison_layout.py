"""The comparison layout's 2×2, its drag-and-drop link, and landmarks, on real data.

Both studies are the corpus head CT (``dcm_qa_ct`` Philips): the baseline as
stored, the follow-up a copy rigidly moved by a known transform (resampled by
SimpleITK, another frame of reference, a later date). Each gets a second
series (the same images under another description, as a second
reconstruction would be) so that both studies have two matching series.
Where the prior lands is checked against the known motion, not against our
registration.
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING, Any

import numpy as np
import pydicom
import pytest
from pydicom.uid import generate_uid

from imaging_viewer.core.viewer_state import ViewerState, nearest_slice
from imaging_viewer.core.workspace.comparison import Comparison
from imaging_viewer.core.workspace.viewport_loading import ViewportLoader
from imaging_viewer.core.workspace.workspace import Workspace
from tests.core.followup.test_registration import (
    SERIES_DESCRIPTION,
    SERIES_FOLDER,
    _fixed_series,
    write_moved_study,
)

if TYPE_CHECKING:
    from pathlib import Path

    from numpy.typing import NDArray

SECOND_DESCRIPTION = "STD BRAIN 5MM BONE"


def copy_as_second_series(source: Path, target: Path, description: str) -> None:
    """The DICOM files of ``source`` as another series of the same study and
    frame of reference (a second reconstruction)."""
    series_uid = generate_uid()
    target.mkdir(parents=True)
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        try:
            dataset = pydicom.dcmread(path)
        except pydicom.errors.InvalidDicomError:
            continue
        if "PixelData" not in dataset or dataset.SeriesDescription != (
            SERIES_DESCRIPTION
        ):
            continue
        dataset.SeriesInstanceUID = series_uid
        dataset.SeriesDescription = description
        dataset.SOPInstanceUID = generate_uid()
        dataset.file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
        dataset.save_as(target / path.name, enforce_file_format=True)


@pytest.fixture(scope="module")
def studies(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Folders of the baseline (corpus + second series) and the moved follow-up
    (two series), and the known follow-up → baseline transform."""
    from imaging_viewer.core.dicom.load import load_volume

    root = tmp_path_factory.mktemp("comparison_layout")
    series = _fixed_series(corpus)
    later = root / "later"
    truth = write_moved_study(series, load_volume(series), later / "a")
    for path in (later / "a").iterdir():  # give the moved copy its description
        dataset = pydicom.dcmread(path)
        dataset.SeriesDescription = SERIES_DESCRIPTION
        dataset.save_as(path, enforce_file_format=True)
    copy_as_second_series(later / "a", later / "b", SECOND_DESCRIPTION)
    baseline = root / "baseline"
    shutil.copytree(corpus / SERIES_FOLDER / "S21570", baseline / "a")
    copy_as_second_series(baseline / "a", baseline / "b", SECOND_DESCRIPTION)
    return {"later": later, "baseline": baseline, "truth": truth}


def _open(studies: dict[str, Any]) -> tuple[Workspace, ViewerState, Comparison]:
    workspace = Workspace(autosave=False)
    workspace.open(studies["later"])
    workspace.open(studies["baseline"], replace=False)
    later = next(s for s in workspace.studies.values() if s.date == "20990101")
    current = next(s for s in later.series if s.description == SERIES_DESCRIPTION)
    state = ViewerState()
    loader = ViewportLoader(workspace, state)
    loader.show_series(current.id, 0)
    return workspace, state, Comparison(loader)


def _slice_centre(volume: Any, k: int) -> NDArray[np.float64]:
    _k, rows, columns = volume.shape_kji
    ijk = np.array([(columns - 1) / 2, (rows - 1) / 2, k, 1.0])
    centre: NDArray[np.float64] = (volume.ijk_to_lps @ ijk)[:3]
    return centre


def _lands_on_same_anatomy(
    state: ViewerState, truth: NDArray[np.float64], current: int, prior: int
) -> None:
    shown, other = state.viewports[current], state.viewports[prior]
    assert shown.volume is not None
    assert other.volume is not None
    for k in (8, 14, 20):
        shown.set_slice(k)
        anatomy = truth[:3, :3] @ _slice_centre(shown.volume, k) + truth[:3, 3]
        expected = nearest_slice(other.volume, anatomy)
        assert expected is not None
        assert abs(other.slice_index - expected) <= 1


def test_two_matching_series_in_each_study_give_a_2x2(
    studies: dict[str, Any],
) -> None:
    workspace, state, comparison = _open(studies)
    registered: list[object] = []
    comparison.registered.connect(registered.append)
    assert comparison.toggle().startswith("Comparing with")
    assert state.layout == "2x2"
    assert comparison.pairs == ((0, 1), (2, 3))
    rows = [[state.viewports[i].series for i in pair] for pair in comparison.pairs]
    for (current, prior), description in zip(
        rows, (SERIES_DESCRIPTION, SECOND_DESCRIPTION), strict=True
    ):
        assert current is not None
        assert prior is not None
        assert current.description == prior.description == description
        assert workspace.study_of(current.id) is not workspace.study_of(prior.id)
    # Both rows share the two frames of reference: one registration links both.
    assert len(registered) == 1
    _lands_on_same_anatomy(state, studies["truth"], 0, 1)
    state.active_index = 2
    _lands_on_same_anatomy(state, studies["truth"], 2, 3)
    comparison.toggle()
    assert state.layout == "1x1"


def test_a_series_dropped_on_a_viewport_is_linked_too(
    studies: dict[str, Any], corpus: Path
) -> None:
    """The same phantom rescanned in another study (S21610, tilted gantry,
    its own frame of reference) dropped on the prior's viewport: the link
    follows (a registration of the new pair)."""
    workspace, state, comparison = _open(studies)
    comparison.toggle()
    workspace.open(corpus / "dcm_qa_ct/In/Philips/S21610", replace=False)
    rescan = next(
        s
        for study in workspace.studies.values()
        for s in study.series
        if s.description == "STEREOTAXIS"
    )
    later = state.viewports[0].volume
    assert later is not None
    assert rescan.frame_of_reference_uid != later.frame_of_reference_uid
    comparison.loader.show_series(rescan.id, 1)  # what a drop does
    transform = state.frame_transform(
        rescan.frame_of_reference_uid, later.frame_of_reference_uid
    )
    assert transform is not None
    state.viewports[0].set_slice(14)
    assert state.viewports[1].slice_index not in (0, rescan.shape_kji[0] - 1)


def test_landmarks_override_the_registration_and_reset_returns_to_it(
    studies: dict[str, Any],
) -> None:
    _, state, comparison = _open(studies)
    comparison.toggle()
    truth = studies["truth"]
    current, prior = state.viewports[0], state.viewports[1]
    assert current.volume is not None
    assert prior.volume is not None
    frames = (
        prior.volume.frame_of_reference_uid,
        current.volume.frame_of_reference_uid,
    )
    registration = state.frame_transform(*frames)
    assert registration is not None
    # A landmark off the slice centre, on anatomy, and the same anatomy in the prior.
    at = current.volume.ijk_to_lps @ np.array([300.0, 220.0, 16.0, 1.0])
    mark = at[:3]
    same = truth[:3, :3] @ mark + truth[:3, 3]
    summary = comparison.set_landmarks(mark, same)
    assert summary.startswith("Linked by landmarks: good match")
    link = comparison.landmarks[frames]
    assert link.ncc > 0.8
    assert link.registration_distance_mm is not None
    assert link.registration_distance_mm < 2.0
    offset = state.frame_transform(*frames)
    assert offset is not None
    np.testing.assert_allclose(offset[:3, :3], np.eye(3))
    current.set_slice(16)
    expected = nearest_slice(prior.volume, same)
    assert expected is not None
    assert abs(prior.slice_index - expected) <= 1

    # A landmark 20 mm off the anatomy matches worse, and says so.
    comparison.set_landmarks(mark, same + np.array([0.0, 20.0, 0.0]))
    worse = comparison.landmarks[frames]
    assert worse.ncc < link.ncc - 0.3
    assert worse.registration_distance_mm is not None
    assert worse.registration_distance_mm > 18.0

    assert comparison.reset_link() == "Link reset to the registration"
    reset = state.frame_transform(*frames)
    assert reset is not None
    np.testing.assert_allclose(reset, registration)
    assert not comparison.landmarks
