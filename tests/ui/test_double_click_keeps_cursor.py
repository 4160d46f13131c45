"""A double-click maximises or restores a view and leaves the 3D cursor where it
was (its first press is not a crosshair click): MPR views and the acquired view
beside them, with the crosshair tool."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from PySide6.QtCore import QPoint, Qt

from imaging_viewer.ui.main_window import MainWindow
from tests.conftest import window_settled

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget
    from pytestqt.qtbot import QtBot

    from tests.conftest import MakeSeries


@pytest.fixture
def mpr_2x2(qtbot: QtBot, make_series: MakeSeries) -> MainWindow:
    series = make_series(shape=(24, 40, 32), spacing_mm=(0.8, 0.6, 2.5))
    window = MainWindow(remember_settings=False)
    qtbot.addWidget(window)
    window.resize(1400, 800)
    window.show()
    window.open_path(series.folder)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    window.actions_built.actions["mpr_layout_2x2"].trigger()
    assert window.state.layout == "mpr"
    window.state.left_tool = "crosshair"
    qtbot.waitUntil(lambda: window.viewport_widgets[3].isVisible(), timeout=5_000)
    return window


def _places(window: MainWindow) -> list[object]:
    return [(v.slice_index, v.cursor_lps) for v in window.state.viewports[:4]]


def _double_click(qtbot: QtBot, widget: QWidget, at: QPoint) -> None:
    """What Qt delivers for a double-click: press, release, double-click, release."""
    left = Qt.MouseButton.LeftButton
    qtbot.mousePress(widget, left, pos=at)
    qtbot.mouseRelease(widget, left, pos=at)
    qtbot.mouseDClick(widget, left, pos=at)
    qtbot.mouseRelease(widget, left, pos=at)


@pytest.mark.parametrize("index", [1, 3], ids=["coronal", "acquired"])
def test_double_click_maximizes_without_moving_the_cursor(
    qtbot: QtBot, mpr_2x2: MainWindow, index: int
) -> None:
    widget = mpr_2x2.viewport_widgets[index]
    before = _places(mpr_2x2)
    # Well off the cursor: a single click there moves it (a crosshair click).
    corner = QPoint(widget.width() // 5, widget.height() // 4)
    qtbot.mouseClick(widget.viewport(), Qt.MouseButton.LeftButton, pos=corner)
    clicked = _places(mpr_2x2)
    assert clicked != before
    far = QPoint(widget.width() * 4 // 5, widget.height() * 3 // 4)
    _double_click(qtbot, widget.viewport(), far)
    assert mpr_2x2.state.maximized_index == index
    assert _places(mpr_2x2) == clicked
    _double_click(qtbot, widget.viewport(), corner)
    assert mpr_2x2.state.maximized_index is None
    assert _places(mpr_2x2) == clicked
    # A single click still moves the cursor.
    qtbot.mouseClick(widget.viewport(), Qt.MouseButton.LeftButton, pos=far)
    assert _places(mpr_2x2) != clicked
