"""Loading: turn a scanned series into a Volume in modality units, placed in LPS."""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from imaging_viewer.core.dicom.header import is_native_transfer_syntax
from imaging_viewer.core.dicom.pixels import (
    DecodeError,
    RawLayout,
    decode_frames,
    read_native_frames,
)
from imaging_viewer.core.dicom.scan import CancelCallback, Cancelled, ProgressCallback
from imaging_viewer.core.dicom.stack_geometry import resample_stack
from imaging_viewer.core.volume import VoiLut, Volume

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import NDArray

    from imaging_viewer.core.dicom.series import SeriesInfo
    from imaging_viewer.core.dicom.siemens_mosaic import MosaicLayout

_DONE: Future[Any] = Future()
"""Stands in for a future whose result was stored (and released)."""
# Compressed series with at least this many files are decoded by worker processes.
PARALLEL_DECODE_MIN_FILES = 8
_INT16_MIN, _INT16_MAX = -32768, 32767

# Explicit VR Big Endian (retired, PS3.5 A.3).
_BIG_ENDIAN = "1.2.840.10008.1.2.2"


@dataclass
class _FileJob:
    """The frames one file contributes: ``targets[n] = (t, k)`` gets ``frames[n]``."""

    path: str
    frame_indices: list[int]
    targets: list[tuple[int, int]]
    mosaic: MosaicLayout | None
    native: bool
    big_endian: bool


def _stored_dtype(series: SeriesInfo) -> np.dtype[Any]:
    """numpy dtype of the stored values.

    PS3.3 C.7.6.3.1: Bits Allocated, Pixel Representation.
    """
    if series.samples_per_pixel == 3 or series.photometric == "PALETTE COLOR":
        return np.dtype(np.uint8)
    if series.has_float_pixels:
        return np.dtype(np.float32)
    signed = series.pixel_representation == 1
    bits = series.bits_allocated
    if bits <= 8:
        return np.dtype(np.int8 if signed else np.uint8)
    if bits <= 16:
        return np.dtype(np.int16 if signed else np.uint16)
    return np.dtype(np.int32 if signed else np.uint32)


def _jobs(
    series: SeriesInfo,
    headers_by_path: dict[str, tuple[bool, bool, MosaicLayout | None]],
) -> list[_FileJob]:
    jobs: dict[str, _FileJob] = {}
    for t, frames in enumerate(series.frames):
        for k, ref in enumerate(frames):
            native, big_endian, mosaic = headers_by_path[ref.path]
            job = jobs.get(ref.path)
            if job is None:
                job = jobs[ref.path] = _FileJob(
                    ref.path, [], [], mosaic, native, big_endian
                )
            job.frame_indices.append(
                ref.tile if ref.tile is not None else ref.frame_index
            )
            job.targets.append((t, k))
    return list(jobs.values())


def _file_traits(
    series: SeriesInfo,
) -> dict[str, tuple[bool, bool, MosaicLayout | None]]:
    """Per file: native transfer syntax, big endian, mosaic layout."""
    from imaging_viewer.core.dicom.scan import read_header

    traits: dict[str, tuple[bool, bool, MosaicLayout | None]] = {}
    single_syntax = (
        series.transfer_syntaxes[0] if len(series.transfer_syntaxes) == 1 else None
    )
    is_mosaic = any(ref.tile is not None for ref in series.frames[0])
    for path in series.files:
        if single_syntax is not None and not is_mosaic:
            syntax = single_syntax
            mosaic = None
        else:
            header = read_header(path)
            syntax = getattr(header, "transfer_syntax_uid", "")
            mosaic = getattr(header, "mosaic", None)
        traits[path] = (
            is_native_transfer_syntax(syntax),
            syntax == _BIG_ENDIAN,
            mosaic,
        )
    return traits


def load_volume(
    series: SeriesInfo,
    progress: ProgressCallback | None = None,
    cancel: CancelCallback | None = None,
    *,
    resample_ready: bool = False,
) -> Volume:
    """Read the pixels of ``series`` into a :class:`Volume` in modality units.

    Stored values go through Rescale Slope/Intercept (per frame where they vary):
    int16 where that is exact, float32 otherwise; colour stays RGB uint8.
    Uncompressed files are read straight into the volume; compressed ones are
    decoded by pydicom's plugins in worker processes (decoders hold the GIL).
    A gantry tilt or uneven spacing is resampled out as the series' geometry plans.
    Files that fail to decode leave their slices at the minimum value, with a
    warning naming them.

    Parameters
    ----------
    series
        A series from :func:`~imaging_viewer.core.dicom.scan.scan_folder`.
    progress
        Called with (frames done, frames in all).
    cancel
        Polled between files; True raises
        :class:`~imaging_viewer.core.dicom.scan.Cancelled`.
    resample_ready
        Put a 16-bit volume in memory SimpleITK owns, so oblique MPR needs no
        second copy (the viewer asks for this; it costs importing SimpleITK and
        zero-filling the buffer, which scripts and conversions need not pay).

    References
    ----------
    PS3.3 C.7.6.3 Image Pixel; C.11.1 Modality LUT (Rescale Slope/Intercept);
    C.7.6.2 Image Plane; C.7.6.16 Multi-frame Functional Groups.
    """
    n_time = series.n_time_points
    n_slices = len(series.frames[0])
    rows, columns = series.acquired_rows, series.acquired_columns
    samples = (
        3
        if (series.samples_per_pixel == 3 or series.photometric == "PALETTE COLOR")
        else 1
    )
    dtype = _stored_dtype(series)
    shape: tuple[int, ...] = (n_time, n_slices, rows, columns) + (
        (3,) if samples == 3 else ()
    )
    raw = _allocate(shape, dtype, series, resample_ready)
    traits = _file_traits(series)
    jobs = _jobs(series, traits)
    warnings = list(series.warnings)
    failed: list[tuple[int, int]] = []
    # Where the rescale is known to be an exact int16 one before any pixel is read,
    # each file's slices are rescaled by the thread that read them, while they are
    # in the cache (one pass over the volume instead of two).
    rescaled = np.zeros(raw.shape[:2], dtype=bool) if samples == 1 else None
    rescale = _early_rescale(raw, series, rescaled) if rescaled is not None else None
    _read_all(
        jobs,
        raw,
        dtype,
        rows,
        columns,
        samples,
        warnings,
        failed,
        progress,
        cancel,
        rescale,
    )

    if samples == 3:
        voxels: NDArray[Any] = raw
    else:
        voxels = _to_modality_units(raw, series, failed, rescaled)
        _blank_failed(voxels, failed)
    geometry = series.geometry
    if geometry is not None and geometry.resample is not None:
        fill = float(voxels.min()) if voxels.size else 0.0
        resampled = [
            resample_stack(voxels[t], geometry.resample, fill) for t in range(n_time)
        ]
        stacked = np.stack(resampled)
        if voxels.dtype == np.int16:
            voxels = np.rint(stacked).astype(np.int16)
        else:
            voxels = stacked
    if n_time == 1:
        voxels = voxels[0]
    display = series.display
    return Volume(
        voxels=voxels,
        ijk_to_lps=series.ijk_to_lps.copy(),
        frame_of_reference_uid=series.frame_of_reference_uid,
        default_window=display.windows[0] if display.windows else None,
        display=display,
        modality=series.modality,
        spacing_source=series.spacing_source,
        warnings=tuple(warnings),
        is_projection=series.is_projection,
        slice_positions_lps=(
            geometry.acquired_positions_lps
            if geometry is not None and geometry.resample is None
            else None
        ),
    )


def _allocate(
    shape: tuple[int, ...], dtype: np.dtype[Any], series: SeriesInfo, for_sitk: bool
) -> NDArray[Any]:
    """The buffer stored values are read into.

    A 3D volume of 16-bit values (the common CT/MR case, which becomes int16 in
    place) is put in memory that a SimpleITK image owns, so that oblique MPR
    resamples it without a second copy (core/mpr.py: ``empty_voxels``).
    """
    single_volume = shape[0] == 1 and len(shape) == 4 and shape[1] >= 2
    resampled = series.geometry is not None and series.geometry.resample is not None
    if for_sitk and single_volume and dtype.itemsize == 2 and not resampled:
        from imaging_viewer.core.mpr import empty_voxels

        voxels = empty_voxels(shape[1:], np.int16)
        buffer: NDArray[Any] = voxels.view(dtype)[np.newaxis]
        return buffer
    return np.empty(shape, dtype=dtype)


def _read_all(
    jobs: list[_FileJob],
    raw: NDArray[Any],
    dtype: np.dtype[Any],
    rows: int,
    columns: int,
    samples: int,
    warnings: list[str],
    failed: list[tuple[int, int]],
    progress: ProgressCallback | None,
    cancel: CancelCallback | None,
    rescale: Callable[[int, int, int], None] | None = None,
) -> None:
    total = sum(len(job.targets) for job in jobs)
    done = 0
    fill_value = 0

    def report(job: _FileJob) -> None:
        nonlocal done
        done += len(job.targets)
        if progress is not None:
            progress(done, total)

    def fail(job: _FileJob, reason: str) -> None:
        warnings.append(f"{job.path}: {reason}; its image(s) are left blank")
        for t, k in job.targets:
            raw[t, k] = fill_value
            failed.append((t, k))

    layout_le = RawLayout(rows, columns, samples, dtype.newbyteorder("<").str)
    layout_be = RawLayout(
        rows, columns, samples, dtype.newbyteorder("<").str, big_endian=True
    )
    slow: list[_FileJob] = []
    native_jobs = [
        j
        for j in jobs
        if j.native and j.mosaic is None and samples == 1 and dtype.itemsize <= 4
    ]
    native_set = {id(j) for j in native_jobs}

    def read_native(job: _FileJob) -> _FileJob | None:
        """Raw read of one file; returns the job when pydicom must read it instead."""
        try:
            contiguous = _contiguous_run(job, raw.shape[1])
            if contiguous is not None:
                t, k0, first, count, along_time = contiguous
                # The frames of a one-slice cine are its time points.
                target = (
                    raw[t : t + count, k0] if along_time else raw[t, k0 : k0 + count]
                )
                ok = read_native_frames(
                    job.path,
                    layout_be if job.big_endian else layout_le,
                    target,
                    first,
                    _frames_in(job),
                )
                if ok and rescale is not None:
                    if along_time:
                        for time_point in range(t, t + count):
                            rescale(time_point, k0, 1)
                    else:
                        rescale(t, k0, count)
                return None if ok else job
            return job
        except (OSError, ValueError) as error:
            fail(job, f"cannot read pixel data ({error})")
            return None

    with ThreadPoolExecutor(max_workers=2) as threads:
        chunk = 32
        for start in range(0, len(native_jobs), chunk):
            if cancel is not None and cancel():
                raise Cancelled("load cancelled")
            batch = native_jobs[start : start + chunk]
            for job, leftover in zip(
                batch, threads.map(read_native, batch), strict=True
            ):
                if leftover is not None:
                    slow.append(leftover)
                else:
                    report(job)
    slow.extend(j for j in jobs if id(j) not in native_set)
    if not slow:
        return
    if len(slow) >= PARALLEL_DECODE_MIN_FILES and (os.cpu_count() or 1) > 1:
        # concurrent.futures.process imports multiprocessing (~10 ms): only here.
        from concurrent.futures.process import BrokenProcessPool

        from imaging_viewer.core.dicom.workers import worker_pool

        pool = worker_pool()
        done_jobs: set[int] = set()
        futures: list[tuple[_FileJob, Future[NDArray[Any]]]] = [
            (job, pool.submit(decode_frames, job.path, job.frame_indices, job.mosaic))
            for job in slow
        ]
        try:
            for position, (job, future) in enumerate(futures):
                if cancel is not None and cancel():
                    raise Cancelled("load cancelled")
                try:
                    data = future.result()
                except BrokenProcessPool:
                    break
                except Exception as error:  # DecodeError, or the pool's own errors
                    fail(job, f"cannot decode pixel data ({_reason(error)})")
                    continue
                _store(job, data, raw, fail)
                report(job)
                done_jobs.add(id(job))
                del data
                # Free the decoded copy now: the futures list lives until the end.
                futures[position] = (job, _DONE)
        finally:
            for _, future in futures:
                future.cancel()
        if len(done_jobs) == len(slow) or not futures:
            return
        # The pool broke (workers could not start): decode the rest here.
        from imaging_viewer.core.dicom.workers import shutdown_worker_pool

        shutdown_worker_pool()
        slow = [
            job
            for job in slow
            if id(job) not in done_jobs and job.targets[0] not in failed
        ]
    for job in slow:
        if cancel is not None and cancel():
            raise Cancelled("load cancelled")
        try:
            data = decode_frames(job.path, job.frame_indices, job.mosaic)
        except Exception as error:  # DecodeError says why; anything else, what
            fail(job, f"cannot decode pixel data ({_reason(error)})")
            continue
        _store(job, data, raw, fail)
        report(job)


def _reason(error: Exception) -> str:
    if isinstance(error, DecodeError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def _frames_in(job: _FileJob) -> int:
    from imaging_viewer.core.dicom.scan import read_header

    if len(job.frame_indices) == 1 and job.frame_indices[0] == 0:
        # Single-frame files are the common case: avoid a second header read.
        return 1
    header = read_header(job.path)
    return int(getattr(header, "number_of_frames", 1))


def _blank_failed(voxels: NDArray[Any], failed: list[tuple[int, int]]) -> None:
    """Slices that could not be read show the lowest value of the rest."""
    if not failed:
        return
    mask = np.ones(voxels.shape[:2], dtype=bool)
    for t, k in failed:
        mask[t, k] = False
    lowest = voxels[mask].min() if mask.any() else 0
    for t, k in failed:
        voxels[t, k] = lowest


def _contiguous_run(
    job: _FileJob, n_slices: int
) -> tuple[int, int, int, int, bool] | None:
    """(first t, first k, first frame, count, along time) where the file's
    consecutive frames fill consecutive slices of one time point, or, in a
    one-slice series (a cine, PS3.3 C.7.6.6), consecutive time points: one block
    of the volume either way, read straight into it."""
    t0, k0 = job.targets[0]
    first = job.frame_indices[0]
    along_time = n_slices == 1 and len(job.targets) > 1
    for n, ((t, k), frame) in enumerate(
        zip(job.targets, job.frame_indices, strict=True)
    ):
        expected = (t0 + n, k0) if along_time else (t0, k0 + n)
        if (t, k) != expected or frame != first + n:
            return None
    return t0, k0, first, len(job.targets), along_time


def _store(job: _FileJob, data: NDArray[Any], raw: NDArray[Any], fail: Any) -> None:
    expected = raw.shape[2:]
    if data.shape[1:] != expected:
        fail(job, f"decoded image is {data.shape[1:]}, the header says {expected}")
        return
    for n, (t, k) in enumerate(job.targets):
        raw[t, k] = data[n]


def _early_rescale(
    raw: NDArray[Any], series: SeriesInfo, rescaled: NDArray[np.bool_]
) -> Callable[[int, int, int], None] | None:
    """Rescale slices as they are read, where that is decided by the headers alone.

    That is the in-place int16 case of :func:`_to_modality_units` with the value
    range the header allows (PS3.3 C.7.6.3.1: Bits Stored, Pixel Representation)
    fitting int16: no pixel needs to be seen first. Marks the slices done in
    ``rescaled``.
    """
    if series.modality_lut is not None or raw.dtype.itemsize != 2:
        return None
    if raw.dtype.kind not in "iu":
        return None
    slopes, intercepts = _rescale_arrays(series)
    if not _integral(slopes, intercepts):
        return None
    low, high = _header_range(raw.dtype, series)
    if not _fits_int16(low, high, slopes, intercepts):
        return None
    out16 = raw.view(np.int16)

    def rescale(t: int, k0: int, count: int) -> None:
        for k in range(k0, k0 + count):
            slope, intercept = int(slopes[t, k]), int(intercepts[t, k])
            plane = out16[t, k]
            if slope != 1:
                np.multiply(plane, slope, out=plane, casting="unsafe")
            if intercept != 0:
                np.add(plane, intercept, out=plane, casting="unsafe")
            rescaled[t, k] = True

    return rescale


def _rescale_arrays(
    series: SeriesInfo,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    slopes = np.array(
        [[ref.rescale_slope for ref in frames] for frames in series.frames]
    )
    intercepts = np.array(
        [[ref.rescale_intercept for ref in frames] for frames in series.frames]
    )
    return slopes, intercepts


def _integral(slopes: NDArray[np.float64], intercepts: NDArray[np.float64]) -> bool:
    return bool(
        np.all(slopes == np.round(slopes))
        and np.all(intercepts == np.round(intercepts))
    )


def _header_range(dtype: np.dtype[Any], series: SeriesInfo) -> tuple[int, int]:
    """The stored values the header allows (Bits Stored of unsigned pixels)."""
    info = np.iinfo(dtype)
    low, high = int(info.min), int(info.max)
    bits = series.bits_stored
    if series.pixel_representation == 0 and bits < dtype.itemsize * 8:
        high = (1 << bits) - 1
    return low, high


def _to_modality_units(
    raw: NDArray[Any],
    series: SeriesInfo,
    failed: list[tuple[int, int]],
    rescaled: NDArray[np.bool_] | None = None,
) -> NDArray[Any]:
    """Apply Rescale Slope/Intercept (PS3.3 C.11.1.1.2): int16 if exact, else float32.

    Works in place where the stored values are 16-bit, so peak memory stays at
    one volume. A Modality LUT Sequence replaces the rescale where present.
    Slices marked in ``rescaled`` were rescaled to int16 as they were read.
    """
    if series.modality_lut is not None:
        return _apply_modality_lut(raw, series.modality_lut)
    slopes, intercepts = _rescale_arrays(series)
    uniform = bool(
        np.all(slopes == slopes.flat[0]) and np.all(intercepts == intercepts.flat[0])
    )
    integral = _integral(slopes, intercepts)
    if raw.dtype.kind == "f":
        out = raw.astype(np.float32, copy=False)
        _rescale_float(out, out, slopes, intercepts, uniform)
        return out
    if integral and raw.dtype.itemsize <= 2:
        low, high = _header_range(raw.dtype, series)
        if not _fits_int16(low, high, slopes, intercepts):
            low, high = int(raw.min()), int(raw.max())
        if _fits_int16(low, high, slopes, intercepts):
            if raw.dtype.itemsize == 2:
                out16 = raw.view(
                    np.int16
                )  # exact: every stored value is in int16 range
            else:
                out16 = raw.astype(np.int16)
            _rescale_int(out16, slopes, intercepts, uniform, rescaled)
            return out16
    out32 = np.empty(raw.shape, dtype=np.float32)
    _rescale_float(raw, out32, slopes, intercepts, uniform)
    return out32


def _apply_modality_lut(raw: NDArray[Any], lut: VoiLut) -> NDArray[Any]:
    """Stored values through a Modality LUT (PS3.3 C.11.1.1.1): values below the
    first mapped one take the first entry, values past the end the last."""
    table = lut.table
    dtype = np.int16 if int(table.max()) <= _INT16_MAX else np.float32
    index = np.clip(raw.astype(np.int64) - lut.first_mapped, 0, table.size - 1)
    out: NDArray[Any] = table.astype(dtype)[index]
    return out


def _fits_int16(
    low: int, high: int, slopes: NDArray[np.float64], intercepts: NDArray[np.float64]
) -> bool:
    if low < _INT16_MIN or high > _INT16_MAX:
        return False
    # The factors themselves must be int16 values too: numpy refuses to multiply
    # an int16 plane by a Python int outside its range (NEP 50), even for zeros.
    factors = np.concatenate([slopes.ravel(), intercepts.ravel()])
    if factors.min() < _INT16_MIN or factors.max() > _INT16_MAX:
        return False
    ends = np.concatenate(
        [
            slopes.ravel() * low + intercepts.ravel(),
            slopes.ravel() * high + intercepts.ravel(),
        ]
    )
    return bool(ends.min() >= _INT16_MIN and ends.max() <= _INT16_MAX)


def _rescale_int(
    out: NDArray[np.int16],
    slopes: NDArray[np.float64],
    intercepts: NDArray[np.float64],
    uniform: bool,
    rescaled: NDArray[np.bool_] | None = None,
) -> None:
    if rescaled is not None and rescaled.any():
        if rescaled.all():
            return
        uniform = False
    if uniform:
        slope, intercept = int(slopes.flat[0]), int(intercepts.flat[0])
        if slope != 1:
            np.multiply(out, slope, out=out, casting="unsafe")
        if intercept != 0:
            np.add(out, intercept, out=out, casting="unsafe")
        return
    for t in range(slopes.shape[0]):
        for k in range(slopes.shape[1]):
            if rescaled is not None and rescaled[t, k]:
                continue
            plane = out[t, k]
            slope, intercept = int(slopes[t, k]), int(intercepts[t, k])
            if slope != 1:
                np.multiply(plane, slope, out=plane, casting="unsafe")
            if intercept != 0:
                np.add(plane, intercept, out=plane, casting="unsafe")


def _rescale_float(
    raw: NDArray[Any],
    out: NDArray[np.float32],
    slopes: NDArray[np.float64],
    intercepts: NDArray[np.float64],
    uniform: bool,
) -> None:
    for t in range(slopes.shape[0]):
        for k in range(slopes.shape[1]):
            index = (0, 0) if uniform else (t, k)
            plane = out[t, k]
            np.multiply(
                raw[t, k], np.float32(slopes[index]), out=plane, casting="unsafe"
            )
            np.add(plane, np.float32(intercepts[index]), out=plane)
