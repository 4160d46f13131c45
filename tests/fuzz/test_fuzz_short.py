"""A short seeded fuzzing run (issue 18): mutants of corpus files through scan, load
and the tag reader, in a worker limited to 4 GiB, within about 60 s.

No traceback, crash, hang over 10 s or lost good series is allowed; a failure
prints what replays it (``make_mutant(seeds, seed, index)``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from tests.conftest import write_series
from tests.fuzz.harness import run_fuzz

if TYPE_CHECKING:
    from pathlib import Path

SEED = 18
MUTANTS = 400
TIME_BUDGET_S = 45.0


def test_short_seeded_fuzz_run(corpus: Path, tmp_path: Path) -> None:
    good = write_series(tmp_path, shape=(3, 8, 9), folder="good")
    report = run_fuzz(
        corpus,
        good.folder,
        tmp_path / "mutants",
        seed=SEED,
        count=MUTANTS,
        deadline_s=TIME_BUDGET_S,
    )
    assert report.mutants >= 50, f"only {report.mutants} mutants ran in the budget"
    assert report.bad == 0, json.dumps(report.failures[:5], indent=1)
