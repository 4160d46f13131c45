"""Mutation fuzzing of the reader, scan and load entry points, in a limited worker.

One worker subprocess takes the mutants in turn (an interpreter per mutant would
cost more than the mutants) under ``resource.setrlimit`` limits on address space
and CPU; a mutant that takes longer than the hang limit, or kills the worker,
is counted and the worker restarted. Mutants are deterministic given
(seed, index): a failure can be replayed with :func:`make_mutant`.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import random
import resource
import select
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fuzz.mutators import MUTATORS, WEIGHTS

REPO_ROOT = Path(__file__).resolve().parents[2]
MEMORY_LIMIT_BYTES = 4 * 1024**3
HANG_SECONDS = 10.0
# Seed files: the smallest few of each transfer syntax in the corpus, and these.
SEEDS_PER_SYNTAX = 3
MAX_SEED_BYTES = 400 * 1024
EXTRA_SEEDS = (
    "dcm_qa_enh/In/Siemens/XA10/6_2.dcm",  # enhanced MR, functional groups
    "dcm_qa_ts/In/4.dcm",  # Siemens mosaic, RLE
)
BAD_OUTCOMES = ("traceback", "crash", "hang", "good_lost")


def seed_files(corpus: Path) -> list[Path]:
    """Seed files from the corpus MANIFEST: small, one group per transfer syntax."""
    by_syntax: dict[str, list[tuple[int, str]]] = {}
    with open(corpus / "MANIFEST.tsv", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row["dicom"] in ("", "no") or not row["rows"]:
                continue
            size = int(row["bytes"])
            if size <= MAX_SEED_BYTES:
                by_syntax.setdefault(row["transfer_syntax"], []).append(
                    (size, row["path"])
                )
    chosen = [
        path
        for entries in by_syntax.values()
        for _, path in sorted(entries)[:SEEDS_PER_SYNTAX]
    ]
    chosen.extend(p for p in EXTRA_SEEDS if (corpus / p).is_file())
    return [corpus / p for p in sorted(set(chosen))]


def make_mutant(seeds: list[Path], seed: int, index: int) -> tuple[str, Path, bytes]:
    """(mutator name, seed file, mutated bytes) of mutant ``index`` of run ``seed``."""
    rng = random.Random(seed * 1_000_003 + index)
    source = rng.choice(seeds)
    name = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
    data = source.read_bytes()
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        if len(data) < 2:
            break  # a truncation left (almost) nothing to mutate
        data = MUTATORS[name](data, rng)
    return name, source, data


def _limits() -> None:
    """In the worker: address-space and CPU limits, its own process group."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.setpgrp()


@dataclass
class Worker:
    """The worker subprocess, started on demand and after each crash or hang."""

    good_dir: Path
    process: subprocess.Popen[str] | None = None
    restarts: int = 0

    def start(self) -> subprocess.Popen[str]:
        if self.process is None or self.process.poll() is not None:
            environment = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
            environment["RUST_BACKTRACE"] = "0"
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.fuzz.worker", str(self.good_dir)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                cwd=REPO_ROOT,
                env=environment,
                preexec_fn=_limits,
            )
            self.restarts += 1
        return self.process

    def run(self, folder: Path) -> dict[str, Any]:
        process = self.start()
        assert process.stdin is not None
        assert process.stdout is not None
        started = time.perf_counter()
        try:
            process.stdin.write(json.dumps({"path": str(folder)}) + "\n")
            process.stdin.flush()
        except BrokenPipeError:
            return self._crashed(started)
        # The first mutant also pays for the imports: allow them 60 s more.
        budget = HANG_SECONDS + (60.0 if self.restarts and _fresh(process) else 0.0)
        ready, _, _ = select.select([process.stdout], [], [], budget)
        if not ready:
            self.kill()
            return {"outcome": "hang", "seconds": time.perf_counter() - started}
        line = process.stdout.readline()
        if not line:
            return self._crashed(started)
        answer: dict[str, Any] = json.loads(line)
        process.answered = True  # type: ignore[attr-defined]
        return answer

    def _crashed(self, started: float) -> dict[str, Any]:
        assert self.process is not None
        code = self.process.wait()
        self.process = None
        name = signal.Signals(-code).name if code < 0 else f"exit {code}"
        return {
            "outcome": "crash",
            "detail": name,
            "seconds": time.perf_counter() - started,
        }

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None

    def close(self) -> None:
        if self.process is not None and self.process.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None


def _fresh(process: subprocess.Popen[str]) -> bool:
    return not getattr(process, "answered", False)


@dataclass
class Report:
    """Counts by outcome and by mutator, and the failures to replay."""

    mutants: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    by_mutator: dict[str, Counter[str]] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)
    slowest_seconds: float = 0.0
    peak_rss_mb: int = 0
    restarts: int = 0

    def add(self, index: int, mutator: str, seed_file: Path, answer: dict[str, Any]):
        outcome = answer["outcome"]
        self.mutants += 1
        self.outcomes[outcome] += 1
        self.by_mutator.setdefault(mutator, Counter())[outcome] += 1
        self.slowest_seconds = max(self.slowest_seconds, answer.get("seconds", 0.0))
        self.peak_rss_mb = max(self.peak_rss_mb, answer.get("peak_rss_mb", 0))
        if outcome in BAD_OUTCOMES:
            self.failures.append(
                {"index": index, "mutator": mutator, "seed_file": str(seed_file)}
                | answer
            )

    @property
    def bad(self) -> int:
        return sum(self.outcomes[o] for o in BAD_OUTCOMES)


def run_fuzz(
    corpus: Path,
    good_dir: Path,
    work_dir: Path,
    seed: int,
    count: int,
    start: int = 0,
    deadline_s: float | None = None,
    progress: Any = None,
) -> Report:
    """Run mutants ``start .. start + count`` of run ``seed``; return the report.

    ``good_dir`` holds a good series that each mutant is scanned beside; it is
    copied next to every mutant (hard links where possible).
    """
    seeds = seed_files(corpus)
    report = Report()
    worker = Worker(good_dir)
    began = time.perf_counter()
    try:
        for index in range(start, start + count):
            if deadline_s is not None and time.perf_counter() - began > deadline_s:
                break
            mutator, source, data = make_mutant(seeds, seed, index)
            folder = work_dir / f"m{index}"
            folder.mkdir(parents=True)
            (folder / "mutant.dcm").write_bytes(data)
            good_copy = folder / "good"
            good_copy.mkdir()
            for path in good_dir.iterdir():
                try:
                    os.link(path, good_copy / path.name)
                except OSError:
                    shutil.copyfile(path, good_copy / path.name)
            answer = worker.run(folder)
            report.add(index, mutator, source, answer)
            if answer["outcome"] not in BAD_OUTCOMES:
                shutil.rmtree(folder, ignore_errors=True)
            if progress is not None:
                progress(report)
    finally:
        worker.close()
        report.restarts = worker.restarts
    return report
