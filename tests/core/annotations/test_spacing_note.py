"""What a label says about the spacing behind a length (PS3.3 10.7.1.1, 10.7.1.3),
and how an ROI's statistics read (issue 15 items 1 and 2)."""

from __future__ import annotations

import math

import pytest

from imaging_viewer.core.annotations.measure import (
    RoiStats,
    roi_stats_lines,
    spacing_note,
    value_unit,
)


@pytest.mark.parametrize(
    ("source", "note"),
    [
        ("PixelSpacing", ""),
        ("PixelSpacing (calibrated; ImagerPixelSpacing 0.2\\0.2 differs)", ""),
        ("", ""),
        ("none", ""),
        (
            "ImagerPixelSpacing (at the detector, not corrected for magnification; "
            "estimated magnification 1.1)",
            "at detector",
        ),
        ("ImagerPixelSpacing (corrected by ERMF 1.1)", "×1/ERMF"),
        ("calibration (25 mm over 100.0 units drawn)", "calibrated"),
    ],
)
def test_spacing_note(source: str, note: str) -> None:
    assert spacing_note(source) == note


def test_value_units() -> None:
    assert value_unit("CT") == "HU"
    assert value_unit("MR") == "signal"
    assert value_unit("US") == ""


def test_roi_stats_lines() -> None:
    stats = RoiStats(41.234, 8.31, -12.0, 96.0, 100.0, 90, 88.0)
    assert roi_stats_lines(stats, "HU") == (
        "mean 41.2 ± 8.3 HU",
        "min -12 max 96 HU",
    )
    empty = RoiStats(math.nan, math.nan, math.nan, math.nan, 1.0, 0, 0.0)
    assert roi_stats_lines(empty, "HU") == ()
