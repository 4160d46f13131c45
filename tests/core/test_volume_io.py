"""Writing planes and volumes (NIfTI, NRRD, MetaImage): atomic, readable, placed."""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING

import numpy as np
import pytest
import SimpleITK as sitk

from imaging_viewer.core.dicom.load import load_volume
from imaging_viewer.core.dicom.scan import scan_folder
from imaging_viewer.core.viewer_state import ViewportState
from imaging_viewer.core.volume_io import write_plane

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import MakeSeries


@pytest.mark.parametrize("name", ["plane.nii.gz", "plane.mha", "plane.nrrd"])
def test_a_plane_is_written_whole_with_its_geometry_and_usual_mode(
    make_series: MakeSeries, tmp_path: Path, name: str
) -> None:
    made = make_series(shape=(5, 12, 10), spacing_mm=(0.7, 0.6, 2.0))
    series = scan_folder(made.folder).series[0]
    viewport = ViewportState()
    viewport.show(series, load_volume(series))
    shown = viewport.current_slice()
    assert shown is not None
    out = tmp_path / "out"
    out.mkdir()
    target = out / name
    target.write_bytes(b"an older file")
    os.chmod(target, 0o640)
    write_plane(shown, target)
    image = sitk.ReadImage(str(target))
    np.testing.assert_array_equal(sitk.GetArrayFromImage(image)[0], shown.pixels)
    assert image.GetSpacing()[:2] == pytest.approx((0.7, 0.6))
    assert image.GetOrigin() == pytest.approx(tuple(shown.pixel_to_lps[:3, 3]))
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # kept
    assert [p.name for p in out.iterdir()] == [name]  # no temporary left
    fresh = out / f"new_{name}"
    write_plane(shown, fresh)
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask


def test_a_failed_write_names_the_file_and_keeps_none(
    make_series: MakeSeries, tmp_path: Path
) -> None:
    made = make_series(shape=(3, 8, 8))
    series = scan_folder(made.folder).series[0]
    viewport = ViewportState()
    viewport.show(series, load_volume(series))
    shown = viewport.current_slice()
    assert shown is not None
    missing = tmp_path / "no such folder" / "plane.nii.gz"
    with pytest.raises(OSError, match="no such folder"):
        write_plane(shown, missing)
    assert not missing.parent.exists()
