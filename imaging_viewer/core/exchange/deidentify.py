"""De-identification by the PS3.15 Basic Application Level Confidentiality Profile.

:data:`BASIC_PROFILE` is Table E.1-1 (the data in
:mod:`~imaging_viewer.core.exchange.confidentiality_profile`) by tag: every
attribute the profile names, with its action (PS3.15 E.1.1):

- ``D``: replace with a dummy value of the same VR;
- ``Z``: replace with a zero-length value (or a dummy);
- ``X``: remove;
- ``K``: keep;
- ``C``: clean (keep only what is not identifying);
- ``U``: replace a UID with another, consistently within the case.

Combined actions (``X/Z``, ``X/D``, ``Z/D``, ``X/Z/D``) leave the choice to the
de-identifier as far as the IOD allows; here they resolve to the stricter one
(``X`` before ``Z`` before ``D``), except where the object's IOD requires the
attribute (PS3.3 module tables, see
:mod:`~imaging_viewer.core.exchange.iod_requirements`): a Type 2 attribute is
then emptied and a Type 1 one given a dummy value, also inside the functional
group sequences, so that the de-identified object stays valid. ``X/Z/U*``
(Referenced and Source Image Sequence) is removed at the top level of a
dataset, and kept with its UIDs replaced where it is nested (a presentation
state or a report refers to the images through it, so it is required there;
PS3.15 E.1.1 "U*").

Beyond the table, for a stricter result: every private attribute, curve (50xx)
and overlay (60xx) group, and public attribute pydicom does not know is removed;
every date, date-time and time attribute the table does not name is treated as
a temporal attribute (removed, or kept or shifted with the Retain Longitudinal
Temporal Information option); and every UID that is not a registered DICOM UID
nor a class or transfer syntax is replaced. Sequences are de-identified item by
item, recursively.

References
----------
PS3.15 Annex E, Table E.1-1 "Application Level Confidentiality Profile
Attributes", E.3.6 Retain Longitudinal Temporal Information Options; PS3.16
CID 7050 De-identification Method; PS3.5 B.2 UUID Derived UID; PS3.3 C.7.1.1
(Patient Identity Removed, De-identification Method), C.7.6.1 (Burned In
Annotation).
"""

from __future__ import annotations

import copy
import datetime
import hashlib
import hmac
import os
import uuid
import warnings
from dataclasses import dataclass, field
from io import BytesIO
from typing import TYPE_CHECKING, Any, Final

import pydicom
from pydicom.datadict import dictionary_has_tag, keyword_for_tag
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    UID,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from imaging_viewer.core.exchange.confidentiality_profile import TABLE_E_1_1
from imaging_viewer.core.exchange.iod_requirements import (
    REQUIRED_TYPES,
    required_type,
)
from imaging_viewer.core.files import write_bytes_atomic

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

__all__ = [
    "BASIC_PROFILE",
    "BurnedInAnnotationError",
    "DeidContext",
    "ProfileEntry",
    "dataset_bytes",
    "deidentify",
    "read_dataset",
    "resolve_action",
    "source_identifiers",
    "write_dataset",
]

_STRICTNESS: Final = ("X", "Z", "D", "U", "C", "K")
"""Actions from the strictest (leaves the least) to the least strict."""


@dataclass(frozen=True)
class ProfileEntry:
    """One row of PS3.15 Table E.1-1."""

    tag: int
    name: str
    basic: str
    """The Basic Profile column as written, e.g. ``"X/Z/D"``."""
    temporal: bool
    """Listed under the Retain Longitudinal Temporal Information Options."""

    @property
    def action(self) -> str:
        """The action applied: the strictest of :attr:`basic` (see
        :func:`resolve_action`)."""
        return resolve_action(self.basic)


def resolve_action(code: str) -> str:
    """The strictest action of a Table E.1-1 code: ``"X/Z/D"`` gives ``"X"``.

    Parameters
    ----------
    code : str
        ``D``, ``Z``, ``X``, ``K``, ``C``, ``U`` or a combination such as
        ``X/Z``, ``X/D``, ``Z/D``, ``X/Z/D`` or ``X/Z/U*``.

    Returns
    -------
    str
        One of ``X``, ``Z``, ``D``, ``U``, ``C``, ``K``.

    References
    ----------
    PS3.15 E.1.1 (De-identifier: the meaning of each action code).
    """
    actions = {part.rstrip("*") for part in code.split("/")}
    unknown = actions - set(_STRICTNESS)
    if unknown:
        raise ValueError(f"unknown action {code!r}")
    return next(action for action in _STRICTNESS if action in actions)


def _parse_table(text: str) -> dict[int, ProfileEntry]:
    entries: dict[int, ProfileEntry] = {}
    for line in text.strip().splitlines():
        tag_text, basic, temporal, name = line.split(maxsplit=3)
        group, element = tag_text.split(",")
        tag = int(group, 16) << 16 | int(element, 16)
        resolve_action(basic)
        if tag in entries:
            raise ValueError(f"duplicate row for ({group},{element})")
        entries[tag] = ProfileEntry(tag, name, basic, temporal == "K")
    return entries


BASIC_PROFILE: Final[Mapping[int, ProfileEntry]] = _parse_table(TABLE_E_1_1)
"""PS3.15 Table E.1-1 by tag (``0xGGGGEEEE``), except its masked rows: Curve Data
(50xx,xxxx), Overlay Data and Comments (60xx,3000 / 60xx,4000) and private
attributes, which are removed whole groups at a time."""

_CONTENT_SEQUENCE: Final = 0x0040A730
_GRAPHIC_ANNOTATION_SEQUENCE: Final = 0x00700001
_TEMPORAL_VRS: Final = frozenset({"DA", "DT", "TM"})
# Text VRs a kept attribute is cleaned in (numbers and UIDs are not).
_CLEANABLE_VRS: Final = frozenset(
    {"AE", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UR", "UT"}
)

# PS3.16 CID 7050 De-identification Method (codes in DCM).
_BASIC_PROFILE_CODE: Final = ("113100", "Basic Application Confidentiality Profile")
_CLEAN_GRAPHICS_CODE: Final = ("113103", "Clean Graphics Option")
_CLEAN_STRUCTURED_CONTENT_CODE: Final = ("113104", "Clean Structured Content Option")
_FULL_DATES_CODE: Final = (
    "113106",
    "Retain Longitudinal Temporal Information Full Dates Option",
)
_MODIFIED_DATES_CODE: Final = (
    "113107",
    "Retain Longitudinal Temporal Information Modified Dates Option",
)

_DUMMY_TEXT: Final = "DEIDENTIFIED"
"""The ``D`` replacement of text VRs (fits SH, CS and AE: at most 16 characters)."""
_DUMMY_BY_VR: Final[dict[str, Any]] = {
    "DA": "19000101",
    "DT": "19000101000000",
    "TM": "000000",
    "DS": "0",
    "IS": "0",
    "AS": "000D",
    "FL": 0.0,
    "FD": 0.0,
    "SS": 0,
    "US": 0,
    "SL": 0,
    "UL": 0,
    "SV": 0,
    "UV": 0,
}
_TEXT_VRS: Final = frozenset(
    {"AE", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UR", "UT"}
)
# UIDs that name a kind of thing (a SOP class, a transfer syntax, a coding
# scheme), not an instance: they identify nobody and must stay as they are.
_CLASS_UID_SUFFIXES: Final = ("ClassUID", "SyntaxUID", "ClassUIDInFile")
_TEXT_PRONE_MODALITIES: Final = frozenset({"US", "SC", "OT", "XC", "ES", "DOC"})


class BurnedInAnnotationError(ValueError):
    """An image whose pixels say they carry burned-in text (PS3.3 C.7.6.1.1.7).

    Header de-identification cannot remove text from pixels, so such an image is
    refused unless :attr:`DeidContext.accept_burned_in` says otherwise.
    """


@dataclass(eq=False)
class DeidContext:
    """What stays the same for every dataset of one case.

    Parameters
    ----------
    case_key : str
        A secret of the case: new UIDs and pseudonyms are keyed hashes
        (HMAC-SHA-256) of the originals under this key, so repeated runs with
        the same key give the same UIDs, and without it the originals cannot be
        recomputed from them.
    keep_dates : bool
        Retain Longitudinal Temporal Information: keep dates and times
        (shifted by ``date_shift_days`` when that is not 0) instead of removing
        them (PS3.15 E.3.6).
    date_shift_days : int
        Days added to every date (with ``keep_dates``); times of day stay.
    uid_map : dict of str to str
        Original UID -> new UID, shared by every dataset of the case and
        filled as UIDs are met. New UIDs map to themselves, so de-identifying
        an already de-identified dataset (e.g. a report made from the exported
        images) keeps its references.
    clean_structured_content : bool
        Keep and clean the Content Sequence of a structured report (Clean
        Structured Content Option) instead of replacing it; for reports made
        from the case's own annotations.
    clean_graphics : bool
        Keep and clean the Graphic Annotation Sequence of a presentation state
        (Clean Graphics Option) instead of replacing it.
    accept_burned_in : bool
        De-identify images whose Burned In Annotation is YES instead of refusing
        them; each is listed in :attr:`flagged`.
    """

    case_key: str
    keep_dates: bool = False
    date_shift_days: int = 0
    uid_map: dict[str, str] = field(default_factory=dict)
    clean_structured_content: bool = False
    clean_graphics: bool = False
    accept_burned_in: bool = False
    flagged: list[str] = field(default_factory=list)
    """Messages about images whose pixels may carry identifying text."""
    cleaned: list[str] = field(default_factory=list)
    """Messages about kept attributes that held the patient's identifiers
    (which were taken out of them)."""
    _new_uids: set[str] = field(init=False, repr=False)
    _pseudonyms: set[str] = field(init=False, repr=False, default_factory=set)

    def __post_init__(self) -> None:
        if not self.case_key:
            raise ValueError("de-identification needs a case key")
        if self.date_shift_days and not self.keep_dates:
            raise ValueError("date_shift_days needs keep_dates (dates are removed)")
        self._new_uids = set(self.uid_map.values())

    def _digest(self, purpose: str, value: str) -> bytes:
        message = f"{purpose}\0{value}".encode()
        return hmac.new(self.case_key.encode(), message, hashlib.sha256).digest()

    def remap_uid(self, uid: str) -> str:
        """The new UID of ``uid``: the same one every time within the case.

        The new UID is ``2.25.`` followed by a UUID (from a keyed hash of the
        original) as one integer (PS3.5 B.2); at most 44 characters.
        """
        original = uid.strip().rstrip("\0")
        if not original or original in self._new_uids:
            return original
        new = self.uid_map.get(original)
        if new is None:
            digest = self._digest("uid", original)
            new = f"2.25.{uuid.UUID(bytes=digest[:16], version=4).int}"
            self.uid_map[original] = new
            self._new_uids.add(new)
        return new

    def pseudonym(self, original: str) -> str:
        """A stable stand-in for a patient ID or name: ``ANON`` and 10 hex digits.

        The same original gives the same pseudonym within the case, so the
        images of one patient stay together; a pseudonym given before stays.
        """
        text = original.strip()
        if text in self._pseudonyms:
            return text
        pseudonym = "ANON" + self._digest("patient", text).hex()[:10].upper()
        self._pseudonyms.add(pseudonym)
        return pseudonym

    def with_options(
        self, *, clean_structured_content: bool, clean_graphics: bool
    ) -> DeidContext:
        """The same case (key, dates, UID map, pseudonyms) with other cleaning
        options, e.g. for the reports of the case's images."""
        other = DeidContext(
            self.case_key,
            keep_dates=self.keep_dates,
            date_shift_days=self.date_shift_days,
            uid_map=self.uid_map,
            clean_structured_content=clean_structured_content,
            clean_graphics=clean_graphics,
            accept_burned_in=self.accept_burned_in,
            flagged=self.flagged,
        )
        other._new_uids = self._new_uids
        other._pseudonyms = self._pseudonyms
        return other

    @property
    def temporal_option(self) -> str:
        """``"removed"``, ``"full"`` (kept) or ``"modified"`` (shifted)."""
        if not self.keep_dates:
            return "removed"
        return "modified" if self.date_shift_days else "full"

    def method_codes(self) -> list[tuple[str, str]]:
        """(code value, meaning) of PS3.16 CID 7050 for what was done."""
        codes = [_BASIC_PROFILE_CODE]
        if self.clean_graphics:
            codes.append(_CLEAN_GRAPHICS_CODE)
        if self.clean_structured_content:
            codes.append(_CLEAN_STRUCTURED_CONTENT_CODE)
        if self.temporal_option == "full":
            codes.append(_FULL_DATES_CODE)
        elif self.temporal_option == "modified":
            codes.append(_MODIFIED_DATES_CODE)
        return codes


# ---------------------------------------------------------------- values


def _values(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, MultiValue | list | tuple):
        return list(value)
    return [value]


def _shift_date(text: str, days: int) -> str | None:
    """``YYYYMMDD`` moved by ``days``; None when it is not a date."""
    digits = text.strip()
    if len(digits) != 8 or not digits.isdigit():
        return None
    try:
        moved = datetime.date(
            int(digits[:4]), int(digits[4:6]), int(digits[6:])
        ) + datetime.timedelta(days=days)
    except (ValueError, OverflowError):
        return None
    return f"{moved.year:04d}{moved.month:02d}{moved.day:02d}"


def _shift_temporal(vr: str, value: Any, days: int) -> list[str] | None:
    """Each value of a DA or DT moved by ``days`` (TM unchanged); None if any
    value cannot be read as a date."""
    shifted = []
    for item in _values(value):
        text = str(item).strip()
        if vr == "TM" or not days or not text:
            shifted.append(text)
            continue
        moved = _shift_date(text[:8], days)
        if moved is None:
            return None
        shifted.append(moved + text[8:])
    return shifted


def _is_removed_group(tag: int) -> bool:
    """Private groups, Curve Data (50xx) and Overlays (60xx), PS3.15 Table E.1-1."""
    group = tag >> 16
    if group % 2 == 1:
        return True
    return 0x5000 <= group <= 0x50FF or 0x6000 <= group <= 0x60FF


def _is_registered(value: str) -> bool:
    """True for a UID of the DICOM registry (PS3.6 Annex A): pydicom names it."""
    return UID(value).name != value


def _is_instance_uid(keyword: str, value: str) -> bool:
    """True where a UI value names an instance (replaced), not a kind of thing."""
    if keyword.endswith(_CLASS_UID_SUFFIXES) or keyword == "CodingSchemeUID":
        return False
    return not _is_registered(value)


class _Deidentifier:
    def __init__(
        self,
        context: DeidContext,
        identifiers: Mapping[str, str] | None = None,
        sop_class_uid: str = "",
    ) -> None:
        self.context = context
        self.identifiers = dict(identifiers or {})
        self.sop_instance_uid = ""
        self.sop_class_uid = sop_class_uid

    def copy_into(
        self, source: Dataset, target: Dataset, *, path: tuple[str, ...] = ()
    ) -> None:
        for element in source:
            result = self.element(element, path=path)
            if result is not None:
                target.add(result)

    def sequence(self, element: DataElement, path: tuple[str, ...]) -> DataElement:
        items = Sequence()
        inner = (*path, keyword_for_tag(element.tag) or str(element.tag))
        for item in element.value or ():
            cleaned = Dataset()
            self.copy_into(item, cleaned, path=inner)
            items.append(cleaned)
        return DataElement(element.tag, "SQ", items)

    def required(self, element: DataElement, path: tuple[str, ...]) -> str:
        """The attribute's type in the IOD here: ``"3"`` unless it must stay."""
        keyword = keyword_for_tag(element.tag)
        if not keyword or not self.sop_class_uid:
            return "3"
        return required_type(self.sop_class_uid, path, keyword)

    def stand_in(
        self, element: DataElement, kind: str, path: tuple[str, ...]
    ) -> DataElement:
        """What replaces an attribute the IOD requires (``kind`` 1 or 2, with or
        without C) where the profile would remove or empty it: PS3.15 E.1.1 lets
        the combined actions fall back to an empty value for Type 2 and to a dummy
        for Type 1, so that the de-identified object still conforms to its IOD.
        A required sequence keeps its items, each de-identified in turn."""
        if kind.startswith("2") or element.value in (None, ""):
            return _emptied(element)
        if element.VR == "SQ":
            return self.sequence(element, path)
        return _dummy(element, self.context)

    def element(
        self, element: DataElement, *, path: tuple[str, ...]
    ) -> DataElement | None:
        tag = int(element.tag)
        if _is_removed_group(tag) or element.tag.element == 0:
            return None
        entry = BASIC_PROFILE.get(tag)
        vr = element.VR
        if entry is None:
            return self.unlisted(element, path)
        if entry.temporal:
            kept = self.temporal(element)
            if kept is not None:
                return kept
        if "U*" in entry.basic and path and vr == "SQ":
            return self.sequence(element, path)
        if tag == _CONTENT_SEQUENCE and self.context.clean_structured_content:
            return self.sequence(element, path)
        if tag == _GRAPHIC_ANNOTATION_SEQUENCE and self.context.clean_graphics:
            return self.sequence(element, path)
        action = entry.action
        if action in ("X", "Z"):
            kind = self.required(element, path)
            if kind in REQUIRED_TYPES:
                return self.stand_in(element, kind, path)
        if action == "X":
            return None
        if action == "U":
            return self.uids(element, path)
        if action == "Z" or vr == "SQ":
            return _emptied(element)
        if action == "D":
            return _dummy(element, self.context)
        return self.kept(element)

    def kept(self, element: DataElement) -> DataElement:
        """A kept attribute, with any of the patient's identifiers taken out of
        its text: attributes the profile keeps (a sequence name, a protocol)
        sometimes hold the patient's name or ID, which PS3.15 E.1 asks not to
        leave in any attribute."""
        if element.VR not in _CLEANABLE_VRS or not self.identifiers:
            return copy.copy(element)
        values = [str(v) for v in _values(element.value)]
        cleaned = list(values)
        found: set[str] = set()
        for text, keyword in self.identifiers.items():
            for index, value in enumerate(cleaned):
                if text in value:
                    cleaned[index] = value.replace(text, "").strip()
                    found.add(keyword)
        if not found:
            return copy.copy(element)
        self.context.cleaned.append(
            f"{self.context.remap_uid(self.sop_instance_uid)}: "
            f"{keyword_for_tag(element.tag) or element.tag} held the "
            f"{', '.join(sorted(found))} of the patient: taken out"
        )
        new: Any = cleaned[0] if len(cleaned) == 1 else cleaned
        return DataElement(element.tag, element.VR, new or None)

    def temporal(self, element: DataElement) -> DataElement | None:
        """The element kept or shifted under Retain Longitudinal Temporal
        Information; None when dates are removed (or the value is unreadable)."""
        if not self.context.keep_dates or element.VR not in _TEMPORAL_VRS:
            return None
        if element.value in (None, ""):
            return copy.copy(element)
        shifted = _shift_temporal(
            element.VR, element.value, self.context.date_shift_days
        )
        if shifted is None:
            return None
        value: Any = shifted[0] if len(shifted) == 1 else shifted
        return DataElement(element.tag, element.VR, value)

    def uids(
        self,
        element: DataElement,
        path: tuple[str, ...],
        *,
        keep_registered: bool = False,
    ) -> DataElement:
        if element.VR == "SQ":
            return self.sequence(element, path)
        if element.VR != "UI":
            return _dummy(element, self.context)
        new = [
            str(v).strip().rstrip("\0")
            if keep_registered and _is_registered(str(v).strip().rstrip("\0"))
            else self.context.remap_uid(str(v))
            for v in _values(element.value)
        ]
        value: Any = new[0] if len(new) == 1 else new
        return DataElement(element.tag, "UI", value)

    def unlisted(
        self, element: DataElement, path: tuple[str, ...]
    ) -> DataElement | None:
        """An attribute Table E.1-1 does not name (see the module docstring)."""
        vr = element.VR
        tag = element.tag
        if not dictionary_has_tag(tag) and tag.group != 0x0002:
            return None  # unknown public attribute: what it holds cannot be known
        if vr == "SQ":
            return self.sequence(element, path)
        if vr in _TEMPORAL_VRS:
            kept = self.temporal(element)
            if kept is None:
                kind = self.required(element, path)
                if kind in REQUIRED_TYPES:
                    return self.stand_in(element, kind, path)
            return kept
        if vr == "UI":
            keyword = keyword_for_tag(tag)
            values = [str(v) for v in _values(element.value)]
            if any(_is_instance_uid(keyword, v.strip().rstrip("\0")) for v in values):
                return self.uids(element, path, keep_registered=True)
            return copy.copy(element)
        return self.kept(element)


def _emptied(element: DataElement) -> DataElement:
    if element.VR == "SQ":
        return DataElement(element.tag, "SQ", Sequence())
    return DataElement(element.tag, element.VR, None)


def _dummy(element: DataElement, context: DeidContext) -> DataElement:
    vr = element.VR
    if vr == "SQ":
        # A dummy item would be a made-up record; an empty sequence holds none.
        return DataElement(element.tag, "SQ", Sequence())
    if vr == "UI":
        new = [context.remap_uid(str(v)) for v in _values(element.value)]
        return DataElement(element.tag, "UI", new[0] if len(new) == 1 else new)
    if vr in _TEXT_VRS:
        return DataElement(element.tag, vr, _DUMMY_TEXT)
    if vr in _DUMMY_BY_VR:
        return DataElement(element.tag, vr, _DUMMY_BY_VR[vr])
    return DataElement(element.tag, vr, None)


def _code_item(value: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = "DCM"
    item.CodeMeaning = meaning
    return item


def _transfer_syntax(ds: Dataset) -> UID:
    meta = getattr(ds, "file_meta", None)
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    if syntax:
        return UID(str(syntax))
    implicit, little = getattr(ds, "original_encoding", (True, True))
    if implicit in (None, True):
        return ImplicitVRLittleEndian
    return ExplicitVRLittleEndian if little in (None, True) else ExplicitVRBigEndian


def _burned_in(ds: Dataset) -> str:
    return str(ds.get("BurnedInAnnotation", "") or "").strip().upper()


def _pseudonymise_patient(source: Dataset, out: Dataset, context: DeidContext) -> None:
    """Patient ID and Patient's Name: one keyed pseudonym for both (Z allows a
    dummy value), from the ID (or the name when there is none), so a patient's
    images stay together and the name shown is the ID used."""
    original = ""
    for keyword in ("PatientID", "PatientName"):
        original = str(source.get(keyword, "") or "").strip()
        if original:
            break
    pseudonym = context.pseudonym(original) if original else None
    for keyword in ("PatientID", "PatientName"):
        if keyword in out:
            setattr(out, keyword, pseudonym)


def _may_carry_text(ds: Dataset) -> bool:
    """Kinds of image that often show text in their pixels (ultrasound, screen
    captures and other secondary captures, PS3.3 A.8)."""
    modality = str(ds.get("Modality", "") or "").strip().upper()
    return modality in _TEXT_PRONE_MODALITIES or "ConversionType" in ds


def deidentify(
    ds: Dataset, context: DeidContext, *, pixels_cleaned: bool = False
) -> Dataset:
    """A de-identified copy of ``ds`` (``ds`` is left as it is).

    Applies :data:`BASIC_PROFILE` to every attribute, recursively into
    sequences, removes private, curve and overlay groups, replaces UIDs through
    ``context`` (consistently across the case), and records what was done in
    Patient Identity Removed, De-identification Method and its Code Sequence,
    and Longitudinal Temporal Information Modified. Pixel data are copied
    unchanged, so it is the caller's task not to export images with burned-in
    text.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        A dataset as read from a file (its file meta, if any, is used for the
        transfer syntax).
    context : DeidContext
        The case's key, options and UID map.
    pixels_cleaned : bool
        The caller blacks out the text in the pixels of the result before it
        leaves (Clean Pixel Data Option, PS3.15 E.3.1;
        :func:`~imaging_viewer.core.exchange.burned_in_text.clean_pixel_data`,
        which sets Burned In Annotation to NO): an image whose Burned In
        Annotation is YES is then de-identified, not refused, and not flagged.

    Returns
    -------
    pydicom.dataset.Dataset
        A new dataset with new file meta information (Media Storage SOP
        Instance UID replaced), ready for :func:`write_dataset`.

    Raises
    ------
    BurnedInAnnotationError
        When Burned In Annotation (0028,0301) is YES, and neither
        ``context.accept_burned_in`` nor ``pixels_cleaned`` is set.

    References
    ----------
    PS3.15 E.1 and Table E.1-1; E.3.6; PS3.3 C.7.1.1 (Patient Identity Removed,
    De-identification Method Code Sequence); PS3.16 CID 7050; PS3.3 C.7.6.1.1.7
    (Burned In Annotation).
    """
    sop_uid = str(ds.get("SOPInstanceUID", "") or "")
    if pixels_cleaned:
        pass  # the caller cleans the pixels (or refuses the image) and says so
    elif _burned_in(ds) == "YES":
        message = (
            "Burned In Annotation is YES: its pixels may show patient data that "
            "header de-identification cannot remove"
        )
        if not context.accept_burned_in:
            raise BurnedInAnnotationError(message)
        context.flagged.append(f"{context.remap_uid(sop_uid)}: {message}")
    elif _burned_in(ds) != "NO" and _may_carry_text(ds):
        context.flagged.append(
            f"{context.remap_uid(sop_uid)}: Burned In Annotation is not stated and "
            f"this is a {ds.get('Modality', '') or 'secondary capture'} image, "
            "which often has text in its pixels: check it before sharing"
        )
    out = Dataset()
    with warnings.catch_warnings():
        # Invalid values in old headers are common; each would warn again here.
        warnings.simplefilter("ignore")
        deidentifier = _Deidentifier(
            context,
            source_identifiers(ds, patient=True),
            str(ds.get("SOPClassUID", "") or ""),
        )
        deidentifier.sop_instance_uid = sop_uid
        deidentifier.copy_into(ds, out)
    _pseudonymise_patient(ds, out, context)
    if not out.get("SOPInstanceUID"):
        # A file without its own UID still needs one to be stored (PS3.10 7.1):
        # a stable one, from its pixels, else a new one.
        pixels = ds.get("PixelData")
        anchor = (
            hashlib.sha256(pixels).hexdigest()
            if isinstance(pixels, bytes)
            else uuid.uuid4().hex
        )
        out.SOPInstanceUID = context.remap_uid(f"no SOP Instance UID:{anchor}")
    out.PatientIdentityRemoved = "YES"
    codes = context.method_codes()
    out.DeidentificationMethod = [meaning for _, meaning in codes]
    out.DeidentificationMethodCodeSequence = Sequence(
        [_code_item(value, meaning) for value, meaning in codes]
    )
    out.LongitudinalTemporalInformationModified = {
        "removed": "REMOVED",
        "full": "UNMODIFIED",
        "modified": "MODIFIED",
    }[context.temporal_option]

    meta = FileMetaDataset()
    source_meta = getattr(ds, "file_meta", None)
    sop_class = out.get("SOPClassUID") or (
        source_meta.get("MediaStorageSOPClassUID") if source_meta else None
    )
    if sop_class:
        meta.MediaStorageSOPClassUID = sop_class
    if "SOPInstanceUID" in out:
        meta.MediaStorageSOPInstanceUID = out.SOPInstanceUID
    meta.TransferSyntaxUID = _transfer_syntax(ds)
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    out.file_meta = meta
    out.preamble = b"\0" * 128
    return out


# ----------------------------------------------------------------- files


def read_dataset(path: str | os.PathLike[str]) -> Dataset:
    """A whole DICOM file (pixels included) for export.

    Raises
    ------
    OSError
        When the file cannot be read.
    pydicom.errors.InvalidDicomError
        When it is not DICOM.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(os.fspath(path), force=True)


def dataset_bytes(ds: Dataset) -> bytes:
    """``ds`` encoded as a DICOM file (PS3.10), in its file meta's transfer syntax."""
    buffer = BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def write_dataset(ds: Dataset, path: str | os.PathLike[str]) -> Path:
    """Write ``ds`` as a DICOM file, atomically (temporary file, then rename).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    return write_bytes_atomic(path, dataset_bytes(ds))


# Attributes whose values must not appear anywhere in a de-identified export:
# names, IDs, dates, places and the original instance UIDs.
_IDENTIFIERS: Final = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "OtherPatientIDs",
    "OtherPatientNames",
    "PatientAddress",
    "PatientTelephoneNumbers",
    "AccessionNumber",
    "InstitutionName",
    "InstitutionAddress",
    "ReferringPhysicianName",
    "PerformingPhysicianName",
    "OperatorsName",
    "StationName",
    "DeviceSerialNumber",
    "StudyDate",
    "SeriesDate",
    "AcquisitionDate",
    "ContentDate",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "SOPInstanceUID",
    "FrameOfReferenceUID",
)


_PATIENT_IDENTIFIERS: Final = _IDENTIFIERS[:5]
# Values de-identification itself writes (dummies, Longitudinal Temporal
# Information Modified): a source holding one as a placeholder leaks nothing.
_WRITTEN_PLACEHOLDERS: Final = frozenset(
    {str(v) for v in _DUMMY_BY_VR.values() if isinstance(v, str)}
    | {_DUMMY_TEXT, "REMOVED", "MODIFIED", "UNMODIFIED", "ANONYMOUS"}
)


def source_identifiers(ds: Dataset, *, patient: bool = False) -> dict[str, str]:
    """Identifying text of a source dataset, value -> keyword, to scan exports for.

    Patient names and IDs, dates, institution, staff and device names, and the
    study, series, instance and frame of reference UIDs (top level). Values
    shorter than 6 characters, or 8 for digits (dates, numeric IDs), are left
    out: they turn up by chance in pixel data and new UIDs; so are values of
    one repeated character. With ``patient``,
    only the patient's names and IDs.
    """
    found: dict[str, str] = {}
    for keyword in _PATIENT_IDENTIFIERS if patient else _IDENTIFIERS:
        element = ds.get(keyword)
        if element is None:
            continue
        for value in _values(element):
            text = str(value).strip().strip("\0").strip()
            digits = text.replace(".", "").replace("-", "").isdigit()
            # A value of one repeated character ("000000000") or a dummy
            # this module writes itself (19000101) identifies no one.
            if (
                len(set(text)) > 1
                and text.upper() not in _WRITTEN_PLACEHOLDERS
                and len(text) >= (8 if digits else 6)
            ):
                found[text] = keyword
    return found


def leak_check_values(ds: Dataset) -> dict[str, str]:
    """:func:`source_identifiers` to look for in what is exported from ``ds``.

    Leaves out the values that an attribute the profile keeps also holds (an
    institution named like the manufacturer, "TOSHIBA" in "TOSHIBA_MEC"):
    finding them says nothing. The patient's names and IDs always stay:
    :func:`deidentify` takes them out of kept attributes.
    """
    kept = "\n".join(
        str(element.value)
        for element in ds
        if not element.tag.is_private
        and element.VR in _CLEANABLE_VRS
        and int(element.tag) not in BASIC_PROFILE
        and element.value is not None
    )
    return {
        value: keyword
        for value, keyword in source_identifiers(ds).items()
        if keyword in _PATIENT_IDENTIFIERS or value not in kept
    }
