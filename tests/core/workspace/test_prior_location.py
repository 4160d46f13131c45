"""Where a prior lesion is, while "same lesion as…" is chosen: the viewport of
the prior study goes to the slice of its centre (positions from pydicom's
Image Position (Patient), not from our loader); through a registration when its
frame of reference differs; nowhere shown, a line says which slice."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pydicom
import pytest
from pydicom.uid import generate_uid

from imaging_viewer.core.annotations.model import Lesion, Ruler
from imaging_viewer.core.viewer_state import ViewerState
from imaging_viewer.core.workspace import Workspace, run_synchronously
from imaging_viewer.core.workspace.lesion_links import prior_lesions
from imaging_viewer.core.workspace.prior_location import show_prior_lesion
from imaging_viewer.core.workspace.viewport_loading import ViewportLoader

if TYPE_CHECKING:
    from pathlib import Path

    from imaging_viewer.core.workspace import Study

LATER_DATE = "20160301"


def later_copy(
    source: Path, target: Path, *, new_frame: bool = False, date: str = LATER_DATE
) -> Path:
    """Every file of ``source`` as one study of the same patient on ``date`` (new
    study, series and SOP Instance UIDs; the same frame of reference unless
    ``new_frame``)."""
    target.mkdir(parents=True)
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    for n, path in enumerate(sorted(p for p in source.rglob("*") if p.is_file())):
        ds = pydicom.dcmread(path)
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        if new_frame:
            ds.FrameOfReferenceUID = frame
        ds.StudyDate = date
        ds.save_as(target / f"{n:03d}.dcm")
    return target


def slice_positions_s(folder: Path) -> list[float]:
    """Image Position (Patient) S of each file, by pydicom, ascending."""
    return sorted(
        float(pydicom.dcmread(p, stop_before_pixels=True).ImagePositionPatient[2])
        for p in folder.rglob("*")
        if p.is_file()
    )


def measured_lesion(
    label: str,
    centre_lps: tuple[float, float, float],
    frame: str,
    length_mm: float = 20.0,
) -> Lesion:
    """A lesion with one axial ruler of ``length_mm`` centred on ``centre_lps``."""
    lesion = Lesion(label=label, role="target")
    x, y, z = centre_lps
    ruler = Ruler(
        lesion_id=lesion.id,
        frame_of_reference_uid=frame,
        plane_normal_lps=(0.0, 0.0, 1.0),
        start_lps=(x - length_mm / 2, y, z),
        end_lps=(x + length_mm / 2, y, z),
    )
    return Lesion(**{**lesion.__dict__, "annotations": (ruler,)})


@pytest.fixture
def opened(
    sample_data: Path, tmp_path: Path
) -> tuple[Workspace, ViewerState, Study, Study]:
    """The sample CT (baseline) and its later copy, the later one shown alone."""
    workspace = Workspace(run_synchronously, autosave=False, reload_autosaved=False)
    workspace.open(sample_data / "CT")
    workspace.open(later_copy(sample_data / "CT", tmp_path / "later"), replace=False)
    baseline, follow_up = sorted(workspace.studies.values(), key=lambda s: s.date)
    state = ViewerState()
    ViewportLoader(workspace, state).show_series(follow_up.series[0].id, 0)
    return workspace, state, baseline, follow_up


def _shown_s(state: ViewerState, index: int) -> float:
    position = state.viewports[index].slice_position_lps()
    assert position is not None
    return float(position[2])


def test_prior_shown_goes_to_the_lesion_slice(
    opened: tuple[Workspace, ViewerState, Study, Study], sample_data: Path
) -> None:
    workspace, state, baseline, follow_up = opened
    positions = slice_positions_s(sample_data / "CT")
    target_s = positions[9]
    frame = baseline.series[0].frame_of_reference_uid
    workspace.annotations(baseline.uid).add_lesion(
        measured_lesion("L1 brain", (0.0, 0.0, target_s), frame)
    )
    (prior,) = prior_lesions(workspace, follow_up.uid)

    text = show_prior_lesion(state, workspace, prior)
    assert "slice 10 of “STD BRAIN 5MM”" in text  # not shown: where it is
    assert "L1 brain (baseline, 2015-02-06)" in text

    state.layout = "1x2"
    ViewportLoader(workspace, state).show_series(baseline.series[0].id, 1)
    current_before = state.viewports[0].slice_index
    assert show_prior_lesion(state, workspace, prior).endswith("viewport 2")
    assert _shown_s(state, 1) == pytest.approx(target_s, abs=0.01)
    assert state.viewports[0].slice_index == current_before  # left alone


def test_another_frame_goes_through_the_registration(
    opened: tuple[Workspace, ViewerState, Study, Study], sample_data: Path
) -> None:
    workspace, state, baseline, follow_up = opened
    positions = slice_positions_s(sample_data / "CT")
    spacing = positions[1] - positions[0]
    drawn_frame = generate_uid()  # another series of the prior, its own frame
    workspace.annotations(baseline.uid).add_lesion(
        measured_lesion("L1", (0.0, 0.0, positions[5]), drawn_frame)
    )
    (prior,) = prior_lesions(workspace, follow_up.uid)
    state.layout = "1x2"
    ViewportLoader(workspace, state).show_series(baseline.series[0].id, 1)
    start = _shown_s(state, 1)
    assert "not shown" in show_prior_lesion(state, workspace, prior)
    assert _shown_s(state, 1) == start  # unrelated frames: positions not compared

    shown_frame = baseline.series[0].frame_of_reference_uid
    three_slices = np.eye(4)
    three_slices[2, 3] = 3 * spacing
    state.set_frame_transform(drawn_frame, shown_frame, three_slices)
    assert show_prior_lesion(state, workspace, prior).endswith("viewport 2")
    assert _shown_s(state, 1) == pytest.approx(positions[8], abs=0.01)


def test_a_lesion_without_measurement_says_so(
    opened: tuple[Workspace, ViewerState, Study, Study],
) -> None:
    workspace, state, baseline, follow_up = opened
    workspace.annotations(baseline.uid).add_lesion(Lesion(label="L2"))
    (prior,) = prior_lesions(workspace, follow_up.uid)
    assert show_prior_lesion(state, workspace, prior).endswith("no measurement to show")
