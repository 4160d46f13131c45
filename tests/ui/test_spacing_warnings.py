"""Round 5: after calibrating a radiograph without spacing, the Problems panel
no longer says "measurements are in pixels": its warning says the image is
calibrated, live, and says what it found again when the calibration goes."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

import pytest

from imaging_viewer.core.annotations.calibration import Calibration
from imaging_viewer.ui.annotation_overlay import image_ref_of
from imaging_viewer.ui.main_window import MainWindow
from imaging_viewer.ui.widgets.problems_panel import MESSAGE_COLUMN
from tests.conftest import window_settled

if TYPE_CHECKING:
    from pathlib import Path

    from pytestqt.qtbot import QtBot

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")

CR_WITHOUT_SPACING = "gdcm-CR-MONO1-10-chest.dcm"
FOUND = "no pixel spacing in the header: measurements are in pixels"


def _messages(window: MainWindow) -> list[str]:
    tree = window.problems_panel.tree
    return [
        item.text(MESSAGE_COLUMN)
        for n in range(tree.topLevelItemCount())
        if (item := tree.topLevelItem(n)) is not None
    ]


def test_calibrating_restates_the_no_spacing_warning(
    qtbot: QtBot, sample_data: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "xr"
    folder.mkdir()
    shutil.copy(sample_data / "XR" / CR_WITHOUT_SPACING, folder)
    window = MainWindow(remember_settings=False)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    window.open_path(folder)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    assert FOUND in _messages(window)
    assert window.problems_dock.isVisible()  # a warning: shown

    ref = image_ref_of(window.state.active)
    annotations = window.state.annotations
    annotations.set_calibration(
        Calibration(ref.sop_instance_uid, (0.0, 0.0, 0.0), (100.0, 0.0, 0.0), 25.0)
    )
    messages = _messages(window)
    assert FOUND not in messages
    assert any("calibrated" in m and "25 mm" in m for m in messages), messages
    assert not any("in pixels" in m for m in messages)

    annotations.remove_calibration(ref.sop_instance_uid)
    assert FOUND in _messages(window)
