"""Stack geometry: from sorted slice positions to a regular voxel grid in LPS.

Slices of a series are parallel planes. Where they are evenly spaced along the
slice normal, the acquired slices are the grid. A gantry tilt (slices shifted
within their plane from one to the next) or uneven spacing (a missing slice,
variable table steps) cannot be shown or measured right on the acquired stack;
as dcm2niix does, the stack is then resampled onto an orthogonal, evenly spaced
grid, and a warning says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from imaging_viewer.core.geometry import Affine, affine_from_axes

if TYPE_CHECKING:
    from numpy.typing import NDArray

# Below this the gantry tilt is kept as a shear in ijk_to_lps (float noise in the
# positions); above it, the tilt is resampled out.
TILT_RESAMPLE_DEG = 0.1
# Relative tolerance of slice steps around their median before spacing counts as uneven.
STEP_TOLERANCE = 0.01
# A resampled stack never gets more slices than this many times the acquired ones.
MAX_UPSAMPLING = 2
# A resampled grid (missing slices filled, tilt sheared out) never holds more than
# this many times the acquired voxels.
MAX_RESAMPLED_GROWTH = 8
# Slices further apart than this many slice thicknesses leave gaps no
# interpolation can fill with data: the stack opens as its acquired images.
SPARSE_GAP_THICKNESSES = 2.0
# Fewer images than this are not a volume: dicom2nifti's validate_slicecount
# rejects 3 or fewer ("TOO_FEW_SLICES/LOCALIZER"; a three-plane localizer).
MIN_VOLUME_IMAGES = 4


@dataclass(frozen=True, eq=False)
class ResamplePlan:
    """How to compute each output slice from the acquired ones.

    Output slice ``n`` is
    ``(1 - weight[n]) * A[below[n]] + weight[n] * A[below[n] + 1]``
    where ``A[k]`` is acquired slice ``k`` sampled at output pixel ``(i, j)`` plus
    the in-plane shift ``(shift_i[k], shift_j[k])`` pixels (bilinear).
    """

    below: NDArray[np.int64]
    weight: NDArray[np.float64]
    shift_i: NDArray[np.float64]
    shift_j: NDArray[np.float64]
    shape_kji: tuple[int, int, int]


@dataclass(frozen=True, eq=False)
class StackGeometry:
    """The grid a sorted stack of slices is shown on."""

    ijk_to_lps: Affine
    shape_kji: tuple[int, int, int]
    resample: ResamplePlan | None
    warnings: tuple[str, ...]
    tilt_deg: float = 0.0
    resample_reasons: tuple[str, ...] = ()
    """Why the slices were resampled, briefly (``tilt 18.5°``, ``2 missing
    slices``, ``uneven spacing``), for the image overlay."""
    acquired_positions_lps: NDArray[np.float64] | None = None
    """(K, 3) Image Position (Patient) of each acquired slice, in order: where
    each acquired image lies when the grid is not the acquired slices."""
    acquired_first: str = ""
    """Why the stack opens as its acquired images, never on an interpolated
    slice (``4 images 45 mm apart, 5 mm thick``); empty for a volume."""


def sparse_reason(steps_mm: NDArray[np.float64], thickness_mm: float | None) -> str:
    """Why slices this far apart (``steps_mm`` along the normal) are no volume:
    few images (:data:`MIN_VOLUME_IMAGES`), or gaps wider than
    :data:`SPARSE_GAP_THICKNESSES` slice thicknesses (PS3.3 C.7.6.2.1.1,
    Slice Thickness (0018,0050)); empty for a volume."""
    count = len(steps_mm) + 1
    if count < 2:
        return ""
    widest = float(np.max(steps_mm))
    if (
        thickness_mm
        and thickness_mm > 0
        and widest > (SPARSE_GAP_THICKNESSES * thickness_mm)
    ):
        return (
            f"{count} images up to {_fmt(widest)} mm apart, "
            f"{_fmt(thickness_mm)} mm thick"
        )
    if count < MIN_VOLUME_IMAGES:
        return f"only {count} images"
    return ""


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def plan_stack(
    positions_lps: NDArray[np.float64],
    row_cosine: NDArray[np.float64],
    column_cosine: NDArray[np.float64],
    normal: NDArray[np.float64],
    pixel_spacing: tuple[float, float],
    rows: int,
    columns: int,
    fallback_spacing: float | None = None,
    slice_thickness: float | None = None,
) -> StackGeometry:
    """Plan the voxel grid for slices already sorted along ``normal``.

    A sparse stack (:func:`sparse_reason`) is never resampled: its missing or
    uneven slices would be invented; its acquired images are the grid, each
    at its own position.

    Parameters
    ----------
    positions_lps
        (K, 3) Image Position (Patient) of each slice, sorted by distance along
        ``normal`` (PS3.3 C.7.6.2.1.1).
    row_cosine, column_cosine
        Unit LPS directions of increasing column index and increasing row index
        (the first and second triplets of Image Orientation (Patient)).
    normal
        Unit slice normal the slices were sorted along.
    pixel_spacing
        (row spacing, column spacing) in mm (PS3.3 10.7.1.3).
    fallback_spacing
        Slice spacing to use for a single slice (Spacing Between Slices or
        Slice Thickness), if known.
    slice_thickness
        Slice Thickness (0018,0050), if known.

    Returns
    -------
    StackGeometry
        ``ijk_to_lps`` of the output grid and, where the acquired slices are not
        that grid, a :class:`ResamplePlan`.
    """
    row_spacing, column_spacing = pixel_spacing
    column_step = row_cosine * column_spacing
    row_step = column_cosine * row_spacing
    count = len(positions_lps)
    origin = positions_lps[0]
    if count == 1:
        thickness = (
            fallback_spacing if fallback_spacing and fallback_spacing > 0 else 1.0
        )
        affine = affine_from_axes(origin, column_step, row_step, normal * thickness)
        return StackGeometry(affine, (1, rows, columns), None, ())

    distances = (positions_lps - origin) @ normal
    steps = np.diff(distances)
    median_step = _median(steps)
    offsets = positions_lps - origin
    in_row = offsets @ row_cosine  # shift along the row direction (mm)
    in_column = offsets @ column_cosine
    extent = float(distances[-1])
    drift = math.hypot(float(in_row[-1]), float(in_column[-1]))
    tilt_deg = math.degrees(math.atan2(drift, extent)) if extent > 0 else 0.0
    tolerance = max(1e-3, STEP_TOLERANCE * abs(median_step))
    even = bool(np.all(np.abs(steps - median_step) <= tolerance))
    tilted = tilt_deg > TILT_RESAMPLE_DEG

    sparse = sparse_reason(steps, slice_thickness)
    if sparse and not (even and not tilted):
        slice_step = (positions_lps[-1] - origin) / (count - 1)
        affine = affine_from_axes(origin, column_step, row_step, slice_step)
        warning = (
            f"{sparse}, unevenly spaced (irregular positions): shown as the "
            "acquired images, each at "
            "its own position; MPR places them evenly, so distances across "
            "slices there are approximate"
        )
        return StackGeometry(
            affine,
            (count, rows, columns),
            None,
            (warning,),
            tilt_deg,
            acquired_positions_lps=np.array(positions_lps, dtype=np.float64),
            acquired_first=sparse,
        )
    if even and not tilted:
        slice_step = (positions_lps[-1] - origin) / (count - 1)
        affine = affine_from_axes(origin, column_step, row_step, slice_step)
        return StackGeometry(
            affine, (count, rows, columns), None, (), tilt_deg, acquired_first=sparse
        )

    warnings: list[str] = []
    reasons: list[str] = []
    spacing = median_step
    if not even:
        ratios = steps / median_step
        gaps = np.abs(ratios - np.round(ratios)) <= STEP_TOLERANCE
        whole = bool(np.all(gaps)) and bool(np.all(np.round(ratios) >= 1))
        if whole:
            missing = int(np.sum(np.round(ratios) - 1))
            reasons.append(f"{missing} missing slice{'s' if missing != 1 else ''}")
            where = [
                f"{_fmt(float(distances[k]))}–{_fmt(float(distances[k + 1]))} mm"
                for k in np.flatnonzero(np.round(ratios) > 1)[:5]
            ]
            warnings.append(
                f"{missing} missing slice(s) (gap after "
                + ", ".join(where)
                + f" along the normal, step {_fmt(median_step)} mm): "
                "filled by linear interpolation between the neighbouring slices"
            )
        else:
            reasons.append("uneven spacing")
            spacing = float(np.min(steps))
            if extent / spacing + 1 > MAX_UPSAMPLING * count:
                spacing = extent / (MAX_UPSAMPLING * count - 1)
            warnings.append(
                f"uneven slice spacing ({_fmt(float(np.min(steps)))} to "
                f"{_fmt(float(np.max(steps)))} mm): resampled to an even "
                f"{_fmt(spacing)} mm by linear interpolation"
            )
    n_out = round(extent / spacing) + 1 if spacing > 0 else count
    n_out = max(1, n_out)
    spacing = extent / (n_out - 1) if n_out > 1 else spacing

    min_row, max_row = float(in_row.min()), float(in_row.max())
    min_col, max_col = float(in_column.min()), float(in_column.max())
    extra_columns = math.ceil((max_row - min_row) / column_spacing - 1e-6)
    extra_rows = math.ceil((max_col - min_col) / row_spacing - 1e-6)
    out_columns = columns + extra_columns
    out_rows = rows + extra_rows
    if n_out * out_rows * out_columns > MAX_RESAMPLED_GROWTH * count * rows * columns:
        # A stray position (one slice kilometres away) would ask for a grid far
        # larger than what was acquired: show the slices as they are instead.
        slice_step = (positions_lps[-1] - origin) / (count - 1)
        affine = affine_from_axes(origin, column_step, row_step, slice_step)
        warning = (
            f"slice positions too irregular to resample ({n_out} slices of "
            f"{out_columns}×{out_rows} would be needed for {count} acquired): "
            "shown as acquired, evenly spaced; distances along the slices are wrong"
        )
        return StackGeometry(
            affine, (count, rows, columns), None, (*warnings, warning), tilt_deg
        )
    out_origin = origin + min_row * row_cosine + min_col * column_cosine
    affine = affine_from_axes(out_origin, column_step, row_step, normal * spacing)
    if tilted:
        reasons.insert(0, f"tilt {tilt_deg:.1f}°")
        warnings.insert(
            0,
            f"gantry tilt of {tilt_deg:.2f}°: resampled to an orthogonal grid of "
            f"{out_columns}×{out_rows}×{n_out} voxels (as dcm2niix does)",
        )

    out_distances = np.arange(n_out) * spacing
    below = np.clip(
        np.searchsorted(distances, out_distances, side="right") - 1, 0, count - 2
    )
    span = distances[below + 1] - distances[below]
    weight = np.where(
        span > 0, (out_distances - distances[below]) / np.where(span > 0, span, 1), 0.0
    )
    weight = np.clip(weight, 0.0, 1.0)
    shift_i = (min_row - in_row) / column_spacing
    shift_j = (min_col - in_column) / row_spacing
    plan = ResamplePlan(
        below=below.astype(np.int64),
        weight=weight,
        shift_i=shift_i,
        shift_j=shift_j,
        shape_kji=(n_out, out_rows, out_columns),
    )
    return StackGeometry(
        affine,
        plan.shape_kji,
        plan,
        tuple(warnings),
        tilt_deg,
        tuple(reasons),
        np.array(positions_lps, dtype=np.float64),
    )


def _shifted(
    image: NDArray[np.float32],
    shift_i: float,
    shift_j: float,
    shape: tuple[int, int],
    fill: float,
) -> NDArray[np.float32]:
    """Sample ``image`` at (i + shift_i, j + shift_j) on ``shape`` (bilinear)."""
    out_rows, out_columns = shape
    rows, columns = image.shape
    padded = np.full((rows + 2, columns + 2), fill, dtype=np.float32)
    padded[1:-1, 1:-1] = image
    j = np.arange(out_rows) + shift_j + 1
    i = np.arange(out_columns) + shift_i + 1
    j0 = np.clip(np.floor(j).astype(np.int64), 0, rows + 1)
    i0 = np.clip(np.floor(i).astype(np.int64), 0, columns + 1)
    j1 = np.clip(j0 + 1, 0, rows + 1)
    i1 = np.clip(i0 + 1, 0, columns + 1)
    fj = (j - np.floor(j)).astype(np.float32)[:, None]
    fi = (i - np.floor(i)).astype(np.float32)[None, :]
    outside_j = (j < 0) | (j > rows + 1)
    outside_i = (i < 0) | (i > columns + 1)
    top = padded[j0][:, i0] * (1 - fi) + padded[j0][:, i1] * fi
    bottom = padded[j1][:, i0] * (1 - fi) + padded[j1][:, i1] * fi
    out: NDArray[np.float32] = top * (1 - fj) + bottom * fj
    out[outside_j, :] = fill
    out[:, outside_i] = fill
    return out


def resample_stack(
    acquired: NDArray[np.generic], plan: ResamplePlan, fill: float
) -> NDArray[np.float32]:
    """Resample acquired slices ``[k, j, i]`` onto the plan's grid (float32).

    Pixels outside the acquired data get ``fill`` (the minimum of the data).
    """
    out = np.empty(plan.shape_kji, dtype=np.float32)
    shape = plan.shape_kji[1:]
    cache: dict[int, NDArray[np.float32]] = {}

    def sampled(k: int) -> NDArray[np.float32]:
        if k not in cache:
            if len(cache) > 2:
                cache.pop(min(cache))
            cache[k] = _shifted(
                acquired[k].astype(np.float32),
                float(plan.shift_i[k]),
                float(plan.shift_j[k]),
                shape,
                fill,
            )
        return cache[k]

    for n in range(plan.shape_kji[0]):
        k = int(plan.below[n])
        w = float(plan.weight[n])
        if w <= 1e-6:
            out[n] = sampled(k)
        elif w >= 1 - 1e-6:
            out[n] = sampled(k + 1)
        else:
            out[n] = sampled(k) * (1 - w) + sampled(k + 1) * w
    return out


def _median(values: NDArray[np.float64]) -> float:
    """``np.median`` of a 1-D array, without its first-call import of numpy.ma.

    (That import costs about 15 ms, paid by the first series of a process.) Same
    value: the middle element, or the mean of the two middle ones; NaN if any is.
    """
    ordered = np.sort(values)
    if ordered.size and np.isnan(ordered[-1]):
        return float("nan")
    middle = ordered.size // 2
    if ordered.size % 2:
        return float(ordered[middle])
    return float(np.mean(ordered[middle - 1 : middle + 1]))
