"""The fast header reader against the pydicom path: the same header, or it declines.

Every file of the corpus and of sample_data goes through both readers; where the
fast one answers, its InstanceHeader (or skip reason) must equal pydicom's field for
field. Classic single-frame uncompressed images (as pydicom, not our reader, sees
them) must all take the fast path. Synthetic files, written byte by byte
(PS3.5 7.1, 7.5), cover the encodings the corpus may not: undefined lengths,
odd lengths, truncation, UN, large values, character sets.
"""

from __future__ import annotations

import dataclasses
import math
import os
import struct
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest

from imaging_viewer.core.dicom import scan as scan_module
from imaging_viewer.core.dicom.header import InstanceHeader
from imaging_viewer.core.dicom.scan import (
    SkippedFile,
    _read_fast_header,
    _read_pydicom_header,
    read_header,
    scan_folder,
)

EXPLICIT = "1.2.840.10008.1.2.1"
IMPLICIT = "1.2.840.10008.1.2"
CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"


# ------------------------------------------------------------------ comparing


def differences(a: Any, b: Any, where: str = "") -> list[str]:
    """Where two headers (or skip reasons) differ, value and type both."""
    if type(a) is not type(b):
        return [f"{where}: {type(a).__name__} != {type(b).__name__}"]
    if dataclasses.is_dataclass(a):
        out: list[str] = []
        for field in dataclasses.fields(a):
            out += differences(
                getattr(a, field.name), getattr(b, field.name), f"{where}.{field.name}"
            )
        return out
    if isinstance(a, tuple):
        if len(a) != len(b):
            return [f"{where}: {len(a)} items != {len(b)}"]
        return [
            d
            for n, (x, y) in enumerate(zip(a, b, strict=True))
            for d in differences(x, y, f"{where}[{n}]")
        ]
    if isinstance(a, np.ndarray):
        same = a.dtype == b.dtype and np.array_equal(a, b)
        return [] if same else [f"{where}: arrays differ"]
    if isinstance(a, float) and math.isnan(a):
        return [] if math.isnan(b) else [f"{where}: nan != {b!r}"]
    return [] if a == b else [f"{where}: {a!r} != {b!r}"]


def compare(path: Path | str) -> bool:
    """Assert the fast reader agrees with pydicom; True where it took the file."""
    fast = _read_fast_header(str(path))
    if fast is None:
        return False
    reference = _read_pydicom_header(str(path))
    found = differences(fast, reference)
    assert not found, f"{path}: {found}"
    return True


# ------------------------------------------------------------------ the corpus


def _files(*roots: Path) -> list[Path]:
    return sorted(
        Path(folder) / name
        for root in roots
        for folder, _, names in os.walk(root)
        for name in names
    )


def _is_classic_image(path: Path) -> bool:
    """A single-frame uncompressed image as pydicom reads it (Part 10, LE)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path, stop_before_pixels=True)
    except Exception:
        return False
    syntax = str(ds.file_meta.get("TransferSyntaxUID", ""))
    image_type = [str(v).upper() for v in (ds.get("ImageType") or [])]
    return (
        ds.preamble is not None
        and syntax in (EXPLICIT, IMPLICIT)
        and "Rows" in ds
        and int(ds.get("NumberOfFrames") or 1) == 1
        and str(ds.get("SOPClassUID", "")) != MEDIA_STORAGE_DIRECTORY
        and "MOSAIC" not in image_type
        and not any(
            keyword in ds
            for keyword in (
                "VOILUTSequence",
                "ModalityLUTSequence",
                "SharedFunctionalGroupsSequence",
                "PerFrameFunctionalGroupsSequence",
            )
        )
    )


def test_every_corpus_file_reads_the_same(corpus: Path, sample_data: Path) -> None:
    files = _files(corpus, sample_data)
    taken = {path for path in files if compare(path)}
    classic = [path for path in files if _is_classic_image(path)]
    missed = [str(path) for path in classic if path not in taken]
    assert len(classic) > 500
    assert not missed, f"{len(missed)} of {len(classic)} classic images declined"
    assert len(taken) > 0.75 * len([p for p in files if p.suffix != ".md"])


# ------------------------------------------------------------------ synthetic files


def element(tag: int, vr: str, value: bytes, *, implicit: bool = False) -> bytes:
    """One encoded element (PS3.5 7.1.2 explicit, 7.1.3 implicit); no padding added."""
    group, number = tag >> 16, tag & 0xFFFF
    length = 0xFFFFFFFF if vr.endswith("!") else len(value)
    vr = vr.rstrip("!")
    if implicit:
        return struct.pack("<HHL", group, number, length) + value
    if vr in ("OB", "OW", "OF", "SQ", "UN", "UT", "UC", "UR", "OD", "OL", "OV"):
        return struct.pack("<HH2sHL", group, number, vr.encode(), 0, length) + value
    return struct.pack("<HH2sH", group, number, vr.encode(), length) + value


def text(value: str) -> bytes:
    data = value.encode("latin-1")
    return data + b" " * (len(data) % 2)


def uid(value: str) -> bytes:
    data = value.encode()
    return data + b"\0" * (len(data) % 2)


ITEM = 0xFFFEE000
ITEM_END = 0xFFFEE00D
SEQUENCE_END = 0xFFFEE0DD


def item(content: bytes, *, undefined: bool = False) -> bytes:
    if undefined:
        return (
            struct.pack("<HHL", 0xFFFE, 0xE000, 0xFFFFFFFF)
            + content
            + struct.pack("<HHL", 0xFFFE, 0xE00D, 0)
        )
    return struct.pack("<HHL", 0xFFFE, 0xE000, len(content)) + content


SEQUENCE_DELIMITER = struct.pack("<HHL", 0xFFFE, 0xE0DD, 0)


def base_elements(implicit: bool = False) -> dict[int, tuple[str, bytes]]:
    """A small CT image's attributes: tag -> (VR, value)."""
    return {
        0x00080005: ("CS", text("ISO_IR 100")),
        0x00080008: ("CS", text("ORIGINAL\\PRIMARY\\AXIAL")),
        0x00080016: ("UI", uid(CT_IMAGE)),
        0x00080018: ("UI", uid("1.2.3.4.5.6")),
        0x00080020: ("DA", text("20240102")),
        0x00080060: ("CS", text("CT")),
        0x0008103E: ("LO", text("synthetic")),
        0x00100010: ("PN", text("Doe^Jane")),
        0x00100020: ("LO", text("ID1")),
        0x00180050: ("DS", text("2.5")),
        0x0020000D: ("UI", uid("1.2.3.4")),
        0x0020000E: ("UI", uid("1.2.3.4.5")),
        0x00200011: ("IS", text("7")),
        0x00200013: ("IS", text(" 3")),
        0x00200032: ("DS", text("-120.5\\-100\\35.25")),
        0x00200037: ("DS", text("1\\0\\0\\0\\1\\0")),
        0x00200052: ("UI", uid("1.2.3.9")),
        0x00280002: ("US", struct.pack("<H", 1)),
        0x00280004: ("CS", text("MONOCHROME2")),
        0x00280010: ("US", struct.pack("<H", 4)),
        0x00280011: ("US", struct.pack("<H", 4)),
        0x00280030: ("DS", text("0.5\\0.5")),
        0x00280100: ("US", struct.pack("<H", 16)),
        0x00280101: ("US", struct.pack("<H", 12)),
        0x00280103: ("US", struct.pack("<H", 1)),
        0x00281050: ("DS", text("40\\400")),
        0x00281051: ("DS", text("80\\1500")),
        0x00281052: ("DS", text("-1024")),
        0x00281053: ("DS", text("1")),
    }


def write_file(
    path: Path,
    elements: dict[int, tuple[str, bytes]],
    *,
    syntax: str = EXPLICIT,
    pixels: bytes = bytes(32),
    implicit: bool | None = None,
) -> Path:
    """A Part 10 file: preamble, DICM, File Meta (PS3.10 7.1), then the dataset.

    The dataset is encoded as ``syntax`` says unless ``implicit`` is given.
    """
    implicit = syntax == IMPLICIT if implicit is None else implicit
    meta_body = (
        element(0x00020001, "OB", b"\0\1")
        + element(0x00020002, "UI", uid(CT_IMAGE))
        + element(0x00020003, "UI", uid("1.2.3.4.5.6"))
        + element(0x00020010, "UI", uid(syntax))
    )
    meta = element(0x00020000, "UL", struct.pack("<L", len(meta_body))) + meta_body
    body = b"".join(
        element(tag, vr, value, implicit=implicit)
        for tag, (vr, value) in sorted(elements.items())
    )
    pixel = element(0x7FE00010, "OW", pixels, implicit=implicit)
    path.write_bytes(b"\0" * 128 + b"DICM" + meta + body + pixel)
    return path


def fast_and_equal(path: Path) -> InstanceHeader | SkippedFile:
    assert compare(path), f"{path.name}: the fast reader declined"
    header = _read_fast_header(str(path))
    assert header is not None
    return header


def fast_header(path: Path) -> InstanceHeader:
    header = fast_and_equal(path)
    assert isinstance(header, InstanceHeader)
    return header


def declined_and_read(path: Path) -> InstanceHeader | SkippedFile:
    assert _read_fast_header(str(path)) is None
    result = read_header(str(path))
    assert not differences(result, _read_pydicom_header(str(path)))
    return result


@pytest.mark.parametrize("syntax", [EXPLICIT, IMPLICIT])
def test_plain_file(tmp_path: Path, syntax: str) -> None:
    header = fast_header(write_file(tmp_path / "a.dcm", base_elements(), syntax=syntax))
    assert header.transfer_syntax_uid == syntax
    assert header.patient_name == "Doe^Jane"
    assert header.instance_number == 3
    assert header.frame(0).position_lps == (-120.5, -100.0, 35.25)
    assert [w.width for w in header.frame(0).windows] == [80.0, 1500.0]


@pytest.mark.parametrize("syntax", [EXPLICIT, IMPLICIT])
def test_undefined_length_sequences_are_skipped(tmp_path: Path, syntax: str) -> None:
    implicit = syntax == IMPLICIT
    inner = element(0x00081150, "UI", uid("1.2.840.10008.3.1.2.3.3"), implicit=implicit)
    nested = element(
        0x00089215,
        "SQ!",
        item(inner, undefined=True) + SEQUENCE_DELIMITER,
        implicit=implicit,
    )
    elements = base_elements()
    # Referenced Image Sequence: an undefined-length item holding a nested
    # undefined-length sequence, then a defined-length item; and an empty item.
    value = (
        item(inner + nested, undefined=True)
        + item(inner)
        + item(b"", undefined=True)
        + SEQUENCE_DELIMITER
    )
    elements[0x00081140] = ("SQ!", value)
    # A private undefined-length sequence right before Pixel Data.
    elements[0x00291010] = ("LO", text("CREATOR"))
    elements[0x00291020] = ("SQ!", item(inner, undefined=True) + SEQUENCE_DELIMITER)
    fast_and_equal(write_file(tmp_path / "a.dcm", elements, syntax=syntax))


def test_defined_length_sequence_is_skipped(tmp_path: Path) -> None:
    elements = base_elements()
    inner = element(0x00081150, "UI", uid(CT_IMAGE)) + element(
        0x00081155, "UI", uid("1.2")
    )
    elements[0x00081140] = ("SQ", item(inner) + item(inner))
    fast_and_equal(write_file(tmp_path / "a.dcm", elements))


def test_broken_undefined_length_sequence_declines(tmp_path: Path) -> None:
    elements = base_elements()
    # The item is not closed by an Item Delimitation Item.
    elements[0x00081140] = (
        "SQ!",
        struct.pack("<HHL", 0xFFFE, 0xE000, 0xFFFFFFFF) + SEQUENCE_DELIMITER,
    )
    declined_and_read(write_file(tmp_path / "a.dcm", elements))


def test_odd_lengths(tmp_path: Path) -> None:
    elements = base_elements()
    elements[0x00100020] = ("LO", b"ABC")  # not padded to even length
    elements[0x00080020] = ("DA", b"2024010")
    elements[0x00291010] = ("LO", b"ODD")
    elements[0x00291011] = ("OB", b"\1\2\3")
    header = fast_header(write_file(tmp_path / "a.dcm", elements))
    assert header.patient_id == "ABC"


def test_odd_length_us_declines(tmp_path: Path) -> None:
    elements = base_elements()
    elements[0x00280010] = ("US", b"\4\0\0")
    declined_and_read(write_file(tmp_path / "a.dcm", elements))


@pytest.mark.parametrize("keep", [100, 400, 700])
def test_truncated_in_the_header_declines(tmp_path: Path, keep: int) -> None:
    path = write_file(tmp_path / "a.dcm", base_elements())
    path.write_bytes(path.read_bytes()[:keep])
    result = declined_and_read(path)
    assert isinstance(result, SkippedFile)


def test_truncated_in_the_pixels_is_the_same_skip(tmp_path: Path) -> None:
    elements = base_elements()
    elements[0x00280010] = elements[0x00280011] = ("US", struct.pack("<H", 64))
    path = write_file(tmp_path / "a.dcm", elements, pixels=bytes(8192))
    path.write_bytes(path.read_bytes()[:-8000])
    assert compare(path)
    result = read_header(str(path))
    assert isinstance(result, SkippedFile)
    assert "pixel data truncated" in result.reason


def test_un_vr(tmp_path: Path) -> None:
    elements = base_elements()
    elements[0x00291010] = ("LO", text("CREATOR"))
    elements[0x00291011] = ("UN", b"\1\2\3\4\5")
    fast_and_equal(write_file(tmp_path / "private.dcm", elements))
    # An attribute we read, sent as UN: pydicom converts it by the dictionary.
    elements = base_elements()
    elements[0x0008103E] = ("UN", text("as UN"))
    result = declined_and_read(write_file(tmp_path / "standard.dcm", elements))
    assert isinstance(result, InstanceHeader)
    assert result.series_description == "as UN"


def test_large_values_extend_the_read(tmp_path: Path) -> None:
    elements = base_elements()
    elements[0x00291010] = ("LO", text("CREATOR"))
    elements[0x00291011] = ("OB", bytes(200_000))
    elements[0x00291012] = ("OB", bytes(30_001) + b"\0")
    elements[0x00321060] = ("LO", text("after the large ones"))  # not read
    header = fast_header(write_file(tmp_path / "a.dcm", elements))
    assert header.file_size > 230_000


def test_large_value_of_an_attribute_we_read_declines(tmp_path: Path) -> None:
    elements = base_elements()
    elements[0x00081030] = ("LO", text("x" * 70_000))  # too long for explicit VR
    declined_and_read(write_file(tmp_path / "a.dcm", elements, syntax=IMPLICIT))


@pytest.mark.parametrize(
    ("charset", "name"),
    [
        ("ISO_IR 100", "Müller^Jörg".encode("latin-1")),
        ("ISO_IR 192", "Gröẞe^Ærø=グループ".encode()),
        ("ISO_IR 100", b"Doe^John=A^B="),
        (
            "\\ISO 2022 IR 87",
            b"Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B=\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B",
        ),
    ],
)
def test_character_sets(tmp_path: Path, charset: str, name: bytes) -> None:
    elements = base_elements()
    elements[0x00080005] = ("CS", text(charset))
    elements[0x00100010] = ("PN", name + b" " * (len(name) % 2))
    elements[0x0008103E] = (
        "LO",
        name.split(b"=")[0] + b" " * (len(name.split(b"=")[0]) % 2),
    )
    fast_and_equal(write_file(tmp_path / "a.dcm", elements))


@pytest.mark.parametrize(
    ("tag", "vr", "value"),
    [
        (0x00180050, "DS", b"nan "),
        (0x00180050, "DS", b"1_0 "),
        (0x00200032, "DS", b"1\\\\2 "),
        (0x00200013, "IS", b"3.0 "),
        (0x00180050, "DS", b"1e999 "),
    ],
)
def test_numbers_pydicom_reads_its_own_way_decline(
    tmp_path: Path, tag: int, vr: str, value: bytes
) -> None:
    elements = base_elements()
    elements[tag] = (vr, value)
    declined_and_read(write_file(tmp_path / "a.dcm", elements))


@pytest.mark.parametrize(
    ("tag", "vr", "value"),
    [
        (0x00180050, "DS", b""),
        (0x00180050, "DS", b"  "),
        (0x00200032, "DS", b""),
        (0x00200013, "IS", b"  "),
        (0x00200013, "IS", b"+4"),
        (0x00281050, "DS", b" 4.5e1\\-.5 "),
        (0x00080008, "CS", b"ORIGINAL \\PRIMARY"),
        (0x00100010, "PN", b""),
        (0x00280010, "US", struct.pack("<HH", 4, 5)),
    ],
)
def test_empty_and_unusual_values(
    tmp_path: Path, tag: int, vr: str, value: bytes
) -> None:
    elements = base_elements()
    elements[tag] = (vr, value)
    fast_and_equal(write_file(tmp_path / "a.dcm", elements))


def test_other_transfer_syntaxes_and_layouts_decline(tmp_path: Path) -> None:
    declined_and_read(
        write_file(tmp_path / "be.dcm", base_elements(), syntax="1.2.840.10008.1.2.2")
    )
    declined_and_read(
        write_file(
            tmp_path / "deflate.dcm", base_elements(), syntax="1.2.840.10008.1.2.1.99"
        )
    )
    mosaic = base_elements()
    mosaic[0x00080008] = ("CS", text("ORIGINAL\\PRIMARY\\M\\MOSAIC"))
    declined_and_read(write_file(tmp_path / "mosaic.dcm", mosaic))
    no_preamble = write_file(tmp_path / "raw.dcm", base_elements())
    no_preamble.write_bytes(no_preamble.read_bytes()[132:])
    declined_and_read(no_preamble)
    lut = base_elements()
    lut[0x00283010] = (
        "SQ",
        item(element(0x00283002, "US", struct.pack("<HHH", 2, 0, 16))),
    )
    declined_and_read(write_file(tmp_path / "lut.dcm", lut))


def test_explicit_file_encoded_implicit_declines(tmp_path: Path) -> None:
    declined_and_read(write_file(tmp_path / "a.dcm", base_elements(), implicit=True))
    declined_and_read(
        write_file(tmp_path / "b.dcm", base_elements(), syntax=IMPLICIT, implicit=False)
    )


def test_a_scan_reads_fast_and_slow_files_together(tmp_path: Path) -> None:
    for k in range(4):
        elements = base_elements()
        elements[0x00080018] = ("UI", uid(f"1.2.3.4.5.{k}"))
        elements[0x00200032] = ("DS", text(f"0\\0\\{k}"))
        elements[0x00200013] = ("IS", text(str(k + 1)))
        if k == 2:
            elements[0x00180050] = ("DS", b"1_0 ")  # declined: pydicom reads it
        write_file(tmp_path / f"{k}.dcm", elements)
    result = scan_folder(tmp_path)
    assert not result.skipped
    (series,) = result.series
    assert [Path(p).name for p in series.files] == ["0.dcm", "1.dcm", "2.dcm", "3.dcm"]


def _scan_document(root: Path) -> dict[str, Any]:
    """What ``imaging-viewer scan --json`` prints for ``root`` (see cli.py)."""
    result = scan_folder(root)
    return {
        "root": result.root,
        "files_examined": result.files_examined,
        "series": [info.to_json() for info in result.series],
        "skipped": [skipped.to_json() for skipped in result.skipped],
        "warnings": result.warnings,
    }


def test_scan_json_of_the_corpus_is_unchanged(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = _scan_document(corpus)
    monkeypatch.setattr(scan_module, "read_fast_header", lambda path: None)
    assert _scan_document(corpus) == fast
