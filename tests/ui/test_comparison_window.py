"""The comparison layout in the real window (pytest-qt), on real data.

The corpus head CT moved by a known transform (resampled by SimpleITK,
another frame of reference, a later date) is opened, the corpus study added as
the prior; Compare with prior fills 1×2 by matching, the background
registration links scrolling (the prior lands on the same anatomy ± one
slice, by the known motion), landmarks clicked in the viewports override the
link, and Reset link returns to the registration.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from imaging_viewer.core.viewer_state import nearest_slice
from imaging_viewer.ui.main_window import MainWindow
from tests.conftest import window_settled
from tests.core.followup.test_registration import (
    SERIES_DESCRIPTION,
    SERIES_FOLDER,
    _fixed_series,
    write_moved_study,
)

if TYPE_CHECKING:
    from pathlib import Path

    from numpy.typing import NDArray
    from pytestqt.qtbot import QtBot

    from imaging_viewer.ui.slice_viewport import SliceViewportWidget


@pytest.fixture(scope="module")
def moved(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from imaging_viewer.core.dicom.load import load_volume

    series = _fixed_series(corpus)
    folder = tmp_path_factory.mktemp("comparison_window") / "later"
    truth = write_moved_study(series, load_volume(series), folder)
    return folder, truth


@pytest.fixture
def window(qtbot: QtBot) -> MainWindow:
    main = MainWindow(remember_settings=False)
    qtbot.addWidget(main)
    main.resize(1400, 900)
    main.show()
    return main


def _click(qtbot: QtBot, widget: SliceViewportWidget, lps: NDArray[Any]) -> None:
    pixel = widget._pixel_of_lps(lps)
    assert pixel is not None
    point = widget._widget_point(*pixel)
    qtbot.mouseClick(
        widget.viewport(),
        Qt.MouseButton.LeftButton,
        pos=QPoint(round(point.x()), round(point.y())),
    )


def _prior_is_on_same_anatomy(
    window: MainWindow, truth: NDArray[np.float64], ks: tuple[int, ...]
) -> None:
    current, prior = window.state.viewports[0], window.state.viewports[1]
    assert current.volume is not None
    assert prior.volume is not None
    for k in ks:
        current.set_slice(k)
        _, rows, columns = current.volume.shape_kji
        centre = current.volume.ijk_to_lps @ np.array(
            [(columns - 1) / 2, (rows - 1) / 2, k, 1.0]
        )
        anatomy = truth[:3, :3] @ centre[:3] + truth[:3, 3]
        expected = nearest_slice(prior.volume, anatomy)
        assert expected is not None
        assert abs(prior.slice_index - expected) <= 1


def test_compare_with_prior_registers_links_and_takes_landmarks(
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

    actions = window.actions_built.actions
    actions["comparison"].trigger()
    assert state.layout == "1x2"
    assert actions["comparison"].isChecked()
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    current, prior = state.viewports[0], state.viewports[1]
    assert prior.series is not None
    assert current.series is not None
    assert prior.series.description == SERIES_DESCRIPTION
    assert prior.series.study_uid != current.series.study_uid
    assert current.volume is not None
    frames = (
        prior.series.frame_of_reference_uid,
        current.volume.frame_of_reference_uid,
    )
    # The registration runs in the background; wait for it.
    qtbot.waitUntil(lambda: state.frame_transform(*frames) is not None, timeout=60_000)
    registration = state.frame_transform(*frames)
    assert registration is not None
    _prior_is_on_same_anatomy(window, truth, (8, 14, 20))

    # Landmarks: a point of the current study, then the same anatomy in the prior.
    current.set_slice(16)
    qtbot.wait(50)
    mark = (current.volume.ijk_to_lps @ np.array([300.0, 220.0, 16.0, 1.0]))[:3]
    same = truth[:3, :3] @ mark + truth[:3, 3]
    actions["comparison_landmarks"].trigger()
    _click(qtbot, window.viewport_widgets[0], mark)
    landed = nearest_slice(prior.volume, same)  # the registration's, meanwhile
    assert landed is not None
    assert abs(state.viewports[1].slice_index - landed) <= 1
    _click(qtbot, window.viewport_widgets[1], same)
    assert "Linked by landmarks: good match" in window.statusBar().currentMessage()
    offset = state.frame_transform(*frames)
    assert offset is not None
    np.testing.assert_allclose(offset[:3, :3], np.eye(3))
    # Nothing was drawn by the clicks.
    assert not any(lesion.annotations for lesion in state.annotations.lesions)
    _prior_is_on_same_anatomy(window, truth, (14, 16, 18))

    actions["comparison_reset_link"].trigger()
    assert window.statusBar().currentMessage() == "Link reset to the registration"
    reset = state.frame_transform(*frames)
    assert reset is not None
    np.testing.assert_allclose(reset, registration)

    # The prior viewport draws its own study's lesions, the current its own.
    workspace = window.workspace
    prior_study = workspace.study_of(prior.series.id)
    assert prior_study is not None
    assert window.viewport_widgets[1].annotations is workspace.annotations(
        prior_study.uid
    )
    assert window.viewport_widgets[0].annotations is state.annotations

    actions["comparison"].trigger()
    assert state.layout == "1x1"
    assert window.viewport_widgets[1].annotations is state.annotations


def test_a_series_dragged_from_the_browser_onto_the_prior_is_linked(
    window: MainWindow, qtbot: QtBot, corpus: Path, moved: Any
) -> None:
    """The same phantom rescanned in a third study (S21610, tilted gantry, its
    own frame of reference) dragged from the series browser onto the prior's
    viewport: it shows there and the link follows (registered in the
    background)."""
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QDropEvent

    later, _ = moved
    window.open_path(later)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    for count, folder in enumerate(("S21570", "S21610"), start=2):
        window.opening.add_study(corpus / SERIES_FOLDER / folder)
        qtbot.waitUntil(
            lambda n=count: len(window.workspace.studies) == n,  # type: ignore[misc]
            timeout=60_000,
        )
        qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    state = window.state
    later_series = next(
        s
        for study in window.workspace.studies.values()
        if study.date == "20990101"
        for s in study.series
    )
    window.show_series(later_series.id, 0)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    window.actions_built.actions["comparison"].trigger()
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    rescan = next(
        s
        for study in window.workspace.studies.values()
        for s in study.series
        if s.description == "STEREOTAXIS"
    )
    browser = window.series_browser
    mime = browser.tree_view.model().mimeData([browser.series_index(rescan.id)])
    event = QDropEvent(
        QPointF(20, 20),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.viewport_widgets[1].dropEvent(event)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    assert state.viewports[1].series is rescan
    frames = (rescan.frame_of_reference_uid, later_series.frame_of_reference_uid)
    qtbot.waitUntil(lambda: state.frame_transform(*frames) is not None, timeout=60_000)
    state.viewports[0].set_slice(14)
    assert state.viewports[1].slice_index not in (0, rescan.shape_kji[0] - 1)
