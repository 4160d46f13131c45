"""Annotation file schema 2: study date, time point, lesion role, node, organ."""

from __future__ import annotations

import json

import pytest

from imaging_viewer.core.annotations.model import AnnotationSet, Lesion, Ruler
from imaging_viewer.core.annotations.serialize import (
    SCHEMA_V1,
    SCHEMA_V2,
    AnnotationFileError,
    from_json,
    timepoint_of,
    to_json,
)

STUDY = "1.2.826.0.1.3680043.8.498.1"


def _set(**followup: object) -> AnnotationSet:
    annotations = AnnotationSet()
    lesion = annotations.add_lesion(Lesion(label="L1 right lung", **followup))  # type: ignore[arg-type]
    annotations.add_annotation(
        Ruler(
            lesion_id=lesion.id,
            plane_normal_lps=(0.0, 0.0, 1.0),
            start_lps=(0.0, 0.0, 0.0),
            end_lps=(12.0, 0.0, 0.0),
        )
    )
    return annotations


def test_followup_data_writes_version_2_and_reads_back() -> None:
    annotations = _set(role="target", nodal=True, organ="mediastinum")
    document = json.loads(
        json.dumps(
            to_json(annotations, STUDY, study_date="20240131", timepoint="follow-up 1")
        )
    )
    assert document["schema"] == SCHEMA_V2 == "imaging_viewer.annotations/2"
    assert document["study_date"] == "20240131"
    assert document["timepoint"] == "follow-up 1"
    lesion = document["lesions"][0]
    assert (lesion["role"], lesion["nodal"], lesion["organ"]) == (
        "target",
        True,
        "mediastinum",
    )
    restored = from_json(document)
    assert restored.lesions == annotations.lesions
    assert timepoint_of(document) == ("20240131", "follow-up 1")


def test_without_followup_data_the_file_stays_version_1() -> None:
    document = to_json(_set(), STUDY)
    assert document["schema"] == SCHEMA_V1
    assert "study_date" not in document
    assert "role" not in document["lesions"][0]


def test_version_1_file_reads_with_roles_unassigned() -> None:
    document = to_json(_set(), STUDY)
    document["schema"] = "imaging_viewer.annotations/1"
    (lesion,) = from_json(document).lesions
    assert (lesion.role, lesion.nodal, lesion.organ) == ("", False, "")
    assert timepoint_of(document) == ("", "")


def test_tracking_uid_survives_the_round_trip() -> None:
    annotations = _set(role="non-target")
    uid = annotations.lesions[0].tracking_uid
    assert from_json(to_json(annotations, STUDY)).lesions[0].tracking_uid == uid


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("role", "maybe", "role must be one of"),
        ("nodal", "yes", "expected bool"),
        ("organ", 3, "expected str"),
    ],
)
def test_malformed_followup_fields_are_refused(
    key: str, value: object, message: str
) -> None:
    document = to_json(_set(role="target"), STUDY)
    document["lesions"][0][key] = value
    with pytest.raises(AnnotationFileError, match=message):
        from_json(document)


def test_bad_study_date_is_refused() -> None:
    with pytest.raises(ValueError, match="YYYYMMDD"):
        to_json(_set(), STUDY, study_date="2024-01-31")
    document = to_json(_set(), STUDY, study_date="20240131")
    document["study_date"] = "31.01.2024"
    with pytest.raises(AnnotationFileError, match="YYYYMMDD"):
        timepoint_of(document)


def test_lesion_role_is_editable_and_undoable() -> None:
    annotations = _set()
    lesion = annotations.lesions[0]
    annotations.update_lesion(lesion.id, role="new", nodal=True)
    assert (annotations.lesions[0].role, annotations.lesions[0].nodal) == ("new", True)
    annotations.undo()
    assert annotations.lesions[0].role == ""
