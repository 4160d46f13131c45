"""A study in the workspace: its series, and the annotations made on it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from imaging_viewer.core.annotations.model import AnnotationSet
    from imaging_viewer.core.annotations.serialize import Autosaver
    from imaging_viewer.core.dicom.series import SeriesInfo


@dataclass(eq=False)
class Study:
    """One study (Study Instance UID, PS3.3 C.7.2.1) of one patient.

    ``annotations`` is made when first asked for (:meth:`Workspace.annotations`),
    with the study's autosaved annotations reloaded into it.
    """

    uid: str
    patient_id: str
    patient_name: str
    date: str
    """Study Date, ``YYYYMMDD`` (empty when the files do not say)."""
    time: str
    description: str
    accession_number: str
    series: list[SeriesInfo] = field(default_factory=list)
    roots: list[str] = field(default_factory=list)
    """The paths opened that held its series."""
    timepoint: str = ""
    """The user's time point label (``baseline``, ``follow-up 1``, …); empty:
    the response table names it by its place in date order."""
    annotations: AnnotationSet | None = None
    autosaver: Autosaver | None = None

    @property
    def frame_of_reference_uids(self) -> list[str]:
        """The frames of reference of its series, sorted, without blanks."""
        return sorted({s.frame_of_reference_uid for s in self.series} - {""})

    @property
    def patient_key(self) -> tuple[str, str]:
        """Who the study is of: (Patient ID, Patient's Name)."""
        return self.patient_id, self.patient_name

    @classmethod
    def of_series(cls, series: SeriesInfo) -> Study:
        """An empty study described by one of its series."""
        return cls(
            uid=series.study_uid,
            patient_id=series.patient_id,
            patient_name=series.patient_name,
            date=series.study_date,
            time=series.study_time,
            description=series.study_description,
            accession_number=series.accession_number,
        )
