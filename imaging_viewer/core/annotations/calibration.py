"""A reader's calibration of a projection image against an object of known size.

A radiograph without Pixel Spacing or Imager Pixel Spacing has pixels of unknown
size, and Imager Pixel Spacing measures at the detector, not at the patient
(PS3.3 10.7.1.1, 10.7.1.3). The reader draws a line over an object of known
size (a 25 mm calibration ball, a prosthesis) and types that size: every length
and area on that image is then scaled by the ratio, and says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from imaging_viewer.core.annotations.model import Point3, as_point

if TYPE_CHECKING:
    from collections.abc import Mapping

CALIBRATION_SOURCE: Final = "calibration"
"""Start of the ``spacing_source`` of a calibrated measurement."""


@dataclass(frozen=True)
class Calibration:
    """A line drawn over an object of known length on one image.

    Points are in the annotation file's LPS millimetres, which on an image
    without spacing are pixels (1 mm per pixel assumed, PS3.3 10.7.1.3).
    """

    sop_instance_uid: str
    """SOP Instance UID of the calibrated image."""
    start_lps: Point3
    end_lps: Point3
    known_length_mm: float
    """The true size of what the line covers, typed by the reader."""
    frame: int | None = None
    """Frame number (1-based) of a multi-frame image, else None."""

    def __post_init__(self) -> None:
        if not self.sop_instance_uid:
            raise ValueError("a calibration belongs to one image: no SOP Instance UID")
        object.__setattr__(self, "start_lps", as_point(self.start_lps, "start_lps"))
        object.__setattr__(self, "end_lps", as_point(self.end_lps, "end_lps"))
        if not (math.isfinite(self.known_length_mm) and self.known_length_mm > 0):
            raise ValueError(
                f"the known length must be a positive number of mm, not "
                f"{self.known_length_mm!r}"
            )
        if self.drawn_length <= 0:
            raise ValueError(
                "the calibration line has no length: draw it over the object"
            )

    @property
    def drawn_length(self) -> float:
        """Length of the line in the image's own units (px without spacing)."""
        offset = np.asarray(self.end_lps) - np.asarray(self.start_lps)
        return float(np.linalg.norm(offset))

    @property
    def scale(self) -> float:
        """Millimetres per unit of the image's own length."""
        return self.known_length_mm / self.drawn_length

    @property
    def key(self) -> tuple[str, int | None]:
        return (self.sop_instance_uid, self.frame)

    @property
    def source(self) -> str:
        """``spacing_source`` of what it calibrates, e.g. ``calibration (25 mm
        over 102.3 px)``."""
        return (
            f"{CALIBRATION_SOURCE} ({self.known_length_mm:g} mm over "
            f"{self.drawn_length:.1f} units drawn)"
        )

    def corner_text(self, unit_mm: float = 1.0) -> str:
        """What the image corner shows: ``Calibrated: 0.245 mm/px (25 mm ref)``;
        ``unit_mm`` is the header's size of a pixel in the image's own units (1
        on an image without spacing)."""
        return (
            f"Calibrated: {self.scale * unit_mm:.4g} mm/px "
            f"({self.known_length_mm:g} mm ref)"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "sop_instance_uid": self.sop_instance_uid,
            "frame": self.frame,
            "start_lps": list(self.start_lps),
            "end_lps": list(self.end_lps),
            "known_length_mm": self.known_length_mm,
        }

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> Calibration:
        """Raises ValueError (or TypeError) when ``item`` is malformed."""
        frame = item.get("frame")
        if frame is not None and (not isinstance(frame, int) or frame < 1):
            raise ValueError(f"frame must be a positive integer, not {frame!r}")
        uid = item.get("sop_instance_uid")
        if not isinstance(uid, str):
            raise ValueError("sop_instance_uid must be a string")
        known = item.get("known_length_mm")
        if not isinstance(known, int | float) or isinstance(known, bool):
            raise ValueError("known_length_mm must be a number")
        return cls(
            sop_instance_uid=uid,
            start_lps=_point3(item.get("start_lps")),
            end_lps=_point3(item.get("end_lps")),
            known_length_mm=float(known),
            frame=frame,
        )


def _point3(value: object) -> Point3:
    if not isinstance(value, list) or len(value) != 3:
        raise ValueError(f"a point is three numbers, not {value!r}")
    return as_point(list(value))
