"""Fake pointer input for the tools: a plane with non-square pixels, and events."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from imaging_viewer.core.mpr import SlicePlane
from imaging_viewer.core.tools.pointer import ImageRef, PointerEvent

if TYPE_CHECKING:
    from collections.abc import Iterable

    from numpy.typing import NDArray

FRAME = "1.2.826.0.1.3680043.8.498.20"
IMAGE = ImageRef(
    frame_of_reference_uid=FRAME, sop_instance_uid="1.2.826.0.1.3680043.8.498.21"
)


def axial_plane() -> SlicePlane:
    """An axial plane at z = 20 with non-square pixels: 0.5 mm columns, 0.8 mm rows."""
    return SlicePlane(
        origin_lps=np.array([-50.0, -40.0, 20.0]),
        right_lps=np.array([1.0, 0.0, 0.0]),
        down_lps=np.array([0.0, 1.0, 0.0]),
        spacing_mm=(0.5, 0.8),
        size_px=(200, 100),
    )


def px(plane: SlicePlane, column: float, row: float) -> NDArray[np.float64]:
    """LPS of pixel position (column, row) of ``plane``."""
    point: NDArray[np.float64] = (
        plane.pixel_to_lps() @ np.array([column, row, 0.0, 1.0])
    )[:3]
    return point


def press(point: NDArray[np.float64], *modifiers: str) -> PointerEvent:
    return PointerEvent.at("press", point, modifiers=modifiers)


def drag(point: NDArray[np.float64], *modifiers: str) -> PointerEvent:
    return PointerEvent.at("move", point, modifiers=modifiers)


def hover(point: NDArray[np.float64]) -> PointerEvent:
    return PointerEvent.at("move", point, buttons=())


def release(point: NDArray[np.float64], *modifiers: str) -> PointerEvent:
    return PointerEvent.at("release", point, modifiers=modifiers)


def click(point: NDArray[np.float64]) -> list[PointerEvent]:
    return [press(point), release(point)]


def stroke(points: Iterable[NDArray[np.float64]]) -> list[PointerEvent]:
    """Press at the first point, drag through the others, release at the last."""
    points = list(points)
    return [press(points[0]), *(drag(p) for p in points[1:]), release(points[-1])]
