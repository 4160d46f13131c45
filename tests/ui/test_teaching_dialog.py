"""The teaching dialog (issue 15 item 12): Tab leaves the text boxes, the
lesions and key images are chosen from check lists (with thumbnails), the
window and the dates are chosen and reach the core export; a preview of the
first key image as exported; "Open folder" when done. On a real CT of
../shared/dicom."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QPixmap
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QPlainTextEdit

from imaging_viewer.core.annotations.key_image_marks import KeyImageMark
from imaging_viewer.core.annotations.model import Lesion
from imaging_viewer.core.volume import Window
from imaging_viewer.ui.dialogs.teaching_dialog import LesionExport, TeachingCaseDialog
from imaging_viewer.ui.main_window import MainWindow
from imaging_viewer.ui.teaching_export import first_key_image_preview
from tests.conftest import window_settled

if TYPE_CHECKING:
    from pathlib import Path

    import pytest
    from pytestqt.qtbot import QtBot


def _dialog(qtbot: QtBot) -> TeachingCaseDialog:
    thumbnail = QPixmap(16, 16)
    thumbnail.fill(Qt.GlobalColor.white)
    marks = [KeyImageMark("1.2.3.1"), KeyImageMark("1.2.3.2", frame=4)]
    dialog = TeachingCaseDialog(
        lesions=[Lesion(id="a", label="Lesion 1"), Lesion(id="b", label="Lesion 2")],
        key_images=marks,
        thumbnails={marks[0].key: thumbnail},
    )
    qtbot.addWidget(dialog)
    return dialog


def test_tab_moves_from_a_text_box_to_the_next_field(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot)
    dialog.show()
    qtbot.waitExposed(dialog)
    history = dialog._fields["history"]
    assert isinstance(history, QPlainTextEdit)
    dialog.activateWindow()
    history.setFocus()
    qtbot.waitUntil(history.hasFocus, timeout=5000)
    QTest.keyClicks(history, "knee pain")
    QTest.keyClick(history, Qt.Key.Key_Tab)
    assert history.toPlainText() == "knee pain"  # no tab typed into it
    assert QApplication.focusWidget() is dialog._fields["findings"]


def test_choices_reach_the_export_options(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot)
    assert dialog.lesion_list.count() == 2
    assert dialog.key_image_list.count() == 2
    assert not dialog.key_image_list.item(0).icon().isNull()  # its thumbnail
    current = Window(center=40.0, width=400.0)
    options = dialog.export_options(current)
    assert options["lesion_ids"] == ["a", "b"]
    assert [m.sop_instance_uid for m in options["key_image_marks"]] == [
        "1.2.3.1",
        "1.2.3.2",
    ]
    assert (options["window"], options["preset"]) == (current, None)
    assert (options["keep_dates"], options["date_shift_days"]) == (False, 0)

    dialog.lesion_list.item(0).setCheckState(Qt.CheckState.Unchecked)
    dialog.key_image_list.item(1).setCheckState(Qt.CheckState.Unchecked)
    dialog.window_choice.setCurrentIndex(dialog.window_choice.findData("Bone"))
    dialog.dates_choice.setCurrentIndex(dialog.dates_choice.findData("shift"))
    assert dialog.shift_days.isEnabled()
    dialog.shift_days.setValue(-30)
    options = dialog.export_options(current)
    assert options["lesion_ids"] == ["b"]
    assert [m.frame for m in options["key_image_marks"]] == [None]
    assert (options["window"], options["preset"]) == (None, "Bone")
    assert (options["keep_dates"], options["date_shift_days"]) == (True, -30)

    dialog.window_choice.setCurrentIndex(dialog.window_choice.findData("header"))
    dialog.dates_choice.setCurrentIndex(dialog.dates_choice.findData("keep"))
    options = dialog.export_options(current)
    assert (options["window"], options["preset"]) == (None, None)
    assert (options["keep_dates"], options["date_shift_days"]) == (True, 0)


def test_preview_export_and_open_folder_on_a_real_ct(
    qtbot: QtBot,
    corpus: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    window = MainWindow(remember_settings=False)
    qtbot.addWidget(window)
    window.show()
    window.open_path(corpus / "dcm_qa_ct" / "In" / "GE")
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    window.build_docks()
    window.actions_built.actions["key_image"].trigger()  # mark the shown image
    annotations = window.state.annotations
    assert len(annotations.key_images) == 1
    study = window.annotation_study()
    assert study is not None

    preview = first_key_image_preview(window.workspace, study.uid, annotations)
    assert preview is not None
    volume = window.state.active.volume
    assert volume is not None
    assert (preview.height(), preview.width()) == volume.shape_kji[1:]
    dialog = TeachingCaseDialog(key_images=annotations.key_images)
    qtbot.addWidget(dialog)
    dialog.show_preview(preview)
    assert not dialog.preview.pixmap().isNull()

    export: LesionExport = window.lesion_export
    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", opened.append)
    options = dialog.export_options(None)
    options["preset"] = "Bone"
    folder = export.write_teaching_case(
        study,
        dialog.case(),
        tmp_path / "case",
        {},
        options,
    )
    assert folder == tmp_path / "case"
    assert (folder / "dicom" / "key_images_ko.dcm").is_file()
    assert (folder / "images" / "key01.png").is_file()
    box = next(
        w
        for w in QApplication.topLevelWidgets()
        if w.windowTitle() == "Teaching case written" and w.isVisible()
    )
    (button,) = [b for b in box.buttons() if b.text() == "Open folder"]
    button.click()
    assert [url.toLocalFile() for url in opened] == [str(folder)]
