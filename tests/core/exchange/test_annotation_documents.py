"""Export DICOM: the SR and GSPS of a study's annotations beside copies of their
images, read back with pydicom and checked by dicom3tools' dciodvfy."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pydicom
import pytest

from imaging_viewer.core.dicom.scan import scan_folder
from imaging_viewer.core.exchange.annotation_documents import (
    DicomExportError,
    export_annotation_documents,
)
from imaging_viewer.core.exchange.interchange_import import (
    InterchangeImportError,
    read_interchange_annotations,
)
from tests.core.exchange.test_structured_report import run_dciodvfy
from tests.core.teaching.test_export import KEY_SLICE, REPO_ROOT, ruler_on_key_slice

if TYPE_CHECKING:
    from imaging_viewer.core.dicom.series import SeriesInfo


@dataclass(frozen=True)
class OnImage:
    """A ``ReferencedImage``: the protocol is structural."""

    series: SeriesInfo
    path: str
    annotation_ids: tuple[str, ...]
    time_index: int = 0


def test_writes_sr_gsps_and_image_copies(tmp_path: Path) -> None:
    scan = scan_folder(REPO_ROOT / "sample_data" / "CT")
    annotation_set, path = ruler_on_key_slice(scan)
    (info,) = scan.series
    ruler = annotation_set.lesions[0].annotations[0]
    image = OnImage(info, path, (ruler.id,))
    out = tmp_path / "dicom"
    result = export_annotation_documents(annotation_set, [image, image], out)

    assert sorted(p.name for p in out.iterdir()) == [
        "annotations_pr.dcm",
        "key01.dcm",
        "report_sr.dcm",
    ]
    assert result.structured_report == out / "report_sr.dcm"
    assert result.presentation_state == out / "annotations_pr.dcm"
    assert sorted(result.files) == sorted(out.iterdir())
    # Not de-identified: the image is a byte copy, the documents refer to it.
    assert path == info.frames[0][KEY_SLICE].path
    assert (out / "key01.dcm").read_bytes() == Path(path).read_bytes()
    source = pydicom.dcmread(path, stop_before_pixels=True)
    state = pydicom.dcmread(out / "annotations_pr.dcm")
    referenced = {
        str(item.ReferencedSOPInstanceUID)
        for series in state.ReferencedSeriesSequence
        for item in series.ReferencedImageSequence
    }
    assert referenced == {str(source.SOPInstanceUID)}
    assert str(state.PatientID) == str(source.PatientID)

    for document in ("report_sr.dcm", "annotations_pr.dcm"):
        run_dciodvfy(out / document)

    imported = read_interchange_annotations(out / "report_sr.dcm", scan.series)
    (lesion,) = imported.annotation_set.lesions
    assert lesion.tracking_uid == annotation_set.lesions[0].tracking_uid
    assert lesion.annotations[0].referenced_sop_instance_uid == str(
        source.SOPInstanceUID
    )


def test_refuses_a_folder_in_use_and_leaves_nothing(tmp_path: Path) -> None:
    scan = scan_folder(REPO_ROOT / "sample_data" / "CT")
    annotation_set, path = ruler_on_key_slice(scan)
    (info,) = scan.series
    out = tmp_path / "dicom"
    out.mkdir()
    (out / "other.txt").write_text("mine")
    with pytest.raises(DicomExportError, match="not empty"):
        export_annotation_documents(annotation_set, [OnImage(info, path, ())], out)
    with pytest.raises(DicomExportError, match="no annotation"):
        export_annotation_documents(annotation_set, [], tmp_path / "new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dicom"]
    assert [p.name for p in out.iterdir()] == ["other.txt"]


def test_import_refuses_what_is_not_dicom(tmp_path: Path) -> None:
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"not dicom at all")
    with pytest.raises(InterchangeImportError, match=r"junk\.dcm: not a readable"):
        read_interchange_annotations(junk, [])
