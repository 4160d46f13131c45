"""Teaching export: a case folder of key images, de-identified DICOM and a case sheet.

:func:`export_teaching_case` writes, for the lesions of an annotation set::

    <case>/case.md, case.json        the case sheet (core.teaching)
    <case>/annotations.json          the annotations, UIDs replaced like the DICOM
    <case>/images/key01.png          native resolution, annotations burned in
    <case>/images/key01_clean.png    the same image without anything drawn on it
    <case>/dicom/key01.dcm           the key image, de-identified, pixels unchanged
    <case>/dicom/report_sr.dcm       TID 1500 Measurement Report of the lesions
    <case>/dicom/annotations_pr.dcm  Grayscale Softcopy Presentation State

The folder is built beside ``<case>`` under a hidden temporary name and renamed
into place when complete, so a failure leaves no half-written case.

:func:`draw_annotations` draws annotations with QPainter onto an image of a
slice, at its resolution; the viewport can draw with it too.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import (
    QColor,
    QGuiApplication,
    QPainter,
)

from imaging_viewer.core.annotations.measure import (
    Measurement,
    is_within_slab,
    roi_stats,
    spacing_source_of,
)
from imaging_viewer.core.annotations.model import (
    AnnotationSet,
    EllipseRoi,
    PolygonRoi,
)
from imaging_viewer.core.annotations.serialize import to_json
from imaging_viewer.core.dicom.burned_in_text import (
    PixelTextError,
    TextBox,
    clean_pixel_data,
    ocr_available,
    risk_of_burned_in_text,
)
from imaging_viewer.core.dicom.deidentify import (
    BurnedInAnnotationError,
    DeidContext,
    deidentify,
    leak_check_values,
    read_dataset,
    write_dataset,
)
from imaging_viewer.core.dicom.load import load_volume
from imaging_viewer.core.leftovers import remove_leftovers
from imaging_viewer.core.mpr import SlicePlane
from imaging_viewer.core.teaching import (
    KeyImage,
    build_case_sheet,
    case_json_text,
    measure_annotations,
    remap_annotations,
    select_key_images,
    write_text_atomic,
)
from imaging_viewer.core.viewer_state import ViewportState
from imaging_viewer.ui.annotation_overlay import draw_annotations
from imaging_viewer.ui.export import render_view_image, save_png

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from numpy.typing import NDArray
    from pydicom.dataset import Dataset
    from PySide6.QtGui import QImage

    from imaging_viewer.core.annotations.measure import RoiStats
    from imaging_viewer.core.annotations.model import Annotation, Lesion
    from imaging_viewer.core.dicom.scan import ScanResult
    from imaging_viewer.core.teaching import KeyImageRef, TeachingCase
    from imaging_viewer.core.volume import Volume, Window

__all__ = [
    "TeachingExport",
    "TeachingExportError",
    "export_teaching_case",
]

ELLIPSE_SEGMENTS: Final = 96
_OUTLINE = QColor(0, 0, 0, 200)
_SR_SERIES_NUMBER: Final = 9901
_PR_SERIES_NUMBER: Final = 9902


class TeachingExportError(Exception):
    """A teaching case that cannot be written; nothing is left behind."""


# ------------------------------------------------------------------ drawing


def _plane(pixel_to_lps: NDArray[np.float64]) -> SlicePlane:
    """The plane of a slice: its pixel grid, rows made exactly perpendicular.

    Header orientations are rounded, so row and column directions can be off
    perpendicular by a few parts per million; projecting with the corrected
    grid moves points by far less than a pixel.
    """
    column_step = np.asarray(pixel_to_lps[:3, 0], dtype=np.float64)
    row_step = np.asarray(pixel_to_lps[:3, 1], dtype=np.float64)
    column_mm = float(np.linalg.norm(column_step))
    row_mm = float(np.linalg.norm(row_step))
    right = column_step / column_mm
    down = row_step / row_mm
    down = down - float(down @ right) * right
    down = down / float(np.linalg.norm(down))
    return SlicePlane(
        origin_lps=np.asarray(pixel_to_lps[:3, 3], dtype=np.float64),
        right_lps=right,
        down_lps=down,
        spacing_mm=(column_mm, row_mm),
        size_px=(1, 1),
    )


# ------------------------------------------------------------------- export


@dataclass(frozen=True)
class TeachingExport:
    """What :func:`export_teaching_case` wrote."""

    folder: Path
    images: tuple[KeyImage, ...]
    files: tuple[Path, ...]
    """Every file written, in the final folder."""
    structured_report: Path | None
    presentation_state: Path | None
    warnings: tuple[str, ...]
    """Annotations left out, images flagged for possible burned-in text, and
    SR/GSPS problems: one line each."""
    skipped: tuple[str, ...]
    """Key images left out (e.g. Burned In Annotation YES), one line each."""


@dataclass
class _Image:
    ref: KeyImageRef
    volume: Volume
    source: Dataset
    exported: Dataset
    name: str
    dicom_name: str


def _window_label(viewport: ViewportState) -> str:
    window = viewport.window
    parts = []
    center = getattr(window, "center", None)
    width = getattr(window, "width", None)
    if center is not None and width is not None:
        parts.append(f"W {width:g} L {center:g}")
    elif window is not None:
        parts.append("VOI LUT")
    if viewport.window_label:
        parts.append(f"({viewport.window_label})")
    return " ".join(parts)


def _show(
    ref: KeyImageRef,
    volume: Volume,
    window: Window | None,
    preset: str | None,
    warnings: list[str],
) -> ViewportState:
    viewport = ViewportState()
    viewport.show(ref.series, volume)
    viewport.set_slice(ref.slice_index)
    viewport.set_time(ref.time_index)
    if window is not None and not volume.is_rgb:
        viewport.set_window(window, "manual")
    elif preset is not None and volume.modality == "CT":
        viewport.apply_preset(preset)
    else:
        if preset is not None:
            warnings.append(
                f"{ref.series.modality or 'image'} series {ref.series.series_number}: "
                f"{preset} is a CT window; its own window is used"
            )
        if viewport.window_label == "auto":
            viewport.apply_auto_window()
    return viewport


def _shown_on(
    annotation_set: AnnotationSet,
    ref: KeyImageRef,
    volume: Volume,
    pixel_to_lps: NDArray[np.float64],
) -> list[tuple[Lesion | None, Annotation]]:
    """Annotations within half a slice of the image, and those that chose it."""
    plane = _plane(pixel_to_lps)
    step_mm = float(np.linalg.norm(pixel_to_lps[:3, 2])) or 1.0
    chosen = set(ref.annotation_ids)
    shown: list[tuple[Lesion | None, Annotation]] = []
    for lesion in annotation_set.lesions:
        for annotation in lesion.annotations:
            if annotation.id in chosen or is_within_slab(
                annotation,
                plane,
                step_mm,
                frame_of_reference_uid=volume.frame_of_reference_uid,
                sop_instance_uid=ref.sop_instance_uid,
            ):
                shown.append((lesion, annotation))
    return shown


def _roi_measurements(
    annotation_set: AnnotationSet,
    refs: Sequence[tuple[KeyImageRef, Volume]],
) -> tuple[dict[str, RoiStats], dict[str, str]]:
    """ROI statistics and the spacing source of each annotation's image."""
    stats: dict[str, RoiStats] = {}
    sources: dict[str, str] = {}
    for ref, volume in refs:
        for annotation_id in ref.annotation_ids:
            sources[annotation_id] = spacing_source_of(volume)
            annotation = annotation_set.annotation(annotation_id)
            if isinstance(annotation, EllipseRoi | PolygonRoi) and not volume.is_rgb:
                with contextlib.suppress(ValueError):
                    stats[annotation_id] = roi_stats(
                        volume, annotation, time_index=ref.time_index
                    )
    return stats, sources


def _with_stats(
    measurements: dict[str, tuple[Measurement, ...]],
    stats: Mapping[str, RoiStats],
    modalities: Mapping[str, str],
) -> dict[str, tuple[Measurement, ...]]:
    result = dict(measurements)
    for annotation_id, values in stats.items():
        if not values.pixel_count:
            continue
        unit = "HU" if modalities.get(annotation_id) == "CT" else ""
        extra = tuple(
            Measurement(name, value, unit, values.spacing_source)
            for name, value in (
                ("mean", values.mean),
                ("SD", values.sd),
                ("min", values.min),
                ("max", values.max),
            )
        )
        result[annotation_id] = result.get(annotation_id, ()) + extra
    return result


def _scan_for_leaks(folder: Path, values: Mapping[str, str]) -> None:
    encoded = {text.encode("utf-8"): keyword for text, keyword in values.items()}
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        for needle, keyword in encoded.items():
            if needle in data:
                relative = path.relative_to(folder)
                raise TeachingExportError(
                    f"{relative} holds the {keyword} of a source image; nothing was "
                    "written (if it comes from the case text, take it out there)"
                )


def _prepare_folder(out_dir: Path) -> Path:
    if out_dir.exists():
        if not out_dir.is_dir():
            raise TeachingExportError(f"{out_dir}: is a file, not a folder")
        if any(out_dir.iterdir()):
            raise TeachingExportError(f"{out_dir}: is not empty; give a new folder")
    parent = out_dir.parent
    parent.mkdir(parents=True, exist_ok=True)
    if not os.access(parent, os.W_OK):
        raise TeachingExportError(f"{out_dir}: cannot write (folder {parent})")
    remove_leftovers(parent, out_dir.name)  # staging of an export killed before
    return Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=parent))


def _clean_burned_in_text(
    source: Dataset,
    exported: Dataset,
    name: str,
    redacted: dict[str, int],
    redactions: Mapping[str, Sequence[TextBox]],
) -> list[TextBox]:
    """Black out the burned-in text of an image at risk and the user's rectangles,
    or raise PixelTextError."""
    risk = risk_of_burned_in_text(source)
    own = list(redactions.get(str(source.get("SOPInstanceUID", "")), ()))
    if risk is None:
        if not own:
            return []
        boxes = clean_pixel_data(exported, own, use_ocr=False)
        redacted[name] = len(boxes)
        return boxes
    if not ocr_available():
        raise PixelTextError(
            f"{risk}; no OCR is installed to find and black out its text "
            "(install tesseract-ocr and pytesseract), so it is not exported as "
            "de-identified"
        )
    boxes = clean_pixel_data(exported, own)
    redacted[name] = len(boxes)
    return boxes


def _black_out_boxes(image: QImage, boxes: Sequence[TextBox], source: Dataset) -> None:
    """Black boxes found in the DICOM frame on its rendering (scaled to its size)."""
    rows = int(source.get("Rows", image.height()) or image.height())
    columns = int(source.get("Columns", image.width()) or image.width())
    sx, sy = image.width() / columns, image.height() / rows
    painter = QPainter(image)
    try:
        for box in boxes:
            painter.fillRect(
                QRectF(box.column * sx, box.row * sy, box.width * sx, box.height * sy),
                QColor(0, 0, 0),
            )
    finally:
        painter.end()


def _structured_documents(
    annotation_set: AnnotationSet,
    images: Sequence[_Image],
    stats: Mapping[str, RoiStats],
    window: Window | None,
    warnings: list[str],
) -> tuple[Dataset | None, Dataset | None]:
    """The SR and the GSPS of the case, made from the exported images.

    The modules are optional: where they are missing, the case goes without.
    """
    try:
        from imaging_viewer.core.dicom.presentation_state import (
            export_presentation_state,
        )
        from imaging_viewer.core.dicom.structured_report import (
            export_measurement_report,
        )
    except ImportError as error:
        warnings.append(f"no SR or presentation state: {error}")
        return None, None
    sources = {str(image.exported.SOPInstanceUID): image.exported for image in images}
    placements = {
        str(image.exported.SOPInstanceUID): np.asarray(
            image.volume.ijk_to_lps, dtype=np.float64
        )
        for image in images
        if image.volume.is_projection
    }
    report = state = None
    try:
        result = export_measurement_report(
            annotation_set,
            sources,
            series_number=_SR_SERIES_NUMBER,
            roi_stats=stats,
            pixel_to_lps=placements or None,
        )
        report = result.dataset
        warnings.extend(f"SR: {line}" for line in result.warnings)
    except ValueError as error:
        warnings.append(f"no SR: {error}")
    grey = {
        uid: ds for uid, ds in sources.items() if int(ds.get("SamplesPerPixel", 1)) == 1
    }
    try:
        if not grey:
            raise ValueError("no grayscale key image")
        pr = export_presentation_state(
            annotation_set,
            grey,
            series_number=_PR_SERIES_NUMBER,
            window=window,
            pixel_to_lps=placements or None,
        )
        state = pr.dataset
        warnings.extend(f"presentation state: {line}" for line in pr.warnings)
    except ValueError as error:
        warnings.append(f"no presentation state: {error}")
    return report, state


# Type 1 dates of the documents this export writes itself (PS3.3 C.17.2 SR
# Document General, C.11.10 Presentation State Identification). The profile
# empties or removes them; they then get a dummy value consistent with the VR,
# which PS3.15 E.1.1 allows ("D"), so the files stay valid.
_DUMMY_DATE, _DUMMY_TIME = "19000101", "000000"
_REQUIRED_CREATION = (
    ("ContentDate", "ContentTime"),
    ("PresentationCreationDate", "PresentationCreationTime"),
)


def _restore_required_creation_dates(dataset: Any) -> None:
    sop_class = str(dataset.get("SOPClassUID", ""))
    is_report = sop_class.startswith("1.2.840.10008.5.1.4.1.1.88.")
    is_state = sop_class.startswith("1.2.840.10008.5.1.4.1.1.11.")
    for (date, time), wanted in zip(
        _REQUIRED_CREATION, (is_report, is_state), strict=True
    ):
        if wanted:
            if not dataset.get(date):
                setattr(dataset, date, _DUMMY_DATE)
            if not dataset.get(time):
                setattr(dataset, time, _DUMMY_TIME)
    if is_report and "ReferencedPerformedProcedureStepSequence" not in dataset:
        dataset.ReferencedPerformedProcedureStepSequence = []  # Type 2: may be empty


def export_teaching_case(
    scan_result: ScanResult,
    annotation_set: AnnotationSet,
    case: TeachingCase,
    out_dir: str | os.PathLike[str],
    *,
    deidentify: bool = True,
    keep_dates: bool = False,
    date_shift_days: int = 0,
    key_images: Sequence[str | tuple[str, int]] | None = None,
    case_key: str | None = None,
    window: Window | None = None,
    preset: str | None = None,
    study_uid: str = "",
    progress: Callable[[int, int], None] | None = None,
    redactions: Mapping[str, Sequence[TextBox]] | None = None,
) -> TeachingExport:
    """Write a teaching case folder for the lesions of ``annotation_set``.

    Key images are the acquired images the annotations were drawn on (or the
    nearest acquired slice to each), plus ``key_images``
    (:func:`~imaging_viewer.core.teaching.select_key_images`). Each is written
    at native resolution as a PNG with its annotations burned in (and corner
    text: only technical lines when de-identifying, never patient data) and as
    a clean PNG, and its DICOM file is written de-identified with pixels
    unchanged (PS3.15 Basic Profile, UIDs replaced consistently across the
    case). The SR and presentation state of the lesions refer to the new UIDs.
    When de-identifying, every file written is scanned for the source's
    names, IDs, dates and UIDs before the folder is put in place.

    Parameters
    ----------
    scan_result : ScanResult
        The scanned study.
    annotation_set : AnnotationSet
        Its lesions and annotations.
    case : TeachingCase
        Title, history, findings, diagnosis, discussion, references, ...
    out_dir : path-like
        The case folder: new, or empty.
    deidentify : bool
        False keeps the DICOM as it is and the patient lines in the corner
        text (for a private archive, not for teaching).
    keep_dates : bool
        Retain Longitudinal Temporal Information (PS3.15 E.3.6): keep dates,
        shifted by ``date_shift_days`` when that is not 0.
    date_shift_days : int
        Days added to every date (implies ``keep_dates``).
    key_images : sequence, optional
        More images: SOP Instance UIDs, or ``(series, k)`` pairs.
    case_key : str, optional
        Secret that makes new UIDs repeatable: the same key and sources give
        the same UIDs. A random one by default.
    window : Window, optional
        Window of every image; by default each image's own.
    preset : str, optional
        A CT window preset (``CT_PRESETS`` name) for CT images.
    study_uid : str
        Study Instance UID of the annotations (for ``annotations.json``);
        by default that of the first key image.
    progress : callable, optional
        ``progress(done, total)`` after each key image.
    redactions : mapping, optional
        The user's own rectangles to black out, by source SOP Instance UID
        (pixels of the stored frame), applied with those OCR finds when
        de-identifying.

    Returns
    -------
    TeachingExport

    Raises
    ------
    TeachingExportError
        When the folder is not empty, nothing can be exported, or a source
        value was found in a file written (nothing is left behind).
    RuntimeError
        Without a QGuiApplication (needed for text).
    """
    if QGuiApplication.instance() is None:
        raise RuntimeError("a teaching export needs a QGuiApplication (for text)")
    folder = Path(out_dir)
    refs, warnings = select_key_images(
        scan_result.series, annotation_set, key_images or ()
    )
    if not refs:
        raise TeachingExportError(
            "no key images: no annotation lies on a scanned image, and none was "
            "named" + (f" ({'; '.join(warnings)})" if warnings else "")
        )
    keep = keep_dates or date_shift_days != 0
    context = DeidContext(
        case_key or secrets.token_hex(16),
        keep_dates=keep,
        date_shift_days=date_shift_days,
    )
    staging = _prepare_folder(folder)
    try:
        result = _export(
            staging,
            folder,
            refs,
            annotation_set,
            case,
            context if deidentify else None,
            window,
            preset,
            study_uid,
            warnings,
            progress,
            redactions or {},
        )
        if folder.exists():
            folder.rmdir()
        os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return result


def _export(
    staging: Path,
    folder: Path,
    refs: Sequence[KeyImageRef],
    annotation_set: AnnotationSet,
    case: TeachingCase,
    context: DeidContext | None,
    window: Window | None,
    preset: str | None,
    study_uid: str,
    warnings: list[str],
    progress: Callable[[int, int], None] | None,
    redactions: Mapping[str, Sequence[TextBox]],
) -> TeachingExport:
    (staging / "images").mkdir()
    (staging / "dicom").mkdir()
    volumes: dict[str, Volume] = {}
    written_dicom: dict[str, str] = {}
    images: list[_Image] = []
    redacted: dict[str, int] = {}
    key_images: list[KeyImage] = []
    skipped: list[str] = []
    files: list[Path] = []
    for number, ref in enumerate(refs, start=1):
        name = f"key{number:02d}"
        series = ref.series
        try:
            source = read_dataset(ref.path)
        except Exception as error:
            skipped.append(f"{name}: cannot read its DICOM file ({error})")
            continue
        exported = source
        text_boxes: list[TextBox] = []
        if context is not None:
            try:
                exported = deidentify(source, context)
                # Issue 18: text burned into the pixels is found and blacked out,
                # or the image is refused (core/dicom/burned_in_text.py).
                text_boxes = _clean_burned_in_text(
                    source, exported, name, redacted, redactions
                )
            except (BurnedInAnnotationError, PixelTextError) as error:
                skipped.append(
                    f"{name} (series {series.series_number}, slice "
                    f"{ref.slice_index + 1}) left out: {error}"
                )
                continue
        if series.id not in volumes:
            volumes[series.id] = load_volume(series)
        volume = volumes[series.id]
        for message in volume.warnings:
            if message not in warnings:
                warnings.append(message)
        viewport = _show(ref, volume, window, preset, warnings)
        pixel_to_lps = viewport.pixel_to_lps()
        assert pixel_to_lps is not None
        clean = render_view_image(viewport, overlays=False)
        burned = render_view_image(
            viewport, overlays=True, include_patient=context is None
        )
        if text_boxes:
            _black_out_boxes(clean, text_boxes, source)
            _black_out_boxes(burned, text_boxes, source)
        shown = _shown_on(annotation_set, ref, volume, pixel_to_lps)
        painter = QPainter(burned)
        try:
            rows, columns = burned.height(), burned.width()
            # The viewport's drawing, in image pixels: pixel (c, r) is centred
            # at (c + 0.5, r + 0.5); lines and text scale with the image.
            draw_annotations(
                painter,
                [(lesion, item) for lesion, item in shown if lesion is not None],
                _plane(pixel_to_lps),
                lambda column, row: QPointF(column + 0.5, row + 0.5),
                spacing_source=spacing_source_of(volume),
                line_width=max(1.5, min(rows, columns) / 300),
                font_size=max(9.0, min(rows, columns) / 48),
            )
        finally:
            painter.end()
        files.append(save_png(burned, staging / "images" / f"{name}.png"))
        files.append(save_png(clean, staging / "images" / f"{name}_clean.png"))
        dicom_name = written_dicom.get(ref.path, "")
        if not dicom_name:
            dicom_name = f"dicom/{name}.dcm"
            target = staging / dicom_name
            if context is not None:
                write_dataset(exported, target)
            else:
                shutil.copyfile(ref.path, target)
            files.append(target)
            written_dicom[ref.path] = dicom_name
        images.append(_Image(ref, volume, source, exported, name, dicom_name))
        spacing = volume.spacing_mm
        lesions = tuple(dict.fromkeys(lesion.label for lesion, _ in shown if lesion))
        key_images.append(
            KeyImage(
                name=name,
                annotated_png=f"images/{name}.png",
                clean_png=f"images/{name}_clean.png",
                dicom=dicom_name,
                modality=volume.modality,
                series_number=series.series_number,
                slice_index=ref.slice_index,
                n_slices=viewport.n_slices,
                time_index=ref.time_index,
                columns=clean.width(),
                rows=clean.height(),
                pixel_spacing_mm=(
                    None
                    if spacing_source_of(volume) == "none"
                    else (float(spacing[0]), float(spacing[1]))
                ),
                spacing_source=spacing_source_of(volume),
                window=_window_label(viewport),
                lesions=lesions,
                sop_instance_uid=str(exported.get("SOPInstanceUID", "")),
            )
        )
        if progress is not None:
            progress(number, len(refs))
    if not images:
        raise TeachingExportError(
            "no key image could be exported: " + "; ".join(skipped)
        )

    pairs = [(image.ref, image.volume) for image in images]
    stats, sources = _roi_measurements(annotation_set, pairs)
    modalities = {
        annotation_id: image.volume.modality
        for image in images
        for annotation_id in image.ref.annotation_ids
    }
    measurements = _with_stats(
        measure_annotations(annotation_set, sources), stats, modalities
    )
    exported_set = annotation_set
    study = study_uid or images[0].ref.series.study_uid
    frames = sorted(
        {
            image.volume.frame_of_reference_uid
            for image in images
            if image.volume.frame_of_reference_uid
        }
    )
    if context is not None:
        exported_set = remap_annotations(annotation_set, context.remap_uid)
        study = context.remap_uid(study) if study else study
        frames = [context.remap_uid(uid) for uid in frames]
        context_report = context.with_options(
            clean_structured_content=True, clean_graphics=True
        )
    structured_report = presentation_state = None
    report, state = _structured_documents(exported_set, images, stats, window, warnings)
    for dataset, file_name in (
        (report, "report_sr.dcm"),
        (state, "annotations_pr.dcm"),
    ):
        if dataset is None:
            continue
        if context is not None:
            dataset = deidentify(dataset, context_report)
            _restore_required_creation_dates(dataset)
        target = write_dataset(dataset, staging / "dicom" / file_name)
        files.append(target)
        if file_name == "report_sr.dcm":
            structured_report = folder / "dicom" / file_name
        else:
            presentation_state = folder / "dicom" / file_name

    if study:
        document = to_json(exported_set, study, frames)
        files.append(
            write_text_atomic(
                staging / "annotations.json",
                json.dumps(document, ensure_ascii=False, allow_nan=False),
            )
        )
    if context is not None:
        warnings.extend(context.flagged)
        warnings.extend(dict.fromkeys(context.cleaned))
    deidentification: dict[str, Any] | None = None
    if context is not None:
        deidentification = {
            "profile": "DICOM PS3.15 Annex E Basic Application Level "
            "Confidentiality Profile",
            "method": [meaning for _, meaning in context.method_codes()],
            "codes": [
                {"value": value, "scheme": "DCM", "meaning": meaning}
                for value, meaning in context.method_codes()
            ],
            "dates": context.temporal_option,
            "uids": "replaced (2.25 UUID-derived, keyed per case)",
            "private_attributes": "removed",
            "corner_text": "technical lines only, no patient data",
        }
        if redacted:
            deidentification["method"].append(
                "Clean Pixel Data Option: burned-in text blacked out in "
                + ", ".join(f"{key} ({n} regions)" for key, n in redacted.items())
            )
            deidentification["pixel_text_redacted"] = dict(redacted)
    if not case.modality:
        modalities_shown = dict.fromkeys(i.modality for i in key_images if i.modality)
        case = replace(case, modality=", ".join(modalities_shown))
    markdown, sheet = build_case_sheet(
        case,
        annotation_set,
        measurements,
        images=key_images,
        deidentification=deidentification,
    )
    files.append(write_text_atomic(staging / "case.md", markdown))
    files.append(write_text_atomic(staging / "case.json", case_json_text(sheet)))
    if context is not None:
        _scan_for_leaks(
            staging,
            {
                value: keyword
                for image in images
                for value, keyword in leak_check_values(image.source).items()
            },
        )
    return TeachingExport(
        folder=folder,
        images=tuple(key_images),
        files=tuple(folder / path.relative_to(staging) for path in files),
        structured_report=structured_report,
        presentation_state=presentation_state,
        warnings=tuple(warnings),
        skipped=tuple(skipped),
    )
