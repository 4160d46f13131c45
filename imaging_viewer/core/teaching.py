"""Teaching cases: key images of the annotated lesions, and the case sheet.

Qt-free: which acquired images show the lesions (:func:`select_key_images`),
what their annotations measure (:func:`measure_annotations`), the annotation
file with its UIDs replaced for a de-identified case (:func:`remap_annotations`),
and the case sheet in Markdown and JSON (:func:`build_case_sheet`). Rendering
and writing the images is ``imaging_viewer.ui.teaching_export``.

The case fields follow teaching file systems such as RSNA's: title, history,
findings, diagnosis, discussion and references, plus modality, anatomy and
keywords.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from imaging_viewer import __version__
from imaging_viewer.core.annotations.measure import (
    Measurement,
    NoSpacingError,
    measure,
)
from imaging_viewer.core.annotations.model import AnnotationSet, Lesion
from imaging_viewer.core.dicom.scan import read_header
from imaging_viewer.core.files import write_text_atomic

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from imaging_viewer.core.annotations.model import Annotation
    from imaging_viewer.core.dicom.series import SeriesInfo

__all__ = [
    "CASE_SCHEMA",
    "KeyImage",
    "KeyImageRef",
    "TeachingCase",
    "build_case_sheet",
    "case_json_text",
    "measure_annotations",
    "remap_annotations",
    "select_key_images",
    "write_text_atomic",
]

CASE_SCHEMA: Final = "imaging_viewer.teaching_case/1"
"""The ``schema`` of ``case.json``."""

# An annotation counts as drawn on a slice's plane when its normal is this
# parallel to the slice normal (cos of ~2.6°).
_PARALLEL_COS: Final = 0.999


@dataclass(frozen=True)
class TeachingCase:
    """The text of a teaching case, as the author writes it.

    Nothing here is taken from the images: these fields are exported as given,
    so they must not name the patient.
    """

    title: str = ""
    history: str = ""
    findings: str = ""
    diagnosis: str = ""
    discussion: str = ""
    references: tuple[str, ...] = ()
    modality: str = ""
    anatomy: str = ""
    keywords: tuple[str, ...] = ()


# ------------------------------------------------------------------ key images


@dataclass(frozen=True, eq=False)
class KeyImageRef:
    """One acquired image of a scanned series chosen for the case."""

    series: SeriesInfo
    slice_index: int
    """``k``: the slice of the series' volume, 0-based."""
    time_index: int
    path: str
    """The DICOM file holding it."""
    frame_index: int
    """0-based frame within ``path`` (0 for a single-frame file)."""
    sop_instance_uid: str
    annotation_ids: tuple[str, ...] = ()
    """Annotations that chose this image (drawn on it, or nearest to it)."""

    @property
    def key(self) -> tuple[str, int, int]:
        """(series id, k, t): what makes two references the same image."""
        return (self.series.id, self.slice_index, self.time_index)


class _SopIndex:
    """SOP Instance UIDs of the scanned files, read when first asked for."""

    def __init__(self) -> None:
        self._by_path: dict[str, str] = {}

    def uid(self, path: str) -> str:
        if path not in self._by_path:
            header = read_header(path)
            self._by_path[path] = str(getattr(header, "sop_instance_uid", "") or "")
        return self._by_path[path]


def _image_ref(
    series: SeriesInfo, k: int, t: int, index: _SopIndex, ids: tuple[str, ...] = ()
) -> KeyImageRef:
    frame = series.frames[t][k]
    return KeyImageRef(
        series=series,
        slice_index=k,
        time_index=t,
        path=frame.path,
        frame_index=frame.frame_index,
        sop_instance_uid=index.uid(frame.path),
        annotation_ids=ids,
    )


def _find_referenced(
    annotation: Annotation, series_list: Sequence[SeriesInfo], index: _SopIndex
) -> tuple[SeriesInfo, int, int] | None:
    """The (series, k, t) of the image an annotation names, if scanned."""
    uid = annotation.referenced_sop_instance_uid
    frame = (annotation.referenced_frame or 1) - 1
    for series in series_list:
        if (
            annotation.frame_of_reference_uid
            and series.frame_of_reference_uid
            and series.frame_of_reference_uid != annotation.frame_of_reference_uid
        ):
            continue
        for t, slices in enumerate(series.frames):
            for k, ref in enumerate(slices):
                if ref.frame_index == frame and index.uid(ref.path) == uid:
                    return series, k, t
    return None


def _nearest_slice(
    annotation: Annotation, series_list: Sequence[SeriesInfo]
) -> tuple[SeriesInfo, int] | None:
    """The acquired slice nearest to an annotation in its frame of reference.

    Series whose slices are parallel to the plane the annotation was drawn on
    come first; then the one whose nearest slice lies closest to its points.
    """
    frame = annotation.frame_of_reference_uid
    if not frame:
        return None
    points = annotation.points_lps
    normal = np.asarray(annotation.plane_normal_lps)
    best: tuple[tuple[int, float], SeriesInfo, int] | None = None
    for series in series_list:
        if series.frame_of_reference_uid != frame or series.is_projection:
            continue
        affine = np.asarray(series.ijk_to_lps, dtype=np.float64)
        try:
            ijk = (points - affine[:3, 3]) @ np.linalg.inv(affine[:3, :3]).T
        except np.linalg.LinAlgError:
            continue
        n_slices, rows, columns = series.shape_kji
        i, j, k_values = ijk[:, 0], ijk[:, 1], ijk[:, 2]
        inside = (
            np.all((i >= -0.5) & (i <= columns - 0.5))
            and np.all((j >= -0.5) & (j <= rows - 0.5))
            and np.all((k_values >= -0.5) & (k_values <= n_slices - 0.5))
        )
        if not inside:
            continue
        k = int(np.clip(round(float(k_values.mean())), 0, n_slices - 1))
        slice_normal = np.cross(affine[:3, 0], affine[:3, 1])
        norm = float(np.linalg.norm(slice_normal))
        parallel = norm > 0 and abs(float(slice_normal @ normal)) / norm >= (
            _PARALLEL_COS
        )
        step_mm = float(np.linalg.norm(affine[:3, 2]))
        off_plane_mm = float(np.max(np.abs(k_values - k))) * step_mm
        score = (0 if parallel else 1, off_plane_mm)
        if best is None or score < best[0]:
            best = (score, series, k)
    if best is None:
        return None
    return best[1], best[2]


def _find_series(series_list: Sequence[SeriesInfo], selector: str) -> SeriesInfo:
    if selector.isdigit() and int(selector) < len(series_list):
        return series_list[int(selector)]
    matches = [s for s in series_list if selector in (s.id, s.uid)]
    if len(matches) != 1:
        raise LookupError(
            f"no single series {selector!r}: give an index 0..{len(series_list) - 1},"
            " a series id or a Series Instance UID"
        )
    return matches[0]


def select_key_images(
    series_list: Sequence[SeriesInfo],
    annotation_set: AnnotationSet,
    key_images: Iterable[str | tuple[str, int]] = (),
) -> tuple[list[KeyImageRef], list[str]]:
    """The acquired images a teaching case shows: those its annotations are on.

    Each annotation picks the image it was drawn on
    (``referenced_sop_instance_uid`` and ``referenced_frame``), or, when it was
    drawn on a reformatted plane (or its image is not among ``series_list``),
    the acquired slice nearest to it in its frame of reference, preferring
    series whose slices are parallel to the plane it was drawn on. Images
    named in ``key_images`` are added.

    Parameters
    ----------
    series_list : sequence of SeriesInfo
        The scanned series (``ScanResult.series``).
    annotation_set : AnnotationSet
        The lesions and their annotations.
    key_images : iterable
        More images: a SOP Instance UID, or ``(series, k)`` with the series as
        an index, id or Series Instance UID and ``k`` its slice (0-based).

    Returns
    -------
    (list of KeyImageRef, list of str)
        The images, in lesion order and then in the order given, each once;
        and a line for each annotation that lies on no scanned image.

    Raises
    ------
    LookupError
        When an image of ``key_images`` is not among the scanned series.
    """
    index = _SopIndex()
    found: dict[tuple[str, int, int], KeyImageRef] = {}
    warnings: list[str] = []

    def add(series: SeriesInfo, k: int, t: int, annotation_id: str | None) -> None:
        key = (series.id, k, t)
        ids = (annotation_id,) if annotation_id else ()
        if key in found:
            existing = found[key]
            found[key] = replace(existing, annotation_ids=existing.annotation_ids + ids)
        else:
            found[key] = _image_ref(series, k, t, index, ids)

    for lesion in annotation_set.lesions:
        for annotation in lesion.annotations:
            referenced = (
                _find_referenced(annotation, series_list, index)
                if annotation.referenced_sop_instance_uid
                else None
            )
            if referenced is not None:
                add(*referenced, annotation.id)
                continue
            nearest = _nearest_slice(annotation, series_list)
            if nearest is not None:
                add(nearest[0], nearest[1], 0, annotation.id)
                continue
            name = lesion.label or "a lesion"
            warnings.append(
                f"{name}: {annotation.kind.replace('_', ' ')} {annotation.id} lies on "
                "no scanned image (its image or frame of reference is not there)"
            )
    for wanted in key_images:
        if isinstance(wanted, str):
            located = _locate_sop(series_list, wanted, index)
            if located is None:
                raise LookupError(f"no scanned image has SOP Instance UID {wanted}")
            add(*located, None)
        else:
            selector, k = wanted
            series = _find_series(series_list, selector)
            if not 0 <= k < series.shape_kji[0]:
                raise LookupError(
                    f"series {series.id} has slices 0 to {series.shape_kji[0] - 1}, "
                    f"not {k}"
                )
            add(series, k, 0, None)
    return list(found.values()), warnings


def _locate_sop(
    series_list: Sequence[SeriesInfo], uid: str, index: _SopIndex
) -> tuple[SeriesInfo, int, int] | None:
    for series in series_list:
        for t, slices in enumerate(series.frames):
            for k, ref in enumerate(slices):
                if index.uid(ref.path) == uid:
                    return series, k, t
    return None


# ---------------------------------------------------------------- measurements


def measure_annotations(
    annotation_set: AnnotationSet,
    spacing_sources: Mapping[str, str] | None = None,
) -> dict[str, tuple[Measurement, ...]]:
    """What each annotation measures, by annotation id.

    Parameters
    ----------
    annotation_set : AnnotationSet
        The lesions and their annotations.
    spacing_sources : mapping of str to str, optional
        ``Volume.spacing_source`` (via ``measure.spacing_source_of``) of the
        image each annotation lies on, by annotation id; ``""`` where not given.

    Returns
    -------
    dict of str to tuple of Measurement
        Annotations whose lengths cannot be given in mm (no pixel spacing) keep
        only what needs no spacing (angles), or nothing.
    """
    sources = spacing_sources or {}
    result: dict[str, tuple[Measurement, ...]] = {}
    for annotation in annotation_set.annotations():
        source = sources.get(annotation.id, "")
        try:
            result[annotation.id] = measure(annotation, spacing_source=source)
        except NoSpacingError:
            result[annotation.id] = ()
    return result


# ----------------------------------------------------------------- remapping


def remap_annotations(
    annotation_set: AnnotationSet, remap_uid: Callable[[str], str]
) -> AnnotationSet:
    """A copy of ``annotation_set`` with every UID replaced by ``remap_uid``.

    Frame of Reference, referenced SOP Instance and lesion Tracking UIDs are
    replaced (PS3.15 Table E.1-1 action U), so the annotations of a
    de-identified case refer to its new UIDs. Points stay: a frame of reference
    keeps its coordinates under a new UID. Ids are random and kept.
    """
    lesions = []
    for lesion in annotation_set.lesions:
        annotations = tuple(
            replace(
                annotation,
                frame_of_reference_uid=(
                    remap_uid(annotation.frame_of_reference_uid)
                    if annotation.frame_of_reference_uid
                    else ""
                ),
                referenced_sop_instance_uid=(
                    remap_uid(annotation.referenced_sop_instance_uid)
                    if annotation.referenced_sop_instance_uid
                    else ""
                ),
            )
            for annotation in lesion.annotations
        )
        lesions.append(
            replace(
                lesion,
                tracking_uid=remap_uid(lesion.tracking_uid),
                annotations=annotations,
            )
        )
    return AnnotationSet(lesions)


# ----------------------------------------------------------------- case sheet


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
    if value.unit == "deg":
        return f"{value.name} {value.value:.1f}°"
    unit = {"mm2": "mm²"}.get(value.unit, value.unit)
    return f"{value.name} {value.value:.1f} {unit}".rstrip()


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
