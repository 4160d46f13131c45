"""Series that grow while they are shown: a retrieve or a receive under way adds
files to a series already open. The viewports that show it get the larger
volume when it has loaded, on the same image and in the same window.

Qt-free: the window (or a test) calls nothing; this listens to the workspace's
``series_grew`` and ``volume_loaded`` events.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from imaging_viewer.core.dicom.series import SeriesInfo
    from imaging_viewer.core.viewer_state import ViewerState, ViewportState
    from imaging_viewer.core.volume import Volume
    from imaging_viewer.core.workspace.workspace import Workspace

__all__ = ["GrowingSeriesFollower", "same_image_index"]


def same_image_index(before: SeriesInfo, after: SeriesInfo, k: int) -> int | None:
    """The index in ``after`` of the image at ``k`` in ``before`` (the slices
    are sorted along the normal, PS3.3 C.7.6.2.1.1: new ones may come before
    it), or None when it is not there."""
    if before.n_time_points != 1 or after.n_time_points != 1:
        return None
    frames = before.frames[0]
    if not 0 <= k < len(frames):
        return None
    shown = frames[k]
    where = os.path.abspath(shown.path)
    for index, frame in enumerate(after.frames[0]):
        if frame.frame_index == shown.frame_index and (
            frame.path == shown.path or os.path.abspath(frame.path) == where
        ):
            return index
    return None


class GrowingSeriesFollower:
    """Reloads the series that grew and are shown in ``state``'s viewports, one
    load at a time per series (a growth during a load reloads once more after
    it), and shows each new volume on the image that was shown."""

    def __init__(self, workspace: Workspace, state: ViewerState) -> None:
        self.workspace = workspace
        self.state = state
        self._pending: set[str] = set()
        """Series that grew while they loaded: reloaded when the load ends."""
        workspace.events.series_grew.connect(self._on_grew)
        workspace.events.volume_loaded.connect(self._on_volume_loaded)

    def _showing(self, series_id: str) -> list[ViewportState]:
        return [
            viewport
            for viewport in self.state.viewports
            if viewport.series is not None and viewport.series.id == series_id
        ]

    def _on_grew(self, series_id: str, _before: int, _now: int) -> None:
        if not self._showing(series_id):
            return
        if not self.workspace.reload(series_id):
            self._pending.add(series_id)  # loading now: once more after it

    def _on_volume_loaded(self, series_id: str, volume: Volume) -> None:
        if series_id in self._pending:
            self._pending.discard(series_id)
            if self._showing(series_id) and self.workspace.reload(series_id):
                return  # this volume is already short: the next one shows
        series = self.workspace.series(series_id)
        if series is None:
            return
        for viewport in self._showing(series_id):
            if viewport.loading or viewport.volume is None:
                continue  # waits for its first volume: the loader shows it
            if viewport.volume is volume:
                continue
            self._show_grown(viewport, series, volume)

    def _show_grown(
        self, viewport: ViewportState, series: SeriesInfo, volume: Volume
    ) -> None:
        before = viewport.series
        k = viewport.slice_index
        with self.state.unlinked():  # the same image: no scroll to follow
            viewport.show(series, volume)  # same series: slice and window kept
            if before is not None and not viewport.is_mpr:
                same = same_image_index(before, series, k)
                if same is not None:
                    viewport.set_slice(same)
