"""The free view of MPR 2×2: what its fourth viewport shows.

Issue 15 asks for "three planes and a free view": the fourth view opens on the
volume's acquired slices (never an invented plane first), and the reader can
turn it into an axial, coronal or sagittal plane, or an oblique one (tilted
:data:`OBLIQUE_START_DEG` from axial about the patient's left–right axis, then
turned further by dragging its line in the other views). Its oblique angle shows
in its corner (:meth:`ViewportState.oblique_angle_deg`). Planes are placed in
the Frame of Reference's LPS coordinates (PS3.3 C.7.6.2.1.1).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Final

import numpy as np

from imaging_viewer.core.geometry import rotation_about

if TYPE_CHECKING:
    from imaging_viewer.core.viewer_state import ViewerState

__all__ = [
    "FREE_VIEW_INDEX",
    "FREE_VIEW_KINDS",
    "OBLIQUE_START_DEG",
    "free_view_kind",
    "show_in_free_view",
]

FREE_VIEW_INDEX: Final = 3
"""The viewport of MPR 2×2 that is free (bottom right)."""
FREE_VIEW_KINDS: Final = ("acquired", "oblique", "axial", "coronal", "sagittal")
"""What the free view can show."""
OBLIQUE_START_DEG: Final = 30.0
"""The tilt an oblique free view starts with (from axial, about L–R)."""


def free_view_kind(viewer: ViewerState) -> str | None:
    """What the free view shows (a key of :data:`FREE_VIEW_KINDS`), or None
    when there is no free view (not MPR, or an arrangement of three views)."""
    if viewer.layout != "mpr" or viewer.visible_count <= FREE_VIEW_INDEX:
        return None
    view = viewer.viewports[FREE_VIEW_INDEX]
    if not view.is_mpr:
        return "acquired"
    return "oblique" if view.oblique_angle_deg() is not None else view.orientation


def show_in_free_view(viewer: ViewerState, kind: str) -> bool:
    """Make the free view show ``kind`` (see :data:`FREE_VIEW_KINDS`) of the
    MPR volume, through its 3D cursor, in its window. False when there is no
    free view; ValueError for an unknown kind."""
    if kind not in FREE_VIEW_KINDS:
        raise ValueError(f"unknown free view {kind!r}")
    source = viewer.viewports[0]
    volume = source.volume
    if free_view_kind(viewer) is None or not source.is_mpr or volume is None:
        return False
    if kind == "acquired":
        viewer.set_mpr_layout(viewer.mpr_layout)  # its fourth: the acquired slices
        return True
    rotation: tuple[float, ...] | None = None
    orientation = kind
    if kind == "oblique":
        orientation = "axial"
        turned = rotation_about(
            np.array([1.0, 0.0, 0.0]), math.radians(OBLIQUE_START_DEG)
        )
        rotation = tuple(float(value) for value in turned.ravel())
    view = viewer.viewports[FREE_VIEW_INDEX]
    with viewer.unlinked():
        # As entering MPR does: the volume first, then the plane through the cursor.
        view.orientation = "acquired"
        view.slab_mm = 0.0
        view.show(source.series, volume)
        view.time_index = source.time_index
        view.plane_rotation = rotation
        view.cursor_lps = source.cursor_lps
        view.orientation = orientation
        view.sync_index_to_cursor()
        if source.window is not None:
            view.window, view.window_label = source.window, source.window_label
    return True
