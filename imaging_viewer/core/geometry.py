"""Patient-space geometry: LPS vectors, affines and orientation labels."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

Vec3 = NDArray[np.float64]
"""Shape (3,), patient LPS, millimetres."""
Affine = NDArray[np.float64]
"""Shape (4, 4), homogeneous; maps (i, j, k, 1) or (column, row, 0, 1) to LPS."""

# PS3.3 C.7.6.1.1.1: Patient Orientation letters and the LPS axis each points along.
_LETTER_TO_LPS: dict[str, tuple[float, float, float]] = {
    "L": (1.0, 0.0, 0.0),
    "R": (-1.0, 0.0, 0.0),
    "P": (0.0, 1.0, 0.0),
    "A": (0.0, -1.0, 0.0),
    "H": (0.0, 0.0, 1.0),
    "F": (0.0, 0.0, -1.0),
}


def affine_from_axes(
    origin_lps: ArrayLike,
    column_step_lps: ArrayLike,
    row_step_lps: ArrayLike,
    slice_step_lps: ArrayLike,
) -> Affine:
    """Build an ``ijk_to_lps`` affine from the origin and the step of each index.

    ``column_step_lps`` is the LPS displacement for i + 1 (next column),
    ``row_step_lps`` for j + 1 (next row) and ``slice_step_lps`` for k + 1.
    """
    affine = np.eye(4)
    affine[:3, 0] = column_step_lps
    affine[:3, 1] = row_step_lps
    affine[:3, 2] = slice_step_lps
    affine[:3, 3] = origin_lps
    return affine


def spacing_from_affine(affine: Affine) -> Vec3:
    """Length in mm of one step along i, j and k."""
    spacing: Vec3 = np.linalg.norm(affine[:3, :3], axis=0)
    return spacing


def apply_affine(affine: Affine, points: NDArray[np.float64]) -> NDArray[np.float64]:
    """Map points of shape (..., 3) through a 4×4 affine."""
    pts = np.asarray(points, dtype=np.float64)
    out: NDArray[np.float64] = pts @ affine[:3, :3].T + affine[:3, 3]
    return out


def direction_from_patient_orientation(letters: str) -> Vec3 | None:
    """Unit LPS vector for a Patient Orientation value such as ``"L"`` or ``"AF"``.

    References
    ----------
    PS3.3 C.7.6.1.1.1 Patient Orientation.
    """
    vec = np.zeros(3)
    text = letters.strip().upper()
    if not text:
        return None
    for letter in text:
        if letter not in _LETTER_TO_LPS:
            return None
        vec += _LETTER_TO_LPS[letter]
    norm = float(np.linalg.norm(vec))
    if norm == 0.0:
        return None
    result: Vec3 = vec / norm
    return result


def orientation_label(direction_lps: ArrayLike, threshold: float = 0.3) -> str:
    """Letters naming where an LPS direction points, main axis first (e.g. ``"LA"``).

    Components smaller than ``threshold`` of the unit vector are left out, as
    radiology viewers do for nearly orthogonal oblique planes.
    """
    vec = np.asarray(direction_lps, dtype=np.float64)
    norm = float(np.linalg.norm(vec))
    if norm == 0.0:
        return ""
    vec = vec / norm
    positive = ("L", "P", "S")
    negative = ("R", "A", "I")
    letters = []
    for axis in np.argsort(-np.abs(vec)):
        if abs(vec[axis]) >= threshold:
            letters.append(positive[axis] if vec[axis] > 0 else negative[axis])
    return "".join(letters)


def rotation_about(axis: ArrayLike, angle_rad: float) -> NDArray[np.float64]:
    """The 3×3 rotation by ``angle_rad`` about ``axis`` (right-hand rule, Rodrigues)."""
    unit = np.asarray(axis, dtype=np.float64)
    unit = unit / np.linalg.norm(unit)
    x, y, z = unit
    cross = np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])
    rotation: NDArray[np.float64] = (
        np.eye(3)
        + np.sin(angle_rad) * cross
        + (1 - np.cos(angle_rad)) * (cross @ cross)
    )
    return rotation
