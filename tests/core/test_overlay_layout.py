"""core.overlay_layout: scale-bar length and place, corner text widths (by hand)."""

from __future__ import annotations

import math

import pytest

from imaging_viewer.core.overlay_layout import (
    ScaleBar,
    corner_widths,
    nice_length,
    scale_bar,
)


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        (1.0, 1.0),
        (1.99, 1.0),
        (2.0, 2.0),
        (4.99, 2.0),
        (5.0, 5.0),
        (7.3, 5.0),
        (10.0, 10.0),
        (50.0, 50.0),
        (99.9, 50.0),
        (128.0, 100.0),
        (0.3, 0.2),
        (0.07, 0.05),
        (1e6, 1e6),
    ],
)
def test_nice_length_is_the_largest_1_2_5_step_not_above(
    limit: float, expected: float
) -> None:
    assert nice_length(limit) == pytest.approx(expected)
    assert nice_length(limit) <= limit


@pytest.mark.parametrize("limit", [0.0, -0.0, -3.0, math.inf, -math.inf, math.nan])
def test_nice_length_is_zero_where_no_length_fits(limit: float) -> None:
    # 0 mm (a target with no width, or no spacing) means no bar, not a 1 mm bar.
    assert nice_length(limit) == 0.0


def test_scale_bar_is_a_quarter_of_the_width_at_most_centred() -> None:
    # 400 px at 2 px/mm: a quarter is 50 mm, 100 px, centred.
    bar = scale_bar(400, bottom=380, px_per_mm=2.0, tick=5)
    assert bar == ScaleBar(length_mm=50.0, left=150.0, right=250.0, y=375.0, tick=5)
    assert bar.label == "50 mm"
    # 0.5 px/mm: 200 mm allowed, 200 mm drawn.
    wide = scale_bar(400, bottom=380, px_per_mm=0.5, tick=5)
    assert wide is not None
    assert wide.label == "200 mm"
    assert wide.right - wide.left == pytest.approx(100.0)


@pytest.mark.parametrize("px_per_mm", [0.0, -1.0, math.nan, math.inf])
def test_no_scale_bar_without_a_scale(px_per_mm: float) -> None:
    assert scale_bar(400, bottom=380, px_per_mm=px_per_mm, tick=5) is None


def test_no_scale_bar_shorter_than_a_few_pixels() -> None:
    # 12 px wide: a quarter is 3 px, too short to read.
    assert scale_bar(12, bottom=10, px_per_mm=1.0, tick=2) is None


def test_corners_share_the_edge_and_stop_before_the_letter() -> None:
    # 500 px, margins 6, gap 16: 472 px for both corners of an edge; the line
    # level with the letter stops 500 // 2 - 12 - 12 = 226 px from its edge.
    natural = {"top_left": 100, "top_right": 400, "bottom_left": 300, "bottom_right": 0}
    counts = {"top_left": 2, "top_right": 3, "bottom_left": 2, "bottom_right": 0}
    widths = corner_widths(natural, counts, 500, margin=6, gap=16, letter_gap=12)
    # Top: 100 + 400 <= 472 is false, so the right corner gets what the left
    # leaves (372), the left one everything it could want (472 - 400 = 72 is
    # less than half, so half: 236).
    assert widths["top_right"] == (226, 372, 372)
    assert widths["top_left"] == (226, 236)
    # Bottom: the right corner is empty, the left one may use the whole edge,
    # but its last line, level with the letter, stops before it.
    assert widths["bottom_left"] == (472, 226)
    assert widths["bottom_right"] == ()


def test_corner_widths_never_below_one_pixel() -> None:
    widths = corner_widths(
        {"top_left": 50}, {"top_left": 1}, 10, margin=6, gap=16, letter_gap=12
    )
    assert widths["top_left"] == (1,)
