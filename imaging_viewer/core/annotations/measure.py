"""Measurements of annotations (mm, degrees), ROI statistics, and where they show.

Points are LPS millimetres, so a measurement never depends on the view it is
read in. Millimetres are only as good as the spacing of the image the points
were placed on: where the image has none (PS3.3 10.7.1.3), distances, areas
and ROI statistics in mm are refused with :class:`NoSpacingError`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np

from imaging_viewer.core.annotations.model import (
    Angle,
    Bidirectional,
    CobbAngle,
    EllipseRoi,
    PolygonRoi,
    Ruler,
)
from imaging_viewer.core.mpr import Slice, SlicePlane
from imaging_viewer.core.volume import Volume

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

    from imaging_viewer.core.annotations.calibration import Calibration
    from imaging_viewer.core.annotations.model import Annotation
    from imaging_viewer.core.geometry import Affine

NO_SPACING: Final = "none"
"""``Volume.spacing_source`` of an image without Pixel Spacing or Imager Pixel
Spacing: its "millimetres" are pixels."""

Roi = EllipseRoi | PolygonRoi
"""The annotations :func:`roi_stats` measures."""

# Points this close to the plane of a slice (mm) count as on it, at the least.
_MIN_PLANE_TOLERANCE_MM: Final = 1e-3


class NoSpacingError(ValueError):
    """A size in mm was asked of an image whose pixels have no size in mm."""


def require_spacing(spacing_source: str, what: str = "distances") -> None:
    """Raise :class:`NoSpacingError` where ``spacing_source`` says there is none.

    Parameters
    ----------
    spacing_source : str
        ``Volume.spacing_source``: ``"PixelSpacing"``, ``"ImagerPixelSpacing
        (...)"``, ``""`` (not stated: a 3D volume's spacing is taken as given),
        or ``"none"``.
    what : str
        What was asked for, for the message.

    References
    ----------
    PS3.3 10.7.1.3 Pixel Spacing Value Order and Valid Values (Pixel Spacing,
    Imager Pixel Spacing and what each measures).
    """
    if spacing_source == NO_SPACING:
        raise NoSpacingError(
            f"{what} cannot be given in mm: the image has neither Pixel Spacing "
            "nor Imager Pixel Spacing (PS3.3 10.7.1.3), so the size of its pixels "
            "is unknown"
        )


def spacing_source_of(volume: Volume) -> str:
    """Where the in-plane spacing of ``volume`` comes from; ``"none"`` if nowhere.

    A projection radiograph that does not say is taken to have none: its spacing
    could only come from Pixel Spacing or Imager Pixel Spacing (PS3.3 10.7.1.3).
    """
    source = volume.spacing_source
    if volume.is_projection and not source:
        return NO_SPACING
    return source


# ------------------------------------------------------------------ geometry


def _points(value: ArrayLike, count: int, name: str) -> NDArray[np.float64]:
    points = np.asarray(value, dtype=np.float64)
    if points.shape != (count, 3) or not np.all(np.isfinite(points)):
        raise ValueError(f"{name} must be {count} finite LPS points, not {value!r}")
    return points


def _point(value: ArrayLike, name: str) -> NDArray[np.float64]:
    point: NDArray[np.float64] = np.asarray(value, dtype=np.float64).reshape(-1)
    if point.shape != (3,) or not np.all(np.isfinite(point)):
        raise ValueError(f"{name} must be a finite LPS point, not {value!r}")
    return point


def length_mm(
    p0_lps: ArrayLike, p1_lps: ArrayLike, *, spacing_source: str = ""
) -> float:
    """Distance between two LPS points.

    Parameters
    ----------
    p0_lps, p1_lps : array_like
        Points, LPS mm.
    spacing_source : str
        Spacing source of the image they were placed on (see
        :func:`require_spacing`); ``"none"`` raises :class:`NoSpacingError`.

    Returns
    -------
    float
        Millimetres.

    References
    ----------
    PS3.3 C.7.6.2.1.1 (LPS patient coordinates, in mm).
    """
    require_spacing(spacing_source, "a length")
    return float(np.linalg.norm(_point(p1_lps, "p1_lps") - _point(p0_lps, "p0_lps")))


def _angle_between_deg(u: NDArray[np.float64], v: NDArray[np.float64]) -> float:
    # atan2 of |u × v| and u·v keeps precision near 0° and 180°, unlike acos.
    if not np.any(u) or not np.any(v):
        raise ValueError("an angle needs arms longer than 0 mm")
    cross = float(np.linalg.norm(np.cross(u, v)))
    return math.degrees(math.atan2(cross, float(u @ v)))


def angle_deg(a_lps: ArrayLike, vertex_lps: ArrayLike, b_lps: ArrayLike) -> float:
    """The angle at ``vertex_lps`` between the arms to ``a_lps`` and ``b_lps``.

    Returns
    -------
    float
        Degrees, 0 to 180, measured in the plane of the three points.
    """
    vertex = _point(vertex_lps, "vertex_lps")
    return _angle_between_deg(
        _point(a_lps, "a_lps") - vertex, _point(b_lps, "b_lps") - vertex
    )


def cobb_angle_deg(line1_lps: ArrayLike, line2_lps: ArrayLike) -> float:
    """The angle between two lines, each given by two points (Cobb's method).

    The lines are not directed, so the order of each line's points does not
    matter.

    Returns
    -------
    float
        Degrees, 0 to 90.
    """
    first = _points(line1_lps, 2, "line1_lps")
    second = _points(line2_lps, 2, "line2_lps")
    angle = _angle_between_deg(first[1] - first[0], second[1] - second[0])
    return min(angle, 180.0 - angle)


def bidirectional(
    long_axis_lps: ArrayLike, short_axis_lps: ArrayLike, *, spacing_source: str = ""
) -> tuple[float, float]:
    """Long and short axis lengths of a bidirectional (RECIST) measurement.

    Parameters
    ----------
    long_axis_lps, short_axis_lps : array_like
        Two LPS points each, shape (2, 3).
    spacing_source : str
        As for :func:`length_mm`.

    Returns
    -------
    (float, float)
        Long and short axis, mm.

    References
    ----------
    Eisenhauer et al. 2009, revised RECIST guideline 1.1 (longest diameter, and
    short axis perpendicular to it).
    """
    require_spacing(spacing_source, "a bidirectional measurement")
    long_axis = _points(long_axis_lps, 2, "long_axis_lps")
    short_axis = _points(short_axis_lps, 2, "short_axis_lps")
    return (
        float(np.linalg.norm(long_axis[1] - long_axis[0])),
        float(np.linalg.norm(short_axis[1] - short_axis[0])),
    )


def roi_area_mm2(roi: Roi, *, spacing_source: str = "") -> float:
    """Area enclosed by an ROI outline: π·a·b, or the shoelace area of a polygon.

    A polygon's area is taken in its own plane (the plane the vertices were
    drawn on); a self-crossing outline gives the signed sum of its loops.
    """
    require_spacing(spacing_source, "an area")
    if isinstance(roi, EllipseRoi):
        a_mm, b_mm = roi.semi_axes_mm
        return math.pi * a_mm * b_mm
    vertices = roi.points_lps
    total = np.cross(vertices, np.roll(vertices, -1, axis=0)).sum(axis=0)
    return abs(float(total @ np.asarray(roi.plane_normal_lps))) / 2.0


# --------------------------------------------------------------- measurements


@dataclass(frozen=True)
class Measurement:
    """One value read off an annotation, with the spacing it rests on."""

    name: str
    """``"length"``, ``"angle"``, ``"cobb angle"``, ``"long axis"``,
    ``"short axis"`` or ``"area"``."""
    value: float
    unit: str
    """``"mm"``, ``"deg"`` or ``"mm2"``."""
    spacing_source: str = ""
    """Which spacing the value uses (PS3.3 10.7.1.3), e.g. ``PixelSpacing`` or
    ``ImagerPixelSpacing (at the detector, ...)``, for the UI to say."""


def measure(
    annotation: Annotation, *, spacing_source: str = ""
) -> tuple[Measurement, ...]:
    """The measurements an annotation shows; none for markers, arrows and text.

    Angles are given even without spacing (they are then angles on the pixel
    grid); lengths and areas raise :class:`NoSpacingError`.

    Parameters
    ----------
    annotation : Annotation
        Any annotation kind.
    spacing_source : str
        ``Volume.spacing_source`` of the image it was drawn on (see
        :func:`spacing_source_of`), carried into each result.

    Returns
    -------
    tuple of Measurement

    References
    ----------
    PS3.3 10.7.1.3 (which spacing a projection measurement uses).
    """
    source = spacing_source

    def result(name: str, value: float, unit: str) -> Measurement:
        return Measurement(name, value, unit, source)

    if isinstance(annotation, Ruler):
        value = length_mm(
            annotation.start_lps, annotation.end_lps, spacing_source=source
        )
        return (result("length", value, "mm"),)
    if isinstance(annotation, Angle):
        value = angle_deg(
            annotation.first_lps, annotation.vertex_lps, annotation.second_lps
        )
        return (result("angle", value, "deg"),)
    if isinstance(annotation, CobbAngle):
        value = cobb_angle_deg(annotation.line1_lps, annotation.line2_lps)
        return (result("cobb angle", value, "deg"),)
    if isinstance(annotation, Bidirectional):
        long_mm, short_mm = bidirectional(
            annotation.long_axis_lps, annotation.short_axis_lps, spacing_source=source
        )
        return (
            result("long axis", long_mm, "mm"),
            result("short axis", short_mm, "mm"),
        )
    if isinstance(annotation, EllipseRoi | PolygonRoi):
        return (result("area", roi_area_mm2(annotation, spacing_source=source), "mm2"),)
    return ()


_PIXEL_UNITS: Final = {"mm": "px", "mm2": "px2"}
UNIT_TEXT: Final = {"mm": " mm", "mm2": " mm²", "px": " px", "px2": " px²", "deg": "°"}
"""How each :attr:`Measurement.unit` reads after a number."""


def measure_shown(
    annotation: Annotation,
    *,
    spacing_source: str = "",
    calibration: Calibration | None = None,
) -> tuple[Measurement, ...]:
    """What an annotation measures, in the unit its image supports.

    Like :func:`measure`, but never refuses: a reader's ``calibration`` of the
    image scales lengths and areas into mm (its ``source`` says so); without
    one, an image with no spacing gives lengths in ``"px"`` and areas in
    ``"px2"`` (its points were placed at 1 mm per pixel), so no pixel count is
    ever shown as millimetres.

    Parameters
    ----------
    annotation : Annotation
        Any kind.
    spacing_source : str
        As for :func:`measure` (:func:`spacing_source_of` the image).
    calibration : Calibration, optional
        The reader's calibration of the image the annotation lies on.

    References
    ----------
    PS3.3 10.7.1.1 and 10.7.1.3 (which spacing a projection measurement uses,
    and what to do without one).
    """
    if calibration is not None:
        scale = calibration.scale
        factors = {"mm": scale, "mm2": scale * scale, "deg": 1.0}
        return tuple(
            Measurement(
                value.name,
                value.value * factors[value.unit],
                value.unit,
                calibration.source,
            )
            for value in measure(annotation)
        )
    if spacing_source == NO_SPACING:
        return tuple(
            Measurement(
                value.name,
                value.value,
                _PIXEL_UNITS.get(value.unit, value.unit),
                NO_SPACING,
            )
            for value in measure(annotation)
        )
    return measure(annotation, spacing_source=spacing_source)


AREA_IN_CM2_FROM_MM2: Final = 100.0
"""Areas from 1 cm² up read in cm² (``"10.3 cm²"``), smaller ones in mm²."""


def value_text(value: Measurement) -> str:
    """One value as a reader sees it: ``"23.4 mm"``, ``"41.0°"``, ``"255.0 px"``;
    an area of 100 mm² or more in cm² with one decimal (``"10.3 cm²"``), a smaller
    one in mm². Only the display: SR and JSON keep mm² (UCUM ``mm2``)."""
    if value.unit == "mm2" and abs(value.value) >= AREA_IN_CM2_FROM_MM2:
        return f"{value.value / 100.0:.1f} cm²"
    return f"{value.value:.1f}{UNIT_TEXT.get(value.unit, f' {value.unit}')}"


def measurement_text(values: tuple[Measurement, ...]) -> str:
    """``"23.4 mm"``, ``"31.0 × 12.2 px"`` (long axis × short axis: no letters,
    which would read as the orientation letters L and S beside them), ``"41.0°"``,
    ``"10.3 cm²"``: values as shown."""
    names = [value.name for value in values]
    if names == ["long axis", "short axis"]:
        unit = UNIT_TEXT.get(values[0].unit, f" {values[0].unit}")
        return f"{values[0].value:.1f} × {values[1].value:.1f}{unit}"
    return ", ".join(value_text(value) for value in values)


# ---------------------------------------------------------------- ROI statistics


@dataclass(frozen=True)
class RoiStats:
    """Statistics of the pixels whose centres lie inside an ROI."""

    mean: float
    """Modality units (HU for CT); NaN when no pixel centre is inside."""
    sd: float
    """Population standard deviation (the ROI's pixels are all there is)."""
    min: float
    max: float
    area_mm2: float
    """Area enclosed by the outline (:func:`roi_area_mm2`)."""
    pixel_count: int
    pixel_area_mm2: float
    """``pixel_count`` times the area of one pixel: the area the statistics cover."""
    spacing_source: str = ""
    """Which spacing the areas use (PS3.3 10.7.1.3)."""


def spacing_note(spacing_source: str) -> str:
    """A short note on where a length's spacing comes from, for the label and
    panel, where it is not the header's Pixel Spacing.

    ``"calibrated"`` (the reader's calibration), ``"×1/ERMF"`` (Imager Pixel
    Spacing corrected by the Estimated Radiographic Magnification Factor),
    ``"at detector"`` (Imager Pixel Spacing uncorrected); ``""`` for Pixel
    Spacing, a 3D image's stated spacing, or none (the unit px says so).

    References
    ----------
    PS3.3 10.7.1.1 and 10.7.1.3 (Pixel Spacing, Imager Pixel Spacing and the
    Estimated Radiographic Magnification Factor).
    """
    if spacing_source.startswith("calibration"):
        return "calibrated"
    if spacing_source.startswith("ImagerPixelSpacing"):
        if "not corrected" in spacing_source or "corrected" not in spacing_source:
            return "at detector"
        return "×1/ERMF"
    return ""


MODALITY_VALUE_UNITS: Final = {"CT": "HU"}
"""Unit of a modality's pixel values after Rescale Slope and Intercept
(PS3.3 C.11.1.1.2): Hounsfield units for CT; other modalities' values are
relative (``"signal"`` on MR)."""


def value_unit(modality: str) -> str:
    """``"HU"`` for CT, ``"signal"`` for MR, ``""`` otherwise."""
    modality = modality.strip().upper()
    if modality == "MR":
        return "signal"
    return MODALITY_VALUE_UNITS.get(modality, "")


def roi_stats_lines(stats: RoiStats, unit: str = "") -> tuple[str, ...]:
    """What an ROI's label adds to its area: ``("mean 41.2 ± 8.3 HU",
    "min -12 max 96 HU")``; nothing when no pixel centre is inside."""
    if not stats.pixel_count or not math.isfinite(stats.mean):
        return ()
    suffix = f" {unit}" if unit else ""
    return (
        f"mean {stats.mean:.1f} ± {stats.sd:.1f}{suffix}",
        f"min {stats.min:.4g} max {stats.max:.4g}{suffix}",
    )


@dataclass(frozen=True)
class _PlaneFrame:
    """A slice's placement solved for going from LPS back to pixels."""

    origin: NDArray[np.float64]
    column_step: NDArray[np.float64]
    row_step: NDArray[np.float64]
    lps_to_crd: NDArray[np.float64]
    """3×3: LPS offset from ``origin`` -> (column, row, distance along normal mm)."""
    slice_step_mm: float

    @classmethod
    def of(cls, pixel_to_lps: Affine) -> _PlaneFrame:
        column_step = pixel_to_lps[:3, 0]
        row_step = pixel_to_lps[:3, 1]
        normal = np.cross(column_step, row_step)
        norm = float(np.linalg.norm(normal))
        if norm == 0.0:
            raise ValueError("pixel_to_lps has parallel or zero column and row steps")
        basis = np.column_stack([column_step, row_step, normal / norm])
        return cls(
            origin=pixel_to_lps[:3, 3],
            column_step=column_step,
            row_step=row_step,
            lps_to_crd=np.linalg.inv(basis).astype(np.float64),
            slice_step_mm=float(np.linalg.norm(pixel_to_lps[:3, 2])),
        )

    def to_crd(self, points_lps: NDArray[np.float64]) -> NDArray[np.float64]:
        result: NDArray[np.float64] = (points_lps - self.origin) @ self.lps_to_crd.T
        return result


def _checked_on_plane(
    frame: _PlaneFrame, roi: Roi, tolerance_mm: float | None
) -> NDArray[np.float64]:
    """(column, row) of the ROI's points, after checking they lie on the plane."""
    tolerance = (
        max(0.5 * frame.slice_step_mm, _MIN_PLANE_TOLERANCE_MM)
        if tolerance_mm is None
        else tolerance_mm
    )
    crd = frame.to_crd(roi.points_lps)
    off_plane = float(np.max(np.abs(crd[:, 2])))
    if off_plane > tolerance:
        raise ValueError(
            f"the {roi.kind} lies up to {off_plane:.3g} mm from the plane of the "
            f"slice (more than {tolerance:.3g} mm): measure it on the slice it was "
            "drawn on"
        )
    result: NDArray[np.float64] = crd[:, :2]
    return result


def _bounds(low: float, high: float, size: int) -> tuple[int, int]:
    """First and last integer pixel index in [low, high] within [0, size)."""
    first = max(0, math.ceil(low - 1e-9))
    last = min(size - 1, math.floor(high + 1e-9))
    return first, last


def _ellipse_window(
    frame: _PlaneFrame,
    roi: EllipseRoi,
    shape: tuple[int, int],
    tolerance_mm: float | None,
) -> tuple[NDArray[np.bool_], int, int]:
    crd = _checked_on_plane(frame, roi, tolerance_mm)
    centre_c, centre_r = crd[0]
    centre = np.asarray(roi.centre_lps)
    a = np.asarray(roi.axis1_end_lps) - centre
    b = np.asarray(roi.axis2_end_lps) - centre
    # Extent in columns and rows of c(θ) = c0 + ac·cos θ + bc·sin θ.
    ab_c = frame.lps_to_crd[0] @ np.column_stack([a, b])
    ab_r = frame.lps_to_crd[1] @ np.column_stack([a, b])
    half_c = float(np.hypot(*ab_c))
    half_r = float(np.hypot(*ab_r))
    rows, columns = shape
    c0, c1 = _bounds(centre_c - half_c, centre_c + half_c, columns)
    r0, r1 = _bounds(centre_r - half_r, centre_r + half_r, rows)
    if c0 > c1 or r0 > r1:
        return np.zeros((0, 0), dtype=bool), 0, 0
    dc = np.arange(c0, c1 + 1, dtype=np.float64) - centre_c
    dr = np.arange(r0, r1 + 1, dtype=np.float64) - centre_r
    # Ellipse coordinates of a pixel centre: its in-plane offset from the centre
    # projected on each semi-axis, over that semi-axis' squared length.
    x = (
        dr[:, None] * float(frame.row_step @ a)
        + dc[None, :] * float(frame.column_step @ a)
    ) / float(a @ a)
    y = (
        dr[:, None] * float(frame.row_step @ b)
        + dc[None, :] * float(frame.column_step @ b)
    ) / float(b @ b)
    return x * x + y * y <= 1.0, r0, c0


def _polygon_window(
    frame: _PlaneFrame,
    roi: PolygonRoi,
    shape: tuple[int, int],
    tolerance_mm: float | None,
) -> tuple[NDArray[np.bool_], int, int]:
    crd = _checked_on_plane(frame, roi, tolerance_mm)
    xs, ys = crd[:, 0], crd[:, 1]
    rows, columns = shape
    c0, c1 = _bounds(float(xs.min()), float(xs.max()), columns)
    r0, r1 = _bounds(float(ys.min()), float(ys.max()), rows)
    if c0 > c1 or r0 > r1:
        return np.zeros((0, 0), dtype=bool), 0, 0
    width = c1 - c0 + 1
    row_y = np.arange(r0, r1 + 1, dtype=np.float64)
    x_next, y_next = np.roll(xs, -1), np.roll(ys, -1)
    # Even-odd rule, one scan line per pixel row: an edge crosses row y when its
    # ends lie on either side (half-open, so a vertex on the line counts once).
    crosses = (ys[None, :] > row_y[:, None]) != (y_next[None, :] > row_y[:, None])
    row_index, edge = np.nonzero(crosses)
    y = row_y[row_index]
    x_cross = xs[edge] + (y - ys[edge]) * (x_next[edge] - xs[edge]) / (
        y_next[edge] - ys[edge]
    )
    # Pixel column c has the crossing to its right when c < x, i.e. for offsets
    # j = c - c0 below ceil(x) - c0: count, per pixel, the crossings to its right.
    stop = np.clip(np.ceil(x_cross).astype(np.int64) - c0, 0, width)
    histogram = np.zeros((row_y.size, width + 1), dtype=np.int64)
    np.add.at(histogram, (row_index, stop), 1)
    to_the_right = histogram.sum(axis=1, keepdims=True) - np.cumsum(histogram, axis=1)
    return (to_the_right[:, :width] % 2) == 1, r0, c0


def _window(
    image: Slice, roi: Roi, tolerance_mm: float | None
) -> tuple[NDArray[np.bool_], int, int]:
    pixels = image.pixels
    if pixels.ndim != 2:
        raise ValueError("ROI statistics need a single-channel image, not RGB")
    frame = _PlaneFrame.of(image.pixel_to_lps)
    shape = (int(pixels.shape[0]), int(pixels.shape[1]))
    if isinstance(roi, EllipseRoi):
        return _ellipse_window(frame, roi, shape, tolerance_mm)
    return _polygon_window(frame, roi, shape, tolerance_mm)


def roi_mask(
    image: Slice, roi: Roi, *, tolerance_mm: float | None = None
) -> NDArray[np.bool_]:
    """Which pixels of ``image`` have their centre inside ``roi``.

    Parameters
    ----------
    image : Slice
        The shown slice; pixel (c, r) has its centre at
        ``pixel_to_lps @ (c, r, 0, 1)`` (PS3.3 C.7.6.2.1.1).
    roi : EllipseRoi or PolygonRoi
        Drawn on this slice's plane; polygons use the even-odd rule.
    tolerance_mm : float, optional
        How far the ROI's points may lie from the plane; default half the
        slice step (the third column of ``pixel_to_lps``), at least 1 µm.

    Returns
    -------
    numpy.ndarray of bool
        ``[row, column]``, the shape of ``image.pixels``.

    Raises
    ------
    ValueError
        If the ROI does not lie on the slice's plane, or the image is RGB.
    """
    window, r0, c0 = _window(image, roi, tolerance_mm)
    mask = np.zeros(image.pixels.shape[:2], dtype=bool)
    mask[r0 : r0 + window.shape[0], c0 : c0 + window.shape[1]] = window
    return mask


def _slice_of_volume(volume: Volume, roi: Roi, time_index: int) -> Slice:
    """The acquired slice of ``volume`` that ``roi`` lies on."""
    ijk = (roi.points_lps - volume.ijk_to_lps[:3, 3]) @ np.linalg.inv(
        volume.ijk_to_lps[:3, :3]
    ).T
    k_values = ijk[:, 2]
    k = round(float(k_values.mean()))
    n_slices = volume.shape_kji[0]
    if not 0 <= k < n_slices or float(np.max(np.abs(k_values - k))) > 0.5:
        raise ValueError(
            f"the {roi.kind} does not lie on one slice of the volume: reslice the "
            "volume onto its plane (mpr.reslice) and measure that slice"
        )
    affine = volume.ijk_to_lps.copy()
    affine[:3, 3] = affine[:3, 3] + k * affine[:3, 2]
    return Slice(volume.time_point(time_index).voxels[k], affine)


def roi_stats(
    image: Slice | Volume,
    roi: Roi,
    *,
    spacing_source: str | None = None,
    time_index: int = 0,
    tolerance_mm: float | None = None,
) -> RoiStats:
    """Mean, SD, minimum, maximum and area of the pixels inside an ROI.

    A pixel counts when its centre lies inside the ellipse or polygon, in the
    plane of the slice (:func:`roi_mask`); values are the slice's modality
    values (Rescale Slope and Intercept applied, PS3.3 C.11.1.1.2).

    Parameters
    ----------
    image : Slice or Volume
        The shown slice (e.g. from :func:`~imaging_viewer.core.mpr.reslice`), or
        a volume, whose acquired slice the ROI lies on is used.
    roi : EllipseRoi or PolygonRoi
        The outline, LPS mm.
    spacing_source : str, optional
        Where the spacing comes from; default the volume's
        (:func:`spacing_source_of`), or ``""`` (stated spacing) for a slice.
    time_index : int
        Time point of a 4D volume.
    tolerance_mm : float, optional
        See :func:`roi_mask`.

    Returns
    -------
    RoiStats

    Raises
    ------
    NoSpacingError
        If the image has no pixel spacing (PS3.3 10.7.1.3).
    ValueError
        If the ROI is not on the slice, or the image is RGB.

    References
    ----------
    PS3.3 C.7.6.2.1.1 (pixel centres in patient space); PS3.3 10.7.1.3.
    """
    if isinstance(image, Volume):
        source = spacing_source_of(image) if spacing_source is None else spacing_source
        image = _slice_of_volume(image, roi, time_index)
    else:
        source = spacing_source or ""
    require_spacing(source, "ROI statistics in mm")
    window, r0, c0 = _window(image, roi, tolerance_mm)
    values = np.asarray(
        image.pixels[r0 : r0 + window.shape[0], c0 : c0 + window.shape[1]],
        dtype=np.float64,
    )[window]
    steps = image.pixel_to_lps[:3, :2]
    pixel_area = float(np.linalg.norm(np.cross(steps[:, 0], steps[:, 1])))
    count = int(values.size)
    if count:
        mean, sd = float(values.mean()), float(values.std())
        low, high = float(values.min()), float(values.max())
    else:
        mean = sd = low = high = math.nan
    return RoiStats(
        mean=mean,
        sd=sd,
        min=low,
        max=high,
        area_mm2=roi_area_mm2(roi),
        pixel_count=count,
        pixel_area_mm2=count * pixel_area,
        spacing_source=source,
    )


# --------------------------------------------------------------- display planes


def project_to_plane(points_lps: ArrayLike, plane: SlicePlane) -> NDArray[np.float64]:
    """(column, row) pixel coordinates of LPS points projected onto ``plane``.

    The projection is orthogonal (along the plane normal), so a point of the
    plane maps to its own pixel position.

    Parameters
    ----------
    points_lps : array_like
        Shape (..., 3), LPS mm.
    plane : SlicePlane
        The shown plane.

    Returns
    -------
    numpy.ndarray
        Shape (..., 2), float pixel coordinates (pixel centres are integers).

    References
    ----------
    PS3.3 C.7.6.2.1.1.
    """
    result: NDArray[np.float64] = plane.lps_to_pixel(points_lps)[..., :2]
    return result


def distance_to_plane_mm(
    points_lps: ArrayLike, plane: SlicePlane
) -> NDArray[np.float64]:
    """Signed distance of LPS points from ``plane`` along its normal, shape (...)."""
    result: NDArray[np.float64] = plane.lps_to_pixel(points_lps)[..., 2]
    return result


def is_within_slab(
    annotation: Annotation,
    plane: SlicePlane,
    slab_mm: float,
    *,
    frame_of_reference_uid: str | None = None,
    sop_instance_uid: str | None = None,
    tolerance_mm: float = 1e-3,
) -> bool:
    """True where all of an annotation lies within the slab shown around ``plane``.

    An annotation is drawn in every view of its frame of reference whose slab
    holds it, whichever plane it was drawn on: a marker placed on a sagittal
    plane shows on the axial and coronal planes through it. A thin view should
    pass its slice step as ``slab_mm``, so what lies within half a slice of the
    plane shows.

    Parameters
    ----------
    annotation : Annotation
        Any kind.
    plane : SlicePlane
        The shown plane.
    slab_mm : float
        Thickness of the shown slab, centred on the plane.
    frame_of_reference_uid : str, optional
        The view's Frame of Reference UID. When given, annotations of another
        frame of reference never show (PS3.3 C.7.4.1.1.1: positions compare only
        within one), and annotations without one (drawn on projection images,
        which have no patient position) show only on their own image, named by
        ``sop_instance_uid``.
    sop_instance_uid : str, optional
        SOP Instance UID of the image shown.
    tolerance_mm : float
        Added to half the slab, for rounding.

    Returns
    -------
    bool

    References
    ----------
    PS3.3 C.7.4.1.1.1 Frame of Reference UID; C.7.6.2.1.1.
    """
    if frame_of_reference_uid is not None:
        if annotation.frame_of_reference_uid:
            if annotation.frame_of_reference_uid != frame_of_reference_uid:
                return False
        elif (
            sop_instance_uid is None
            or annotation.referenced_sop_instance_uid != sop_instance_uid
        ):
            return False
    distances = distance_to_plane_mm(annotation.points_lps, plane)
    return bool(np.all(np.abs(distances) <= max(slab_mm, 0.0) / 2.0 + tolerance_mm))
