"""The teaching dialog, tried at 1366×768 (issue 15 item 12): with two lesions,
two key images with thumbnails and a 512×512 preview it fits on the screen with
its buttons, both key images are seen without scrolling, and Tab walks the
fields in reading order."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from imaging_viewer.core.annotations.key_image_marks import KeyImageMark
from imaging_viewer.core.annotations.model import Lesion
from imaging_viewer.ui.dialogs.teaching_dialog import TeachingCaseDialog

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot


def test_two_lesions_two_key_images_and_the_preview_fit_at_1366x768(
    qtbot: QtBot,
) -> None:
    thumbnail = QPixmap(48, 48)
    thumbnail.fill(Qt.GlobalColor.gray)
    marks = [KeyImageMark("1.2.3.1"), KeyImageMark("1.2.3.2")]
    dialog = TeachingCaseDialog(
        lesions=[Lesion(id="a", label="Lesion 1"), Lesion(id="b", label="Lesion 2")],
        key_images=marks,
        thumbnails={mark.key: thumbnail for mark in marks},
    )
    qtbot.addWidget(dialog)
    preview = QImage(512, 512, QImage.Format.Format_RGB32)
    preview.fill(Qt.GlobalColor.black)
    dialog.show_preview(preview)
    dialog.show()
    qtbot.waitExposed(dialog)
    # 768 less a task bar and a title bar.
    assert dialog.height() <= 680
    assert dialog.width() <= 1366
    keys = dialog.key_image_list
    for row in range(keys.count()):
        assert keys.viewport().rect().contains(keys.visualItemRect(keys.item(row)))
    lesions = dialog.lesion_list
    for row in range(lesions.count()):
        assert (
            lesions.viewport()
            .rect()
            .contains(lesions.visualItemRect(lesions.item(row)))
        )

    title = dialog._fields["title"]
    dialog.activateWindow()
    title.setFocus()
    qtbot.waitUntil(title.hasFocus, timeout=5000)
    walked = []
    for _ in range(9):
        walked.append(QApplication.focusWidget())
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    fields = dialog._fields
    assert walked == [
        fields["title"],
        fields["history"],
        fields["findings"],
        fields["diagnosis"],
        fields["discussion"],
        dialog.lesion_list,
        dialog.key_image_list,
        dialog.window_choice,
        dialog.dates_choice,
    ]
