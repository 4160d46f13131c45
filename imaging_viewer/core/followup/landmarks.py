"""A manual link between two studies: one matching landmark in each.

The reader clicks a point in the current study and the same anatomy in the
prior; the prior's LPS then maps onto the current's by the offset between the
two points (a translation, exact at the landmark), instead of by the
registration. Positions of two frames of reference are not comparable as such
(PS3.3 C.7.4.1.1.1), so the link is the user's claim, and how good it is shows
as numbers: the normalised cross-correlation of the neighbourhoods of the two
landmarks once mapped, and how far the registration (when there is one) puts
the prior's landmark from the current's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from imaging_viewer.core.volume import Volume

NEIGHBOURHOOD_RADIUS_MM: Final = 15.0
"""Half the side of the cube of anatomy compared around the landmark."""
GOOD_MATCH_NCC: Final = 0.8
"""A cross-correlation from which the match is called good (0.5: fair)."""


@dataclass(frozen=True)
class LandmarkLink:
    """One landmark in each study, the link they make, and how good it is."""

    current_lps: tuple[float, float, float]
    prior_lps: tuple[float, float, float]
    prior_to_current: NDArray[np.float64]
    """(4, 4): prior LPS (mm) → current LPS (mm), a translation."""
    ncc: float
    """Normalised cross-correlation of the two neighbourhoods after mapping
    (1: identical; about 0: unrelated; NaN: nothing to compare, e.g. a flat
    neighbourhood or one outside the volume)."""
    registration_distance_mm: float | None = None
    """How far the registration maps the prior's landmark from the current's
    (None without a registration)."""

    def summary(self) -> str:
        """The match quality in one line, for the status bar."""
        if math.isnan(self.ncc):
            quality = "match not measurable (flat or outside the image)"
        else:
            word = (
                "good"
                if self.ncc >= GOOD_MATCH_NCC
                else "fair"
                if self.ncc >= 0.5
                else "poor"
            )
            quality = f"{word} match (correlation {self.ncc:.2f})"
        text = f"Linked by landmarks: {quality}"
        if self.registration_distance_mm is not None:
            text += (
                f"; the registration puts it {self.registration_distance_mm:.1f} mm "
                "away"
            )
        return text


def landmark_offset(
    current_lps: NDArray[np.float64], prior_lps: NDArray[np.float64]
) -> NDArray[np.float64]:
    """The translation (4 × 4) taking the prior's landmark onto the current's."""
    matrix = np.eye(4)
    matrix[:3, 3] = np.asarray(current_lps, dtype=np.float64) - np.asarray(
        prior_lps, dtype=np.float64
    )
    return matrix


def _apply(matrix: NDArray[Any], points: NDArray[Any]) -> NDArray[np.float64]:
    mapped: NDArray[np.float64] = np.asarray(
        points @ matrix[:3, :3].T + matrix[:3, 3], dtype=np.float64
    )
    return mapped


def sample_trilinear(volume: Volume, points_lps: NDArray[np.float64]) -> NDArray[Any]:
    """Voxel values at LPS points, shape (n, 3), linearly interpolated; NaN
    outside the volume."""
    voxels = volume.voxels
    if voxels.ndim != 3:
        return np.full(len(np.atleast_2d(points_lps)), np.nan)
    to_ijk = np.linalg.inv(volume.ijk_to_lps)
    ijk = _apply(to_ijk, np.atleast_2d(points_lps))
    size = np.array(voxels.shape[::-1], dtype=np.float64)  # (i, j, k) extents
    inside = np.all((ijk >= 0) & (ijk <= size - 1), axis=1)
    values = np.full(len(ijk), np.nan)
    if not inside.any():
        return values
    inner = ijk[inside]
    low = np.clip(np.floor(inner), 0, np.maximum(size - 2, 0)).astype(np.int64)
    frac = inner - low
    total = np.zeros(len(inner))
    for corner in range(8):
        offset = np.array([(corner >> axis) & 1 for axis in range(3)])
        index = np.minimum(low + offset, (size - 1).astype(int))
        weight = np.prod(np.where(offset == 1, frac, 1.0 - frac), axis=1)
        total += weight * voxels[index[:, 2], index[:, 1], index[:, 0]]
    values[inside] = total
    return values


def neighbourhood_ncc(
    current: Volume,
    prior: Volume,
    current_lps: NDArray[np.float64],
    prior_to_current: NDArray[np.float64],
    radius_mm: float = NEIGHBOURHOOD_RADIUS_MM,
) -> float:
    """Normalised cross-correlation of the current study's voxels around
    ``current_lps`` with the prior's at the same places mapped back through
    ``prior_to_current``. NaN when fewer than 8 places fall in both volumes or
    either neighbourhood is flat."""
    spacing = np.linalg.norm(current.ijk_to_lps[:3, :3], axis=0)
    centre = np.linalg.solve(
        current.ijk_to_lps[:3, :3], np.asarray(current_lps) - current.ijk_to_lps[:3, 3]
    )
    steps = [
        np.arange(-r, r + 1) + round(float(c))
        for r, c in zip(
            (max(1, round(radius_mm / s)) for s in spacing), centre, strict=True
        )
    ]
    grid = np.stack(np.meshgrid(*steps, indexing="ij"), axis=-1).reshape(-1, 3)
    points = _apply(current.ijk_to_lps, grid.astype(np.float64))
    ours = sample_trilinear(current, points)
    theirs = sample_trilinear(prior, _apply(np.linalg.inv(prior_to_current), points))
    both = ~(np.isnan(ours) | np.isnan(theirs))
    if both.sum() < 8:
        return float("nan")
    a, b = ours[both] - ours[both].mean(), theirs[both] - theirs[both].mean()
    norm = math.sqrt(float(a @ a) * float(b @ b))
    return float(a @ b / norm) if norm > 0 else float("nan")


def link_by_landmarks(
    current: Volume,
    prior: Volume,
    current_lps: NDArray[np.float64],
    prior_lps: NDArray[np.float64],
    registration: NDArray[np.float64] | None = None,
) -> LandmarkLink:
    """The link that one landmark in each study makes, with its quality;
    ``registration`` (prior → current) is compared with it when given."""
    offset = landmark_offset(current_lps, prior_lps)
    distance = None
    if registration is not None:
        mapped = _apply(registration, np.atleast_2d(prior_lps))[0]
        distance = float(np.linalg.norm(mapped - np.asarray(current_lps)))
    c, p = np.asarray(current_lps, dtype=float), np.asarray(prior_lps, dtype=float)
    return LandmarkLink(
        current_lps=(float(c[0]), float(c[1]), float(c[2])),
        prior_lps=(float(p[0]), float(p[1]), float(p[2])),
        prior_to_current=offset,
        ncc=neighbourhood_ncc(current, prior, c, offset),
        registration_distance_mm=distance,
    )
