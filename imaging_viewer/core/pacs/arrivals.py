"""Instances arriving (a retrieve or the receiver), counted per study folder, so
the viewer can open a study at its first images and scan it again, now and
then, while the rest arrives (issue 14 item 4).

Qt-free and thread-safe: :meth:`ArrivingFiles.stored` is called from the
receiving thread, the rest from the viewer's.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

__all__ = ["REOPEN_INTERVAL_S", "ArrivingFiles", "database_study_folder"]

REOPEN_INTERVAL_S = 1.5
"""A study folder is scanned again at most this often while files arrive."""


def database_study_folder(path: Path) -> Path:
    """The study folder of a file in the database's layout
    (``<study>/<series>/<instance>.dcm``)."""
    return path.parent.parent


class ArrivingFiles:
    """Files stored so far per study folder, the number expected (the
    retrieve's sub-operations, PS3.4 C.4.3.1.3; 0: unknown), and which folders
    have new files to open since they were last opened."""

    def __init__(
        self,
        study_folder: Callable[[Path], Path] = database_study_folder,
        *,
        interval_s: float = REOPEN_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._study_folder = study_folder
        self._interval_s = interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: dict[Path, int] = {}
        self._opened: dict[Path, tuple[int, float]] = {}
        """Folder -> (files when last opened, when)."""
        self._ignored: set[Path] = set()
        self.expected = 0
        self.received = 0

    def stored(self, path: Path) -> None:
        """One file written (any thread)."""
        folder = self._study_folder(path)
        with self._lock:
            self._counts[folder] = self._counts.get(folder, 0) + 1
            self.received += 1

    def expect(self, total: int) -> None:
        """The number of instances the transfer announces."""
        self.expected = max(total, 0)

    def ignore(self, folder: Path) -> None:
        """Open this folder no more (the user kept its study out)."""
        with self._lock:
            self._ignored.add(folder)

    def next_due(self, *, final: bool = False) -> Path | None:
        """The folder to open (again) now, marked opened: one with files never
        opened, or with more files than when last opened once the interval has
        passed (``final``: at once); None when none is due."""
        now = self._clock()
        with self._lock:
            for folder in sorted(self._counts):
                count = self._counts[folder]
                if folder in self._ignored:
                    continue
                opened, when = self._opened.get(folder, (0, -1e18))
                if count <= opened:
                    continue
                if opened and not final and now - when < self._interval_s:
                    continue
                self._opened[folder] = (count, now)
                return folder
        return None

    @property
    def pending(self) -> bool:
        """True while a folder has files not opened yet."""
        with self._lock:
            return any(
                count > self._opened.get(folder, (0, 0.0))[0]
                for folder, count in self._counts.items()
                if folder not in self._ignored
            )

    def status(self) -> str:
        """ "receiving 57/300" (or "receiving 57" when the total is unknown)."""
        received, expected = self.received, self.expected
        if expected >= received and expected:
            return f"receiving {received}/{expected}"
        return f"receiving {received}"
