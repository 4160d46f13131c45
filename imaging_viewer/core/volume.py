"""Volume: a scalar (or RGB) image on a regular grid placed in patient space."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from imaging_viewer.core.geometry import Affine, Vec3, spacing_from_affine

if TYPE_CHECKING:
    from numpy.typing import NDArray


@dataclass(frozen=True)
class Window:
    """A VOI window in modality units.

    References
    ----------
    PS3.3 C.11.2.1.2 Window Center and Window Width.
    """

    center: float
    width: float
    explanation: str = ""
    function: str = "LINEAR"
    """VOI LUT Function (C.11.2.1.3): LINEAR, LINEAR_EXACT or SIGMOID."""


@dataclass(frozen=True, eq=False)
class VoiLut:
    """A VOI LUT from a VOI LUT Sequence (PS3.3 C.11.2.1.1).

    ``table[n]`` is the output for input ``first_mapped + n``; inputs below the
    range map to ``table[0]``, above it to ``table[-1]``.
    """

    first_mapped: int
    bits: int
    table: NDArray[np.uint16]
    explanation: str = ""


@dataclass(frozen=True)
class DisplayDefaults:
    """What the header says about how to show the pixels.

    References
    ----------
    PS3.3 C.7.6.3.1.2 Photometric Interpretation; C.11.2 VOI LUT module;
    C.11.6 Softcopy Presentation LUT (Presentation LUT Shape).
    """

    photometric: str = "MONOCHROME2"
    windows: tuple[Window, ...] = ()
    voi_luts: tuple[VoiLut, ...] = ()
    presentation_lut_shape: str = ""
    """IDENTITY, INVERSE or empty when absent."""
    bits_stored: int = 16
    pixel_is_signed: bool = False

    @property
    def inverted(self) -> bool:
        """True where low values must show white (applied after the VOI transform).

        In an image's own header, MONOCHROME1 and a Presentation LUT Shape of
        INVERSE describe the same single inversion: INVERSE "shall be used if
        Photometric Interpretation is MONOCHROME1" (PS3.3 C.8.11.2.1.2, C.11.6.1.1).
        A presentation state's INVERSE is applied on top of this, by the viewer.
        """
        return (
            self.photometric == "MONOCHROME1"
            or self.presentation_lut_shape == "INVERSE"
        )

    def with_user_inversion(self, invert: bool) -> DisplayDefaults:
        """These defaults with the inversion toggled when the user asked to invert.

        The header's own inversion (MONOCHROME1, Presentation LUT Shape INVERSE)
        is one inversion (PS3.3 C.8.11.2.1.2); the viewer's "invert" flips the
        result.
        """
        if not invert:
            return self
        if self.inverted:
            return replace(self, photometric="MONOCHROME2", presentation_lut_shape="")
        return replace(self, photometric="MONOCHROME1")


@dataclass(frozen=True, eq=False)
class Volume:
    """An image on a regular grid, placed in patient space.

    ``voxels`` is ``[k, j, i]`` (slice, row, column), or ``[t, k, j, i]`` when
    the series has several time points (4D, or the frames of a cine clip); RGB
    data carries a trailing axis of 3 samples (uint8).
    Values are modality units (Rescale Slope/Intercept applied: HU for CT):
    int16 where that is exact, float32 otherwise.
    """

    voxels: NDArray[Any]
    ijk_to_lps: Affine
    """(i, j, k, 1) -> (L, P, S, 1) in millimetres."""
    frame_of_reference_uid: str = ""
    default_window: Window | None = None
    display: DisplayDefaults = field(default_factory=DisplayDefaults)
    modality: str = ""
    spacing_source: str = ""
    """Which attribute in-plane spacing comes from (PS3.3 10.7.1.3), e.g.
    ``PixelSpacing`` or ``ImagerPixelSpacing``; measurements use it."""
    warnings: tuple[str, ...] = ()
    is_projection: bool = False
    """A projection radiograph: one image with no 3D position."""
    slice_positions_lps: NDArray[np.float64] | None = None
    """(K, 3) Image Position (Patient) of each slice where slices are not evenly
    spaced (a sparse stack shown as acquired); ``ijk_to_lps`` then spaces them
    evenly, for MPR only."""

    @property
    def is_rgb(self) -> bool:
        """True for colour data (trailing axis of 3 samples)."""
        return self.voxels.dtype == np.uint8 and self.voxels.shape[-1] == 3

    @property
    def n_time_points(self) -> int:
        """Number of time points (or cine frames); 1 for a plain 3D volume."""
        spatial_ndim = 4 if self.is_rgb else 3
        return int(self.voxels.shape[0]) if self.voxels.ndim > spatial_ndim else 1

    @property
    def shape_kji(self) -> tuple[int, int, int]:
        """Spatial shape as (slices, rows, columns)."""
        spatial = self.voxels.shape[:-1] if self.is_rgb else self.voxels.shape
        k, j, i = spatial[-3:]
        return int(k), int(j), int(i)

    @property
    def spacing_mm(self) -> Vec3:
        """Voxel size along i, j, k in millimetres."""
        return spacing_from_affine(self.ijk_to_lps)

    def time_point(self, t: int) -> Volume:
        """The 3D volume at time point ``t`` (a view, no copy)."""
        if self.n_time_points == 1:
            if t != 0:
                raise IndexError(f"time point {t} out of range (1 time point)")
            return self
        return Volume(
            voxels=self.voxels[t],
            ijk_to_lps=self.ijk_to_lps,
            frame_of_reference_uid=self.frame_of_reference_uid,
            default_window=self.default_window,
            display=self.display,
            modality=self.modality,
            spacing_source=self.spacing_source,
            warnings=self.warnings,
            is_projection=self.is_projection,
            slice_positions_lps=self.slice_positions_lps,
        )
