"""Render core: VOI windowing, inversion and colour maps to packed RGB32 pixels."""

from __future__ import annotations

import functools
import math
import sys
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from imaging_viewer.core import row_bands
from imaging_viewer.core.volume import VoiLut, Window

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from numpy.typing import NDArray

    from imaging_viewer.core.volume import DisplayDefaults, Volume

__all__ = [
    "BONE",
    "COLORMAPS",
    "COOL",
    "CT_PRESETS",
    "GREY",
    "HOT",
    "JET",
    "Colormap",
    "auto_window",
    "default_window_for",
    "render_slice",
    "window_from_voi_lut",
    "window_lut",
]

_OPAQUE: Final = np.uint32(0xFF000000)
_CHUNK_PIXELS: Final = 1 << 17
"""Pixels converted per step: keeps the intp index scratch (1 MiB) in L2 cache."""
_MAX_LUT_ENTRIES: Final = 1 << 20
"""Integer ranges wider than this go through the float path instead of a LUT."""
_PARALLEL_MIN_PIXELS: Final = 1 << 20
"""Frames this large are split over helper threads."""
_SIGMOID_EXPONENT_LIMIT: Final = 700.0
"""exp() overflows float64 just above 709; the output is 0 or 255 well before."""


@dataclass(frozen=True, eq=False)
class Colormap:
    """A colour map for display grey levels (P-Values scaled to 0..255).

    Compared and hashed by identity, so a colour map can key a LUT cache.

    Parameters
    ----------
    name : str
        Name shown to the user, e.g. ``"hot"``.
    table : numpy.ndarray
        ``table[grey] = (red, green, blue)``, shape (256, 3), uint8.
    """

    name: str
    table: NDArray[np.uint8]
    packed: NDArray[np.uint32] = field(init=False, repr=False)
    """``packed[grey]`` as RGB32 ``0xFFRRGGBB`` (256,), read-only."""

    def __post_init__(self) -> None:
        table = np.array(self.table, dtype=np.uint8)
        if table.shape != (256, 3):
            raise ValueError(f"colormap table must be (256, 3), got {table.shape}")
        table.setflags(write=False)
        rgb = table.astype(np.uint32)
        packed = _OPAQUE | (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
        packed.setflags(write=False)
        object.__setattr__(self, "table", table)
        object.__setattr__(self, "packed", packed)


def _colormap_from_segments(
    name: str,
    red: Sequence[tuple[float, float]],
    green: Sequence[tuple[float, float]],
    blue: Sequence[tuple[float, float]],
) -> Colormap:
    """A colour map linear between (position, intensity) anchors in [0, 1]."""
    x = np.linspace(0.0, 1.0, 256)
    channels = [
        np.interp(x, [p for p, _ in seg], [v for _, v in seg])
        for seg in (red, green, blue)
    ]
    table = np.floor(np.stack(channels, axis=1) * 255.0 + 0.5).astype(np.uint8)
    return Colormap(name, table)


_RAMP: Final = ((0.0, 0.0), (1.0, 1.0))
GREY: Final = _colormap_from_segments("grey", _RAMP, _RAMP, _RAMP)
"""Identity: grey level g shows as (g, g, g)."""
HOT: Final = _colormap_from_segments(
    "hot",
    ((0.0, 0.0416), (0.365079, 1.0), (1.0, 1.0)),
    ((0.0, 0.0), (0.365079, 0.0), (0.746032, 1.0), (1.0, 1.0)),
    ((0.0, 0.0), (0.746032, 0.0), (1.0, 1.0)),
)
"""Black, red, yellow, white (the classic "hot" / "hot metal" map)."""
BONE: Final = _colormap_from_segments(
    "bone",
    ((0.0, 0.0), (0.746032, 0.652778), (1.0, 1.0)),
    ((0.0, 0.0), (0.365079, 0.319444), (0.746032, 0.777778), (1.0, 1.0)),
    ((0.0, 0.0), (0.365079, 0.444444), (1.0, 1.0)),
)
"""Grey with a blue tint in the dark range."""
COOL: Final = _colormap_from_segments(
    "cool", _RAMP, ((0.0, 1.0), (1.0, 0.0)), ((0.0, 1.0), (1.0, 1.0))
)
"""Cyan to magenta."""
JET: Final = _colormap_from_segments(
    "jet",
    ((0.0, 0.0), (0.35, 0.0), (0.66, 1.0), (0.89, 1.0), (1.0, 0.5)),
    ((0.0, 0.0), (0.125, 0.0), (0.375, 1.0), (0.64, 1.0), (0.91, 0.0), (1.0, 0.0)),
    ((0.0, 0.5), (0.11, 1.0), (0.34, 1.0), (0.65, 0.0), (1.0, 0.0)),
)
"""Blue, cyan, yellow, red."""
COLORMAPS: Final[dict[str, Colormap]] = {
    c.name: c for c in (GREY, HOT, BONE, COOL, JET)
}
"""The colour maps offered to the user, by name."""

CT_PRESETS: Final[dict[str, Window]] = {
    name: Window(center=level, width=width, explanation=name)
    for name, width, level in (
        ("Brain", 80.0, 40.0),
        ("Subdural", 200.0, 75.0),
        ("Stroke", 40.0, 40.0),
        ("Soft tissue", 400.0, 50.0),
        ("Mediastinum", 350.0, 50.0),
        ("Liver", 150.0, 30.0),
        ("Lung", 1500.0, -600.0),
        ("Bone", 2000.0, 500.0),
        ("Temporal bone", 2800.0, 600.0),
    )
}
"""CT window presets in HU, in the order of the number keys."""


# --- the VOI transform on float64 values, in place ---


def _voi_in_place(x: NDArray[np.float64], voi: Window | VoiLut) -> None:
    """Replace modality values ``x`` by VOI output scaled to 0..255 (unclipped).

    The arithmetic follows the order of the formulas in PS3.3 C.11.2.1.2.1 and
    C.11.2.1.3, so a scalar transcription of the standard gives the same floats.
    """
    if isinstance(voi, VoiLut):
        _voi_lut_in_place(x, voi)
        return
    center = float(voi.center)
    width = float(voi.width)
    function = voi.function.strip().upper()
    if function == "SIGMOID":
        # C.11.2.1.3.1: y = (ymax - ymin) / (1 + exp(-4 (x - c) / w)) + ymin
        if width <= 0.0:
            _step_in_place(x, center)
            return
        np.subtract(x, center, out=x)
        np.multiply(x, -4.0, out=x)
        np.divide(x, width, out=x)
        np.clip(x, -_SIGMOID_EXPONENT_LIMIT, _SIGMOID_EXPONENT_LIMIT, out=x)
        np.exp(x, out=x)
        np.add(x, 1.0, out=x)
        np.divide(255.0, x, out=x)
        return
    if function == "LINEAR_EXACT":
        # C.11.2.1.3.2: ((x - c) / w + 0.5) (ymax - ymin) + ymin, clipped
        if width <= 0.0:
            _step_in_place(x, center)
            return
    else:
        # C.11.2.1.2.1 (LINEAR, also the default for unknown functions):
        # ((x - (c - 0.5)) / (w - 1) + 0.5) (ymax - ymin) + ymin, clipped.
        # Width shall be >= 1; width 1 is a step at c - 0.5.
        center -= 0.5
        width -= 1.0
        if width <= 0.0:
            _step_in_place(x, center)
            return
    # The clip of the piecewise definition happens in _grey_index.
    np.subtract(x, center, out=x)
    np.divide(x, width, out=x)
    np.add(x, 0.5, out=x)
    np.multiply(x, 255.0, out=x)


def _step_in_place(x: NDArray[np.float64], threshold: float) -> None:
    """0 at or below ``threshold``, 255 above it."""
    above = x > threshold
    x[...] = 0.0
    x[above] = 255.0


@functools.lru_cache(maxsize=8)
def _voi_lut_output(voi_lut: VoiLut) -> NDArray[np.float64]:
    """A VOI LUT's entries scaled from 0..2^bits-1 to 0..255 (PS3.3 C.11.2.1.1)."""
    table = np.asarray(voi_lut.table, dtype=np.float64)
    if table.ndim != 1 or table.size == 0:
        raise ValueError("VOI LUT table must be a non-empty 1D array")
    y_max = float(2 ** int(voi_lut.bits) - 1)
    scaled = table * 255.0 / y_max
    scaled.setflags(write=False)
    return scaled


def _voi_lut_in_place(x: NDArray[np.float64], voi_lut: VoiLut) -> None:
    """Look ``x`` up in a VOI LUT; inputs outside the table clamp to its ends."""
    output = _voi_lut_output(voi_lut)
    np.rint(x, out=x)
    np.subtract(x, voi_lut.first_mapped, out=x)
    # fmax/fmin rather than clip: NaN becomes the first entry instead of an index.
    np.fmax(x, 0.0, out=x)
    np.fmin(x, output.size - 1, out=x)
    index = x.astype(np.intp)
    np.take(output, index, out=x, mode="clip")


def _grey_index(y: NDArray[np.float64], inverted: bool, out: NDArray[np.intp]) -> None:
    """Round VOI output to grey levels 0..255 (half up), then invert if asked.

    NaN maps to 0. Inversion happens after the VOI transform (PS3.3 C.11.6.1.2:
    P-Value = maximum - output).
    """
    np.add(y, 0.5, out=y)
    np.fmax(y, 0.0, out=y)
    np.fmin(y, 255.0, out=y)
    np.copyto(out, y, casting="unsafe")
    if inverted:
        np.subtract(255, out, out=out)


# --- lookup tables ---


def _build_lut(
    window: Window | None,
    voi_lut: VoiLut | None,
    input_min: int,
    input_max: int,
    inverted: bool,
    colormap: Colormap | None,
) -> NDArray[np.uint32]:
    if input_max < input_min:
        raise ValueError(f"input_max {input_max} < input_min {input_min}")
    n = input_max - input_min + 1
    if n > _MAX_LUT_ENTRIES:
        raise ValueError(f"LUT of {n} entries is too large (max {_MAX_LUT_ENTRIES})")
    voi = _pick_voi(window, voi_lut)
    if voi is None:
        # No VOI transform: the input range itself spans the display.
        voi = Window(center=(input_min + input_max) / 2 + 0.5, width=float(n))
    packed = (colormap or GREY).packed
    ramp = _linear_ramp(voi)
    if ramp is not None and (ramp[1] - ramp[0]) * 4 < n:
        # A linear window over a small part of a wide input range: only the
        # ramp needs the arithmetic; below and above it the output is the
        # same as at the ends of the range, which are computed the same way.
        first = max(input_min, ramp[0])
        last = min(input_max, ramp[1])
        if first > last:
            first = last = input_min
        x = np.empty(last - first + 3, dtype=np.float64)
        x[0], x[-1] = input_min, input_max
        x[1:-1] = np.arange(first, last + 1, dtype=np.float64)
        _voi_in_place(x, voi)
        grey = np.empty(x.size, dtype=np.intp)
        _grey_index(x, inverted, grey)
        lut = np.empty(n, dtype=np.uint32)
        lut[: first - input_min] = packed[grey[0]]
        lut[first - input_min : last - input_min + 1] = packed.take(grey[1:-1])
        lut[last - input_min + 1 :] = packed[grey[-1]]
        lut.setflags(write=False)
        return lut
    x = np.arange(input_min, input_max + 1, dtype=np.float64)
    _voi_in_place(x, voi)
    grey = np.empty(n, dtype=np.intp)
    _grey_index(x, inverted, grey)
    lut = packed.take(grey)
    lut.setflags(write=False)
    return lut


def _linear_ramp(voi: Window | VoiLut) -> tuple[int, int] | None:
    """Inputs outside ``[low, high]`` give the lowest or highest output.

    For LINEAR and LINEAR_EXACT windows (PS3.3 C.11.2.1.2.1, C.11.2.1.3.2),
    with two inputs to spare on each side for the rounding; None for other
    transforms, which may not level off.
    """
    if not isinstance(voi, Window):
        return None
    function = voi.function.strip().upper()
    if function == "SIGMOID":
        return None
    center, width = float(voi.center), float(voi.width)
    if not (math.isfinite(center) and math.isfinite(width)) or width <= 1.0:
        return None
    if abs(center) + width > 1e12:
        return None
    half = width / 2
    return math.floor(center - half) - 2, math.ceil(center + half) + 2


def _pick_voi(window: Window | None, voi_lut: VoiLut | None) -> Window | VoiLut | None:
    # A window chosen by the user overrides the header's VOI LUT.
    return window if window is not None else voi_lut


_cached_lut = functools.lru_cache(maxsize=32)(_build_lut)


def window_lut(
    window: Window | None,
    voi_lut: VoiLut | None,
    *,
    input_min: int,
    input_max: int,
    inverted: bool,
    colormap: Colormap | None = None,
) -> NDArray[np.uint32]:
    """A lookup table from integer modality values to RGB32 display pixels.

    ``lut[value - input_min]`` is the pixel for ``value``, packed as
    ``0xFFRRGGBB`` (the memory layout of ``QImage.Format_RGB32`` on a
    little-endian machine). The table folds together the VOI transform, the
    inversion for MONOCHROME1 / Presentation LUT Shape INVERSE and the colour map.
    Tables are cached; the returned array is read-only.

    Parameters
    ----------
    window : Window or None
        VOI window. Takes precedence over ``voi_lut`` when both are given.
    voi_lut : VoiLut or None
        VOI LUT from the header, used when ``window`` is None. With neither,
        ``[input_min, input_max]`` is spread linearly over the grey range.
    input_min, input_max : int
        Range of integer inputs the table covers (inclusive).
    inverted : bool
        Invert the grey levels after the VOI transform.
    colormap : Colormap, optional
        Colour map applied to the grey level; grey when omitted.

    Returns
    -------
    numpy.ndarray
        uint32 array of ``input_max - input_min + 1`` entries.

    References
    ----------
    PS3.3 C.11.2.1.1 VOI LUT; C.11.2.1.2.1 Default LINEAR Function;
    C.11.2.1.3.1 SIGMOID; C.11.2.1.3.2 LINEAR_EXACT; C.11.6.1.2 Presentation LUT
    Shape; C.7.6.3.1.2 Photometric Interpretation (MONOCHROME1).
    """
    return _cached_lut(window, voi_lut, input_min, input_max, inverted, colormap)


@functools.lru_cache(maxsize=16)
def _unsigned_view_table(
    voi: Window | VoiLut | None,
    dtype: np.dtype[Any],
    inverted: bool,
    colormap: Colormap | None,
) -> NDArray[np.uint32]:
    """A LUT indexed by the unsigned view of a <= 16-bit integer array.

    For signed data the table is rolled so that ``table[x.view(uint16)]`` equals
    ``lut[x - input_min]``: no offset arithmetic, no temporary, per frame.
    """
    info = np.iinfo(dtype)
    window = voi if isinstance(voi, Window) else None
    voi_lut = voi if isinstance(voi, VoiLut) else None
    lut = _build_lut(window, voi_lut, int(info.min), int(info.max), inverted, colormap)
    table = np.roll(lut, -int(info.min)) if info.min < 0 else lut
    table.setflags(write=False)
    return table


# --- rendering ---


class _Scratch(threading.local):
    """Per-thread buffers reused across frames, so rendering does not allocate."""

    def __init__(self) -> None:
        self.buffers: dict[str, NDArray[Any]] = {}


_SCRATCH: Final = _Scratch()


def _scratch(dtype: type[np.generic], shape: tuple[int, int]) -> NDArray[Any]:
    key = np.dtype(dtype).str
    size = shape[0] * shape[1]
    buffer = _SCRATCH.buffers.get(key)
    if buffer is None or buffer.size < size:
        buffer = np.empty(size, dtype=dtype)
        _SCRATCH.buffers[key] = buffer
    return buffer[:size].reshape(shape)


def _row_steps(shape: tuple[int, ...]) -> tuple[int, range]:
    rows, cols = shape[0], shape[1]
    step = min(max(1, _CHUNK_PIXELS // max(cols, 1)), max(rows, 1))
    return step, range(0, rows, step)


def _checked_out(
    out: NDArray[np.uint32] | None, shape: tuple[int, int]
) -> NDArray[np.uint32]:
    if out is None:
        return np.empty(shape, dtype=np.uint32)
    if out.dtype != np.uint32 or out.shape != shape:
        raise ValueError(f"out must be uint32 {shape}, got {out.dtype} {out.shape}")
    if not out.flags.c_contiguous or not out.flags.writeable:
        raise ValueError("out must be C-contiguous and writeable")
    return out


def _split_rows(work: Callable[[int, int], None], rows: int, cols: int) -> None:
    """Run ``work(r0, r1)`` over row bands, on several cores for large frames
    (:func:`row_bands.in_bands`)."""
    row_bands.in_bands(
        lambda band: work(band.start, band.stop),
        rows,
        rows * cols,
        min_pixels=_PARALLEL_MIN_PIXELS,
    )


def _take_rows(
    table: NDArray[np.uint32],
    index: NDArray[Any],
    out: NDArray[np.uint32],
    offset: int = 0,
) -> None:
    """``out = table[index - offset]``, in row bands and blocks."""

    def band(r0: int, r1: int) -> None:
        _take_band(table, index[r0:r1], out[r0:r1], offset)

    _split_rows(band, index.shape[0], index.shape[1])


def _take_band(
    table: NDArray[np.uint32],
    index: NDArray[Any],
    out: NDArray[np.uint32],
    offset: int,
) -> None:
    """``np.take`` block by block through a per-thread intp scratch.

    ``np.take`` converts its indices to intp: doing that block by block keeps the
    conversion in cache and avoids an 8-bytes-per-pixel temporary.
    """
    step, starts = _row_steps(index.shape)
    scratch = _scratch(np.intp, (step, index.shape[1]))
    for r0 in starts:
        block = index[r0 : r0 + step]
        s = scratch[: block.shape[0]]
        if offset:
            np.subtract(block, offset, out=s, casting="unsafe")
        else:
            np.copyto(s, block, casting="unsafe")
        np.take(table, s, out=out[r0 : r0 + step], mode="clip")


def _render_float(
    pixels: NDArray[Any],
    voi: Window | VoiLut,
    inverted: bool,
    colormap: Colormap,
    out: NDArray[np.uint32],
) -> None:
    """Vectorized VOI transform for non-integer data, in row bands and blocks."""

    def band(r0: int, r1: int) -> None:
        _render_float_band(pixels[r0:r1], voi, inverted, colormap, out[r0:r1])

    _split_rows(band, pixels.shape[0], pixels.shape[1])


def _render_float_band(
    pixels: NDArray[Any],
    voi: Window | VoiLut,
    inverted: bool,
    colormap: Colormap,
    out: NDArray[np.uint32],
) -> None:
    step, starts = _row_steps(pixels.shape)
    values = _scratch(np.float64, (step, pixels.shape[1]))
    grey = _scratch(np.intp, (step, pixels.shape[1]))
    for r0 in starts:
        block = pixels[r0 : r0 + step]
        x = values[: block.shape[0]]
        g = grey[: block.shape[0]]
        np.copyto(x, block, casting="unsafe")
        _voi_in_place(x, voi)
        _grey_index(x, inverted, g)
        np.take(colormap.packed, g, out=out[r0 : r0 + step], mode="clip")


def _pack_rgb(rgb: NDArray[np.uint8], out: NDArray[np.uint32]) -> None:
    """Pack (rows, cols, 3) uint8 into RGB32 ``0xFFRRGGBB`` through a byte view."""
    rows, cols = rgb.shape[0], rgb.shape[1]
    channels = out.view(np.uint8).reshape(rows, cols, 4)
    if sys.byteorder == "little":
        # bytes in memory: B, G, R, A
        red, green, blue, alpha = 2, 1, 0, 3
    else:
        red, green, blue, alpha = 1, 2, 3, 0
    channels[..., red] = rgb[..., 0]
    channels[..., green] = rgb[..., 1]
    channels[..., blue] = rgb[..., 2]
    channels[..., alpha] = 255


def _resolve_voi(
    pixels: NDArray[Any], window: Window | VoiLut | None, display: DisplayDefaults
) -> Window | VoiLut:
    if window is not None:
        return window
    if display.voi_luts:
        return display.voi_luts[0]
    if display.windows:
        return display.windows[0]
    return auto_window(pixels)


def render_slice(
    pixels: NDArray[Any],
    window: Window | VoiLut | None,
    *,
    display: DisplayDefaults,
    colormap: Colormap | None = None,
    out: NDArray[np.uint32] | None = None,
) -> NDArray[np.uint32]:
    """Turn a slice of modality values into RGB32 display pixels.

    Integer data (8 or 16 bits) goes through one cached LUT per window, indexed
    with the unsigned view of the pixels; wider integers through a LUT over the
    slice's range; float data through the same VOI arithmetic, vectorized.
    RGB data (rows, cols, 3) uint8 is packed as-is: window, inversion and colour
    map do not apply to colour images.

    Parameters
    ----------
    pixels : numpy.ndarray
        ``pixels[row, column]`` in modality units (HU for CT), any integer or
        float dtype; or ``pixels[row, column, sample]`` RGB uint8.
    window : Window or VoiLut or None
        The VOI transform to show. None uses the header's first VOI LUT, else
        its first window, else :func:`auto_window` of this slice.
    display : DisplayDefaults
        Header display settings; ``display.inverted`` decides the inversion.
    colormap : Colormap, optional
        Colour map applied after the inversion; grey when omitted.
    out : numpy.ndarray, optional
        C-contiguous uint32 array of shape (rows, columns) to render into. With
        it, rendering integer data does not allocate per frame.

    Returns
    -------
    numpy.ndarray
        ``out`` (or a new array): uint32 ``0xFFRRGGBB`` of shape (rows, columns),
        the layout of ``QImage.Format_RGB32``.

    References
    ----------
    PS3.3 C.11.2 VOI LUT Module; C.11.6.1.2 Presentation LUT Shape;
    C.7.6.3.1.2 Photometric Interpretation.
    """
    if pixels.ndim == 3 and pixels.shape[2] == 3 and pixels.dtype == np.uint8:
        result = _checked_out(out, (pixels.shape[0], pixels.shape[1]))
        _pack_rgb(pixels, result)
        return result
    if pixels.ndim != 2:
        raise ValueError(
            f"pixels must be (rows, cols) or (rows, cols, 3), got {pixels.shape}"
        )
    result = _checked_out(out, (pixels.shape[0], pixels.shape[1]))
    if pixels.size == 0:
        return result
    if not pixels.dtype.isnative:
        pixels = pixels.astype(pixels.dtype.newbyteorder("="))
    if pixels.dtype == np.bool_:
        pixels = pixels.view(np.uint8)
    voi = _resolve_voi(pixels, window, display)
    inverted = display.inverted
    cmap = colormap or GREY
    kind, itemsize = pixels.dtype.kind, pixels.dtype.itemsize
    if kind in "iu" and itemsize <= 2:
        table = _unsigned_view_table(voi, pixels.dtype, inverted, cmap)
        _take_rows(table, pixels.view(f"u{itemsize}"), result)
        return result
    if kind in "iu":
        low, high = int(pixels.min()), int(pixels.max())
        if high - low < _MAX_LUT_ENTRIES:
            window_ = voi if isinstance(voi, Window) else None
            voi_lut = voi if isinstance(voi, VoiLut) else None
            lut = _cached_lut(window_, voi_lut, low, high, inverted, cmap)
            _take_rows(lut, pixels, result, offset=low)
            return result
    _render_float(pixels, voi, inverted, cmap, result)
    return result


# --- choosing a window ---

_AUTO_SAMPLES: Final = 1 << 18
_AUTO_PERCENTILES: Final = (0.5, 99.5)


def _sample(pixels: NDArray[Any]) -> NDArray[Any]:
    """At most about ``_AUTO_SAMPLES`` values, on a regular sub-grid."""
    if pixels.ndim == 2:
        stride = max(1, math.ceil(math.sqrt(pixels.size / _AUTO_SAMPLES)))
        return np.ravel(pixels[::stride, ::stride])
    flat = np.ravel(pixels)
    return flat[:: max(1, math.ceil(flat.size / _AUTO_SAMPLES))]


def _drop_padding(values: NDArray[Any]) -> NDArray[Any]:
    """Drop the minimum value when it is padding: a spike far below the rest.

    Padding (e.g. -2000 or -3024 outside a CT's reconstruction circle, PS3.3
    C.7.5.1.1.2) is one repeated value, well separated from the real data.
    """
    lowest = values.min()
    rest = values[values != lowest]
    if rest.size == 0 or values.size - rest.size < 0.001 * values.size:
        return values
    gap = float(rest.min()) - float(lowest)
    span = float(rest.max()) - float(rest.min())
    return rest if gap > 0.05 * span else values


def auto_window(pixels: NDArray[Any]) -> Window:
    """A window spanning the 0.5th to 99.5th percentile of the shown image.

    Padding values far below the data are ignored. Integer data gets a LINEAR
    window that maps the low percentile to black and the high one to white;
    float data gets LINEAR_EXACT, which has no half-unit offset.

    Parameters
    ----------
    pixels : numpy.ndarray
        The slice as shown, in modality units.

    Returns
    -------
    Window
        With ``explanation="AUTO"``.

    References
    ----------
    PS3.3 C.11.2.1.2.1 (LINEAR) and C.11.2.1.3.2 (LINEAR_EXACT).
    """
    values = _sample(pixels)
    if values.dtype.kind == "f":
        values = values[np.isfinite(values)]
    if values.size == 0:
        return Window(center=0.5, width=1.0, explanation="AUTO")
    values = _drop_padding(values)
    low, high = (float(v) for v in np.percentile(values, _AUTO_PERCENTILES))
    if pixels.dtype.kind in "iub":
        low, high = math.floor(low), math.ceil(high)
        # LINEAR maps c - 0.5 -/+ (w - 1) / 2 to black/white.
        return Window(
            center=(low + high) / 2 + 0.5,
            width=float(max(high - low, 1) + 1),
            explanation="AUTO",
        )
    width = high - low if high > low else max(abs(high), 1.0) * 1e-6
    return Window(
        center=(low + high) / 2,
        width=width,
        explanation="AUTO",
        function="LINEAR_EXACT",
    )


def window_from_voi_lut(voi_lut: VoiLut) -> Window:
    """A LINEAR window over the inputs a VOI LUT does not saturate.

    A starting point for window/level dragging when the header has a VOI LUT
    only; :func:`render_slice` given the VoiLut itself shows it exactly.

    Parameters
    ----------
    voi_lut : VoiLut
        The header's VOI LUT.

    Returns
    -------
    Window
        Black below and white above the span where the LUT's output changes.

    References
    ----------
    PS3.3 C.11.2.1.1 VOI LUT; C.11.2.1.2.1 Default LINEAR Function.
    """
    table = np.asarray(voi_lut.table)
    changes_start = np.flatnonzero(table != table[0])
    changes_end = np.flatnonzero(table != table[-1])
    start = int(changes_start[0]) - 1 if changes_start.size else 0
    end = int(changes_end[-1]) + 1 if changes_end.size else table.size - 1
    low = voi_lut.first_mapped + start
    high = voi_lut.first_mapped + max(end, start + 1)
    return Window(
        center=(low + high) / 2 + 0.5,
        width=float(high - low + 1),
        explanation=voi_lut.explanation or "VOI LUT",
    )


def default_window_for(volume: Volume) -> Window:
    """The window a volume opens with.

    The header's first window, else a window over its first VOI LUT, else
    :func:`auto_window` of the middle slice (first time point).

    Parameters
    ----------
    volume : Volume
        The loaded volume.

    Returns
    -------
    Window
        The default window.

    References
    ----------
    PS3.3 C.11.2 VOI LUT Module: the first of several windows or LUTs is the
    default (C.11.2.1.2).
    """
    if volume.default_window is not None:
        return volume.default_window
    if volume.display.windows:
        return volume.display.windows[0]
    if volume.display.voi_luts:
        return window_from_voi_lut(volume.display.voi_luts[0])
    voxels = volume.time_point(0).voxels
    return auto_window(voxels[volume.shape_kji[0] // 2])
