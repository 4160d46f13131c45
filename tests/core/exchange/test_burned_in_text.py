"""Patient data burned into pixels (issue 18): found by OCR and blacked out in every
teaching output, or the image refused.

Text is drawn by Pillow (not by us), and read back by Tesseract from the files
written. Tests needing Tesseract skip on a clone without it and fail in CI.
"""

from __future__ import annotations

import json
import os
import shutil
from typing import TYPE_CHECKING

import numpy as np
import pydicom
import pytest
from PIL import Image, ImageDraw, ImageFont
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    CTImageStorage,
    ExplicitVRLittleEndian,
    UltrasoundImageStorage,
    generate_uid,
)

from imaging_viewer.core.annotations.model import AnnotationSet, Lesion
from imaging_viewer.core.annotations.serialize import to_json
from imaging_viewer.core.dicom.scan import scan_folder
from imaging_viewer.core.exchange.burned_in_text import (
    clean_pixel_data,
    ocr_available,
    read_text,
    risk_of_burned_in_text,
)
from tests.test_cli_teach import run_cli

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import MakeSeries

NAME, PATIENT_ID, BIRTH = "DOE^JOHN", "PID48213977", "19610714"
DRAWN = ("DOE JOHN", PATIENT_ID, "14/07/1961", "ACC99120")
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


@pytest.fixture
def ocr() -> None:
    """Tesseract and pytesseract, or skip (fail in CI, as for the corpus)."""
    if ocr_available():
        return
    message = "no OCR: install tesseract-ocr (Debian) and pytesseract"
    if os.environ.get("IMAGING_VIEWER_REQUIRE_CORPUS") == "1" or os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _tokens(text: str) -> set[str]:
    return {t.strip(".,:;").upper() for t in text.split()}


def _found(strings: tuple[str, ...], text: str) -> list[str]:
    """Which of ``strings`` (each one or more words) OCR read in ``text``."""
    tokens = _tokens(text)
    return [s for s in strings if all(w.upper() in tokens for w in s.split())]


def ultrasound_with_text(path: Path) -> Path:
    """An ultrasound image with no Burned In Annotation and the patient's name, ID,
    birth date and accession number drawn into its pixels by Pillow."""
    rows, columns = 300, 480
    image = Image.new("L", (columns, rows), 0)
    draw = ImageDraw.Draw(image)
    draw.ellipse((140, 110, 340, 280), fill=90)  # the "anatomy"
    font = ImageFont.truetype(FONT, 20)
    for n, text in enumerate(DRAWN):
        draw.text((12, 10 + 26 * n), text, fill=255, font=font)
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = UltrasoundImageStorage
    ds.SOPClassUID = UltrasoundImageStorage
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality = "US"
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = NAME, PATIENT_ID, BIRTH
    ds.AccessionNumber = "ACC99120"
    ds.StudyDate = ds.SeriesDate = "20240105"
    ds.SeriesNumber, ds.InstanceNumber = 1, 1
    ds.Rows, ds.Columns = rows, columns
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit, ds.PixelRepresentation = 7, 0
    ds.PixelData = np.asarray(image, dtype=np.uint8).tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def test_risk_follows_modality_class_and_burned_in_annotation(tmp_path: Path) -> None:
    ds = pydicom.dcmread(ultrasound_with_text(tmp_path / "us.dcm"))
    assert risk_of_burned_in_text(ds) is not None
    ds.BurnedInAnnotation = "NO"
    assert risk_of_burned_in_text(ds) is None
    ds.Modality, ds.BurnedInAnnotation = "CT", "YES"
    assert risk_of_burned_in_text(ds) is not None
    del ds.BurnedInAnnotation
    assert risk_of_burned_in_text(ds) is None


@pytest.mark.usefixtures("ocr")
def test_drawn_patient_text_is_blacked_out(tmp_path: Path) -> None:
    ds = pydicom.dcmread(ultrasound_with_text(tmp_path / "us.dcm"))
    before = read_text(ds.pixel_array)
    assert len(_found(DRAWN, before)) >= 3, f"OCR should read the text: {before!r}"

    boxes = clean_pixel_data(ds)

    assert boxes
    assert _found(DRAWN, read_text(ds.pixel_array)) == []
    assert ds.BurnedInAnnotation == "NO"
    assert "Clean Pixel Data Option" in str(ds.DeidentificationMethod)
    # The anatomy is kept: the ellipse's centre is untouched.
    assert ds.pixel_array[195, 240] == 90


def _teach(folder: Path, tmp_path: Path, *extra: str) -> tuple[int, str, Path]:
    (info,) = scan_folder(folder).series
    annotations = tmp_path / "a.json"
    lesions = AnnotationSet([Lesion(label="L1")])
    annotations.write_text(json.dumps(to_json(lesions, info.study_uid)))
    sop = str(pydicom.dcmread(info.files[0], stop_before_pixels=True).SOPInstanceUID)
    out = tmp_path / "case"
    result = run_cli(
        "teach",
        folder,
        "--annotations",
        annotations,
        "-o",
        out,
        "--key-image",
        sop,
        *extra,
    )
    return result.returncode, result.stderr, out


@pytest.mark.usefixtures("ocr")
def test_teaching_case_of_an_ultrasound_has_no_readable_patient_text(
    tmp_path: Path,
) -> None:
    """Every image of the case (annotated PNG, clean PNG, DICOM) is read back by
    Tesseract: none of the drawn strings is found; the sheet says so."""
    folder = tmp_path / "study"
    folder.mkdir()
    ultrasound_with_text(folder / "us.dcm")

    code, stderr, out = _teach(folder, tmp_path)

    assert code == 0, stderr
    pngs = sorted((out / "images").glob("*.png"))
    assert len(pngs) == 2
    for png in pngs:
        text = read_text(np.asarray(Image.open(png).convert("L")))
        assert _found(DRAWN, text) == [], f"{png.name}: {text!r}"
    (dicom,) = (out / "dicom").glob("key*.dcm")
    ds = pydicom.dcmread(dicom)
    assert _found(DRAWN, read_text(ds.pixel_array)) == []
    assert ds.BurnedInAnnotation == "NO"
    assert "Clean Pixel Data Option" in str(ds.DeidentificationMethod)
    sheet = (out / "case.md").read_text()
    assert "burned-in text blacked out in key01" in sheet


def test_without_ocr_the_image_is_refused_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "study"
    folder.mkdir()
    ultrasound_with_text(folder / "us.dcm")
    # The child interpreter finds no tesseract program on its PATH.
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))

    code, stderr, out = _teach(folder, tmp_path)

    assert code == 1
    assert "no OCR is installed" in stderr
    assert not out.exists()


@pytest.mark.usefixtures("ocr")
def test_real_ultrasound_of_the_corpus(corpus: Path, tmp_path: Path) -> None:
    """A real ultrasound: whatever Tesseract reads in it is gone from the case."""
    source = corpus / "dwv/gdcm-US-RGB-8-epicard.dcm"
    before = read_text(pydicom.dcmread(source).pixel_array)
    folder = tmp_path / "study"
    folder.mkdir()
    shutil.copyfile(source, folder / "us.dcm")

    code, stderr, out = _teach(folder, tmp_path)

    assert code == 0, stderr
    words = tuple(w for w in _tokens(before) if len(w) >= 4 and w.isalnum())
    for png in sorted((out / "images").glob("*_clean.png")):
        after = read_text(np.asarray(Image.open(png).convert("L")))
        assert _found(words, after) == [], (before, after)


def test_the_users_own_rectangles_are_blacked_out(
    qapp: object, make_series: MakeSeries, tmp_path: Path
) -> None:
    """A rectangle the user drew is blacked out in the DICOM and both PNGs, even on
    an image not at risk (here a CT), and the case sheet says so."""
    from imaging_viewer.core.exchange.burned_in_text import TextBox
    from imaging_viewer.core.teaching.case import TeachingCase
    from imaging_viewer.ui.teaching_export import export_teaching_case

    series = make_series(shape=(3, 40, 50), values=lambda i, j, k, t: 500 + 0 * i)
    result = scan_folder(series.folder)
    path = result.series[0].frames[0][1].path
    sop = str(pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID)
    box = TextBox(column=10, row=5, width=20, height=8)

    export = export_teaching_case(
        result,
        AnnotationSet([Lesion(label="L1")]),
        TeachingCase(title="rectangles"),
        tmp_path / "case",
        key_images=[sop],
        redactions={sop: [box]},
    )

    (dicom,) = (export.folder / "dicom").glob("key*.dcm")
    pixels = pydicom.dcmread(dicom).pixel_array
    assert (pixels[5:13, 10:30] == pixels.min()).all()
    assert (pixels[20:, 35:] == 500).all()
    clean = np.asarray(
        Image.open(export.folder / "images/key01_clean.png").convert("L")
    )
    assert (clean[5:13, 10:30] == 0).all()
    assert (
        "burned-in text blacked out in key01" in (export.folder / "case.md").read_text()
    )


def _burned_in_yes(folder: Path) -> Path:
    """A CT-class image stating Burned In Annotation YES, with the patient's name,
    ID, birth date and accession number drawn into its pixels."""
    path = ultrasound_with_text(folder / "ct.dcm")
    ds = pydicom.dcmread(path)
    ds.Modality = "CT"
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.BurnedInAnnotation = "YES"
    ds.save_as(path, enforce_file_format=True)
    return path


@pytest.mark.usefixtures("ocr")
def test_burned_in_annotation_yes_is_exported_once_cleaned(tmp_path: Path) -> None:
    """Burned In Annotation YES is no longer refused: the case's DICOM has the text
    blacked out, says NO only now, and De-identification Method says how."""
    folder = tmp_path / "study"
    folder.mkdir()
    source = pydicom.dcmread(_burned_in_yes(folder))
    assert len(_found(DRAWN, read_text(source.pixel_array))) >= 3

    code, stderr, out = _teach(folder, tmp_path)

    assert code == 0, stderr
    (dicom,) = (out / "dicom").glob("key*.dcm")
    ds = pydicom.dcmread(dicom)
    assert _found(DRAWN, read_text(ds.pixel_array)) == []
    assert ds.BurnedInAnnotation == "NO"
    assert ds.PatientIdentityRemoved == "YES"
    methods = list(ds.DeidentificationMethod)
    assert "Clean Pixel Data Option" in methods
    assert any("OCR (Tesseract)" in m and "blacked out" in m for m in methods)
    codes = [item.CodeValue for item in ds.DeidentificationMethodCodeSequence]
    assert "113101" in codes
    for png in sorted((out / "images").glob("*.png")):
        text = read_text(np.asarray(Image.open(png).convert("L")))
        assert _found(DRAWN, text) == [], f"{png.name}: {text!r}"
    assert "burned-in text blacked out in key01" in (out / "case.md").read_text()


def test_burned_in_annotation_yes_without_ocr_is_refused_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "study"
    folder.mkdir()
    _burned_in_yes(folder)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))

    code, stderr, out = _teach(folder, tmp_path)

    assert code == 1
    assert "Burned In Annotation is YES" in stderr
    assert "no OCR is installed" in stderr
    assert not out.exists()
