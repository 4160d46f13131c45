"""The response table as JSON-ready data and as CSV (one row per lesion × time point).

Reading the annotation files (or our own DICOM SR measurement reports) of
several time points is here too: what ``imaging-viewer response`` and the
response dock's export share.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any, Final

from imaging_viewer.core.annotations.serialize import (
    AnnotationFileError,
    check_schema,
    from_json,
    read_document,
    study_uid_of,
    timepoint_of,
)
from imaging_viewer.core.exchange.timepoint_report import (
    is_dicom_file,
    read_timepoint_report,
)
from imaging_viewer.core.files import write_text_atomic
from imaging_viewer.core.followup.response_table import TimepointData

if TYPE_CHECKING:
    import os
    from collections.abc import Sequence

    from imaging_viewer.core.followup.response_table import LesionCell, ResponseTable

CSV_COLUMNS: Final = (
    "timepoint",
    "timepoint_label",
    "study_date",
    "study_instance_uid",
    "lesion",
    "tracking_uid",
    "role",
    "nodal",
    "organ",
    "measurable",
    "longest_diameter_mm",
    "short_axis_mm",
    "product_mm2",
    "ellipsoid_volume_mm3",
    "outline_volume_mm3",
    "roi_mean",
    "roi_sd",
    "size_mm",
    "change_from_baseline_pct",
    "change_from_nadir_pct",
    "volume_change_from_baseline_pct",
)


def read_timepoint(path: str | os.PathLike[str]) -> TimepointData:
    """One time point from an annotation file (schema 1 or 2), or from a TID 1500
    measurement report of ours (PS3.16; see :mod:`..exchange.timepoint_report`).

    Raises
    ------
    AnnotationFileError
        If the file is neither a readable annotation file nor a measurement
        report.
    OSError
        If it cannot be read.
    """
    if is_dicom_file(path):
        try:
            report = read_timepoint_report(path)
        except ValueError as error:
            raise AnnotationFileError(str(error)) from None
        return TimepointData(
            report.annotation_set,
            study_uid=report.study_uid,
            study_date=report.study_date,
            label=report.label,
            source=str(path),
            patient_id=report.patient_id,
        )
    document = read_document(path)
    try:
        check_schema(document)
        study_uid = study_uid_of(document)
        study_date, label = timepoint_of(document)
        annotation_set = from_json(document)
    except AnnotationFileError as error:
        raise AnnotationFileError(error.reason, error.path or None) from None
    return TimepointData(
        annotation_set,
        study_uid=study_uid,
        study_date=study_date,
        label=label,
        source=str(path),
    )


def timepoint_label(table: ResponseTable, index: int) -> str:
    """The time point's own label, else ``baseline`` / ``follow-up N``."""
    label = table.timepoints[index].label
    return label or ("baseline" if index == 0 else f"follow-up {index}")


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def cell_to_json(cell: LesionCell | None) -> dict[str, Any] | None:
    """A lesion's measurements at one time point (None where it was not seen)."""
    if cell is None:
        return None
    size = cell.size
    return {
        "longest_diameter_mm": _round(size.longest_diameter_mm),
        "short_axis_mm": _round(size.short_axis_mm),
        "product_mm2": _round(size.product_mm2),
        "ellipsoid_volume_mm3": _round(size.ellipsoid_volume_mm3),
        "outline_volume_mm3": _round(size.outline_volume_mm3),
        "roi_mean": _round(size.roi_mean),
        "roi_sd": _round(size.roi_sd),
        "size_mm": _round(cell.size_mm),
        "change_from_baseline_pct": _round(cell.change_from_baseline_pct),
        "change_from_nadir_pct": _round(cell.change_from_nadir_pct),
        "volume_change_from_baseline_pct": _round(cell.volume_change_from_baseline_pct),
    }


def _recist_entry(table: ResponseTable, index: int) -> dict[str, Any]:
    """One time point of ``"recist"``: ``sum_mm`` is always a number (the targets
    measured there); where a target is not measured the time point is not
    evaluable (RECIST 1.1 section 4.3.1): response and changes are null,
    ``not_evaluable`` true and ``unmeasured_targets`` names them."""
    a = table.recist[index]
    sums = table.target_sums[index] if index < len(table.target_sums) else None
    if a is not None:
        sum_mm: float = a.sum_mm
    else:
        sum_mm = sums.sum_mm if sums is not None else 0.0
    return {
        "timepoint": index,
        "sum_mm": round(sum_mm, 3),
        "change_from_baseline_pct": None
        if a is None
        else round(a.change_from_baseline_pct, 3),
        "change_from_nadir_pct": None
        if a is None
        else round(a.change_from_nadir_pct, 3),
        "response": None if a is None or a.response is None else str(a.response),
        "not_evaluable": a is None,
        "unmeasured_targets": list(sums.unmeasured) if sums is not None else [],
    }


def table_to_json(table: ResponseTable) -> dict[str, Any]:
    """The table as ``{"timepoints": [...], "lesions": [...], "warnings": [...]}``,
    plus ``"recist"`` in RECIST mode (one entry per time point, response null at
    baseline and where not evaluable)."""
    document: dict[str, Any] = {
        "mode": str(table.mode),
        "timepoints": [
            {
                "index": index,
                "label": timepoint_label(table, index),
                "study_instance_uid": timepoint.study_uid,
                "study_date": timepoint.study_date,
                "source": timepoint.source,
            }
            for index, timepoint in enumerate(table.timepoints)
        ],
        "lesions": [
            {
                "tracking_uid": row.tracking_uid,
                "label": row.label,
                "role": row.role,
                "nodal": row.nodal,
                "organ": row.organ,
                "measurable": row.measurable,
                "measurements": [cell_to_json(cell) for cell in row.cells],
            }
            for row in table.rows
        ],
        "warnings": list(table.warnings),
    }
    if table.recist:
        document["recist"] = [
            _recist_entry(table, index) for index in range(len(table.recist))
        ]
    return document


def table_to_csv(table: ResponseTable) -> str:
    """One row per lesion and time point it was seen at, :data:`CSV_COLUMNS`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in table.rows:
        for index, cell in enumerate(row.cells):
            values = cell_to_json(cell)
            if values is None:
                continue
            timepoint = table.timepoints[index]
            writer.writerow(
                [
                    index,
                    timepoint_label(table, index),
                    timepoint.study_date,
                    timepoint.study_uid,
                    row.label,
                    row.tracking_uid,
                    row.role,
                    row.nodal,
                    row.organ,
                    row.measurable,
                    *("" if values[c] is None else values[c] for c in CSV_COLUMNS[10:]),
                ]
            )
    return buffer.getvalue()


def write_csv(table: ResponseTable, path: str | os.PathLike[str]) -> None:
    """Write :func:`table_to_csv` atomically (the one atomic writer)."""
    write_text_atomic(path, table_to_csv(table))


def read_timepoints(paths: Sequence[str | os.PathLike[str]]) -> list[TimepointData]:
    """:func:`read_timepoint` of each file."""
    return [read_timepoint(path) for path in paths]


def different_patients(timepoints: Sequence[TimepointData]) -> list[str]:
    """The distinct patient IDs the time points record (more than one: never
    link them silently); time points that record none are not counted."""
    return sorted({t.patient_id for t in timepoints if t.patient_id})
