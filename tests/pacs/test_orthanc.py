"""Against a real Orthanc: store, query, retrieve (C-GET, C-MOVE, WADO-RS) and the
errors; retrieved pixels and geometry compared with the source by pydicom."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np
import pydicom
import pytest

from imaging_viewer.core.pacs import remote
from imaging_viewer.core.pacs.database import StudyDatabase
from imaging_viewer.core.pacs.errors import PacsError
from imaging_viewer.core.pacs.nodes import DimseNode, WebNode, parse_node
from imaging_viewer.core.pacs.query import Query
from imaging_viewer.core.pacs.sink import InstanceSink
from tests.pacs.conftest import PASSWORD, USER, Orthanc

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.corpus

SERIES = "dcm_qa_ct/In/GE"  # a real CT head series: 28 slices of 512²


@pytest.fixture(scope="module")
def source(corpus: Path) -> dict[str, pydicom.Dataset]:
    """The source series by SOP Instance UID, as pydicom reads it."""
    files = sorted(p for p in (corpus / SERIES).iterdir() if p.is_file())
    return {str(ds.SOPInstanceUID): ds for ds in map(pydicom.dcmread, files)}


@pytest.fixture(scope="module")
def stored(orthanc: Orthanc, corpus: Path, source: dict[str, pydicom.Dataset]) -> str:
    """The series C-STOREd into Orthanc; its Study Instance UID."""
    node = parse_node(orthanc.node, configured={})
    outcomes = remote.send(node, sorted((corpus / SERIES).iterdir()))
    assert [o.ok for o in outcomes] == [True] * len(source), outcomes
    return str(next(iter(source.values())).StudyInstanceUID)


def _same_as_source(paths: list[Path], source: dict[str, pydicom.Dataset]) -> None:
    assert len(paths) == len(source)
    for path in paths:
        got = pydicom.dcmread(path)
        want = source[str(got.SOPInstanceUID)]
        np.testing.assert_array_equal(got.pixel_array, want.pixel_array)
        for keyword in (
            "ImagePositionPatient",
            "ImageOrientationPatient",
            "PixelSpacing",
        ):
            assert list(got.get(keyword, [])) == list(want.get(keyword, []))


def _web(orthanc: Orthanc, password: str = PASSWORD) -> WebNode:
    node = parse_node(orthanc.dicomweb_url, user=USER, password=password, configured={})
    assert isinstance(node, WebNode)
    return node


def test_echo_dimse_and_dicomweb(orthanc: Orthanc) -> None:
    remote.echo(parse_node(orthanc.node, configured={}))
    remote.echo(_web(orthanc))


def test_wrong_password_says_authentication_failed(orthanc: Orthanc) -> None:
    with pytest.raises(PacsError, match="authentication failed"):
        remote.echo(_web(orthanc, password="wrong"))


def test_unknown_calling_ae_says_register(orthanc: Orthanc) -> None:
    node = parse_node(orthanc.node, calling_aet="STRANGER", configured={})
    with pytest.raises(PacsError, match="register AE 'STRANGER'"):
        remote.find(node, Query())


def test_unreachable_node_says_refused() -> None:
    from tests.pacs.conftest import free_port

    node = parse_node(f"NOBODY@127.0.0.1:{free_port()}", configured={})
    with pytest.raises(PacsError, match="connection refused"):
        remote.echo(node)


def test_find_study_and_series_levels(
    orthanc: Orthanc, stored: str, source: dict[str, pydicom.Dataset]
) -> None:
    first = next(iter(source.values()))
    for node in (parse_node(orthanc.node, configured={}), _web(orthanc)):
        studies, more = remote.find(node, Query(patient_id=str(first.PatientID)))
        assert not more
        assert [s.study_uid for s in studies] == [stored]
        assert studies[0].instances == len(source)
        series, _ = remote.find(node, Query(level="series", study_uid=stored))
        assert [s.series_uid for s in series] == [str(first.SeriesInstanceUID)]
        assert series[0].modality == str(first.Modality)
        assert series[0].instances == len(source)


def test_find_series_without_study_uid(orthanc: Orthanc, stored: str) -> None:
    node = parse_node(orthanc.node, configured={})
    series, _ = remote.find(node, Query(level="series", modality="CT"))
    assert {s.study_uid for s in series} == {stored}


def test_find_limit_reports_more(orthanc: Orthanc, stored: str) -> None:
    node = parse_node(orthanc.node, configured={})
    series, more = remote.find(node, Query(level="series", study_uid=stored, limit=0))
    assert series == []
    assert more


def test_c_get_into_folder_matches_source(
    orthanc: Orthanc, stored: str, source: dict[str, pydicom.Dataset], tmp_path: Path
) -> None:
    node = parse_node(orthanc.node, configured={})
    sink = InstanceSink(folder=tmp_path)
    steps: list[tuple[int, int]] = []
    result = remote.retrieve(
        node, stored, sink, progress=lambda d, t: steps.append((d, t))
    )
    assert result.completed == len(source)
    assert steps[-1] == (len(source), len(source))
    _same_as_source(sorted(tmp_path.glob("*.dcm")), source)


def test_c_move_into_database_matches_source(
    orthanc: Orthanc, stored: str, source: dict[str, pydicom.Dataset], tmp_path: Path
) -> None:
    node = parse_node(orthanc.node, move_port=orthanc.move_port, configured={})
    database = StudyDatabase(tmp_path / "studies.sqlite")
    result = remote.retrieve(node, stored, InstanceSink(database=database))
    assert result.completed == len(source)
    _same_as_source(database.instance_paths(stored), source)
    assert database.studies()[0].study_uid == stored


def test_wado_rs_matches_source(
    orthanc: Orthanc, stored: str, source: dict[str, pydicom.Dataset], tmp_path: Path
) -> None:
    series_uid = str(next(iter(source.values())).SeriesInstanceUID)
    result = remote.retrieve(
        _web(orthanc), stored, InstanceSink(folder=tmp_path), series_uid=series_uid
    )
    assert result.received == len(source)
    _same_as_source(sorted(tmp_path.glob("*.dcm")), source)


def test_get_of_unknown_study_says_nothing_found(
    orthanc: Orthanc, stored: str, tmp_path: Path
) -> None:
    node = parse_node(orthanc.node, configured={})
    with pytest.raises(PacsError, match="nothing found"):
        remote.retrieve(node, "1.2.3.4.5.6.7", InstanceSink(folder=tmp_path))


def test_move_to_unregistered_port_is_refused_clearly(
    orthanc: Orthanc, stored: str, tmp_path: Path
) -> None:
    node = parse_node(orthanc.node, move_port=orthanc.move_port, configured={})
    stranger = dataclasses.replace(node, calling_aet="STRANGER")
    with pytest.raises(PacsError, match="register AE 'STRANGER'"):
        remote.retrieve(stranger, stored, InstanceSink(folder=tmp_path))


def test_stow_rs_then_find(
    orthanc: Orthanc, stored: str, corpus: Path, source: dict[str, pydicom.Dataset]
) -> None:
    orthanc.clear()
    outcomes = remote.send(_web(orthanc), sorted((corpus / SERIES).iterdir()))
    assert all(o.ok for o in outcomes), outcomes
    studies, _ = remote.find(parse_node(orthanc.node, configured={}), Query())
    assert [s.study_uid for s in studies] == [stored]
    assert isinstance(parse_node(orthanc.node, configured={}), DimseNode)
