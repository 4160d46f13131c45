"""Reference lines: plane–plane intersections clipped to the image, in LPS mm.

Hand-computed cases on simple grids, then a real pair of the corpus: the
sagittal localizer and the tilted axial CT of one Philips examination (one
Frame of Reference), with geometry read by pydicom.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pydicom
import pytest

from imaging_viewer.core.reference_lines import (
    plane_of_affine,
    reference_lines,
    reference_segment,
)

if TYPE_CHECKING:
    from pathlib import Path

    from numpy.typing import NDArray


def _affine(
    origin: tuple[float, float, float],
    right: tuple[float, float, float],
    down: tuple[float, float, float],
    spacing: tuple[float, float] = (1.0, 1.0),
) -> NDArray[np.float64]:
    """(column, row, 0, 1) → LPS for a grid at ``origin`` along ``right``/``down``."""
    affine = np.eye(4)
    affine[:3, 0] = np.asarray(right) * spacing[0]
    affine[:3, 1] = np.asarray(down) * spacing[1]
    affine[:3, 2] = np.cross(right, down)
    affine[:3, 3] = origin
    return affine


AXIAL = _affine((0.0, 0.0, 0.0), (1, 0, 0), (0, 1, 0))
"""An axial image: column along L (x), row along P (y), 1 mm pixels."""
SIZE = (100, 50)


def _sorted(segment: tuple[tuple[float, float], ...] | None) -> list[tuple[float, ...]]:
    assert segment is not None
    return sorted(tuple(round(v, 9) for v in end) for end in segment)


def test_a_sagittal_plane_is_a_vertical_line_on_an_axial_image() -> None:
    plane = ((30.2, 7.0, -3.0), (1.0, 0.0, 0.0))
    segment = reference_segment(AXIAL, SIZE, plane)
    assert _sorted(segment) == [(30.2, -0.5), (30.2, 49.5)]


def test_a_coronal_plane_is_a_horizontal_line_on_an_axial_image() -> None:
    plane = ((0.0, 10.0, 0.0), (0.0, -1.0, 0.0))
    assert _sorted(reference_segment(AXIAL, SIZE, plane)) == [(-0.5, 10), (99.5, 10)]


def test_an_oblique_plane_is_clipped_to_the_image_rectangle() -> None:
    # x + y = 75: from (75.5, -0.5) to (25.5, 49.5) on the image's edges.
    normal = (1 / math.sqrt(2), 1 / math.sqrt(2), 0.0)
    plane = ((50.0, 25.0, 0.0), normal)
    assert _sorted(reference_segment(AXIAL, SIZE, plane)) == [
        (25.5, 49.5),
        (75.5, -0.5),
    ]


def test_pixel_spacing_scales_the_line() -> None:
    fine = _affine((0.0, 0.0, 0.0), (1, 0, 0), (0, 1, 0), spacing=(0.5, 2.0))
    sagittal = ((30.0, 0.0, 0.0), (1.0, 0.0, 0.0))
    coronal = ((0.0, 30.0, 0.0), (0.0, 1.0, 0.0))
    assert _sorted(reference_segment(fine, SIZE, sagittal)) == [(60, -0.5), (60, 49.5)]
    assert _sorted(reference_segment(fine, SIZE, coronal)) == [(-0.5, 15), (99.5, 15)]


def test_parallel_planes_and_planes_outside_the_image_give_no_line() -> None:
    assert reference_segment(AXIAL, SIZE, ((0, 0, 5.0), (0, 0, 1.0))) is None
    assert reference_segment(AXIAL, SIZE, ((200.0, 0, 0), (1.0, 0, 0))) is None
    assert reference_segment(AXIAL, SIZE, ((-3.0, 0, 0), (1.0, 0, 0))) is None
    # 0.5° from parallel: below the tolerance.
    tilt = math.radians(0.5)
    almost = ((0, 0, 0.0), (math.sin(tilt), 0.0, math.cos(tilt)))
    assert reference_segment(AXIAL, SIZE, almost) is None


def test_a_slab_adds_its_two_faces() -> None:
    sagittal_slice = _affine((30.0, 0.0, 0.0), (0, 1, 0), (0, 0, -1))
    lines = reference_lines(AXIAL, SIZE, sagittal_slice, slab_mm=10.0)
    assert _sorted(lines.centre) == [(30, -0.5), (30, 49.5)]
    columns = sorted(face[0][0] for face in lines.slab_limits)
    assert columns == pytest.approx([25.0, 35.0])
    thin = reference_lines(AXIAL, SIZE, sagittal_slice)
    assert thin.slab_limits == ()
    assert not thin.empty


def test_a_slab_face_outside_the_image_is_left_out() -> None:
    sagittal_slice = _affine((2.0, 0.0, 0.0), (0, 1, 0), (0, 0, -1))
    lines = reference_lines(AXIAL, SIZE, sagittal_slice, slab_mm=10.0)
    assert [face[0][0] for face in lines.slab_limits] == pytest.approx([7.0])


def test_a_degenerate_source_draws_nothing() -> None:
    flat = np.zeros((4, 4))
    assert plane_of_affine(flat) is None
    assert reference_lines(AXIAL, SIZE, flat).empty


# ---------------------------------------------------------------- real corpus
def _pydicom_affine(dataset: pydicom.Dataset) -> NDArray[np.float64]:
    """(column, row, 0, 1) → LPS from the header (PS3.3 C.7.6.2.1.1)."""
    orientation = np.asarray(dataset.ImageOrientationPatient, dtype=float)
    row_spacing, column_spacing = (float(v) for v in dataset.PixelSpacing)
    affine = np.eye(4)
    affine[:3, 0] = orientation[:3] * column_spacing
    affine[:3, 1] = orientation[3:] * row_spacing
    affine[:3, 2] = np.cross(orientation[:3], orientation[3:])
    affine[:3, 3] = np.asarray(dataset.ImagePositionPatient, dtype=float)
    return affine


def test_a_tilted_axial_ct_on_its_localizer(corpus: Path) -> None:
    """Philips CT (gantry tilt −18.5°) and its sagittal localizer: the line of
    each axial slice on the localizer runs at the tilt angle, every point of it
    lies on the slice's plane, and its ends are on the localizer's edges."""
    exam = corpus / "dcm_qa_ct/In/Philips/S21610"
    localizer = pydicom.dcmread(exam / "S1000/I10", stop_before_pixels=True)
    assert "LOCALIZER" in localizer.ImageType
    target = _pydicom_affine(localizer)
    size = (int(localizer.Columns), int(localizer.Rows))
    for name in ("I10", "I270", "I530"):
        axial = pydicom.dcmread(exam / "S2010" / name, stop_before_pixels=True)
        assert axial.FrameOfReferenceUID == localizer.FrameOfReferenceUID
        source = _pydicom_affine(axial)
        segment = reference_lines(target, size, source).centre
        assert segment is not None
        (c1, r1), (c2, r2) = segment
        # Rows run inferior and columns posterior on this localizer: a slice
        # tilted by the gantry climbs tan(tilt) rows per column (equal spacing).
        tilt = math.radians(abs(float(axial.GantryDetectorTilt)))
        assert abs((r2 - r1) / (c2 - c1)) == pytest.approx(math.tan(tilt), abs=1e-4)
        normal = np.cross(
            np.asarray(axial.ImageOrientationPatient[:3], dtype=float),
            np.asarray(axial.ImageOrientationPatient[3:], dtype=float),
        )
        position = np.asarray(axial.ImagePositionPatient, dtype=float)
        for t in np.linspace(0.0, 1.0, 7):
            pixel = np.array([c1 + t * (c2 - c1), r1 + t * (r2 - r1), 0.0, 1.0])
            point = (target @ pixel)[:3]
            assert float((point - position) @ normal) == pytest.approx(0.0, abs=1e-6)
        edges = (-0.5, size[0] - 0.5), (-0.5, size[1] - 0.5)
        for column, row in segment:
            on_edge = any(
                math.isclose(value, limit, abs_tol=1e-6)
                for value, limits in ((column, edges[0]), (row, edges[1]))
                for limit in limits
            )
            assert on_edge


def test_loaded_volumes_give_the_lines_pydicom_geometry_gives(corpus: Path) -> None:
    """The same lines from the volumes the viewer loads (scan + load)."""
    from imaging_viewer.core.dicom.load import load_volume
    from imaging_viewer.core.dicom.scan import scan_folder

    exam = corpus / "dcm_qa_ct/In/Philips/S21610"
    result = scan_folder(exam)
    volumes = [load_volume(series) for series in result.series]
    axial = max(volumes, key=lambda volume: volume.shape_kji[0])
    localizer = next(
        volume
        for volume in volumes
        if volume.shape_kji[0] == 1
        and volume.frame_of_reference_uid == axial.frame_of_reference_uid
    )
    header = pydicom.dcmread(exam / "S1000/I10", stop_before_pixels=True)
    target = _pydicom_affine(header)
    size = (int(header.Columns), int(header.Rows))
    assert localizer.shape_kji[1:] == (size[1], size[0])
    for name in ("I10", "I270", "I530"):
        dataset = pydicom.dcmread(exam / "S2010" / name, stop_before_pixels=True)
        expected = reference_lines(target, size, _pydicom_affine(dataset)).centre
        position = np.asarray(dataset.ImagePositionPatient, dtype=float)
        origins = [
            (axial.ijk_to_lps @ np.array([0.0, 0.0, k, 1.0]))[:3]
            for k in range(axial.shape_kji[0])
        ]
        k = int(np.argmin([np.linalg.norm(o - position) for o in origins]))
        source = axial.ijk_to_lps.copy()
        source[:3, 3] = origins[k]
        got = reference_lines(localizer.ijk_to_lps, size, source).centre
        assert got is not None
        assert expected is not None
        assert np.allclose(sorted(got), sorted(expected), atol=0.05)
