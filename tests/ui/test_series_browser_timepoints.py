"""The series browser by time point: a patient's studies newest first, each
with its date and time point label (renamed in place, kept in the study's
annotation file); series rows readable at the dock's default width."""

from __future__ import annotations

import json
import shutil
from typing import TYPE_CHECKING

import pydicom
import pytest
from pydicom.uid import generate_uid
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QStyleOptionViewItem

from imaging_viewer.ui.main_window import MainWindow
from imaging_viewer.ui.widgets.series_browser import (
    DETAILS_ROLE,
    STUDY_UID_ROLE,
    TIME_ROLE,
    TIMEPOINT_ROLE,
)
from tests.conftest import window_settled

if TYPE_CHECKING:
    from pathlib import Path

    from pytestqt.qtbot import QtBot

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")

LATER = ("20150806", "20160210")


@pytest.fixture(scope="module")
def follow_up(sample_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample CT (2015-02-06) and two later copies as studies of the same
    patient, written with pydicom."""
    root = tmp_path_factory.mktemp("follow_up")
    shutil.copytree(sample_data / "CT", root / "base")
    for date in LATER:
        folder = root / date
        folder.mkdir()
        study, series = generate_uid(), generate_uid()
        for path in sorted((sample_data / "CT").iterdir()):
            if path.name.startswith("I"):
                ds = pydicom.dcmread(path)
                ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
                ds.SOPInstanceUID = generate_uid()
                ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
                ds.StudyDate = ds.SeriesDate = date
                ds.save_as(folder / path.name)
    return root


@pytest.fixture
def window(qtbot: QtBot, follow_up: Path, tmp_path: Path) -> MainWindow:
    main = MainWindow(remember_settings=False)
    qtbot.addWidget(main)
    main.workspace._sidecar = lambda uid: tmp_path / f"{uid}.json"
    main.workspace._autosave = True
    main.resize(1366, 768)
    main.show()
    main.open_path(follow_up)
    qtbot.waitUntil(lambda: window_settled(main), timeout=60_000)
    return main


def _study_rows(window: MainWindow) -> list[tuple[str, str, str]]:
    model = window.series_browser.model
    patient = model.index(0, 0)
    rows = []
    for row in range(model.rowCount(patient)):
        index = model.index(row, 0, patient)
        rows.append(
            (index.data(), index.data(TIMEPOINT_ROLE), index.data(STUDY_UID_ROLE))
        )
    return rows


def test_studies_newest_first_with_timepoint_labels(
    window: MainWindow, follow_up: Path
) -> None:
    rows = _study_rows(window)
    assert [label for _, label, _ in rows] == ["follow-up 2", "follow-up 1", "baseline"]
    first = pydicom.dcmread(follow_up / "base" / "I10", stop_before_pixels=True)
    dates = ["2016-02-10", "2015-08-06", first.StudyDate[:4] + "-02-06"]
    for (text, label, _), date in zip(rows, dates, strict=True):
        assert text.startswith(f"{date} · {label} · ")


def test_series_rows_readable_at_the_default_width(
    window: MainWindow, follow_up: Path
) -> None:
    browser = window.series_browser
    assert browser.width() < 480  # the dock's default width
    assert browser.compact
    ds = pydicom.dcmread(follow_up / "base" / "I10", stop_before_pixels=True)
    series_id = next(
        s.id
        for s in window.scan_result.series  # type: ignore[union-attr]
        if s.study_uid == ds.StudyInstanceUID
    )
    index = browser.series_index(series_id)
    assert index.data(DETAILS_ROLE) == (
        f"{ds.Modality} · No. {ds.SeriesNumber} · 28 images"
    )
    date_cell = index.siblingAtColumn(4)
    assert date_cell.data(TIME_ROLE) == f"{ds.SeriesTime[:2]}:{ds.SeriesTime[2:4]}"
    tooltip = index.data(Qt.ItemDataRole.ToolTipRole)
    assert ds.SeriesDescription in tooltip
    assert "Accession number" in tooltip
    # What is drawn: the description with modality, number and count under it,
    # and the time under the date; the description column is wide enough to read.
    option = QStyleOptionViewItem()
    delegate = browser.tree_view.itemDelegate()
    delegate.initStyleOption(option, index)
    assert option.text.split("\u2028") == [
        ds.SeriesDescription,
        index.data(DETAILS_ROLE),
    ]
    assert browser.tree_view.columnWidth(0) >= 150
    metrics = browser.tree_view.fontMetrics()
    rect = browser.tree_view.visualRect(index)
    assert metrics.horizontalAdvance(ds.SeriesDescription) < rect.width() - 64


def test_rename_timepoint_in_place_is_kept(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    browser = window.series_browser
    _, _, uid = _study_rows(window)[1]
    assert browser.rename_timepoint(uid)
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit)
    assert editor.text() == "follow-up 1"
    editor.setText("after cycle 2")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: _study_rows(window)[1][1] == "after cycle 2")
    assert window.workspace.studies[uid].timepoint == "after cycle 2"
    document = json.loads((tmp_path / f"{uid}.json").read_text(encoding="utf-8"))
    assert document["timepoint"] == "after cycle 2"
    assert _study_rows(window)[1][0].startswith("2015-08-06 · after cycle 2 · ")
