"""Registration time for two 512²×300 CTs: ours (coarse multi-resolution) against
SimpleITK's own registration at full resolution, in one run; prints the ratio.

Target (issue 13): ours ≤ 5 s on a 2-core machine. The CTs are a synthetic
head-sized phantom (ellipsoids of bone, brain, air) and a copy moved by 6° and
20 mm, so both registrations solve the same problem.

    python benchmarks/bench_followup.py [--slices 300]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import SimpleITK as sitk

from imaging_viewer.core.followup.registration import register_rigid
from imaging_viewer.core.volume import Volume
from imaging_viewer.core.volume_io import volume_to_sitk


def _phantom(slices: int) -> Volume:
    k, j, i = np.ogrid[:slices, :512, :512]
    z = (k - slices / 2) / (slices / 2.4)
    y, x = (j - 256) / 200.0, (i - 256) / 170.0
    r = x**2 + y**2 + z**2
    voxels = np.full((slices, 512, 512), -1000, dtype=np.int16)
    voxels[r < 1.0] = 1000
    voxels[r < 0.85] = 35
    voxels[(x - 0.3) ** 2 + (y + 0.2) ** 2 + (z - 0.1) ** 2 < 0.02] = 80
    affine = np.diag([0.5, 0.5, 0.625, 1.0])
    return Volume(voxels=voxels, ijk_to_lps=affine, frame_of_reference_uid="1.2.3")


def _moved(volume: Volume) -> Volume:
    image = volume_to_sitk(volume)
    motion = sitk.Euler3DTransform()
    centre = image.TransformContinuousIndexToPhysicalPoint(
        [(s - 1) / 2 for s in image.GetSize()]
    )
    motion.SetCenter(centre)
    motion.SetRotation(math.radians(6), 0.0, math.radians(-4))
    motion.SetTranslation((12.0, -10.0, 13.0))
    moved = sitk.Resample(image, image, motion.GetInverse(), sitk.sitkLinear, -1000.0)
    return Volume(
        voxels=sitk.GetArrayFromImage(moved).astype(np.int16),
        ijk_to_lps=volume.ijk_to_lps,
        frame_of_reference_uid="1.2.4",
    )


def _simpleitk_full_resolution(fixed: Volume, moving: Volume) -> float:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--slices", type=int, default=300)
    args = parser.parse_args()
    fixed = _phantom(args.slices)
    moving = _moved(fixed)
    result = register_rigid(fixed, moving)
    reference = _simpleitk_full_resolution(fixed, moving)
    print(
        f"imaging_viewer register_rigid: {result.seconds:.2f} s (target ≤ 5 s), "
        f"rotation {result.rotation_deg:.2f}° (truth {math.hypot(6, 4):.2f}°)"
    )
    print(
        f"SimpleITK at full resolution: {reference:.2f} s; "
        f"ratio {reference / result.seconds:.1f}×"
    )


if __name__ == "__main__":
    main()
