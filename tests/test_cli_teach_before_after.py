"""``imaging-viewer teach --prior``: a before/after pair per tracked lesion (issue
13 item 6), on the corpus CT and its copy moved rigidly as a later study (new
frame of reference, later date), and on the plain same-position copy. The
written files are read back with pydicom (no patient data, no original dates or
UIDs, one pseudonymous patient, dates shifted alike) and the PNGs with
Tesseract (no patient text)."""

from __future__ import annotations

import datetime
import json
import re
import shutil
import subprocess
from typing import TYPE_CHECKING, Any

import numpy as np
import pydicom
import pytest

from imaging_viewer.core.annotations.model import AnnotationSet, Lesion, Ruler
from imaging_viewer.core.annotations.serialize import save_atomic, to_json
from imaging_viewer.core.dicom.load import load_volume
from tests.core.followup.test_registration import _fixed_series, write_moved_study
from tests.core.workspace.test_timepoint_labels import _two_timepoints
from tests.test_cli_teach import run_cli, teach

if TYPE_CHECKING:
    from pathlib import Path

TRACKED = "2.25.606060606"
SLICE = 10


def _ruler_file(
    dicom: Path,
    target: Path,
    length_px: float,
    label: str,
    *,
    tracked: str = TRACKED,
    also: tuple[tuple[float, str, str], ...] = (),
    timepoint: str = "",
) -> float:
    """An annotation file with one tracked lesion: a ruler of ``length_px``
    pixels along the rows of ``dicom``; returns its length in mm (pydicom).
    ``also``: more lesions (length in pixels, label, Tracking UID), drawn lower
    down; ``timepoint``: the file's time point label."""
    ds = pydicom.dcmread(dicom, stop_before_pixels=True)
    origin = np.array(ds.ImagePositionPatient, dtype=float)
    row_dir = np.array(ds.ImageOrientationPatient[:3], dtype=float)
    col_dir = np.array(ds.ImageOrientationPatient[3:], dtype=float)
    row_mm, col_mm = (float(v) for v in ds.PixelSpacing)
    lesions = []
    for n, (pixels, name, uid) in enumerate(((length_px, label, tracked), *also)):
        start = origin + 100 * col_mm * row_dir + (100 + 60 * n) * row_mm * col_dir
        end = start + pixels * col_mm * row_dir
        lesion = Lesion(label=name, tracking_uid=uid, role="target")
        ruler = Ruler(
            lesion_id=lesion.id,
            referenced_sop_instance_uid=str(ds.SOPInstanceUID),
            plane_normal_lps=tuple(np.cross(row_dir, col_dir).tolist()),
            start_lps=tuple(start.tolist()),
            end_lps=tuple(end.tolist()),
        )
        lesions.append(Lesion(**{**lesion.__dict__, "annotations": (ruler,)}))
    save_atomic(
        target,
        to_json(
            AnnotationSet(lesions),
            str(ds.StudyInstanceUID),
            study_date=str(ds.StudyDate),
            timepoint=timepoint,
        ),
    )
    return length_px * col_mm


@pytest.fixture(scope="module")
def moved_pair(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """PATH holding the corpus CT and its moved copy, and an annotation file each."""
    series = _fixed_series(corpus)
    root = tmp_path_factory.mktemp("before_after")
    studies = root / "studies"
    (studies / "fixed").mkdir(parents=True)
    for k, frame in enumerate(series.frames[0]):
        shutil.copy(frame.path, studies / "fixed" / f"{k:03d}.dcm")
    write_moved_study(series, load_volume(series), studies / "moved")
    before = studies / "fixed" / f"{SLICE:03d}.dcm"
    after = studies / "moved" / f"{SLICE:03d}.dcm"
    before_mm = _ruler_file(before, root / "before.json", 40, "L1 brain")
    after_mm = _ruler_file(after, root / "after.json", 30, "L1 brain")
    return studies, root, before, after, before_mm, after_mm


def _written(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file())


def _check_no_patient_data(folder: Path, sources: list[Path], dates: bool) -> None:
    """No source name, ID, birth date (nor study date, when removed) nor UID in
    any byte of any file of the case (pydicom reads the source values)."""
    values: set[str] = set()
    for source in sources:
        ds = pydicom.dcmread(source, stop_before_pixels=True)
        values |= {str(ds.PatientName), str(ds.PatientID), str(ds.SOPInstanceUID)}
        values |= {str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID)}
        values.add(str(ds.get("PatientBirthDate", "")))
        if not dates:
            values.add(str(ds.StudyDate))
    needles = [value.encode() for value in values if len(value) >= 4]
    for path in _written(folder):
        data = path.read_bytes()
        for needle in needles:
            assert needle not in data, (path, needle)


def _ocr(path: Path) -> str:
    if shutil.which("tesseract") is None:
        return ""
    result = subprocess.run(
        ["tesseract", str(path), "-", "--psm", "11"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result.stdout


def test_moved_copy_gives_a_captioned_deidentified_pair(
    moved_pair: Any, tmp_path: Path
) -> None:
    studies, root, before, after, before_mm, after_mm = moved_pair
    out = tmp_path / "case"
    result = teach(
        studies,
        "--annotations",
        root / "after.json",
        "--prior",
        root / "before.json",
        "-o",
        out,
        "--date-shift-days",
        "-100",
    )
    assert "1 before/after pair(s)" in result.stdout
    pair = out / "before_after"
    assert sorted(p.name for p in pair.iterdir()) == [
        "pair01.png",
        "pair01_after.dcm",
        "pair01_after.png",
        "pair01_before.dcm",
        "pair01_before.png",
    ]
    source_before = pydicom.dcmread(before, stop_before_pixels=True)
    source_after = pydicom.dcmread(after, stop_before_pixels=True)
    written_before = pydicom.dcmread(pair / "pair01_before.dcm")
    written_after = pydicom.dcmread(pair / "pair01_after.dcm")
    # One pseudonymous patient; no birth date; UIDs remapped; frames differ.
    assert written_before.PatientID == written_after.PatientID
    assert written_before.PatientID != source_before.PatientID
    assert str(written_before.PatientName) != str(source_before.PatientName)
    assert not written_before.get("PatientBirthDate")
    assert written_before.SOPInstanceUID != source_before.SOPInstanceUID
    assert written_before.FrameOfReferenceUID != written_after.FrameOfReferenceUID
    assert written_before.StudyInstanceUID != written_after.StudyInstanceUID
    np.testing.assert_array_equal(
        written_before.pixel_array, pydicom.dcmread(before).pixel_array
    )

    # Dates moved by the same shift.
    def shifted(date: str) -> str:
        day = datetime.datetime.strptime(date, "%Y%m%d").date()
        return (day - datetime.timedelta(days=100)).strftime("%Y%m%d")

    assert written_before.StudyDate == shifted(source_before.StudyDate)
    assert written_after.StudyDate == shifted(source_after.StudyDate) == "20980923"

    sheet = json.loads((out / "case.json").read_text(encoding="utf-8"))
    (entry,) = sheet["before_after"]
    assert entry["before"]["caption"] == (
        f"baseline · {shifted(source_before.StudyDate)[:4]}-"
        f"{shifted(source_before.StudyDate)[4:6]}-{shifted(source_before.StudyDate)[6:]}"
    )
    assert entry["after"]["caption"].endswith("2098-09-23")
    assert entry["before"]["size_mm"] == pytest.approx(before_mm, abs=0.05)
    assert entry["after"]["size_mm"] == pytest.approx(after_mm, abs=0.05)
    assert entry["change_pct"] == pytest.approx(-25.0, abs=0.2)
    assert entry["tracking_uid"] != TRACKED
    markdown = (out / "case.md").read_text(encoding="utf-8")
    assert "## Before and after" in markdown
    assert "-25 %" in markdown
    assert "before_after/pair01.png" in markdown
    _check_no_patient_data(out, [before, after], dates=True)
    words = set(re.findall(r"[A-Z0-9]+", _ocr(pair / "pair01.png").upper()))
    patient = str(source_before.PatientName).upper().replace("^", " ").split()
    assert not words & {*patient, str(source_before.PatientID).upper()}


def test_plain_copy_dates_removed(corpus: Path, tmp_path: Path) -> None:
    studies = tmp_path / "studies"
    studies.mkdir()
    earlier, later = _two_timepoints(corpus, studies)
    _ruler_file(earlier / "ct.dcm", tmp_path / "earlier.json", 50, "L1")
    _ruler_file(later / "ct.dcm", tmp_path / "later.json", 60, "L1")
    out = tmp_path / "case"
    teach(
        studies,
        "--annotations",
        tmp_path / "earlier.json",
        "--prior",
        tmp_path / "later.json",
        "-o",
        out,
    )
    sheet = json.loads((out / "case.json").read_text(encoding="utf-8"))
    (entry,) = sheet["before_after"]
    assert [entry["before"]["caption"], entry["after"]["caption"]] == [
        "baseline",
        "follow-up 1",
    ]
    assert entry["change_pct"] == pytest.approx(20.0, abs=0.2)
    for name in ("pair01_before.dcm", "pair01_after.dcm"):
        written = pydicom.dcmread(out / "before_after" / name)
        assert not written.get("StudyDate")
        assert not written.get("PatientBirthDate")
    _check_no_patient_data(out, [earlier / "ct.dcm", later / "ct.dcm"], dates=False)


def test_prior_of_the_same_study_is_refused(moved_pair: Any, tmp_path: Path) -> None:
    studies, root, *_ = moved_pair
    result = run_cli(
        "teach",
        studies,
        "--annotations",
        root / "after.json",
        "--prior",
        root / "after.json",
        "-o",
        tmp_path / "case",
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "is the study of --annotations" in result.stderr


def test_captions_use_the_files_timepoint_labels(corpus: Path, tmp_path: Path) -> None:
    """Each annotation file's ``"timepoint"`` (schema 2) captions its side."""
    studies = tmp_path / "studies"
    studies.mkdir()
    earlier, later = _two_timepoints(corpus, studies)
    _ruler_file(earlier / "ct.dcm", tmp_path / "earlier.json", 50, "L1")
    _ruler_file(
        later / "ct.dcm", tmp_path / "later.json", 60, "L1", timepoint="after 3 cycles"
    )
    out = tmp_path / "case"
    teach(
        studies,
        "--annotations",
        tmp_path / "later.json",
        "--prior",
        tmp_path / "earlier.json",
        "-o",
        out,
    )
    (entry,) = json.loads((out / "case.json").read_text(encoding="utf-8"))[
        "before_after"
    ]
    # The later file names its time point; the earlier one is named by date order.
    assert [entry["before"]["caption"], entry["after"]["caption"]] == [
        "baseline",
        "after 3 cycles",
    ]


def test_pairs_only_for_the_chosen_lesions(corpus: Path, tmp_path: Path) -> None:
    """``--lesion`` narrows the pairs too: two tracked lesions, one chosen."""
    studies = tmp_path / "studies"
    studies.mkdir()
    earlier, later = _two_timepoints(corpus, studies)
    other = (30.0, "L2 node", "2.25.707070707")
    _ruler_file(earlier / "ct.dcm", tmp_path / "earlier.json", 50, "L1", also=(other,))
    _ruler_file(later / "ct.dcm", tmp_path / "later.json", 60, "L1", also=(other,))
    both = tmp_path / "both"
    teach(
        studies,
        "--annotations",
        tmp_path / "later.json",
        "--prior",
        tmp_path / "earlier.json",
        "-o",
        both,
    )
    sheet = json.loads((both / "case.json").read_text(encoding="utf-8"))
    assert len(sheet["before_after"]) == 2
    one = tmp_path / "one"
    result = teach(
        studies,
        "--annotations",
        tmp_path / "later.json",
        "--prior",
        tmp_path / "earlier.json",
        "--lesion",
        "L2 node",
        "-o",
        one,
    )
    assert "1 before/after pair(s)" in result.stdout
    (entry,) = json.loads((one / "case.json").read_text(encoding="utf-8"))[
        "before_after"
    ]
    assert entry["lesion"] == "L2 node"
    assert sorted(p.name for p in (one / "before_after").glob("*.dcm")) == [
        "pair01_after.dcm",
        "pair01_before.dcm",
    ]
