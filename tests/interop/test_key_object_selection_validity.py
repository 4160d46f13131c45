"""Key images as a DICOM Key Object Selection (issue 15 item 6, issue 16 item 6),
on a real CT and a real enhanced MR of ../shared/dicom: dciodvfy finds no error,
highdicom reads the document back (title, references), for File → Export DICOM
("Of Interest") and for the teaching case ("For Teaching", de-identified, the
marked image first)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import highdicom as hd
import pydicom
import pytest

from imaging_viewer.core.annotations.key_image_marks import KeyImageMark
from imaging_viewer.core.exchange.annotation_documents import (
    export_annotation_documents,
)
from imaging_viewer.core.teaching.case import TeachingCase
from imaging_viewer.core.teaching.export import export_teaching_case
from imaging_viewer.core.teaching.key_images import select_key_images
from tests.core.teaching.test_export import FakeBurnIn
from tests.interop.reference_tools import dciodvfy_errors
from tests.interop.test_teaching_case_validity import ruler_lesion, scanned

if TYPE_CHECKING:
    from pathlib import Path

    from imaging_viewer.core.annotations.model import AnnotationSet
    from imaging_viewer.core.dicom.scan import ScanResult


def marked(
    kind: str, corpus: Path, tmp_path: Path
) -> tuple[ScanResult, AnnotationSet, str, int | None]:
    """A scan, its ruler lesion, and a key image marked on another image (the
    first slice; frame 1 of the enhanced MR): its SOP Instance UID and frame."""
    scan = scanned(kind, corpus, tmp_path)
    annotation_set, _ = ruler_lesion(scan)
    first = scan.series[0].frames[0][0]
    uid = str(pydicom.dcmread(first.path, stop_before_pixels=True).SOPInstanceUID)
    frame = first.frame_index + 1 if kind == "MR" else None
    annotation_set.mark_key_image(
        KeyImageMark(uid, frame=frame, series_instance_uid=scan.series[0].uid)
    )
    return scan, annotation_set, uid, frame


def read_back(path: Path) -> tuple[str, list[tuple[str, object]]]:
    """The title and (SOP Instance UID, frames) of each reference, by highdicom."""
    document = hd.ko.KeyObjectSelectionDocument.from_dataset(pydicom.dcmread(path))
    title = document.ConceptNameCodeSequence[0]
    references = []
    for item in document.ContentSequence:
        if item.ValueType == "IMAGE":
            ref = item.ReferencedSOPSequence[0]
            references.append(
                (str(ref.ReferencedSOPInstanceUID), ref.get("ReferencedFrameNumber"))
            )
    return f"{title.CodeValue} {title.CodeMeaning}", references


@pytest.mark.parametrize("kind", ["CT", "MR"])
def test_dicom_export_writes_a_valid_key_object_selection(
    corpus: Path, tmp_path: Path, kind: str
) -> None:
    scan, annotation_set, uid, frame = marked(kind, corpus, tmp_path)
    images, _ = select_key_images(scan.series, annotation_set)
    assert images[0].sop_instance_uid == uid  # the marked image comes first
    result = export_annotation_documents(annotation_set, images, tmp_path / "out")
    assert result.key_object_selection is not None, result.warnings
    assert result.key_object_selection in result.files
    assert dciodvfy_errors(result.key_object_selection) == []
    title, references = read_back(result.key_object_selection)
    assert title == "113000 Of Interest"
    assert references == [(uid, frame)]


@pytest.mark.parametrize("kind", ["CT", "MR"])
def test_teaching_case_key_objects_are_for_teaching_and_deidentified(
    corpus: Path, tmp_path: Path, kind: str
) -> None:
    scan, annotation_set, uid, frame = marked(kind, corpus, tmp_path)
    result = export_teaching_case(
        scan,
        annotation_set,
        TeachingCase(title=f"{kind} case"),
        tmp_path / "case",
        burn_in=FakeBurnIn(),
        case_key="key objects",
    )
    path = result.key_object_selection
    assert path is not None, result.warnings
    assert dciodvfy_errors(path) == []
    title, references = read_back(path)
    assert title == "113004 For Teaching"
    first = pydicom.dcmread(result.folder / result.images[0].dicom)
    assert references == [(str(first.SOPInstanceUID), frame)]
    assert str(first.SOPInstanceUID) != uid  # de-identified: a new UID
    ko = pydicom.dcmread(path)
    assert str(ko.PatientID) == str(first.PatientID)
    assert uid.encode() not in path.read_bytes()


def test_teaching_case_exports_only_the_chosen_key_images_and_lesions(
    corpus: Path, tmp_path: Path
) -> None:
    scan, annotation_set, _, _ = marked("CT", corpus, tmp_path)
    result = export_teaching_case(
        scan,
        annotation_set,
        TeachingCase(title="chosen"),
        tmp_path / "case",
        burn_in=FakeBurnIn(),
        lesion_ids=(),
        key_image_marks=annotation_set.key_images,
    )
    assert len(result.images) == 1  # the marked image only: no lesion chosen
    assert result.key_object_selection is not None
