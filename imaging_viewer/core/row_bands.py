"""Row bands over the free cores, for per-frame numpy work on large images.

numpy releases the GIL while it copies, gathers and computes, so a large frame
(a 3000² radiograph through its lookup table, a sagittal plane gathered from an
axial stack) takes about half the time on two free cores. Rendering and
reslicing share one pool of helper threads, started on first use.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Callable

MAX_THREADS: Final = 4
_POOL_LOCK: Final = threading.Lock()
_POOLS: list[ThreadPoolExecutor] = []


def worker_count() -> int:
    """Cores this process may run on, at most :data:`MAX_THREADS`."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, min(MAX_THREADS, len(os.sched_getaffinity(0))))
    return max(1, min(MAX_THREADS, os.cpu_count() or 1))


def _pool() -> ThreadPoolExecutor:
    with _POOL_LOCK:
        if not _POOLS:
            _POOLS.append(
                ThreadPoolExecutor(MAX_THREADS - 1, thread_name_prefix="row-bands")
            )
        return _POOLS[0]


def band_count(rows: int, pixels: int, min_pixels: int) -> int:
    """How many threads :func:`in_bands` uses for ``pixels`` worth of work."""
    return min(worker_count(), rows) if pixels >= min_pixels else 1


def in_bands(
    work: Callable[[slice], None],
    rows: int,
    pixels: int,
    *,
    min_pixels: int,
    pieces: int = 0,
) -> None:
    """Run ``work(band)`` over row bands covering ``rows``; on several cores
    when ``pixels`` (the work's size) is at least ``min_pixels``.

    The rows are cut in ``pieces`` bands (two per core by default) that this
    thread and the helpers take in turn, so a helper that a busy machine does
    not schedule holds up one small band at most, and a band it never started
    is done here.
    """
    threads = band_count(rows, pixels, min_pixels)
    if threads <= 1:
        work(slice(0, rows))
        return
    pieces = min(rows, max(pieces or 2 * threads, threads))
    bounds = [rows * n // pieces for n in range(pieces + 1)]
    bands = iter([slice(bounds[n], bounds[n + 1]) for n in range(pieces)])
    lock = threading.Lock()

    def drain() -> None:
        while True:
            with lock:
                band = next(bands, None)
            if band is None:
                return
            work(band)

    pool = _pool()
    helpers = [pool.submit(drain) for _ in range(threads - 1)]
    try:
        drain()
    finally:
        for helper in helpers:
            if not helper.cancel():
                helper.result()
