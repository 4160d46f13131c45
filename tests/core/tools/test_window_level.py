"""Window/level drag arithmetic (core, no Qt)."""

from __future__ import annotations

import pytest

from imaging_viewer.core.tools.window_level import STEP_FRACTION, drag_window
from imaging_viewer.core.volume import Window


def test_drag_right_widens_and_down_raises_the_level() -> None:
    start = Window(center=40.0, width=400.0)
    moved = drag_window(start, 10.0, 5.0, value_range=4096.0)
    assert moved.width == pytest.approx(400.0 + 10 * 4096.0 * STEP_FRACTION)
    assert moved.center == pytest.approx(40.0 + 5 * 4096.0 * STEP_FRACTION)
    assert moved.explanation == ""


def test_ct_windows_move_in_whole_hounsfield_units() -> None:
    # 3000 HU of range: 5.86 HU a pixel; the window shows whole HU.
    start = Window(center=40.0, width=80.0)
    for dx, dy in [(3.0, -7.0), (61.0, 29.0), (-5.0, 1.0), (0.4, 0.3)]:
        moved = drag_window(start, dx, dy, value_range=3000.0)
        assert moved.width == round(moved.width)
        assert moved.center == round(moved.center)
        step = 3000.0 * STEP_FRACTION
        assert abs(moved.width - max(1.0, 80.0 + dx * step)) <= 0.5
        assert abs(moved.center - (40.0 + dy * step)) <= 0.5


def test_fine_data_keep_fractional_windows() -> None:
    # Values spanning 0..10 (e.g. a parametric map): steps of 0.02 stay fractional.
    start = Window(center=5.0, width=4.0)
    moved = drag_window(start, 7.0, 3.0, value_range=10.0)
    assert moved.width == pytest.approx(4.0 + 7 * 10.0 * STEP_FRACTION)
    assert moved.center == pytest.approx(5.0 + 3 * 10.0 * STEP_FRACTION)
    assert moved.width != round(moved.width)


def test_linear_width_never_below_one() -> None:
    start = Window(center=40.0, width=80.0)
    moved = drag_window(start, -10_000.0, 0.0, value_range=4096.0)
    assert moved.width == 1.0
