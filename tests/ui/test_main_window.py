"""MainWindow: opening a study, layouts, linked scrolling, cancel, screenshot."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from PySide6.QtGui import QAction, QImage

from imaging_viewer.ui.first_look import first_look_file
from imaging_viewer.ui.main_window import MainWindow
from tests.conftest import window_settled

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

    from tests.conftest import MakeSeries


@pytest.fixture
def window(qtbot: QtBot) -> MainWindow:
    main = MainWindow(remember_settings=False)
    qtbot.addWidget(main)
    main.resize(1400, 900)
    main.show()
    return main


def test_opening_the_sample_study_lists_and_shows_it(
    window: MainWindow, qtbot: QtBot, sample_data: Path
) -> None:
    window.open_path(sample_data)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    assert window.scan_result is not None
    modalities = sorted(s.modality for s in window.scan_result.series)
    assert modalities == ["CR", "CR", "CT", "MR"]
    shown = window.state.viewports[0]
    assert shown.volume is not None
    assert shown.series is not None
    # The largest volume opens first (the CT), in its first header window, even
    # though a one-image preview was shown while it loaded.
    assert shown.series.modality == "CT"
    assert shown.window is not None
    assert shown.window_label.startswith("header 1/")
    # On the slice the first look showed (the middle file by name), not the
    # middle slice: the image on screen does not jump once the series loads.
    first_file = first_look_file(sample_data)
    assert first_file is not None
    paths = [Path(frame.path).resolve() for frame in shown.series.frames[0]]
    assert shown.slice_index == paths.index(Path(first_file).resolve())
    assert shown.slice_index != shown.n_slices // 2
    # Skipped files (licences, README) reach the problems panel, not only a log.
    skipped = {p.path for p in window.scan_result.skipped}
    assert any(path.endswith("README.md") for path in skipped)
    assert window.problems_panel.count >= len(skipped)


def test_layout_two_by_two_fills_each_viewport_with_a_series(
    window: MainWindow, qtbot: QtBot, sample_data: Path
) -> None:
    window.open_path(sample_data)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    window.set_layout("2x2")
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    ids = [v.series.id for v in window.state.viewports if v.series is not None]
    assert len(ids) == 4
    assert len(set(ids)) == 4
    assert all(w.isVisible() for w in window.viewport_widgets)
    window.set_layout("1x2")
    assert [w.isVisible() for w in window.viewport_widgets] == [
        True,
        True,
        False,
        False,
    ]


def test_viewports_in_one_frame_of_reference_scroll_together(
    window: MainWindow, qtbot: QtBot, make_series: MakeSeries
) -> None:
    thin = make_series(
        shape=(20, 16, 16),
        spacing_mm=(1.0, 1.0, 2.0),
        folder="a",
        series_number=1,
        frame_of_reference_uid="1.2.3.4.5",
    )
    make_series(
        shape=(10, 16, 16),
        spacing_mm=(1.0, 1.0, 4.0),
        folder="a",
        series_number=2,
        frame_of_reference_uid="1.2.3.4.5",
    )
    window.set_layout("1x2")
    window.open_path(thin.folder)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    left, right = window.state.viewports[:2]
    assert left.volume is not None
    assert right.volume is not None
    assert left.volume.shape_kji[0] != right.volume.shape_kji[0]
    left_widget = window.viewport_widgets[0]
    left.set_slice(0)
    for _ in range(8):
        left_widget._scroll(1)

    def centre_z(state: object) -> float:
        volume = state.volume  # type: ignore[attr-defined]
        k = state.slice_index  # type: ignore[attr-defined]
        return float((volume.ijk_to_lps @ np.array([0, 0, k, 1.0]))[2])

    assert abs(centre_z(left) - centre_z(right)) <= 2.0 + 1e-6
    window.link_action.trigger()  # unlink
    before = right.slice_index
    left_widget._scroll(2)
    assert right.slice_index == before


def test_cancel_stops_a_load_without_breaking_the_window(
    window: MainWindow, qtbot: QtBot, make_series: MakeSeries
) -> None:
    series = make_series(shape=(120, 64, 64))
    window.open_path(series.folder)
    window.cancel_loading()
    assert not window.is_busy
    assert not any(v.loading for v in window.state.viewports)
    # The window still opens things afterwards.
    window.open_path(series.folder)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    assert window.state.viewports[0].volume is not None


def test_a_series_picked_in_the_browser_opens_in_the_active_viewport(
    window: MainWindow, qtbot: QtBot, sample_data: Path
) -> None:
    window.open_path(sample_data)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    assert window.scan_result is not None
    mr = next(s for s in window.scan_result.series if s.modality == "MR")
    window.series_browser.series_activated.emit(mr.id)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    state = window.state.active
    assert state.series is not None
    assert state.series.id == mr.id
    assert state.volume is not None
    assert state.volume.n_time_points == 10


def test_screenshot_command_writes_the_window(
    tmp_path: Path, sample_data: Path
) -> None:
    out = tmp_path / "shot.png"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "imaging_viewer",
            str(sample_data / "CT"),
            "--screenshot",
            str(out),
            "--size",
            "1200x800",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert completed.returncode == 0, completed.stderr
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1200, 800)


def test_a_folder_shows_a_first_look_before_its_scan_ends(
    window: MainWindow, qtbot: QtBot, make_series: MakeSeries
) -> None:
    series = make_series(shape=(40, 32, 32))
    viewport = window.state.viewports[0]
    # What is on screen when the first image is noted (the scan of 40 files can
    # end a few milliseconds later, before a poll would look).
    seen: list[tuple[bool, int]] = []
    first_look_lps: list[Any] = []
    note_first_image = window._note_first_image

    def noting() -> None:
        assert viewport.volume is not None
        seen.append((window.scan_result is None, viewport.volume.shape_kji[0]))
        first_look_lps.append(viewport.pixel_to_lps())
        note_first_image()

    window._note_first_image = noting  # type: ignore[method-assign]
    window.open_path(series.folder)
    qtbot.waitUntil(lambda: bool(seen), timeout=30_000)
    # One image of the folder, shown before the scan (it starts afterwards).
    assert seen[0] == (True, 1)
    assert window.first_image_shown_at is not None
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    # Then the whole series, on the slice the first look showed: the files are
    # named out of position order, so that is not the middle slice by chance.
    assert viewport.volume is not None
    assert viewport.volume.shape_kji[0] == 40
    shown_file = first_look_file(series.folder)
    assert shown_file is not None
    shown_k = series.slice_of[Path(shown_file)][1]
    assert shown_k != 20
    assert viewport.slice_index == shown_k
    np.testing.assert_allclose(viewport.pixel_to_lps(), first_look_lps[0])


def test_a_multiframe_first_look_stays_on_its_slice(
    window: MainWindow, qtbot: QtBot, corpus: Path, tmp_path: Path
) -> None:
    # One enhanced MR file: the first look is the whole series already.
    folder = tmp_path / "enhanced"
    folder.mkdir()
    shutil.copy(corpus / "dcm_qa_enh/In/Siemens/XA10/6_1.dcm", folder / "6_1.dcm")
    viewport = window.state.viewports[0]
    first_look: list[tuple[int, int]] = []
    note_first_image = window._note_first_image

    def noting() -> None:
        assert viewport.volume is not None
        first_look.append((viewport.volume.shape_kji[0], viewport.slice_index))
        note_first_image()

    window._note_first_image = noting  # type: ignore[method-assign]
    window.open_path(folder)
    qtbot.waitUntil(lambda: bool(first_look), timeout=30_000)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    n_slices, shown_k = first_look[0]
    assert n_slices > 1
    assert viewport.volume is not None
    assert viewport.volume.shape_kji[0] == n_slices
    assert viewport.slice_index == shown_k


def _listed_keys(cell: str) -> set[str]:
    """The key sequences a cell of the shortcut list names, in QKeySequence text.

    ``Alt+S/P/A/T`` is Alt+S, Alt+P, …; ``Ctrl+1 … Ctrl+4`` a range; ``/`` and
    ``or`` separate alternatives.
    """
    from PySide6.QtGui import QKeySequence

    keys: set[str] = set()
    for alternative in re.split(r"\s+/\s+|\s+or\s+", cell):
        span = re.fullmatch(r"(\w+\+)(\d) … \1(\d)", alternative)
        if span:
            first, last = int(span[2]), int(span[3])
            names = [f"{span[1]}{n}" for n in range(first, last + 1)]
        else:
            head, *rest = alternative.split("/")
            prefix = head[: head.rfind("+") + 1]
            names = [head, *(prefix + tail for tail in rest)]
        keys.update(QKeySequence(name).toString() for name in names)
    return keys


def test_help_lists_every_shortcut_of_the_window(window: MainWindow) -> None:
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QTableWidget

    window.show_shortcuts()
    table = window._shortcuts_dialog.findChild(QTableWidget)
    assert table is not None
    cells = [table.item(row, 0).text() for row in range(table.rowCount())]
    per_cell = [_listed_keys(cell) for cell in cells]
    listed = set().union(*per_cell)
    bound = {
        sequence.toString()
        for action in window.findChildren(QAction)
        for sequence in action.shortcuts()
        if not sequence.isEmpty()
    }
    assert bound, "the window binds shortcuts"
    assert bound <= listed, f"not in Help: {sorted(bound - listed)}"
    twice = [key for key in bound if sum(key in keys for keys in per_cell) > 1]
    assert not twice, f"explained more than once: {twice}"
    # Read-only, and long actions wrap rather than run off the dialog.
    assert table.editTriggers() == table.EditTrigger.NoEditTriggers
    assert table.wordWrap()
    window._shortcuts_dialog.close()


def test_ctrl_t_opens_the_tag_browser_ready_to_search(
    window: MainWindow, qtbot: QtBot, sample_data: Path
) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    window.open_path(sample_data / "CT")
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    window.activateWindow()
    window.active_widget.setFocus()
    qtbot.waitUntil(lambda: window.active_widget.hasFocus(), timeout=5000)
    QTest.keyClick(
        window.active_widget, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier
    )
    assert window.tags_dock.isVisible()
    search = window.tag_browser.search_edit
    qtbot.waitUntil(lambda: QApplication.focusWidget() is search, timeout=5000)
    # Typing searches the tags; it no longer reaches the viewport's keys.
    overlays = window.active_widget.show_overlays
    QTest.keyClicks(search, "echo")
    assert search.text() == "echo"
    assert window.active_widget.show_overlays == overlays
    QTest.keyClick(search, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    assert not window.tags_dock.isVisible()
    qtbot.waitUntil(lambda: window.active_widget.hasFocus(), timeout=5000)


def test_a_series_opened_from_the_browser_takes_the_keyboard(
    window: MainWindow, qtbot: QtBot, sample_data: Path
) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    window.open_path(sample_data)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    window.activateWindow()
    browser = window.series_browser
    ct = next(s for s in window.scan_result.series if s.modality == "CT")
    tree = browser.tree_view
    tree.setCurrentIndex(browser.series_index(ct.id))
    tree.setFocus()
    qtbot.waitUntil(tree.hasFocus, timeout=5000)
    QTest.keyClick(tree, Qt.Key.Key_Return)  # as a double-click does
    qtbot.waitUntil(lambda: window.state.active.series is ct, timeout=30_000)
    qtbot.waitUntil(lambda: window.active_widget.hasFocus(), timeout=5000)
    qtbot.waitUntil(lambda: window.state.active.volume is not None, timeout=30_000)
    before = window.state.active.slice_index
    QTest.keyClick(window.active_widget, Qt.Key.Key_Down)
    assert window.state.active.slice_index == before + 1


def test_thumbnails_are_held_until_the_shown_series_has_loaded(
    window: MainWindow, qtbot: QtBot, sample_data: Path
) -> None:
    # Each time the window's loads change, thumbnails are held exactly while
    # a load runs.
    seen: list[tuple[bool, bool]] = []
    workspace = window.workspace
    changed = workspace._update_no_loads

    def record() -> None:
        changed()
        seen.append(
            (workspace.busy and bool(workspace._loads), workspace.no_loads.is_set())
        )

    workspace._update_no_loads = record  # type: ignore[method-assign]
    original_load = workspace.load

    def load(series_id: str) -> object:
        result = original_load(series_id)
        seen.append((bool(workspace._loads), workspace.no_loads.is_set()))
        return result

    workspace.load = load  # type: ignore[method-assign]
    window.open_path(sample_data)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    browser = window.series_browser
    assert browser.thumbnails_go is workspace.no_loads
    assert (True, False) in seen  # a load ran, with the thumbnails held
    assert all(loading != released for loading, released in seen)
    assert browser.thumbnails_go.is_set()  # released once the loads are done
    qtbot.waitUntil(
        lambda: all(
            browser.thumbnail_state(i) == "ready" for i in browser.series_ids()
        ),
        timeout=60_000,
    )


def test_export_without_patient_data_burns_in_no_identifying_text(
    window: MainWindow,
    qtbot: QtBot,
    make_series: MakeSeries,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from PySide6 import QtWidgets

    # A black image: every bright pixel of a corner is burned-in text.
    made = make_series(
        shape=(3, 128, 128), values=lambda i, j, k, t: 0 * i, window=(100.0, 50.0)
    )
    window.open_path(made.folder)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    out = tmp_path / "slide.png"
    monkeypatch.setattr(
        QtWidgets.QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "")
    )

    def top_left_text() -> bool:
        image = QImage(str(out)).convertToFormat(QImage.Format.Format_Grayscale8)
        grey = np.frombuffer(image.constBits(), dtype=np.uint8).reshape(
            image.height(), image.bytesPerLine()
        )
        return bool((grey[: image.height() // 5, : image.width() // 3] > 128).any())

    window.view_export.export_view(True)
    assert top_left_text()  # the patient's name and ID
    action = next(
        a for a in window.findChildren(QAction) if a.text().endswith("patient data…")
    )
    assert action.shortcut().toString() == "Ctrl+Alt+E"
    action.trigger()
    assert not top_left_text()


def test_adding_a_study_keeps_what_is_open(
    window: MainWindow,
    qtbot: QtBot,
    sample_data: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The sample CT and MR are of two patients: the question is answered Yes.
    monkeypatch.setattr(
        "PySide6.QtWidgets.QMessageBox.question",
        lambda *_: __import__("PySide6.QtWidgets").QtWidgets.QMessageBox.Yes,
    )
    window.open_path(sample_data / "CT")
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    ct = window.state.viewports[0].series
    assert ct is not None
    ct_volume = window.state.viewports[0].volume
    window.opening.add_study(sample_data / "MR")
    qtbot.waitUntil(
        lambda: window_settled(window) and len(window.workspace.studies) == 2,
        timeout=60_000,
    )
    assert window.scan_result is not None
    assert sorted(s.modality for s in window.scan_result.series) == ["CT", "MR"]
    # The CT stays where it was, with its volume; the browser lists both studies.
    assert window.state.viewports[0].series is ct
    assert window.state.viewports[0].volume is ct_volume
    browser = window.series_browser
    assert sorted(browser.series_ids()) == sorted(
        s.id for s in window.scan_result.series
    )
    assert browser.model.rowCount() == 2  # two patients
    # Opening (not adding) replaces both.
    window.open_path(sample_data / "MR")
    qtbot.waitUntil(
        lambda: window_settled(window) and len(window.workspace.studies) == 1,
        timeout=60_000,
    )
    assert [s.modality for s in window.scan_result.series] == ["MR"]
