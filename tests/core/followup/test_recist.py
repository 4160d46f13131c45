"""RECIST 1.1 (Eisenhauer et al., Eur J Cancer 2009;45:228-247) against its rules.

Expected values are worked out by hand from the paper's text, not from our code.
"""

from __future__ import annotations

import pytest

from imaging_viewer.core.followup.recist import (
    TOO_SMALL_TO_MEASURE_MM,
    Response,
    TargetMeasurement,
    Timepoint,
    assess,
    measurable,
)


def _timepoints(*sums: float, new_at: int | None = None) -> list[Timepoint]:
    """One target lesion per time point carrying the whole sum."""
    return [
        Timepoint({"2.25.1": TargetMeasurement(value)}, new_lesion=(index == new_at))
        for index, value in enumerate(sums)
    ]


def _responses(*sums: float, new_at: int | None = None) -> list[Response | None]:
    return [a.response for a in assess(_timepoints(*sums, new_at=new_at))]


def test_baseline_has_no_response_and_no_change() -> None:
    (baseline,) = assess(_timepoints(42.0))
    assert baseline.response is None
    assert baseline.sum_mm == 42.0
    assert baseline.change_from_baseline_pct == 0.0


def test_sum_adds_long_axes_and_node_short_axes() -> None:
    # 4.2: two lung metastases 25 and 15 mm, a node 30 × 20 mm counted by its 20 mm.
    targets = {
        "1": TargetMeasurement(25.0),
        "2": TargetMeasurement(15.0),
        "3": TargetMeasurement(20.0, nodal=True),
    }
    (baseline,) = assess([Timepoint(targets)])
    assert baseline.sum_mm == 60.0


def test_exactly_thirty_percent_decrease_is_pr() -> None:
    assert _responses(100.0, 70.0) == [None, Response.PR]
    # 50 → 35 is −30 % as well, although the float division is −30.000000000000004.
    assert _responses(50.0, 35.0)[1] is Response.PR


def test_just_under_thirty_percent_is_sd() -> None:
    assert _responses(100.0, 70.1)[1] is Response.SD


def test_twenty_percent_with_five_mm_is_pd() -> None:
    # nadir 25 → 30: +20 % and +5.0 mm.
    assert _responses(25.0, 30.0)[1] is Response.PD


def test_twenty_percent_with_four_point_nine_mm_is_not_pd() -> None:
    # nadir 24.5 → 29.4: +20 % but only +4.9 mm absolute.
    result = assess(_timepoints(24.5, 29.4))[1]
    assert result.change_from_nadir_pct == pytest.approx(20.0)
    assert result.response is Response.SD


def test_five_mm_but_under_twenty_percent_is_not_pd() -> None:
    assert _responses(100.0, 105.0)[1] is Response.SD


def test_nadir_after_a_response_is_the_reference_for_pd() -> None:
    # 100 → 60 (PR, −40 %) → 72: +20 % and +12 mm over the nadir 60 → PD, though
    # still 28 % below baseline.
    results = assess(_timepoints(100.0, 60.0, 72.0))
    assert [r.response for r in results] == [None, Response.PR, Response.PD]
    assert results[2].nadir_mm == 60.0
    assert results[2].change_from_nadir_pct == pytest.approx(20.0)
    assert results[2].change_from_baseline_pct == pytest.approx(-28.0)


def test_nadir_includes_baseline_when_it_is_smallest() -> None:
    results = assess(_timepoints(50.0, 55.0, 60.0))
    assert [r.response for r in results] == [None, Response.SD, Response.PD]
    assert results[2].nadir_mm == 50.0


def test_node_shrinking_under_ten_mm_is_cr_though_the_sum_is_not_zero() -> None:
    # 4.3.1 note: nodes under 10 mm are normal; the sum may stay above 0 at CR.
    baseline = Timepoint(
        {"lung": TargetMeasurement(20.0), "node": TargetMeasurement(18.0, nodal=True)}
    )
    gone = Timepoint(
        {"lung": TargetMeasurement(0.0), "node": TargetMeasurement(9.9, nodal=True)}
    )
    still_ten = Timepoint(
        {"lung": TargetMeasurement(0.0), "node": TargetMeasurement(10.0, nodal=True)}
    )
    results = assess([baseline, gone])
    assert results[1].sum_mm == pytest.approx(9.9)
    assert results[1].response is Response.CR
    # A node at exactly 10 mm is not normal: PR (38 → 10 is −74 %), not CR.
    assert assess([baseline, still_ten])[1].response is Response.PR


def test_new_lesion_is_pd_whatever_the_targets() -> None:
    assert _responses(100.0, 50.0, 40.0, new_at=2) == [
        None,
        Response.PR,
        Response.PD,
    ]


def test_non_target_progression_is_pd() -> None:
    timepoints = [
        Timepoint({"1": TargetMeasurement(40.0)}),
        Timepoint({"1": TargetMeasurement(40.0)}, non_target_progression=True),
    ]
    assert assess(timepoints)[1].response is Response.PD


def test_too_small_to_measure_counts_five_mm() -> None:
    # Appendix II: present but too small to measure → 5 mm; 30 → 5 is PR, not CR.
    results = assess(_timepoints(30.0, TOO_SMALL_TO_MEASURE_MM))
    assert results[1].response is Response.PR


def test_targets_must_be_the_baselines() -> None:
    timepoints = [
        Timepoint({"1": TargetMeasurement(40.0)}),
        Timepoint({"2": TargetMeasurement(40.0)}),
    ]
    with pytest.raises(ValueError, match="baseline"):
        assess(timepoints)


@pytest.mark.parametrize(
    ("long_mm", "short_mm", "nodal", "modality", "expected"),
    [
        (10.0, 5.0, False, "CT", True),
        (9.9, 5.0, False, "CT", False),
        (10.0, 5.0, False, "MR", True),
        (19.9, 5.0, False, "DX", False),
        (20.0, 5.0, False, "CR", True),
        # 3.1.1: a node reported as 20 mm × 30 mm has a short axis of 20 mm: measurable.
        (30.0, 20.0, True, "CT", True),
        (30.0, 15.0, True, "CT", True),
        # 10 to < 15 mm short axis: pathological but non-measurable.
        (30.0, 14.9, True, "CT", False),
    ],
)
def test_measurable_size(
    long_mm: float, short_mm: float, nodal: bool, modality: str, expected: bool
) -> None:
    assert measurable(long_mm, short_mm, nodal=nodal, modality=modality) is expected
