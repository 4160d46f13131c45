""" "Same lesion as…": a lesion of the current study linked to one of an earlier
time point takes its Tracking UID (the response table then tracks it); unlink
gives it its own; another patient's lesions are never offered."""

from __future__ import annotations

from typing import TYPE_CHECKING

from imaging_viewer.core.annotations.model import Lesion, Ruler
from imaging_viewer.core.followup.response_table import TableMode, build_table
from imaging_viewer.core.workspace import Workspace, run_synchronously
from imaging_viewer.core.workspace.lesion_links import (
    link_same_lesion,
    linked_priors,
    prior_lesions,
    unlink_lesion,
)
from tests.core.workspace.test_timepoint_labels import _two_timepoints

if TYPE_CHECKING:
    from pathlib import Path


def _measured(label: str, length_mm: float) -> Lesion:
    lesion = Lesion(label=label, role="target")
    ruler = Ruler(
        lesion_id=lesion.id,
        plane_normal_lps=(0.0, 0.0, 1.0),
        start_lps=(10.0, 20.0, 30.0),
        end_lps=(10.0 + length_mm, 20.0, 30.0),
    )
    return Lesion(**{**lesion.__dict__, "annotations": (ruler,)})


def test_link_and_unlink_a_lesion_across_timepoints(
    corpus: Path, tmp_path: Path
) -> None:
    earlier, later = _two_timepoints(corpus, tmp_path)
    workspace = Workspace(run_synchronously, autosave=False, reload_autosaved=False)
    workspace.open(earlier)
    workspace.open(later, replace=False)
    baseline, follow_up = sorted(workspace.studies.values(), key=lambda s: s.date)
    workspace.annotations(baseline.uid).add_lesion(_measured("L1 liver", 40.0))
    current = _measured("new measurement", 28.0)
    workspace.annotations(follow_up.uid).add_lesion(current)

    (choice,) = prior_lesions(workspace, follow_up.uid)
    assert choice.text == "baseline · L1 liver · 40.0 mm"
    assert choice.centre_lps == (30.0, 20.0, 30.0)
    assert prior_lesions(workspace, baseline.uid) == []  # nothing earlier

    link_same_lesion(workspace, follow_up.uid, current.id, choice)
    assert linked_priors(workspace, follow_up.uid, current.id) == [choice]
    (patient,) = workspace.patients
    table = build_table(workspace.timepoints(patient), TableMode.RECIST)
    (row,) = table.rows
    assert [c.size_mm if c else None for c in row.cells] == [40.0, 28.0]
    assert table.recist[1] is not None
    assert str(table.recist[1].response) == "PR"  # −30 %

    workspace.annotations(follow_up.uid).undo()
    assert linked_priors(workspace, follow_up.uid, current.id) == []
    workspace.annotations(follow_up.uid).redo()
    unlink_lesion(workspace, follow_up.uid, current.id)
    assert linked_priors(workspace, follow_up.uid, current.id) == []
    assert len(build_table(workspace.timepoints(patient)).rows) == 2
