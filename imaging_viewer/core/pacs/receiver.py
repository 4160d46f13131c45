"""The storage SCP that stays on (PS3.4 Annex B, Storage Service Class as SCP):
off by default; listens on loopback unless the user opens it to the network;
only the calling AE titles listed may store (PS3.8 7.1.1.4, association
rejected otherwise). What it receives goes into the local study database.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Final

from imaging_viewer.core.annotations.serialize import user_data_dir
from imaging_viewer.core.files import write_text_atomic
from imaging_viewer.core.pacs.errors import PacsError
from imaging_viewer.core.pacs.nodes import (
    DEFAULT_CALLING_AET,
    DEFAULT_MOVE_PORT,
    check_ae_title,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from pynetdicom.transport import ThreadedAssociationServer

    from imaging_viewer.core.pacs.database import StudyDatabase
    from imaging_viewer.core.pacs.sink import InstanceSink

__all__ = [
    "ReceiverSettings",
    "StorageReceiver",
    "load_receiver_settings",
    "receiver_settings_path",
    "save_receiver_settings",
]

LOOPBACK: Final = "127.0.0.1"


@dataclass(frozen=True)
class ReceiverSettings:
    """How the storage SCP listens. ``accepted_aets`` empty means any calling AE,
    allowed only on loopback (an open port accepts only the AEs listed)."""

    enabled: bool = False
    port: int = DEFAULT_MOVE_PORT
    accept_from_network: bool = False
    accepted_aets: tuple[str, ...] = field(default=())
    our_aet: str = DEFAULT_CALLING_AET

    def check(self) -> ReceiverSettings:
        """These settings if usable, else PacsError saying what to change."""
        if not 1024 <= self.port < 65536:
            raise PacsError(
                f"bad receive port {self.port}: give a user port from 1024 to 65535"
            )
        check_ae_title(self.our_aet)
        for title in self.accepted_aets:
            check_ae_title(title)
        if self.accept_from_network and not self.accepted_aets:
            raise PacsError(
                "list the calling AE titles that may send before accepting from "
                "the network"
            )
        return self


def receiver_settings_path() -> Path:
    """``<user data>/pacs_receiver.json``."""
    return user_data_dir() / "pacs_receiver.json"


def load_receiver_settings(path: Path | None = None) -> ReceiverSettings:
    """The saved settings; the defaults (off) when missing or unreadable."""
    try:
        document = json.loads(
            (path or receiver_settings_path()).read_text(encoding="utf-8")
        )
        document["accepted_aets"] = tuple(document.get("accepted_aets", ()))
        return ReceiverSettings(**document).check()
    except (OSError, ValueError, TypeError, AttributeError, PacsError):
        return ReceiverSettings()


def save_receiver_settings(
    settings: ReceiverSettings, path: Path | None = None
) -> None:
    """Write the settings atomically (after :meth:`ReceiverSettings.check`)."""
    target = path or receiver_settings_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    document = asdict(settings.check())
    document["accepted_aets"] = list(settings.accepted_aets)
    write_text_atomic(target, json.dumps(document, indent=2))


class StorageReceiver:
    """A C-STORE SCP on ``settings.port`` writing into ``database``.

    Each association's instances are indexed when it ends (released or
    aborted), then ``on_received(paths)`` is called from that association's
    thread. :meth:`stop` ends the server and indexes anything still pending.
    """

    def __init__(
        self,
        settings: ReceiverSettings,
        database: StudyDatabase,
        on_received: Callable[[list[Path]], None] | None = None,
        on_stored: Callable[[Path], None] | None = None,
    ) -> None:
        self.settings = settings.check()
        self.database = database
        self.on_received = on_received
        self.on_stored = on_stored
        """Called with each file as it is written (the association's thread):
        the first images can be shown while the rest arrives."""
        self._server: ThreadedAssociationServer | None = None
        self._lock = threading.Lock()
        self._sinks: dict[int, InstanceSink] = {}

    @property
    def running(self) -> bool:
        """True while the server listens."""
        return self._server is not None

    @property
    def address(self) -> tuple[str, int]:
        """The host and port it listens on."""
        host = "" if self.settings.accept_from_network else LOOPBACK
        return host, self.settings.port

    def start(self) -> None:
        """Listen; PacsError when the port cannot be used."""
        if self._server is not None:
            return
        from pynetdicom import AE, evt

        from imaging_viewer.core.pacs.dimse import TIMEOUT_S, storage_contexts

        ae = AE(ae_title=self.settings.our_aet)
        ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = TIMEOUT_S
        ae.require_calling_aet = list(self.settings.accepted_aets)
        storage_contexts(ae, as_scp=False)
        handlers: list[Any] = [
            (evt.EVT_C_STORE, self._store),
            (evt.EVT_RELEASED, self._ended),
            (evt.EVT_ABORTED, self._ended),
            (evt.EVT_CONN_CLOSE, self._ended),
        ]
        try:
            server = ae.start_server(self.address, block=False, evt_handlers=handlers)
        except OSError as error:
            raise PacsError(
                f"cannot receive on port {self.settings.port}: "
                f"{error.strerror or error} (another program uses it? choose "
                "another port)"
            ) from error
        assert server is not None  # not blocking: the server is returned
        self._server = server

    def stop(self) -> None:
        """Stop listening (open associations are ended) and index what came."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
        with self._lock:
            pending = list(self._sinks)
        for key in pending:
            self._finish(key)

    def _sink(self, assoc: Any) -> InstanceSink:
        from imaging_viewer.core.pacs.sink import InstanceSink

        with self._lock:
            sink = self._sinks.get(id(assoc))
            if sink is None:
                sink = self._sinks[id(assoc)] = InstanceSink(
                    database=self.database, on_stored=self.on_stored
                )
            return sink

    def _store(self, event: Any) -> int:
        try:
            self._sink(event.assoc).store_encoded(
                event.dataset, event.encoded_dataset()
            )
        except OSError:
            return 0xA700  # out of resources: the disk is full or not writable
        except Exception:
            return 0xC000  # cannot understand (PS3.4 B.2.3)
        return 0x0000

    def _ended(self, event: Any) -> None:
        self._finish(id(event.assoc))

    def _finish(self, key: int) -> None:
        with self._lock:
            sink = self._sinks.pop(key, None)
            if sink is None:
                return
            sink.finish()
        if sink.received and self.on_received is not None:
            self.on_received(list(sink.received))
