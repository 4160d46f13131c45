"""Tests for ui/widgets/tag_browser.py: the tree, lazy items, search, copy, speed."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from imaging_viewer.core.dicom.tags import read_tag_tree
from imaging_viewer.ui.widgets.tag_browser import (
    COLUMNS,
    NAME_COLUMN,
    TAG_COLUMN,
    VALUE_COLUMN,
    VR_COLUMN,
    TagBrowserWidget,
)

if TYPE_CHECKING:
    from pathlib import Path

    from PySide6.QtWidgets import QTreeWidgetItem
    from pytestqt.qtbot import QtBot


# The offscreen platform warns when a shown window has size hints; harmless.
pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


def philips_enhanced(corpus: Path) -> Path:
    return corpus / "dcm_qa_enh" / "In" / "Philips" / "IM_0027_fMAP.dcm"


@pytest.fixture
def browser(qtbot: QtBot) -> TagBrowserWidget:
    widget = TagBrowserWidget()
    qtbot.addWidget(widget)
    widget.resize(800, 600)
    return widget


def show(
    qtbot: QtBot, browser: TagBrowserWidget, path: Path, frame: int | None = None
) -> None:
    with qtbot.waitSignal(browser.file_shown, timeout=20_000) as blocker:
        browser.show_file(path, frame)
    assert blocker.args == [str(path)]


def top_level(browser: TagBrowserWidget) -> list[QTreeWidgetItem]:
    tree = browser.tree
    return [tree.topLevelItem(n) for n in range(tree.topLevelItemCount())]


def all_items(browser: TagBrowserWidget) -> list[QTreeWidgetItem]:
    out: list[QTreeWidgetItem] = []

    def visit(item: QTreeWidgetItem) -> None:
        out.append(item)
        for n in range(item.childCount()):
            visit(item.child(n))

    for item in top_level(browser):
        visit(item)
    return out


def test_rows_show_every_top_level_element(
    qtbot: QtBot, browser: TagBrowserWidget, sample_data: Path
) -> None:
    path = sample_data / "CT" / "I10"
    show(qtbot, browser, path)
    ds = pydicom.dcmread(path)
    header = browser.tree.headerItem()
    assert [header.text(c) for c in range(len(COLUMNS))] == [
        "Tag",
        "Name",
        "VR",
        "Value",
    ]
    rows = top_level(browser)
    assert len(rows) == len(ds.file_meta) + len(ds)
    assert rows[0].text(TAG_COLUMN) == "(0002,0000)"
    name = browser.find_items("(0010,0010)")[0]
    assert name.text(NAME_COLUMN) == "Patient's Name"
    assert name.text(VR_COLUMN) == "PN"
    assert name.text(VALUE_COLUMN) == str(ds.PatientName)
    pixels = browser.find_items("(7FE0,0010)")[0]
    assert "524288 bytes" in pixels.text(VALUE_COLUMN)
    assert browser.current_path == str(path)
    assert "I10" in browser.status_label.text()


def test_sequences_fill_when_expanded(
    qtbot: QtBot, browser: TagBrowserWidget, corpus: Path
) -> None:
    show(qtbot, browser, philips_enhanced(corpus))
    per_frame = browser.find_items("(5200,9230)")[0]
    assert per_frame.text(VALUE_COLUMN) == "64 items"
    assert per_frame.childCount() == 0  # made only when asked for
    per_frame.setExpanded(True)
    assert per_frame.childCount() == 64
    assert per_frame.child(0).text(NAME_COLUMN) == "Item 1"
    # Private elements name their creator.
    cardiac = browser.find_items("(2001,1010)")[0]
    assert cardiac.text(NAME_COLUMN) == "[Cardiac Sync] (Philips Imaging DD 001)"


def test_frame_index_shows_that_frame(
    qtbot: QtBot, browser: TagBrowserWidget, corpus: Path
) -> None:
    path = philips_enhanced(corpus)
    show(qtbot, browser, path, 9)
    per_frame = browser.find_items("(5200,9230)")[0]
    per_frame.setExpanded(True)
    assert per_frame.childCount() == 1
    assert per_frame.child(0).text(NAME_COLUMN) == "Item 10"
    assert "frame 10 of 64" in per_frame.text(VALUE_COLUMN)
    assert "frame 10" in browser.status_label.text()


def test_search_keeps_matches_and_expands_their_ancestors(
    qtbot: QtBot, browser: TagBrowserWidget, corpus: Path
) -> None:
    path = philips_enhanced(corpus)
    show(qtbot, browser, path, 2)
    ds = pydicom.dcmread(path)
    browser.set_filter_text("imagepositionPATIENT")
    items = all_items(browser)
    matches = [i for i in items if i.text(NAME_COLUMN) == "Image Position (Patient)"]
    # The per-frame one and Philips' private copy of it.
    assert len(matches) == 2
    expected = ds.PerFrameFunctionalGroupsSequence[2].PlanePositionSequence[0]
    assert matches[0].text(VALUE_COLUMN) == "\\".join(
        str(v) for v in expected.ImagePositionPatient
    )
    for match in matches:
        parent = match.parent()
        while parent is not None:
            assert parent.isExpanded()
            parent = parent.parent()
    # Only matches and their ancestors are shown.
    assert not browser.find_items("(0010,0010)")
    leaves = [i for i in items if i.childCount() == 0]
    assert all("Image Position" in i.text(NAME_COLUMN) for i in leaves)

    # By tag (with or without punctuation), by value, by keyword.
    browser.set_filter_text("0020,0013")
    assert {i.text(TAG_COLUMN) for i in top_level(browser)} >= {"(0020,0013)"}
    browser.set_filter_text("00100020")
    assert [i.text(TAG_COLUMN) for i in top_level(browser)] == ["(0010,0020)"]
    browser.set_filter_text("vanderbilt")
    assert [i.text(TAG_COLUMN) for i in top_level(browser)] == ["(0008,0080)"]
    browser.set_filter_text("StationName")  # and PerformedStationName
    assert [i.text(VALUE_COLUMN) for i in top_level(browser)] == [ds.StationName, ""]
    browser.set_filter_text("no such text anywhere")
    assert browser.tree.topLevelItemCount() == 0

    browser.set_filter_text("")
    assert browser.tree.topLevelItemCount() == len(read_tag_tree(str(path), 2))


def test_typing_in_the_search_box_filters(
    qtbot: QtBot, browser: TagBrowserWidget, sample_data: Path
) -> None:
    show(qtbot, browser, sample_data / "CT" / "I10")
    qtbot.keyClicks(browser.search_edit, "window")
    qtbot.waitUntil(lambda: browser.tree.topLevelItemCount() == 2)
    assert [i.text(NAME_COLUMN) for i in top_level(browser)] == [
        "Window Center",
        "Window Width",
    ]
    # The filter stays on for the next file.
    show(qtbot, browser, sample_data / "CT" / "I20")
    assert browser.tree.topLevelItemCount() == 2


def test_ctrl_c_copies_the_value(
    qtbot: QtBot, browser: TagBrowserWidget, sample_data: Path
) -> None:
    path = sample_data / "CT" / "I10"
    show(qtbot, browser, path)
    browser.show()
    item = browser.find_items("(0020,000D)")[0]
    browser.tree.setCurrentItem(item)
    QGuiApplication.clipboard().clear()
    qtbot.keyClick(browser.tree, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == pydicom.dcmread(path).StudyInstanceUID
    # Several rows: one value per line; and not the note next to a UID's value.
    syntax = browser.find_items("(0002,0010)")[0]
    assert "Explicit VR Little Endian" in syntax.text(VALUE_COLUMN)
    item.setSelected(True)
    syntax.setSelected(True)
    assert browser.copy_selected_value() == (
        f"1.2.840.10008.1.2.1\n{pydicom.dcmread(path).StudyInstanceUID}"
    )


def test_expanded_rows_stay_expanded_from_file_to_file(
    qtbot: QtBot, browser: TagBrowserWidget, corpus: Path
) -> None:
    path = philips_enhanced(corpus)
    show(qtbot, browser, path, 0)
    per_frame = browser.find_items("(5200,9230)")[0]
    per_frame.setExpanded(True)
    per_frame.child(0).setExpanded(True)
    show(qtbot, browser, path, 1)
    per_frame = browser.find_items("(5200,9230)")[0]
    assert per_frame.isExpanded()
    assert per_frame.child(0).text(NAME_COLUMN) == "Item 2"
    assert per_frame.child(0).isExpanded()


def test_the_latest_request_wins(
    qtbot: QtBot, browser: TagBrowserWidget, sample_data: Path
) -> None:
    files = [sample_data / "CT" / f"I{n}" for n in range(10, 200, 10)]
    shown: list[str] = []
    browser.file_shown.connect(shown.append)
    for path in files:
        browser.show_file(path)
    qtbot.waitUntil(lambda: bool(shown) and shown[-1] == str(files[-1]), timeout=20_000)
    qtbot.wait(50)
    assert shown[-1] == str(files[-1])
    assert len(shown) < len(files)  # requests made while reading were dropped
    ds = pydicom.dcmread(files[-1])
    value = browser.find_items("(0008,0018)")[0].text(VALUE_COLUMN)
    assert value == ds.SOPInstanceUID
    # Back to a file read before: from the cache, at once.
    with qtbot.waitSignal(browser.file_shown, timeout=100):
        browser.show_file(files[-1])


def test_bad_file_shows_one_error_row(
    qtbot: QtBot, browser: TagBrowserWidget, sample_data: Path
) -> None:
    show(qtbot, browser, sample_data / "README.md")
    rows = top_level(browser)
    assert len(rows) == 1
    assert rows[0].text(NAME_COLUMN) == "Error"
    assert "not a DICOM file" in rows[0].text(VALUE_COLUMN)
    browser.clear()
    assert browser.tree.topLevelItemCount() == 0
    assert browser.current_path is None


def write_big_enhanced_header(path: Path, frames: int) -> int:
    """An enhanced-MR-like header with ``frames`` per-frame items; returns the
    number of elements (at every depth)."""
    ds = Dataset()
    ds.PatientName = "Big^Header"
    ds.Modality = "MR"
    ds.NumberOfFrames = frames
    items = []
    for n in range(frames):
        item = Dataset()
        position = Dataset()
        position.ImagePositionPatient = [0.0, 0.0, float(n)]
        content = Dataset()
        content.StackID = "1"
        content.InStackPositionNumber = n + 1
        content.DimensionIndexValues = [1, n + 1]
        voi = Dataset()
        voi.WindowCenter = "40"
        voi.WindowWidth = "400"
        item.PlanePositionSequence = Sequence([position])
        item.FrameContentSequence = Sequence([content])
        item.FrameVOILUTSequence = Sequence([voi])
        items.append(item)
    ds.PerFrameFunctionalGroupsSequence = Sequence(items)
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.4.1"
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    pydicom.dcmwrite(path, ds, enforce_file_format=True)
    count: list[int] = []
    ds.walk(lambda _, elem: count.append(1))
    return len(count)


def test_a_10000_element_header_is_fast(
    qtbot: QtBot, browser: TagBrowserWidget, tmp_path: Path
) -> None:
    path = tmp_path / "big.dcm"
    elements = write_big_enhanced_header(path, 1500)
    assert elements > 10_000
    browser.show()
    start = time.perf_counter()
    show(qtbot, browser, path)
    shown_after = time.perf_counter() - start
    assert shown_after < 5.0
    meta = len(pydicom.dcmread(path, stop_before_pixels=True).file_meta)
    assert f"{elements + meta} elements" in browser.status_label.text()

    start = time.perf_counter()
    per_frame = browser.find_items("(5200,9230)")[0]
    per_frame.setExpanded(True)
    qtbot.wait(1)
    assert per_frame.childCount() == 1500
    assert time.perf_counter() - start < 1.0

    start = time.perf_counter()
    browser.set_filter_text("window")
    assert time.perf_counter() - start < 2.0
    assert "rows" in browser.status_label.text()
    assert all(
        "Window" in i.text(NAME_COLUMN)
        for i in all_items(browser)
        if i.childCount() == 0
    )
