"""What a viewport's buffer was last rendered from, to skip rendering it again.

A scroll step in MPR edits several fields of several viewports (the cursor,
then the slice number), each of which asks its widget to redraw; the coronal
and sagittal planes do not move when the axial view scrolls (only the
crosshair over them does). The states cache their slices, so an unchanged
picture has the very same :class:`~imaging_viewer.core.mpr.Slice`, window and
look: compared by identity, with nothing allocated per frame.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from imaging_viewer.core.viewer_state import ViewportState

__all__ = ["RenderedInputs"]


class RenderedInputs:
    """The inputs of the last :func:`~imaging_viewer.core.render.render_slice`
    of one viewport: its slice, window, look, inversion, flips, quarter turns
    and coarse stride."""

    def __init__(self) -> None:
        self._slice: Any = None
        self._window: Any = None
        self._display: Any = None
        self._invert = False
        self._flips = (False, False)
        self._quarters = 0
        self._stride = 0

    def note(self, state: ViewportState, stride: int) -> None:
        """The buffer now shows ``state`` at ``stride``."""
        volume = state.volume
        self._slice = state.current_slice()
        self._window = state.window
        self._display = None if volume is None else volume.display
        self._invert = state.invert
        self._flips = (state.flip_horizontal, state.flip_vertical)
        self._quarters = state.rotation_quarters
        self._stride = stride

    def forget(self) -> None:
        """Nothing is shown (and no voxels are kept alive from here)."""
        self._slice = self._window = self._display = None
        self._stride = 0

    def same(self, state: ViewportState, stride: int) -> bool:
        """True when rendering ``state`` at ``stride`` gives the buffer as it is."""
        volume = state.volume
        return (
            self._slice is not None
            and volume is not None
            and self._stride == stride
            and self._slice is state.current_slice()
            and self._window is state.window
            and self._display is volume.display
            and self._invert == state.invert
            and self._flips[0] == state.flip_horizontal
            and self._flips[1] == state.flip_vertical
            and self._quarters == state.rotation_quarters
        )
