"""Acquired images first (issue 15 item 5): a sparse stack opens as its acquired
images, never on an interpolated slice; MPR only when asked for, with a warning.

The corpus has no sparse CT, so four files of the real Philips head CT
(``dcm_qa_ct/.../S21570/S2010``, 28 slices of 5 mm) are copied as they are:
evenly 45 mm apart, or unevenly. Positions and pixels are checked against
pydicom, the independent reader.
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

import numpy as np
import pydicom
import pytest

from imaging_viewer.core.dicom.load import load_volume
from imaging_viewer.core.dicom.scan import scan_folder
from imaging_viewer.core.overlay_text import corner_text
from imaging_viewer.core.viewer_state import (
    ViewerState,
    ViewportState,
    acquired_first,
    mpr_gap_warning,
)
from tests.conftest import corpus_path

if TYPE_CHECKING:
    from pathlib import Path

CT = corpus_path() / "dcm_qa_ct" / "In" / "Philips" / "S21570" / "S2010"


def sorted_files() -> list[Path]:
    if not CT.is_dir():
        pytest.skip("the shared DICOM corpus is not here")

    def height(path: Path) -> float:
        header = pydicom.dcmread(path, stop_before_pixels=True)
        return float(header.ImagePositionPatient[2])

    return sorted(CT.glob("I*"), key=height)


def overlay_lines(viewport: ViewportState) -> list[str]:
    return [line for lines in corner_text(viewport).values() for line in lines]


def copy_slices(folder: Path, indices: list[int]) -> list[Path]:
    files = sorted_files()
    chosen = [files[k] for k in indices]
    for path in chosen:
        shutil.copy(path, folder / path.name)
    return chosen


@pytest.mark.parametrize(
    ("indices", "even"), [([0, 9, 18, 27], True), ([0, 3, 15, 27], False)]
)
def test_a_sparse_stack_opens_as_its_acquired_images(
    tmp_path: Path, indices: list[int], even: bool
) -> None:
    sources = copy_slices(tmp_path, indices)
    (series,) = scan_folder(tmp_path).series
    assert "4 images up to" in acquired_first(series)
    assert "5 mm thick" in acquired_first(series)
    volume = load_volume(series)
    assert volume.shape_kji == (4, 512, 512), "no invented slice"

    viewport = ViewportState()
    viewport.orientation = "axial"  # a view left in MPR by the last series
    viewport.show(series, volume)
    assert viewport.orientation == "acquired"
    assert viewport.n_slices == 4
    for k, path in enumerate(sources):
        viewport.set_slice(k)
        ds = pydicom.dcmread(path)
        affine = viewport.pixel_to_lps()
        assert affine is not None
        np.testing.assert_allclose(affine[:3, 3], ds.ImagePositionPatient, atol=1e-4)
        expected = ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
        pixels = viewport.pixels()
        assert pixels is not None
        np.testing.assert_array_equal(pixels, expected)
        location = f"Loc {float(ds.ImagePositionPatient[2]):g} mm"
        assert location in overlay_lines(viewport)
    assert mpr_gap_warning(viewport) == ""
    if not even:
        assert any("unevenly spaced" in w for w in volume.warnings)


def test_mpr_of_a_sparse_stack_only_when_asked_with_the_warning(
    tmp_path: Path,
) -> None:
    copy_slices(tmp_path, [0, 9, 18, 27])
    (series,) = scan_folder(tmp_path).series
    state = ViewerState()
    state.viewports[0].show(series, load_volume(series))
    assert state.enter_mpr(0)
    axial = state.viewports[0]
    assert axial.is_mpr
    warning = mpr_gap_warning(axial)
    assert "interpolated" in warning
    assert "45 mm apart" in warning
    assert "interpolated: 4 images up to 45 mm apart, 5 mm thick" in (
        overlay_lines(axial)
    )


def test_a_normal_ct_is_unchanged(tmp_path: Path) -> None:
    files = sorted_files()
    (series,) = scan_folder(CT).series
    assert acquired_first(series) == ""
    assert series.geometry is not None
    assert series.geometry.resample is None
    assert series.shape_kji == (len(files), 512, 512)
    viewport = ViewportState()
    viewport.orientation = "axial"
    viewport.show(series, load_volume(series))
    assert viewport.orientation == "axial", "a volume keeps its MPR view"
