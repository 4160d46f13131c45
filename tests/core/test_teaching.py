"""Teaching cases (core): key images, measurements, UID remapping, the case sheet."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np
import pydicom
import pytest

from imaging_viewer.core.annotations.measure import Measurement
from imaging_viewer.core.annotations.model import (
    Angle,
    AnnotationSet,
    Bidirectional,
    Lesion,
    PointMarker,
    Ruler,
)
from imaging_viewer.core.dicom.scan import scan_folder
from imaging_viewer.core.teaching.case import TeachingCase
from imaging_viewer.core.teaching.case_sheet import (
    CASE_SCHEMA,
    KeyImage,
    build_case_sheet,
    case_json_text,
    write_text_atomic,
)
from imaging_viewer.core.teaching.export import remap_annotations
from imaging_viewer.core.teaching.key_images import select_key_images
from imaging_viewer.core.teaching.measurements import measure_annotations

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import MakeSeries

AXIAL = (0.0, 0.0, 1.0)


def make_set() -> AnnotationSet:
    first = Lesion(
        label="Lesion 1",
        site="left distal femur | metaphysis",
        finding="mixed lytic-sclerotic lesion",
        diagnosis="osteosarcoma",
    )
    ruler = Ruler(
        lesion_id=first.id,
        start_lps=(0.0, 0.0, 0.0),
        end_lps=(30.0, 40.0, 0.0),
        plane_normal_lps=AXIAL,
    )
    axes = Bidirectional(
        lesion_id=first.id,
        long_start_lps=(0.0, 0.0, 0.0),
        long_end_lps=(60.0, 0.0, 0.0),
        short_start_lps=(30.0, -21.0, 0.0),
        short_end_lps=(30.0, 21.0, 0.0),
        plane_normal_lps=AXIAL,
    )
    second = Lesion(label="Skip", site="femur, diaphysis")
    angle = Angle(
        lesion_id=second.id,
        first_lps=(10.0, 0.0, 5.0),
        vertex_lps=(0.0, 0.0, 5.0),
        second_lps=(0.0, 10.0, 5.0),
        plane_normal_lps=AXIAL,
    )
    return AnnotationSet(
        [
            Lesion(**{**_fields(first), "annotations": (ruler, axes)}),
            Lesion(**{**_fields(second), "annotations": (angle,)}),
        ]
    )


def _fields(lesion: Lesion) -> dict[str, object]:
    return {
        name: getattr(lesion, name)
        for name in ("id", "label", "site", "finding", "diagnosis", "tracking_uid")
    }


CASE = TeachingCase(
    title="Osteosarcoma of the distal femur",
    history="14-year-old with knee pain for 3 months.",
    findings="Aggressive metaphyseal lesion with a soft-tissue mass.",
    diagnosis="Conventional osteosarcoma",
    discussion="Skip lesions change staging.",
    references=("Murphey MD et al. Radiographics 1997;17:1205-31.",),
    modality="MR",
    anatomy="femur",
    keywords=("osteosarcoma", "skip lesion"),
)


def test_case_sheet_markdown_and_json() -> None:
    annotation_set = make_set()
    image = KeyImage(
        name="key01",
        annotated_png="images/key01.png",
        clean_png="images/key01_clean.png",
        dicom="dicom/key01.dcm",
        modality="MR",
        series_number=4,
        slice_index=6,
        n_slices=15,
        lesions=("Lesion 1",),
    )
    markdown, document = build_case_sheet(
        CASE, annotation_set, measure_annotations(annotation_set), images=[image]
    )
    assert markdown.startswith("# Osteosarcoma of the distal femur\n")
    for heading in ("History", "Findings", "Diagnosis", "Discussion", "Lesions"):
        assert f"## {heading}\n" in markdown
    assert "14-year-old with knee pain" in markdown
    assert "**Keywords:** osteosarcoma, skip lesion" in markdown
    # The lesion table: a row per lesion, pipes in text escaped.
    row = next(line for line in markdown.splitlines() if line.startswith("| Lesion 1"))
    assert "left distal femur \\| metaphysis" in row
    assert "length 50.0 mm" in row
    assert "long axis 60.0 mm; short axis 42.0 mm" in row
    assert row.endswith("| PixelSpacing |")
    assert "angle 90.0°" in markdown
    assert "![key01](images/key01.png)" in markdown
    assert "1. Murphey MD" in markdown

    assert document["schema"] == CASE_SCHEMA
    assert document["title"] == CASE.title
    assert document["keywords"] == ["osteosarcoma", "skip lesion"]
    lesion = document["lesions"][0]
    assert lesion["site"] == "left distal femur | metaphysis"
    names = [
        (m["name"], round(m["value"], 3), m["unit"]) for m in lesion["measurements"]
    ]
    assert names == [
        ("length", 50.0, "mm"),
        ("long axis", 60.0, "mm"),
        ("short axis", 42.0, "mm"),
    ]
    assert {m["spacing_source"] for m in lesion["measurements"]} == {"PixelSpacing"}
    assert document["images"][0]["dicom"] == "dicom/key01.dcm"
    assert document["deidentification"] is None
    # JSON round trip, no NaN.
    assert json.loads(case_json_text(document)) == document


def test_measurements_without_spacing_and_from_a_projection() -> None:
    annotation_set = make_set()
    ids = [a.id for a in annotation_set.annotations()]
    sources = dict.fromkeys(ids, "none")
    values = measure_annotations(annotation_set, sources)
    # Issue 15: without a pixel size a length is given in px, never mm.
    assert [v.unit for v in values[ids[0]]] == ["px"]
    assert values[ids[2]][0].name == "angle"  # an angle does not
    detector = "ImagerPixelSpacing (at the detector, not corrected)"
    values = measure_annotations(annotation_set, dict.fromkeys(ids, detector))
    _, document = build_case_sheet(CASE, annotation_set, values)
    sources_used = {m["spacing_source"] for m in document["lesions"][0]["measurements"]}
    assert sources_used == {detector}


def test_case_sheet_with_stats_and_no_measurements() -> None:
    annotation_set = make_set()
    ruler_id = next(annotation_set.annotations()).id
    values = {ruler_id: (Measurement("mean", float("nan"), "HU"),)}
    markdown, document = build_case_sheet(TeachingCase(), annotation_set, values)
    assert markdown.startswith("# Teaching case\n")
    assert document["lesions"][0]["measurements"][0]["value"] is None
    case_json_text(document)  # NaN written as null, not refused
    skip_row = next(line for line in markdown.splitlines() if line.startswith("| Skip"))
    assert skip_row.count("—") >= 2


def test_remap_annotations() -> None:
    annotation_set = make_set()
    before = list(annotation_set.annotations())
    mapping = {
        "1.2.3": "2.25.1",
        "": "",
    }
    for lesion in annotation_set.lesions:
        mapping[lesion.tracking_uid] = "2.25.77"
    ruler = before[0]
    with_refs = AnnotationSet(
        [
            Lesion(
                **{
                    **_fields(annotation_set.lesions[0]),
                    "annotations": (
                        Ruler(
                            lesion_id=ruler.lesion_id,
                            id=ruler.id,
                            frame_of_reference_uid="1.2.3",
                            referenced_sop_instance_uid="1.2.3",
                            start_lps=(0.0, 0.0, 0.0),
                            end_lps=(1.0, 0.0, 0.0),
                            plane_normal_lps=AXIAL,
                        ),
                    ),
                }
            )
        ]
    )
    remapped = remap_annotations(with_refs, lambda uid: mapping[uid])
    annotation = next(remapped.annotations())
    assert annotation.frame_of_reference_uid == "2.25.1"
    assert annotation.referenced_sop_instance_uid == "2.25.1"
    assert annotation.id == ruler.id
    assert np.array_equal(annotation.points_lps, [[0, 0, 0], [1, 0, 0]])
    assert remapped.lesions[0].tracking_uid == "2.25.77"


def test_key_images_from_references_and_nearest_slices(
    make_series: MakeSeries,
) -> None:
    series = make_series(shape=(6, 8, 9), spacing_mm=(1.0, 1.0, 3.0))
    (info,) = scan_folder(series.folder).series
    affine = np.asarray(info.ijk_to_lps)

    def lps(i: float, j: float, k: float) -> tuple[float, float, float]:
        point = affine @ [i, j, k, 1.0]
        return float(point[0]), float(point[1]), float(point[2])

    def sop_of(k: int) -> str:
        path = info.frames[0][k].path
        return str(pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID)

    lesion = Lesion(label="L1")
    normal = tuple(float(v) for v in np.cross(affine[:3, 0], affine[:3, 1]))
    drawn = Ruler(
        lesion_id=lesion.id,
        frame_of_reference_uid=info.frame_of_reference_uid,
        referenced_sop_instance_uid=sop_of(4),
        start_lps=lps(1, 1, 4),
        end_lps=lps(5, 6, 4),
        plane_normal_lps=normal,
    )
    on_a_plane = PointMarker(
        lesion_id=lesion.id,
        frame_of_reference_uid=info.frame_of_reference_uid,
        position_lps=lps(3, 3, 1.3),
        plane_normal_lps=normal,
    )
    elsewhere = PointMarker(
        lesion_id=lesion.id,
        frame_of_reference_uid="1.2.3.4",
        position_lps=(0.0, 0.0, 0.0),
        plane_normal_lps=normal,
    )
    annotation_set = AnnotationSet(
        [Lesion(label="L1", id=lesion.id, annotations=(drawn, on_a_plane, elsewhere))]
    )
    refs, warnings = select_key_images(
        [info], annotation_set, [sop_of(0), ("0", 4), (info.uid, 5)]
    )
    assert [ref.slice_index for ref in refs] == [4, 1, 0, 5]
    assert refs[0].annotation_ids == (drawn.id,)
    assert refs[0].sop_instance_uid == sop_of(4)
    assert refs[1].annotation_ids == (on_a_plane.id,)
    assert refs[2].annotation_ids == ()
    assert len(warnings) == 1
    assert elsewhere.id not in warnings[0]  # named, never by UUID (round 5)
    assert warnings[0].startswith("L1, point 2 lies on no scanned image")
    with pytest.raises(LookupError, match="SOP Instance UID"):
        select_key_images([info], annotation_set, ["1.2.3.999"])
    with pytest.raises(LookupError, match="slices 0 to 5"):
        select_key_images([info], annotation_set, [("0", 6)])


def test_write_text_atomic(tmp_path: Path) -> None:
    target = write_text_atomic(tmp_path / "case.md", "héllo\n")
    assert target.read_bytes() == "héllo\n".encode()
    write_text_atomic(target, "again")
    assert target.read_text(encoding="utf-8") == "again"
    assert [p.name for p in tmp_path.iterdir()] == ["case.md"]
