"""Send to PACS… from the Local database window (pytest-qt, issue 14 item 6):
the selected study and series go, through the Send to PACS dialog, by C-STORE
to a real Orthanc; what Orthanc holds (its REST API) is exactly what pydicom
reads of those files, nothing of what was not selected (the radiographs)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pydicom
import pytest

from imaging_viewer.core.pacs.nodes import parse_node, save_nodes
from imaging_viewer.ui.dialogs import send_dialog
from imaging_viewer.ui.dialogs.database_dialog import DatabaseDialog
from imaging_viewer.ui.dialogs.send_dialog import SendDialog

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

    from tests.pacs.conftest import Orthanc

pytestmark = pytest.mark.corpus

GE_CT = Path("dcm_qa_ct/In/GE")


def _by_uid(folders: list[Path]) -> dict[str, set[str]]:
    """Study and Series Instance UID → the SOP Instance UIDs pydicom reads."""
    found: dict[str, set[str]] = defaultdict(set)
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file():
                ds = pydicom.dcmread(path, stop_before_pixels=True)
                found[str(ds.StudyInstanceUID)].add(str(ds.SOPInstanceUID))
                found[str(ds.SeriesInstanceUID)].add(str(ds.SOPInstanceUID))
    return found


def test_selected_study_and_series_are_sent_from_the_local_database(
    qtbot: QtBot,
    orthanc: Orthanc,
    corpus: Path,
    sample_data: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    orthanc.clear()
    nodes = tmp_path / "nodes.json"
    node = parse_node(orthanc.node, configured={})
    save_nodes({"pacs": replace(node, name="pacs")}, nodes)
    monkeypatch.setattr(send_dialog, "nodes_path", lambda: nodes)
    folders = [sample_data / "CT", sample_data / "XR", corpus / GE_CT]
    instances = _by_uid(folders)
    ct = pydicom.dcmread(next((sample_data / "CT").iterdir()), stop_before_pixels=True)
    ct_study = str(ct.StudyInstanceUID)
    ge = pydicom.dcmread(next((corpus / GE_CT).iterdir()), stop_before_pixels=True)

    database = DatabaseDialog(
        lambda files, name: None, database_path=tmp_path / "studies.sqlite"
    )
    qtbot.addWidget(database)
    database.import_paths(folders, copy=False)
    qtbot.waitUntil(lambda: not database.busy, timeout=60_000)
    tree = database.tree
    studies = {
        str(tree.topLevelItem(i).data(0, 256)): tree.topLevelItem(i)
        for i in range(tree.topLevelItemCount())
    }
    assert len(studies) == 4  # CT, two radiographs, GE CT
    studies[ct_study].setSelected(True)
    ge_study = studies[str(ge.StudyInstanceUID)]
    ge_study.setExpanded(True)
    (series,) = [ge_study.child(i) for i in range(ge_study.childCount())]
    assert str(series.data(0, 256)) == str(ge.SeriesInstanceUID)
    series.setSelected(True)

    assert database.send_button.isEnabled()
    database.send_button.click()
    dialog = database._send_dialog  # type: ignore[attr-defined]
    assert isinstance(dialog, SendDialog)
    assert dialog.isVisible()
    assert dialog.node_combo.currentText() == "pacs"
    expected = instances[ct_study] | instances[str(ge.SeriesInstanceUID)]
    assert f"({len(expected)} files)" in dialog.what.button(0).text()
    dialog.send()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=60_000)

    assert dialog.status.text() == f"{len(expected)} sent, 0 failed"
    found = orthanc.rest("/instances?expand")
    assert isinstance(found, list)
    stored = sorted(str(i["MainDicomTags"]["SOPInstanceUID"]) for i in found)
    assert stored == sorted(expected)
    dialog.close()


def test_send_with_nothing_selected_says_so(qtbot: QtBot, tmp_path: Path) -> None:
    database = DatabaseDialog(
        lambda files, name: None, database_path=tmp_path / "studies.sqlite"
    )
    qtbot.addWidget(database)
    assert database.send_selected() is None
    assert database.status.text() == "select a study or series first"
