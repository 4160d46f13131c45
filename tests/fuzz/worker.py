"""Fuzzing worker: reads mutant paths on stdin, runs each through the entry points,
answers one JSON line per mutant on stdout.

Run by :mod:`tests.fuzz.harness` as ``python -m tests.fuzz.worker GOOD_DIR``
under ``resource.setrlimit`` limits; the parent restarts it after a crash.
Each request is ``{"path": ...}`` for a folder holding the mutant beside a copy
of the good series in GOOD_DIR.
"""

from __future__ import annotations

import json
import resource
import sys
import time
import traceback
import warnings
from pathlib import Path
from typing import Any


def _good_files(good: Path) -> set[str]:
    return {p.name for p in good.iterdir()}


def run_one(folder: Path, good_names: set[str]) -> dict[str, Any]:
    """Scan ``folder`` and load every series: the outcome of one mutant."""
    from imaging_viewer.core.dicom.load import load_volume
    from imaging_viewer.core.dicom.scan import scan_folder
    from imaging_viewer.core.dicom.tags import read_tag_tree

    mutant = next(p for p in folder.iterdir() if p.is_file())
    started = time.perf_counter()
    outcome = "refused"
    detail = ""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = scan_folder(folder)
            good = [s for s in result.series if any("/good/" in f for f in s.files)]
            good_found = {Path(f).name for s in good for f in s.files}
            if good_found != good_names:
                return {"outcome": "good_lost", "detail": sorted(good_found)}
            for info in result.series:
                volume = load_volume(info)
                if str(mutant) in info.files:
                    outcome = "loaded_with_warning" if volume.warnings else "loaded"
            read_tag_tree(str(mutant))
            skipped = [s.reason for s in result.skipped if s.path == str(mutant)]
            if skipped:
                detail = skipped[0][:200]
    except BaseException as error:  # the point of the harness: anything escaping
        if isinstance(error, KeyboardInterrupt):
            raise
        lines = traceback.format_exception(error)
        return {
            "outcome": "traceback",
            "detail": f"{type(error).__name__}: {str(error)[:200]}",
            "where": "".join(lines[-6:])[-1500:],
        }
    return {
        "outcome": outcome,
        "detail": detail,
        "seconds": round(time.perf_counter() - started, 3),
    }


def main() -> None:
    good = Path(sys.argv[1])
    names = _good_files(good)
    for line in sys.stdin:
        request = json.loads(line)
        answer = run_one(Path(request["path"]), names)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        answer["peak_rss_mb"] = usage.ru_maxrss // 1024
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
