"""Teaching export: a case folder of key images, de-identified DICOM and a case sheet.

:func:`export_teaching_case` writes, for the lesions of an annotation set::

    <case>/case.md, case.json        the case sheet (core.teaching.case_sheet)
    <case>/annotations.json          the annotations, UIDs replaced like the DICOM
    <case>/images/key01.png          native resolution, annotations burned in
    <case>/images/key01_clean.png    the same image without anything drawn on it
    <case>/dicom/key01.dcm           the key image, de-identified, pixels unchanged
    <case>/dicom/report_sr.dcm       TID 1500 Measurement Report of the lesions
    <case>/dicom/annotations_pr.dcm  Grayscale Softcopy Presentation State
    <case>/dicom/key_images_ko.dcm   Key Object Selection "For Teaching" of the
                                     images the reader marked as key (if any)

The folder is built beside ``<case>`` under a hidden temporary name and renamed
into place when complete, so a failure leaves no half-written case. The PNGs
are drawn by a :class:`~imaging_viewer.core.teaching.burn_in.KeyImageBurnIn`
(the ui's draws with Qt); everything else is here and in ``core.exchange``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imaging_viewer.core.annotations.measure import spacing_source_of
from imaging_viewer.core.annotations.model import AnnotationSet
from imaging_viewer.core.annotations.serialize import to_json
from imaging_viewer.core.dicom.load import load_volume
from imaging_viewer.core.exchange.annotation_documents import (
    DicomExportError,
    ExportedImage,
    key_object_document,
    prepare_staging_folder,
    read_image_for_export,
    roi_measurements,
    structured_documents,
    write_key_object_document,
    write_structured_documents,
)
from imaging_viewer.core.exchange.burned_in_text import PixelTextError
from imaging_viewer.core.exchange.deidentify import (
    BurnedInAnnotationError,
    DeidContext,
)
from imaging_viewer.core.teaching.burn_in import KeyImageView, reader_calibration
from imaging_viewer.core.teaching.case_sheet import (
    KeyImage,
    build_case_sheet,
    case_json_text,
    write_text_atomic,
)
from imaging_viewer.core.teaching.key_images import (
    annotations_on,
    image_plane,
    key_image_viewport,
    select_key_images,
    window_label,
    with_resolved_images,
)
from imaging_viewer.core.teaching.measurements import (
    measure_annotations,
    with_roi_stats,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping, Sequence

    from imaging_viewer.core.annotations.key_image_marks import KeyImageMark
    from imaging_viewer.core.dicom.scan import ScanResult
    from imaging_viewer.core.exchange.burned_in_text import TextBox
    from imaging_viewer.core.teaching.before_after import StudyTimepoint
    from imaging_viewer.core.teaching.burn_in import KeyImageBurnIn
    from imaging_viewer.core.teaching.case import TeachingCase
    from imaging_viewer.core.teaching.key_images import KeyImageRef
    from imaging_viewer.core.volume import Volume, Window

__all__ = [
    "TeachingExport",
    "TeachingExportError",
    "chosen_part",
    "export_teaching_case",
    "remap_annotations",
]


class TeachingExportError(Exception):
    """A teaching case that cannot be written; nothing is left behind."""


def remap_annotations(
    annotation_set: AnnotationSet, remap_uid: Callable[[str], str]
) -> AnnotationSet:
    """A copy of ``annotation_set`` with every UID replaced by ``remap_uid``.

    Frame of Reference, referenced SOP Instance and Series Instance, and lesion
    Tracking UIDs, and the SOP Instance UIDs of the reader's calibrations, are
    replaced (PS3.15 Table E.1-1 action U), so the annotations of a
    de-identified case refer to its new UIDs. Points stay: a
    frame of reference keeps its coordinates under a new UID. Ids are random
    and kept.
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
                referenced_series_instance_uid=(
                    remap_uid(annotation.referenced_series_instance_uid)
                    if annotation.referenced_series_instance_uid
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
    remapped = AnnotationSet(lesions)
    for calibration in annotation_set.calibrations:
        # The reader's spacing of an image stays with it under its new UID.
        remapped.set_calibration(
            replace(
                calibration,
                sop_instance_uid=remap_uid(calibration.sop_instance_uid),
            )
        )
    for mark in annotation_set.key_images:
        remapped.mark_key_image(
            replace(
                mark,
                sop_instance_uid=remap_uid(mark.sop_instance_uid),
                series_instance_uid=(
                    remap_uid(mark.series_instance_uid)
                    if mark.series_instance_uid
                    else ""
                ),
            )
        )
    return remapped


def chosen_part(
    annotation_set: AnnotationSet,
    lesion_ids: Collection[str] | None = None,
    key_images: Sequence[KeyImageMark] | None = None,
) -> AnnotationSet:
    """A copy of ``annotation_set`` with only the lesions of ``lesion_ids`` and
    the key images ``key_images`` (None: all of them), calibrations kept."""
    lesions = [
        lesion
        for lesion in annotation_set.lesions
        if lesion_ids is None or lesion.id in lesion_ids
    ]
    part = AnnotationSet(lesions)
    for calibration in annotation_set.calibrations:
        part.set_calibration(calibration)
    marks = annotation_set.key_images if key_images is None else key_images
    for mark in marks:
        part.mark_key_image(mark)
    return part


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
    key_object_selection: Path | None = None
    """The Key Object Selection "For Teaching" of the marked key images, if any."""


@dataclass
class _Image:
    ref: KeyImageRef
    volume: Volume
    dicom: ExportedImage
    name: str
    dicom_name: str


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


def export_teaching_case(
    scan_result: ScanResult,
    annotation_set: AnnotationSet,
    case: TeachingCase,
    out_dir: str | os.PathLike[str],
    *,
    burn_in: KeyImageBurnIn,
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
    lesion_ids: Collection[str] | None = None,
    key_image_marks: Sequence[KeyImageMark] | None = None,
    displayed_series_uid: str = "",
    before_after: Sequence[StudyTimepoint] = (),
) -> TeachingExport:
    """Write a teaching case folder for the lesions of ``annotation_set``.

    Key images are those the reader marked (first), the acquired images the
    annotations were drawn on (or the nearest acquired slice to each), plus
    ``key_images``
    (:func:`~imaging_viewer.core.teaching.key_images.select_key_images`). Each
    is written at native resolution as a PNG with its annotations burned in
    (and corner text: only technical lines when de-identifying, never patient
    data) and as a clean PNG, and its DICOM file is written de-identified with
    pixels unchanged (PS3.15 Basic Profile, UIDs replaced consistently across
    the case). The SR and presentation state of the lesions refer to the new
    UIDs. When de-identifying, every file written is scanned for the source's
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
    burn_in : KeyImageBurnIn
        Draws the key images as PNG (the ui's ``QtKeyImageBurnIn``).
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
        de-identifying (issue 18: images at risk of burned-in text, PS3.15
        E.3.1 Clean Pixel Data Option).
    lesion_ids : collection of str, optional
        The lesions to export (by id); all by default.
    key_image_marks : sequence of KeyImageMark, optional
        The marked key images to export; all of ``annotation_set`` by default.
        They are also written as a Key Object Selection "For Teaching"
        (DCM 113004).
    displayed_series_uid : str
        Series Instance UID of the series shown: annotations that name no
        image (older files) go to its nearest acquired image first, and the SR,
        presentation state and ``annotations.json`` name that image.
    before_after : sequence of StudyTimepoint
        The patient's studies, this one included (series, lesions, sizes):
        with two or more, each lesion tracked across them (same Tracking UID)
        gets a before/after pair in ``before_after/``, de-identified with the
        same context (:mod:`~imaging_viewer.core.teaching.before_after_export`);
        with ``lesion_ids``, only the chosen lesions get one.

    Returns
    -------
    TeachingExport

    Raises
    ------
    TeachingExportError
        When the folder is not empty, nothing can be exported, or a source
        value was found in a file written (nothing is left behind).
    LookupError
        When an image of ``key_images`` is not among the scanned series.

    References
    ----------
    PS3.15 Annex E (Basic Application Level Confidentiality Profile).
    """
    folder = Path(out_dir)
    paired: set[str] | None = None  # pairs only for the lesions chosen
    if lesion_ids is not None:
        paired = {
            lesion.tracking_uid
            for lesion in annotation_set.lesions
            if lesion.id in lesion_ids
        }
    if lesion_ids is not None or key_image_marks is not None:
        annotation_set = chosen_part(annotation_set, lesion_ids, key_image_marks)
    refs, warnings = select_key_images(
        scan_result.series,
        annotation_set,
        key_images or (),
        displayed_series_uid=displayed_series_uid,
    )
    annotation_set = with_resolved_images(annotation_set, refs)
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
    try:
        staging = prepare_staging_folder(folder)
    except DicomExportError as error:
        raise TeachingExportError(str(error)) from None
    try:
        result = _export(
            staging,
            folder,
            refs,
            annotation_set,
            case,
            context if deidentify else None,
            burn_in,
            window,
            preset,
            study_uid,
            warnings,
            progress,
            redactions or {},
            before_after,
            paired,
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
    burn_in: KeyImageBurnIn,
    window: Window | None,
    preset: str | None,
    study_uid: str,
    warnings: list[str],
    progress: Callable[[int, int], None] | None,
    redactions: Mapping[str, Sequence[TextBox]],
    before_after: Sequence[StudyTimepoint] = (),
    paired: Collection[str] | None = None,
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
            dicom = read_image_for_export(ref.path)
        except Exception as error:
            skipped.append(f"{name}: cannot read its DICOM file ({error})")
            continue
        text_boxes: list[TextBox] = []
        if context is not None:
            try:
                # Text burned into the pixels (Burned In Annotation YES, or an
                # image at risk) is found by OCR and blacked out with the user's
                # rectangles, or the image is refused with the reason
                # (core/exchange/burned_in_text.py).
                dicom, cleaned = dicom.deidentified_and_cleaned(
                    context, redactions.get(dicom.source_sop_instance_uid, ())
                )
                if cleaned is not None:
                    text_boxes = cleaned
                    redacted[name] = len(cleaned)
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
        viewport = key_image_viewport(ref, volume, window, preset, warnings)
        pixel_to_lps = viewport.pixel_to_lps()
        assert pixel_to_lps is not None
        shown = annotations_on(annotation_set, ref, volume, pixel_to_lps)
        view = KeyImageView(
            viewport=viewport,
            annotations=tuple(shown),
            plane=image_plane(pixel_to_lps),
            spacing_source=spacing_source_of(volume),
            include_patient=context is None,
            redacted=tuple(text_boxes),
            stored_size=dicom.stored_size,
            calibration=reader_calibration(annotation_set, viewport),
        )
        annotated_png = staging / "images" / f"{name}.png"
        clean_png = staging / "images" / f"{name}_clean.png"
        burn_in.write_png(view, annotated_png, annotated=True)
        files.append(annotated_png)
        columns, rows = burn_in.write_png(view, clean_png, annotated=False)
        files.append(clean_png)
        dicom_name = written_dicom.get(ref.path, "")
        if not dicom_name:
            dicom_name = f"dicom/{name}.dcm"
            files.append(dicom.write(staging / dicom_name))
            written_dicom[ref.path] = dicom_name
        images.append(_Image(ref, volume, dicom, name, dicom_name))
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
                columns=columns,
                rows=rows,
                pixel_spacing_mm=(
                    None
                    if spacing_source_of(volume) == "none"
                    else (float(spacing[0]), float(spacing[1]))
                ),
                spacing_source=spacing_source_of(volume),
                window=window_label(viewport),
                lesions=lesions,
                sop_instance_uid=dicom.sop_instance_uid,
            )
        )
        if progress is not None:
            progress(number, len(refs))
    if not images:
        raise TeachingExportError(
            "no key image could be exported: " + "; ".join(skipped)
        )

    pairs = [(image.ref, image.volume) for image in images]
    stats, sources = roi_measurements(annotation_set, pairs)
    modalities = {
        annotation_id: image.volume.modality
        for image in images
        for annotation_id in image.ref.annotation_ids
    }
    measurements = with_roi_stats(
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
    report, state = structured_documents(
        exported_set,
        [(image.dicom, image.volume) for image in images],
        stats,
        window,
        warnings,
    )
    written_report, written_state = write_structured_documents(
        report, state, staging / "dicom", context
    )
    structured_report = presentation_state = None
    if written_report is not None:
        files.append(written_report)
        structured_report = folder / "dicom" / written_report.name
    if written_state is not None:
        files.append(written_state)
        presentation_state = folder / "dicom" / written_state.name
    key_objects = key_object_document(
        exported_set.key_images,
        list(dict.fromkeys(image.dicom for image in images)),
        warnings,
        for_teaching=True,
    )
    key_object_selection = None
    if key_objects is not None:
        written_ko = write_key_object_document(key_objects, staging / "dicom", context)
        files.append(written_ko)
        key_object_selection = folder / "dicom" / written_ko.name

    if study:
        document = to_json(exported_set, study, frames)
        files.append(
            write_text_atomic(
                staging / "annotations.json",
                json.dumps(document, ensure_ascii=False, allow_nan=False),
            )
        )
    from imaging_viewer.core.teaching.before_after_export import (
        WrittenPairs,
        before_after_markdown,
        write_before_after,
    )

    written_pairs = WrittenPairs([], [], [], [])
    if len(before_after) > 1:
        written_pairs = write_before_after(
            staging,
            before_after,
            context,
            burn_in,
            window=window,
            preset=preset,
            warnings=warnings,
            only=paired,
        )
    files += written_pairs.files
    warnings += written_pairs.left_out
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
    if written_pairs.entries or written_pairs.left_out:
        markdown += before_after_markdown(written_pairs.entries, written_pairs.left_out)
        sheet["before_after"] = written_pairs.entries
        sheet["before_after_left_out"] = written_pairs.left_out
    files.append(write_text_atomic(staging / "case.md", markdown))
    files.append(write_text_atomic(staging / "case.json", case_json_text(sheet)))
    if context is not None:
        _scan_for_leaks(
            staging,
            {
                value: keyword
                for exported in [image.dicom for image in images]
                + written_pairs.exported
                for value, keyword in exported.identifying_values().items()
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
        key_object_selection=key_object_selection,
    )
