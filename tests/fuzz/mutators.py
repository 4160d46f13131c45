"""Mutations of a DICOM file's bytes, each deterministic given its random generator.

They follow the fault classes of issue 18: bit flips, byte runs, truncation,
extreme lengths and attribute values, corrupted compressed fragments, deep and
undelimited sequences, and deflate bombs.
"""

from __future__ import annotations

import random
import re
import struct
import zlib
from collections.abc import Callable

Mutator = Callable[[bytes, random.Random], bytes]

# Decimal String values worth trying (PS3.5 6.2 DS): huge, tiny, non-finite, zero.
_EXTREME_NUMBERS = (
    b"1e308",
    b"-1e308",
    b"nan",
    b"inf",
    b"-inf",
    b"0",
    b"-0",
    b"1e-308",
)
_DS_VALUE = re.compile(rb"-?\d+\.\d+(?:\\-?\d+\.\d+)*")
# Explicit VR elements with a 4-byte length (PS3.5 7.1.2).
_LONG_VR = re.compile(rb"(OB|OW|OF|SQ|UT|UN)\x00\x00")
_ITEM = b"\xfe\xff\x00\xe0"


def bit_flips(data: bytes, rng: random.Random) -> bytes:
    """Flip 1 to 16 random bits."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 16)):
        index = rng.randrange(len(out))
        out[index] ^= 1 << rng.randrange(8)
    return bytes(out)


def byte_runs(data: bytes, rng: random.Random) -> bytes:
    """Overwrite a run of up to 64 bytes with one value (0x00, 0xFF or random)."""
    out = bytearray(data)
    start = rng.randrange(len(out))
    length = rng.randint(1, 64)
    value = rng.choice((0x00, 0xFF, rng.randrange(256)))
    out[start : start + length] = bytes([value]) * len(out[start : start + length])
    return bytes(out)


def truncation(data: bytes, rng: random.Random) -> bytes:
    """Cut the file anywhere."""
    return data[: rng.randrange(1, len(data))]


def extreme_length(data: bytes, rng: random.Random) -> bytes:
    """Give an element with a 4-byte length an absurd length."""
    matches = list(_LONG_VR.finditer(data))
    if not matches:
        return bit_flips(data, rng)
    match = rng.choice(matches)
    length = rng.choice((0xFFFFFFFF, 0xFFFFFFFE, 0x7FFFFFFF, len(data) * 4 + 1, 1))
    start = match.end()
    return data[:start] + struct.pack("<I", length) + data[start + 4 :]


def extreme_value(data: bytes, rng: random.Random) -> bytes:
    """Replace a decimal value (spacing, position, slope, window...) by an extreme."""
    matches = list(_DS_VALUE.finditer(data[:65536]))
    if not matches:
        return bit_flips(data, rng)
    match = rng.choice(matches)
    parts = match.group().split(b"\\")
    parts[rng.randrange(len(parts))] = rng.choice(_EXTREME_NUMBERS)
    value = b"\\".join(parts)
    # Keep the element length right: pad or cut to the old length.
    old = match.group()
    value = value[: len(old)].ljust(len(old), b" ")
    return data[: match.start()] + value + data[match.end() :]


def corrupt_fragment(data: bytes, rng: random.Random) -> bytes:
    """Scramble bytes inside an encapsulated pixel data fragment (or the tail)."""
    items = [m.start() for m in re.finditer(re.escape(_ITEM), data)]
    start = rng.choice(items) + 8 if items else max(0, len(data) - 4096)
    out = bytearray(data)
    for _ in range(rng.randint(1, 32)):
        index = rng.randrange(start, len(out)) if start < len(out) else 0
        out[index] = rng.randrange(256)
    return bytes(out)


def deep_sequence(data: bytes, rng: random.Random) -> bytes:
    """Insert a deeply nested, undefined-length (maybe undelimited) private sequence
    before the pixel data."""
    depth = rng.choice((100, 1000, 20000))
    opening = (
        b"\x09\x00\x10\x10SQ\x00\x00\xff\xff\xff\xff" + _ITEM + b"\xff\xff\xff\xff"
    )
    closing = b"\xfe\xff\x0d\xe0\x00\x00\x00\x00" + b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"
    nested = opening * depth + (closing * depth if rng.random() < 0.5 else b"")
    where = data.rfind(b"\xe0\x7f\x10\x00")
    if where < 0:
        where = len(data)
    return data[:where] + nested + data[where:]


def deflate_bomb(data: bytes, rng: random.Random) -> bytes:
    """Re-encode as Deflated Explicit VR Little Endian with a huge run of zeros
    appended to the dataset (a few MB compressed, hundreds of MB inflated)."""
    meta_end = _meta_end(data)
    if meta_end is None:
        return bit_flips(data, rng)
    syntax = b"1.2.840.10008.1.2.1.99\x00"
    head = re.sub(
        rb"1\.2\.840\.10008\.1\.2(?:\.[\d.]+)?\x00?", syntax, data[:meta_end], count=1
    )
    head = _fix_meta_length(head)
    zeros = rng.choice((64, 256, 700)) * 1024 * 1024
    padding = b"\x09\x00\x20\x10OB\x00\x00" + struct.pack("<I", zeros)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = compressor.compress(data[meta_end:]) + compressor.compress(padding)
    chunk = bytes(1 << 20)
    for _ in range(zeros >> 20):
        body += compressor.compress(chunk)
    return head + body + compressor.flush()


def _meta_end(data: bytes) -> int | None:
    if data[128:132] != b"DICM":
        return None
    position = 132
    while position + 8 <= len(data) and data[position : position + 2] == b"\x02\x00":
        vr = data[position + 4 : position + 6]
        if vr in (b"OB", b"OW", b"UN", b"SQ", b"UT"):
            position += 12 + struct.unpack_from("<I", data, position + 8)[0]
        else:
            position += 8 + struct.unpack_from("<H", data, position + 6)[0]
    return position


def _fix_meta_length(head: bytes) -> bytes:
    """Keep File Meta Information Group Length (0002,0000) true (PS3.10 7.1)."""
    if head[132:136] != b"\x02\x00\x00\x00":
        return head
    return head[:140] + struct.pack("<I", len(head) - 144) + head[144:]


MUTATORS: dict[str, Mutator] = {
    "bit_flips": bit_flips,
    "byte_runs": byte_runs,
    "truncation": truncation,
    "extreme_length": extreme_length,
    "extreme_value": extreme_value,
    "corrupt_fragment": corrupt_fragment,
    "deep_sequence": deep_sequence,
    "deflate_bomb": deflate_bomb,
}
# How often each is drawn: the expensive bombs rarely.
WEIGHTS: dict[str, int] = {
    "bit_flips": 20,
    "byte_runs": 15,
    "truncation": 10,
    "extreme_length": 10,
    "extreme_value": 20,
    "corrupt_fragment": 20,
    "deep_sequence": 4,
    "deflate_bomb": 1,
}
