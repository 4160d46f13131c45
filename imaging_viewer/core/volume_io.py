"""Writing volumes to research formats (NIfTI, NRRD, MetaImage) through SimpleITK."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from imaging_viewer.core.files import atomic_path
from imaging_viewer.core.geometry import spacing_from_affine

if TYPE_CHECKING:
    import os

    from imaging_viewer.core.mpr import Slice
    from imaging_viewer.core.volume import Volume


def volume_to_sitk(volume: Volume) -> Any:
    """A SimpleITK image with the volume's voxels and LPS geometry (no copy of meaning:
    ITK's physical space is LPS, as DICOM's).

    A 4D volume becomes a 4D image whose fourth axis is time (spacing 1).
    """
    import SimpleITK as sitk  # lazily: start-up does not pay for it

    voxels = np.ascontiguousarray(volume.voxels)
    image = sitk.GetImageFromArray(voxels, isVector=False)
    spacing = spacing_from_affine(volume.ijk_to_lps)
    directions = volume.ijk_to_lps[:3, :3] / np.where(spacing > 0, spacing, 1.0)
    origin = volume.ijk_to_lps[:3, 3]
    if voxels.ndim == 4:
        direction4 = np.eye(4)
        direction4[:3, :3] = directions
        image.SetSpacing([*spacing.tolist(), 1.0])
        image.SetOrigin([*origin.tolist(), 0.0])
        image.SetDirection(direction4.ravel().tolist())
    else:
        image.SetSpacing(spacing.tolist())
        image.SetOrigin(origin.tolist())
        image.SetDirection(directions.ravel().tolist())
    return image


VOLUME_SUFFIXES: tuple[str, ...] = (".nii", ".nii.gz", ".nrrd", ".nhdr", ".mha", ".mhd")
"""File names :func:`write_volume` and :func:`write_plane` write, by format."""
_ONE_FILE_SUFFIXES = (".nii", ".nii.gz", ".nrrd", ".mha")


def write_image(image: Any, path: str | os.PathLike[str]) -> None:
    """Write a SimpleITK image, in the format its file name says.

    One-file formats are written through
    :func:`~imaging_viewer.core.files.atomic_path` (a temporary file beside
    ``path``, then a rename), so a failed write leaves any earlier file whole;
    ``.mhd`` and ``.nhdr`` (a header and a data file) are written in place.

    Raises
    ------
    OSError
        When SimpleITK cannot write the file (missing folder, no permission).
    """
    import SimpleITK as sitk

    target = Path(path)
    name = target.name.lower()
    suffix = next((s for s in _ONE_FILE_SUFFIXES if name.endswith(s)), None)
    try:
        if suffix is None:
            sitk.WriteImage(image, str(target), useCompression=True)
            return
        with atomic_path(target, suffix=suffix) as temporary:
            sitk.WriteImage(image, str(temporary), useCompression=True)
    except RuntimeError as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise OSError(
            f"{target}: cannot write ({reason or 'SimpleITK failed'})"
        ) from error


def write_volume(volume: Volume, path: str | os.PathLike[str]) -> None:
    """Write ``volume`` in modality units with its world geometry.

    The format follows the file name: ``.nii``/``.nii.gz`` (NIfTI, which stores
    RAS; SimpleITK converts), ``.nrrd`` or ``.mha``/``.mhd`` (MetaImage).
    """
    write_image(volume_to_sitk(volume), path)


def write_plane(slice: Slice, path: str | os.PathLike[str]) -> None:
    """Write a slice or reformatted plane as a one-slice volume: its values in
    modality units, with the origin, spacing and direction that place each
    pixel in patient space (:func:`~imaging_viewer.core.mpr.plane_to_sitk_image`),
    so that any tool can check where it lies."""
    from imaging_viewer.core.mpr import plane_to_sitk_image

    write_image(plane_to_sitk_image(slice), path)
