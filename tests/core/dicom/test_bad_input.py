"""Bad input beside a good series: each bad file skipped with a reason, nothing raises.

Each test writes a good synthetic series (``make_series``) and some bad files into
``tmp_path``, scans the whole folder and checks three things: the bad file is in
``ScanResult.skipped`` with a reason naming its problem, the good series is still
found and loads exactly, and no exception escapes. A SIGALRM deadline guards every
test (``faulthandler_timeout`` only dumps stacks, it does not stop a hung test).
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import threading
import tracemalloc
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pydicom
import pytest
from pydicom.uid import RLELossless, generate_uid

from imaging_viewer.core.dicom.load import load_volume
from imaging_viewer.core.dicom.scan import ScanResult, scan_folder

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from imaging_viewer.core.dicom.series import SeriesInfo
    from tests.conftest import MakeSeries, SyntheticSeries

DEADLINE_S = 30
KNOWN_UNDECODABLE = (
    "dwv/nema-mr1_jply.dcm",
    "pylibjpeg_data/ljdata/ds/JPEGExtended/RG2_JPLY.dcm",
)


@pytest.fixture(autouse=True)
def deadline() -> Iterator[None]:
    """Fail (instead of hanging) a test that runs longer than DEADLINE_S."""

    def expire(signum: int, frame: Any) -> None:
        pytest.fail(f"test took longer than {DEADLINE_S} s: scan or load hangs")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, DEADLINE_S)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def good(make_series: MakeSeries) -> SyntheticSeries:
    """The good series every bad file sits beside."""
    return make_series(shape=(6, 8, 9), folder="good", series_number=1)


def good_series(result: ScanResult, series: SyntheticSeries) -> SeriesInfo:
    """The scanned good series: found once, complete, and loading exactly."""
    found = [s for s in result.series if s.uid == series.series_uid]
    assert len(found) == 1, (
        f"good series found {len(found)} times; series {[s.id for s in result.series]}"
    )
    info = found[0]
    assert set(info.files) == {str(p) for p in series.files}, (
        f"good series lost or gained files: {sorted(info.files)}"
    )
    assert info.warnings == (), info.warnings
    volume = load_volume(info)
    assert volume.warnings == (), volume.warnings
    np.testing.assert_array_equal(volume.voxels, series.voxels)
    np.testing.assert_allclose(volume.ijk_to_lps, series.ijk_to_lps, atol=1e-6)
    return info


def skip_reason(result: ScanResult, path: Path) -> str:
    reasons = [s.reason for s in result.skipped if Path(s.path) == path]
    used = [s.id for s in result.series if str(path) in s.files]
    assert len(reasons) == 1, (
        f"{path.name} should be skipped once; skipped {len(reasons)} times, "
        f"used by series {used}; all skipped: {result.skipped}"
    )
    return reasons[0]


def assert_skipped(
    result: ScanResult, path: Path, words: Sequence[str], problem: str
) -> None:
    reason = skip_reason(result, path)
    assert any(w.lower() in reason.lower() for w in words), (
        f"{path.name} ({problem}) is skipped, but the reason {reason!r} does not "
        f"name the problem (expected one of {list(words)})"
    )


def resave(source: Path, target: Path, **changes: Any) -> Path:
    """A copy of ``source`` as a new instance of a new series, with ``changes``."""
    ds = pydicom.dcmread(source)
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.SeriesInstanceUID = generate_uid()
    for keyword, value in changes.items():
        setattr(ds, keyword, value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom warns of the invalid values we want
        ds.save_as(target, enforce_file_format=True)
    return target


def pixel_data_offset(path: Path) -> int:
    """File offset of the Pixel Data element's tag (explicit VR little endian)."""
    data = path.read_bytes()
    offset = data.rfind(b"\xe0\x7f\x10\x00OW")
    assert offset > 0
    return offset


# ------------------------------------------------------------ not DICOM at all


def test_non_dicom_files_are_skipped(good: SyntheticSeries, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    text = bad / "notes.txt"
    text.write_text("Patient list\nnot an image\n")
    empty = bad / "empty.dcm"
    empty.write_bytes(b"")
    png = bad / "scan.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    no_extension = bad / "README"
    no_extension.write_text("x" * 2000)
    random_bytes = bad / "IM0001"  # a DICOM-looking name, random content
    random_bytes.write_bytes(np.random.default_rng(1).bytes(4096))

    result = scan_folder(tmp_path)

    good_series(result, good)
    assert_skipped(result, text, ["not a DICOM"], "text file")
    assert_skipped(result, empty, ["empty"], "zero bytes")
    assert_skipped(result, png, ["not a DICOM"], "PNG")
    assert_skipped(result, no_extension, ["not a DICOM"], "text without extension")
    assert_skipped(result, random_bytes, ["not a DICOM"], "random bytes")
    assert len(result.series) == 1


# ---------------------------------------------------------------- truncated

# Cut points relative to the layout of a good file: after the "DICM" prefix, in
# the file meta group, at its end and in the dataset: the header itself is cut.
_HEADER_CUTS = {
    "after-DICM": lambda path: 132,
    "in-file-meta": lambda path: 150,
    "end-of-file-meta": lambda path: 132 + 12 + _meta_group_length(path),
    "mid-dataset": lambda path: pixel_data_offset(path) // 2 + 200,
}
# The header is whole; the Pixel Data element is missing or cut in its own header.
_PIXEL_ELEMENT_CUTS = {
    "before-pixel-tag": lambda path: pixel_data_offset(path),
    "in-pixel-element-header": lambda path: pixel_data_offset(path) + 6,
}
TRUNCATION_WORDS = ("truncat", "incomplete", "ends before", "end of file", "cut short")


def _meta_group_length(path: Path) -> int:
    return int.from_bytes(path.read_bytes()[140:144], "little")


def _write_truncated(good: SyntheticSeries, tmp_path: Path, cut_at: Any) -> Path:
    source = resave(good.files[0], tmp_path / "source.dcm")
    data = source.read_bytes()
    cut = cut_at(source)
    assert 132 <= cut < pixel_data_offset(source) + 12 <= len(data)
    truncated = tmp_path / "bad" / f"truncated_at_{cut}_of_{len(data)}.dcm"
    truncated.parent.mkdir()
    truncated.write_bytes(data[:cut])
    source.unlink()
    return truncated


@pytest.mark.parametrize("where", list(_HEADER_CUTS))
def test_truncated_header_is_skipped(
    good: SyntheticSeries, tmp_path: Path, where: str
) -> None:
    truncated = _write_truncated(good, tmp_path, _HEADER_CUTS[where])

    result = scan_folder(tmp_path)

    good_series(result, good)
    assert_skipped(
        result, truncated, TRUNCATION_WORDS, f"{truncated.name}: cut {where}"
    )


@pytest.mark.parametrize("where", list(_PIXEL_ELEMENT_CUTS))
def test_file_cut_at_the_pixel_data_element(
    good: SyntheticSeries, tmp_path: Path, where: str
) -> None:
    """Skipped at scan (naming the truncation), or a load warning naming the file."""
    truncated = _write_truncated(good, tmp_path, _PIXEL_ELEMENT_CUTS[where])

    result = scan_folder(tmp_path)

    good_series(result, good)
    mine = [s for s in result.series if str(truncated) in s.files]
    if not mine:
        assert_skipped(
            result, truncated, TRUNCATION_WORDS, f"{truncated.name}: cut {where}"
        )
        return
    volume = load_volume(mine[0])
    named = [w for w in volume.warnings if str(truncated) in w]
    assert len(named) == 1, f"no load warning names {truncated}: {volume.warnings}"


@pytest.mark.parametrize("cut", [1, 20, 143, 144])
def test_pixel_data_shorter_than_the_header_says(
    good: SyntheticSeries, make_series: MakeSeries, cut: int
) -> None:
    """Native pixel data cut short (``cut`` of 144 bytes missing): skipped at scan,
    or the load warns, naming the file, and leaves only that slice blank."""
    other = make_series(shape=(5, 8, 9), folder="short", series_number=2, shuffle=False)
    victim = other.files[2]
    victim.write_bytes(victim.read_bytes()[:-cut])

    result = scan_folder(good.folder.parent)

    good_series(result, good)
    (info,) = [s for s in result.series if s.uid == other.series_uid]
    skipped = [s for s in result.skipped if Path(s.path) == victim]
    if skipped:
        assert "truncated" in skipped[0].reason, skipped[0].reason
        assert str(victim) not in info.files
        return
    volume = load_volume(info)
    named = [w for w in volume.warnings if str(victim) in w]
    assert len(named) == 1, f"no load warning names {victim.name}: {volume.warnings}"
    assert "blank" in named[0], named[0]
    blank = volume.voxels[2]
    assert np.all(blank == blank.flat[0]), "the truncated slice is not left blank"
    for k in (0, 1, 3, 4):
        np.testing.assert_array_equal(volume.voxels[k], other.voxels[k])


@pytest.mark.parametrize("transfer_syntax", [None, RLELossless], ids=["native", "rle"])
def test_header_claiming_a_huge_image_is_skipped_without_allocating(
    good: SyntheticSeries,
    make_series: MakeSeries,
    tmp_path: Path,
    transfer_syntax: str | None,
) -> None:
    kwargs = {"transfer_syntax": transfer_syntax} if transfer_syntax else {}
    small = make_series(shape=(1, 8, 9), folder="huge", series_number=3, **kwargs)
    huge = resave(
        small.files[0],
        tmp_path / "huge" / "huge.dcm",
        Rows=65535,
        Columns=65535,
        NumberOfFrames=100000,
    )
    small.files[0].unlink()

    tracemalloc.start()
    try:
        result = scan_folder(tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 64 * 1024**2, f"scanning allocated {peak / 1024**2:.0f} MiB"
    assert_skipped(result, huge, ["too large"], "65535×65535×100000 claimed")
    good_series(result, good)


# ------------------------------------------------------ unreadable entries


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="root reads files whatever their mode",
)
def test_unreadable_file_is_skipped(good: SyntheticSeries, tmp_path: Path) -> None:
    locked = resave(good.files[0], tmp_path / "locked.dcm")
    locked.chmod(0)
    try:
        result = scan_folder(tmp_path)
    finally:
        locked.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert_skipped(result, locked, ["permission", "cannot read"], "mode 000")
    good_series(result, good)


def test_broken_symlink_is_skipped(good: SyntheticSeries, tmp_path: Path) -> None:
    link = tmp_path / "IM_LINK"
    link.symlink_to(tmp_path / "does-not-exist.dcm")
    result = scan_folder(tmp_path)
    assert_skipped(result, link, ["cannot read", "no such file", "broken"], "dangling")
    good_series(result, good)


def test_fifo_does_not_hang_the_scan(good: SyntheticSeries, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    outcome: dict[str, Any] = {}

    def scan() -> None:
        try:
            outcome["result"] = scan_folder(tmp_path)
        except BaseException as error:  # reported below
            outcome["error"] = error

    worker = threading.Thread(target=scan, daemon=True)
    worker.start()
    worker.join(10)
    hung = worker.is_alive()
    if hung:
        # Release the reader blocked in open(): a writer appears, then closes.
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        worker.join(10)
    assert not hung, (
        "scan_folder blocks forever on a FIFO (named pipe) in the folder: it opens "
        "every non-directory entry, and open() of a FIFO waits for a writer"
    )
    assert "error" not in outcome, repr(outcome.get("error"))
    result: ScanResult = outcome["result"]
    assert_skipped(result, fifo, ["not a regular file", "fifo", "pipe"], "FIFO")
    good_series(result, good)


# ------------------------------------------------------------ folders


def test_empty_folder_gives_no_series(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / ".hidden").write_bytes(b"\x00" * 10)
    result = scan_folder(tmp_path)
    assert result.series == []
    assert result.skipped == []
    assert result.patients == []


def test_dicomdir_with_dangling_references(
    good: SyntheticSeries, tmp_path: Path, corpus: Path
) -> None:
    """dwv's DICOMDIR names IMAGES/IM0..IM43; only two of them exist here."""
    cd = good.folder.parent
    shutil.copyfile(corpus / "dwv" / "DICOMDIR", cd / "DICOMDIR")
    (cd / "IMAGES").mkdir()
    for n, name in enumerate(["bbmri-53323131.dcm", "bbmri-53323275.dcm"]):
        shutil.copyfile(corpus / "dwv" / name, cd / "IMAGES" / f"IM{n}")

    for target in (cd, cd / "DICOMDIR"):
        result = scan_folder(target)
        assert any("IMAGES\\IM2" in w or "missing" in w for w in result.warnings), (
            f"scanning {target.name}: no warning about the dangling references: "
            f"{result.warnings}"
        )
        good_series(result, good)
        mri = [s for s in result.series if s.uid != good.series_uid]
        assert len(mri) == 1, [s.id for s in mri]
        assert mri[0].size[2] == 2
        assert load_volume(mri[0]).voxels.shape == (2, 256, 256)
        reason = skip_reason(result, cd / "DICOMDIR")
        assert "DICOMDIR" in reason


def test_nested_folders_and_names_without_extension(
    good: SyntheticSeries, tmp_path: Path
) -> None:
    """The good series spread over nested folders under odd names, one file without
    the Part 10 preamble: still one complete series."""
    nested = tmp_path / "nested"
    names = ["a/IMG1", "a/b/IMG 2", "a/b/c/ĳmage", "d/0004", "d/e/f/g/5", "x.DCM"]
    moved: list[Path] = []
    for source, name in zip(good.files, names, strict=True):
        target = nested / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(source, target)
        moved.append(target)
    # One without preamble or file meta: raw implicit VR little endian.
    ds = pydicom.dcmread(moved[-1])
    del ds.file_meta
    ds.preamble = None
    ds.SOPInstanceUID = generate_uid()
    ds.ImagePositionPatient = [float(v) for v in good.positions_lps[-1] + [0, 0, 2.5]]
    raw = nested / "d" / "raw_no_preamble"
    pydicom.dcmwrite(raw, ds, implicit_vr=True, little_endian=True)
    assert raw.read_bytes()[128:132] != b"DICM"

    result = scan_folder(tmp_path)

    assert result.skipped == [], result.skipped
    assert len(result.series) == 1, [s.id for s in result.series]
    info = result.series[0]
    assert set(info.files) == {*map(str, moved), str(raw)}
    volume = load_volume(info)
    assert volume.warnings == ()
    np.testing.assert_array_equal(volume.voxels[:6], good.voxels)
    np.testing.assert_array_equal(volume.voxels[6], good.voxels[5])


# --------------------------------------------------------- hostile values


def _negative_rows(ds: pydicom.Dataset) -> None:
    del ds[0x00280010]
    ds.add_new(0x00280010, "SS", -5)  # Rows as signed: explicit VR keeps the sign


def _tags(**tags: Any) -> Any:
    def change(ds: pydicom.Dataset) -> None:
        for keyword, value in tags.items():
            setattr(ds, keyword, value)

    return change


HOSTILE = {
    "nan-position": (
        _tags(ImagePositionPatient=["nan", "0", "0"]),
        ["ImagePositionPatient", "Image Position", "position"],
    ),
    "inf-position": (
        _tags(ImagePositionPatient=["inf", "0", "-inf"]),
        ["ImagePositionPatient", "Image Position", "position"],
    ),
    "zero-pixel-spacing": (
        _tags(PixelSpacing=["0", "0"]),
        ["PixelSpacing", "Pixel Spacing"],
    ),
    "negative-pixel-spacing": (
        _tags(PixelSpacing=["-0.5", "-0.5"]),
        ["PixelSpacing", "Pixel Spacing"],
    ),
    "zero-orientation": (
        _tags(ImageOrientationPatient=["0"] * 6),
        ["ImageOrientationPatient", "Image Orientation", "orientation"],
    ),
    "negative-rows": (_negative_rows, ["size", "Rows"]),
    "zero-rows": (_tags(Rows=0), ["size", "Rows"]),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_header_values(
    good: SyntheticSeries, make_series: MakeSeries, case: str
) -> None:
    """A three-slice series whose every file carries one hostile value: each file is
    skipped with a reason naming the attribute, or, if the series is still shown,
    the series carries a warning naming it. Either way the good series is intact."""
    change, words = HOSTILE[case]
    bad = make_series(shape=(3, 8, 9), folder="hostile", series_number=7)
    for path in bad.files:
        ds = pydicom.dcmread(path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydicom warns of the invalid values
            change(ds)
            ds.save_as(path, enforce_file_format=True)

    result = scan_folder(good.folder.parent)

    good_series(result, good)
    shown = [s for s in result.series if s.uid == bad.series_uid]
    skipped = {Path(s.path): s.reason for s in result.skipped}
    for path in bad.files:
        if path in skipped:
            assert any(w.lower() in skipped[path].lower() for w in words), (
                f"{case}: {path.name} skipped for {skipped[path]!r}, which does not "
                f"name the attribute (one of {words})"
            )
            continue
        (info,) = [s for s in shown if str(path) in s.files]
        named = [w for w in info.warnings if any(x.lower() in w.lower() for x in words)]
        assert named, (
            f"{case}: {path.name} is neither skipped nor warned about; it became "
            f"series {info.id} of size {info.size} "
            f"({'projection' if info.geometry is None else 'volume'}) with "
            f"warnings {info.warnings}"
        )
        load_volume(info)  # must not raise


# -------------------------------------------------- undecodable corpus files


@pytest.mark.parametrize("relative", KNOWN_UNDECODABLE)
def test_undecodable_file_loads_with_a_warning(
    good: SyntheticSeries, tmp_path: Path, corpus: Path, relative: str
) -> None:
    """No installed plugin decodes these 12-bit JPEG Extended files."""
    copy = tmp_path / "bad" / Path(relative).name
    copy.parent.mkdir()
    shutil.copyfile(corpus / relative, copy)

    result = scan_folder(tmp_path)

    good_series(result, good)
    mine = [s for s in result.series if str(copy) in s.files]
    if not mine:  # refusing it at scan time is fine too, with a reason
        assert_skipped(result, copy, ["decode", "decoder"], "undecodable JPEG")
        return
    volume = load_volume(mine[0])
    named = [w for w in volume.warnings if str(copy) in w]
    assert len(named) == 1, f"no warning names {copy.name}: {volume.warnings}"
    assert volume.voxels.shape[-2:] == (
        mine[0].acquired_rows,
        mine[0].acquired_columns,
    )
