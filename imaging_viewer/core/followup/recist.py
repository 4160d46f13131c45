"""RECIST 1.1: the sum of target diameters, its changes, and the response category.

A pure function of the measurements, so it is tested against the rules and the
worked figures of Eisenhauer et al., "New response evaluation criteria in solid
tumours: revised RECIST guideline (version 1.1)", Eur J Cancer 2009;45:228-247
(section numbers below are theirs).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

PR_DECREASE_PCT: Final = 30.0
"""4.3.1: PR is at least a 30 % decrease of the sum from the baseline sum."""
PD_INCREASE_PCT: Final = 20.0
"""4.3.1: PD is at least a 20 % increase of the sum over the smallest sum on study."""
PD_ABSOLUTE_MM: Final = 5.0
"""4.3.1: ... and an absolute increase of at least 5 mm."""
NODE_NORMAL_SHORT_AXIS_MM: Final = 10.0
"""4.3.1: CR needs every target node back under 10 mm short axis."""
MAX_TARGETS: Final = 5
MAX_TARGETS_PER_ORGAN: Final = 2
"""4.2: at most five target lesions, two per organ."""
MEASURABLE_MM: Final = 10.0
"""3.1.1: a non-nodal lesion of at least 10 mm longest diameter (CT, MR)."""
MEASURABLE_CHEST_XRAY_MM: Final = 20.0
"""3.1.1: at least 20 mm on a chest X-ray."""
MEASURABLE_NODE_SHORT_AXIS_MM: Final = 15.0
"""3.1.1: a node of at least 15 mm short axis (CT slice thickness ≤ 5 mm)."""
TOO_SMALL_TO_MEASURE_MM: Final = 5.0
"""Appendix II: a target too small to measure but present is recorded as 5 mm."""

# Sums are sums of floats: a boundary exactly on the threshold must count.
_EPSILON: Final = 1e-9


class Response(StrEnum):
    """Target-lesion response (4.3.1) and overall response at a time point (4.4)."""

    CR = "CR"
    PR = "PR"
    SD = "SD"
    PD = "PD"


@dataclass(frozen=True)
class TargetMeasurement:
    """One target lesion at one time point.

    ``diameter_mm`` is the longest diameter, or the short axis for a node
    (4.2); 0 when the lesion has disappeared.
    """

    diameter_mm: float
    nodal: bool = False


@dataclass(frozen=True)
class Timepoint:
    """What RECIST needs of one assessment: the targets, and what else was seen.

    ``targets`` maps a lesion's Tracking UID to its measurement; every time
    point must hold the baseline's targets. ``new_lesion`` is unequivocal new
    disease (4.3.3); ``non_target_progression`` unequivocal progression of the
    non-target lesions (4.3.2).
    """

    targets: Mapping[str, TargetMeasurement]
    new_lesion: bool = False
    non_target_progression: bool = False


@dataclass(frozen=True)
class RecistAssessment:
    """The sum at one time point, its changes, and the response (None at baseline)."""

    timepoint: int
    sum_mm: float
    change_from_baseline_pct: float
    change_from_nadir_pct: float
    response: Response | None
    nadir_mm: float


def sum_of_diameters(targets: Mapping[str, TargetMeasurement]) -> float:
    """4.2: longest diameters of non-nodal targets plus short axes of nodal ones."""
    return float(sum(t.diameter_mm for t in targets.values()))


def percent_change(value: float, reference: float) -> float:
    """``(value − reference) / reference`` in percent (0 when both are 0)."""
    if reference == 0.0:
        return 0.0 if value == 0.0 else float("inf")
    return (value - reference) / reference * 100.0


def _complete_response(targets: Mapping[str, TargetMeasurement]) -> bool:
    # 4.3.1: all non-nodal targets gone, every target node < 10 mm short axis.
    return all(
        t.diameter_mm < NODE_NORMAL_SHORT_AXIS_MM - _EPSILON
        if t.nodal
        else t.diameter_mm <= 0.0
        for t in targets.values()
    )


def target_response(
    sum_mm: float,
    baseline_mm: float,
    nadir_mm: float,
    targets: Mapping[str, TargetMeasurement],
) -> Response:
    """The target-lesion response of one follow-up (4.3.1).

    PD when the sum is ≥ 20 % above the nadir (the smallest sum so far,
    baseline included) **and** ≥ 5 mm above it; else CR when every target is
    gone (nodes < 10 mm); else PR when the sum is ≥ 30 % below baseline; else SD.
    """
    increase_mm = sum_mm - nadir_mm
    if (
        percent_change(sum_mm, nadir_mm) >= PD_INCREASE_PCT - _EPSILON
        and increase_mm >= PD_ABSOLUTE_MM - _EPSILON
    ):
        return Response.PD
    if _complete_response(targets):
        return Response.CR
    if percent_change(sum_mm, baseline_mm) <= -PR_DECREASE_PCT + _EPSILON:
        return Response.PR
    return Response.SD


def assess(timepoints: Sequence[Timepoint]) -> list[RecistAssessment]:
    """RECIST 1.1 at each time point; the first is the baseline.

    The response combines targets, non-targets and new lesions as in Table 1
    (4.4.1): new lesions or unequivocal non-target progression make PD
    whatever the targets do. The nadir of a follow-up is the smallest sum of
    the time points before it (so a response lowers the reference for PD).

    Raises
    ------
    ValueError
        If a follow-up lacks a target lesion of the baseline or measures one
        it did not have (targets are chosen at baseline, 4.2), or a diameter
        is negative.
    """
    if not timepoints:
        return []
    baseline_targets = set(timepoints[0].targets)
    results: list[RecistAssessment] = []
    baseline_mm = 0.0
    nadir_mm = 0.0
    for index, timepoint in enumerate(timepoints):
        if set(timepoint.targets) != baseline_targets:
            missing = sorted(baseline_targets - set(timepoint.targets))
            extra = sorted(set(timepoint.targets) - baseline_targets)
            raise ValueError(
                f"time point {index}: the baseline's target lesions are measured "
                f"at every time point (missing {missing}, not at baseline {extra})"
            )
        if any(t.diameter_mm < 0 for t in timepoint.targets.values()):
            raise ValueError(f"time point {index}: a diameter is negative")
        sum_mm = sum_of_diameters(timepoint.targets)
        if index == 0:
            baseline_mm = nadir_mm = sum_mm
            results.append(RecistAssessment(0, sum_mm, 0.0, 0.0, None, sum_mm))
            continue
        response = target_response(sum_mm, baseline_mm, nadir_mm, timepoint.targets)
        if timepoint.new_lesion or timepoint.non_target_progression:
            response = Response.PD
        results.append(
            RecistAssessment(
                index,
                sum_mm,
                percent_change(sum_mm, baseline_mm),
                percent_change(sum_mm, nadir_mm),
                response,
                nadir_mm,
            )
        )
        nadir_mm = min(nadir_mm, sum_mm)
    return results


def measurable(
    diameter_mm: float, short_axis_mm: float, *, nodal: bool, modality: str = "CT"
) -> bool:
    """3.1.1: is a lesion of this size measurable at baseline?

    Nodes by short axis (≥ 15 mm); other lesions by longest diameter (≥ 10 mm
    on CT or MR, ≥ 20 mm on a chest X-ray: modality CR, DX or RG).
    """
    if nodal:
        return short_axis_mm >= MEASURABLE_NODE_SHORT_AXIS_MM - _EPSILON
    threshold = (
        MEASURABLE_CHEST_XRAY_MM
        if modality.upper() in {"CR", "DX", "RG"}
        else MEASURABLE_MM
    )
    return diameter_mm >= threshold - _EPSILON
