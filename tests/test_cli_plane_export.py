"""``imaging-viewer export --plane``: planes as PNG and as one-slice volumes."""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
import SimpleITK as sitk
from PySide6.QtGui import QImage

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import MakeSeries


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "imaging_viewer", "export", *args],
        capture_output=True,
        text=True,
        timeout=180,
    )


def _reference_volume(folder: Path) -> sitk.Image:
    """The series read by SimpleITK itself (GDCM sorts the files)."""
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
    return reader.Execute()


@pytest.mark.parametrize("plane", ["axial", "coronal", "sagittal"])
def test_plane_volume_lands_where_simpleitk_resamples_it(
    plane: str, sample_data: Path, tmp_path: Path
) -> None:
    out = tmp_path / f"{plane}.nii.gz"
    done = _run(str(sample_data / "CT"), "--plane", plane, "-o", str(out))
    assert done.returncode == 0, done.stderr
    ours = sitk.ReadImage(str(out))
    reference = sitk.Resample(
        _reference_volume(sample_data / "CT"),
        ours,
        sitk.Transform(),
        sitk.sitkLinear,
        -3024.0,
        sitk.sitkFloat32,
    )
    a = sitk.GetArrayFromImage(ours).astype(np.float64)
    b = sitk.GetArrayFromImage(reference).astype(np.float64)
    inside = b > -3024
    assert inside.mean() > 0.5
    np.testing.assert_allclose(a[inside], b[inside], atol=1.0)


def test_sagittal_png_is_shown_anterior_left_superior_up(
    make_series: MakeSeries, tmp_path: Path
) -> None:
    # An axial stack of 3 mm slices, 0.5 mm pixels, bright where it is most
    # anterior (low j: rows run toward +P) and superior (high k: slices run
    # toward +S). Sagittal planes show anterior on the left, superior up, in
    # square pixels as on screen: 40 rows × 0.5 mm across, 20 slices × 3 mm down.
    def values(i: Any, j: Any, k: Any, t: Any) -> Any:
        return np.where((j < 10) & (k >= 15), 1000, 0) + 0 * i + 0 * t

    made = make_series(
        shape=(20, 40, 30), spacing_mm=(0.5, 0.5, 3.0), modality="MR", values=values
    )
    out = tmp_path / "sag.png"
    done = _run(str(made.folder), "--plane", "sagittal", "-o", str(out))
    assert done.returncode == 0, done.stderr
    image = QImage(str(out)).convertToFormat(QImage.Format.Format_Grayscale8)
    assert (image.width(), image.height()) == (40, 120)
    grey = np.frombuffer(image.constBits(), dtype=np.uint8).reshape(
        image.height(), image.bytesPerLine()
    )[:, : image.width()]
    # The bright block: the left quarter (anterior), the top quarter (superior).
    assert grey[:25, :8].min() > 200
    assert grey[40:, :].max() < 60
    assert grey[:, 14:].max() < 60
    # The plane as a volume keeps its own samples: one row per slice.
    volume_out = tmp_path / "sag.mha"
    done = _run(str(made.folder), "--plane", "sagittal", "-o", str(volume_out))
    assert done.returncode == 0, done.stderr
    assert sitk.ReadImage(str(volume_out)).GetSize()[:2] == (40, 20)


def test_slab_mip_is_at_least_the_thin_plane(sample_data: Path, tmp_path: Path) -> None:
    thin, slab = tmp_path / "thin.mha", tmp_path / "slab.mha"
    assert (
        _run(str(sample_data / "CT"), "--plane", "coronal", "-o", str(thin)).returncode
        == 0
    )
    done = _run(
        str(sample_data / "CT"),
        "--plane",
        "coronal",
        "--slab-mm",
        "20",
        "--slab-mode",
        "mip",
        "-o",
        str(slab),
    )
    assert done.returncode == 0, done.stderr
    a = sitk.GetArrayFromImage(sitk.ReadImage(str(thin)))
    b = sitk.GetArrayFromImage(sitk.ReadImage(str(slab)))
    assert a.shape == b.shape
    assert np.all(b >= a)
    assert np.any(b > a)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--plane", "oblique"], "invalid choice"),
        (["--position-lps", "1,2"], "X,Y,Z"),
        (["--slab-mm", "5"], "--plane"),
        (["--plane", "axial", "--slab-mm", "-3"], "thickness"),
    ],
)
def test_bad_plane_arguments_give_one_line(
    args: list[str], words: str, sample_data: Path, tmp_path: Path
) -> None:
    done = _run(str(sample_data / "CT"), *args, "-o", str(tmp_path / "x.png"))
    assert done.returncode != 0
    assert words in done.stderr
    assert "Traceback" not in done.stderr
