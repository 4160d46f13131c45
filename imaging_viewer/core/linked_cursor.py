"""The 3D cursor and reformatted planes, mapped from one study to another.

Issue 13: two studies of one patient in different frames of reference are
linked by a rigid registration (or the user's landmarks), a 4×4 map of LPS
positions from one frame to the other (PS3.3 C.7.4.1.1.1: positions compare
only within one frame, or through such a map). Scrolling already maps through
it; here the 3D cursor and the MPR planes do too:

* an acquired view of the other study goes to the slice nearest the mapped
  cursor and marks the mapped point (:func:`cursor_on_slice`);
* a reformatted view of the other study passes through the mapped cursor, its
  screen axes turned by the map's rotation (:func:`mapped_plane_rotation`): the
  same anatomy seen the same way, an oblique plane of the other volume when the
  patient lay turned.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from imaging_viewer.core.viewer_state import ViewportState

__all__ = [
    "cursor_on_slice",
    "linked_cursor",
    "mapped_plane_rotation",
    "place_mapped_plane",
    "rigid_rotation",
]

_STRAIGHT_DEG: Final = 0.05
"""Below this turn a mapped plane stays straight (snapped to the voxels)."""


def cursor_on_slice(viewport: ViewportState) -> NDArray[np.float64] | None:
    """The 3D cursor of an acquired view when it lies on the shown slice
    (within half a slice step, PS3.3 C.7.6.2.1.1), else None."""
    cursor = viewport.cursor_lps
    volume = viewport.volume
    if cursor is None or viewport.is_mpr or volume is None or volume.is_projection:
        return None  # a radiograph has no 3D position (PS3.3 C.8.11.1)
    affine = viewport.pixel_to_lps()
    if affine is None:
        return None
    point = np.asarray(cursor, dtype=np.float64)
    step = affine[:3, 2]
    length = float(np.linalg.norm(step))
    if length == 0.0:
        return None
    distance = abs(float((point - affine[:3, 3]) @ step)) / length
    return point if distance <= length / 2 else None


def linked_cursor(viewport: ViewportState) -> NDArray[np.float64] | None:
    """The 3D cursor a viewport sets for the others: an MPR view's cursor, or
    the point clicked (crosshair tool) on an acquired view's shown slice."""
    if viewport.is_mpr:
        cursor = viewport.cursor_lps
        return None if cursor is None else np.asarray(cursor, dtype=np.float64)
    return cursor_on_slice(viewport)


def rigid_rotation(transform: NDArray[np.float64]) -> NDArray[np.float64] | None:
    """The proper rotation nearest the 3×3 part of a 4×4 map (SVD), or None
    when it is a reflection or degenerate (no rigid motion maps a plane)."""
    matrix = np.asarray(transform, dtype=np.float64)[:3, :3]
    if not np.all(np.isfinite(matrix)):
        return None
    u, singular, vt = np.linalg.svd(matrix)
    if singular.min() < 1e-6:
        return None
    rotation: NDArray[np.float64] = u @ vt
    return rotation if np.linalg.det(rotation) > 0 else None


def mapped_plane_rotation(
    transform: NDArray[np.float64], source_rotation: tuple[float, ...] | None
) -> tuple[float, ...] | None:
    """``plane_rotation`` of the mapped plane: the source plane's rotation
    (identity when straight) turned by the map's rotation; None when the
    result is straight (or the map is not rigid)."""
    rotation = rigid_rotation(transform)
    if rotation is None:
        return source_rotation
    if source_rotation is not None:
        source = np.asarray(source_rotation, dtype=np.float64).reshape(3, 3)
        rotation = rotation @ source
    cosine = (float(np.trace(rotation)) - 1.0) / 2.0
    if np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0))) < _STRAIGHT_DEG:
        return None
    return tuple(float(value) for value in rotation.ravel())


def place_mapped_plane(
    target: ViewportState,
    source: ViewportState,
    transform: NDArray[np.float64],
    mapped_cursor: NDArray[np.float64],
) -> None:
    """Give a reformatted view of another volume the source's plane mapped
    through ``transform`` (source frame → target frame): through the mapped
    cursor, turned by its rotation. The source plane is the source view's
    when it shows the same orientation, else the target orientation's
    straight plane of the source frame."""
    same = source.is_mpr and source.orientation == target.orientation
    rotation = mapped_plane_rotation(transform, source.plane_rotation if same else None)
    if target.plane_rotation != rotation:
        target.plane_rotation = rotation
    target.cursor_lps = (
        float(mapped_cursor[0]),
        float(mapped_cursor[1]),
        float(mapped_cursor[2]),
    )
    target.sync_index_to_cursor()
