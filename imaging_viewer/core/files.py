"""Writing a file whole or not at all: a temporary file beside it, fsync, rename.

Every file the viewer writes (annotations, exports, volumes, teaching cases) goes
through here, so they share one policy: the data goes to a hidden temporary file in
the target's folder, is fsynced, and is renamed over the target with ``os.replace``
(atomic on POSIX and Windows within one file system). Whenever the write is
interrupted (an error, a full disk, the process killed), the target holds either
the previous file or the new one, whole; on an error the temporary file is removed
(a kill can leave a hidden ``.<name>.*`` file behind). A replaced file keeps its
permission bits; a new file gets the usual mode of a new file, ``0o666`` less the
process's umask.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from imaging_viewer.core.leftovers import remove_leftovers

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "atomic_path",
    "current_umask",
    "sync_directory",
    "write_bytes_atomic",
    "write_text_atomic",
]


def current_umask() -> int:
    """The process's file mode mask, read without changing it (Linux), else 022.

    ``os.umask`` can only be read by setting it, which would race with other
    threads creating files.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def _mode_for(target: Path) -> int:
    """The mode ``target`` has, or the one a new file would get."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        return 0o666 & ~current_umask()


def sync_directory(directory: str | os.PathLike[str]) -> None:
    """Make the renames in ``directory`` durable (POSIX; a no-op where unsupported):
    once, after many :func:`write_bytes_atomic` with ``durable=False``."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    with contextlib.suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


@contextlib.contextmanager
def _replacing(
    target: Path, suffix: str, *, durable: bool = True
) -> Iterator[tuple[int, Path]]:
    """A new temporary file beside ``target`` (its open descriptor and path),
    renamed over ``target`` when the block ends, removed if it raises.

    The block owns the descriptor and must close it. Not ``durable``: neither the
    folder scan for leftovers nor the folder's fsync (the caller does both once).
    """
    if durable:
        remove_leftovers(target.parent, target.name)  # of writes killed before
    descriptor, name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=suffix, dir=target.parent
    )
    temporary = Path(name)
    try:
        yield descriptor, temporary
        os.chmod(temporary, _mode_for(target))
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    if durable:
        sync_directory(target.parent)


def write_bytes_atomic(
    path: str | os.PathLike[str],
    data: bytes | bytearray | memoryview,
    *,
    durable: bool = True,
) -> Path:
    """Write ``data`` to ``path`` whole or not at all; returns ``path`` as a Path.

    Parameters
    ----------
    path : path-like
        The file to create or replace; its folder must exist.
    data : bytes, bytearray or memoryview
        The whole content.
    durable : bool
        False for many files in a row (a retrieve): still whole or not at all,
        but not fsynced one by one; the caller calls :func:`sync_directory` on
        their folders at the end.

    Raises
    ------
    OSError
        When the folder is missing or not writable, or the disk is full; ``path``
        is then as it was.
    """
    target = Path(path)
    with (
        _replacing(target, ".tmp", durable=durable) as (descriptor, _),
        os.fdopen(descriptor, "wb") as stream,
    ):
        stream.write(data)
        if durable:
            stream.flush()
            os.fsync(stream.fileno())
    return target


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` as UTF-8 to ``path`` whole or not at all.

    As :func:`write_bytes_atomic`; returns ``path``.
    """
    return write_bytes_atomic(path, text.encode("utf-8"))


@contextlib.contextmanager
def atomic_path(
    path: str | os.PathLike[str], *, suffix: str = ".tmp"
) -> Iterator[Path]:
    """A temporary path for a writer that wants a file name (SimpleITK
    ``WriteImage``, pydicom ``dcmwrite``, ``QImage.save``); renamed over ``path``
    when the block ends without an error.

    ``suffix`` ends the temporary name, for writers that choose the format by
    it (``".nii.gz"``). A writer that reports failure by a return value must
    raise in the block; otherwise its (partial) file replaces ``path``.

    Examples
    --------
    >>> with atomic_path("ct.nii.gz", suffix=".nii.gz") as temporary:  # doctest: +SKIP
    ...     sitk.WriteImage(image, str(temporary))
    """
    target = Path(path)
    with _replacing(target, suffix) as (descriptor, temporary):
        os.close(descriptor)
        yield temporary
        # The writer closed its file; its data must reach the disk before the rename.
        descriptor = os.open(temporary, os.O_RDWR)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
