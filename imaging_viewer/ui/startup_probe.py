"""Start-up probe: when the first image is painted, note the time and quit.

``IMAGING_VIEWER_STARTUP_PROBE=FILE imaging-viewer FOLDER`` writes
``{"first_paint": <time.time()>}`` to FILE when the window's first look (the
image read ahead while Qt starts) is painted, then quits. It measures the frozen
app the way ``benchmarks/bench_view.py`` measures the clone: from the launch of the
process to the first painted image (benchmarks/bench_frozen.py runs both).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any


def install_startup_probe(output: str) -> None:
    """Hook the first-look view's paint to note the first image on screen."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from imaging_viewer.ui.first_look_view import FirstLookView

    original_paint = FirstLookView.paintEvent
    noted: list[float] = []

    def paint(self: FirstLookView, event: Any) -> None:
        original_paint(self, event)
        if self.has_image and not noted:
            noted.append(time.time())
            Path(output).write_text(json.dumps({"first_paint": noted[0]}))
            QTimer.singleShot(0, QApplication.quit)

    FirstLookView.paintEvent = paint  # type: ignore[method-assign]
