"""Issue 13 item 3: projection radiographs are never linked by a claimed
geometry. Two CR studies of one patient (copies of the corpus chest CR at two
dates): the comparison shows them side by side but neither registers nor takes
landmarks, and says why; the registration refuses them; a lesion link between
them works, so the response table has one row across both."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

import pydicom
import pytest

from imaging_viewer.core.annotations.model import Lesion, Ruler
from imaging_viewer.core.followup.registration import RegistrationError, register_rigid
from imaging_viewer.core.followup.response_table import TableMode, build_table
from imaging_viewer.core.viewer_state import ViewerState
from imaging_viewer.core.workspace import Workspace, run_synchronously
from imaging_viewer.core.workspace.comparison import RADIOGRAPHS_NOT_LINKED, Comparison
from imaging_viewer.core.workspace.lesion_links import link_same_lesion, prior_lesions
from imaging_viewer.core.workspace.viewport_loading import ViewportLoader
from tests.core.workspace.test_prior_location import later_copy

if TYPE_CHECKING:
    from pathlib import Path

    from imaging_viewer.core.workspace import Study

CHEST_CR = "dwv/gdcm-CR-MONO1-10-chest.dcm"
BASELINE_DATE = "20150206"


def radiograph_studies(corpus: Path, tmp_path: Path) -> tuple[Path, Path]:
    """The corpus chest CR as two studies of its patient: baseline, later."""
    source = tmp_path / "source"
    source.mkdir()
    shutil.copy(corpus / CHEST_CR, source / "cr.dcm")
    baseline = later_copy(source, tmp_path / "baseline", date=BASELINE_DATE)
    return baseline, later_copy(source, tmp_path / "later")


def radiograph_lesion(label: str, sop_uid: str, start: float, end: float) -> Lesion:
    """A lesion measured by one ruler on a radiograph (no frame of reference)."""
    lesion = Lesion(label=label)
    ruler = Ruler(
        lesion_id=lesion.id,
        referenced_sop_instance_uid=sop_uid,
        plane_normal_lps=(0.0, 1.0, 0.0),
        start_lps=(start, 0.0, 0.0),
        end_lps=(end, 0.0, 0.0),
    )
    return Lesion(**{**lesion.__dict__, "annotations": (ruler,)})


def sop_uid(folder: Path) -> str:
    (path,) = folder.iterdir()
    return str(pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID)


@pytest.fixture
def opened(
    corpus: Path, tmp_path: Path
) -> tuple[Workspace, ViewportLoader, Study, Study, Path, Path]:
    baseline_folder, later_folder = radiograph_studies(corpus, tmp_path)
    workspace = Workspace(run_synchronously, autosave=False, reload_autosaved=False)
    workspace.open(baseline_folder)
    workspace.open(later_folder, replace=False)
    baseline, follow_up = sorted(workspace.studies.values(), key=lambda s: s.date)
    loader = ViewportLoader(workspace, ViewerState())
    loader.show_series(follow_up.series[0].id, 0)
    return workspace, loader, baseline, follow_up, baseline_folder, later_folder


def test_comparison_and_registration_refuse_radiographs(
    opened: tuple[Workspace, ViewportLoader, Study, Study, Path, Path],
) -> None:
    _, loader, baseline, follow_up, _, _ = opened
    assert follow_up.series[0].is_projection  # a CR: no Image Position (Patient)
    comparison = Comparison(loader)
    said: list[str] = []
    comparison.message.connect(said.append)
    assert comparison.open().startswith("Comparing with")
    shown = [v.series for v in loader.state.viewports[:2]]
    assert [s.id if s else None for s in shown] == [
        follow_up.series[0].id,
        baseline.series[0].id,
    ]
    assert RADIOGRAPHS_NOT_LINKED in said
    assert comparison.registrations == {}
    volumes = comparison.pair_volumes()
    assert volumes is not None
    with pytest.raises(RegistrationError, match="no 3D geometry"):
        register_rigid(*volumes)
    origin = (0.0, 0.0, 0.0)
    refused = comparison.set_landmarks(origin, origin)  # type: ignore[arg-type]
    assert refused == "Radiographs have no 3D geometry: link them by their lesions"
    assert comparison.landmarks == {}


def test_a_lesion_link_between_radiographs_gives_one_row(
    opened: tuple[Workspace, ViewportLoader, Study, Study, Path, Path],
) -> None:
    workspace, _, baseline, follow_up, baseline_folder, later_folder = opened
    workspace.annotations(baseline.uid).add_lesion(
        radiograph_lesion("L1 right lung", sop_uid(baseline_folder), 0.0, 30.0)
    )
    current = radiograph_lesion("new", sop_uid(later_folder), 0.0, 21.0)
    workspace.annotations(follow_up.uid).add_lesion(current)
    (patient,) = workspace.patients
    assert len(build_table(workspace.timepoints(patient)).rows) == 2

    (choice,) = prior_lesions(workspace, follow_up.uid)
    link_same_lesion(workspace, follow_up.uid, current.id, choice)
    table = build_table(workspace.timepoints(patient), TableMode.PLAIN)
    (row,) = table.rows
    assert row.label == "L1 right lung"
    assert [t.study_uid for t in table.timepoints] == [baseline.uid, follow_up.uid]
    sizes = [c.size_mm if c else None for c in row.cells]
    assert sizes == pytest.approx([30.0, 21.0])
    assert row.cells[1] is not None
    assert row.cells[1].change_from_baseline_pct == pytest.approx(-30.0)
