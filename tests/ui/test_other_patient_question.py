"""File → Add study… asks before adding a study of another patient."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from PySide6.QtWidgets import QMessageBox

from imaging_viewer.ui.main_window import MainWindow
from tests.conftest import window_settled

if TYPE_CHECKING:
    from pathlib import Path

    from pytestqt.qtbot import QtBot


@pytest.mark.parametrize(
    "answer", [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]
)
def test_adding_another_patient_asks_with_both_names(
    qtbot: QtBot,
    sample_data: Path,
    monkeypatch: pytest.MonkeyPatch,
    answer: QMessageBox.StandardButton,
) -> None:
    asked: list[tuple[Any, ...]] = []

    def question(*args: Any) -> QMessageBox.StandardButton:
        asked.append(args)
        return answer

    monkeypatch.setattr(QMessageBox, "question", question)
    window = MainWindow(remember_settings=False)
    qtbot.addWidget(window)
    window.show()
    window.open_path(sample_data / "CT")
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    (ct_patient,) = window.workspace.patients
    window.opening.add_study(sample_data / "MR")
    qtbot.waitUntil(lambda: bool(asked), timeout=60_000)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    (_, title, text, *_) = asked[0]
    assert "another patient" in title
    assert f"ID {ct_patient[0]}" in text  # the open patient, by ID
    assert text.count("(ID ") == 2  # and the one to add
    expected = 2 if answer == QMessageBox.StandardButton.Yes else 1
    assert len(window.workspace.studies) == expected
    assert len(window.series_browser.series_ids()) == (
        len(window.scan_result.series) if window.scan_result else 0
    )
