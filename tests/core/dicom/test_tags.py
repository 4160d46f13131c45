"""Tests for core/dicom/tags.py: tag trees of real files, compared with pydicom."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING, Any

import numpy as np
import pydicom
import pytest
from pydicom.datadict import private_dictionary_description
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid

from imaging_viewer.core.dicom.tags import MAX_VALUE_CHARS, TagNode, read_tag_tree

if TYPE_CHECKING:
    from pathlib import Path

    from pydicom.dataelem import DataElement

ITEM = "(FFFE,E000)"
BYTE_VRS = {"OB", "OW", "OF", "OD", "OL", "OV", "UN"}


def philips_enhanced(corpus: Path) -> Path:
    """Enhanced MR, 64 frames, nested sequences and Philips private tags."""
    return corpus / "dcm_qa_enh" / "In" / "Philips" / "IM_0027_fMAP.dcm"


def by_tag(nodes: list[TagNode]) -> dict[str, TagNode]:
    return {n.tag: n for n in nodes}


def tag_text(elem: DataElement) -> str:
    return f"({elem.tag.group:04X},{elem.tag.element:04X})"


def expected_text(elem: DataElement) -> str | None:
    """pydicom's value as text, for plain (non-binary, non-sequence) values."""
    value: Any = elem.value
    if elem.VR == "SQ" or elem.VR in BYTE_VRS or isinstance(value, bytes):
        return None
    if value is None:
        return ""
    values = list(value) if isinstance(value, MultiValue | list) else [value]
    if elem.VR == "FL":
        texts = [str(np.float32(v)) for v in values]
    elif elem.VR == "AT":
        texts = [f"({int(v) >> 16:04X},{int(v) & 0xFFFF:04X})" for v in values]
    else:
        texts = [str(v) for v in values]
    text = "\\".join(texts).replace("\r", "").replace("\n", "↵").replace("\t", " ")
    text = text.replace("\0", "")
    if len(text) > MAX_VALUE_CHARS:
        return None
    return text


def assert_matches_pydicom(nodes: list[TagNode], ds: Dataset) -> int:
    """Every element of ``ds`` has a node with the same tag, VR, name and value;
    recurses into sequences. Returns the number of elements compared."""
    shown = by_tag(nodes)
    compared = 0
    for elem in ds:
        node = shown[tag_text(elem)]
        compared += 1
        assert node.vr == elem.VR, node
        if elem.private_creator or not elem.tag.is_private:
            assert node.name == elem.name, node
        if not elem.tag.is_private:
            assert node.keyword == elem.keyword
        else:
            assert node.keyword == ""
            # pydicom names the creator of private elements, but not of sequences.
            if not elem.tag.is_private_creator and elem.private_creator:
                assert node.private_creator == elem.private_creator
        if elem.VR == "SQ":
            assert len(node.children) == len(elem.value)
            for n, (item_node, item) in enumerate(
                zip(node.children, elem.value, strict=True), start=1
            ):
                assert item_node.tag == ITEM
                assert item_node.name == f"Item {n}"
                compared += assert_matches_pydicom(item_node.children, item)
            continue
        if elem.tag == 0x7FE00010:
            continue
        expected = expected_text(elem)
        if expected is not None:
            assert node.value == expected, (node, elem)
        elif isinstance(elem.value, bytes) and elem.tag != 0x7FE00010:
            assert node.value.startswith(f"{len(elem.value)} byte")
    assert len(shown) == len(ds)
    return compared


def element_nodes(nodes: list[TagNode]) -> list[TagNode]:
    return [d for n in nodes for d in n.walk() if d.tag != ITEM]


# ---------------------------------------------------------------- real files


def test_ct_file_meta_and_values_match_pydicom(sample_data: Path) -> None:
    path = sample_data / "CT" / "I140"
    nodes = read_tag_tree(str(path))
    ds = pydicom.dcmread(path)

    meta_nodes = [n for n in nodes if n.tag.startswith("(0002,")]
    assert [n.tag for n in nodes[: len(meta_nodes)]] == [n.tag for n in meta_nodes]
    assert len(meta_nodes) == len(ds.file_meta)
    assert_matches_pydicom(meta_nodes, ds.file_meta)
    assert_matches_pydicom(nodes[len(meta_nodes) :], ds)

    tags = by_tag(nodes)
    assert tags["(0010,0010)"].value == str(ds.PatientName)
    assert tags["(0010,0010)"].keyword == "PatientName"
    assert tags["(0020,0032)"].value == "\\".join(
        str(v) for v in ds.ImagePositionPatient
    )
    # A well-known UID carries its name as a note, the value stays the UID.
    syntax = tags["(0002,0010)"]
    assert syntax.value == str(ds.file_meta.TransferSyntaxUID)
    assert syntax.note == "Explicit VR Little Endian"
    # Small binary values: length and bytes.
    assert tags["(0002,0001)"].value == "2 bytes: 00 01"


def test_pixel_data_is_summarised_not_dumped(sample_data: Path) -> None:
    ct = by_tag(read_tag_tree(str(sample_data / "CT" / "I10")))["(7FE0,0010)"]
    ds = pydicom.dcmread(sample_data / "CT" / "I10")
    assert ct.vr == ds["PixelData"].VR
    assert f"{len(ds.PixelData)} bytes" in ct.value
    assert f"{ds.Columns}×{ds.Rows}" in ct.value
    assert "native" in ct.value
    assert len(ct.value) < 200

    xr = by_tag(read_tag_tree(str(sample_data / "XR" / "RG2_JPLL.dcm")))["(7FE0,0010)"]
    assert "encapsulated (JPEG Lossless" in xr.value
    assert len(xr.value) < 300


@pytest.mark.parametrize(
    "name",
    [
        "dicom2nifti/philips/anatomical/001/IM-0001-0001-0001.dcm",
        "dicom2nifti/hitachi/anatomical/001/001.dcm",
        "dcm_qa_ts/In/2.dcm",  # a Siemens mosaic, CSA headers as OB in implicit VR
    ],
)
def test_implicit_vr_files_match_pydicom(corpus: Path, name: str) -> None:
    path = corpus / name
    ds = pydicom.dcmread(path)
    assert ds.file_meta.TransferSyntaxUID == ImplicitVRLittleEndian
    nodes = read_tag_tree(str(path))
    meta = [n for n in nodes if n.tag.startswith("(0002,")]
    assert_matches_pydicom(nodes[len(meta) :], ds)
    assert "native" in by_tag(nodes)["(7FE0,0010)"].value


def test_enhanced_multiframe_nested_sequences(corpus: Path) -> None:
    path = philips_enhanced(corpus)
    ds = pydicom.dcmread(path)
    nodes = read_tag_tree(str(path))
    meta = [n for n in nodes if n.tag.startswith("(0002,")]
    compared = assert_matches_pydicom(nodes[len(meta) :], ds)

    # Every element at every depth is there, once.
    in_pydicom: list[int] = []
    ds.walk(lambda _, elem: in_pydicom.append(1))
    assert compared == len(in_pydicom)
    assert len(element_nodes(nodes)) == len(in_pydicom) + len(ds.file_meta)

    per_frame = by_tag(nodes)["(5200,9230)"]
    assert per_frame.value == "64 items"
    assert [c.name for c in per_frame.children[:3]] == ["Item 1", "Item 2", "Item 3"]
    frame_3 = per_frame.children[2]
    position = by_tag(by_tag(frame_3.children)["(0020,9113)"].children[0].children)[
        "(0020,0032)"
    ]
    expected = ds.PerFrameFunctionalGroupsSequence[2].PlanePositionSequence[0]
    assert position.value == "\\".join(str(v) for v in expected.ImagePositionPatient)
    assert position.keyword == "ImagePositionPatient"

    # Four levels deep: sequence > item > sequence > item > sequence > item.
    evidence = by_tag(nodes)["(0008,9092)"]
    series = by_tag(evidence.children[0].children)["(0008,1115)"]
    sop = by_tag(series.children[0].children)["(0008,1199)"]
    uid = by_tag(sop.children[0].children)["(0008,1155)"]
    reference = ds.ReferencedImageEvidenceSequence[0].ReferencedSeriesSequence[0]
    assert uid.value == reference.ReferencedSOPSequence[0].ReferencedSOPInstanceUID


def test_frame_index_keeps_one_per_frame_item(corpus: Path) -> None:
    path = philips_enhanced(corpus)
    ds = pydicom.dcmread(path)
    nodes = read_tag_tree(str(path), frame_index=5)
    per_frame = by_tag(nodes)["(5200,9230)"]
    assert per_frame.value == "64 items"
    assert "frame 6 of 64" in per_frame.note
    assert [c.name for c in per_frame.children] == ["Item 6"]
    assert_matches_pydicom(
        per_frame.children[0].children, ds.PerFrameFunctionalGroupsSequence[5]
    )
    # The shared groups are untouched.
    shared = by_tag(nodes)["(5200,9229)"]
    assert len(shared.children) == len(ds.SharedFunctionalGroupsSequence)
    # A frame index out of range shows every item.
    assert len(by_tag(read_tag_tree(str(path), 64))["(5200,9230)"].children) == 64


def test_private_tags_with_their_creator(corpus: Path) -> None:
    path = philips_enhanced(corpus)
    ds = pydicom.dcmread(path)
    tags = by_tag(read_tag_tree(str(path)))
    creator = tags["(2001,0010)"]
    assert creator.name == "Private Creator"
    assert creator.value == "Philips Imaging DD 001"
    assert creator.private_creator == ""
    private = [e for e in ds if e.tag.is_private and not e.tag.is_private_creator]
    assert len(private) > 100
    for elem in private:
        node = tags[tag_text(elem)]
        creator = ds[elem.tag.group, elem.tag.element >> 8].value
        assert node.private_creator == creator
        try:
            name = f"[{private_dictionary_description(elem.tag, creator)}]"
        except KeyError:
            name = "Private tag data"
        assert node.name == name
        assert node.keyword == ""
    assert tags["(2001,1010)"].name == "[Cardiac Sync]"
    assert tags["(2001,1010)"].private_creator == "Philips Imaging DD 001"
    # Private elements inside sequence items name their creator too.
    item = tags["(0008,1111)"].children[0]
    assert by_tag(item.children)["(2005,1404)"].private_creator == (
        "Philips MR Imaging DD 005"
    )


def test_siemens_csa_header_shown_as_length(corpus: Path) -> None:
    path = corpus / "dcm_qa_ts" / "In" / "1.dcm"
    ds = pydicom.dcmread(path)
    tags = by_tag(read_tag_tree(str(path)))
    csa = [e for e in ds if e.tag.is_private and isinstance(e.value, bytes)]
    assert csa, "expected Siemens CSA headers"
    for elem in csa:
        node = tags[tag_text(elem)]
        assert node.value.startswith(f"{len(elem.value)} bytes")
        assert len(node.value) < 80
        assert node.private_creator.startswith("SIEMENS")


# ---------------------------------------------------------------- written files


def write(path: Path, ds: Dataset, syntax: str = ExplicitVRLittleEndian) -> Path:
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = syntax
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    pydicom.dcmwrite(path, ds, enforce_file_format=True)
    return path


def test_long_values_are_cut_with_a_note(tmp_path: Path) -> None:
    ds = Dataset()
    ds.ImageComments = "x" * 3000
    ds.add_new(0x00281201, "OW", bytes(4096))  # Red Palette LUT Data
    ds.add_new(0x00283006, "US", list(range(4096)))  # LUT Data, as numbers
    ds.add_new(0x00291010, "OB", bytes(2_000_000))  # a large private value
    ds.PixelSpacing = [0.5, 0.25]
    ds.FrameIncrementPointer = 0x00181063
    ds.add_new(0x00189087, "FD", 0.1)  # Diffusion b-value
    ds.add_new(0x00189089, "FD", [0.1, 0.2, 0.3])
    ds.add_new(0x00460044, "FL", 0.3)  # Pupil Size
    ds.StudyDescription = "line one\r\nline two"
    tags = by_tag(read_tag_tree(str(write(tmp_path / "long.dcm", ds))))

    comments = tags["(0020,4000)"]
    assert comments.value == "x" * MAX_VALUE_CHARS + "…"
    assert comments.note == "3000 characters"
    assert tags["(0028,1201)"].value == "4096 bytes"
    lut = tags["(0028,3006)"]
    assert lut.value.startswith("0\\1\\2\\3\\")
    assert len(lut.value) <= MAX_VALUE_CHARS + 1
    assert lut.note == "4096 values"
    assert tags["(0029,1010)"].value == "2000000 bytes"
    assert tags["(0028,0030)"].value == "0.5\\0.25"
    assert tags["(0028,0009)"].value == "(0018,1063)"
    assert tags["(0018,9087)"].value == "0.1"
    assert tags["(0018,9089)"].value == "0.1\\0.2\\0.3"
    assert tags["(0046,0044)"].value == "0.3"
    assert tags["(0008,1030)"].value == "line one↵line two"


def test_empty_values_and_sequences(tmp_path: Path) -> None:
    ds = Dataset()
    ds.PatientName = ""
    ds.ReferencedImageSequence = Sequence([])
    item = Dataset()
    item.ReferencedSOPInstanceUID = "1.2.3"
    ds.SourceImageSequence = Sequence([item])
    tags = by_tag(read_tag_tree(str(write(tmp_path / "empty.dcm", ds))))
    assert tags["(0010,0010)"].value == ""
    assert tags["(0008,1140)"].value == "0 items"
    assert tags["(0008,1140)"].children == []
    source = tags["(0008,2112)"]
    assert source.value == "1 item"
    assert source.children[0].value == "1 element"
    assert source.children[0].children[0].value == "1.2.3"


# ---------------------------------------------------------------- bad input


def test_bad_files_never_raise(tmp_path: Path, sample_data: Path) -> None:
    empty = tmp_path / "empty.dcm"
    empty.write_bytes(b"")
    text = tmp_path / "notes.txt"
    text.write_text("not DICOM at all\n" * 20)
    whole = (sample_data / "CT" / "I10").read_bytes()
    truncated = tmp_path / "truncated.dcm"
    truncated.write_bytes(whole[:700])
    garbage = tmp_path / "garbage.dcm"
    garbage.write_bytes(whole[:132] + bytes(range(256)) * 8)
    cases = {
        empty: "empty file",
        text: "not a DICOM file",
        tmp_path / "missing.dcm": "cannot read the file",
        tmp_path: "cannot read",
    }
    for path, message in cases.items():
        nodes = read_tag_tree(str(path))
        assert len(nodes) == 1, path
        assert nodes[0].is_error
        assert message in nodes[0].value
    for path in (truncated, garbage):
        nodes = read_tag_tree(str(path))
        # What could be read, then what went wrong.
        assert all(not n.is_error for n in nodes[:-1])
        assert nodes[-1].is_error
        assert "truncated" in nodes[-1].value
    assert by_tag(read_tag_tree(str(truncated)))["(0008,0016)"].value == (
        pydicom.dcmread(sample_data / "CT" / "I10").SOPClassUID
    )


def test_corrupt_sequence_reports_the_element(
    tmp_path: Path, sample_data: Path
) -> None:
    source = tmp_path / "ct.dcm"
    shutil.copy(sample_data / "CT" / "I10", source)
    ds = pydicom.dcmread(source)
    ds.add_new(0x00091010, "UN", b"\xfe\xff\x00\xe0\x10\x00\x00\x00" + b"\x01" * 4)
    ds.save_as(source)
    nodes = read_tag_tree(str(source))
    assert by_tag(nodes)["(0010,0010)"].value == str(ds.PatientName)
    assert "(0009,1010)" in by_tag(nodes)


@pytest.mark.parametrize("frame_index", [None, 0])
def test_every_corpus_enhanced_file_reads(
    corpus: Path, frame_index: int | None
) -> None:
    for path in [
        philips_enhanced(corpus),
        *sorted((corpus / "dcm_qa_enh" / "In" / "Siemens").rglob("*.dcm")),
        corpus / "pydicom_data_subset" / "eCT_Supplemental.dcm",
    ]:
        nodes = read_tag_tree(str(path), frame_index)
        assert not any(n.is_error for n in nodes for n in n.walk()), path
        assert "(5200,9230)" in by_tag(nodes)
