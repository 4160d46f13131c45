"""SliceViewportWidget: scroll, windowing, presets, probe, flips, drops (offscreen)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDropEvent, QWheelEvent
from PySide6.QtTest import QTest

from imaging_viewer.core.dicom.load import load_volume
from imaging_viewer.core.dicom.scan import scan_folder
from imaging_viewer.core.render import CT_PRESETS
from imaging_viewer.core.viewer_state import ViewportState
from imaging_viewer.core.volume import Window
from imaging_viewer.ui.slice_viewport import SERIES_MIME_TYPE, SliceViewportWidget

if TYPE_CHECKING:
    from pathlib import Path

    from pytestqt.qtbot import QtBot

    from tests.conftest import MakeSeries


@pytest.fixture(scope="module")
def ct(sample_data: Path) -> tuple[object, object]:
    result = scan_folder(sample_data / "CT")
    series = result.series[0]
    return series, load_volume(series)


def _shown_viewport(qtbot: QtBot, series: Any, volume: Any) -> SliceViewportWidget:
    """A 600×600 viewport, on screen, then given ``series`` and its volume."""
    state = ViewportState()
    widget = SliceViewportWidget(state)
    qtbot.addWidget(widget)
    widget.resize(600, 600)
    widget.show()
    qtbot.waitExposed(widget)
    state.show(series, volume)
    return widget


@pytest.fixture
def viewport(qtbot: QtBot, ct: tuple[object, object]) -> SliceViewportWidget:
    return _shown_viewport(qtbot, *ct)


def _wheel(
    widget: SliceViewportWidget, delta: int, modifiers: Qt.KeyboardModifier
) -> None:
    centre = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(
        centre,
        widget.mapToGlobal(centre),
        QPoint(0, 0),
        QPoint(0, delta),
        Qt.MouseButton.NoButton,
        modifiers,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    widget.wheelEvent(event)


def test_opens_on_the_middle_slice_with_the_header_window(
    viewport: SliceViewportWidget,
) -> None:
    state = viewport.state
    assert state.slice_index == state.n_slices // 2
    assert isinstance(state.window, Window)
    assert state.window_label.startswith("header 1/")
    assert viewport._buffer is not None
    assert viewport._buffer.shape == (512, 512)


def test_wheel_and_keys_scroll_slices(
    viewport: SliceViewportWidget, qtbot: QtBot
) -> None:
    state = viewport.state
    start = state.slice_index
    _wheel(viewport, -120, Qt.KeyboardModifier.NoModifier)
    assert state.slice_index == start + 1
    _wheel(viewport, 240, Qt.KeyboardModifier.NoModifier)
    assert state.slice_index == start - 1
    QTest.keyClick(viewport, Qt.Key.Key_Home)
    assert state.slice_index == 0
    QTest.keyClick(viewport, Qt.Key.Key_Up)
    assert state.slice_index == 0  # clamped
    QTest.keyClick(viewport, Qt.Key.Key_End)
    assert state.slice_index == state.n_slices - 1
    QTest.keyClick(viewport, Qt.Key.Key_PageUp)
    assert state.slice_index == state.n_slices - 11


def test_each_scroll_renders_that_slice(viewport: SliceViewportWidget) -> None:
    from imaging_viewer.core.render import render_slice

    state = viewport.state
    for k in (0, 5, state.n_slices - 1):
        state.set_slice(k)
        assert state.volume is not None
        expected = render_slice(
            state.volume.voxels[k], state.window, display=state.volume.display
        )
        assert viewport._buffer is not None
        np.testing.assert_array_equal(viewport._buffer, expected)


def test_ctrl_wheel_zooms(viewport: SliceViewportWidget) -> None:
    before = viewport.zoom_factor()
    _wheel(viewport, 120, Qt.KeyboardModifier.ControlModifier)
    after = viewport.zoom_factor()
    assert before is not None
    assert after is not None
    assert after == pytest.approx(before * 1.15, rel=1e-3)
    viewport.actual_size()
    assert viewport.zoom_factor() == pytest.approx(1.0, rel=1e-3)


def test_right_drag_changes_width_and_level(
    viewport: SliceViewportWidget, qtbot: QtBot
) -> None:
    state = viewport.state
    start = state.editable_window()
    assert start is not None
    centre = QPoint(300, 300)
    QTest.mousePress(viewport.viewport(), Qt.MouseButton.RightButton, pos=centre)
    # QTest.mouseMove sends no buttons; send the move to the widget directly.
    from PySide6.QtGui import QMouseEvent

    move = QMouseEvent(
        QMouseEvent.Type.MouseMove,
        QPointF(360, 340),
        viewport.mapToGlobal(QPointF(360, 340)),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.RightButton,
        Qt.KeyboardModifier.NoModifier,
    )
    viewport.mouseMoveEvent(move)
    QTest.mouseRelease(
        viewport.viewport(), Qt.MouseButton.RightButton, pos=QPoint(360, 340)
    )
    window = state.window
    assert isinstance(window, Window)
    assert window.width > start.width  # moved right: wider
    assert window.center > start.center  # moved down: higher level
    assert state.window_label == "manual"


def test_number_keys_apply_ct_presets(viewport: SliceViewportWidget) -> None:
    names = list(CT_PRESETS)
    QTest.keyClick(viewport, Qt.Key.Key_8)
    assert viewport.state.window == CT_PRESETS[names[7]]
    assert viewport.state.window_label == f"preset {names[7]}"
    QTest.keyClick(viewport, Qt.Key.Key_0)
    assert viewport.state.window_label.startswith("header")


def test_header_windows_cycle(viewport: SliceViewportWidget) -> None:
    state = viewport.state
    assert state.volume is not None
    windows = state.volume.display.windows
    seen = []
    for _ in range(len(windows)):
        QTest.keyClick(viewport, Qt.Key.Key_W)
        seen.append(state.window)
    assert set(seen) == set(windows)


def test_probe_reports_hounsfield_units_and_lps(
    viewport: SliceViewportWidget, qtbot: QtBot
) -> None:
    reports: list[str] = []
    viewport.probed.connect(reports.append)
    viewport.fit()
    state = viewport.state
    assert state.volume is not None
    # The scene point of pixel (200, 300)'s centre, mapped to the widget.
    item = viewport.image_item
    scene = item.mapToScene(QPointF(200.5, 300.5))
    widget_point = viewport.mapFromScene(scene)
    viewport._probe(QPointF(widget_point))
    assert reports, "no probe report"
    value = int(state.volume.voxels[state.slice_index, 300, 200])
    assert f"(200, 300)  value {value} HU" in reports[-1]
    lps = state.volume.ijk_to_lps @ np.array([200, 300, state.slice_index, 1.0])
    assert f"LPS ({lps[0]:.1f}, {lps[1]:.1f}, {lps[2]:.1f}) mm" in reports[-1]


def test_flip_and_rotate_keep_the_probe_on_the_stored_pixel(
    viewport: SliceViewportWidget,
) -> None:
    state = viewport.state
    state.flip_horizontal = True
    state.rotation_quarters = 1
    pixels = state.pixels()
    shown = viewport.displayed_pixels()
    assert pixels is not None
    assert shown is not None
    rows, columns = shown.shape
    for column, row in ((0, 0), (10, 3), (columns - 1, rows - 1)):
        original = viewport._original_pixel(column, row, rows, columns)
        assert shown[row, column] == pixels[original[1], original[0]]


def test_orientation_letters_follow_flips(viewport: SliceViewportWidget) -> None:
    state = viewport.state
    letters = state.orientation_letters()
    # An axial CT: patient's right on the screen's left, anterior at the top.
    assert letters == {"left": "R", "right": "L", "top": "A", "bottom": "P"}
    state.flip_horizontal = True
    assert state.orientation_letters()["left"] == "L"


def test_dropping_a_series_emits_its_id(viewport: SliceViewportWidget) -> None:
    received: list[str] = []
    viewport.series_dropped.connect(received.append)
    mime = QMimeData()
    mime.setData(SERIES_MIME_TYPE, b"1.2.3#2")
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    viewport.dropEvent(event)
    assert received == ["1.2.3#2"]


def test_soak_ten_thousand_scroll_steps_without_growth(
    viewport: SliceViewportWidget, qtbot: QtBot
) -> None:
    """10,000 scroll steps through pyqtgraph: no crash, memory growth under 5%."""
    import resource

    state = viewport.state
    for step in range(500):  # warm-up: caches and buffers reach their size
        state.set_slice(step % state.n_slices)
        viewport.viewport().repaint()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for step in range(10_000):
        viewport._scroll(1 if (step // state.n_slices) % 2 == 0 else -1)
        if step % 10 == 0:
            viewport.viewport().repaint()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert after <= before * 1.05, f"peak RSS grew from {before} to {after} KiB"


def test_a_large_image_renders_coarsely_while_it_changes_then_in_full(
    qtbot: QtBot, sample_data: Path
) -> None:
    from imaging_viewer.core.render import render_slice

    series = max(
        scan_folder(sample_data / "XR").series,
        key=lambda s: s.acquired_rows * s.acquired_columns,
    )
    volume = load_volume(series)
    assert volume.voxels.shape[1] * volume.voxels.shape[2] > 2_000_000
    widget = _shown_viewport(qtbot, series, volume)
    state = widget.state
    full = render_slice(volume.voxels[0], state.window, display=volume.display)
    # About one rendered pixel per screen pixel while the image changes ...
    assert widget._buffer is not None
    assert widget._buffer.shape[0] < full.shape[0] // 2
    np.testing.assert_array_equal(
        widget._buffer, full[:: widget._stride, :: widget._stride]
    )
    # ... drawn over the whole image, so probes and annotations stay in place.
    rect = widget.image_item.boundingRect()
    assert (rect.height(), rect.width()) == full.shape
    # A window drag renders the same pixels again (from a compact copy).
    for width in (900.0, 700.0, 500.0):
        state.set_window(Window(512.0, width))
        expected = render_slice(volume.voxels[0], state.window, display=volume.display)
        step = widget._stride
        np.testing.assert_array_equal(widget._buffer, expected[::step, ::step])
    # Once it settles: every pixel.
    widget.settle()
    np.testing.assert_array_equal(widget._buffer, expected)
    assert widget.image_item.smooth


def test_corner_lines_share_the_edge_and_stop_before_its_letter(
    qtbot: QtBot, make_series: MakeSeries
) -> None:
    # A short patient corner leaves room for a long series description on the
    # right; only the line level with the "A" letter stops short of it.
    made = make_series(
        shape=(3, 32, 32),
        tags={
            "PatientName": "Doe^J",
            "PatientID": "1",
            "Manufacturer": "A manufacturer with a rather long name indeed",
            "SeriesDescription": (
                "Axial T1 post contrast fat saturated thin slices of the femur"
            ),
        },
    )
    series = scan_folder(made.folder).series[0]
    widget = _shown_viewport(qtbot, series, load_volume(series))
    widget.resize(560, 400)
    qtbot.waitUntil(lambda: widget.viewport().width() == 560, timeout=5000)
    width, margin = widget.viewport().width(), 6
    corners = widget._fitted_corners(width, margin)
    full = widget._corner_text()
    metrics = widget._overlay_metrics
    left = max(metrics.horizontalAdvance(t) for t in corners["top_left"])
    right = corners["top_right"]
    # Not cut: the description fits beside the short left corner.
    description = next(t for t in full["top_right"] if "Axial T1" in t)
    assert description in right
    assert metrics.horizontalAdvance(description) > width // 2  # past the middle
    # The first line, level with the letter, ends before the middle.
    assert right[0].endswith("…")
    assert metrics.horizontalAdvance(right[0]) <= width // 2 - 2 * margin - 12
    # The corners never meet.
    widest_right = max(metrics.horizontalAdvance(t) for t in right)
    assert left + widest_right <= width - 2 * margin
