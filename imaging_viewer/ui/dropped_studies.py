"""Files and folders dropped on the window: added to the studies open, as File →
Add study… does (a study of another patient asks first), or opened when
nothing is open. Several are scanned one after the other; so are the studies
and series opened from the Local database, each scanned as exactly its files
(:meth:`DroppedStudies.add_files`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from PySide6.QtCore import QUrl

    from imaging_viewer.core.dicom.scan import ScanResult
    from imaging_viewer.ui.main_window import MainWindow


@dataclass(frozen=True)
class ListedFiles:
    """A study or series to open as exactly these files, named ``name``."""

    files: tuple[Path, ...]
    name: str


class DroppedStudies:
    """Scans dropped paths in turn: the next starts when the workspace has
    added (or declined, or failed to scan) the one before."""

    def __init__(self, window: MainWindow) -> None:
        self._window = window
        self._waiting: list[Path | ListedFiles] = []
        self._scanning = False
        events = window.workspace.events
        events.opened.connect(self._on_opened)
        events.failed.connect(self._on_failed)

    @property
    def pending(self) -> list[Path | ListedFiles]:
        """Dropped paths (and listed files) not scanned yet."""
        return list(self._waiting)

    def add(self, paths: Iterable[Path | ListedFiles]) -> None:
        """Add ``paths`` after those dropped before."""
        self._waiting.extend(paths)
        if not self._scanning:
            self._next()

    def add_files(self, files: Iterable[Path], name: str) -> None:
        """Add exactly ``files`` (not the rest of their folders), after what was
        added before; ``name`` names them (the scan's root)."""
        self.add([ListedFiles(tuple(files), name)])

    def _next(self) -> None:
        if not self._waiting:
            return
        path = self._waiting.pop(0)
        window = self._window
        self._scanning = True
        if isinstance(path, ListedFiles):
            window.opening.add_files(list(path.files), path.name)
        elif not window.workspace.studies and not window.is_busy:
            window.open_path(path)
        else:
            window.opening.add_study(path)

    def _on_opened(self, _result: ScanResult) -> None:
        self._done()

    def _on_failed(self, what: str, _message: str) -> None:
        if what.startswith(("Scanning ", "Adding ")):  # not a series' load
            self._done()

    def _done(self) -> None:
        if self._scanning:
            self._scanning = False
            self._next()


def add_dropped(window: MainWindow, urls: Iterable[QUrl]) -> bool:
    """Add the local files and folders among ``urls`` (see
    :class:`DroppedStudies`); False when there is none."""
    paths = [Path(url.toLocalFile()) for url in urls if url.isLocalFile()]
    if not paths:
        return False
    dropped_studies(window).add(paths)
    return True


def dropped_studies(window: MainWindow) -> DroppedStudies:
    """The window's queue of studies to add (made on first use)."""
    dropped: DroppedStudies | None = getattr(window, "_dropped_studies", None)
    if dropped is None:
        dropped = DroppedStudies(window)
        window._dropped_studies = dropped  # type: ignore[attr-defined]
    return dropped
