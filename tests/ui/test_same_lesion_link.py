"""Issue 13 in the window, on real data: "same lesion as…" (Lesions panel button
and row menu, Annotate menu) lists this patient's earlier lesions only, shows
the prior in the comparison layout, links (undoably) so the Response dock has
one row; the link key says which viewports (another patient's) stay unlinked;
files dropped on the window add studies instead of replacing them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pydicom
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QMessageBox

from imaging_viewer.ui.main_window import MainWindow
from tests.conftest import window_settled
from tests.core.workspace.test_prior_location import (
    later_copy,
    measured_lesion,
    slice_positions_s,
)

if TYPE_CHECKING:
    from pathlib import Path

    from pytestqt.qtbot import QtBot

    from imaging_viewer.core.workspace import Study
    from imaging_viewer.ui.dialogs.same_lesion_dialog import SameLesionDialog

BASELINE_DATE = "20150206"


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The other-patient question, answered Yes; what it asked."""
    questions: list[str] = []

    def question(_parent: object, title: str, *_: object) -> object:
        questions.append(title)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", question)
    return questions


def _window(qtbot: QtBot) -> MainWindow:
    window = MainWindow(remember_settings=False)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    return window


def _add(qtbot: QtBot, window: MainWindow, path: Path, studies: int) -> None:
    window.opening.add_study(path)
    qtbot.waitUntil(lambda: len(window.workspace.studies) == studies, timeout=60_000)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)


@pytest.fixture
def follow_up_window(
    qtbot: QtBot, sample_data: Path, tmp_path: Path, asked: list[str]
) -> tuple[MainWindow, Study, Study, Study]:
    """A baseline and a follow-up CT of one patient (copies of the sample CT)
    and an MR of another patient; the follow-up in viewport 1."""
    baseline_folder = later_copy(
        sample_data / "CT", tmp_path / "baseline", date=BASELINE_DATE
    )
    window = _window(qtbot)
    window.open_path(baseline_folder)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    _add(qtbot, window, later_copy(sample_data / "CT", tmp_path / "later"), 2)
    _add(qtbot, window, later_copy(sample_data / "MR", tmp_path / "mr"), 3)
    baseline, follow_up = sorted(
        (s for s in window.workspace.studies.values() if s.series[0].modality == "CT"),
        key=lambda s: s.date,
    )
    (other,) = (
        s for s in window.workspace.studies.values() if s.series[0].modality != "CT"
    )
    window.show_series(follow_up.series[0].id, 0)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    window.start_annotations()
    return window, baseline, follow_up, other


def _dialog(window: MainWindow) -> SameLesionDialog:
    dialog: SameLesionDialog = window._same_lesion_dialog  # type: ignore[attr-defined]
    return dialog


def test_same_lesion_as_links_this_patients_prior_and_the_dock_tracks_it(
    qtbot: QtBot,
    follow_up_window: tuple[MainWindow, Study, Study, Study],
    sample_data: Path,
) -> None:
    window, baseline, follow_up, other = follow_up_window
    workspace = window.workspace
    positions = slice_positions_s(sample_data / "CT")  # pydicom, ascending S
    frame = baseline.series[0].frame_of_reference_uid
    workspace.annotations(baseline.uid).add_lesion(
        measured_lesion("L1 brain", (0.0, 0.0, positions[9]), frame, 40.0)
    )
    other_frame = other.series[0].frame_of_reference_uid
    workspace.annotations(other.uid).add_lesion(
        measured_lesion("another patient's", (0.0, 0.0, 0.0), other_frame, 30.0)
    )
    current = measured_lesion("new", (0.0, 0.0, positions[20]), frame, 28.0)
    assert window.annotation_study() is follow_up
    window.state.annotations.add_lesion(current)
    window.actions_built.actions["comparison"].trigger()
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    prior_view = window.state.viewports[1]
    assert prior_view.series is not None
    assert prior_view.series.study_uid == baseline.uid

    panel = window.lesions_panel
    panel.tree.setCurrentItem(panel.tree.topLevelItem(0))  # the "new" lesion
    assert window.state.active_lesion_id == current.id
    panel.same_lesion_button.click()
    dialog = _dialog(window)
    assert [p.lesion.label for p in dialog.priors] == ["L1 brain"]  # not the MR's
    row = dialog.tree.topLevelItem(0)
    assert [row.text(c) for c in range(4)] == [
        "baseline",
        "2015-02-06",
        "L1 brain",
        "40.0 mm",
    ]
    # Choosing it showed where it is: the prior viewport at its slice.
    assert dialog.location.text().endswith("shown in viewport 2")
    position = prior_view.slice_position_lps()
    assert position is not None
    assert float(position[2]) == pytest.approx(positions[9], abs=0.01)
    dialog.accept()
    assert "the Response table tracks it" in window.statusBar().currentMessage()

    docks = window.build_docks()
    docks.response_dock.show()
    grid = docks.response_panel.grid
    qtbot.waitUntil(lambda: grid.rowCount() == 1, timeout=5_000)
    assert grid.columnCount() == 2
    assert [grid.item(0, c).text() for c in range(2)] == [
        "40.0 mm",
        "28.0 mm (-30 %)",
    ]

    window.undo_action.trigger()  # the link is one undoable step
    qtbot.waitUntil(lambda: grid.rowCount() == 2, timeout=5_000)
    window.redo_action.trigger()
    qtbot.waitUntil(lambda: grid.rowCount() == 1, timeout=5_000)

    menu = panel.lesion_menu(panel.tree.topLevelItem(0))
    assert menu is not None
    texts = [action.text() for action in menu.actions()]
    assert texts == ["Same lesion as…", "Unlink from earlier lesion"]
    menu.actions()[1].trigger()
    qtbot.waitUntil(lambda: grid.rowCount() == 2, timeout=5_000)
    assert "no longer the same lesion" in window.statusBar().currentMessage()


def test_annotate_menu_says_what_is_missing(
    qtbot: QtBot, follow_up_window: tuple[MainWindow, Study, Study, Study]
) -> None:
    window, _baseline, _follow_up, _other = follow_up_window
    actions = window.actions_built.actions
    window.state.active_lesion_id = None
    actions["same_lesion"].trigger()
    assert "Select a lesion" in window.statusBar().currentMessage()
    lesion = measured_lesion("L9", (0.0, 0.0, 0.0), "")
    window.state.annotations.add_lesion(lesion)
    window.state.active_lesion_id = lesion.id
    actions["same_lesion"].trigger()  # the baseline has no lesion
    assert "No earlier time point" in window.statusBar().currentMessage()
    actions["unlink_lesion"].trigger()
    assert "not linked" in window.statusBar().currentMessage()


def test_link_key_says_another_patient_stays_unlinked(
    qtbot: QtBot, follow_up_window: tuple[MainWindow, Study, Study, Study]
) -> None:
    window, _baseline, _follow_up, other = follow_up_window
    window.set_layout("1x2")
    window.show_series(other.series[0].id, 1)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    window.state.link_scrolling = False
    window.statusBar().clearMessage()
    link = window.actions_built.actions["link"]
    link.trigger()
    assert window.state.link_scrolling
    message = window.statusBar().currentMessage()
    assert "viewport 2" in message
    assert "another patient" in message
    link.trigger()  # unlinked: nothing to say
    assert not window.state.link_scrolling


def _drop(window: MainWindow, *paths: Path) -> None:
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        data,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)
    assert event.isAccepted()


def _study_uids(folder: Path) -> set[str]:
    """Study Instance UIDs of the images of ``folder``, read by pydicom."""
    uids = set()
    for path in folder.rglob("*"):
        if path.is_file() and path.name != "DICOMDIR":
            ds = pydicom.dcmread(path, stop_before_pixels=True)
            if "StudyInstanceUID" in ds and "Rows" in ds:
                uids.add(str(ds.StudyInstanceUID))
    return uids


def test_dropping_studies_adds_them(
    qtbot: QtBot, corpus: Path, sample_data: Path, asked: list[str]
) -> None:
    window = _window(qtbot)
    ge, philips = corpus / "dcm_qa_ct/In/GE", corpus / "dcm_qa_ct/In/Philips"
    expected = len(_study_uids(ge) | _study_uids(philips))
    _drop(window, ge, philips)  # nothing open: the first opens, the next adds
    qtbot.waitUntil(lambda: len(window.workspace.studies) == expected, timeout=60_000)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    assert len(asked) == 1  # two patients: asked before adding the second
    roots = {root for s in window.workspace.studies.values() for root in s.roots}
    assert {str(ge), str(philips)} <= {str(r) for r in roots}

    shown = window.state.viewports[0].series
    _drop(window, sample_data / "MR")  # open already: added, nothing replaced
    expected += len(_study_uids(sample_data / "MR"))
    qtbot.waitUntil(lambda: len(window.workspace.studies) == expected, timeout=60_000)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    assert window.state.viewports[0].series is shown
    assert len(window.series_browser.series_ids()) == len(
        window.scan_result.series if window.scan_result else ()
    )
