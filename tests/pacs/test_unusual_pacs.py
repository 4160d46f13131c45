"""A PACS without C-GET and one that stops mid-transfer (pynetdicom SCPs): a
clear error, the database consistent, and a retry that completes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pydicom
import pytest

from imaging_viewer.core.pacs import remote
from imaging_viewer.core.pacs.database import StudyDatabase
from imaging_viewer.core.pacs.errors import PacsError
from imaging_viewer.core.pacs.nodes import parse_node
from imaging_viewer.core.pacs.sink import InstanceSink
from tests.pacs.pynetdicom_scp import fake_pacs

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(scope="module")
def series(sample_data: Path) -> list[pydicom.Dataset]:
    """Six slices of sample_data/CT, as pydicom reads them."""
    return [pydicom.dcmread(p) for p in sorted((sample_data / "CT").iterdir())[:6]]


def test_a_pacs_without_c_get_says_use_c_move(
    series: list[pydicom.Dataset], tmp_path: Path
) -> None:
    with fake_pacs(series, allow_get=False, abort_after=None) as pacs:
        node = parse_node(pacs.node, configured={})
        study = str(series[0].StudyInstanceUID)
        with pytest.raises(PacsError, match=r"does not support C-GET.*C-MOVE"):
            remote.retrieve(node, study, InstanceSink(folder=tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_a_pacs_stopping_mid_transfer_keeps_what_arrived_and_a_retry_completes(
    series: list[pydicom.Dataset], tmp_path: Path
) -> None:
    study = str(series[0].StudyInstanceUID)
    database = StudyDatabase(tmp_path / "studies.sqlite")
    with fake_pacs(series, allow_get=True, abort_after=3) as pacs:
        node = parse_node(pacs.node, configured={})
        with pytest.raises(PacsError, match="stopped during the C-GET") as caught:
            remote.retrieve(node, study, InstanceSink(database=database))
    assert caught.value.received == 3
    # Consistent: what the database lists is what is on disk, whole.
    kept = database.instance_paths(study)
    assert len(kept) == 3
    for path in kept:
        assert pydicom.dcmread(path).SOPInstanceUID
    assert not [p for p in database.files_folder.rglob(".*") if p.is_file()]

    with fake_pacs(series, allow_get=True, abort_after=None) as pacs:
        node = parse_node(pacs.node, configured={})
        remote.retrieve(node, study, InstanceSink(database=database))
    # The retry fetched only the instances the database lacked.
    kept_uids = {str(pydicom.dcmread(p).SOPInstanceUID) for p in kept}
    assert sorted(pacs.sent) == sorted(
        str(ds.SOPInstanceUID)
        for ds in series
        if str(ds.SOPInstanceUID) not in kept_uids
    )
    assert {
        str(pydicom.dcmread(p).SOPInstanceUID) for p in database.instance_paths(study)
    } == {str(ds.SOPInstanceUID) for ds in series}


def test_a_retry_of_a_complete_study_fetches_nothing(
    series: list[pydicom.Dataset], tmp_path: Path
) -> None:
    study = str(series[0].StudyInstanceUID)
    database = StudyDatabase(tmp_path / "studies.sqlite")
    with fake_pacs(series, allow_get=True, abort_after=None) as pacs:
        node = parse_node(pacs.node, configured={})
        remote.retrieve(node, study, InstanceSink(database=database))
        assert len(pacs.sent) == len(series)
        result = remote.retrieve(node, study, InstanceSink(database=database))
    assert len(pacs.sent) == len(series)
    assert result.received == 0
    assert len(database.instance_paths(study)) == len(series)
