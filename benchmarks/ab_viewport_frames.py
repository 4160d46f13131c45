"""Paired A/B of viewport frames between two checkouts (e.g. before and after a
refactor): a 1000×1000 viewport on one CT series, timing a slice change and a
window change, each with a synchronous repaint, and a repaint alone.

Runs each checkout in turn, several rounds, in fresh interpreters that import
the package from that checkout (PYTHONPATH), on whatever platform Qt is given
(run under xvfb-run for X11):

    xvfb-run -a .venv/bin/python benchmarks/ab_viewport_frames.py \
        --series /tmp/imaging_viewer_bench_load/ct300/raw ../baseline .

The CT folder is the one benchmarks/bench_load.py writes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

_CHILD = r"""
import statistics, sys, time
from pathlib import Path
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
app = QApplication(["ab", "-style", "Fusion"])
import pyqtgraph as pg
pg.setConfigOptions(imageAxisOrder="row-major")
from imaging_viewer.core.annotations.model import AnnotationSet
from imaging_viewer.core.dicom.load import load_volume
from imaging_viewer.core.dicom.scan import scan_folder
from imaging_viewer.core.viewer_state import ViewportState
from imaging_viewer.core.volume import Window
from imaging_viewer.ui.slice_viewport import SliceViewportWidget
series = scan_folder(Path(sys.argv[1])).series[0]
state = ViewportState()
state.show(series, load_volume(series))
widget = SliceViewportWidget(state)
widget.set_annotations(AnnotationSet())
widget.resize(1000, 1000)
widget.show()
QTest.qWaitForWindowExposed(widget)
for _ in range(20):
    app.processEvents()
    time.sleep(0.01)
n = state.n_slices
def timed(edit):
    times = []
    for i in range(300):
        start = time.perf_counter()
        edit(i)
        widget.viewport().repaint()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000
scroll = timed(lambda i: state.set_slice((i * 7) % n))
drag = timed(lambda i: state.set_window(Window(40.0 + i % 50, 400.0 + i % 30)))
still = timed(lambda i: None)
print(f"{scroll:.3f} {drag:.3f} {still:.3f}")
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", required=True, help="a folder holding one CT")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("checkouts", nargs=2, help="A and B: repository folders")
    args = parser.parse_args()
    results: dict[str, list[list[float]]] = {name: [] for name in args.checkouts}
    for _ in range(args.rounds):
        for checkout in args.checkouts:
            env = dict(os.environ, PYTHONPATH=str(Path(checkout).resolve()))
            out = subprocess.run(
                [sys.executable, "-c", _CHILD, args.series],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            results[checkout].append([float(value) for value in out[-3:]])
    print("ms per frame, median of rounds (each round: median of 300 frames)")
    print(f"{'checkout':30} {'scroll':>8} {'drag':>8} {'repaint':>8}")
    for checkout, rounds in results.items():
        medians = [statistics.median(column) for column in zip(*rounds, strict=True)]
        print(f"{checkout:30} " + " ".join(f"{m:8.2f}" for m in medians))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
