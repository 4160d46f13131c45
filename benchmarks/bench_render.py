"""Benchmark render_slice against naive numpy windowing and pydicom apply_windowing.

Run: python benchmarks/bench_render.py [--repeats N]

All methods run interleaved on the same frames; medians in ms per frame and the
ratio of each to ``render_slice`` (cached LUT, preallocated out) are printed.
Targets: <= 2 ms for 512x512, <= 8 ms for 3000x3000.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from pydicom.dataset import Dataset
from pydicom.pixels import apply_windowing

from imaging_viewer.core.render import render_slice
from imaging_viewer.core.volume import DisplayDefaults, Window

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import NDArray

TARGET_MS = {512: 2.0, 3000: 8.0}


@dataclass
class Case:
    name: str
    pixels: NDArray[Any]
    window: Window
    bits_stored: int


def phantom(size: int, dtype: Any, low: int, high: int, seed: int) -> NDArray[Any]:
    """A smooth anatomy-like image with noise, between low and high."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size] / size
    smooth = np.sin(6 * x) * np.cos(4 * y) * 0.5 + 0.5
    image = (
        low + (high - low) * smooth + rng.normal(0, (high - low) * 0.01, smooth.shape)
    )
    return np.clip(image, low, high).astype(dtype)


def make_cases() -> list[Case]:
    return [
        Case(
            "512x512 int16 CT",
            phantom(512, np.int16, -1024, 3071, 1),
            Window(40, 400),
            12,
        ),
        Case(
            "3000x3000 uint16 DX",
            phantom(3000, np.uint16, 0, 4095, 2),
            Window(2048, 4096),
            12,
        ),
        Case(
            "3000x3000 int16",
            phantom(3000, np.int16, -1024, 3071, 3),
            Window(40, 400),
            16,
        ),
        Case(
            "512x512 float32",
            phantom(512, np.float32, -1024, 3071, 4),
            Window(40, 400),
            16,
        ),
    ]


def windowing_dataset(case: Case) -> Dataset:
    ds = Dataset()
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsStored = case.bits_stored
    ds.PixelRepresentation = int(case.pixels.dtype.kind == "i")
    ds.WindowCenter = case.window.center
    ds.WindowWidth = case.window.width
    return ds


def naive_grey(pixels: NDArray[Any], window: Window) -> NDArray[np.uint8]:
    """The usual one-liner: float, clip, scale, astype (uint8 grey only)."""
    low = window.center - window.width / 2
    scaled = (pixels.astype(np.float32) - low) * (255.0 / window.width)
    return np.clip(scaled, 0, 255).astype(np.uint8)


def naive_rgb32(pixels: NDArray[Any], window: Window) -> NDArray[np.uint32]:
    """The naive grey, then packed to the same RGB32 output render_slice gives."""
    grey = naive_grey(pixels, window).astype(np.uint32)
    return grey * np.uint32(0x010101) | np.uint32(0xFF000000)


def methods(case: Case) -> dict[str, Callable[[], object]]:
    display = DisplayDefaults()
    out = np.empty(case.pixels.shape, np.uint32)
    ds = windowing_dataset(case)
    drag = iter(range(10**9))

    def ours() -> object:
        return render_slice(case.pixels, case.window, display=display, out=out)

    def ours_dragging() -> object:
        # a new window every frame: the LUT is rebuilt each time
        w = Window(case.window.center + next(drag) % 500, case.window.width)
        return render_slice(case.pixels, w, display=display, out=out)

    def ours_no_out() -> object:
        return render_slice(case.pixels, case.window, display=display)

    return {
        "render_slice (out=)": ours,
        "render_slice, window drag": ours_dragging,
        "render_slice, no out": ours_no_out,
        "naive numpy -> uint8": lambda: naive_grey(case.pixels, case.window),
        "naive numpy -> RGB32": lambda: naive_rgb32(case.pixels, case.window),
        "pydicom apply_windowing": lambda: apply_windowing(case.pixels, ds),
    }


def run(case: Case, repeats: int) -> None:
    timed = methods(case)
    times: dict[str, list[float]] = {name: [] for name in timed}
    for fn in timed.values():
        fn()  # warm up: caches, page faults
    for _ in range(repeats):
        for name, fn in timed.items():
            start = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - start) * 1e3)
    medians = {name: statistics.median(t) for name, t in times.items()}
    reference = medians["render_slice (out=)"]
    target = TARGET_MS.get(case.pixels.shape[0])
    verdict = ""
    if target is not None:
        verdict = (
            f"  target <= {target:g} ms: {'met' if reference <= target else 'MISSED'}"
        )
    print(f"\n{case.name}{verdict}")
    print(f"  {'method':<28}{'median ms':>11}{'x ours':>9}")
    for name, median in medians.items():
        print(f"  {name:<28}{median:>11.2f}{median / reference:>9.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    print(f"numpy {np.__version__}; medians of {args.repeats} interleaved runs")
    for case in make_cases():
        run(case, args.repeats)


if __name__ == "__main__":
    main()
