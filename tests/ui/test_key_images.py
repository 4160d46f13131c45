"""Key images while reading (issue 15 item 6), on a real CT of ../shared/dicom:
K marks and unmarks the shown image, the viewport shows a KEY badge, the Key
images panel lists it with a thumbnail and a click brings the image back; the
mark is autosaved with the annotations."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pydicom
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from imaging_viewer.ui.actions import ACTIONS
from imaging_viewer.ui.key_images import is_shown_key_image
from imaging_viewer.ui.main_window import MainWindow
from tests.conftest import window_settled

if TYPE_CHECKING:
    from pathlib import Path

    from pytestqt.qtbot import QtBot


@pytest.fixture
def window(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> MainWindow:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    main = MainWindow(remember_settings=False)
    qtbot.addWidget(main)
    main.resize(1366, 768)
    main.show()
    return main


def test_key_image_action_is_k_with_its_icon_in_the_annotate_toolbar() -> None:
    (action,) = [a for a in ACTIONS if a.id == "key_image"]
    assert action.shortcuts == ("K",)
    assert action.icon == "key-image"
    assert action.toolbar == "annotate"
    assert action.viewport_key


def test_k_marks_the_shown_image_and_the_panel_goes_back_to_it(
    window: MainWindow, qtbot: QtBot, corpus: Path
) -> None:
    window.open_path(corpus / "dcm_qa_ct" / "In" / "GE")
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    window.build_docks()
    widget = window.active_widget
    state = window.state.active
    assert state.series is not None
    state.set_slice(state.n_slices // 2)
    shown = state.slice_index
    # This GE CT is resampled to a regular grid: the key image is the acquired
    # image nearest to the slice shown.
    k = shown
    plan = state.series.geometry.resample if state.series.geometry else None
    if plan is not None:
        k = int(plan.below[k]) + (1 if plan.weight[k] >= 0.5 else 0)
    expected = pydicom.dcmread(state.series.frames[0][k].path, stop_before_pixels=True)

    QTest.keyClick(widget, Qt.Key.Key_K)
    (mark,) = window.state.annotations.key_images
    assert mark.sop_instance_uid == str(expected.SOPInstanceUID)
    assert mark.frame is None
    assert mark.series_instance_uid == str(expected.SeriesInstanceUID)
    assert is_shown_key_image(window)
    assert window.actions_built.actions["key_image"].isChecked()

    panel = window.build_docks().key_images_panel
    assert panel.list.count() == 1
    assert not panel.list.item(0).icon().isNull()  # its thumbnail

    # The badge: yellow pixels at the top centre of the view, under the
    # orientation letter (which is yellow too, so the letter's rows are left out).
    image = widget.viewport().grab().toImage()
    top = [
        image.pixelColor(x, y)
        for x in range(image.width() // 2 - 20, image.width() // 2 + 20)
        for y in range(28, 56)
    ]
    assert any(c.red() > 200 and c.green() > 150 and c.blue() < 80 for c in top)

    state.set_slice(0)
    assert not is_shown_key_image(window)
    panel.list.itemClicked.emit(panel.list.item(0))
    assert abs(state.slice_index - shown) <= 1
    assert is_shown_key_image(window)

    # Saved with the annotations.
    study = window.annotation_study()
    assert study is not None
    from imaging_viewer.core.annotations.serialize import to_json

    document = to_json(window.state.annotations, study.uid)
    assert document["key_images"][0]["sop_instance_uid"] == mark.sop_instance_uid

    QTest.keyClick(widget, Qt.Key.Key_K)  # unmark
    assert window.state.annotations.key_images == ()
    assert panel.list.count() == 0
    assert not window.actions_built.actions["key_image"].isChecked()


def test_the_key_badge_shows_on_planes_parallel_to_the_key_image_only(
    window: MainWindow, qtbot: QtBot, corpus: Path
) -> None:
    """In MPR, the axial plane through a key image carries the badge; the
    coronal and sagittal reformats do not (they are not that image)."""
    from imaging_viewer.ui.key_images import _parallel_to_acquired

    window.open_path(corpus / "dcm_qa_ct" / "In" / "Philips" / "S21570" / "S2010")
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    QTest.keyClick(window.active_widget, Qt.Key.Key_K)
    assert window.state.annotations.key_images
    window.toggle_mpr(True)
    qtbot.waitUntil(lambda: window.state.layout == "mpr", timeout=10_000)
    by_orientation = {
        viewport.orientation: _parallel_to_acquired(viewport)
        for viewport in window.state.viewports[:3]
    }
    assert by_orientation == {"axial": True, "coronal": False, "sagittal": False}
