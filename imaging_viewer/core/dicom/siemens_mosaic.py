"""Siemens mosaic images: the CSA private header, tile layout and tile geometry."""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from imaging_viewer.core.geometry import Affine, Vec3, affine_from_axes

if TYPE_CHECKING:
    from numpy.typing import NDArray
    from pydicom import Dataset

__all__ = ["MosaicLayout", "mosaic_layout", "parse_csa_header", "unpack_mosaic"]

_ScalarT = TypeVar("_ScalarT", bound=np.generic)

# Siemens private blocks (PS3.5 7.8.1 Private Data Elements). The CSA image header
# is element xx10 of the "SIEMENS CSA HEADER" block in group 0029 (xx20 is the
# series header); NumberOfImagesInMosaic is also element xx0A of the
# "SIEMENS MR HEADER" block in group 0019.
_CSA_CREATOR = "SIEMENS CSA HEADER"
_CSA_GROUP = 0x0029
_CSA_IMAGE_OFFSET = 0x10
_MR_CREATOR = "SIEMENS MR HEADER"
_MR_GROUP = 0x0019
_MR_N_MOSAIC_OFFSET = 0x0A

# CSA layout (little-endian whatever the transfer syntax, as the element is OB):
# a tag is name[64], vm int32, vr[4], syngodt int32, n_items int32, xx int32;
# each item is four int32 followed by its bytes padded to 4.
_COUNTS = struct.Struct("<2I")
_TAG = struct.Struct("<64si4s3i")
_ITEM = struct.Struct("<4i")
_CSA2_MAGIC = b"SV10"

# A normal read from the CSA must be this parallel to the plane normal to be used.
_MIN_NORMAL_COSINE = 0.99


def _c_string(raw: bytes | memoryview) -> str:
    """Text up to the first NUL, decoded as Latin-1 (which never fails)."""
    text = bytes(raw).split(b"\x00", 1)[0]
    return text.decode("latin-1").strip()


def parse_csa_header(raw: bytes) -> dict[str, list[str]]:
    """Parse a Siemens CSA header into ``{name: [value, ...]}``.

    Both layouts are read: CSA2, which starts with ``b"SV10"``, and the older
    CSA1, which does not. Values are returned as text, stripped, with at most
    ``vm`` values per name (all items when ``vm`` is 0) and trailing empty
    values removed. The parser never raises: on truncated or hostile input it
    stops at the first count or length that does not fit in the remaining
    bytes and returns what it has read, so its work is bounded by ``len(raw)``.

    Parameters
    ----------
    raw : bytes
        Value of (0029,xx10) "CSA Image Header Info" or (0029,xx20)
        "CSA Series Header Info" of the "SIEMENS CSA HEADER" private block.

    Returns
    -------
    dict of str to list of str
        Values by CSA element name, e.g. ``{"NumberOfImagesInMosaic": ["35"]}``.

    References
    ----------
    PS3.5 7.8 Private Data Elements (how the private block is found).
    The CSA layout is not in the standard; it is the one documented by
    nibabel ("Siemens mosaic format", "Siemens CSA header") after SPM.
    """
    try:
        data = memoryview(raw).cast("B")
    except (TypeError, ValueError):
        return {}
    size = len(data)
    is_csa2 = bytes(data[:4]) == _CSA2_MAGIC
    # CSA2: "SV10" and 4 unused bytes, then the counts; CSA1: the counts.
    offset = 8 if is_csa2 else 0
    if offset + _COUNTS.size > size:
        return {}
    n_tags, _unused = _COUNTS.unpack_from(data, offset)
    offset += _COUNTS.size

    header: dict[str, list[str]] = {}
    first_n_items: int | None = None
    # Every pass consumes bytes, so a huge n_tags or n_items stops at the end.
    for _ in range(n_tags):
        if offset + _TAG.size > size:
            break
        name_raw, vm, _vr, _syngodt, n_items, _xx = _TAG.unpack_from(data, offset)
        offset += _TAG.size
        if first_n_items is None:
            first_n_items = n_items
        items: list[str] = []
        truncated = False
        for _ in range(max(n_items, 0)):
            if offset + _ITEM.size > size:
                truncated = True
                break
            x0, x1, _x2, _x3 = _ITEM.unpack_from(data, offset)
            offset += _ITEM.size
            # CSA2 stores the length in the second word. CSA1 stores it in the
            # first, offset by the item count of the first tag (as SPM reads it).
            length = x1 if is_csa2 else x0 - first_n_items
            if length < 0 or length > size - offset:
                # CSA1 skips the rest of this tag; CSA2 has lost its place.
                truncated = is_csa2
                break
            items.append(_c_string(data[offset : offset + length]))
            offset += length + (-length % 4)
        if vm > 0:
            items = items[:vm]
        while items and not items[-1]:
            items.pop()
        header[_c_string(name_raw)] = items
        if truncated:
            break
    return header


@dataclass(frozen=True, eq=False)
class MosaicLayout:
    """How the slices of one Siemens mosaic are tiled, and where they lie.

    Tiles are stored row-major across the mosaic: tile ``n`` is at tile row
    ``n // tiles_per_side`` and tile column ``n % tiles_per_side``. Tile ``n``
    is slice ``n``, whose first pixel (row 0, column 0) is at
    ``first_position_lps + n * slice_spacing_mm * slice_normal_lps``.

    Attributes
    ----------
    n_slices : int
        Number of slices (tiles holding data), NumberOfImagesInMosaic.
    tiles_per_side : int
        Tiles along each side of the square mosaic grid, ``ceil(sqrt(n_slices))``.
    tile_rows, tile_columns : int
        Rows and columns of one slice.
    row_cosine_lps : Vec3
        Direction of increasing column index (ImageOrientationPatient[:3]).
    column_cosine_lps : Vec3
        Direction of increasing row index (ImageOrientationPatient[3:]).
    pixel_spacing_mm : tuple of float
        (between rows, between columns), as PixelSpacing.
    slice_normal_lps : Vec3
        Unit direction from slice ``n`` to slice ``n + 1``. This is the CSA
        SliceNormalVector, which may point against
        ``cross(row_cosine_lps, column_cosine_lps)`` (it does for sagittal
        mosaics).
    first_position_lps : Vec3
        Centre of the first pixel of slice 0 (corrected from the mosaic's
        ImagePositionPatient).
    slice_spacing_mm : float
        Distance between the planes of adjacent slices.
    """

    n_slices: int
    tiles_per_side: int
    tile_rows: int
    tile_columns: int
    row_cosine_lps: Vec3
    column_cosine_lps: Vec3
    pixel_spacing_mm: tuple[float, float]
    slice_normal_lps: Vec3
    first_position_lps: Vec3
    slice_spacing_mm: float

    def slice_position_lps(self, index: int) -> Vec3:
        """Centre of the first pixel of slice ``index``, in LPS mm."""
        position: Vec3 = (
            self.first_position_lps
            + index * self.slice_spacing_mm * self.slice_normal_lps
        )
        return position

    def ijk_to_lps(self) -> Affine:
        """Affine mapping (column, row, tile, 1) of the unpacked slices to LPS.

        Matches the array of :func:`unpack_mosaic`, indexed ``[k, j, i]``.

        References
        ----------
        PS3.3 C.7.6.2.1.1 Image Position and Image Orientation.
        """
        row_spacing, column_spacing = self.pixel_spacing_mm
        return affine_from_axes(
            self.first_position_lps.tolist(),
            (self.row_cosine_lps * column_spacing).tolist(),
            (self.column_cosine_lps * row_spacing).tolist(),
            (self.slice_normal_lps * self.slice_spacing_mm).tolist(),
        )


def _private_value(ds: Dataset, group: int, creator: str, offset: int) -> object:
    """Value of element ``offset`` of a private block, or None if absent."""
    try:
        return ds.private_block(group, creator)[offset].value
    except (KeyError, ValueError):
        return None


def _first_int(values: list[str] | None) -> int | None:
    if not values:
        return None
    try:
        number = float(values[0])
    except ValueError:
        return None
    if not math.isfinite(number) or number != int(number):
        return None
    return int(number)


def _floats(value: object, count: int) -> NDArray[np.float64] | None:
    """``count`` finite floats from a DICOM multi-value or CSA list, else None."""
    if not isinstance(value, Iterable) or isinstance(value, str | bytes):
        return None
    try:
        numbers = np.array([float(v) for v in value], dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return None
    if numbers.shape != (count,) or not np.all(np.isfinite(numbers)):
        return None
    return numbers


def _positive_float(value: object) -> float | None:
    if not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def _n_mosaic_from_mr_header(ds: Dataset) -> int | None:
    value = _private_value(ds, _MR_GROUP, _MR_CREATOR, _MR_N_MOSAIC_OFFSET)
    if value is None:
        # An anonymiser may drop the private creator (0019,0010) and keep the
        # element; Siemens always puts the block at (0019,10xx), which is where
        # dcm2niix reads it (nii_dicom.cpp, kNumberOfImagesInMosaic 0019,100A).
        element = ds.get(_MR_GROUP << 16 | 0x1000 | _MR_N_MOSAIC_OFFSET)
        value = getattr(element, "value", None)
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        value = value[0] if len(value) == 1 else None  # type: ignore[arg-type,index]
    if isinstance(value, str):
        return _first_int([value])
    if isinstance(value, bytes):
        # Read as UN (no private dictionary entry): US, in the dataset's byte order.
        if len(value) != 2:
            return None
        little = ds.original_encoding[1] is not False
        return int.from_bytes(value, "little" if little else "big")
    if isinstance(value, int):
        return value
    return None


def _is_mosaic_image_type(ds: Dataset) -> bool:
    image_type = ds.get("ImageType")
    if image_type is None:
        return False
    values = [image_type] if isinstance(image_type, str) else list(image_type)
    return any(str(v).strip().upper() == "MOSAIC" for v in values)


def mosaic_layout(ds: Dataset) -> MosaicLayout | None:
    """Describe the tiles of a Siemens mosaic, or return None if ``ds`` is not one.

    ``ds`` is a mosaic when ImageType contains ``MOSAIC`` and the number of
    slices is known, from NumberOfImagesInMosaic in the CSA image header or
    else from the "SIEMENS MR HEADER" element (0019,xx0A). None is also
    returned when the geometry needed to place the tiles (orientation,
    position, pixel spacing, slice spacing, a mosaic size that divides into
    tiles) is missing or inconsistent.

    The ImagePositionPatient of a mosaic is the top-left corner of a virtual
    image as large as the whole mosaic and centred on the centre of slice 0.
    It is moved to the first pixel of tile 0 by half the size difference
    between the mosaic and one tile, along each in-plane axis.

    The slice normal is ``cross(row, column)`` of ImageOrientationPatient,
    signed as the CSA SliceNormalVector, because Siemens tiles are stored along
    SliceNormalVector, which for sagittal slices points against the cross
    product. Without a usable SliceNormalVector the cross product is used.
    The slice spacing is SpacingBetweenSlices, else SliceThickness.

    Parameters
    ----------
    ds : pydicom.Dataset
        A single-frame Siemens image; pixel data need not be loaded.

    Returns
    -------
    MosaicLayout or None
        The layout, or None if ``ds`` is not a usable mosaic.

    References
    ----------
    PS3.3 C.7.6.2.1.1 Image Position and Image Orientation;
    PS3.3 C.7.6.2.1.2 Pixel Spacing (row spacing first);
    PS3.3 C.8.3.1 MR Image Module (Image Type, Spacing Between Slices);
    PS3.5 7.8 Private Data Elements.
    """
    if not _is_mosaic_image_type(ds):
        return None
    csa_raw = _private_value(ds, _CSA_GROUP, _CSA_CREATOR, _CSA_IMAGE_OFFSET)
    csa = parse_csa_header(csa_raw) if isinstance(csa_raw, bytes) else {}
    n_slices = _first_int(csa.get("NumberOfImagesInMosaic"))
    if n_slices is None:
        n_slices = _n_mosaic_from_mr_header(ds)
    if n_slices is None or n_slices < 1:
        return None

    rows = ds.get("Rows")
    columns = ds.get("Columns")
    if not isinstance(rows, int) or not isinstance(columns, int):
        return None
    tiles_per_side = math.isqrt(n_slices - 1) + 1  # ceil(sqrt(n)), exact
    if rows % tiles_per_side or columns % tiles_per_side:
        return None
    tile_rows = rows // tiles_per_side
    tile_columns = columns // tiles_per_side
    if tile_rows < 1 or tile_columns < 1:
        return None

    orientation = _floats(ds.get("ImageOrientationPatient"), 6)
    position = _floats(ds.get("ImagePositionPatient"), 3)
    pixel_spacing = _floats(ds.get("PixelSpacing"), 2)
    if orientation is None or position is None or pixel_spacing is None:
        return None
    if np.any(pixel_spacing <= 0):
        return None
    row_cosine: Vec3 = orientation[:3]
    column_cosine: Vec3 = orientation[3:]
    plane_normal = np.cross(row_cosine, column_cosine)
    norm = float(np.linalg.norm(plane_normal))
    if norm < 1e-6:
        return None
    plane_normal /= norm

    slice_normal: Vec3 = plane_normal
    csa_normal = _floats(csa.get("SliceNormalVector"), 3)
    if csa_normal is not None:
        csa_norm = float(np.linalg.norm(csa_normal))
        if csa_norm > 0:
            cosine = float(np.dot(csa_normal, plane_normal)) / csa_norm
            if abs(cosine) >= _MIN_NORMAL_COSINE:
                slice_normal = plane_normal if cosine > 0 else -plane_normal

    slice_spacing = _positive_float(ds.get("SpacingBetweenSlices"))
    if slice_spacing is None:
        slice_spacing = _positive_float(ds.get("SliceThickness"))
    if slice_spacing is None:
        return None

    # PS3.3 C.7.6.2.1.1: IPP is the centre of the first pixel; PixelSpacing is
    # (row spacing, column spacing). Shift by half the extra rows and columns.
    row_spacing, column_spacing = float(pixel_spacing[0]), float(pixel_spacing[1])
    first_position: Vec3 = (
        position
        + row_cosine * column_spacing * (columns - tile_columns) / 2.0
        + column_cosine * row_spacing * (rows - tile_rows) / 2.0
    )

    for vector in (row_cosine, column_cosine, slice_normal, first_position):
        vector.flags.writeable = False
    return MosaicLayout(
        n_slices=n_slices,
        tiles_per_side=tiles_per_side,
        tile_rows=tile_rows,
        tile_columns=tile_columns,
        row_cosine_lps=row_cosine,
        column_cosine_lps=column_cosine,
        pixel_spacing_mm=(row_spacing, column_spacing),
        slice_normal_lps=slice_normal,
        first_position_lps=first_position,
        slice_spacing_mm=slice_spacing,
    )


def unpack_mosaic(frame: NDArray[_ScalarT], layout: MosaicLayout) -> NDArray[_ScalarT]:
    """Cut a 2D mosaic into its slices.

    Parameters
    ----------
    frame : ndarray
        The mosaic pixels, ``frame[row, column]``, of shape
        ``(tiles_per_side * tile_rows, tiles_per_side * tile_columns)``.
    layout : MosaicLayout
        From :func:`mosaic_layout` for the same image.

    Returns
    -------
    ndarray
        ``slices[k, j, i]`` = slice (tile) k, row j, column i, of shape
        ``(n_slices, tile_rows, tile_columns)`` and the dtype of ``frame``.
        Unused tiles at the end of the grid are dropped.

    Raises
    ------
    ValueError
        If ``frame`` does not have the shape of the layout's mosaic.

    References
    ----------
    PS3.3 C.7.6.3 Image Pixel Module (Rows, Columns; row-major pixel order).
    """
    side = layout.tiles_per_side
    expected = (side * layout.tile_rows, side * layout.tile_columns)
    if frame.shape != expected:
        msg = f"mosaic frame has shape {frame.shape}, layout expects {expected}"
        raise ValueError(msg)
    # [tile row, row in tile, tile column, column in tile] -> tile-major order.
    grid = frame.reshape(side, layout.tile_rows, side, layout.tile_columns)
    tiles = grid.transpose(0, 2, 1, 3).reshape(
        side * side, layout.tile_rows, layout.tile_columns
    )
    return tiles[: layout.n_slices]
