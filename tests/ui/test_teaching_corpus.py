"""Teaching export of every series of the corpus: no patient data in any byte.

One de-identified case per series of ../shared/dicom (and of sample_data/), with
up to KEY_IMAGES_PER_SERIES of its files (first, last and evenly between) as key
images and a marker on the first, so that every kind of output is written:
annotated and clean PNGs, de-identified DICOM, the SR and presentation state,
``annotations.json`` and the case sheet. Every value of an attribute the PS3.15
Basic Profile removes or replaces, in any source file of the case, is looked for
in every file written (PNG metadata chunks included), independently of the
exporter's own check. (Every image file's de-identified DICOM is checked the
same way in tests/core/exchange/test_deidentify.py; exporting all 909 files as
key images takes minutes, for no other kind of output.)
"""

from __future__ import annotations

import re
import struct
import warnings
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pydicom
import pytest

from imaging_viewer.core.annotations.model import AnnotationSet, Lesion, PointMarker
from imaging_viewer.core.dicom.scan import scan_folder
from imaging_viewer.core.teaching.case import TeachingCase
from imaging_viewer.core.teaching.export import TeachingExportError
from imaging_viewer.ui.teaching_export import export_teaching_case
from tests.core.exchange.test_deidentify import _elements, _removed_or_replaced, _texts

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from pydicom.dataset import Dataset
    from pytestqt.qtbot import QtBot

    from imaging_viewer.core.dicom.scan import ScanResult
    from imaging_viewer.core.dicom.series import SeriesInfo


KEY_IMAGES_PER_SERIES = 6
# Placeholders that removed attributes and defined terms share: not patient data.
# and values de-identification writes itself (dummy dates, REMOVED).
_PLACEHOLDERS = frozenset(
    {"NONE", "UNKNOWN", "NULL", "N/A", "ANON", "ANONYMOUS", "REMOVED", "19000101"}
)
_NUMBER = re.compile(r"[-+0-9. ]+")


def identifying_values(datasets: Iterable[Dataset]) -> set[str]:
    """Text values the profile removes or replaces in any of ``datasets`` that
    no kept attribute of any of them holds."""
    identifying: set[str] = set()
    kept: list[str] = []
    for ds in datasets:
        for element in _elements(ds):
            if element.VR == "SQ":
                continue
            if _removed_or_replaced(int(element.tag)):
                # Code strings ("PIXEL", "ORIGINAL") are defined terms, not data.
                if element.VR == "CS":
                    continue
                identifying.update(_texts(element))
            else:
                kept.extend(_texts(element))
    kept_text = "\n".join(kept)
    # Trivial values (a sex, "1") and values non-identifying attributes hold
    # too (a position, a code meaning) say nothing about the patient. A short
    # number ("9999", a weight) occurs by chance in new UIDs and coordinates;
    # dates (8 digits) and UIDs are long enough to be looked for.
    return {
        v
        for v in identifying
        if len(v) >= (8 if _NUMBER.fullmatch(v) else 4)
        and v.upper() not in _PLACEHOLDERS
        and len(set(v)) > 1  # one repeated character: "000000000"
        and v not in kept_text
    }


def png_metadata(data: bytes) -> bytes:
    """Every chunk of a PNG but its pixel data (text, EXIF, ICC, ...)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks: list[bytes] = []
    offset = 8
    while offset + 8 <= len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        if kind != b"IDAT":
            chunks.append(data[offset + 4 : offset + 8 + length])
        offset += 12 + length
    return b"".join(chunks)


def searchable_bytes(path: Path) -> bytes:
    """What can carry text in a file written: a PNG's chunks but its
    compressed pixels (where any short byte run occurs by chance), a DICOM
    file's bytes but its pixel data (copied unchanged from the source), and
    every byte of the others."""
    data = path.read_bytes()
    if path.suffix == ".png":
        return png_metadata(data)
    if path.suffix == ".dcm":
        pixels = pydicom.dcmread(path).get("PixelData")
        if isinstance(pixels, bytes) and len(pixels) > 64:
            return data.replace(pixels, b"")
    return data


def marker_on_first_image(info: SeriesInfo, sop_instance_uid: str) -> AnnotationSet:
    centre = np.asarray(info.ijk_to_lps) @ [
        (info.shape_kji[2] - 1) / 2,
        (info.shape_kji[1] - 1) / 2,
        0.0,
        1.0,
    ]
    affine = np.asarray(info.ijk_to_lps)
    normal = np.cross(affine[:3, 0], affine[:3, 1])
    lesion = Lesion(label="teaching lesion", site="test site")
    marker = PointMarker(
        lesion_id=lesion.id,
        position_lps=(float(centre[0]), float(centre[1]), float(centre[2])),
        frame_of_reference_uid=info.frame_of_reference_uid,
        referenced_sop_instance_uid=sop_instance_uid,
        plane_normal_lps=tuple(float(v) for v in normal / np.linalg.norm(normal)),
    )
    return AnnotationSet([Lesion(**_fields(lesion), annotations=(marker,))])


def _fields(lesion: Lesion) -> dict[str, object]:
    return {name: getattr(lesion, name) for name in ("id", *Lesion.EDITABLE_FIELDS)}


def export_every_series(
    scan: ScanResult, tmp_path: Path
) -> tuple[int, int, int, list[str], list[str]]:
    """(files exported, outputs scanned, values checked, leaks, refused series)."""
    exported = scanned = checked = 0
    leaks: list[str] = []
    refused: list[str] = []
    for number, info in enumerate(scan.series):
        paths = list(
            dict.fromkeys(frame.path for volume in info.frames for frame in volume)
        )
        if len(paths) > KEY_IMAGES_PER_SERIES:
            chosen = np.linspace(0, len(paths) - 1, KEY_IMAGES_PER_SERIES)
            paths = [paths[round(i)] for i in chosen]
        sources = {
            path: pydicom.dcmread(path, stop_before_pixels=True) for path in paths
        }
        uids = [str(ds.SOPInstanceUID) for ds in sources.values()]
        values = identifying_values(sources.values())
        case_dir = tmp_path / f"case{number}"
        try:
            result = export_teaching_case(
                replace(scan, series=[info]),
                marker_on_first_image(info, uids[0]),
                TeachingCase(title=f"case {number}", history="history"),
                case_dir,
                key_images=uids,
                case_key="corpus test",
            )
        except TeachingExportError as error:
            # Only images the profile cannot clean (burned-in annotation) are
            # refused; the exporter says why.
            refused.append(f"{info.id}: {error}")
            continue
        exported += len(sources)
        for path in result.files:
            scanned += 1
            haystack = searchable_bytes(path)
            for value in values:
                checked += 1
                for needle in {value.encode(), value.encode("latin-1", "ignore")}:
                    if needle and needle in haystack:
                        leaks.append(f"{info.id}: {path.name} holds {value!r}")
    return exported, scanned, checked, leaks, refused


@pytest.mark.parametrize("where", ["corpus", "sample_data"])
def test_teaching_export_of_every_image_leaks_nothing(
    where: str, request: pytest.FixtureRequest, qtbot: QtBot, tmp_path: Path
) -> None:
    root: Path = request.getfixturevalue(where)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scan = scan_folder(root)
        exported, scanned, checked, leaks, refused = export_every_series(scan, tmp_path)
    assert not leaks, "\n".join(leaks[:20])
    files = sum(
        min(
            KEY_IMAGES_PER_SERIES,
            len({frame.path for volume in info.frames for frame in volume}),
        )
        for info in scan.series
    )
    assert all("burned" in reason.lower() for reason in refused), refused
    assert exported >= 0.95 * files
    assert scanned > 4 * len(scan.series)
    assert checked > 1000
