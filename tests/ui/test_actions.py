"""The action table: keys bound once, no clash with menu mnemonics, Help as bound,
view flags alike from keys and menus, and the keyboard on the active viewport."""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QImage, QKeySequence
from PySide6.QtWidgets import QApplication, QDialog, QMenu, QTableWidget

from imaging_viewer.ui.actions import (
    ACTIONS,
    MOUSE_BINDINGS,
    viewport_action,
    viewport_key_names,
)
from imaging_viewer.ui.main_window import MainWindow
from tests.conftest import window_settled

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

    from tests.conftest import MakeSeries


def _portable(key: str) -> str:
    """A key as QKeySequence writes it (``PgUp``, ``Ctrl+Shift+Z``)."""
    return QKeySequence(key).toString()


@pytest.fixture
def window(qtbot: QtBot, make_series: MakeSeries) -> MainWindow:
    """A shown, active window with a CT series and its docks, keys on its viewport."""
    main = MainWindow(remember_settings=False)
    qtbot.addWidget(main)
    main.resize(1200, 800)
    main.show()
    main.activateWindow()
    main.open_path(make_series(shape=(20, 32, 32), modality="CT").folder)
    qtbot.waitUntil(lambda: window_settled(main), timeout=60_000)
    qtbot.waitUntil(lambda: main.docks_built, timeout=10_000)
    qtbot.waitUntil(lambda: main.isActiveWindow(), timeout=5_000)
    return main


def _bound_actions(window: MainWindow) -> list[QAction]:
    """Every QAction reachable in the window: its own, its menus', its tool bars'."""
    found: dict[int, QAction] = {id(a): a for a in window.actions()}
    menus = [a.menu() for a in window.menuBar().actions()]
    while menus:
        menu = menus.pop()
        if not isinstance(menu, QMenu):
            continue
        for action in menu.actions():
            found[id(action)] = action
            menus.append(action.menu())
    for toolbar in window.actions_built.toolbars.values():
        for action in toolbar.actions():
            found[id(action)] = action
    return list(found.values())


def _window_keys(window: MainWindow) -> list[str]:
    """The window's bound shortcuts, one entry per binding."""
    return [
        key.toString()
        for action in _bound_actions(window)
        for key in action.shortcuts()
        if not key.isEmpty()
    ]


def _is_viewport_key(key: str) -> bool:
    """A key the viewports answer: no modifier, and theirs by the dispatch."""
    combination = QKeySequence(key)[0]
    if combination.keyboardModifiers() != Qt.KeyboardModifier.NoModifier:
        return False
    return viewport_action(int(combination.key().value)) is not None


def _focus(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.waitUntil(
        lambda: QApplication.focusWidget() is window.active_widget, timeout=5_000
    )


def test_the_table_gives_no_key_to_two_actions() -> None:
    keys = Counter(_portable(key) for spec in ACTIONS for key in spec.shortcuts)
    assert [key for key, count in keys.items() if count > 1] == []
    ids = Counter(spec.id for spec in ACTIONS)
    assert [name for name, count in ids.items() if count > 1] == []


def test_no_key_is_bound_twice_and_no_alt_key_is_a_menu_mnemonic(
    window: MainWindow,
) -> None:
    keys = Counter(_window_keys(window))
    assert [key for key, count in keys.items() if count > 1] == []
    # Viewport keys are not window shortcuts too (Qt would find them ambiguous).
    assert not set(keys) & {_portable(k) for k in viewport_key_names()}
    mnemonics = set()
    for action in window.menuBar().actions():
        found = re.search(r"&([^&])", action.text())
        assert found is not None, action.text()
        mnemonics.add(f"Alt+{found.group(1).upper()}")
    assert len(mnemonics) == len(window.menuBar().actions())
    alt_keys = {key for key in keys if re.fullmatch(r"Alt\+.", key)}
    assert {"Alt+A", "Alt+F"} <= alt_keys
    assert not alt_keys & mnemonics


def test_help_lists_exactly_the_keys_bound(qtbot: QtBot, window: MainWindow) -> None:
    window.show_shortcuts()
    dialog = window._shortcuts_dialog
    table = dialog.findChild(QTableWidget)
    assert table is not None
    cells = [
        (table.item(row, 0).text(), table.item(row, 1).text())
        for row in range(table.rowCount())
    ]
    mouse = [row for row in cells if row in MOUSE_BINDINGS]
    assert mouse == list(MOUSE_BINDINGS)  # mouse bindings stay listed
    listed = Counter(
        _portable(key)
        for keys, _ in cells
        if (keys, _) not in MOUSE_BINDINGS
        for key in keys.split(" or ")
    )
    assert [key for key, count in listed.items() if count > 1] == []
    viewport_keys = {k for k in listed if _is_viewport_key(k)}
    assert set(listed) - viewport_keys == set(_window_keys(window))
    assert viewport_keys == {_portable(k) for k in viewport_key_names()}
    # And the viewport really answers each of its keys.
    widget = window.active_widget
    for key in sorted(viewport_keys - {"Space"}):
        before = (widget.viewer.show_overlays, widget.viewer.show_crosshair)
        qtbot.keyClick(widget, QKeySequence(key)[0].key())
        after = (widget.viewer.show_overlays, widget.viewer.show_crosshair)
        if after != before:  # O and X: back as they were
            qtbot.keyClick(widget, QKeySequence(key)[0].key())
    dialog.close()


def test_alt_a_picks_arrow_and_alt_f_picks_polygon(
    qtbot: QtBot, window: MainWindow
) -> None:
    """Not auto window nor fit (Qt found Alt+A and Alt+F ambiguous with the
    Annotate and File menus, and the viewport took them for A and F)."""
    _focus(qtbot, window)
    widget = window.active_widget
    viewport = window.state.active
    label = viewport.window_label
    widget.zoom_by(2.0)
    zoom = widget.zoom_factor()
    qtbot.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.AltModifier)
    assert window.state.left_tool == "arrow"
    assert window.actions_built.actions["tool_arrow"].isChecked()
    qtbot.keyClick(widget, Qt.Key.Key_F, Qt.KeyboardModifier.AltModifier)
    assert window.state.left_tool == "polygon"
    assert window.actions_built.actions["tool_polygon"].isChecked()
    assert not window.actions_built.actions["tool_arrow"].isChecked()
    assert viewport.window_label == label
    assert widget.zoom_factor() == pytest.approx(zoom)
    # Without Alt, on the focused viewport: auto window and fit.
    qtbot.keyClick(widget, Qt.Key.Key_A)
    assert viewport.window_label == "auto"
    qtbot.keyClick(widget, Qt.Key.Key_F)
    assert widget.zoom_factor() != pytest.approx(zoom)
    assert window.state.left_tool == "polygon"


def test_the_first_up_arrow_scrolls_the_image(qtbot: QtBot, window: MainWindow) -> None:
    _focus(qtbot, window)
    assert QApplication.focusWidget() is not window.slab_spin
    viewport = window.state.active
    before = viewport.slice_index
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Up)
    assert viewport.slice_index == before - 1
    assert window.slab_spin.value() == 0.0
    assert viewport.slab_mm == 0.0


def test_the_keyboard_returns_to_the_viewport_after_dialogs(
    qtbot: QtBot, window: MainWindow
) -> None:
    """Whatever had it before (here the Slab field, clicked)."""

    def back_on_the_viewport() -> None:
        # The offscreen platform activates no window once a dialog closes: the
        # window's focus widget is the one that gets the keyboard when it is.
        assert window.focusWidget() is window.active_widget
        window.activateWindow()
        _focus(qtbot, window)

    _focus(qtbot, window)
    # Help (not modal).
    window.slab_spin.setFocus()
    qtbot.keyClick(window.slab_spin, Qt.Key.Key_F1)
    dialog = window._shortcuts_dialog
    qtbot.waitUntil(dialog.isVisible, timeout=5_000)
    dialog.close()
    back_on_the_viewport()

    # A text label's words (modal), answered and cancelled.
    def answer(text: str | None) -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QDialog):
            QTimer.singleShot(20, lambda: answer(text))
            return
        if text is None:
            box.reject()
        else:
            box.setTextValue(text)  # type: ignore[attr-defined]
            box.accept()

    for text in ("fracture", None):
        window.slab_spin.setFocus()
        QTimer.singleShot(0, lambda text=text: answer(text))
        assert window._ask_label_text() == text
        back_on_the_viewport()


def test_overlays_and_crosshair_keys_and_menu_agree(
    qtbot: QtBot, window: MainWindow
) -> None:
    _focus(qtbot, window)
    widget = window.active_widget

    def screen() -> QImage:
        widget.settle()
        return widget.grab().toImage()

    for key, action, flag in (
        (Qt.Key.Key_O, window.overlays_action, "show_overlays"),
        (Qt.Key.Key_X, window.crosshair_action, "show_crosshair"),
    ):
        if flag == "show_crosshair":
            window.toggle_mpr(True)
            widget = window.active_widget
            _focus(qtbot, window)
        shown = screen()
        qtbot.keyClick(widget, key)
        assert getattr(window.state, flag) is False
        assert getattr(widget, flag) is False
        assert not action.isChecked()
        hidden_by_key = screen()
        assert hidden_by_key != shown
        action.trigger()  # the menu entry
        assert getattr(window.state, flag) is True
        assert action.isChecked()
        assert screen() == shown
        action.trigger()
        assert not action.isChecked()
        assert screen() == hidden_by_key
        qtbot.keyClick(widget, key)
        assert action.isChecked()
        assert screen() == shown
