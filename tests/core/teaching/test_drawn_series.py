"""Every annotation knows its image (issue 15 item 4), on two reconstructions of
one acquisition.

The corpus has no CT reconstructed twice, so the real Philips head CT
(``dcm_qa_ct/.../S21570/S2010``, 28 slices of 5 mm) is written twice with pydicom:
as it is (series 202, "standard kernel") and with new Series and SOP Instance
UIDs, a bone kernel's name and sharpened pixels (series 203). Same study, frame
of reference and positions: only the series an annotation names tells them apart.
What the exports reference is read back with pydicom.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pydicom
import pytest
from pydicom.uid import generate_uid

from imaging_viewer.core.annotations.model import AnnotationSet, Lesion, Ruler
from imaging_viewer.core.annotations.serialize import from_json, to_json
from imaging_viewer.core.dicom.load import load_volume
from imaging_viewer.core.dicom.scan import scan_folder
from imaging_viewer.core.teaching.case import TeachingCase
from imaging_viewer.core.teaching.export import export_teaching_case
from imaging_viewer.core.teaching.key_images import image_plane, select_key_images
from imaging_viewer.core.tools.pointer import DragSession
from imaging_viewer.core.tools.ruler import draw_ruler
from imaging_viewer.core.viewer_state import ViewportState, image_ref_of
from tests.conftest import corpus_path
from tests.core.teaching.test_export import FakeBurnIn
from tests.core.tools.fake_pointer import drag, press, release

if TYPE_CHECKING:
    from pathlib import Path

    from imaging_viewer.core.dicom.scan import ScanResult
    from imaging_viewer.core.dicom.series import SeriesInfo

CT = corpus_path() / "dcm_qa_ct" / "In" / "Philips" / "S21570" / "S2010"
STANDARD, BONE = 202, 203


def write_two_reconstructions(folder: Path) -> None:
    """The CT as series 202 and a sharpened copy as series 203 (new UIDs)."""
    series_uid = generate_uid()
    for path in sorted(CT.glob("I*")):
        ds = pydicom.dcmread(path)
        ds.SeriesNumber = STANDARD
        (folder / "std").mkdir(exist_ok=True)
        ds.save_as(folder / "std" / path.name)
        pixels = ds.pixel_array.astype(np.int32)
        blurred = (
            np.roll(pixels, 1, 0)
            + np.roll(pixels, -1, 0)
            + np.roll(pixels, 1, 1)
            + np.roll(pixels, -1, 1)
        ) // 4
        sharp = np.clip(2 * pixels - blurred, 0, np.iinfo(ds.pixel_array.dtype).max)
        ds.PixelData = sharp.astype(ds.pixel_array.dtype).tobytes()
        ds.SeriesInstanceUID = series_uid
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.SeriesNumber = BONE
        ds.SeriesDescription = "BONE 5MM"
        ds.ConvolutionKernel = "D"
        (folder / "bone").mkdir(exist_ok=True)
        ds.save_as(folder / "bone" / path.name)


@pytest.fixture(scope="module")
def two_reconstructions(tmp_path_factory: pytest.TempPathFactory) -> ScanResult:
    if not CT.is_dir():
        pytest.skip("the shared DICOM corpus is not here")
    folder = tmp_path_factory.mktemp("two_reconstructions")
    write_two_reconstructions(folder)
    scan = scan_folder(folder)
    assert sorted(s.series_number or 0 for s in scan.series) == [STANDARD, BONE]
    return scan


def by_number(scan: ScanResult, number: int) -> SeriesInfo:
    (series,) = [s for s in scan.series if s.series_number == number]
    return series


def ruler_on_axial_mpr(series: SeriesInfo, k_mm: float) -> AnnotationSet:
    """A ruler drawn on the axial MPR plane of ``series``, ``k_mm`` above its
    first slice, as the viewer draws it (its view's image reference)."""
    viewport = ViewportState()
    volume = load_volume(series)
    viewport.show(series, volume)
    origin = volume.ijk_to_lps[:3, 3]
    viewport.cursor_lps = (
        float(origin[0]) + 100.0,
        float(origin[1]) + 100.0,
        float(origin[2]) + k_mm,
    )
    viewport.orientation = "axial"
    current = viewport.current_slice()
    assert current is not None
    plane = image_plane(current.pixel_to_lps)
    centre = np.array(viewport.cursor_lps)
    start, end = centre + np.array([-10.0, 0.0, 0.0]), centre + np.array([15, 5, 0])
    annotations = AnnotationSet()
    session = DragSession(
        draw_ruler(
            annotations, plane, "lesion-1", press(start), image=image_ref_of(viewport)
        )
    )
    session.send(drag(end))
    session.send(release(end))
    (ruler,) = list(annotations.annotations())
    lesion = replace(Lesion(id="lesion-1", label="Lesion 1"), annotations=(ruler,))
    return AnnotationSet([lesion])


def sop_at(series: SeriesInfo, k: int) -> str:
    return str(
        pydicom.dcmread(
            series.frames[0][k].path, stop_before_pixels=True
        ).SOPInstanceUID
    )


def test_a_ruler_on_the_bone_kernel_mpr_names_the_bone_kernel_image(
    two_reconstructions: ScanResult,
) -> None:
    bone = by_number(two_reconstructions, BONE)
    # 12 mm above the first slice: slice 2 (10 mm) is nearest, not 3 (15 mm).
    annotations = ruler_on_axial_mpr(bone, 12.0)
    (ruler,) = list(annotations.annotations())
    assert isinstance(ruler, Ruler)
    assert ruler.referenced_series_instance_uid == bone.uid
    assert ruler.drawn_on_plane == "axial"
    assert ruler.referenced_sop_instance_uid == sop_at(bone, 2)
    assert ruler.referenced_frame is None
    # The annotation file keeps both, and reads them back.
    (again,) = list(from_json(to_json(annotations, bone.study_uid)).annotations())
    assert again == ruler

    refs, warnings = select_key_images(two_reconstructions.series, annotations)
    assert not warnings
    assert [(r.series.uid, r.slice_index) for r in refs] == [(bone.uid, 2)]


def test_sr_and_teaching_key_image_reference_the_bone_kernel_series(
    two_reconstructions: ScanResult, tmp_path: Path
) -> None:
    bone = by_number(two_reconstructions, BONE)
    standard = by_number(two_reconstructions, STANDARD)
    annotations = ruler_on_axial_mpr(bone, 12.0)
    export_teaching_case(
        two_reconstructions,
        annotations,
        TeachingCase(title="Two kernels"),
        tmp_path / "case",
        burn_in=FakeBurnIn(),
        deidentify=False,
    )
    dicom = tmp_path / "case" / "dicom"
    key = pydicom.dcmread(dicom / "key01.dcm")
    assert not (dicom / "key02.dcm").exists()
    assert key.SeriesInstanceUID == bone.uid != standard.uid
    assert key.SOPInstanceUID == sop_at(bone, 2)
    assert key.SeriesNumber == BONE

    report = pydicom.dcmread(dicom / "report_sr.dcm")
    evidence = {
        (str(series.SeriesInstanceUID), str(item.ReferencedSOPInstanceUID))
        for study in report.CurrentRequestedProcedureEvidenceSequence
        for series in study.ReferencedSeriesSequence
        for item in series.ReferencedSOPSequence
    }
    assert evidence == {(bone.uid, sop_at(bone, 2))}
    # The SCOORD on the image (what OHIF reads) names the bone-kernel instance.
    scoord_images = set(_scoord_references(report))
    assert scoord_images == {sop_at(bone, 2)}

    state = pydicom.dcmread(dicom / "annotations_pr.dcm")
    (series_ref,) = state.ReferencedSeriesSequence
    assert series_ref.SeriesInstanceUID == bone.uid
    drawn_on = [
        str(image.ReferencedSOPInstanceUID)
        for image in series_ref.ReferencedImageSequence
    ]
    assert drawn_on == [sop_at(bone, 2)]


def test_an_older_annotation_goes_to_the_series_drawn_on_else_the_displayed_one(
    two_reconstructions: ScanResult,
) -> None:
    bone = by_number(two_reconstructions, BONE)
    standard = by_number(two_reconstructions, STANDARD)
    (ruler,) = list(ruler_on_axial_mpr(bone, 12.0).annotations())
    older = replace(
        ruler,
        referenced_sop_instance_uid="",
        referenced_series_instance_uid="",
        drawn_on_plane="",
    )
    lesion = Lesion(id="lesion-1", label="Lesion 1")

    def chosen(annotation: Ruler, displayed: str = "") -> tuple[str, int]:
        annotations = AnnotationSet([replace(lesion, annotations=(annotation,))])
        (ref,), _ = select_key_images(
            two_reconstructions.series, annotations, displayed_series_uid=displayed
        )
        return ref.series.uid, ref.slice_index

    assert chosen(replace(older, referenced_series_instance_uid=bone.uid)) == (
        bone.uid,
        2,
    )
    assert chosen(older, displayed=bone.uid) == (bone.uid, 2)
    assert chosen(older, displayed=standard.uid) == (standard.uid, 2)


def _scoord_references(dataset: pydicom.Dataset) -> list[str]:
    found = []
    for item in dataset.get("ContentSequence", []):
        if item.ValueType == "SCOORD":  # its source image: an IMAGE child
            found.extend(
                str(ref.ReferencedSOPInstanceUID)
                for child in item.get("ContentSequence", [])
                for ref in child.get("ReferencedSOPSequence", [])
            )
        found.extend(_scoord_references(item))
    return found
