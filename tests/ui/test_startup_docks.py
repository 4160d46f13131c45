"""Start-up: the docks follow the first image, with the same menus and settings."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from PySide6.QtCore import QSettings, Qt

from imaging_viewer.ui.main_window import MainWindow
from tests.conftest import window_settled

if TYPE_CHECKING:
    from collections.abc import Iterator

    from pytestqt.qtbot import QtBot

    from tests.conftest import MakeSeries


def _menu(window: MainWindow, title: str) -> list[str]:
    for action in window.menuBar().actions():
        if action.text() == title:
            menu = action.menu()
            assert menu is not None
            return [a.text() for a in menu.actions() if not a.isSeparator()]
    raise AssertionError(title)


@pytest.fixture
def settings_dir(tmp_path: Path) -> Iterator[Path]:
    """QSettings of the test in a folder of its own."""
    folder = tmp_path / "settings"
    folder.mkdir()
    user = QSettings.Scope.UserScope
    QSettings.setPath(QSettings.Format.NativeFormat, user, str(folder))
    yield folder
    default = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    QSettings.setPath(QSettings.Format.NativeFormat, user, default)


def test_docks_follow_the_first_look_with_their_menu_entries(
    qtbot: QtBot, make_series: MakeSeries
) -> None:
    """Docks are built once the first image is up; menus end up as before."""
    window = MainWindow(remember_settings=False)
    qtbot.addWidget(window)
    assert not window.docks_built
    window.show()
    window.open_path(make_series(shape=(20, 32, 32)).folder)
    qtbot.waitUntil(lambda: window.first_image_shown_at is not None, timeout=30_000)
    qtbot.waitUntil(lambda: window.docks_built, timeout=10_000)
    view = _menu(window, "&View")
    assert view[-3:] == ["Series", "Problems", "DICOM tags"]
    annotate = _menu(window, "A&nnotate")
    lesions = annotate.index("Lesions")
    assert annotate[lesions + 1] == "Export teaching case…"
    # Docks added to a shown window show on the next turn of events.
    qtbot.waitUntil(lambda: window.series_dock.isVisible(), timeout=5_000)
    assert not window.problems_dock.isVisible()  # empty: hidden (round 5)
    assert window.lesions_dock.isVisible()
    assert not window.tags_dock.isVisible()
    toggle = window.tags_dock.toggleViewAction()
    assert toggle.shortcut().toString() == "Ctrl+T"
    toggle.trigger()
    assert window.tags_dock.isVisible()
    toggle.trigger()
    assert not window.tags_dock.isVisible()
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    assert window.series_browser.isVisible()


def test_docks_are_built_when_first_needed(qtbot: QtBot) -> None:
    """Reaching for a dock before they are built builds them."""
    window = MainWindow(remember_settings=False)
    qtbot.addWidget(window)
    assert not window.docks_built
    assert window.problems_panel.count == 0
    assert window.docks_built
    assert window.series_dock.widget() is window.series_browser


def test_without_a_study_the_docks_come_at_once(qtbot: QtBot) -> None:
    """With nothing to open, the docks are built on the first turn of events."""
    window = MainWindow(remember_settings=False)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.docks_built, timeout=5_000)
    assert "DICOM tags" in _menu(window, "&View")


def test_saved_geometry_docks_and_layout_are_restored(
    qtbot: QtBot, settings_dir: Path
) -> None:
    """Geometry before showing; dock positions once the docks exist; layout."""
    first = MainWindow(remember_settings=True)
    qtbot.addWidget(first)
    first.resize(700, 500)  # within the offscreen screen
    first.show()
    qtbot.waitUntil(lambda: first.docks_built, timeout=5_000)
    first.tags_dock.show()
    first.problems_dock.hide()
    first.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, first.lesions_dock)
    first.set_layout("1x2")
    size = (first.width(), first.height())
    first.close()

    second = MainWindow(remember_settings=True)
    qtbot.addWidget(second)
    assert (second.width(), second.height()) == size
    assert second.state.layout == "1x2"
    second.show()
    qtbot.waitUntil(lambda: second.docks_built, timeout=5_000)
    qtbot.waitUntil(lambda: second.tags_dock.isVisible(), timeout=5_000)
    assert not second.problems_dock.isVisible()
    area = second.dockWidgetArea(second.lesions_dock)
    assert area == Qt.DockWidgetArea.LeftDockWidgetArea
    second.close()


def test_a_prefetched_first_look_is_shown(
    qtbot: QtBot, make_series: MakeSeries
) -> None:
    """The image read ahead (while Qt starts) is the one shown first."""
    from imaging_viewer.ui.first_look import prefetch

    folder = make_series(shape=(20, 32, 32)).folder
    prefetched = prefetch(folder)
    assert prefetched is not None
    assert prefetch(folder / "nothing-here") is None
    window = MainWindow(remember_settings=False)
    qtbot.addWidget(window)
    window.show()
    viewport = window.state.viewports[0]
    # The volume on screen when the first image is noted: a scan and load of
    # 20 small files can replace it before a poll would look.
    first_shown: list[object] = []
    note_first_image = window._note_first_image

    def noting() -> None:
        first_shown.append(viewport.volume)
        note_first_image()

    window._note_first_image = noting  # type: ignore[method-assign]
    window.open_path(folder, prefetched=prefetched)
    qtbot.waitUntil(lambda: bool(first_shown), timeout=30_000)
    assert prefetched.result.done()
    look = prefetched.result.result()
    assert look is not None
    assert first_shown[0] is look[1]
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    assert viewport.volume is not None
    assert viewport.volume.shape_kji[0] == 20


def test_hidden_viewports_are_made_when_a_layout_shows_them(
    qtbot: QtBot, make_series: MakeSeries
) -> None:
    """One viewport widget at start; 2×2 makes the rest, with the window's tool,
    crosshair and overlay settings; MPR shows its planes in them."""
    window = MainWindow(remember_settings=False)
    qtbot.addWidget(window)
    window.resize(900, 700)
    window.show()
    assert len(window.viewport_widgets) == 1
    window.set_left_tool("pan")
    window.overlays_action.trigger()
    window.crosshair_action.trigger()
    window.open_path(make_series(shape=(20, 32, 32)).folder)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    window.toggle_mpr(True)
    assert window.state.layout == "mpr"
    assert len(window.viewport_widgets) == 3
    for widget in window.viewport_widgets:
        assert widget.isVisible()
        assert widget.left_tool == "crosshair"
        assert not widget.show_overlays
        assert not widget.show_crosshair
        assert widget.displayed_pixels() is not None
    for index, widget in enumerate(window.viewport_widgets[1:], start=1):
        qtbot.waitUntil(lambda w=widget: w.image_item._image is not None)
        assert widget.state.orientation == ("axial", "coronal", "sagittal")[index]
    window.set_layout("2x2")
    assert len(window.viewport_widgets) == 4
    assert all(w.isVisible() for w in window.viewport_widgets)
    window.set_layout("1x1")
    assert [w.isVisible() for w in window.viewport_widgets] == [
        True,
        False,
        False,
        False,
    ]


def test_a_first_look_read_ahead_shows_at_once(
    qtbot: QtBot, make_series: MakeSeries
) -> None:
    """A read that has ended by the time the folder opens is shown there and then."""
    from imaging_viewer.ui.first_look import prefetch

    folder = make_series(shape=(20, 32, 32)).folder
    prefetched = prefetch(folder)
    assert prefetched is not None
    prefetched.result.result(timeout=30)
    window = MainWindow(remember_settings=False)
    qtbot.addWidget(window)
    window.show()
    window.open_path(folder, prefetched=prefetched)
    viewport = window.state.viewports[0]
    assert viewport.volume is not None
    assert viewport.volume.shape_kji[0] == 1
    assert window.first_image_shown_at is not None
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    assert viewport.volume is not None
    assert viewport.volume.shape_kji[0] == 20
    assert window.docks_built


def test_recent_studies_and_custom_presets_survive_a_restart(
    qtbot: QtBot,
    settings_dir: Path,
    make_series: MakeSeries,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from PySide6 import QtWidgets

    from imaging_viewer.core.volume import Window

    series = make_series(shape=(6, 16, 16))
    monkeypatch.chdir(series.folder.parent)
    first = MainWindow(remember_settings=True)
    qtbot.addWidget(first)
    first.show()
    first.open_path(Path(series.folder.name))  # relative to the working folder
    qtbot.waitUntil(lambda: window_settled(first), timeout=30_000)
    first.state.active.set_window(Window(center=123.0, width=456.0))
    monkeypatch.setattr(
        QtWidgets.QInputDialog, "getText", lambda *a, **k: ("My bone", True)
    )
    first.custom_presets.save_current()
    first.close()

    monkeypatch.chdir(settings_dir)  # elsewhere: the entry must still lead there
    second = MainWindow(remember_settings=True)
    qtbot.addWidget(second)
    recent = [action.text() for action in second.recent_menu.actions()]
    assert recent == [str(series.folder.absolute())]
    assert second.recent_studies.open_dialog_folder() == series.folder.parent.absolute()
    presets = second.custom_presets_menu.actions()
    assert [action.text() for action in presets] == ["My bone (456/123)"]
    second.show()
    second.recent_menu.actions()[0].trigger()
    qtbot.waitUntil(lambda: window_settled(second), timeout=30_000)
    assert second.state.active.series is not None
    presets[0].trigger()
    assert second.state.active.window == Window(123.0, 456.0, "My bone")
    assert second.state.active.window_label == "preset My bone"
    second.close()
