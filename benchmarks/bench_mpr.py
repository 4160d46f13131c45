"""Benchmark reslice() against scipy.ndimage.map_coordinates and sitk.Resample.

Run: python benchmarks/bench_mpr.py [--size N] [--repeats N] [--threads 1,2]

A 512³ int16 CT-like volume is made in memory, written straight into
SimpleITK-owned memory (``empty_voxels``) so oblique planes read it without a
copy. Every case makes one 512×512 output plane; all methods run interleaved,
and the median and fastest run in ms (the machine may be shared) are printed
with the ratio of each peer to ``reslice``. Orthogonal planes are timed on one
slice over and over, scrolling (a new slice per call, snapped to the voxels as
the viewer does) and between two slices. With ``--threads 1`` the process is
pinned to one core, so ``reslice`` runs in one band too; with 2 it splits large
grid-aligned planes in row bands over both cores, and SimpleITK (oblique
planes) runs two threads. Then one crosshair-drag frame (three
planes at a new cursor, as ``ViewerState`` makes them) is timed with
``render_slice`` of the three, and an oblique rotation drag of one view.
Targets: orthogonal <= 2 ms, oblique linear <= 3 ms per 512² plane.
The machine may be shared: the load average is printed with each table, and
the minimum is what a quiet machine gets.
scipy is only needed here (``pip install scipy``), never by the package.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import statistics
import time
from typing import TYPE_CHECKING, Any

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

from imaging_viewer.core.geometry import affine_from_axes
from imaging_viewer.core.mpr import (
    SlicePlane,
    empty_voxels,
    plane_for,
    reslice,
    snapped_to_voxels,
)
from imaging_viewer.core.render import render_slice
from imaging_viewer.core.volume import DisplayDefaults, Volume, Window

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import NDArray

TARGET_MS = {"orthogonal": 2.0, "oblique linear": 3.0}
FRAME_BUDGET_MS = 1000.0 / 60.0
SPACING_MM = (0.68, 0.68, 0.7)


def ct_phantom(n: int, seed: int = 0) -> NDArray[np.int16]:
    """A body-like int16 volume: air, soft tissue, lungs, a spine, noise (HU)."""
    rng = np.random.default_rng(seed)
    # Written straight into SimpleITK-owned memory: the only copy of the volume.
    voxels = empty_voxels((n, n, n), np.int16)
    y, x = np.mgrid[0:n, 0:n] / n - 0.5
    for k in range(n):
        z = k / n - 0.5
        body = (x / 0.42) ** 2 + (y / (0.3 + 0.03 * math.cos(6 * z))) ** 2 < 1
        lungs = ((np.abs(x) - 0.17) / 0.13) ** 2 + (y / 0.2) ** 2 + (z / 0.4) ** 2 < 1
        spine = (x / 0.05) ** 2 + ((y - 0.2) / 0.05) ** 2 < 1
        plane = np.full((n, n), -1000.0)
        plane[body] = 40.0 + 30.0 * np.sin(25 * x[body]) * np.cos(19 * y[body])
        plane[body & lungs] = -820.0
        plane[spine] = 700.0 if (k // 18) % 2 == 0 else 300.0
        plane += rng.normal(0.0, 15.0, plane.shape)
        voxels[k] = np.clip(plane, -1024, 3071)
    return voxels


def rotation(axis: tuple[float, float, float], angle_deg: float) -> NDArray[Any]:
    u = np.asarray(axis, dtype=np.float64)
    u /= np.linalg.norm(u)
    a = math.radians(angle_deg)
    cross = np.array([[0, -u[2], u[1]], [u[2], 0, -u[0]], [-u[1], u[0], 0]])
    result: NDArray[Any] = (
        np.cos(a) * np.eye(3) + np.sin(a) * cross + (1 - np.cos(a)) * np.outer(u, u)
    )
    return result


def centred_plane(volume: Volume, turn: NDArray[Any], size: int) -> SlicePlane:
    """A size×size plane through the volume centre, axial turned by ``turn``."""
    n = volume.shape_kji[0]
    centre = (volume.ijk_to_lps @ np.array([(n - 1) / 2] * 3 + [1.0]))[:3]
    right, down = turn @ [1.0, 0.0, 0.0], turn @ [0.0, 1.0, 0.0]
    spacing = min(SPACING_MM)
    origin = centre - (size - 1) / 2 * spacing * (right + down)
    return SlicePlane(origin, right, down, (spacing, spacing), (size, size))


def plane_indices(volume: Volume, plane: SlicePlane) -> NDArray[np.float64]:
    """map_coordinates' coordinates: (k, j, i) of every pixel, shape (3, rows, cols)."""
    columns, rows = plane.size_px
    c, r = np.meshgrid(np.arange(columns), np.arange(rows))
    pixels = np.stack([c, r, np.zeros_like(c), np.ones_like(c)]).reshape(4, -1)
    ijk = np.linalg.solve(volume.ijk_to_lps, plane.pixel_to_lps() @ pixels)[:3]
    result: NDArray[np.float64] = ijk[::-1].reshape(3, rows, columns)
    return result


def sitk_resample(
    image: Any, plane: SlicePlane, interpolator: int, samples: int = 1, step: float = 1
) -> Any:
    """A plain procedural sitk.Resample onto the plane (image in LPS geometry)."""
    normal = plane.normal_lps
    half = (samples - 1) // 2
    return sitk.Resample(
        image,
        [*plane.size_px, samples],
        sitk.Transform(),
        interpolator,
        (plane.origin_lps - half * step * normal).tolist(),
        [*plane.spacing_mm, step],
        np.column_stack([plane.right_lps, plane.down_lps, normal]).ravel().tolist(),
        -1024.0,
        sitk.sitkFloat32,
    )


def max_over_slab(image: Any) -> NDArray[Any]:
    # The view is valid only while ``image`` lives: keep it in this frame.
    result: NDArray[Any] = np.max(sitk.GetArrayViewFromImage(image), axis=0)
    return result


def lps_image(voxels: NDArray[Any], ijk_to_lps: NDArray[Any]) -> Any:
    image = sitk.GetImageFromArray(voxels)
    spacing = np.linalg.norm(ijk_to_lps[:3, :3], axis=0)
    image.SetOrigin(ijk_to_lps[:3, 3].tolist())
    image.SetSpacing(spacing.tolist())
    image.SetDirection((ijk_to_lps[:3, :3] / spacing).ravel().tolist())
    return image


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1e3


def timed_cpu(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall ms, CPU ms of all the process's threads) of one call."""
    start, cpu = time.perf_counter(), time.process_time()
    fn()
    return (time.perf_counter() - start) * 1e3, (time.process_time() - cpu) * 1e3


Timings = dict[str, dict[str, tuple[float, float, float]]]


def run_cases(
    cases: dict[str, dict[str, Callable[[], object]]], repeats: int
) -> Timings:
    """Interleaved: every method of every case once per round.

    (median, min, median CPU) in ms; the CPU time sums all threads, so on a
    busy machine it shows the work done while the wall time shows the wait.
    """
    times: dict[str, dict[str, list[tuple[float, float]]]] = {
        case: {method: [] for method in methods} for case, methods in cases.items()
    }
    for _ in range(repeats):
        for case, methods in cases.items():
            for method, fn in methods.items():
                times[case][method].append(timed_cpu(fn))
    return {
        case: {
            m: (
                statistics.median(w for w, _ in t),
                min(w for w, _ in t),
                statistics.median(c for _, c in t),
            )
            for m, t in methods.items()
        }
        for case, methods in times.items()
    }


def print_table(results: Timings) -> None:
    print(f"{'case':<30}{'method':<44}{'median':>8}{'min':>8}{'cpu':>8}{'ratio':>8}")
    for case, methods in results.items():
        ours = next(iter(methods.values()))[0]
        for n, (method, (ms, fastest, cpu)) in enumerate(methods.items()):
            ratio = "" if n == 0 else f"{ms / ours:7.1f}x"
            label = case if n == 0 else ""
            print(f"{label:<30}{method:<44}{ms:8.2f}{fastest:8.2f}{cpu:8.2f}{ratio:>8}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=25)
    parser.add_argument("--threads", default="1,2")
    args = parser.parse_args()
    n = args.size

    started = time.perf_counter()
    voxels = ct_phantom(n)
    made_ms = (time.perf_counter() - started) * 1e3
    affine = affine_from_axes(
        (-170.0, -170.0, -300.0),
        (SPACING_MM[0], 0, 0),
        (0, SPACING_MM[1], 0),
        (0, 0, SPACING_MM[2]),
    )
    volume = Volume(voxels=voxels, ijk_to_lps=affine, modality="CT")
    plain = Volume(voxels=np.array(voxels), ijk_to_lps=affine, modality="CT")
    print(
        f"volume {n}³ int16 ({voxels.nbytes / 2**20:.0f} MiB) made in {made_ms:.0f} ms;"
        f" {len(os.sched_getaffinity(0))} CPUs;"
        f" SimpleITK {sitk.Version.VersionString()}"
    )

    centre_ijk = np.array([n / 2, n / 2, n / 2, 1.0])
    on_voxel = (affine @ centre_ijk)[:3]
    between = (affine @ (centre_ijk + np.array([0.3, 0.3, 0.3, 0.0])))[:3]
    turn = rotation((1, 0, 0), 23.0) @ rotation((0, 0, 1), -31.0)
    oblique = centred_plane(volume, turn, n)
    oblique_coords = plane_indices(volume, oblique)
    image_lps = lps_image(voxels, affine)
    window = Window(40.0, 400.0)
    display = DisplayDefaults()

    # First calls fill the per-volume cache (minimum; for a plain numpy volume
    # also the SimpleITK copy).
    first_ms = timed(lambda: reslice(volume, oblique))
    copy_ms = statistics.median(
        timed(lambda: sitk.GetImageFromArray(voxels)) for _ in range(3)
    )
    plain_first_ms = timed(lambda: reslice(plain, oblique))
    print(f"first oblique reslice, SimpleITK-owned volume: {first_ms:.0f} ms")
    print(
        f"GetImageFromArray copy of the volume: {copy_ms:.0f} ms; first oblique"
        f" reslice of a plain numpy volume: {plain_first_ms:.0f} ms, and the copy"
        f" (+{voxels.nbytes / 2**20:.0f} MiB) stays cached with it"
    )

    cases: dict[str, dict[str, Callable[[], object]]] = {}
    for orientation in ("axial", "coronal", "sagittal"):
        on_plane = plane_for(volume, orientation, on_voxel)
        mid_plane = plane_for(volume, orientation, between)
        assert on_plane.size_px == (n, n)
        coords = plane_indices(volume, mid_plane)
        scroll = itertools.cycle(
            [
                snapped_to_voxels(volume, on_plane.translated(d * 0.7))
                for d in range(-n // 4, n // 4)
            ]
        )
        cases[f"{orientation} (orthogonal)"] = {
            "reslice on a slice": lambda p=on_plane: reslice(volume, p),
            "reslice scrolling (next slice per call)": lambda s=scroll: reslice(
                volume, next(s)
            ),
            "reslice on a slice + contiguous copy": lambda p=on_plane: (
                np.ascontiguousarray(reslice(volume, p).pixels)
            ),
            "reslice between slices, linear": lambda p=mid_plane: reslice(volume, p),
            "reslice between slices, nearest": lambda p=mid_plane: reslice(
                volume, p, interpolation="nearest"
            ),
            "scipy map_coordinates order=1": lambda c=coords: ndimage.map_coordinates(
                voxels, c, order=1, cval=-1024.0, prefilter=False
            ),
            "sitk.Resample linear": lambda p=mid_plane: sitk_resample(
                image_lps, p, sitk.sitkLinear
            ),
        }
    cases["oblique linear"] = {
        "reslice (sitk, no copy)": lambda: reslice(volume, oblique),
        "reslice, plain numpy volume (cached copy)": lambda: reslice(plain, oblique),
        "scipy map_coordinates order=1": lambda: ndimage.map_coordinates(
            voxels, oblique_coords, order=1, cval=-1024.0, prefilter=False
        ),
        "sitk.Resample (image prebuilt)": lambda: sitk_resample(
            image_lps, oblique, sitk.sitkLinear
        ),
    }
    cases["oblique nearest"] = {
        "reslice nearest": lambda: reslice(volume, oblique, interpolation="nearest"),
        "scipy map_coordinates order=0": lambda: ndimage.map_coordinates(
            voxels, oblique_coords, order=0, cval=-1024.0, prefilter=False
        ),
        "sitk.Resample nearest": lambda: sitk_resample(
            image_lps, oblique, sitk.sitkNearestNeighbor
        ),
    }
    step = min(SPACING_MM)
    half = math.floor(5.0 / step + 1e-6)
    slab_coords = [
        plane_indices(volume, oblique.translated(m * step))
        for m in range(-half, half + 1)
    ]
    axial_mid = plane_for(volume, "axial", on_voxel)
    cases["10 mm MIP slab, axial"] = {
        "reslice (numpy max over slices)": lambda: reslice(
            volume, axial_mid, slab_mm=10.0
        ),
        "sitk.Resample 3D + max": lambda: max_over_slab(
            sitk_resample(image_lps, axial_mid, sitk.sitkLinear, 2 * half + 1, step)
        ),
    }
    sagittal_mid = plane_for(volume, "sagittal", on_voxel)
    cases["10 mm MIP slab, sagittal"] = {
        "reslice (numpy max over slices)": lambda: reslice(
            volume, sagittal_mid, slab_mm=10.0
        ),
        "sitk.Resample 3D + max": lambda: max_over_slab(
            sitk_resample(image_lps, sagittal_mid, sitk.sitkLinear, 2 * half + 1, step)
        ),
    }
    cases["10 mm MIP slab, oblique"] = {
        "reslice (sitk linear)": lambda: reslice(volume, oblique, slab_mm=10.0),
        "reslice (sitk nearest)": lambda: reslice(
            volume, oblique, slab_mm=10.0, interpolation="nearest"
        ),
        "scipy map_coordinates x slices + max": lambda: np.max(
            [
                ndimage.map_coordinates(
                    voxels, c, order=1, cval=-1024.0, prefilter=False
                )
                for c in slab_coords
            ],
            axis=0,
        ),
        "sitk.Resample 3D + max": lambda: max_over_slab(
            sitk_resample(image_lps, oblique, sitk.sitkLinear, 2 * half + 1, step)
        ),
    }
    cases["oblique linear, incl. copy"] = {
        "reslice (sitk, no copy)": lambda: reslice(volume, oblique),
        "sitk.Resample incl. GetImageFromArray": lambda: sitk_resample(
            lps_image(voxels, affine), oblique, sitk.sitkLinear
        ),
    }

    cpus = sorted(os.sched_getaffinity(0))
    for threads in (int(t) for t in args.threads.split(",")):
        # reslice splits planes over the cores this thread may use.
        os.sched_setaffinity(0, cpus[:threads])
        sitk.ProcessObject_SetGlobalDefaultNumberOfThreads(threads)
        print(
            f"\n== {threads} thread(s), SimpleITK and reslice; ms per {n}² output"
            f" plane; load average {os.getloadavg()[0]:.1f}"
        )
        results = run_cases(cases, args.repeats)
        print_table(results)
        orthogonal_runs = [
            results[f"{o} (orthogonal)"][m]
            for o in ("axial", "coronal", "sagittal")
            for m in (
                "reslice on a slice",
                "reslice scrolling (next slice per call)",
                "reslice between slices, linear",
            )
        ]
        orthogonal = max(median for median, *_ in orthogonal_runs)
        orthogonal_min = max(fastest for _, fastest, *_ in orthogonal_runs)
        oblique_ms = results["oblique linear"]["reslice (sitk, no copy)"]
        for label, (ms, fastest, _) in (
            (
                "orthogonal (worst of on/scrolling/between)",
                (orthogonal, orthogonal_min, 0.0),
            ),
            ("oblique linear", oblique_ms),
        ):
            target = TARGET_MS[label.split(" (")[0]]
            verdict = "met" if ms <= target else "MISSED"
            quiet = "met" if fastest <= target else "MISSED"
            print(
                f"target {label} <= {target} ms: median {ms:.2f} {verdict},"
                f" min {fastest:.2f} {quiet}"
            )
    os.sched_setaffinity(0, cpus)

    # One crosshair-drag frame: the cursor moves, three planes are resliced.
    sitk.ProcessObject_SetGlobalDefaultNumberOfThreads(2)
    rng = np.random.default_rng(1)
    path = [
        (affine @ np.array([*rng.uniform(0.3 * n, 0.7 * n, 3), 1.0]))[:3]
        for _ in range(args.repeats * 4)
    ]
    outs = {
        o: np.empty((n, n), dtype=np.uint32) for o in ("axial", "coronal", "sagittal")
    }
    print(f"\n== crosshair drag frame ({len(path)} frames, 2 threads), medians in ms")
    for label, snap, interpolation in (
        ("viewer (snapped)", True, "linear"),
        ("unsnapped nearest", False, "nearest"),
        ("unsnapped linear", False, "linear"),
    ):
        plane_ms, reslice_ms, render_ms, frame_ms = [], [], [], []
        for cursor in path:
            t0 = time.perf_counter()
            planes = {o: plane_for(volume, o, cursor) for o in outs}
            if snap:  # as ViewerState.plane() does for straight views
                planes = {o: snapped_to_voxels(volume, p) for o, p in planes.items()}
            t1 = time.perf_counter()
            slices = {
                o: reslice(volume, p, interpolation=interpolation)
                for o, p in planes.items()
            }
            t2 = time.perf_counter()
            for o, s in slices.items():
                render_slice(s.pixels, window, display=display, out=outs[o])
            t3 = time.perf_counter()
            plane_ms.append((t1 - t0) * 1e3)
            reslice_ms.append((t2 - t1) * 1e3)
            render_ms.append((t3 - t2) * 1e3)
            frame_ms.append((t3 - t0) * 1e3)
        p, r, w = (statistics.median(x) for x in (plane_ms, reslice_ms, render_ms))
        total = p + r + w
        print(
            f"{label:<18} planes x3 {p:6.2f}  reslice x3 {r:6.2f}"
            f"  render_slice x3 {w:6.2f}  = {total:6.2f} ms"
            f" (frame median {statistics.median(frame_ms):.2f},"
            f" min {min(frame_ms):.2f});"
            f" reslice share {100 * (p + r) / total:4.1f}% of core work,"
            f" {100 * (p + r) / FRAME_BUDGET_MS:4.1f}% of a 60 Hz frame"
        )

    # Rotating an oblique plane (one view): full size from plane_for, nearest,
    # and at half resolution (SlicePlane.coarsened(2)) as a drag could use.
    print("\n== oblique rotation drag, one view (plane_for size), medians in ms")
    angles = np.linspace(5.0, 40.0, args.repeats * 2)
    centre = (affine @ centre_ijk)[:3]
    for label, factor, interpolation in (
        ("linear, full size", 1, "linear"),
        ("nearest, full size", 1, "nearest"),
        ("nearest, coarsened(2)", 2, "nearest"),
    ):
        frame_ms, pixels = [], 0
        for angle in angles:
            t0 = time.perf_counter()
            plane = plane_for(volume, "coronal", centre, rotation((1, 0, 0), angle))
            plane = plane.coarsened(factor)
            reslice(volume, plane, interpolation=interpolation)
            frame_ms.append((time.perf_counter() - t0) * 1e3)
            pixels = plane.size_px[0] * plane.size_px[1]
        ms = statistics.median(frame_ms)
        print(
            f"{label:<24}{ms:7.2f} ms for {pixels / 1e6:.2f} Mpx"
            f" ({ms * n * n / pixels:.2f} ms per {n}²)"
        )


if __name__ == "__main__":
    main()
