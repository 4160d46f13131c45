"""Tests for imaging_viewer.ui.export: pixels against pydicom, overlays, files."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np
import pydicom
import pytest
from pydicom.pixels import apply_modality_lut, apply_windowing
from PySide6.QtGui import QGuiApplication, QImage

from imaging_viewer.core.dicom.load import load_volume
from imaging_viewer.core.dicom.scan import scan_folder
from imaging_viewer.core.viewer_state import ViewportState
from imaging_viewer.ui.export import (
    copy_to_clipboard,
    render_view_image,
    save_png,
)

if TYPE_CHECKING:
    from pathlib import Path

    from numpy.typing import NDArray

    from tests.conftest import MakeSeries


def rgb_of(image: QImage) -> NDArray[np.uint8]:
    """(rows, columns, 3) red, green, blue of an RGB32 image (copied)."""
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    rows, columns = image.height(), image.width()
    words = np.frombuffer(image.constBits(), dtype=np.uint32, count=rows * columns)
    words = words.reshape(rows, image.bytesPerLine() // 4)[:, :columns]
    return np.stack(
        [(words >> shift & 0xFF).astype(np.uint8) for shift in (16, 8, 0)], axis=-1
    )


def grey_of(image: QImage) -> NDArray[np.uint8]:
    """The grey level of a grey image (asserts it is grey)."""
    rgb = rgb_of(image)
    assert (rgb[..., 0] == rgb[..., 1]).all()
    assert (rgb[..., 1] == rgb[..., 2]).all()
    return rgb[..., 0]


def reference_grey(path: Path, index: int = 0) -> NDArray[np.int64]:
    """pydicom: Modality LUT, then the header's window ``index``, scaled to 0..255,
    inverted for MONOCHROME1 (PS3.3 C.11.2.1.2.1; C.7.6.3.1.2)."""
    ds = pydicom.dcmread(path)
    values = apply_windowing(apply_modality_lut(ds.pixel_array, ds), ds, index)
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


def sorted_ct_files(folder: Path) -> list[Path]:
    """Files of a stack in order along cross(row, column), read with pydicom."""

    def location(path: Path) -> float:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        orientation = np.array(ds.ImageOrientationPatient, dtype=float)
        normal = np.cross(orientation[:3], orientation[3:])
        return float(np.dot(np.array(ds.ImagePositionPatient, dtype=float), normal))

    return sorted(folder.iterdir(), key=location)


def viewport_for(path: Path) -> ViewportState:
    info = scan_folder(path).series[0]
    viewport = ViewportState()
    viewport.show(info, load_volume(info))
    return viewport


def assert_close(actual: NDArray[Any], expected: NDArray[Any]) -> None:
    difference = np.abs(actual.astype(np.int64) - expected.astype(np.int64))
    assert difference.max() <= 1, f"{(difference > 1).sum()} pixels off by > 1"


@pytest.fixture(scope="module")
def ct_viewport(sample_data: Path) -> ViewportState:
    return viewport_for(sample_data / "CT")


@pytest.fixture(scope="module")
def ct_files(sample_data: Path) -> list[Path]:
    return sorted_ct_files(sample_data / "CT")


# --- pixels ---


def test_native_pixels_equal_pydicom_windowing(
    ct_viewport: ViewportState, ct_files: list[Path]
) -> None:
    image = render_view_image(ct_viewport, overlays=False)
    assert image.format() == QImage.Format.Format_RGB32
    assert (image.width(), image.height()) == (512, 512)  # Columns x Rows
    assert ct_viewport.slice_index == 14
    assert_close(grey_of(image), reference_grey(ct_files[14]))


def test_monochrome1_is_inverted(sample_data: Path) -> None:
    path = sample_data / "XR" / "gdcm-CR-MONO1-10-chest.dcm"
    viewport = viewport_for(path)
    grey = grey_of(render_view_image(viewport, overlays=False))
    assert grey.shape == (440, 440)
    expected = reference_grey(path)
    assert_close(grey, expected)
    # The user's "invert" shows it as MONOCHROME2 would.
    viewport.invert = True
    assert_close(grey_of(render_view_image(viewport, overlays=False)), 255 - expected)


def test_invert_of_a_monochrome2_image(ct_viewport: ViewportState) -> None:
    plain = grey_of(render_view_image(ct_viewport, overlays=False))
    ct_viewport.invert = True
    try:
        inverted = grey_of(render_view_image(ct_viewport, overlays=False))
    finally:
        ct_viewport.invert = False
    np.testing.assert_array_equal(inverted, 255 - plain)


def test_flips_and_rotation(make_series: MakeSeries) -> None:
    series = make_series(shape=(3, 6, 7))
    viewport = viewport_for(series.folder)
    plain = grey_of(render_view_image(viewport, overlays=False))
    assert plain.shape == (6, 7)
    viewport.flip_horizontal = True
    np.testing.assert_array_equal(
        grey_of(render_view_image(viewport, overlays=False)), plain[:, ::-1]
    )
    viewport.flip_horizontal = False
    viewport.flip_vertical = True
    np.testing.assert_array_equal(
        grey_of(render_view_image(viewport, overlays=False)), plain[::-1, :]
    )
    viewport.flip_vertical = False
    viewport.rotation_quarters = 1
    turned = grey_of(render_view_image(viewport, overlays=False))
    # A clockwise quarter turn: the first column, read bottom up, is the top row.
    np.testing.assert_array_equal(turned[0], plain[::-1, 0])
    np.testing.assert_array_equal(turned, np.rot90(plain, -1))
    # The image moves as the orientation letters say: what was at the bottom
    # (row direction +P for this axial series) is now on the left.
    assert viewport.orientation_letters()["left"] == "P"


def test_correct_aspect_resamples_to_square_pixels(make_series: MakeSeries) -> None:
    # Columns 0.8 mm, rows 0.6 mm: 7 columns x 6 rows become 9.33 -> 9 x 6.
    series = make_series(shape=(3, 6, 7), spacing_mm=(0.8, 0.6, 2.5))
    viewport = viewport_for(series.folder)
    native = render_view_image(viewport, overlays=False)
    assert (native.width(), native.height()) == (7, 6)
    square = render_view_image(viewport, overlays=False, correct_aspect=True)
    assert (square.width(), square.height()) == (9, 6)
    assert square.format() == QImage.Format.Format_RGB32
    viewport.rotation_quarters = 1
    turned = render_view_image(viewport, overlays=False, correct_aspect=True)
    assert (turned.width(), turned.height()) == (6, 9)


def test_scale_replicates_pixels(make_series: MakeSeries) -> None:
    viewport = viewport_for(make_series(shape=(3, 6, 7)).folder)
    plain = grey_of(render_view_image(viewport, overlays=False))
    scaled = grey_of(render_view_image(viewport, overlays=False, scale=3))
    np.testing.assert_array_equal(scaled, plain.repeat(3, axis=0).repeat(3, axis=1))
    with pytest.raises(ValueError, match="scale"):
        render_view_image(viewport, overlays=False, scale=0)


def test_an_empty_viewport_is_refused() -> None:
    with pytest.raises(ValueError, match="no image"):
        render_view_image(ViewportState(), overlays=False)


def test_the_image_owns_its_pixels(ct_viewport: ViewportState) -> None:
    image = render_view_image(ct_viewport, overlays=False)
    before = grey_of(image).copy()
    # Rendering again reuses render's scratch buffers; the first image must not change.
    ct_viewport.set_slice(0)
    try:
        render_view_image(ct_viewport, overlays=False)
    finally:
        ct_viewport.set_slice(14)
    np.testing.assert_array_equal(grey_of(image), before)


# --- overlays ---

TOP_LEFT = (slice(0, 60), slice(0, 160))
CENTRE = (slice(180, 330), slice(180, 330))


def test_overlays_change_corners_not_the_centre(
    qapp: QGuiApplication, ct_viewport: ViewportState
) -> None:
    plain = rgb_of(render_view_image(ct_viewport, overlays=False))
    burned = rgb_of(render_view_image(ct_viewport, overlays=True))
    assert burned.shape == plain.shape
    changed = (burned != plain).any(axis=-1)
    for rows, columns in (
        TOP_LEFT,
        (slice(0, 90), slice(352, 512)),  # top right
        (slice(452, 512), slice(0, 160)),  # bottom left
        (slice(452, 512), slice(352, 512)),  # bottom right
    ):
        assert changed[rows, columns].sum() > 50
    np.testing.assert_array_equal(burned[CENTRE], plain[CENTRE])
    # Orientation letters at the middle of each edge.
    for rows, columns in (
        (slice(0, 40), slice(236, 276)),
        (slice(236, 276), slice(0, 40)),
        (slice(236, 276), slice(472, 512)),
    ):
        assert changed[rows, columns].any()


def test_overlays_without_patient_data(
    qapp: QGuiApplication, ct_viewport: ViewportState
) -> None:
    plain = rgb_of(render_view_image(ct_viewport, overlays=False))
    full = rgb_of(render_view_image(ct_viewport, overlays=True))
    anonymous = rgb_of(
        render_view_image(ct_viewport, overlays=True, include_patient=False)
    )
    assert (full[TOP_LEFT] != anonymous[TOP_LEFT]).any()
    # Nothing is burned into the top left at all: the patient lines live there.
    np.testing.assert_array_equal(anonymous[TOP_LEFT], plain[TOP_LEFT])
    np.testing.assert_array_equal(anonymous[CENTRE], plain[CENTRE])


def test_text_is_outlined_for_white_backgrounds(
    qapp: QGuiApplication, make_series: MakeSeries
) -> None:
    # Every voxel far above the window: the image is white, text needs a dark edge.
    series = make_series(
        shape=(1, 200, 200), window=(-2000.0, 10.0), values=lambda i, j, k, t: i * 0
    )
    viewport = viewport_for(series.folder)
    burned = rgb_of(render_view_image(viewport, overlays=True))
    assert (burned[:40, :100].max(axis=-1) < 60).any()


def test_scale_bar_length(qapp: QGuiApplication, make_series: MakeSeries) -> None:
    # 400 columns of 0.5 mm = 200 mm across; a quarter is 50 mm = 100 pixels.
    series = make_series(
        shape=(1, 400, 400), spacing_mm=(0.5, 0.5, 1.0), window=(1e6, 10.0)
    )
    viewport = viewport_for(series.folder)
    burned = rgb_of(render_view_image(viewport, overlays=True))
    # The bar is the longest white run in a row of the lower centre.
    lower = burned[300:, 100:300].min(axis=-1) > 200
    longest = 0
    for row in lower:
        runs = np.diff(np.flatnonzero(np.diff(np.r_[0, row.astype(int), 0])))[::2]
        longest = max(longest, int(runs.max()) if runs.size else 0)
    assert 99 <= longest <= 104


# --- output ---


def test_save_png_round_trip(tmp_path: Path, ct_viewport: ViewportState) -> None:
    image = render_view_image(ct_viewport, overlays=False)
    target = save_png(image, tmp_path / "view.png")
    assert target == tmp_path / "view.png"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["view.png"]
    np.testing.assert_array_equal(grey_of(QImage(str(target))), grey_of(image))


def test_save_png_replaces_atomically(
    tmp_path: Path, ct_viewport: ViewportState, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = render_view_image(ct_viewport, overlays=False)
    target = tmp_path / "view.png"
    target.write_bytes(b"old")

    def failing_replace(source: Any, destination: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="No space"):
        save_png(image, target)
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["view.png"]
    monkeypatch.undo()
    save_png(image, target)
    assert target.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_save_png_into_a_missing_folder(
    tmp_path: Path, ct_viewport: ViewportState
) -> None:
    image = render_view_image(ct_viewport, overlays=False)
    with pytest.raises(OSError):  # noqa: PT011 (the errno is the platform's)
        save_png(image, tmp_path / "missing" / "view.png")


def test_copy_to_clipboard(qapp: QGuiApplication, ct_viewport: ViewportState) -> None:
    image = render_view_image(ct_viewport, overlays=True)
    copy_to_clipboard(image)
    copied = QGuiApplication.clipboard().image()
    assert (copied.width(), copied.height()) == (512, 512)
    np.testing.assert_array_equal(rgb_of(copied), rgb_of(image))


def test_long_corner_lines_end_in_an_ellipsis_before_the_middle(
    qapp: QGuiApplication, make_series: MakeSeries
) -> None:
    # A black image: every bright pixel in the top rows is burned-in text.
    long_name = "W" * 30 + "^" + "M" * 33  # PN: 64 characters at most
    made = make_series(
        shape=(3, 256, 256),
        values=lambda i, j, k, t: 0 * i,
        window=(100.0, 50.0),
        tags={"PatientName": long_name, "SeriesDescription": "W" * 64},
    )
    series = scan_folder(made.folder).series[0]
    viewport = ViewportState()
    viewport.show(series, load_volume(series))
    image = render_view_image(viewport, overlays=True)
    rgb = rgb_of(image).astype(int)
    white = (rgb[..., 0] > 150) & (rgb[..., 2] > 150)  # not the yellow letters
    top = white[: image.height() // 6]
    columns = np.nonzero(top.any(axis=0))[0]
    half = image.width() / 2
    left_text = columns[columns < half]
    right_text = columns[columns >= half]
    assert left_text.size > 0
    assert right_text.size > 0
    # Both corners stop short of the middle, where the "A" letter stands.
    assert left_text.max() < half - 4
    assert right_text.min() > half + 4


def test_fitted_lines_keep_short_lines_and_shorten_long_ones(
    qapp: QGuiApplication,
) -> None:
    from PySide6.QtGui import QFont, QFontMetrics, QImage

    from imaging_viewer.ui.text_blocks import FittedLines

    device = QImage(10, 10, QImage.Format.Format_RGB32)
    font = QFont("DejaVu Sans", 9)
    fitted = FittedLines(device)
    lines = ("short", "a much longer line of text that cannot fit " * 3)
    short, long = fitted.fit(lines, font, 120)
    assert short == "short"
    assert long.endswith("…")
    assert QFontMetrics(font, device).horizontalAdvance(long) <= 120
    assert fitted.fit(lines, font, 120) is fitted.fit(lines, font, 120)  # cached
