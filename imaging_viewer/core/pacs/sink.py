"""Where retrieved and received instances go: a folder of Part 10 files, or the
local study database's folder (indexed when the transfer ends, whole or not)."""

from __future__ import annotations

import io
import threading
from typing import TYPE_CHECKING

from pydicom import dcmread, dcmwrite

from imaging_viewer.core.files import sync_directory, write_bytes_atomic

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from pydicom.dataset import Dataset

    from imaging_viewer.core.pacs.database import StudyDatabase

__all__ = ["InstanceSink"]

# The header elements that place an instance (read without the pixel data).
_PLACING = ["StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"]


def _safe(uid: str) -> str:
    return "".join(c if c.isalnum() or c == "." else "_" for c in uid) or "_"


class InstanceSink:
    """Writes each instance atomically (a partial file never appears), as
    ``<folder>/<SOP Instance UID>.dcm`` or in the database's layout; the bytes
    as received, not fsynced one by one: :meth:`finish` fsyncs each folder once.

    ``on_stored(path)`` is called after each file, from the receiving thread:
    the first images can be opened while the rest arrives. :meth:`finish`
    indexes what arrived into the database (also after a failure, so what was
    kept is consistent).
    """

    def __init__(
        self,
        folder: Path | None = None,
        database: StudyDatabase | None = None,
        on_stored: Callable[[Path], None] | None = None,
    ) -> None:
        if (folder is None) == (database is None):
            raise ValueError("give a folder or a database")
        self.folder = folder
        self.database = database
        self.on_stored = on_stored
        self.received: list[Path] = []
        self.study_uids: set[str] = set()
        self._lock = threading.Lock()
        self._indexed = 0
        self._folders: set[Path] = set()
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)

    def target(self, study_uid: str, series_uid: str, sop_uid: str) -> Path:
        """The file an instance goes to."""
        if self.database is not None:
            return self.database.storage_path(study_uid, series_uid, sop_uid)
        assert self.folder is not None
        return self.folder / f"{_safe(sop_uid)}.dcm"

    def store_encoded(self, ds: Dataset, part10: bytes) -> Path:
        """Keep an instance received by C-STORE: ``part10`` is the whole file
        (preamble, File Meta, dataset; PS3.10 7.1) as it came off the wire."""
        path = self.target(
            str(ds.get("StudyInstanceUID", "")),
            str(ds.get("SeriesInstanceUID", "")),
            str(ds.get("SOPInstanceUID", "")),
        )
        write_bytes_atomic(path, part10, durable=False)
        self._stored(path, str(ds.get("StudyInstanceUID", "")))
        return path

    def store_part10(self, part10: bytes) -> Path:
        """Keep a Part 10 file as received (a WADO-RS part, PS3.18 8.7.3.5.2):
        only its header is parsed, to name it; the bytes are written unchanged.
        A part without the Part 10 preamble is decoded and written as Part 10."""
        stream = io.BytesIO(part10)
        if part10[128:132] != b"DICM":
            return self.store_dataset(dcmread(stream, force=True))
        header = dcmread(stream, stop_before_pixels=True, specific_tags=_PLACING)
        return self.store_encoded(header, part10)

    def store_dataset(self, ds: Dataset) -> Path:
        """Keep a decoded instance (WADO-RS) as a Part 10 file."""
        buffer = io.BytesIO()
        dcmwrite(buffer, ds, enforce_file_format=True)
        return self.store_encoded(ds, buffer.getvalue())

    def _stored(self, path: Path, study_uid: str) -> None:
        with self._lock:
            self.received.append(path)
            self.study_uids.add(study_uid)
            self._folders.add(path.parent)
        if self.on_stored is not None:
            self.on_stored(path)

    def finish(self) -> None:
        """Make what arrived durable (one fsync per folder) and index into the
        database what arrived since the last call."""
        with self._lock:
            folders, self._folders = self._folders, set()
            new = self.received[self._indexed :]
            self._indexed = len(self.received)
        for folder in sorted(folders):
            sync_directory(folder)
        if self.database is not None:
            self.database.add_instance_files(new)
