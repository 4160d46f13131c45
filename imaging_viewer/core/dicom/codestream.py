"""The image size a compressed frame's own codestream declares, read before decoding.

A decoder allocates what the codestream header says, not what Rows and Columns
say: a JPEG claiming 65535×65535 in a 512×512 image would take 12 GiB. Reading
the few header bytes first lets the loader refuse such a frame.
"""

from __future__ import annotations

from dataclasses import dataclass

# JPEG Start Of Frame markers (ITU-T T.81 B.1.1.3): C0–CF except DHT (C4),
# JPG (C8) and DAC (CC); F7 is JPEG-LS SOF55 (ITU-T T.87 C.2.2).
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC} | {0xF7}
# JPEG 2000 SOC then SIZ (ITU-T T.800 A.4.1, A.5.1).
_J2K_SOC_SIZ = b"\xff\x4f\xff\x51"
# Markers without a length field (T.81 B.1.1.3): SOI, EOI, RSTn, TEM.
_STANDALONE = frozenset(range(0xD0, 0xDA)) | {0x01}
# Only the first bytes of a frame are searched for its header.
_SEARCH_BYTES = 1 << 16


@dataclass(frozen=True)
class CodestreamSize:
    """Rows, columns and components a codestream header declares."""

    rows: int
    columns: int
    components: int

    @property
    def samples(self) -> int:
        """Samples in one decoded frame."""
        return self.rows * self.columns * self.components


def codestream_size(fragment: bytes) -> CodestreamSize | None:
    """The size declared by a JPEG, JPEG-LS or JPEG 2000 frame's first fragment.

    Returns None where the bytes are none of these (RLE, whose size comes from
    the DICOM header, PS3.5 G) or the header cannot be found.

    References
    ----------
    ITU-T T.81 B.2.2 (frame header), T.87 C.2.2, T.800 A.5.1 (SIZ);
    PS3.5 8.2 (encapsulated transfer syntaxes).
    """
    head = bytes(fragment[:_SEARCH_BYTES])
    start = head.find(_J2K_SOC_SIZ)
    if start >= 0:
        return _j2k_size(head, start + 4)
    if head[:2] == b"\xff\xd8":
        return _jpeg_size(head)
    return None


def _j2k_size(head: bytes, siz: int) -> CodestreamSize | None:
    # SIZ: Lsiz(2) Rsiz(2) Xsiz Ysiz XOsiz YOsiz XTsiz YTsiz XTOsiz YTOsiz (4 each)
    # Csiz(2).
    body = head[siz : siz + 40]
    if len(body) < 40:
        return None
    xsiz, ysiz, xosiz, yosiz = (
        int.from_bytes(body[4 + 4 * n : 8 + 4 * n], "big") for n in range(4)
    )
    components = int.from_bytes(body[36:38], "big")
    return CodestreamSize(max(0, ysiz - yosiz), max(0, xsiz - xosiz), components)


def _jpeg_size(head: bytes) -> CodestreamSize | None:
    position = 2
    while position + 4 <= len(head):
        if head[position] != 0xFF:
            return None
        marker = head[position + 1]
        if marker == 0xFF:  # fill byte (T.81 B.1.1.2)
            position += 1
            continue
        if marker in _STANDALONE:
            position += 2
            continue
        length = int.from_bytes(head[position + 2 : position + 4], "big")
        if marker in _SOF_MARKERS:
            # Lf(2) P(1) Y(2) X(2) Nf(1)
            body = head[position + 4 : position + 10]
            if len(body) < 6:
                return None
            rows = int.from_bytes(body[1:3], "big")
            columns = int.from_bytes(body[3:5], "big")
            return CodestreamSize(rows, columns, body[5])
        if length < 2:
            return None
        position += 2 + length
    return None
