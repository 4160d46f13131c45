"""The Local database window (issue 14 item 1) on real corpus files, against
pydicom reading the same files: import by reference and by copy, search by
name, ID, date and modality, open a study in the window, remove (copied files
gone, referenced ones kept), re-index, cancel an import; a damaged and a
newer-schema database are said in the window and left untouched."""

from __future__ import annotations

import shutil
import sqlite3
import warnings
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import pydicom
import pytest
from PySide6.QtWidgets import QMessageBox

from imaging_viewer.core.pacs.database import SCHEMA_VERSION, StudyDatabase
from imaging_viewer.ui.dialogs.database_dialog import (
    DatabaseDialog,
    folders_to_open,
    show_database_dialog,
)
from imaging_viewer.ui.main_window import MainWindow
from tests.conftest import window_settled

if TYPE_CHECKING:
    from pathlib import Path

    from pytestqt.qtbot import QtBot

pytestmark = pytest.mark.corpus


def _studies(folder: Path) -> dict[str, dict[str, Any]]:
    """Study UID → patient name, ID, date, modalities, series, instances, as
    pydicom reads the composite instances under ``folder``."""
    found: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"series": set(), "instances": 0, "modalities": set()}
    )
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds = pydicom.dcmread(path, stop_before_pixels=True)
        except Exception:
            continue
        if "StudyInstanceUID" not in ds or "SOPInstanceUID" not in ds:
            continue
        study = found[str(ds.StudyInstanceUID)]
        study["name"] = str(ds.get("PatientName", ""))
        study["id"] = str(ds.get("PatientID", ""))
        study["date"] = str(ds.get("StudyDate", ""))
        study["series"].add(str(ds.SeriesInstanceUID))
        study["modalities"].add(str(ds.get("Modality", "")))
        study["instances"] += 1
    return dict(found)


def _dialog(qtbot: QtBot, tmp_path: Path) -> tuple[DatabaseDialog, list[list[Path]]]:
    opened: list[list[Path]] = []
    dialog = DatabaseDialog(
        lambda files, _name: opened.append(files),
        database_path=tmp_path / "studies.sqlite",
    )
    qtbot.addWidget(dialog)
    return dialog, opened


def _import(qtbot: QtBot, dialog: DatabaseDialog, folder: Path, copy: bool) -> None:
    dialog.import_paths([folder], copy=copy)
    assert dialog.busy
    qtbot.waitUntil(lambda: not dialog.busy, timeout=60_000)


def _shown(dialog: DatabaseDialog) -> dict[str, tuple[str, ...]]:
    tree = dialog.tree
    return {
        str(tree.topLevelItem(i).data(0, 256)): tuple(
            tree.topLevelItem(i).text(c) for c in range(7)
        )
        for i in range(tree.topLevelItemCount())
    }


def test_import_by_reference_lists_and_searches_the_studies(
    qtbot: QtBot, tmp_path: Path, corpus: Path
) -> None:
    ct = corpus / "dcm_qa_ct" / "In"
    mr = corpus / "dcm_qa_nih" / "In" / "20180918Si" / "mr_0003"
    dialog, _ = _dialog(qtbot, tmp_path)
    _import(qtbot, dialog, ct, copy=False)
    _import(qtbot, dialog, mr, copy=False)
    expected = {**_studies(ct), **_studies(mr)}
    shown = _shown(dialog)
    assert set(shown) == set(expected)
    for uid, study in expected.items():
        row = shown[uid]
        # The name as people read it ("Family, Given"), from pydicom's parse of PN.
        name = pydicom.valuerep.PersonName(study["name"])
        parts = (name.family_name, name.given_name, name.middle_name)
        parts += (name.name_prefix, name.name_suffix)
        assert row[0] == ", ".join(p for p in parts if p)
        assert row[1] == study["id"]
        assert row[2].replace("-", "") == study["date"]
        assert row[3] == "/".join(sorted(study["modalities"]))
        assert (int(row[5]), int(row[6])) == (len(study["series"]), study["instances"])
    assert f"{len(expected)} of {len(expected)} studies shown" in dialog.counts.text()
    # Nothing copied: the files stay where they are.
    assert not (tmp_path / "files").exists()

    # Expanded: its series, with their instance counts.
    uid, study = max(expected.items(), key=lambda kv: len(kv[1]["series"]))
    item = next(
        dialog.tree.topLevelItem(i)
        for i in range(dialog.tree.topLevelItemCount())
        if dialog.tree.topLevelItem(i).data(0, 256) == uid
    )
    item.setExpanded(True)
    children = [item.child(i) for i in range(item.childCount())]
    assert {str(c.data(0, 256)) for c in children} == study["series"]
    assert sum(int(c.text(6)) for c in children) == study["instances"]

    def matching(**fields: str) -> set[str]:
        for name, widget in (
            ("name", dialog.patient_name),
            ("id", dialog.patient_id),
            ("modality", dialog.modality),
        ):
            widget.setText(fields.get(name, ""))
        dialog.date_choice.setCurrentText(fields.get("choice", "any date"))
        dialog.date_range.setText(fields.get("range", ""))
        dialog.search()
        return set(_shown(dialog))

    def where(test: Any) -> set[str]:
        return {uid for uid, study in expected.items() if test(study)}

    name = next(iter(expected.values()))["name"]
    assert matching(name=name[:3] + "*") == where(
        lambda s: s["name"].lower().startswith(name[:3].lower())
    )
    patient_id = next(iter(expected.values()))["id"]
    assert matching(id=patient_id) == where(lambda s: patient_id in s["id"])
    assert matching(modality="MR") == where(lambda s: "MR" in s["modalities"])
    assert matching(choice="range", range="20150101-20151231") == where(
        lambda s: "20150101" <= s["date"] <= "20151231"
    )
    assert matching(choice="today") == where(lambda s: False) == set()

    # Typing searches too, a moment after the last key.
    matching()
    qtbot.keyClicks(dialog.modality, "MR")
    mr_studies = where(lambda s: "MR" in s["modalities"])
    qtbot.waitUntil(lambda: set(_shown(dialog)) == mr_studies, timeout=5_000)


def test_import_by_copy_then_remove_deletes_only_copies(
    qtbot: QtBot, tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = corpus / "dcm_qa_ct" / "In" / "GE"
    dialog, _ = _dialog(qtbot, tmp_path)
    _import(qtbot, dialog, source, copy=True)
    ((uid, study),) = _studies(source).items()
    copies = sorted((tmp_path / "files").rglob("*.dcm"))
    assert len(copies) == study["instances"]
    assert {str(pydicom.dcmread(p).SOPInstanceUID) for p in copies} == {
        str(pydicom.dcmread(p).SOPInstanceUID) for p in source.iterdir()
    }
    # A referenced study beside it.
    other = corpus / "dcm_qa_nih" / "In" / "20180918Si" / "mr_0003"
    _import(qtbot, dialog, other, copy=False)

    asked: list[str] = []

    def question(*args: Any) -> QMessageBox.StandardButton:
        asked.append(args[2])
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", question)
    dialog.tree.clearSelection()
    dialog.tree.selectAll()
    removed = dialog.remove_selected()
    assert removed == study["instances"] + 2
    assert f"{study['instances']} file(s) copied" in asked[0]
    assert "2 file(s) referenced in place stay" in asked[0]
    assert not list((tmp_path / "files").rglob("*.dcm"))
    assert all(p.is_file() for p in other.iterdir())  # referenced: left
    assert dialog.tree.topLevelItemCount() == 0
    assert uid not in _shown(dialog)


def test_removal_declined_removes_nothing(
    qtbot: QtBot, tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialog, _ = _dialog(qtbot, tmp_path)
    _import(qtbot, dialog, corpus / "dcm_qa_ct" / "In" / "GE", copy=True)
    monkeypatch.setattr(
        QMessageBox, "question", lambda *a: QMessageBox.StandardButton.No
    )
    dialog.tree.selectAll()
    assert dialog.remove_selected() == 0
    assert dialog.tree.topLevelItemCount() == 1


def test_reindex_drops_files_gone_and_lists_them(
    qtbot: QtBot, tmp_path: Path, corpus: Path
) -> None:
    folder = tmp_path / "GE"
    shutil.copytree(corpus / "dcm_qa_ct" / "In" / "GE", folder)
    dialog, _ = _dialog(qtbot, tmp_path)
    _import(qtbot, dialog, folder, copy=False)
    count = len(list(folder.iterdir()))
    assert dialog.studies[0].instance_count == count
    gone = sorted(folder.iterdir())[3]
    gone.unlink()
    dialog.reindex()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=60_000)
    assert dialog.studies[0].instance_count == count - 1
    assert dialog.errors.isVisible() or not dialog.isVisible()
    assert [dialog.errors.item(i).text() for i in range(dialog.errors.count())] == [
        f"{gone}: {dialog.last_result.skipped[0][1]}"  # type: ignore[union-attr]
    ]


def test_unreadable_files_are_listed_with_why(
    qtbot: QtBot, tmp_path: Path, corpus: Path
) -> None:
    folder = tmp_path / "mixed"
    shutil.copytree(corpus / "dcm_qa_nih" / "In" / "20180918Si" / "mr_0003", folder)
    (folder / "notes.txt").write_text("not DICOM")
    dialog, _ = _dialog(qtbot, tmp_path)
    _import(qtbot, dialog, folder, copy=False)
    listed = sorted(dialog.errors.item(i).text() for i in range(dialog.errors.count()))
    assert len(listed) == 2  # the corpus's README and ours
    assert listed[1].startswith(f"{folder / 'notes.txt'}: not a DICOM file")
    assert "2 instance(s) indexed, 2 file(s) could not be" in dialog.status.text()


def test_cancelled_import_keeps_the_window_usable(
    qtbot: QtBot, tmp_path: Path, corpus: Path
) -> None:
    source = corpus / "dcm_qa_nih" / "In" / "20180918GE"
    total = sum(s["instances"] for s in _studies(source).values())
    dialog, _ = _dialog(qtbot, tmp_path)
    dialog.import_paths([source], copy=True)
    assert dialog.cancel_button.isEnabled()
    assert not dialog.import_button.isEnabled()
    dialog.cancel()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=60_000)
    assert dialog.status.text().startswith("cancelled")
    assert dialog.import_button.isEnabled()
    assert not dialog.cancel_button.isEnabled()
    with StudyDatabase(tmp_path / "studies.sqlite") as database:
        indexed = database.counts()[3]
    assert indexed < total
    assert len(list((tmp_path / "files").rglob("*.dcm"))) == indexed


def test_damaged_database_is_said_and_left_untouched(
    qtbot: QtBot, tmp_path: Path
) -> None:
    path = tmp_path / "studies.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    before = path.read_bytes()
    dialog, _ = _dialog(qtbot, tmp_path)
    assert dialog.database is None
    assert "not a SQLite database" in dialog.status.text()
    assert "left untouched" in dialog.status.text()
    assert not dialog.import_button.isEnabled()
    assert not dialog.reindex_button.isEnabled()
    dialog.import_paths([tmp_path], copy=False)  # refused: nothing runs
    assert not dialog.busy
    assert path.read_bytes() == before


def test_newer_schema_is_said_and_left_untouched(qtbot: QtBot, tmp_path: Path) -> None:
    path = tmp_path / "studies.sqlite"
    StudyDatabase(path).close()
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE SchemaInfo SET Version = ?", (SCHEMA_VERSION + 1,))
    connection.close()
    before = path.read_bytes()
    dialog, _ = _dialog(qtbot, tmp_path)
    assert dialog.database is None
    assert "newer imaging-viewer" in dialog.status.text()
    assert not dialog.remove_button.isEnabled()
    assert path.read_bytes() == before


def test_folders_to_open_keep_to_the_files_chosen(corpus: Path) -> None:
    ge = sorted((corpus / "dcm_qa_ct" / "In" / "GE").iterdir())
    assert folders_to_open(ge) == [ge[0].parent]
    assert folders_to_open(ge[:3]) == [ge[0].parent]  # its folder (the scan picks)
    philips = corpus / "dcm_qa_ct" / "In" / "Philips"
    files = [p for p in philips.rglob("*") if p.is_file()]
    assert folders_to_open(files) == [philips]


@pytest.mark.qt_log_ignore("does not support raise", "propagateSizeHints")
def test_open_from_the_window_adds_the_study_beside_the_open_one(
    qtbot: QtBot, tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.setattr(
        QMessageBox, "question", lambda *a: QMessageBox.StandardButton.Yes
    )
    first = corpus / "dcm_qa_nih" / "In" / "20180918Si" / "mr_0003"
    second = corpus / "dcm_qa_ct" / "In" / "GE"
    window = MainWindow(remember_settings=False)
    qtbot.addWidget(window)
    window.resize(1200, 800)
    window.show()
    window.open_path(first)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    dialog = show_database_dialog(window)
    _import(qtbot, dialog, second, copy=False)
    ((study_uid, study),) = _studies(second).items()
    (item,) = [
        dialog.tree.topLevelItem(i)
        for i in range(dialog.tree.topLevelItemCount())
        if dialog.tree.topLevelItem(i).data(0, 256) == study_uid
    ]
    dialog.tree.itemDoubleClicked.emit(item, 0)
    qtbot.waitUntil(lambda: study_uid in window.workspace.studies, timeout=60_000)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    assert len(window.workspace.studies) == 2  # beside the open one
    (series_uid,) = study["series"]
    (added,) = [s for s in window.scan_result.series if s.uid == series_uid]
    assert len([f for frames in added.frames for f in frames]) == study["instances"]
    window.show_series(added.id, 0)  # as a click in the series browser does
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    viewport = window.state.viewports[0]
    assert viewport.series is not None
    assert viewport.series.uid == series_uid
    assert viewport.volume is not None


def _series_uids_of(window: MainWindow) -> set[str]:
    """The Series Instance UIDs the series browser lists."""
    workspace = window.workspace
    listed = [workspace.series(i) for i in window.series_browser.series_ids()]
    return {s.uid for s in listed if s is not None}


def _flat_copy(folder: Path, into: Path) -> Path:
    """``folder``'s image files side by side in one folder (links)."""
    into.mkdir()
    for index, path in enumerate(sorted(p for p in folder.rglob("I*"))):
        (into / f"{index:03d}_{path.name}").symlink_to(path)
    return into


def _item(dialog: DatabaseDialog, study_uid: str, series_uid: str = "") -> Any:
    tree = dialog.tree
    (study,) = [
        tree.topLevelItem(i)
        for i in range(tree.topLevelItemCount())
        if tree.topLevelItem(i).data(0, 256) == study_uid
    ]
    if not series_uid:
        return study
    study.setExpanded(True)
    (series,) = [
        study.child(i)
        for i in range(study.childCount())
        if study.child(i).data(0, 256) == series_uid
    ]
    return series


@pytest.mark.qt_log_ignore("does not support raise", "propagateSizeHints")
@pytest.mark.parametrize("flat", [False, True], ids=["corpus", "one-folder"])
def test_open_one_study_or_series_of_a_shared_folder_opens_only_it(
    flat: bool,
    qtbot: QtBot,
    tmp_path: Path,
    corpus: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    philips = corpus / "dcm_qa_ct" / "In" / "Philips"
    folder = _flat_copy(philips, tmp_path / "mixed") if flat else philips
    expected = _studies(folder)
    assert len(expected) == 2  # two studies share the folder(s)
    window = MainWindow(remember_settings=False)
    qtbot.addWidget(window)
    window.resize(1200, 800)
    window.show()
    dialog = show_database_dialog(window)
    _import(qtbot, dialog, folder, copy=False)

    # One study, with nothing open: only its series are listed.
    study_uid = max(expected, key=lambda uid: len(expected[uid]["series"]))
    dialog.tree.itemDoubleClicked.emit(_item(dialog, study_uid), 0)
    qtbot.waitUntil(lambda: study_uid in window.workspace.studies, timeout=60_000)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    assert list(window.workspace.studies) == [study_uid]
    assert _series_uids_of(window) == expected[study_uid]["series"]
    assert expected[study_uid]["name"] in window.windowTitle()  # names the study

    # Then one series of the other study, beside it: that series only.
    (other,) = set(expected) - {study_uid}
    series_uid = sorted(expected[other]["series"])[0]
    dialog.tree.clearSelection()
    _item(dialog, other, series_uid).setSelected(True)
    dialog.open_selected()
    qtbot.waitUntil(lambda: other in window.workspace.studies, timeout=60_000)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    assert list(window.workspace.studies) == [study_uid, other]
    assert _series_uids_of(window) == expected[study_uid]["series"] | {series_uid}
    assert "opening" in dialog.status.text()
