"""Presentation contexts for C-STORE as DICOM intends (PS3.7 Annex D.3.3.4, PS3.8
9.3.2.2): the requestor proposes one context per (SOP class, transfer syntax)
pair, so that the SCP accepts or refuses each syntax on its own, plus the
uncompressed fallbacks (Explicit and Implicit VR Little Endian, PS3.5 10.1 and
A.1, which every SCP supports) a file is decompressed to when the SCP refuses its
own syntax. An association carries at most 128 contexts (PS3.8 9.3.2.2, odd
context IDs 1 to 255): more are split into several associations, by SOP class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from pydicom.dataset import Dataset

__all__ = [
    "DECODABLE_SYNTAXES",
    "FALLBACK_SYNTAXES",
    "MAX_CONTEXTS",
    "Recoding",
    "association_batches",
    "choose_syntax",
    "recode",
    "retrieve_contexts",
    "syntax_name",
]

MAX_CONTEXTS: Final = 128
"""Presentation contexts in one association (PS3.8 9.3.2.2: IDs 1, 3 … 255)."""

FALLBACK_SYNTAXES: Final = (ExplicitVRLittleEndian, ImplicitVRLittleEndian)
"""The uncompressed syntaxes proposed for every SOP class (PS3.5 A.1, A.2)."""

_SHORT_NAMES: Final = {
    ImplicitVRLittleEndian: "Implicit VR Little Endian",
    ExplicitVRLittleEndian: "Explicit VR Little Endian",
    ExplicitVRBigEndian: "Explicit VR Big Endian",
    DeflatedExplicitVRLittleEndian: "Deflated Explicit VR Little Endian",
    "1.2.840.10008.1.2.4.50": "JPEG Baseline",
    "1.2.840.10008.1.2.4.51": "JPEG Extended",
    "1.2.840.10008.1.2.4.57": "JPEG Lossless",
    "1.2.840.10008.1.2.4.70": "JPEG Lossless",
    "1.2.840.10008.1.2.4.80": "JPEG-LS Lossless",
    "1.2.840.10008.1.2.4.81": "JPEG-LS Near-Lossless",
    "1.2.840.10008.1.2.4.90": "JPEG 2000 Lossless",
    "1.2.840.10008.1.2.4.91": "JPEG 2000",
    "1.2.840.10008.1.2.5": "RLE Lossless",
}


def syntax_name(syntax: str) -> str:
    """A transfer syntax as a person reads it: ``JPEG Lossless``, ``JPEG 2000``."""
    return _SHORT_NAMES.get(syntax) or UID(syntax).name or syntax


def _contexts_of(syntaxes: Iterable[str]) -> list[str]:
    """One SOP class's syntaxes to propose: its files' own, then the fallbacks."""
    own = sorted(set(syntaxes) - set(FALLBACK_SYNTAXES))
    return own + list(FALLBACK_SYNTAXES)


def association_batches(
    pairs: Iterable[tuple[str, str]], limit: int = MAX_CONTEXTS
) -> list[dict[str, list[str]]]:
    """The contexts to propose, as ``{SOP class: [transfer syntaxes]}`` per
    association: each pair of ``pairs`` (SOP class, its file's syntax) and the
    fallbacks of each SOP class, a SOP class never split, each association
    within ``limit`` contexts (first fit, in the order the SOP classes come)."""
    by_class: dict[str, set[str]] = {}
    for sop_class, syntax in pairs:
        by_class.setdefault(sop_class, set()).add(syntax)
    batches: list[dict[str, list[str]]] = []
    sizes: list[int] = []
    for sop_class, syntaxes in by_class.items():
        wanted = _contexts_of(syntaxes)[:limit]
        for index, size in enumerate(sizes):
            if size + len(wanted) <= limit:
                batches[index][sop_class] = wanted
                sizes[index] += len(wanted)
                break
        else:
            batches.append({sop_class: wanted})
            sizes.append(len(wanted))
    return batches


def choose_syntax(
    sop_class: str, syntax: str, accepted: set[tuple[str, str]]
) -> str | None:
    """The syntax to send a file in: its own when the SCP accepted it for this
    SOP class, else an accepted uncompressed fallback, else None (refused)."""
    if (sop_class, syntax) in accepted:
        return syntax
    for fallback in FALLBACK_SYNTAXES:
        if (sop_class, fallback) in accepted:
            return fallback
    return None


@dataclass(frozen=True)
class Recoding:
    """How a file was sent: ``message`` says it for the send report."""

    syntax: str
    message: str


def recode(dataset: Dataset, target: str) -> Recoding:
    """Put ``dataset`` (read from a file) in the transfer syntax ``target`` and
    say what was done. Compressed pixel data are decoded (pydicom with
    pylibjpeg / pyjpegls, PS3.5 8.2); Big Endian pixel data are byte-swapped
    (PS3.5 A.3). The SOP Instance UID stays: a transfer syntax is an encoding of
    the same instance (PS3.5 10). Raises on pixel data that cannot be decoded."""
    source = UID(str(dataset.file_meta.TransferSyntaxUID))
    if source == target:
        if source.is_compressed:
            return Recoding(target, f"stored, sent as {syntax_name(source)}")
        return Recoding(target, "stored")
    refused = f"the PACS does not accept {syntax_name(source)}"
    if source.is_compressed:
        dataset.decompress(generate_instance_uid=False)
        verb = "decompressed"
    elif source.is_little_endian:
        # Between the uncompressed Little Endian syntaxes only the encoding of
        # the header changes (pynetdicom does it): nothing worth a word.
        return Recoding(target, "stored")
    else:
        _swap_to_little_endian(dataset)
        dataset.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        verb = "converted to Little Endian"
    # Now in Explicit VR Little Endian: pynetdicom encodes it in the accepted
    # uncompressed syntax.
    return Recoding(target, f"stored, {verb}: {refused}")


def _swap_to_little_endian(dataset: Dataset) -> None:
    """Big Endian native pixel data rewritten in Little Endian byte order."""
    if "PixelData" not in dataset:
        return
    pixels = dataset.pixel_array
    dataset.PixelData = pixels.astype(pixels.dtype.newbyteorder("<")).tobytes()
    if pixels.dtype.itemsize > 1:
        dataset["PixelData"].VR = "OW"
    dataset.set_original_encoding(False, True)


DECODABLE_SYNTAXES: Final = (
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    UID("1.2.840.10008.1.2.4.50"),  # JPEG Baseline
    UID("1.2.840.10008.1.2.4.51"),  # JPEG Extended
    UID("1.2.840.10008.1.2.4.57"),  # JPEG Lossless
    UID("1.2.840.10008.1.2.4.70"),  # JPEG Lossless, first-order prediction
    UID("1.2.840.10008.1.2.4.80"),  # JPEG-LS Lossless
    UID("1.2.840.10008.1.2.4.81"),  # JPEG-LS Near-Lossless
    UID("1.2.840.10008.1.2.4.90"),  # JPEG 2000 Lossless
    UID("1.2.840.10008.1.2.4.91"),  # JPEG 2000
    UID("1.2.840.10008.1.2.4.201"),  # HTJ2K Lossless
    UID("1.2.840.10008.1.2.4.202"),  # HTJ2K Lossless RPCL
    UID("1.2.840.10008.1.2.4.203"),  # HTJ2K
    UID("1.2.840.10008.1.2.5"),  # RLE Lossless
)
"""The transfer syntaxes whose pixel data we decode (pydicom with pylibjpeg,
pylibjpeg-openjpeg and pyjpegls): what a retrieve accepts, each on its own."""


def retrieve_contexts(
    known: Iterable[str],
    others: Iterable[str],
    all_syntaxes: list[str],
    limit: int = MAX_CONTEXTS - 1,
) -> list[tuple[str, list[str]]]:
    """Storage contexts for the SCP role of a C-GET (PS3.4 C.4.3.1, PS3.7
    D.3.3.4): the SOP classes ``known`` to come (those of the study) get one
    context per decodable syntax, so that the archive sends each file in the
    syntax it keeps; the ``others`` then one context each with ``all_syntaxes``
    (the archive chooses one), as many as fit in ``limit`` contexts."""
    contexts: list[tuple[str, list[str]]] = []
    proposed: set[str] = set()
    per_syntax = len(DECODABLE_SYNTAXES)
    for sop_class in dict.fromkeys(known):
        if len(contexts) + per_syntax > limit:
            break
        contexts += [(sop_class, [syntax]) for syntax in DECODABLE_SYNTAXES]
        proposed.add(sop_class)
    for sop_class in dict.fromkeys([*known, *others]):
        if len(contexts) >= limit:
            break
        if sop_class not in proposed:
            contexts.append((sop_class, list(all_syntaxes)))
            proposed.add(sop_class)
    return contexts
