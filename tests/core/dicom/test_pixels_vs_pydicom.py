"""Every voxel of every corpus series against pydicom's own decoding.

For each series whose grid is the acquired one (no tilt or spacing resampling), each
image ``(t, k)`` of ``load_volume`` must equal what pydicom makes of the frame that
``SeriesInfo.frames[t][k]`` names: ``dcmread(path).pixel_array`` (the frame of a
multi-frame file; for a Siemens mosaic the tile cut here with the layout arithmetic
re-derived below), through ``pydicom.pixels.apply_modality_lut`` or, for enhanced
multi-frame files, the frame's own Pixel Value Transformation read here. Integers
must match exactly, floats to float32 precision. Each file is decoded once.
"""

from __future__ import annotations

import copy
import math
import warnings
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pydicom
import pytest
from pydicom import examples
from pydicom.pixels import apply_modality_lut

from imaging_viewer.core.dicom.load import load_volume
from imaging_viewer.core.dicom.scan import ScanResult, scan_folder

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from imaging_viewer.core.dicom.series import FrameRef, SeriesInfo

# Top-level folders of the corpus; each is one test, so a failure names its source.
CORPUS_FOLDERS = (
    "dcm_qa_ct",
    "dcm_qa_enh",
    "dcm_qa_nih",
    "dcm_qa_orientation",
    "dcm_qa_ts",
    "dicom2nifti",
    "dwv",
    "pydicom_data_subset",
    "pylibjpeg_data",
)

# JPEG Extended files that pydicom + pylibjpeg cannot decode (corpus README).
UNDECODABLE = (
    "dwv/nema-mr1_jply.dcm",
    "pylibjpeg_data/ljdata/ds/JPEGExtended/RG2_JPLY.dcm",
)

MAX_REPORTED = 12


@cache
def _scan(root: str) -> ScanResult:
    return scan_folder(root)


@pytest.fixture(scope="module")
def scanned(corpus: Path) -> ScanResult:
    return _scan(str(corpus))


def _folder_of(series: SeriesInfo, corpus: Path) -> str:
    return Path(series.files[0]).relative_to(corpus).parts[0]


def _is_resampled(series: SeriesInfo) -> bool:
    return series.geometry is not None and series.geometry.resample is not None


# ------------------------------------------------------------ the reference


class Decoded:
    """One file read and decoded by pydicom, once."""

    def __init__(self, path: str) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # odd header values in old files
            self.ds = pydicom.dcmread(path)
            self.pixels: NDArray[Any] = self.ds.pixel_array
        self.n_frames = int(self.ds.get("NumberOfFrames", 1) or 1)

    def frame(self, ref: FrameRef) -> NDArray[Any]:
        """Modality values (or RGB) of the image ``ref`` names."""
        ds = self.ds
        if ref.tile is not None:
            image = _mosaic_tile(ds, self.pixels, ref.tile)
        elif self.n_frames > 1:
            image = self.pixels[ref.frame_index]
        else:
            assert ref.frame_index == 0
            image = self.pixels
        if int(ds.get("SamplesPerPixel", 1)) == 3:
            return image
        if "PerFrameFunctionalGroupsSequence" in ds:
            slope, intercept = _enhanced_rescale(ds, ref.frame_index)
            return image.astype(np.float64) * slope + intercept
        return np.asarray(apply_modality_lut(image, _without_empty_modality_lut(ds)))


def _without_empty_modality_lut(ds: pydicom.Dataset) -> pydicom.Dataset:
    """Four leadtools/pylibjpeg files carry a Modality LUT Sequence item with no
    LUT Descriptor and no LUT Data, and empty Rescale Slope and Intercept: no
    Modality LUT at all, so identity (pydicom raises on the empty values)."""
    items = ds.get("ModalityLUTSequence")
    empty_lut = bool(items) and all(i.get("LUTDescriptor") is None for i in items)
    empty_rescale = [k for k in ("RescaleSlope", "RescaleIntercept") if k in ds]
    empty_rescale = [k for k in empty_rescale if ds[k].value in (None, "")]
    if not empty_lut and not empty_rescale:
        return ds
    ds = copy.copy(ds)
    for keyword in [*empty_rescale, *(["ModalityLUTSequence"] if empty_lut else [])]:
        delattr(ds, keyword)
    return ds


def _mosaic_tile(ds: pydicom.Dataset, mosaic: NDArray[Any], tile: int) -> NDArray[Any]:
    """Tile ``tile`` of a Siemens mosaic: n images in a square grid of
    ceil(sqrt(n)) tiles per side, filled row by row from the top left."""
    block = ds.private_block(0x0019, "SIEMENS MR HEADER")
    n_images = int(block[0x0A].value)  # NumberOfImagesInMosaic
    per_side = math.ceil(math.sqrt(n_images))
    rows, columns = mosaic.shape[0] // per_side, mosaic.shape[1] // per_side
    assert mosaic.shape == (rows * per_side, columns * per_side)
    assert 0 <= tile < n_images
    r, c = divmod(tile, per_side)
    return mosaic[r * rows : (r + 1) * rows, c * columns : (c + 1) * columns]


def _enhanced_rescale(ds: pydicom.Dataset, frame: int) -> tuple[float, float]:
    """Rescale of one frame: per-frame Pixel Value Transformation, else the shared
    one, else the top level, else identity (PS3.3 C.7.6.16.2.9)."""
    sources: list[pydicom.Dataset] = []
    shared = ds.get("SharedFunctionalGroupsSequence")
    for group in (
        ds.PerFrameFunctionalGroupsSequence[frame],
        shared[0] if shared else None,
    ):
        if group is not None and group.get("PixelValueTransformationSequence"):
            sources.append(group.PixelValueTransformationSequence[0])
    sources.append(ds)
    for source in sources:
        if "RescaleSlope" in source or "RescaleIntercept" in source:
            return (
                float(source.get("RescaleSlope", 1.0)),
                float(source.get("RescaleIntercept", 0.0)),
            )
    return 1.0, 0.0


def _differences(ours: NDArray[Any], reference: NDArray[Any], where: str) -> str | None:
    """None when equal: exactly for integers, to float32 precision otherwise."""
    if ours.shape != reference.shape:
        return f"{where}: shape {ours.shape}, pydicom {reference.shape}"
    expected = reference.astype(np.float64)
    got = ours.astype(np.float64)
    if np.all(expected == np.round(expected)):
        bad = got != expected
    else:
        scale = float(np.max(np.abs(expected))) or 1.0
        bad = ~np.isclose(got, expected, rtol=1e-6, atol=1e-6 * scale)
    if not bad.any():
        return None
    index = tuple(int(v) for v in np.argwhere(bad)[0])
    return (
        f"{where}: {int(bad.sum())} of {bad.size} values differ, first at "
        f"{index}: ours {got[index]:g} ({ours.dtype}), pydicom {expected[index]:g}"
    )


# ------------------------------------------------------------------- the tests


@pytest.mark.parametrize("folder", CORPUS_FOLDERS)
def test_voxels_equal_pydicom(corpus: Path, scanned: ScanResult, folder: str) -> None:
    series_here = [
        s
        for s in scanned.series
        if _folder_of(s, corpus) == folder and not _is_resampled(s)
    ]
    assert series_here, f"no series from {folder}"
    undecodable = {str(corpus / p) for p in UNDECODABLE}
    decoded: dict[str, Decoded] = {}
    problems: list[str] = []
    compared = 0
    for series in series_here:
        volume = load_volume(series)
        voxels = volume.voxels
        if series.n_time_points == 1:
            voxels = voxels[np.newaxis]
        label = f"{series.id} ({Path(series.files[0]).relative_to(corpus)})"
        expected_shape = (series.n_time_points, *series.shape_kji)
        if voxels.shape[:4] != expected_shape:
            problems.append(f"{label}: voxels {voxels.shape}, frames {expected_shape}")
            continue
        for t, frames in enumerate(series.frames):
            for k, ref in enumerate(frames):
                if ref.path in undecodable:
                    continue
                if ref.path not in decoded:
                    # Frames of one file are together; keep only the current files.
                    if len(decoded) > 4:
                        decoded.pop(next(iter(decoded)))
                    decoded[ref.path] = Decoded(ref.path)
                reference = decoded[ref.path].frame(ref)
                where = f"{label} t={t} k={k} {Path(ref.path).relative_to(corpus)}"
                if ref.tile is not None:
                    where += f" tile {ref.tile}"
                elif ref.frame_index:
                    where += f" frame {ref.frame_index}"
                problem = _differences(voxels[t, k], reference, where)
                compared += 1
                if problem:
                    problems.append(problem)
    assert compared > 0
    assert not problems, (
        f"{len(problems)} of {compared} images differ from pydicom:\n"
        + "\n".join(problems[:MAX_REPORTED])
    )


def test_every_series_is_compared_or_resampled(
    corpus: Path, scanned: ScanResult
) -> None:
    folders = {_folder_of(s, corpus) for s in scanned.series}
    assert folders <= set(CORPUS_FOLDERS), folders - set(CORPUS_FOLDERS)
    resampled = sorted(
        str(Path(s.files[0]).parent.relative_to(corpus))
        for s in scanned.series
        if _is_resampled(s)
    )
    # Only tilted or unevenly spaced CT stacks (see test_ct_slice_positions.py).
    assert resampled == [
        "dcm_qa_ct/In/GE",
        "dcm_qa_ct/In/Philips/S21610/S2010",
        "dicom2nifti/failing/gantrytilting/001",
        "dicom2nifti/failing/sliceincrement/001",
    ]


@pytest.mark.parametrize("relative", UNDECODABLE)
def test_undecodable_file_gives_a_warning_naming_it(
    corpus: Path, scanned: ScanResult, relative: str
) -> None:
    path = str(corpus / relative)
    with pytest.raises(Exception):  # noqa: B017, PT011 (any decoder error)
        pydicom.dcmread(path).pixel_array  # noqa: B018
    series = [s for s in scanned.series if path in s.files]
    assert len(series) == 1, f"{relative} is in {len(series)} series"
    volume = load_volume(series[0])
    assert any(path in w for w in volume.warnings), (
        f"loading {relative} gives no warning naming it: {volume.warnings}"
    )


def test_modality_lut_sequence_is_applied(tmp_path: Path) -> None:
    """No corpus file has a real Modality LUT Sequence (four have an empty item),
    so write one into the MR example: PS3.3 C.11.1 says it maps stored values to
    modality values in place of Rescale Slope/Intercept; pydicom applies it."""
    ds = copy.deepcopy(examples.mr)
    for keyword in ("RescaleSlope", "RescaleIntercept", "RescaleType"):
        if keyword in ds:
            delattr(ds, keyword)
    stored = ds.pixel_array
    entries = int(stored.max()) + 1
    item = pydicom.Dataset()
    item.add_new(0x00283002, "US", [entries, 0, 16])  # LUT Descriptor
    item.ModalityLUTType = "US"  # unspecified units
    table = (np.arange(entries) * 3 + 100).astype(np.uint16)
    item.add_new(0x00283006, "US", table.tolist())  # LUT Data
    ds.ModalityLUTSequence = [item]
    ds.SOPInstanceUID = pydicom.uid.generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    path = tmp_path / "mlut.dcm"
    ds.save_as(path, enforce_file_format=True)
    result = scan_folder(path)
    assert len(result.series) == 1
    volume = load_volume(result.series[0])
    reference = apply_modality_lut(stored, pydicom.dcmread(path))
    assert np.array_equal(reference, table[stored])
    problem = _differences(volume.voxels[0], reference, "Modality LUT Sequence")
    assert problem is None, problem
