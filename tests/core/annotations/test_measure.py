"""Measurements against hand-computed values, ROI statistics against masks built here.

The ROI references are written independently of ``measure.py``: every pixel
centre is placed in patient space one at a time (``pixel_to_lps @ (c, r, 0, 1)``)
and tested with the textbook ellipse equation or a ray-casting loop in an
in-plane frame turned away from the pixel axes, then numpy gives the statistics.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pytest

from imaging_viewer.core.annotations.measure import (
    Measurement,
    NoSpacingError,
    angle_deg,
    bidirectional,
    cobb_angle_deg,
    distance_to_plane_mm,
    is_within_slab,
    length_mm,
    measure,
    project_to_plane,
    roi_area_mm2,
    roi_mask,
    roi_stats,
    spacing_source_of,
)
from imaging_viewer.core.annotations.model import (
    Angle,
    Bidirectional,
    CobbAngle,
    EllipseRoi,
    PointMarker,
    PolygonRoi,
    Ruler,
)
from imaging_viewer.core.geometry import affine_from_axes, rotation_about
from imaging_viewer.core.mpr import Slice, SlicePlane, plane_for, reslice
from imaging_viewer.core.volume import Volume

if TYPE_CHECKING:
    from numpy.typing import NDArray

FRAME = "1.2.826.0.1.3680043.8.498.1"
IMAGER = "ImagerPixelSpacing (at the detector, not corrected for magnification)"


def make_slice(
    pixels: NDArray[np.float64],
    column_step: tuple[float, float, float],
    row_step: tuple[float, float, float],
    origin: tuple[float, float, float] = (0.0, 0.0, 0.0),
) -> Slice:
    """A slice whose pixel (c, r) is at origin + c * column_step + r * row_step."""
    normal = np.cross(column_step, row_step)
    affine = np.eye(4)
    affine[:3, 0] = column_step
    affine[:3, 1] = row_step
    affine[:3, 2] = normal / np.linalg.norm(normal)
    affine[:3, 3] = origin
    return Slice(pixels, affine)


def at(image: Slice, column: float, row: float) -> NDArray[np.float64]:
    """LPS of a (sub)pixel position."""
    point: NDArray[np.float64] = (
        image.pixel_to_lps @ np.array([column, row, 0.0, 1.0])
    )[:3]
    return point


def pixel_centres(image: Slice) -> NDArray[np.float64]:
    rows, columns = image.pixels.shape[:2]
    centres = np.zeros((rows, columns, 3))
    for r in range(rows):
        for c in range(columns):
            centres[r, c] = at(image, c, r)
    return centres


def reference_ellipse_mask(image: Slice, roi: EllipseRoi) -> NDArray[np.bool_]:
    centre = np.array(roi.centre_lps)
    a = np.array(roi.axis1_end_lps) - centre
    b = np.array(roi.axis2_end_lps) - centre
    centres = pixel_centres(image)
    mask = np.zeros(centres.shape[:2], dtype=bool)
    for r in range(mask.shape[0]):
        for c in range(mask.shape[1]):
            offset = centres[r, c] - centre
            x = offset @ a / (a @ a)
            y = offset @ b / (b @ b)
            mask[r, c] = x * x + y * y <= 1.0
    return mask


def reference_polygon_mask(image: Slice, roi: PolygonRoi) -> NDArray[np.bool_]:
    # An in-plane orthonormal frame turned 17° from the pixel axes.
    normal = np.array(roi.plane_normal_lps)
    column = image.pixel_to_lps[:3, 0] / np.linalg.norm(image.pixel_to_lps[:3, 0])
    e1 = rotation_about(normal, math.radians(17.0)) @ column
    e2 = np.cross(normal, e1)
    vertices = [(float(v @ e1), float(v @ e2)) for v in roi.points_lps]
    centres = pixel_centres(image)
    mask = np.zeros(centres.shape[:2], dtype=bool)
    for r in range(mask.shape[0]):
        for c in range(mask.shape[1]):
            x, y = float(centres[r, c] @ e1), float(centres[r, c] @ e2)
            inside = False
            j = len(vertices) - 1
            for i in range(len(vertices)):
                xi, yi = vertices[i]
                xj, yj = vertices[j]
                if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
                    inside = not inside
                j = i
            mask[r, c] = inside
    return mask


def assert_stats_match(
    image: Slice, roi: EllipseRoi | PolygonRoi, mask: NDArray[np.bool_]
) -> None:
    assert mask.any()
    np.testing.assert_array_equal(roi_mask(image, roi), mask)
    values = image.pixels[mask].astype(np.float64)
    stats = roi_stats(image, roi)
    assert stats.pixel_count == int(mask.sum())
    assert stats.mean == pytest.approx(values.mean(), rel=1e-12)
    assert stats.sd == pytest.approx(values.std(), rel=1e-12)
    assert stats.min == values.min()
    assert stats.max == values.max()
    column_mm, row_mm = image.spacing_mm
    assert stats.pixel_area_mm2 == pytest.approx(mask.sum() * column_mm * row_mm)


def random_pixels(rows: int, columns: int, seed: int = 7) -> NDArray[np.int16]:
    return (
        np.random.default_rng(seed)
        .integers(-1000, 3000, size=(rows, columns))
        .astype(np.int16)
    )


# Non-square pixels: 0.5 mm between columns (along +x), 2 mm between rows (+y).
NON_SQUARE = make_slice(
    random_pixels(40, 60), (0.5, 0.0, 0.0), (0.0, 2.0, 0.0), (-10.0, 5.0, 30.0)
)


def oblique_volume() -> Volume:
    rng = np.random.default_rng(3)
    voxels = rng.normal(100.0, 30.0, size=(30, 36, 40)).astype(np.float32)
    affine = affine_from_axes(
        (-20.0, -15.0, 40.0), (0.7, 0, 0), (0, 0.9, 0), (0, 0, 1.5)
    )
    return Volume(
        voxels, affine, frame_of_reference_uid=FRAME, spacing_source="PixelSpacing"
    )


def oblique_plane() -> tuple[Volume, SlicePlane]:
    volume = oblique_volume()
    turn = rotation_about((1.0, 0.4, 0.0), math.radians(30.0))
    return volume, plane_for(volume, "axial", (-6.0, 1.0, 62.0), turn)


# ------------------------------------------------------------- lengths, angles


def test_length_on_non_square_pixels() -> None:
    # 6 columns × 0.5 mm = 3 mm, 2 rows × 2 mm = 4 mm: a 3-4-5 triangle.
    start, end = at(NON_SQUARE, 0, 0), at(NON_SQUARE, 6, 2)
    assert length_mm(start, end) == pytest.approx(5.0, abs=1e-12)
    ruler = Ruler(
        lesion_id="a", plane_normal_lps=(0, 0, 1), start_lps=start, end_lps=end
    )
    assert measure(ruler, spacing_source="PixelSpacing") == (
        Measurement("length", pytest.approx(5.0), "mm", "PixelSpacing"),
    )


def test_angles_on_non_square_pixels() -> None:
    vertex = at(NON_SQUARE, 10, 10)
    # 4 columns = 2 mm along x, 1 row = 2 mm along y: 45°, not the 14° of pixels.
    assert angle_deg(
        at(NON_SQUARE, 14, 10), vertex, at(NON_SQUARE, 14, 11)
    ) == pytest.approx(45.0)
    assert angle_deg(
        at(NON_SQUARE, 14, 10), vertex, at(NON_SQUARE, 10, 13)
    ) == pytest.approx(90.0)
    assert angle_deg(
        at(NON_SQUARE, 14, 10), vertex, at(NON_SQUARE, 6, 10)
    ) == pytest.approx(180.0)
    assert angle_deg(
        at(NON_SQUARE, 14, 10), vertex, at(NON_SQUARE, 20, 10)
    ) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="longer than 0"):
        angle_deg(vertex, vertex, at(NON_SQUARE, 1, 1))


def test_cobb_angle_is_between_undirected_lines() -> None:
    line1 = [at(NON_SQUARE, 0, 0), at(NON_SQUARE, 4, 0)]  # along x
    line2 = [at(NON_SQUARE, 0, 5), at(NON_SQUARE, 2, 6)]  # 1 mm along x, 2 mm along y
    expected = math.degrees(math.atan(2.0))  # 63.43°
    assert cobb_angle_deg(line1, line2) == pytest.approx(expected)
    assert cobb_angle_deg(line1, line2[::-1]) == pytest.approx(expected)
    assert cobb_angle_deg(line1[::-1], line2) == pytest.approx(expected)
    # Lines 120° apart as vectors are 60° apart as lines.
    steep = [at(NON_SQUARE, 0, 0), at(NON_SQUARE, -2, math.sqrt(3) / 2)]
    assert cobb_angle_deg(line1, steep) == pytest.approx(60.0)
    cobb = CobbAngle(
        lesion_id="a",
        plane_normal_lps=(0, 0, 1),
        line1_start_lps=line1[0],
        line1_end_lps=line1[1],
        line2_start_lps=line2[0],
        line2_end_lps=line2[1],
    )
    (result,) = measure(cobb)
    assert (result.name, result.unit) == ("cobb angle", "deg")
    assert result.value == pytest.approx(expected)


def test_bidirectional_lengths() -> None:
    long_axis = [at(NON_SQUARE, 0, 0), at(NON_SQUARE, 20, 0)]  # 10 mm
    short_axis = [at(NON_SQUARE, 10, -1), at(NON_SQUARE, 10, 2)]  # 6 mm
    assert bidirectional(long_axis, short_axis) == pytest.approx((10.0, 6.0))
    annotation = Bidirectional(
        lesion_id="a",
        plane_normal_lps=(0, 0, 1),
        long_start_lps=long_axis[0],
        long_end_lps=long_axis[1],
        short_start_lps=short_axis[0],
        short_end_lps=short_axis[1],
    )
    long_result, short_result = measure(annotation, spacing_source="PixelSpacing")
    assert (long_result.name, long_result.value) == ("long axis", pytest.approx(10.0))
    assert (short_result.name, short_result.value) == ("short axis", pytest.approx(6.0))


def test_measurements_on_an_oblique_plane() -> None:
    _, plane = oblique_plane()
    affine = plane.pixel_to_lps()
    spacing_c, spacing_r = plane.spacing_mm

    def point(c: float, r: float) -> NDArray[np.float64]:
        result: NDArray[np.float64] = (affine @ np.array([c, r, 0.0, 1.0]))[:3]
        return result

    start, end = point(3, 4), point(23, 19)
    assert abs(start[2] - end[2]) > 1.0, "the plane is oblique: z changes across it"
    assert length_mm(start, end) == pytest.approx(
        math.hypot(20 * spacing_c, 15 * spacing_r)
    )
    vertex = point(10, 10)
    first = point(20, 10)
    # 30° above the column axis, measured in mm (screen down is +row).
    second = point(
        10 + 10 * math.cos(math.radians(30)) / spacing_c,
        10 - 10 * math.sin(math.radians(30)) / spacing_r,
    )
    assert angle_deg(first, vertex, second) == pytest.approx(30.0)
    assert angle_deg(first, vertex, point(10, 25)) == pytest.approx(90.0)


# --------------------------------------------------------------- ROI statistics


def test_ellipse_stats_on_non_square_pixels() -> None:
    centre = at(NON_SQUARE, 30.3, 20.4)
    roi = EllipseRoi(
        lesion_id="a",
        plane_normal_lps=(0, 0, 1),
        centre_lps=centre,
        axis1_end_lps=centre + np.array([9.0, 0.0, 0.0]),
        axis2_end_lps=centre + np.array([0.0, 14.0, 0.0]),
    )
    assert_stats_match(NON_SQUARE, roi, reference_ellipse_mask(NON_SQUARE, roi))
    assert roi_stats(NON_SQUARE, roi).area_mm2 == pytest.approx(math.pi * 9.0 * 14.0)


def test_turned_ellipse_stats_on_non_square_pixels() -> None:
    centre = at(NON_SQUARE, 28.1, 18.7)
    turn = rotation_about((0, 0, 1), math.radians(35.0))
    a, b = turn @ np.array([11.0, 0, 0]), turn @ np.array([0, 6.5, 0])
    roi = EllipseRoi(
        lesion_id="a",
        plane_normal_lps=(0, 0, 1),
        centre_lps=centre,
        axis1_end_lps=centre + a,
        axis2_end_lps=centre + b,
    )
    assert_stats_match(NON_SQUARE, roi, reference_ellipse_mask(NON_SQUARE, roi))


def test_concave_polygon_stats_on_non_square_pixels() -> None:
    # An L shape and a notch, vertices off the pixel grid.
    corners = [
        (3.3, 2.2),
        (41.7, 3.1),
        (40.9, 12.6),
        (20.2, 14.3),
        (25.1, 30.4),
        (4.4, 33.9),
    ]
    roi = PolygonRoi(
        lesion_id="a",
        plane_normal_lps=(0, 0, 1),
        vertices_lps=[at(NON_SQUARE, c, r) for c, r in corners],
    )
    assert_stats_match(NON_SQUARE, roi, reference_polygon_mask(NON_SQUARE, roi))


def test_polygon_area_is_the_shoelace_area() -> None:
    rectangle = [
        at(NON_SQUARE, c, r)
        for c, r in ((0.3, 0.3), (6.3, 0.3), (6.3, 2.3), (0.3, 2.3))
    ]
    roi = PolygonRoi(lesion_id="a", plane_normal_lps=(0, 0, 1), vertices_lps=rectangle)
    # 6 columns × 0.5 mm by 2 rows × 2 mm.
    assert roi_area_mm2(roi) == pytest.approx(12.0)
    stats = roi_stats(NON_SQUARE, roi)
    assert stats.area_mm2 == pytest.approx(12.0)
    assert stats.pixel_count == 6 * 2
    assert stats.pixel_area_mm2 == pytest.approx(12.0)


def test_stats_on_an_oblique_reslice() -> None:
    volume, plane = oblique_plane()
    resliced = reslice(volume, plane)
    affine = plane.pixel_to_lps()
    centre = (
        affine
        @ np.array([plane.size_px[0] / 2 + 0.3, plane.size_px[1] / 2 + 0.2, 0, 1])
    )[:3]
    turn = rotation_about(plane.normal_lps, math.radians(20.0))
    roi = EllipseRoi(
        lesion_id="a",
        plane_normal_lps=plane.normal_lps,
        centre_lps=centre,
        axis1_end_lps=centre + turn @ (7.0 * plane.right_lps),
        axis2_end_lps=centre + turn @ (4.0 * plane.down_lps),
    )
    assert_stats_match(resliced, roi, reference_ellipse_mask(resliced, roi))
    polygon = PolygonRoi(
        lesion_id="a",
        plane_normal_lps=plane.normal_lps,
        vertices_lps=[
            (affine @ np.array([c, r, 0, 1]))[:3]
            for c, r in (
                (10.2, 8.3),
                (30.6, 9.9),
                (22.4, 18.1),
                (33.3, 29.7),
                (9.1, 27.2),
            )
        ],
    )
    assert_stats_match(resliced, polygon, reference_polygon_mask(resliced, polygon))


def test_stats_of_a_volume_use_the_slice_the_roi_is_on() -> None:
    volume = oblique_volume()
    k = 12
    affine = volume.ijk_to_lps

    def voxel(i: float, j: float) -> NDArray[np.float64]:
        result: NDArray[np.float64] = (affine @ np.array([i, j, k, 1.0]))[:3]
        return result

    centre = voxel(20.2, 17.9)
    roi = EllipseRoi(
        lesion_id="a",
        plane_normal_lps=(0, 0, 1),
        centre_lps=centre,
        axis1_end_lps=centre + np.array([6.0, 0, 0]),
        axis2_end_lps=centre + np.array([0, 5.0, 0]),
    )
    shown = Slice(
        volume.voxels[k],
        affine @ np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, k], [0, 0, 0, 1.0]]),
    )
    mask = reference_ellipse_mask(shown, roi)
    stats = roi_stats(volume, roi)
    assert stats.pixel_count == int(mask.sum())
    assert stats.mean == pytest.approx(
        float(volume.voxels[k][mask].astype(np.float64).mean())
    )
    assert stats.spacing_source == "PixelSpacing"
    across_slices = EllipseRoi(
        lesion_id="a",
        plane_normal_lps=(1, 0, 0),
        centre_lps=centre,
        axis1_end_lps=centre + np.array([0, 6.0, 0]),
        axis2_end_lps=centre + np.array([0, 0, 6.0]),  # four slices up
    )
    with pytest.raises(ValueError, match="one slice"):
        roi_stats(volume, across_slices)


def test_large_freehand_outline() -> None:
    image = make_slice(random_pixels(512, 512, seed=1), (1.0, 0, 0), (0, 1.0, 0))
    theta = np.linspace(0, 2 * np.pi, 4000, endpoint=False)
    radius = 200.0
    outline = np.stack(
        [
            255.7 + radius * np.cos(theta),
            255.2 + radius * np.sin(theta),
            np.zeros_like(theta),
        ],
        axis=1,
    )
    roi = PolygonRoi(lesion_id="a", plane_normal_lps=(0, 0, 1), vertices_lps=outline)
    stats = roi_stats(image, roi)
    assert stats.pixel_area_mm2 == pytest.approx(math.pi * radius**2, rel=2e-3)
    assert stats.area_mm2 == pytest.approx(math.pi * radius**2, rel=1e-5)
    ys, xs = np.mgrid[0:512, 0:512]
    disc = (xs - 255.7) ** 2 + (ys - 255.2) ** 2 <= (radius * 0.99) ** 2
    assert roi_mask(image, roi)[disc].all()


def test_roi_partly_or_wholly_outside_the_image() -> None:
    centre = at(NON_SQUARE, 1.2, 1.1)
    roi = EllipseRoi(
        lesion_id="a",
        plane_normal_lps=(0, 0, 1),
        centre_lps=centre,
        axis1_end_lps=centre + np.array([3.0, 0, 0]),
        axis2_end_lps=centre + np.array([0, 8.0, 0]),
    )
    assert_stats_match(NON_SQUARE, roi, reference_ellipse_mask(NON_SQUARE, roi))
    far = roi.translated((-500.0, 0, 0))
    stats = roi_stats(NON_SQUARE, far)
    assert stats.pixel_count == 0
    assert math.isnan(stats.mean)
    assert not roi_mask(NON_SQUARE, far).any()


def test_roi_off_the_plane_or_on_rgb_is_refused() -> None:
    centre = at(NON_SQUARE, 20, 20)
    roi = EllipseRoi(
        lesion_id="a",
        plane_normal_lps=(0, 0, 1),
        centre_lps=centre + np.array([0, 0, 3.0]),
        axis1_end_lps=centre + np.array([3.0, 0, 3.0]),
        axis2_end_lps=centre + np.array([0, 3.0, 3.0]),
    )
    with pytest.raises(ValueError, match="from the plane"):
        roi_stats(NON_SQUARE, roi)
    rgb = Slice(np.zeros((40, 60, 3), dtype=np.uint8), NON_SQUARE.pixel_to_lps)
    with pytest.raises(ValueError, match="RGB"):
        roi_stats(rgb, roi.translated((0, 0, -3.0)))


# --------------------------------------------------------------------- spacing


def projection(spacing_source: str) -> Volume:
    pixels = random_pixels(50, 40)[np.newaxis]
    affine = affine_from_axes((0, 0, 0), (0.15, 0, 0), (0, 0, -0.15), (0, 1.0, 0))
    return Volume(
        pixels, affine, spacing_source=spacing_source, is_projection=True, modality="DX"
    )


def _roi_on(volume: Volume) -> EllipseRoi:
    affine = volume.ijk_to_lps
    centre = (affine @ np.array([20.3, 25.1, 0, 1.0]))[:3]
    return EllipseRoi(
        lesion_id="a",
        plane_normal_lps=np.cross(affine[:3, 0], affine[:3, 1]),
        centre_lps=centre,
        axis1_end_lps=centre + 2.0 * affine[:3, 0] / 0.15,
        axis2_end_lps=centre + 1.0 * affine[:3, 1] / 0.15,
    )


@pytest.mark.parametrize("source", ["none", ""])
def test_no_spacing_refuses_mm(source: str) -> None:
    volume = projection(source)
    assert spacing_source_of(volume) == "none"
    roi = _roi_on(volume)
    with pytest.raises(
        NoSpacingError, match=r"neither Pixel Spacing nor Imager Pixel Spacing"
    ):
        roi_stats(volume, roi)
    ruler = Ruler(
        lesion_id="a",
        plane_normal_lps=(0, 1, 0),
        start_lps=(0, 0, 0),
        end_lps=(1, 0, 0),
    )
    with pytest.raises(NoSpacingError, match=r"a length cannot be given in mm"):
        measure(ruler, spacing_source=spacing_source_of(volume))
    with pytest.raises(NoSpacingError):
        length_mm((0, 0, 0), (1, 0, 0), spacing_source="none")
    with pytest.raises(NoSpacingError):
        measure(roi, spacing_source="none")
    # Angles need no spacing; the result still says there was none.
    angle = Angle(
        lesion_id="a",
        plane_normal_lps=(0, 1, 0),
        first_lps=(1, 0, 0),
        vertex_lps=(0, 0, 0),
        second_lps=(0, 0, 1),
    )
    assert measure(angle, spacing_source="none") == (
        Measurement("angle", 90.0, "deg", "none"),
    )


def test_a_3d_volume_without_pixel_spacing_refuses_mm() -> None:
    volume = Volume(
        oblique_volume().voxels, oblique_volume().ijk_to_lps, spacing_source="none"
    )
    centre = (volume.ijk_to_lps @ np.array([10.2, 10.1, 3, 1.0]))[:3]
    roi = EllipseRoi(
        lesion_id="a",
        plane_normal_lps=(0, 0, 1),
        centre_lps=centre,
        axis1_end_lps=centre + np.array([3.0, 0, 0]),
        axis2_end_lps=centre + np.array([0, 3.0, 0]),
    )
    with pytest.raises(NoSpacingError):
        roi_stats(volume, roi)


def test_projection_measurements_say_which_spacing() -> None:
    volume = projection(IMAGER)
    source = spacing_source_of(volume)
    assert source == IMAGER
    stats = roi_stats(volume, _roi_on(volume))
    assert stats.spacing_source == IMAGER
    assert stats.pixel_count > 0
    ruler = Ruler(
        lesion_id="a",
        plane_normal_lps=(0, 1, 0),
        start_lps=(0, 0, 0),
        end_lps=(0.15 * 20, 0, 0),
    )
    (result,) = measure(ruler, spacing_source=source)
    assert result.spacing_source == IMAGER
    assert result.value == pytest.approx(3.0)


# -------------------------------------------------------------- display planes


def test_a_marker_on_a_sagittal_plane_shows_on_the_planes_through_it() -> None:
    volume = oblique_volume()
    cursor = np.array([-6.0, 2.0, 55.0])
    sagittal = plane_for(volume, "sagittal", cursor)
    # Somewhere on the sagittal plane, off the cursor and off the pixel grid.
    position = (sagittal.pixel_to_lps() @ np.array([17.4, 9.6, 0, 1.0]))[:3]
    marker = PointMarker(
        lesion_id="a",
        plane_normal_lps=sagittal.normal_lps,
        frame_of_reference_uid=FRAME,
        position_lps=position,
    )
    assert is_within_slab(marker, sagittal, 0.0)
    for orientation in ("axial", "coronal"):
        through = plane_for(volume, orientation, position)
        assert is_within_slab(marker, through, 0.0, frame_of_reference_uid=FRAME)
        column, row = project_to_plane(position, through)
        back = (through.pixel_to_lps() @ np.array([column, row, 0, 1.0]))[:3]
        np.testing.assert_allclose(back, position, atol=1e-9)
        away = plane_for(volume, orientation, position + 5.0 * through.normal_lps)
        assert distance_to_plane_mm(position, away) == pytest.approx(-5.0)
        assert not is_within_slab(marker, away, 2.0)
        assert is_within_slab(marker, away, 12.0)
        assert not is_within_slab(marker, through, 0.0, frame_of_reference_uid="1.2.3")


def test_an_annotation_shows_only_where_all_of_it_is_in_the_slab() -> None:
    volume = oblique_volume()
    cursor = np.array([-6.0, 2.0, 55.0])
    ruler = Ruler(
        lesion_id="a",
        plane_normal_lps=(1, 0, 0),
        start_lps=cursor,
        end_lps=cursor + np.array([0, 0, 8.0]),  # along z on the sagittal plane
    )
    axial = plane_for(volume, "axial", cursor)
    assert not is_within_slab(ruler, axial, 4.0)
    assert is_within_slab(ruler, axial.translated(4.0), 8.0)
    coronal = plane_for(volume, "coronal", cursor)
    assert is_within_slab(ruler, coronal, 0.0)
    np.testing.assert_allclose(
        project_to_plane(ruler.points_lps, coronal)[1]
        - project_to_plane(ruler.points_lps, coronal)[0],
        [0.0, -8.0 / coronal.spacing_mm[1]],
    )


def test_annotations_without_a_frame_of_reference_stay_on_their_image() -> None:
    volume = projection(IMAGER)
    plane = plane_for(volume, "coronal", (0, 0, 0))
    marker = PointMarker(
        lesion_id="a",
        plane_normal_lps=(0, 1, 0),
        referenced_sop_instance_uid="1.2.3.4",
        position_lps=(1.0, 0.0, -1.0),
    )
    assert is_within_slab(marker, plane, 1.0)
    assert is_within_slab(
        marker, plane, 1.0, frame_of_reference_uid="", sop_instance_uid="1.2.3.4"
    )
    assert not is_within_slab(
        marker, plane, 1.0, frame_of_reference_uid="", sop_instance_uid="9.9"
    )
    assert not is_within_slab(marker, plane, 1.0, frame_of_reference_uid="")
