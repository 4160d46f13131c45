"""The first look is painted before the viewports (and pyqtgraph) exist."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
import shiboken6

from imaging_viewer.core.render import render_slice
from imaging_viewer.core.viewer_state import ViewportState
from imaging_viewer.ui.first_look import prefetch
from imaging_viewer.ui.first_look_view import FIT_PADDING, FirstLookView
from imaging_viewer.ui.main_window import MainWindow
from tests.conftest import window_settled

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

    from tests.conftest import MakeSeries

SAMPLE_CT = Path(__file__).resolve().parents[2] / "sample_data" / "CT"


def test_the_first_look_is_painted_then_the_viewports_take_its_place(
    qtbot: QtBot,
) -> None:
    folder = SAMPLE_CT
    prefetched = prefetch(folder)
    assert prefetched is not None
    look = prefetched.result.result(timeout=30)
    assert look is not None
    window = MainWindow(remember_settings=False, defer_viewports=True)
    qtbot.addWidget(window)
    view = window._first_look_view
    assert view is not None
    assert window.viewport_widgets == []
    painted_before_viewports: list[bool] = []
    view.painted.connect(
        lambda: painted_before_viewports.append(not window.viewport_widgets)
    )
    window.show()
    window.open_path(folder, prefetched=prefetched)
    # What the view holds is the state's slice through the render core.
    viewport = window.state.viewports[0]
    assert viewport.volume is look[1]
    assert view.has_image
    pixels = viewport.pixels()
    assert pixels is not None
    expected = render_slice(pixels, viewport.window, display=look[1].display)
    assert view._buffer is not None
    np.testing.assert_array_equal(view._buffer, expected)
    qtbot.waitUntil(lambda: bool(window.viewport_widgets), timeout=10_000)
    assert painted_before_viewports == [True]
    assert window._first_look_view is None
    assert not shiboken6.isValid(view) or not view.isVisible()  # deleted later
    widget = window.viewport_widgets[0]
    assert widget.isVisible()
    qtbot.waitUntil(lambda: window.docks_built, timeout=10_000)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    assert viewport.volume is not None
    assert viewport.volume.shape_kji[0] > 1
    assert widget.image_item._image is not None


def test_without_an_image_read_ahead_the_viewports_come_at_once(
    qtbot: QtBot, make_series: MakeSeries
) -> None:
    window = MainWindow(remember_settings=False, defer_viewports=True)
    qtbot.addWidget(window)
    window.show()
    window.open_path(make_series(shape=(4, 16, 16)).folder)
    assert len(window.viewport_widgets) == 1
    assert window._first_look_view is None
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    qtbot.waitUntil(lambda: window.docks_built, timeout=10_000)


def test_a_window_never_painted_still_gets_its_viewports(qtbot: QtBot) -> None:
    prefetched = prefetch(SAMPLE_CT)
    assert prefetched is not None
    prefetched.result.result(timeout=30)
    window = MainWindow(remember_settings=False, defer_viewports=True)
    qtbot.addWidget(window)
    window.open_path(SAMPLE_CT, prefetched=prefetched)  # never shown
    qtbot.waitUntil(lambda: bool(window.viewport_widgets), timeout=5_000)
    assert window.active_widget is window.viewport_widgets[0]
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)


@pytest.mark.parametrize(("column_mm", "row_mm"), [(0.5, 1.0), (1.0, 1.0), (2.0, 0.7)])
def test_the_image_is_drawn_to_scale_and_fitted(
    qtbot: QtBot, make_series: MakeSeries, column_mm: float, row_mm: float
) -> None:
    from imaging_viewer.core.dicom.load import load_volume
    from imaging_viewer.core.dicom.scan import scan_folder

    folder = make_series(shape=(1, 40, 60), spacing_mm=(column_mm, row_mm, 2.0)).folder
    series = scan_folder(folder).series[0]
    state = ViewportState()
    state.show(series, load_volume(series))
    view = FirstLookView()
    qtbot.addWidget(view)
    view.resize(800, 500)
    view.show_state(state)
    rect = view.image_rect()
    assert rect.width() / rect.height() == pytest.approx(
        60 * column_mm / (40 * row_mm), rel=1e-6
    )
    fits = min(
        800 / (60 * column_mm * (1 + 2 * FIT_PADDING)),
        500 / (40 * row_mm * (1 + 2 * FIT_PADDING)),
    )
    assert rect.width() == pytest.approx(60 * column_mm * fits)
    assert rect.center().x() == pytest.approx(400)
    assert rect.center().y() == pytest.approx(250)


def test_the_app_paints_the_first_image_before_importing_what_it_does_not_need(
    tmp_path: Path,
) -> None:
    # The real entry point, in a fresh interpreter (pyqtgraph is loaded here).
    script = textwrap.dedent(
        """
        import os, sys
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        from imaging_viewer.ui import app, first_look_view
        seen = {}
        paint = first_look_view.FirstLookView.paintEvent
        def noting(self, event):
            paint(self, event)
            if self.has_image and "loaded" not in seen:
                # Nothing the first image does not need (pyqtgraph ~0.1 s,
                # multiprocessing ~10 ms, the export module's Qt classes, the
                # annotation model's dataclasses ~15 ms).
                later = (
                    "pyqtgraph",
                    "multiprocessing",
                    "imaging_viewer.ui.export",
                    "imaging_viewer.core.annotations.model",
                )
                seen["loaded"] = ",".join(m for m in later if m in sys.modules)
        first_look_view.FirstLookView.paintEvent = noting
        def poll():
            for window in QApplication.topLevelWidgets():
                widgets = getattr(window, "viewport_widgets", None)
                if widgets and widgets[0].image_item._image is not None:
                    seen["viewport"] = True
                    # Fusion, named in QApplication's arguments, not set after.
                    seen["style"] = QApplication.style().name()
                    window.cancel_loading()
                    QApplication.quit()
                    return
            QTimer.singleShot(10, poll)
        QTimer.singleShot(0, poll)
        QTimer.singleShot(60_000, QApplication.quit)
        app.main([sys.argv[1]])
        # No load left running once main returns (it would crash the exit).
        from PySide6.QtCore import QThreadPool
        running = QThreadPool.globalInstance().activeThreadCount()
        print(repr(seen.get("loaded")), seen.get("viewport"), seen.get("style"))
        print(running)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(SAMPLE_CT)],
        # The viewer's style wins over a style the environment asks for.
        env={
            **os.environ,
            "XDG_CONFIG_HOME": str(tmp_path),
            "QT_STYLE_OVERRIDE": "Windows",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["''", "True", "fusion", "0"], done.stderr
