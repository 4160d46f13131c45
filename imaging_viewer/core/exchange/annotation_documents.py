"""The DICOM documents of a study's annotations: SR, presentation state, key images.

:func:`export_annotation_documents` writes, for the lesions of an annotation
set, into a new folder::

    key01.dcm, key02.dcm, ...   the images the annotations are on, copied as they are
    report_sr.dcm               TID 1500 Measurement Report of the lesions
    annotations_pr.dcm          Grayscale Softcopy Presentation State
    key_images_ko.dcm           Key Object Selection of the images marked as key

not de-identified: for PACS and other viewers. The teaching export
(``core.teaching.export``) builds the same documents from de-identified
images with :func:`read_image_for_export`, :func:`structured_documents` and
:func:`write_structured_documents`; ``interchange_import`` reads either
document back.

References
----------
PS3.16 TID 1500 (Measurement Report); PS3.3 A.33.1 (Grayscale Softcopy
Presentation State IOD); PS3.15 Annex E (de-identification of the documents).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol

import numpy as np

from imaging_viewer.core.annotations.measure import roi_stats, spacing_source_of
from imaging_viewer.core.annotations.model import EllipseRoi, PolygonRoi
from imaging_viewer.core.exchange.burned_in_text import (
    PixelTextError,
    TextBox,
    clean_pixel_data,
    ocr_available,
    risk_of_burned_in_text,
)
from imaging_viewer.core.exchange.deidentify import (
    deidentify,
    leak_check_values,
    read_dataset,
    write_dataset,
)
from imaging_viewer.core.leftovers import STAGING_SUFFIX, remove_leftovers

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from pydicom.dataset import Dataset

    from imaging_viewer.core.annotations.key_image_marks import KeyImageMark
    from imaging_viewer.core.annotations.measure import RoiStats
    from imaging_viewer.core.annotations.model import AnnotationSet
    from imaging_viewer.core.dicom.series import SeriesInfo
    from imaging_viewer.core.exchange.deidentify import DeidContext
    from imaging_viewer.core.volume import Volume, Window

__all__ = [
    "PR_FILE_NAME",
    "SR_FILE_NAME",
    "AnnotationDocuments",
    "DicomExportError",
    "ExportedImage",
    "ReferencedImage",
    "export_annotation_documents",
    "key_object_document",
    "prepare_staging_folder",
    "read_image_for_export",
    "roi_measurements",
    "structured_documents",
    "write_key_object_document",
    "write_structured_documents",
]

SR_FILE_NAME: Final = "report_sr.dcm"
PR_FILE_NAME: Final = "annotations_pr.dcm"
_SR_SERIES_NUMBER: Final = 9901
_PR_SERIES_NUMBER: Final = 9902


class DicomExportError(Exception):
    """Annotation documents that cannot be written; nothing is left behind."""


class ReferencedImage(Protocol):
    """An acquired image annotations lie on (e.g. a teaching ``KeyImageRef``)."""

    @property
    def series(self) -> SeriesInfo: ...

    @property
    def time_index(self) -> int: ...

    @property
    def path(self) -> str:
        """The DICOM file holding it."""
        ...

    @property
    def annotation_ids(self) -> tuple[str, ...]:
        """Annotations that chose this image."""
        ...


@dataclass(frozen=True, eq=False)
class ExportedImage:
    """An image's DICOM file as read (``source``) and as exported."""

    path: str
    source: Dataset
    exported: Dataset
    """``source`` de-identified, or ``source`` itself when it is not."""
    deidentified: bool

    @property
    def sop_instance_uid(self) -> str:
        """As exported: the new UID of a de-identified image."""
        return str(self.exported.get("SOPInstanceUID", ""))

    def write(self, target: Path) -> Path:
        """Write the exported image: de-identified, or the file copied as it is."""
        if self.deidentified:
            return write_dataset(self.exported, target)
        shutil.copyfile(self.path, target)
        return target

    @property
    def source_sop_instance_uid(self) -> str:
        """The SOP Instance UID of the file read."""
        return str(self.source.get("SOPInstanceUID", ""))

    @property
    def stored_size(self) -> tuple[int, int]:
        """(Rows, Columns) of the stored frames (0 where the header does not say)."""
        rows = int(self.source.get("Rows", 0) or 0)
        return rows, int(self.source.get("Columns", 0) or 0)

    def clean_burned_in_text(self, own: Sequence[TextBox]) -> list[TextBox] | None:
        """Black out, in the exported pixels, the text burned into an image at
        risk (found by OCR) and the user's own rectangles ``own``; returns the
        regions blacked out, or None when the image is not at risk and the user
        chose none (PS3.15 E.3.1, Clean Pixel Data Option).

        Raises
        ------
        PixelTextError
            The image is at risk and no OCR is installed to find its text.
        """
        risk = risk_of_burned_in_text(self.source)
        if risk is None:
            if not own:
                return None
            return clean_pixel_data(self.exported, list(own), use_ocr=False)
        if not ocr_available():
            raise _no_ocr_error(risk)
        return clean_pixel_data(self.exported, list(own))

    def identifying_values(self) -> dict[str, str]:
        """The source's names, IDs, dates and UIDs that no exported file may hold."""
        return leak_check_values(self.source)

    def deidentified_with(
        self, context: DeidContext, *, pixels_cleaned: bool = False
    ) -> ExportedImage:
        """The source de-identified (PS3.15 Basic Profile) with ``context``;
        ``pixels_cleaned`` when :meth:`clean_burned_in_text` follows.

        Raises
        ------
        BurnedInAnnotationError
            When the image may show patient data in its pixels (PS3.3
            C.7.6.1.1.7) and ``pixels_cleaned`` is not set.
        """
        exported = deidentify(self.source, context, pixels_cleaned=pixels_cleaned)
        return ExportedImage(self.path, self.source, exported, True)

    def deidentified_and_cleaned(
        self, context: DeidContext, own: Sequence[TextBox]
    ) -> tuple[ExportedImage, list[TextBox] | None]:
        """The source de-identified with its burned-in text blacked out: found
        by OCR in an image at risk (Burned In Annotation YES included), plus the
        user's rectangles ``own``; with the regions blacked out, or None where
        the image is not at risk and the user chose none (PS3.15 E.3.1).

        Raises
        ------
        PixelTextError
            The image is at risk and no OCR is installed to find its text
            (checked before anything is de-identified).
        """
        risk = risk_of_burned_in_text(self.source)
        if risk is not None and not ocr_available():
            raise _no_ocr_error(risk)
        exported = self.deidentified_with(
            context, pixels_cleaned=risk is not None or bool(own)
        )
        return exported, exported.clean_burned_in_text(own)


def _no_ocr_error(risk: str) -> PixelTextError:
    return PixelTextError(
        f"{risk}; no OCR is installed to find and black out its text "
        "(install tesseract-ocr and pytesseract), so it is not exported as "
        "de-identified"
    )


def read_image_for_export(path: str) -> ExportedImage:
    """An image's whole DICOM file (pixels included), to export as it is.

    Raises
    ------
    Exception
        Whatever reading the file raises (it may not be DICOM, or not there).
    """
    source = read_dataset(path)
    return ExportedImage(path, source, source, deidentified=False)


def roi_measurements(
    annotation_set: AnnotationSet,
    images: Sequence[tuple[ReferencedImage, Volume]],
) -> tuple[dict[str, RoiStats], dict[str, str]]:
    """ROI statistics and the spacing source of each annotation's image.

    Returns
    -------
    (dict of str to RoiStats, dict of str to str)
        Both by annotation id; statistics for ellipses and polygons on
        non-RGB images only.
    """
    stats: dict[str, RoiStats] = {}
    sources: dict[str, str] = {}
    for ref, volume in images:
        for annotation_id in ref.annotation_ids:
            sources[annotation_id] = spacing_source_of(volume)
            annotation = annotation_set.annotation(annotation_id)
            if isinstance(annotation, EllipseRoi | PolygonRoi) and not volume.is_rgb:
                with contextlib.suppress(ValueError):
                    stats[annotation_id] = roi_stats(
                        volume, annotation, time_index=ref.time_index
                    )
    return stats, sources


def structured_documents(
    annotation_set: AnnotationSet,
    images: Sequence[tuple[ExportedImage, Volume]],
    stats: Mapping[str, RoiStats],
    window: Window | None,
    warnings: list[str],
    *,
    timepoint_label: str = "",
) -> tuple[Dataset | None, Dataset | None]:
    """The SR and the GSPS of the annotations, made from the exported images;
    the SR labelled with ``timepoint_label`` (Clinical Trial Time Point ID,
    PS3.3 C.7.2.3) when given.

    The modules are optional: where they are missing, the documents are left
    out; so is a document that cannot be made, with a line in ``warnings``.
    """
    try:
        from imaging_viewer.core.exchange.presentation_state import (
            export_presentation_state,
        )
        from imaging_viewer.core.exchange.structured_report import (
            export_measurement_report,
        )
    except ImportError as error:
        warnings.append(f"no SR or presentation state: {error}")
        return None, None
    sources = {image.sop_instance_uid: image.exported for image, _ in images}
    placements = {
        image.sop_instance_uid: np.asarray(volume.ijk_to_lps, dtype=np.float64)
        for image, volume in images
        if volume.is_projection
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
        if timepoint_label:
            from imaging_viewer.core.exchange.timepoint_report import label_timepoint

            label_timepoint(report, timepoint_label)
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


# Type 1 dates of the documents written here (PS3.3 C.17.2 SR Document General,
# C.11.10 Presentation State Identification). The profile empties or removes
# them; they then get a dummy value consistent with the VR, which PS3.15 E.1.1
# allows ("D"), so the files stay valid.
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


def write_structured_documents(
    report: Dataset | None,
    state: Dataset | None,
    folder: Path,
    context: DeidContext | None,
) -> tuple[Path | None, Path | None]:
    """Write the SR and the GSPS into ``folder`` (:data:`SR_FILE_NAME`,
    :data:`PR_FILE_NAME`), de-identified with ``context`` when given.

    De-identification cleans their structured content and graphics (PS3.15
    E.3.3 Clean Structured Content, E.3.5 Clean Graphics), and gives their
    Type 1 creation dates a dummy value.

    Returns
    -------
    (pathlib.Path or None, pathlib.Path or None)
        The SR and GSPS written; None for a document not given.
    """
    context_report = (
        context.with_options(clean_structured_content=True, clean_graphics=True)
        if context is not None
        else None
    )
    written: list[Path | None] = []
    for dataset, file_name in ((report, SR_FILE_NAME), (state, PR_FILE_NAME)):
        if dataset is None:
            written.append(None)
            continue
        if context_report is not None:
            dataset = deidentify(dataset, context_report)
            _restore_required_creation_dates(dataset)
        written.append(write_dataset(dataset, folder / file_name))
    return written[0], written[1]


def key_object_document(
    marks: Sequence[KeyImageMark],
    images: Sequence[ExportedImage],
    warnings: list[str],
    *,
    for_teaching: bool = False,
) -> Dataset | None:
    """The Key Object Selection document of the marked images among ``images``
    (their exported headers), or None when no image is marked; a mark that
    cannot be written adds a line to ``warnings``.

    Its title is "Of Interest" (DCM 113000), or "For Teaching" (DCM 113004)
    when ``for_teaching`` (PS3.16 CID 7010).
    """
    if not marks:
        return None
    from imaging_viewer.core.exchange.key_object_selection import (
        FOR_TEACHING,
        OF_INTEREST,
        export_key_object_selection,
    )

    sources = {image.sop_instance_uid: image.exported for image in images}
    try:
        document, lines = export_key_object_selection(
            marks, sources, title=FOR_TEACHING if for_teaching else OF_INTEREST
        )
    except ValueError as error:
        warnings.append(f"no key object selection: {error}")
        return None
    warnings.extend(f"key object selection: {line}" for line in lines)
    return document


def write_key_object_document(
    document: Dataset, folder: Path, context: DeidContext | None
) -> Path:
    """Write a Key Object Selection document as :data:`KO_FILE_NAME` in
    ``folder``, de-identified with ``context`` when given (its Type 1 content
    date then a dummy, PS3.15 E.1.1)."""
    from imaging_viewer.core.exchange.key_object_selection import KO_FILE_NAME

    if context is not None:
        document = deidentify(
            document,
            context.with_options(clean_structured_content=True, clean_graphics=False),
        )
        for keyword, dummy in (
            ("ContentDate", _DUMMY_DATE),
            ("ContentTime", _DUMMY_TIME),
        ):
            if not document.get(keyword):
                setattr(document, keyword, dummy)
    return write_dataset(document, folder / KO_FILE_NAME)


def prepare_staging_folder(out_dir: Path) -> Path:
    """A new hidden folder beside ``out_dir``, to be renamed to it when complete.

    Raises
    ------
    DicomExportError
        When ``out_dir`` is a file, is not empty, or its folder is read-only.
    """
    if out_dir.exists():
        if not out_dir.is_dir():
            raise DicomExportError(f"{out_dir}: is a file, not a folder")
        if any(out_dir.iterdir()):
            raise DicomExportError(f"{out_dir}: is not empty; give a new folder")
    parent = out_dir.parent
    parent.mkdir(parents=True, exist_ok=True)
    if not os.access(parent, os.W_OK):
        raise DicomExportError(f"{out_dir}: cannot write (folder {parent})")
    remove_leftovers(parent, out_dir.name)  # staging of an export killed before
    return Path(
        tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=STAGING_SUFFIX, dir=parent)
    )


@dataclass(frozen=True)
class AnnotationDocuments:
    """What :func:`export_annotation_documents` wrote."""

    folder: Path
    files: tuple[Path, ...]
    """Every file written, in the final folder."""
    structured_report: Path | None
    presentation_state: Path | None
    warnings: tuple[str, ...]
    """Images' load warnings and SR/GSPS problems, one line each."""
    skipped: tuple[str, ...]
    """Images that could not be read, one line each."""
    key_object_selection: Path | None = None
    """The Key Object Selection of the images marked as key, if any."""


def export_annotation_documents(
    annotation_set: AnnotationSet,
    images: Sequence[ReferencedImage],
    out_dir: str | os.PathLike[str],
    *,
    window: Window | None = None,
    timepoint_label: str = "",
) -> AnnotationDocuments:
    """Write the SR and GSPS of ``annotation_set`` beside copies of its images.

    Nothing is de-identified. The folder is built beside ``out_dir`` under a
    hidden temporary name and renamed into place when complete.

    Parameters
    ----------
    annotation_set : AnnotationSet
        The lesions and their annotations.
    images : sequence of ReferencedImage
        The images the annotations lie on (``core.teaching.key_images.
        select_key_images``); each file is copied once as ``keyNN.dcm``.
    out_dir : path-like
        The folder to write: new, or empty.
    window : Window, optional
        Window of the presentation state; by default each image's own.
    timepoint_label : str
        The study's time point (``baseline``, ``follow-up 1``…), written in
        the SR as Clinical Trial Time Point ID (PS3.3 C.7.2.3); empty: none.

    Returns
    -------
    AnnotationDocuments

    Raises
    ------
    DicomExportError
        When the folder is not empty or no image can be read (nothing is left
        behind).
    OSError
        When a file cannot be written.

    References
    ----------
    PS3.16 TID 1500; PS3.3 A.35.13 (Comprehensive 3D SR), A.33.1 (GSPS).
    """
    from imaging_viewer.core.dicom.load import load_volume

    if not images:
        raise DicomExportError("no annotation lies on a scanned image")
    folder = Path(out_dir)
    staging = prepare_staging_folder(folder)
    try:
        volumes: dict[str, Volume] = {}
        written: dict[str, ExportedImage] = {}
        pairs: list[tuple[ReferencedImage, Volume]] = []
        files: list[Path] = []
        warnings: list[str] = []
        skipped: list[str] = []
        for number, ref in enumerate(images, start=1):
            name = f"key{number:02d}.dcm"
            if ref.path not in written:
                try:
                    written[ref.path] = read_image_for_export(ref.path)
                except Exception as error:
                    skipped.append(f"{name}: cannot read its DICOM file ({error})")
                    continue
                files.append(written[ref.path].write(staging / name))
            if ref.series.id not in volumes:
                volumes[ref.series.id] = load_volume(ref.series)
            volume = volumes[ref.series.id]
            for message in volume.warnings:
                if message not in warnings:
                    warnings.append(message)
            pairs.append((ref, volume))
        if not pairs:
            raise DicomExportError("no image could be read: " + "; ".join(skipped))
        stats, _ = roi_measurements(annotation_set, pairs)
        exported = [(written[ref.path], volume) for ref, volume in pairs]
        report, state = structured_documents(
            annotation_set,
            exported,
            stats,
            window,
            warnings,
            timepoint_label=timepoint_label,
        )
        structured_report, presentation_state = write_structured_documents(
            report, state, staging, None
        )
        files += [path for path in (structured_report, presentation_state) if path]
        images_written = list(dict.fromkeys(image for image, _ in exported))
        key_objects = key_object_document(
            annotation_set.key_images, images_written, warnings
        )
        if key_objects is not None:
            files.append(write_key_object_document(key_objects, staging, None))
        if folder.exists():
            folder.rmdir()
        os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return AnnotationDocuments(
        folder=folder,
        files=tuple(folder / path.name for path in files),
        structured_report=None if report is None else folder / SR_FILE_NAME,
        presentation_state=None if state is None else folder / PR_FILE_NAME,
        warnings=tuple(warnings),
        skipped=tuple(skipped),
        key_object_selection=None if key_objects is None else folder / files[-1].name,
    )
