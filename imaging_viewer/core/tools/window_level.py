"""Window/level by dragging: how pointer motion changes a VOI window."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from imaging_viewer.core.volume import Window

# One window step per screen pixel is this fraction of the shown value range, so a
# drag across a viewport of ~500 px spans the data whatever its units.
STEP_FRACTION = 1 / 512


def drag_window(
    start: Window, dx_px: float, dy_px: float, *, value_range: float
) -> Window:
    """The window after dragging ``(dx_px, dy_px)`` screen pixels from ``start``.

    Horizontal motion changes the width (right: wider, less contrast); vertical
    motion changes the level (down: higher level, darker image), as in most
    radiology viewers. A LINEAR width never drops below 1 (PS3.3 C.11.2.1.2: width ≥ 1).
    Where a pixel of motion is worth a whole unit or more (CT in HU, most MR and
    X-ray), centre and width move in whole units, as radiology viewers show them
    (``W 400 L 40``, not ``W 404.38 L 39.84``); finer data keep fractions.

    Parameters
    ----------
    start
        The window when the drag began.
    dx_px, dy_px
        Pointer motion since the drag began, in screen pixels (y grows downward).
    value_range
        Range of values in the shown image, which sets the step per pixel.
    """
    step = max(value_range, 1e-6) * STEP_FRACTION
    minimum = 1.0 if start.function == "LINEAR" else step
    width = max(minimum, start.width + dx_px * step)
    center = start.center + dy_px * step
    if step >= 1.0:
        width = max(minimum, float(round(width)))
        center = float(round(center))
    return replace(start, center=center, width=width, explanation="")
