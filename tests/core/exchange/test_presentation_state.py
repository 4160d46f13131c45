"""Grayscale Softcopy Presentation State export and import, checked with dciodvfy.

Pixel positions are checked against the placement computed here from each
image's pydicom attributes; highdicom has no GSPS reader, so the written
objects are read with pydicom and checked with highdicom's enumerations and
CIELab conversion.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import highdicom as hd
import numpy as np
import pydicom
import pytest
from pydicom import examples

from imaging_viewer.core.annotations.model import (
    AnnotationSet,
    EllipseRoi,
    PointMarker,
    Ruler,
    TextLabel,
)
from imaging_viewer.core.dicom.scan import scan_folder
from imaging_viewer.core.exchange.presentation_state import (
    PRIVATE_CREATOR,
    PRIVATE_GROUP,
    export_presentation_state,
    import_presentation_state,
    read_presentation_state,
)
from imaging_viewer.core.exchange.structured_report import (
    export_measurement_report,
    import_measurement_report,
)
from imaging_viewer.core.volume import Window
from tests.core.exchange.test_structured_report import (
    ENHANCED_MR,
    OnImage,
    assert_same_annotations,
    every_kind_set,
    example_image,
    pixel_to_lps_of,
    projection,
    read_headers,
    run_dciodvfy,
)

if TYPE_CHECKING:
    from pathlib import Path

    from pydicom.dataset import Dataset

# Pixel positions are FL (float32): far finer than half a pixel.
GSPS_TOLERANCE_MM = 1e-3


@pytest.fixture(scope="module")
def ct_series(sample_data: Path) -> dict[str, Dataset]:
    """The 28 axial CT slices of sample_data/CT, 5 mm apart."""
    paths = sorted((sample_data / "CT").iterdir(), key=lambda p: int(p.name[1:]))
    return read_headers(paths)


def export_and_check(
    annotation_set: AnnotationSet,
    sources: dict[str, Dataset],
    tmp_path: Path,
    **options: Any,
) -> tuple[Path, tuple[str, ...]]:
    result = export_presentation_state(
        annotation_set, sources, series_number=902, **options
    )
    path = tmp_path / "pr.dcm"
    result.dataset.save_as(path, enforce_file_format=True)
    run_dciodvfy(path)
    return path, result.warnings


def objects_by_group(ds: Dataset) -> dict[int, list[Dataset]]:
    groups: dict[int, list[Dataset]] = {}
    for item in ds.GraphicAnnotationSequence:
        for obj in [
            *(item.get("GraphicObjectSequence") or []),
            *(item.get("TextObjectSequence") or []),
        ]:
            groups.setdefault(int(obj.GraphicGroupID), []).append(obj)
    return groups


def test_ct_series_round_trip(ct_series: dict[str, Dataset], tmp_path: Path) -> None:
    datasets = list(ct_series.values())
    images = [OnImage(ds, pixel_to_lps_of(ds)) for ds in (datasets[3], datasets[20])]
    original = every_kind_set(images)
    window = Window(center=40.0, width=80.0, explanation="brain")
    path, warnings = export_and_check(original, ct_series, tmp_path, window=window)
    assert warnings == ()

    ds = pydicom.dcmread(path)
    assert ds.SOPClassUID == pydicom.uid.GrayscaleSoftcopyPresentationStateStorage
    assert ds.StudyInstanceUID == datasets[0].StudyInstanceUID
    referenced = {
        item.ReferencedSOPInstanceUID
        for series in ds.ReferencedSeriesSequence
        for item in series.ReferencedImageSequence
    }
    assert referenced == {datasets[3].SOPInstanceUID, datasets[20].SOPInstanceUID}
    (voi,) = ds.SoftcopyVOILUTSequence
    assert (float(voi.WindowCenter), float(voi.WindowWidth)) == (40.0, 80.0)

    # One layer per lesion, coloured like it.
    layers = {item.GraphicLayer: item for item in ds.GraphicLayerSequence}
    assert len(layers) == len(original)
    assert "RULER LESION" in layers
    for lesion in original.lesions:
        (layer,) = [
            item
            for item in layers.values()
            if item.get("GraphicLayerDescription", "") == lesion.label
        ]
        rgb = hd.color.CIELabColor.from_dicom_value(
            layer.GraphicLayerRecommendedDisplayCIELabValue
        ).to_rgb()
        assert "#{:02x}{:02x}{:02x}".format(*rgb) == lesion.colour

    # Objects in PIXEL units at the images' pixel positions, tracked by lesion.
    groups = objects_by_group(ds)
    assert len(groups) == len(list(original.annotations()))
    by_id = {
        (lesion.tracking_uid, a.kind): a
        for lesion in original.lesions
        for a in lesion.annotations
    }
    (ruler_item,) = [
        item
        for item in ds.GraphicAnnotationSequence
        if item.GraphicLayer == "RULER LESION"
        and item.ReferencedImageSequence[0].ReferencedSOPInstanceUID
        == datasets[3].SOPInstanceUID
    ]
    (line,) = ruler_item.GraphicObjectSequence
    assert hd.pr.GraphicTypeValues(line.GraphicType) == hd.pr.GraphicTypeValues.POLYLINE
    assert line.GraphicAnnotationUnits == "PIXEL"
    assert line.TrackingUID == original.lesions[0].tracking_uid
    assert line.TrackingID == "ruler lesion"
    ruler = by_id[(original.lesions[0].tracking_uid, "ruler")]
    affine = pixel_to_lps_of(datasets[3])
    expected = np.linalg.solve(affine[:3, :3], (ruler.points_lps - affine[:3, 3]).T).T
    np.testing.assert_allclose(
        np.reshape(line.GraphicData, (-1, 2)), expected[:, :2] + 0.5, atol=1e-4
    )
    (caption,) = ruler_item.TextObjectSequence
    assert caption.UnformattedTextValue.startswith("CC: length ")
    assert caption.UnformattedTextValue.endswith(" mm")
    (ellipse_item,) = [
        item
        for item in ds.GraphicAnnotationSequence
        if item.GraphicLayer == "ELLIPSE LESION"
    ]
    (ellipse,) = ellipse_item.GraphicObjectSequence
    assert ellipse.GraphicType == "ELLIPSE"
    assert ellipse.NumberOfGraphicPoints == 4

    imported = import_presentation_state(ds, ct_series)
    assert imported.warnings == ()
    assert_same_annotations(original, imported.annotation_set, GSPS_TOLERANCE_MM)


@pytest.mark.parametrize("name", ["ct", "mr"])
def test_single_images_round_trip(name: str, tmp_path: Path) -> None:
    sources, image = example_image(name)
    original = every_kind_set([image])
    path, warnings = export_and_check(original, sources, tmp_path)
    assert warnings == ()
    imported = import_presentation_state(pydicom.dcmread(path), sources)
    assert_same_annotations(original, imported.annotation_set, GSPS_TOLERANCE_MM)


def test_multiframe_frames_round_trip(corpus: Path, tmp_path: Path) -> None:
    sources = read_headers([corpus / ENHANCED_MR])
    (ds,) = sources.values()
    images = [OnImage(ds, pixel_to_lps_of(ds, frame), frame) for frame in (2, 5)]
    original = every_kind_set(images)
    path, _ = export_and_check(original, sources, tmp_path)
    written = pydicom.dcmread(path)
    frames = {
        int(item.ReferencedImageSequence[0].ReferencedFrameNumber)
        for item in written.GraphicAnnotationSequence
    }
    assert frames == {2, 5}
    imported = import_presentation_state(written, sources)
    assert_same_annotations(original, imported.annotation_set, GSPS_TOLERANCE_MM)


def test_projection_image_round_trip(sample_data: Path, tmp_path: Path) -> None:
    volume, ds = projection(sample_data, tmp_path, "RG2_JPLL.dcm")
    image = OnImage(ds, volume.ijk_to_lps, frame_of_reference_uid="")
    original = every_kind_set([image])
    sources = {str(ds.SOPInstanceUID): ds}
    path, warnings = export_and_check(original, sources, tmp_path)
    assert warnings == ()
    imported = import_presentation_state(pydicom.dcmread(path), sources)
    assert_same_annotations(original, imported.annotation_set, GSPS_TOLERANCE_MM)


def sagittal_set(datasets: list[Dataset]) -> tuple[AnnotationSet, dict[str, str]]:
    """Annotations drawn on reformatted planes of the axial CT (no image)."""
    first, last = pixel_to_lps_of(datasets[0]), pixel_to_lps_of(datasets[-1])
    z = [float(ds.ImagePositionPatient[2]) for ds in datasets]
    centre = first @ [256.0, 256.0, 0.0, 1.0]
    for_uid = str(datasets[0].FrameOfReferenceUID)
    annotation_set = AnnotationSet()
    lesion = annotation_set.add_lesion(annotation_set.make_lesion())
    common = {
        "lesion_id": lesion.id,
        "frame_of_reference_uid": for_uid,
        "plane_normal_lps": (1.0, 0.0, 0.0),
    }
    # 1.2 mm above slice 10: within half a slice (2.5 mm) of it.
    point = PointMarker(
        **common, position_lps=(centre[0], centre[1] - 20.0, z[10] + 1.2)
    )
    # Spans the whole series: on no single acquired image.
    ruler = Ruler(
        **common,
        start_lps=(centre[0], centre[1], float(first[2, 3])),
        end_lps=(centre[0], centre[1], float(last[2, 3])),
    )
    axial = {**common, "plane_normal_lps": (0.0, 0.0, 1.0)}
    # An axial reformat 2 mm below slice 20.
    ellipse = EllipseRoi(
        **axial,
        centre_lps=(centre[0], centre[1], z[20] - 2.0),
        axis1_end_lps=(centre[0] + 10.0, centre[1], z[20] - 2.0),
        axis2_end_lps=(centre[0], centre[1] + 5.0, z[20] - 2.0),
    )
    for annotation in (point, ruler, ellipse):
        annotation_set.add_annotation(annotation)
    nearest = {
        point.id: str(datasets[10].SOPInstanceUID),
        ellipse.id: str(datasets[20].SOPInstanceUID),
    }
    return annotation_set, {"ruler": ruler.id, **nearest}


def test_reformatted_planes_go_to_the_nearest_image_within_half_a_slice(
    ct_series: dict[str, Dataset], tmp_path: Path
) -> None:
    datasets = list(ct_series.values())
    gaps = np.diff([float(ds.ImagePositionPatient[2]) for ds in datasets])
    assert np.allclose(np.abs(gaps), 5.0)
    original, expected = sagittal_set(datasets)
    path, warnings = export_and_check(original, ct_series, tmp_path)
    ruler_id = expected.pop("ruler")
    assert len(warnings) == 1
    assert ruler_id not in warnings[0]  # named, never by UUID (round 5)
    assert "ruler 1 left out" in warnings[0]
    assert "half a slice" in warnings[0]

    imported = import_presentation_state(pydicom.dcmread(path), ct_series)
    annotations = list(imported.annotation_set.annotations())
    assert [a.id for a in annotations] == list(expected)
    for annotation in annotations:
        drawn = original.annotation(annotation.id)
        uid = expected[annotation.id]
        assert annotation.referenced_sop_instance_uid == uid
        image_z = float(ct_series[uid].ImagePositionPatient[2])
        # Moved along the image normal onto the image, nothing else.
        np.testing.assert_allclose(annotation.points_lps[:, 2], image_z, atol=1e-4)
        np.testing.assert_allclose(
            annotation.points_lps[:, :2],
            drawn.points_lps[:, :2],
            atol=GSPS_TOLERANCE_MM,
        )
        assert annotation.plane_normal_lps == (0.0, 0.0, 1.0)


def test_annotation_outside_the_image_is_left_out(tmp_path: Path) -> None:
    sources, image = example_image("ct")
    original = every_kind_set([image])
    outside = next(a for a in original.annotations() if isinstance(a, Ruler))
    beyond = image.lps(70.0, 10.0)
    original.update_annotation(replace(outside, end_lps=beyond))
    result = export_presentation_state(original, sources, series_number=3)
    assert len(result.warnings) == 1
    assert outside.id not in result.warnings[0]  # named, never by UUID (round 5)
    assert ", ruler 1 left out" in result.warnings[0]
    assert "outside" in result.warnings[0]


def test_reads_standard_content_without_private_record(tmp_path: Path) -> None:
    sources, image = example_image("mr")
    original = every_kind_set([image])
    path, _ = export_and_check(original, sources, tmp_path, measurement_text=False)
    ds = pydicom.dcmread(path)
    del ds[ds.private_block(PRIVATE_GROUP, PRIVATE_CREATOR).get_tag(0x01)]
    imported = import_presentation_state(ds, sources)
    lesions = imported.annotation_set.lesions
    assert [lesion.tracking_uid for lesion in lesions] == [
        lesion.tracking_uid for lesion in original.lesions
    ]
    assert [lesion.colour for lesion in lesions] == [
        lesion.colour for lesion in original.lesions
    ]
    assert lesions[0].label == "ruler lesion"
    # One annotation per object, its kind read from its graphic type.
    kinds = [[a.kind for a in lesion.annotations] for lesion in lesions]
    # Both rulers are on the one image; each label "CC" is a text object.
    assert kinds[0] == ["ruler", "ruler", "text", "text"]
    by_kind = {lesion.label: lesion for lesion in lesions}
    assert [a.kind for a in by_kind["ellipse lesion"].annotations] == ["ellipse"]
    assert [a.kind for a in by_kind["polygon lesion"].annotations] == ["polygon"]
    assert [a.kind for a in by_kind["bidirectional lesion"].annotations] == [
        "ruler",
        "ruler",
    ]
    (text,) = by_kind["text lesion"].annotations
    assert isinstance(text, TextLabel)
    assert text.text == "osteoïd matrix"


def test_refuses_what_is_not_a_presentation_state(
    ct_series: dict[str, Dataset],
) -> None:
    with pytest.raises(ValueError, match="Presentation State"):
        import_presentation_state(next(iter(ct_series.values())), ct_series)
    with pytest.raises(ValueError, match="no annotations"):
        export_presentation_state(AnnotationSet(), ct_series, series_number=1)


def test_oblique_synthetic_series_round_trips_in_sr_and_gsps(
    make_series: Any, tmp_path: Path
) -> None:
    a, b = np.radians(30.0), np.radians(20.0)
    orientation = (
        np.cos(a),
        np.sin(a),
        0.0,
        -np.sin(a) * np.cos(b),
        np.cos(a) * np.cos(b),
        np.sin(b),
    )
    series = make_series(
        shape=(6, 48, 40),
        spacing_mm=(0.8, 0.6, 2.5),
        orientation=orientation,
        window=(40.0, 400.0),
    )
    sources = read_headers(series.files)
    datasets = list(sources.values())
    images = [OnImage(ds, pixel_to_lps_of(ds)) for ds in (datasets[1], datasets[4])]
    original = every_kind_set(images)

    path, warnings = export_and_check(original, sources, tmp_path)
    assert warnings == ()
    imported = import_presentation_state(pydicom.dcmread(path), sources)
    assert_same_annotations(original, imported.annotation_set, GSPS_TOLERANCE_MM)

    report = export_measurement_report(original, sources, series_number=7)
    sr_path = tmp_path / "sr.dcm"
    report.dataset.save_as(sr_path, enforce_file_format=True)
    run_dciodvfy(sr_path)
    from_sr = import_measurement_report(pydicom.dcmread(sr_path))
    assert_same_annotations(original, from_sr.annotation_set, 1e-3)


def test_images_with_different_rescale_get_the_window_per_image(
    ct_series: dict[str, Dataset], tmp_path: Path
) -> None:
    datasets = list(ct_series.values())
    first = pydicom.Dataset(datasets[3])
    second = pydicom.Dataset(datasets[20])
    second.RescaleSlope = 2
    second.RescaleIntercept = -1000
    sources = {str(first.SOPInstanceUID): first, str(second.SOPInstanceUID): second}
    images = [OnImage(ds, pixel_to_lps_of(ds)) for ds in (first, second)]
    original = every_kind_set(images)
    window = Window(center=40.0, width=400.0)
    path, warnings = export_and_check(original, sources, tmp_path, window=window)
    assert len(warnings) == 1
    assert "Rescale" in warnings[0]
    ds = pydicom.dcmread(path)
    assert (float(ds.RescaleSlope), float(ds.RescaleIntercept)) == (1.0, 0.0)
    stored = {}
    for item in ds.SoftcopyVOILUTSequence:
        (reference,) = item.ReferencedImageSequence
        stored[reference.ReferencedSOPInstanceUID] = (
            float(item.WindowCenter),
            float(item.WindowWidth),
        )
    slope, intercept = float(first.RescaleSlope), float(first.RescaleIntercept)
    assert stored == {
        first.SOPInstanceUID: ((40.0 - intercept) / slope, 400.0 / slope),
        second.SOPInstanceUID: ((40.0 + 1000.0) / 2.0, 200.0),
    }


def test_colour_images_are_left_out(tmp_path: Path) -> None:
    ds = pydicom.dcmread(examples.get_path("rgb_color"), stop_before_pixels=True)
    assert ds.SamplesPerPixel == 3
    sources = {str(ds.SOPInstanceUID): ds}
    annotation_set = AnnotationSet()
    lesion = annotation_set.add_lesion(annotation_set.make_lesion())
    annotation_set.add_annotation(
        PointMarker(
            lesion_id=lesion.id,
            referenced_sop_instance_uid=str(ds.SOPInstanceUID),
            plane_normal_lps=(0.0, 1.0, 0.0),
            position_lps=(10.0, 0.0, -10.0),
        )
    )
    with pytest.raises(ValueError, match="colour"):
        export_presentation_state(annotation_set, sources, series_number=4)


def test_read_presentation_state_finds_images_in_open_study(
    ct_series: dict[str, Dataset], sample_data: Path, tmp_path: Path
) -> None:
    datasets = list(ct_series.values())
    images = [OnImage(ds, pixel_to_lps_of(ds)) for ds in (datasets[3], datasets[20])]
    original = every_kind_set(images)
    path, _ = export_and_check(original, ct_series, tmp_path)
    scan = scan_folder(sample_data / "CT")
    imported = read_presentation_state(path, scan.series)
    assert imported.warnings == ()
    assert_same_annotations(original, imported.annotation_set, GSPS_TOLERANCE_MM)


def test_read_presentation_state_refuses_other_files(
    sample_data: Path, tmp_path: Path
) -> None:
    scan = scan_folder(sample_data / "CT")
    not_dicom = tmp_path / "notes.txt"
    not_dicom.write_text("hello")
    with pytest.raises(ValueError, match=r"notes\.txt: not a readable DICOM file"):
        read_presentation_state(not_dicom, scan.series)
    with pytest.raises(ValueError, match="not a Grayscale Softcopy Presentation"):
        read_presentation_state(scan.series[0].files[0], scan.series)


def test_read_presentation_state_of_another_study(
    ct_series: dict[str, Dataset], sample_data: Path, tmp_path: Path
) -> None:
    datasets = list(ct_series.values())
    original = every_kind_set([OnImage(datasets[3], pixel_to_lps_of(datasets[3]))])
    path, _ = export_and_check(original, ct_series, tmp_path)
    xray = scan_folder(sample_data / "XR")
    with pytest.raises(ValueError, match="none of the images it annotates is open"):
        read_presentation_state(path, xray.series)


def test_multiframe_without_shared_groups(corpus: Path, tmp_path: Path) -> None:
    """An enhanced MR missing its Shared Functional Groups Sequence (dicom2nifti's
    test file) still gets a valid presentation state, and is left unchanged."""
    path = (
        corpus / "dicom2nifti/siemens_multiframe/anatomical/001/IM-0001-0001-0001.dcm"
    )
    sources = read_headers([path])
    (ds,) = sources.values()
    assert "SharedFunctionalGroupsSequence" not in ds
    images = [OnImage(ds, pixel_to_lps_of(ds, frame), frame) for frame in (2, 5)]
    original = every_kind_set(images)
    written, _ = export_and_check(original, sources, tmp_path)
    assert "SharedFunctionalGroupsSequence" not in ds
    imported = import_presentation_state(pydicom.dcmread(written), sources)
    assert_same_annotations(original, imported.annotation_set, GSPS_TOLERANCE_MM)
