"""The teaching export in core, with a fake burn-in: no Qt anywhere.

What it writes is read back with pydicom (the independent reader): the key
image de-identified, the SR referring to its new UID. The export's own test
with Qt's burn-in is tests/test_cli_teach.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pydicom
import pytest

from imaging_viewer.core.annotations.model import AnnotationSet, Lesion, Ruler
from imaging_viewer.core.annotations.serialize import to_json
from imaging_viewer.core.dicom.scan import scan_folder
from imaging_viewer.core.teaching.case import TeachingCase
from imaging_viewer.core.teaching.export import export_teaching_case

if TYPE_CHECKING:
    from imaging_viewer.core.dicom.scan import ScanResult
    from imaging_viewer.core.teaching.burn_in import KeyImageView

REPO_ROOT = Path(__file__).resolve().parents[3]
KEY_SLICE = 14


class FakeBurnIn:
    """Writes what it was asked to draw as text, and keeps the views."""

    def __init__(self) -> None:
        self.calls: list[tuple[KeyImageView, Path, bool]] = []

    def write_png(
        self, view: KeyImageView, path: Path, *, annotated: bool
    ) -> tuple[int, int]:
        self.calls.append((view, path, annotated))
        ids = [annotation.id for _, annotation in view.annotations] if annotated else []
        path.write_text(json.dumps({"annotated": annotated, "ids": ids}))
        pixels = view.viewport.pixels()
        assert pixels is not None
        return int(pixels.shape[1]), int(pixels.shape[0])


def ruler_on_key_slice(scan: ScanResult) -> tuple[AnnotationSet, str]:
    """A lesion with a ruler drawn on slice ``KEY_SLICE``; and that image's file."""
    (info,) = scan.series
    affine = np.asarray(info.ijk_to_lps)
    path = info.frames[0][KEY_SLICE].path
    header = pydicom.dcmread(path, stop_before_pixels=True)

    def lps(i: float, j: float) -> tuple[float, float, float]:
        point = affine @ [i, j, KEY_SLICE, 1.0]
        return float(point[0]), float(point[1]), float(point[2])

    lesion = Lesion(label="Lesion 1", site="skull vault")
    normal = np.cross(affine[:3, 0], affine[:3, 1])
    ruler = Ruler(
        lesion_id=lesion.id,
        start_lps=lps(200, 250),
        end_lps=lps(320, 280),
        frame_of_reference_uid=info.frame_of_reference_uid,
        referenced_sop_instance_uid=str(header.SOPInstanceUID),
        plane_normal_lps=tuple(float(v) for v in normal / np.linalg.norm(normal)),
    )
    return AnnotationSet([replace(lesion, annotations=(ruler,))]), path


@pytest.fixture(scope="module")
def ct_scan() -> ScanResult:
    return scan_folder(REPO_ROOT / "sample_data" / "CT")


def test_core_export_draws_through_the_burn_in(
    ct_scan: ScanResult, tmp_path: Path
) -> None:
    annotation_set, source_path = ruler_on_key_slice(ct_scan)
    burn_in = FakeBurnIn()
    result = export_teaching_case(
        ct_scan,
        annotation_set,
        TeachingCase(title="Skull"),
        tmp_path / "case",
        burn_in=burn_in,
        case_key="fake burn-in",
    )
    folder = tmp_path / "case"
    assert {p.relative_to(folder).as_posix() for p in folder.rglob("*.*")} == {
        "images/key01.png",
        "images/key01_clean.png",
        "dicom/key01.dcm",
        "dicom/report_sr.dcm",
        "dicom/annotations_pr.dcm",
        "annotations.json",
        "case.md",
        "case.json",
    }
    assert sorted(result.files) == sorted(p for p in folder.rglob("*") if p.is_file())

    # One key image, drawn with and without annotations, no patient text.
    ruler_id = annotation_set.lesions[0].annotations[0].id
    assert [(path.name, annotated) for _, path, annotated in burn_in.calls] == [
        ("key01.png", True),
        ("key01_clean.png", False),
    ]
    view = burn_in.calls[0][0]
    assert not view.include_patient
    assert [annotation.id for _, annotation in view.annotations] == [ruler_id]
    assert view.viewport.slice_index == KEY_SLICE

    source = pydicom.dcmread(source_path)
    key = pydicom.dcmread(folder / "dicom" / "key01.dcm")
    assert key.SOPInstanceUID != source.SOPInstanceUID
    assert str(key.PatientName) != str(source.PatientName)
    assert np.array_equal(key.pixel_array, source.pixel_array)
    (image,) = result.images
    assert (image.columns, image.rows) == (source.Columns, source.Rows)
    assert image.sop_instance_uid == key.SOPInstanceUID

    report = pydicom.dcmread(folder / "dicom" / "report_sr.dcm")
    evidence = {
        str(item.ReferencedSOPInstanceUID)
        for study in report.CurrentRequestedProcedureEvidenceSequence
        for series in study.ReferencedSeriesSequence
        for item in series.ReferencedSOPSequence
    }
    assert evidence == {str(key.SOPInstanceUID)}


def test_core_export_needs_no_qt(ct_scan: ScanResult, tmp_path: Path) -> None:
    """The export runs in an interpreter that never imports PySide6."""
    annotation_set, _ = ruler_on_key_slice(ct_scan)
    (info,) = ct_scan.series
    annotations = tmp_path / "annotations.json"
    annotations.write_text(
        json.dumps(
            to_json(annotation_set, info.study_uid, [info.frame_of_reference_uid])
        )
    )
    script = f"""
import sys
from pathlib import Path
from imaging_viewer.core.annotations.serialize import load
from imaging_viewer.core.dicom.scan import scan_folder
from imaging_viewer.core.teaching.case import TeachingCase
from imaging_viewer.core.teaching.export import export_teaching_case

class Burn:
    def write_png(self, view, path, *, annotated):
        path.write_bytes(b"png")
        return 1, 1

scan = scan_folder({str(REPO_ROOT / "sample_data" / "CT")!r})
annotations = load({str(annotations)!r}, {info.study_uid!r})
result = export_teaching_case(
    scan, annotations, TeachingCase(), Path({str(tmp_path / "case")!r}), burn_in=Burn()
)
assert result.structured_report is not None
qt = sorted(name for name in sys.modules if name.startswith(("PySide6", "pyqtgraph")))
print("qt:", qt)
"""
    run = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=180,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "qt: []"
    assert (tmp_path / "case" / "case.json").exists()


def test_the_case_keeps_the_readers_calibration_under_the_new_uid(
    ct_scan: ScanResult, tmp_path: Path
) -> None:
    """The annotations.json and SR of a de-identified case keep the calibration
    of the key image, under the key image's new SOP Instance UID."""
    from imaging_viewer.core.annotations.calibration import Calibration
    from imaging_viewer.core.annotations.serialize import from_json

    annotation_set, source_path = ruler_on_key_slice(ct_scan)
    source = pydicom.dcmread(source_path, stop_before_pixels=True)
    ruler = annotation_set.lesions[0].annotations[0]
    assert isinstance(ruler, Ruler)
    calibration = Calibration(
        sop_instance_uid=str(source.SOPInstanceUID),
        start_lps=ruler.start_lps,
        end_lps=ruler.end_lps,
        known_length_mm=25.0,
    )
    annotation_set.set_calibration(calibration)
    export_teaching_case(
        ct_scan,
        annotation_set,
        TeachingCase(title="Skull"),
        tmp_path / "case",
        burn_in=FakeBurnIn(),
        case_key="calibration kept",
    )
    folder = tmp_path / "case"
    key = pydicom.dcmread(folder / "dicom" / "key01.dcm", stop_before_pixels=True)
    document = json.loads((folder / "annotations.json").read_text())
    assert str(source.SOPInstanceUID) not in json.dumps(document)
    (kept,) = from_json(document).calibrations
    assert kept.sop_instance_uid == str(key.SOPInstanceUID)
    assert kept.known_length_mm == 25.0
    assert np.allclose(kept.start_lps, calibration.start_lps)
    assert np.allclose(kept.end_lps, calibration.end_lps)
    # The ruler it calibrates is as long as the calibration line: 25 mm in the SR.
    report = pydicom.dcmread(folder / "dicom" / "report_sr.dcm")
    lengths = [
        float(item.MeasuredValueSequence[0].NumericValue)
        for item in _content_items(report)
        if item.ValueType == "NUM"
        and item.ConceptNameCodeSequence[0].CodeValue in ("410668003", "G-D7FE")
    ]
    assert lengths == [pytest.approx(25.0)]


def _content_items(dataset: pydicom.Dataset) -> list[pydicom.Dataset]:
    items = []
    for item in dataset.get("ContentSequence", []):
        items.append(item)
        items.extend(_content_items(item))
    return items
