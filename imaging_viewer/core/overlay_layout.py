"""Where a view's overlays go: corner text widths, the scale bar's length and place.

Pure arithmetic in pixels of the target (a viewport's widget or an exported
image), so the screen and the export place everything alike at any scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "SCALE_BAR_FRACTION",
    "ScaleBar",
    "corner_widths",
    "nice_length",
    "scale_bar",
]

SCALE_BAR_FRACTION: Final = 0.25
"""The scale bar is at most this fraction of the target's width."""
_MIN_BAR_PX: Final = 4.0
"""Shorter bars are left out: they say nothing readable."""


def nice_length(limit_mm: float) -> float:
    """The largest 1, 2 or 5 times a power of ten not above ``limit_mm``.

    Parameters
    ----------
    limit_mm : float
        The longest the length may be.

    Returns
    -------
    float
        The round length; 0.0 when ``limit_mm`` is 0, negative or not finite,
        meaning that no bar can be drawn.
    """
    if not math.isfinite(limit_mm) or limit_mm <= 0:
        return 0.0
    power = 10.0 ** math.floor(math.log10(limit_mm))
    for step in (5.0, 2.0, 1.0):
        if step * power <= limit_mm:
            return step * power
    return power  # rounding of log10 just below a power of ten


@dataclass(frozen=True)
class ScaleBar:
    """A horizontal bar ``length_mm`` long with ticks up at both ends."""

    length_mm: float
    left: float
    right: float
    y: float
    """The bar's height in the target (pixels from its top)."""
    tick: float
    """The end ticks' length, pointing up (pixels)."""

    @property
    def label(self) -> str:
        """What the bar reads, e.g. ``"50 mm"``."""
        return f"{self.length_mm:g} mm"


def scale_bar(
    width: float, bottom: float, px_per_mm: float, tick: float
) -> ScaleBar | None:
    """The scale bar of a target ``width`` pixels wide: centred, its ticks'
    feet ``tick`` above ``bottom``.

    Parameters
    ----------
    width : float
        The target's width (pixels).
    bottom : float
        The lowest the bar's ticks may reach (pixels from the top).
    px_per_mm : float
        Target pixels per millimetre across the image.
    tick : float
        The ticks' length (pixels).

    Returns
    -------
    ScaleBar or None
        None when no round length of at least a few pixels fits (no spacing,
        or a target too narrow).
    """
    if not math.isfinite(px_per_mm) or px_per_mm <= 0:
        return None
    length_mm = nice_length(width * SCALE_BAR_FRACTION / px_per_mm)
    length_px = length_mm * px_per_mm
    if length_px < _MIN_BAR_PX:
        return None
    left = (width - length_px) / 2
    return ScaleBar(length_mm, left, left + length_px, bottom - tick, tick)


def corner_widths(
    natural: Mapping[str, int],
    line_counts: Mapping[str, int],
    width: int,
    *,
    margin: int,
    gap: int,
    letter_gap: int,
) -> dict[str, tuple[int, ...]]:
    """The widest each line of each corner may be, in pixels.

    The two corners of an edge share its width: each may use what the other
    leaves, and at least half. The line level with the edge's orientation
    letter (a top corner's first, a bottom corner's last) stops before the
    middle.

    Parameters
    ----------
    natural : Mapping[str, int]
        Each corner's widest line, unshortened (keys ``top_left`` … as in
        :func:`~imaging_viewer.core.overlay_text.corner_text`).
    line_counts : Mapping[str, int]
        Each corner's number of lines.
    width : int
        The target's width.
    margin : int
        Space between the text and the target's edge.
    gap : int
        Space kept between the two corners of an edge.
    letter_gap : int
        Space kept between a line level with a letter and the middle.

    Returns
    -------
    dict[str, tuple[int, ...]]
        One width per line of each corner.
    """
    total = max(1, width - 2 * margin - gap)
    beside_letter = max(1, width // 2 - 2 * margin - letter_gap)
    result: dict[str, tuple[int, ...]] = {}
    for corner, count in line_counts.items():
        edge, _, side = corner.rpartition("_")
        other = natural.get(f"{edge}_{'right' if side == 'left' else 'left'}", 0)
        if natural.get(corner, 0) + other <= total:
            room = total
        else:
            room = max(total // 2, total - other)
        letter_row = 0 if edge == "top" else count - 1
        result[corner] = tuple(
            min(room, beside_letter) if n == letter_row else room for n in range(count)
        )
    return result
