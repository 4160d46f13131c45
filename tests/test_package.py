"""Importing the package sets up the process as the viewer needs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = (
    "import os, imaging_viewer, numpy;"
    " tasks = len(os.listdir('/proc/self/task')) if os.path.isdir('/proc/self/task')"
    " else -1;"
    " print(os.environ['OPENBLAS_NUM_THREADS'], tasks)"
)


def _probe(**env: str) -> list[str]:
    environment = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    environment.update(env)
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return done.stdout.split()


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_numpy_starts_no_blas_threads() -> None:
    # numpy imported after the package: OpenBLAS runs in the calling thread
    # (no helper threads spinning on the cores the viewer decodes and renders on).
    assert _probe() == ["1", "1"]


def test_a_thread_count_the_user_set_is_kept() -> None:
    assert _probe(OPENBLAS_NUM_THREADS="2")[0] == "2"
