"""Index everything opened (issue 14): the files of each study opened from a
folder, file or DICOMDIR are referenced in place in the local study database,
in the background, a few seconds after the scan (never before the first image),
in batches; one task at a time, the next scans queued. Off by the setting
``pacs/index_opened`` (QSettings).

The database is imported only when a task runs: the start-up path does not pay.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QSettings, QTimer, Signal

from imaging_viewer.ui.workers import run_in_background

if TYPE_CHECKING:
    from imaging_viewer.core.dicom.scan import ScanResult
    from imaging_viewer.core.workspace import Workspace
    from imaging_viewer.ui.workers import BackgroundTask

__all__ = ["SETTING", "OpenedStudiesIndexer", "indexing_enabled", "set_indexing"]

SETTING = "pacs/index_opened"
_DELAY_MS = 3000
"""After the scan: the first image and the volume load go first."""


def indexing_enabled(settings: QSettings | None = None) -> bool:
    """The user's choice (on unless turned off)."""
    value = (settings or QSettings()).value(SETTING, True)
    return value not in (False, "false", "0", 0)


def set_indexing(enabled: bool, settings: QSettings | None = None) -> None:
    """Turn indexing of opened studies on or off."""
    (settings or QSettings()).setValue(SETTING, enabled)


class OpenedStudiesIndexer(QObject):
    """Follows ``workspace.events.opened``; ``indexed(count)`` after each task,
    ``failed(message)`` when the database cannot be used (said, not raised)."""

    indexed = Signal(int)
    failed = Signal(str)

    def __init__(
        self,
        workspace: Workspace,
        parent: QObject | None = None,
        *,
        database_path: Path | None = None,
        delay_ms: int = _DELAY_MS,
        enabled: bool | None = None,
    ) -> None:
        super().__init__(parent)
        self.database_path = database_path
        self._enabled = enabled
        self._delay_ms = delay_ms
        self._queue: list[str] = []
        self._task: BackgroundTask | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._start)
        workspace.events.opened.connect(self.on_opened)

    @property
    def enabled(self) -> bool:
        """Given at construction, else the user's setting."""
        return self._enabled if self._enabled is not None else indexing_enabled()

    @property
    def busy(self) -> bool:
        """True while files wait or are being indexed."""
        return bool(self._queue) or self._task is not None or self._timer.isActive()

    def on_opened(self, result: ScanResult) -> None:
        """Queue the scan's files (throttled: the task starts after a delay)."""
        if not self.enabled:
            return
        self._queue += [path for series in result.series for path in series.files]
        if self._task is None:
            self._timer.start(self._delay_ms)

    def _start(self) -> None:
        files, self._queue = self._queue, []
        if not files:
            return
        database_path = self.database_path

        def work(progress: Any, cancel: Any) -> int:
            from imaging_viewer.core.pacs.database import StudyDatabase

            with StudyDatabase(database_path) as database:
                ours = str(database.files_folder.resolve())
                # Retrieved and received files are indexed already.
                outside = [
                    f for f in files if not str(Path(f).resolve()).startswith(ours)
                ]
                result = database.import_paths(outside, cancelled=cancel)
                return result.indexed

        self._task = run_in_background(work, self._done, self._failed)

    def _done(self, count: int) -> None:
        self._task = None
        self.indexed.emit(count)
        if self._queue:
            self._timer.start(self._delay_ms)

    def _failed(self, message: str) -> None:
        self._task = None
        if message != "cancelled":
            self.failed.emit(message.removeprefix("DatabaseError: "))
        if self._queue:
            self._timer.start(self._delay_ms)

    def stop(self) -> None:
        """Cancel the task under way and forget what waits (on quit)."""
        self._timer.stop()
        self._queue.clear()
        if self._task is not None:
            self._task.cancel()
