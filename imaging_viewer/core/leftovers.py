"""Leftovers of interrupted writes: hidden temporary files and staging folders.

Writers here stage their output beside the target (``.<name>.XXXXXXXX.tmp``
files from :func:`tempfile.mkstemp`, ``.<name>.XXXXXXXX`` folders from
:func:`tempfile.mkdtemp`) and rename it into place. A killed process leaves the
staging entry behind; the next write to the same target removes it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
from pathlib import Path

# Older than this, a staging entry belongs to no write still running.
STALE_AFTER_S = 600.0


def remove_leftovers(
    directory: str | os.PathLike[str], name: str, older_than_s: float = STALE_AFTER_S
) -> list[Path]:
    """Remove stale staging entries of target ``name`` in ``directory``.

    Only entries named as :mod:`tempfile` names them for that target (a dot,
    the name, a dot, eight random characters, optionally ``.tmp``) and not
    modified for ``older_than_s`` seconds are removed; errors are ignored.

    Returns
    -------
    list of Path
        What was removed.
    """
    pattern = re.compile(rf"\.{re.escape(name)}\.[A-Za-z0-9_]{{8}}(\.tmp)?")
    folder = Path(directory)
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        if not pattern.fullmatch(entry.name):
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
