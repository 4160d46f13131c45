"""Tests for ui/widgets/problems_panel.py: rows from a scan, filter, activation."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest
from PySide6.QtCore import Qt

from imaging_viewer.core.dicom.scan import ScanResult, scan_folder
from imaging_viewer.ui.widgets.problems_panel import (
    MESSAGE_COLUMN,
    SEVERITY_COLUMN,
    WHERE_COLUMN,
    ProblemsPanelWidget,
    series_label,
)

if TYPE_CHECKING:
    from pathlib import Path

    from PySide6.QtCore import QPoint
    from PySide6.QtWidgets import QTreeWidgetItem, QWidget
    from pytestqt.qtbot import QtBot

# The offscreen platform warns when a shown window has size hints; harmless.
pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


@pytest.fixture(scope="module")
def ct_scan(corpus: Path) -> ScanResult:
    """Gantry tilt, uneven spacing, dose reports, DICOMDIRs: every kind of problem."""
    return scan_folder(corpus / "dcm_qa_ct")


@pytest.fixture
def panel(qtbot: QtBot) -> ProblemsPanelWidget:
    widget = ProblemsPanelWidget()
    qtbot.addWidget(widget)
    widget.resize(900, 400)
    return widget


def rows(panel: ProblemsPanelWidget) -> list[QTreeWidgetItem]:
    tree = panel.tree
    return [tree.topLevelItem(n) for n in range(tree.topLevelItemCount())]


def texts(item: QTreeWidgetItem) -> tuple[str, str, str]:
    return (
        item.text(SEVERITY_COLUMN),
        item.text(WHERE_COLUMN),
        item.text(MESSAGE_COLUMN),
    )


def double_click(qtbot: QtBot, widget: QWidget, pos: QPoint) -> None:
    """Press, release, double-click: a real double click (QTest sends only the last)."""
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=pos)
    qtbot.mouseDClick(widget, Qt.MouseButton.LeftButton, pos=pos)


def test_rows_from_a_scan(panel: ProblemsPanelWidget, ct_scan: ScanResult) -> None:
    panel.set_scan_result(ct_scan)
    series_warnings = [(s, w) for s in ct_scan.series for w in s.warnings]
    assert series_warnings, "the tilted CTs warn"
    assert ct_scan.skipped, "README, JSON and DICOMDIR files are skipped"
    expected = (
        [("Warning", w) for w in ct_scan.warnings]
        + [("Warning", w) for _, w in series_warnings]
        + [("Skipped", s.reason) for s in ct_scan.skipped]
    )
    shown = [texts(item) for item in rows(panel)]
    assert [(severity, message) for severity, _, message in shown] == expected
    n = len(ct_scan.warnings)
    for (series, _), item in zip(series_warnings, rows(panel)[n:], strict=False):
        assert item.text(WHERE_COLUMN) == series_label(series)
        assert item.text(WHERE_COLUMN).startswith(f"Series {series.series_number} · ")
    skipped_rows = rows(panel)[n + len(series_warnings) :]
    for skipped, item in zip(ct_scan.skipped, skipped_rows, strict=True):
        assert item.text(WHERE_COLUMN) == os.path.relpath(skipped.path, ct_scan.root)
        assert skipped.path in item.toolTip(WHERE_COLUMN)

    warnings = len(ct_scan.warnings) + len(series_warnings)
    assert panel.count == len(expected)
    assert panel.counts() == {
        "error": 0,
        "warning": warnings,
        "skipped": len(ct_scan.skipped),
    }
    title = panel.title_label.text()
    assert title.startswith(f"{len(expected)} problems")
    assert f"{warnings} warnings" in title
    assert f"{len(ct_scan.skipped)} skipped" in title
    assert panel.title() == f"Problems ({len(expected)})"


def test_filter_all_warnings_skipped(
    qtbot: QtBot, panel: ProblemsPanelWidget, ct_scan: ScanResult
) -> None:
    panel.set_scan_result(ct_scan)
    counts = panel.counts()
    panel.set_filter("skipped")
    panel.set_scan_result(ct_scan)  # a new scan keeps the filter
    assert {i.text(SEVERITY_COLUMN) for i in panel.visible_items()} == {"Skipped"}
    assert len(panel.visible_items()) == counts["skipped"]
    assert f"(showing {counts['skipped']})" in panel.title_label.text()
    # Through the combo box, as the user does it.
    panel.filter_combo.setCurrentIndex(panel.filter_combo.findText("Warnings"))
    assert {i.text(SEVERITY_COLUMN) for i in panel.visible_items()} == {"Warning"}
    assert len(panel.visible_items()) == counts["warning"]
    # New problems respect the filter.
    panel.add_problem("error", "Loading series 1.2.3", "cannot decode pixel data")
    assert len(panel.visible_items()) == counts["warning"]
    panel.set_filter("all")
    assert len(panel.visible_items()) == panel.count == sum(counts.values()) + 1
    with pytest.raises(ValueError, match="unknown filter"):
        panel.set_filter("info")


def test_add_problem(panel: ProblemsPanelWidget, ct_scan: ScanResult) -> None:
    panel.set_scan_result(ct_scan)
    before = panel.count
    counts: list[int] = []
    panel.count_changed.connect(counts.append)
    panel.add_problem("error", "Scanning In", "Permission denied")
    # Errors come first, then warnings, then skipped files.
    assert texts(rows(panel)[0]) == ("Error", "Scanning In", "Permission denied")
    assert counts == [before + 1]
    panel.add_problem("error", "Scanning In", "Permission denied")  # a repeat
    assert panel.count == before + 1
    series = ct_scan.series[0]
    panel.add_problem("warning", series.id, "2 files failed to decode")
    item = next(i for i in rows(panel) if i.text(MESSAGE_COLUMN).startswith("2 files"))
    assert item.text(WHERE_COLUMN) == series_label(series)
    assert rows(panel).index(item) < panel.counts()["error"] + panel.counts()["warning"]
    panel.add_problem("Skipped", "/nowhere/x.dcm", "not a DICOM file")
    assert texts(rows(panel)[-1]) == ("Skipped", "/nowhere/x.dcm", "not a DICOM file")
    with pytest.raises(ValueError, match="severity"):
        panel.add_problem("info", "x", "y")
    panel.clear()
    assert panel.count == 0
    assert panel.title_label.text() == "No problems"


def test_double_click_on_a_series_warning_activates_it(
    qtbot: QtBot, panel: ProblemsPanelWidget, ct_scan: ScanResult
) -> None:
    panel.set_scan_result(ct_scan)
    panel.set_filter("warning")
    panel.show()
    qtbot.waitExposed(panel)
    series = next(s for s in ct_scan.series if s.warnings)
    item = next(
        i for i in panel.visible_items() if i.text(MESSAGE_COLUMN) == series.warnings[0]
    )
    rect = panel.tree.visualItemRect(item)
    with qtbot.waitSignal(panel.series_activated) as blocker:
        double_click(qtbot, panel.tree.viewport(), rect.center())
    assert blocker.args == [series.id]
    # Enter does the same.
    panel.tree.setCurrentItem(item)
    with qtbot.waitSignal(panel.series_activated) as blocker:
        qtbot.keyClick(panel.tree, Qt.Key.Key_Return)
    assert blocker.args == [series.id]


def test_double_click_on_a_skipped_file_names_the_file(
    qtbot: QtBot, panel: ProblemsPanelWidget, ct_scan: ScanResult
) -> None:
    panel.set_scan_result(ct_scan)
    panel.set_filter("skipped")
    panel.show()
    qtbot.waitExposed(panel)
    item = panel.visible_items()[0]
    activated: list[str] = []
    panel.series_activated.connect(activated.append)
    with qtbot.waitSignal(panel.file_activated) as blocker:
        double_click(
            qtbot, panel.tree.viewport(), panel.tree.visualItemRect(item).center()
        )
    assert blocker.args == [ct_scan.skipped[0].path]
    assert activated == []


def test_sample_data_and_empty(panel: ProblemsPanelWidget, sample_data: Path) -> None:
    result = scan_folder(sample_data)
    panel.set_scan_result(result)
    assert panel.counts()["skipped"] == len(result.skipped)
    assert all(i.text(SEVERITY_COLUMN) for i in rows(panel))
    panel.set_scan_result(None)
    assert panel.count == 0
    assert panel.tree.topLevelItemCount() == 0
