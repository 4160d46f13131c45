"""The query/retrieve dialog against a real Orthanc (pytest-qt): configure a
node, test the connection, query, retrieve with progress, open the study,
retrieve the priors of the open patient."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pydicom
import pytest

from imaging_viewer.core.pacs import remote
from imaging_viewer.core.pacs.nodes import load_nodes, parse_node
from imaging_viewer.ui.dialogs.pacs_dialog import PacsDialog

if TYPE_CHECKING:
    from pathlib import Path

    from pytestqt.qtbot import QtBot

    from tests.pacs.conftest import Orthanc


@pytest.fixture
def stored_ct(orthanc: Orthanc, sample_data: Path) -> pydicom.Dataset:
    """sample_data/CT stored in an empty Orthanc; its first header."""
    orthanc.clear()
    files = sorted((sample_data / "CT").iterdir())
    remote.send(parse_node(orthanc.node, configured={}), files)
    return pydicom.dcmread(files[0], stop_before_pixels=True)


def _dialog(
    qtbot: QtBot, tmp_path: Path, patient: str = ""
) -> tuple[PacsDialog, list[Path]]:
    opened: list[Path] = []
    dialog = PacsDialog(
        opened.append,
        lambda: (patient, set()),
        nodes_file=tmp_path / "nodes.json",
        database_path=tmp_path / "studies.sqlite",
    )
    qtbot.addWidget(dialog)
    return dialog, opened


def _configure(dialog: PacsDialog, orthanc: Orthanc) -> None:
    dialog.node_name.setText("orthanc")
    dialog.node_address.setText(orthanc.node)
    dialog.save_node()


def _sop_uid(path: Path) -> str:
    return str(pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID)


def _wait(qtbot: QtBot, dialog: PacsDialog) -> None:
    qtbot.waitUntil(lambda: not dialog.busy, timeout=30_000)


def test_configure_test_query_retrieve_and_open(
    qtbot: QtBot,
    tmp_path: Path,
    orthanc: Orthanc,
    stored_ct: pydicom.Dataset,
    sample_data: Path,
) -> None:
    dialog, opened = _dialog(qtbot, tmp_path)
    _configure(dialog, orthanc)
    assert list(load_nodes(tmp_path / "nodes.json")) == ["orthanc"]

    dialog.test_connection()
    _wait(qtbot, dialog)
    assert dialog.status.text() == f"{orthanc.node} answers"

    dialog.patient_id.setText(str(stored_ct.PatientID)[:2] + "*")
    dialog.search()
    _wait(qtbot, dialog)
    assert [r.study_uid for r in dialog.results] == [str(stored_ct.StudyInstanceUID)]
    study = dialog.tree.topLevelItem(0)
    study.setExpanded(True)  # the series are asked for
    _wait(qtbot, dialog)
    assert study.childCount() == 1
    assert study.child(0).text(3) == "CT"

    progress: list[int] = []
    dialog.progress.valueChanged.connect(progress.append)
    dialog.tree.setCurrentItem(study.child(0))
    dialog.retrieve_selected()
    _wait(qtbot, dialog)
    assert "retrieved and opened" in dialog.status.text(), dialog.status.text()
    assert len(opened) == 1
    received = sorted(opened[0].rglob("*.dcm"))
    sources = sorted((sample_data / "CT").iterdir())
    assert {_sop_uid(p) for p in received} == {_sop_uid(p) for p in sources}
    assert max(progress) >= 1


def test_a_bad_node_address_is_said_not_raised(qtbot: QtBot, tmp_path: Path) -> None:
    dialog, _ = _dialog(qtbot, tmp_path)
    dialog.node_name.setText("bad")
    dialog.node_address.setText("not a node")
    dialog.save_node()
    assert "unknown node" in dialog.status.text()
    dialog.search()
    assert "configure a node first" in dialog.status.text()


def test_retrieve_priors_of_the_open_patient(
    qtbot: QtBot, tmp_path: Path, orthanc: Orthanc, stored_ct: pydicom.Dataset
) -> None:
    dialog, opened = _dialog(qtbot, tmp_path, patient=str(stored_ct.PatientID))
    _configure(dialog, orthanc)
    dialog.retrieve_priors()
    _wait(qtbot, dialog)
    assert "retrieved and opened" in dialog.status.text(), dialog.status.text()
    assert [p.name for p in opened] == [str(stored_ct.StudyInstanceUID)]


def test_cancel_a_retrieve_keeps_the_database_consistent(
    qtbot: QtBot, tmp_path: Path, orthanc: Orthanc, stored_ct: pydicom.Dataset
) -> None:
    from imaging_viewer.core.pacs.database import StudyDatabase

    dialog, opened = _dialog(qtbot, tmp_path)
    _configure(dialog, orthanc)
    dialog.search()
    _wait(qtbot, dialog)
    dialog.tree.setCurrentItem(dialog.tree.topLevelItem(0))
    dialog.retrieve_selected()
    assert dialog.cancel_button.isEnabled()
    dialog.cancel_button.click()
    _wait(qtbot, dialog)
    assert dialog.status.text() == "cancelled"
    assert not dialog.cancel_button.isEnabled()
    assert opened == []
    with StudyDatabase(tmp_path / "studies.sqlite") as database:
        kept = database.instance_paths(str(stored_ct.StudyInstanceUID))
    for path in kept:  # what the database lists is whole on disk
        assert _sop_uid(path)


def test_retrieve_by_c_move_with_its_port_set_in_the_dialog(
    qtbot: QtBot, tmp_path: Path, orthanc: Orthanc, stored_ct: pydicom.Dataset
) -> None:
    dialog, opened = _dialog(qtbot, tmp_path)
    dialog.node_name.setText("orthanc-move")
    dialog.node_address.setText(orthanc.node)
    dialog.move_port.setValue(orthanc.move_port)
    dialog.save_node()
    saved = load_nodes(tmp_path / "nodes.json")["orthanc-move"]
    assert saved.move_port == orthanc.move_port  # type: ignore[union-attr]
    dialog.search()
    _wait(qtbot, dialog)
    dialog.tree.setCurrentItem(dialog.tree.topLevelItem(0))
    dialog.retrieve_selected()
    _wait(qtbot, dialog)
    assert "retrieved and opened" in dialog.status.text(), dialog.status.text()
    assert [p.name for p in opened] == [str(stored_ct.StudyInstanceUID)]
    assert len(list(opened[0].rglob("*.dcm"))) == 28
