"""CT stacks with gantry tilt, uneven spacing or one position, against header truth.

``expected/ct_slice_positions.json`` lists, per series, every slice's file and
ImagePositionPatient sorted along the slice normal, with the orientation, pixel
spacing and Gantry/Detector Tilt. Against it:

- our acquired frame order (``series.frames[0]``) lists the same files in the same
  order, not reversed: both sort ascending along ``cross(row, column)`` of
  ImageOrientationPatient (the json's order is checked here to be that one).
  ``notavolume`` (4 images at one place) has no such order: it becomes 4 time
  points in AcquisitionNumber order, the json's InstanceNumber order reversed;
- the tilt warning gives the tilt angle (±0.1°);
- the resampled volume puts pixels where the headers say: at the LPS position of
  an acquired voxel centre, our volume (interpolated trilinearly here) lies within
  the range of the acquired values around that position (read with pydicom), tracks
  the acquired values (correlation), and is close to them where the image is
  smooth. Reading it where a loader that ignored the tilt would have put the
  pixels loses that correlation (checked, so the sample points are not vacuous).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pydicom
import pytest
from pydicom.pixels import apply_modality_lut

from imaging_viewer.core.dicom.load import load_volume
from imaging_viewer.core.dicom.scan import ScanResult, scan_folder

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from imaging_viewer.core.dicom.series import SeriesInfo
    from imaging_viewer.core.volume import Volume

SERIES_DIRS = (
    "dcm_qa_ct/In/GE",
    "dcm_qa_ct/In/Philips/S21610/S2010",
    "dicom2nifti/failing/gantrytilting/001",
    "dicom2nifti/failing/sliceincrement/001",
    "dicom2nifti/failing/notavolume/001",
)
TILTED = SERIES_DIRS[:3]
RESAMPLED = SERIES_DIRS[:4]

TILT_TOLERANCE_DEG = 0.1
SAMPLES_PER_SERIES = 4000
# Acquired voxels this close to a slice border are not sampled (mm): the
# neighbours of a tilted slice are shifted in-plane by up to ~2.4 mm per slice.
BORDER_MM = 12.0
# Output values are rounded to int16 (±0.5), and interpolated again here.
VALUE_TOLERANCE = 1.0
# Neighbourhoods whose acquired values span at most this (HU) count as smooth.
SMOOTH_RANGE = 20.0
MIN_CORRELATION = 0.95
# Series with real anatomy/phantom pixels (the dicom2nifti CTs hold noise).
REAL_IMAGES = TILTED[:2]


@cache
def _scan(root: str) -> ScanResult:
    return scan_folder(root)


@cache
def _truth(root: str) -> dict[str, dict[str, Any]]:
    data = json.loads((Path(root) / "expected" / "ct_slice_positions.json").read_text())
    return {entry["series_dir"]: entry for entry in data["series"]}


def _series_in(corpus: Path, folder: str) -> list[SeriesInfo]:
    prefix = str(corpus / folder) + "/"
    return [
        s
        for s in _scan(str(corpus)).series
        if any(f.startswith(prefix) for f in s.files)
    ]


def _one_series(corpus: Path, folder: str) -> SeriesInfo:
    series = _series_in(corpus, folder)
    assert len(series) == 1, f"{folder}: {[s.id for s in series]}"
    return series[0]


def _normal(entry: dict[str, Any]) -> NDArray[np.float64]:
    iop = np.asarray(entry["image_orientation_patient"], dtype=np.float64)
    normal = np.cross(iop[:3], iop[3:])
    return normal / np.linalg.norm(normal)


def _positions(entry: dict[str, Any]) -> NDArray[np.float64]:
    slices = entry["slices_sorted_by_position_along_normal"]
    return np.array([s["ipp_lps"] for s in slices], dtype=np.float64)


def _expected_tilt_deg(entry: dict[str, Any]) -> float:
    """The tilt the positions show: angle between the slice normal and the line
    through the slice origins (the header's Gantry/Detector Tilt, where given,
    must agree)."""
    positions = _positions(entry)
    travel = positions[-1] - positions[0]
    cosine = abs(float(travel @ _normal(entry))) / float(np.linalg.norm(travel))
    geometric = math.degrees(math.acos(min(1.0, cosine)))
    header = abs(float(entry["gantry_detector_tilt"]))
    if header:
        assert geometric == pytest.approx(header, abs=TILT_TOLERANCE_DEG)
    return geometric


# ------------------------------------------------------------- order and tilt


@pytest.mark.parametrize("folder", SERIES_DIRS)
def test_json_is_sorted_ascending_along_the_normal(corpus: Path, folder: str) -> None:
    entry = _truth(str(corpus))[folder]
    distances = _positions(entry) @ _normal(entry)
    assert np.all(np.diff(distances) >= 0), "json order is ascending along the normal"
    assert len(distances) == entry["n_slices"]


@pytest.mark.parametrize("folder", SERIES_DIRS[:4])
def test_acquired_frame_order_is_the_json_order(corpus: Path, folder: str) -> None:
    """Same order, not reversed: we sort ascending along cross(row, column) too."""
    entry = _truth(str(corpus))[folder]
    expected = [
        str(corpus / s["file"]) for s in entry["slices_sorted_by_position_along_normal"]
    ]
    series = _one_series(corpus, folder)
    assert series.n_time_points == 1
    ours = [ref.path for ref in series.frames[0]]
    assert ours == expected, "acquired order differs from the json's" + (
        " (exactly reversed)" if ours == expected[::-1] else ""
    )


def test_images_at_one_position_become_time_points(corpus: Path) -> None:
    """notavolume: 4 images at one position have no order along the normal (the
    json lists them by InstanceNumber, 23 to 26). They become 4 time points of one
    slice, ordered by AcquisitionNumber, which runs the other way (15 to 12): so
    the order is exactly the json's reversed."""
    folder = "dicom2nifti/failing/notavolume/001"
    entry = _truth(str(corpus))[folder]
    assert float(np.ptp(_positions(entry) @ _normal(entry))) == 0.0
    json_order = [
        str(corpus / s["file"]) for s in entry["slices_sorted_by_position_along_normal"]
    ]
    series = _one_series(corpus, folder)
    assert [len(frames) for frames in series.frames] == [1, 1, 1, 1]
    ours = [frames[0].path for frames in series.frames]
    headers = {p: pydicom.dcmread(p, stop_before_pixels=True) for p in json_order}
    by_acquisition = sorted(
        json_order,
        key=lambda p: (
            int(headers[p].AcquisitionNumber),
            int(headers[p].InstanceNumber),
        ),
    )
    assert by_acquisition == json_order[::-1]
    assert ours == by_acquisition, "time points not in AcquisitionNumber order"


@pytest.mark.parametrize("folder", TILTED)
def test_tilt_warning_states_the_angle(corpus: Path, folder: str) -> None:
    entry = _truth(str(corpus))[folder]
    expected = _expected_tilt_deg(entry)
    series = _one_series(corpus, folder)
    angles = [
        float(value)
        for warning in series.warnings
        if "tilt" in warning.lower()
        for value in re.findall(r"(-?\d+(?:\.\d+)?)\s*°", warning)
    ]
    assert angles, f"no tilt warning with an angle: {series.warnings}"
    assert any(abs(abs(a) - expected) <= TILT_TOLERANCE_DEG for a in angles), (
        f"tilt {expected:.2f}° expected, warnings say {series.warnings}"
    )


def test_untilted_stacks_have_no_tilt_warning(corpus: Path) -> None:
    for folder in ("dicom2nifti/failing/sliceincrement/001",):
        series = _one_series(corpus, folder)
        assert not any("tilt" in w.lower() for w in series.warnings), series.warnings


# ---------------------------------------------------- resampling in LPS space


@dataclass(frozen=True)
class Acquired:
    """The acquired slices as the headers (read with pydicom) say."""

    values: NDArray[np.float64]
    """[k, j, i] modality values."""
    positions: NDArray[np.float64]
    """(K, 3) ImagePositionPatient."""
    row_cosine: NDArray[np.float64]
    column_cosine: NDArray[np.float64]
    spacing: tuple[float, float]
    """(row spacing, column spacing)."""

    @property
    def normal(self) -> NDArray[np.float64]:
        return np.cross(self.row_cosine, self.column_cosine)

    def lps(self, k: NDArray[Any], j: NDArray[Any], i: NDArray[Any]) -> NDArray[Any]:
        """(N, 3) LPS centres of acquired voxels (PS3.3 C.7.6.2.1.1)."""
        row_spacing, column_spacing = self.spacing
        return (
            self.positions[k]
            + (i * column_spacing)[:, None] * self.row_cosine
            + (j * row_spacing)[:, None] * self.column_cosine
        )


@cache
def _acquired(root: str, folder: str) -> Acquired:
    entry = _truth(root)[folder]
    images, positions = [], []
    orientation: tuple[float, ...] | None = None
    spacing: tuple[float, float] | None = None
    for item in entry["slices_sorted_by_position_along_normal"]:
        ds = pydicom.dcmread(Path(root) / item["file"])
        images.append(apply_modality_lut(ds.pixel_array, ds).astype(np.float64))
        positions.append([float(v) for v in ds.ImagePositionPatient])
        assert positions[-1] == pytest.approx(item["ipp_lps"], abs=1e-3)
        iop = tuple(float(v) for v in ds.ImageOrientationPatient)
        assert orientation in (None, iop)
        orientation = iop
        spacing = (float(ds.PixelSpacing[0]), float(ds.PixelSpacing[1]))
    assert orientation is not None
    assert spacing is not None
    assert spacing == pytest.approx(entry["pixel_spacing_row_col"])
    iop_array = np.asarray(orientation)
    return Acquired(
        values=np.stack(images),
        positions=np.asarray(positions),
        row_cosine=iop_array[:3] / np.linalg.norm(iop_array[:3]),
        column_cosine=iop_array[3:] / np.linalg.norm(iop_array[3:]),
        spacing=spacing,
    )


@cache
def _volume(root: str, folder: str) -> Volume:
    return load_volume(_one_series(Path(root), folder))


def _trilinear(voxels: NDArray[Any], ijk: NDArray[np.float64]) -> NDArray[np.float64]:
    """Values of ``voxels[k, j, i]`` at continuous (i, j, k) points, (N, 3)."""
    data = voxels.astype(np.float64)
    upper = np.array(data.shape[::-1]) - 1  # (i, j, k) maxima
    base = np.clip(np.floor(ijk).astype(np.int64), 0, np.maximum(upper - 1, 0))
    frac = np.clip(ijk - base, 0.0, 1.0)
    out = np.zeros(len(ijk))
    for corner in range(8):
        offset = np.array([(corner >> axis) & 1 for axis in range(3)])
        index = np.minimum(base + offset, upper)
        weight = np.prod(np.where(offset, frac, 1.0 - frac), axis=1)
        out += weight * data[index[:, 2], index[:, 1], index[:, 0]]
    return out


def _to_ijk(volume: Volume, lps: NDArray[np.float64]) -> NDArray[np.float64]:
    inverse = np.linalg.inv(volume.ijk_to_lps)
    homogeneous = np.c_[lps, np.ones(len(lps))]
    return (homogeneous @ inverse.T)[:, :3]


def _neighbourhood_range(
    acquired: Acquired, lps: NDArray[np.float64], slab_mm: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """(low, high, usable) of the acquired values around each point.

    The output voxels a trilinear read at ``lps`` uses lie within one output voxel;
    each of them is interpolated from the two acquired slices that bracket it,
    bilinearly. So the acquired samples that can contribute are: the slices within
    ``slab_mm`` along the normal plus the next one on each side, and in each the
    pixels within 2 of the point's projection. ``usable`` is False where that
    window leaves a slice.
    """
    row_spacing, column_spacing = acquired.spacing
    distances = acquired.positions @ acquired.normal
    _, rows, columns = acquired.values.shape
    low = np.full(len(lps), np.inf)
    high = np.full(len(lps), -np.inf)
    usable = np.ones(len(lps), dtype=bool)
    point_distance = lps @ acquired.normal
    for n, point in enumerate(lps):
        near = np.flatnonzero(np.abs(distances - point_distance[n]) <= slab_mm)
        below = np.flatnonzero(distances < point_distance[n] - slab_mm)
        above = np.flatnonzero(distances > point_distance[n] + slab_mm)
        chosen = set(near.tolist())
        if below.size:
            chosen.add(int(below[-1]))
        if above.size:
            chosen.add(int(above[0]))
        for k in chosen:
            offset = point - acquired.positions[k]
            u = float(offset @ acquired.row_cosine) / column_spacing
            v = float(offset @ acquired.column_cosine) / row_spacing
            i0, j0 = math.floor(u) - 2, math.floor(v) - 2
            if i0 < 0 or j0 < 0 or i0 + 6 > columns or j0 + 6 > rows:
                usable[n] = False
                break
            window = acquired.values[k, j0 : j0 + 6, i0 : i0 + 6]
            low[n] = min(low[n], float(window.min()))
            high[n] = max(high[n], float(window.max()))
    return low, high, usable


def _samples(
    acquired: Acquired, seed: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Acquired voxels away from the slice borders, not in the first or last slice."""
    n_slices, rows, columns = acquired.values.shape
    margin_j = math.ceil(BORDER_MM / acquired.spacing[0])
    margin_i = math.ceil(BORDER_MM / acquired.spacing[1])
    rng = np.random.default_rng(seed)
    k_low, k_high = (1, n_slices - 1) if n_slices > 2 else (0, n_slices)
    k = rng.integers(k_low, k_high, SAMPLES_PER_SERIES)
    j = rng.integers(margin_j, rows - margin_j, SAMPLES_PER_SERIES)
    i = rng.integers(margin_i, columns - margin_i, SAMPLES_PER_SERIES)
    return k, j, i


@pytest.mark.parametrize("folder", RESAMPLED)
def test_resampled_grid_is_orthogonal_and_holds_every_acquired_slice(
    corpus: Path, folder: str
) -> None:
    series = _one_series(corpus, folder)
    assert series.geometry is not None
    assert series.geometry.resample is not None
    acquired = _acquired(str(corpus), folder)
    volume = _volume(str(corpus), folder)
    axes = volume.ijk_to_lps[:3, :3]
    unit = axes / np.linalg.norm(axes, axis=0)
    assert unit.T @ unit == pytest.approx(np.eye(3), abs=1e-6), "grid not orthogonal"
    assert unit[:, 2] == pytest.approx(acquired.normal, abs=1e-6)
    assert np.linalg.norm(axes[:, 0]) == pytest.approx(acquired.spacing[1])
    assert np.linalg.norm(axes[:, 1]) == pytest.approx(acquired.spacing[0])
    # Every corner of every acquired slice lies inside the output grid.
    n_slices, rows, columns = acquired.values.shape
    k = np.repeat(np.arange(n_slices), 4)
    j = np.tile([0, 0, rows - 1, rows - 1], n_slices)
    i = np.tile([0, columns - 1, 0, columns - 1], n_slices)
    ijk = _to_ijk(volume, acquired.lps(k, j, i))
    size = np.array(volume.shape_kji[::-1]) - 1
    assert np.all(ijk >= -1e-3), f"acquired corners before the grid: {ijk.min(0)}"
    assert np.all(ijk <= size + 1e-3), f"acquired corners past {size}: {ijk.max(0)}"


@pytest.mark.parametrize("folder", RESAMPLED)
def test_resampled_volume_places_acquired_pixels_in_patient_space(
    corpus: Path, folder: str
) -> None:
    acquired = _acquired(str(corpus), folder)
    volume = _volume(str(corpus), folder)
    slab_mm = float(np.linalg.norm(volume.ijk_to_lps[:3, 2]))
    k, j, i = _samples(acquired, seed=len(folder))
    lps = acquired.lps(k, j, i)
    ours = _trilinear(volume.voxels, _to_ijk(volume, lps))
    truth = acquired.values[k, j, i]
    low, high, usable = _neighbourhood_range(acquired, lps, slab_mm)
    assert usable.mean() > 0.9, "samples too close to the borders"
    outside = usable & (
        (ours < low - VALUE_TOLERANCE) | (ours > high + VALUE_TOLERANCE)
    )
    worst = np.argsort(-np.maximum(low - ours, ours - high) * usable)[:5]
    assert not outside.any(), (
        f"{int(outside.sum())} of {int(usable.sum())} points outside the acquired "
        "range around them, e.g. "
        + "; ".join(
            f"k={k[n]} j={j[n]} i={i[n]}: ours {ours[n]:.1f}, acquired "
            f"{truth[n]:.0f} in [{low[n]:.0f}, {high[n]:.0f}]"
            for n in worst
        )
    )
    # Acquired and resampled values track each other.
    correlation = float(np.corrcoef(ours[usable], truth[usable])[0, 1])
    assert correlation >= MIN_CORRELATION, f"correlation {correlation:.3f}"
    # Where the image is smooth, that means close to the acquired value. (The
    # dicom2nifti CTs hold anonymised noise, 0 to 254: nowhere smooth.)
    smooth = usable & (high - low <= SMOOTH_RANGE)
    if folder in REAL_IMAGES:
        assert smooth.sum() > 100
    if smooth.any():
        error = np.abs(ours[smooth] - truth[smooth])
        assert error.max() <= SMOOTH_RANGE + VALUE_TOLERANCE
        assert float(np.median(error)) <= 5


@pytest.mark.parametrize("folder", TILTED)
def test_sample_points_would_catch_an_ignored_tilt(corpus: Path, folder: str) -> None:
    """The check above is not vacuous: read our volume where a loader that stacked
    the slices without their in-plane shift would put each acquired pixel, and the
    values no longer track the acquired ones."""
    acquired = _acquired(str(corpus), folder)
    volume = _volume(str(corpus), folder)
    k, j, i = _samples(acquired, seed=len(folder))
    lps = acquired.lps(k, j, i)
    offsets = acquired.positions - acquired.positions[0]
    in_plane = offsets - np.outer(offsets @ acquired.normal, acquired.normal)
    assert np.linalg.norm(in_plane[-1]) > 3 * min(acquired.spacing)
    truth = acquired.values[k, j, i]
    right = _trilinear(volume.voxels, _to_ijk(volume, lps))
    naive = _trilinear(volume.voxels, _to_ijk(volume, lps - in_plane[k]))
    right_correlation = float(np.corrcoef(right, truth)[0, 1])
    naive_correlation = float(np.corrcoef(naive, truth)[0, 1])
    assert naive_correlation < right_correlation - 0.2, (
        f"shift ignored: correlation {naive_correlation:.3f}, "
        f"placed right: {right_correlation:.3f}"
    )


def test_missing_slice_is_interpolated_and_acquired_slices_kept(corpus: Path) -> None:
    """sliceincrement: 5 mm steps with one 10 mm gap. The grid is the acquired
    slices plus one halfway between the gap's neighbours."""
    folder = "dicom2nifti/failing/sliceincrement/001"
    acquired = _acquired(str(corpus), folder)
    volume = _volume(str(corpus), folder)
    assert volume.shape_kji[0] == 5
    assert np.linalg.norm(volume.ijk_to_lps[:3, 2]) == pytest.approx(5.0)
    voxels = volume.voxels.astype(np.float64)
    for k_out, k_in in ((0, 0), (1, 1), (2, 2), (4, 3)):
        assert np.array_equal(voxels[k_out], acquired.values[k_in]), (
            f"output slice {k_out} is not acquired slice {k_in}"
        )
    halfway = (acquired.values[2] + acquired.values[3]) / 2
    assert np.abs(voxels[3] - halfway).max() <= 0.5 + 1e-9
