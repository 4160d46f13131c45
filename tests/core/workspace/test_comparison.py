"""The comparison layout on real data: a corpus CT and a copy moved by a known
transform (resampled by SimpleITK, written as a later study with another frame
of reference), added to the workspace as a second study of the patient.

Scrolling the current study lands the prior on the same anatomy (± one slice),
checked against the known motion, not against our registration.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest

from imaging_viewer.core.viewer_state import ViewerState
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

    from imaging_viewer.core.volume import Volume


@pytest.fixture(scope="module")
def two_studies(
    corpus: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, NDArray[np.float64]]:
    """The corpus CT moved as a later study: its folder, and the known
    moving (later) → fixed (corpus) transform."""
    from imaging_viewer.core.dicom.load import load_volume

    series = _fixed_series(corpus)
    folder = tmp_path_factory.mktemp("comparison") / "later"
    truth = write_moved_study(series, load_volume(series), folder)
    return folder, truth


def _slice_centre(volume: Volume, k: int) -> NDArray[np.float64]:
    _k_count, rows, columns = volume.shape_kji
    ijk = np.array([(columns - 1) / 2, (rows - 1) / 2, k, 1.0])
    centre: NDArray[np.float64] = (volume.ijk_to_lps @ ijk)[:3]
    return centre


def test_comparison_fills_by_matching_and_links_through_registration(
    corpus: Path, two_studies: tuple[Path, NDArray[np.float64]]
) -> None:
    later_folder, truth = two_studies
    workspace = Workspace(autosave=False)
    workspace.open(later_folder)
    workspace.open(corpus / SERIES_FOLDER / "S21570", replace=False)
    later = next(s for s in workspace.studies.values() if s.date == "20990101")
    current = next(s for s in later.series)
    state = ViewerState()
    loader = ViewportLoader(workspace, state)
    loader.show_series(current.id, 0)
    comparison = Comparison(loader)
    progress: list[tuple[int, int]] = []
    comparison.progress.connect(lambda done, total: progress.append((done, total)))
    registered: list[object] = []
    comparison.registered.connect(registered.append)

    assert comparison.toggle().startswith("Comparing with")
    assert state.layout == "1x2"
    shown, prior = state.viewports[0], state.viewports[1]
    assert prior.series is not None
    assert shown.volume is not None
    assert prior.series.description == SERIES_DESCRIPTION
    assert prior.series.study_uid != later.uid
    assert progress, "the registration reported no progress"

    assert len(registered) == 1, "the two frames of reference were not registered"

    moved, original = shown.volume, prior.volume
    assert original is not None
    for k in (8, 12, 16):
        shown.set_slice(k)
        anatomy = truth[:3, :3] @ _slice_centre(moved, k) + truth[:3, 3]
        ijk = np.linalg.solve(
            original.ijk_to_lps[:3, :3], anatomy - original.ijk_to_lps[:3, 3]
        )
        assert abs(prior.slice_index - round(float(ijk[2]))) <= 1

    comparison.toggle()
    assert state.layout == "1x1"
