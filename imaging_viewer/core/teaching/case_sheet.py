"""The case sheet of a teaching case: Markdown for reading, and the same as JSON."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from imaging_viewer import __version__
from imaging_viewer.core.annotations.measure import value_text
from imaging_viewer.core.files import write_text_atomic
from imaging_viewer.core.teaching.measurements import measure_annotations

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from imaging_viewer.core.annotations.measure import Measurement
    from imaging_viewer.core.annotations.model import AnnotationSet, Lesion
    from imaging_viewer.core.teaching.case import TeachingCase


__all__ = [
    "CASE_SCHEMA",
    "KeyImage",
    "build_case_sheet",
    "case_json_text",
    "write_text_atomic",
]

CASE_SCHEMA: Final = "imaging_viewer.teaching_case/1"
"""The ``schema`` of ``case.json``."""


@dataclass(frozen=True)
class KeyImage:
    """One image of the exported case, as the case sheet lists it."""

    name: str
    """``key01``, ``key02``, ..."""
    annotated_png: str
    """Path relative to the case folder."""
    clean_png: str
    dicom: str = ""
    """Path relative to the case folder, or ``""`` when none was written."""
    modality: str = ""
    series_number: int | None = None
    slice_index: int = 0
    """0-based slice of its series (``n_slices`` in all)."""
    n_slices: int = 1
    time_index: int = 0
    columns: int = 0
    rows: int = 0
    pixel_spacing_mm: tuple[float, float] | None = None
    """(column spacing, row spacing); None without spacing."""
    spacing_source: str = ""
    window: str = ""
    """e.g. ``W 400 L 40 (soft tissue)``."""
    lesions: tuple[str, ...] = ()
    """Labels of the lesions shown on it."""
    sop_instance_uid: str = ""
    """As exported: the new UID of a de-identified image."""


def _spacing_label(source: str) -> str:
    if source == "none":
        return "none (lengths in pixels)"
    return source or "PixelSpacing"


def _measurement_json(value: Measurement) -> dict[str, Any]:
    number = value.value if math.isfinite(value.value) else None
    return {
        "name": value.name,
        "value": number,
        "unit": value.unit,
        "spacing_source": _spacing_label(value.spacing_source),
    }


def _format_measurement(value: Measurement) -> str:
    if not math.isfinite(value.value):
        return f"{value.name} —"
    return f"{value.name} {value_text(value)}".rstrip()


def _cell(text: str) -> str:
    """Text for a Markdown table cell: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|") or "—"


def _lesion_rows(
    lesion: Lesion, measurements: Mapping[str, Sequence[Measurement]]
) -> tuple[list[dict[str, Any]], list[str], set[str]]:
    values: list[dict[str, Any]] = []
    texts: list[str] = []
    sources: set[str] = set()
    for annotation in lesion.annotations:
        for value in measurements.get(annotation.id, ()):
            record = _measurement_json(value)
            record["annotation_id"] = annotation.id
            record["annotation_kind"] = annotation.kind
            if annotation.label:
                record["annotation_label"] = annotation.label
            values.append(record)
            texts.append(_format_measurement(value))
            sources.add(_spacing_label(value.spacing_source))
    return values, texts, sources


def build_case_sheet(
    case: TeachingCase,
    annotation_set: AnnotationSet,
    measurements: Mapping[str, Sequence[Measurement]] | None = None,
    *,
    images: Sequence[KeyImage] = (),
    deidentification: Mapping[str, Any] | None = None,
) -> tuple[str, dict[str, Any]]:
    """The case sheet: Markdown for reading, and the same as JSON.

    Parameters
    ----------
    case : TeachingCase
        Title, history, findings, diagnosis, discussion, references, modality,
        anatomy and keywords.
    annotation_set : AnnotationSet
        The lesions: each gives a row of the lesion table (label, site,
        finding, diagnosis, measurements with units, and the spacing they use).
    measurements : mapping of str to sequence of Measurement, optional
        By annotation id (:func:`measure_annotations`); computed with no
        spacing information when not given.
    images : sequence of KeyImage
        The exported images, listed (and shown) in the sheet.
    deidentification : mapping, optional
        What was done to the exported DICOM (method, dates), recorded in the
        JSON and summarised in the Markdown; None when nothing was.

    Returns
    -------
    (str, dict)
        The Markdown text and the JSON document (``schema``
        :data:`CASE_SCHEMA`).

    References
    ----------
    PS3.3 10.7.1.3 (which pixel spacing a measurement uses).
    """
    values = (
        measure_annotations(annotation_set) if measurements is None else measurements
    )
    lesions_json: list[dict[str, Any]] = []
    table: list[str] = [
        "| Lesion | Site | Finding | Diagnosis | Measurements | Spacing |",
        "|---|---|---|---|---|---|",
    ]
    for number, lesion in enumerate(annotation_set.lesions, start=1):
        label = lesion.label or f"Lesion {number}"
        rows, texts, sources = _lesion_rows(lesion, values)
        lesions_json.append(
            {
                "label": label,
                "site": lesion.site,
                "finding": lesion.finding,
                "diagnosis": lesion.diagnosis,
                "note": lesion.note,
                "colour": lesion.colour,
                "annotations": [
                    {"id": a.id, "kind": a.kind, "label": a.label}
                    for a in lesion.annotations
                ],
                "measurements": rows,
            }
        )
        table.append(
            "| "
            + " | ".join(
                _cell(text)
                for text in (
                    label,
                    lesion.site,
                    lesion.finding,
                    lesion.diagnosis,
                    "; ".join(texts),
                    ", ".join(sorted(sources)),
                )
            )
            + " |"
        )
    images_json = [
        {
            "name": image.name,
            "annotated_png": image.annotated_png,
            "clean_png": image.clean_png,
            "dicom": image.dicom or None,
            "modality": image.modality,
            "series_number": image.series_number,
            "slice_index": image.slice_index,
            "n_slices": image.n_slices,
            "time_index": image.time_index,
            "columns": image.columns,
            "rows": image.rows,
            "pixel_spacing_mm": (
                list(image.pixel_spacing_mm) if image.pixel_spacing_mm else None
            ),
            "spacing_source": _spacing_label(image.spacing_source),
            "window": image.window,
            "lesions": list(image.lesions),
            "sop_instance_uid": image.sop_instance_uid,
        }
        for image in images
    ]
    document: dict[str, Any] = {
        "schema": CASE_SCHEMA,
        "written_by": f"imaging_viewer {__version__}",
        "title": case.title,
        "history": case.history,
        "findings": case.findings,
        "diagnosis": case.diagnosis,
        "discussion": case.discussion,
        "references": list(case.references),
        "modality": case.modality,
        "anatomy": case.anatomy,
        "keywords": list(case.keywords),
        "lesions": lesions_json,
        "images": images_json,
        "deidentification": dict(deidentification) if deidentification else None,
    }
    return _markdown(case, table, images, deidentification), document


def _markdown(
    case: TeachingCase,
    table: list[str],
    images: Sequence[KeyImage],
    deidentification: Mapping[str, Any] | None,
) -> str:
    lines = [f"# {' '.join(case.title.split()) or 'Teaching case'}", ""]
    details = [
        ("Modality", case.modality),
        ("Anatomy", case.anatomy),
        ("Keywords", ", ".join(case.keywords)),
    ]
    for name, value in details:
        if value.strip():
            lines.append(f"**{name}:** {' '.join(value.split())}  ")
    if any(value.strip() for _, value in details):
        lines.append("")
    for heading, text in (
        ("History", case.history),
        ("Findings", case.findings),
        ("Diagnosis", case.diagnosis),
        ("Discussion", case.discussion),
    ):
        lines += [f"## {heading}", "", text.strip() or "—", ""]
    lines += ["## Lesions", "", *table, ""]
    if images:
        lines += ["## Key images", ""]
        for image in images:
            where = f"slice {image.slice_index + 1} of {image.n_slices}"
            if image.time_index:
                where += f", time point {image.time_index + 1}"
            shown = ", ".join(image.lesions) or "no lesion"
            caption = " · ".join(
                part
                for part in (
                    image.modality,
                    f"series {image.series_number}"
                    if image.series_number is not None
                    else "",
                    where,
                    image.window,
                    shown,
                )
                if part
            )
            lines += [
                f"### {image.name}",
                "",
                f"![{image.name}]({image.annotated_png})",
                "",
                caption + "  ",
                f"Without annotations: [{image.clean_png}]({image.clean_png})"
                + (f" · DICOM: [{image.dicom}]({image.dicom})" if image.dicom else ""),
                "",
            ]
    lines += ["## References", ""]
    if case.references:
        lines += [
            f"{n}. {' '.join(r.split())}" for n, r in enumerate(case.references, 1)
        ]
    else:
        lines.append("—")
    lines.append("")
    if deidentification:
        method = deidentification.get("method", [])
        lines += [
            "---",
            "",
            "De-identified: " + "; ".join(str(m) for m in method) + ".",
            "",
        ]
    return "\n".join(lines)


# ---------------------------------------------------------------------- files


def case_json_text(document: Mapping[str, Any]) -> str:
    """``case.json``: indented, UTF-8, no NaN."""
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
