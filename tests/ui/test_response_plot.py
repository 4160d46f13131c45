"""``response --plot DIR``: one PNG per lesion, its size over time.

The PNGs are decoded by Pillow (not Qt), and the plotted points found by their
colour: on a time axis by study date, at heights linear in the sizes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING

import numpy as np
import pytest
from PIL import Image

from tests.test_cli_followup import _annotation_file

if TYPE_CHECKING:
    from pathlib import Path

LINE_RGB = (0x1F, 0x77, 0xB4)
WIDTH, HEIGHT = 720, 420
RESPONSE = (sys.executable, "-m", "imaging_viewer", "response")
AXIS_LEFT, AXIS_RIGHT = 70, WIDTH - 100


def _point_row(pixels: np.ndarray, column: int) -> float:
    """Mean row of the line colour within ±2 columns of ``column``: a point."""
    strip = pixels[:, column - 2 : column + 3]
    rows, _ = np.nonzero(np.all(strip == LINE_RGB, axis=2))
    assert rows.size, f"no plotted point at column {column}"
    return float(rows.mean())


def test_response_plot_writes_one_png_per_lesion(tmp_path: Path) -> None:
    files = [
        _annotation_file(tmp_path / "a.json", "1.2.3.1", "20240101", 30.0),
        _annotation_file(tmp_path / "b.json", "1.2.3.2", "20240401", 20.0),
        _annotation_file(tmp_path / "c.json", "1.2.3.3", "20240701", 25.0),
    ]
    plots = tmp_path / "plots"
    result = subprocess.run(
        [*RESPONSE, "--recist", "--plot", str(plots), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        # No display and no platform chosen: the command paints offscreen.
        env={
            k: v
            for k, v in os.environ.items()
            if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
        },
    )
    assert result.returncode == 0, result.stderr
    (png,) = sorted(plots.iterdir())
    assert png.name == "lesion_01_L1_right_lung.png"
    with Image.open(png) as image:
        assert image.format == "PNG"
        assert image.size == (WIDTH, HEIGHT)
        pixels = np.asarray(image.convert("RGB"))
    # 2024-01-01, 04-01, 07-01: 91 and 91 days apart, so the middle point is
    # half way along the time axis.
    middle = (AXIS_LEFT + AXIS_RIGHT) // 2
    rows = [_point_row(pixels, c) for c in (AXIS_LEFT, middle, AXIS_RIGHT)]
    # Heights are linear in the size: 30 → 20 is twice 30 → 25.
    assert (rows[1] - rows[0]) / (rows[2] - rows[0]) == pytest.approx(2.0, abs=0.1)
    assert rows[1] > rows[2] > rows[0]  # image rows grow downwards


def test_response_plot_into_an_unwritable_place_is_one_line(tmp_path: Path) -> None:
    file = _annotation_file(tmp_path / "a.json", "1.2.3.1", "20240101", 30.0)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = subprocess.run(
        [*RESPONSE, str(file), "--plot", str(blocker / "plots")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
