"""The teaching case's redaction tool (issue 18): key images at risk shown with
the text OCR found, and rectangles the user drags, in stored-frame pixels, that
the export blacks out."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pydicom
import pytest
from PySide6.QtCore import QPoint, Qt

from imaging_viewer.core.annotations.model import AnnotationSet, Lesion
from imaging_viewer.core.dicom.scan import scan_folder
from imaging_viewer.core.teaching.key_images import select_key_images
from imaging_viewer.ui.dialogs.redaction_dialog import RedactionDialog
from tests.core.exchange import test_burned_in_text
from tests.core.exchange.test_burned_in_text import (
    DRAWN,
    _found,
    ultrasound_with_text,
)

ocr = test_burned_in_text.ocr  # the fixture: Tesseract, or skip (fail in CI)

if TYPE_CHECKING:
    from pathlib import Path

    from pytestqt.qtbot import QtBot

    from tests.conftest import MakeSeries


def _key_images(folder: Path) -> list:  # type: ignore[type-arg]
    result = scan_folder(folder)
    path = result.series[0].frames[0][0].path
    sop = str(pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID)
    refs, _ = select_key_images(result.series, AnnotationSet([]), [sop])
    return refs


def _drag(qtbot: QtBot, dialog: RedactionDialog, start: QPoint, end: QPoint) -> None:
    canvas = dialog.canvas
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(canvas, end)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=end)


@pytest.mark.usefixtures("ocr")
def test_an_ultrasound_is_shown_with_its_text_and_takes_rectangles(
    qtbot: QtBot, tmp_path: Path
) -> None:
    folder = tmp_path / "study"
    folder.mkdir()
    ultrasound_with_text(folder / "us.dcm")
    dialog = RedactionDialog(_key_images(folder))
    qtbot.addWidget(dialog)
    dialog.canvas.resize(480, 300)  # the frame's own size: 1 pixel per pixel
    dialog.show()

    assert dialog.any_at_risk
    assert dialog.image_list.item(0).text().startswith("⚠")
    assert len(dialog.canvas.found) >= 3
    assert "OCR found" in dialog.note.text()
    # OCR's boxes cover the text drawn at the top left, not the anatomy.
    assert all(box.column < 240 and box.row < 130 for box in dialog.canvas.found)

    scale, x, y = dialog.canvas._scale()
    start = QPoint(int(x + 300 * scale), int(y + 200 * scale))
    end = QPoint(int(x + 360 * scale), int(y + 240 * scale))
    _drag(qtbot, dialog, start, end)

    ((uid, (box,)),) = dialog.redactions().items()
    assert uid == str(pydicom.dcmread(folder / "us.dcm").SOPInstanceUID)
    assert abs(box.column - 300) <= 2
    assert abs(box.row - 200) <= 2
    assert abs(box.width - 60) <= 2
    assert abs(box.height - 40) <= 2

    # A right click on it takes it back.
    qtbot.mouseClick(
        dialog.canvas,
        Qt.MouseButton.RightButton,
        pos=QPoint(start.x() + 5, start.y() + 5),
    )
    assert dialog.redactions() == {}


@pytest.mark.usefixtures("ocr")
def test_the_rectangles_are_blacked_out_by_the_export(
    qtbot: QtBot, tmp_path: Path
) -> None:
    from imaging_viewer.core.exchange.burned_in_text import read_text
    from imaging_viewer.core.teaching.case import TeachingCase
    from imaging_viewer.ui.teaching_export import export_teaching_case

    folder = tmp_path / "study"
    folder.mkdir()
    ultrasound_with_text(folder / "us.dcm")
    refs = _key_images(folder)
    dialog = RedactionDialog(refs)
    qtbot.addWidget(dialog)
    dialog.canvas.resize(480, 300)
    dialog.show()
    scale, x, y = dialog.canvas._scale()
    _drag(
        qtbot,
        dialog,
        QPoint(int(x + 200 * scale), int(y + 150 * scale)),
        QPoint(int(x + 280 * scale), int(y + 200 * scale)),
    )

    export = export_teaching_case(
        scan_folder(folder),
        AnnotationSet([Lesion(label="L1")]),
        TeachingCase(title="us"),
        tmp_path / "case",
        key_images=[refs[0].sop_instance_uid],
        redactions=dialog.redactions(),
    )

    (dicom,) = (export.folder / "dicom").glob("key*.dcm")
    pixels = pydicom.dcmread(dicom).pixel_array
    assert (pixels[152:198, 202:278] == 0).all()  # the user's rectangle
    assert pixels[195, 180] == 90  # the anatomy beside it
    assert _found(DRAWN, read_text(pixels)) == []


def test_a_ct_is_not_at_risk(qtbot: QtBot, make_series: MakeSeries) -> None:
    series = make_series(shape=(3, 20, 30))
    dialog = RedactionDialog(_key_images(series.folder))
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.any_at_risk
    assert dialog.canvas.found == ()
    assert "Not at risk" in dialog.note.text()
    assert np.asarray(dialog.canvas._pixels).shape == (20, 30)
