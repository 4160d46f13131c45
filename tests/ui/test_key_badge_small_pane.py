"""In a small pane (an MPR view of 340×240) the KEY badge does not cover the
corner text: it goes below the top corner blocks it would meet, or is left out
when there is no room (issue: the badge sat on the study description line)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtTest import QTest

from imaging_viewer.ui import slice_viewport
from imaging_viewer.ui.main_window import MainWindow
from imaging_viewer.ui.overlay_painter import OverlayPainter
from tests.conftest import window_settled

if TYPE_CHECKING:
    from pathlib import Path

    from pytestqt.qtbot import QtBot


@pytest.mark.parametrize("size", [(340, 240), (900, 700)])
def test_the_key_badge_keeps_clear_of_the_corner_text(
    qtbot: QtBot,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    corpus: Path,
    size: tuple[int, int],
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    window = MainWindow(remember_settings=False)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    window.open_path(corpus / "dcm_qa_ct" / "In" / "GE")
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    widget = window.active_widget
    QTest.keyClick(widget, Qt.Key.Key_K)
    assert window.state.annotations.key_images
    drawn: list[tuple[QRectF | None, list[QRectF]]] = []
    paint_badge = slice_viewport.paint_key_image_badge

    def recorded(painter: Any, view: Any, rects: Any = ()) -> QRectF | None:
        rects = list(rects)
        drawn.append((paint_badge(painter, view, rects), rects))
        return drawn[-1][0]

    monkeypatch.setattr(slice_viewport, "paint_key_image_badge", recorded)
    corner_text = OverlayPainter.corner_text

    def long_description(self: OverlayPainter, *args: Any, **kwargs: Any) -> Any:
        texts = dict(corner_text(self, *args, **kwargs))
        # A study description as long as real ones, under the first line.
        texts["top_left"] = [*texts["top_left"], "CT CHEST ABDOMEN PELVIS C+ PORTAL"]
        return texts

    monkeypatch.setattr(OverlayPainter, "corner_text", long_description)
    widget.setFixedSize(*size)
    qtbot.waitUntil(lambda: widget.viewport().width() <= size[0], timeout=5_000)
    widget.viewport().grab()
    badge, texts = drawn[-1]
    assert len(texts) == 4  # every corner has text
    if size == (900, 700):
        assert badge is not None  # where it was: top centre, under the letter
        assert badge.center().x() == pytest.approx(widget.viewport().width() / 2)
    if size == (340, 240):
        assert badge is None or badge.top() >= texts[0].bottom()  # moved down
    if badge is not None:
        assert not any(badge.intersects(rect) for rect in texts)
        assert QRectF(widget.viewport().rect()).contains(badge)
