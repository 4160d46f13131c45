"""Tag trees: every data element of a DICOM file as text, for the tag browser."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pydicom
from pydicom.datadict import (
    dictionary_description,
    dictionary_keyword,
    dictionary_VR,
    private_dictionary_description,
    private_dictionary_VR,
)
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.errors import InvalidDicomError
from pydicom.multival import MultiValue
from pydicom.tag import BaseTag, Tag
from pydicom.uid import UID

if TYPE_CHECKING:
    from collections.abc import Iterable

    from pydicom.dataset import Dataset

__all__ = [
    "MAX_VALUE_CHARS",
    "TagNode",
    "format_tag",
    "read_tag_tree",
]

MAX_VALUE_CHARS: Final = 512
"""Value texts longer than this are cut, with an ellipsis and a note of the length."""
_DEFER_BYTES: Final = 16 * 1024
"""Values larger than this are not read unless shown as text (bytes never are)."""
_BYTES_PREVIEW: Final = 16
"""Byte values up to this long are shown in hex after their length."""
_BYTE_VRS: Final = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN", "OB or OW"})
_PIXEL_TAGS: Final = frozenset({0x7FE00008, 0x7FE00009, 0x7FE00010})
"""Float Pixel Data, Double Float Pixel Data, Pixel Data (PS3.3 C.7.6.3)."""
_PER_FRAME_GROUPS: Final = 0x52009230
"""Per-frame Functional Groups Sequence (PS3.3 C.7.6.16.2)."""
_ITEM_TAG: Final = "(FFFE,E000)"
_UNDEFINED_LENGTH: Final = 0xFFFFFFFF
_NEWLINES: Final = str.maketrans({"\r": "", "\n": "↵", "\t": " ", "\0": ""})


@dataclass(frozen=True, eq=False)
class TagNode:
    """One data element (or sequence item) as text.

    Sequence elements have one child per item (``name`` "Item 1", ...), and each
    item the elements of its dataset. Byte values are shown by their length, and
    pixel data by a summary, never dumped.
    """

    tag: str
    """``"(gggg,eeee)"`` in upper-case hex; ``"(FFFE,E000)"`` for an item; empty for
    an error node."""
    keyword: str
    """pydicom keyword (``PatientName``); empty for private tags and items."""
    name: str
    """Dictionary name (``Patient's Name``), ``[name]`` for a known private tag,
    ``Item N`` for an item."""
    vr: str
    value: str
    """The value as text, cut after :data:`MAX_VALUE_CHARS` characters; multiple
    values are joined with a backslash (PS3.5 6.4)."""
    children: list[TagNode] = field(default_factory=list)
    private_creator: str = ""
    """For a private element: the creator of its block (PS3.5 7.8.1)."""
    note: str = ""
    """What the value does not say: the name of a well-known UID, the full length
    of a value that was cut, the frame shown."""
    is_error: bool = False
    """True when the node reports a problem instead of an element."""

    def walk(self) -> Iterable[TagNode]:
        """This node, then every descendant, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()


def format_tag(tag: int) -> str:
    """``0x00100010`` as ``"(0010,0010)"``."""
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def _error(message: str) -> TagNode:
    return TagNode("", "", "Error", "", message, is_error=True)


def read_tag_tree(path: str, frame_index: int | None = None) -> list[TagNode]:
    """Every data element of a DICOM file, file meta first, as a tree of text.

    Never raises for bad input: a file that cannot be read as DICOM gives one
    error node saying why; an element whose value cannot be parsed gives a node
    with the error as its value, and the rest of the file is still shown.

    Parameters
    ----------
    path
        The file.
    frame_index
        For an enhanced multi-frame image: show only this frame's item (0-based)
        of the Per-frame Functional Groups Sequence, so a header of thousands of
        frames stays small. None shows every item.

    Returns
    -------
    list of TagNode
        The top-level elements, in tag order (group 0002 first).

    References
    ----------
    PS3.5 7 (data elements, sequences, private elements); PS3.10 7.1 (file meta);
    PS3.3 C.7.6.16.2 (Per-frame Functional Groups).
    """
    try:
        with warnings.catch_warnings():
            # Odd values are common in real headers and shown as they are.
            warnings.simplefilter("ignore")
            return _read(path, frame_index)
    except Exception as error:  # pydicom raises many types on corrupt input
        return [_error(f"cannot read {path}: {type(error).__name__}: {error}")]


def _read(path: str, frame_index: int | None) -> list[TagNode]:
    try:
        size = os.stat(path).st_size
        with open(path, "rb") as handle:
            head = handle.read(132)
    except OSError as error:
        return [_error(f"cannot read the file: {error.strerror or error}")]
    if size == 0:
        return [_error("empty file")]
    has_preamble = len(head) == 132 and head[128:132] == b"DICM"
    if not has_preamble and not _looks_like_raw_dicom(head):
        return [
            _error(
                "not a DICOM file (no DICM prefix and no DICOM elements at the start)"
            )
        ]
    try:
        ds = pydicom.dcmread(path, force=not has_preamble, defer_size=_DEFER_BYTES)
    except InvalidDicomError as error:
        return [_error(f"not a DICOM file: {error}")]
    except MemoryError:
        return [_error("header too large to read")]
    problem = _end_problem(ds, size)
    nodes = _dataset_nodes(ds.file_meta, frame_index, top=False)
    nodes.extend(_dataset_nodes(ds, frame_index, top=True))
    if problem:
        nodes.append(_error(problem))
    if not nodes:
        return [_error("no data elements in the file")]
    return nodes


def _end_problem(ds: Dataset, size: int) -> str:
    """Whether the last element ends where the file does (pydicom stops quietly
    at a truncated element, and skips what it cannot parse)."""
    keys = sorted(ds.keys())
    if not keys:
        return ""
    last = ds.get_item(keys[-1], keep_deferred=True)
    if not isinstance(last, RawDataElement) or last.value_tell is None:
        return ""
    if last.length == _UNDEFINED_LENGTH:
        return ""
    end = int(last.value_tell) + int(last.length)
    tag = format_tag(int(last.tag))
    if end > size:
        return (
            f"the file ends inside {tag}: its value needs {end - size} more bytes "
            "(truncated file)"
        )
    if end < size:
        return (
            f"{size - end} bytes after {tag} could not be read as data elements "
            "(truncated or damaged file)"
        )
    return ""


def _looks_like_raw_dicom(head: bytes) -> bool:
    """A file without preamble still starts with a group 0002 or 0008 element."""
    if len(head) < 8:
        return False
    groups = (int.from_bytes(head[0:2], "little"), int.from_bytes(head[0:2], "big"))
    return any(group in (0x0002, 0x0008) for group in groups)


def _dataset_nodes(ds: Dataset, frame_index: int | None, top: bool) -> list[TagNode]:
    nodes: list[TagNode] = []
    for tag in sorted(ds.keys()):
        try:
            nodes.append(_element_node(ds, BaseTag(tag), frame_index, top))
        except Exception as error:  # one bad element must not hide the others
            nodes.append(
                TagNode(
                    format_tag(tag),
                    _keyword(tag),
                    _name(tag),
                    "",
                    f"cannot read the value: {type(error).__name__}: {error}",
                    is_error=True,
                )
            )
    return nodes


def _keyword(tag: int) -> str:
    try:
        return str(dictionary_keyword(tag))
    except KeyError:
        return ""


def _dictionary_vr(tag: BaseTag, creator: str) -> str:
    """The VR of an implicit-VR element, before its value is read (PS3.6)."""
    try:
        if tag.is_private:
            vr = str(private_dictionary_VR(tag, creator)) if creator else "UN"
        else:
            vr = str(dictionary_VR(tag))
    except KeyError:
        return "UN"
    if " or " in vr:
        # A large implicit-VR value with an ambiguous VR is OW (PS3.5 A.1 c).
        options = vr.split(" or ")
        return "OW" if "OW" in options else options[0]
    return vr


def _private_name(tag: BaseTag, creator: str) -> str:
    """``[Name]`` from pydicom's private dictionary, as pydicom names them."""
    try:
        return f"[{private_dictionary_description(tag, creator)}]"
    except KeyError:
        return "Private tag data"


def _name(tag: int) -> str:
    try:
        return str(dictionary_description(tag))
    except KeyError:
        return "Private tag data" if Tag(tag).is_private else "Unknown"


def _creator(ds: Dataset, tag: BaseTag) -> str:
    """The Private Creator of a private element's block (PS3.5 7.8.1)."""
    if not tag.is_private or tag.is_private_creator or tag.element < 0x1000:
        return ""
    creator_tag = Tag(tag.group, tag.element >> 8)
    if creator_tag not in ds:
        return ""
    value = ds[creator_tag].value
    return str(value).strip() if value is not None else ""


def _element_node(
    ds: Dataset, tag: BaseTag, frame_index: int | None, top: bool
) -> TagNode:
    raw = ds.get_item(tag, keep_deferred=True)
    deferred = isinstance(raw, RawDataElement) and raw.value is None and raw.length > 0
    if deferred and isinstance(raw, RawDataElement):
        vr = str(raw.VR or "") or _dictionary_vr(tag, _creator(ds, tag))
        if int(tag) in _PIXEL_TAGS or vr in _BYTE_VRS or vr.startswith("O"):
            # A large binary value: its length is known without reading it.
            return _node_without_value(ds, tag, vr, _deferred_length(ds, raw))
    elem = ds[tag]
    vr = str(elem.VR or "")
    creator = _creator(ds, tag)
    keyword = elem.keyword if not tag.is_private else ""
    name = _private_name(tag, creator) if creator else elem.name
    if vr == "SQ":
        return _sequence_node(
            elem, keyword, name, creator, frame_index if top else None
        )
    if int(tag) in _PIXEL_TAGS:
        value = elem.value
        length = len(value) if isinstance(value, bytes | bytearray) else 0
        return TagNode(
            format_tag(tag),
            keyword,
            name,
            vr,
            _pixel_summary(ds, length, elem.is_undefined_length),
            private_creator=creator,
        )
    text, note = _value_text(elem)
    return TagNode(
        format_tag(tag), keyword, name, vr, text, private_creator=creator, note=note
    )


def _deferred_length(ds: Dataset, raw: RawDataElement) -> int:
    """Bytes of a value that was not read; for an undefined length (encapsulated
    pixel data, PS3.5 A.4), the bytes from its start to the end of the file."""
    if raw.length != _UNDEFINED_LENGTH:
        return int(raw.length)
    filename = getattr(ds, "filename", None)
    if not isinstance(filename, str) or raw.value_tell is None:
        return 0
    return max(0, os.stat(filename).st_size - int(raw.value_tell))


def _node_without_value(ds: Dataset, tag: BaseTag, vr: str, length: int) -> TagNode:
    creator = _creator(ds, tag)
    keyword = "" if tag.is_private else _keyword(tag)
    name = _private_name(tag, creator) if creator else _name(tag)
    if int(tag) in _PIXEL_TAGS:
        return TagNode(
            format_tag(tag),
            keyword,
            name,
            vr,
            _pixel_summary(ds, length, False),
            private_creator=creator,
        )
    return TagNode(
        format_tag(tag), keyword, name, vr, _bytes_text(length), private_creator=creator
    )


def _sequence_node(
    elem: DataElement,
    keyword: str,
    name: str,
    creator: str,
    frame_index: int | None,
) -> TagNode:
    items = list(elem.value or ())
    count = f"{len(items)} item" + ("" if len(items) == 1 else "s")
    note = ""
    numbered = list(enumerate(items))
    if (
        int(elem.tag) == _PER_FRAME_GROUPS
        and frame_index is not None
        and 0 <= frame_index < len(items)
    ):
        numbered = [(frame_index, items[frame_index])]
        note = f"showing the item of frame {frame_index + 1} of {len(items)}"
    children = [
        TagNode(
            _ITEM_TAG,
            "",
            f"Item {n + 1}",
            "",
            f"{len(item)} element" + ("" if len(item) == 1 else "s"),
            _dataset_nodes(item, None, top=False),
        )
        for n, item in numbered
    ]
    return TagNode(
        format_tag(int(elem.tag)),
        keyword,
        name,
        "SQ",
        count,
        children,
        private_creator=creator,
        note=note,
    )


def _bytes_text(length: int, data: bytes | None = None) -> str:
    text = f"{length} byte" + ("" if length == 1 else "s")
    if data is not None and 0 < len(data) <= _BYTES_PREVIEW:
        text += ": " + data.hex(" ").upper()
    return text


def _pixel_summary(ds: Dataset, length: int, encapsulated: bool) -> str:
    """Pixel data in one line: frames, size, bits, storage.

    References: PS3.3 C.7.6.3 Image Pixel; PS3.5 A.4 encapsulation.
    """
    parts = []
    try:
        frames = int(ds.get("NumberOfFrames", 1) or 1)
        rows, columns = int(ds.get("Rows", 0) or 0), int(ds.get("Columns", 0) or 0)
        bits = int(ds.get("BitsAllocated", 0) or 0)
        samples = int(ds.get("SamplesPerPixel", 1) or 1)
    except (TypeError, ValueError):
        frames = rows = columns = bits = 0
        samples = 1
    if rows and columns:
        shape = f"{frames} frame{'' if frames == 1 else 's'} of {columns}×{rows}"
        if samples > 1:
            shape += f"×{samples}"
        parts.append(shape)
    if bits:
        parts.append(f"{bits} bits allocated")
    syntax = ""
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        syntax = str(meta.get("TransferSyntaxUID", "") or "")
    if encapsulated or (syntax and UID(syntax).is_encapsulated):
        kind = "encapsulated"
        if syntax:
            kind += f" ({UID(syntax).name})"
        parts.append(kind)
    else:
        parts.append("native")
    parts.append(_bytes_text(length))
    return ", ".join(parts)


def _value_text(elem: DataElement) -> tuple[str, str]:
    """(text, note) for a non-sequence element."""
    value: Any = elem.value
    vr = str(elem.VR or "")
    if value is None:
        return "", ""
    if isinstance(value, bytes | bytearray):
        return _bytes_text(len(value), bytes(value)), ""
    if elem.VM == 0:
        return "", ""
    values: list[Any] = (
        list(value) if isinstance(value, MultiValue | list | tuple) else [value]
    )
    if not values:
        return "", ""
    texts: list[str] = []
    length = 0
    for item in values:
        text = _one_value(item, vr)
        texts.append(text)
        length += len(text) + 1
        if length > MAX_VALUE_CHARS:
            break
    text = "\\".join(texts).translate(_NEWLINES)
    note = ""
    if vr == "UI" and len(values) == 1:
        uid = UID(texts[0])
        if uid.is_valid and uid.name != str(uid):
            note = uid.name
    if len(text) > MAX_VALUE_CHARS:
        text = text[:MAX_VALUE_CHARS] + "…"
        note = (
            f"{len(values)} values"
            if len(values) > 1
            else f"{len(_one_value(values[0], vr))} characters"
        )
    return text, note


def _one_value(value: Any, vr: str) -> str:
    if vr == "AT" and isinstance(value, int):
        return format_tag(int(value))
    if isinstance(value, float) and vr == "FL":
        # Shortest text that reads back as the same 32-bit float.
        return str(np.float32(value))
    if isinstance(value, bytes | bytearray):
        return _bytes_text(len(value), bytes(value))
    return str(value)
