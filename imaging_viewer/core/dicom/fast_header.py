"""A fast header reader for the common case, equal to the pydicom path or declining.

Reading a header through pydicom costs 1.2 to 1.7 ms per file, most of it in
building elements no one asks for. This module walks the encoded elements of a
Part 10 file directly (PS3.10 7.1: preamble, ``DICM``, File Meta in Explicit VR
Little Endian), up to Pixel Data, and converts only the top-level attributes
:func:`~imaging_viewer.core.dicom.header.header_from_dataset` reads, exactly as
pydicom would. The result goes through the same ``header_from_dataset``, so the
:class:`~imaging_viewer.core.dicom.header.InstanceHeader` is the same.

Only Explicit and Implicit VR Little Endian datasets are read (PS3.5 7.1.2, 7.1.3;
compressed transfer syntaxes encode their dataset as Explicit VR Little Endian,
PS3.5 A.4). Anything else or anything unusual returns None, and the caller reads
the file with pydicom: other transfer syntaxes, no preamble, elements out of
order, unknown VRs, a VR other than the dictionary's for an attribute we read,
values pydicom would convert differently (or refuse), undefined lengths other
than sequences (PS3.5 7.5.2), LUT or functional-group sequences, mosaics, files
that end before Pixel Data.
"""

from __future__ import annotations

import math
import os
import re
import stat
from struct import Struct
from typing import TYPE_CHECKING, Any, cast

from pydicom.charset import convert_encodings
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.valuerep import EXPLICIT_VR_LENGTH_16, EXPLICIT_VR_LENGTH_32

from imaging_viewer.core.dicom.header import (
    MEDIA_STORAGE_DIRECTORY,
    InstanceHeader,
    header_from_dataset,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from pydicom.dataset import Dataset

# The first read: File Meta and the dataset of a typical image fit in it.
HEAD_BYTES = 16384
# A value of an attribute we read longer than this is unusual: pydicom reads it.
_MAX_VALUE_BYTES = 65536
_UNDEFINED = 0xFFFFFFFF
# Non-blocking: a FIFO must not hang the scan (it is then declined as not regular).
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)

_IMPLICIT_LE = "1.2.840.10008.1.2"
# Big endian (PS3.5 A.3) and deflated (A.5) datasets are left to pydicom; every
# other known transfer syntax encodes its dataset as Explicit VR Little Endian.
_NOT_EXPLICIT_LE = frozenset({"1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99"})

_ITEM = 0xFFFEE000
_ITEM_END = 0xFFFEE00D
_SEQUENCE_END = 0xFFFEE0DD
_PIXEL_DATA = 0x7FE00010
# pydicom's stop_before_pixels stops at any of these (Float, Double Float, Pixel Data).
_PIXEL_TAGS = frozenset({0x7FE00008, 0x7FE00009, _PIXEL_DATA})

_EXPLICIT = Struct("<HH2sH")
_IMPLICIT = Struct("<HHL")
_U32 = Struct("<L")
_US = Struct("<H")
_LONG_VRS = frozenset(vr.encode() for vr in EXPLICIT_VR_LENGTH_32)
_SHORT_VRS = frozenset(vr.encode() for vr in EXPLICIT_VR_LENGTH_16)
_HEADER_LENGTH = dict.fromkeys(_LONG_VRS, 12) | dict.fromkeys(_SHORT_VRS, 8)

# The attributes header_from_dataset and the scanner read, with their dictionary VR.
_KEYWORDS = (
    "SpecificCharacterSet",
    "ImageType",
    "SOPClassUID",
    "SOPInstanceUID",
    "StudyDate",
    "SeriesDate",
    "SeriesTime",
    "StudyTime",
    "AccessionNumber",
    "Modality",
    "Manufacturer",
    "StudyDescription",
    "SeriesDescription",
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "PatientAge",
    "BodyPartExamined",
    "SliceThickness",
    "TriggerTime",
    "EchoNumbers",
    "GantryDetectorTilt",
    "ImagerPixelSpacing",
    "EstimatedRadiographicMagnificationFactor",
    "PixelSpacingCalibrationType",
    "PixelSpacingCalibrationDescription",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "SeriesNumber",
    "AcquisitionNumber",
    "InstanceNumber",
    "PatientOrientation",
    "ImagePositionPatient",
    "ImageOrientationPatient",
    "FrameOfReferenceUID",
    "TemporalPositionIdentifier",
    "SamplesPerPixel",
    "PhotometricInterpretation",
    "NumberOfFrames",
    "Rows",
    "Columns",
    "PixelSpacing",
    "PlanarConfiguration",
    "BitsAllocated",
    "BitsStored",
    "PixelRepresentation",
    "WindowCenter",
    "WindowWidth",
    "RescaleIntercept",
    "RescaleSlope",
    "WindowCenterWidthExplanation",
    "VOILUTFunction",
    "PresentationLUTShape",
    "DiffusionDirectionality",
    "SpacingBetweenSlices",
)
# Sequences header_from_dataset reads items of: pydicom reads those files.
_DECLINED_SEQUENCES = (
    "VOILUTSequence",
    "ModalityLUTSequence",
    "PerFrameFunctionalGroupsSequence",
    "SharedFunctionalGroupsSequence",
)
_META_KEYWORDS = ("MediaStorageSOPClassUID", "TransferSyntaxUID")


def _tag(keyword: str) -> int:
    tag = tag_for_keyword(keyword)
    if tag is None:  # pragma: no cover - the keywords above are all in the dictionary
        raise KeyError(keyword)
    return int(tag)


_WANTED: dict[int, tuple[str, str, bytes]] = {
    _tag(k): (k, str(dictionary_VR(_tag(k))), str(dictionary_VR(_tag(k))).encode())
    for k in _KEYWORDS
}
_WANTED_META: dict[int, tuple[str, str]] = {
    _tag(k): (k, str(dictionary_VR(_tag(k)))) for k in _META_KEYWORDS
}
# Wanted attributes, and the declined sequences with an empty keyword.
_SPECIAL: dict[int, tuple[str, str, bytes]] = _WANTED | {
    _tag(k): ("", "SQ", b"SQ") for k in _DECLINED_SEQUENCES
}

# Numbers as pydicom's DSfloat and IS accept them, without their oddities
# (underscores, "nan", "inf", "1.0" for IS): anything else is left to pydicom.
_DS_NUMBER = re.compile(r" *[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)? *")
_IS_NUMBER = re.compile(r" *[+-]?[0-9]+ *")
_NOT_ASCII = re.compile(rb"[^\x00-\x1a\x1c-\x7f]")  # also ESC: ISO 2022 switching


class _Decline(Exception):
    """The file is not one this reader handles: pydicom reads it."""


class _Elements:
    """The converted values of some attributes, looked up like a pydicom Dataset."""

    __slots__ = ("_values", "file_meta", "original_encoding")

    def __init__(
        self,
        values: dict[str, Any],
        file_meta: _Elements | None = None,
        implicit: bool = False,
    ) -> None:
        self._values = values
        self.file_meta = file_meta
        self.original_encoding = (implicit, True)

    def get(self, key: str, default: Any = None) -> Any:
        """The value of attribute ``key`` (a keyword), or ``default``."""
        return self._values.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._values


class _Reader:
    """Bytes of one open file, read in large pieces as parsing moves on."""

    __slots__ = ("base", "buffer", "fd", "size")

    def __init__(self, fd: int, size: int, head: bytes) -> None:
        self.fd = fd
        self.size = size
        self.buffer = head
        self.base = 0

    def window(self, position: int, length: int) -> tuple[bytes, int]:
        """A buffer holding ``length`` bytes at file ``position``, and their offset.

        Raises _Decline when the file ends first (pydicom stops quietly there).
        """
        start = position - self.base
        if start >= 0 and start + length <= len(self.buffer):
            return self.buffer, start
        if position + length > self.size:
            raise _Decline("the file ends inside the header")
        self.buffer = os.pread(self.fd, max(length, HEAD_BYTES), position)
        self.base = position
        if len(self.buffer) < length:
            raise _Decline("short read")
        return self.buffer, 0

    def read(self, position: int, length: int) -> bytes:
        """``length`` bytes at ``position``."""
        buffer, offset = self.window(position, length)
        return buffer[offset : offset + length]


def read_fast_header(path: str) -> InstanceHeader | None:
    """The header of ``path`` as the pydicom path reads it, or None to use that path.

    Never raises: any doubt returns None.
    """
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError:
        return None
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            return None
        size = status.st_size
        head = os.pread(fd, HEAD_BYTES, 0)
        if len(head) < 132 or head[128:132] != b"DICM":
            return None
        return _parse(_Reader(fd, size, head), path)
    except Exception:  # _Decline, or any doubt at all: pydicom reads the file
        return None
    finally:
        os.close(fd)


def _parse(reader: _Reader, path: str) -> InstanceHeader | None:
    meta_raw: dict[int, tuple[str, bytes]] = {}
    position = _read_meta(reader, 132, meta_raw)
    no_charset = _Charset(None)
    meta = _Elements(
        {
            _WANTED_META[t][0]: _convert(vr, value, no_charset)
            for t, (vr, value) in meta_raw.items()
        }
    )
    syntax = meta.get("TransferSyntaxUID")
    if not isinstance(syntax, str) or not syntax or syntax in _NOT_EXPLICIT_LE:
        return None
    implicit = syntax == _IMPLICIT_LE
    raw: dict[int, tuple[str, bytes]] = {}
    _read_dataset(reader, position, implicit, raw)
    charset = raw.get(0x00080005)
    text = _Charset(charset[1] if charset else None)
    values = {
        _WANTED[t][0]: _converted(t, vr, value, text) for t, (vr, value) in raw.items()
    }
    ds = _Elements(values, meta, implicit)
    if "Rows" not in ds or "Columns" not in ds or "SOPClassUID" not in ds:
        return None
    sop_class = str(
        ds.get("SOPClassUID", "") or meta.get("MediaStorageSOPClassUID", "")
    )
    if sop_class == MEDIA_STORAGE_DIRECTORY:
        return None
    image_type = ds.get("ImageType") or []
    if "MOSAIC" in (str(v).upper() for v in image_type):
        return None  # the Siemens CSA header (a private element) gives its layout
    # Duck-typed: for the files accepted here (no LUT or functional-group sequence,
    # no mosaic) header_from_dataset only uses get, `in`, file_meta and
    # original_encoding, which _Elements answers as pydicom's Dataset would.
    return header_from_dataset(cast("Dataset", ds), path, reader.size)


_ENCODINGS: dict[bytes | None, list[str]] = {}


class _Charset:
    """The encodings of Specific Character Set (0008,0005), as pydicom derives them."""

    __slots__ = ("_encodings", "value")

    def __init__(self, value: bytes | None) -> None:
        self.value = value
        self._encodings: list[str] | None = None

    @property
    def encodings(self) -> list[str]:
        """pydicom's encodings for text values of this dataset (PS3.5 6.1.2.5)."""
        if self._encodings is None:
            cached = _ENCODINGS.get(self.value)
            if cached is None:
                from pydicom.charset import default_encoding

                specific = _convert("CS", self.value or b"", self)
                if isinstance(specific, tuple):
                    specific = list(specific)  # pydicom edits the list it is given
                cached = (
                    list(convert_encodings(specific))
                    if specific
                    else [default_encoding]
                )
                _ENCODINGS[self.value] = cached
            self._encodings = cached
        return self._encodings


def _read_meta(
    reader: _Reader, position: int, raw: dict[int, tuple[str, bytes]]
) -> int:
    """Walk the File Meta elements (group 0002, Explicit VR Little Endian, PS3.10 7.1).

    Returns the position of the first dataset element.
    """
    previous = -1
    while True:
        buffer, offset = reader.window(position, 8)
        group, element, vr, length = _EXPLICIT.unpack_from(buffer, offset)
        if group != 0x0002:
            if previous < 0 or group == 0x0000:
                raise _Decline("no File Meta, or a command set")
            return position
        tag = group << 16 | element
        if tag <= previous:
            raise _Decline("File Meta elements out of order")
        previous = tag
        if vr in _LONG_VRS:
            buffer, offset = reader.window(position + 8, 4)
            length = _U32.unpack_from(buffer, offset)[0]
            header = 12
        elif vr in _SHORT_VRS:
            header = 8
        else:
            raise _Decline("unknown VR in the File Meta")
        if length == _UNDEFINED:
            raise _Decline("undefined length in the File Meta")
        wanted = _WANTED_META.get(tag)
        if wanted is not None:
            if vr.decode() != wanted[1] or length > _MAX_VALUE_BYTES:
                raise _Decline("unexpected VR or length")
            raw[tag] = (wanted[1], reader.read(position + header, length))
        position += header + length


def _read_dataset(
    reader: _Reader, position: int, implicit: bool, raw: dict[int, tuple[str, bytes]]
) -> int:
    """Walk the top-level elements up to Pixel Data, keeping the values we read.

    Returns the position of the Pixel Data element. This is the hot loop of a
    scan: the buffer is indexed directly while element headers lie inside it, and
    an element nobody reads costs one unpack and two lookups.
    """
    buffer, offset = reader.window(position, 8)
    letters = all(0x40 < b < 0x5B for b in buffer[offset + 4 : offset + 6])
    if letters == implicit:
        # pydicom would switch encodings here (with a warning).
        raise _Decline("the dataset is not encoded as its transfer syntax says")
    previous = 0x0007FFFF  # groups 0000 to 0007 are not dataset elements
    special = _SPECIAL
    header_lengths = _HEADER_LENGTH
    unpack = _IMPLICIT.unpack_from if implicit else _EXPLICIT.unpack_from
    unpack_long = _U32.unpack_from
    buffer, base = reader.buffer, reader.base
    limit = len(buffer) - 12
    vr_bytes = b""
    header = 8
    while True:
        offset = position - base
        if offset > limit or offset < 0:
            if position + 8 > reader.size:
                raise _Decline("the file ends inside the header")
            reader.window(position, min(12, reader.size - position))
            buffer, base = reader.buffer, reader.base
            limit = len(buffer) - 12
            offset = position - base
        if implicit:
            group, element, length = unpack(buffer, offset)
        else:
            group, element, vr_bytes, length = unpack(buffer, offset)
            header = header_lengths.get(vr_bytes, 0)
            if header == 12:
                if offset > limit:
                    raise _Decline("the file ends inside the header")
                length = unpack_long(buffer, offset + 8)[0]
            elif not header:
                raise _Decline("unknown VR")
        tag = group << 16 | element
        if tag <= previous:
            raise _Decline("elements out of order")
        previous = tag
        position += header
        wanted = special.get(tag)
        if wanted is None and tag < 0x7FE00008:
            if length == _UNDEFINED:
                vr = "" if implicit else vr_bytes.decode()
                if not _is_sequence(reader, position, tag, vr, implicit):
                    raise _Decline("undefined length outside a sequence")
                position = _skip_sequence(reader, position, implicit)
                buffer, base = reader.buffer, reader.base
                limit = len(buffer) - 12
            else:
                position += length
            continue
        if wanted is None:
            if tag in _PIXEL_TAGS:
                if tag != _PIXEL_DATA:
                    raise _Decline("float pixel data")
                return position - header
            raise _Decline("an element after Pixel Data's place, or a delimiter")
        keyword, vr, vr_encoded = wanted
        if not keyword:
            raise _Decline("a sequence header_from_dataset reads")
        if (not implicit and vr_bytes != vr_encoded) or length > _MAX_VALUE_BYTES:
            raise _Decline("unexpected VR or length")
        start = position - base
        if start + length <= len(buffer):
            raw[tag] = (vr, buffer[start : start + length])
        else:
            raw[tag] = (vr, reader.read(position, length))
            buffer, base = reader.buffer, reader.base
            limit = len(buffer) - 12
        position += length


def _is_sequence(
    reader: _Reader, position: int, tag: int, vr: str, implicit: bool
) -> bool:
    """Whether an element of undefined length is a sequence as pydicom decides it."""
    if not implicit:
        return vr == "SQ"
    try:
        return str(dictionary_VR(tag)) == "SQ"
    except KeyError:
        # A private or unknown tag: a sequence if an item follows (pydicom's test).
        buffer, offset = reader.window(position, 4)
        group, element = _EXPLICIT.unpack_from(buffer, offset)[:2]
        return bool((group << 16 | element) == _ITEM)


def _skip_sequence(reader: _Reader, position: int, implicit: bool) -> int:
    """Skip the items of an undefined-length sequence (PS3.5 7.5.2).

    Items are walked element by element, as pydicom parses them; returns the
    position after the Sequence Delimitation Item.
    """
    while True:
        buffer, offset = reader.window(position, 8)
        group, element, length = _IMPLICIT.unpack_from(buffer, offset)
        tag = group << 16 | element
        position += 8
        if tag == _SEQUENCE_END:
            return position
        if tag != _ITEM:
            raise _Decline("not an item in a sequence")
        if length == _UNDEFINED:
            position = _skip_elements(reader, position, None, implicit)
        else:
            end = position + length
            if _skip_elements(reader, position, end, implicit) != end:
                raise _Decline("an item's elements overrun its length")
            position = end


def _skip_elements(
    reader: _Reader, position: int, end: int | None, implicit: bool
) -> int:
    """Skip the elements of an item: to ``end``, or past its Item Delimitation."""
    while end is None or position < end:
        buffer, offset = reader.window(position, 8)
        if implicit:
            group, element, length = _IMPLICIT.unpack_from(buffer, offset)
            header = 8
            vr = ""
        else:
            group, element, vr_bytes, length = _EXPLICIT.unpack_from(buffer, offset)
            if group == 0xFFFE:
                length = _IMPLICIT.unpack_from(buffer, offset)[2]
                header = 8
                vr = ""
            elif vr_bytes in _LONG_VRS:
                buffer, offset = reader.window(position + 8, 4)
                length = _U32.unpack_from(buffer, offset)[0]
                header = 12
                vr = vr_bytes.decode()
            elif vr_bytes in _SHORT_VRS:
                header = 8
                vr = vr_bytes.decode()
            else:
                raise _Decline("unknown VR in an item")
        tag = group << 16 | element
        position += header
        if tag == _ITEM_END:
            if end is not None:
                raise _Decline("item delimiter in an item of defined length")
            return position
        if group == 0xFFFE:
            raise _Decline("a delimiter out of place")
        if length == _UNDEFINED:
            if not _is_sequence(reader, position, tag, vr, implicit):
                raise _Decline("undefined length outside a sequence")
            position = _skip_sequence(reader, position, implicit)
        else:
            position += length
    return position


def _us(value: bytes) -> tuple[int, ...]:
    return Struct(f"<{len(value) // 2}H").unpack(value)


def _multi(text: str) -> str | tuple[str, ...]:
    """pydicom's ``multi_string``: strip trailing padding, split on backslashes."""
    items = text.rstrip(" \x00").split("\\")
    return items[0] if len(items) == 1 else tuple(items)


# Values repeat from file to file of a series (patient, study, orientation,
# spacing, windows...): each distinct encoded value is converted once.
_CONVERTED: dict[tuple[str, bytes, bytes | None], Any] = {}
_CACHE_LIMIT = 8192
# Values that differ in every file are not worth keeping.
_UNIQUE = frozenset(
    _tag(k) for k in ("SOPInstanceUID", "ImagePositionPatient", "InstanceNumber")
)


def _converted(tag: int, vr: str, value: bytes, charset: _Charset) -> Any:
    """:func:`_convert`, remembered (the values are immutable: str, numbers, tuples)."""
    if tag in _UNIQUE:
        return _convert(vr, value, charset)
    key = (vr, value, charset.value)
    try:
        return _CONVERTED[key]
    except KeyError:
        pass
    result = _convert(vr, value, charset)
    if len(_CONVERTED) >= _CACHE_LIMIT:
        _CONVERTED.clear()
    _CONVERTED[key] = result
    return result


def _convert(vr: str, value: bytes, charset: _Charset) -> Any:
    """The value pydicom gives ``value`` of VR ``vr`` (PS3.5 6.2), as header.py uses it.

    Numbers become float or int (header.py converts DSfloat and IS the same way);
    text is what pydicom returns. Raises _Decline where pydicom would differ.
    """
    if not value:
        # pydicom's empty values: None for numbers, "" for text.
        return None if vr in ("US", "DS", "IS") else ""
    if vr == "US":
        if len(value) % 2:
            raise _Decline("odd length for US")
        numbers = _US.unpack_from(value) if len(value) == 2 else _us(value)
        return numbers[0] if len(numbers) == 1 else numbers
    if vr in ("CS", "DA", "TM", "AS", "DT"):
        return _multi(value.decode("latin-1"))
    if vr == "UI":
        return _multi(value.decode("latin-1").rstrip("\0 "))
    if vr in ("LO", "SH"):
        if _NOT_ASCII.search(value):
            from pydicom.values import convert_text

            return convert_text(value, charset.encodings, vr)
        items = tuple(v.rstrip("\0 ") for v in value.decode("ascii").split("\\"))
        return items[0] if len(items) == 1 else items
    if vr == "PN":
        if not _NOT_ASCII.search(value) and b"=" not in value and b"\\" not in value:
            # One ASCII name of one component group: PersonName's str() is the
            # value without trailing padding, which is all header.py takes of it.
            return value.rstrip(b"\x00 ").decode("ascii")
        from pydicom.values import convert_PN

        return convert_PN(value, charset.encodings)
    if vr == "DS":
        return _numbers(_multi(value.decode("latin-1").strip()), _DS_NUMBER, float)
    if vr == "IS":
        return _numbers(_multi(value.decode("latin-1")), _IS_NUMBER, int)
    raise _Decline(f"VR {vr} not handled")


def _numbers(
    items: str | tuple[str, ...],
    pattern: re.Pattern[str],
    kind: Callable[[str], Any],
) -> Any:
    """DS or IS items as numbers; a blank single value stays a string, as in pydicom."""
    if isinstance(items, str):
        if not items.strip():
            return items
        items = (items,)
        single = True
    else:
        single = False
    numbers = []
    for item in items:
        if not pattern.fullmatch(item):
            raise _Decline(f"number {item!r} left to pydicom")
        number = kind(item)
        if not math.isfinite(number):
            raise _Decline("number out of range")
        numbers.append(number)
    return numbers[0] if single else tuple(numbers)
