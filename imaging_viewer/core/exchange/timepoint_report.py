"""One TID 1500 Measurement Report per time point, and several read back as one set.

Every time point's report carries each lesion's Tracking Unique Identifier
(PS3.16 TID 4108), the same at every time point, so another system (and this
one) links a lesion's measurements across studies. The time point's label
("baseline", "follow-up 1", …) is written as Clinical Trial Time Point ID
(0012,0050) of the Clinical Trial Study Module (PS3.3 C.7.2.3), which the SR
IODs allow (User); the study date is the evidence's Study Date (0008,0020).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import pydicom
import pydicom.errors

from imaging_viewer.core.exchange.structured_report import (
    export_measurement_report,
    import_measurement_report,
)

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping, Sequence

    from pydicom.dataset import Dataset

    from imaging_viewer.core.annotations.model import AnnotationSet
    from imaging_viewer.core.exchange.structured_report import DicomExport

_STUDY_DATE: Final = re.compile(r"^\d{8}$")
_TIME_POINT_ID_LENGTH: Final = 64
"""Clinical Trial Time Point ID is LO: at most 64 characters (PS3.5 6.2)."""


@dataclass(frozen=True, eq=False)
class TimepointReport:
    """The lesions of one time point read from our own SR, and where it stands."""

    annotation_set: AnnotationSet
    study_uid: str
    study_date: str
    """``YYYYMMDD`` or ``""``."""
    label: str
    patient_id: str
    source: str
    warnings: tuple[str, ...] = ()


def export_timepoint_report(
    annotation_set: AnnotationSet,
    source_datasets: Mapping[str, Dataset],
    *,
    timepoint_label: str,
    series_number: int,
    **options: Any,
) -> DicomExport:
    """:func:`export_measurement_report` of one study, labelled with its time point.

    The lesions keep their ``tracking_uid``: export each time point's set
    with the same lesions (one Tracking UID per lesion) and the reports link.
    ``options`` are those of :func:`export_measurement_report`.
    """
    export = export_measurement_report(
        annotation_set, source_datasets, series_number=series_number, **options
    )
    label = timepoint_label.strip()[:_TIME_POINT_ID_LENGTH]
    if label:
        export.dataset.ClinicalTrialTimePointID = label
    return export


def timepoint_of_report(dataset: Dataset, source: str = "") -> TimepointReport:
    """The time point a measurement report of ours records.

    Raises
    ------
    ValueError
        If the dataset is not a TID 1500 Measurement Report.
    """
    imported = import_measurement_report(dataset)
    study_date = str(dataset.get("StudyDate", "") or "")
    return TimepointReport(
        annotation_set=imported.annotation_set,
        study_uid=str(dataset.get("StudyInstanceUID", "") or ""),
        study_date=study_date if _STUDY_DATE.match(study_date) else "",
        label=str(dataset.get("ClinicalTrialTimePointID", "") or ""),
        patient_id=str(dataset.get("PatientID", "") or ""),
        source=source,
        warnings=imported.warnings,
    )


def is_dicom_file(path: str | os.PathLike[str]) -> bool:
    """Whether the file starts with the DICOM preamble and prefix (PS3.10 7.1)."""
    try:
        with open(path, "rb") as file:
            return file.read(132)[128:] == b"DICM"
    except OSError:
        return False


def read_timepoint_report(path: str | os.PathLike[str]) -> TimepointReport:
    """:func:`timepoint_of_report` of a file.

    Raises
    ------
    ValueError
        If the file is not a readable DICOM measurement report.
    """
    try:
        dataset = pydicom.dcmread(path)
    except (OSError, pydicom.errors.InvalidDicomError) as error:
        raise ValueError(f"{path}: not a readable DICOM file ({error})") from None
    try:
        return timepoint_of_report(dataset, str(path))
    except (ValueError, AttributeError, KeyError, TypeError) as error:
        raise ValueError(f"{path}: {error}") from None


def read_timepoint_reports(
    paths: Sequence[str | os.PathLike[str]],
) -> list[TimepointReport]:
    """Reports of several time points of one patient, ordered by study date
    (a report without a date last); their lesions link by Tracking UID.

    Raises
    ------
    ValueError
        If a file is not a measurement report, or the reports are of
        different patients (never linked silently).
    """
    reports = [read_timepoint_report(path) for path in paths]
    patients = {report.patient_id for report in reports}
    if len(patients) > 1:
        raise ValueError(
            "the reports are of different patients: "
            + ", ".join(sorted(repr(p) for p in patients))
        )
    return sorted(reports, key=lambda r: (r.study_date == "", r.study_date))
