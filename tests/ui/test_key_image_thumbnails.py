"""Key images read from an annotation file get thumbnails in the Key images
panel, drawn from their DICOM files in the background (issue 15 item 6).

The corpus Philips head CT with two images marked in an annotation file (slices
8 and 20), opened as a user opens it (Annotations → Open).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np
import pydicom
import pytest

from imaging_viewer.core.annotations.key_image_marks import KeyImageMark
from imaging_viewer.core.annotations.model import AnnotationSet
from imaging_viewer.core.annotations.serialize import to_json
from imaging_viewer.ui.main_window import MainWindow
from imaging_viewer.ui.widgets.key_images_panel import THUMBNAIL_SIZE
from tests.conftest import window_settled

if TYPE_CHECKING:
    from pathlib import Path

    from pytestqt.qtbot import QtBot

MARKED = (8, 20)


@pytest.fixture
def window(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> MainWindow:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    main = MainWindow(remember_settings=False)
    qtbot.addWidget(main)
    main.resize(1366, 768)
    main.show()
    return main


def grey_levels(icon_image: object) -> np.ndarray:
    from PySide6.QtGui import QImage

    assert isinstance(icon_image, QImage)
    image = icon_image.convertToFormat(QImage.Format.Format_Grayscale8)
    return np.array(
        [
            [image.pixelColor(x, y).value() for x in range(image.width())]
            for y in range(image.height())
        ]
    )


def test_marks_from_a_file_get_thumbnails_in_the_background(
    window: MainWindow, qtbot: QtBot, corpus: Path, tmp_path: Path
) -> None:
    ct = corpus / "dcm_qa_ct" / "In" / "Philips" / "S21570" / "S2010"
    window.open_path(ct)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    panel = window.build_docks().key_images_panel
    series = window.state.active.series
    assert series is not None
    marks = AnnotationSet()
    for k in MARKED:
        header = pydicom.dcmread(series.frames[0][k].path, stop_before_pixels=True)
        marks.mark_key_image(
            KeyImageMark(str(header.SOPInstanceUID), series_instance_uid=series.uid)
        )
    path = tmp_path / "annotations.json"
    path.write_text(json.dumps(to_json(marks, series.study_uid)), encoding="utf-8")

    study = window.annotation_study()
    assert study is not None
    window.workspace.open_annotations(study.uid, path)
    assert panel.list.count() == 2

    def all_drawn() -> bool:
        return all(not panel.list.item(n).icon().isNull() for n in range(2))

    # Listed at once, drawn later: nothing is rendered on the GUI thread while
    # the file opens (the thumbnails arrive through the event loop).
    assert not any(not panel.list.item(n).icon().isNull() for n in range(2))

    qtbot.waitUntil(all_drawn, timeout=30_000)
    pictures = [
        grey_levels(
            panel.list.item(n).icon().pixmap(THUMBNAIL_SIZE, THUMBNAIL_SIZE).toImage()
        )
        for n in range(2)
    ]
    for picture in pictures:
        assert picture.std() > 10  # an image, not a blank tile
    # Two different slices of the head: two different pictures.
    assert np.abs(pictures[0].astype(int) - pictures[1].astype(int)).mean() > 2
    # The teaching dialog shows the same thumbnails.
    thumbnails = window.lesion_export.thumbnails()
    assert {mark.key for mark in marks.key_images} <= set(thumbnails)
