"""Issue 13 item 3 in the window: two chest radiograph studies (the corpus CR at
two dates) side by side are not linked by a claimed geometry (the comparison
says so, landmarks are refused), and "Same lesion as…" links a lesion across
them: the Response dock has one row over both time points."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtWidgets import QMessageBox

from imaging_viewer.core.workspace.comparison import RADIOGRAPHS_NOT_LINKED
from imaging_viewer.ui.main_window import MainWindow
from tests.conftest import window_settled
from tests.core.followup.test_radiographs_not_linked import (
    radiograph_lesion,
    radiograph_studies,
    sop_uid,
)

if TYPE_CHECKING:
    from pathlib import Path

    import pytest
    from pytestqt.qtbot import QtBot

    from imaging_viewer.ui.comparison_landmarks import LandmarkPicker
    from imaging_viewer.ui.dialogs.same_lesion_dialog import SameLesionDialog


def test_radiographs_side_by_side_linked_by_lesions_only(
    qtbot: QtBot, corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        QMessageBox, "question", lambda *_: QMessageBox.StandardButton.Yes
    )
    baseline_folder, later_folder = radiograph_studies(corpus, tmp_path)
    window = MainWindow(remember_settings=False)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    window.open_path(baseline_folder)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    window.opening.add_study(later_folder)
    qtbot.waitUntil(lambda: len(window.workspace.studies) == 2, timeout=60_000)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    baseline, follow_up = sorted(
        window.workspace.studies.values(), key=lambda s: s.date
    )
    window.show_series(follow_up.series[0].id, 0)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)

    said: list[str] = []
    window.statusBar().messageChanged.connect(said.append)
    window.actions_built.actions["comparison"].trigger()
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    qtbot.waitUntil(lambda: RADIOGRAPHS_NOT_LINKED in said, timeout=10_000)
    prior_view = window.state.viewports[1].series
    assert prior_view is not None
    assert prior_view.id == baseline.series[0].id
    assert window._comparison.registrations == {}  # type: ignore[attr-defined]

    window.actions_built.actions["comparison_landmarks"].trigger()
    picker: LandmarkPicker = window._landmark_picker  # type: ignore[attr-defined]
    picker.click(0, np.zeros(3))
    picker.click(1, np.zeros(3))
    assert window.statusBar().currentMessage() == (
        "Radiographs have no 3D geometry: link them by their lesions"
    )

    workspace = window.workspace
    workspace.annotations(baseline.uid).add_lesion(
        radiograph_lesion("L1 right lung", sop_uid(baseline_folder), 0.0, 30.0)
    )
    window.start_annotations()
    current = radiograph_lesion("new", sop_uid(later_folder), 0.0, 24.0)
    window.state.annotations.add_lesion(current)
    docks = window.build_docks()
    docks.response_dock.show()
    grid = docks.response_panel.grid
    qtbot.waitUntil(lambda: grid.rowCount() == 2, timeout=5_000)

    panel = window.lesions_panel
    panel.tree.setCurrentItem(panel.tree.topLevelItem(0))
    panel.same_lesion_button.click()
    dialog: SameLesionDialog = window._same_lesion_dialog  # type: ignore[attr-defined]
    assert [p.lesion.label for p in dialog.priors] == ["L1 right lung"]
    dialog.accept()
    qtbot.waitUntil(lambda: grid.rowCount() == 1, timeout=5_000)
    assert grid.verticalHeaderItem(0).text() == "L1 right lung"
    assert [grid.item(0, c).text() for c in range(2)] == [
        "30.0 mm",
        "24.0 mm (-20 %)",
    ]
