"""Leftovers of interrupted writes: hidden temporary files and staging folders.

Writers here stage their output beside the target (``.<name>.<random>.tmp``
files from :func:`tempfile.mkstemp`, ``.<name>.<random>`` folders from
:func:`tempfile.mkdtemp`) and rename it into place. A killed process leaves the
staging entry behind; the next write to the same target removes it, and the app
sweeps the folders it writes to at start-up (:func:`sweep_leftovers`).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

# Older than this, a staging entry belongs to no write still running.
STALE_AFTER_S = 600.0
# Suffix of staging folders (``tempfile.mkdtemp(..., suffix=STAGING_SUFFIX)``),
# which marks them as ours for the start-up sweep.
STAGING_SUFFIX = ".staging"
# Any target's leftovers: the random part of tempfile's names is 8 characters of
# lowercase letters, digits and "_"; temporary files end .tmp, folders .staging.
_ANY_TEMPORARY_FILE = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")
_ANY_STAGING_FOLDER = re.compile(rf"\..+\.[a-z0-9_]{{8}}{re.escape(STAGING_SUFFIX)}")


def remove_leftovers(
    directory: str | os.PathLike[str], name: str, older_than_s: float = STALE_AFTER_S
) -> list[Path]:
    """Remove stale staging entries of target ``name`` in ``directory``.

    Only entries named as :mod:`tempfile` names them for that target (a dot,
    the name, a dot, eight random characters, optionally ``.tmp`` or
    ``.staging``) and not
    modified for ``older_than_s`` seconds are removed; errors are ignored.

    Returns
    -------
    list of Path
        What was removed.
    """
    pattern = re.compile(
        rf"\.{re.escape(name)}\.[A-Za-z0-9_]{{8}}(\.tmp|{re.escape(STAGING_SUFFIX)})?"
    )
    return _remove_stale(Path(directory), older_than_s, pattern.fullmatch)


def sweep_leftovers(
    directories: Iterable[str | os.PathLike[str]],
    older_than_s: float = STALE_AFTER_S,
) -> list[Path]:
    """Remove the stale leftovers of any target in each of ``directories`` (the
    folders the app writes to, at start-up): hidden ``.<name>.<random>.tmp`` files
    and ``.<name>.<random>.staging`` folders not modified for ``older_than_s``.

    Nothing else is touched (a user's own hidden files and folders do not end
    so); missing or unreadable folders and entries are skipped.

    Returns
    -------
    list of Path
        What was removed.
    """
    removed: list[Path] = []
    for directory in dict.fromkeys(Path(d) for d in directories):
        removed += _remove_stale(directory, older_than_s, _is_any_leftover)
    return removed


def _is_any_leftover(name: str) -> bool:
    return bool(
        _ANY_TEMPORARY_FILE.fullmatch(name) or _ANY_STAGING_FOLDER.fullmatch(name)
    )


def _remove_stale(
    folder: Path, older_than_s: float, is_leftover: Callable[[str], object]
) -> list[Path]:
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        if not is_leftover(entry.name):
            continue
        with contextlib.suppress(OSError):
            status = entry.stat(follow_symlinks=False)
            if now - status.st_mtime < older_than_s:
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed
