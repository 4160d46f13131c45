"""Regression tests for the faults fuzzing found (issue 18), one minimal file each.

Every test writes a good synthetic series beside a bad file (or one bad slice in a
series) and checks that nothing raises, the bad file or value is refused with a
reason, and the rest loads exactly as pydicom reads it.
"""

from __future__ import annotations

import struct
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pydicom
import pytest
from pydicom.encaps import encapsulate
from pydicom.uid import JPEGLSLossless, RLELossless

from imaging_viewer.core.dicom import scan as scan_module
from imaging_viewer.core.dicom import series as series_module
from imaging_viewer.core.dicom.codestream import codestream_size
from imaging_viewer.core.dicom.load import load_volume
from imaging_viewer.core.dicom.pixels import DecodeError, decode_frames
from imaging_viewer.core.dicom.scan import ScanResult, scan_folder
from tests.core.dicom.test_bad_input import good_series, skip_reason

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import MakeSeries, SyntheticSeries


@pytest.fixture
def good(make_series: MakeSeries) -> SyntheticSeries:
    """The good series every bad file sits beside."""
    return make_series(shape=(6, 8, 9), folder="good", series_number=1)


def _edit(path: Path, **changes: Any) -> None:
    ds = pydicom.dcmread(path)
    for keyword, value in changes.items():
        setattr(ds, keyword, value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom warns of the values we want
        ds.save_as(path, enforce_file_format=True)


def _others_load_as_pydicom_reads_them(
    result: ScanResult, bad: SyntheticSeries, spoiled: Path
) -> None:
    """The bad series still holds every other file; their slices are exact."""
    (info,) = [s for s in result.series if s.uid == bad.series_uid]
    others = {str(p) for p in bad.files} - {str(spoiled)}
    assert set(info.files) == others
    volume = load_volume(info)
    assert np.all(np.isfinite(volume.voxels))
    for path in others:
        ds = pydicom.dcmread(path)
        expected = ds.pixel_array * float(ds.get("RescaleSlope", 1)) + float(
            ds.get("RescaleIntercept", 0)
        )
        position = np.array([float(v) for v in ds.ImagePositionPatient])
        k = np.linalg.solve(
            volume.ijk_to_lps[:3, :3], position - volume.ijk_to_lps[:3, 3]
        )
        np.testing.assert_allclose(k[:2], 0, atol=1e-6)
        np.testing.assert_array_equal(volume.voxels[round(k[2])], expected)


# ------------------------------------------- absurd and non-finite attributes

ABSURD_FILE = {
    "slope +1e308": ({"RescaleSlope": "1e308"}, "RescaleSlope"),
    "slope -1e308": ({"RescaleSlope": "-1e308"}, "RescaleSlope"),
    "slope nan": ({"RescaleSlope": "nan"}, "RescaleSlope"),
    "intercept 1e308": ({"RescaleIntercept": "1e308"}, "RescaleIntercept"),
    "position 1e308": ({"ImagePositionPatient": ["1e308", "0", "0"]}, "Position"),
    "position z 1e308": ({"ImagePositionPatient": ["0", "0", "-1e308"]}, "Position"),
}


@pytest.mark.parametrize("case", list(ABSURD_FILE))
def test_one_absurd_slice_is_refused_and_the_series_keeps_the_rest(
    good: SyntheticSeries, make_series: MakeSeries, case: str
) -> None:
    """Fuzzing: 1e308 in one slice failed the folder's scan (IndexError,
    OverflowError) or made the export refuse the whole series; now only that file
    is refused."""
    changes, word = ABSURD_FILE[case]
    bad = make_series(shape=(5, 8, 9), folder="bad", series_number=2)
    spoiled = bad.files[2]
    _edit(spoiled, **changes)

    result = scan_folder(good.folder.parent)

    good_series(result, good)
    assert word.lower() in skip_reason(result, spoiled).lower()
    _others_load_as_pydicom_reads_them(result, bad, spoiled)


@pytest.mark.parametrize(
    "changes",
    [
        {"PixelSpacing": ["1e308", "1e308"]},
        {"WindowCenter": "1e308", "WindowWidth": "1e308"},
        {"SliceThickness": "1e308"},
        {"GantryDetectorTilt": "1e308"},
    ],
    ids=["spacing", "window", "thickness", "tilt"],
)
def test_an_absurd_value_is_dropped_and_its_file_kept(
    good: SyntheticSeries, make_series: MakeSeries, changes: dict[str, Any]
) -> None:
    """Values that only describe (spacing, window, thickness, tilt) go alone."""
    bad = make_series(shape=(4, 8, 9), folder="bad", series_number=2)
    for path in bad.files:
        _edit(path, **changes)

    result = scan_folder(good.folder.parent)

    good_series(result, good)
    (info,) = [s for s in result.series if s.uid == bad.series_uid]
    assert len(info.files) == 4
    volume = load_volume(info)
    assert np.all(np.isfinite(volume.ijk_to_lps))
    assert all(abs(w.center) < 1e300 for w in volume.display.windows)
    np.testing.assert_array_equal(volume.voxels, bad.voxels)


def test_large_integral_slope_on_zero_pixels_loads(make_series: MakeSeries) -> None:
    """Fuzzing: numpy refused int16 × 1e15 (OverflowError) even on zeros."""
    series = make_series(
        shape=(3, 4, 5), rescale=(1e12, 0), values=lambda i, j, k, t: 0 * i
    )
    (info,) = scan_folder(series.folder).series
    volume = load_volume(info)
    np.testing.assert_array_equal(volume.voxels, 0)


def test_a_stray_slice_far_away_does_not_allocate_a_huge_grid(
    make_series: MakeSeries,
) -> None:
    """A slice 900 m away (plausible, absurd for the stack) keeps the stack shape."""
    series = make_series(shape=(4, 8, 9), shuffle=False)
    _edit(series.files[3], ImagePositionPatient=["-40", "-30", "900000"])
    (info,) = scan_folder(series.folder).series
    volume = load_volume(info)
    assert volume.voxels.shape == (4, 8, 9)
    assert any("irregular" in w for w in volume.warnings)


def test_a_series_that_fails_to_assemble_leaves_the_others(
    good: SyntheticSeries, make_series: MakeSeries, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever escapes the checks in one group costs that group only, with a reason."""
    bad = make_series(shape=(3, 8, 9), folder="bad", series_number=2)
    assemble = series_module._assemble_group

    def failing(group: Any) -> Any:
        if group.key[1] == str(bad.series_uid):
            raise OverflowError("cannot convert float infinity to integer")
        return assemble(group)

    monkeypatch.setattr(series_module, "_assemble_group", failing)
    result = scan_folder(good.folder.parent)

    good_series(result, good)
    for path in bad.files:
        assert "OverflowError" in skip_reason(result, path)


# ----------------------------------------------------------- decoder faults


def _rle_frame(segments: list[bytes]) -> bytes:
    """An RLE Lossless frame: 64-byte header of segment offsets, then the segments
    (PS3.5 G.3)."""
    offsets = []
    position = 64
    for segment in segments:
        offsets.append(position)
        position += len(segment)
    header = struct.pack(
        f"<{1 + 15}I", len(segments), *offsets, *[0] * (15 - len(offsets))
    )
    return header + b"".join(segments)


def test_rle_decoder_panic_leaves_the_slice_blank(make_series: MakeSeries) -> None:
    """Fuzzing: a literal run longer than the image made pylibjpeg-rle panic
    (pyo3 PanicException, a BaseException that ``except Exception`` missed)."""
    series = make_series(shape=(4, 8, 9), transfer_syntax=RLELossless, shuffle=False)
    spoiled = series.files[1]
    ds = pydicom.dcmread(spoiled)
    overlong = bytes([127]) + bytes(128)  # 128 literal bytes, the plane holds 72
    ds.PixelData = encapsulate([_rle_frame([overlong, overlong])])
    ds.save_as(spoiled)
    with pytest.raises(BaseException, match="index out of bounds") as panic:
        _ = ds.pixel_array  # the fault itself, as pydicom's RLE plugin order meets it
    assert not isinstance(panic.value, Exception)

    with pytest.raises(DecodeError, match="PanicException"):
        decode_frames(str(spoiled), [0])
    (info,) = scan_folder(series.folder).series
    volume = load_volume(info)

    (warning,) = volume.warnings
    assert spoiled.name in warning
    for k in (0, 2, 3):
        np.testing.assert_array_equal(volume.voxels[k], series.voxels[k])


def _jpeg_ls_sof_offset(data: bytes) -> int:
    offset = data.find(b"\xff\xf7")
    assert offset > 0
    return offset


def test_codestream_claiming_a_huge_image_is_refused_before_decoding(
    make_series: MakeSeries,
) -> None:
    """Fuzzing: a JPEG whose header claims 65535×65535 decoded for 16 s and
    exhausted memory; its own SOF is now read and compared with Rows/Columns."""
    series = make_series(shape=(3, 8, 9), transfer_syntax=JPEGLSLossless, shuffle=False)
    spoiled = series.files[1]
    data = bytearray(spoiled.read_bytes())
    sof = _jpeg_ls_sof_offset(bytes(data))
    data[sof + 5 : sof + 9] = b"\xff\xff\xff\xff"  # Y and X of SOF55 (T.87 C.2.2)
    spoiled.write_bytes(bytes(data))

    with pytest.raises(DecodeError, match="65535×65535"):
        decode_frames(str(spoiled), [0])
    (info,) = scan_folder(series.folder).series
    volume = load_volume(info)
    assert any("65535" in w for w in volume.warnings)
    np.testing.assert_array_equal(volume.voxels[2], series.voxels[2])


@pytest.mark.parametrize(
    "relative",
    [
        "pylibjpeg_data/ljdata/ds/JPEG2000Lossless/JPEG2KLossless_1s_1f_u_16_16.dcm",
        "pylibjpeg_data/ljdata/ds/JPEG2000/MAROTECH_CT_JP2Lossy.dcm",
        "dwv/nema-mr1_jply.dcm",
    ],
)
def test_codestream_size_agrees_with_pydicom(corpus: Path, relative: str) -> None:
    """The size read from a real codestream is the header's and, for JPEG, what
    pydicom's own marker parser reads."""
    from pydicom.encaps import generate_frames
    from pydicom.pixels.utils import _get_jpg_parameters

    ds = pydicom.dcmread(corpus / relative)
    frame = next(generate_frames(ds.PixelData, number_of_frames=1))
    size = codestream_size(frame)
    assert size is not None
    assert (size.rows, size.columns) == (ds.Rows, ds.Columns)
    assert size.components == ds.SamplesPerPixel
    if "JPEG2000" not in relative:
        parameters = _get_jpg_parameters(frame)
        assert (size.rows, size.columns) == (parameters["height"], parameters["width"])


# ---------------------------------------------------------- resource limits


def _deflated_file(source: Path, target: Path, padding_bytes: int) -> Path:
    """``source`` rewritten as Deflated Explicit VR Little Endian (PS3.5 A.5) with a
    private element of ``padding_bytes`` zeros: a deflate bomb."""
    ds = pydicom.dcmread(source)
    ds.add_new(0x00091010, "OB", bytes(padding_bytes))
    ds.file_meta.TransferSyntaxUID = pydicom.uid.DeflatedExplicitVRLittleEndian
    ds.save_as(target, enforce_file_format=True)
    return target


def test_deflate_bomb_is_refused_by_streaming(
    good: SyntheticSeries, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fuzzing: 1 MB inflating to 1 GiB took 2.2 GB and 7 s; the inflated size is
    now measured in 1 MiB steps and refused past the limit (here 2 MiB)."""
    monkeypatch.setattr(scan_module, "MAX_INFLATED_BYTES", 2 * 1024**2)
    (tmp_path / "bomb").mkdir()
    bomb = _deflated_file(good.files[0], tmp_path / "bomb" / "bomb.dcm", 8 * 1024**2)
    assert bomb.stat().st_size < 64 * 1024

    result = scan_folder(tmp_path)

    good_series(result, good)
    assert "inflates" in skip_reason(result, bomb)


def test_small_deflated_file_still_reads(good: SyntheticSeries, tmp_path: Path) -> None:
    (tmp_path / "deflated").mkdir()
    path = _deflated_file(good.files[0], tmp_path / "deflated" / "d.dcm", 1000)
    result = scan_folder(path)
    assert [list(s.files) for s in result.series] == [[str(path)]]


def test_image_larger_than_memory_allows_is_refused_at_scan(
    good: SyntheticSeries, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 3.2 GiB pixel element peaked at 6.5 GB: the limit now follows free memory."""
    monkeypatch.setattr(scan_module, "max_image_bytes", lambda: 100)
    result = scan_folder(good.folder)
    assert not result.series
    assert "too large for memory" in skip_reason(result, good.files[0])


def test_native_cine_frames_are_read_straight_into_the_volume(
    make_series: MakeSeries, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 3.2 GiB native multi-frame file (one slice, its frames time points)
    peaked at twice its size: pydicom read the element and decoded a copy. Its
    frames are now read straight into the volume (3.3 GB peak), exactly as
    pydicom reads them."""
    from imaging_viewer.core.dicom import load as load_module

    series = make_series(shape=(1, 8, 9), folder="cine", rescale=(1.0, -1024.0))
    path = series.files[0]
    frames = np.stack(
        [np.arange(72, dtype=np.int16).reshape(8, 9) * (n + 1) for n in range(5)]
    )
    _edit(path, NumberOfFrames=5, PixelData=frames.tobytes())

    def no_decoding(*args: object, **kwargs: object) -> None:
        raise AssertionError("native frames went through pydicom")

    monkeypatch.setattr(load_module, "decode_frames", no_decoding)
    (info,) = scan_folder(series.folder).series
    volume = load_volume(info)

    ds = pydicom.dcmread(path)
    expected = ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    assert volume.voxels.shape == (5, 1, 8, 9)
    np.testing.assert_array_equal(volume.voxels[:, 0], expected)
