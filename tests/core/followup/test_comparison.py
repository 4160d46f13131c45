"""The comparison layout's choices: which prior study, which of its series.

Series are written as DICOM files (modality, Image Orientation (Patient),
Series Description) and read back by the scanner, so the plane comes from the
files' geometry as pydicom reads it, not from values given to the function.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imaging_viewer.core.dicom.scan import scan_folder
from imaging_viewer.core.followup.comparison import (
    acquisition_plane,
    default_timepoint,
    match_prior_series,
    prior_study,
    second_pair,
    studies_by_date,
)
from imaging_viewer.core.workspace.study import Study

if TYPE_CHECKING:
    from pathlib import Path

    from imaging_viewer.core.dicom.series import SeriesInfo
    from tests.conftest import MakeSeries

AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
CORONAL = (1.0, 0.0, 0.0, 0.0, 0.0, -1.0)
SAGITTAL = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)


def _series(
    make_series: MakeSeries,
    folder: str,
    modality: str,
    orientation: tuple[float, ...],
    description: str,
) -> SeriesInfo:
    written = make_series(
        shape=(4, 6, 6),
        folder=folder,
        modality=modality,
        orientation=orientation,
        tags={"SeriesDescription": description},
    )
    (series,) = scan_folder(written.folder).series
    return series


def test_planes_come_from_the_image_orientation(make_series: MakeSeries) -> None:
    planes = [
        acquisition_plane(_series(make_series, name, "MR", orientation, name))
        for name, orientation in (
            ("axial", AXIAL),
            ("coronal", CORONAL),
            ("sagittal", SAGITTAL),
        )
    ]
    assert planes == ["axial", "coronal", "sagittal"]


def test_prior_series_matched_by_modality_then_plane_then_description(
    make_series: MakeSeries,
) -> None:
    current = _series(make_series, "cur", "MR", CORONAL, "COR T1 FS")
    ct_coronal = _series(make_series, "p1", "CT", CORONAL, "COR T1 FS")
    mr_axial = _series(make_series, "p2", "MR", AXIAL, "COR T1 FS")
    mr_cor_t2 = _series(make_series, "p3", "MR", CORONAL, "cor STIR")
    mr_cor_t1 = _series(make_series, "p4", "MR", CORONAL, "COR T1 FS post")
    candidates = [ct_coronal, mr_axial, mr_cor_t2, mr_cor_t1]
    assert match_prior_series(current, candidates) is mr_cor_t1
    assert match_prior_series(current, candidates[:3]) is mr_cor_t2
    assert match_prior_series(current, candidates[:2]) is mr_axial
    assert match_prior_series(current, candidates[:1]) is None


def test_second_pair_matches_a_second_series_of_each_study(
    make_series: MakeSeries,
) -> None:
    current = _series(make_series, "c1", "MR", CORONAL, "COR T1 FS")
    current_t2 = _series(make_series, "c2", "MR", CORONAL, "COR STIR")
    current_axial = _series(make_series, "c3", "MR", AXIAL, "AX T1")
    prior_t1 = _series(make_series, "q1", "MR", CORONAL, "COR T1 FS")
    prior_t2 = _series(make_series, "q2", "MR", CORONAL, "cor stir")
    prior_ct = _series(make_series, "q3", "CT", CORONAL, "COR STIR")
    studies = [current, current_axial, current_t2]
    assert second_pair(current, studies, prior_t1, [prior_ct, prior_t1, prior_t2]) == (
        current_t2,
        prior_t2,
    )
    # The prior has one matching series only, or the current study has no second:
    # the comparison stays 1×2.
    assert second_pair(current, studies, prior_t1, [prior_t1, prior_ct]) is None
    assert (
        second_pair(current, [current, current_axial], prior_t1, [prior_t1, prior_t2])
        is None
    )


def test_single_images_beside_a_stack_are_no_second_series(corpus: Path) -> None:
    """The corpus' Philips stereotaxis study: one 54-slice CT and single-image
    CT dose summaries; no 2×2 from them."""
    series = scan_folder(corpus / "dcm_qa_ct/In/Philips/S21610").series
    stack = next(s for s in series if s.description == "STEREOTAXIS")
    assert len(series) > 2
    assert second_pair(stack, series, stack, series) is None


def _study(uid: str, date: str, patient: str = "P1", timepoint: str = "") -> Study:
    return Study(
        uid=uid,
        patient_id=patient,
        patient_name="Doe^Jane",
        date=date,
        time="",
        description="",
        accession_number="",
        timepoint=timepoint,
    )


def test_prior_is_the_same_patients_newest_earlier_study() -> None:
    baseline = _study("1", "20240105")
    follow_up = _study("2", "20240410")
    current = _study("3", "20240702")
    other_patient = _study("4", "20240601", patient="P2")
    studies = [current, baseline, other_patient, follow_up]
    assert prior_study(studies, current) is follow_up
    assert prior_study(studies, follow_up) is baseline
    assert prior_study(studies, baseline) is follow_up  # nothing earlier: nearest
    assert prior_study(studies, other_patient) is None
    assert studies_by_date([baseline, current, follow_up]) == [
        current,
        follow_up,
        baseline,
    ]


def test_timepoints_default_by_date_and_keep_the_users_label() -> None:
    baseline = _study("1", "20240105")
    follow_up = _study("2", "20240410")
    surgery = _study("3", "20240702", timepoint="pre-op")
    studies = [surgery, follow_up, baseline]
    assert default_timepoint(studies, baseline) == "baseline"
    assert default_timepoint(studies, follow_up) == "follow-up 1"
    assert default_timepoint(studies, surgery) == "pre-op"
