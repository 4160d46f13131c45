"""Four classes of real data the corpus lacked (issue 18), each with a file made here,
each against dcm2niix or SimpleITK run on that same file."""

from __future__ import annotations

import os
import shutil
import subprocess
import warnings
from typing import TYPE_CHECKING

import numpy as np
import pydicom
import pytest

from imaging_viewer.core.dicom.load import load_volume
from imaging_viewer.core.dicom.scan import scan_folder

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import MakeSeries

nib = pytest.importorskip("nibabel")


def dcm2niix(folder: Path, out: Path) -> dict[str, object]:
    """dcm2niix's NIfTI files of ``folder``: name -> image (skip if not installed)."""
    if shutil.which("dcm2niix") is None:
        message = "dcm2niix is not installed (scripts/bootstrap.sh installs it)"
        if (
            os.environ.get("CI")
            or os.environ.get("IMAGING_VIEWER_REQUIRE_CORPUS") == "1"
        ):
            pytest.fail(message)
        pytest.skip(message)
    out.mkdir()
    subprocess.run(
        ["dcm2niix", "-o", str(out), "-f", "%s_%d", "-z", "n", str(folder)],
        check=True,
        capture_output=True,
    )
    return {p.name: nib.load(p) for p in sorted(out.glob("*.nii"))}


def test_mosaic_with_only_the_mr_header_count(corpus: Path, tmp_path: Path) -> None:
    """A mosaic whose CSA header is gone and whose private creator (0019,0010) an
    anonymiser dropped: Number Of Images In Mosaic (0019,100A) still gives the
    slice count, read where dcm2niix reads it."""
    folder = tmp_path / "mosaic"
    folder.mkdir()
    ds = pydicom.dcmread(corpus / "dcm_qa_ts/In/1.dcm")
    for tag in [e.tag for e in ds if e.tag.group == 0x0029 or e.tag == 0x00190010]:
        del ds[tag]
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
    ds.save_as(folder / "m.dcm", enforce_file_format=True)
    assert isinstance(pydicom.dcmread(folder / "m.dcm")[0x0019100A].value, bytes)

    result = scan_folder(folder)

    assert result.skipped == []
    (info,) = result.series
    volume = load_volume(info)
    (reference,) = dcm2niix(folder, tmp_path / "nii").values()
    data = np.asarray(reference.dataobj)
    assert volume.voxels.shape == data.shape[::-1] == (35, 64, 64)
    np.testing.assert_array_equal(
        np.sort(volume.voxels, axis=None), np.sort(data, None)
    )
    np.testing.assert_allclose(
        np.linalg.norm(volume.ijk_to_lps[:3, :3], axis=0),
        reference.header.get_zooms(),
        rtol=1e-5,
    )


def test_philips_isotropic_diffusion_image_is_split_off(
    make_series: MakeSeries, tmp_path: Path
) -> None:
    """b=0, one direction, then the scanner's derived isotropic (trace) image in one
    series: dcm2niix makes a 2-volume DWI and a separate 1-volume image."""
    series = make_series(
        shape=(4, 8, 9),
        modality="MR",
        time_points=3,
        tags={"Manufacturer": "Philips Medical Systems"},
    )
    for path in series.files:
        t, _ = series.slice_of[path]
        ds = pydicom.dcmread(path)
        ds.DiffusionBValue = [0, 1000, 1000][t]
        ds.DiffusionDirectionality = ["NONE", "DIRECTIONAL", "ISOTROPIC"][t]
        ds.ImageType = ["DERIVED" if t == 2 else "ORIGINAL", "PRIMARY", "M_SE", "M"]
        if t == 1:
            ds.DiffusionGradientOrientation = [1.0, 0.0, 0.0]
        ds.save_as(path)

    result = scan_folder(series.folder)
    references = dcm2niix(series.folder, tmp_path / "nii")

    ours = sorted((info.n_time_points, len(info.files)) for info in result.series)
    theirs = sorted(
        (img.shape[3] if img.ndim == 4 else 1, int(np.prod(img.shape[2:])))
        for img in references.values()
    )
    assert ours == theirs == [(1, 4), (2, 8)]
    (isotropic,) = [s for s in result.series if s.n_time_points == 1]
    volume = load_volume(isotropic)
    np.testing.assert_array_equal(volume.voxels, series.voxels[2])


def test_enhanced_mr_without_plane_position_is_a_3d_volume(
    corpus: Path, tmp_path: Path
) -> None:
    """Frames without Plane Position (Patient): SimpleITK and dcm2niix stack them as
    a 3D volume (frames along the slice normal), not a 6-frame clip."""
    sitk = pytest.importorskip("SimpleITK")
    folder = tmp_path / "enhanced"
    folder.mkdir()
    ds = pydicom.dcmread(corpus / "dcm_qa_enh/In/Siemens/XA10/6_2.dcm")
    for item in [
        *ds.PerFrameFunctionalGroupsSequence,
        *ds.SharedFunctionalGroupsSequence,
    ]:
        if "PlanePositionSequence" in item:
            del item.PlanePositionSequence
    ds.save_as(folder / "e.dcm")

    (info,) = scan_folder(folder).series
    volume = load_volume(info)
    image = sitk.ReadImage(str(folder / "e.dcm"))
    (reference,) = dcm2niix(folder, tmp_path / "nii").values()

    np.testing.assert_array_equal(volume.voxels, sitk.GetArrayFromImage(image))
    assert volume.voxels.shape == (6, 64, 64) == reference.shape[::-1]
    np.testing.assert_allclose(volume.ijk_to_lps[:3, 3], image.GetOrigin())
    directions = volume.ijk_to_lps[:3, :3] / np.linalg.norm(
        volume.ijk_to_lps[:3, :3], axis=0
    )
    np.testing.assert_allclose(
        directions, np.reshape(image.GetDirection(), (3, 3)), atol=1e-6
    )
    spacing = np.linalg.norm(volume.ijk_to_lps[:3, :3], axis=0)
    np.testing.assert_allclose(spacing, reference.header.get_zooms(), rtol=1e-5)
    assert any("Plane Position" in w for w in info.warnings)


def test_unrelated_secondary_captures_of_one_series_stay_apart(
    make_series: MakeSeries,
) -> None:
    """Two screenshots sharing a Series Instance UID are two images, not 2 frames."""
    series = make_series(shape=(2, 8, 9), shuffle=False)
    for n, path in enumerate(series.files):
        ds = pydicom.dcmread(path)
        ds.SOPClassUID = pydicom.uid.SecondaryCaptureImageStorage
        ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
        ds.Modality = "OT"
        for keyword in ("ImagePositionPatient", "ImageOrientationPatient"):
            delattr(ds, keyword)
        ds.InstanceNumber = n + 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds.save_as(path, enforce_file_format=True)

    result = scan_folder(series.folder)

    assert sorted(len(s.files) for s in result.series) == [1, 1]
    for info in result.series:
        volume = load_volume(info)
        expected = pydicom.dcmread(info.files[0]).pixel_array
        assert volume.voxels.shape[-2:] == expected.shape
        np.testing.assert_array_equal(volume.voxels.reshape(expected.shape), expected)
