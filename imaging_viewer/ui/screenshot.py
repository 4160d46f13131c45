"""The ``--screenshot`` run: open a study, wait until it is shown, save the
window as PNG."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtWidgets import QApplication

if TYPE_CHECKING:
    from pathlib import Path

    from imaging_viewer.ui.main_window import MainWindow

_PATIENCE_S = 300
_THUMBNAIL_PATIENCE_S = 30
"""Thumbnails still pending after this are shown as their placeholder tiles."""


def run_screenshot(
    window: MainWindow, path: Path | None, output: Path, series_selector: str | None
) -> int:
    """Open ``path`` in ``window``, wait until every viewport shows its series,
    save the window as a PNG at ``output``; the exit status (0: written)."""
    app = QApplication.instance()
    assert app is not None
    window.show()
    if path is not None:
        window.open_path(path, series_selector=series_selector)
    deadline = time.monotonic() + _PATIENCE_S
    while time.monotonic() < deadline:
        app.processEvents()
        loading = any(v.loading for v in window.state.viewports)
        if window.scan_result is not None and not window.is_busy and not loading:
            break
        time.sleep(0.01)
    else:
        print(
            f"imaging-viewer: {path}: still loading after {_PATIENCE_S} s",
            file=sys.stderr,
        )
        return 1
    _wait_for_thumbnails(window, app, time.monotonic() + _THUMBNAIL_PATIENCE_S)
    for widget in window.viewport_widgets:
        widget.settle()
    for _ in range(5):
        app.processEvents()
    QTimer.singleShot(0, lambda: None)
    app.processEvents()
    image = window.grab()
    if not image.save(str(output), "PNG"):
        print(f"imaging-viewer: cannot write {output}", file=sys.stderr)
        return 1
    return 0


def _wait_for_thumbnails(
    window: MainWindow, app: QCoreApplication, deadline: float
) -> None:
    """The series browser's thumbnails are drawn (the picture shows the browser
    as a reader sees it a moment later), or the deadline has passed."""
    if not window.docks_built:
        window.build_docks()
    browser = window.series_browser
    while time.monotonic() < deadline:
        app.processEvents()
        if all(browser.thumbnail_state(i) != "pending" for i in browser.series_ids()):
            return
        time.sleep(0.01)
