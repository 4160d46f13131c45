"""Multiplanar reformatting: display planes in patient space and reslicing onto them."""

from __future__ import annotations

import ctypes
import math
import mmap
import threading
import weakref
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Final

import numpy as np
from numpy.typing import NDArray

from imaging_viewer.core import row_bands

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import ArrayLike, DTypeLike

    from imaging_viewer.core.geometry import Affine, Vec3
    from imaging_viewer.core.volume import Volume

Affine3 = NDArray[np.float64]
"""Shape (3, 3): a rotation acting on LPS vectors."""

ORIENTATIONS: Final = ("axial", "coronal", "sagittal")
INTERPOLATIONS: Final = ("linear", "nearest")
SLAB_MODES: Final = ("mip", "minip", "mean")

# Screen right and screen down of each view, in LPS (PS3.3 C.7.6.2.1.1: +x left,
# +y posterior, +z superior). Axial is seen from the feet, coronal from the front,
# sagittal with anterior on the left; superior is up in both.
_DISPLAY_AXES: Final[dict[str, tuple[tuple[float, float, float], ...]]] = {
    "axial": ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),
    "coronal": ((1.0, 0.0, 0.0), (0.0, 0.0, -1.0)),
    "sagittal": ((0.0, 1.0, 0.0), (0.0, 0.0, -1.0)),
}

# |cos| above this: a display axis runs along a volume axis (plane_for spacing).
_PARALLEL_COS = 1.0 - 1e-6
# Largest drift (in voxels) across a plane for the numpy fast path to apply, and
# how far from a voxel centre still counts as on it.
_GRID_TOLERANCE_VOXELS = 1e-3
# Oblique planes get coarser pixels rather than more than this many per side.
_MAX_SIDE_PX = 4096

_SITK_PIXEL_IDS: Final = {
    "int8": "sitkInt8",
    "uint8": "sitkUInt8",
    "int16": "sitkInt16",
    "uint16": "sitkUInt16",
    "int32": "sitkInt32",
    "uint32": "sitkUInt32",
    "int64": "sitkInt64",
    "uint64": "sitkUInt64",
    "float32": "sitkFloat32",
    "float64": "sitkFloat64",
}


def _sitk() -> Any:
    # Imported here, not at module level: importing core must not load SimpleITK.
    import SimpleITK

    return SimpleITK


# ----------------------------------------------------------------------- planes


def _vec3(value: ArrayLike, name: str) -> Vec3:
    vec = np.array(value, dtype=np.float64).reshape(-1)
    if vec.shape != (3,) or not np.all(np.isfinite(vec)):
        raise ValueError(f"{name} must be 3 finite numbers, not {value!r}")
    return vec


def _unit(value: ArrayLike, name: str) -> Vec3:
    vec = _vec3(value, name)
    norm = float(np.linalg.norm(vec))
    if norm == 0.0:
        raise ValueError(f"{name} must not be zero")
    unit: Vec3 = vec / norm
    return unit


def _cross(a: Vec3, b: Vec3) -> Vec3:
    # np.cross costs ~50 µs (axis handling); this runs per frame.
    return np.array(
        [
            a[1] * b[2] - a[2] * b[1],
            a[2] * b[0] - a[0] * b[2],
            a[0] * b[1] - a[1] * b[0],
        ]
    )


def _frozen(array: NDArray[np.float64]) -> NDArray[np.float64]:
    array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class SlicePlane:
    """A plane in patient space sampled on a pixel grid.

    Pixel (c, r) is at ``origin_lps + c * column_step_lps + r * row_step_lps``,
    where the column step is ``spacing_mm[0] * right_lps`` and the row step
    ``spacing_mm[1] * down_lps``. Vectors are LPS millimetres (+x toward the
    patient's left, +y posterior, +z superior; PS3.3 C.7.6.2.1.1).
    """

    origin_lps: Vec3
    """Centre of pixel (0, 0)."""
    right_lps: Vec3
    """Unit vector toward screen right (increasing column)."""
    down_lps: Vec3
    """Unit vector toward screen down (increasing row)."""
    spacing_mm: tuple[float, float]
    """(column spacing, row spacing): the distance between pixel centres."""
    size_px: tuple[int, int]
    """(columns, rows)."""
    _normal: Vec3 = field(init=False, repr=False)

    def __post_init__(self) -> None:
        right = _unit(self.right_lps, "right_lps")
        down = _unit(self.down_lps, "down_lps")
        if abs(float(right @ down)) > 1e-6:
            raise ValueError("right_lps and down_lps must be perpendicular")
        spacing = (float(self.spacing_mm[0]), float(self.spacing_mm[1]))
        if not all(math.isfinite(s) and s > 0.0 for s in spacing):
            raise ValueError(f"spacing_mm must be positive, not {self.spacing_mm}")
        size = (int(self.size_px[0]), int(self.size_px[1]))
        if min(size) < 1:
            raise ValueError(f"size_px must be at least 1×1, not {self.size_px}")
        object.__setattr__(self, "origin_lps", _frozen(_vec3(self.origin_lps, "o")))
        object.__setattr__(self, "right_lps", _frozen(right))
        object.__setattr__(self, "down_lps", _frozen(down))
        object.__setattr__(self, "spacing_mm", spacing)
        object.__setattr__(self, "size_px", size)
        normal = _cross(right, down)
        object.__setattr__(self, "_normal", _frozen(normal / np.linalg.norm(normal)))

    @property
    def normal_lps(self) -> Vec3:
        """Unit normal ``right × down``: toward the viewer's back (into the screen)."""
        return self._normal

    def pixel_to_lps(self) -> Affine:
        """4×4 mapping (column, row, n, 1) to LPS, n in mm along :attr:`normal_lps`.

        References
        ----------
        PS3.3 C.7.6.2.1.1 Image Position and Image Orientation (the same form as
        the equation there, with a third column for the plane normal).
        """
        affine = np.eye(4)
        affine[:3, 0] = self.right_lps * self.spacing_mm[0]
        affine[:3, 1] = self.down_lps * self.spacing_mm[1]
        affine[:3, 2] = self.normal_lps
        affine[:3, 3] = self.origin_lps
        return affine

    def lps_to_pixel(self, points_lps: ArrayLike) -> NDArray[np.float64]:
        """(column, row, distance_mm) of LPS points of shape (..., 3).

        ``distance_mm`` is the signed distance from the plane along the normal,
        so overlays can tell which annotations lie on (or near) the plane.
        """
        offsets = np.asarray(points_lps, dtype=np.float64) - self.origin_lps
        result: NDArray[np.float64] = np.stack(
            [
                offsets @ self.right_lps / self.spacing_mm[0],
                offsets @ self.down_lps / self.spacing_mm[1],
                offsets @ self.normal_lps,
            ],
            axis=-1,
        )
        return result

    def coarsened(self, factor: int) -> SlicePlane:
        """The same area with ``factor`` times larger pixels (e.g. while dragging).

        Pixel (c, r) of the result covers pixels ``factor * c .. factor * c +
        factor - 1`` (likewise for rows) of this plane.
        """
        if factor < 1:
            raise ValueError(f"factor must be at least 1, not {factor}")
        shift = (factor - 1) / 2.0
        return replace(
            self,
            origin_lps=self.origin_lps
            + shift * self.spacing_mm[0] * self.right_lps
            + shift * self.spacing_mm[1] * self.down_lps,
            spacing_mm=(self.spacing_mm[0] * factor, self.spacing_mm[1] * factor),
            size_px=(-(-self.size_px[0] // factor), -(-self.size_px[1] // factor)),
        )

    def translated(self, distance_mm: float) -> SlicePlane:
        """The same plane moved ``distance_mm`` along its normal."""
        return replace(
            self, origin_lps=self.origin_lps + float(distance_mm) * self.normal_lps
        )


@dataclass(frozen=True, eq=False)
class Slice:
    """Pixels resliced from a volume, with where they are in patient space."""

    pixels: NDArray[Any]
    """``[row, column]`` in modality units (``[row, column, 3]`` for RGB)."""
    pixel_to_lps: Affine
    """(column, row, n, 1) -> LPS mm; the third column is the unit normal."""

    @property
    def spacing_mm(self) -> tuple[float, float]:
        """(column spacing, row spacing) in mm, for drawing pixels to scale."""
        norms = np.linalg.norm(self.pixel_to_lps[:3, :2], axis=0)
        return float(norms[0]), float(norms[1])


def _display_axes(orientation: str) -> tuple[Vec3, Vec3]:
    if orientation not in _DISPLAY_AXES:
        raise ValueError(
            f"orientation must be one of {', '.join(ORIENTATIONS)}, not {orientation!r}"
        )
    right, down = _DISPLAY_AXES[orientation]
    return np.array(right), np.array(down)


def _checked_rotation(rotation: ArrayLike) -> Affine3:
    matrix = np.asarray(rotation, dtype=np.float64)
    if matrix.shape != (3, 3) or not np.all(np.isfinite(matrix)):
        raise ValueError("rotation must be a 3×3 matrix")
    if not np.allclose(matrix @ matrix.T, np.eye(3), atol=1e-6) or (
        np.linalg.det(matrix) < 0
    ):
        raise ValueError("rotation must be a proper rotation (orthonormal, det +1)")
    return matrix


def _volume_axes(ijk_to_lps: Affine) -> tuple[NDArray[np.float64], Vec3]:
    """Unit LPS direction of i, j and k (as columns), and the spacing along each."""
    spacing: Vec3 = np.linalg.norm(ijk_to_lps[:3, :3], axis=0)
    axes: NDArray[np.float64] = ijk_to_lps[:3, :3] / spacing
    return axes, spacing


def _parallel_axis(axes: NDArray[np.float64], direction: Vec3) -> int | None:
    cosines = np.abs(axes.T @ direction)
    best = int(np.argmax(cosines))
    return best if cosines[best] >= _PARALLEL_COS else None


def _bounding_corners_lps(volume: Volume) -> NDArray[np.float64]:
    """The 8 corners of the volume's voxel-edge box (voxel centres ± half a voxel)."""
    nk, nj, ni = volume.shape_kji
    corners = np.array(
        [
            (i, j, k, 1.0)
            for i in (-0.5, ni - 0.5)
            for j in (-0.5, nj - 0.5)
            for k in (-0.5, nk - 0.5)
        ]
    )
    result: NDArray[np.float64] = (corners @ volume.ijk_to_lps.T)[:, :3]
    return result


def _cover(low: float, high: float, spacing: float) -> tuple[int, float]:
    """Pixels of ``spacing`` covering [low, high], and the first pixel centre."""
    count = max(1, math.ceil((high - low) / spacing - 1e-6))
    first = (low + high) / 2.0 - (count - 1) * spacing / 2.0
    return count, first


def plane_for(
    volume: Volume,
    orientation: str,
    cursor_lps: ArrayLike,
    rotation: ArrayLike | None = None,
) -> SlicePlane:
    """The display plane of ``orientation`` through the cursor.

    Screen directions follow the radiological convention whatever the
    acquisition plane: axial seen from the feet (right = +x, down = +y), coronal
    from the front (right = +x, down = -z), sagittal with anterior on the left
    (right = +y, down = -z). ``rotation`` turns both about the cursor for
    oblique and double-oblique views.

    The pixel grid covers the projection of the whole volume on the plane, so
    scrolling or moving the cursor within the plane never crops, and it is
    anchored to the volume: only the cursor's distance along the normal changes
    the plane. When both screen axes run along volume axes, the pixel spacing is
    the voxel spacing along them and pixel centres are voxel centres (so
    :func:`reslice` maps pixels 1:1 to voxels); otherwise pixels are square,
    with the finest spacing of the volume axes that have a component in the
    plane.

    Parameters
    ----------
    volume : Volume
        The volume to view; only its geometry and shape are used.
    orientation : {"axial", "coronal", "sagittal"}
        Which view.
    cursor_lps : array_like
        A point of the plane, LPS mm (the shared 3D cursor).
    rotation : array_like, optional
        3×3 rotation applied to the screen axes (``right = rotation @ right0``),
        about the cursor.

    Returns
    -------
    SlicePlane

    References
    ----------
    PS3.3 C.7.6.2.1.1 Image Position and Image Orientation (the LPS patient
    coordinate system).
    """
    right, down = _display_axes(orientation)
    if rotation is not None:
        matrix = _checked_rotation(rotation)
        right, down = matrix @ right, matrix @ down
    cursor = _vec3(cursor_lps, "cursor_lps")
    axes, voxel_spacing = _volume_axes(volume.ijk_to_lps)
    along_right = _parallel_axis(axes, right)
    along_down = _parallel_axis(axes, down)
    offsets = _bounding_corners_lps(volume) - cursor
    along_u, along_v = offsets @ right, offsets @ down
    if along_right is not None and along_down is not None and along_right != along_down:
        spacing = (float(voxel_spacing[along_right]), float(voxel_spacing[along_down]))
    else:
        normal = _cross(right, down)
        in_plane = [
            float(s)
            for axis, s in zip(axes.T, voxel_spacing, strict=True)
            if abs(float(axis @ normal)) < _PARALLEL_COS
        ]
        step = min(in_plane) if in_plane else float(voxel_spacing.min())
        widest = max(float(np.ptp(along_u)), float(np.ptp(along_v)))
        step = max(step, widest / _MAX_SIDE_PX)
        spacing = (step, step)
    columns, first_u = _cover(float(along_u.min()), float(along_u.max()), spacing[0])
    rows, first_v = _cover(float(along_v.min()), float(along_v.max()), spacing[1])
    return SlicePlane(
        origin_lps=cursor + first_u * right + first_v * down,
        right_lps=right,
        down_lps=down,
        spacing_mm=spacing,
        size_px=(columns, rows),
    )


def native_rotation(volume: Volume, orientation: str) -> Affine3:
    """The rotation that lays a display plane on the volume's own grid.

    For an oblique acquisition, ``plane_for(volume, orientation, cursor,
    native_rotation(volume, orientation))`` shows the acquired slices (or the
    grid planes closest to the display plane), which :func:`reslice` serves
    from the voxels without interpolation. Identity for volumes aligned with
    the patient axes.

    References
    ----------
    PS3.3 C.7.6.2.1.1 Image Orientation (Patient).
    """
    right0, down0 = _display_axes(orientation)
    axes, _ = _volume_axes(volume.ijk_to_lps)
    cosines = axes.T @ right0
    a = int(np.argmax(np.abs(cosines)))
    right = axes[:, a] * np.sign(cosines[a])
    others = [b for b in range(3) if b != a]
    cosines = axes[:, others].T @ down0
    b = others[int(np.argmax(np.abs(cosines)))]
    down = axes[:, b] * np.sign(axes[:, b] @ down0)
    down = down - (down @ right) * right
    down /= np.linalg.norm(down)
    target = np.column_stack([right, down, _cross(right, down)])
    source = np.column_stack([right0, down0, _cross(right0, down0)])
    rotation: Affine3 = target @ source.T
    return rotation


def slice_step_mm(volume: Volume, plane: SlicePlane) -> float:
    """The scroll step along the plane normal: one voxel, or the finest spacing."""
    axes, spacing = _volume_axes(volume.ijk_to_lps)
    axis = _parallel_axis(axes, plane.normal_lps)
    return float(spacing[axis] if axis is not None else spacing.min())


def snapped_to_voxels(volume: Volume, plane: SlicePlane) -> SlicePlane:
    """``plane`` moved along its normal to the nearest voxel centres, if aligned.

    A plane normal to a volume axis is moved (by less than half a voxel) onto
    the nearest slice of voxel centres, so :func:`reslice` returns the voxels
    without interpolating between two slices. Other planes are returned as is.
    """
    mapping = _grid_mapping(volume, plane)
    if mapping is None or mapping.through_per_mm == 0.0:
        return plane
    shift = round(mapping.through) - mapping.through
    return plane.translated(shift / mapping.through_per_mm)


# --------------------------------------------------------------- reslicing


@dataclass(frozen=True)
class _GridMapping:
    """How an axis-aligned plane's pixels map to voxel indices (axes 0=i, 1=j, 2=k).

    Column c is index ``column_start + column_sign * c`` along ``column_axis``,
    row r likewise; the plane lies at continuous index ``through`` along the
    remaining axis, which changes by ``through_per_mm`` (signed) per mm along
    the normal, while the other two indices drift by ``normal_drift_per_mm``
    (zero on an orthogonal grid).
    """

    column_axis: int
    column_sign: int
    column_start: int
    row_axis: int
    row_sign: int
    row_start: int
    through_axis: int
    through: float
    through_per_mm: float
    normal_drift_per_mm: float


def _plane_to_ijk(volume: Volume, plane: SlicePlane) -> NDArray[np.float64]:
    """4×4 mapping of the plane's (column, row, n mm, 1) to voxel (i, j, k, 1)."""
    result: NDArray[np.float64] = _lps_to_ijk(volume) @ plane.pixel_to_lps()
    return result


def _grid_mapping(
    volume: Volume,
    plane: SlicePlane,
    plane_to_ijk: NDArray[np.float64] | None = None,
) -> _GridMapping | None:
    """The fast-path mapping, or None when pixels are not voxels of one grid plane.

    ``plane_to_ijk`` is :func:`_plane_to_ijk` when the caller has it already.
    """
    if plane_to_ijk is None:
        plane_to_ijk = _plane_to_ijk(volume, plane)
    columns, rows = plane.size_px
    steps = []
    for col, count in ((0, columns), (1, rows)):
        step = plane_to_ijk[:3, col]
        axis = int(np.argmax(np.abs(step)))
        sign = 1 if step[axis] > 0 else -1
        drift = np.abs(step - sign * np.eye(3)[axis]) * max(count - 1, 1)
        if float(drift.max()) > _GRID_TOLERANCE_VOXELS:
            return None
        start = plane_to_ijk[axis, 3]
        if abs(start - round(start)) > _GRID_TOLERANCE_VOXELS:
            return None
        steps.append((axis, sign, round(start)))
    (a, sa, ta), (b, sb, tb) = steps
    if a == b:
        return None
    c = 3 - a - b
    normal_step = plane_to_ijk[:3, 2]
    return _GridMapping(
        column_axis=a,
        column_sign=sa,
        column_start=ta,
        row_axis=b,
        row_sign=sb,
        row_start=tb,
        through_axis=c,
        through=float(plane_to_ijk[c, 3]),
        through_per_mm=float(normal_step[c]),
        normal_drift_per_mm=float(abs(normal_step[a]) + abs(normal_step[b])),
    )


def _pixel_range(start: int, sign: int, count: int, n: int) -> tuple[int, int, slice]:
    """Pixels [p0, p1) whose index ``start + sign * p`` lies in [0, n), as a slice."""
    if sign > 0:
        p0, p1 = max(0, -start), min(count, n - start)
    else:
        p0, p1 = max(0, start - n + 1), min(count, start + 1)
    if p1 <= p0:
        return 0, 0, slice(0, 0)
    first = start + sign * p0
    last = start + sign * (p1 - 1)
    if sign > 0:
        return p0, p1, slice(first, last + 1)
    return p0, p1, slice(first, last - 1 if last > 0 else None, -1)


def _aligned_block(
    voxels: NDArray[Any], m: _GridMapping, size_px: tuple[int, int], through: Any
) -> tuple[NDArray[Any], tuple[slice, slice]] | None:
    """The voxels under the plane as a view ``[row, column]`` (``[slab, row,
    column]`` when ``through`` is a slice), and where it goes in the output."""
    columns, rows = size_px
    c0, c1, column_index = _pixel_range(
        m.column_start, m.column_sign, columns, voxels.shape[2 - m.column_axis]
    )
    r0, r1, row_index = _pixel_range(
        m.row_start, m.row_sign, rows, voxels.shape[2 - m.row_axis]
    )
    if c1 == c0 or r1 == r0:
        return None
    index: list[Any] = [slice(None)] * 3
    index[2 - m.column_axis] = column_index
    index[2 - m.row_axis] = row_index
    index[2 - m.through_axis] = through
    block = voxels[tuple(index)]
    # voxels[k, j, i]: numpy axis 2 - a holds voxel axis a.
    order = [2 - m.row_axis, 2 - m.column_axis]
    if isinstance(through, slice):
        order.insert(0, 2 - m.through_axis)
    else:
        order = [0, 1] if order[0] < order[1] else [1, 0]
    order += list(range(len(order), block.ndim))  # RGB samples stay last
    return block.transpose(order), (slice(r0, r1), slice(c0, c1))


def _output(
    out: NDArray[Any] | None, shape: tuple[int, ...], dtype: np.dtype[Any]
) -> NDArray[Any]:
    if out is None:
        return np.empty(shape, dtype=dtype)
    if out.shape != shape or out.dtype != dtype:
        raise ValueError(
            f"out must be {dtype} of shape {shape}, not {out.dtype} {out.shape}"
        )
    return out


def _store(dst: NDArray[Any], values: NDArray[Any]) -> None:
    """Write float results into ``dst``, rounding for integer types.

    ``values`` are blends of voxel values (or the fill), so they lie within the
    type's range; float32 holds 8- and 16-bit integers exactly, so only wider
    types can round past it and need clipping.
    """
    if dst.dtype.kind in "iu":
        np.rint(values, out=values)
        if dst.dtype.itemsize > 2:
            info = np.iinfo(dst.dtype)
            np.clip(values, info.min, info.max, out=values)
    np.copyto(dst, values, casting="unsafe")


def _slab_offsets(slab_mm: float, step_mm: float) -> int:
    """Samples each side of the plane: every ``step_mm`` within ±slab_mm / 2."""
    if slab_mm <= 0.0:
        return 0
    return math.floor(slab_mm / 2.0 / step_mm + 1e-6)


def _reduce_slab(block: NDArray[Any], mode: str) -> NDArray[Any]:
    """Max/min/mean of float samples over axis 0 (across the slab); NaN = outside."""
    if mode == "mip":
        return np.asarray(np.fmax.reduce(block, axis=0))
    if mode == "minip":
        return np.asarray(np.fmin.reduce(block, axis=0))
    total = np.zeros(block.shape[1:], dtype=np.float32)
    count = np.zeros(block.shape[1:], dtype=np.float32)
    valid = np.empty(block.shape[1:], dtype=bool)
    for samples in block:
        np.isfinite(samples, out=valid)
        np.add(total, samples, out=total, where=valid)
        count += valid
    with np.errstate(invalid="ignore", divide="ignore"):
        total /= count
    return total


class _GridPlanes:
    """Grid planes ``low .. low + count - 1`` under a plane, read by row bands.

    ``block`` is a view ``[plane, row, column(, rgb)]`` of the voxels. When the
    through axis is the innermost one in memory (i for ``voxels[k, j, i]``,
    e.g. sagittal planes of an axial stack), each pixel's ``count`` neighbours
    are adjacent bytes, so they are gathered in one strided pass as a single
    element each, not ``count`` passes.
    """

    def __init__(self, voxels: NDArray[Any], block: NDArray[Any]) -> None:
        self.block = block
        self.count = block.shape[0]
        self.runs: NDArray[Any] | None = None
        innermost = block.ndim > 2 and block.strides[0] == voxels.itemsize * int(
            np.prod(voxels.shape[3:], dtype=np.int64)
        )
        if self.count > 1 and innermost and voxels.flags.c_contiguous:
            offset = (
                block.__array_interface__["data"][0]
                - voxels.__array_interface__["data"][0]
            )
            run = np.dtype((np.void, block.strides[0] * self.count))
            self.runs = np.ndarray(
                block.shape[1:3],
                dtype=run,
                buffer=voxels,
                offset=offset,
                strides=block.strides[1:3],
            )

    def rows(self, band: slice) -> list[NDArray[Any]]:
        """Each plane's rows ``band``, ``[row, column(, rgb)]``."""
        if self.runs is None:
            return [self.block[n, band] for n in range(self.count)]
        gathered = self._gathered(band)
        return [gathered[:, :, n] for n in range(self.count)]

    def _gathered(self, band: slice) -> NDArray[Any]:
        """Rows ``band`` of the runs, copied: ``[row, column, plane(, rgb)]``."""
        assert self.runs is not None
        runs = self.runs[band].copy()
        return runs.view(self.block.dtype).reshape(
            *runs.shape, self.count, *self.block.shape[3:]
        )

    def can_blend_pairs(self) -> bool:
        """True when :meth:`blend_pairs` applies: two gathered grey planes of
        8- or 16-bit integers (which float32 holds exactly)."""
        dtype = self.block.dtype
        return (
            self.runs is not None
            and self.count == 2
            and self.block.ndim == 3
            and dtype.kind in "iu"
            and dtype.itemsize <= 2
        )

    def blend_pairs(self, band: slice, target: NDArray[Any], weight: float) -> None:
        """``target = rint((1 - weight) * first + weight * second)`` for rows
        ``band``, from the gathered pairs in one complex multiply.

        Each pixel's two neighbours are adjacent, so as float32 they are the
        real and imaginary parts of one complex64 ``a + ib``; times
        ``(1 - w) - iw`` its real part is ``(1 - w)a + wb``. That is one pass
        over the pairs instead of separating them into two planes first.
        """
        pairs = self._gathered(band).astype(np.float32).view(np.complex64)[..., 0]
        pairs *= np.complex64(complex(1.0 - weight, -weight))
        np.rint(pairs.real, out=target, casting="unsafe")


def _row_contiguous(pixels: NDArray[Any]) -> bool:
    """True when each row's pixels are adjacent in memory (cheap to render)."""
    samples = int(np.prod(pixels.shape[2:], dtype=np.int64))
    return pixels.shape[1] <= 1 or pixels.strides[1] == pixels.itemsize * samples


# Strided reads (sagittal planes of an axial stack) are bound by cache misses,
# not by one core: planes of this many pixels are split in row bands over the
# free cores (numpy releases the GIL while copying and computing).
_PARALLEL_MIN_PIXELS: Final = 1 << 16
_BLOCK_PIXELS: Final = 1 << 14


def _band_count(rows: int, pixels: int) -> int:
    """How many row bands :func:`_in_bands` makes of ``pixels`` worth of work."""
    return row_bands.band_count(rows, pixels, _PARALLEL_MIN_PIXELS)


def _in_bands(
    work: Callable[[slice], None], rows: int, pixels: int, pieces: int = 0
) -> None:
    """:func:`row_bands.in_bands` from the planes of this size up."""
    row_bands.in_bands(
        work, rows, pixels, min_pixels=_PARALLEL_MIN_PIXELS, pieces=pieces
    )


def _combine(
    planes: list[NDArray[Any]], target: NDArray[Any], mode: str, weight: float
) -> None:
    """Write one band: a plane, a linear blend of two, or a slab projection."""
    if len(planes) == 1:
        np.copyto(target, planes[0])
    elif mode == "linear":
        # Casting ufuncs are slow on strided input: make the two planes compact.
        first, second = (
            p if _row_contiguous(p) else np.ascontiguousarray(p) for p in planes
        )
        blended = np.subtract(second, first, dtype=np.float32)
        blended *= np.float32(weight)
        blended += first
        _store(target, blended)
    elif mode in ("mip", "minip"):
        pick = np.maximum if mode == "mip" else np.minimum
        np.copyto(target, planes[0])
        for other in planes[1:]:
            pick(target, other, out=target)
    else:
        total = planes[0].astype(np.float32)
        for other in planes[1:]:
            np.add(total, other, out=total)
        total /= np.float32(len(planes))
        _store(target, total)


def _reslice_aligned(
    voxels: NDArray[Any],
    m: _GridMapping,
    plane: SlicePlane,
    fill: float,
    interpolation: str,
    slab_mm: float,
    slab_mode: str,
    out: NDArray[Any] | None,
) -> NDArray[Any]:
    columns, rows = plane.size_px
    shape = (rows, columns, *voxels.shape[3:])
    n = voxels.shape[2 - m.through_axis]
    w = m.through
    dtype = voxels.dtype
    per_mm = abs(m.through_per_mm)
    weight = 0.0
    if per_mm and _slab_offsets(slab_mm, 1.0 / per_mm) > 0:
        # Whole slices whose centres lie within the slab.
        reach = slab_mm / 2.0 * per_mm
        low = max(math.ceil(w - reach - _GRID_TOLERANCE_VOXELS), 0)
        high = min(math.floor(w + reach + _GRID_TOLERANCE_VOXELS), n - 1)
        count = high - low + 1
    else:
        # ITK's rule, so this path and SimpleITK agree: inside is [-0.5, n - 0.5),
        # and linear interpolation holds the edge slice in the outer half voxel.
        nearest = round(w)
        if abs(w - nearest) <= _GRID_TOLERANCE_VOXELS and 0 <= nearest < n:
            low, count = nearest, 1
        elif w < -0.5 or w >= n - 0.5:
            low, count = 0, 0
        elif interpolation == "nearest":
            low, count = min(max(math.floor(w + 0.5), 0), n - 1), 1
        else:
            low = math.floor(w)
            weight = w - low
            if low < 0:
                low, count = 0, 1
            elif low >= n - 1:
                low, count = n - 1, 1
            else:
                count = 2
        slab_mode = "linear"
    found = None
    if count > 0:
        found = _aligned_block(voxels, m, plane.size_px, slice(low, low + count))
    if found is None:
        dst = _output(out, shape, dtype)
        dst.fill(fill)
        return dst
    block, window = found
    full = block.shape[1:3] == (rows, columns)
    if count == 1 and full and out is None and _row_contiguous(block[0]):
        single: NDArray[Any] = block[0]
        single.flags.writeable = False  # a view of the voxels: keep them safe
        return single
    # Otherwise one compact result (rendering a strided view would cost more).
    dst = _output(out, shape, dtype)
    if not full:
        dst.fill(fill)
    target = dst[window]
    planes = _GridPlanes(voxels, block)

    # Blocks of rows small enough that the gathered planes and float
    # temporaries stay in the core's cache (and memory use stays low).
    block_rows = max(1, _BLOCK_PIXELS // max(target.shape[1], 1))

    paired = slab_mode == "linear" and planes.can_blend_pairs()

    def band(rows_: slice) -> None:
        for start in range(rows_.start, rows_.stop, block_rows):
            rows_block = slice(start, min(start + block_rows, rows_.stop))
            if paired:
                planes.blend_pairs(rows_block, target[rows_block], weight)
            else:
                _combine(planes.rows(rows_block), target[rows_block], slab_mode, weight)

    rows_ = target.shape[0]
    _in_bands(band, rows_, rows_ * target.shape[1], -(-rows_ // block_rows))
    return dst


class _SitkPixels:
    """Keeps a SimpleITK image alive while a numpy array uses its pixel buffer.

    ``np.asarray(holder)`` is a writable array over the image's memory whose
    ``base`` is the holder, so the image lives as long as any view of it.
    """

    def __init__(self, image: Any) -> None:
        view = _sitk().GetArrayViewFromImage(image)
        self.image = image
        self.address: int = view.__array_interface__["data"][0]
        self.shape: tuple[int, ...] = view.shape
        self.__array_interface__ = {
            "version": 3,
            "shape": view.shape,
            "typestr": view.dtype.str,
            "data": (self.address, False),
        }


def _sitk_owner(voxels: NDArray[Any]) -> Any | None:
    """The SimpleITK image whose buffer ``voxels`` is exactly, if any."""
    base: Any = voxels
    while isinstance(base, np.ndarray):
        base = base.base
    if not isinstance(base, _SitkPixels):
        return None
    same = (
        voxels.flags.c_contiguous
        and voxels.shape == base.shape
        and voxels.__array_interface__["data"][0] == base.address
    )
    return base.image if same else None


def _is_rgb_shape(shape: tuple[int, ...], dtype: np.dtype[Any]) -> bool:
    return len(shape) == 4 and shape[-1] == 3 and dtype == np.uint8


def empty_voxels(shape: tuple[int, ...], dtype: DTypeLike) -> NDArray[Any]:
    """A zero-filled voxel array whose memory SimpleITK owns.

    A :class:`~imaging_viewer.core.volume.Volume` built on such an array (3D
    ``[k, j, i]``, or ``[k, j, i, 3]`` uint8 RGB) is resliced obliquely without
    a second copy of the voxels: SimpleITK 2.5 cannot wrap numpy memory, but
    numpy can wrap SimpleITK's. Other shapes (4D) get a plain numpy array.

    Parameters
    ----------
    shape : tuple of int
        ``(k, j, i)`` or ``(k, j, i, 3)``.
    dtype : numpy dtype
        Any integer or float type SimpleITK has.

    Returns
    -------
    numpy.ndarray
        Writable, C-contiguous, zero-filled.
    """
    np_dtype = np.dtype(dtype)
    rgb = _is_rgb_shape(shape, np_dtype)
    if (len(shape) != 3 and not rgb) or np_dtype.name not in _SITK_PIXEL_IDS:
        voxels: NDArray[Any] = np.zeros(shape, dtype=np_dtype)
    else:
        sitk = _sitk()
        size = [int(n) for n in shape[2::-1]]
        if rgb:
            image = sitk.Image(size, sitk.sitkVectorUInt8, 3)
        else:
            image = sitk.Image(size, getattr(sitk, _SITK_PIXEL_IDS[np_dtype.name]))
        voxels = np.asarray(_SitkPixels(image))
    _prefer_huge_pages(voxels)
    return voxels


_HUGE_PAGE: Final = 2 << 20


def _prefer_huge_pages(zeros: NDArray[Any]) -> None:
    """Ask Linux to back the all-zero ``zeros`` with 2 MiB pages (best effort).

    A sagittal plane of an axial stack reads one voxel every row of every
    slice: with 4 KiB pages nearly every read also misses the TLB, and with
    huge pages the gather takes about a quarter less time. The pages already
    written (SimpleITK zero-fills) are given back, which keeps the contents,
    zeros, so the loader's writes fault in huge pages. Only whole huge pages
    inside the array are touched.
    """
    hugepage = getattr(mmap, "MADV_HUGEPAGE", None)
    dontneed = getattr(mmap, "MADV_DONTNEED", None)
    if hugepage is None or dontneed is None or zeros.nbytes < 4 * _HUGE_PAGE:
        return
    try:
        madvise = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    madvise.restype = ctypes.c_int
    address = int(zeros.__array_interface__["data"][0])
    start = -(-address // _HUGE_PAGE) * _HUGE_PAGE
    end = (address + zeros.nbytes) // _HUGE_PAGE * _HUGE_PAGE
    if end > start and madvise(start, end - start, hugepage) == 0:
        madvise(start, end - start, dontneed)


def sitk_backed(voxels: NDArray[Any]) -> NDArray[Any]:
    """``voxels`` in memory owned by SimpleITK (a copy, unless already so).

    Loaders call it once on a finished 3D volume and drop the original: the
    volume then exists once, shared by numpy and by :func:`reslice`'s
    SimpleITK path. Arrays :func:`empty_voxels` cannot back are returned as is.
    """
    if _sitk_owner(voxels) is not None:
        return voxels
    backed = empty_voxels(voxels.shape, voxels.dtype)
    if not isinstance(backed.base, _SitkPixels):
        return voxels
    np.copyto(backed, voxels)
    return backed


class _VolumeCache:
    """Per-volume state reslice reuses: fill value, SimpleITK images, transform."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.fill: float | None = None
        self.images: dict[int, Any] = {}
        self.shared: dict[int, bool] = {}
        self.lps_to_index: Any = None
        self.lps_to_ijk: NDArray[np.float64] | None = None


_CACHE: weakref.WeakKeyDictionary[Volume, _VolumeCache] = weakref.WeakKeyDictionary()
_CACHE_LOCK = threading.Lock()


def _cache_for(volume: Volume) -> _VolumeCache:
    with _CACHE_LOCK:
        entry = _CACHE.get(volume)
        if entry is None:
            entry = _CACHE[volume] = _VolumeCache()
        return entry


def _fill_value(volume: Volume) -> float:
    """What lies outside the volume: its minimum (0 for RGB)."""
    entry = _cache_for(volume)
    with entry.lock:
        if entry.fill is None:
            voxels = volume.voxels
            if volume.is_rgb or voxels.size == 0:
                entry.fill = 0.0
            elif voxels.dtype.kind == "f":
                low = float(np.fmin.reduce(voxels, axis=None))
                entry.fill = low if math.isfinite(low) else 0.0
            else:
                entry.fill = float(voxels.min())
        return entry.fill


def _lps_to_ijk(volume: Volume) -> NDArray[np.float64]:
    """The inverse of ``volume.ijk_to_lps``, computed once per volume."""
    entry = _cache_for(volume)
    if entry.lps_to_ijk is None:
        entry.lps_to_ijk = np.linalg.inv(volume.ijk_to_lps).astype(np.float64)
    return entry.lps_to_ijk


def _sitk_source(volume: Volume, time_index: int) -> tuple[Any, Any, bool]:
    """(image in index space, LPS -> index transform, shares the voxels' memory).

    The image has origin 0, spacing 1 and identity direction; the volume's
    geometry goes in the transform, so one image can serve any geometry and
    is never modified (setting its origin could make SimpleITK copy it).
    Images are cached per volume; a copy (when the voxels are not SimpleITK's
    memory) is kept for one time point at a time.
    """
    sitk = _sitk()
    entry = _cache_for(volume)
    with entry.lock:
        if entry.lps_to_index is None:
            lps_to_ijk = _lps_to_ijk(volume)
            transform = sitk.AffineTransform(3)
            transform.SetMatrix([float(x) for x in lps_to_ijk[:3, :3].ravel()])
            transform.SetTranslation([float(x) for x in lps_to_ijk[:3, 3]])
            entry.lps_to_index = transform
        image = entry.images.get(time_index)
        if image is None:
            voxels = volume.time_point(time_index).voxels
            image = _sitk_owner(voxels)
            shared = image is not None
            if image is None:
                image = sitk.GetImageFromArray(voxels, isVector=volume.is_rgb)
                for t in [t for t, s in entry.shared.items() if not s]:
                    del entry.images[t], entry.shared[t]
            entry.images[time_index] = image
            entry.shared[time_index] = shared
        return image, entry.lps_to_index, entry.shared[time_index]


def _footprint(
    volume: Volume,
    plane: SlicePlane,
    reach_mm: float,
    plane_to_ijk: NDArray[np.float64] | None = None,
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Per row, the columns ``[low, high)`` that may sample the volume.

    A pixel outside them lies more than a pixel away from the box of voxel
    centres ± half a voxel (where SimpleITK interpolates), even when moved
    ``reach_mm`` either way along the normal (a slab), so it gets the fill.
    Rows that miss the volume have ``low == high``. ``plane_to_ijk`` is
    :func:`_plane_to_ijk` when the caller has it already.
    """
    columns, rows = plane.size_px
    if plane_to_ijk is None:
        plane_to_ijk = _plane_to_ijk(volume, plane)
    to_index = plane_to_ijk[:3]
    sizes = np.array(volume.shape_kji[2::-1], dtype=np.float64)
    reach = reach_mm * np.abs(to_index[:, 2])
    # One pixel of margin: rounding must never drop a pixel ITK would sample.
    margin = np.abs(to_index[:, 0]) + np.abs(to_index[:, 1])
    low_bound = (-0.5 - reach - margin)[:, np.newaxis]
    high_bound = (sizes - 0.5 + reach + margin)[:, np.newaxis]
    # [axis, row]: the index at column 0 of each row, and its change per column.
    base = to_index[:, 3, np.newaxis] + to_index[:, 1, np.newaxis] * np.arange(rows)
    step = to_index[:, 0, np.newaxis]
    along = np.abs(step) >= 1e-12
    # An axis the rows run across bounds the columns; one they do not either
    # admits the whole row or, where the row lies outside it, none of it.
    safe_step = np.where(along, step, 1.0)
    a = (low_bound - base) / safe_step
    b = (high_bound - base) / safe_step
    inside = (base >= low_bound) & (base <= high_bound)
    first = np.where(along, np.minimum(a, b), -np.inf).max(axis=0)
    last = np.where(along, np.maximum(a, b), np.where(inside, np.inf, -1.0))
    last = last.min(axis=0)
    low = np.clip(np.ceil(first), 0, columns).astype(np.intp)
    high = np.clip(np.floor(last) + 1, 0, columns).astype(np.intp)
    return low, np.maximum(high, low)


class _ThreadFilters(threading.local):
    """Each thread's SimpleITK resample filter and the transform set on it."""

    resample: Any = None
    transform: Any = None


_THREAD_FILTERS: Final = _ThreadFilters()


def _resample_filter(transform: Any) -> Any:
    """This thread's ``ResampleImageFilter``, kept between calls, on ``transform``.

    Making a filter and setting a transform cost about 50 µs a plane; every
    other setting is made on each call.
    """
    filters = _THREAD_FILTERS
    if filters.resample is None:
        filters.resample = _sitk().ResampleImageFilter()
    if filters.transform is not transform:
        filters.resample.SetTransform(transform)
        filters.transform = transform
    return filters.resample


def _reslice_sitk(
    volume: Volume,
    time_index: int,
    plane: SlicePlane,
    fill: float,
    interpolation: str,
    slab_mm: float,
    slab_mode: str,
    out: NDArray[Any] | None,
    plane_to_ijk: NDArray[np.float64],
) -> NDArray[Any]:
    sitk = _sitk()
    image, transform, _ = _sitk_source(volume, time_index)
    dtype = volume.voxels.dtype
    columns, rows = plane.size_px
    step = float(volume.spacing_mm.min())
    half = _slab_offsets(slab_mm, step)
    normal = plane.normal_lps
    # Float output: linear values are rounded (not truncated, as ITK's cast
    # would) and slab samples outside the volume can be NaN and left out.
    float_type = sitk.sitkFloat64 if dtype == np.float64 else sitk.sitkFloat32
    if half > 0 or interpolation == "linear":
        pixel_type = float_type
        if volume.is_rgb:
            pixel_type = sitk.sitkVectorFloat32
    else:
        pixel_type = sitk.sitkUnknown  # same as the input
    first = plane.origin_lps - half * step * normal
    row_step = plane.spacing_mm[1] * plane.down_lps
    column_step = plane.spacing_mm[0] * plane.right_lps
    direction = [
        float(x)
        for x in np.column_stack([plane.right_lps, plane.down_lps, normal]).ravel()
    ]
    # ITK would spend time on pixels that miss the volume: only the rectangle
    # of rows and columns that meet it is resampled, the rest is filled.
    low, high = _footprint(volume, plane, half * step, plane_to_ijk)
    hit = np.flatnonzero(high > low)
    shape = (rows, columns, *((3,) if volume.is_rgb else ()))
    if hit.size == 0:
        dst = _output(out, shape, dtype)
        dst.fill(fill)
        return dst
    r0, r1 = int(hit[0]), int(hit[-1]) + 1
    c0, c1 = int(low[hit].min()), int(high[hit].max())
    resample = _resample_filter(transform)
    resample.SetSize([c1 - c0, r1 - r0, 2 * half + 1])
    origin = first + r0 * row_step + c0 * column_step
    resample.SetOutputOrigin([float(x) for x in origin])
    resample.SetOutputSpacing([plane.spacing_mm[0], plane.spacing_mm[1], step])
    resample.SetOutputDirection(direction)
    resample.SetInterpolator(
        sitk.sitkLinear if interpolation == "linear" else sitk.sitkNearestNeighbor
    )
    resample.SetDefaultPixelValue(math.nan if half > 0 else fill)
    resample.SetOutputPixelType(pixel_type)
    # ITK's own threads: SimpleITK holds the GIL while it runs, so row bands on
    # Python threads would run one after the other.
    # [sample, row, column(, rgb)], over the result image's own buffer.
    samples = np.asarray(_SitkPixels(resample.Execute(image)))
    whole = (r0, r1, c0, c1) == (0, rows, 0, columns)
    if half > 0:
        values = _reduce_slab(samples, slab_mode)
        outside = np.isnan(values)
        if outside.any():
            values[outside] = fill
    elif samples.dtype == dtype and out is None and whole:
        result: NDArray[Any] = samples[0]  # keeps the result image alive: no copy
        return result
    else:
        values = samples[0]
    dst = _output(out, shape, dtype)
    if not whole:
        dst.fill(fill)
    target = dst[r0:r1, c0:c1]
    if values.dtype == dtype:
        np.copyto(target, values)
    else:
        _store(target, values)  # rounds in place: the result image is ours
    return dst


def reslice(
    volume: Volume,
    plane: SlicePlane,
    *,
    time_index: int = 0,
    interpolation: str = "linear",
    slab_mm: float = 0.0,
    slab_mode: str = "mip",
    out: NDArray[Any] | None = None,
) -> Slice:
    """Sample ``volume`` on ``plane``.

    A plane whose axes run along volume axes through voxel centres in-plane
    (every plane :func:`plane_for` makes without rotation on a grid aligned
    with the patient axes) is served by numpy: a read-only view of the voxels
    when the plane lies on a slice of voxel centres (one compact copy instead
    when the view's rows would be strided, as for sagittal planes of an axial
    stack), else a linear blend of the two nearest slices (or the nearest
    one); large copies and blends run in row bands on the free cores. Any
    other plane goes through SimpleITK ``Resample`` (on ITK's threads, over
    the rectangle of pixels that meet the volume), reading the voxels in place
    when they are SimpleITK's memory (:func:`sitk_backed`), else from one copy
    cached with the volume. Points outside the volume get its minimum (0 for
    RGB).

    Parameters
    ----------
    volume : Volume
        ``voxels[k, j, i]`` or ``[t, k, j, i]`` (``[..., 3]`` RGB).
    plane : SlicePlane
        Where to sample, e.g. from :func:`plane_for`.
    time_index : int
        Time point of a 4D volume.
    interpolation : {"linear", "nearest"}
        Trilinear, or nearest voxel (cheaper, e.g. while dragging).
    slab_mm : float
        Thickness of a slab centred on the plane; 0 for a thin slice. The slab
        is sampled every finest voxel spacing along the normal (whole voxel
        slices within it for aligned planes); samples outside the volume are
        left out.
    slab_mode : {"mip", "minip", "mean"}
        Maximum, minimum or mean intensity projection across the slab (the
        mean is accumulated in float32).
    out : numpy.ndarray, optional
        ``[rows, columns]`` array of the volume's dtype to write into.

    Returns
    -------
    Slice
        Pixels in modality units, in the volume's dtype (interpolated integer
        data is rounded, so render LUTs apply), and ``plane.pixel_to_lps()``.

    References
    ----------
    PS3.3 C.7.6.2.1.1 Image Position and Image Orientation (LPS patient
    coordinates, in which planes and volumes are placed).
    """
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"interpolation must be linear or nearest: {interpolation!r}")
    if slab_mode not in SLAB_MODES:
        raise ValueError(f"slab_mode must be mip, minip or mean: {slab_mode!r}")
    if not math.isfinite(slab_mm) or slab_mm < 0.0:
        raise ValueError(f"slab_mm must be a thickness >= 0, not {slab_mm}")
    voxels = volume.time_point(time_index).voxels
    fill = _fill_value(volume)
    plane_to_ijk = _plane_to_ijk(volume, plane)
    mapping = _grid_mapping(volume, plane, plane_to_ijk)
    if mapping is not None and (
        mapping.normal_drift_per_mm * slab_mm / 2.0 <= _GRID_TOLERANCE_VOXELS
    ):
        pixels = _reslice_aligned(
            voxels, mapping, plane, fill, interpolation, slab_mm, slab_mode, out
        )
    else:
        pixels = _reslice_sitk(
            volume,
            time_index,
            plane,
            fill,
            interpolation,
            slab_mm,
            slab_mode,
            out,
            plane_to_ijk,
        )
    return Slice(pixels=pixels, pixel_to_lps=plane.pixel_to_lps())


def plane_to_sitk_image(slice: Slice) -> Any:
    """A one-slice 3D SimpleITK image of ``slice``, placed in patient space.

    Origin, spacing and direction come from ``slice.pixel_to_lps`` (the third
    axis is the plane normal, 1 mm), so the image can be written as NIfTI or
    MetaImage and lands where the slice was (SimpleITK and ITK use LPS).

    Parameters
    ----------
    slice : Slice
        From :func:`reslice`.

    Returns
    -------
    SimpleITK.Image
        Size (columns, rows, 1); RGB slices give a 3-component vector image.

    References
    ----------
    PS3.3 C.7.6.2.1.1 Image Position and Image Orientation.
    """
    sitk = _sitk()
    pixels = slice.pixels
    rgb = pixels.ndim == 3 and pixels.shape[-1] == 3 and pixels.dtype == np.uint8
    image = sitk.GetImageFromArray(
        np.ascontiguousarray(pixels)[np.newaxis], isVector=rgb
    )
    axes = slice.pixel_to_lps[:3, :3]
    spacing = np.linalg.norm(axes, axis=0)
    image.SetOrigin([float(x) for x in slice.pixel_to_lps[:3, 3]])
    image.SetSpacing([float(x) for x in spacing])
    image.SetDirection([float(x) for x in (axes / spacing).ravel()])
    return image
