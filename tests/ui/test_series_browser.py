"""Tests for ui/widgets/series_browser.py: tree, thumbnails, activation, drag."""

from __future__ import annotations

import shutil
import time
from typing import TYPE_CHECKING

import numpy as np
import pydicom
import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QImage

from imaging_viewer.core.dicom.load import load_volume
from imaging_viewer.core.dicom.scan import ScanResult, scan_folder
from imaging_viewer.ui.widgets.series_browser import (
    COLUMNS,
    KIND_ROLE,
    MIME_TYPE,
    SERIES_ID_ROLE,
    THUMBNAIL_PX,
    SeriesBrowserWidget,
    format_dicom_date,
    middle_frame_series,
    render_thumbnail,
)

if TYPE_CHECKING:
    from pathlib import Path

    from PySide6.QtCore import QPoint
    from PySide6.QtWidgets import QWidget
    from pytestqt.qtbot import QtBot

    from tests.conftest import MakeSeries

# The offscreen platform warns when a shown window has size hints; harmless.
pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")

MODALITY, NUMBER, IMAGES, DATE = 1, 2, 3, 4


@pytest.fixture(scope="module")
def sample_scan(sample_data: Path) -> ScanResult:
    return scan_folder(sample_data)


@pytest.fixture
def browser(qtbot: QtBot) -> SeriesBrowserWidget:
    widget = SeriesBrowserWidget()
    qtbot.addWidget(widget)
    widget.resize(640, 720)
    return widget


def wait_for_thumbnails(qtbot: QtBot, browser: SeriesBrowserWidget) -> None:
    qtbot.waitUntil(
        lambda: all(
            browser.thumbnail_state(i) != "pending" for i in browser.series_ids()
        ),
        timeout=60_000,
    )


def cell(browser: SeriesBrowserWidget, series_id: str, column: int) -> str:
    index = browser.series_index(series_id)
    return str(index.siblingAtColumn(column).data())


def test_tree_is_patient_study_series(
    browser: SeriesBrowserWidget, sample_scan: ScanResult
) -> None:
    browser.set_scan_result(sample_scan)
    model = browser.model
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(5)] == list(
        COLUMNS
    )
    patients = sample_scan.patients
    assert model.rowCount() == len(patients)
    for p, patient in enumerate(patients):
        patient_index = model.index(p, 0)
        assert patient_index.data(KIND_ROLE) == "patient"
        assert model.rowCount(patient_index) == len(patient.studies)
        for s, study in enumerate(patient.studies):
            study_index = model.index(s, 0, patient_index)
            assert study_index.data(KIND_ROLE) == "study"
            assert model.rowCount(study_index) == len(study.series)
            for n, series in enumerate(study.series):
                index = model.index(n, 0, study_index)
                assert index.data(SERIES_ID_ROLE) == series.id
                assert index.data(KIND_ROLE) == "series"
    assert browser.series_ids() == [s.id for s in sample_scan.series]
    assert browser.summary_label.text().startswith(f"{len(sample_scan.series)} series")


def test_series_rows_show_modality_number_description_date_images(
    browser: SeriesBrowserWidget, sample_scan: ScanResult, sample_data: Path
) -> None:
    browser.set_scan_result(sample_scan)
    ct = next(s for s in sample_scan.series if s.modality == "CT")
    first = pydicom.dcmread(sample_data / "CT" / "I10", stop_before_pixels=True)
    assert cell(browser, ct.id, 0) == first.SeriesDescription
    assert cell(browser, ct.id, MODALITY) == "CT"
    assert cell(browser, ct.id, NUMBER) == str(first.SeriesNumber)
    assert cell(browser, ct.id, IMAGES) == "28"
    assert cell(browser, ct.id, DATE) == format_dicom_date(first.SeriesDate)
    assert format_dicom_date(first.SeriesDate)[4] == "-"
    mr = next(s for s in sample_scan.series if s.modality == "MR")
    slices, times = len(mr.frames[0]), mr.n_time_points
    expected = f"{slices * times} ({slices}×{times})" if times > 1 else str(slices)
    assert cell(browser, mr.id, IMAGES) == expected
    patient = browser.model.index(0, 0)
    assert patient.data()  # a name, or "(no name)"


def test_thumbnails_appear_in_the_background(
    qtbot: QtBot, browser: SeriesBrowserWidget, sample_scan: ScanResult
) -> None:
    start = time.perf_counter()
    browser.set_scan_result(sample_scan)
    assert time.perf_counter() - start < 0.5  # the tree does not wait for pixels
    states = {browser.thumbnail_state(i) for i in browser.series_ids()}
    assert states <= {"pending", "ready"}
    wait_for_thumbnails(qtbot, browser)
    for series_id in browser.series_ids():
        assert browser.thumbnail_state(series_id) == "ready"
        icon = browser.series_index(series_id).data(Qt.ItemDataRole.DecorationRole)
        image = icon.pixmap(THUMBNAIL_PX, THUMBNAIL_PX).toImage()
        assert image.width() == THUMBNAIL_PX
        assert image.height() == THUMBNAIL_PX


def test_thumbnails_wait_while_a_shown_series_loads(
    qtbot: QtBot, browser: SeriesBrowserWidget, sample_scan: ScanResult
) -> None:
    # The window clears thumbnails_go while the series it shows load: no
    # thumbnail is drawn then, and all of them are once it is set again.
    browser.thumbnails_go.clear()
    browser.set_scan_result(sample_scan)
    qtbot.wait(400)
    assert {browser.thumbnail_state(i) for i in browser.series_ids()} == {"pending"}
    browser.thumbnails_go.set()
    wait_for_thumbnails(qtbot, browser)
    assert {browser.thumbnail_state(i) for i in browser.series_ids()} == {"ready"}
    # Held thumbnails do not keep a new scan (or closing) waiting.
    browser.thumbnails_go.clear()
    start = time.perf_counter()
    browser.set_scan_result(sample_scan)
    browser.set_scan_result(None)
    assert time.perf_counter() - start < 1.0


def test_thumbnail_is_the_middle_image_in_the_default_window(
    sample_scan: ScanResult, sample_data: Path
) -> None:
    ct = next(s for s in sample_scan.series if s.modality == "CT")
    middle = ct.frames[0][len(ct.frames[0]) // 2]
    ds = pydicom.dcmread(middle.path)
    hu = ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    # The header's first window, linear (PS3.3 C.11.2.1.2.1), scaled to 64 px.
    center, width = float(ds.WindowCenter[0]), float(ds.WindowWidth[0])
    grey = np.clip(((hu - (center - 0.5)) / (width - 1) + 0.5), 0, 1) * 255
    expected = grey.reshape(64, 8, 64, 8).mean(axis=(1, 3))
    image = render_thumbnail(ct).convertToFormat(QImage.Format.Format_Grayscale8)
    shown = np.frombuffer(image.constBits(), np.uint8).reshape(64, image.bytesPerLine())
    assert np.abs(shown[:, :64].astype(float) - expected).mean() < 6.0


@pytest.mark.parametrize(
    "folder",
    [
        "dcm_qa_enh",  # enhanced multi-frame MR (Philips, Siemens XA)
        "dcm_qa_nih",  # GE 4D single frames and Siemens mosaics
        "pydicom_data_subset",  # enhanced CT
    ],
)
def test_middle_frame_loads_like_the_full_series(corpus: Path, folder: str) -> None:
    for series in scan_folder(corpus / folder).series:
        reduced = middle_frame_series(series)
        single = load_volume(reduced)
        assert single.shape_kji == (1, series.acquired_rows, series.acquired_columns)
        full = load_volume(series).time_point(0)
        if series.geometry is None or series.geometry.resample is None:
            k = len(series.frames[0]) // 2
            np.testing.assert_array_equal(single.voxels[0], full.voxels[k])
        image = render_thumbnail(series)
        assert image.width() == THUMBNAIL_PX


def test_middle_of_a_clip_is_its_middle_frame(corpus: Path, tmp_path: Path) -> None:
    name = "JPEGLosslessP14SV1_3s_2f_u_08_08.dcm"  # RGB, 2 frames, no position
    source = corpus / "pylibjpeg_data" / "ljdata" / "ds" / "JPEGLosslessSV1" / name
    shutil.copy(source, tmp_path / name)
    (series,) = scan_folder(tmp_path).series
    assert series.n_time_points == 2
    reduced = middle_frame_series(series)
    assert reduced.frames == ((series.frames[1][0],),)
    volume = load_volume(reduced)
    assert volume.is_rgb
    expected = pydicom.dcmread(source).pixel_array[1]  # RGB, frame 2
    np.testing.assert_array_equal(volume.voxels[0], expected)
    assert render_thumbnail(series).width() == THUMBNAIL_PX


def test_corpus_thumbnails_and_image_counts(
    qtbot: QtBot, browser: SeriesBrowserWidget, corpus: Path
) -> None:
    result = scan_folder(corpus / "dcm_qa_nih")
    browser.set_scan_result(result)
    wait_for_thumbnails(qtbot, browser)
    assert {browser.thumbnail_state(i) for i in browser.series_ids()} == {"ready"}
    four_d = [s for s in result.series if s.n_time_points > 1]
    assert four_d
    for series in four_d:
        slices, times = len(series.frames[0]), series.n_time_points
        text = cell(browser, series.id, IMAGES)
        assert text == f"{slices * times} ({slices}×{times})"


def test_undecodable_series_falls_back_to_a_modality_tile(
    qtbot: QtBot, browser: SeriesBrowserWidget, corpus: Path, tmp_path: Path
) -> None:
    # JPEG Extended 12-bit that pydicom's plugins cannot decode (corpus README).
    shutil.copy(corpus / "dwv" / "nema-mr1_jply.dcm", tmp_path / "bad.dcm")
    result = scan_folder(tmp_path)
    assert len(result.series) == 1
    series_id = result.series[0].id
    browser.set_scan_result(result)
    wait_for_thumbnails(qtbot, browser)
    assert browser.thumbnail_state(series_id) == "failed"
    index = browser.series_index(series_id)
    assert "No preview" in index.data(Qt.ItemDataRole.ToolTipRole)
    assert not index.data(Qt.ItemDataRole.DecorationRole).isNull()


def double_click(qtbot: QtBot, widget: QWidget, pos: QPoint) -> None:
    """Press, release, double-click, as a real double click (QTest's mouseDClick
    sends the double-click event alone, and item views ignore it without a press)."""
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=pos)
    qtbot.mouseDClick(widget, Qt.MouseButton.LeftButton, pos=pos)


def test_double_click_and_enter_activate_a_series(
    qtbot: QtBot, browser: SeriesBrowserWidget, sample_scan: ScanResult
) -> None:
    browser.set_scan_result(sample_scan)
    browser.show()
    qtbot.waitExposed(browser)
    view = browser.tree_view
    target = sample_scan.series[-1].id
    index = browser.series_index(target)
    view.scrollTo(index)
    rect = view.visualRect(index)
    with qtbot.waitSignal(browser.series_activated) as blocker:
        double_click(qtbot, view.viewport(), rect.center())
    assert blocker.args == [target]

    other = sample_scan.series[0].id
    browser.select_series(other)
    assert browser.current_series_id() == other
    with qtbot.waitSignal(browser.series_activated) as blocker:
        qtbot.keyClick(view, Qt.Key.Key_Return)
    assert blocker.args == [other]

    # Patient and study rows do not activate anything.
    activated: list[str] = []
    browser.series_activated.connect(activated.append)
    patient_rect = view.visualRect(browser.model.index(0, 0))
    double_click(qtbot, view.viewport(), patient_rect.center())
    view.setCurrentIndex(browser.model.index(0, 0))
    qtbot.keyClick(view, Qt.Key.Key_Enter)
    assert activated == []


def test_drag_carries_the_series_id(
    browser: SeriesBrowserWidget, sample_scan: ScanResult
) -> None:
    browser.set_scan_result(sample_scan)
    model = browser.model
    assert model.mimeTypes() == [MIME_TYPE]
    series = sample_scan.series[1]
    index = browser.series_index(series.id)
    row = [index.siblingAtColumn(c) for c in range(len(COLUMNS))]
    data = model.mimeData(row)
    assert data.hasFormat(MIME_TYPE)
    assert bytes(data.data(MIME_TYPE)).decode() == series.id
    assert model.flags(index) & Qt.ItemFlag.ItemIsDragEnabled
    assert not model.flags(model.index(0, 0)) & Qt.ItemFlag.ItemIsDragEnabled
    assert browser.tree_view.dragEnabled()


def test_a_new_scan_replaces_the_tree(
    qtbot: QtBot, browser: SeriesBrowserWidget, sample_scan: ScanResult, corpus: Path
) -> None:
    browser.set_scan_result(sample_scan)
    other = scan_folder(corpus / "dcm_qa_enh")
    browser.set_scan_result(other)  # thumbnails of the first scan are dropped
    assert browser.series_ids() == [s.id for s in other.series]
    ready: list[str] = []
    browser.thumbnail_ready.connect(ready.append)
    wait_for_thumbnails(qtbot, browser)
    assert set(ready) <= {s.id for s in other.series}
    browser.set_scan_result(None)
    assert browser.model.rowCount() == 0
    assert browser.series_ids() == []
    assert not browser.series_index(other.series[0].id).isValid()
    assert browser.current_series_id() is None


def test_responsive_with_120_series(
    qtbot: QtBot, browser: SeriesBrowserWidget, make_series: MakeSeries, tmp_path: Path
) -> None:
    for number in range(1, 121):
        make_series(
            shape=(3, 8, 8),
            folder=f"s{number:03d}",
            series_number=number,
            shuffle=False,
        )
    result = scan_folder(tmp_path)
    assert len(result.series) == 120
    browser.show()
    start = time.perf_counter()
    browser.set_scan_result(result)
    qtbot.wait(1)
    assert time.perf_counter() - start < 1.0
    wait_for_thumbnails(qtbot, browser)
    states = [browser.thumbnail_state(i) for i in browser.series_ids()]
    assert states == ["ready"] * 120
    numbers = [cell(browser, s.id, NUMBER) for s in result.series]
    assert numbers == [str(n) for n in range(1, 121)]


def test_unknown_series_is_not_selected(browser: SeriesBrowserWidget) -> None:
    assert not browser.select_series("1.2.3")
    assert browser.series_index("1.2.3") == QModelIndex()
