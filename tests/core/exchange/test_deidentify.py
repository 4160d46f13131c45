"""De-identification (PS3.15 Basic Profile): the table, the actions, and no leak.

The property test de-identifies every image file of the corpus and of
sample_data in memory and scans the bytes of the result for every value of
every attribute the profile removes or replaces.
"""

from __future__ import annotations

import re
import warnings
from typing import TYPE_CHECKING, Any

import pydicom
import pytest
from pydicom.datadict import dictionary_description, dictionary_has_tag
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

from imaging_viewer.core.exchange.deidentify import (
    BASIC_PROFILE,
    BurnedInAnnotationError,
    DeidContext,
    dataset_bytes,
    deidentify,
    read_dataset,
    resolve_action,
    source_identifiers,
    write_dataset,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from pydicom.dataelem import DataElement

UID_PATTERN = re.compile(r"^2\.25\.(0|[1-9][0-9]*)$")


def make_ct() -> Dataset:
    """A small CT header with identifying values in many places."""
    ds = Dataset()
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.FrameOfReferenceUID = generate_uid()
    ds.PatientName = "Doe^Jane"
    ds.PatientID = "MRN-0042424242"
    ds.PatientBirthDate = "19610203"
    ds.PatientSex = "F"
    ds.PatientAge = "062Y"
    ds.AccessionNumber = "ACC7654321"
    ds.InstitutionName = "Saint Example Hospital"
    ds.ReferringPhysicianName = "House^Gregory"
    ds.StudyDate = "20200314"
    ds.StudyTime = "101500"
    ds.SeriesDate = "20200314"
    ds.AcquisitionDate = "20200314"
    ds.ContentDate = "20200314"
    ds.DateOfLastCalibration = "20200301"  # not in Table E.1-1: a date all the same
    ds.StudyDescription = "CT HEAD for Jane"
    ds.Modality = "CT"
    ds.Manufacturer = "ACME"
    ds.Rows = 2
    ds.Columns = 2
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.PixelSpacing = [0.5, 0.5]
    ds.PixelData = b"\x01\x00\x02\x00\x03\x00\x04\x00"
    block = ds.private_block(0x0029, "ACME PRIVATE", create=True)
    block.add_new(0x10, "LO", "Jane Doe private copy")
    ds.add_new(0x60000010, "US", 2)
    ds.add_new(0x60003000, "OW", b"\x00\x00")
    referenced = Dataset()
    referenced.ReferencedSOPClassUID = CTImageStorage
    referenced.ReferencedSOPInstanceUID = ds.SOPInstanceUID
    series_item = Dataset()
    series_item.SeriesInstanceUID = ds.SeriesInstanceUID
    series_item.ReferencedImageSequence = Sequence([referenced])
    series_item.PersonName = "Nested^Name"  # D inside an unlisted sequence
    ds.ReferencedSeriesSequence = Sequence([series_item])
    ds.ReferencedImageSequence = Sequence([referenced])  # top level: removed
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    return ds


# ------------------------------------------------------------------ the table


def _normalised(name: str) -> str:
    name = name.lower().replace("(trial)", "").replace("(retired)", "")
    return re.sub(r"[^a-z0-9]", "", name)


def test_table_matches_the_data_dictionary() -> None:
    # Every row's tag names the attribute the row names (an independent check of
    # the transcription against pydicom's copy of PS3.6).
    assert len(BASIC_PROFILE) > 400
    for tag, entry in BASIC_PROFILE.items():
        assert dictionary_has_tag(tag), entry.name
        assert _normalised(dictionary_description(tag)) == _normalised(entry.name)


@pytest.mark.parametrize(
    ("keyword", "basic", "action"),
    [
        ("PatientName", "Z", "Z"),
        ("PatientBirthDate", "Z", "Z"),
        ("StudyInstanceUID", "U", "U"),
        ("InstitutionName", "X/Z/D", "X"),
        ("ContentDate", "Z/D", "Z"),
        ("SeriesDate", "X/D", "X"),
        ("AcquisitionDate", "X/Z", "X"),
        ("ReferencedImageSequence", "X/Z/U*", "X"),
        ("PersonName", "D", "D"),
        ("PatientAge", "X", "X"),
    ],
)
def test_rows_and_resolved_actions(keyword: str, basic: str, action: str) -> None:
    tag = _tag(keyword)
    assert BASIC_PROFILE[tag].basic == basic
    assert BASIC_PROFILE[tag].action == action


def _tag(keyword: str) -> int:
    from pydicom.datadict import tag_for_keyword

    tag = tag_for_keyword(keyword)
    assert tag is not None
    return int(tag)


def test_resolve_action() -> None:
    assert resolve_action("X/Z/D") == "X"
    assert resolve_action("Z/D") == "Z"
    assert resolve_action("X/Z/U*") == "X"
    assert resolve_action("K") == "K"
    with pytest.raises(ValueError, match="unknown action"):
        resolve_action("Q")


def test_temporal_rows() -> None:
    temporal = {e.name for e in BASIC_PROFILE.values() if e.temporal}
    assert {"Study Date", "Series Time", "Acquisition DateTime"} <= temporal
    assert "Patient's Birth Date" not in temporal


# ------------------------------------------------------------------ actions


def empty(ds: Dataset, keyword: str) -> bool:
    """Present with a zero-length value (action Z)."""
    return keyword in ds and ds[keyword].is_empty


def test_profile_actions_on_a_header() -> None:
    ds = make_ct()
    context = DeidContext("case key")
    out = deidentify(ds, context)
    assert "InstitutionName" not in out
    assert "PatientAge" not in out
    assert "StudyDescription" not in out
    assert "SeriesDate" not in out
    assert "DateOfLastCalibration" not in out
    assert empty(out, "StudyDate")
    assert empty(out, "PatientBirthDate")
    assert empty(out, "AccessionNumber")
    assert empty(out, "PatientSex")
    assert str(out.PatientName).startswith("ANON")
    assert out.PatientID == str(out.PatientName)
    assert out.Manufacturer == "ACME"
    assert out.PixelData == ds.PixelData
    assert out.PixelSpacing == [0.5, 0.5]
    # Private, overlay and top-level image references are gone.
    assert not any(element.tag.is_private for element in out)
    assert not any(element.tag.group == 0x6000 for element in out)
    assert "ReferencedImageSequence" not in out
    # Sequences are de-identified item by item: the nested image reference is
    # kept with its UIDs replaced; the nested person name gets a dummy.
    item = out.ReferencedSeriesSequence[0]
    assert item.SeriesInstanceUID == out.SeriesInstanceUID
    nested = item.ReferencedImageSequence[0]
    assert nested.ReferencedSOPInstanceUID == out.SOPInstanceUID
    assert nested.ReferencedSOPClassUID == CTImageStorage
    assert item.PersonName == "DEIDENTIFIED"
    # The record of what was done.
    assert out.PatientIdentityRemoved == "YES"
    assert out.LongitudinalTemporalInformationModified == "REMOVED"
    codes = [item.CodeValue for item in out.DeidentificationMethodCodeSequence]
    assert codes == ["113100"]
    assert out.DeidentificationMethodCodeSequence[0].CodingSchemeDesignator == "DCM"
    assert out.file_meta.MediaStorageSOPInstanceUID == out.SOPInstanceUID
    assert out.file_meta.MediaStorageSOPClassUID == CTImageStorage
    # The input is left as it was.
    assert ds.PatientName == "Doe^Jane"
    assert "InstitutionName" in ds


def test_uids_are_consistent_stable_and_valid() -> None:
    first, second = make_ct(), make_ct()
    second.StudyInstanceUID = first.StudyInstanceUID
    context = DeidContext("key one")
    out1, out2 = deidentify(first, context), deidentify(second, context)
    assert out1.StudyInstanceUID == out2.StudyInstanceUID
    assert out1.StudyInstanceUID != first.StudyInstanceUID
    assert out1.SOPInstanceUID != out2.SOPInstanceUID
    assert out1.FrameOfReferenceUID != first.FrameOfReferenceUID
    for uid in (out1.StudyInstanceUID, out1.SOPInstanceUID, out1.SeriesInstanceUID):
        assert UID_PATTERN.match(uid)
        assert len(uid) <= 64
    # Class UIDs are not instances: they stay.
    assert out1.SOPClassUID == CTImageStorage
    # The same key gives the same UIDs in another run; another key, others.
    again = deidentify(first, DeidContext("key one"))
    assert again.SOPInstanceUID == out1.SOPInstanceUID
    assert again.PatientID == out1.PatientID
    other = deidentify(first, DeidContext("key two"))
    assert other.SOPInstanceUID != out1.SOPInstanceUID
    # New UIDs (and pseudonyms) map to themselves: de-identifying twice keeps them.
    twice = deidentify(out1, context)
    assert twice.SOPInstanceUID == out1.SOPInstanceUID
    assert twice.StudyInstanceUID == out1.StudyInstanceUID
    assert twice.PatientName == out1.PatientName
    assert context.uid_map[first.SOPInstanceUID] == out1.SOPInstanceUID


def test_keep_dates_and_shift_dates() -> None:
    ds = make_ct()
    kept = deidentify(ds, DeidContext("k", keep_dates=True))
    assert kept.StudyDate == "20200314"
    assert kept.StudyTime == "101500"
    assert kept.DateOfLastCalibration == "20200301"
    assert empty(kept, "PatientBirthDate")  # not a longitudinal attribute
    assert kept.LongitudinalTemporalInformationModified == "UNMODIFIED"
    assert [i.CodeValue for i in kept.DeidentificationMethodCodeSequence] == [
        "113100",
        "113106",
    ]
    shifted = deidentify(ds, DeidContext("k", keep_dates=True, date_shift_days=-20))
    assert shifted.StudyDate == "20200223"
    assert shifted.SeriesDate == "20200223"
    assert shifted.StudyTime == "101500"
    assert shifted.LongitudinalTemporalInformationModified == "MODIFIED"
    assert "113107" in [i.CodeValue for i in shifted.DeidentificationMethodCodeSequence]
    with pytest.raises(ValueError, match="keep_dates"):
        DeidContext("k", date_shift_days=3)


def test_burned_in_annotation_is_refused_or_flagged() -> None:
    ds = make_ct()
    ds.BurnedInAnnotation = "YES"
    with pytest.raises(BurnedInAnnotationError, match="Burned In Annotation"):
        deidentify(ds, DeidContext("k"))
    context = DeidContext("k", accept_burned_in=True)
    out = deidentify(ds, context)
    assert out.BurnedInAnnotation == "YES"
    assert len(context.flagged) == 1
    assert out.SOPInstanceUID in context.flagged[0]


def test_ultrasound_without_statement_is_flagged() -> None:
    ds = make_ct()
    ds.Modality = "US"
    context = DeidContext("k")
    deidentify(ds, context)
    assert len(context.flagged) == 1
    assert "not stated" in context.flagged[0]


def test_structured_content_and_graphics_options() -> None:
    ds = make_ct()
    content = Dataset()
    content.ValueType = "TEXT"
    content.TextValue = "lesion 1"
    ds.ContentSequence = Sequence([content])
    ds.GraphicAnnotationSequence = Sequence([Dataset()])
    plain = deidentify(ds, DeidContext("k"))
    assert len(plain.ContentSequence) == 0
    assert len(plain.GraphicAnnotationSequence) == 0
    cleaned = deidentify(
        ds, DeidContext("k", clean_structured_content=True, clean_graphics=True)
    )
    assert cleaned.ContentSequence[0].TextValue == "lesion 1"
    codes = [i.CodeValue for i in cleaned.DeidentificationMethodCodeSequence]
    assert codes == ["113100", "113103", "113104"]


def test_write_round_trip(tmp_path: Path) -> None:
    out = deidentify(make_ct(), DeidContext("k"))
    path = write_dataset(out, tmp_path / "a.dcm")
    again = read_dataset(path)
    assert again.SOPInstanceUID == out.SOPInstanceUID
    assert again.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert path.read_bytes()[128:132] == b"DICM"
    assert path.read_bytes()[:128] == b"\0" * 128
    assert not list(tmp_path.glob(".*.tmp"))


def test_source_identifiers() -> None:
    found = source_identifiers(make_ct())
    assert found["Doe^Jane"] == "PatientName"
    assert found["20200314"].endswith("Date")
    assert "F" not in found  # too short to scan for


# --------------------------------------------- no value the profile removes leaks


def _removed_or_replaced(tag: int) -> bool:
    """Table E.1-1 rows, private attributes, curves (50xx) and overlays (60xx)."""
    group = tag >> 16
    if group % 2:
        return True
    return (
        0x5000 <= group <= 0x50FF or 0x6000 <= group <= 0x60FF or tag in BASIC_PROFILE
    )


TEXT_VRS = frozenset(
    {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM"}
    | {"UC", "UI", "UR", "UT"}
)


def _texts(element: DataElement) -> list[str]:
    """Values as text: text VRs, and bytes (OB, UN) that are printable ASCII.

    Binary numbers (US, FL, ...) are left out: their few bytes occur anywhere.
    """
    value: Any = element.value
    if value is None or element.VR not in TEXT_VRS | {"OB", "UN"}:
        return []
    if isinstance(value, bytes | bytearray):
        try:
            text = bytes(value).decode("ascii")
        except UnicodeDecodeError:
            return []
        if not text.isprintable():
            return []
        values: list[Any] = text.split("\\")
    elif isinstance(value, MultiValue | list | tuple):
        values = list(value)
    else:
        values = [value]
    return [str(v).strip().strip("\0").strip() for v in values]


def _elements(ds: Dataset) -> Iterator[DataElement]:
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        yield from meta
    yield from ds.iterall()


def _image_files(root: Path) -> Iterator[tuple[Path, Dataset]]:
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix in (".md", ".json", ".gz", ".txt"):
            continue
        try:
            ds = pydicom.dcmread(path)
        except Exception:
            continue
        if any(
            k in ds for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")
        ):
            yield path, ds


def check_no_leak(root: Path) -> tuple[int, int]:
    """De-identify every image under ``root``; return (files, values checked)."""
    files = checked = found_in_source = 0
    leaks: list[str] = []
    for path, ds in _image_files(root):
        files += 1
        identifying: set[str] = set()
        kept: list[str] = []
        for element in _elements(ds):
            if element.VR == "SQ":
                continue
            texts = _texts(element)
            if _removed_or_replaced(int(element.tag)):
                identifying.update(texts)
            else:
                kept.extend(texts)
        kept_text = "\n".join(kept)
        # Trivial values (a sex, "1", "YES") and values that non-identifying
        # attributes hold too (a code meaning, a number) say nothing.
        values = {v for v in identifying if len(v) >= 4 and v not in kept_text}
        context = DeidContext("corpus", accept_burned_in=True)
        out = deidentify(ds, context)
        data = dataset_bytes(out)
        added = "\n".join(
            str(out.get(keyword, ""))
            for keyword in (
                "DeidentificationMethod",
                "DeidentificationMethodCodeSequence",
                "LongitudinalTemporalInformationModified",
                "PatientIdentityRemoved",
                "PatientName",
            )
        )
        # New UIDs are long digit strings: a short number can occur in one by
        # chance; take them out of what is scanned.
        for new in set(context.uid_map.values()):
            data = data.replace(new.encode(), b"#" * len(new))
        # So are the dummy dates put where the IOD requires a date (PS3.15 E.1.1
        # D): "19000101" holds a short ID such as "0010" by chance.
        for dummy in (b"19000101000000", b"19000101"):
            data = data.replace(dummy, b"#" * len(dummy))
        source = path.read_bytes()
        for value in sorted(values):
            if value in added:
                continue
            checked += 1
            encodings = {
                value.encode("utf-8", "ignore"),
                value.encode("latin-1", "ignore"),
            }
            if any(e and e in source for e in encodings):
                found_in_source += 1
            if any(e and e in data for e in encodings):
                leaks.append(f"{path}: {value!r}")
    assert not leaks, "\n".join(leaks[:20])
    # The scan does find what it looks for: nearly every value is in its source.
    assert found_in_source >= 0.9 * checked
    return files, checked


def test_no_removed_value_in_the_corpus(corpus: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        files, checked = check_no_leak(corpus)
    assert files > 800
    assert checked > 5000


def test_no_removed_value_in_sample_data(sample_data: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        files, checked = check_no_leak(sample_data)
    assert files == 180
    assert checked > 1000


def test_no_leak_in_a_crafted_header() -> None:
    ds = make_ct()
    context = DeidContext("k")
    data = dataset_bytes(deidentify(ds, context))
    for value in (
        "Doe^Jane",
        "MRN-0042424242",
        "19610203",
        "ACC7654321",
        "Saint Example",
        "House^Gregory",
        "20200314",
        "20200301",
        "CT HEAD for Jane",
        "Jane Doe private",
        "Nested^Name",
        ds.SOPInstanceUID,
        ds.StudyInstanceUID,
        ds.SeriesInstanceUID,
        ds.FrameOfReferenceUID,
    ):
        assert value.encode() not in data, value


def test_kept_attributes_holding_the_patient_id_are_cleaned() -> None:
    """Test data anonymised by hand often put the ID in kept attributes too."""
    ds = Dataset()
    ds.PatientID = "dicom2nifti"
    ds.PatientName = "Doe^Jane"
    ds.SequenceName = "dicom2nifti"
    ds.PulseSequenceName = "tse Doe^Jane fs"
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.SOPInstanceUID = "1.2.3.4"
    ds.SOPClassUID = pydicom.uid.MRImageStorage
    context = DeidContext("key")
    out = deidentify(ds, context)
    data = dataset_bytes(out)
    assert b"dicom2nifti" not in data
    assert b"Doe^Jane" not in data
    assert out.get("SequenceName") in (None, "")
    assert out.PulseSequenceName == "tse  fs"
    assert list(out.ImageType) == ["ORIGINAL", "PRIMARY"]
    assert len(context.cleaned) == 2
    assert "SequenceName held the PatientID" in context.cleaned[1] + context.cleaned[0]


def test_burned_in_annotation_yes_is_de_identified_when_pixels_are_cleaned() -> None:
    """The caller that cleans the pixels (issue 18) gets the image, not a refusal
    nor a warning; Burned In Annotation stays YES until the pixels are cleaned."""
    ds = make_ct()
    ds.BurnedInAnnotation = "YES"
    context = DeidContext("k")
    out = deidentify(ds, context, pixels_cleaned=True)
    assert out.BurnedInAnnotation == "YES"
    assert out.PatientIdentityRemoved == "YES"
    assert context.flagged == []
