"""A lesion's size at one time point, from the annotations that measure it.

Longest diameter and short axis (RECIST 1.1: a bidirectional measurement, or a
ruler), their product (WHO), the ellipsoid volume π/6·a·b·c from three
perpendicular diameters, the volume of outlines drawn on consecutive parallel
slices (Cavalieri: the sum of their areas times the slice spacing), and the
statistics of the largest ROI when they are given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np

from imaging_viewer.core.annotations.measure import roi_area_mm2
from imaging_viewer.core.annotations.model import (
    Bidirectional,
    EllipseRoi,
    PolygonRoi,
    Ruler,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from numpy.typing import NDArray

    from imaging_viewer.core.annotations.measure import RoiStats
    from imaging_viewer.core.annotations.model import Lesion

THIRD_AXIS_TOLERANCE_DEG: Final = 15.0
"""How far from the plane's normal a third diameter may lie to make an ellipsoid."""
PARALLEL_TOLERANCE_DEG: Final = 1.0
"""Outlines whose planes are this close to parallel form one stack."""
CONSECUTIVE_TOLERANCE: Final = 0.25
"""Outlines are consecutive when each gap is within 25 % of the median gap."""


@dataclass(frozen=True)
class LesionSize:
    """What was measured of a lesion at one time point; None where nothing was."""

    longest_diameter_mm: float | None = None
    short_axis_mm: float | None = None
    ellipsoid_volume_mm3: float | None = None
    outline_volume_mm3: float | None = None
    roi_mean: float | None = None
    roi_sd: float | None = None
    plane_normal_lps: tuple[float, float, float] | None = None
    """Normal of the plane the diameter was measured on (for plane changes)."""

    @property
    def product_mm2(self) -> float | None:
        """Longest diameter × short axis (WHO bidimensional product)."""
        if self.longest_diameter_mm is None or self.short_axis_mm is None:
            return None
        return self.longest_diameter_mm * self.short_axis_mm

    @property
    def volume_mm3(self) -> float | None:
        """The outline volume where outlines were drawn, else the ellipsoid's."""
        if self.outline_volume_mm3 is not None:
            return self.outline_volume_mm3
        return self.ellipsoid_volume_mm3

    def recist_diameter_mm(self, nodal: bool) -> float | None:
        """RECIST 1.1 (4.2): the short axis of a node, else the longest diameter."""
        return self.short_axis_mm if nodal else self.longest_diameter_mm


def _length(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    return float(np.linalg.norm(np.subtract(b, a)))


def _unit(vector: NDArray[np.float64]) -> NDArray[np.float64]:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def _diameters(
    lesion: Lesion,
) -> tuple[float | None, float | None, Bidirectional | None]:
    bidirectionals = [a for a in lesion.annotations if isinstance(a, Bidirectional)]
    if bidirectionals:
        main = max(
            bidirectionals, key=lambda b: _length(b.long_start_lps, b.long_end_lps)
        )
        return (
            _length(main.long_start_lps, main.long_end_lps),
            _length(main.short_start_lps, main.short_end_lps),
            main,
        )
    rulers = [a for a in lesion.annotations if isinstance(a, Ruler)]
    if rulers:
        return max(_length(r.start_lps, r.end_lps) for r in rulers), None, None
    return None, None, None


def _third_diameter(lesion: Lesion, main: Bidirectional) -> float | None:
    """The longest ruler or axis within 15° of the main measurement's plane normal."""
    normal = _unit(
        np.cross(
            np.subtract(main.long_end_lps, main.long_start_lps),
            np.subtract(main.short_end_lps, main.short_start_lps),
        )
    )
    if not np.any(normal):
        normal = np.asarray(main.plane_normal_lps)
    cos_limit = math.cos(math.radians(THIRD_AXIS_TOLERANCE_DEG))
    best: float | None = None
    for annotation in lesion.annotations:
        if annotation is main:
            continue
        segments: list[tuple[tuple[float, float, float], tuple[float, float, float]]]
        if isinstance(annotation, Ruler):
            segments = [(annotation.start_lps, annotation.end_lps)]
        elif isinstance(annotation, Bidirectional):
            segments = [
                (annotation.long_start_lps, annotation.long_end_lps),
                (annotation.short_start_lps, annotation.short_end_lps),
            ]
        else:
            continue
        for start, end in segments:
            direction = np.subtract(end, start)
            length = float(np.linalg.norm(direction))
            if length > 0 and abs(float(direction @ normal)) / length >= cos_limit:
                best = length if best is None else max(best, length)
    return best


def outline_volume_mm3(lesion: Lesion) -> float | None:
    """Cavalieri volume of outlines on consecutive parallel slices, or None.

    The outlines (polygons and ellipses) are grouped by plane orientation; the
    largest group of at least two whose gaps along the normal are all within
    25 % of their median is summed: Σ area × spacing.
    """
    rois = [a for a in lesion.annotations if isinstance(a, PolygonRoi | EllipseRoi)]
    cos_limit = math.cos(math.radians(PARALLEL_TOLERANCE_DEG))
    stacks: list[list[EllipseRoi | PolygonRoi]] = []
    for roi in rois:
        normal = np.asarray(roi.plane_normal_lps)
        for stack in stacks:
            if abs(float(normal @ np.asarray(stack[0].plane_normal_lps))) >= cos_limit:
                stack.append(roi)
                break
        else:
            stacks.append([roi])
    best: float | None = None
    for stack in stacks:
        if len(stack) < 2:
            continue
        normal = np.asarray(stack[0].plane_normal_lps)
        positions = np.array([float(r.points_lps.mean(axis=0) @ normal) for r in stack])
        order = np.argsort(positions)
        gaps = np.diff(positions[order])
        spacing = float(np.median(gaps))
        if spacing <= 0 or np.any(
            np.abs(gaps - spacing) > CONSECUTIVE_TOLERANCE * spacing
        ):
            continue
        volume = spacing * sum(roi_area_mm2(r) for r in stack)
        best = volume if best is None else max(best, volume)
    return best


def lesion_size(
    lesion: Lesion, roi_stats: Mapping[str, RoiStats] | None = None
) -> LesionSize:
    """Everything measurable of ``lesion`` from its annotations.

    ``roi_stats`` (by annotation id, from
    :func:`~imaging_viewer.core.annotations.measure.roi_stats`) gives the ROI
    mean and SD in modality units: those of the largest ROI of the lesion.
    """
    longest, short, main = _diameters(lesion)
    ellipsoid: float | None = None
    if main is not None and short is not None and longest is not None:
        third = _third_diameter(lesion, main)
        if third is not None:
            ellipsoid = math.pi / 6.0 * longest * short * third
    mean = sd = None
    if roi_stats:
        measured = [
            roi_stats[a.id]
            for a in lesion.annotations
            if a.id in roi_stats and math.isfinite(roi_stats[a.id].mean)
        ]
        if measured:
            largest = max(measured, key=lambda s: s.area_mm2)
            mean, sd = largest.mean, largest.sd
    normal = None
    if main is not None:
        normal = main.plane_normal_lps
    else:
        rulers = [a for a in lesion.annotations if isinstance(a, Ruler)]
        if rulers:
            normal = rulers[0].plane_normal_lps
    return LesionSize(
        longest_diameter_mm=longest,
        short_axis_mm=short,
        ellipsoid_volume_mm3=ellipsoid,
        outline_volume_mm3=outline_volume_mm3(lesion),
        roi_mean=mean,
        roi_sd=sd,
        plane_normal_lps=normal,
    )
