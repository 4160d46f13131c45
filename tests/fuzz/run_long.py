"""The long fuzzing run: ``python -m tests.fuzz.run_long [--mutants N] [--seed S]``.

Prints counts by outcome and by mutator, the seed files, the slowest mutant and
the worker's peak memory, and writes every failure (to replay) as JSON. Run it
with ``nice -n 19``: it keeps one core busy.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from tests.conftest import corpus_path, write_series
from tests.fuzz.harness import HANG_SECONDS, MEMORY_LIMIT_BYTES, run_fuzz, seed_files
from tests.fuzz.mutators import WEIGHTS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mutants", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--failures", type=Path, default=Path("fuzz_failures.json"))
    args = parser.parse_args(argv)
    corpus = corpus_path()
    began = time.perf_counter()

    def progress(report):  # type: ignore[no-untyped-def]
        if report.mutants % 500 == 0:
            print(
                f"{report.mutants} mutants, {dict(report.outcomes)}, "
                f"{time.perf_counter() - began:.0f} s",
                file=sys.stderr,
                flush=True,
            )

    with tempfile.TemporaryDirectory(prefix="imaging_viewer_fuzz_") as work:
        good = write_series(Path(work), shape=(3, 8, 9), folder="good")
        report = run_fuzz(
            corpus,
            good.folder,
            Path(work) / "mutants",
            seed=args.seed,
            count=args.mutants,
            start=args.start,
            progress=progress,
        )
        args.failures.write_text(json.dumps(report.failures, indent=1))
    seeds = seed_files(corpus)
    print(f"mutants: {report.mutants} (seed {args.seed}, from index {args.start})")
    print(
        f"limits: {MEMORY_LIMIT_BYTES / 1024**3:.0f} GiB address space, "
        f"hang after {HANG_SECONDS:.0f} s"
    )
    print("outcomes:", json.dumps(dict(report.outcomes.most_common())))
    for name in WEIGHTS:
        counts = report.by_mutator.get(name, {})
        print(f"  {name:17} {json.dumps(dict(counts))}")
    print(
        f"slowest mutant: {report.slowest_seconds:.2f} s; worker peak RSS "
        f"{report.peak_rss_mb} MB; worker starts: {report.restarts}"
    )
    print(f"wall time: {time.perf_counter() - began:.0f} s")
    print(f"seed files ({len(seeds)}):")
    for path in seeds:
        print(f"  {path.relative_to(corpus)}")
    print(f"failures: {len(report.failures)} (written to {args.failures})")
    return 1 if report.bad else 0


if __name__ == "__main__":
    sys.exit(main())
