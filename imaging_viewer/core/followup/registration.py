"""Rigid registration of two studies of one patient (SimpleITK, in LPS millimetres).

Euler 3D transform, Mattes mutual information, and a multi-resolution pyramid
run on copies of both volumes resampled to a coarse isotropic grid (so the
time does not grow with the number of slices). The result maps the moving
study's LPS coordinates onto the fixed study's: scrolling, the 3D cursor and
the prior's annotations go through it. ITK's physical space is LPS, as
DICOM's (PS3.3 C.7.6.2.1.1), so no axis is flipped.

A final mutual information too weak to be the same anatomy refuses the result
(:class:`RegistrationError`), as do volumes with no 3D geometry. "Too weak" is
relative, not absolute: the final metric is compared with the fixed image's
mutual information with itself (its entropy on the same grid and histogram),
the best any image could reach. The same anatomy reaches most of it (0.76 to
0.95 on the corpus), unrelated series a small part (0.04 to 0.19), so one
fraction separates them where an absolute threshold sat close to both.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from imaging_viewer.core.volume_io import volume_to_sitk

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import NDArray

    from imaging_viewer.core.volume import Volume

COARSE_SPACING_MM: Final = 3.0
"""Isotropic spacing of the copies registered; finer series are resampled to it."""
MAX_COARSE_VOXELS_PER_AXIS: Final = 160
"""Coarser still when a volume is large, so one level stays cheap."""
SHRINK_FACTORS: Final = (4, 2, 1)
SMOOTHING_SIGMAS: Final = (2.0, 1.0, 0.0)
"""The pyramid on the coarse copies (in voxels)."""
SAMPLING_FRACTION: Final = 0.1
HISTOGRAM_BINS: Final = 32
ITERATIONS: Final = 100
RELATED_FRACTION: Final = 0.45
"""The least part of the fixed image's self mutual information the final
mutual information must reach for the two series to be the same anatomy."""
MIN_SLICES: Final = 4
"""Fewer slices than this have no usable 3D geometry."""
MIN_PYRAMID_VOXELS: Final = 4
"""ITK's smoothing needs at least this many voxels along every axis of a level."""
SEED: Final = 20240101


class RegistrationError(Exception):
    """Two series that cannot be registered; the message says why in one line."""


class RegistrationCancelled(RegistrationError):
    """The caller cancelled the registration."""


@dataclass(frozen=True)
class RegistrationResult:
    """A rigid transform between two studies, and how well it fits."""

    moving_to_fixed: NDArray[np.float64]
    """(4, 4): moving LPS (mm) → fixed LPS (mm)."""
    metric: float
    """Final Mattes mutual information as SimpleITK reports it (negative; lower
    is better)."""
    converged: bool
    """The optimiser stopped on its convergence criterion, not its budget."""
    iterations: int
    stop_condition: str
    seconds: float
    self_metric: float = float("nan")
    """The fixed image's metric against itself on the same grid: the best
    reachable, the baseline :attr:`related_fraction` is measured against."""

    @property
    def rotation_deg(self) -> float:
        """The rotation angle of the transform."""
        rotation = self.moving_to_fixed[:3, :3]
        cos = (float(np.trace(rotation)) - 1.0) / 2.0
        return math.degrees(math.acos(max(-1.0, min(1.0, cos))))

    @property
    def related_fraction(self) -> float:
        """The part of the best reachable mutual information the result reached
        (1 for identical images, near 0 for unrelated ones)."""
        if not self.self_metric < 0:
            return float("nan")
        return self.metric / self.self_metric

    def map_points(self, points_lps: NDArray[np.float64]) -> NDArray[np.float64]:
        """Moving LPS points, shape (n, 3), to fixed LPS."""
        points = np.atleast_2d(np.asarray(points_lps, dtype=np.float64))
        return points @ self.moving_to_fixed[:3, :3].T + self.moving_to_fixed[:3, 3]


def _check_geometry(volume: Volume, which: str) -> None:
    if volume.is_projection or volume.is_rgb or volume.voxels.ndim != 3:
        raise RegistrationError(
            f"the {which} series has no 3D geometry (a projection, colour or 4D "
            "series); link it by lesions instead"
        )
    if volume.voxels.shape[0] < MIN_SLICES:
        raise RegistrationError(
            f"the {which} series has {volume.voxels.shape[0]} slice(s): no 3D "
            "geometry to register"
        )


def _coarse(image: Any, sitk: Any) -> Any:
    """``image`` as float32 on an isotropic grid of at least 3 mm, same extent."""
    size = np.array(image.GetSize(), dtype=np.float64)
    spacing = np.array(image.GetSpacing(), dtype=np.float64)
    extent = size * spacing
    step = max(COARSE_SPACING_MM, float(extent.max()) / MAX_COARSE_VOXELS_PER_AXIS)
    new_size = [max(1, math.ceil(e / step)) for e in extent]
    # Block averages first (cheap, and an anti-aliasing filter), then a resample.
    factors = [max(1, int(step // float(s))) for s in spacing]
    smoothed = sitk.BinShrink(sitk.Cast(image, sitk.sitkFloat32), factors)
    # The grid starts at the first voxel's corner in the image's own directions.
    direction = np.array(image.GetDirection()).reshape(3, 3)
    corner = np.array(image.GetOrigin()) - direction @ (spacing / 2.0)
    origin = corner + direction @ (np.full(3, step) / 2.0)
    return sitk.Resample(
        smoothed,
        new_size,
        sitk.Transform(),
        sitk.sitkLinear,
        origin.tolist(),
        [step] * 3,
        image.GetDirection(),
        float(np.min(sitk.GetArrayViewFromImage(image))),
        sitk.sitkFloat32,
    )


def _pyramid(image: Any) -> tuple[list[int], list[float]]:
    """The shrink factors and smoothing sigmas of the levels ``image`` is large
    enough for (a thin stack drops the coarsest levels)."""
    smallest = min(image.GetSize())
    if smallest < MIN_PYRAMID_VOXELS:
        raise RegistrationError(
            f"a series covers {smallest} voxel(s) of {COARSE_SPACING_MM:g} mm along "
            "one axis: too thin to register"
        )
    levels = [
        (factor, sigma)
        for factor, sigma in zip(SHRINK_FACTORS, SMOOTHING_SIGMAS, strict=True)
        if smallest // factor >= MIN_PYRAMID_VOXELS
    ]
    return [f for f, _ in levels], [s for _, s in levels]


def _self_metric(image: Any, sitk: Any) -> float:
    """The metric of ``image`` against itself, sampled as the registration is."""
    method = sitk.ImageRegistrationMethod()
    _set_metric(method, sitk)
    method.SetInitialTransform(sitk.Euler3DTransform())
    return float(method.MetricEvaluate(image, image))


def _set_metric(method: Any, sitk: Any) -> None:
    method.SetMetricAsMattesMutualInformation(numberOfHistogramBins=HISTOGRAM_BINS)
    method.SetMetricSamplingStrategy(method.RANDOM)
    method.SetMetricSamplingPercentage(SAMPLING_FRACTION, SEED)
    method.SetInterpolator(sitk.sitkLinear)


def _affine_of(transform: Any) -> NDArray[np.float64]:
    """The 4×4 of an ITK rigid transform: x ↦ R(x − c) + c + t."""
    matrix = np.array(transform.GetMatrix()).reshape(3, 3)
    centre = np.array(transform.GetCenter())
    translation = np.array(transform.GetTranslation())
    affine = np.eye(4)
    affine[:3, :3] = matrix
    affine[:3, 3] = translation + centre - matrix @ centre
    return affine


def register_rigid(
    fixed: Volume,
    moving: Volume,
    *,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    check_related: bool = True,
) -> RegistrationResult:
    """The rigid transform that maps ``moving``'s LPS onto ``fixed``'s.

    Parameters
    ----------
    fixed, moving : Volume
        3D scalar volumes (e.g. the current and the prior study).
    progress : callable, optional
        Called with the fraction done (0 to 1) as the optimiser iterates.
    cancelled : callable, optional
        Polled at every iteration; True stops the registration
        (:class:`RegistrationCancelled`).
    check_related : bool
        Refuse a result whose final metric says the images are unrelated.

    Raises
    ------
    RegistrationError
        No 3D geometry, unrelated anatomy, or the optimiser failed.
    """
    import SimpleITK as sitk  # lazily: start-up does not pay for it

    _check_geometry(fixed, "fixed")
    _check_geometry(moving, "moving")
    started = time.perf_counter()
    fixed_image = _coarse(volume_to_sitk(fixed), sitk)
    moving_image = _coarse(volume_to_sitk(moving), sitk)
    initial = sitk.CenteredTransformInitializer(
        fixed_image,
        moving_image,
        sitk.Euler3DTransform(),
        sitk.CenteredTransformInitializerFilter.MOMENTS,
    )
    shrink_factors, smoothing_sigmas = _pyramid(fixed_image)
    _pyramid(moving_image)
    method = sitk.ImageRegistrationMethod()
    _set_metric(method, sitk)
    method.SetOptimizerAsRegularStepGradientDescent(
        learningRate=2.0,
        minStep=1e-3,
        numberOfIterations=ITERATIONS,
        relaxationFactor=0.6,
        gradientMagnitudeTolerance=1e-6,
    )
    method.SetOptimizerScalesFromPhysicalShift()
    method.SetShrinkFactorsPerLevel(shrink_factors)
    method.SetSmoothingSigmasPerLevel(smoothing_sigmas)
    method.SmoothingSigmasAreSpecifiedInPhysicalUnitsOff()
    method.SetInitialTransform(initial, inPlace=False)
    state = {"level": 0, "iterations": 0, "stopped": False}
    levels = len(shrink_factors)

    def on_iteration() -> None:
        state["iterations"] += 1
        if cancelled is not None and cancelled():
            state["stopped"] = True
            method.StopRegistration()
        if progress is not None:
            within = min(1.0, method.GetOptimizerIteration() / ITERATIONS)
            progress(min(0.99, (state["level"] + within) / levels))

    def on_level() -> None:
        state["level"] = method.GetCurrentLevel()

    method.AddCommand(sitk.sitkIterationEvent, on_iteration)
    method.AddCommand(sitk.sitkMultiResolutionIterationEvent, on_level)
    try:
        fixed_to_moving = method.Execute(fixed_image, moving_image)
    except RuntimeError as error:
        first_line = str(error).strip().splitlines()[-1] if str(error) else ""
        raise RegistrationError(f"registration failed: {first_line}") from None
    if state["stopped"]:
        raise RegistrationCancelled("registration cancelled")
    metric = float(method.GetMetricValue())
    stop = str(method.GetOptimizerStopConditionDescription())
    if progress is not None:
        progress(1.0)
    self_metric = _self_metric(fixed_image, sitk)
    fraction = metric / self_metric if self_metric < 0 else 0.0
    if check_related and not fraction >= RELATED_FRACTION:
        raise RegistrationError(
            f"the two series do not look like the same anatomy (mutual information "
            f"{-metric:.3f} reaches {fraction:.0%} of the fixed series' own "
            f"{-self_metric:.3f}; the same anatomy reaches over {RELATED_FRACTION:.0%})"
        )
    # SimpleITK's transform maps fixed points to moving ones; we want the inverse.
    composite = sitk.CompositeTransform(fixed_to_moving)
    composite.FlattenTransform()
    rigid = sitk.Euler3DTransform(composite.GetNthTransform(0))
    moving_to_fixed = np.asarray(np.linalg.inv(_affine_of(rigid)), dtype=np.float64)
    return RegistrationResult(
        moving_to_fixed=moving_to_fixed,
        metric=metric,
        self_metric=self_metric,
        converged="Maximum number of iterations" not in stop,
        iterations=int(state["iterations"]),
        stop_condition=stop,
        seconds=time.perf_counter() - started,
    )
