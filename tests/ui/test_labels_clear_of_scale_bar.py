"""Measurement labels keep clear of the scale bar in small panes.

In MPR 2×2 at 1366×768 the 50 mm scale bar sat over the label of a ruler drawn
near the bottom centre: a label on the scale bar (or the corner text) now goes
above or below it, or to the other side of its anchor; a label clear of them
stays where it was (a real Philips head CT).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QPointF

from imaging_viewer.core.annotations.model import Lesion, Ruler
from imaging_viewer.ui.main_window import MainWindow
from tests.conftest import window_settled

if TYPE_CHECKING:
    from pathlib import Path

    from PySide6.QtCore import QRectF
    from pytestqt.qtbot import QtBot

    from imaging_viewer.ui.slice_viewport import SliceViewportWidget


def _labels(widget: SliceViewportWidget) -> list[QRectF]:
    """The label boxes of a fresh paint of ``widget``."""
    widget.viewport().repaint()
    return [rect.normalized() for rect in widget._overlays.label_rects]


def test_a_label_on_the_scale_bar_moves_clear_and_others_stay(
    qtbot: QtBot, corpus: Path
) -> None:
    window = MainWindow(remember_settings=False)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    window.open_path(corpus / "dcm_qa_ct/In/Philips/S21610")
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    series = max(window.scan_result.series, key=lambda s: len(s.files))  # type: ignore[union-attr]
    window.show_series(series.id, 0)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    window.mpr.set_layout("2x2")
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    window.start_annotations()
    widget = window.viewport_widgets[0]
    assert widget.state.orientation == "axial"
    assert widget.viewport().width() < 700, "not a small pane"
    widget.viewport().repaint()
    bar = widget._overlays.scale_bar_rect
    assert bar is not None

    plane = widget.current_plane()
    assert plane is not None
    frame = widget.state.volume.frame_of_reference_uid  # type: ignore[union-attr]
    normal = tuple(float(v) for v in np.asarray(plane.normal_lps))

    def ruler(lesion_id: str, y: float) -> Ruler:
        x = bar.center().x()
        start, end = (widget.lps_at(QPointF(x + dx, y)) for dx in (-40.0, 10.0))
        assert start is not None
        assert end is not None
        return Ruler(
            lesion_id=lesion_id,
            frame_of_reference_uid=frame,
            plane_normal_lps=normal,  # type: ignore[arg-type]
            start_lps=tuple(float(v) for v in start),  # type: ignore[arg-type]
            end_lps=tuple(float(v) for v in end),  # type: ignore[arg-type]
        )

    bottom = Lesion(
        id="bottom", label="bottom", annotations=(ruler("bottom", bar.top() + 4),)
    )
    middle = widget.viewport().height() / 2
    top = Lesion(id="top", label="top", annotations=(ruler("top", middle),))
    annotations = window.state.annotations
    annotations.add_lesion(bottom)
    annotations.add_lesion(top)

    window.state.show_overlays = False  # no text: nothing to keep clear of
    free = _labels(widget)
    assert len(free) == 2
    assert free[0].intersects(bar), "the test's ruler is not on the scale bar"
    window.state.show_overlays = True
    placed = _labels(widget)
    assert widget._overlays.scale_bar_rect == bar
    assert not placed[0].intersects(bar), (placed[0], bar)
    assert placed[0].bottom() <= bar.top(), "not above the bar"
    corners = widget._overlays.corner_rects.values()
    assert not any(placed[0].intersects(rect) for rect in corners)
    assert placed[1] == free[1], "a label clear of the text moved"
