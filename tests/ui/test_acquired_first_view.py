"""Acquired images first in the window (issue 15 item 5), on four real CT slices
45 mm apart (``dcm_qa_ct/.../S21570/S2010``, 5 mm thick): the series opens on its
acquired images, MPR comes only when asked for, with the gap warning."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

from imaging_viewer.ui.main_window import MainWindow
from tests.conftest import window_settled
from tests.core.dicom.test_acquired_first import sorted_files

if TYPE_CHECKING:
    from pathlib import Path

    from pytestqt.qtbot import QtBot


def test_a_sparse_ct_opens_acquired_and_warns_in_mpr(
    qtbot: QtBot, tmp_path: Path
) -> None:
    files = sorted_files()
    for k in (0, 9, 18, 27):
        shutil.copy(files[k], tmp_path / files[k].name)
    window = MainWindow(remember_settings=False)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    window.open_path(tmp_path)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    viewport = window.state.viewports[0]
    assert viewport.orientation == "acquired"
    assert viewport.n_slices == 4
    window.toggle_mpr(True)
    assert window.state.layout == "mpr"
    message = window.statusBar().currentMessage()
    assert "interpolated across the gaps" in message
    assert "45 mm apart" in message
