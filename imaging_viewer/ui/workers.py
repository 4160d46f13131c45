"""Running slow work (scan, load) off the GUI thread, with progress and cancel."""

from __future__ import annotations

import contextlib
import threading
import traceback
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

if TYPE_CHECKING:
    from collections.abc import Callable


class _TaskSignals(QObject):
    done = Signal(object)
    failed = Signal(str)
    progress = Signal(int, int)


class BackgroundTask(QRunnable):
    """One call of ``fn(progress=..., cancel=...)`` on the thread pool.

    Results come back through Qt signals, so slots run on the GUI thread.
    """

    def __init__(self, fn: Callable[..., Any]) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self._fn = fn
        self._cancelled = threading.Event()
        self.signals = _TaskSignals()

    def cancel(self) -> None:
        """Ask the work to stop at its next check."""
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._cancelled.is_set()

    def run(self) -> None:
        """Qt calls this on a pool thread."""
        try:
            result = self._fn(progress=self._report, cancel=self._cancelled.is_set)
        except Exception as error:  # shown to the user, never lost
            from imaging_viewer.core.dicom.scan import Cancelled

            if isinstance(error, Cancelled) or self.cancelled:
                self._send(self.signals.failed, "cancelled")
            else:
                detail = "".join(
                    traceback.format_exception_only(type(error), error)
                ).strip()
                self._send(self.signals.failed, detail)
            return
        if self.cancelled:
            self._send(self.signals.failed, "cancelled")
        else:
            self._send(self.signals.done, result)

    def _report(self, done: int, total: int) -> None:
        self._send(self.signals.progress, done, total)

    @staticmethod
    def _send(signal: Any, *values: object) -> None:
        """Emit, unless the application has already gone (quit during a load:
        Qt deleted the signals' object, and nobody is left to tell)."""
        with contextlib.suppress(RuntimeError):
            signal.emit(*values)


_tasks: set[BackgroundTask] = set()


def run_in_background(
    fn: Callable[..., Any],
    on_done: Callable[[Any], None],
    on_failed: Callable[[str], None] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> BackgroundTask:
    """Start ``fn(progress=, cancel=)`` on the global thread pool.

    The task object is kept alive until it finishes; call ``task.cancel()`` to stop it.
    """
    task = BackgroundTask(fn)
    _tasks.add(task)

    def finished_ok(result: object) -> None:
        _tasks.discard(task)
        on_done(result)

    def finished_failed(message: str) -> None:
        _tasks.discard(task)
        if on_failed is not None:
            on_failed(message)

    task.signals.done.connect(finished_ok)
    task.signals.failed.connect(finished_failed)
    if on_progress is not None:
        task.signals.progress.connect(on_progress)
    QThreadPool.globalInstance().start(task)
    return task


def stop_background_work(timeout_ms: int = 10_000) -> bool:
    """Cancel every task and wait for the pool's threads (at most ``timeout_ms``).

    For the end of the application: a task still running while Python and Qt
    shut down would emit into objects being destroyed, and crash the process.
    True when every thread finished in time.
    """
    for task in list(_tasks):
        task.cancel()
    return bool(QThreadPool.globalInstance().waitForDone(timeout_ms))
