"""Background tasks: results on the GUI thread, and none left running at exit."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QThreadPool

from imaging_viewer.ui.workers import run_in_background, stop_background_work

if TYPE_CHECKING:
    from collections.abc import Callable

    from pytestqt.qtbot import QtBot


def test_a_result_comes_back_on_the_gui_thread(qtbot: QtBot) -> None:
    got: list[tuple[object, bool]] = []
    run_in_background(
        lambda progress, cancel: 42,
        on_done=lambda value: got.append(
            (value, threading.current_thread() is threading.main_thread())
        ),
    )
    qtbot.waitUntil(lambda: bool(got), timeout=5_000)
    assert got == [(42, True)]


def test_stopping_cancels_running_tasks_and_waits_for_them(qtbot: QtBot) -> None:
    started = threading.Event()
    saw_cancel: list[bool] = []
    failed: list[str] = []

    def slow(progress: Callable[[int, int], None], cancel: Callable[[], bool]) -> Any:
        started.set()
        deadline = time.monotonic() + 30
        while not cancel() and time.monotonic() < deadline:
            progress(0, 1)  # still reporting while the application shuts down
            time.sleep(0.001)
        saw_cancel.append(cancel())
        return None

    run_in_background(slow, on_done=lambda _: None, on_failed=failed.append)
    assert started.wait(5)
    began = time.monotonic()
    assert stop_background_work(timeout_ms=10_000)
    # Back once the task saw the cancel, long before its own 30 s deadline.
    assert time.monotonic() - began < 5
    assert saw_cancel == [True]
    assert QThreadPool.globalInstance().activeThreadCount() == 0
    qtbot.waitUntil(lambda: failed == ["cancelled"], timeout=5_000)
