"""Start-up sweep (issue 18): what killed saves and exports left in the autosave
folder and the last export folder is removed once the window is up."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from PySide6.QtCore import QSettings

from imaging_viewer.ui.main_window import MainWindow

if TYPE_CHECKING:
    from collections.abc import Iterator

    from pytestqt.qtbot import QtBot


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


def test_leftovers_are_swept_once_the_window_is_up(
    qtbot: QtBot,
    settings_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    autosave = tmp_path / "data" / "imaging_viewer" / "annotations"
    autosave.mkdir(parents=True)
    exports = tmp_path / "exports"
    exports.mkdir()
    QSettings().setValue("export_folder", str(exports))
    stale_save = autosave / ".1.2.840.1.json.q8x_2kd0.tmp"
    stale_save.write_bytes(b"")
    staging = exports / ".case.abcd_123.staging"
    (staging / "dicom").mkdir(parents=True)
    own = autosave / "1.2.840.1.json"
    own.write_text("{}")
    old = time.time() - 3600
    for path in (stale_save, staging, own):
        os.utime(path, (old, old))

    window = MainWindow(remember_settings=True)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.docks_built, timeout=5_000)

    assert not stale_save.exists()
    assert not staging.exists()
    assert own.exists()
    window.close()


def test_nothing_is_swept_when_nothing_is_remembered(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    autosave = tmp_path / "data" / "imaging_viewer" / "annotations"
    autosave.mkdir(parents=True)
    stale = autosave / ".a.json.q8x_2kd0.tmp"
    stale.write_bytes(b"")
    old = time.time() - 3600
    os.utime(stale, (old, old))

    window = MainWindow(remember_settings=False)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.docks_built, timeout=5_000)

    assert stale.exists()
    window.close()
