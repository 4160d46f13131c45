"""One scroll step in MPR paints each view at most once, and renders (and
reslices) only the views whose picture changed (a real Philips head CT).

Qt coalesces ``update()`` calls into one paint per frame; a scene item marked
dirty separately is processed in a queued call that may come after that paint
and paint the view a second time. Each view whose picture changed (its image,
its crosshair line, its reference lines) is painted exactly once. The coronal
and sagittal planes do not move when the axial view scrolls: only the crosshair
over them does, a repaint with no reslice and no new rendering of their pixels.
The acquired view of MPR 2×2 follows the cursor: it is painted when its slice
changes or its cursor mark moves to another pixel, and not otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

from imaging_viewer.ui.cursor_mark import cursor_mark_point
from imaging_viewer.ui.main_window import MainWindow
from imaging_viewer.ui.slice_viewport import SliceViewportWidget
from tests.conftest import window_settled

if TYPE_CHECKING:
    from pathlib import Path

    from pytestqt.qtbot import QtBot


@pytest.fixture
def head_ct_window(qtbot: QtBot, corpus: Path, paints: dict[int, int]) -> MainWindow:
    # After ``paints``: PySide binds a widget's Python paintEvent when first used.
    window = MainWindow(remember_settings=False)
    qtbot.addWidget(window)
    window.resize(1400, 800)
    window.show()
    window.open_path(corpus / "dcm_qa_ct/In/Philips/S21610")
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    series = max(window.scan_result.series, key=lambda s: len(s.files))  # type: ignore[union-attr]
    window.show_series(series.id, 0)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    return window


@pytest.fixture
def paints(monkeypatch: pytest.MonkeyPatch) -> dict[int, int]:
    """paintEvent calls per viewport widget (by id)."""
    counts: dict[int, int] = {}
    original = SliceViewportWidget.paintEvent

    def counted(self: SliceViewportWidget, event: Any) -> None:
        counts[id(self)] = counts.get(id(self), 0) + 1
        original(self, event)

    monkeypatch.setattr(SliceViewportWidget, "paintEvent", counted)
    return counts


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The output buffer of each ``render_slice`` call of the viewports."""
    from imaging_viewer.ui import slice_viewport

    buffers: list[object] = []
    original = slice_viewport.render_slice

    def counted(*args: Any, **kwargs: Any) -> Any:
        buffers.append(kwargs.get("out"))
        return original(*args, **kwargs)

    monkeypatch.setattr(slice_viewport, "render_slice", counted)
    return buffers


@pytest.fixture
def reslices(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The plane (axial, coronal, sagittal: by its normal) of each reslice."""
    from imaging_viewer.core import viewer_state

    planes: list[str] = []
    original = viewer_state.reslice

    def counted(volume: Any, plane: Any, **kwargs: Any) -> Any:
        normal = np.abs(np.asarray(plane.normal_lps))
        planes.append(("sagittal", "coronal", "axial")[int(np.argmax(normal))])
        return original(volume, plane, **kwargs)

    monkeypatch.setattr(viewer_state, "reslice", counted)
    return planes


def _mark_pixel(widget: SliceViewportWidget) -> tuple[int, int] | None:
    """The widget pixel of the cursor mark (None when it is not drawn)."""
    point = cursor_mark_point(widget)
    return None if point is None else (round(point.x()), round(point.y()))


def _reference_lines(widget: SliceViewportWidget) -> list[tuple[Any, ...]]:
    """The reference lines drawn over ``widget`` (its image's pixels)."""
    return [
        (colour.rgba(), np.asarray(segment).round(6).tolist(), dashed)
        for colour, segment, dashed in widget._reference_lines.lines()
    ]


def _idle(qtbot: QtBot, window: MainWindow) -> None:
    """Let every pending paint and the smooth repaint after scrolling happen."""
    qtbot.wait(50)
    for widget in window.viewport_widgets:
        widget.settle()
    qtbot.wait(50)


@pytest.mark.parametrize("layout", ["2x2", "1x3"])
@pytest.mark.parametrize("lines", [True, False])
def test_one_scroll_step_paints_each_mpr_view_once(
    qtbot: QtBot,
    head_ct_window: MainWindow,
    paints: dict[int, int],
    renders: list[object],
    reslices: list[str],
    layout: str,
    lines: bool,
) -> None:
    window = head_ct_window
    window.mpr.set_layout(layout)
    window.state.show_reference_lines = lines
    shown = window.viewport_widgets[: window.state.visible_count]
    assert [w.state.orientation for w in shown[:3]] == ["axial", "coronal", "sagittal"]
    fourth_moved = fourth_kept = False
    for _ in range(12):
        _idle(qtbot, window)
        fourth = shown[3].state.slice_index if layout == "2x2" else None
        mark = _mark_pixel(shown[3]) if layout == "2x2" else None
        drawn = _reference_lines(shown[3]) if layout == "2x2" else None
        paints.clear()
        renders.clear()
        reslices.clear()
        shown[0].state.scroll(1)  # what the wheel does
        for widget in shown:  # not yet the smooth repaint once scrolling stops
            widget._smooth_later.stop()
        QApplication.processEvents()  # one frame, as after an input event
        qtbot.wait(30)  # and anything queued behind it
        counts = [paints.get(id(widget), 0) for widget in shown]
        # The axial image moved, and the crosshair line on the other two planes.
        assert counts[:3] == [1, 1, 1], counts
        # Only the axial plane moved: resliced and rendered once.
        assert reslices == ["axial"], reslices
        rendered = [sum(b is w._buffer for b in renders) for w in shown]
        assert rendered[:3] == [1, 0, 0], rendered
        assert len(renders) == sum(rendered), "a render of no shown view"
        if layout == "2x2":
            # The acquired slices follow the cursor: painted when their slice
            # changed (or, with reference lines on, the planes' lines moved).
            assert counts[3] <= 1, counts
            assert rendered[3] == (shown[3].state.slice_index != fourth), rendered
            if shown[3].state.slice_index != fourth:
                fourth_moved = True
                assert counts[3] == 1, counts
            # Its cursor mark or a plane's line over it moved: painted once;
            # none of them nor its slice changed: not painted at all.
            needed = (
                shown[3].state.slice_index != fourth
                or _mark_pixel(shown[3]) != mark
                or _reference_lines(shown[3]) != drawn
            )
            assert counts[3] == int(needed), (counts, mark, _mark_pixel(shown[3]))
            fourth_kept = fourth_kept or not needed
    assert layout != "2x2" or (fourth_moved and (fourth_kept or lines))
