"""Classic CT/MR series of the corpus against SimpleITK's ImageSeriesReader (GDCM).

For every series made of single-frame files, with one time point, two or more
slices, scalar pixels and no resampling, SimpleITK reads the same files in the
order GDCM sorts them (``GetGDCMSeriesFileNames`` on a folder holding exactly our
files). Origin, spacing, direction, slice positions, corners and voxels must agree
with ours; ITK may stack the slices the other way round, so the slice axis is
compared up to its sign and the voxels up to the slice order.
"""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pydicom
import pytest

from imaging_viewer.core.dicom.load import load_volume
from imaging_viewer.core.dicom.scan import ScanResult, scan_folder

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from imaging_viewer.core.dicom.series import SeriesInfo

sitk = pytest.importorskip("SimpleITK")

# First file (relative) of each series the selection below must find in the corpus.
EXPECTED_SERIES = (
    "dcm_qa_ct/In/Philips/S21570/S2010/I10",
    "dicom2nifti/failing/slicecount/001/IM-0001-0001-0001.dcm",
    "dicom2nifti/failing/sliceorientation/001/IM-0001-0001-0001 2.dcm",
    "dicom2nifti/failing/sliceorientation/001/IM-0001-0001-0001.dcm",
    "dicom2nifti/ge/anatomical/001/IM-0001-0112-0001.dcm",
    "dicom2nifti/generic/anatomical/002_non_isotropic/001.dcm",
    "dicom2nifti/generic/compressed/001/IM-0001-0001-0001.dcm",
    "dicom2nifti/hitachi/anatomical/001/001.dcm",
    "dicom2nifti/philips/anatomical/001/IM-0001-0001-0001.dcm",
    "dicom2nifti/siemens/anatomical/001/IM-0001-0112-0001.dcm",
    "dwv/bbmri-53323131.dcm",
)

POSITION_MM = 1e-3
SPACING_MM = 1e-4
DIRECTION = 1e-5
# Our slice axis comes from the positions (last - first), ITK's from the cross
# product of the orientation: they differ by the rounding of the DS strings.
SLICE_DIRECTION = 1e-4


@cache
def _scan(root: str) -> ScanResult:
    return scan_folder(root)


@pytest.fixture(scope="module")
def scanned(corpus: Path) -> ScanResult:
    return _scan(str(corpus))


def _is_classic_stack(series: SeriesInfo) -> bool:
    if series.n_time_points != 1 or len(series.frames[0]) < 2:
        return False
    if series.samples_per_pixel != 1 or series.geometry is None:
        return False
    if series.geometry.resample is not None:
        return False
    if any(ref.tile is not None or ref.frame_index for ref in series.frames[0]):
        return False
    for path in series.files:
        ds = pydicom.dcmread(
            path, stop_before_pixels=True, specific_tags=["NumberOfFrames"]
        )
        if int(ds.get("NumberOfFrames", 1) or 1) != 1:
            return False
    return True


def _classic_stacks(corpus: Path, scanned: ScanResult) -> dict[str, SeriesInfo]:
    return {
        str(Path(s.files[0]).relative_to(corpus)): s
        for s in scanned.series
        if _is_classic_stack(s)
    }


def _itk_sorted(series: SeriesInfo, folder: Path) -> list[str]:
    """Our files in the order GDCM sorts them (via symlinks in one folder)."""
    links: dict[str, str] = {}
    for n, path in enumerate(series.files):
        link = folder / f"{n:04d}_{Path(path).name}"
        link.symlink_to(path)
        links[str(link)] = path
    names = sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder), series.uid)
    assert sorted(names) == sorted(links), "GDCM did not take every file"
    return [links[name] for name in names]


def _slice_origins(affine: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    return np.array([(affine @ [0.0, 0.0, k, 1.0])[:3] for k in range(n)])


def _corners(affine: NDArray[np.float64], shape_ijk: tuple[int, ...]) -> NDArray[Any]:
    ni, nj, nk = shape_ijk
    return np.array(
        [
            (affine @ [i, j, k, 1.0])[:3]
            for i in (0, ni - 1)
            for j in (0, nj - 1)
            for k in (0, nk - 1)
        ]
    )


def _same_point_set(a: NDArray[Any], b: NDArray[Any], tolerance: float) -> bool:
    if a.shape != b.shape:
        return False
    return all(np.any(np.all(np.abs(b - p) <= tolerance, axis=1)) for p in a) and all(
        np.any(np.all(np.abs(a - p) <= tolerance, axis=1)) for p in b
    )


def _itk_affine(image: Any) -> NDArray[np.float64]:
    direction = np.array(image.GetDirection(), dtype=np.float64).reshape(3, 3)
    affine = np.eye(4)
    affine[:3, :3] = direction * np.array(image.GetSpacing())
    affine[:3, 3] = image.GetOrigin()
    return affine


def test_selection_finds_the_expected_series(corpus: Path, scanned: ScanResult) -> None:
    assert sorted(_classic_stacks(corpus, scanned)) == sorted(EXPECTED_SERIES)


@pytest.mark.parametrize("first_file", EXPECTED_SERIES)
def test_series_matches_simpleitk(
    corpus: Path, scanned: ScanResult, tmp_path: Path, first_file: str
) -> None:
    series = _classic_stacks(corpus, scanned)[first_file]
    files = _itk_sorted(series, tmp_path)
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(files)
    image = reader.Execute()
    n = len(series.frames[0])
    assert image.GetSize() == (series.acquired_columns, series.acquired_rows, n)

    ours = series.ijk_to_lps
    theirs = _itk_affine(image)
    ours_k = _slice_origins(ours, n)
    itk_k = _slice_origins(theirs, n)

    # Spacing along i, j, k.
    ours_spacing = np.linalg.norm(ours[:3, :3], axis=0)
    assert ours_spacing == pytest.approx(image.GetSpacing(), abs=SPACING_MM), (
        f"spacing ours {ours_spacing}, SimpleITK {image.GetSpacing()}"
    )
    # Direction: i and j columns equal; k up to the sign of ITK's stacking order.
    ours_direction = ours[:3, :3] / ours_spacing
    itk_direction = theirs[:3, :3] / np.array(image.GetSpacing())
    for axis in (0, 1):
        assert ours_direction[:, axis] == pytest.approx(
            itk_direction[:, axis], abs=DIRECTION
        ), f"direction of axis {'ij'[axis]}"
    # Origin: ITK's first slice is one of our end slices.
    reversed_order = not np.allclose(image.GetOrigin(), ours_k[0], atol=POSITION_MM)
    if reversed_order:
        assert image.GetOrigin() == pytest.approx(ours_k[-1], abs=POSITION_MM), (
            f"SimpleITK origin {image.GetOrigin()} is neither of our end slices "
            f"{ours_k[0]} / {ours_k[-1]}"
        )
    sign = -1.0 if reversed_order else 1.0
    assert sign * ours_direction[:, 2] == pytest.approx(
        itk_direction[:, 2], abs=SLICE_DIRECTION
    ), "slice axis (up to ITK's stacking order)"
    # The set of slice origins and of the 8 corner voxel centres.
    assert _same_point_set(ours_k, itk_k, POSITION_MM), (
        f"slice origins differ:\nours {ours_k}\nSimpleITK {itk_k}"
    )
    shape_ijk = (series.acquired_columns, series.acquired_rows, n)
    assert _same_point_set(
        _corners(ours, shape_ijk), _corners(theirs, shape_ijk), POSITION_MM
    )
    # Each of our slices lies at the position its own file's header gives.
    for k, ref in enumerate(series.frames[0]):
        header = pydicom.dcmread(ref.path, stop_before_pixels=True)
        position = np.asarray(header.ImagePositionPatient, dtype=np.float64)
        assert ours_k[k] == pytest.approx(position, abs=POSITION_MM), (
            f"slice {k} ({Path(ref.path).name})"
        )

    # Voxels, in modality units on both sides, up to the slice order.
    expected = sitk.GetArrayFromImage(image).astype(np.float64)  # [k, j, i]
    if reversed_order:
        expected = expected[::-1]
    voxels = load_volume(series).voxels.astype(np.float64)
    assert voxels.shape == expected.shape
    if np.all(expected == np.round(expected)):
        mismatch = voxels != expected
    else:
        scale = float(np.abs(expected).max()) or 1.0
        mismatch = ~np.isclose(voxels, expected, rtol=1e-6, atol=1e-6 * scale)
    assert not mismatch.any(), (
        f"{int(mismatch.sum())} voxels differ from SimpleITK, first at "
        f"{tuple(int(v) for v in np.argwhere(mismatch)[0])}"
    )
    assert math.isfinite(float(voxels.sum()))
