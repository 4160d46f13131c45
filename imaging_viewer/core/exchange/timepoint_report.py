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
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pydicom
import pydicom.errors

from imaging_viewer.core.exchange.structured_report import (
    export_measurement_report,
    import_measurement_report,
)

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Mapping, Sequence

    from numpy.typing import NDArray
    from pydicom.dataset import Dataset

    from imaging_viewer.core.annotations.model import AnnotationSet
    from imaging_viewer.core.exchange.annotation_documents import ReferencedImage
    from imaging_viewer.core.exchange.structured_report import DicomExport
    from imaging_viewer.core.volume import Volume

_STUDY_DATE: Final = re.compile(r"^\d{8}$")
_TIME_POINT_ID_LENGTH: Final = 64
"""Clinical Trial Time Point ID is LO: at most 64 characters (PS3.5 6.2)."""
TIMEPOINT_SR_SERIES_NUMBER: Final = 9901
"""Series Number of a time point's SR (as File → Export DICOM's SR)."""


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
    label_timepoint(export.dataset, timepoint_label)
    return export


def label_timepoint(dataset: Dataset, timepoint_label: str) -> None:
    """Write ``timepoint_label`` as Clinical Trial Time Point ID (0012,0050),
    PS3.3 C.7.2.3; an empty label writes nothing."""
    label = " ".join(timepoint_label.split())[:_TIME_POINT_ID_LENGTH]
    if label:
        dataset.ClinicalTrialTimePointID = label


@dataclass(frozen=True, eq=False)
class TimepointReportJob:
    """What one time point's SR is made of, gathered while nothing changes it.

    ``annotation_set`` is a copy whose annotations name their images
    (``images``: the acquired images they lie on, of this study only).
    """

    study_uid: str
    label: str
    study_date: str
    annotation_set: AnnotationSet
    images: tuple[ReferencedImage, ...]


@dataclass(frozen=True)
class TimepointReportOutcome:
    """One time point's SR as written (``path``), or why not (``error``)."""

    study_uid: str
    label: str
    path: Path | None = None
    error: str = ""
    warnings: tuple[str, ...] = ()


def write_timepoint_reports(
    jobs: Sequence[TimepointReportJob],
    folder: str | os.PathLike[str],
    *,
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> list[TimepointReportOutcome]:
    """Write one TID 1500 SR per time point into ``folder`` (made if needed),
    named after the time point and study date; a file already there is kept
    (the new one gets a number). A study that cannot be written gets an
    outcome with its error; the others are written all the same.

    The lesions keep their Tracking UIDs (PS3.16 TID 4108), so the reports of
    one patient link; ROI statistics are computed from the images, as for
    File → Export DICOM.
    """
    target = Path(folder)
    outcomes: list[TimepointReportOutcome] = []
    for done, job in enumerate(jobs):
        if cancel is not None and cancel():
            break
        if progress is not None:
            progress(done, len(jobs))
        try:
            target.mkdir(parents=True, exist_ok=True)
            outcomes.append(_write_one(job, target))
        except Exception as error:  # one study's failure is reported, not raised
            reason = getattr(error, "strerror", None) or str(error) or repr(error)
            outcomes.append(
                TimepointReportOutcome(job.study_uid, job.label, error=reason)
            )
    return outcomes


def _write_one(job: TimepointReportJob, folder: Path) -> TimepointReportOutcome:
    from imaging_viewer.core.exchange.annotation_documents import roi_measurements
    from imaging_viewer.core.exchange.deidentify import write_dataset

    if not job.annotation_set.lesions:
        raise ValueError("no lesions")
    if not job.images:
        raise ValueError("no annotation lies on an image of the study")
    headers, pairs, placements, warnings = _evidence(job.images)
    stats, _ = roi_measurements(job.annotation_set, pairs)
    export = export_timepoint_report(
        job.annotation_set,
        headers,
        timepoint_label=job.label,
        series_number=TIMEPOINT_SR_SERIES_NUMBER,
        roi_stats=stats,
        pixel_to_lps=placements or None,
    )
    path = write_dataset(export.dataset, _free_name(folder, job))
    return TimepointReportOutcome(
        job.study_uid, job.label, path, warnings=(*warnings, *export.warnings)
    )


def _evidence(
    images: Sequence[ReferencedImage],
) -> tuple[
    dict[str, Dataset],
    list[tuple[ReferencedImage, Volume]],
    dict[str, NDArray[np.float64]],
    list[str],
]:
    """Headers of the images by SOP Instance UID, each with its volume (for ROI
    statistics), the placement of projection images and warnings."""
    from imaging_viewer.core.dicom.load import load_volume

    headers: dict[str, Dataset] = {}
    volumes: dict[str, Volume] = {}
    pairs: list[tuple[ReferencedImage, Volume]] = []
    placements: dict[str, NDArray[np.float64]] = {}
    warnings: list[str] = []
    for ref in images:
        try:
            header = pydicom.dcmread(ref.path, stop_before_pixels=True)
        except (OSError, pydicom.errors.InvalidDicomError) as error:
            warnings.append(f"{ref.path}: cannot read its DICOM file ({error})")
            continue
        uid = str(header.get("SOPInstanceUID", ""))
        headers[uid] = header
        if ref.series.id not in volumes:
            volumes[ref.series.id] = load_volume(ref.series)
        volume = volumes[ref.series.id]
        pairs.append((ref, volume))
        if volume.is_projection:
            placements[uid] = np.asarray(volume.ijk_to_lps, dtype=np.float64)
    if not headers:
        raise ValueError("no image of the study could be read")
    return headers, pairs, placements, warnings


def _free_name(folder: Path, job: TimepointReportJob) -> Path:
    """``<label>_<date>_sr.dcm`` (letters, digits, - and _), numbered when taken."""
    label = "".join(c if c.isalnum() or c in "-_" else "_" for c in job.label)
    stem = "_".join(part for part in (label.strip("_"), job.study_date) if part)
    stem = (stem or "timepoint")[:80]
    path = folder / f"{stem}_sr.dcm"
    number = 2
    while path.exists():
        path = folder / f"{stem}_{number}_sr.dcm"
        number += 1
    return path


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
