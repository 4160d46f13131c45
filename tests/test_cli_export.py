"""``imaging-viewer export``: PNG pixels against pydicom, overlays, and one-line errors.

Every test runs the command as a user would, in a child interpreter
(``python -m imaging_viewer``), without a display.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pydicom
import pytest
from pydicom.pixels import apply_modality_lut, apply_windowing
from PySide6.QtGui import QImage

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from tests.conftest import MakeSeries

REPO_ROOT = Path(__file__).resolve().parents[1]


def run_cli(
    *args: str | Path, environment: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m imaging_viewer ARGS`` with no display (plus ``environment``)."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    env.update(environment or {})
    return subprocess.run(
        [sys.executable, "-m", "imaging_viewer", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=120,
        check=False,
    )


def export(*args: str | Path) -> subprocess.CompletedProcess[str]:
    result = run_cli("export", *args)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result


def read_png(path: Path) -> NDArray[np.uint8]:
    """(rows, columns, 3) RGB of a PNG file."""
    image = QImage(str(path))
    assert not image.isNull(), f"{path} is not a readable image"
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    rows, columns = image.height(), image.width()
    words = np.frombuffer(image.constBits(), dtype=np.uint32, count=rows * columns)
    words = words.reshape(rows, image.bytesPerLine() // 4)[:, :columns]
    return np.stack(
        [(words >> shift & 0xFF).astype(np.uint8) for shift in (16, 8, 0)], axis=-1
    )


def read_grey(path: Path) -> NDArray[np.uint8]:
    rgb = read_png(path)
    assert (rgb == rgb[..., :1]).all(), "expected a grey image"
    return rgb[..., 0]


def reference_grey(
    path: Path, window: tuple[float, float] | None = None, frame: int | None = None
) -> NDArray[np.int64]:
    """pydicom's Modality LUT and windowing (the header's first window, or
    ``window`` = (center, width)), scaled to 0..255; MONOCHROME1 inverted."""
    ds = pydicom.dcmread(path)
    pixels = ds.pixel_array if frame is None else ds.pixel_array[frame]
    if window is not None:
        ds.WindowCenter, ds.WindowWidth = window
    values = apply_windowing(apply_modality_lut(pixels, ds), ds, 0)
    low, high = 0.0, float(2**ds.BitsStored - 1)
    if ds.PixelRepresentation == 1:
        low, high = -(2.0 ** (ds.BitsStored - 1)), 2.0 ** (ds.BitsStored - 1) - 1
    if "RescaleSlope" in ds and "RescaleIntercept" in ds:
        slope, intercept = float(ds.RescaleSlope), float(ds.RescaleIntercept)
        low, high = low * slope + intercept, high * slope + intercept
    grey = np.rint((values - low) / (high - low) * 255.0).astype(np.int64)
    if ds.PhotometricInterpretation == "MONOCHROME1":
        grey = 255 - grey
    return grey


def sorted_files(folder: Path) -> list[Path]:
    """A stack's files in order along cross(row, column), with pydicom."""

    def location(path: Path) -> float:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        orientation = np.array(ds.ImageOrientationPatient, dtype=float)
        normal = np.cross(orientation[:3], orientation[3:])
        return float(np.dot(np.array(ds.ImagePositionPatient, dtype=float), normal))

    return sorted(folder.iterdir(), key=location)


def assert_close(actual: NDArray[Any], expected: NDArray[Any]) -> None:
    assert actual.shape == expected.shape
    difference = np.abs(actual.astype(np.int64) - expected.astype(np.int64))
    assert difference.max() <= 1, f"{(difference > 1).sum()} pixels off by > 1"


@pytest.fixture(scope="module")
def ct_files(sample_data: Path) -> list[Path]:
    return sorted_files(sample_data / "CT")


# --- pixels ---


def test_default_is_the_middle_slice_in_the_first_header_window(
    tmp_path: Path, sample_data: Path, ct_files: list[Path]
) -> None:
    out = tmp_path / "ct.png"
    result = export(sample_data / "CT", "-o", out)
    assert str(out) in result.stdout
    grey = read_grey(out)
    ds = pydicom.dcmread(ct_files[14], stop_before_pixels=True)
    assert grey.shape == (ds.Rows, ds.Columns) == (512, 512)
    assert_close(grey, reference_grey(ct_files[14]))  # WindowCenter/Width 40/80


def test_slice_and_window(
    tmp_path: Path, sample_data: Path, ct_files: list[Path]
) -> None:
    out = tmp_path / "ct.png"
    export(sample_data / "CT", "--slice", "3", "--window", "50,400", "-o", out)
    assert_close(read_grey(out), reference_grey(ct_files[3], (50.0, 400.0)))
    # A negative centre is written with "=" (argparse would take it for an option).
    export(sample_data / "CT", "--slice", "0", "--window=-600,1500", "-o", out)
    assert_close(read_grey(out), reference_grey(ct_files[0], (-600.0, 1500.0)))


def test_preset_bone_is_2000_500(
    tmp_path: Path, sample_data: Path, ct_files: list[Path]
) -> None:
    out = tmp_path / "bone.png"
    export(sample_data / "CT", "--preset", "bone", "-o", out)
    assert_close(read_grey(out), reference_grey(ct_files[14], (500.0, 2000.0)))


@pytest.mark.parametrize("name", ["Soft tissue", "soft_tissue", "SOFT-TISSUE"])
def test_preset_names(
    tmp_path: Path, sample_data: Path, ct_files: list[Path], name: str
) -> None:
    out = tmp_path / "soft.png"
    export(sample_data / "CT", "--preset", name, "--slice", "20", "-o", out)
    assert_close(read_grey(out), reference_grey(ct_files[20], (50.0, 400.0)))


def test_monochrome1_is_exported_inverted(tmp_path: Path, corpus: Path) -> None:
    path = corpus / "dwv" / "gdcm-CR-MONO1-10-chest.dcm"
    out = tmp_path / "chest.png"
    export(path, "-o", out)
    grey = read_grey(out)
    assert grey.shape == (440, 440)
    expected = reference_grey(path)  # window 550/1024, then 255 - grey
    assert_close(grey, expected)
    # The lowest stored values show white.
    raw = pydicom.dcmread(path).pixel_array
    assert grey[raw == raw.min()].min() >= 250


def test_time_point_and_series_by_uid(tmp_path: Path, make_series: MakeSeries) -> None:
    series = make_series(shape=(3, 6, 7), time_points=3, window=(-900.0, 400.0))
    out = tmp_path / "t.png"
    export(series.folder, "--series", series.series_uid, "--time", "2", "-o", out)
    file = next(p for p, tk in series.slice_of.items() if tk == (2, 1))
    assert_close(read_grey(out), reference_grey(file))


def test_png_read_by_pillow_matches(tmp_path: Path, sample_data: Path) -> None:
    image_module = pytest.importorskip("PIL.Image")
    out = tmp_path / "hip.png"
    export(sample_data / "XR" / "RG2_JPLL.dcm", "-o", out)
    with image_module.open(out) as image:
        pillow = np.asarray(image.convert("RGB"))
    np.testing.assert_array_equal(pillow, read_png(out))
    assert pillow.shape == (2140, 1760, 3)  # Rows x Columns
    assert_close(pillow[..., 0], reference_grey(sample_data / "XR" / "RG2_JPLL.dcm"))


# --- overlays ---

TOP_LEFT = (slice(0, 60), slice(0, 160))
CENTRE = (slice(180, 330), slice(180, 330))


def test_overlays_change_corners_not_the_centre(
    tmp_path: Path, sample_data: Path
) -> None:
    plain, burned = tmp_path / "plain.png", tmp_path / "burned.png"
    export(sample_data / "CT", "-o", plain)
    export(sample_data / "CT", "--overlays", "-o", burned)
    a, b = read_png(plain), read_png(burned)
    changed = (a != b).any(axis=-1)
    for rows, columns in (
        TOP_LEFT,
        (slice(0, 90), slice(352, 512)),
        (slice(452, 512), slice(0, 160)),
        (slice(452, 512), slice(352, 512)),
    ):
        assert changed[rows, columns].sum() > 50
    np.testing.assert_array_equal(a[CENTRE], b[CENTRE])


def test_overlays_without_patient_data(tmp_path: Path, sample_data: Path) -> None:
    plain = tmp_path / "plain.png"
    full = tmp_path / "full.png"
    anonymous = tmp_path / "anonymous.png"
    export(sample_data / "CT", "-o", plain)
    export(sample_data / "CT", "--overlays", "-o", full)
    export(sample_data / "CT", "--overlays", "--no-patient-data", "-o", anonymous)
    a, f, p = read_png(anonymous), read_png(full), read_png(plain)
    assert (a[TOP_LEFT] != f[TOP_LEFT]).any()
    np.testing.assert_array_equal(a[TOP_LEFT], p[TOP_LEFT])


def test_overlays_work_with_a_display_variable_set(
    tmp_path: Path, sample_data: Path
) -> None:
    # A DISPLAY that leads nowhere must not matter: export never needs a screen.
    out = tmp_path / "x.png"
    result = run_cli(
        "export",
        sample_data / "CT",
        "--overlays",
        "-o",
        out,
        environment={"DISPLAY": ":97"},
    )
    assert result.returncode == 0, result.stderr
    assert read_png(out).shape == (512, 512, 3)


# --- errors: one line, non-zero, no traceback ---


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--slice", "28"], "--slice 28 is out of range"),
        (["--slice", "-1"], "--slice -1 is out of range"),
        (["--slice", "middle"], "bad --slice 'middle'"),
        (["--time", "1"], "--time 1 is out of range"),
        (["--window", "40"], "bad --window '40'"),
        (["--window", "forty,400"], "bad --window 'forty,400'"),
        (["--window", "40,0"], "WIDTH must be at least 1"),
        (["--window", "40,nan"], "must be finite"),
        (["--preset", "bones"], "unknown preset 'bones'"),
        (["--preset", "bone", "--window", "1,2"], "either --window or --preset"),
        (["--series", "7"], "no series '7'"),
    ],
)
def test_bad_arguments(
    tmp_path: Path, sample_data: Path, arguments: list[str], message: str
) -> None:
    out = tmp_path / "x.png"
    result = run_cli("export", sample_data / "CT", *arguments, "-o", out)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert message in result.stderr
    assert not out.exists()


def test_unreadable_paths(tmp_path: Path) -> None:
    not_dicom = tmp_path / "notes.txt"
    not_dicom.write_text("not an image")
    for path in (tmp_path / "missing", not_dicom):
        result = run_cli("export", path, "-o", tmp_path / "x.png")
        assert result.returncode != 0
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "x.png").exists()


def test_output_is_required(sample_data: Path) -> None:
    result = run_cli("export", sample_data / "XR" / "gdcm-CR-MONO1-10-chest.dcm")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("name", ["missing/x.png", "folder.png", "x.jpg"])
def test_unwritable_outputs(tmp_path: Path, sample_data: Path, name: str) -> None:
    (tmp_path / "folder.png").mkdir()
    result = run_cli(
        "export",
        sample_data / "XR" / "gdcm-CR-MONO1-10-chest.dcm",
        "-o",
        tmp_path / name,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert str(tmp_path / name) in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.png"]
