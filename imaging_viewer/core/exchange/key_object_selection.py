"""Key Object Selection documents: the images the reader marked as key.

A Key Object Selection document (PS3.3 A.35.4) lists the key images of a study
under a coded title (PS3.16 TID 2010, CID 7010): "Of Interest" (DCM 113000)
for reading, "For Teaching" (DCM 113004) for a teaching case. Written with
highdicom; read back with :func:`read_key_object_selection`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import highdicom as hd
from pydicom.sr.coding import Code

from imaging_viewer import __version__
from imaging_viewer.core.exchange.structured_report import (
    quiet_highdicom,
    with_patient_and_study,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from pydicom.dataset import Dataset

    from imaging_viewer.core.annotations.key_image_marks import KeyImageMark

__all__ = [
    "FOR_TEACHING",
    "KO_FILE_NAME",
    "OF_INTEREST",
    "KeyObjectReference",
    "export_key_object_selection",
    "read_key_object_selection",
]

KO_FILE_NAME: Final = "key_images_ko.dcm"
OF_INTEREST: Final = Code("113000", "DCM", "Of Interest")
"""Document title for key images marked while reading (CID 7010)."""
FOR_TEACHING: Final = Code("113004", "DCM", "For Teaching")
"""Document title of a teaching case's key images (CID 7010)."""
_KEY_OBJECT_SELECTION_SOP_CLASS: Final = "1.2.840.10008.5.1.4.1.1.88.59"


@dataclass(frozen=True)
class KeyObjectReference:
    """One image a Key Object Selection document names."""

    sop_class_uid: str
    sop_instance_uid: str
    frames: tuple[int, ...] = ()
    """Referenced Frame Numbers (1-based), empty for the whole image."""


def export_key_object_selection(
    marks: Sequence[KeyImageMark],
    sources: Mapping[str, Dataset],
    *,
    title: Code = OF_INTEREST,
    description: str = "",
    series_number: int = 9903,
    manufacturer: str = "imaging_viewer",
) -> tuple[Dataset, list[str]]:
    """A Key Object Selection document of the marked images.

    Parameters
    ----------
    marks : sequence of KeyImageMark
        The key images, in order; a frame of a multi-frame image is written as
        its Referenced Frame Number (PS3.3 C.17.3.2.1).
    sources : mapping of str to Dataset
        Image headers by SOP Instance UID (patient, study and SOP class come
        from them); marks of images not among them are left out with a warning.
    title : pydicom Code
        :data:`OF_INTEREST` or :data:`FOR_TEACHING` (CID 7010).
    description : str
        Key Object Description (DCM 113012), optional.

    Returns
    -------
    (pydicom Dataset, list of str)
        The document, and a line for each mark left out.

    Raises
    ------
    ValueError
        When no marked image is among ``sources``.

    References
    ----------
    PS3.3 A.35.4 Key Object Selection Document IOD; PS3.16 TID 2010.
    """
    warnings: list[str] = []
    frames: dict[str, list[int]] = {}
    for mark in marks:
        if mark.sop_instance_uid not in sources:
            warnings.append(
                f"key image {mark.sop_instance_uid} is not among the exported images"
            )
            continue
        wanted = frames.setdefault(mark.sop_instance_uid, [])
        if mark.frame is not None and mark.frame not in wanted:
            wanted.append(mark.frame)
    if not frames:
        raise ValueError("no marked key image is among the exported images")
    referenced = [sources[uid] for uid in frames]
    evidence = with_patient_and_study(referenced)
    content = hd.ko.KeyObjectSelection(
        document_title=title,
        referenced_objects=evidence,
        description=description or None,
    )
    with quiet_highdicom():
        document = hd.ko.KeyObjectSelectionDocument(
            evidence=evidence,
            content=content,
            series_instance_uid=hd.UID(),
            series_number=series_number,
            sop_instance_uid=hd.UID(),
            instance_number=1,
            manufacturer=manufacturer,
        )
    document.SoftwareVersions = __version__
    for item in document.ContentSequence:
        if item.ValueType != "IMAGE":
            continue
        reference = item.ReferencedSOPSequence[0]
        numbers = frames.get(str(reference.ReferencedSOPInstanceUID), [])
        if numbers:
            reference.ReferencedFrameNumber = (
                numbers if len(numbers) > 1 else numbers[0]
            )
    return document, warnings


def read_key_object_selection(dataset: Dataset) -> list[KeyObjectReference]:
    """The images a Key Object Selection document names, in order.

    Raises
    ------
    ValueError
        When ``dataset`` is not a Key Object Selection document.
    """
    if str(dataset.get("SOPClassUID", "")) != _KEY_OBJECT_SELECTION_SOP_CLASS:
        raise ValueError("not a Key Object Selection document")
    references = []
    for item in dataset.get("ContentSequence", []):
        if item.get("ValueType") not in ("IMAGE", "COMPOSITE"):
            continue
        for reference in item.get("ReferencedSOPSequence", []):
            numbers = reference.get("ReferencedFrameNumber")
            if numbers is None:
                frames: tuple[int, ...] = ()
            elif isinstance(numbers, int | str):
                frames = (int(numbers),)
            else:
                frames = tuple(int(n) for n in numbers)
            references.append(
                KeyObjectReference(
                    sop_class_uid=str(reference.ReferencedSOPClassUID),
                    sop_instance_uid=str(reference.ReferencedSOPInstanceUID),
                    frames=frames,
                )
            )
    return references
