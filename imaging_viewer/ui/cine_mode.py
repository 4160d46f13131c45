"""Cine play modes: "loop" starts again at the first frame after the last;
"bounce" plays back and forth (forward to the last frame, back to the first)."""

from __future__ import annotations

from typing import Final

CINE_MODES: Final = (("loop", "Loop"), ("bounce", "Bounce (back and forth)"))
"""(mode, label) of each cine play mode, the first the default."""
DEFAULT_CINE_MODE: Final = "loop"


def next_cine_frame(index: int, count: int, step: int, mode: str) -> tuple[int, int]:
    """The frame after ``index`` of ``count`` frames when moving by ``step`` (+1
    or -1), and the step to move by next.

    >>> next_cine_frame(3, 4, 1, "loop")
    (0, 1)
    >>> next_cine_frame(3, 4, 1, "bounce")
    (2, -1)
    >>> next_cine_frame(0, 4, -1, "bounce")
    (1, 1)
    """
    if count <= 1:
        return 0, 1
    if mode != "bounce":
        return (index + 1) % count, 1
    step = 1 if step >= 0 else -1
    following = index + step
    if not 0 <= following < count:
        step = -step
        following = index + step
    return max(0, min(count - 1, following)), step
