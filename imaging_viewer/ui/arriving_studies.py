"""Opening studies while their files arrive (issue 14 item 4): a study opens as
soon as its first instances are stored, and is scanned again every
:data:`~imaging_viewer.core.pacs.arrivals.REOPEN_INTERVAL_S` and at the end,
so its series grow in the window; the window is never blocked (the scans run
in the background, one at a time)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from imaging_viewer.core.pacs.arrivals import ArrivingFiles

if TYPE_CHECKING:
    from collections.abc import Callable

    from imaging_viewer.ui.main_window import MainWindow

__all__ = ["ArrivingStudies"]

_TICK_MS = 250


class ArrivingStudies(QObject):
    """Follows one transfer: :meth:`stored` (any thread) counts each file;
    ``open_folder(study folder)`` is called on the GUI thread when ``ready()``
    (no scan under way); ``status`` says "receiving 57/300"."""

    status = Signal(str)

    def __init__(
        self,
        open_folder: Callable[[Path], None],
        ready: Callable[[], bool],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._open_folder = open_folder
        self._ready = ready
        self.files = ArrivingFiles()
        self._finishing = False
        self._timer = QTimer(self)
        self._timer.setInterval(_TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    @classmethod
    def for_window(cls, window: MainWindow) -> ArrivingStudies:
        """Studies arriving into ``window``: opened beside those open (the
        other-patient question applies; a study kept out is not asked again),
        scanned again while no other scan runs; "receiving 57/300" in the
        status bar."""
        workspace = window.workspace
        arriving = cls(window.opening.add_study, lambda: not workspace.scanning, window)

        def kept_out(what: str, message: str) -> None:
            if message == "cancelled" and what.startswith("Adding "):
                arriving.ignore(Path(what.removeprefix("Adding ")))

        def said(text: str) -> None:
            if text:
                window.statusBar().showMessage(text, 3000)
            else:
                workspace.events.failed.disconnect(kept_out)

        workspace.events.failed.connect(kept_out)
        arriving.status.connect(said)
        return arriving

    def stored(self, path: Path) -> None:
        """A file was written (called from the receiving thread)."""
        self.files.stored(path)

    def expect(self, total: int) -> None:
        """The retrieve's progress: the total number of instances."""
        self.files.expect(total)

    def ignore(self, folder: Path) -> None:
        """The user kept this study out: it is not opened again."""
        self.files.ignore(folder)

    def finish(self) -> None:
        """The transfer ended: what arrived since the last scan is opened as
        soon as no scan runs, then the following stops."""
        self._finishing = True
        self._tick()

    @property
    def active(self) -> bool:
        """True until everything that arrived was opened after :meth:`finish`."""
        return self._timer.isActive()

    def _tick(self) -> None:
        if self.files.received:
            self.status.emit(self.files.status())
        if not self._ready():
            return
        folder = self.files.next_due(final=self._finishing)
        if folder is not None:
            self._open_folder(folder)  # one scan at a time: next at next tick
        if self._finishing and not self.files.pending:
            self._timer.stop()
            self.status.emit("")
