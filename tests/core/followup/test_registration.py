"""Rigid registration on real data: a corpus CT and a copy moved by a known transform.

The copy is resampled by SimpleITK (the independent reference for the motion)
and written as a new study with another frame of reference and a later date,
read back through the scanner like any study; the recovered transform must be
within 1 mm and 1° of the truth at the volume centre.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pydicom
import pytest
from pydicom.uid import generate_uid

from imaging_viewer.core.dicom.load import load_volume
from imaging_viewer.core.dicom.scan import scan_folder
from imaging_viewer.core.followup.registration import (
    RegistrationCancelled,
    RegistrationError,
    register_rigid,
)

if TYPE_CHECKING:
    from pathlib import Path

    from numpy.typing import NDArray

    from imaging_viewer.core.volume import Volume

SERIES_FOLDER = "dcm_qa_ct/In/Philips"
SERIES_DESCRIPTION = "STD BRAIN 5MM"
ROTATION_DEG = (4.0, -3.0, 8.0)
TRANSLATION_MM = (12.0, -20.0, 15.0)


def _fixed_series(corpus: Path) -> Any:
    result = scan_folder(corpus / SERIES_FOLDER)
    return next(s for s in result.series if s.description == SERIES_DESCRIPTION)


def _centre_lps(volume: Volume) -> NDArray[np.float64]:
    centre_ijk = (np.array(volume.voxels.shape[::-1], dtype=float) - 1) / 2
    return (volume.ijk_to_lps @ np.append(centre_ijk, 1.0))[:3]


def write_moved_study(series: Any, volume: Volume, target: Path) -> NDArray[np.float64]:
    """Write ``volume`` moved by the known transform as a new study; returns the
    true moving → fixed transform (4 × 4, LPS)."""
    import SimpleITK as sitk

    from imaging_viewer.core.volume_io import volume_to_sitk

    image = volume_to_sitk(volume)
    centre = _centre_lps(volume)
    motion = sitk.Euler3DTransform()
    motion.SetCenter(centre.tolist())
    motion.SetRotation(*(math.radians(a) for a in ROTATION_DEG))
    motion.SetTranslation(TRANSLATION_MM)
    # The patient moved: anatomy at fixed x is at motion(x) in the new study, so
    # the new study's voxel at y shows the fixed study at motion⁻¹(y).
    moved = sitk.GetArrayFromImage(
        sitk.Resample(image, image, motion.GetInverse(), sitk.sitkLinear, -1024.0)
    )
    study_uid, series_uid, frame_uid = generate_uid(), generate_uid(), generate_uid()
    target.mkdir(parents=True)
    for k, frame in enumerate(series.frames[0]):
        dataset = pydicom.dcmread(frame.path)
        slope = float(getattr(dataset, "RescaleSlope", 1))
        intercept = float(getattr(dataset, "RescaleIntercept", 0))
        stored = np.round((moved[k] - intercept) / slope)
        dataset.PixelData = stored.astype(dataset.pixel_array.dtype).tobytes()
        dataset.StudyInstanceUID = study_uid
        dataset.SeriesInstanceUID = series_uid
        dataset.FrameOfReferenceUID = frame_uid
        dataset.SOPInstanceUID = generate_uid()
        dataset.file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
        dataset.StudyDate = "20990101"
        dataset.save_as(target / f"{k:03d}.dcm", enforce_file_format=True)
    matrix = np.eye(4)
    matrix[:3, :3] = np.array(motion.GetMatrix()).reshape(3, 3)
    matrix[:3, 3] = np.array(TRANSLATION_MM) + centre - matrix[:3, :3] @ centre
    return np.linalg.inv(matrix)


@pytest.fixture(scope="module")
def moved_study(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    series = _fixed_series(corpus)
    fixed = load_volume(series)
    folder = tmp_path_factory.mktemp("followup") / "moved"
    truth = write_moved_study(series, fixed, folder)
    (moved_series,) = scan_folder(folder).series
    return fixed, load_volume(moved_series), truth, moved_series


def test_moved_copy_is_another_study(moved_study: Any) -> None:
    fixed, moving, _, _ = moved_study
    assert moving.frame_of_reference_uid != fixed.frame_of_reference_uid


def test_recovers_the_known_transform(moved_study: Any) -> None:
    fixed, moving, truth, _ = moved_study
    fractions: list[float] = []
    result = register_rigid(fixed, moving, progress=fractions.append)
    centre = _centre_lps(moving)
    expected = truth[:3, :3] @ centre + truth[:3, 3]
    assert np.linalg.norm(result.map_points(centre)[0] - expected) < 1.0
    residual = result.moving_to_fixed[:3, :3] @ truth[:3, :3].T
    angle = math.degrees(math.acos(min(1.0, (np.trace(residual) - 1) / 2)))
    assert angle < 1.0
    assert result.converged
    assert fractions
    assert fractions[-1] == 1.0
    assert all(a <= b for a, b in itertools.pairwise(fractions))


def test_cancel_stops_it(moved_study: Any) -> None:
    fixed, moving, _, _ = moved_study
    with pytest.raises(RegistrationCancelled):
        register_rigid(fixed, moving, cancelled=lambda: True)


def test_refuses_unrelated_series(moved_study: Any, corpus: Path) -> None:
    fixed, _, _, _ = moved_study
    # Another scanner's head CT of another patient, another field of view.
    other = load_volume(scan_folder(corpus / "dcm_qa_ct/In/GE").series[0])
    with pytest.raises(RegistrationError, match="same anatomy"):
        register_rigid(fixed, other)


def test_refuses_a_series_without_3d_geometry(moved_study: Any) -> None:
    fixed, _, _, _ = moved_study
    flat = replace(fixed, voxels=fixed.voxels[:1])
    with pytest.raises(RegistrationError, match="3D geometry"):
        register_rigid(fixed, flat)


def _corpus_volume(corpus: Path, folder: str, description: str | None = None) -> Volume:
    series = [
        s
        for s in scan_folder(corpus / folder).series
        if s.modality in {"CT", "MR"}
        and len(s.frames[0]) > 1
        and (description is None or s.description == description)
    ]
    return load_volume(series[0])


def _abdomen_stack(corpus: Path) -> Volume:
    """The corpus' one abdominal CT slice (dwv) tiled to 20 slices 5 mm apart:
    a real abdomen, built into a volume since the corpus has no abdominal series."""
    from imaging_viewer.core.volume import Volume

    (series,) = scan_folder(corpus / "dwv/gdcm-CT-MONO2-8-abdo.dcm").series
    slice_ = load_volume(series)
    affine = slice_.ijk_to_lps.copy()
    affine[:3, 2] = np.cross(affine[:3, 0], affine[:3, 1])
    affine[:3, 2] *= 5.0 / np.linalg.norm(affine[:3, 2])
    return Volume(
        voxels=np.repeat(slice_.voxels[:1], 20, axis=0),
        ijk_to_lps=affine,
        frame_of_reference_uid=slice_.frame_of_reference_uid or "1.2.3.4",
    )


def test_accepts_the_same_phantom_rescanned_with_gantry_tilt(
    moved_study: Any, corpus: Path
) -> None:
    """Study S21610 scanned the same head phantom tilted by −18.5°: related."""
    fixed, _, _, _ = moved_study
    rescanned = _corpus_volume(corpus, "dcm_qa_ct/In/Philips/S21610", "STEREOTAXIS")
    result = register_rigid(fixed, rescanned)
    assert result.related_fraction > 0.6


def test_the_moved_copy_is_well_above_the_refusal_line(moved_study: Any) -> None:
    from imaging_viewer.core.followup.registration import RELATED_FRACTION

    fixed, moving, _, _ = moved_study
    assert register_rigid(fixed, moving).related_fraction > 1.6 * RELATED_FRACTION


@pytest.mark.parametrize(
    ("unrelated", "description"),
    [
        ("abdomen CT", None),
        ("dcm_qa_ct/In/GE", None),  # a human head CT: the fixed series is a phantom
        ("dwv", "MEMPRAGE_4e_p2_1mm_iso RMS"),  # a human head MR
        ("dcm_qa_enh", "B0 NS"),  # a human brain MR (B0 field map)
        ("dicom2nifti/philips_enhanced", None),  # an MR of noise
    ],
)
def test_refuses_unrelated_pairs_with_a_clear_margin(
    moved_study: Any, corpus: Path, unrelated: str, description: str | None
) -> None:
    from imaging_viewer.core.followup.registration import RELATED_FRACTION

    fixed, _, _, _ = moved_study
    other = (
        _abdomen_stack(corpus)
        if unrelated == "abdomen CT"
        else _corpus_volume(corpus, unrelated, description)
    )
    with pytest.raises(RegistrationError, match="same anatomy") as refused:
        register_rigid(fixed, other)
    assert len(str(refused.value).splitlines()) == 1
    result = register_rigid(fixed, other, check_related=False)
    assert result.related_fraction < 0.6 * RELATED_FRACTION


def test_a_thin_series_is_refused_with_a_message_not_an_itk_error(
    moved_study: Any, corpus: Path
) -> None:
    fixed, _, _, _ = moved_study
    thin = _corpus_volume(corpus, "dicom2nifti/ge/anatomical/001")
    with pytest.raises(RegistrationError) as refused:
        register_rigid(fixed, thin)
    assert "ITK" not in str(refused.value)
