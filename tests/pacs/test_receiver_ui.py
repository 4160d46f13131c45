"""The receiver in the window (pytest-qt): enabled in the query/retrieve window's
"Receive" box, a C-STORE from Orthanc is indexed and the study opens; started
at start-up when enabled, stopped when asked; a port in use is said."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pydicom

from imaging_viewer.core.pacs import remote
from imaging_viewer.core.pacs.database import StudyDatabase
from imaging_viewer.core.pacs.nodes import parse_node
from imaging_viewer.core.pacs.receiver import ReceiverSettings, save_receiver_settings
from imaging_viewer.ui.dialogs.pacs_dialog import PacsDialog
from imaging_viewer.ui.pacs_receiver import PacsReceiverService
from tests.pacs.conftest import free_port
from tests.pacs.test_receiver import orthanc_post

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

    from tests.pacs.conftest import Orthanc


def _service(tmp_path: Path, opened: list[Path]) -> PacsReceiverService:
    return PacsReceiverService(
        opened.append,
        autostart=False,
        settings_path=tmp_path / "receiver.json",
        database_path=tmp_path / "studies.sqlite",
    )


def test_enable_in_the_dialog_then_orthanc_stores_and_the_study_opens(
    qtbot: QtBot, tmp_path: Path, orthanc: Orthanc, sample_data: Path
) -> None:
    orthanc.clear()
    files = sorted((sample_data / "CT").iterdir())[:5]
    remote.send(parse_node(orthanc.node, configured={}), files)
    opened: list[Path] = []
    service = _service(tmp_path, opened)
    dialog = PacsDialog(
        lambda _: None,
        lambda: ("", set()),
        nodes_file=tmp_path / "nodes.json",
        database_path=tmp_path / "studies.sqlite",
        receiver=service,
    )
    qtbot.addWidget(dialog)
    box = dialog.receiver_box
    assert box is not None
    assert not box.enabled.isChecked()  # off by default
    assert box.port.value() == 11112
    box.enabled.setChecked(True)
    box.port.setValue(orthanc.move_port)
    box.aets.setText("ORTHANC")
    box.apply()
    try:
        assert service.running
        assert f"port {orthanc.move_port}" in box.state.text()
        assert "this computer only" in box.state.text()
        study = orthanc.rest("/studies")[0]  # type: ignore[index]
        orthanc_post(orthanc, "/modalities/viewer/store", {"Resources": [study]})
        qtbot.waitUntil(lambda: bool(opened), timeout=30_000)
    finally:
        service.stop()
    study_uid = str(pydicom.dcmread(files[0], stop_before_pixels=True).StudyInstanceUID)
    assert len(opened) == 1
    assert len(list(opened[0].rglob("*.dcm"))) == len(files)
    with StudyDatabase(tmp_path / "studies.sqlite") as database:
        assert [s.study_uid for s in database.studies()] == [study_uid]


def test_started_when_enabled_and_a_port_in_use_is_said(
    qtbot: QtBot, tmp_path: Path
) -> None:
    port = free_port()
    save_receiver_settings(
        ReceiverSettings(enabled=True, port=port), tmp_path / "receiver.json"
    )
    first = _service(tmp_path, [])
    first.start_if_enabled()
    second = _service(tmp_path, [])
    try:
        assert first.running
        failures: list[str] = []
        second.failed.connect(failures.append)
        second.start_if_enabled()
        assert not second.running
        assert failures
        assert f"cannot receive on port {port}" in failures[0]
    finally:
        first.stop()
        second.stop()
    assert not first.running


def test_off_by_default_and_network_needs_listed_aes(
    qtbot: QtBot, tmp_path: Path
) -> None:
    service = _service(tmp_path, [])
    service.start_if_enabled()
    assert not service.running
    message = service.apply(
        ReceiverSettings(enabled=True, port=free_port(), accept_from_network=True)
    )
    assert "list the calling AE titles" in message
    assert not service.running


def test_the_index_opened_setting_is_in_the_box(qtbot: QtBot, tmp_path: Path) -> None:
    from PySide6.QtCore import QSettings

    from imaging_viewer.ui.dialogs.pacs_receiver_box import ReceiverSettingsBox
    from imaging_viewer.ui.open_indexing import indexing_enabled

    user = QSettings.Scope.UserScope
    QSettings.setPath(QSettings.Format.NativeFormat, user, str(tmp_path))
    try:
        box = ReceiverSettingsBox(_service(tmp_path, []))
        qtbot.addWidget(box)
        assert box.index_opened.isChecked()  # on unless turned off
        box.index_opened.setChecked(False)
        assert not indexing_enabled()
        box.index_opened.setChecked(True)
        assert indexing_enabled()
    finally:
        default = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
        QSettings.setPath(QSettings.Format.NativeFormat, user, default)
