"""Our GSPS as dcmtk's presentation-state checker (dcmpschk) and dciodvfy see it,
on a real CT, MR (enhanced multi-frame) and radiograph: one VOI window per
referenced image, arrows with heads, and a round trip through our import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pydicom
import pytest

from imaging_viewer.core.exchange.presentation_state import (
    PRIVATE_GROUP,
    export_presentation_state,
    import_presentation_state,
)
from tests.core.exchange.test_structured_report import (
    ENHANCED_MR,
    OnImage,
    assert_same_annotations,
    every_kind_set,
    pixel_to_lps_of,
    projection,
    read_headers,
)
from tests.interop.reference_tools import dciodvfy_errors, dcmpschk

if TYPE_CHECKING:
    from pathlib import Path

    from pydicom.dataset import Dataset

GSPS_TOLERANCE_MM = 1e-3


def images_of(
    kind: str, corpus: Path, sample_data: Path, tmp_path: Path
) -> tuple[dict[str, Dataset], list[OnImage]]:
    if kind == "CT":
        paths = sorted((sample_data / "CT").iterdir(), key=lambda p: int(p.name[1:]))
        sources = read_headers(paths[:8])
        datasets = list(sources.values())
        return sources, [OnImage(ds, pixel_to_lps_of(ds)) for ds in datasets[2:4]]
    if kind == "MR":
        sources = read_headers([corpus / ENHANCED_MR])
        (ds,) = sources.values()
        return sources, [OnImage(ds, pixel_to_lps_of(ds, f), f) for f in (2, 5)]
    volume, ds = projection(sample_data, tmp_path, "RG2_JPLL.dcm")
    # The viewer's own placement of the radiograph is what its annotations use.
    return {str(ds.SOPInstanceUID): ds}, [
        OnImage(ds, volume.ijk_to_lps, frame_of_reference_uid="")
    ]


@pytest.mark.parametrize("kind", ["CT", "MR", "XR"])
def test_gsps_validates_and_round_trips(
    corpus: Path, sample_data: Path, tmp_path: Path, kind: str
) -> None:
    sources, images = images_of(kind, corpus, sample_data, tmp_path)
    original = every_kind_set(images)
    result = export_presentation_state(original, sources, series_number=902)
    path = tmp_path / "pr.dcm"
    result.dataset.save_as(path, enforce_file_format=True)
    assert dciodvfy_errors(path) == []
    dcmpschk(path)

    ds = pydicom.dcmread(path)
    # PS3.3 C.11.8: one window per VOI item, each item naming its images.
    for item in ds.SoftcopyVOILUTSequence:
        assert pydicom.multival.MultiValue not in {
            type(item.WindowCenter),
            type(item.WindowWidth),
        }
    imported = import_presentation_state(ds, sources).annotation_set
    assert_same_annotations(original, imported, GSPS_TOLERANCE_MM)
    again = export_presentation_state(imported, sources, series_number=902)
    again.dataset.save_as(tmp_path / "again.dcm", enforce_file_format=True)
    rewritten = pydicom.dcmread(tmp_path / "again.dcm")
    for name in ("GraphicAnnotationSequence", "SoftcopyVOILUTSequence"):
        assert rewritten[name].value == ds[name].value, name


def test_arrow_has_a_head_that_foreign_readers_see(
    sample_data: Path, tmp_path: Path
) -> None:
    sources, images = images_of("CT", sample_data, sample_data, tmp_path)
    original = every_kind_set(images)
    ds = export_presentation_state(original, sources, series_number=902).dataset
    arrow_group = next(
        int(group.GraphicGroupID)
        for group in ds.GraphicGroupSequence
        if str(group.GraphicGroupLabel).endswith(": arrow")
    )
    shaft, head = [
        graphic
        for item in ds.GraphicAnnotationSequence
        for graphic in item.get("GraphicObjectSequence") or []
        if int(graphic.GraphicGroupID) == arrow_group
    ]
    assert (shaft.NumberOfGraphicPoints, head.NumberOfGraphicPoints) == (2, 3)
    # The head's middle point is the tip (the shaft's first point).
    assert list(head.GraphicData[2:4]) == list(shaft.GraphicData[:2])
    # Read as another program's GSPS (no private record): still one arrow.
    del ds[PRIVATE_GROUP << 16 | 0x0010]
    del ds[PRIVATE_GROUP << 16 | 0x1001]
    imported = import_presentation_state(ds, sources).annotation_set
    kinds = sorted(a.kind for a in imported.annotations())
    assert kinds.count("arrow") == 1
    assert "angle" in kinds  # the angle lesion's, not a head
    assert kinds.count("angle") == 1
