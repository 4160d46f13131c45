"""The acquired images of a series: which one lies nearest a point, and its UID.

An annotation drawn on a reformatted (MPR) plane still names an acquired image
of the series it was drawn on: the one nearest its centre along the slice
normal (PS3.3 C.7.6.2.1.1), as SR and GSPS references need (PS3.3 C.17.2,
C.10.4).
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING

import numpy as np

from imaging_viewer.core.dicom.scan import read_header

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from imaging_viewer.core.dicom.series import SeriesInfo


def nearest_acquired_slice(series: SeriesInfo, point_lps: ArrayLike) -> int | None:
    """Index ``k`` (into ``series.frames[t]``) of the acquired slice nearest
    ``point_lps`` along the slice normal; None for a projection image or a
    series without slices."""
    if series.is_projection or not series.frames or not series.frames[0]:
        return None
    point = np.asarray(point_lps, dtype=np.float64).reshape(3)
    count = len(series.frames[0])
    geometry = series.geometry
    positions = geometry.acquired_positions_lps if geometry is not None else None
    affine = np.asarray(series.ijk_to_lps, dtype=np.float64)
    if positions is not None and len(positions) == count:
        normal = np.cross(affine[:3, 0], affine[:3, 1])
        norm = float(np.linalg.norm(normal))
        if norm == 0.0:
            return None
        distances = (positions - point) @ (normal / norm)
        return int(np.argmin(np.abs(distances)))
    try:
        ijk = np.linalg.solve(affine[:3, :3], point - affine[:3, 3])
    except np.linalg.LinAlgError:
        return None
    if series.shape_kji[0] != count or not np.isfinite(ijk[2]):
        return None
    return int(np.clip(round(float(ijk[2])), 0, count - 1))


def acquired_image_at(
    series: SeriesInfo, point_lps: ArrayLike, time_index: int = 0
) -> tuple[str, int | None] | None:
    """(SOP Instance UID, 1-based frame number or None) of the acquired image of
    ``series`` nearest ``point_lps``; None where there is none or it is unreadable."""
    k = nearest_acquired_slice(series, point_lps)
    if k is None:
        return None
    frames = series.frames[min(max(time_index, 0), len(series.frames) - 1)]
    frame = frames[min(k, len(frames) - 1)]
    uid = sop_instance_uid_of(frame.path)
    if not uid:
        return None
    multi_frame = sum(1 for other in frames if other.path == frame.path) > 1
    return uid, (frame.frame_index + 1 if multi_frame or frame.frame_index else None)


def sop_instance_uid_of(path: str) -> str:
    """SOP Instance UID of an image file (read once per file version)."""
    try:
        version = os.stat(path).st_mtime_ns
    except OSError:
        version = 0
    return _read_sop_instance_uid(path, version)


@functools.lru_cache(maxsize=4096)
def _read_sop_instance_uid(path: str, version: int) -> str:
    header = read_header(path)
    return str(getattr(header, "sop_instance_uid", "") or "")
