"""The worker processes that parse headers and decode pixels in parallel.

pydicom's parsing and the JPEG decoder plugins hold the GIL, so threads cannot
use both cores for them; processes can. One pool is made on first use and kept,
so its start-up (importing pydicom and the plugins) is paid once.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from concurrent.futures import ProcessPoolExecutor

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None


def worker_pool() -> ProcessPoolExecutor:
    """The shared process pool (one worker per core)."""
    global _pool
    with _lock:
        if _pool is None:
            # forkserver: safe from a multi-threaded (Qt) process, and cheap per worker.
            method = "forkserver" if sys.platform.startswith("linux") else "spawn"
            context = multiprocessing.get_context(method)
            if method == "forkserver":
                context.set_forkserver_preload(
                    [
                        "imaging_viewer.core.dicom.pixels",
                        "imaging_viewer.core.dicom.scan",
                    ]
                )
            _pool = ProcessPoolExecutor(
                max_workers=os.cpu_count() or 2, mp_context=context
            )
        return _pool


def shutdown_worker_pool() -> None:
    """Stop the worker processes (they are also stopped at exit)."""
    global _pool
    with _lock:
        if _pool is not None:
            _pool.shutdown(wait=True, cancel_futures=True)
            _pool = None
