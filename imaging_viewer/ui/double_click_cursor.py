"""A double-click maximises a view; its first press must not move the 3D cursor.

Qt delivers a double-click as press, release, double-click: the first press has
already placed the crosshair (MPR, or an acquired view with the crosshair tool)
before the viewport knows a double-click follows. :class:`CursorAtPress` keeps
where every shown view was at that press and puts them back when the
double-click arrives, so maximising or restoring leaves the cursor where it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from imaging_viewer.core.viewer_state import ViewerState

_Place = tuple[int, tuple[float, float, float] | None]
"""(slice index, 3D cursor) of one viewport."""


@dataclass
class CursorAtPress:
    """The slice and cursor of each shown viewport at the last crosshair press."""

    _places: list[_Place] = field(default_factory=list)

    def remember(self, viewer: ViewerState) -> None:
        """Note where every shown view is, before a press moves the cursor."""
        self._places = [
            (viewport.slice_index, viewport.cursor_lps)
            for viewport in viewer.viewports[: viewer.visible_count]
        ]

    def forget(self) -> None:
        """A press of another tool: nothing to put back."""
        self._places = []

    def restore(self, viewer: ViewerState) -> None:
        """Put every view back where it was at the press (linked views stay
        still: each is restored on its own)."""
        places, self._places = self._places, []
        with viewer.unlinked():
            for viewport, (index, cursor) in zip(
                viewer.viewports, places, strict=False
            ):
                viewport.cursor_lps = cursor
                viewport.slice_index = index
