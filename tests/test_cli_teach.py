"""``imaging-viewer teach``: a de-identified teaching case of sample_data's CT.

The command runs as a user would run it, in a child interpreter without a
display. Every byte of every file written (DICOM, PNG, JSON, Markdown) is
scanned for the source's patient data and UIDs.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pydicom
import pytest
from PySide6.QtGui import QImage

from imaging_viewer.core.annotations.model import (
    Angle,
    AnnotationSet,
    Arrow,
    Bidirectional,
    EllipseRoi,
    Lesion,
    PointMarker,
    Ruler,
)
from imaging_viewer.core.annotations.serialize import to_json
from imaging_viewer.core.dicom.scan import scan_folder

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from tests.conftest import MakeSeries

REPO_ROOT = Path(__file__).resolve().parents[1]
CASE_KEY = "test case key"
KEY_SLICE = 14
NEAR_SLICE = 20


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """``python -m imaging_viewer ARGS`` with no display."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    return subprocess.run(
        [sys.executable, "-m", "imaging_viewer", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=180,
        check=False,
    )


def teach(*args: str | Path) -> subprocess.CompletedProcess[str]:
    result = run_cli("teach", *args)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result


def make_annotations(ct: Path, target: Path) -> dict[str, Any]:
    """Two lesions on the CT: one drawn on slice 14, one on a plane near slice 20."""
    (info,) = scan_folder(ct).series
    affine = np.asarray(info.ijk_to_lps)

    def lps(i: float, j: float, k: float) -> tuple[float, float, float]:
        point = affine @ [i, j, k, 1.0]
        return float(point[0]), float(point[1]), float(point[2])

    source = info.frames[0][KEY_SLICE].path
    sop = str(pydicom.dcmread(source, stop_before_pixels=True).SOPInstanceUID)
    normal = np.cross(affine[:3, 0], affine[:3, 1])
    normal_lps = tuple(float(v) for v in normal / np.linalg.norm(normal))
    drawn = {
        "frame_of_reference_uid": info.frame_of_reference_uid,
        "referenced_sop_instance_uid": sop,
        "plane_normal_lps": normal_lps,
    }
    first = Lesion(
        label="Lesion 1", site="skull vault", finding="lytic", diagnosis="metastasis"
    )
    second = Lesion(label="Lesion 2", site="brain", colour="#3cb44b")
    k = KEY_SLICE
    first_annotations = (
        Ruler(
            lesion_id=first.id,
            start_lps=lps(200, 250, k),
            end_lps=lps(320, 280, k),
            **drawn,
        ),
        EllipseRoi(
            lesion_id=first.id,
            centre_lps=lps(260, 330, k),
            axis1_end_lps=lps(300, 330, k),
            axis2_end_lps=lps(260, 355, k),
            **drawn,
        ),
        Bidirectional(
            lesion_id=first.id,
            long_start_lps=lps(180, 380, k),
            long_end_lps=lps(340, 380, k),
            short_start_lps=lps(260, 350, k),
            short_end_lps=lps(260, 410, k),
            **drawn,
        ),
        Arrow(
            lesion_id=first.id,
            tip_lps=lps(256, 200, k),
            tail_lps=lps(330, 160, k),
            label="here",
            **drawn,
        ),
    )
    on_plane = {**drawn, "referenced_sop_instance_uid": ""}
    n = NEAR_SLICE
    second_annotations = (
        PointMarker(
            lesion_id=second.id,
            position_lps=lps(300, 300, n + 0.2),
            label="skip",
            **on_plane,
        ),
        Angle(
            lesion_id=second.id,
            first_lps=lps(250, 300, n),
            vertex_lps=lps(280, 330, n),
            second_lps=lps(330, 300, n),
            **on_plane,
        ),
    )
    annotation_set = AnnotationSet(
        [
            replace(first, annotations=first_annotations),
            replace(second, annotations=second_annotations),
        ]
    )
    document = to_json(annotation_set, info.study_uid, [info.frame_of_reference_uid])
    target.write_text(json.dumps(document), encoding="utf-8")
    return {"sop": sop, "study": info.study_uid, "document": document}


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The annotation file and what identifies the source study."""
    ct = REPO_ROOT / "sample_data" / "CT"
    folder = tmp_path_factory.mktemp("teach")
    annotations = folder / "annotations.json"
    made = make_annotations(ct, annotations)
    headers = [
        pydicom.dcmread(p, stop_before_pixels=True) for p in sorted(ct.iterdir())
    ]
    first = headers[0]
    identifying = {
        "PatientName": str(first.PatientName),
        "PatientID": str(first.PatientID),
        "PatientBirthDate": str(first.get("PatientBirthDate", "")),
        "AccessionNumber": str(first.get("AccessionNumber", "")),
        "InstitutionName": str(first.get("InstitutionName", "")),
        "StudyDate": str(first.StudyDate),
        "StudyInstanceUID": str(first.StudyInstanceUID),
        "SeriesInstanceUID": str(first.SeriesInstanceUID),
        "FrameOfReferenceUID": str(first.FrameOfReferenceUID),
    }
    for n, header in enumerate(headers):
        identifying[f"SOPInstanceUID {n}"] = str(header.SOPInstanceUID)
    return {
        "ct": ct,
        "folder": folder,
        "annotations": annotations,
        "identifying": identifying,
        **made,
    }


@pytest.fixture(scope="module")
def case(source: dict[str, Any]) -> Path:
    """The de-identified teaching case, written once for the module."""
    out = source["folder"] / "case"
    result = teach(
        source["ct"],
        "--annotations",
        source["annotations"],
        "-o",
        out,
        "--case-key",
        CASE_KEY,
        "--title",
        "Skull lesion",
        "--history",
        "Headache for a week",
        "--diagnosis",
        "Metastasis",
        "--keyword",
        "skull",
    )
    assert "2 key image(s), de-identified" in result.stdout
    return out


def files_of(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_case_folder_layout(case: Path) -> None:
    names = {str(p.relative_to(case)) for p in files_of(case)}
    expected = {
        "case.md",
        "case.json",
        "annotations.json",
        "images/key01.png",
        "images/key01_clean.png",
        "images/key02.png",
        "images/key02_clean.png",
        "dicom/key01.dcm",
        "dicom/key02.dcm",
    }
    assert expected <= names
    # No temporary folder or file is left beside or inside the case.
    assert not [p for p in case.parent.iterdir() if p.name.startswith(".case")]
    assert not [name for name in names if name.endswith(".tmp")]


def test_no_patient_data_or_source_uid_in_any_byte(
    case: Path, source: dict[str, Any]
) -> None:
    values = {k: v for k, v in source["identifying"].items() if len(v.strip()) >= 4}
    assert "PatientName" in values
    assert len(values) > 30
    files = files_of(case)
    assert {p.suffix for p in files} >= {".dcm", ".png", ".json", ".md"}
    for path in files:
        data = path.read_bytes()
        for keyword, value in values.items():
            assert value.encode() not in data, f"{path.name} holds {keyword}"


def test_dicom_is_deidentified_with_pixels_unchanged(
    case: Path, source: dict[str, Any]
) -> None:
    original = pydicom.dcmread(
        sorted(source["ct"].iterdir(), key=lambda p: int(p.name[1:]))[0]
    )
    key01 = pydicom.dcmread(case / "dicom" / "key01.dcm")
    assert key01.PatientIdentityRemoved == "YES"
    assert key01.DeidentificationMethodCodeSequence[0].CodeValue == "113100"
    assert key01.SOPInstanceUID.startswith("2.25.")
    assert key01.SOPInstanceUID != source["sop"]
    assert "InstitutionName" not in key01
    assert not any(element.tag.is_private for element in key01)
    source_key = next(
        p
        for p in source["ct"].iterdir()
        if pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID == source["sop"]
    )
    assert key01.PixelData == pydicom.dcmread(source_key).PixelData
    assert key01.Rows == original.Rows
    key02 = pydicom.dcmread(case / "dicom" / "key02.dcm")
    assert key02.StudyInstanceUID == key01.StudyInstanceUID
    assert key02.FrameOfReferenceUID == key01.FrameOfReferenceUID
    assert key02.PatientID == key01.PatientID


def test_reports_refer_to_the_new_uids(case: Path) -> None:
    new_uids = {
        str(pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID)
        for p in (case / "dicom").glob("key*.dcm")
    }
    study = str(pydicom.dcmread(case / "dicom" / "key01.dcm").StudyInstanceUID)
    reports = [p for p in (case / "dicom").iterdir() if not p.name.startswith("key")]
    assert sorted(p.name for p in reports) == ["annotations_pr.dcm", "report_sr.dcm"]
    for path in reports:
        ds = pydicom.dcmread(path)
        referenced = {
            str(e.value)
            for e in ds.iterall()
            if e.keyword == "ReferencedSOPInstanceUID"
        }
        assert referenced, path.name
        assert referenced <= new_uids | {str(ds.SOPInstanceUID)}, path.name
        assert ds.StudyInstanceUID == study
        assert ds.PatientIdentityRemoved == "YES"
    annotations = json.loads((case / "annotations.json").read_text(encoding="utf-8"))
    assert annotations["study_instance_uid"] == study
    refs = {
        a["referenced_sop_instance_uid"]
        for lesion in annotations["lesions"]
        for a in lesion["annotations"]
        if a["referenced_sop_instance_uid"]
    }
    assert refs
    assert refs <= new_uids


def png_chunks(path: Path) -> list[bytes]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        chunks.append(data[offset + 4 : offset + 8])
        offset += 12 + length
    return chunks


def read_rgb(path: Path) -> NDArray[np.uint8]:
    image = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB32)
    rows, columns = image.height(), image.width()
    words = np.frombuffer(image.constBits(), dtype=np.uint32, count=rows * columns)
    words = words.reshape(rows, image.bytesPerLine() // 4)[:, :columns]
    return np.stack([(words >> s & 0xFF).astype(np.uint8) for s in (16, 8, 0)], -1)


def test_pngs_are_native_resolution_without_text_chunks(case: Path) -> None:
    for path in (case / "images").glob("*.png"):
        chunks = png_chunks(path)
        assert not {b"tEXt", b"zTXt", b"iTXt", b"eXIf"} & set(chunks), path.name
        assert read_rgb(path).shape == (512, 512, 3)
    annotated = read_rgb(case / "images" / "key01.png")
    clean = read_rgb(case / "images" / "key01_clean.png")
    # The annotations are burned in (in their lesion's colour) ...
    changed = np.any(annotated != clean, axis=-1)
    assert changed[150:420, 150:360].sum() > 500
    assert np.any(np.all(annotated == (0xE6, 0x19, 0x4B), axis=-1))


TOP_LEFT = (slice(0, 110), slice(0, 200))
"""Where the patient's name, ID and age would be burned in (512×512)."""


def test_no_patient_text_in_the_corner(case: Path, source: dict[str, Any]) -> None:
    annotated = read_rgb(case / "images" / "key01.png")
    clean = read_rgb(case / "images" / "key01_clean.png")
    assert np.array_equal(annotated[TOP_LEFT], clean[TOP_LEFT])
    # Not de-identified, the same corner shows the patient: the check can fail.
    private = source["folder"] / "not_deidentified"
    teach(
        source["ct"],
        "--annotations",
        source["annotations"],
        "-o",
        private,
        "--no-deidentify",
    )
    shown = read_rgb(private / "images" / "key01.png")
    bare = read_rgb(private / "images" / "key01_clean.png")
    assert not np.array_equal(shown[TOP_LEFT], bare[TOP_LEFT])
    original = pydicom.dcmread(private / "dicom" / "key01.dcm")
    assert original.SOPInstanceUID == source["sop"]


def test_case_sheet(case: Path) -> None:
    markdown = (case / "case.md").read_text(encoding="utf-8")
    assert markdown.startswith("# Skull lesion\n")
    assert "Headache for a week" in markdown
    assert "| Lesion 1 | skull vault | lytic | metastasis |" in markdown
    assert "![key01](images/key01.png)" in markdown
    sheet = json.loads((case / "case.json").read_text(encoding="utf-8"))
    assert sheet["schema"] == "imaging_viewer.teaching_case/1"
    assert sheet["modality"] == "CT"
    assert sheet["keywords"] == ["skull"]
    measurements = sheet["lesions"][0]["measurements"]
    names = {m["name"] for m in measurements}
    assert {"length", "area", "long axis", "short axis", "mean"} <= names
    length = next(m for m in measurements if m["name"] == "length")
    assert length["unit"] == "mm"
    assert length["spacing_source"] == "PixelSpacing"
    assert [image["slice_index"] for image in sheet["images"]] == [
        KEY_SLICE,
        NEAR_SLICE,
    ]
    assert sheet["deidentification"]["dates"] == "removed"


def test_same_case_key_same_uids_and_dates_options(
    case: Path, source: dict[str, Any]
) -> None:
    again = source["folder"] / "again"
    teach(
        source["ct"],
        "--annotations",
        source["annotations"],
        "-o",
        again,
        "--case-key",
        CASE_KEY,
        "--date-shift-days",
        "-10",
    )
    first = pydicom.dcmread(case / "dicom" / "key01.dcm")
    second = pydicom.dcmread(again / "dicom" / "key01.dcm")
    assert second.SOPInstanceUID == first.SOPInstanceUID
    assert second.PatientID == first.PatientID
    assert first["StudyDate"].is_empty
    study_date = source["identifying"]["StudyDate"]
    assert second.StudyDate != study_date
    assert second.LongitudinalTemporalInformationModified == "MODIFIED"


def test_one_line_errors(tmp_path: Path, source: dict[str, Any]) -> None:
    missing = run_cli(
        "teach",
        source["ct"],
        "--annotations",
        tmp_path / "nope.json",
        "-o",
        tmp_path / "o",
    )
    assert missing.returncode == 1
    assert missing.stderr.count("\n") == 1
    assert "no such annotation file" in missing.stderr
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("x")
    busy = run_cli(
        "teach", source["ct"], "--annotations", source["annotations"], "-o", full
    )
    assert busy.returncode == 1
    assert "not an empty folder" in busy.stderr
    other = json.loads(source["annotations"].read_text(encoding="utf-8"))
    other["study_instance_uid"] = "1.2.3.4"
    wrong = tmp_path / "other.json"
    wrong.write_text(json.dumps(other), encoding="utf-8")
    result = run_cli(
        "teach", source["ct"], "--annotations", wrong, "-o", tmp_path / "o"
    )
    assert result.returncode == 1
    assert "study 1.2.3.4" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "o").exists()


def test_patient_data_typed_into_the_case_text_is_refused(
    tmp_path: Path, source: dict[str, Any]
) -> None:
    patient_id = source["identifying"]["PatientID"]
    out = tmp_path / "case"
    result = run_cli(
        "teach",
        source["ct"],
        "--annotations",
        source["annotations"],
        "-o",
        out,
        "--history",
        f"Seen as {patient_id} in clinic",
    )
    assert result.returncode == 1
    assert "holds the PatientID of a source image" in result.stderr
    assert result.stderr.count("\n") == 1
    assert not out.exists()
    assert not list(tmp_path.iterdir())


def test_images_with_burned_in_annotation_are_left_out(
    tmp_path: Path, make_series: MakeSeries, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without OCR to clean them (issue 18: with OCR they are exported cleaned,
    tests/core/exchange/test_burned_in_text.py)."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    series = make_series(tags={"BurnedInAnnotation": "YES"})
    (info,) = scan_folder(series.folder).series
    affine = np.asarray(info.ijk_to_lps)
    lesion = Lesion(label="L1")
    point = tuple(float(v) for v in (affine @ [2, 2, 1, 1.0])[:3])
    marker = PointMarker(
        lesion_id=lesion.id,
        frame_of_reference_uid=info.frame_of_reference_uid,
        position_lps=point,
        plane_normal_lps=(0.0, 0.0, 1.0),
    )
    document = to_json(
        AnnotationSet([replace(lesion, annotations=(marker,))]), info.study_uid
    )
    annotations = tmp_path / "a.json"
    annotations.write_text(json.dumps(document), encoding="utf-8")
    out = tmp_path / "case"
    result = run_cli("teach", series.folder, "--annotations", annotations, "-o", out)
    assert result.returncode == 1
    assert "Burned In Annotation is YES" in result.stderr
    assert not out.exists()
