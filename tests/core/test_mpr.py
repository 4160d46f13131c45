"""Multiplanar reformatting against independent references.

References are never our own code: SimpleITK reading the DICOM files itself
(ImageSeriesReader) or, where ITK cannot read the series (mosaics, tilted CT),
our loaded voxels placed by a SimpleITK image built here and resampled with a
plain ``sitk.Resample`` / ``EvaluateAtPhysicalPoint`` on a grid built here;
analytic functions (trilinear interpolation of a linear function is exact);
and numpy indexing written out in the test.
"""

from __future__ import annotations

import math
import tracemalloc
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk

from imaging_viewer.core import mpr, row_bands
from imaging_viewer.core.dicom.load import load_volume
from imaging_viewer.core.dicom.scan import scan_folder
from imaging_viewer.core.geometry import affine_from_axes, orientation_label
from imaging_viewer.core.mpr import (
    ORIENTATIONS,
    Slice,
    SlicePlane,
    native_rotation,
    plane_for,
    plane_to_sitk_image,
    reslice,
    sitk_backed,
    slice_step_mm,
    snapped_to_voxels,
)
from imaging_viewer.core.volume import Volume

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from numpy.typing import NDArray

    from tests.conftest import MakeSeries

# The radiological display convention, restated here (PS3.3 C.7.6.2.1.1 LPS):
# screen right and screen down of each view.
CONVENTION = {
    "axial": ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),
    "coronal": ((1.0, 0.0, 0.0), (0.0, 0.0, -1.0)),
    "sagittal": ((0.0, 1.0, 0.0), (0.0, 0.0, -1.0)),
}
# Letters on the left and top edges of each view.
LEFT_TOP = {"axial": ("R", "A"), "coronal": ("R", "S"), "sagittal": ("A", "S")}

# ijk_to_lps direction columns (i, j, k) of slices acquired in each plane.
ACQUISITIONS = {
    "axial": ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
    "coronal": ((1, 0, 0), (0, 0, -1), (0, 1, 0)),
    "sagittal": ((0, 1, 0), (0, 0, -1), (-1, 0, 0)),
}


# ------------------------------------------------------------------ helpers


def rotation(axis: tuple[float, float, float], angle_deg: float) -> NDArray[Any]:
    """Rodrigues' rotation about ``axis``."""
    u = np.asarray(axis, dtype=np.float64)
    u /= np.linalg.norm(u)
    a = math.radians(angle_deg)
    cross = np.array([[0, -u[2], u[1]], [u[2], 0, -u[0]], [-u[1], u[0], 0]])
    result: NDArray[Any] = (
        np.cos(a) * np.eye(3) + np.sin(a) * cross + (1 - np.cos(a)) * np.outer(u, u)
    )
    return result


DOUBLE_OBLIQUE = rotation((1, 0, 0), 23.0) @ rotation((0, 0, 1), -31.0)


def grid_volume(
    shape_kji: tuple[int, int, int],
    spacing_mm: tuple[float, float, float],
    acquisition: str = "axial",
    origin_lps: tuple[float, float, float] = (-20.0, -35.0, 12.0),
    values: Callable[..., NDArray[Any]] | None = None,
    dtype: Any = np.int16,
    tilt: NDArray[Any] | None = None,
) -> Volume:
    """A Volume with ``voxels[k, j, i] = values(i, j, k)`` (default: distinct)."""
    columns = np.array(ACQUISITIONS[acquisition], dtype=np.float64).T
    if tilt is not None:
        columns = tilt @ columns
    affine = affine_from_axes(
        origin_lps,
        columns[:, 0] * spacing_mm[0],
        columns[:, 1] * spacing_mm[1],
        columns[:, 2] * spacing_mm[2],
    )
    k, j, i = np.indices(shape_kji)
    if values is None:
        voxels = ((i + 7 * j + 31 * k) % 2000 - 1000).astype(dtype)
    else:
        voxels = np.asarray(values(i, j, k, affine)).astype(dtype)
    return Volume(voxels=voxels, ijk_to_lps=affine)


def linear_lps(
    gradient: tuple[float, float, float], offset: float
) -> Callable[..., NDArray[Any]]:
    """values(i, j, k, affine) of f(x, y, z) = gradient · (x, y, z) + offset."""

    def values(i: Any, j: Any, k: Any, affine: NDArray[Any]) -> NDArray[Any]:
        ijk = np.stack([i, j, k], axis=-1).astype(np.float64)
        lps = ijk @ affine[:3, :3].T + affine[:3, 3]
        result: NDArray[Any] = lps @ np.asarray(gradient) + offset
        return result

    return values


def pixel_centres_lps(plane: SlicePlane) -> NDArray[np.float64]:
    """LPS of every pixel centre, ``[row, column, 3]``, from the plane's fields."""
    columns, rows = plane.size_px
    c = np.arange(columns)[np.newaxis, :, np.newaxis]
    r = np.arange(rows)[:, np.newaxis, np.newaxis]
    result: NDArray[np.float64] = (
        plane.origin_lps
        + c * plane.spacing_mm[0] * plane.right_lps
        + r * plane.spacing_mm[1] * plane.down_lps
    )
    return result


def continuous_index(
    ijk_to_lps: NDArray[np.float64], points_lps: NDArray[np.float64]
) -> NDArray[np.float64]:
    lps_to_ijk = np.linalg.inv(ijk_to_lps)
    result: NDArray[np.float64] = points_lps @ lps_to_ijk[:3, :3].T + lps_to_ijk[:3, 3]
    return result


def within(index: NDArray[Any], shape_kji: tuple[int, ...], low: float, high: float):
    """Pixels whose continuous (i, j, k) lies in [low, n - 1 + high] on every axis."""
    sizes = np.array(shape_kji[::-1], dtype=np.float64)
    return np.all((index >= low) & (index <= sizes - 1 + high), axis=-1)


def reference_image(voxels: NDArray[Any], ijk_to_lps: NDArray[Any]) -> Any:
    """A SimpleITK image of ``voxels[k, j, i]`` placed by ``ijk_to_lps``."""
    image = sitk.GetImageFromArray(np.ascontiguousarray(voxels))
    spacing = np.linalg.norm(ijk_to_lps[:3, :3], axis=0)
    image.SetOrigin(ijk_to_lps[:3, 3].tolist())
    image.SetSpacing(spacing.tolist())
    image.SetDirection((ijk_to_lps[:3, :3] / spacing).ravel().tolist())
    return image


def itk_index(image: Any, points_lps: NDArray[np.float64]) -> NDArray[np.float64]:
    """Continuous (i, j, k) in ``image`` of LPS points, from the image's geometry."""
    direction = np.array(image.GetDirection()).reshape(3, 3)
    scaled = direction * np.array(image.GetSpacing())
    result: NDArray[np.float64] = np.linalg.solve(
        scaled, (points_lps - np.array(image.GetOrigin())).reshape(-1, 3).T
    ).T.reshape(points_lps.shape)
    return result


def resample_reference(
    image: Any, plane: SlicePlane, right: Any, down: Any, offset_mm: float = 0.0
) -> NDArray[np.float64]:
    """Plain ``sitk.Resample`` of ``image`` onto the plane's grid (float64).

    The output grid is built here from the convention's axes, the plane's
    origin, spacing and size.
    """
    right, down = np.asarray(right, float), np.asarray(down, float)
    normal = np.cross(right, down)
    origin = plane.origin_lps + offset_mm * normal
    columns, rows = plane.size_px
    result = sitk.Resample(
        image,
        [columns, rows, 1],
        sitk.Transform(),
        sitk.sitkLinear,
        origin.tolist(),
        [plane.spacing_mm[0], plane.spacing_mm[1], 1.0],
        np.column_stack([right, down, normal]).ravel().tolist(),
        math.nan,
        sitk.sitkFloat64,
    )
    return sitk.GetArrayFromImage(result)[0]


def plane_axes(plane: SlicePlane, rotation_matrix: Any, orientation: str):
    right, down = (np.array(v) for v in CONVENTION[orientation])
    if rotation_matrix is not None:
        right, down = rotation_matrix @ right, rotation_matrix @ down
    return right, down


def assert_view_or_one_copy(pixels: NDArray[Any], voxels: NDArray[Any]) -> None:
    """Grid planes are views of the voxels, or one compact copy when a view's
    rows would be strided (e.g. sagittal planes of an axial stack)."""
    if np.shares_memory(pixels, voxels):
        assert not pixels.flags.writeable  # the voxels cannot be edited through it
    else:
        assert pixels.flags.c_contiguous
        assert pixels.base is None


def assert_matches_itk(
    sliced: Slice,
    volume: Volume,
    image: Any,
    plane: SlicePlane,
    right: Any,
    down: Any,
    min_compared: int = 100,
) -> None:
    """Our pixels vs ITK's linear resampling, where both are clearly in or out."""
    expected = resample_reference(image, plane, right, down)
    index = itk_index(image, pixel_centres_lps(plane))
    size = image.GetSize()[::-1]
    inside = within(index, size, -0.5 + 1e-3, 0.5 - 1e-3)
    outside = ~within(index, size, -0.5 - 1e-3, 0.5 + 1e-3)
    pixels = sliced.pixels.astype(np.float64)
    assert inside.sum() >= min_compared
    tolerance = 0.5 + 1e-3 if volume.voxels.dtype.kind in "iu" else 1e-3
    error = np.abs(pixels[inside] - expected[inside])
    assert float(error.max()) <= tolerance, (
        f"{int((error > tolerance).sum())} of {inside.sum()} pixels differ, "
        f"max {error.max():.3f}"
    )
    assert np.all(pixels[outside] == float(volume.voxels.min()))


# ------------------------------------------------------------------ corpus


@cache
def _load_all(folder: str) -> tuple[Volume, ...]:
    return tuple(load_volume(s) for s in scan_folder(folder).series)


def load_one(folder: Path) -> Volume:
    volumes = _load_all(str(folder))
    assert len(volumes) == 1, f"{folder}: {len(volumes)} series"
    return volumes[0]


def orientation_series(corpus: Path) -> list[Path]:
    root = corpus / "dcm_qa_orientation" / "In" / "Orientation"
    return sorted(
        p for plane in ("ax", "cor", "sag") for p in root.glob(f"{plane}/*35")
    )


def volume_centre_lps(volume: Volume) -> NDArray[np.float64]:
    nk, nj, ni = volume.shape_kji
    result: NDArray[np.float64] = (
        volume.ijk_to_lps @ [(ni - 1) / 2, (nj - 1) / 2, (nk - 1) / 2, 1.0]
    )[:3]
    return result


def test_orientation_mosaics_against_itk(corpus: Path) -> None:
    # Siemens mosaics acquired axially, coronally and sagittally (ascending,
    # descending, interleaved): ITK cannot un-mosaic them, so our voxels of time
    # point 0 are the voxel source, placed and resampled by SimpleITK alone.
    folders = orientation_series(corpus)
    assert len(folders) == 9
    for folder in folders:
        volume = load_one(folder)
        assert volume.n_time_points == 2
        image = reference_image(volume.voxels[0], volume.ijk_to_lps)
        cursor = volume_centre_lps(volume) + np.array([3.3, -4.1, 2.7])
        for orientation in ORIENTATIONS:
            for rotation_matrix in (None, DOUBLE_OBLIQUE):
                plane = plane_for(volume, orientation, cursor, rotation_matrix)
                right, down = plane_axes(plane, rotation_matrix, orientation)
                np.testing.assert_allclose(plane.right_lps, right, atol=1e-12)
                np.testing.assert_allclose(plane.down_lps, down, atol=1e-12)
                sliced = reslice(volume, plane, time_index=0)
                assert sliced.pixels.dtype == np.int16
                assert_matches_itk(sliced, volume, image, plane, right, down)


def test_orientation_mosaics_screen_directions(corpus: Path) -> None:
    for folder in orientation_series(corpus):
        volume = load_one(folder)
        cursor = volume_centre_lps(volume)
        for orientation in ORIENTATIONS:
            plane = plane_for(volume, orientation, cursor)
            right, down = CONVENTION[orientation]
            assert plane.right_lps.tolist() == list(right)
            assert plane.down_lps.tolist() == list(down)
            left_letter, top_letter = LEFT_TOP[orientation]
            assert orientation_label(-plane.right_lps) == left_letter
            assert orientation_label(-plane.down_lps) == top_letter


def test_sagittal_mosaic_uses_the_voxels(corpus: Path) -> None:
    # Acquired exactly sagittally: all three views are grid planes, served by
    # numpy; the sagittal one is the acquired slice itself.
    volume = load_one(corpus / "dcm_qa_orientation/In/Orientation/sag/sagasc35")
    k_middle = volume.shape_kji[0] // 2
    cursor = (volume.ijk_to_lps @ [10, 20, k_middle, 1.0])[:3]
    plane = plane_for(volume, "sagittal", cursor)
    sliced = reslice(volume, plane, time_index=1)
    assert np.shares_memory(sliced.pixels, volume.voxels)
    # Sagittal acquisition: i runs +y (screen right), j runs -z (screen down).
    np.testing.assert_array_equal(sliced.pixels, volume.voxels[1, k_middle])


def test_native_rotation_of_oblique_mosaic(corpus: Path) -> None:
    # An oblique acquisition seen in its own plane: no interpolation.
    volume = load_one(corpus / "dcm_qa_orientation/In/Orientation/ax/axasc35")
    cursor = (volume.ijk_to_lps @ [31, 30, 17, 1.0])[:3]
    for orientation in ORIENTATIONS:
        turn = native_rotation(volume, orientation)
        np.testing.assert_allclose(turn @ turn.T, np.eye(3), atol=1e-12)
        assert np.linalg.det(turn) == pytest.approx(1.0)
        plane = plane_for(volume, orientation, cursor, turn)
        sliced = reslice(volume, plane)
        assert_view_or_one_copy(sliced.pixels, volume.voxels)
        assert abs(plane.lps_to_pixel(cursor)[2]) < 1e-9
    axial = reslice(
        volume, plane_for(volume, "axial", cursor, native_rotation(volume, "axial"))
    )
    np.testing.assert_array_equal(axial.pixels, volume.voxels[0, 17])


def philips_ct(corpus: Path) -> tuple[Volume, Any]:
    folder = corpus / "dcm_qa_ct/In/Philips/S21570/S2010"
    volume = load_one(folder)
    names = sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder))
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(names)
    return volume, reader.Execute()


def test_ct_against_itk_series_reader(corpus: Path) -> None:
    # Reference: ITK reads the DICOM files itself (GDCM geometry and voxels).
    volume, image = philips_ct(corpus)
    assert volume.voxels.shape == image.GetSize()[::-1]
    centre = volume_centre_lps(volume)
    cursors = (
        centre + np.array([0.3, -7.7, 1.9]),
        centre + np.array([-20.2, 15.55, -35.0]),
    )
    for cursor in cursors:
        for orientation in ORIENTATIONS:
            for rotation_matrix in (None, DOUBLE_OBLIQUE):
                plane = plane_for(volume, orientation, cursor, rotation_matrix)
                right, down = plane_axes(plane, rotation_matrix, orientation)
                sliced = reslice(volume, plane)
                assert_matches_itk(sliced, volume, image, plane, right, down)
    # Spot checks through a different ITK code path.
    plane = plane_for(volume, "sagittal", cursors[0], DOUBLE_OBLIQUE)
    sliced = reslice(volume, plane)
    points = pixel_centres_lps(plane)
    index = itk_index(image, points)
    inside = np.argwhere(within(index, image.GetSize()[::-1], 0.0, 0.0))
    rng = np.random.default_rng(3)
    for r, c in inside[rng.choice(len(inside), 200, replace=False)]:
        expected = image.EvaluateAtPhysicalPoint(points[r, c].tolist(), sitk.sitkLinear)
        assert abs(float(sliced.pixels[r, c]) - expected) <= 0.5 + 1e-3


def test_ct_views_have_radiological_letters(corpus: Path) -> None:
    # An axially acquired CT: sagittal shows anterior on the left, coronal and
    # axial the patient's right on the left.
    volume, _ = philips_ct(corpus)
    on_voxel = (volume.ijk_to_lps @ [200, 300, 13, 1.0])[:3]
    for orientation in ORIENTATIONS:
        plane = plane_for(volume, orientation, on_voxel)
        left_letter, top_letter = LEFT_TOP[orientation]
        assert orientation_label(-plane.right_lps) == left_letter
        assert orientation_label(-plane.down_lps) == top_letter
        assert (
            orientation_label(plane.right_lps) + orientation_label(plane.down_lps)
            == {"axial": "LP", "coronal": "LI", "sagittal": "PI"}[orientation]
        )
        sliced = reslice(volume, plane)
        # Axial and coronal: views; sagittal: one copy (its rows run along j).
        if orientation == "sagittal":
            assert not np.shares_memory(sliced.pixels, volume.voxels)
        assert_view_or_one_copy(sliced.pixels, volume.voxels)


def test_ct_slab_mip_against_itk(corpus: Path) -> None:
    # 10 mm axial slab on 5 mm slices at a slice centre: the slices at -5, 0
    # and +5 mm, each resampled by ITK, maximum taken here.
    volume, image = philips_ct(corpus)
    cursor = (volume.ijk_to_lps @ [200.2, 300.7, 13, 1.0])[:3]
    plane = plane_for(volume, "axial", cursor)
    right, down = CONVENTION["axial"]
    planes = [resample_reference(image, plane, right, down, d) for d in (-5, 0, 5)]
    for mode, reduce in (("mip", np.max), ("minip", np.min), ("mean", np.mean)):
        sliced = reslice(volume, plane, slab_mm=10.0, slab_mode=mode)
        expected = reduce(planes, axis=0)
        assert np.abs(sliced.pixels - expected).max() <= 0.5 + 1e-6, mode


def test_tilted_ct_against_itk_and_its_acquired_slices(corpus: Path) -> None:
    # GE CT with an 18.5° gantry tilt, resampled onto a regular grid by the
    # loader (ITK would read it as unsheared, so our voxels are the source).
    folder = corpus / "dcm_qa_ct/In/GE"
    volume = load_one(folder)
    image = reference_image(volume.voxels, volume.ijk_to_lps)
    cursor = volume_centre_lps(volume) + np.array([1.1, 2.2, -3.3])
    for orientation in ORIENTATIONS:
        plane = plane_for(volume, orientation, cursor)
        right, down = CONVENTION[orientation]
        assert plane.right_lps.tolist() == list(right)
        sliced = reslice(volume, plane)
        assert_matches_itk(sliced, volume, image, plane, right, down)
    # An acquired slice, as a plane built from its header, comes back.
    files = sorted(folder.glob("*.dcm"))
    ds = pydicom.dcmread(files[len(files) // 2])
    iop = np.array(ds.ImageOrientationPatient, dtype=np.float64)
    plane = SlicePlane(
        origin_lps=np.array(ds.ImagePositionPatient, dtype=np.float64),
        right_lps=iop[:3],
        down_lps=iop[3:],
        spacing_mm=(float(ds.PixelSpacing[1]), float(ds.PixelSpacing[0])),
        size_px=(int(ds.Columns), int(ds.Rows)),
    )
    acquired = ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    resliced = reslice(volume, plane).pixels.astype(np.float64)
    body = acquired > -500
    assert body.mean() > 0.2
    difference = np.abs(resliced - acquired)[body]
    # Two linear interpolations (the loader's, then ours) of real CT.
    assert float(np.median(difference)) < 10.0
    assert np.corrcoef(resliced[body], acquired[body])[0, 1] > 0.98


def test_make_series_volume_round_trip(make_series: MakeSeries) -> None:
    # A coronal synthetic series through scan + load: the coronal view is the
    # acquired slice, the others are grid planes of it.
    series = make_series(
        shape=(6, 9, 11),
        spacing_mm=(0.7, 1.1, 2.0),
        orientation=(1.0, 0.0, 0.0, 0.0, 0.0, -1.0),
    )
    volume = load_volume(scan_folder(series.folder).series[0])
    np.testing.assert_array_equal(volume.voxels, series.voxels)
    cursor = (series.ijk_to_lps @ [4, 5, 3, 1.0])[:3]
    coronal = reslice(volume, plane_for(volume, "coronal", cursor))
    np.testing.assert_array_equal(coronal.pixels, series.voxels[3])
    axial = reslice(volume, plane_for(volume, "axial", cursor))
    # Axial: right = +x = +i, down = +y = +k (the slice normal), at row j = 5.
    np.testing.assert_array_equal(axial.pixels, series.voxels[:, 5, :])
    assert axial.spacing_mm == pytest.approx((0.7, 2.0))


# --------------------------------------------------------------- synthetic


@pytest.mark.parametrize("acquisition", list(ACQUISITIONS))
def test_display_axes_whatever_the_acquisition(acquisition: str) -> None:
    volume = grid_volume((5, 6, 7), (0.8, 0.6, 2.5), acquisition)
    cursor = (volume.ijk_to_lps @ [3, 2, 1, 1.0])[:3]
    for orientation in ORIENTATIONS:
        plane = plane_for(volume, orientation, cursor)
        right, down = CONVENTION[orientation]
        assert plane.right_lps.tolist() == list(right)
        assert plane.down_lps.tolist() == list(down)
        np.testing.assert_array_equal(plane.normal_lps, np.cross(right, down))
        left_letter, top_letter = LEFT_TOP[orientation]
        assert orientation_label(-plane.right_lps) == left_letter
        assert orientation_label(-plane.down_lps) == top_letter


@pytest.mark.parametrize("acquisition", list(ACQUISITIONS))
def test_grid_planes_are_views_of_the_voxels(acquisition: str) -> None:
    # Anisotropic voxels; pixel (c, r) must be the voxel whose centre is there.
    volume = grid_volume((5, 6, 7), (0.5, 0.8, 3.0), acquisition)
    spacing_ijk = np.array([0.5, 0.8, 3.0])
    cursor = (volume.ijk_to_lps @ [3, 2, 1, 1.0])[:3]
    for orientation in ORIENTATIONS:
        plane = plane_for(volume, orientation, cursor)
        sliced = reslice(volume, plane)
        assert_view_or_one_copy(sliced.pixels, volume.voxels)
        assert sliced.pixels.dtype == np.int16
        index = continuous_index(volume.ijk_to_lps, pixel_centres_lps(plane))
        np.testing.assert_allclose(index, np.round(index), atol=1e-9)
        i, j, k = np.round(index).astype(int).transpose(2, 0, 1)
        np.testing.assert_array_equal(sliced.pixels, volume.voxels[k, j, i])
        # One pixel per voxel: the spacing is the voxel spacing.
        steps = np.abs(np.linalg.solve(volume.ijk_to_lps, plane.pixel_to_lps())[:3, :2])
        assert sorted(steps.max(axis=0).tolist()) == [1.0, 1.0]
        spacing = tuple(spacing_ijk[np.argmax(steps, axis=0)])
        assert plane.spacing_mm == pytest.approx(spacing)


def test_plane_covers_the_whole_volume_wherever_the_cursor() -> None:
    volume = grid_volume((9, 12, 10), (0.9, 0.9, 2.0), "axial")
    corners = np.array(
        [
            volume.ijk_to_lps @ [i, j, k, 1.0]
            for i in (0, 9)
            for j in (0, 11)
            for k in (0, 8)
        ]
    )[:, :3]
    centre = volume_centre_lps(volume)
    for orientation in ORIENTATIONS:
        for rotation_matrix in (None, DOUBLE_OBLIQUE):
            planes = [
                plane_for(volume, orientation, cursor, rotation_matrix)
                for cursor in (centre, centre + np.array([30.0, -40.0, 50.0]))
            ]
            # Moving the cursor moves the plane only along its normal.
            assert planes[0].size_px == planes[1].size_px
            shift = planes[1].origin_lps - planes[0].origin_lps
            np.testing.assert_allclose(
                np.cross(shift, planes[0].normal_lps), 0.0, atol=1e-9
            )
            for plane in planes:
                column_row = plane.lps_to_pixel(corners)[:, :2]
                assert np.all(column_row >= -1e-9)
                assert np.all(column_row <= np.array(plane.size_px) - 1 + 1e-9)


def test_cursor_outside_the_volume_gives_the_minimum() -> None:
    volume = grid_volume((5, 6, 7), (0.8, 0.6, 2.5))
    far = volume_centre_lps(volume) + np.array([100.0, 100.0, 100.0])
    for orientation in ORIENTATIONS:
        for rotation_matrix in (None, DOUBLE_OBLIQUE):
            plane = plane_for(volume, orientation, far, rotation_matrix)
            for interpolation in ("linear", "nearest"):
                for slab_mm in (0.0, 4.0):
                    pixels = reslice(
                        volume, plane, interpolation=interpolation, slab_mm=slab_mm
                    ).pixels
                    assert pixels.shape == plane.size_px[::-1]
                    assert np.all(pixels == volume.voxels.min())


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_between_slices_linear_or_nearest(orientation: str) -> None:
    volume = grid_volume((5, 6, 7), (0.8, 0.6, 2.5))
    # 30% of the way from one grid plane to the next along every axis.
    cursor = (volume.ijk_to_lps @ [3.3, 2.3, 1.3, 1.0])[:3]
    plane = plane_for(volume, orientation, cursor)
    index = continuous_index(volume.ijk_to_lps, pixel_centres_lps(plane))
    low = np.floor(index + 1e-9).astype(int)
    fraction = index - low
    through = int(np.argmax(fraction[0, 0]))
    np.testing.assert_allclose(fraction[..., through], 0.3, atol=1e-9)
    high = low.copy()
    high[..., through] += 1
    a = volume.voxels[low[..., 2], low[..., 1], low[..., 0]].astype(np.float64)
    b = volume.voxels[high[..., 2], high[..., 1], high[..., 0]].astype(np.float64)
    linear = reslice(volume, plane).pixels
    assert linear.dtype == np.int16
    np.testing.assert_array_equal(linear, np.rint(0.7 * a + 0.3 * b))
    nearest = reslice(volume, plane, interpolation="nearest").pixels
    assert_view_or_one_copy(nearest, volume.voxels)
    np.testing.assert_array_equal(nearest, a)
    snapped = snapped_to_voxels(volume, plane)
    np.testing.assert_array_equal(reslice(volume, snapped).pixels, a)
    step = {"axial": 2.5, "coronal": 0.6, "sagittal": 0.8}[orientation]
    assert slice_step_mm(volume, plane) == pytest.approx(step)
    # In the outer half voxel the edge plane holds (as ITK does); beyond, outside.
    # d(through index)/d(mm along the normal) is ±1/step.
    per_mm = float(np.linalg.solve(volume.ijk_to_lps, plane.pixel_to_lps())[through, 2])
    edge = plane.translated((-0.4 - low[0, 0, through] - 0.3) / per_mm)
    on_edge = low.copy()
    on_edge[..., through] = 0
    expected_edge = volume.voxels[on_edge[..., 2], on_edge[..., 1], on_edge[..., 0]]
    np.testing.assert_array_equal(reslice(volume, edge).pixels, expected_edge)
    beyond = plane.translated((-0.6 - low[0, 0, through] - 0.3) / per_mm)
    assert np.all(reslice(volume, beyond).pixels == volume.voxels.min())


@pytest.mark.parametrize("dtype", [np.float32, np.int16])
def test_oblique_plane_of_a_linear_function_is_exact(dtype: Any) -> None:
    # Trilinear interpolation reproduces a linear function exactly, so every
    # pixel inside the voxel centres equals f at the pixel centre.
    gradient, offset = (2.0, -3.0, 0.5), 7.0
    if dtype == np.int16:
        # Integer-valued and linear in the indices, hence in LPS.
        def values(i: Any, j: Any, k: Any, _: Any) -> NDArray[Any]:
            result: NDArray[Any] = 3 * i - 5 * j + 11 * k
            return result
    else:
        values = linear_lps(gradient, offset)
    tilt = rotation((0.3, 1.0, 0.2), 17.0)  # an oblique acquisition
    volume = grid_volume(
        (14, 17, 19), (0.9, 1.3, 2.2), "coronal", values=values, dtype=dtype, tilt=tilt
    )
    cursor = volume_centre_lps(volume) + np.array([0.7, -1.1, 0.4])
    for orientation in ORIENTATIONS:
        plane = plane_for(volume, orientation, cursor, DOUBLE_OBLIQUE)
        sliced = reslice(volume, plane)
        assert sliced.pixels.dtype == dtype
        index = continuous_index(volume.ijk_to_lps, pixel_centres_lps(plane))
        inside = within(index, volume.shape_kji, 0.0, 0.0)
        assert inside.sum() > 50
        if dtype == np.int16:
            i, j, k = index[..., 0], index[..., 1], index[..., 2]
            expected = 3 * i - 5 * j + 11 * k
            tolerance = 0.5 + 1e-3
        else:
            expected = pixel_centres_lps(plane) @ np.array(gradient) + offset
            tolerance = 1e-5 * float(np.abs(expected).max())  # float32
        error = np.abs(sliced.pixels[inside] - expected[inside])
        assert float(error.max()) <= tolerance
        outside = ~within(index, volume.shape_kji, -0.5 - 1e-6, 0.5 + 1e-6)
        assert np.all(sliced.pixels[outside] == volume.voxels.min())


def test_oblique_nearest_picks_voxels() -> None:
    volume = grid_volume((12, 13, 14), (1.0, 1.2, 1.9))
    plane = plane_for(volume, "coronal", volume_centre_lps(volume), DOUBLE_OBLIQUE)
    pixels = reslice(volume, plane, interpolation="nearest").pixels
    index = continuous_index(volume.ijk_to_lps, pixel_centres_lps(plane))
    inside = within(index, volume.shape_kji, -0.49, 0.49)
    # Leave out pixels within 1e-3 voxel of a tie between two voxels.
    tie = np.abs(np.abs(index - np.round(index)) - 0.5) < 1e-3
    clear = inside & ~np.any(tie, axis=-1)
    i, j, k = np.floor(index[clear] + 0.5).astype(int).T
    np.testing.assert_array_equal(pixels[clear], volume.voxels[k, j, i])


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_grid_slab_projections(orientation: str) -> None:
    # 3 mm spacing along every axis, slab 7 mm: the plane's slice ± 1 (± 3 mm),
    # fewer at the volume's edges.
    volume = grid_volume(
        (8, 9, 10),
        (3.0, 3.0, 3.0),
        "axial",
        values=lambda i, j, k, _: (i * 37 + j * 11 + k * k * 13) % 101 - 50,
    )
    through = {"axial": 2, "coronal": 1, "sagittal": 0}[orientation]
    n = volume.shape_kji[2 - through]
    for centre in ((4, 4, 4), (0, 0, 0), (9, 8, 7)):
        cursor = (volume.ijk_to_lps @ [*centre, 1.0])[:3]
        plane = plane_for(volume, orientation, cursor)
        index = np.round(
            continuous_index(volume.ijk_to_lps, pixel_centres_lps(plane))
        ).astype(int)
        samples = []
        for d in (-1, 0, 1):
            if 0 <= centre[through] + d < n:
                i, j, k = (index + d * np.eye(3, dtype=int)[through]).transpose(2, 0, 1)
                samples.append(volume.voxels[k, j, i].astype(np.float64))
        for mode, reduce in (("mip", np.max), ("minip", np.min), ("mean", np.mean)):
            pixels = reslice(volume, plane, slab_mm=7.0, slab_mode=mode).pixels
            assert pixels.dtype == np.int16
            expected = np.rint(reduce(samples, axis=0))
            np.testing.assert_array_equal(pixels, expected, err_msg=mode)


def test_oblique_slab_of_a_linear_function() -> None:
    # f = g · p: across a slab along n the samples are f(centre) + m·step·(g · n)
    # for |m·step| <= slab/2, step = finest spacing.
    gradient = np.array([1.5, -0.5, 2.0])
    volume = grid_volume(
        (24, 22, 26),
        (1.0, 1.0, 1.25),
        values=linear_lps(tuple(gradient), 0.0),
        dtype=np.float32,
    )
    plane = plane_for(volume, "sagittal", volume_centre_lps(volume), DOUBLE_OBLIQUE)
    step, slab = 1.0, 6.5
    offsets = np.arange(-3, 4) * step
    slope = float(gradient @ plane.normal_lps)
    centres = pixel_centres_lps(plane)
    f = centres @ gradient
    index = [
        continuous_index(volume.ijk_to_lps, centres + d * plane.normal_lps)
        for d in offsets
    ]
    inside = np.logical_and.reduce([within(x, volume.shape_kji, 0, 0) for x in index])
    assert inside.sum() > 100
    expected = {
        "mip": f + abs(slope) * 3 * step,
        "minip": f - abs(slope) * 3 * step,
        "mean": f,
    }
    for mode, values in expected.items():
        pixels = reslice(volume, plane, slab_mm=slab, slab_mode=mode).pixels
        np.testing.assert_allclose(pixels[inside], values[inside], atol=2e-3)
    # Samples outside the volume are left out, not counted as the minimum.
    edge = plane.translated(volume.spacing_mm.max() * 40)
    assert np.all(
        reslice(volume, edge, slab_mm=slab, slab_mode="minip").pixels
        == volume.voxels.min()
    )


def test_oblique_slab_matches_itk_samples() -> None:
    volume = grid_volume((20, 21, 22), (0.8, 0.8, 2.0))
    image = reference_image(volume.voxels, volume.ijk_to_lps)
    plane = plane_for(volume, "axial", volume_centre_lps(volume), DOUBLE_OBLIQUE)
    right, down = plane_axes(plane, DOUBLE_OBLIQUE, "axial")
    samples = np.stack(
        [resample_reference(image, plane, right, down, m * 0.8) for m in range(-3, 4)]
    )
    pixels = reslice(volume, plane, slab_mm=5.0, slab_mode="mip").pixels
    all_inside = ~np.isnan(samples).any(axis=0)
    assert all_inside.sum() > 100
    assert (
        np.abs(pixels[all_inside] - samples.max(axis=0)[all_inside]).max() <= 0.5 + 1e-3
    )
    none_inside = np.isnan(samples).all(axis=0)
    assert np.all(pixels[none_inside] == volume.voxels.min())


def test_time_points() -> None:
    base = grid_volume((6, 7, 8), (1.0, 1.0, 2.0))
    voxels = np.stack([base.voxels, base.voxels * -1, base.voxels + 5])
    volume = Volume(voxels=voxels, ijk_to_lps=base.ijk_to_lps)
    cursor = (volume.ijk_to_lps @ [3.2, 2.9, 2, 1.0])[:3]
    for t in range(3):
        axial = reslice(volume, plane_for(volume, "axial", cursor), time_index=t)
        np.testing.assert_array_equal(axial.pixels, voxels[t, 2])
        plane = plane_for(volume, "coronal", cursor, DOUBLE_OBLIQUE)
        ours = reslice(volume, plane, time_index=t).pixels
        image = reference_image(voxels[t], base.ijk_to_lps)
        right, down = plane_axes(plane, DOUBLE_OBLIQUE, "coronal")
        expected = resample_reference(image, plane, right, down)
        valid = ~np.isnan(expected)
        assert valid.sum() > 50
        assert np.abs(ours[valid] - expected[valid]).max() <= 0.5 + 1e-3
        # Outside is the minimum over all time points.
        assert np.all(ours[~valid] == voxels.min())
    with pytest.raises(IndexError):
        reslice(volume, plane_for(volume, "axial", cursor), time_index=3)


def test_rgb_volumes() -> None:
    base = grid_volume((6, 7, 8), (1.0, 1.0, 1.0))
    rng = np.random.default_rng(0)
    voxels = rng.integers(1, 256, size=(*base.shape_kji, 3), dtype=np.uint8)
    volume = Volume(voxels=voxels, ijk_to_lps=base.ijk_to_lps)
    assert volume.is_rgb
    cursor = (volume.ijk_to_lps @ [2, 3, 4, 1.0])[:3]
    coronal = reslice(volume, plane_for(volume, "coronal", cursor)).pixels
    assert coronal.shape == (6, 8, 3)
    assert np.shares_memory(coronal, voxels)
    sagittal = reslice(volume, plane_for(volume, "sagittal", cursor)).pixels
    np.testing.assert_array_equal(sagittal, voxels[::-1, :, 2, :])
    np.testing.assert_array_equal(coronal, voxels[::-1, 3, :, :])
    plane = plane_for(volume, "axial", cursor, DOUBLE_OBLIQUE)
    for interpolation in ("linear", "nearest"):
        pixels = reslice(volume, plane, interpolation=interpolation).pixels
        assert pixels.dtype == np.uint8
        assert pixels.shape == (*plane.size_px[::-1], 3)
        index = continuous_index(volume.ijk_to_lps, pixel_centres_lps(plane))
        outside = ~within(index, volume.shape_kji, -0.5 - 1e-6, 0.5 + 1e-6)
        assert np.all(pixels[outside] == 0)
    mip = reslice(volume, plane, slab_mm=3.0)
    assert mip.pixels.dtype == np.uint8


def test_out_argument() -> None:
    volume = grid_volume((5, 6, 7), (0.8, 0.6, 2.5))
    cursor = (volume.ijk_to_lps @ [3, 2, 1.5, 1.0])[:3]
    for rotation_matrix in (None, DOUBLE_OBLIQUE):
        plane = plane_for(volume, "sagittal", cursor, rotation_matrix)
        out = np.empty(plane.size_px[::-1], dtype=np.int16)
        for slab_mm in (0.0, 5.0):
            sliced = reslice(volume, plane, out=out, slab_mm=slab_mm)
            assert sliced.pixels is out
            np.testing.assert_array_equal(
                out, reslice(volume, plane, slab_mm=slab_mm).pixels
            )
        with pytest.raises(ValueError, match="out must be"):
            reslice(volume, plane, out=np.empty((2, 2), dtype=np.int16))


@pytest.mark.parametrize("dtype", [np.int16, np.float32, np.uint8])
def test_row_bands_match_one_pass(monkeypatch: pytest.MonkeyPatch, dtype: Any) -> None:
    # Large grid-aligned planes are computed in row bands on several threads:
    # the same pixels as in one pass (oblique planes, resampled by ITK's own
    # threads, only up to float rounding of where the resampled rectangle starts).
    shape = (9, 11, 13, 3) if dtype == np.uint8 else (9, 11, 13)
    rgb = len(shape) == 4
    k, j, i = np.indices(shape[:3])
    voxels = (i + 7 * j + 31 * k) % 200 - (0 if dtype == np.uint8 else 100)
    if rgb:
        voxels = np.stack([voxels, 199 - voxels, voxels // 2], axis=-1)
    plain = grid_volume(shape[:3], (0.8, 0.6, 1.5))
    volume = Volume(voxels=voxels.astype(dtype), ijk_to_lps=plain.ijk_to_lps)
    between = (volume.ijk_to_lps @ [6.3, 5.3, 4.3, 1.0])[:3]
    on = (volume.ijk_to_lps @ [6.0, 5.0, 4.0, 1.0])[:3]
    cases = [
        (plane_for(volume, o, cursor, r), kwargs)
        for o in ORIENTATIONS
        for cursor in (on, between)
        for r in (None, DOUBLE_OBLIQUE)
        for kwargs in (
            {},
            {"interpolation": "nearest"},
            {"slab_mm": 4.0},
            {"slab_mm": 4.0, "slab_mode": "mean"},
        )
    ]
    monkeypatch.setattr(mpr, "_PARALLEL_MIN_PIXELS", 10**12)
    one_pass = [reslice(volume, p, **kw).pixels.copy() for p, kw in cases]
    bands_run = []
    real_in_bands = mpr._in_bands

    def counting(work: Any, rows: int, pixels: int, pieces: int = 0) -> None:
        bands_run.append(mpr._band_count(rows, pixels))
        real_in_bands(work, rows, pixels, pieces)

    monkeypatch.setattr(mpr, "_PARALLEL_MIN_PIXELS", 1)
    monkeypatch.setattr(row_bands, "worker_count", lambda: 3)
    monkeypatch.setattr(mpr, "_in_bands", counting)
    for (plane, kwargs), expected in zip(cases, one_pass, strict=True):
        pixels = reslice(volume, plane, **kwargs).pixels
        assert pixels.dtype == expected.dtype
        assert pixels.shape == expected.shape
        if dtype == np.float32:
            np.testing.assert_allclose(pixels, expected, rtol=1e-5, atol=1e-4)
        else:
            error = np.abs(pixels.astype(np.int64) - expected)
            assert error.max() <= 1, kwargs  # x.5 rounded the other way
            assert (error > 0).mean() < 0.01, kwargs
    assert bands_run
    assert min(bands_run) == 3


def test_oblique_footprint_covers_every_sampled_pixel() -> None:
    # SimpleITK resamples only the columns of each row that may meet the
    # volume: every pixel whose centre (or a slab sample) lies in the box of
    # voxel centres ± half a voxel must be among them, and most outside not.
    volume = grid_volume((9, 11, 13), (0.8, 0.6, 1.5))
    centre = volume_centre_lps(volume)
    turns = [DOUBLE_OBLIQUE, rotation((0, 1, 0), 40.0), rotation((1, 1, 1), 75.0)]
    listed_total = total = 0
    for orientation in ORIENTATIONS:
        for turn in turns:
            for shift in (0.0, 1.5):
                cursor = centre + shift * turn @ np.array([1.0, -1.0, 0.5])
                plane = plane_for(volume, orientation, cursor, turn)
                for reach in (0.0, 2.0):
                    low, high = mpr._footprint(volume, plane, reach)
                    columns, rows = plane.size_px
                    c = np.arange(columns)[np.newaxis, :]
                    listed = (c >= low[:, np.newaxis]) & (c < high[:, np.newaxis])
                    sampled = np.zeros((rows, columns), dtype=bool)
                    for offset in np.linspace(-reach, reach, 9):
                        points = pixel_centres_lps(plane) + offset * plane.normal_lps
                        index = continuous_index(volume.ijk_to_lps, points)
                        sampled |= within(index, volume.shape_kji, -0.5, 0.5)
                    assert sampled.any()
                    assert not np.any(sampled & ~listed)
                    listed_total += int(listed.sum())
                    total += listed.size
    assert listed_total < 0.8 * total


def test_sitk_backed_voxels_are_shared_not_copied() -> None:
    plain = grid_volume((16, 17, 18), (1.0, 1.0, 1.5))
    voxels = sitk_backed(plain.voxels)
    assert voxels.flags.writeable
    assert voxels.flags.c_contiguous
    np.testing.assert_array_equal(voxels, plain.voxels)
    assert sitk_backed(voxels) is voxels
    volume = Volume(voxels=voxels, ijk_to_lps=plain.ijk_to_lps)
    image, _, shared = mpr._sitk_source(volume, 0)
    assert shared
    assert np.shares_memory(sitk.GetArrayViewFromImage(image), volume.voxels)
    plane = plane_for(volume, "coronal", volume_centre_lps(volume), DOUBLE_OBLIQUE)
    np.testing.assert_array_equal(
        reslice(volume, plane).pixels, reslice(plain, plane).pixels
    )
    # Writes through numpy are what SimpleITK reads.
    voxels[...] = 321
    pixels = reslice(volume, plane).pixels
    index = continuous_index(volume.ijk_to_lps, pixel_centres_lps(plane))
    assert np.all(pixels[within(index, volume.shape_kji, 0, 0)] == 321)
    # A plain numpy volume is copied once, not per call.
    first, _, shared = mpr._sitk_source(plain, 0)
    assert not shared
    assert mpr._sitk_source(plain, 0)[0] is first


def anon_huge_kib(address: int) -> int | None:
    """AnonHugePages (KiB) of the mapping holding ``address``, None if unknown."""
    try:
        smaps = open("/proc/self/smaps").read().splitlines()  # noqa: SIM115
    except OSError:
        return None
    inside = False
    for line in smaps:
        head = line.split()[0]
        if "-" in head and ":" not in head:
            low, high = (int(x, 16) for x in head.split("-"))
            inside = low <= address < high
        elif inside and head == "AnonHugePages:":
            return int(line.split()[1])
    return None


def test_empty_voxels_zeroed_shared_and_on_huge_pages() -> None:
    voxels = mpr.empty_voxels((80, 256, 256), np.int16)  # 10 MiB
    assert voxels.flags.writeable
    assert voxels.flags.c_contiguous
    assert not voxels.any()
    volume = Volume(voxels=voxels, ijk_to_lps=np.eye(4))
    image, _, shared = mpr._sitk_source(volume, 0)
    assert shared
    k, j, i = np.indices(voxels.shape)
    voxels[...] = (i + 3 * j + 5 * k) % 1000
    view = sitk.GetArrayViewFromImage(image)
    np.testing.assert_array_equal(view, (i + 3 * j + 5 * k) % 1000)
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            enabled = "[never]" not in f.read()
    except OSError:
        enabled = False
    # The advice covers the whole huge pages inside the array, a mapping of its own.
    huge = anon_huge_kib(voxels.__array_interface__["data"][0] + voxels.nbytes // 2)
    if enabled and huge is not None:
        assert huge >= 2048


def test_no_full_volume_temporaries() -> None:
    n = 256
    k, j, i = np.ogrid[:n, :n, :n]
    voxels = ((i * 3 + j * 5 + k * 7) % 3000 - 1000).astype(np.int16)
    volume = Volume(
        voxels=voxels,
        ijk_to_lps=affine_from_axes((0, 0, 0), (0.7, 0, 0), (0, 0.7, 0), (0, 0, 0.9)),
    )
    centre = volume_centre_lps(volume) + np.array([0.2, 0.3, 0.35])  # between slices
    cases = [
        (plane_for(volume, o, centre, r), kwargs)
        for o in ORIENTATIONS
        for r in (None, DOUBLE_OBLIQUE)
        for kwargs in ({}, {"interpolation": "nearest"}, {"slab_mm": 5.0})
    ]
    for plane, kwargs in cases:  # warm the caches: fill value, SimpleITK image
        reslice(volume, plane, **kwargs)
    volume_bytes = voxels.nbytes
    tracemalloc.start()
    try:
        for plane, kwargs in cases:
            tracemalloc.reset_peak()
            before = tracemalloc.get_traced_memory()[0]
            reslice(volume, plane, **kwargs)
            peak = tracemalloc.get_traced_memory()[1] - before
            columns, rows = plane.size_px
            float_plane = columns * rows * 4
            budget = 4 * float_plane + (8 if "slab_mm" in kwargs else 0) * float_plane
            assert peak <= budget, (kwargs, plane.size_px, peak)
            assert peak < volume_bytes / 8
    finally:
        tracemalloc.stop()


def test_slice_plane_basics() -> None:
    plane = SlicePlane(
        origin_lps=np.array([1.0, 2.0, 3.0]),
        right_lps=np.array([0.0, 2.0, 0.0]),  # normalised
        down_lps=np.array([0.0, 0.0, -1.0]),
        spacing_mm=(0.5, 2.0),
        size_px=(10, 4),
    )
    assert plane.right_lps.tolist() == [0.0, 1.0, 0.0]
    assert plane.normal_lps.tolist() == [-1.0, 0.0, 0.0]
    affine = plane.pixel_to_lps()
    np.testing.assert_allclose(affine @ [2, 3, 0, 1], [1.0, 3.0, -3.0, 1.0])
    np.testing.assert_allclose(affine[:3, 2], plane.normal_lps)
    point = affine @ [2.5, 1.5, 4.0, 1.0]
    np.testing.assert_allclose(plane.lps_to_pixel(point[:3]), [2.5, 1.5, 4.0])
    coarse = plane.coarsened(2)
    assert coarse.size_px == (5, 2)
    assert coarse.spacing_mm == (1.0, 4.0)
    # Coarse pixel (0, 0) is centred on the 2×2 block of fine pixels it covers.
    np.testing.assert_allclose(coarse.origin_lps, (affine @ [0.5, 0.5, 0, 1])[:3])
    assert plane.coarsened(1).size_px == plane.size_px
    moved = plane.translated(2.0)
    np.testing.assert_allclose(moved.origin_lps, [-1.0, 2.0, 3.0])
    assert moved.size_px == plane.size_px
    with pytest.raises(ValueError, match="perpendicular"):
        SlicePlane(
            np.zeros(3), np.array([1.0, 0, 0]), np.array([1.0, 1, 0]), (1, 1), (2, 2)
        )
    with pytest.raises(ValueError, match="spacing"):
        SlicePlane(
            np.zeros(3), np.array([1.0, 0, 0]), np.array([0, 1.0, 0]), (0, 1), (2, 2)
        )
    volume = grid_volume((2, 3, 4), (1.0, 1.0, 1.0))
    with pytest.raises(ValueError, match="orientation"):
        plane_for(volume, "transverse", np.zeros(3))
    with pytest.raises(ValueError, match="rotation"):
        plane_for(volume, "axial", np.zeros(3), np.diag([1.0, 1.0, -1.0]))
    with pytest.raises(ValueError, match="interpolation"):
        reslice(volume, plane, interpolation="cubic")
    with pytest.raises(ValueError, match="slab_mode"):
        reslice(volume, plane, slab_mode="sum")


def test_plane_to_sitk_image(tmp_path: Path) -> None:
    volume = grid_volume((10, 11, 12), (0.9, 0.8, 1.7))
    plane = plane_for(volume, "sagittal", volume_centre_lps(volume), DOUBLE_OBLIQUE)
    sliced = reslice(volume, plane)
    image = plane_to_sitk_image(sliced)
    assert image.GetSize() == (*plane.size_px, 1)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(image)[0], sliced.pixels)
    path = tmp_path / "plane.nii.gz"
    sitk.WriteImage(image, str(path))
    back = sitk.ReadImage(str(path))
    for c, r in ((0, 0), (5, 7), (plane.size_px[0] - 1, plane.size_px[1] - 1)):
        expected = (sliced.pixel_to_lps @ [c, r, 0, 1.0])[:3]
        np.testing.assert_allclose(
            back.TransformIndexToPhysicalPoint((c, r, 0)), expected, atol=1e-4
        )


@pytest.mark.parametrize("dtype", [np.int16, np.uint16, np.uint8, np.int8])
@pytest.mark.parametrize("weight", [0.3, 0.75])
def test_sagittal_blend_of_gathered_pairs(dtype: Any, weight: float) -> None:
    # Sagittal planes of an axial stack read each pixel's two neighbours as one
    # gathered pair and blend them in a complex multiply: the values are the
    # float64 blend, rounded (a tie may round either way), over the whole range.
    info = np.iinfo(dtype)
    rng = np.random.default_rng(7)
    voxels = rng.integers(info.min, info.max, (12, 40, 30), dtype=dtype, endpoint=True)
    voxels[0, 0, :] = info.min
    voxels[0, 1, :] = info.max
    plain = grid_volume((30, 40, 12), (0.8, 0.6, 1.5))
    volume = Volume(voxels=voxels, ijk_to_lps=plain.ijk_to_lps)
    cursor = (volume.ijk_to_lps @ [11 + weight, 20.0, 6.0, 1.0])[:3]
    plane = plane_for(volume, "sagittal", cursor)
    pixels = reslice(volume, plane).pixels
    index = continuous_index(volume.ijk_to_lps, pixel_centres_lps(plane))
    low = np.floor(index + 1e-9).astype(int)
    np.testing.assert_allclose(index[..., 0] - low[..., 0], weight, atol=1e-9)
    a = voxels[low[..., 2], low[..., 1], low[..., 0]].astype(np.float64)
    b = voxels[low[..., 2], low[..., 1], low[..., 0] + 1].astype(np.float64)
    exact = (1.0 - weight) * a + weight * b
    assert pixels.dtype == dtype
    tie = np.abs(exact - np.floor(exact) - 0.5) < 1e-2
    assert tie.mean() < 0.5
    np.testing.assert_array_equal(pixels[~tie], np.rint(exact[~tie]))
    assert np.all(np.abs(pixels[tie] - exact[tie]) <= 0.5 + 1e-2)
