"""Writing volumes to research formats (NIfTI, NRRD, MetaImage) through SimpleITK."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from imaging_viewer.core.geometry import spacing_from_affine

if TYPE_CHECKING:
    from pathlib import Path

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


def write_volume(volume: Volume, path: str | Path) -> None:
    """Write ``volume`` in modality units with its world geometry.

    The format follows the file name: ``.nii``/``.nii.gz`` (NIfTI, which stores
    RAS; SimpleITK converts), ``.nrrd`` or ``.mha``/``.mhd`` (MetaImage).
    """
    import SimpleITK as sitk

    sitk.WriteImage(volume_to_sitk(volume), str(path), useCompression=True)
