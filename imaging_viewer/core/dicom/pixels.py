"""Reading stored pixel values of one file: a raw fast path and pydicom's decoders."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pydicom
from pydicom.pixels.utils import pixel_array

from imaging_viewer.core.dicom.codestream import codestream_size
from imaging_viewer.core.dicom.limits import max_image_bytes
from imaging_viewer.core.dicom.siemens_mosaic import MosaicLayout, unpack_mosaic

if TYPE_CHECKING:
    from numpy.typing import NDArray

# Pixel Data (7FE0,0010) as it is written in little and big endian files.
_PIXEL_TAG_LE = b"\xe0\x7f\x10\x00"
_PIXEL_TAG_BE = b"\x7f\xe0\x00\x10"


@dataclass(frozen=True)
class RawLayout:
    """How native pixel data of one series is stored (PS3.5 8.1.1, PS3.3 C.7.6.3)."""

    rows: int
    columns: int
    samples: int
    dtype: str
    """numpy dtype of one stored sample, e.g. ``<u2``."""
    big_endian: bool = False

    @property
    def frame_bytes(self) -> int:
        """Bytes of one frame."""
        return self.rows * self.columns * self.samples * np.dtype(self.dtype).itemsize


def native_pixel_offset(
    fd: int, file_size: int, nbytes: int, big_endian: bool
) -> int | None:
    """Offset of the value of a native Pixel Data element that ends the file.

    Uncompressed Pixel Data is almost always the last element; its header is 12
    bytes with explicit VR (OB/OW) and 8 with implicit VR (PS3.5 7.1.2). Returns
    None where the file does not end that way (then pydicom reads it).
    """
    tag = _PIXEL_TAG_BE if big_endian else _PIXEL_TAG_LE
    order: Literal["big", "little"] = "big" if big_endian else "little"
    for padded in {nbytes, nbytes + (nbytes & 1)}:
        for header_length in (12, 8):
            start = file_size - padded - header_length
            if start < 0:
                continue
            head = os.pread(fd, header_length, start)
            if len(head) != header_length or head[:4] != tag:
                continue
            if header_length == 12 and head[4:6] not in (b"OW", b"OB", b"OV"):
                continue
            if int.from_bytes(head[-4:], order) == padded:
                return start + header_length
    return None


def read_native_frames(
    path: str,
    layout: RawLayout,
    out: NDArray[np.generic],
    first_frame: int = 0,
    frames_in_file: int = 1,
) -> bool:
    """Read ``len(out)`` native frames straight into ``out`` (no intermediate copy).

    Returns False when the fast path does not apply (pydicom must read the file);
    raises OSError for I/O errors and ValueError for a file shorter than its
    header says.
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        frame_bytes = layout.frame_bytes
        offset = native_pixel_offset(
            fd, size, frames_in_file * frame_bytes, layout.big_endian
        )
        if offset is None:
            return False
        wanted = out.shape[0] * frame_bytes
        got = os.preadv(
            fd, [memoryview(out.data).cast("B")], offset + first_frame * frame_bytes
        )
        if got != wanted:
            raise ValueError(f"pixel data truncated: read {got} of {wanted} bytes")
    finally:
        os.close(fd)
    if layout.big_endian:
        out.byteswap(inplace=True)
    return True


def decode_frames(
    path: str, frame_indices: list[int], mosaic: MosaicLayout | None = None
) -> NDArray[np.generic]:
    """Decode frames of one file with pydicom (any transfer syntax it has a plugin for).

    Returns ``[n, rows, columns(, samples)]`` of stored values (no rescale); colour
    is returned as RGB (YBR converted, palette applied). For a mosaic, the tiles
    of frame 0 are returned instead, in tile order.

    Raises
    ------
    DecodeError
        For any failure to read or decode, decoder panics included, and for a
        frame whose codestream declares a larger image than the header or more
        than memory allows (refused before decoding).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydicom warns of odd but readable values
            ds = pydicom.dcmread(path)
            _check_decoded_size(ds, frame_indices, mosaic)
            return _decode_frames(ds, frame_indices, mosaic)
    except (DecodeError, KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as error:
        # Decoder plugins raise many types, and a Rust decoder's panic
        # (pyo3_runtime.PanicException) derives from BaseException, not Exception.
        raise DecodeError(f"{type(error).__name__}: {error}") from None


class DecodeError(Exception):
    """The pixel data of a file cannot be decoded; the message says why."""


def _check_decoded_size(
    ds: pydicom.Dataset, frame_indices: list[int], mosaic: MosaicLayout | None
) -> None:
    """Refuse, before decoding, frames that would not fit or do not match the header.

    The decoded size is taken from Rows, Columns, Samples per Pixel and Bits
    Allocated (PS3.3 C.7.6.3) and, for compressed frames, from each frame's own
    codestream header, which is what a decoder allocates (PS3.5 8.2).
    """
    rows = int(ds.get("Rows", 0) or 0)
    columns = int(ds.get("Columns", 0) or 0)
    samples = int(ds.get("SamplesPerPixel", 1) or 1)
    item_bytes = max(1, (int(ds.get("BitsAllocated", 16) or 16) + 7) // 8)
    n_frames = int(ds.get("NumberOfFrames", 1) or 1)
    decoded_frames = n_frames if mosaic is None else 1
    needed = rows * columns * samples * max(item_bytes, 2) * decoded_frames
    limit = max_image_bytes()
    if needed > limit:
        raise DecodeError(
            f"decoded image would take {needed / 1024**2:.0f} MiB, more than the "
            f"{limit / 1024**2:.0f} MiB memory allows"
        )
    meta = getattr(ds, "file_meta", None)
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    if syntax is None or not syntax.is_encapsulated or "PixelData" not in ds:
        return
    from pydicom.encaps import generate_fragmented_frames

    wanted = set(frame_indices) if mosaic is None else {0}
    fragments = generate_fragmented_frames(ds.PixelData, number_of_frames=n_frames)
    for index, frame in enumerate(fragments):
        if index > max(wanted):
            break
        if index not in wanted or not frame:
            continue
        size = codestream_size(frame[0])
        if size is not None and (size.rows > rows or size.columns > columns):
            raise DecodeError(
                f"frame {index + 1}'s codestream declares {size.columns}×{size.rows} "
                f"pixels, the header {columns}×{rows}: refused before decoding"
            )


# Decoder plugins chosen by measured speed (benchmarks/bench_load.py, per 512²
# slice): JPEG-LS 6 ms with pyjpegls against 17 ms with pylibjpeg (gdcm: 8 ms);
# JPEG 2000 is as fast with pylibjpeg (openjpeg) as with gdcm, so pydicom's
# default order stays for the rest.
_PREFERRED_PLUGIN = {
    "1.2.840.10008.1.2.4.80": "pyjpegls",
    "1.2.840.10008.1.2.4.81": "pyjpegls",
}


def _pixels(ds: pydicom.Dataset, index: int | None = None) -> NDArray[Any]:
    """Decoded stored values of every frame (or frame ``index``)."""
    meta = getattr(ds, "file_meta", None)
    syntax = str(meta.get("TransferSyntaxUID", "")) if meta is not None else ""
    plugin = _PREFERRED_PLUGIN.get(syntax)
    if plugin is not None:
        try:
            preferred: NDArray[Any] = pixel_array(
                ds, index=index, decoding_plugin=plugin
            )
        except Exception:  # plugin missing or refused: pydicom's own order
            pass
        else:
            return preferred
    if index is not None:
        single: NDArray[Any] = pixel_array(ds, index=index)
        return single
    whole: NDArray[Any] = ds.pixel_array
    return whole


def _decode_frames(
    ds: pydicom.Dataset, frame_indices: list[int], mosaic: MosaicLayout | None
) -> NDArray[np.generic]:
    photometric = str(ds.get("PhotometricInterpretation", "")).upper()
    n_frames = int(ds.get("NumberOfFrames", 1) or 1)
    if mosaic is not None:
        tiles = unpack_mosaic(_pixels(ds), mosaic)
        return tiles[frame_indices]
    if n_frames > 1 and len(frame_indices) < n_frames // 2:
        data = np.stack([_pixels(ds, i) for i in frame_indices])
    else:
        data = _pixels(ds)
        if n_frames == 1:
            data = data[np.newaxis]
        if list(frame_indices) != list(range(n_frames)):
            data = data[frame_indices]
    samples = int(ds.get("SamplesPerPixel", 1) or 1)
    if samples == 3 and data.dtype.itemsize > 1:
        # Shown as 8-bit RGB: keep the top 8 of the stored bits (PS3.3 C.7.6.3.1.1).
        shift = max(0, int(ds.get("BitsStored", 8 * data.dtype.itemsize)) - 8)
        data = (data >> shift).astype(np.uint8)
    if photometric == "PALETTE COLOR":
        from pydicom.pixels.processing import apply_color_lut

        data = apply_color_lut(data, ds)
        if data.dtype != np.uint8:
            data = (data >> 8).astype(np.uint8)
    return data
