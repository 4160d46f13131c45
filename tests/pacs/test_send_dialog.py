"""Send to PACS from the window (pytest-qt) against a real Orthanc: a corpus
series by C-STORE, our SR and GSPS by STOW-RS, a node that does not answer,
and a cancel half-way. What arrived is checked with Orthanc's own REST API and
pydicom's reading of the files sent."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pydicom
import pytest

from imaging_viewer.core.pacs import remote
from imaging_viewer.core.pacs.nodes import parse_node, save_nodes
from imaging_viewer.core.pacs.query import Query
from imaging_viewer.ui import pacs_send
from imaging_viewer.ui.dialogs import send_dialog
from imaging_viewer.ui.main_window import MainWindow
from tests.conftest import window_settled
from tests.core.workspace.test_workspace import ruler_on_sample_ct
from tests.pacs.conftest import PASSWORD, USER, Orthanc, free_port

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

    from imaging_viewer.core.pacs.nodes import Node
    from imaging_viewer.ui.dialogs.send_dialog import SendDialog

GE_CT = Path("dcm_qa_ct/In/GE")
UID, RESULT = 0, 2
"""Columns of the result list."""


@pytest.fixture
def nodes_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The send dialog's nodes file, in tmp_path; passwords are "typed"."""
    path = tmp_path / "nodes.json"
    monkeypatch.setattr(send_dialog, "nodes_path", lambda: path)
    monkeypatch.setattr(send_dialog, "_ask_secret", lambda prompt: PASSWORD)
    return path


def _window(qtbot: QtBot, folder: Path) -> MainWindow:
    window = MainWindow(remember_settings=False)
    qtbot.addWidget(window)
    window.resize(1200, 760)
    window.show()
    window.open_path(folder)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    return window


def _configure(nodes_file: Path, node: Node) -> None:
    save_nodes({"pacs": replace(node, name="pacs")}, nodes_file)


def _send(qtbot: QtBot, dialog: SendDialog) -> None:
    dialog.send()
    assert dialog.busy
    qtbot.waitUntil(lambda: not dialog.busy, timeout=60_000)


def _stored_sop_uids(orthanc: Orthanc) -> set[str]:
    found = orthanc.rest("/instances?expand")
    assert isinstance(found, list)
    return {str(i["MainDicomTags"]["SOPInstanceUID"]) for i in found}


def _uids(files: list[Path]) -> set[str]:
    return {
        str(pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID) for f in files
    }


def test_a_corpus_series_is_c_stored_with_every_instance(
    qtbot: QtBot, orthanc: Orthanc, corpus: Path, nodes_file: Path
) -> None:
    orthanc.clear()
    _configure(nodes_file, parse_node(orthanc.node, configured={}))
    window = _window(qtbot, corpus / GE_CT)
    dialog = pacs_send.send_from_window(window)
    assert dialog is not None
    assert dialog.node_combo.currentText() == "pacs"
    _send(qtbot, dialog)

    files = sorted((corpus / GE_CT).iterdir())
    assert dialog.report is not None
    assert dialog.status.text() == f"{len(files)} sent, 0 failed"
    assert dialog.results.topLevelItemCount() == len(files)
    assert {dialog.results.topLevelItem(n).text(RESULT) for n in range(len(files))} == {
        "OK"
    }
    assert _stored_sop_uids(orthanc) == _uids(files)
    assert dialog.progress.value() == len(files)


def test_our_sr_and_gsps_are_sent_over_stow_rs(
    qtbot: QtBot, orthanc: Orthanc, sample_data: Path, nodes_file: Path
) -> None:
    orthanc.clear()
    web = parse_node(orthanc.dicomweb_url, user=USER, configured={})
    _configure(nodes_file, web)
    window = _window(qtbot, sample_data / "CT")
    drawn, header = ruler_on_sample_ct(sample_data)
    study_uid = str(header.StudyInstanceUID)
    for lesion in drawn.lesions:
        window.workspace.annotations(study_uid).add_lesion(lesion)

    dialog = pacs_send.send_from_window(window, chosen=pacs_send.ANNOTATIONS)
    assert dialog is not None
    _send(qtbot, dialog)

    assert dialog.status.text() == "2 sent, 0 failed"
    found, _ = remote.find(
        parse_node(orthanc.node, configured={}),
        Query(level="series", study_uid=study_uid),
    )
    assert sorted(result.modality for result in found) == ["PR", "SR"]
    sent = {dialog.results.topLevelItem(n).text(UID) for n in range(2)}
    assert sent == _stored_sop_uids(orthanc)


def test_a_node_that_does_not_answer_fails_every_instance_with_the_reason(
    qtbot: QtBot, corpus: Path, nodes_file: Path
) -> None:
    _configure(
        nodes_file, parse_node(f"ORTHANC@127.0.0.1:{free_port()}", configured={})
    )
    window = _window(qtbot, corpus / GE_CT)
    dialog = pacs_send.send_from_window(window)
    assert dialog is not None
    _send(qtbot, dialog)

    files = sorted((corpus / GE_CT).iterdir())
    assert dialog.report is not None
    assert dialog.report.stopped
    status = dialog.status.text()
    assert status.startswith(f"0 sent, {len(files)} failed: ")
    assert "Traceback" not in status
    assert "127.0.0.1" in status
    assert dialog.results.topLevelItemCount() == len(files)
    reasons = {dialog.results.topLevelItem(n).text(RESULT) for n in range(len(files))}
    assert reasons == {f"not sent: {dialog.report.stopped}"}
    uids = {dialog.results.topLevelItem(n).text(UID) for n in range(len(files))}
    assert uids == _uids(files)
    assert dialog.send_button.isEnabled()


def test_cancel_half_way_reports_what_was_sent_and_the_dialog_sends_again(
    qtbot: QtBot, orthanc: Orthanc, corpus: Path, nodes_file: Path
) -> None:
    orthanc.clear()
    _configure(nodes_file, parse_node(orthanc.node, configured={}))
    window = _window(qtbot, corpus / GE_CT)
    dialog = pacs_send.send_from_window(window)
    assert dialog is not None
    files = sorted((corpus / GE_CT).iterdir())
    dialog.batch = 4
    dialog.send()
    dialog.cancel()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=60_000)

    report = dialog.report
    assert report is not None
    assert report.cancelled
    assert report.sent < len(files)
    assert len(report.outcomes) == len(files)
    assert dialog.status.text().endswith("(cancelled)")
    not_sent = [o for o in report.outcomes if not o.ok]
    assert {o.message for o in not_sent} == {"not sent (cancelled)"}
    assert _stored_sop_uids(orthanc) == {
        o.sop_instance_uid for o in report.outcomes if o.ok
    }

    assert dialog.send_button.isEnabled()
    _send(qtbot, dialog)
    assert dialog.status.text() == f"{len(files)} sent, 0 failed"
    assert _stored_sop_uids(orthanc) == _uids(files)


def test_a_teaching_case_is_sent_from_its_done_message_de_identified(
    qtbot: QtBot, orthanc: Orthanc, corpus: Path, nodes_file: Path, tmp_path: Path
) -> None:
    from PySide6.QtWidgets import QApplication, QMessageBox

    from imaging_viewer.ui.dialogs.send_dialog import SendDialog
    from imaging_viewer.ui.dialogs.teaching_dialog import TeachingCaseDialog

    orthanc.clear()
    _configure(nodes_file, parse_node(orthanc.dicomweb_url, user=USER, configured={}))
    window = _window(qtbot, corpus / GE_CT)
    window.build_docks()
    window.actions_built.actions["key_image"].trigger()
    study = window.annotation_study()
    assert study is not None
    case = TeachingCaseDialog(key_images=window.state.annotations.key_images)
    qtbot.addWidget(case)
    folder = window.lesion_export.write_teaching_case(
        study, case.case(), tmp_path / "case", {}, case.export_options(None)
    )
    assert folder is not None
    box = next(
        w
        for w in QApplication.topLevelWidgets()
        if isinstance(w, QMessageBox) and w.isVisible()
    )
    (button,) = [b for b in box.buttons() if b.text() == "Send to PACS…"]
    button.click()
    dialog = window._send_dialog  # type: ignore[attr-defined]
    assert isinstance(dialog, SendDialog)
    box.close()
    _send(qtbot, dialog)

    sent = sorted(folder.rglob("*.dcm"))
    assert dialog.report is not None
    assert dialog.status.text() == f"{len(sent)} sent, 0 failed"
    assert {Path(o.path).suffix for o in dialog.report.outcomes} == {".dcm"}
    assert _stored_sop_uids(orthanc) == _uids(sent)
    source = pydicom.dcmread(next((corpus / GE_CT).iterdir()), stop_before_pixels=True)
    patients = orthanc.rest("/patients?expand")
    assert isinstance(patients, list)
    assert str(source.PatientID) not in {
        str(p["MainDicomTags"].get("PatientID", "")) for p in patients
    }
