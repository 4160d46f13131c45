"""Photometric interpretations, colour, multi-frame cine and projection geometry.

References are pydicom's own decoding (``pixel_array``, which converts YBR to RGB,
and ``apply_color_lut`` / ``apply_voi_lut``) and the standard's rules, applied here
to files from the corpus, pydicom's bundled test files, and variants of them written
with pydicom to ``tmp_path``.
"""

from __future__ import annotations

import copy
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pydicom
import pytest
from pydicom import examples
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.pixels import apply_color_lut, apply_modality_lut, apply_voi_lut
from pydicom.uid import ExplicitVRBigEndian, generate_uid

from imaging_viewer.core.dicom.load import load_volume
from imaging_viewer.core.dicom.scan import scan_folder

if TYPE_CHECKING:
    from pathlib import Path

    from numpy.typing import NDArray

    from imaging_viewer.core.dicom.series import SeriesInfo
    from imaging_viewer.core.volume import Volume

CR_CHEST = "dwv/gdcm-CR-MONO1-10-chest.dcm"
DX_966 = "pylibjpeg_data/ljdata/ds/JPEG2000Lossless/966_fixed.dcm"
CINE_US = (
    "pylibjpeg_data/ljdata/ds/JPEGLosslessSV1/JPEGLosslessP14SV1_3s_2f_u_08_08.dcm"
)


def _load(path: Path | str) -> tuple[SeriesInfo, Volume]:
    """The one series found at ``path`` (a file or a folder), loaded."""
    result = scan_folder(path)
    assert len(result.series) == 1, (
        f"{path}: {len(result.series)} series, skipped {result.skipped}"
    )
    series = result.series[0]
    return series, load_volume(series)


def _pixel_array(path: Path | str) -> NDArray[Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(pydicom.dcmread(path).pixel_array)


def _write(ds: Dataset, folder: Path, name: str = "image.dcm") -> Path:
    """Save a modified copy as a new instance in its own folder."""
    folder.mkdir(parents=True, exist_ok=True)
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    path = folder / name
    ds.save_as(path, enforce_file_format=True)
    return path


# ------------------------------------------------------------------ MONOCHROME1


@pytest.mark.parametrize("relative", [CR_CHEST, DX_966])
def test_monochrome1_is_shown_inverted(corpus: Path, relative: str) -> None:
    """MONOCHROME1: the minimum is white (PS3.3 C.7.6.3.1.2). 966_fixed.dcm is a DX
    with Presentation LUT Shape INVERSE, which the DX Image module requires *with*
    MONOCHROME1 (PS3.3, DX Image module: "INVERSE - output after inversion is in
    P-Values - shall be used if Photometric Interpretation is MONOCHROME1"): the
    same single inversion, not a second one that would cancel it."""
    path = corpus / relative
    _, volume = _load(path)
    header = pydicom.dcmread(path, stop_before_pixels=True)
    assert header.PhotometricInterpretation == "MONOCHROME1"
    assert volume.display.photometric == "MONOCHROME1"
    assert volume.display.inverted is True, (
        f"{relative}: MONOCHROME1 with Presentation LUT Shape "
        f"{header.get('PresentationLUTShape', '(none)')!r} is not shown inverted "
        f"(display.presentation_lut_shape={volume.display.presentation_lut_shape!r})"
    )
    # The voxels stay modality values: no inversion in the data.
    expected = apply_modality_lut(_pixel_array(path), header)
    assert np.array_equal(volume.voxels[0], expected)


# ------------------------------------------------------------------------ colour


@pytest.mark.parametrize(
    ("relative", "photometric"),
    [
        ("dwv/gdcm-US-RGB-8-epicard.dcm", "RGB"),  # Explicit VR Big Endian
        ("dwv/nema-vl2_j2kr.dcm", "YBR_RCT"),  # JPEG 2000 lossless
        (
            "pylibjpeg_data/ljdata/ds/JPEGExtended/JPEGExtended_3s_1f_u_08_08.dcm",
            "YBR_FULL_422",
        ),
    ],
)
def test_colour_equals_pydicom_rgb(
    corpus: Path, relative: str, photometric: str
) -> None:
    path = corpus / relative
    header = pydicom.dcmread(path, stop_before_pixels=True)
    # The MANIFEST lists the JPEG Extended file as YBR_FULL; the header says 422.
    assert header.PhotometricInterpretation in (photometric, "YBR_FULL")
    _, volume = _load(path)
    assert volume.is_rgb
    expected = _pixel_array(path)  # pydicom converts YBR to RGB
    assert volume.voxels.shape == (1, *expected.shape)
    assert volume.voxels.dtype == np.uint8
    assert np.array_equal(volume.voxels[0], expected)


def test_palette_colour_equals_apply_color_lut(tmp_path: Path) -> None:
    ds = copy.deepcopy(examples.palette_color)
    assert ds.PhotometricInterpretation == "PALETTE COLOR"
    path = _write(ds, tmp_path / "palette")
    _, volume = _load(path)
    reference = apply_color_lut(_pixel_array(path), pydicom.dcmread(path))
    bits = int(ds.RedPaletteColorLookupTableDescriptor[2])
    assert volume.is_rgb
    assert volume.voxels.shape == (1, *reference.shape)
    # 16-bit LUT entries shown as 8 bits: within one step of value * 255 / 65535.
    expected = reference.astype(np.float64) * 255 / (2**bits - 1)
    difference = np.abs(volume.voxels[0].astype(np.float64) - expected)
    assert difference.max() <= 1.0, f"palette off by up to {difference.max()}"


def test_deflated_file_equals_pydicom() -> None:
    path = get_testdata_file("image_dfl.dcm")
    assert path is not None
    header = pydicom.dcmread(path, stop_before_pixels=True)
    assert header.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1.99"
    _, volume = _load(path)
    expected = apply_modality_lut(_pixel_array(path), header)
    assert np.array_equal(volume.voxels[0], expected)


def test_multiframe_cine_keeps_both_frames(corpus: Path) -> None:
    path = corpus / CINE_US
    series, volume = _load(path)
    expected = _pixel_array(path)
    assert expected.shape[0] == 2
    assert series.n_time_points == 2
    assert volume.n_time_points == 2
    assert volume.voxels.shape == (2, 1, *expected.shape[1:])
    for t in range(2):
        assert np.array_equal(volume.voxels[t, 0], expected[t]), f"frame {t}"


# ------------------------------------------------- projection pixel spacing


@pytest.fixture
def cr_chest(corpus: Path) -> Dataset:
    """The CR chest as read, with neither Pixel Spacing nor Imager Pixel Spacing."""
    ds = pydicom.dcmread(corpus / CR_CHEST)
    assert "PixelSpacing" not in ds
    assert "ImagerPixelSpacing" not in ds
    assert "PatientOrientation" not in ds
    return ds


def _column_row_spacing(volume: Volume) -> tuple[float, float]:
    axes = volume.ijk_to_lps[:3, :3]
    return float(np.linalg.norm(axes[:, 0])), float(np.linalg.norm(axes[:, 1]))


def test_imager_pixel_spacing_alone_is_used(cr_chest: Dataset, tmp_path: Path) -> None:
    """PS3.3 10.7.1.3: without Pixel Spacing, Imager Pixel Spacing (at the detector)
    is what there is. Values are (row spacing, column spacing)."""
    cr_chest.ImagerPixelSpacing = [0.2, 0.3]
    series, volume = _load(_write(cr_chest, tmp_path / "imager"))
    assert _column_row_spacing(volume) == pytest.approx((0.3, 0.2))
    assert "ImagerPixelSpacing" in volume.spacing_source
    assert series.spacing_source == volume.spacing_source


def test_pixel_spacing_wins_over_a_different_imager_pixel_spacing(
    cr_chest: Dataset, tmp_path: Path
) -> None:
    """PS3.3 10.7.1.3: Pixel Spacing, where present, is calibrated to the patient
    and is the one to measure with; the source must say so."""
    cr_chest.ImagerPixelSpacing = [0.2, 0.3]
    cr_chest.PixelSpacing = [0.15, 0.25]
    _, volume = _load(_write(cr_chest, tmp_path / "both"))
    assert _column_row_spacing(volume) == pytest.approx((0.25, 0.15))
    assert volume.spacing_source.startswith("PixelSpacing"), volume.spacing_source


def test_no_spacing_warns_measurements_are_in_pixels(
    cr_chest: Dataset, tmp_path: Path
) -> None:
    _, volume = _load(_write(cr_chest, tmp_path / "none"))
    assert any("pixels" in w.lower() for w in volume.warnings), volume.warnings
    assert _column_row_spacing(volume) == pytest.approx((1.0, 1.0))


@pytest.mark.parametrize(
    ("orientation", "column_axis", "row_axis"),
    [
        (["L", "F"], (1, 0, 0), (0, 0, -1)),
        (["R", "H"], (-1, 0, 0), (0, 0, 1)),
        (["P", "F"], (0, 1, 0), (0, 0, -1)),
    ],
)
def test_patient_orientation_sets_the_axes(
    cr_chest: Dataset,
    tmp_path: Path,
    orientation: list[str],
    column_axis: tuple[int, int, int],
    row_axis: tuple[int, int, int],
) -> None:
    """PS3.3 C.7.6.1.1.1: the first value is the direction of the rows (increasing
    column index i), the second that of the columns (increasing row index j);
    L = +x, P = +y, H = +z in LPS."""
    cr_chest.PatientOrientation = orientation
    cr_chest.ImagerPixelSpacing = [0.2, 0.3]
    _, volume = _load(_write(cr_chest, tmp_path / "".join(orientation)))
    axes = volume.ijk_to_lps[:3, :3]
    assert axes[:, 0] / np.linalg.norm(axes[:, 0]) == pytest.approx(column_axis)
    assert axes[:, 1] / np.linalg.norm(axes[:, 1]) == pytest.approx(row_axis)


def test_dx_patient_orientation_from_the_header(corpus: Path) -> None:
    """966_fixed.dcm says PatientOrientation L\\F and both spacings 0.16."""
    _, volume = _load(corpus / DX_966)
    axes = volume.ijk_to_lps[:3, :3]
    assert axes[:, 0] == pytest.approx((0.16, 0, 0))
    assert axes[:, 1] == pytest.approx((0, 0, -0.16))


# ------------------------------------------------------------ header VOI


def test_multi_valued_windows_are_kept_in_order(tmp_path: Path) -> None:
    ds = copy.deepcopy(examples.overlay)
    centers = [float(v) for v in ds.WindowCenter]
    widths = [float(v) for v in ds.WindowWidth]
    explanations = [str(v) for v in ds.WindowCenterWidthExplanation]
    assert len(centers) == 2
    _, volume = _load(_write(ds, tmp_path / "windows"))
    windows = volume.display.windows
    assert [(w.center, w.width, w.explanation) for w in windows] == list(
        zip(centers, widths, explanations, strict=True)
    )
    assert volume.default_window == windows[0]


@pytest.mark.parametrize(
    ("lut_data_vr", "big_endian"),
    [("US", False), ("OW", False), ("OW", True)],
    ids=["US", "OW-little-endian", "OW-big-endian"],
)
def test_voi_lut_sequence_is_kept(
    tmp_path: Path, lut_data_vr: str, big_endian: bool
) -> None:
    """Two VOI LUTs written into the CT example (PS3.3 C.11.2.1.1): the kept tables
    map modality values as pydicom's apply_voi_lut does. LUT Data is US or OW; OW
    words are in the transfer syntax's byte order (PS3.5 7.3), so in Explicit VR
    Big Endian they are big endian."""
    ds = copy.deepcopy(examples.ct)
    first_mapped = -1024
    entries = 4096
    ramp = np.clip(np.arange(entries) * 20 - 8000, 0, 65535).astype(np.uint16)
    steps = (np.arange(entries) // 1024 * 1000).astype(np.uint16)
    order = ">" if big_endian else "<"
    items = []
    for table, explanation in ((ramp, "RAMP"), (steps, "STEPS")):
        item = Dataset()
        # LUT Descriptor is US or SS: SS for a negative first mapped value.
        item.add_new(0x00283002, "SS", [entries, first_mapped, 16])
        item.LUTExplanation = explanation
        data = table.tolist() if lut_data_vr == "US" else table.astype(f"{order}u2")
        item.add_new(
            0x00283006, lut_data_vr, data if lut_data_vr == "US" else data.tobytes()
        )
        items.append(item)
    ds.VOILUTSequence = items
    for keyword in ("WindowCenter", "WindowWidth"):
        if keyword in ds:
            delattr(ds, keyword)
    if big_endian:
        stored = ds.pixel_array
        ds.PixelData = stored.astype(stored.dtype.newbyteorder(">")).tobytes()
        ds.file_meta.TransferSyntaxUID = ExplicitVRBigEndian
        folder = tmp_path / "voilut"
        folder.mkdir()
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        path = folder / "image.dcm"
        pydicom.dcmwrite(
            path, ds, implicit_vr=False, little_endian=False, force_encoding=True
        )
    else:
        path = _write(ds, tmp_path / "voilut")
    _, volume = _load(path)
    luts = volume.display.voi_luts
    assert [lut.explanation for lut in luts] == ["RAMP", "STEPS"]
    written = pydicom.dcmread(path)
    values = np.arange(first_mapped - 100, first_mapped + entries + 100)
    for index, lut in enumerate(luts):
        assert lut.bits == 16
        assert lut.first_mapped == first_mapped
        ours = lut.table[np.clip(values - lut.first_mapped, 0, len(lut.table) - 1)]
        reference = apply_voi_lut(values.copy(), written, index=index)
        wrong = np.flatnonzero(ours != reference)
        assert wrong.size == 0, (
            f"VOI LUT {index} ({lut_data_vr}, "
            f"{'big' if big_endian else 'little'} endian) maps {wrong.size} of "
            f"{values.size} inputs differently from pydicom, e.g. input "
            f"{values[wrong[0]]}: ours {ours[wrong[0]]}, pydicom {reference[wrong[0]]}"
        )


def test_uncompressed_ybr_full_422_is_read() -> None:
    """Native YBR_FULL_422 stores 2 samples per pixel on average (Y Y Cb Cr for each
    pair of pixels, PS3.3 C.7.6.3.1.2): 100×100 pixels take 20000 bytes, not
    30000. pydicom's test file must be read, not skipped as truncated."""
    path = get_testdata_file("SC_ybr_full_422_uncompressed.dcm")
    assert path is not None
    result = scan_folder(path)
    assert not result.skipped, f"skipped: {result.skipped[0].reason}"
    _, volume = _load(path)
    expected = _pixel_array(path)  # converted to RGB
    assert volume.voxels.shape == (1, *expected.shape)
    assert np.array_equal(volume.voxels[0], expected)


def test_16_bit_rgb_is_scaled_to_8_bits_not_wrapped(tmp_path: Path) -> None:
    """RGB with 16 bits per sample (allowed, e.g. in Secondary Capture) shown as
    uint8 must keep the most significant byte (value * 255 / 65535, within one
    step), not the low byte."""
    ds = copy.deepcopy(examples.rgb_color)
    rows, columns = int(ds.Rows), int(ds.Columns)
    j, i = np.mgrid[0:rows, 0:columns]
    rgb = np.stack(
        [i * 65535 // (columns - 1), j * 65535 // (rows - 1), (i * j) % 65536],
        axis=-1,
    ).astype("<u2")
    assert ds.PhotometricInterpretation == "RGB"
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.PlanarConfiguration = 0
    ds.PixelData = rgb.tobytes()
    ds["PixelData"].VR = "OW"
    path = _write(ds, tmp_path / "rgb16")
    reference = _pixel_array(path)
    assert np.array_equal(reference, rgb)
    _, volume = _load(path)
    assert volume.is_rgb
    expected = reference.astype(np.float64) * 255 / 65535
    difference = np.abs(volume.voxels[0].astype(np.float64) - expected)
    worst = tuple(int(v) for v in np.unravel_index(difference.argmax(), expected.shape))
    assert difference.max() <= 1.0, (
        f"16-bit RGB off by up to {difference.max():.0f} of 255, e.g. at {worst}: "
        f"stored {reference[worst]} of 65535, so {expected[worst]:.1f} of 255 "
        f"expected, ours {volume.voxels[0][worst]}"
    )
