"""What to ask a node (PS3.4 C.6.2 Study Root Query/Retrieve, PS3.18 10.6 QIDO-RS)
and what it answers, the same for DIMSE and DICOMweb."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Final, Literal

from pydicom.dataset import Dataset

from imaging_viewer.core.pacs.errors import PacsError

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["DATE_PRESETS", "Query", "QueryResult", "date_preset", "identifier"]

Level = Literal["study", "series"]

_DATE_RANGE = re.compile(r"^(\d{8})?(-)?(\d{8})?$")


def _presets() -> dict[str, Callable[[date], tuple[date, date]]]:
    return {
        "today": lambda today: (today, today),
        "yesterday": lambda today: (today - timedelta(1), today - timedelta(1)),
        "last 7 days": lambda today: (today - timedelta(6), today),
        "last month": lambda today: (today - timedelta(30), today),
    }


DATE_PRESETS: Final = tuple(_presets())


def date_preset(name: str, today: date | None = None) -> str:
    """The DICOM date range (PS3.4 C.2.2.2.5) of a preset: ``YYYYMMDD-YYYYMMDD``."""
    first, last = _presets()[name](today or date.today())
    return f"{first:%Y%m%d}-{last:%Y%m%d}"


def check_date(text: str) -> str:
    """``YYYYMMDD``, ``YYYYMMDD-YYYYMMDD``, ``-YYYYMMDD`` or ``YYYYMMDD-``."""
    match = _DATE_RANGE.match(text)
    if not text or match is None or not (match[1] or match[3]):
        raise PacsError(f"bad date {text!r}: give YYYYMMDD or YYYYMMDD-YYYYMMDD")
    return text


@dataclass(frozen=True)
class Query:
    """A C-FIND / QIDO-RS request; empty fields are returned, not matched.

    Patient name and ID may hold the ``*`` and ``?`` wildcards (PS3.4 C.2.2.2.4).
    ``limit``: at most this many results (None: all the node gives).
    """

    level: Level = "study"
    patient_id: str = ""
    patient_name: str = ""
    date: str = ""
    modality: str = ""
    study_uid: str = ""
    accession: str = ""
    description: str = ""
    limit: int | None = None


@dataclass(frozen=True)
class QueryResult:
    """One study or series found."""

    study_uid: str
    patient_id: str
    patient_name: str
    date: str
    description: str
    modalities: tuple[str, ...] = ()
    series_uid: str = ""
    modality: str = ""
    instances: int | None = None

    def to_json(self) -> dict[str, Any]:
        """As ``pacs find --json`` writes it (the issue's public contract)."""
        document: dict[str, Any] = {"study_uid": self.study_uid}
        if self.series_uid:
            document["series_uid"] = self.series_uid
        document.update(
            patient_id=self.patient_id,
            patient_name=self.patient_name,
            date=self.date,
        )
        if self.series_uid:
            document["modality"] = self.modality
        else:
            document["modalities"] = list(self.modalities)
        document["description"] = self.description
        if self.instances is not None:
            document["instances"] = self.instances
        return document


def identifier(query: Query) -> Dataset:
    """The C-FIND identifier (PS3.4 C.6.2.1): matching keys set, return keys empty."""
    ds = Dataset()
    ds.QueryRetrieveLevel = query.level.upper()
    ds.PatientName = query.patient_name
    ds.PatientID = query.patient_id
    ds.StudyDate = query.date
    ds.StudyInstanceUID = query.study_uid
    ds.AccessionNumber = query.accession
    ds.StudyDescription = query.description if query.level == "study" else ""
    if query.level == "study":
        ds.ModalitiesInStudy = query.modality
        ds.NumberOfStudyRelatedInstances = ""
    else:
        ds.SeriesInstanceUID = ""
        ds.Modality = query.modality
        ds.SeriesDescription = query.description
        ds.SeriesNumber = ""
        ds.NumberOfSeriesRelatedInstances = ""
    return ds


def _text(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword)
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value)
    return str(value).strip()


def _count(ds: Dataset, keyword: str) -> int | None:
    try:
        value = ds.get(keyword)
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def result_from_dataset(
    ds: Dataset, level: Level, parent: QueryResult | None = None
) -> QueryResult:
    """A C-FIND response identifier or a QIDO-RS JSON object as a QueryResult;
    ``parent``: the study a series belongs to (for its patient and date)."""
    modalities = tuple(m for m in _text(ds, "ModalitiesInStudy").split("\\") if m)
    if level == "study":
        return QueryResult(
            study_uid=_text(ds, "StudyInstanceUID"),
            patient_id=_text(ds, "PatientID"),
            patient_name=_text(ds, "PatientName"),
            date=_text(ds, "StudyDate"),
            description=_text(ds, "StudyDescription"),
            modalities=modalities,
            instances=_count(ds, "NumberOfStudyRelatedInstances"),
        )
    return QueryResult(
        study_uid=_text(ds, "StudyInstanceUID") or (parent.study_uid if parent else ""),
        patient_id=_text(ds, "PatientID") or (parent.patient_id if parent else ""),
        patient_name=_text(ds, "PatientName")
        or (parent.patient_name if parent else ""),
        date=_text(ds, "StudyDate") or (parent.date if parent else ""),
        description=_text(ds, "SeriesDescription"),
        series_uid=_text(ds, "SeriesInstanceUID"),
        modality=_text(ds, "Modality"),
        instances=_count(ds, "NumberOfSeriesRelatedInstances"),
    )
