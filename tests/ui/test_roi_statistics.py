"""ROI statistics on the image, live while drawing (issue 15 item 2).

An ellipse drawn with the mouse on a real CT (the corpus' Philips S21570
series, 28 acquired slices): its label and the Lesions panel give mean, SD,
min and max in HU equal to numpy's over the pixels whose centres lie inside
the ellipse, the mask and HU worked out here from pydicom (Image Position and
Orientation, Pixel Spacing, Rescale Slope and Intercept; PS3.3 C.7.6.2.1.1,
C.11.1.1.2), not by our code.
"""

from __future__ import annotations

import re
import shutil
from typing import TYPE_CHECKING

import numpy as np
import pydicom
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QMouseEvent

from imaging_viewer.core.annotations.model import EllipseRoi
from imaging_viewer.ui.main_window import MainWindow
from imaging_viewer.ui.roi_statistics import LiveRoiStatistics
from tests.conftest import window_settled

if TYPE_CHECKING:
    from pathlib import Path

    from numpy.typing import NDArray
    from pytestqt.qtbot import QtBot

    from imaging_viewer.ui.slice_viewport import SliceViewportWidget


def _mouse(widget: SliceViewportWidget, kind: QMouseEvent.Type, at: QPointF) -> None:
    left = Qt.MouseButton.LeftButton
    buttons = Qt.MouseButton.NoButton if kind.name.endswith("Release") else left
    event = QMouseEvent(
        kind, at, widget.mapToGlobal(at), left, buttons, Qt.KeyboardModifier.NoModifier
    )
    if kind == QMouseEvent.Type.MouseButtonPress:
        widget.mousePressEvent(event)
    elif kind == QMouseEvent.Type.MouseMove:
        widget.mouseMoveEvent(event)
    else:
        widget.mouseReleaseEvent(event)


@pytest.fixture
def window(qtbot: QtBot, corpus: Path, tmp_path: Path) -> MainWindow:
    folder = tmp_path / "ct"
    shutil.copytree(
        corpus / "dcm_qa_ct" / "In" / "Philips" / "S21570" / "S2010", folder
    )
    main = MainWindow(remember_settings=False)
    qtbot.addWidget(main)
    main.resize(1300, 800)
    main.show()
    main.open_path(folder)
    qtbot.waitUntil(lambda: window_settled(main), timeout=120_000)
    return main


def _numpy_stats(path: str, ellipse: EllipseRoi) -> NDArray[np.float64]:
    """HU inside the ellipse, by pydicom and a point-in-ellipse test here."""
    ds = pydicom.dcmread(path)
    hu = ds.pixel_array.astype(np.float64) * float(ds.RescaleSlope) + float(
        ds.RescaleIntercept
    )
    row_cos = np.array(ds.ImageOrientationPatient[:3], dtype=float)
    col_cos = np.array(ds.ImageOrientationPatient[3:], dtype=float)
    row_mm, column_mm = (float(v) for v in ds.PixelSpacing)
    rows, columns = np.mgrid[0 : ds.Rows, 0 : ds.Columns]
    centres = (
        np.array(ds.ImagePositionPatient, dtype=float)
        + columns[..., None] * column_mm * row_cos
        + rows[..., None] * row_mm * col_cos
    )
    centre = np.asarray(ellipse.centre_lps)
    a = np.asarray(ellipse.axis1_end_lps) - centre
    b = np.asarray(ellipse.axis2_end_lps) - centre
    offset = centres - centre
    inside = (offset @ a / (a @ a)) ** 2 + (offset @ b / (b @ b)) ** 2 <= 1.0
    values: NDArray[np.float64] = hu[inside]
    return values


def _numbers(lines: tuple[str, ...] | list[str]) -> list[float]:
    text = " ".join(lines)
    return [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", text)]


def test_ellipse_statistics_in_hu_match_numpy_live_label_and_panel(
    window: MainWindow,
) -> None:
    widget = window.viewport_widgets[0]
    state = widget.state
    assert state.series is not None
    assert state.series.modality == "CT"
    window.set_left_tool("ellipse")
    start, end = widget._widget_point(200, 220), widget._widget_point(290, 300)
    _mouse(widget, QMouseEvent.Type.MouseButtonPress, start)
    _mouse(widget, QMouseEvent.Type.MouseMove, (start + end) / 2)
    # Live: the preview being drawn has its statistics.
    preview = window.state.annotations.preview
    assert isinstance(preview, EllipseRoi)
    live = LiveRoiStatistics(state, lambda: None).lines(preview)
    assert len(live) == 2
    assert live[0].startswith("mean ")
    assert live[0].endswith(" HU")
    widget.grab()  # paints the label (no traceback)
    _mouse(widget, QMouseEvent.Type.MouseMove, end)
    _mouse(widget, QMouseEvent.Type.MouseButtonRelease, end)
    (ellipse,) = list(window.state.annotations.annotations())
    assert isinstance(ellipse, EllipseRoi)

    frames = state.series.frames[0]
    values = _numpy_stats(frames[state.slice_index].path, ellipse)
    assert values.size > 100
    expected = [values.mean(), values.std(), values.min(), values.max()]

    lines = LiveRoiStatistics(state, lambda: None).lines(ellipse)
    assert lines[1].startswith("min ")
    assert _numbers(lines) == pytest.approx(expected, abs=0.051)
    # The Lesions panel: area, then the same statistics.
    tree = window.lesions_panel.tree
    item = tree.topLevelItem(0)
    assert item is not None
    panel = item.child(0).text(1)
    assert "cm²" in panel  # over 100 mm² (round 5: was mm²)
    assert "HU" in panel
    assert _numbers(panel.split(", ")[1:]) == pytest.approx(expected, abs=0.051)
