"""Tests for imaging_viewer.core.render: exact arrays, and pydicom on real files."""

from __future__ import annotations

import math
import os
import sys
import tracemalloc
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.pixels import apply_modality_lut, apply_voi_lut

from imaging_viewer.core.render import (
    BONE,
    COLORMAPS,
    CT_PRESETS,
    GREY,
    HOT,
    Colormap,
    auto_window,
    default_window_for,
    render_slice,
    window_from_voi_lut,
    window_lut,
)
from imaging_viewer.core.volume import DisplayDefaults, VoiLut, Volume, Window

if TYPE_CHECKING:
    from numpy.typing import NDArray

# --- an independent scalar transcription of PS3.3 C.11 ---


def reference_voi(x: float, voi: Window | VoiLut) -> float:
    """VOI output in 0..255 for one input, as the standard writes it."""
    if isinstance(voi, VoiLut):
        index = min(max(round(x) - voi.first_mapped, 0), len(voi.table) - 1)
        return float(voi.table[index]) * 255.0 / (2**voi.bits - 1)
    c, w, function = voi.center, voi.width, voi.function.upper()
    if function == "SIGMOID":  # C.11.2.1.3.1
        if w <= 0:
            return 255.0 if x > c else 0.0
        exponent = -4 * (x - c) / w
        if exponent > 700:
            return 0.0
        return 255.0 / (1 + math.exp(exponent))
    if function == "LINEAR_EXACT":  # C.11.2.1.3.2
        if w <= 0:
            return 255.0 if x > c else 0.0
        if x <= c - w / 2:
            return 0.0
        if x > c + w / 2:
            return 255.0
        return ((x - c) / w + 0.5) * 255.0
    # C.11.2.1.2.1, width below 1 treated as 1
    w = max(w, 1.0)
    if x <= c - 0.5 - (w - 1) / 2:
        return 0.0
    if x > c - 0.5 + (w - 1) / 2:
        return 255.0
    return ((x - (c - 0.5)) / (w - 1) + 0.5) * 255.0


def reference_pixel(
    x: float, voi: Window | VoiLut, inverted: bool, colormap: Colormap | None
) -> int:
    grey = math.floor(reference_voi(x, voi) + 0.5)
    if inverted:  # C.11.6.1.2: P-Value = maximum - output
        grey = 255 - grey
    r, g, b = (int(v) for v in (colormap or GREY).table[grey])
    return 0xFF000000 | (r << 16) | (g << 8) | b


def reference_image(
    pixels: NDArray[Any], voi: Window | VoiLut, inverted: bool, cmap: Colormap | None
) -> NDArray[np.uint32]:
    values, inverse = np.unique(pixels, return_inverse=True)
    mapped = np.array(
        [reference_pixel(float(v), voi, inverted, cmap) for v in values], np.uint32
    )
    return mapped[inverse].reshape(pixels.shape)


def grey_of(rgb32: NDArray[np.uint32]) -> NDArray[np.int64]:
    return (rgb32 & 0xFF).astype(np.int64)


def packed_grey(levels: list[int]) -> NDArray[np.uint32]:
    return np.array([0xFF000000 | g * 0x010101 for g in levels], dtype=np.uint32)


# --- hand-computed arrays ---

PLAIN = DisplayDefaults()
MONO1 = DisplayDefaults(photometric="MONOCHROME1")


def test_linear_window_hand_computed() -> None:
    # c=40, w=80: c-0.5 = 39.5, w-1 = 79; black at x <= 0, white above 79;
    # x=40: (0.5/79 + 0.5) * 255 = 129.11.
    pixels = np.array([[-1, 0, 1, 40, 79, 80]], dtype=np.int16)
    out = render_slice(pixels, Window(center=40, width=80), display=PLAIN)
    assert out.dtype == np.uint32
    np.testing.assert_array_equal(out[0], packed_grey([0, 0, 3, 129, 255, 255]))


def test_width_one_is_a_step_at_center_minus_half() -> None:
    pixels = np.array([[9, 10, 11]], dtype=np.int16)
    out = render_slice(pixels, Window(center=10.5, width=1), display=PLAIN)
    np.testing.assert_array_equal(out[0], packed_grey([0, 0, 255]))


def test_linear_exact_and_sigmoid_hand_computed() -> None:
    pixels = np.array([[-50, 0, 25, 50, 51]], dtype=np.int16)
    exact = Window(center=0, width=100, function="LINEAR_EXACT")
    out = render_slice(pixels, exact, display=PLAIN)
    # ((x - 0) / 100 + 0.5) * 255: -50 -> 0, 0 -> 127.5, 25 -> 191.25, 50 -> 255
    np.testing.assert_array_equal(out[0], packed_grey([0, 128, 191, 255, 255]))
    sigmoid = Window(center=0, width=100, function="SIGMOID")
    out = render_slice(pixels, sigmoid, display=PLAIN)
    # 255 / (1 + exp(-4x/100)): 0 -> 127.5, 25 -> 186.4, 50 -> 224.7, -50 -> 30.3
    np.testing.assert_array_equal(out[0], packed_grey([30, 128, 186, 225, 226]))


def test_monochrome1_inverts_after_the_window() -> None:
    pixels = np.array([[-1, 0, 1, 40, 79, 80]], dtype=np.int16)
    out = render_slice(pixels, Window(center=40, width=80), display=MONO1)
    np.testing.assert_array_equal(out[0], packed_grey([255, 255, 252, 126, 0, 0]))


@pytest.mark.parametrize(
    ("display", "inverted"),
    [
        (DisplayDefaults(), False),
        (DisplayDefaults(photometric="MONOCHROME1"), True),
        (DisplayDefaults(presentation_lut_shape="INVERSE"), True),
        (DisplayDefaults(presentation_lut_shape="IDENTITY"), False),
    ],
)
def test_inversion_follows_display(display: DisplayDefaults, inverted: bool) -> None:
    pixels = np.array([[0, 100]], dtype=np.uint16)
    out = render_slice(pixels, Window(center=50.5, width=101), display=display)
    expected = [255, 0] if inverted else [0, 255]
    np.testing.assert_array_equal(out[0], packed_grey(expected))


def test_colormap_after_inversion() -> None:
    pixels = np.array([[0, 255]], dtype=np.uint8)
    out = render_slice(pixels, Window(128, 256), display=MONO1, colormap=HOT)
    np.testing.assert_array_equal(out[0], HOT.packed[[255, 0]])


def test_voi_lut_hand_computed() -> None:
    # Inputs below first_mapped take the first entry, above the last (C.11.2.1.1).
    lut = VoiLut(first_mapped=-2, bits=8, table=np.array([0, 51, 102, 255], np.uint16))
    pixels = np.array([[-5, -2, -1, 0, 1, 9]], dtype=np.int16)
    out = render_slice(pixels, lut, display=PLAIN)
    np.testing.assert_array_equal(out[0], packed_grey([0, 0, 51, 102, 255, 255]))
    # 16-bit entries scale by 255 / 65535
    lut16 = VoiLut(
        first_mapped=0, bits=16, table=np.array([0, 32768, 65535], np.uint16)
    )
    out = render_slice(np.array([[0, 1, 2]], np.uint16), lut16, display=PLAIN)
    np.testing.assert_array_equal(out[0], packed_grey([0, 128, 255]))


# --- exact arrays over a dtype x window x inversion x colour map grid ---

WINDOWS: list[Window | VoiLut] = [
    Window(center=40, width=80),
    Window(center=-600, width=1500),
    Window(center=0.5, width=1),
    Window(center=3.25, width=0.5),  # width < 1: LINEAR treats it as 1
    Window(center=100.3, width=7.7),
    Window(center=-20, width=31, function="LINEAR_EXACT"),
    Window(center=20, width=0.4, function="LINEAR_EXACT"),
    Window(center=10, width=60, function="SIGMOID"),
    Window(center=1000, width=3000, function="sigmoid"),  # case-insensitive
    VoiLut(
        first_mapped=-37,
        bits=12,
        table=(np.sqrt(np.linspace(0, 1, 300)) * 4095).astype(np.uint16),
    ),
]
DTYPES = [np.uint8, np.int8, np.uint16, np.int16, np.int32, np.uint32, np.float32]


def grid_pixels(dtype: Any) -> NDArray[Any]:
    """Values around every window edge plus the dtype's extremes, as 2D."""
    values = np.concatenate([np.arange(-1100, 1100, 3), np.arange(-60, 130)])
    if np.dtype(dtype).kind == "f":
        values = np.concatenate([values, values + 0.25, [-1e30, 1e30]])
    else:
        info = np.iinfo(dtype)
        values = values[(values >= info.min) & (values <= info.max)]
        # 32-bit extremes would leave the LUT path: keep the range within 2**20.
        low = info.min if info.bits <= 16 else max(info.min, -(2**19))
        values = np.concatenate([values, [low, info.max if info.bits <= 16 else 0]])
    values = np.concatenate([values, np.zeros(-len(values) % 6)])
    return np.asarray(values, dtype=dtype).reshape(-1, 6)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("voi", WINDOWS, ids=lambda w: getattr(w, "function", "voilut"))
@pytest.mark.parametrize("inverted", [False, True], ids=["normal", "inverted"])
@pytest.mark.parametrize("colormap", [None, HOT], ids=["grey", "hot"])
def test_render_grid_exact(
    dtype: Any, voi: Window | VoiLut, inverted: bool, colormap: Colormap | None
) -> None:
    pixels = grid_pixels(dtype)
    display = DisplayDefaults(photometric="MONOCHROME1" if inverted else "MONOCHROME2")
    expected = reference_image(pixels, voi, inverted, colormap)
    out = render_slice(pixels, voi, display=display, colormap=colormap)
    np.testing.assert_array_equal(out, expected)
    # strided input (a resliced plane, say) renders the same
    out = render_slice(pixels[:, ::-1], voi, display=display, colormap=colormap)
    np.testing.assert_array_equal(out, expected[:, ::-1])
    out = render_slice(
        np.asfortranarray(pixels), voi, display=display, colormap=colormap
    )
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("voi", WINDOWS[:3] + WINDOWS[-1:])
@pytest.mark.parametrize("inverted", [False, True])
def test_window_lut_exact(voi: Window | VoiLut, inverted: bool) -> None:
    window = voi if isinstance(voi, Window) else None
    voi_lut = voi if isinstance(voi, VoiLut) else None
    lut = window_lut(
        window,
        voi_lut,
        input_min=-1024,
        input_max=3071,
        inverted=inverted,
        colormap=BONE,
    )
    assert lut.dtype == np.uint32
    assert lut.shape == (4096,)
    assert not lut.flags.writeable
    values = np.arange(-1024, 3072)
    np.testing.assert_array_equal(lut, reference_image(values, voi, inverted, BONE))


@pytest.mark.parametrize(
    "voi",
    [
        Window(40, 400),
        Window(-600, 1500, function="LINEAR_EXACT"),
        Window(0.5, 1.5),
        Window(31000, 400),  # ramp past the top of the range
        Window(-40000, 10),  # wholly below the range
        Window(1000.25, 2.5, function="linear_exact"),
    ],
)
@pytest.mark.parametrize("inverted", [False, True])
def test_narrow_window_over_16_bit_range_exact(voi: Window, inverted: bool) -> None:
    # A narrow window computes only its ramp; the flat ends must still match.
    lut = window_lut(
        voi, None, input_min=-32768, input_max=32767, inverted=inverted, colormap=HOT
    )
    values = np.arange(-32768, 32768)
    picks = np.unique(
        np.concatenate(
            [
                values[::997],
                np.arange(-5, 6) + int(voi.center - voi.width / 2),
                np.arange(-5, 6) + int(voi.center + voi.width / 2),
                [-32768, 32767],
            ]
        ).clip(-32768, 32767)
    )
    np.testing.assert_array_equal(
        lut[picks + 32768], reference_image(picks, voi, inverted, HOT)
    )


def test_window_lut_is_cached_and_opaque() -> None:
    kwargs: dict[str, Any] = {"input_min": -1024, "input_max": 3071, "inverted": False}
    first = window_lut(Window(40, 400), None, **kwargs)
    assert window_lut(Window(40, 400), None, **kwargs) is first  # equal windows hit
    assert window_lut(Window(40, 401), None, **kwargs) is not first
    assert np.all(first >> 24 == 0xFF)
    grey = first & 0xFF
    assert np.all((first >> 16 & 0xFF) == grey)
    assert np.all((first >> 8 & 0xFF) == grey)


def test_window_lut_without_voi_spans_the_input_range() -> None:
    lut = window_lut(None, None, input_min=0, input_max=255, inverted=False)
    np.testing.assert_array_equal(lut, packed_grey(list(range(256))))


def test_window_lut_rejects_bad_range() -> None:
    with pytest.raises(ValueError, match="input_max"):
        window_lut(Window(0, 1), None, input_min=5, input_max=4, inverted=False)


def test_float_path_matches_integer_path() -> None:
    rng = np.random.default_rng(1)
    pixels = rng.integers(-2048, 3000, size=(64, 80)).astype(np.int16)
    for voi in WINDOWS:
        as_int = render_slice(pixels, voi, display=MONO1, colormap=BONE)
        as_float = render_slice(
            pixels.astype(np.float32), voi, display=MONO1, colormap=BONE
        )
        np.testing.assert_array_equal(as_float, as_int)


def test_float_nan_and_inf() -> None:
    pixels = np.array([[np.nan, -np.inf, np.inf, 40.0]], dtype=np.float32)
    out = render_slice(pixels, Window(40, 80), display=PLAIN)
    np.testing.assert_array_equal(out[0], packed_grey([0, 0, 255, 129]))
    out = render_slice(pixels, Window(40, 80, function="SIGMOID"), display=PLAIN)
    np.testing.assert_array_equal(out[0], packed_grey([0, 0, 255, 128]))


def test_wide_integer_range_falls_back_to_float() -> None:
    pixels = np.array([[-(2**30), 0, 40, 2**30]], dtype=np.int64)
    out = render_slice(pixels, Window(40, 80), display=PLAIN)
    np.testing.assert_array_equal(out[0], packed_grey([0, 0, 129, 255]))


def test_bool_and_big_endian_input() -> None:
    out = render_slice(np.array([[False, True]]), Window(1, 2), display=PLAIN)
    np.testing.assert_array_equal(out[0], packed_grey([0, 255]))
    big = np.array([[-1, 0, 40, 80]], dtype=">i2")
    out = render_slice(big, Window(40, 80), display=PLAIN)
    np.testing.assert_array_equal(out[0], packed_grey([0, 0, 129, 255]))


@pytest.mark.parametrize("dtype", [np.int16, np.float32])
def test_large_frame_split_over_threads(dtype: Any) -> None:
    # 1030 x 1030 is above the size from which rows are split over threads
    pixels = np.random.default_rng(5).integers(-1100, 1100, (1030, 1030)).astype(dtype)
    voi = Window(40, 400, function="LINEAR_EXACT")
    expected = reference_image(pixels, voi, True, HOT)
    np.testing.assert_array_equal(
        render_slice(pixels, voi, display=MONO1, colormap=HOT), expected
    )


# --- out= and allocation ---


def test_render_into_out_returns_out() -> None:
    pixels = np.arange(-1024, 3072, dtype=np.int16).reshape(64, 64)
    out = np.zeros((64, 64), dtype=np.uint32)
    result = render_slice(pixels, Window(40, 400), display=PLAIN, out=out)
    assert result is out
    np.testing.assert_array_equal(
        out, render_slice(pixels, Window(40, 400), display=PLAIN)
    )


@pytest.mark.parametrize(
    "out",
    [
        np.zeros((4, 5), np.uint32),
        np.zeros((4, 4), np.int32),
        np.zeros((4, 8), np.uint32)[:, ::2],
    ],
)
def test_render_rejects_bad_out(out: NDArray[Any]) -> None:
    with pytest.raises(ValueError, match="out must be"):
        render_slice(np.zeros((4, 4), np.int16), Window(0, 1), display=PLAIN, out=out)


@pytest.mark.parametrize("dtype", [np.int16, np.uint16, np.uint8, np.float32])
def test_render_into_out_does_not_allocate_per_frame(dtype: Any) -> None:
    pixels = np.random.default_rng(2).integers(0, 255, (512, 512)).astype(dtype)
    out = np.empty((512, 512), np.uint32)
    window = Window(100, 200)
    render_slice(pixels, window, display=PLAIN, out=out)  # warm the caches
    tracemalloc.start()
    try:
        render_slice(pixels, window, display=PLAIN, out=out)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # A frame is 1 MiB; an intp temporary of the whole frame would be 2 MiB.
    assert peak < 64 * 1024


# --- RGB ---


def test_rgb_packed_as_is() -> None:
    rgb = np.array([[[1, 2, 3], [255, 0, 128]]], dtype=np.uint8)
    out = render_slice(rgb, Window(0, 1), display=MONO1, colormap=HOT)
    np.testing.assert_array_equal(out[0], [0xFF010203, 0xFFFF0080])
    if sys.byteorder == "little":  # QImage.Format_RGB32 bytes: B, G, R, 0xFF
        assert out.tobytes() == bytes([3, 2, 1, 255, 128, 0, 255, 255])


def test_rgb_strided_into_out() -> None:
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, (7, 9, 3), dtype=np.uint8)
    out = np.empty((9, 7), np.uint32)
    result = render_slice(rgb.transpose(1, 0, 2), None, display=PLAIN, out=out)
    assert result is out
    r, g, b = (rgb.transpose(1, 0, 2)[..., i].astype(np.uint32) for i in range(3))
    np.testing.assert_array_equal(out, 0xFF000000 | r << 16 | g << 8 | b)


def test_rejects_other_shapes() -> None:
    with pytest.raises(ValueError, match="pixels must be"):
        render_slice(np.zeros((2, 3, 4), np.int16), Window(0, 1), display=PLAIN)


# --- colour maps, presets, auto and default windows ---


def test_colormaps() -> None:
    assert {"grey", "hot", "bone"} <= set(COLORMAPS)
    for name, cmap in COLORMAPS.items():
        assert cmap.name == name
        assert cmap.table.shape == (256, 3)
        assert cmap.table.dtype == np.uint8
        assert not cmap.table.flags.writeable
        assert cmap.packed.shape == (256,)
    np.testing.assert_array_equal(GREY.table, np.repeat(np.arange(256)[:, None], 3, 1))
    np.testing.assert_array_equal(HOT.table[[0, 255]], [[11, 0, 0], [255, 255, 255]])
    with pytest.raises(ValueError, match="256, 3"):
        Colormap("bad", np.zeros((255, 3), np.uint8))


def test_ct_presets_are_exactly_those_of_domain() -> None:
    # DOMAIN.md: width / level in HU
    assert {k: (w.width, w.center) for k, w in CT_PRESETS.items()} == {
        "Brain": (80, 40),
        "Subdural": (200, 75),
        "Stroke": (40, 40),
        "Soft tissue": (400, 50),
        "Mediastinum": (350, 50),
        "Liver": (150, 30),
        "Lung": (1500, -600),
        "Bone": (2000, 500),
        "Temporal bone": (2800, 600),
    }
    assert all(w.function == "LINEAR" for w in CT_PRESETS.values())


def test_auto_window_ignores_padding() -> None:
    rng = np.random.default_rng(4)
    pixels = rng.integers(-1000, 1001, (256, 256)).astype(np.int16)
    pixels[:, :60] = -2000  # padding outside the reconstruction circle
    window = auto_window(pixels)
    assert window.explanation == "AUTO"
    low = window.center - 0.5 - (window.width - 1) / 2
    high = window.center - 0.5 + (window.width - 1) / 2
    assert -1000 <= low <= -985
    assert 985 <= high <= 1000
    # the percentiles map to black and white exactly
    grey = grey_of(
        render_slice(np.array([[low, high]], np.int16), window, display=PLAIN)
    )
    np.testing.assert_array_equal(grey, [[0, 255]])


def test_auto_window_keeps_a_background_that_is_not_padding() -> None:
    pixels = np.zeros((100, 100), dtype=np.uint16)
    pixels[30:70, 30:70] = np.arange(1600).reshape(40, 40) + 1
    window = auto_window(pixels)
    assert window.center - 0.5 - (window.width - 1) / 2 == 0


def test_auto_window_float_and_degenerate() -> None:
    pixels = np.linspace(0.0, 1.0, 10000, dtype=np.float32).reshape(100, 100)
    pixels[0, :10] = np.nan
    window = auto_window(pixels)
    assert window.function == "LINEAR_EXACT"
    assert window.center == pytest.approx(0.5, abs=0.01)
    assert window.width == pytest.approx(0.99, abs=0.01)
    assert auto_window(np.full((4, 4), 7, np.int16)).width >= 1
    assert auto_window(np.full((4, 4), np.nan, np.float32)).width > 0
    constant = render_slice(np.full((2, 2), 7, np.int16), None, display=PLAIN)
    assert np.all(constant == constant[0, 0])


def test_auto_window_used_when_nothing_else() -> None:
    pixels = np.arange(10000, dtype=np.int16).reshape(100, 100)
    np.testing.assert_array_equal(
        render_slice(pixels, None, display=PLAIN),
        render_slice(pixels, auto_window(pixels), display=PLAIN),
    )


def test_header_voi_used_when_no_window_given() -> None:
    pixels = np.arange(100, dtype=np.int16).reshape(10, 10)
    header_window = Window(50, 20)
    lut = VoiLut(first_mapped=0, bits=8, table=np.arange(100, dtype=np.uint16))
    with_window = DisplayDefaults(windows=(header_window,))
    np.testing.assert_array_equal(
        render_slice(pixels, None, display=with_window),
        render_slice(pixels, header_window, display=PLAIN),
    )
    with_both = DisplayDefaults(windows=(header_window,), voi_luts=(lut,))
    np.testing.assert_array_equal(
        render_slice(pixels, None, display=with_both),
        render_slice(pixels, lut, display=PLAIN),
    )


def make_volume(voxels: NDArray[Any], **kwargs: Any) -> Volume:
    return Volume(voxels=voxels, ijk_to_lps=np.eye(4), **kwargs)


def test_default_window_for() -> None:
    voxels = np.zeros((5, 8, 8), np.int16)
    voxels[2] = np.arange(64).reshape(8, 8)
    header = Window(40, 80, explanation="BRAIN")
    second = Window(300, 1500)
    assert default_window_for(make_volume(voxels, default_window=second)) == second
    display = DisplayDefaults(windows=(header, second))
    assert default_window_for(make_volume(voxels, display=display)) == header
    lut = VoiLut(
        first_mapped=100,
        bits=8,
        table=np.concatenate(
            [np.zeros(10), np.linspace(0, 255, 50), np.full(5, 255)]
        ).astype(np.uint16),
        explanation="NORMAL",
    )
    from_lut = default_window_for(
        make_volume(voxels, display=DisplayDefaults(voi_luts=(lut,)))
    )
    assert from_lut == window_from_voi_lut(lut)
    assert from_lut.explanation == "NORMAL"
    # black at 110 and below (entry 10 is still 0), white from 159 (entry 59) on
    assert from_lut.center - 0.5 - (from_lut.width - 1) / 2 == 110
    assert from_lut.center - 0.5 + (from_lut.width - 1) / 2 == 159
    assert default_window_for(make_volume(voxels)) == auto_window(voxels[2])
    four_d = np.stack([voxels, voxels + 1000])
    assert default_window_for(make_volume(four_d)) == auto_window(voxels[2])


# --- against pydicom on real files ---


def corpus_dir() -> Path:
    env = os.environ.get("IMAGING_VIEWER_CORPUS")
    return (
        Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "dicom"
    )


def corpus_file(relative: str) -> Path:
    path = corpus_dir() / relative
    if not path.exists():
        pytest.skip(f"corpus file missing: {path}")
    return path


def modality_pixels(ds: Dataset) -> NDArray[Any]:
    """Pixel input as the loader will make it: int16 when the rescale is integral."""
    values = np.asarray(apply_modality_lut(ds.pixel_array, ds))
    if values.dtype.kind == "f":
        integral = np.array_equal(values, np.round(values))
        if integral and values.min() >= -32768 and values.max() <= 32767:
            return values.astype(np.int16)
        return values.astype(np.float32)
    return values


def header_window(ds: Dataset, index: int = 0) -> Window:
    center, width = ds["WindowCenter"], ds["WindowWidth"]
    return Window(
        center=float(center.value[index] if center.VM > 1 else center.value),
        width=float(width.value[index] if width.VM > 1 else width.value),
        function=str(ds.get("VOILUTFunction", "LINEAR")),
    )


def pydicom_grey(
    ds: Dataset, modality: NDArray[Any], index: int = 0
) -> NDArray[np.int64]:
    """apply_voi_lut scaled from pydicom's output range to 0..255, then inverted
    once for MONOCHROME1 (PS3.3 C.7.6.3.1.2). An image's Presentation LUT Shape
    INVERSE is that same single inversion: "shall be used if Photometric
    Interpretation is MONOCHROME1" (C.7.6.1 General Image, C.8.11.2 DX Image)."""
    voi = np.asarray(apply_voi_lut(modality, ds, index=index), dtype=np.float64)
    if "VOILUTSequence" in ds:
        bits = int(ds.VOILUTSequence[index].LUTDescriptor[2])
        y_min, y_max = 0.0, float(2**bits - 1)
    else:  # the output range apply_windowing uses
        bits = int(ds.BitsStored)
        y_min, y_max = (
            (0.0, 2.0**bits - 1)
            if ds.PixelRepresentation == 0
            else (
                -(2.0 ** (bits - 1)),
                2.0 ** (bits - 1) - 1,
            )
        )
        if "RescaleSlope" in ds and "RescaleIntercept" in ds:
            slope, intercept = float(ds.RescaleSlope), float(ds.RescaleIntercept)
            y_min, y_max = y_min * slope + intercept, y_max * slope + intercept
    grey = np.floor((voi - y_min) / (y_max - y_min) * 255 + 0.5).clip(0, 255)
    if ds.PhotometricInterpretation == "MONOCHROME1":
        grey = 255 - grey
    return grey.astype(np.int64)


def display_of(ds: Dataset) -> DisplayDefaults:
    return DisplayDefaults(
        photometric=str(ds.PhotometricInterpretation),
        presentation_lut_shape=str(ds.get("PresentationLUTShape", "")),
    )


def assert_close_to_pydicom(ds: Dataset, voi: Window | VoiLut, index: int = 0) -> None:
    modality = modality_pixels(ds)
    ours = grey_of(render_slice(modality, voi, display=display_of(ds)))
    diff = np.abs(ours - pydicom_grey(ds, modality, index))
    assert diff.max() <= 1, f"max grey difference {diff.max()}"


CORPUS_WINDOWED = [
    pytest.param("dwv/gdcm-CR-MONO1-10-chest.dcm", id="CR-MONOCHROME1"),
    pytest.param(
        "pylibjpeg_data/ljdata/ds/JPEG2000Lossless/966_fixed.dcm",
        id="DX-MONOCHROME1-INVERSE",
    ),
    pytest.param(
        "pylibjpeg_data/ljdata/ds/JPEG2000Lossless/TOSHIBA_J2K_SIZ0_PixRep1.dcm",
        id="CT-signed",
    ),
    pytest.param(
        "pylibjpeg_data/ljdata/ds/JPEG2000Lossless/TOSHIBA_J2K_SIZ1_PixRep0.dcm",
        id="CT-unsigned-rescaled",
    ),
]


@pytest.mark.corpus
@pytest.mark.parametrize("relative", CORPUS_WINDOWED)
def test_header_window_matches_pydicom(relative: str) -> None:
    ds = pydicom.dcmread(corpus_file(relative))
    assert_close_to_pydicom(ds, header_window(ds))


@pytest.mark.corpus
def test_ct_series_with_header_windows_matches_pydicom() -> None:
    folder = corpus_file("dcm_qa_ct/In/Philips/S21570/S2010")
    paths = sorted(p for p in folder.iterdir() if p.name.startswith("I"))
    assert len(paths) >= 20
    for path in paths:
        ds = pydicom.dcmread(path)
        for index in range(ds["WindowCenter"].VM):
            assert_close_to_pydicom(ds, header_window(ds, index), index)


@pytest.mark.corpus
@pytest.mark.parametrize("function", ["LINEAR_EXACT", "SIGMOID"])
def test_other_voi_functions_match_pydicom(function: str) -> None:
    ds = pydicom.dcmread(corpus_file("dwv/gdcm-CR-MONO1-10-chest.dcm"))
    ds.VOILUTFunction = function
    assert_close_to_pydicom(ds, header_window(ds))


def with_voi_lut_sequence(
    ds: Dataset, first_mapped: int, table: NDArray[np.uint16]
) -> VoiLut:
    """Give ``ds`` a VOI LUT Sequence and return the same LUT as a VoiLut.

    No file in the corpus or in pydicom's test files carries a usable VOI LUT
    Sequence (the leadtools files have empty items), so as pydicom's own tests
    do, the sequence is built here.
    """
    item = Dataset()
    signed = first_mapped < 0
    item.add_new(0x00283002, "SS" if signed else "US", [len(table), first_mapped, 16])
    item.add_new(0x00283006, "US", [int(v) for v in table])
    item.LUTExplanation = "TEST"
    ds.VOILUTSequence = [item]
    for keyword in ("WindowCenter", "WindowWidth"):
        if keyword in ds:
            del ds[keyword]
    return VoiLut(first_mapped=first_mapped, bits=16, table=table, explanation="TEST")


@pytest.mark.corpus
def test_voi_lut_sequence_matches_pydicom_on_monochrome1() -> None:
    ds = pydicom.dcmread(corpus_file("dwv/gdcm-CR-MONO1-10-chest.dcm"))
    table = (np.linspace(0, 1, 700) ** 0.6 * 65535).astype(np.uint16)
    assert_close_to_pydicom(ds, with_voi_lut_sequence(ds, 150, table))


def test_voi_lut_sequence_matches_pydicom_on_signed_ct() -> None:
    ds = pydicom.examples.ct  # signed int16 CT from pydicom's own test data
    ds = pydicom.dcmread(ds.filename)
    table = (1 / (1 + np.exp(-np.linspace(-6, 6, 1500))) * 65535).astype(np.uint16)
    lut = with_voi_lut_sequence(ds, -1200, table)
    modality = modality_pixels(ds)
    assert modality.dtype == np.int16
    assert_close_to_pydicom(ds, lut)


def test_header_window_matches_pydicom_on_example_ct() -> None:
    ds = pydicom.dcmread(pydicom.examples.ct.filename)
    ds.WindowCenter, ds.WindowWidth = 40, 400
    assert_close_to_pydicom(ds, header_window(ds))


@pytest.mark.parametrize(
    ("photometric", "shape", "invert", "expected"),
    [
        ("MONOCHROME2", "", False, False),
        ("MONOCHROME2", "", True, True),
        ("MONOCHROME1", "", True, False),
        ("MONOCHROME2", "INVERSE", True, False),
        ("MONOCHROME1", "INVERSE", True, False),
        ("MONOCHROME1", "INVERSE", False, True),
    ],
)
def test_user_inversion_flips_the_header_inversion(
    photometric: str, shape: str, invert: bool, expected: bool
) -> None:
    display = DisplayDefaults(photometric=photometric, presentation_lut_shape=shape)
    assert display.with_user_inversion(invert).inverted is expected
