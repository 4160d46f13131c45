"""Reference lines: where one view's slice plane crosses another view's image.

A slice of one series, drawn on an image of another series of the same frame
of reference (or on a localizer), is the line where the two planes meet
(PS3.3 C.7.4.1.1.1: positions are comparable within one Frame of Reference;
C.7.6.2.1.1 places each image by Image Position and Image Orientation). The
line is clipped to the target image's rectangle; a thick slab adds its two
limits, half its thickness either side of the slice.

Plain float arithmetic, no arrays made: it runs on every frame of a scroll.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = [
    "PARALLEL_TOLERANCE",
    "ReferenceLines",
    "plane_of_affine",
    "reference_lines",
    "reference_segment",
]

Point = tuple[float, float]
"""(column, row) in pixel-centre coordinates of the target image."""
Segment = tuple[Point, Point]
Plane = tuple[tuple[float, float, float], tuple[float, float, float]]
"""(a point on the plane, its unit normal), both LPS millimetres."""

PARALLEL_TOLERANCE: Final = math.sin(math.radians(1.0))
"""Planes closer to parallel than 1° do not cross within any image: no line."""


@dataclass(frozen=True)
class ReferenceLines:
    """A source slice on a target image: its line and its slab limits."""

    centre: Segment | None
    """Where the slice's plane crosses the image (None: it does not)."""
    slab_limits: tuple[Segment, ...] = ()
    """The thick slab's two faces, where they cross the image."""

    @property
    def empty(self) -> bool:
        """True when nothing is to be drawn."""
        return self.centre is None and not self.slab_limits


def plane_of_affine(pixel_to_lps: NDArray[np.float64]) -> Plane | None:
    """The plane of an image from its ``(column, row, 0, 1) → LPS`` map: the
    position of pixel (0, 0) and the unit normal ``row direction × column
    direction`` (PS3.3 C.7.6.2.1.1); None for a degenerate map."""
    (rx, dx, _, ox), (ry, dy, _, oy), (rz, dz, _, oz) = pixel_to_lps[:3].tolist()
    nx, ny, nz = ry * dz - rz * dy, rz * dx - rx * dz, rx * dy - ry * dx
    length = math.sqrt(nx * nx + ny * ny + nz * nz)
    if not length or not math.isfinite(length):
        return None
    return (ox, oy, oz), (nx / length, ny / length, nz / length)


def reference_segment(
    target_pixel_to_lps: NDArray[np.float64],
    size_px: tuple[int, int],
    plane: Plane,
    offset_mm: float = 0.0,
) -> Segment | None:
    """Where ``plane`` (moved ``offset_mm`` along its normal) crosses a target
    image, clipped to the image's rectangle.

    Parameters
    ----------
    target_pixel_to_lps : (4, 4) array
        Maps the target's ``(column, row, 0, 1)`` (pixel centres) to LPS mm.
    size_px : tuple of int
        The target's (columns, rows).
    plane : Plane
        A point of the source plane and its unit normal, LPS mm.
    offset_mm : float, default 0
        Move the plane this far along its normal (a slab's face).

    Returns
    -------
    Segment or None
        The two ends in target (column, row), on the image's outer edges
        (``-0.5`` to ``size - 0.5``); None where the planes are parallel (within
        :data:`PARALLEL_TOLERANCE`) or meet outside the image.
    """
    (rx, dx, _, ox), (ry, dy, _, oy), (rz, dz, _, oz) = target_pixel_to_lps[:3].tolist()
    (px, py, pz), (nx, ny, nz) = plane
    # Pixel (c, r) lies at o + c·u + r·v; on the plane where
    # c (n·u) + r (n·v) = n·(p − o) + offset.
    a = nx * rx + ny * ry + nz * rz
    b = nx * dx + ny * dy + nz * dz
    d = nx * (px - ox) + ny * (py - oy) + nz * (pz - oz) + offset_mm
    column_mm = math.sqrt(rx * rx + ry * ry + rz * rz)
    row_mm = math.sqrt(dx * dx + dy * dy + dz * dz)
    if not column_mm or not row_mm:
        return None
    # The sine of the angle between the planes: the normal's part in the image.
    if math.hypot(a / column_mm, b / row_mm) < PARALLEL_TOLERANCE:
        return None
    scale = a * a + b * b
    # The line's point nearest pixel (0, 0), and its direction.
    c0, r0 = a * d / scale, b * d / scale
    dc, dr = -b, a
    columns, rows = size_px
    low, high = -math.inf, math.inf
    for start, step, lower, upper in (
        (c0, dc, -0.5, columns - 0.5),
        (r0, dr, -0.5, rows - 0.5),
    ):
        if abs(step) < 1e-12:
            if not lower <= start <= upper:
                return None
            continue
        t1, t2 = (lower - start) / step, (upper - start) / step
        low, high = max(low, min(t1, t2)), min(high, max(t1, t2))
    if not high > low:
        return None
    return (
        (c0 + low * dc, r0 + low * dr),
        (c0 + high * dc, r0 + high * dr),
    )


def reference_lines(
    target_pixel_to_lps: NDArray[np.float64],
    size_px: tuple[int, int],
    source_pixel_to_lps: NDArray[np.float64],
    slab_mm: float = 0.0,
) -> ReferenceLines:
    """The source slice's line on the target image, and its slab's limits.

    Parameters
    ----------
    target_pixel_to_lps, source_pixel_to_lps : (4, 4) array
        ``(column, row, 0, 1) → LPS`` of the image drawn on and of the slice
        whose plane is drawn (PS3.3 C.7.6.2.1.1).
    size_px : tuple of int
        The target's (columns, rows).
    slab_mm : float, default 0
        The source's slab thickness; its faces lie half of it either side.
    """
    plane = plane_of_affine(source_pixel_to_lps)
    if plane is None:
        return ReferenceLines(None)
    centre = reference_segment(target_pixel_to_lps, size_px, plane)
    limits: tuple[Segment, ...] = ()
    if slab_mm > 0.0:
        faces = (
            reference_segment(target_pixel_to_lps, size_px, plane, sign * slab_mm / 2)
            for sign in (-1.0, 1.0)
        )
        limits = tuple(face for face in faces if face is not None)
    return ReferenceLines(centre, limits)
