"""The storage SCP that stays on: Orthanc C-STOREs a study to it and the study
is indexed; a calling AE not listed is rejected; settings are checked."""

from __future__ import annotations

import json
import threading
import urllib.request
from typing import TYPE_CHECKING

import pydicom
import pytest

from imaging_viewer.core.pacs import remote
from imaging_viewer.core.pacs.database import StudyDatabase
from imaging_viewer.core.pacs.errors import PacsError
from imaging_viewer.core.pacs.nodes import parse_node
from imaging_viewer.core.pacs.receiver import (
    ReceiverSettings,
    StorageReceiver,
    load_receiver_settings,
    save_receiver_settings,
)
from tests.pacs.conftest import OUR_AET, PASSWORD, USER, free_port

if TYPE_CHECKING:
    from pathlib import Path

    from tests.pacs.conftest import Orthanc


def orthanc_post(orthanc: Orthanc, path: str, body: object) -> object:
    """POST JSON to Orthanc's REST API (as its registered user)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{orthanc.http_port}{path}",
        data=json.dumps(body).encode(),
        method="POST",
    )
    manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    manager.add_password(None, request.full_url, USER, PASSWORD)
    opener = urllib.request.build_opener(urllib.request.HTTPBasicAuthHandler(manager))
    with opener.open(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def _sop_uids(paths: list[Path]) -> set[str]:
    return {
        str(pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID) for p in paths
    }


def test_a_study_stored_by_orthanc_is_indexed(
    orthanc: Orthanc, sample_data: Path, tmp_path: Path
) -> None:
    orthanc.clear()
    files = sorted((sample_data / "CT").iterdir())
    remote.send(parse_node(orthanc.node, configured={}), files)
    study_uid = str(pydicom.dcmread(files[0], stop_before_pixels=True).StudyInstanceUID)
    received: list[Path] = []
    arrived = threading.Event()

    def on_received(paths: list[Path]) -> None:
        received.extend(paths)
        arrived.set()

    database = StudyDatabase(tmp_path / "studies.sqlite")
    settings = ReceiverSettings(
        enabled=True, port=orthanc.move_port, accepted_aets=("ORTHANC",)
    )
    receiver = StorageReceiver(settings, database, on_received)
    receiver.start()
    try:
        orthanc_study = orthanc.rest("/studies")[0]  # type: ignore[index]
        orthanc_post(
            orthanc,
            "/modalities/viewer/store",
            {"Resources": [orthanc_study], "Synchronous": True},
        )
        assert arrived.wait(30)
    finally:
        receiver.stop()
    assert not receiver.running
    assert _sop_uids(received) == _sop_uids(files)
    assert [s.study_uid for s in database.studies()] == [study_uid]
    assert _sop_uids(database.instance_paths(study_uid)) == _sop_uids(files)


def test_a_calling_ae_not_listed_is_rejected(sample_data: Path, tmp_path: Path) -> None:
    database = StudyDatabase(tmp_path / "studies.sqlite")
    port = free_port()
    receiver = StorageReceiver(
        ReceiverSettings(enabled=True, port=port, accepted_aets=("ORTHANC",)),
        database,
    )
    receiver.start()
    try:
        stranger = parse_node(
            f"{OUR_AET}@127.0.0.1:{port}", calling_aet="STRANGER", configured={}
        )
        with pytest.raises(PacsError, match="rejected the association"):
            remote.send(stranger, sorted((sample_data / "CT").iterdir())[:2])
        listed = parse_node(
            f"{OUR_AET}@127.0.0.1:{port}", calling_aet="ORTHANC", configured={}
        )
        outcomes = remote.send(listed, sorted((sample_data / "CT").iterdir())[:2])
        assert [o.ok for o in outcomes] == [True, True]
    finally:
        receiver.stop()
    assert database.counts()[3] == 2  # only the listed AE's two instances


def test_loopback_only_unless_opened_and_then_aes_are_required() -> None:
    closed = ReceiverSettings(enabled=True)
    assert closed.port == 11112
    assert not closed.accept_from_network
    with pytest.raises(PacsError, match="list the calling AE titles"):
        ReceiverSettings(accept_from_network=True).check()
    with pytest.raises(PacsError, match="user port"):
        ReceiverSettings(port=104).check()
    with pytest.raises(PacsError, match="bad AE title"):
        ReceiverSettings(accepted_aets=("A\\B",)).check()


def test_settings_round_trip_and_default_off(tmp_path: Path) -> None:
    path = tmp_path / "receiver.json"
    assert load_receiver_settings(path) == ReceiverSettings()
    assert not ReceiverSettings().enabled
    settings = ReceiverSettings(
        enabled=True, port=11113, accept_from_network=True, accepted_aets=("PACS",)
    )
    save_receiver_settings(settings, path)
    assert load_receiver_settings(path) == settings
    path.write_text("{not json")
    assert load_receiver_settings(path) == ReceiverSettings()


def test_a_used_port_is_said(tmp_path: Path) -> None:
    database = StudyDatabase(tmp_path / "studies.sqlite")
    port = free_port()
    first = StorageReceiver(ReceiverSettings(port=port), database)
    first.start()
    try:
        with pytest.raises(PacsError, match=f"cannot receive on port {port}"):
            StorageReceiver(ReceiverSettings(port=port), database).start()
    finally:
        first.stop()
