"""The image's context menu from the keyboard (Menu key, Shift+F10), and cine
that loops or bounces, kept in the settings (issue 15 item 9-10 leftovers)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from PySide6.QtCore import QPoint, QPointF, QRect, QSettings, Qt
from PySide6.QtGui import QContextMenuEvent, QCursor
from PySide6.QtWidgets import QApplication

from imaging_viewer.ui.cine_mode import next_cine_frame
from imaging_viewer.ui.main_window import MainWindow
from tests.conftest import window_settled

if TYPE_CHECKING:
    from pathlib import Path

    from pytestqt.qtbot import QtBot

    from tests.conftest import MakeSeries

POPUP_WARNINGS = pytest.mark.qt_log_ignore(
    "does not support raise", "does not support grabbing", "setCursorPos"
)
"""What the offscreen platform says when a menu pops up or the pointer moves."""


@pytest.fixture
def window(qtbot: QtBot, make_series: MakeSeries) -> MainWindow:
    main = MainWindow(remember_settings=False)
    qtbot.addWidget(main)
    main.resize(1366, 768)
    main.show()
    main.open_path(make_series(shape=(5, 32, 32), modality="CT").folder)
    qtbot.waitUntil(lambda: window_settled(main), timeout=60_000)
    qtbot.waitUntil(lambda: main.docks_built, timeout=10_000)
    return main


def _menu_opened_by(
    qtbot: QtBot, window: MainWindow, key: Qt.Key, modifier: Qt.KeyboardModifier
) -> QRect:
    widget = window.active_widget
    QCursor.setPos(widget.mapToGlobal(QPoint(-50, -50)))  # away from the image
    widget.setFocus()
    assert window.reading.context_menu is None
    qtbot.keyClick(widget, key, modifier)
    menu = window.reading.context_menu
    assert menu is not None
    qtbot.waitUntil(menu.isVisible, timeout=5_000)
    texts = [a.text() for a in menu.actions()]
    assert "Reset view" in texts
    assert "Tools" in texts
    where = menu.geometry()
    menu.close()
    return where


@POPUP_WARNINGS
def test_menu_key_opens_the_image_menu_at_the_centre(
    qtbot: QtBot, window: MainWindow
) -> None:
    widget = window.active_widget
    where = _menu_opened_by(qtbot, window, Qt.Key.Key_Menu, Qt.KeyboardModifier(0))
    centre = widget.mapToGlobal(QPoint(widget.width() // 2, widget.height() // 2))
    # Its corner at the centre, or moved left or up to stay on the screen.
    assert where.adjusted(-2, -2, 2, 2).contains(centre), (where, centre)
    assert abs(where.top() - centre.y()) <= 2 or abs(where.bottom() - centre.y()) <= 2


@POPUP_WARNINGS
def test_shift_f10_opens_the_image_menu(qtbot: QtBot, window: MainWindow) -> None:
    _menu_opened_by(qtbot, window, Qt.Key.Key_F10, Qt.KeyboardModifier.ShiftModifier)


@POPUP_WARNINGS
def test_plain_f10_and_a_right_click_event_open_no_menu_from_the_filter(
    qtbot: QtBot, window: MainWindow
) -> None:
    widget = window.active_widget
    widget.setFocus()
    qtbot.keyClick(widget, Qt.Key.Key_F10)
    assert window.reading.context_menu is None
    # A mouse context menu event is the mouse bindings' (a click that does not
    # drag), not the keyboard's.
    event = QContextMenuEvent(
        QContextMenuEvent.Reason.Mouse, QPoint(10, 10), widget.mapToGlobal(QPoint())
    )
    QApplication.sendEvent(widget, event)
    assert window.reading.context_menu is None


@POPUP_WARNINGS
def test_keyboard_context_menu_event_opens_it_once(
    qtbot: QtBot, window: MainWindow
) -> None:
    widget = window.active_widget
    event = QContextMenuEvent(
        QContextMenuEvent.Reason.Keyboard,
        QPoint(10, 10),
        widget.mapToGlobal(QPoint(10, 10)),
    )
    QApplication.sendEvent(widget, event)
    menu = window.reading.context_menu
    assert menu is not None
    qtbot.waitUntil(menu.isVisible, timeout=5_000)
    QApplication.sendEvent(widget, event)  # the same key's second event
    assert window.reading.context_menu is menu
    menu.close()


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("loop", [1, 2, 3, 0, 1, 2, 3, 0]),
        ("bounce", [1, 2, 3, 2, 1, 0, 1, 2]),
    ],
)
def test_cine_frames_loop_or_bounce(mode: str, expected: list[int]) -> None:
    index, step, seen = 0, 1, []
    for _ in expected:
        index, step = next_cine_frame(index, 4, step, mode)
        seen.append(index)
    assert seen == expected
    assert next_cine_frame(0, 1, 1, "bounce") == (0, 1)


def test_the_cine_menu_sets_bounce_on_every_viewport(window: MainWindow) -> None:
    cine = window.reading.cine
    assert cine.mode == "loop"
    bounce = cine.menu.findChild(object, "cine_bounce")  # type: ignore[arg-type]
    assert bounce is not None
    assert bounce in cine.menu.actions()
    bounce.trigger()
    widget = window.active_widget
    assert cine.mode == "bounce"
    assert all(w.cine_mode == "bounce" for w in window.viewport_widgets)
    state = widget.state
    state.set_slice(state.n_slices - 2)
    seen = []
    for _ in range(4):
        widget._on_cine_tick()
        seen.append(state.slice_index)
    last = state.n_slices - 1
    assert seen == [last, last - 1, last - 2, last - 3]


def test_the_cine_mode_is_kept_in_the_settings(qtbot: QtBot, tmp_path: Path) -> None:
    from imaging_viewer.ui.reading_controls import CineRate

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(remember_settings=False)
    qtbot.addWidget(window)
    first = CineRate(window, settings)
    assert first.mode == "loop"
    first.set_mode("bounce")
    settings.sync()
    assert CineRate(window, settings).mode == "bounce"
    settings.setValue("cine/mode", "sideways")  # not a mode: the default
    assert CineRate(window, settings).mode == "loop"


def test_the_keyboard_menu_opens_at_the_pointer_over_the_image(
    window: MainWindow,
) -> None:
    from imaging_viewer.ui.context_menu_key import keyboard_menu_position

    widget = window.active_widget
    QCursor.setPos(widget.mapToGlobal(QPoint(30, 40)))
    if widget.mapFromGlobal(QCursor.pos()) != QPoint(30, 40):
        pytest.skip("this platform cannot move the pointer")
    assert keyboard_menu_position(widget) == QPointF(30, 40)
    QCursor.setPos(widget.mapToGlobal(QPoint(-5, 40)))
    centre = QPointF(widget.width() / 2, widget.height() / 2)
    assert keyboard_menu_position(widget) == centre
