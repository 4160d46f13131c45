"""Thumbnails of key images loaded from an annotation file (issue 15 item 6).

Images marked while reading keep a picture of the view; those read from a file
have none. :class:`KeyImageThumbnailLoader` draws them from their DICOM file,
off the GUI thread, with the series browser's thumbnail path
(``render_thumbnail``: the image's default window, physical aspect).
"""

from __future__ import annotations

import dataclasses
import threading
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QObject, QRunnable, QThreadPool, Signal

if TYPE_CHECKING:
    from collections.abc import Callable

    from imaging_viewer.core.annotations.key_image_marks import KeyImageMark
    from imaging_viewer.core.dicom.scan import ScanResult
    from imaging_viewer.core.dicom.series import SeriesInfo

__all__ = ["KeyImageThumbnailLoader", "key_image_series"]


def key_image_series(
    scan_result: ScanResult | None, mark: KeyImageMark
) -> SeriesInfo | None:
    """The marked image alone, as a one-image series (to draw it), if scanned."""
    from imaging_viewer.ui.key_images import locate_key_image

    located = locate_key_image(scan_result, mark)
    if scan_result is None or located is None:
        return None
    series_id, k, t = located
    (series,) = [s for s in scan_result.series if s.id == series_id]
    ref = series.frames[t][k]
    return dataclasses.replace(
        series,
        frames=((ref,),),
        shape_kji=(1, series.acquired_rows, series.acquired_columns),
        geometry=None,
        files=(ref.path,),
    )


class _Signals(QObject):
    finished = Signal(object, object)
    """(mark key, QImage or None)."""


class _ThumbnailTask(QRunnable):
    def __init__(
        self,
        mark: KeyImageMark,
        scan_result: ScanResult | None,
        size: int,
        signals: _Signals,
        stop: threading.Event,
    ) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._mark, self._scan_result, self._size = mark, scan_result, size
        self._signals, self._stop = signals, stop

    def run(self) -> None:
        from imaging_viewer.ui.widgets.series_browser import render_thumbnail

        image = None
        try:
            series = key_image_series(self._scan_result, self._mark)
            if series is not None and not self._stop.is_set():
                image = render_thumbnail(series, self._size)
        except Exception:  # decoders raise many types: then no thumbnail
            image = None
        if not self._stop.is_set():
            self._signals.finished.emit(self._mark.key, image)


class KeyImageThumbnailLoader(QObject):
    """Draws key images' thumbnails in the background, one at a time, and
    emits :attr:`ready` with each (a QImage; None when it cannot be drawn)."""

    ready = Signal(object, object)
    """(mark key (SOP Instance UID, frame), QImage or None)."""

    def __init__(
        self,
        scan_result: Callable[[], ScanResult | None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._scan_result = scan_result
        self._pending: set[tuple[str, int | None]] = set()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._stop = threading.Event()
        self._signals = _Signals(self)
        self._signals.finished.connect(self._on_finished)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.stop)
        self.destroyed.connect(self._stop.set)

    def request(self, mark: KeyImageMark, size: int) -> None:
        """Draw ``mark``'s image at ``size`` pixels unless already asked for."""
        if mark.key in self._pending or self._stop.is_set():
            return
        self._pending.add(mark.key)
        self._pool.start(
            _ThumbnailTask(mark, self._scan_result(), size, self._signals, self._stop)
        )

    def is_busy(self) -> bool:
        """True while a thumbnail is asked for and not yet drawn."""
        return bool(self._pending)

    def stop(self) -> None:
        """Drop queued thumbnails and wait for the one being drawn."""
        self._stop.set()
        self._pool.clear()
        self._pool.waitForDone()

    def _on_finished(self, key: tuple[str, int | None], image: object) -> None:
        self._pending.discard(key)
        self.ready.emit(key, image)
