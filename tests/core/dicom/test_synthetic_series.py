"""Scanning and loading synthetic series whose voxels and geometry are known exactly.

Every expectation comes from ``make_series`` (``tests/conftest.py``): the stored
values ``-1024 + i + 7 j + 31 k + 211 t`` (int16) are linear in the indices, so a
linear interpolation of them is exact, and ``ijk_to_lps`` is computed from the
header strings as written. Nothing here is compared with our own code.
"""

from __future__ import annotations

import itertools
import math
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    RLELossless,
)

from imaging_viewer.core.dicom.load import load_volume
from imaging_viewer.core.dicom.scan import Cancelled, ScanResult, scan_folder

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from imaging_viewer.core.dicom.series import SeriesInfo
    from tests.conftest import MakeSeries, SyntheticSeries

ORIGIN = np.array([-40.0, -30.0, 20.0])


def scan_one(folder: Path) -> tuple[ScanResult, SeriesInfo]:
    """Scan ``folder``, which must hold exactly one series."""
    result = scan_folder(folder)
    assert len(result.series) == 1, (
        f"expected one series in {folder}, got {len(result.series)}: "
        f"{[s.size for s in result.series]}; skipped {result.skipped}"
    )
    return result, result.series[0]


def analytic(
    i: NDArray[Any], j: NDArray[Any], k: NDArray[Any], t: NDArray[Any] | int = 0
) -> NDArray[np.float64]:
    """``default_values`` of an int16 series (no wrap) at real-valued indices."""
    return np.asarray(-1024.0 + i + 7.0 * j + 31.0 * k + 211.0 * t, dtype=np.float64)


def grid_lps(affine: NDArray[np.float64], shape_kji: tuple[int, ...]) -> NDArray[Any]:
    """LPS of every voxel centre of a ``[k, j, i]`` grid: shape (k, j, i, 3)."""
    k, j, i = np.meshgrid(*(np.arange(n) for n in shape_kji), indexing="ij")
    ijk = np.stack([i, j, k, np.ones_like(i)], axis=-1).astype(np.float64)
    return (ijk @ affine.T)[..., :3]


def rotation(axis: str, degrees: float) -> NDArray[np.float64]:
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    if axis == "x":
        return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
    if axis == "y":
        return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def assert_loads_exactly(series: SyntheticSeries, info: SeriesInfo) -> None:
    """Voxels equal the factory's, bit for bit, and the geometry to 1e-6 mm."""
    volume = load_volume(info)
    assert volume.voxels.shape == series.voxels.shape
    np.testing.assert_array_equal(volume.voxels, series.voxels)
    np.testing.assert_allclose(volume.ijk_to_lps, series.ijk_to_lps, atol=1e-6)
    np.testing.assert_allclose(info.ijk_to_lps, series.ijk_to_lps, atol=1e-6)


# ----------------------------------------------------------------- order


@pytest.mark.parametrize("instance_order", ["position", "reversed", "random"])
def test_shuffled_files_are_sorted_by_position(
    make_series: MakeSeries, instance_order: str
) -> None:
    series = make_series(shape=(9, 6, 7), shuffle=True, instance_order=instance_order)
    result, info = scan_one(series.folder)

    assert result.skipped == []
    assert info.warnings == ()
    assert info.size == [7, 6, 9]
    assert set(info.files) == {str(p) for p in series.files}
    for k, ref in enumerate(info.frames[0]):
        assert series.slice_of[Path(ref.path)] == (0, k), (
            f"frames[0][{k}] is {ref.path}, which holds slice "
            f"{series.slice_of[Path(ref.path)]}"
        )
    np.testing.assert_allclose(info.spacing_mm, [0.8, 0.6, 2.5], atol=1e-9)
    assert_loads_exactly(series, info)


def test_slices_written_against_the_normal(make_series: MakeSeries) -> None:
    """Positions decreasing along row × column: each loaded slice still holds the
    pixels written at its own LPS position."""
    normal = np.array([0.0, 0.0, 1.0])
    positions = [ORIGIN - 2.5 * k * normal for k in range(6)]
    series = make_series(shape=(6, 6, 7), positions=positions)
    _, info = scan_one(series.folder)
    volume = load_volume(info)

    assert volume.voxels.shape == (6, 6, 7)
    for k in range(6):
        lps = (volume.ijk_to_lps @ [0.0, 0.0, k, 1.0])[:3]
        written = [n for n, p in enumerate(series.positions_lps) if np.allclose(p, lps)]
        assert len(written) == 1, f"slice {k} at {lps} matches no written slice"
        np.testing.assert_array_equal(volume.voxels[k], series.voxels[written[0]])


# --------------------------------------------------------- missing, duplicate


def test_missing_slice_is_interpolated_from_its_neighbours(
    make_series: MakeSeries,
) -> None:
    series = make_series(shape=(7, 6, 7), missing=[3])
    assert len(series.files) == 6
    _, info = scan_one(series.folder)

    missing = [w for w in info.warnings if "missing" in w]
    assert len(missing) == 1, f"no warning about the missing slice: {info.warnings}"
    # The gap is named by where it is along the normal: between 5 and 10 mm from
    # the first slice, at 25 to 30 mm, or the missing slice itself at 27.5 mm.
    assert any(where in missing[0] for where in ("5–10", "25–30", "27.5")), missing[0]
    assert info.size == [7, 6, 7], "the grid must keep a slot for the missing slice"
    np.testing.assert_allclose(info.spacing_mm, [0.8, 0.6, 2.5], atol=1e-9)
    np.testing.assert_allclose(info.ijk_to_lps, series.ijk_to_lps, atol=1e-6)

    volume = load_volume(info)
    assert volume.voxels.shape == (7, 6, 7)
    mean = (volume.voxels[2].astype(np.float64) + volume.voxels[4]) / 2
    np.testing.assert_array_equal(volume.voxels[3], mean)
    # The analytic function is linear in k, so the mean is also the truth.
    np.testing.assert_array_equal(volume.voxels, series.voxels)


def test_duplicate_position_keeps_one_image(make_series: MakeSeries) -> None:
    series = make_series(duplicate=[2])
    pair = [p for p in series.files if series.slice_of[p] == (0, 2)]
    assert len(pair) == 2
    result, info = scan_one(series.folder)

    assert any("duplicate" in w for w in info.warnings), info.warnings
    kept = [p for p in pair if str(p) in info.files]
    assert len(kept) == 1, f"exactly one of {pair} must be kept: {info.files}"
    dropped = next(p for p in pair if p not in kept)
    reasons = {s.path: s.reason for s in result.skipped}
    assert str(dropped) in reasons, f"{dropped} not in skipped: {result.skipped}"
    assert "duplicate" in reasons[str(dropped)]
    assert_loads_exactly(series, info)


def test_copy_with_the_same_sop_instance_uid_is_skipped(
    make_series: MakeSeries,
) -> None:
    series = make_series()
    original = series.files[2]
    copy = series.folder / "copy_of_slice_2.dcm"
    shutil.copyfile(original, copy)
    result, info = scan_one(series.folder)

    assert info.warnings == ()
    assert info.size == [7, 6, 5]
    used = {str(original), str(copy)} & set(info.files)
    assert len(used) == 1, f"exactly one of the copies must be used: {info.files}"
    (other,) = {str(original), str(copy)} - used
    skipped = [s for s in result.skipped if s.path == other]
    assert len(skipped) == 1, f"{other} not skipped: {result.skipped}"
    assert "duplicate" in skipped[0].reason
    assert "SOP Instance UID" in skipped[0].reason
    np.testing.assert_array_equal(load_volume(info).voxels, series.voxels)


# ---------------------------------------------------------------- geometry


def test_oblique_orientation_gives_the_analytic_affine(
    make_series: MakeSeries,
) -> None:
    turn = rotation("z", 30.0) @ rotation("x", 30.0)
    row, column = turn[:, 0], turn[:, 1]
    spacing = (0.8, 0.6, 2.5)
    series = make_series(
        shape=(6, 6, 7),
        spacing_mm=spacing,
        orientation=(*row, *column),
        origin_lps=(12.5, -7.25, 33.0),
    )
    _, info = scan_one(series.folder)

    assert info.warnings == ()
    expected = np.eye(4)
    expected[:3, 0] = spacing[0] * row
    expected[:3, 1] = spacing[1] * column
    expected[:3, 2] = spacing[2] * turn[:, 2]
    expected[:3, 3] = (12.5, -7.25, 33.0)
    np.testing.assert_allclose(info.ijk_to_lps, expected, atol=1e-6)
    np.testing.assert_allclose(info.spacing_mm, spacing, atol=1e-9)
    assert_loads_exactly(series, info)


def test_irregular_spacing_is_resampled_linearly(make_series: MakeSeries) -> None:
    distances = np.array([0.0, 2.0, 4.0, 7.0, 8.0])  # steps 2, 2, 3, 1
    normal = np.array([0.0, 0.0, 1.0])
    series = make_series(
        shape=(5, 6, 7), positions=[ORIGIN + d * normal for d in distances]
    )
    _, info = scan_one(series.folder)

    uneven = [w for w in info.warnings if "uneven" in w]
    assert len(uneven) == 1, f"no warning about uneven spacing: {info.warnings}"
    assert info.geometry is not None
    assert info.geometry.resample is not None
    # An even grid from the first to the last slice, at the smallest acquired step.
    assert info.size == [7, 6, 9]
    expected = np.eye(4)
    expected[:3, 0] = (0.8, 0, 0)
    expected[:3, 1] = (0, 0.6, 0)
    expected[:3, 2] = normal * 1.0
    expected[:3, 3] = ORIGIN
    np.testing.assert_allclose(info.ijk_to_lps, expected, atol=1e-9)

    volume = load_volume(info)
    assert volume.voxels.shape == (9, 6, 7)
    k_acquired = np.interp(np.arange(9) * 1.0, distances, np.arange(5))
    k, j, i = np.meshgrid(k_acquired, np.arange(6), np.arange(7), indexing="ij")
    truth = analytic(i, j, k)
    difference = np.abs(volume.voxels.astype(np.float64) - truth)
    # int16 output: the interpolated value may be rounded to the nearest integer.
    tolerance = 0.5 if volume.voxels.dtype.kind == "i" else 1e-3
    assert difference.max() <= tolerance + 1e-6, (
        f"resampled values differ from linear interpolation by up to "
        f"{difference.max()} at kji "
        f"{np.unravel_index(difference.argmax(), truth.shape)}"
    )


@pytest.mark.parametrize("tilt_deg", [15.0, -20.0])
def test_gantry_tilt_is_resampled_in_world_space(
    make_series: MakeSeries, tilt_deg: float
) -> None:
    step = 2.5
    column_direction = np.array([0.0, 1.0, 0.0])  # orientation[3:]
    normal = np.array([0.0, 0.0, 1.0])
    shift = step * math.tan(math.radians(tilt_deg))
    positions = [
        ORIGIN + k * (step * normal + shift * column_direction) for k in range(6)
    ]
    series = make_series(
        shape=(6, 8, 7),
        positions=positions,
        tags={"GantryDetectorTilt": f"{tilt_deg:g}"},
    )
    _, info = scan_one(series.folder)

    tilt = [w for w in info.warnings if "tilt" in w.lower()]
    assert len(tilt) == 1, f"one warning about the tilt expected: {info.warnings}"
    assert f"{abs(tilt_deg):.2f}°" in tilt[0], tilt[0]
    assert info.geometry is not None
    assert info.geometry.resample is not None
    assert info.geometry.tilt_deg == pytest.approx(abs(tilt_deg), abs=0.01)
    # The output grid is orthogonal: no shear left in the affine.
    axes = info.ijk_to_lps[:3, :3]
    gram = axes.T @ axes
    np.testing.assert_allclose(gram - np.diag(np.diag(gram)), 0.0, atol=1e-9)
    np.testing.assert_allclose(info.spacing_mm, [0.8, 0.6, 2.5], atol=1e-6)

    volume = load_volume(info)
    shape = volume.voxels.shape
    assert shape == tuple(reversed(info.size)), (shape, info.size)
    # Where does each output voxel fall in the acquired (sheared) grid?
    lps = grid_lps(volume.ijk_to_lps, shape)
    to_acquired = np.linalg.inv(series.ijk_to_lps)
    ijk = lps @ to_acquired[:3, :3].T + to_acquired[:3, 3]
    eps = 1e-6
    inside = np.all((ijk >= -eps) & (ijk <= np.array([6, 7, 5]) + eps), axis=-1)
    assert inside.sum() >= 0.5 * 6 * 8 * 7, "too few output voxels inside the data"
    truth = analytic(ijk[..., 0], ijk[..., 1], ijk[..., 2])
    difference = np.abs(volume.voxels.astype(np.float64) - truth)[inside]
    tolerance = 0.5 if volume.voxels.dtype.kind == "i" else 1e-3
    assert difference.max() <= tolerance + 1e-4, (
        f"resampled value differs from the analytic function by {difference.max()}"
    )


# ----------------------------------------------------------------------- 4D


@pytest.mark.parametrize("instance_order", ["position", "random"])
def test_time_points_make_a_4d_volume(
    make_series: MakeSeries, instance_order: str
) -> None:
    series = make_series(time_points=3, instance_order=instance_order)
    result, info = scan_one(series.folder)

    assert result.skipped == []
    assert info.warnings == ()
    assert info.size == [7, 6, 5, 3]
    assert info.n_time_points == 3
    for t, frames in enumerate(info.frames):
        for k, ref in enumerate(frames):
            held = series.slice_of[Path(ref.path)]
            assert held == (t, k), f"frames[{t}][{k}] holds slice {held}"
    volume = load_volume(info)
    assert volume.voxels.shape == (3, 5, 6, 7)
    np.testing.assert_array_equal(volume.voxels, series.voxels)
    np.testing.assert_allclose(volume.ijk_to_lps, series.ijk_to_lps, atol=1e-6)


# ------------------------------------------------------- values and dtypes


def _offset_values(offset: int) -> Any:
    def values(i: Any, j: Any, k: Any, t: Any) -> Any:
        return offset + i + 7 * j + 31 * k + 211 * t

    return values


@pytest.mark.parametrize(
    ("kwargs", "dtype"),
    [
        pytest.param({"dtype": np.uint16}, np.int16, id="uint16-ct-intercept-1024"),
        pytest.param({"rescale": (2.0, -3000.0)}, np.int16, id="integer-slope-2"),
        pytest.param({"rescale": (1.0, 0.0)}, np.int16, id="identity"),
        pytest.param({"rescale": (0.5, -10.0)}, np.float32, id="slope-0.5"),
        pytest.param({"rescale": (1.0, 0.25)}, np.float32, id="intercept-0.25"),
        pytest.param(
            {"modality": "MR", "dtype": np.int16, "values": _offset_values(-2000)},
            np.int16,
            id="signed-mr-negative",
        ),
        pytest.param(
            {"modality": "MR", "dtype": np.uint16, "values": _offset_values(40000)},
            np.float32,
            id="uint16-above-int16-range",
        ),
    ],
)
def test_rescale_chooses_int16_or_float32_exactly(
    make_series: MakeSeries, kwargs: dict[str, Any], dtype: type
) -> None:
    series = make_series(**kwargs)
    _, info = scan_one(series.folder)
    volume = load_volume(info)

    assert volume.voxels.dtype == dtype, (
        f"rescale {series.rescale} on {kwargs.get('dtype', np.int16).__name__} "
        f"stored values {series.stored.min()}..{series.stored.max()}: "
        f"expected {np.dtype(dtype)}, got {volume.voxels.dtype}"
    )
    np.testing.assert_array_equal(volume.voxels, series.voxels)


def test_signed_stored_values_stay_negative(make_series: MakeSeries) -> None:
    series = make_series(modality="MR", dtype=np.int16, values=_offset_values(-30000))
    _, info = scan_one(series.folder)
    assert info.pixel_representation == 1
    volume = load_volume(info)
    assert volume.voxels.dtype == np.int16
    assert volume.voxels.min() == -30000
    np.testing.assert_array_equal(volume.voxels, series.voxels)


@pytest.mark.parametrize(
    "transfer_syntax",
    [
        ImplicitVRLittleEndian,
        ExplicitVRLittleEndian,
        ExplicitVRBigEndian,
        DeflatedExplicitVRLittleEndian,
        RLELossless,
        JPEG2000Lossless,
    ],
    ids=lambda uid: str(uid.name).replace(" ", "-"),
)
def test_transfer_syntaxes_load_exactly(
    make_series: MakeSeries, transfer_syntax: Any
) -> None:
    # Ten files: enough for compressed ones to go through the worker processes.
    try:
        series = make_series(shape=(10, 32, 33), transfer_syntax=transfer_syntax)
    except (RuntimeError, NotImplementedError) as error:  # no encoder installed
        pytest.skip(f"cannot write {transfer_syntax.name}: {error}")
    result, info = scan_one(series.folder)
    assert result.skipped == []
    assert info.transfer_syntaxes == (str(transfer_syntax),)
    volume = load_volume(info)
    assert volume.warnings == (), volume.warnings
    np.testing.assert_array_equal(volume.voxels, series.voxels)
    np.testing.assert_allclose(volume.ijk_to_lps, series.ijk_to_lps, atol=1e-6)


def test_single_slice_series(make_series: MakeSeries) -> None:
    series = make_series(shape=(1, 6, 7))
    _, info = scan_one(series.folder)
    assert info.size == [7, 6, 1]
    assert info.warnings == ()
    # The k column of a single slice comes from Slice Thickness along the normal.
    assert_loads_exactly(series, info)


# ------------------------------------------------------- progress and cancel


def _recorder() -> tuple[list[tuple[int, int]], Any]:
    calls: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        calls.append((done, total))

    return calls, progress


def _assert_progress(calls: list[tuple[int, int]], total: int, what: str) -> None:
    assert calls, f"{what}: progress was never called"
    assert {t for _, t in calls} == {total}, f"{what}: totals {calls}"
    done = [d for d, _ in calls]
    assert all(b > a for a, b in itertools.pairwise(done)), (
        f"{what}: counts not increasing: {done}"
    )
    assert done[-1] == total, f"{what}: last call {calls[-1]}, expected {total}"
    assert done[0] > 0


@pytest.mark.parametrize(
    ("n_slices", "transfer_syntax"),
    [
        pytest.param(40, ExplicitVRLittleEndian, id="40-native"),
        pytest.param(12, RLELossless, id="12-rle-workers"),
        pytest.param(420, ExplicitVRLittleEndian, id="420-parallel-scan"),
    ],
)
def test_progress_counts_up_to_the_total(
    make_series: MakeSeries, n_slices: int, transfer_syntax: Any
) -> None:
    series = make_series(
        shape=(n_slices, 2, 3), transfer_syntax=transfer_syntax, shuffle=False
    )
    calls, progress = _recorder()
    result = scan_folder(series.folder, progress=progress)
    _assert_progress(calls, n_slices, "scan")
    assert len(result.series) == 1

    calls, progress = _recorder()
    volume = load_volume(result.series[0], progress=progress)
    _assert_progress(calls, n_slices, "load")
    np.testing.assert_array_equal(volume.voxels, series.voxels)


@pytest.mark.parametrize(
    ("n_slices", "transfer_syntax"),
    [
        pytest.param(100, ExplicitVRLittleEndian, id="native"),
        pytest.param(12, RLELossless, id="rle-workers"),
        pytest.param(420, ExplicitVRLittleEndian, id="parallel-scan"),
    ],
)
@pytest.mark.parametrize("after", [0, 1])
def test_cancel_stops_scan_and_load(
    make_series: MakeSeries, n_slices: int, transfer_syntax: Any, after: int
) -> None:
    """``cancel`` returning True (at once, or from its second poll) raises Cancelled."""
    series = make_series(
        shape=(n_slices, 2, 3), transfer_syntax=transfer_syntax, shuffle=False
    )

    def cancel_after(n: int) -> Any:
        polls = 0

        def cancel() -> bool:
            nonlocal polls
            polls += 1
            return polls > n

        return cancel

    with pytest.raises(Cancelled):
        scan_folder(series.folder, cancel=cancel_after(after))
    info = scan_folder(series.folder).series[0]
    with pytest.raises(Cancelled):
        load_volume(info, cancel=cancel_after(after))
    # Nothing is left half-done: the same series still loads afterwards.
    np.testing.assert_array_equal(load_volume(info).voxels, series.voxels)
