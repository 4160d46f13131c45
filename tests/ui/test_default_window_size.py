"""The first window (no stored geometry) fits the screen it opens on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from imaging_viewer.ui.main_window import MainWindow

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot


def test_the_first_window_fits_a_small_screen(qtbot: QtBot) -> None:
    window = MainWindow(remember_settings=False)
    qtbot.addWidget(window)
    screen = window.screen()
    assert screen is not None
    available = screen.availableGeometry()
    # The offscreen platform's screen (800×600) is smaller than the default
    # 1600×1000: the window shrinks to it rather than spilling off it.
    assert available.width() < 1600
    assert window.width() <= available.width()
    assert window.height() <= available.height()
    assert available.contains(window.geometry().topLeft())
