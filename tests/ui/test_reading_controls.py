"""Issue 15 items 9–10: the tool bar whole at 1366 px with its groups and
drop-downs, the image's context menu, tools on the mouse buttons, the
magnifier and the cine frame rate."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QToolButton

from imaging_viewer.core.dicom.load import load_volume
from imaging_viewer.core.dicom.scan import scan_folder
from imaging_viewer.core.render import CT_PRESETS
from imaging_viewer.core.viewer_state import ViewportState
from imaging_viewer.core.volume import Window
from imaging_viewer.ui.actions import ACTIONS
from imaging_viewer.ui.magnifier import LENS_SIZE_PX
from imaging_viewer.ui.main_window import MainWindow
from imaging_viewer.ui.mouse_bindings import ButtonTools
from imaging_viewer.ui.slice_viewport import SliceViewportWidget
from tests.conftest import window_settled

if TYPE_CHECKING:
    from pathlib import Path

    from pytestqt.qtbot import QtBot

    from tests.conftest import MakeSeries

RIGHT = Qt.MouseButton.RightButton
MIDDLE = Qt.MouseButton.MiddleButton
LEFT = Qt.MouseButton.LeftButton
NONE = Qt.MouseButton.NoButton
POPUP_WARNINGS = pytest.mark.qt_log_ignore(
    "does not support raise", "does not support grabbing"
)
"""What the offscreen platform says when a menu pops up."""


def _mouse(
    widget: SliceViewportWidget,
    kind: QMouseEvent.Type,
    at: QPointF,
    button: Qt.MouseButton,
    buttons: Qt.MouseButton,
) -> None:
    event = QMouseEvent(
        kind, at, widget.mapToGlobal(at), button, buttons, Qt.KeyboardModifier(0)
    )
    if kind == QMouseEvent.Type.MouseButtonPress:
        widget.mousePressEvent(event)
    elif kind == QMouseEvent.Type.MouseMove:
        widget.mouseMoveEvent(event)
    else:
        widget.mouseReleaseEvent(event)


def _click(widget: SliceViewportWidget, at: QPointF, button: Qt.MouseButton) -> None:
    _mouse(widget, QMouseEvent.Type.MouseButtonPress, at, button, button)
    _mouse(widget, QMouseEvent.Type.MouseButtonRelease, at, button, NONE)


def _drag(
    widget: SliceViewportWidget, start: QPointF, end: QPointF, button: Qt.MouseButton
) -> None:
    _mouse(widget, QMouseEvent.Type.MouseButtonPress, start, button, button)
    for f in (0.25, 0.5, 0.75, 1.0):
        point = start + (end - start) * f
        _mouse(widget, QMouseEvent.Type.MouseMove, point, NONE, button)
    _mouse(widget, QMouseEvent.Type.MouseButtonRelease, end, button, NONE)


@pytest.fixture(scope="module")
def ct(sample_data: Path) -> tuple[Any, Any]:
    series = scan_folder(sample_data / "CT").series[0]
    return series, load_volume(series)


@pytest.fixture
def viewport(qtbot: QtBot, ct: tuple[Any, Any]) -> SliceViewportWidget:
    state = ViewportState()
    widget = SliceViewportWidget(state)
    qtbot.addWidget(widget)
    widget.resize(600, 600)
    widget.show()
    qtbot.waitExposed(widget)
    state.show(*ct)
    widget.settle()
    return widget


@pytest.fixture
def window(qtbot: QtBot, make_series: MakeSeries) -> MainWindow:
    main = MainWindow(remember_settings=False)
    qtbot.addWidget(main)
    main.resize(1366, 768)
    main.show()
    main.open_path(make_series(shape=(12, 48, 48), modality="CT").folder)
    qtbot.waitUntil(lambda: window_settled(main), timeout=60_000)
    qtbot.waitUntil(lambda: main.docks_built, timeout=10_000)
    return main


# ---------------------------------------------------------------- tool bar
def test_every_toolbar_button_shows_at_1366_px(
    qtbot: QtBot, window: MainWindow
) -> None:
    assert window.width() == 1366
    qtbot.wait(50)  # icons applied with the docks: let the tool bars lay out
    for toolbar in window.actions_built.toolbars.values():
        extension = toolbar.findChild(QToolButton, "qt_toolbar_ext_button")
        assert extension is None or not extension.isVisible(), toolbar.windowTitle()
        inside = toolbar.rect()
        for action in toolbar.actions():
            if action.isSeparator() or not action.isVisible():
                continue
            widget = toolbar.widgetForAction(action)
            assert widget is not None, action.text()
            assert widget.isVisible(), action.text()
            assert inside.contains(widget.geometry()), action.text()


def test_toolbar_groups_and_tooltips_with_keys(window: MainWindow) -> None:
    built = window.actions_built
    annotate = built.toolbars["toolbar_annotate"].actions()
    # Annotation, measurement and edit tools, a separator between the groups.
    ruler, text = built.actions["tool_ruler"], built.actions["tool_text"]
    separators = [n for n, a in enumerate(annotate) if a.isSeparator()]
    assert annotate.index(text) < separators[0] < annotate.index(ruler)
    # Flips and rotation wait in a drop-down; the W/L presets are one.
    tools = built.toolbars["toolbar_tools"].actions()
    assert built.actions["flip_horizontal"] not in tools
    assert built.actions["toolbar_transform"] in tools
    assert built.actions["toolbar_presets"] in tools
    assert built.actions["rotate"] in built.submenus["toolbar_transform"].actions()
    assert built.actions["toolbar_transform"].toolTip() == "Flip and rotate (H, V, R)"
    for spec in ACTIONS:
        action = built.actions.get(spec.id)
        if spec.toolbar is None or action is None or not spec.shortcuts:
            continue
        if spec.toolbar in ("transform",):
            continue  # menu entries show their key beside the text
        assert spec.shortcuts[0] in action.toolTip(), spec.id


def test_presets_drop_down_offers_the_modality_presets(
    window: MainWindow, qtbot: QtBot
) -> None:
    menu = window.actions_built.submenus["toolbar_presets"]
    menu.aboutToShow.emit()
    texts = [a.text() for a in menu.actions()]
    assert sum(t.startswith("CT ") for t in texts) == len(CT_PRESETS)
    brain = next(a for a in menu.actions() if a.text().startswith("CT Brain"))
    brain.trigger()
    assert window.state.active.window == CT_PRESETS["Brain"]


def test_mr_presets_are_the_header_windows(
    qtbot: QtBot, make_series: MakeSeries
) -> None:
    main = MainWindow(remember_settings=False)
    qtbot.addWidget(main)
    main.show()
    folder = make_series(shape=(4, 16, 16), modality="MR", window=(300.0, 600.0))
    main.open_path(folder.folder)
    qtbot.waitUntil(lambda: window_settled(main), timeout=60_000)
    menu = main.actions_built.submenus["toolbar_presets"]
    menu.aboutToShow.emit()
    texts = [a.text() for a in menu.actions()]
    assert not any(t.startswith("CT ") for t in texts)
    header = [a for a in menu.actions() if a.text().startswith("Header:")]
    assert len(header) == 1
    main.state.active.apply_auto_window()
    header[0].trigger()
    window = main.state.active.window
    assert isinstance(window, Window)
    assert (window.center, window.width) == (300.0, 600.0)


# ---------------------------------------------------------------- context menu
def test_right_click_without_moving_opens_the_menu(
    viewport: SliceViewportWidget,
) -> None:
    opened: list[QPointF] = []
    viewport.mouse.on_context_menu = opened.append
    before = viewport.state.window
    _click(viewport, QPointF(300, 300), RIGHT)
    assert opened == [QPointF(300, 300)]
    assert viewport.state.window == before
    # A jitter under the slop is still a click.
    _drag(viewport, QPointF(300, 300), QPointF(301, 302), RIGHT)
    assert len(opened) == 2
    assert viewport.state.window == before


def test_right_drag_windows_and_opens_no_menu(viewport: SliceViewportWidget) -> None:
    opened: list[QPointF] = []
    viewport.mouse.on_context_menu = opened.append
    before = viewport.state.editable_window()
    assert before is not None
    _drag(viewport, QPointF(300, 300), QPointF(360, 340), RIGHT)
    assert opened == []
    after = viewport.state.window
    assert isinstance(after, Window)
    assert after.width > before.width
    assert after.center > before.center


@POPUP_WARNINGS
def test_the_window_menu_has_the_reading_entries(
    window: MainWindow, qtbot: QtBot
) -> None:
    widget = window.active_widget
    centre = QPointF(widget.width() / 2, widget.height() / 2)
    _click(widget, centre, RIGHT)
    menu = window.reading.context_menu
    assert menu is not None
    qtbot.waitUntil(menu.isVisible, timeout=5_000)
    texts = [a.text() for a in menu.actions()]
    for wanted in ("Tools", "Mouse buttons", "W/L presets", "Reset view"):
        assert wanted in texts
    assert any(t.startswith("Properties") for t in texts)
    copy = window.actions_built.actions["copy_view"]
    assert copy in menu.actions()
    placeholder = menu.findChild(object, "key_image_placeholder")  # type: ignore[arg-type]
    assert placeholder is None or not placeholder.isVisible()
    delete = next(a for a in menu.actions() if a.objectName() == "delete_annotation")
    assert not delete.isEnabled()  # nothing under the pointer
    menu.close()


@POPUP_WARNINGS
def test_delete_from_the_menu_removes_the_annotation_under_the_pointer(
    window: MainWindow, qtbot: QtBot
) -> None:
    widget = window.active_widget
    window.start_annotations()
    window.set_left_tool("ruler")
    start, end = QPointF(200, 200), QPointF(320, 260)
    _drag(widget, start, end, LEFT)
    annotations = window.state.annotations
    assert len(list(annotations.annotations())) == 1
    window.set_left_tool("window")
    _click(widget, start, RIGHT)
    menu = window.reading.context_menu
    assert menu is not None
    delete = next(a for a in menu.actions() if a.objectName() == "delete_annotation")
    assert delete.isEnabled()
    assert delete.text() == "Delete ruler"
    delete.trigger()
    assert list(annotations.annotations()) == []
    menu.close()


def test_reset_view_undoes_flips_rotation_and_window(
    window: MainWindow,
) -> None:
    from imaging_viewer.ui.image_context_menu import reset_view

    state = window.state.active
    header = state.window
    state.flip_horizontal = True
    state.rotation_quarters = 1
    state.apply_preset("Bone")
    reset_view(window.active_widget)
    assert (state.flip_horizontal, state.rotation_quarters) == (False, 0)
    assert state.window == header


# ---------------------------------------------------------------- mouse buttons
def test_buttons_default_to_window_on_right_and_pan_on_middle(
    viewport: SliceViewportWidget,
) -> None:
    assert viewport.mouse.mode_for(RIGHT) == "window"
    assert viewport.mouse.mode_for(MIDDLE) == "pan"
    assert viewport.mouse.mode_for(LEFT) == viewport.left_tool == "window"


def test_a_tool_given_to_the_right_button_drives_its_drag(
    viewport: SliceViewportWidget,
) -> None:
    viewport.mouse.buttons.assign("right", "zoom")
    before_window = viewport.state.window
    before = viewport.zoom_factor()
    assert before is not None
    _drag(viewport, QPointF(300, 300), QPointF(300, 200), RIGHT)
    after = viewport.zoom_factor()
    assert after is not None
    assert after > before * 1.5  # dragged up: zoomed in
    assert viewport.state.window == before_window


def test_button_tools_are_saved_in_the_settings(tmp_path: Path) -> None:
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    ButtonTools(settings).assign("middle", "magnifier")
    settings.sync()
    again = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    tools = ButtonTools(again)
    assert tools.tool("middle") == "magnifier"
    assert tools.tool("right") == "window"
    with pytest.raises(ValueError, match="ruler"):
        tools.assign("right", "ruler")


def test_the_view_menu_assigns_the_buttons(window: MainWindow) -> None:
    menu = window.actions_built.submenus["mouse_buttons"]
    menu.aboutToShow.emit()
    right = next(a.menu() for a in menu.actions() if a.text() == "Right button")
    pan = next(a for a in right.actions() if a.text() == "Pan")
    pan.trigger()
    assert window.reading.buttons.tool("right") == "pan"
    assert window.active_widget.mouse.mode_for(RIGHT) == "pan"


# ---------------------------------------------------------------- magnifier
def _windowed_grey(value: float, window: Window) -> float:
    """PS3.3 C.11.2.1.2.1 linear VOI function, 0–255 (independent of render.py)."""
    c, w = window.center, window.width
    y = ((value - (c - 0.5)) / (w - 1) + 0.5) * 255
    return float(np.clip(y, 0, 255))


def test_the_lens_shows_the_data_under_the_pointer_magnified(
    viewport: SliceViewportWidget, ct: tuple[Any, Any], qtbot: QtBot
) -> None:
    viewport.viewer.left_tool = "magnifier"
    state = viewport.state
    window = state.window
    assert isinstance(window, Window)
    pixels = state.pixels()
    assert pixels is not None
    at = QPointF(290.0, 310.0)
    column, row = viewport._pixel_of_lps(viewport.lps_at(at))  # type: ignore[arg-type,misc]
    column, row = round(column), round(row)
    _mouse(viewport, QMouseEvent.Type.MouseButtonPress, at, LEFT, LEFT)
    lens = viewport.mouse.lens
    assert lens.isVisible()
    centre = lens.pixels[LENS_SIZE_PX // 2, LENS_SIZE_PX // 2]
    grey = int(centre) & 0xFF
    expected = _windowed_grey(float(pixels[row, column]), window)
    assert abs(grey - expected) <= 1.5
    # The lens draws every image pixel over several screen pixels (2×).
    scale = viewport._widget_point(1, 0).x() - viewport._widget_point(0, 0).x()
    run = LENS_SIZE_PX / (2 * scale * lens.zoom)
    row_values = np.unique(lens.pixels[LENS_SIZE_PX // 2])
    assert len(row_values) <= run * 2 + 2
    # Moving reuses the same arrays; the wheel changes the zoom; release hides.
    buffer = lens.pixels
    _mouse(viewport, QMouseEvent.Type.MouseMove, at + QPointF(20, 0), NONE, LEFT)
    assert lens.pixels is buffer
    wheel = QWheelEvent(
        at,
        viewport.mapToGlobal(at),
        QPoint(0, 0),
        QPoint(0, 120),
        LEFT,
        Qt.KeyboardModifier(0),
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    slice_before = state.slice_index
    viewport.wheelEvent(wheel)
    assert lens.zoom == 3.0
    assert state.slice_index == slice_before  # the wheel zoomed, did not scroll
    _mouse(viewport, QMouseEvent.Type.MouseButtonRelease, at, LEFT, NONE)
    assert not lens.isVisible()


# ---------------------------------------------------------------- cine
def test_cine_plays_at_the_chosen_frame_rate(window: MainWindow) -> None:
    cine = window.reading.cine
    widget = window.active_widget
    assert cine.fps == 15
    assert widget._cine.interval() == round(1000 / 15)
    cine.set_fps(30)
    assert widget._cine.interval() == round(1000 / 30)
    cine.set_fps(200)
    assert cine.fps == 60
    assert widget._cine.interval() == round(1000 / 60)
    assert window.actions_built.actions["cine"].menu() is cine.menu
