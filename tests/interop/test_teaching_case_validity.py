"""The DICOM of a teaching case (issue 16 item 6) as dciodvfy, dcmpschk and
dsrdump see it, on a real CT and a real enhanced MR of ../shared/dicom: the
de-identified key images have no more dciodvfy errors than their sources, the
SR and the presentation state none; and write → our import → write again gives
the same content for the SR and the GSPS. (The Key Object Selection is checked
in test_key_object_selection_validity.py.)
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pydicom
import pytest
from pydicom.sr.codedict import codes

from imaging_viewer.core.annotations.model import AnnotationSet, Lesion, Ruler
from imaging_viewer.core.dicom.scan import scan_folder
from imaging_viewer.core.exchange.presentation_state import (
    export_presentation_state,
    import_presentation_state,
)
from imaging_viewer.core.exchange.structured_report import (
    export_measurement_report,
    import_measurement_report,
)
from imaging_viewer.core.teaching.case import TeachingCase
from imaging_viewer.core.teaching.export import export_teaching_case
from tests.core.teaching.test_export import FakeBurnIn
from tests.interop.reference_tools import (
    dciodvfy_errors,
    dcmpschk,
    require_program,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from pydicom.dataset import Dataset

    from imaging_viewer.core.dicom.scan import ScanResult

SOURCES = {
    "CT": "dcm_qa_ct/In/GE",
    "MR": "dcm_qa_enh/In/Siemens/XA10/6_1.dcm",
}


def scanned(kind: str, corpus: Path, tmp_path: Path) -> ScanResult:
    source = corpus / SOURCES[kind]
    if source.is_file():
        folder = tmp_path / "source"
        folder.mkdir()
        shutil.copy(source, folder / source.name)
        source = folder
    return scan_folder(source)


def ruler_lesion(scan: ScanResult) -> tuple[AnnotationSet, str]:
    """A lesion with a coded site and a ruler on the middle image; its file."""
    info = scan.series[0]
    affine = np.asarray(info.ijk_to_lps)
    k = len(info.frames[0]) // 2
    frame = info.frames[0][k]
    header = pydicom.dcmread(frame.path, stop_before_pixels=True)

    def lps(i: float, j: float) -> tuple[float, float, float]:
        if "ImagePositionPatient" in header:  # the image's own plane (PS3.3 C.7.6.2)
            origin = np.asarray(header.ImagePositionPatient, dtype=float)
            row, col = np.reshape(
                np.asarray(header.ImageOrientationPatient, float), (2, 3)
            )
            dr, dc = map(float, header.PixelSpacing)
            point = origin + i * dc * row + j * dr * col
        else:
            point = affine @ [i, j, k, 1.0]
        return float(point[0]), float(point[1]), float(point[2])

    lesion = Lesion(
        label="Lesion 1",
        site="distal metaphysis",
        site_code=codes.SCT.Femur.value,
        site_meaning=codes.SCT.Femur.meaning,
        laterality="left",
        diagnosis="osteosarcoma",
    )
    normal = np.cross(affine[:3, 0], affine[:3, 1])
    if "ImageOrientationPatient" in header:
        normal = np.cross(
            *np.reshape(np.asarray(header.ImageOrientationPatient, float), (2, 3))
        )
    ruler = Ruler(
        lesion_id=lesion.id,
        start_lps=lps(20, 25),
        end_lps=lps(40, 35),
        frame_of_reference_uid=info.frame_of_reference_uid,
        referenced_sop_instance_uid=str(header.SOPInstanceUID),
        referenced_frame=getattr(frame, "frame_number", None),
        plane_normal_lps=tuple(float(v) for v in normal / np.linalg.norm(normal)),
    )
    return AnnotationSet([replace(lesion, annotations=(ruler,))]), str(frame.path)


def dsrdump(path: Path) -> str:
    program = require_program("dsrdump", "dcmtk")
    result = subprocess.run(
        [program, str(path)],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "E:" not in result.stderr, result.stderr
    return result.stdout


def content_lines(items: Iterable[Dataset], depth: int = 0) -> list[str]:
    """An SR content tree as text, coordinates to 1e-4 (FL keeps ~7 digits)."""
    lines = []
    for item in items:
        for element in item:
            if element.VR == "SQ":
                lines.append(f"{depth * ' '}{element.keyword}")
                lines += content_lines(element.value, depth + 1)
            elif element.VR in ("FL", "FD", "DS"):
                values = np.atleast_1d(np.asarray(element.value, dtype=float))
                lines.append(f"{depth * ' '}{element.keyword} {np.round(values, 4)}")
            else:
                lines.append(f"{depth * ' '}{element.keyword} {element.value!r}")
    return lines


def _content(ds: Dataset, name: str) -> object:
    return ds[name].value if name in ds else None


def exported_case(kind: str, corpus: Path, tmp_path: Path) -> tuple[str, Any]:
    """A ruler lesion's source file, and the teaching case exported from a scan
    with that lesion (a fake burn-in: the DICOM is what is checked here)."""
    scan = scanned(kind, corpus, tmp_path)
    annotation_set, source_path = ruler_lesion(scan)
    result = export_teaching_case(
        scan,
        annotation_set,
        TeachingCase(title=f"{kind} case"),
        tmp_path / "case",
        burn_in=FakeBurnIn(),
        case_key="validity",
    )
    return source_path, result


@pytest.mark.parametrize("kind", ["CT", "MR"])
def test_teaching_case_dicom_validates_and_round_trips(
    corpus: Path, tmp_path: Path, kind: str
) -> None:
    source_path, result = exported_case(kind, corpus, tmp_path)
    key_images = [
        p for p in result.files if p.name.startswith("key") and p.suffix == ".dcm"
    ]
    assert key_images
    source_errors = len(dciodvfy_errors(Path(source_path)))
    for path in key_images:
        assert len(dciodvfy_errors(path)) <= source_errors, path

    sr_path, pr_path = result.structured_report, result.presentation_state
    assert pr_path is not None, result.warnings
    assert sr_path is not None
    assert dciodvfy_errors(sr_path) == []
    report = dsrdump(sr_path)
    for shown in ("Finding Site", "Femur", "Left"):
        assert shown in report
    assert dciodvfy_errors(pr_path) == []
    dcmpschk(pr_path)

    # Round trips against the de-identified key images the case refers to.
    sources = {
        str(ds.SOPInstanceUID): ds
        for ds in (pydicom.dcmread(p, stop_before_pixels=True) for p in key_images)
    }
    sr = pydicom.dcmread(sr_path)
    imported = import_measurement_report(sr, sources)
    assert imported.warnings == ()
    (lesion,) = imported.annotation_set.lesions
    assert (lesion.site_code, lesion.laterality) == (codes.SCT.Femur.value, "left")
    device = next(
        str(item.UID)
        for item in sr.ContentSequence
        if item.ConceptNameCodeSequence[0].CodeValue == "121012"  # Device Observer
    )
    again = export_measurement_report(
        imported.annotation_set,
        sources,
        series_number=int(sr.SeriesNumber),
        device_observer_uid=device,
    ).dataset
    assert content_lines(again.ContentSequence) == content_lines(sr.ContentSequence)


# The de-identified GSPS has no private record: its import reads the graphic
# layers, where each measurement's caption (a text object in the graphic's
# Graphic Group) belongs to that graphic, not to a text label of its own.
@pytest.mark.parametrize("kind", ["CT", "MR"])
def test_teaching_case_gsps_round_trips(
    corpus: Path, tmp_path: Path, kind: str
) -> None:
    _, result = exported_case(kind, corpus, tmp_path)
    pr_path = result.presentation_state
    assert pr_path is not None, result.warnings
    key_images = [
        p for p in result.files if p.name.startswith("key") and p.suffix == ".dcm"
    ]
    sources = {
        str(ds.SOPInstanceUID): ds
        for ds in (pydicom.dcmread(p, stop_before_pixels=True) for p in key_images)
    }
    pr = pydicom.dcmread(pr_path)
    imported_pr = import_presentation_state(pr, sources)
    again_pr = export_presentation_state(
        imported_pr.annotation_set, sources, series_number=int(pr.SeriesNumber)
    ).dataset
    for name in ("GraphicAnnotationSequence", "SoftcopyVOILUTSequence"):
        assert content_lines([again_pr[name].value[0]]) == content_lines(
            [pr[name].value[0]]
        ), name
