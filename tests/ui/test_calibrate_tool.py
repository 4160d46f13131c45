"""The calibrate tool, as a reader uses it (issue 15 item 1).

On a real CR without Pixel Spacing or Imager Pixel Spacing (the sample
"Anonymized" chest, PS3.3 10.7.1.3): draw over an object of known size, type
its size; the corner, the ruler's label and the Lesions panel say mm
"(calibrated)"; the calibration survives the annotation file, and the SR
(read with highdicom, not our import) carries the calibrated length; "Remove
calibration" returns to px.
"""

from __future__ import annotations

import json
import shutil
from typing import TYPE_CHECKING

import highdicom as hd
import pydicom
import pytest
from pydicom.sr.codedict import codes
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QMouseEvent

from imaging_viewer.core.annotations.model import Ruler
from imaging_viewer.core.annotations.serialize import from_json, to_json
from imaging_viewer.core.exchange.structured_report import export_measurement_report
from imaging_viewer.ui.main_window import MainWindow
from tests.conftest import window_settled

if TYPE_CHECKING:
    from pathlib import Path

    from pytestqt.qtbot import QtBot

    from imaging_viewer.ui.slice_viewport import SliceViewportWidget

CR_WITHOUT_SPACING = "gdcm-CR-MONO1-10-chest.dcm"


def _drag(widget: SliceViewportWidget, start: QPointF, end: QPointF) -> None:
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    modifiers = Qt.KeyboardModifier.NoModifier
    steps = [
        (QMouseEvent.Type.MouseButtonPress, start, left),
        *(
            (QMouseEvent.Type.MouseMove, start + (end - start) * f, left)
            for f in (0.5, 1.0)
        ),
        (QMouseEvent.Type.MouseButtonRelease, end, none),
    ]
    for kind, at, buttons in steps:
        event = QMouseEvent(kind, at, widget.mapToGlobal(at), left, buttons, modifiers)
        if kind == QMouseEvent.Type.MouseButtonPress:
            widget.mousePressEvent(event)
        elif kind == QMouseEvent.Type.MouseMove:
            widget.mouseMoveEvent(event)
        else:
            widget.mouseReleaseEvent(event)


@pytest.fixture
def radiograph(sample_data: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "xr"
    folder.mkdir()
    shutil.copy(sample_data / "XR" / CR_WITHOUT_SPACING, folder)
    return folder / CR_WITHOUT_SPACING


@pytest.fixture
def window(qtbot: QtBot, radiograph: Path) -> MainWindow:
    main = MainWindow(remember_settings=False)
    qtbot.addWidget(main)
    main.resize(1300, 800)
    main.show()
    main.open_path(radiograph.parent)
    qtbot.waitUntil(lambda: window_settled(main), timeout=60_000)
    return main


def _panel_texts(window: MainWindow) -> list[str]:
    tree = window.lesions_panel.tree
    texts = []
    for n in range(tree.topLevelItemCount()):
        item = tree.topLevelItem(n)
        assert item is not None
        texts += [item.child(k).text(1) for k in range(item.childCount())]
    return texts


def test_calibration_round_trip_on_a_cr_without_spacing(
    window: MainWindow, radiograph: Path, tmp_path: Path
) -> None:
    ds = pydicom.dcmread(radiograph)
    assert "PixelSpacing" not in ds
    assert "ImagerPixelSpacing" not in ds
    widget = window.viewport_widgets[0]
    asked: list[float] = []

    def ask(drawn: float) -> float:
        asked.append(drawn)
        return 25.0

    widget.ask_length_mm = ask
    window.set_left_tool("calibrate")
    # 100 px over "a 25 mm ball".
    _drag(widget, widget._widget_point(100, 200), widget._widget_point(200, 200))
    assert asked == [pytest.approx(100.0, abs=0.05)]
    annotations = window.state.annotations
    calibration = annotations.calibration(str(ds.SOPInstanceUID))
    assert calibration is not None
    assert calibration.scale == pytest.approx(0.25, rel=1e-3)
    assert not list(annotations.annotations())  # the line is not a measurement
    corner = widget._corner_text()["bottom_left"]
    assert "Calibrated: 0.25 mm/px (25 mm ref)" in corner

    window.set_left_tool("ruler")
    _drag(widget, widget._widget_point(50, 300), widget._widget_point(305, 300))
    (ruler,) = list(annotations.annotations())
    assert isinstance(ruler, Ruler)
    (text,) = _panel_texts(window)
    assert text.endswith("mm (calibrated)")
    assert float(text.split()[0]) == pytest.approx(255 * 0.25, abs=0.2)

    # Save, reload: the calibration and the mm come back.
    path = tmp_path / "annotations.json"
    path.write_text(json.dumps(to_json(annotations, str(ds.StudyInstanceUID))))
    reloaded = from_json(json.loads(path.read_text()))
    again = reloaded.calibration(str(ds.SOPInstanceUID))
    assert again is not None
    assert again.scale == pytest.approx(calibration.scale)

    # The SR of the reloaded set, read by highdicom: the length in mm.
    result = export_measurement_report(
        reloaded, {str(ds.SOPInstanceUID): ds}, series_number=901
    )
    sr_path = tmp_path / "sr.dcm"
    result.dataset.save_as(sr_path, enforce_file_format=True)
    (group,) = hd.sr.srread(sr_path).content.get_image_measurement_groups()
    (length,) = group.get_measurements(name=codes.SCT.Length)
    assert length.unit.value == "mm"
    assert length.value == pytest.approx(float(text.split()[0]), abs=0.06)

    # Remove calibration: back to px, in the panel and the corner.
    window.actions_built.actions["remove_calibration"].trigger()
    assert annotations.calibrations == ()
    assert _panel_texts(window) == ["255.0 px"]
    assert "spacing: none (pixels)" in widget._corner_text()["bottom_left"]
