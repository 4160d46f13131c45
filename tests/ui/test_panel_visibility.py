"""Issue 15 item 11: the Problems panel hides itself when it holds only files
that are not DICOM (one summary line, a status-bar badge opens it) and shows
itself for errors and warnings; the tag browser opens wide enough to read."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

import pytest
from PySide6.QtWidgets import QToolButton

from imaging_viewer.ui.main_window import MainWindow
from imaging_viewer.ui.panel_visibility import TAGS_WIDTH_FRACTION
from tests.conftest import window_settled

if TYPE_CHECKING:
    from pathlib import Path

    from pytestqt.qtbot import QtBot

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


@pytest.fixture
def window(qtbot: QtBot) -> MainWindow:
    main = MainWindow(remember_settings=False)
    qtbot.addWidget(main)
    main.resize(1366, 768)
    main.show()
    return main


def test_only_files_that_are_not_dicom_hide_the_panel_behind_a_badge(
    window: MainWindow, qtbot: QtBot, sample_data: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "study"
    shutil.copytree(sample_data / "CT", folder / "CT")
    for name in ("notes.txt", "index.html", "checksums.md5", "a.csv", "b.json"):
        (folder / name).write_text("not an image\n", encoding="utf-8")
    window.open_path(folder)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    panel, dock = window.problems_panel, window.problems_dock
    assert panel.count == 5
    assert panel.only_not_dicom
    assert panel.summary() == "5 files are not DICOM"
    qtbot.waitUntil(lambda: not dock.isVisible(), timeout=5_000)
    badge = window.findChild(QToolButton, "problemsBadge")
    assert badge is not None
    assert badge.isVisible()
    assert badge.text().endswith("5")
    assert "5 files are not DICOM" in badge.toolTip()
    badge.click()
    qtbot.waitUntil(dock.isVisible, timeout=5_000)

    # A warning brings the panel back by itself.
    dock.hide()
    panel.add_problem("warning", "somewhere", "something to look at")
    qtbot.waitUntil(dock.isVisible, timeout=5_000)
    assert not panel.only_not_dicom
    assert badge.property("severity") == "warning"
    assert not badge.icon().isNull()


def test_the_tag_browser_opens_wide_enough_to_read_values(
    window: MainWindow, qtbot: QtBot, sample_data: Path
) -> None:
    window.open_path(sample_data / "CT")
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    window.tags_dock.show()
    qtbot.waitUntil(window.tags_dock.isVisible, timeout=5_000)
    qtbot.waitUntil(
        lambda: window.tags_dock.width() >= TAGS_WIDTH_FRACTION * window.width() - 8,
        timeout=5_000,
    )
    # Tag, name and VR columns leave the value column room for a UID.
    browser = window.tag_browser
    qtbot.waitUntil(lambda: bool(browser.nodes), timeout=10_000)
    value_width = browser.width() - sum(browser.tree.columnWidth(c) for c in range(3))
    assert value_width >= 180


def test_an_empty_problems_panel_takes_no_room_until_a_warning(
    window: MainWindow, qtbot: QtBot, sample_data: Path
) -> None:
    """Round 5 (1366×768): the empty Problems dock took ~170 px of the images'
    height; it hides when empty, shows for a warning, the badge opens it."""
    window.open_path(sample_data / "CT")
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    panel, dock = window.problems_panel, window.problems_dock
    assert panel.count == 0
    qtbot.waitUntil(lambda: not dock.isVisible(), timeout=5_000)
    panel.add_problem("warning", "CT", "something to look at")
    qtbot.waitUntil(dock.isVisible, timeout=5_000)
    dock.hide()
    badge = window.findChild(QToolButton, "problemsBadge")
    assert badge is not None
    assert badge.isVisible()
    badge.click()
    qtbot.waitUntil(dock.isVisible, timeout=5_000)
    # Opening a study again clears the panel, and the empty panel hides.
    window.open_path(sample_data / "CT")
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    qtbot.waitUntil(lambda: not dock.isVisible(), timeout=5_000)
