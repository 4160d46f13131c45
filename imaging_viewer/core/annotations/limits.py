"""Limits on an annotation file read from disk: size, nesting, annotation count.

An annotation file may come from anyone (a colleague, a CD, a path typed by
hand). These bounds are far above what a real study holds, and keep a hostile
or mistaken file from taking minutes, all memory, or blocking for ever.
"""

from __future__ import annotations

import json
import os
import stat
from typing import Any

import numpy as np

# A study with thousands of long freehand outlines stays below a few megabytes.
MAX_FILE_BYTES = 32 * 1024**2
# The schema nests seven deep (document, lesions, lesion, annotations,
# annotation, points, point); unknown keys may add some.
MAX_NESTING = 32
# Annotations in one file (all lesions together).
MAX_ANNOTATIONS = 20_000


class AnnotationLimitError(ValueError):
    """The file is beyond a limit; the message says which, for the user."""


def read_bounded(path: str | os.PathLike[str]) -> bytes:
    """The bytes of a regular file of at most :data:`MAX_FILE_BYTES`.

    Opened without blocking (a FIFO given as the file would wait for a writer)
    and refused unless it is a regular file (``/dev/zero`` never ends).

    Raises
    ------
    AnnotationLimitError
        Not a regular file, or too large.
    OSError
        It cannot be opened or read.
    """
    descriptor = os.open(os.fspath(path), os.O_RDONLY | os.O_NONBLOCK)
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise AnnotationLimitError(
                "not a regular file (a FIFO, device or folder): not read"
            )
        if status.st_size > MAX_FILE_BYTES:
            raise AnnotationLimitError(
                f"file of {status.st_size / 1024**2:.0f} MiB: annotation files are "
                f"limited to {MAX_FILE_BYTES / 1024**2:.0f} MiB"
            )
        with os.fdopen(descriptor, "rb", closefd=False) as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
    finally:
        os.close(descriptor)
    if len(data) > MAX_FILE_BYTES:
        raise AnnotationLimitError(
            f"file grew past {MAX_FILE_BYTES / 1024**2:.0f} MiB while being read"
        )
    return data


def parse_bounded(text: str) -> Any:
    """JSON nested at most :data:`MAX_NESTING` deep.

    The depth is checked before parsing (brackets outside strings), so a
    100,000-deep document is refused in one pass instead of overflowing the
    parser's recursion.

    Raises
    ------
    AnnotationLimitError
        Nested too deep.
    json.JSONDecodeError
        Not JSON.
    """
    depth = nesting_depth(text)
    if depth > MAX_NESTING:
        raise AnnotationLimitError(
            f"JSON nested {depth} deep: annotation files nest at most {MAX_NESTING}"
        )
    try:
        return json.loads(text)
    except RecursionError:  # cannot happen below MAX_NESTING; kept for safety
        raise AnnotationLimitError("JSON nested too deep") from None


def nesting_depth(text: str) -> int:
    """The deepest ``[``/``{`` nesting of JSON text, strings ignored (RFC 8259)."""
    # Strings are removed first (escaped quotes and backslashes too), then the
    # brackets counted with numpy: no Python loop over megabytes of text.
    without_escapes = text.replace("\\\\", "").replace('\\"', "")
    outside = "".join(without_escapes.split('"')[0::2])
    codes = np.frombuffer(outside.encode("ascii", "replace"), dtype=np.uint8)
    opening = (codes == ord("[")) | (codes == ord("{"))
    closing = (codes == ord("]")) | (codes == ord("}"))
    steps = opening.astype(np.int64) - closing.astype(np.int64)
    return int(np.cumsum(steps).max()) if steps.size else 0


def check_annotation_count(document: Any) -> None:
    """Refuse a document with more than :data:`MAX_ANNOTATIONS` annotations."""
    lesions = document.get("lesions") if isinstance(document, dict) else None
    if not isinstance(lesions, list):
        return
    count = sum(
        len(lesion.get("annotations") or ())
        for lesion in lesions
        if isinstance(lesion, dict) and isinstance(lesion.get("annotations"), list)
    )
    if count > MAX_ANNOTATIONS:
        raise AnnotationLimitError(
            f"{count} annotations: annotation files hold at most {MAX_ANNOTATIONS}"
        )
