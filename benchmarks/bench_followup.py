"""Follow-up at full size (issue 13): registration, synced scroll across studies,
and memory with two 1000-slice CTs open; one run prints every figure.

The CTs are built from the corpus head CT (``dcm_qa_ct`` Philips, 28 slices of
512² at 5 mm) by ``bench_load.py``'s generator: linear interpolation along z to
0.625 mm, ping-pong over the 28 slices, noise put back (512²×300 and
512²×1000, cached in ``$TMPDIR/imaging_viewer_bench_load``). The follow-up
study is that CT moved by a known rigid transform (6°/−4° and 20 mm, resampled
by SimpleITK); for the memory figure it is written as a second study (its own
study, series and frame of reference UIDs, a later date), cached in
``$TMPDIR/imaging_viewer_bench_followup``.

1. Registration of the two 512²×300 CTs: ours (coarse multi-resolution,
   :func:`register_rigid`) against SimpleITK's own registration at full
   resolution (Mattes MI on 1 % of the voxels, same optimiser), same run.
   Target: ours ≤ 5 s.
2. Synced scroll of two viewports across studies, offscreen: each frame moves
   the current viewport one slice, the prior follows through the registration,
   and both repaint. Target ≤ 4 ms per frame (median).
3. Peak memory (VmHWM of a fresh process) with both 1000-slice studies open in
   the workspace and shown side by side through its cache. Target ≤ 1.1× the
   two int16 volumes + 250 MiB.

    python benchmarks/bench_followup.py [--slices 300] [--memory-slices 1000]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MIB = 1024 * 1024
ROTATION_DEG = (6.0, 0.0, -4.0)
TRANSLATION_MM = (12.0, -10.0, 13.0)
FRAMES = 300


def _workdir() -> Path:
    return Path(os.environ.get("TMPDIR") or tempfile.gettempdir()) / (
        "imaging_viewer_bench_followup"
    )


def _built_ct(n_slices: int) -> Path:
    """The folder of the corpus CT resampled to ``n_slices`` of 512² (cached)."""
    from bench_load import SOURCE, _default_workdir, ensure_dataset

    return ensure_dataset(_default_workdir(), SOURCE, n_slices, "raw")


def _motion(volume: Any) -> Any:
    import SimpleITK as sitk

    from imaging_viewer.core.volume_io import volume_to_sitk

    image = volume_to_sitk(volume)
    motion = sitk.Euler3DTransform()
    centre = image.TransformContinuousIndexToPhysicalPoint(
        [(s - 1) / 2 for s in image.GetSize()]
    )
    motion.SetCenter(centre)
    motion.SetRotation(*(math.radians(a) for a in ROTATION_DEG))
    motion.SetTranslation(TRANSLATION_MM)
    return image, motion


def moved_copy(volume: Any) -> Any:
    """``volume`` as the patient moved by the known motion, another frame."""
    import SimpleITK as sitk

    from imaging_viewer.core.volume import Volume

    image, motion = _motion(volume)
    moved = sitk.Resample(image, image, motion.GetInverse(), sitk.sitkLinear, -1024.0)
    return Volume(
        voxels=sitk.GetArrayFromImage(moved).astype(np.int16),
        ijk_to_lps=volume.ijk_to_lps,
        frame_of_reference_uid=volume.frame_of_reference_uid + ".9",
    )


def simpleitk_full_resolution(fixed: Any, moving: Any) -> float:
    """Seconds of SimpleITK's own rigid registration on the full grids."""
    import SimpleITK as sitk

    from imaging_viewer.core.volume_io import volume_to_sitk

    fixed_image = sitk.Cast(volume_to_sitk(fixed), sitk.sitkFloat32)
    moving_image = sitk.Cast(volume_to_sitk(moving), sitk.sitkFloat32)
    method = sitk.ImageRegistrationMethod()
    method.SetMetricAsMattesMutualInformation(32)
    method.SetMetricSamplingStrategy(method.RANDOM)
    method.SetMetricSamplingPercentage(0.01, 1)
    method.SetInterpolator(sitk.sitkLinear)
    method.SetOptimizerAsRegularStepGradientDescent(2.0, 1e-3, 100)
    method.SetOptimizerScalesFromPhysicalShift()
    method.SetInitialTransform(
        sitk.CenteredTransformInitializer(
            fixed_image, moving_image, sitk.Euler3DTransform()
        )
    )
    started = time.perf_counter()
    method.Execute(fixed_image, moving_image)
    return time.perf_counter() - started


def _centre_error_mm(fixed: Any, moving: Any, result: Any) -> float:
    """How far our transform maps the volume centre from the known motion."""
    _, motion = _motion(fixed)
    shape = np.array(moving.voxels.shape[::-1], dtype=float)
    centre = (moving.ijk_to_lps @ np.append((shape - 1) / 2, 1.0))[:3]
    truth = np.array(motion.GetInverse().TransformPoint(centre.tolist()))
    return float(np.linalg.norm(result.map_points(centre)[0] - truth))


def bench_registration(fixed: Any, moving: Any) -> tuple[Any, float]:
    from imaging_viewer.core.followup.registration import register_rigid

    result = register_rigid(fixed, moving)
    reference = simpleitk_full_resolution(fixed, moving)
    print(
        f"registration 512²×{fixed.voxels.shape[0]}: ours {result.seconds:.2f} s "
        f"(target ≤ 5 s), centre error {_centre_error_mm(fixed, moving, result):.2f}"
        f" mm, rotation {result.rotation_deg:.2f}° "
        f"(truth {math.hypot(*ROTATION_DEG):.2f}°), "
        f"{result.related_fraction:.0%} of the best match",
        flush=True,
    )
    print(
        f"  SimpleITK at full resolution: {reference:.2f} s; "
        f"ours is {reference / result.seconds:.1f}× faster",
        flush=True,
    )
    return result, result.seconds


def bench_synced_scroll(fixed: Any, moving: Any, moving_to_fixed: Any) -> float:
    """Median ms per frame: move the current viewport, the prior follows, both
    repaint (offscreen)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication

    from imaging_viewer.core.annotations.model import AnnotationSet
    from imaging_viewer.core.viewer_state import ViewerState
    from imaging_viewer.ui.slice_viewport import SliceViewportWidget

    pg.setConfigOptions(imageAxisOrder="row-major")
    app = QApplication.instance() or QApplication(["bench_followup"])
    state = ViewerState()
    state.layout = "1x2"
    state.viewports[0].show(None, fixed)
    state.viewports[1].show(None, moving)
    state.set_frame_transform(
        moving.frame_of_reference_uid, fixed.frame_of_reference_uid, moving_to_fixed
    )
    widgets = []
    for index in range(2):
        widget = SliceViewportWidget(state.viewports[index], viewer=state)
        widget.set_annotations(AnnotationSet())
        widget.resize(683, 700)
        widget.show()
        widgets.append(widget)
    for _ in range(20):
        app.processEvents()
    n_slices = fixed.voxels.shape[0]
    times: list[float] = []
    followed = 0
    for frame in range(FRAMES):
        k = 20 + frame % (n_slices - 40)
        before = state.viewports[1].slice_index
        started = time.perf_counter()
        state.viewports[0].set_slice(k)
        for widget in widgets:
            widget.viewport().repaint()
        times.append((time.perf_counter() - started) * 1000)
        followed += state.viewports[1].slice_index != before
    median = float(np.median(times))
    print(
        f"synced scroll across studies (offscreen, 2 viewports of 683×700): "
        f"median {median:.2f} ms, p95 {np.percentile(times, 95):.2f} ms per frame "
        f"(target ≤ 4 ms); the prior followed on {followed}/{FRAMES} frames",
        flush=True,
    )
    for widget in widgets:
        widget.close()
    return median


def _later_study(source: Path, n_slices: int) -> Path:
    """``source`` rewritten as another study of the patient (cached)."""
    import pydicom
    from pydicom.uid import generate_uid

    folder = _workdir() / f"ct{n_slices}_later"
    done = folder.parent / f"ct{n_slices}_later.json"
    if done.is_file() and len(list(folder.glob("*.dcm"))) == n_slices:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    print(f"  writing the later study ({n_slices} slices) in {folder} ...", flush=True)
    for path in sorted(source.glob("*.dcm")):
        dataset = pydicom.dcmread(path)
        dataset.StudyInstanceUID = study
        dataset.SeriesInstanceUID = series
        dataset.FrameOfReferenceUID = frame
        dataset.SOPInstanceUID = generate_uid()
        dataset.file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
        dataset.StudyDate = "20990101"
        dataset.save_as(folder / path.name, enforce_file_format=True)
    done.write_text(json.dumps({"slices": n_slices}))
    return folder


def child_memory(baseline: str, later: str) -> dict[str, Any]:
    """Open both studies in a workspace, show them side by side; VmHWM."""
    from imaging_viewer.core.viewer_state import ViewerState
    from imaging_viewer.core.workspace.viewport_loading import ViewportLoader
    from imaging_viewer.core.workspace.workspace import Workspace

    started = time.perf_counter()
    workspace = Workspace(autosave=False)
    workspace.open(later)
    workspace.open(baseline, replace=False)
    state = ViewerState()
    state.layout = "1x2"
    loader = ViewportLoader(workspace, state)
    shown = [s for study in workspace.studies.values() for s in study.series]
    for index, series in enumerate(shown[:2]):
        loader.show_series(series.id, index)
    volumes = [state.viewports[i].volume for i in range(2)]
    peak = 0.0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 1024
    return {
        "peak_mib": peak,
        "volumes_mib": sum(v.voxels.nbytes for v in volumes if v is not None) / MIB,
        "studies": len(workspace.studies),
        "dtypes": [str(v.voxels.dtype) for v in volumes if v is not None],
        "shapes": [list(v.voxels.shape) for v in volumes if v is not None],
        "seconds": time.perf_counter() - started,
    }


def bench_memory(n_slices: int) -> dict[str, Any]:
    baseline = _built_ct(n_slices)
    later = _later_study(baseline, n_slices)
    output = subprocess.run(
        [sys.executable, __file__, "--child-memory", str(baseline), str(later)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    figures: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    limit = 1.1 * figures["volumes_mib"] + 250
    print(
        f"memory, two {n_slices}-slice 512² CTs of two studies open side by side: "
        f"peak {figures['peak_mib']:.0f} MiB for {figures['volumes_mib']:.0f} MiB "
        f"of {'/'.join(figures['dtypes'])} volumes (limit 1.1× + 250 = "
        f"{limit:.0f} MiB; {figures['studies']} studies, loaded in "
        f"{figures['seconds']:.1f} s)",
        flush=True,
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--slices", type=int, default=300)
    parser.add_argument("--memory-slices", type=int, default=1000)
    parser.add_argument("--child-memory", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_memory:
        print(json.dumps(child_memory(*args.child_memory)))
        return
    from imaging_viewer.core.dicom.load import load_volume
    from imaging_viewer.core.dicom.scan import scan_folder

    bench_memory(args.memory_slices)
    (series,) = scan_folder(_built_ct(args.slices)).series
    fixed = load_volume(series)
    moving = moved_copy(fixed)
    result, _ = bench_registration(fixed, moving)
    bench_synced_scroll(fixed, moving, result.moving_to_fixed)


if __name__ == "__main__":
    main()
