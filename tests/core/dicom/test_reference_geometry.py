"""Series assembly against independent converters (dcm2niix, dicom2nifti) on real data.

Each entry of ``expected/reference_geometry.json`` is matched in world space, as
``expected/README.md`` asks: voxel size, the 8 corner voxel centres in LPS, the
number of slices and time points, and the voxel values after reorienting.
"""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Any

import nibabel as nib
import numpy as np
import pytest

from imaging_viewer.core.dicom.load import load_volume
from imaging_viewer.core.dicom.scan import ScanResult, scan_folder
from tests.conftest import corpus_path

if TYPE_CHECKING:
    from pathlib import Path

    from imaging_viewer.core.dicom.series import SeriesInfo
    from imaging_viewer.core.volume import Volume

CORPUS = corpus_path()
REFERENCE_FILE = CORPUS / "expected" / "reference_geometry.json"


def _entries() -> list[dict[str, Any]]:
    if not REFERENCE_FILE.exists():
        return []
    entries: list[dict[str, Any]] = json.loads(REFERENCE_FILE.read_text())["entries"]
    return entries


def _entry_id(entry: dict[str, Any]) -> str:
    return str(entry["reference"]).split(" ")[-1].replace("/", "_")


@cache
def _scan(path: str) -> ScanResult:
    return scan_folder(CORPUS / path)


def _corners(affine: np.ndarray, shape_ijk: tuple[int, int, int]) -> np.ndarray:
    ni, nj, nk = shape_ijk
    points = np.array(
        [[i, j, k, 1.0] for i in (0, ni - 1) for j in (0, nj - 1) for k in (0, nk - 1)]
    )
    return (points @ affine.T)[:, :3]


def _same_point_sets(
    ours: np.ndarray, theirs: np.ndarray, tolerance: np.ndarray
) -> bool:
    for point in ours:
        distances = np.abs(theirs - point)
        if not np.any(np.all(distances <= tolerance, axis=1)):
            return False
    return True


def _candidates(entry: dict[str, Any]) -> list[SeriesInfo]:
    series: list[SeriesInfo] = []
    for folder in entry["input_dirs"]:
        series.extend(_scan(folder).series)
    number = entry.get("series_number")
    if number is not None and len(entry["input_dirs"]) == 1:
        matching = [s for s in series if s.series_number == number]
        if matching and (CORPUS / entry["input_dirs"][0]).is_dir():
            series = matching
    sidecar = entry.get("sidecar")
    if sidecar and len(series) > 1:
        image_type = json.loads((CORPUS / sidecar).read_text()).get("ImageType", [])
        typed = [s for s in series if _frame_type_matches(s, image_type)]
        series = typed or series
    return series


def _frame_type_matches(info: SeriesInfo, image_type: list[str]) -> bool:
    """dcm2niix names each volume of an enhanced series by its Frame Type."""
    from imaging_viewer.core.dicom.scan import read_header

    header = read_header(info.frames[0][0].path)
    frame = header.frame(info.frames[0][0].frame_index)  # type: ignore[union-attr]
    return [v.upper() for v in frame.frame_type[2:]] == [
        v.upper() for v in image_type[2:]
    ]


def _reference_is_stored(entry: dict[str, Any]) -> bool:
    return (
        str(entry["reference"]).endswith(".nii.gz")
        and (CORPUS / entry["reference"]).exists()
    )


def _voxel_grid_match(
    ours: SeriesInfo, entry: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray] | None:
    """The permutation mapping our index axes (i, j, k) onto the reference's, if any."""
    reference_affine = np.asarray(entry["affine_lps"], dtype=np.float64)
    mapping = np.linalg.inv(reference_affine) @ ours.ijk_to_lps
    rotation = mapping[:3, :3]
    rounded = np.round(rotation)
    if not np.allclose(rotation, rounded, atol=1e-3):
        return None
    if sorted(np.abs(rounded).sum(axis=0).tolist()) != [1.0, 1.0, 1.0]:
        return None
    translation = mapping[:3, 3]
    if not np.allclose(translation, np.round(translation), atol=1e-2):
        return None
    return rounded, np.round(translation)


def _matches_after_rescale(
    ours: np.ndarray, stored: np.ndarray, info: SeriesInfo
) -> bool:
    """dcm2niix left Philips values unscaled (scl_slope NaN): ours must be the stored
    values through the Rescale Slope/Intercept of the header, read here with pydicom."""
    import pydicom

    ref = info.frames[0][0]
    ds = pydicom.dcmread(ref.path, stop_before_pixels=True)
    if "PerFrameFunctionalGroupsSequence" in ds:
        item = ds.PerFrameFunctionalGroupsSequence[ref.frame_index]
        transform = item.PixelValueTransformationSequence[0]
    else:
        transform = ds
    slope, intercept = float(transform.RescaleSlope), float(transform.RescaleIntercept)
    expected = stored.astype(np.float64) * slope + intercept
    return bool(
        np.allclose(
            ours, expected, rtol=1e-5, atol=1e-5 * (float(np.ptp(expected)) or 1)
        )
    )


def _reorient_to_reference(
    voxels: np.ndarray, rotation: np.ndarray, translation: np.ndarray
) -> np.ndarray:
    """Our [k, j, i] (or [t, k, j, i]) array in the reference's [t, k, j, i] order."""
    time_axes = voxels.ndim - 3
    ours_ijk = np.moveaxis(voxels, list(range(time_axes, voxels.ndim)), [-1, -2, -3])
    # ours_ijk[..., i, j, k]; reference axis r takes our axis c: rotation[r, c] != 0.
    order = [int(np.flatnonzero(rotation[r])[0]) for r in range(3)]
    array = np.moveaxis(
        ours_ijk, [time_axes + c for c in order], [time_axes + r for r in range(3)]
    )
    for r in range(3):
        if rotation[r, order[r]] < 0:
            array = np.flip(array, axis=time_axes + r)
    assert np.all(translation >= 0)
    # back to [t, k, j, i], as the reference is compared
    return np.moveaxis(array, [time_axes, time_axes + 1, time_axes + 2], [-1, -2, -3])


@pytest.mark.corpus
@pytest.mark.parametrize("entry", _entries(), ids=_entry_id)
def test_series_matches_reference_in_world_space(
    corpus: Path, entry: dict[str, Any]
) -> None:
    candidates = _candidates(entry)
    assert candidates, f"no series found in {entry['input_dirs']}"
    shape = entry["shape"]
    zooms = entry["zooms"]
    reference_affine = np.asarray(entry["affine_lps"], dtype=np.float64)
    reference_corners = _corners(reference_affine, tuple(shape[:3]))
    tilted = "_Tilt" in entry["reference"]
    dcm_qa_ct = entry["corpus"] == "dcm_qa_ct"
    matched: list[str] = []
    for info in candidates:
        same_spacing = np.allclose(
            sorted(info.spacing_mm), sorted(zooms[:3]), atol=1e-3
        )
        if not same_spacing and not dcm_qa_ct:
            continue
        expected_time = shape[3] if len(shape) > 3 else 1
        if dcm_qa_ct:
            # dcm2niix's raw-stack affine of a tilted CT is not the true geometry
            # (expected/README.md point 4); only shape and in-plane spacing are kept.
            if tilted and sorted(info.size[:3]) == sorted(shape[:3]):
                matched.append(info.id)
            elif not tilted and len(info.frames[0]) == shape[2]:
                # The raw stack: same acquired slices and in-plane spacing.
                assert info.spacing_mm[:2] == pytest.approx(zooms[:2], abs=1e-3)
                matched.append(info.id)
            continue
        if info.n_time_points != expected_time and not entry["reference"].startswith(
            "dcm_qa_ts/Ref/1."
        ):
            continue
        ours_corners = _corners(info.ijk_to_lps, tuple(info.size[:3]))
        tolerance = np.maximum(2e-3, 1e-4 * np.abs(reference_corners).max())
        if _same_point_sets(ours_corners, reference_corners, tolerance):
            matched.append(info.id)
    assert matched, (
        f"no series of {entry['input_dirs']} matches {entry['reference']}: ours are "
        + "; ".join(f"{s.id} size {s.size} spacing {s.spacing_mm}" for s in candidates)
    )


@pytest.mark.corpus
@pytest.mark.parametrize(
    "entry",
    [e for e in _entries() if str(e["reference"]).endswith(".nii.gz")],
    ids=_entry_id,
)
def test_voxels_match_reference_after_reorienting(
    corpus: Path, entry: dict[str, Any]
) -> None:
    if not _reference_is_stored(entry):
        pytest.fail(f"reference {entry['reference']} listed but missing")
    image = nib.load(str(CORPUS / entry["reference"]))
    unscaled = entry.get("scl_slope") is None and np.isnan(
        float(image.header["scl_slope"])
    )
    # [i, j, k(, t)]; scaled when scl_slope is set
    raw = image.dataobj.get_unscaled() if unscaled else np.asanyarray(image.dataobj)
    if raw.dtype.names:  # dicom2nifti writes RGB(A) as a structured array
        raw = np.stack([raw[name] for name in ("R", "G", "B")], axis=-1)
        reference = np.moveaxis(raw, [0, 1, 2], [2, 1, 0])  # [k, j, i, rgb]
    else:
        reference = np.moveaxis(raw, list(range(raw.ndim)), list(range(raw.ndim))[::-1])
    errors: list[str] = []
    for info in _candidates(entry):
        match = _voxel_grid_match(info, entry)
        if match is None:
            errors.append(f"{info.id}: grid does not map onto the reference's")
            continue
        volume: Volume = load_volume(info)
        voxels = np.moveaxis(volume.voxels, -1, 0) if volume.is_rgb else volume.voxels
        ours = _reorient_to_reference(voxels, *match)
        if volume.is_rgb:
            ours = np.moveaxis(ours, 0, -1)
        if ours.ndim == 4 and reference.ndim == 3:
            ours = ours[0]
        if reference.ndim == 4 and reference.shape[0] == 1 and ours.ndim == 3:
            reference = reference[0]  # a 4D NIfTI with one volume
        if ours.shape != reference.shape:
            errors.append(f"{info.id}: shape {ours.shape} vs {reference.shape}")
            continue
        value_range = float(np.ptp(reference)) or 1.0
        if np.allclose(ours, reference, rtol=1e-5, atol=1e-5 * value_range):
            return
        if unscaled and _matches_after_rescale(ours, reference, info):
            return
        worst = float(np.max(np.abs(ours.astype(np.float64) - reference)))
        errors.append(f"{info.id}: values differ by up to {worst}")
    pytest.fail("; ".join(errors))
