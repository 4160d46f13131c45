"""A WADO-RS retrieve interrupted midway (Orthanc killed): what arrived is kept
and consistent; a retry, once Orthanc is back, fetches only what is missing."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pydicom
import pytest

from imaging_viewer.core.pacs import remote
from imaging_viewer.core.pacs.database import StudyDatabase
from imaging_viewer.core.pacs.errors import PacsError
from imaging_viewer.core.pacs.nodes import parse_node
from imaging_viewer.core.pacs.sink import InstanceSink
from tests.pacs.conftest import PASSWORD, USER, start_orthanc, stop_orthanc

if TYPE_CHECKING:
    from pathlib import Path


def _sop_uid(path: Path) -> str:
    return str(pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID)


def test_wado_rs_killed_midway_keeps_what_arrived_and_a_retry_completes(
    sample_data: Path, tmp_path: Path
) -> None:
    files = sorted((sample_data / "CT").iterdir())
    study = str(pydicom.dcmread(files[0], stop_before_pixels=True).StudyInstanceUID)
    (tmp_path / "orthanc").mkdir()
    orthanc = start_orthanc(tmp_path / "orthanc")
    try:
        remote.send(parse_node(orthanc.node, configured={}), files)
        database = StudyDatabase(tmp_path / "studies.sqlite")
        node = parse_node(
            orthanc.dicomweb_url, user=USER, password=PASSWORD, configured={}
        )

        def kill_after_three(done: int, total: int) -> None:
            if done == 3:
                orthanc.process.kill()
                orthanc.process.wait()

        with pytest.raises(PacsError, match="they are kept") as caught:
            remote.retrieve(
                node, study, InstanceSink(database=database), progress=kill_after_three
            )
    finally:
        stop_orthanc(orthanc)
    kept = database.instance_paths(study)
    assert 3 <= caught.value.received == len(kept) < len(files)
    for path in kept:  # whole files, the database lists what is on disk
        assert pydicom.dcmread(path).pixel_array.shape == (512, 512)
    assert not [p for p in database.files_folder.rglob(".*") if p.is_file()]

    orthanc = start_orthanc(tmp_path / "orthanc")  # the same storage, back up
    try:
        node = parse_node(
            orthanc.dicomweb_url, user=USER, password=PASSWORD, configured={}
        )
        retry = InstanceSink(database=database)
        remote.retrieve(node, study, retry)
        again = InstanceSink(database=database)
        assert remote.retrieve(node, study, again).received == 0
    finally:
        stop_orthanc(orthanc)
    kept_uids = {_sop_uid(p) for p in kept}
    assert {_sop_uid(p) for p in retry.received} == {
        _sop_uid(p) for p in files
    } - kept_uids
    assert not again.received
    assert {_sop_uid(p) for p in database.instance_paths(study)} == {
        _sop_uid(p) for p in files
    }
