"""TID 1500 Measurement Report export and import, checked with dciodvfy and highdicom.

The images' placement is computed here from their pydicom attributes (or, for
projection radiographs, taken from the loaded volume), independently of
``image_placements``; the written reports are checked by dicom3tools' dciodvfy
(no errors) and read back by pydicom and highdicom before our own import.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import highdicom as hd
import numpy as np
import pydicom
import pytest
from pydicom import examples
from pydicom.sr.codedict import codes

from imaging_viewer.core.annotations import measure
from imaging_viewer.core.annotations.model import (
    Angle,
    Annotation,
    AnnotationSet,
    Arrow,
    Bidirectional,
    CobbAngle,
    EllipseRoi,
    PointMarker,
    PolygonRoi,
    Ruler,
    TextLabel,
)
from imaging_viewer.core.annotations.serialize import from_json, to_json
from imaging_viewer.core.dicom.load import load_volume
from imaging_viewer.core.dicom.scan import scan_folder
from imaging_viewer.core.exchange.structured_report import (
    ANNOTATION_RECORD,
    LESION_RECORD,
    PIXELS,
    export_measurement_report,
    image_placements,
    import_measurement_report,
)

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from pydicom.dataset import Dataset

ENHANCED_MR = "dcm_qa_enh/In/Siemens/XA10/6_1.dcm"
SR_TOLERANCE_MM = 1e-3


# ------------------------------------------------------------------ helpers


def read_headers(paths: Sequence[Path | str]) -> dict[str, Dataset]:
    """Headers by SOP Instance UID, in the order given."""
    headers = {}
    for path in paths:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        headers[str(ds.SOPInstanceUID)] = ds
    return headers


def pixel_to_lps_of(ds: Dataset, frame: int | None = None) -> np.ndarray:
    """(column, row, 0, 1) -> LPS from the header (PS3.3 C.7.6.2.1.1, C.7.6.16.2)."""
    if frame is None:
        position = ds.ImagePositionPatient
        orientation = ds.ImageOrientationPatient
        spacing = ds.PixelSpacing
    else:
        item = ds.PerFrameFunctionalGroupsSequence[frame - 1]
        shared = (ds.get("SharedFunctionalGroupsSequence") or [pydicom.Dataset()])[0]

        def find(sequence: str) -> Any:
            return (item.get(sequence) or shared.get(sequence))[0]

        position = find("PlanePositionSequence").ImagePositionPatient
        orientation = find("PlaneOrientationSequence").ImageOrientationPatient
        spacing = find("PixelMeasuresSequence").PixelSpacing
    row_cosine = np.array(orientation[:3], dtype=float)
    column_cosine = np.array(orientation[3:], dtype=float)
    affine = np.eye(4)
    affine[:3, 0] = row_cosine * float(spacing[1])
    affine[:3, 1] = column_cosine * float(spacing[0])
    affine[:3, 2] = np.cross(row_cosine, column_cosine)
    affine[:3, 3] = np.array(position, dtype=float)
    return affine


@dataclass(frozen=True)
class OnImage:
    """Draws on one image (frame): pixel (column, row) -> LPS."""

    ds: Dataset
    pixel_to_lps: np.ndarray
    frame: int | None = None
    frame_of_reference_uid: str | None = None

    def lps(self, column: float, row: float) -> tuple[float, float, float]:
        # Positions on a 64 × 64 grid, scaled to the image.
        scale_c = float(self.ds.Columns) / 64.0
        scale_r = float(self.ds.Rows) / 64.0
        point = self.pixel_to_lps @ [column * scale_c, row * scale_r, 0.0, 1.0]
        return float(point[0]), float(point[1]), float(point[2])

    def common(self, lesion_id: str) -> dict[str, Any]:
        normal = np.cross(self.pixel_to_lps[:3, 0], self.pixel_to_lps[:3, 1])
        normal /= np.linalg.norm(normal)
        for_uid = self.frame_of_reference_uid
        return {
            "lesion_id": lesion_id,
            "frame_of_reference_uid": (
                str(self.ds.get("FrameOfReferenceUID", ""))
                if for_uid is None
                else for_uid
            ),
            "referenced_sop_instance_uid": str(self.ds.SOPInstanceUID),
            "referenced_frame": self.frame,
            "plane_normal_lps": tuple(normal),
        }


def kinds_on(image: OnImage, lesion_id: str) -> dict[str, list[Annotation]]:
    """One annotation of each kind on ``image`` (two rulers), by kind."""
    p = image.lps
    c = image.common(lesion_id)
    return {
        "ruler": [
            Ruler(**c, start_lps=p(10.25, 12.5), end_lps=p(40.5, 30.75), label="CC")
        ],
        "bidirectional": [
            Bidirectional(
                **c,
                long_start_lps=p(20.0, 32.0),
                long_end_lps=p(44.0, 32.0),
                short_start_lps=p(32.0, 24.5),
                short_end_lps=p(32.0, 37.25),
            )
        ],
        "ellipse": [
            EllipseRoi(
                **c,
                centre_lps=p(30.0, 30.0),
                axis1_end_lps=p(30.0, 36.0),
                axis2_end_lps=p(42.0, 30.0),
            )
        ],
        "polygon": [
            PolygonRoi(
                **c,
                vertices_lps=(p(8.0, 40.0), p(20.5, 41.0), p(22.0, 55.0), p(9.0, 52.0)),
            )
        ],
        "angle": [
            Angle(
                **c,
                first_lps=p(50.0, 10.0),
                vertex_lps=p(50.0, 30.0),
                second_lps=p(60.0, 20.0),
            )
        ],
        "cobb_angle": [
            CobbAngle(
                **c,
                line1_start_lps=p(5.0, 5.0),
                line1_end_lps=p(25.0, 8.0),
                line2_start_lps=p(5.0, 20.0),
                line2_end_lps=p(25.0, 14.0),
            )
        ],
        "point": [PointMarker(**c, position_lps=p(33.3, 44.4), label="skip")],
        "arrow": [Arrow(**c, tip_lps=p(40.0, 40.0), tail_lps=p(55.0, 55.0))],
        "text": [TextLabel(**c, anchor_lps=p(45.0, 5.0), text="osteoïd matrix")],
    }


CODED_SITES: list[dict[str, str]] = [
    {
        "site_code": codes.SCT.Femur.value,
        "site_meaning": codes.SCT.Femur.meaning,
        "laterality": "left",
    },
    {},
    {
        "site_code": codes.SCT.Lung.value,
        "site_meaning": codes.SCT.Lung.meaning,
    },
    {
        "site_code": codes.SCT.L3Vertebra.value,
        "site_meaning": codes.SCT.L3Vertebra.meaning,
        "laterality": "right",
    },
]
"""Coded finding sites (pydicom's SNOMED CT table) cycled over the lesions."""


def every_kind_set(images: Sequence[OnImage]) -> AnnotationSet:
    """One lesion per annotation kind; the ruler lesion has a second ruler on
    the last image (one tracking UID across images)."""
    annotation_set = AnnotationSet()
    for number, kind in enumerate(kinds_on(images[0], "x")):
        lesion = annotation_set.add_lesion(
            annotation_set.make_lesion(
                label="" if kind == "arrow" else f"{kind} lesion",
                site="left distal femur, metaphysis" if number % 2 else "",
                finding="mixed lytic–sclerotic" if number % 3 == 0 else "",
                diagnosis="osteosarcoma" if kind == "ellipse" else "",
                note="baseline, before chemotherapy" if kind == "ruler" else "",
                **CODED_SITES[number % len(CODED_SITES)],
            )
        )
        for annotation in kinds_on(images[0], lesion.id)[kind]:
            annotation_set.add_annotation(annotation)
        if kind == "ruler":
            for annotation in kinds_on(images[-1], lesion.id)["ruler"]:
                annotation_set.add_annotation(annotation)
    annotation_set.clear_history()
    return annotation_set


def run_dciodvfy(path: Path) -> list[str]:
    """dciodvfy's messages for a file; fails the test on any error."""
    program = shutil.which("dciodvfy")
    if program is None:
        message = "dciodvfy (Debian package dicom3tools) is not installed"
        if os.environ.get("IMAGING_VIEWER_REQUIRE_CORPUS") == "1":
            pytest.fail(f"{message}; CI installs it (scripts/bootstrap.sh)")
        pytest.skip(message)
    result = subprocess.run(
        [program, str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    lines = (result.stdout + result.stderr).splitlines()
    errors = [line for line in lines if "Error" in line]
    assert not errors, "dciodvfy:\n" + "\n".join(lines)
    return lines


def assert_same_annotations(
    original: AnnotationSet,
    imported: AnnotationSet,
    tolerance_mm: float,
) -> None:
    """Same lesions (by tracking UID, in order), kinds and points within tolerance."""
    assert [lesion.tracking_uid for lesion in imported.lesions] == [
        lesion.tracking_uid for lesion in original.lesions
    ]
    for want, got in zip(original.lesions, imported.lesions, strict=True):
        fields = ["id", "label", "site", "site_code", "site_meaning", "laterality"]
        fields += ["finding", "diagnosis", "note", "colour"]
        assert {f: getattr(got, f) for f in fields} == {
            f: getattr(want, f) for f in fields
        }
        assert [a.kind for a in got.annotations] == [a.kind for a in want.annotations]
        for a, b in zip(want.annotations, got.annotations, strict=True):
            assert b.id == a.id
            assert b.lesion_id == got.id
            assert b.label == a.label
            assert b.frame_of_reference_uid == a.frame_of_reference_uid
            assert b.referenced_sop_instance_uid == a.referenced_sop_instance_uid
            assert b.referenced_frame == a.referenced_frame
            np.testing.assert_allclose(
                b.plane_normal_lps, a.plane_normal_lps, atol=1e-9
            )
            np.testing.assert_allclose(
                b.points_lps, a.points_lps, rtol=0, atol=tolerance_mm
            )
            if isinstance(a, TextLabel):
                assert isinstance(b, TextLabel)
                assert b.text == a.text


def export_and_check(
    annotation_set: AnnotationSet,
    sources: dict[str, Dataset],
    tmp_path: Path,
    **options: Any,
) -> tuple[Path, tuple[str, ...]]:
    result = export_measurement_report(
        annotation_set, sources, series_number=901, **options
    )
    path = tmp_path / "sr.dcm"
    result.dataset.save_as(path, enforce_file_format=True)
    run_dciodvfy(path)
    return path, result.warnings


def groups_by_kind(path: Path) -> dict[str, list[Any]]:
    """Measurement groups as highdicom reads them, by the recorded kind."""
    report = hd.sr.srread(path).content
    assert isinstance(report, hd.sr.MeasurementReport)
    groups: dict[str, list[Any]] = {}
    for group in [
        *report.get_image_measurement_groups(),
        *report.get_planar_roi_measurement_groups(),
    ]:
        records = [
            item
            for item in group[0].ContentSequence
            if item.ValueType == "TEXT" and item.name == ANNOTATION_RECORD
        ]
        assert len(records) == 1
        kind = json.loads(records[0].TextValue)["kind"]
        groups.setdefault(kind, []).append(group)
    return groups


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def ct_series(sample_data: Path) -> dict[str, Dataset]:
    """The 28 axial CT slices of sample_data/CT (= the corpus' S2010 series)."""
    paths = sorted((sample_data / "CT").iterdir(), key=lambda p: int(p.name[1:]))
    return read_headers(paths)


def example_image(name: str) -> tuple[dict[str, Dataset], OnImage]:
    ds = pydicom.dcmread(examples.get_path(name), stop_before_pixels=True)
    return {str(ds.SOPInstanceUID): ds}, OnImage(ds, pixel_to_lps_of(ds))


# ------------------------------------------------------------------ tests


def test_ct_series_round_trip_with_measurements(
    ct_series: dict[str, Dataset], sample_data: Path, tmp_path: Path
) -> None:
    datasets = list(ct_series.values())
    images = [OnImage(ds, pixel_to_lps_of(ds)) for ds in (datasets[10], datasets[14])]
    original = every_kind_set(images)
    volume = load_volume(scan_folder(sample_data / "CT").series[0])
    rois = [a for a in original.annotations() if isinstance(a, EllipseRoi | PolygonRoi)]
    stats = {roi.id: measure.roi_stats(volume, roi) for roi in rois}

    path, warnings = export_and_check(original, ct_series, tmp_path, roi_stats=stats)
    assert warnings == ()

    ds = pydicom.dcmread(path)
    assert ds.SOPClassUID == pydicom.uid.Comprehensive3DSRStorage
    assert ds.StudyInstanceUID == datasets[0].StudyInstanceUID
    assert ds.PatientID == datasets[0].PatientID
    evidence = {
        item.ReferencedSOPInstanceUID
        for study in ds.CurrentRequestedProcedureEvidenceSequence
        for series in study.ReferencedSeriesSequence
        for item in series.ReferencedSOPSequence
    }
    assert evidence == set(ct_series)

    groups = groups_by_kind(path)
    ruler_lesion = original.lesions[0]
    assert [g.tracking_uid for g in groups["ruler"]] == [ruler_lesion.tracking_uid] * 2
    # The Tracking Identifier names OHIF's tool; the label is in the lesion record
    # (docs/annotations.md), checked by the import below.
    assert groups["ruler"][0].tracking_identifier == "cornerstoneTools@^4.0.0:Length"
    for group in groups["ruler"]:
        (length,) = group.get_measurements(name=codes.SCT.Length)
        assert length.unit.value == "mm"
        (coordinates,) = [
            c for c in length.referenced_coordinates if c.ValueType == "SCOORD3D"
        ]
        assert coordinates.graphic_type == hd.sr.GraphicTypeValues3D.POLYLINE
        assert coordinates.frame_of_reference_uid == datasets[0].FrameOfReferenceUID
        start, end = coordinates.value
        assert length.value == pytest.approx(
            float(np.linalg.norm(end - start)), abs=1e-3
        )
    (bidirectional,) = groups["bidirectional"]
    (long_axis,) = bidirectional.get_measurements(name=codes.SCT.LongAxis)
    (short_axis,) = bidirectional.get_measurements(name=codes.SCT.ShortAxis)
    (drawn,) = [a for a in original.annotations() if isinstance(a, Bidirectional)]
    assert long_axis.value == pytest.approx(
        np.linalg.norm(np.subtract(*drawn.long_axis_lps))
    )
    assert short_axis.value == pytest.approx(
        np.linalg.norm(np.subtract(*drawn.short_axis_lps))
    )
    (angle,) = groups["angle"][0].get_measurements(name=codes.SCT.Angle)
    assert angle.unit.value == "deg"
    (ellipse,) = groups["ellipse"]
    assert ellipse.roi.graphic_type == hd.sr.GraphicTypeValues3D.ELLIPSE
    (area,) = ellipse.get_measurements(name=codes.SCT.Area)
    assert area.unit.value == "mm2"
    major = ellipse.roi.value[1] - ellipse.roi.value[0]
    minor = ellipse.roi.value[3] - ellipse.roi.value[2]
    assert area.value == pytest.approx(
        math.pi * np.linalg.norm(major) * np.linalg.norm(minor) / 4, rel=1e-5
    )
    hu = ellipse.get_measurements(name=codes.DCM.AttenuationCoefficient)
    by_derivation = {m.derivation.meaning: m for m in hu}
    ellipse_stats = stats[next(a.id for a in rois if isinstance(a, EllipseRoi))]
    assert by_derivation["Mean"].value == pytest.approx(ellipse_stats.mean)
    assert by_derivation["Mean"].unit.value == "[hnsf'U]"
    assert by_derivation["Maximum"].value == pytest.approx(ellipse_stats.max)
    (polygon,) = groups["polygon"]
    outline = polygon.roi.value
    assert polygon.roi.graphic_type == hd.sr.GraphicTypeValues3D.POLYGON
    np.testing.assert_array_equal(outline[0], outline[-1])
    assert groups["point"][0].roi.graphic_type == hd.sr.GraphicTypeValues3D.POINT
    assert groups["arrow"][0].tracking_identifier == (
        "cornerstoneTools@^4.0.0:ArrowAnnotate"
    )

    imported = import_measurement_report(ds)
    assert imported.warnings == ()
    assert_same_annotations(original, imported.annotation_set, SR_TOLERANCE_MM)
    assert not imported.annotation_set.can_undo


@pytest.mark.parametrize("name", ["ct", "mr"])
def test_single_images_round_trip(name: str, tmp_path: Path) -> None:
    sources, image = example_image(name)
    original = every_kind_set([image])
    path, warnings = export_and_check(original, sources, tmp_path)
    assert warnings == ()
    assert hd.sr.srread(path).SOPClassUID == pydicom.uid.Comprehensive3DSRStorage
    imported = import_measurement_report(pydicom.dcmread(path))
    assert_same_annotations(original, imported.annotation_set, SR_TOLERANCE_MM)


def test_multiframe_frames_round_trip(corpus: Path, tmp_path: Path) -> None:
    sources = read_headers([corpus / ENHANCED_MR])
    (ds,) = sources.values()
    images = [OnImage(ds, pixel_to_lps_of(ds, frame), frame) for frame in (2, 5)]
    original = every_kind_set(images)
    path, _ = export_and_check(original, sources, tmp_path)
    imported = import_measurement_report(pydicom.dcmread(path))
    assert_same_annotations(original, imported.annotation_set, SR_TOLERANCE_MM)


def projection(sample_data: Path, tmp_path: Path, name: str) -> tuple[Any, Dataset]:
    folder = tmp_path / "xr"
    folder.mkdir()
    shutil.copy(sample_data / "XR" / name, folder / name)
    volume = load_volume(scan_folder(folder).series[0])
    return volume, pydicom.dcmread(folder / name, stop_before_pixels=True)


@pytest.mark.parametrize(
    ("name", "has_spacing"),
    [("RG2_JPLL.dcm", True), ("gdcm-CR-MONO1-10-chest.dcm", False)],
)
def test_projection_images_use_pixel_coordinates(
    sample_data: Path, tmp_path: Path, name: str, has_spacing: bool
) -> None:
    volume, ds = projection(sample_data, tmp_path, name)
    assert volume.is_projection
    # The viewer's own placement of the radiograph is what its annotations use.
    image = OnImage(ds, volume.ijk_to_lps, frame_of_reference_uid="")
    original = every_kind_set([image])
    sources = {str(ds.SOPInstanceUID): ds}
    path, warnings = export_and_check(original, sources, tmp_path)
    if has_spacing:
        assert warnings == ()
    else:
        assert warnings
        assert all("no pixel spacing" in w for w in warnings)

    groups = groups_by_kind(path)
    (ruler,) = groups["ruler"][:1]
    (length,) = ruler.get_measurements(name=codes.SCT.Length)
    (coordinates,) = length.referenced_coordinates
    assert coordinates.graphic_type == hd.sr.GraphicTypeValues.POLYLINE
    # SCOORD pixel coordinates put 0\0 at the outer corner of the first pixel.
    drawn = next(a for a in original.annotations() if isinstance(a, Ruler))
    expected = np.linalg.solve(
        volume.ijk_to_lps[:3, :3], (drawn.points_lps - volume.ijk_to_lps[:3, 3]).T
    ).T[:, :2]
    np.testing.assert_allclose(coordinates.value, expected + 0.5, atol=1e-3)
    assert length.unit.value == ("mm" if has_spacing else PIXELS.value)

    imported = import_measurement_report(pydicom.dcmread(path), sources)
    assert imported.warnings == ()
    assert_same_annotations(original, imported.annotation_set, SR_TOLERANCE_MM)

    without_image = import_measurement_report(pydicom.dcmread(path))
    assert len(without_image.annotation_set) == 0
    assert len(without_image.warnings) == len(list(original.annotations()))
    assert "was not given" in without_image.warnings[0]


def test_projection_annotation_without_its_image_is_left_out(tmp_path: Path) -> None:
    sources, image = example_image("ct")
    original = every_kind_set([image])
    lost = next(iter(original.annotations()))
    original.update_annotation(
        replace(lost, frame_of_reference_uid="", referenced_sop_instance_uid="1.2.3")
    )
    result = export_measurement_report(original, sources, series_number=5)
    assert len(result.warnings) == 1
    assert "left out" in result.warnings[0]
    # Named by lesion and kind (it is the first of its kind), never by UUID.
    lesion = original.lesion_of(lost.id)
    kind = lost.kind.replace("_", " ")
    assert result.warnings[0].startswith(f"{lesion.label}, {kind} 1 left out")
    assert lost.id not in result.warnings[0]


def without_private_records(ds: Dataset) -> Dataset:
    """The report as another program would write it: no 99IMGVIEWER items."""

    def strip(item: Dataset) -> None:
        if "ContentSequence" not in item:
            return
        kept = []
        for child in item.ContentSequence:
            concept = child.get("ConceptNameCodeSequence")
            scheme = concept[0].CodingSchemeDesignator if concept else ""
            if scheme != LESION_RECORD.scheme_designator:
                strip(child)
                kept.append(child)
        item.ContentSequence = kept

    strip(ds)
    return ds


def test_reads_standard_content_without_private_records(tmp_path: Path) -> None:
    sources, image = example_image("ct")
    original = every_kind_set([image])
    path, _ = export_and_check(original, sources, tmp_path)
    imported = import_measurement_report(without_private_records(pydicom.dcmread(path)))
    lesions = imported.annotation_set.lesions
    assert [lesion.tracking_uid for lesion in lesions] == [
        lesion.tracking_uid for lesion in original.lesions
    ]
    # Kinds come from the measurements and graphic types; a text label reads
    # as a point, having nothing but its position.
    expected = [
        [{"text": "point"}.get(a.kind, a.kind) for a in lesion.annotations]
        for lesion in original.lesions
    ]
    assert [[a.kind for a in lesion.annotations] for lesion in lesions] == expected
    assert lesions[0].label == "ruler lesion"
    assert lesions[7].label == "Lesion 8"
    assert lesions[0].note == "baseline, before chemotherapy"
    pairs = zip(
        original.annotations(), imported.annotation_set.annotations(), strict=True
    )
    for want, got in pairs:
        want_points, got_points = want.points_lps, got.points_lps
        if isinstance(want, EllipseRoi):
            # Without the record, the first semi-axis is the major one.
            want_points, got_points = np.sort(want_points, 0), np.sort(got_points, 0)
        np.testing.assert_allclose(got_points, want_points, atol=SR_TOLERANCE_MM)
        assert got.frame_of_reference_uid == want.frame_of_reference_uid


def test_json_save_load_of_imported_report(tmp_path: Path) -> None:
    sources, image = example_image("mr")
    original = every_kind_set([image])
    path, _ = export_and_check(original, sources, tmp_path)
    imported = import_measurement_report(pydicom.dcmread(path)).annotation_set
    study = str(image.ds.StudyInstanceUID)
    reloaded = from_json(to_json(imported, study))
    assert to_json(reloaded, study) == to_json(imported, study)
    assert_same_annotations(original, reloaded, SR_TOLERANCE_MM)


def test_placements_match_the_headers(ct_series: dict[str, Dataset]) -> None:
    placements = image_placements(ct_series)
    assert len(placements) == len(ct_series)
    for (uid, frame), placement in placements.items():
        assert frame is None
        np.testing.assert_allclose(
            placement.pixel_to_lps[:3, [0, 1, 3]],
            pixel_to_lps_of(ct_series[uid])[:3, [0, 1, 3]],
            atol=1e-9,
        )


def test_refuses_what_is_not_a_report(ct_series: dict[str, Dataset]) -> None:
    with pytest.raises(ValueError, match="Measurement Report"):
        import_measurement_report(next(iter(ct_series.values())))
    with pytest.raises(ValueError, match="no annotations"):
        export_measurement_report(AnnotationSet(), ct_series, series_number=1)
    with pytest.raises(ValueError, match="headers"):
        export_measurement_report(AnnotationSet(), {}, series_number=1)
