"""The 3D cursor and reformatted planes across the comparison (issue 13 item 3),
in the real window (pytest-qt), on real data.

The corpus head CT moved by a known transform (resampled by SimpleITK, another
frame of reference, a later date) is opened and the corpus study added as the
prior; Compare with prior registers them in the background. A crosshair-tool
click in the current study moves the prior to the same anatomy (checked against
the known motion) and marks it; "Show → Coronal" on both viewports gives the
prior the current coronal plane turned by the registration.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QPointF
from PySide6.QtGui import QAction

from imaging_viewer.ui.cursor_mark import cursor_mark_point
from tests.conftest import window_settled
from tests.core.followup.test_registration import SERIES_FOLDER
from tests.ui.test_comparison_window import _click, moved, window

if TYPE_CHECKING:
    from pathlib import Path

    from pytestqt.qtbot import QtBot

    from imaging_viewer.ui.main_window import MainWindow
    from imaging_viewer.ui.slice_viewport import SliceViewportWidget

__all__ = ["moved", "window"]  # the fixtures, shared


def _show(window: MainWindow, widget: SliceViewportWidget, kind: str) -> None:
    from imaging_viewer.ui.image_context_menu import build_image_menu

    menu = build_image_menu(window, window.actions_built, widget, QPointF(5, 5))
    entries = {a.objectName(): a for a in menu.findChildren(QAction)}
    entries[f"free_view_{kind}"].trigger()


def test_the_cursor_and_planes_map_to_the_prior(
    window: MainWindow, qtbot: QtBot, corpus: Path, moved: Any
) -> None:
    later, truth = moved
    window.open_path(later)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    window.opening.add_study(corpus / SERIES_FOLDER / "S21570")
    qtbot.waitUntil(lambda: len(window.workspace.studies) == 2, timeout=60_000)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    state = window.state
    state.active_index = 0
    window.show_series(state.viewports[0].series.id, 0)  # type: ignore[union-attr]
    window.actions_built.actions["comparison"].trigger()
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    current, prior = state.viewports[0], state.viewports[1]
    assert current.volume is not None
    assert prior.series is not None
    frames = (
        prior.series.frame_of_reference_uid,
        current.volume.frame_of_reference_uid,
    )
    qtbot.waitUntil(lambda: state.frame_transform(*frames) is not None, timeout=60_000)

    # A crosshair click on the current study's slice: the prior follows.
    window.set_left_tool("crosshair")
    current.set_slice(14)
    qtbot.wait(50)
    mark = (current.volume.ijk_to_lps @ np.array([300.0, 220.0, 14.0, 1.0]))[:3]
    _click(qtbot, window.viewport_widgets[0], mark)
    same = truth[:3, :3] @ mark + truth[:3, 3]
    assert prior.cursor_lps is not None
    assert np.linalg.norm(np.asarray(prior.cursor_lps) - same) < 2.0
    assert prior.volume is not None
    ijk = np.linalg.solve(
        prior.volume.ijk_to_lps[:3, :3], same - prior.volume.ijk_to_lps[:3, 3]
    )
    assert abs(prior.slice_index - round(float(ijk[2]))) <= 1
    widgets = window.viewport_widgets
    assert cursor_mark_point(widgets[0]) is not None
    assert cursor_mark_point(widgets[1]) is not None, "no cursor mark on the prior"
    state.toggle_crosshair()
    assert cursor_mark_point(widgets[1]) is None
    state.toggle_crosshair()

    # Show → Coronal in both: the prior's plane is the current's, turned.
    _show(window, widgets[0], "coronal")
    _show(window, widgets[1], "coronal")
    assert current.orientation == "coronal"
    assert current.plane_rotation is None
    assert prior.plane_rotation is not None
    assert prior.cursor_lps is not None
    assert current.cursor_lps is not None
    mapped = truth[:3, :3] @ np.asarray(current.cursor_lps) + truth[:3, 3]
    assert np.linalg.norm(np.asarray(prior.cursor_lps) - mapped) < 2.0
    plane = prior.plane()
    assert plane is not None
    turned = truth[:3, :3] @ np.array([1.0, 0.0, 0.0])
    assert float(plane.right_lps @ turned) > np.cos(np.radians(1.0))
    assert any("Oblique" in line for line in widgets[1]._corner_text()["bottom_left"])
