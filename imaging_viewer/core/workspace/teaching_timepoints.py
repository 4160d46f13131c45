"""The open studies of a patient as the time points of a teaching case's
before/after pairs (lesions matched by Tracking UID, PS3.16 TID 1500)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from imaging_viewer.core.teaching.before_after import StudyTimepoint
    from imaging_viewer.core.workspace.workspace import Workspace


def teaching_timepoints(workspace: Workspace, study_uid: str) -> list[StudyTimepoint]:
    """The open studies of the patient of ``study_uid`` (it included), each with
    its series, lesions, date, time point label (the user's; empty: named by
    date order) and lesion sizes from the response table; studies of other
    patients are never mixed in. Empty when the patient has one study open."""
    from imaging_viewer.core.followup.teaching_sizes import with_table_sizes
    from imaging_viewer.core.teaching.before_after import StudyTimepoint

    study = workspace.studies.get(study_uid)
    if study is None:
        return []
    same_patient = [
        other
        for other in workspace.studies.values()
        if other.patient_key == study.patient_key
    ]
    if len(same_patient) < 2:
        return []
    timepoints = [
        StudyTimepoint(
            list(other.series),
            workspace.annotations(other.uid),
            other.date if len(other.date) == 8 and other.date.isdigit() else "",
            label=other.timepoint,
        )
        for other in same_patient
    ]
    return with_table_sizes(timepoints)


def tracked_lesion_count(workspace: Workspace, study_uid: str) -> int:
    """How many lesions of the study are tracked in another open study of the
    patient (same Tracking UID): the before/after pairs it can have."""
    from imaging_viewer.core.teaching.before_after import tracked_across

    timepoints = teaching_timepoints(workspace, study_uid)
    if not timepoints:
        return 0
    tracked = tracked_across(timepoints)
    own = {lesion.tracking_uid for lesion in workspace.annotations(study_uid).lesions}
    return len(own & tracked)
