"""Corner text of a viewport: patient, study, image and display lines."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Final

from imaging_viewer.core.volume import VoiLut, Window

if TYPE_CHECKING:
    from imaging_viewer.core.annotations.calibration import Calibration
    from imaging_viewer.core.dicom.series import SeriesInfo
    from imaging_viewer.core.viewer_state import ViewportState
    from imaging_viewer.core.volume import Volume

__all__ = [
    "CORNERS",
    "PATIENT_FIELDS",
    "corner_text",
    "format_age",
    "format_date",
    "format_person_name",
    "format_time",
]

CORNERS: Final = ("top_left", "top_right", "bottom_left", "bottom_right")
"""The keys of :func:`corner_text`, in drawing order."""

PATIENT_FIELDS: Final = frozenset(
    {
        "patient_name",
        "patient_id",
        "patient_birth_date",
        "patient_sex",
        "patient_age",
        "study_date",
        "study_time",
        "series_date",
        "study_description",
        "description",
        "accession_number",
        "institution_name",
    }
)
""":class:`SeriesInfo` attributes that identify a patient or a study.

``corner_text(..., include_patient=False)`` shows none of them. They follow
PS3.15 Annex E Table E.1-1 (Basic Application Level Confidentiality Profile),
where each is removed or replaced; descriptions are dropped because they are
free text that may carry names. Manufacturer, modality, series number, slice
and display values are technical and stay.
"""


def format_person_name(value: str) -> str:
    """A DICOM PN value for display: ``"Doe^John"`` becomes ``"Doe, John"``.

    Only the first (alphabetic) component group is used; empty components are
    left out.

    Parameters
    ----------
    value : str
        The Person Name as stored.

    Returns
    -------
    str
        Components joined with ", ".

    References
    ----------
    PS3.5 6.2 Value Representation PN (component groups split by "=",
    components by "^").
    """
    group = next((g for g in value.split("=") if g.strip()), "")
    return ", ".join(part.strip() for part in group.split("^") if part.strip())


def format_date(value: str) -> str:
    """A DA value ``YYYYMMDD`` as ``YYYY-MM-DD``; anything else unchanged.

    The ACR-NEMA form ``YYYY.MM.DD`` is read too.

    Parameters
    ----------
    value : str
        The Date as stored.

    Returns
    -------
    str
        The ISO 8601 date, or ``value`` stripped when it is not a date.

    References
    ----------
    PS3.5 6.2 Value Representation DA.
    """
    text = value.strip()
    digits = text.replace(".", "") if len(text) == 10 else text
    if len(digits) == 8 and digits.isdigit():
        return f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"
    return text


def format_time(value: str) -> str:
    """A TM value ``HHMMSS.FFFFFF`` as ``HH:MM:SS`` (fraction dropped).

    Shorter values keep their precision: ``"1430"`` becomes ``"14:30"``; the
    ACR-NEMA form ``HH:MM:SS`` is kept.

    Parameters
    ----------
    value : str
        The Time as stored.

    Returns
    -------
    str
        The time with colons, or ``value`` stripped when it is not a time.

    References
    ----------
    PS3.5 6.2 Value Representation TM.
    """
    text = value.strip()
    whole = text.split(".", 1)[0].replace(":", "")
    if whole.isdigit() and len(whole) in (2, 4, 6):
        return ":".join(whole[n : n + 2] for n in range(0, len(whole), 2))
    return text


def format_age(value: str) -> str:
    """An AS value ``nnnU`` without leading zeros: ``"045Y"`` becomes ``"45Y"``.

    Parameters
    ----------
    value : str
        The Age String as stored (U is D, W, M or Y).

    Returns
    -------
    str
        The age, or ``value`` stripped when it is not an Age String.

    References
    ----------
    PS3.5 6.2 Value Representation AS.
    """
    text = value.strip().upper()
    if len(text) >= 2 and text[:-1].isdigit() and text[-1] in "DWMY":
        return f"{int(text[:-1])}{text[-1]}"
    return value.strip()


def _number(value: float) -> str:
    """A value without float noise: ``40``, ``-600``, ``12.5``, ``0.45``."""
    if not math.isfinite(value):
        return str(value)
    if abs(value - round(value)) < 1e-6:
        return str(round(value))
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _patient_lines(series: SeriesInfo) -> list[str]:
    lines = []
    name = format_person_name(series.patient_name)
    if name:
        lines.append(name)
    if series.patient_id.strip():
        lines.append(f"ID {series.patient_id.strip()}")
    details = []
    if series.patient_sex.strip():
        details.append(series.patient_sex.strip())
    if series.patient_age.strip():
        details.append(format_age(series.patient_age))
    elif series.patient_birth_date.strip():
        details.append(f"born {format_date(series.patient_birth_date)}")
    if details:
        lines.append(", ".join(details))
    return lines


def _study_lines(series: SeriesInfo, include_patient: bool) -> list[str]:
    lines = []
    institution = str(getattr(series, "institution_name", "") or "").strip()
    if include_patient and institution:
        lines.append(institution)
    elif series.manufacturer.strip():
        lines.append(series.manufacturer.strip())
    if include_patient:
        date = format_date(series.study_date or series.series_date)
        time = format_time(series.study_time)
        when = " ".join(v for v in (date, time) if v)
        if when:
            lines.append(when)
        if series.accession_number.strip():
            lines.append(f"Acc {series.accession_number.strip()}")
        if series.study_description.strip():
            lines.append(series.study_description.strip())
    number = f"Se {series.series_number}" if series.series_number is not None else ""
    description = series.description.strip() if include_patient else ""
    series_line = ": ".join(v for v in (number, description) if v)
    if series_line:
        lines.append(series_line)
    if series.modality.strip():
        lines.append(series.modality.strip())
    return lines


def _is_projection(series: SeriesInfo | None, volume: Volume | None) -> bool:
    if volume is not None:
        return volume.is_projection
    return series is not None and series.is_projection


def _has_position(series: SeriesInfo | None, volume: Volume) -> bool:
    """True where the slice has a real place in patient space (PS3.3 C.7.6.2)."""
    if volume.is_projection:
        return False
    return series is None or bool(series.orientation_source)


_SLAB_NAMES = {"mip": "MIP", "minip": "MinIP", "mean": "Mean"}
"""How the overlay names each slab projection (maximum, minimum, mean)."""


def _image_lines(
    viewport: ViewportState, volume: Volume, calibration: Calibration | None = None
) -> list[str]:
    series = viewport.series
    lines = [f"Im {viewport.slice_index + 1}/{viewport.n_slices}"]
    if viewport.n_time_points > 1:
        # A 4D volume has time points; a clip without a 3D position has frames.
        kind = "Time" if _has_position(series, volume) else "Frame"
        lines.append(f"{kind} {viewport.time_index + 1}/{viewport.n_time_points}")
    affine = viewport.pixel_to_lps()
    if affine is not None and _has_position(series, volume):
        # Plain floats: this runs on every frame of a scroll.
        (rx, dx, sx, ox), (ry, dy, sy, oy), (rz, dz, sz, oz) = affine[:3].tolist()
        normal = (ry * dz - rz * dy, rz * dx - rx * dz, rx * dy - ry * dx)
        length = math.hypot(*normal)
        if length > 0.0:
            location = (ox * normal[0] + oy * normal[1] + oz * normal[2]) / length
            lines.append(f"Loc {_number(location)} mm")
        if viewport.n_slices > 1:
            # The grid's step along the slice normal; Slice Thickness is not
            # carried by SeriesInfo (PS3.3 C.7.6.2.1.1 positions give the step).
            lines.append(f"Sp {_number(math.hypot(sx, sy, sz))} mm")
    oblique = viewport.oblique_angle_deg()
    if oblique is not None:
        lines.append(f"Oblique {oblique:.1f}°")
    geometry = series.geometry if series is not None else None
    if geometry is not None and geometry.resample is not None:
        # Not the acquired slices: say so where the image is read.
        reasons = ", ".join(geometry.resample_reasons) or "regular grid"
        lines.append(f"resampled: {reasons}")
    if geometry is not None and geometry.acquired_first and viewport.is_mpr:
        lines.append(f"interpolated: {geometry.acquired_first}")
    if viewport.slab_mm > 0.0 and not volume.is_projection:
        # A projection over a slab can hide or mimic findings: always say so.
        mode = _SLAB_NAMES.get(viewport.slab_mode, viewport.slab_mode)
        lines.append(f"{mode} {_number(viewport.slab_mm)} mm slab")
    if calibration is not None and affine is not None:
        # The reader's spacing replaces the header's (PS3.3 10.7.1.1).
        column_step = math.hypot(*affine[:3, 0].tolist())
        lines.append(calibration.corner_text(column_step))
    elif _is_projection(series, volume):
        source = volume.spacing_source or (series.spacing_source if series else "")
        if source:
            # The attribute's name; the long explanation stays in the scan report.
            name = source.split(" (", 1)[0]
            if name == "none":
                name = "none (pixels)"
            lines.append(f"spacing: {name}{_spacing_detail(source)}")
    return lines


def _spacing_detail(source: str) -> str:
    """The short part of ``source`` the corner adds to its attribute's name: the
    magnification correction of Imager Pixel Spacing (PS3.3 C.8.11.1.1.1) or the
    Pixel Spacing Calibration Type (PS3.3 10.7.1.1)."""
    match = re.search(r"\((?:corrected by (ERMF [^)]+)|calibrated: ([A-Z]+))", source)
    if match is None:
        return ""
    if match.group(1):
        return f" ×1/{match.group(1)}"
    return f" ({match.group(2)})"


def _display_lines(
    viewport: ViewportState, volume: Volume | None, zoom: float | None
) -> list[str]:
    lines = []
    window = viewport.window
    if volume is not None and not volume.is_rgb:
        if isinstance(window, Window):
            lines.append(f"W {_number(window.width)} L {_number(window.center)}")
        elif isinstance(window, VoiLut):
            lines.append("VOI LUT")
    if viewport.window_label.strip():
        lines.append(viewport.window_label.strip())
    if zoom is not None and math.isfinite(zoom) and zoom > 0:
        lines.append(f"Zoom {round(zoom * 100)}%")
    if viewport.invert:
        lines.append("Inverted")
    return lines


def corner_text(
    viewport: ViewportState,
    zoom: float | None = None,
    *,
    include_patient: bool = True,
    corners: tuple[str, ...] = CORNERS,
    calibration: Calibration | None = None,
) -> dict[str, list[str]]:
    """The text lines for each corner of a viewport, top to bottom.

    - ``top_left``: patient name (PN "^" shown as ", "), patient ID, sex and age
      (or birth date).
    - ``top_right``: institution or manufacturer, study date and time, accession
      number, study description, series number and description, modality.
    - ``bottom_left``: image number ``Im k/K`` (1-based), ``Time t/T`` (4D) or
      ``Frame t/T`` (cine clip), slice location along the slice normal
      (``Loc 12.5 mm``), the slice step (``Sp 5 mm``), how far an oblique MPR
      plane is turned (``Oblique 12.5°``), a thick slab and its
      projection (``MIP 10 mm slab``), and for projection radiographs the
      attribute pixel spacing comes from, or the reader's ``calibration`` of
      the image (``Calibrated: 0.143 mm/px (25 mm ref)``).
    - ``bottom_right``: ``W width L level`` (or ``VOI LUT``), the window label,
      ``Zoom 150%`` when ``zoom`` is given, and ``Inverted``.

    Parameters
    ----------
    viewport : ViewportState
        The viewport; an empty one gives empty lists.
    zoom : float, optional
        Screen pixels per image pixel; leave out where zoom means nothing (export).
    include_patient : bool, default True
        False leaves out every line built from :data:`PATIENT_FIELDS` (name, ID,
        sex, age, birth date, dates, institution, accession number and
        descriptions), for de-identified images: only technical lines remain.
    corners : tuple of str, default all of :data:`CORNERS`
        The corners to compute (the top two depend on the series alone, so a
        viewport keeps them while it scrolls).

    Returns
    -------
    dict of str to list of str
        Keys ``corners``, in the order of :data:`CORNERS`; lines in reading
        order (top to bottom).

    References
    ----------
    PS3.3 C.7.1.1 Patient Module, C.7.2.1 General Study, C.7.3.1 General Series,
    C.7.6.2.1.1 Image Position and Orientation (slice location), 10.7.1.3 Pixel
    Spacing, C.11.2.1.2 Window Center and Width; PS3.15 Annex E (what counts as
    identifying).
    """
    unknown = set(corners) - set(CORNERS)
    if unknown:
        raise ValueError(f"unknown corners: {sorted(unknown)}")
    texts: dict[str, list[str]] = {c: [] for c in CORNERS if c in corners}
    series = viewport.series
    volume = viewport.volume
    if series is not None:
        if include_patient and "top_left" in texts:
            texts["top_left"] = _patient_lines(series)
        if "top_right" in texts:
            texts["top_right"] = _study_lines(series, include_patient)
    if volume is not None and "bottom_left" in texts:
        texts["bottom_left"] = _image_lines(viewport, volume, calibration)
    if (volume is not None or series is not None) and "bottom_right" in texts:
        texts["bottom_right"] = _display_lines(viewport, volume, zoom)
    return texts
