"""Limits on what a file may claim: plausible attribute values and memory for pixels.

A hostile or corrupt header can hold finite but absurd numbers (a Pixel Spacing
of 1e308 mm, a Rescale Slope of -1e308) that overflow every later computation,
or claim an image larger than the machine. These bounds are far outside any real
acquisition, so a value beyond them is taken as invalid: the value (windows,
thickness) or the file (geometry, rescale) is refused with a reason, never the
folder or the series.
"""

from __future__ import annotations

import math
import os
import resource

# Patient coordinates (mm): 1 km from the origin is no patient (PS3.3 C.7.6.2.1.1).
MAX_COORDINATE_MM = 1e6
# Pixel Spacing and Slice Thickness (mm): from microscopy-like 1 nm to 100 m.
MIN_SPACING_MM = 1e-6
MAX_SPACING_MM = 1e5
# Rescale Slope and Intercept (PS3.3 C.11.1.1.2): any stored value (< 2**32) times
# this stays far inside float32 (3.4e38).
MAX_RESCALE_MAGNITUDE = 1e15
# Window Center and Width (PS3.3 C.11.2.1.2), modality units.
MAX_WINDOW_MAGNITUDE = 1e16
# Gantry/Detector Tilt (PS3.3 C.8.2.1): a tilt is within ±90°.
MAX_TILT_DEG = 90.0

# Pixels of one image may take at most this share of the memory left to us.
MEMORY_SHARE = 0.5
# When memory cannot be measured, assume this much is free.
_ASSUMED_FREE_BYTES = 4 * 1024**3
# Inflated size of a Deflated Explicit VR Little Endian dataset (PS3.5 A.5) beyond
# which it is refused (deflate expands at most about 1000 times: a small file can
# still claim gigabytes).
MAX_INFLATED_BYTES = 512 * 1024**2


def is_plausible_coordinate(value: float) -> bool:
    """A finite patient coordinate (mm) within :data:`MAX_COORDINATE_MM`."""
    return math.isfinite(value) and abs(value) <= MAX_COORDINATE_MM


def is_plausible_spacing(value: float) -> bool:
    """A positive spacing or thickness (mm) of a real acquisition."""
    return math.isfinite(value) and MIN_SPACING_MM <= value <= MAX_SPACING_MM


def is_plausible_rescale(value: float) -> bool:
    """A Rescale Slope or Intercept whose products stay finite in float32."""
    return math.isfinite(value) and abs(value) <= MAX_RESCALE_MAGNITUDE


def is_plausible_window(center: float, width: float) -> bool:
    """A window (PS3.3 C.11.2.1.2): positive width, both within the bound."""
    return (
        math.isfinite(center)
        and math.isfinite(width)
        and abs(center) <= MAX_WINDOW_MAGNITUDE
        and 0 < width <= MAX_WINDOW_MAGNITUDE
    )


def is_plausible_tilt(value: float) -> bool:
    """A Gantry/Detector Tilt in degrees."""
    return math.isfinite(value) and abs(value) <= MAX_TILT_DEG


def available_memory_bytes() -> int:
    """Memory this process may still use: free memory, within its address limit.

    Reads MemAvailable of /proc/meminfo (Linux) and RLIMIT_AS; assumes
    4 GiB where neither says.
    """
    free = _meminfo_available()
    try:
        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    except (OSError, ValueError):
        soft = resource.RLIM_INFINITY
    if soft != resource.RLIM_INFINITY and soft > 0:
        used = _resident_bytes()
        room = max(0, soft - used)
        free = room if free is None else min(free, room)
    return _ASSUMED_FREE_BYTES if free is None else free


def max_image_bytes() -> int:
    """The most decoded pixel bytes one image (all its frames) may take."""
    return int(available_memory_bytes() * MEMORY_SHARE)


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo", "rb") as handle:
            for line in handle:
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _resident_bytes() -> int:
    """Virtual size of this process (what RLIMIT_AS counts)."""
    try:
        with open(f"/proc/{os.getpid()}/statm", "rb") as handle:
            pages = int(handle.read().split()[0])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0
