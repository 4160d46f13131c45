"""The window's storage SCP that stays on (issue 14): started a moment after the
window opens when the user enabled it, stopped on exit; what it receives is
indexed (``core.pacs.receiver``) and opened beside the studies already open.

pynetdicom and the PACS core are imported only when the receiver starts: the
start-up path does not pay for them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal

if TYPE_CHECKING:
    from collections.abc import Callable

    from imaging_viewer.core.pacs.database import StudyDatabase
    from imaging_viewer.core.pacs.receiver import ReceiverSettings, StorageReceiver
    from imaging_viewer.ui.arriving_studies import ArrivingStudies
    from imaging_viewer.ui.open_indexing import OpenedStudiesIndexer

__all__ = ["PacsReceiverService"]

_START_DELAY_MS = 2000
"""After the first paint and the docks: receiving can wait two seconds."""


class PacsReceiverService(QObject):
    """Owns the :class:`StorageReceiver`; ``received`` carries the study folders
    of each association's instances, on the GUI thread."""

    received = Signal(object)
    failed = Signal(str)
    stored = Signal(object)
    """A file written, as it arrives (queued to the GUI thread)."""

    def __init__(
        self,
        open_folder: Callable[[Path], None] | None = None,
        parent: QObject | None = None,
        *,
        autostart: bool = True,
        settings_path: Path | None = None,
        database_path: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self._receiver: StorageReceiver | None = None
        self._database: StudyDatabase | None = None
        self.settings_path = settings_path
        self.database_path = database_path
        self.last_error = ""
        self.indexer: OpenedStudiesIndexer | None = None
        self._arrivals: Callable[[], ArrivingStudies] | None = None
        self._arriving: ArrivingStudies | None = None
        if open_folder is not None:
            self.received.connect(lambda folders: [open_folder(f) for f in folders])
        if autostart:
            QTimer.singleShot(_START_DELAY_MS, self.start_if_enabled)
        application = QCoreApplication.instance()
        if application is not None:
            application.aboutToQuit.connect(self.quit)

    @classmethod
    def for_window(cls, window: Any, autostart: bool) -> PacsReceiverService:
        """The main window's receiver: received studies open beside those open;
        stopped when the application quits. With it, the window's indexer of
        opened studies (:attr:`indexer`; only when ``autostart``: a window
        that remembers nothing indexes nothing)."""
        from imaging_viewer.ui.arriving_studies import ArrivingStudies
        from imaging_viewer.ui.open_indexing import OpenedStudiesIndexer

        service = cls(None, window, autostart=autostart)
        service.follow_arrivals(lambda: ArrivingStudies.for_window(window))
        service.indexer = OpenedStudiesIndexer(
            window.workspace, service, enabled=None if autostart else False
        )
        service.indexer.failed.connect(
            lambda message: window.statusBar().showMessage(
                f"Indexing the study opened: {message}", 10000
            )
        )
        return service

    def follow_arrivals(self, arrivals: Callable[[], ArrivingStudies]) -> None:
        """Open studies at their first images and let them grow while the rest
        arrives (in place of opening them when the association ends)."""
        self._arrivals = arrivals
        self.stored.connect(self._on_stored)
        self.received.connect(self._on_association_ended)

    def _on_stored(self, path: Path) -> None:
        if self._arrivals is None:
            return
        if self._arriving is None or not self._arriving.active:
            self._arriving = self._arrivals()
        self._arriving.stored(path)

    def _on_association_ended(self, _folders: object) -> None:
        if self._arriving is not None:
            self._arriving.finish()

    @property
    def running(self) -> bool:
        """True while the storage SCP listens."""
        return self._receiver is not None and self._receiver.running

    def settings(self) -> ReceiverSettings:
        """The saved settings (off when none)."""
        from imaging_viewer.core.pacs.receiver import load_receiver_settings

        return load_receiver_settings(self.settings_path)

    def start_if_enabled(self) -> None:
        """Start with the saved settings when they say so."""
        settings = self.settings()
        if settings.enabled:
            self.apply(settings, save=False)

    def apply(self, settings: ReceiverSettings, *, save: bool = True) -> str:
        """Save ``settings``, restart the receiver with them (or stop it) and say
        what it does now; a port in use or bad settings are said, not raised."""
        from imaging_viewer.core.pacs.errors import PacsError
        from imaging_viewer.core.pacs.receiver import save_receiver_settings

        self.stop()
        try:
            if save:
                save_receiver_settings(settings, self.settings_path)
            if not settings.enabled:
                return "receiving is off"
            self._start(settings)
        except (PacsError, OSError) as error:
            self.last_error = str(error)
            self.failed.emit(self.last_error)
            return self.last_error
        where = "any host" if settings.accept_from_network else "this computer only"
        who = ", ".join(settings.accepted_aets) or "any AE title"
        return (
            f"receiving as {settings.our_aet} on port {settings.port} from {where} "
            f"({who})"
        )

    def _start(self, settings: ReceiverSettings) -> None:
        from imaging_viewer.core.pacs.database import DatabaseError, StudyDatabase
        from imaging_viewer.core.pacs.errors import PacsError
        from imaging_viewer.core.pacs.receiver import StorageReceiver

        try:
            self._database = StudyDatabase(self.database_path)
        except DatabaseError as error:
            raise PacsError(str(error)) from error
        self._receiver = StorageReceiver(
            settings, self._database, self._arrived, on_stored=self.stored.emit
        )
        try:
            self._receiver.start()
        except PacsError:
            self.stop()
            raise

    def _arrived(self, paths: list[Path]) -> None:
        """From the association's thread: the study folders, to the GUI thread."""
        folders = sorted({Path(path).parent.parent for path in paths})
        self.received.emit(folders)

    def quit(self) -> None:
        """On quit: stop receiving and the indexing under way."""
        self.stop()
        if self.indexer is not None:
            self.indexer.stop()

    def stop(self, *_: Any) -> None:
        """Stop listening and close the database (on exit, or to restart)."""
        receiver, self._receiver = self._receiver, None
        if receiver is not None:
            receiver.stop()
        database, self._database = self._database, None
        if database is not None:
            database.close()
