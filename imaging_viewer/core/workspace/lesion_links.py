""" "Same lesion as…": link a lesion of the current study to one of an earlier
time point of the same patient.

Linked lesions share one Tracking UID (PS3.16 TID 1500, Tracking Unique
Identifier), which is how the response table and the SR per time point match
them; unlinking gives the lesion a Tracking UID of its own again. Studies of
another patient are never offered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from imaging_viewer.core.annotations.model import new_uid
from imaging_viewer.core.dicom.patient_identity import same_patient
from imaging_viewer.core.followup.comparison import default_timepoint
from imaging_viewer.core.followup.lesion_size import lesion_size

if TYPE_CHECKING:
    from imaging_viewer.core.annotations.model import Lesion
    from imaging_viewer.core.workspace.workspace import Workspace


@dataclass(frozen=True)
class PriorLesion:
    """A lesion of an earlier time point, as the "same lesion as…" list shows it."""

    study_uid: str
    timepoint: str
    study_date: str
    lesion: Lesion
    size_mm: float | None
    """Its RECIST diameter (short axis of a node, else longest diameter)."""
    centre_lps: tuple[float, float, float] | None
    """Where it was measured (the mean of its annotations' points), to show it."""

    @property
    def text(self) -> str:
        """``follow-up 1 · L1 distal femur · 32.0 mm`` for a list."""
        size = f"{self.size_mm:.1f} mm" if self.size_mm is not None else "not measured"
        label = self.lesion.label or "(no label)"
        return f"{self.timepoint} · {label} · {size}"


def _centre(lesion: Lesion) -> tuple[float, float, float] | None:
    points = [annotation.points_lps for annotation in lesion.annotations]
    if not points:
        return None
    centre = np.concatenate(points).mean(axis=0)
    return float(centre[0]), float(centre[1]), float(centre[2])


def prior_lesions(workspace: Workspace, study_uid: str) -> list[PriorLesion]:
    """The lesions of the same patient's earlier studies (by study date), newest
    time point first; none of another patient's."""
    studies = list(workspace.studies.values())
    current = workspace.studies[study_uid]
    earlier = [
        s
        for s in studies
        if s is not current
        and same_patient(s.patient_key, current.patient_key)
        and (s.date, s.time) < (current.date, current.time)
    ]
    earlier.sort(key=lambda s: (s.date, s.time), reverse=True)
    choices = []
    for study in earlier:
        label = default_timepoint(studies, study)
        for lesion in workspace.annotations(study.uid).lesions:
            size = lesion_size(lesion).recist_diameter_mm(lesion.nodal)
            choices.append(
                PriorLesion(study.uid, label, study.date, lesion, size, _centre(lesion))
            )
    return choices


def link_same_lesion(
    workspace: Workspace, study_uid: str, lesion_id: str, prior: PriorLesion
) -> Lesion:
    """Make a lesion of a study the same lesion as ``prior`` (one undoable
    step): it takes the prior's Tracking UID."""
    annotations = workspace.annotations(study_uid)
    return annotations.update_lesion(lesion_id, tracking_uid=prior.lesion.tracking_uid)


def unlink_lesion(workspace: Workspace, study_uid: str, lesion_id: str) -> Lesion:
    """Give a lesion a Tracking UID of its own (no longer linked to a prior)."""
    return workspace.annotations(study_uid).update_lesion(
        lesion_id, tracking_uid=new_uid()
    )


def linked_priors(
    workspace: Workspace, study_uid: str, lesion_id: str
) -> list[PriorLesion]:
    """The earlier time points' lesions a lesion is linked to (same Tracking UID)."""
    lesion = workspace.annotations(study_uid).lesion(lesion_id)
    return [
        p
        for p in prior_lesions(workspace, study_uid)
        if p.lesion.tracking_uid == lesion.tracking_uid
    ]
