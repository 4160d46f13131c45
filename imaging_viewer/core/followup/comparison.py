"""Pick the prior study and the prior's series to show beside the current one.

The comparison layout puts the current series and its counterpart in the
prior study side by side. The counterpart is found as a reader would: the
same modality (PS3.3 C.7.3.1 Modality), then the same acquisition plane (from
Image Orientation (Patient), PS3.3 C.7.6.2.1.1), then the most similar Series
Description. Only studies of the same patient are ever offered.
"""

from __future__ import annotations

from difflib import SequenceMatcher
from typing import TYPE_CHECKING, Protocol, TypeVar

import numpy as np

from imaging_viewer.core.dicom.patient_identity import same_patient as is_same_patient

if TYPE_CHECKING:
    from collections.abc import Sequence

    from imaging_viewer.core.dicom.series import SeriesInfo


class DatedStudy(Protocol):
    """What is compared of a study (the workspace's ``Study`` is one)."""

    @property
    def date(self) -> str: ...
    @property
    def time(self) -> str: ...
    @property
    def timepoint(self) -> str: ...
    @property
    def patient_key(self) -> tuple[str, str]: ...


Study = TypeVar("Study", bound=DatedStudy)

PLANES = ("sagittal", "coronal", "axial")
"""The plane whose normal is mostly along L, P or S."""


def acquisition_plane(series: SeriesInfo) -> str:
    """``axial``, ``coronal`` or ``sagittal`` by the slice normal's main LPS axis;
    empty for projection images, which have no slice normal."""
    if series.is_projection:
        return ""
    affine = np.asarray(series.ijk_to_lps, dtype=np.float64)
    normal = np.cross(affine[:3, 0], affine[:3, 1])
    if not np.any(normal):
        return ""
    return PLANES[int(np.argmax(np.abs(normal)))]


def _description_similarity(a: str, b: str) -> float:
    return SequenceMatcher(None, a.strip().lower(), b.strip().lower()).ratio()


def match_prior_series(
    current: SeriesInfo, candidates: Sequence[SeriesInfo]
) -> SeriesInfo | None:
    """The candidate most like ``current``: same modality first, then same plane,
    then the most similar description (ties keep the candidates' order).
    None when no candidate has the current series' modality."""
    plane = acquisition_plane(current)
    ranked = [
        (
            acquisition_plane(candidate) == plane,
            _description_similarity(candidate.description, current.description),
            -order,
            candidate,
        )
        for order, candidate in enumerate(candidates)
        if candidate.modality == current.modality
    ]
    if not ranked:
        return None
    return max(ranked, key=lambda row: row[:3])[3]


def prior_study(studies: Sequence[Study], current: Study) -> Study | None:
    """The study of the same patient to compare ``current`` with: the newest one
    dated before it, else (undated, or all later) the earliest other one."""
    same_patient = [
        s
        for s in studies
        if s is not current and is_same_patient(s.patient_key, current.patient_key)
    ]
    if not same_patient:
        return None
    earlier = [s for s in same_patient if s.date and s.date < current.date]
    if earlier:
        return max(earlier, key=lambda s: (s.date, s.time))
    return min(same_patient, key=lambda s: (s.date, s.time))


def studies_by_date(studies: Sequence[Study]) -> list[Study]:
    """Newest first, as the series browser lists a patient's studies."""
    return sorted(studies, key=lambda s: (s.date, s.time), reverse=True)


def default_timepoint(studies: Sequence[Study], study: Study) -> str:
    """The label a study gets unless the user set one: ``baseline`` for the
    patient's earliest, then ``follow-up 1``, ``follow-up 2``, …"""
    if study.timepoint:
        return study.timepoint
    same_patient = [s for s in studies if s.patient_key == study.patient_key]
    order = sorted(same_patient, key=lambda s: (s.date, s.time))
    index = next(i for i, s in enumerate(order) if s is study)
    return "baseline" if index == 0 else f"follow-up {index}"


def _is_stack(series: SeriesInfo) -> bool:
    return not series.is_projection and series.shape_kji[0] > 1


def second_pair(
    current: SeriesInfo,
    current_study: Sequence[SeriesInfo],
    prior_match: SeriesInfo,
    prior_study_series: Sequence[SeriesInfo],
) -> tuple[SeriesInfo, SeriesInfo] | None:
    """The second row of a 2×2 comparison: another series of the current study
    matching ``current`` (same modality and plane) and its counterpart in the
    prior study (:func:`match_prior_series`, other than ``prior_match``).
    None unless both studies have a second matching series; single images
    (dose reports, scouts) do not count beside a stack."""

    def alike(series: SeriesInfo, reference: SeriesInfo) -> bool:
        return (
            series.id != reference.id
            and series.modality == reference.modality
            and acquisition_plane(series) == acquisition_plane(reference)
            and _is_stack(series) == _is_stack(reference)
        )

    second = match_prior_series(
        current, [s for s in current_study if alike(s, current)]
    )
    if second is None:
        return None
    prior = match_prior_series(
        second, [s for s in prior_study_series if alike(s, prior_match)]
    )
    return None if prior is None else (second, prior)
