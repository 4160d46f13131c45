"""Start-up of the frozen app (packaging/) against the clone's, to the first image.

Run: python benchmarks/bench_frozen.py BUNDLE [FOLDER] [--repeat 5] [--platform P]

BUNDLE is the frozen program (``dist/imaging-viewer/imaging-viewer``, or
``/opt/imaging-viewer/imaging-viewer`` from the .deb); FOLDER defaults to the
sample CT. Each run launches a fresh process, the clone's as ``python -m
imaging_viewer FOLDER`` (what ``bench_view.py`` times), the frozen one as
``BUNDLE FOLDER``, alternately, with ``IMAGING_VIEWER_STARTUP_PROBE``
(ui/startup_probe.py): the time from just before the launch to the first painted
image (the window's first look), as ``bench_view.py``'s ``first_paint``. One
untimed run of each first (page cache). Prints medians and the ratio (target of
issue 17: frozen within 1.3× of the clone).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def first_paint_ms(command: list[str], platform: str) -> float:
    """Milliseconds from launching ``command`` to its first painted image."""
    with tempfile.TemporaryDirectory(prefix="bench_frozen") as tmp:
        probe = Path(tmp) / "probe.json"
        env = os.environ | {
            "IMAGING_VIEWER_STARTUP_PROBE": str(probe),
            "XDG_CONFIG_HOME": tmp,
            "QT_QPA_PLATFORM": platform,
            "PYTHONPATH": str(ROOT),
        }
        start = time.time()
        subprocess.run(command, env=env, check=True, timeout=120, capture_output=True)
        return (json.loads(probe.read_text())["first_paint"] - start) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("folder", nargs="?", default=str(ROOT / "sample_data" / "CT"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--platform", default="offscreen")
    args = parser.parse_args()
    commands = {
        "clone": [sys.executable, "-m", "imaging_viewer", args.folder],
        "frozen": [str(args.bundle.resolve()), args.folder],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for attempt in range(args.repeat + 1):
        for name, command in commands.items():
            elapsed = first_paint_ms(command, args.platform)
            if attempt:
                times[name].append(elapsed)
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, values in times.items():
        runs = " ".join(f"{v:.0f}" for v in values)
        print(f"{name:7s} first paint: median {medians[name]:.0f} ms  ({runs})")
    ratio = medians["frozen"] / medians["clone"]
    verdict = "met" if ratio <= 1.3 else "NOT met"
    print(f"frozen / clone: {ratio:.2f}× (target ≤ 1.3×: {verdict})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
