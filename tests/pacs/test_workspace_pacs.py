"""The workspace and a real Orthanc: send the study's SR and GSPS, send a
de-identified teaching case, retrieve the priors of the open patient."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pydicom
import pytest
from pydicom.uid import generate_uid

from imaging_viewer.core.pacs import remote
from imaging_viewer.core.pacs.database import StudyDatabase
from imaging_viewer.core.pacs.nodes import parse_node
from imaging_viewer.core.pacs.query import Query
from imaging_viewer.core.teaching.case import TeachingCase
from imaging_viewer.core.workspace import Workspace
from imaging_viewer.core.workspace.pacs_exchange import (
    retrieve_priors,
    send_annotation_documents,
    send_teaching_case,
)
from tests.core.teaching.test_export import FakeBurnIn
from tests.core.workspace.test_workspace import ruler_on_sample_ct
from tests.pacs.conftest import PASSWORD, USER, Orthanc

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def annotated(sample_data: Path) -> tuple[Workspace, str]:
    """sample_data/CT open in a workspace with one ruler lesion; its study UID."""
    drawn, header = ruler_on_sample_ct(sample_data)
    workspace = Workspace(autosave=False)
    workspace.open(sample_data / "CT")
    uid = str(header.StudyInstanceUID)
    for lesion in drawn.lesions:
        workspace.annotations(uid).add_lesion(lesion)
    return workspace, uid


def _series_modalities(orthanc: Orthanc, study_uid: str) -> list[str]:
    node = parse_node(orthanc.node, configured={})
    found, _ = remote.find(node, Query(level="series", study_uid=study_uid))
    return sorted(result.modality for result in found)


def test_sr_and_gsps_are_sent_and_found_in_the_pacs(
    orthanc: Orthanc, annotated: tuple[Workspace, str]
) -> None:
    orthanc.clear()
    workspace, uid = annotated
    node = parse_node(orthanc.node, configured={})
    outcomes = send_annotation_documents(workspace, uid, node)
    assert [(o.ok, o.message) for o in outcomes] == [(True, "stored")] * 2
    assert _series_modalities(orthanc, uid) == ["PR", "SR"]


def test_a_teaching_case_is_sent_de_identified_over_stow_rs(
    orthanc: Orthanc, annotated: tuple[Workspace, str], sample_data: Path
) -> None:
    orthanc.clear()
    workspace, uid = annotated
    web = parse_node(orthanc.dicomweb_url, user=USER, password=PASSWORD, configured={})
    outcomes = send_teaching_case(
        workspace,
        uid,
        web,
        TeachingCase(title="Skull"),
        FakeBurnIn(),
        case_key="pacs test",
    )
    assert outcomes
    assert all(o.ok for o in outcomes), outcomes
    assert len(outcomes) == 3  # key image, SR, GSPS
    source = pydicom.dcmread(
        next((sample_data / "CT").iterdir()), stop_before_pixels=True
    )
    studies, _ = remote.find(parse_node(orthanc.node, configured={}), Query())
    (study,) = studies
    assert study.study_uid != uid
    assert study.patient_id != str(source.PatientID)
    assert study.patient_name != str(source.PatientName)
    assert _series_modalities(orthanc, study.study_uid) == ["CT", "PR", "SR"]


def _prior_of(sample_data: Path, folder: Path, slices: int = 4) -> str:
    """A few sample CT slices as an older study of the same patient."""
    study, series = generate_uid(), generate_uid()
    folder.mkdir()
    for k, path in enumerate(sorted((sample_data / "CT").iterdir())[:slices]):
        ds = pydicom.dcmread(path)
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.StudyDate = "20010101"
        ds.save_as(folder / f"{k}.dcm", enforce_file_format=True)
    return study


def test_priors_of_the_open_patient_are_retrieved_and_opened(
    orthanc: Orthanc,
    annotated: tuple[Workspace, str],
    sample_data: Path,
    tmp_path: Path,
) -> None:
    orthanc.clear()
    workspace, current = annotated
    prior = _prior_of(sample_data, tmp_path / "prior")
    node = parse_node(orthanc.node, configured={})
    files = [*sorted((sample_data / "CT").iterdir()), *(tmp_path / "prior").iterdir()]
    assert all(o.ok for o in remote.send(node, files))
    database = StudyDatabase(tmp_path / "db" / "studies.sqlite")
    steps: list[tuple[int, int]] = []
    result = retrieve_priors(
        workspace, node, database, progress=lambda d, t: steps.append((d, t))
    )
    assert [s.study_uid for s in result.found] == [prior]
    assert result.retrieved == [prior]
    assert result.failures == []
    assert set(workspace.studies) == {current, prior}
    assert len(workspace.studies[prior].series[0].frames[0]) == 4
    assert [s.study_uid for s in database.studies()] == [prior]
    assert steps[-1] == (4, 4)
    # Nothing new the second time.
    again = retrieve_priors(workspace, node, database)
    assert again.found == []
    assert again.retrieved == []
