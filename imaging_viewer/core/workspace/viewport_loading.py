"""Series of the workspace put into the viewports of a :class:`ViewerState`.

A series shows at once from the volume cache; otherwise the middle image is
decoded first (a preview) and the whole volume follows. Two viewports that show
one series share its load, which stops once no viewport waits for it; the
volumes shown stay pinned in the cache.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from psygnal import Signal

if TYPE_CHECKING:
    from imaging_viewer.core.dicom.series import SeriesInfo
    from imaging_viewer.core.viewer_state import ViewerState
    from imaging_viewer.core.volume import Volume
    from imaging_viewer.core.workspace.workspace import Workspace


class ViewportLoader:
    """Shows series of ``workspace`` in the viewports of ``state``."""

    image_shown = Signal(int)
    """A viewport (index) shows an image of its series: preview or volume."""
    volume_shown = Signal(int)
    """A viewport (index) shows the whole volume of its series."""

    def __init__(self, workspace: Workspace, state: ViewerState) -> None:
        self.workspace = workspace
        self.state = state
        self.first_look: str | None = None
        """A file shown in viewport 0 before its series was known: its series
        opens on that image, so the image on screen stays put."""
        self._wanted: dict[int, tuple[str, int | None]] = {}
        """Viewport index -> (series id, slice to open on) it waits for."""
        workspace.events.volume_loaded.connect(self._on_volume_loaded)
        workspace.events.load_failed.connect(self._on_load_failed)

    def show_series(self, series_id: str, index: int) -> None:
        """Show a series in viewport ``index`` (loads it if needed)."""
        series = self.workspace.series(series_id)
        if series is None:
            return
        viewport = self.state.viewports[index]
        self.release(index)
        cached = self.workspace.volume(series_id)
        if cached is not None:
            viewport.loading = False
            viewport.show(series, cached)
            self.pin_shown()
            self.image_shown.emit(index)
            return
        start = self._first_look_slice(series, index)
        self._wanted[index] = (series_id, start)
        viewport.loading = True
        viewport.series = series
        if start is None:
            viewport.volume = None
            self.workspace.load_preview(
                series_id, lambda shown, volume: self._on_preview(index, shown, volume)
            )
        self.pin_shown()
        self.workspace.load(series_id)

    def waits_for(self, index: int) -> str | None:
        """The series id viewport ``index`` waits for, if any."""
        wanted = self._wanted.get(index)
        return None if wanted is None else wanted[0]

    def release(self, index: int) -> None:
        """Viewport ``index`` no longer waits for its load; the load stops
        when no other viewport waits for it."""
        previous = self._wanted.pop(index, None)
        if previous is None:
            return
        if all(wanted != previous[0] for wanted, _ in self._wanted.values()):
            self.workspace.cancel_load(previous[0])

    def cancel(self) -> None:
        """Stop every load; no viewport waits any more."""
        self.workspace.cancel_loads()
        self._wanted.clear()
        for viewport in self.state.viewports:
            viewport.loading = False

    def pin_shown(self) -> None:
        """The volumes the viewports show stay in the workspace's cache."""
        self.workspace.pin(
            viewport.series.id
            for viewport in self.state.viewports
            if viewport.series is not None
        )

    def _first_look_slice(self, series: SeriesInfo, index: int) -> int | None:
        """The slice of ``series`` the first look shows (None: it shows none).

        The first look is the middle file by name, which need not be the
        middle slice by position.
        """
        path, self.first_look = self.first_look, None
        viewport = self.state.viewports[index]
        if path is None or index != 0 or viewport.volume is None:
            return None
        if series.geometry is not None and series.geometry.resample is not None:
            return None
        if series.n_time_points != 1:
            return None
        absolute = os.path.abspath(path)
        frames = series.frames[0]
        shown = [
            k
            for k, frame in enumerate(frames)
            if frame.path == path or os.path.abspath(frame.path) == absolute
        ]
        if len(shown) == 1:
            return shown[0]  # a single-frame file
        if len(shown) == len(frames) == viewport.volume.shape_kji[0]:
            return viewport.slice_index  # the series is that multi-frame file
        return None

    def _on_preview(self, index: int, series: SeriesInfo, volume: Volume) -> None:
        viewport = self.state.viewports[index]
        if (
            viewport.loading
            and viewport.series is not None
            and viewport.series.id == series.id
        ):
            viewport.show(series, volume)
            self.image_shown.emit(index)

    def _on_volume_loaded(self, series_id: str, volume: Volume) -> None:
        shown: list[int] = []
        for index, (wanted, start) in list(self._wanted.items()):
            if wanted != series_id:
                continue
            del self._wanted[index]
            viewport = self.state.viewports[index]
            series = viewport.series
            if series is None or series.id != series_id:
                continue
            had_preview = viewport.volume is not None
            viewport.loading = False
            with self.state.unlinked():  # opening on its slice is no scroll
                viewport.show(series, volume)
                if had_preview:
                    start_at = volume.shape_kji[0] // 2 if start is None else start
                    viewport.set_slice(start_at)
            shown.append(index)
        self.pin_shown()
        self.state.sync_linked(self.state.active_index)
        for index in shown:
            self.image_shown.emit(index)
            self.volume_shown.emit(index)

    def _on_load_failed(self, series_id: str, _message: str) -> None:
        for index, (wanted, _) in list(self._wanted.items()):
            if wanted == series_id:
                del self._wanted[index]
                self.state.viewports[index].loading = False
