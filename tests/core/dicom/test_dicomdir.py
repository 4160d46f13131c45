"""Tests for core/dicom/dicomdir.py: real CDs, pydicom's trees, hostile files."""

from __future__ import annotations

import os
import random
import shutil
import warnings
from pathlib import Path

import pydicom
import pydicom.examples
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.fileset import FileSet
from pydicom.uid import (
    ExplicitVRLittleEndian,
    MediaStorageDirectoryStorage,
    generate_uid,
)

from imaging_viewer.core.dicom.dicomdir import (
    DicomdirContents,
    is_dicomdir,
    read_dicomdir,
)

CORPUS = Path(
    os.environ.get(
        "IMAGING_VIEWER_CORPUS",
        Path(__file__).resolve().parents[3].parent / "shared" / "dicom",
    )
)
PHILIPS = CORPUS / "dcm_qa_ct" / "In" / "Philips"
DWV = CORPUS / "dwv"
needs_corpus = pytest.mark.skipif(
    not PHILIPS.is_dir() or not DWV.is_dir(), reason=f"corpus not found at {CORPUS}"
)

DICOMDIR_TESTS = Path(get_testdata_file("DICOMDIR")).parent  # type: ignore[arg-type]


def _pydicom_listing(dicomdir: Path) -> set[Path]:
    """The instance files pydicom's FileSet lists: the independent reference."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fileset = FileSet(pydicom.dcmread(dicomdir))
        return {Path(instance.path) for instance in fileset}


def _write_directory_file(
    path: Path, file_ids: list[list[str]], *, first_offset: int = 0
) -> None:
    """A Basic Directory with one IMAGE record per file ID and no record offsets
    (like Philips DIRFILEs), unless first_offset is given."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = MediaStorageDirectoryStorage
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.FileSetID = ""
    ds.OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity = first_offset
    ds.OffsetOfTheLastDirectoryRecordOfTheRootDirectoryEntity = first_offset
    ds.FileSetConsistencyFlag = 0
    records = []
    for file_id in file_ids:
        record = Dataset()
        record.OffsetOfTheNextDirectoryRecord = 0
        record.RecordInUseFlag = 0xFFFF
        record.OffsetOfReferencedLowerLevelDirectoryEntity = 0
        record.DirectoryRecordType = "IMAGE"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # hostile IDs are not valid CS
            record.ReferencedFileID = file_id
        records.append(record)
    ds.DirectoryRecordSequence = records
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)


def _write_image(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(pydicom.examples.get_path("ct"), path)
    return path


def _assert_consistent(contents: DicomdirContents) -> None:
    assert isinstance(contents, DicomdirContents)
    assert all(p.is_file() for p in contents.files)
    assert not any(p.exists() for p in contents.dangling)
    assert len(set(contents.files)) == len(contents.files)
    assert all(isinstance(p, str) and p for p in contents.problems)


# --- real data ---------------------------------------------------------------


@needs_corpus
@pytest.mark.corpus
def test_philips_hierarchy_follows_dirfiles() -> None:
    contents = read_dicomdir(PHILIPS / "DICOMDIR")
    _assert_consistent(contents)

    # DICOMDIR -> S21610/DIRFILE -> S21610/S{1000,2010,4010}/DIRFILE -> images;
    # every image file of those series folders is referenced.
    series = [PHILIPS / "S21610" / name for name in ("S1000", "S2010", "S4010")]
    expected = {p for folder in series for p in folder.iterdir() if p.name != "DIRFILE"}
    assert set(contents.files) == expected
    assert len(contents.files) == 1 + 54 + 5
    # S21570/S2010 is only reachable through the study DIRFILE, which is missing.
    assert not any("S21570" in p.parts for p in contents.files)

    assert set(contents.dangling) == {
        PHILIPS / "S21610" / "S3010" / "DIRFILE",
        PHILIPS / "S21570" / "DIRFILE",
    }
    assert contents.directories == [
        PHILIPS / "DICOMDIR",
        PHILIPS / "S21610" / "DIRFILE",
        PHILIPS / "S21610" / "S4010" / "DIRFILE",
        PHILIPS / "S21610" / "S1000" / "DIRFILE",
        PHILIPS / "S21610" / "S2010" / "DIRFILE",
    ]
    assert len(contents.problems) == 2
    assert any(
        str(PHILIPS / "S21610" / "DIRFILE") in p and "S3010" in p
        for p in contents.problems
    )
    assert any(
        str(PHILIPS / "DICOMDIR") in p and "S21570" in p for p in contents.problems
    )


@needs_corpus
@pytest.mark.corpus
def test_philips_dirfiles_read_on_their_own() -> None:
    # A series DIRFILE whose study DIRFILE is missing: IDs are relative to the CD
    # root (S21570\S2010\I10), which lies above the DIRFILE read.
    series = read_dicomdir(PHILIPS / "S21570" / "S2010" / "DIRFILE")
    _assert_consistent(series)
    folder = PHILIPS / "S21570" / "S2010"
    assert set(series.files) == {p for p in folder.iterdir() if p.name != "DIRFILE"}
    assert len(series.files) == 28
    assert series.dangling == []
    assert series.problems == []

    study = read_dicomdir(PHILIPS / "S21610" / "DIRFILE")
    _assert_consistent(study)
    assert set(study.files) == set(read_dicomdir(PHILIPS / "DICOMDIR").files)
    assert study.dangling == [PHILIPS / "S21610" / "S3010" / "DIRFILE"]


@needs_corpus
@pytest.mark.corpus
def test_dwv_dicomdir_references_all_dangle() -> None:
    contents = read_dicomdir(DWV / "DICOMDIR")
    _assert_consistent(contents)
    assert contents.files == []
    assert contents.dangling == [DWV / "IMAGES" / f"IM{i}" for i in range(44)]
    assert contents.directories == [DWV / "DICOMDIR"]
    assert len(contents.problems) == 1
    assert str(DWV / "DICOMDIR") in contents.problems[0]
    assert "44" in contents.problems[0]


@needs_corpus
@pytest.mark.corpus
def test_dwv_non_conformant_dicomdir_gives_problems() -> None:
    path = DWV / "bbmri.dcmdir"
    # No Media Storage SOP Class in its meta, and not named DICOMDIR.
    assert not is_dicomdir(path)
    contents = read_dicomdir(path)
    _assert_consistent(contents)
    assert contents.problems
    assert all(str(path) in p for p in contents.problems)
    # Its records name files of the same folder, in lower case with an extension.
    assert contents.files == [
        DWV / f"bbmri-{n}.dcm" for n in (53323131, 53323275, 53323419, 53323563)
    ]


@needs_corpus
@pytest.mark.corpus
def test_is_dicomdir_on_corpus() -> None:
    assert is_dicomdir(PHILIPS / "DICOMDIR")
    assert is_dicomdir(PHILIPS / "S21610" / "DIRFILE")
    assert is_dicomdir(PHILIPS / "S21610" / "S2010" / "DIRFILE")
    assert is_dicomdir(DWV / "DICOMDIR")
    assert not is_dicomdir(PHILIPS / "S21610" / "S2010" / "I10")
    assert not is_dicomdir(DWV / "gdcm-CT-MONO2-8-abdo.dcm")
    assert not is_dicomdir(PHILIPS)


# --- pydicom's conformant trees, against pydicom's FileSet ------------------


@pytest.mark.parametrize(
    "name",
    [
        "DICOMDIR",
        "DICOMDIR-bigEnd",
        "DICOMDIR-implicit",
        "DICOMDIR-nooffset",
        "DICOMDIR-reordered",
        "DICOMDIR-empty.dcm",
        "TINY_ALPHA/DICOMDIR",
    ],
)
def test_matches_pydicom_fileset(name: str) -> None:
    path = DICOMDIR_TESTS / name
    assert is_dicomdir(path)
    contents = read_dicomdir(path)
    _assert_consistent(contents)
    assert set(contents.files) == _pydicom_listing(path)
    assert contents.dangling == []
    assert contents.directories == [path]
    assert contents.problems == []


def test_testdata_dicomdir_lists_31_files_in_record_order() -> None:
    path = Path(get_testdata_file("DICOMDIR"))  # type: ignore[arg-type]
    contents = read_dicomdir(path)
    assert len(contents.files) == 31
    # Depth-first record order: patient 77654033's CR1 image comes first.
    assert contents.files[0] == DICOMDIR_TESTS / "77654033" / "CR1" / "6154"


def test_unlinked_records_are_read_and_reported() -> None:
    # Its root entity is one IMAGE record; the other records hang from nothing.
    # pydicom's FileSet refuses it; the referenced files are those of DICOMDIR.
    path = DICOMDIR_TESTS / "DICOMDIR-nopatient"
    contents = read_dicomdir(path)
    _assert_consistent(contents)
    assert set(contents.files) == _pydicom_listing(DICOMDIR_TESTS / "DICOMDIR")
    assert len(contents.problems) == 1
    assert "not linked" in contents.problems[0]


# --- synthetic, hostile ------------------------------------------------------


@pytest.fixture
def conformant_cd(tmp_path: Path) -> Path:
    """A conformant File-set written by pydicom: DICOMDIR plus 3 instances."""
    fileset = FileSet()
    for number in range(3):
        ds = pydicom.examples.ct
        ds.SOPInstanceUID = generate_uid()
        ds.InstanceNumber = number + 1
        fileset.add(ds)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fileset.write(tmp_path / "cd")
    return tmp_path / "cd" / "DICOMDIR"


def test_conformant_written_fileset(conformant_cd: Path) -> None:
    contents = read_dicomdir(conformant_cd)
    assert set(contents.files) == _pydicom_listing(conformant_cd)
    assert len(contents.files) == 3
    assert contents.problems == []


def test_truncated_dicomdir_never_raises(conformant_cd: Path) -> None:
    data = conformant_cd.read_bytes()
    full = set(read_dicomdir(conformant_cd).files)
    for length in [0, 1, 64, 128, 132, 140, 200, *range(300, len(data), 37)]:
        conformant_cd.write_bytes(data[:length])
        contents = read_dicomdir(conformant_cd)
        _assert_consistent(contents)
        assert contents.problems, length
        assert all(str(conformant_cd) in p for p in contents.problems)
        assert set(contents.files) <= full
        assert contents.directories == [conformant_cd]
    assert not is_dicomdir(conformant_cd.parent / "missing")


def test_garbage_named_dicomdir(tmp_path: Path) -> None:
    path = tmp_path / "DICOMDIR"
    path.write_bytes(bytes(range(256)) * 40)
    assert not is_dicomdir(path)
    contents = read_dicomdir(path)
    assert contents.files == []
    assert len(contents.problems) == 1
    assert str(path) in contents.problems[0]


def test_missing_file(tmp_path: Path) -> None:
    contents = read_dicomdir(tmp_path / "DICOMDIR")
    assert contents.files == []
    assert contents.problems


def test_cycle_of_dirfiles(tmp_path: Path) -> None:
    _write_directory_file(tmp_path / "DICOMDIR", [["A", "DIRFILE"], ["IM0"]])
    _write_directory_file(tmp_path / "A" / "DIRFILE", [["B", "DIRFILE"], ["A", "IM1"]])
    _write_directory_file(
        tmp_path / "B" / "DIRFILE",
        [["A", "DIRFILE"], ["DICOMDIR"], ["B", "IM2"]],
    )
    images = [
        _write_image(tmp_path / "IM0"),
        _write_image(tmp_path / "A" / "IM1"),
        _write_image(tmp_path / "B" / "IM2"),
    ]
    contents = read_dicomdir(tmp_path / "DICOMDIR")
    _assert_consistent(contents)
    assert set(contents.files) == set(images)
    assert contents.directories == [
        tmp_path / "DICOMDIR",
        tmp_path / "A" / "DIRFILE",
        tmp_path / "B" / "DIRFILE",
    ]
    cycles = [p for p in contents.problems if "cycle" in p]
    assert len(cycles) == 2
    assert all(str(tmp_path / "B" / "DIRFILE") in p for p in cycles)


def test_self_reference(tmp_path: Path) -> None:
    _write_directory_file(tmp_path / "DICOMDIR", [["DICOMDIR"]])
    contents = read_dicomdir(tmp_path / "DICOMDIR")
    assert contents.files == []
    assert contents.directories == [tmp_path / "DICOMDIR"]
    assert len(contents.problems) == 1
    assert "cycle" in contents.problems[0]


def test_deep_nesting_is_cut(tmp_path: Path) -> None:
    depth = 20
    for level in range(depth):
        folder = tmp_path.joinpath(*[f"D{i}" for i in range(level)])
        child = [*(f"D{i}" for i in range(level + 1)), "DIRFILE"]
        name = "DICOMDIR" if level == 0 else "DIRFILE"
        _write_directory_file(folder / name, [child])
    contents = read_dicomdir(tmp_path / "DICOMDIR")
    assert 1 < len(contents.directories) < depth
    assert len(contents.problems) == 1
    assert "deep" in contents.problems[0]


def test_escaping_references_are_refused(tmp_path: Path) -> None:
    outside = _write_image(tmp_path / "outside" / "IM1")
    inside = _write_image(tmp_path / "cd" / "IM1")
    _write_directory_file(
        tmp_path / "cd" / "DICOMDIR",
        [
            ["..", "outside", "IM1"],
            ["IM1"],
            [str(outside)],  # absolute, one value with "/" separators
            ["A", "..", "..", "outside", "IM1"],
        ],
    )
    contents = read_dicomdir(tmp_path / "cd" / "DICOMDIR")
    _assert_consistent(contents)
    assert contents.files == [inside]
    assert contents.dangling == []
    refused = [p for p in contents.problems if "refused" in p]
    assert len(refused) == 3
    assert all(str(tmp_path / "cd" / "DICOMDIR") in p for p in refused)


def test_symlink_escaping_the_root_is_refused(tmp_path: Path) -> None:
    _write_image(tmp_path / "outside" / "IM1")
    link = tmp_path / "cd" / "LINK"
    link.parent.mkdir()
    try:
        link.symlink_to(tmp_path / "outside", target_is_directory=True)
    except OSError:
        pytest.skip("cannot create symlinks here")
    _write_directory_file(tmp_path / "cd" / "DICOMDIR", [["LINK", "IM1"]])
    contents = read_dicomdir(tmp_path / "cd" / "DICOMDIR")
    assert contents.files == []
    assert contents.dangling == []
    assert len(contents.problems) == 1
    assert "outside" in contents.problems[0]


def test_case_and_trailing_dots_as_on_cds(tmp_path: Path) -> None:
    # ISO 9660 CDs mounted with various drivers: "IM1." / "im1" / "IM1.;1".
    on_disk = [
        _write_image(tmp_path / "series1" / "IM1."),
        _write_image(tmp_path / "series1" / "im2"),
        _write_image(tmp_path / "series1" / "IM3.;1"),
    ]
    _write_directory_file(
        tmp_path / "DICOMDIR",
        [["SERIES1", "IM1"], ["SERIES1", "IM2"], ["SERIES1", "IM3"], ["SERIES1"]],
    )
    contents = read_dicomdir(tmp_path / "DICOMDIR")
    _assert_consistent(contents)
    assert contents.files == on_disk
    # A folder is not an instance file.
    assert contents.dangling == [tmp_path / "SERIES1"]


def test_bad_first_record_offset_falls_back_to_sequence_order(
    tmp_path: Path,
) -> None:
    image = _write_image(tmp_path / "IM1")
    _write_directory_file(tmp_path / "DICOMDIR", [["IM1"]], first_offset=99999)
    contents = read_dicomdir(tmp_path / "DICOMDIR")
    assert contents.files == [image]
    assert len(contents.problems) == 1
    assert "99999" in contents.problems[0]


def test_cancel_stops_and_says_so(tmp_path: Path) -> None:
    _write_directory_file(tmp_path / "DICOMDIR", [["A", "DIRFILE"]])
    _write_directory_file(tmp_path / "A" / "DIRFILE", [["A", "IM1"]])
    _write_image(tmp_path / "A" / "IM1")
    calls: list[int] = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 2

    contents = read_dicomdir(tmp_path / "DICOMDIR", cancel=cancel)
    assert contents.files == []
    assert any("cancelled" in p for p in contents.problems)
    assert read_dicomdir(tmp_path / "DICOMDIR", cancel=lambda: False).files == [
        tmp_path / "A" / "IM1"
    ]


def test_is_dicomdir_by_name_without_meta(tmp_path: Path) -> None:
    # A DIRFILE without preamble and File Meta Information, only the dataset.
    ds = Dataset()
    record = Dataset()
    record.DirectoryRecordType = "IMAGE"
    record.ReferencedFileID = ["IM1"]
    ds.DirectoryRecordSequence = [record]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds.save_as(tmp_path / "DIRFILE", implicit_vr=False, little_endian=True)
    image = _write_image(tmp_path / "IM1")
    assert is_dicomdir(tmp_path / "DIRFILE")
    shutil.copyfile(tmp_path / "DIRFILE", tmp_path / "OTHER")
    assert not is_dicomdir(tmp_path / "OTHER")
    contents = read_dicomdir(tmp_path / "DIRFILE")
    assert contents.files == [image]
    assert any("non-conformant" in p for p in contents.problems)


def test_corrupted_bytes_never_raise(conformant_cd: Path) -> None:
    data = conformant_cd.read_bytes()
    rng = random.Random(20240601)
    for _ in range(300):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            mutated[rng.randrange(128, len(mutated))] = rng.randrange(256)
        conformant_cd.write_bytes(bytes(mutated))
        is_dicomdir(conformant_cd)
        _assert_consistent(read_dicomdir(conformant_cd))
