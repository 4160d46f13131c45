"""A deflated dataset's inflated size, measured by streaming before pydicom reads it."""

from __future__ import annotations

import zlib

# Bytes inflated (and dropped) per step: memory stays at about this much.
_CHUNK_BYTES = 1 << 20


def inflated_size_exceeds(path: str, limit: int) -> str | None:
    """Why ``path`` is refused when its deflated dataset inflates past ``limit``.

    Inflates in chunks that are dropped at once, so a deflate bomb costs time in
    proportion to ``limit`` and no memory; returns None when the dataset fits
    (or is not deflate data: pydicom then says what is wrong).

    References
    ----------
    PS3.5 A.5 (Deflated Explicit VR Little Endian: the dataset after the file
    meta group is one raw deflate stream, RFC 1951).
    """
    try:
        with open(path, "rb") as handle:
            start = _meta_group_end(handle.read(1 << 16))
            if start is None:
                return None
            handle.seek(start)
            inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            total = 0
            while not inflater.eof:
                data = inflater.unconsumed_tail or handle.read(_CHUNK_BYTES)
                if not data:
                    break
                total += len(inflater.decompress(data, _CHUNK_BYTES))
                if total > limit:
                    return (
                        "deflated dataset inflates to more than "
                        f"{limit / 1024**2:.0f} MiB: refused (a deflate bomb, or "
                        "an image too large to read)"
                    )
    except (OSError, zlib.error):
        return None
    return None


def _meta_group_end(head: bytes) -> int | None:
    """Offset of the first byte after the File Meta group (PS3.10 7.1), or None."""
    position = 132 if head[128:132] == b"DICM" else 0
    while position + 8 <= len(head):
        group = int.from_bytes(head[position : position + 2], "little")
        if group != 0x0002:
            return position if position > 0 else None
        vr = head[position + 4 : position + 6]
        if vr in (b"OB", b"OW", b"OF", b"SQ", b"UT", b"UN", b"UC", b"UR", b"OD", b"OL"):
            length = int.from_bytes(head[position + 8 : position + 12], "little")
            position += 12 + length
        else:
            position += 8 + int.from_bytes(head[position + 6 : position + 8], "little")
    return None
