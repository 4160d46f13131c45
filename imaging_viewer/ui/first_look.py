"""The first look at a folder: one of its images, read before the folder is scanned.

Qt-free, so that the viewer can start reading it in a thread of its own while
it imports Qt and builds its window (:func:`prefetch`); the window then shows
what was read (``MainWindow.open_path``).
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from imaging_viewer.core.dicom.scan import CancelCallback
    from imaging_viewer.core.dicom.series import SeriesInfo
    from imaging_viewer.core.volume import Volume

    Look = tuple[SeriesInfo, Volume] | None


def first_look_file(path: Path, tries: int = 8) -> str | None:
    """A DICOM file from the middle of the first folder under ``path`` holding one.

    Folders are visited top-down in name order; in each, up to ``tries`` files
    from the middle outwards are checked for the DICM prefix (PS3.10 7.1).
    None when ``path`` is not a folder or nothing qualifies quickly.
    """
    if not path.is_dir():
        return None
    for visited, (folder, folders, files) in enumerate(os.walk(path)):
        if visited >= 32:
            return None
        folders.sort()
        names = sorted(n for n in files if not n.startswith("."))
        middle = len(names) // 2
        order = sorted(range(len(names)), key=lambda n: abs(n - middle))
        for n in order[:tries]:
            candidate = os.path.join(folder, names[n])
            try:
                with open(candidate, "rb") as handle:
                    prefix = handle.read(132)
            except OSError:
                continue
            if prefix[128:132] == b"DICM":
                return candidate
    return None


def look_at(candidate: str, cancel: CancelCallback | None = None) -> Look:
    """The series of the one file ``candidate`` and its volume (None if the
    file does not make exactly one series)."""
    from imaging_viewer.core.dicom.load import load_volume
    from imaging_viewer.core.dicom.scan import scan_folder

    found = scan_folder(Path(candidate)).series
    if len(found) != 1:
        return None
    return found[0], load_volume(found[0], None, cancel)


@dataclass(frozen=True)
class Prefetch:
    """A first look read ahead: the folder, its file and the read under way."""

    path: Path
    candidate: str
    result: Future[Look]


def prefetch(path: Path) -> Prefetch | None:
    """Start reading the first look at ``path`` in a thread (None: no folder)."""
    candidate = first_look_file(path)
    if candidate is None:
        return None
    result: Future[Look] = Future()

    def read() -> None:
        if not result.set_running_or_notify_cancel():
            return
        try:
            result.set_result(look_at(candidate))
        except BaseException as error:  # handed to whoever waits for it
            result.set_exception(error)

    threading.Thread(target=read, name="first-look", daemon=True).start()
    return Prefetch(path, candidate, result)
