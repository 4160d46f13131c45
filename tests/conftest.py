"""Shared fixtures: the DICOM corpus, sample_data and the synthetic-series factory."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from numpy.typing import DTypeLike, NDArray
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    UID,
    CTImageStorage,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    MRImageStorage,
    generate_uid,
)
from pydicom.valuerep import format_number_as_ds

# Before any test can import Qt. Nothing imported above pulls in Qt, and Qt reads the
# variable only when a QApplication is made.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO_ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- paths


def corpus_path() -> Path:
    """Where the corpus should be: $IMAGING_VIEWER_CORPUS, else ../shared/dicom."""
    configured = os.environ.get("IMAGING_VIEWER_CORPUS")
    if configured:
        return Path(configured).expanduser().resolve()
    return REPO_ROOT.parent / "shared" / "dicom"


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The real DICOM corpus (``../shared/dicom``); see its README.md and MANIFEST.tsv.

    Skips the test when the corpus is missing, or fails it when
    ``IMAGING_VIEWER_REQUIRE_CORPUS=1`` (as in CI).
    """
    path = corpus_path()
    if not path.is_dir():
        message = f"DICOM corpus not found at {path}: set IMAGING_VIEWER_CORPUS"
        if os.environ.get("IMAGING_VIEWER_REQUIRE_CORPUS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def sample_data() -> Path:
    """The repository's ``sample_data/`` (CT, MR, XR; see sample_data/README.md)."""
    return REPO_ROOT / "sample_data"


def window_settled(window: Any) -> bool:
    """A MainWindow has scanned what it opened and loads nothing any more."""
    return (
        window.scan_result is not None
        and not window.is_busy
        and not any(v.loading for v in window.state.viewports)
    )


def pytest_configure(config: pytest.Config) -> None:
    # CI sets IMAGING_VIEWER_REQUIRE_CORPUS=1: then a missing corpus stops the whole
    # run, whichever way a test looks for the corpus (fixture or its own check).
    path = corpus_path()
    if os.environ.get("IMAGING_VIEWER_REQUIRE_CORPUS") == "1" and not path.is_dir():
        raise pytest.UsageError(
            f"DICOM corpus not found at {path}: set IMAGING_VIEWER_CORPUS "
            "(IMAGING_VIEWER_REQUIRE_CORPUS=1 makes this an error)"
        )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Any test that uses the corpus gets the `corpus` marker, so `-m "not corpus"`
    # deselects exactly those.
    for item in items:
        if "corpus" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.corpus)


# ------------------------------------------------------------ synthetic series

SliceRef = int | tuple[int, int]
"""A slice index ``k`` (every time point) or a ``(t, k)`` pair."""

ValueFunction = Callable[
    [NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]],
    NDArray[Any],
]
"""``f(i, j, k, t) -> stored value`` on broadcast index grids."""


@dataclass(frozen=True, eq=False)
class SyntheticSeries:
    """What ``make_series`` wrote, and what a correct reader must get back from it."""

    folder: Path
    files: tuple[Path, ...]
    """Every written file in geometric order (t, then k); a duplicate follows the
    file it duplicates. Missing slices have no file."""
    slice_of: Mapping[Path, tuple[int, int]]
    """File -> (t, k) of the slice it holds."""
    voxels: NDArray[np.float64]
    """Expected ``[k, j, i]`` (``[t, k, j, i]`` when ``time_points > 1``) in modality
    units: ``stored * slope + intercept``. The full grid, missing slices included."""
    stored: NDArray[Any]
    """The stored pixel values (before rescale), same shape as ``voxels``."""
    ijk_to_lps: NDArray[np.float64]
    """Expected 4×4 (i, j, k, 1) -> LPS mm, from the header values as written. The
    k column is (last position - first position) / (slices - 1): exact for regular
    and gantry-tilted (sheared) grids, only a mean for irregular spacing."""
    positions_lps: NDArray[np.float64]
    """ImagePositionPatient of slice k, shape (slices, 3), as written."""
    rescale: tuple[float, float]
    """(RescaleSlope, RescaleIntercept); (1, 0) when not written (MR default)."""
    window: tuple[float, float]
    """(WindowCenter, WindowWidth) as written, modality units."""
    modality: str
    transfer_syntax: UID
    study_uid: UID
    series_uid: UID
    frame_of_reference_uid: UID

    @property
    def n_slices(self) -> int:
        return int(self.positions_lps.shape[0])

    @property
    def n_time_points(self) -> int:
        return int(self.voxels.shape[0]) if self.voxels.ndim == 4 else 1

    def slice_voxels(self, t: int, k: int) -> NDArray[np.float64]:
        """Expected ``[j, i]`` modality values of slice ``k`` at time point ``t``."""
        return self.voxels[t, k] if self.voxels.ndim == 4 else self.voxels[k]


MakeSeries = Callable[..., SyntheticSeries]
"""The type of the ``make_series`` fixture: ``write_series`` bound to ``tmp_path``."""


def _ds(value: float) -> str:
    """A float as a valid DS string (at most 16 characters)."""
    return format_number_as_ds(float(value))


def _as_written(values: Iterable[float]) -> list[str]:
    return [_ds(v) for v in values]


def _parsed(strings: Sequence[str]) -> NDArray[np.float64]:
    return np.array([float(s) for s in strings], dtype=np.float64)


def default_values(
    i: NDArray[np.int64],
    j: NDArray[np.int64],
    k: NDArray[np.int64],
    t: NDArray[np.int64],
    dtype: np.dtype[Any],
) -> NDArray[Any]:
    """Stored value of voxel (i, j, k) at time t: distinct along every axis.

    int16: -1024..3071 (negative values exercise PixelRepresentation 1); uint16:
    0..4095. Neighbouring voxels differ by 1 along i, 7 along j, 31 along k and
    211 along t (modulo 4096), so a transposed, flipped or shifted read shows at
    once. With the default CT rescale both come out as -1024..3071 HU.
    """
    low = -1024 if np.issubdtype(dtype, np.signedinteger) else 0
    return ((i + 7 * j + 31 * k + 211 * t) % 4096 + low).astype(dtype)


def _expand(
    refs: Iterable[SliceRef], n_slices: int, time_points: int
) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for ref in refs:
        pairs = (
            [(t, ref) for t in range(time_points)] if isinstance(ref, int) else [ref]
        )
        for t, k in pairs:
            if not (0 <= t < time_points and 0 <= k < n_slices):
                raise ValueError(f"slice {ref!r} outside {time_points}×{n_slices}")
            out.append((t, k))
    return out


def write_series(
    base_dir: Path,
    shape: tuple[int, int, int] = (5, 6, 7),
    spacing_mm: Sequence[float] = (0.8, 0.6, 2.5),
    orientation: Sequence[float] = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0),
    origin_lps: Sequence[float] = (-40.0, -30.0, 20.0),
    *,
    shuffle: bool = True,
    missing: Iterable[SliceRef] = (),
    duplicate: Iterable[SliceRef] = (),
    positions: Sequence[Sequence[float]] | None = None,
    modality: str = "CT",
    rescale: tuple[float, float] | None = None,
    time_points: int = 1,
    transfer_syntax: str = ExplicitVRLittleEndian,
    dtype: DTypeLike = np.int16,
    photometric: str = "MONOCHROME2",
    folder: str = "series",
    values: ValueFunction | None = None,
    instance_order: str = "position",
    thickness_mm: float | None = None,
    window: tuple[float, float] | None = None,
    series_number: int = 1,
    study_uid: str | None = None,
    series_uid: str | None = None,
    frame_of_reference_uid: str | None = None,
    suffix: str = ".dcm",
    seed: int = 0,
    tags: Mapping[str, Any] | None = None,
) -> SyntheticSeries:
    """Write a single-frame CT or MR series with analytically known voxels.

    Parameters
    ----------
    base_dir
        Parent folder; the series goes to ``base_dir / folder`` (several series may
        share one folder if their ``series_number`` differs).
    shape
        (slices, rows, columns) of one time point.
    spacing_mm
        Step along (i = column, j = row, k = slice) in mm. PixelSpacing is written
        as [row spacing, column spacing] = [spacing_mm[1], spacing_mm[0]]
        (PS3.3 10.7.1.3); spacing_mm[2] is the slice step when ``positions`` is None.
    orientation
        ImageOrientationPatient: direction of increasing i, then of increasing j
        (PS3.3 C.7.6.2.1.1). Slices step along their cross product.
    origin_lps
        Position of voxel (0, 0, 0), i.e. ImagePositionPatient of slice 0.
    shuffle
        Give files names (and write them in an order) unrelated to their position.
    missing, duplicate
        Slices (``k`` at every time point, or ``(t, k)``) to leave out, or to write
        twice (same position and pixels, new SOP Instance UID).
    positions
        Explicit ImagePositionPatient per slice k, overriding origin/spacing: use
        it for irregular spacing or gantry tilt.
    modality
        ``"CT"`` (CT Image Storage) or ``"MR"`` (MR Image Storage).
    rescale
        (slope, intercept). Default for CT: (1, -1024) for uint16, (1, 0) for
        int16; for MR none is written (the MR Image IOD has no Modality LUT), which
        means (1, 0).
    time_points
        > 1 writes the same slices again per time point (TemporalPositionIdentifier),
        and ``voxels`` becomes ``[t, k, j, i]``.
    transfer_syntax
        Any syntax pydicom can write; compressed ones go through
        ``Dataset.compress`` (RLE Lossless needs nothing else; JPEG 2000 needs
        pylibjpeg-openjpeg).
    dtype
        ``np.int16`` (PixelRepresentation 1) or ``np.uint16`` (0).
    photometric
        ``"MONOCHROME2"`` or ``"MONOCHROME1"`` (stored values are the same; only the
        display inverts).
    values
        ``f(i, j, k, t) -> stored value`` on index grids; default ``default_values``.
    instance_order
        InstanceNumber along (t, k): ``"position"`` (1, 2, ...), ``"reversed"`` or
        ``"random"``.
    thickness_mm
        SliceThickness; default spacing_mm[2].
    window
        (center, width); default: the range of ``voxels``.
    tags
        Extra attributes by keyword, set on every file last (so they can override).

    References
    ----------
    PS3.3 A.3 CT Image IOD, A.4 MR Image IOD, C.7.6.2 Image Plane, C.7.6.3 Image
    Pixel, C.8.2.1 CT Image, C.8.3.1 MR Image, C.11.2 VOI LUT.
    """
    n_slices, rows, columns = (int(n) for n in shape)
    np_dtype = np.dtype(dtype)
    if np_dtype not in (np.dtype(np.int16), np.dtype(np.uint16)):
        raise ValueError(f"dtype must be int16 or uint16, not {np_dtype}")
    if modality not in ("CT", "MR"):
        raise ValueError(f"modality must be CT or MR, not {modality!r}")
    if photometric not in ("MONOCHROME1", "MONOCHROME2"):
        raise ValueError(f"photometric must be MONOCHROME1/2, not {photometric!r}")
    if time_points < 1 or min(n_slices, rows, columns) < 1:
        raise ValueError("shape and time_points must be positive")
    transfer_syntax = UID(transfer_syntax)
    rng = np.random.default_rng(seed)
    out_dir = base_dir / folder
    out_dir.mkdir(parents=True, exist_ok=True)

    # Pixels: stored values, then modality values (PS3.3 C.11.1.1.2: Rescale).
    t_grid, k_grid, j_grid, i_grid = np.meshgrid(
        np.arange(time_points),
        np.arange(n_slices),
        np.arange(rows),
        np.arange(columns),
        indexing="ij",
    )
    if values is None:
        stored = default_values(i_grid, j_grid, k_grid, t_grid, np_dtype)
    else:
        stored = np.asarray(values(i_grid, j_grid, k_grid, t_grid))
        info = np.iinfo(np_dtype)
        if (
            stored.shape != i_grid.shape
            or stored.min() < info.min
            or stored.max() > info.max
        ):
            raise ValueError(
                f"values() must give {i_grid.shape} values within {np_dtype}"
            )
        stored = stored.astype(np_dtype)
    write_rescale = rescale is not None or modality == "CT"
    if rescale is None:
        unsigned_ct = modality == "CT" and np_dtype.kind == "u"
        rescale = (1.0, -1024.0) if unsigned_ct else (1.0, 0.0)
    slope_str, intercept_str = _ds(rescale[0]), _ds(rescale[1])
    slope, intercept = float(slope_str), float(intercept_str)
    voxels = stored.astype(np.float64) * slope + intercept
    if window is None:
        low, high = float(voxels.min()), float(voxels.max())
        window = ((low + high) / 2, max(high - low, 1.0))
    center_str, width_str = _ds(window[0]), _ds(window[1])

    # Geometry, from the strings as written so that the expectation is exact.
    iop_str = _as_written(orientation)
    iop = _parsed(iop_str)
    row_dir, col_dir = iop[:3], iop[3:]
    normal = np.cross(row_dir, col_dir)
    pixel_spacing_str = _as_written((spacing_mm[1], spacing_mm[0]))
    row_spacing, column_spacing = _parsed(pixel_spacing_str)
    if positions is None:
        origin = np.asarray(origin_lps, dtype=np.float64)
        step = float(spacing_mm[2]) * normal
        intended = [origin + k * step for k in range(n_slices)]
    else:
        intended = [np.asarray(p, dtype=np.float64) for p in positions]
        if len(intended) != n_slices or any(p.shape != (3,) for p in intended):
            raise ValueError(f"positions must be {n_slices} LPS triplets")
    ipp_str = [_as_written(p) for p in intended]
    positions_lps = np.array([_parsed(p) for p in ipp_str])
    ijk_to_lps = np.eye(4)
    ijk_to_lps[:3, 0] = column_spacing * row_dir
    ijk_to_lps[:3, 1] = row_spacing * col_dir
    ijk_to_lps[:3, 2] = (
        (positions_lps[-1] - positions_lps[0]) / (n_slices - 1)
        if n_slices > 1
        else float(spacing_mm[2]) * normal
    )
    ijk_to_lps[:3, 3] = positions_lps[0]
    thickness_str = _ds(spacing_mm[2] if thickness_mm is None else thickness_mm)

    # Which files: every (t, k) not missing, plus duplicates.
    gone = set(_expand(missing, n_slices, time_points))
    extra = _expand(duplicate, n_slices, time_points)
    slots = [
        (t, k)
        for t in range(time_points)
        for k in range(n_slices)
        for _ in range(int((t, k) not in gone) + extra.count((t, k)))
    ]
    n_total = time_points * n_slices
    if instance_order == "position":
        numbers = list(range(1, n_total + 1))
    elif instance_order == "reversed":
        numbers = list(range(n_total, 0, -1))
    elif instance_order == "random":
        numbers = [int(n) + 1 for n in rng.permutation(n_total)]
    else:
        raise ValueError(
            f"instance_order must be position/reversed/random: {instance_order}"
        )
    next_duplicate_number = n_total + 1

    # UIDs: deterministic per test folder, so a failing test is reproducible.
    study_uid = UID(study_uid or generate_uid(entropy_srcs=[str(base_dir), "study"]))
    frame_uid = UID(
        frame_of_reference_uid or generate_uid(entropy_srcs=[str(base_dir), "for"])
    )
    series_uid = UID(
        series_uid
        or generate_uid(entropy_srcs=[str(out_dir), str(series_number), "series"])
    )
    sop_class = CTImageStorage if modality == "CT" else MRImageStorage

    names = rng.permutation(len(slots)) if shuffle else np.arange(len(slots))
    files: list[Path] = []
    slice_of: dict[Path, tuple[int, int]] = {}
    seen: set[tuple[int, int]] = set()
    for n, (t, k) in enumerate(slots):
        if (t, k) in seen:  # a duplicate
            instance_number = next_duplicate_number
            next_duplicate_number += 1
        else:
            instance_number = numbers[t * n_slices + k]
            seen.add((t, k))
        path = out_dir / f"IM{series_number:03d}_{int(names[n]):04d}{suffix}"
        if path.exists():
            raise FileExistsError(f"{path}: use another folder or series_number")
        files.append(path)
        slice_of[path] = (t, k)

        ds = Dataset()
        ds.SpecificCharacterSet = "ISO_IR 100"
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL" if modality == "CT" else "OTHER"]
        ds.SOPClassUID = sop_class
        ds.SOPInstanceUID = generate_uid(entropy_srcs=[series_uid, str(n)])
        ds.StudyDate = ds.SeriesDate = ds.ContentDate = ds.AcquisitionDate = "20240102"
        ds.StudyTime = ds.SeriesTime = "120000"
        ds.AcquisitionTime = ds.ContentTime = f"12{t // 60:02d}{t % 60:02d}"
        ds.AccessionNumber = ""
        ds.Modality = modality
        ds.Manufacturer = "imaging_viewer tests"
        ds.ReferringPhysicianName = ""
        ds.SeriesDescription = f"synthetic {modality} {n_slices}x{rows}x{columns}"
        # An unpaired part, so Laterality (Type 2C, PS3.3 C.7.3.1) is not required.
        ds.BodyPartExamined = "CHEST" if modality == "CT" else "HEAD"
        ds.PatientName = "Synthetic^Series"
        ds.PatientID = "SYN0001"
        ds.PatientBirthDate = ""
        ds.PatientSex = "O"
        ds.StudyInstanceUID = study_uid
        ds.SeriesInstanceUID = series_uid
        ds.StudyID = "1"
        ds.SeriesNumber = series_number
        ds.AcquisitionNumber = t + 1
        ds.InstanceNumber = instance_number
        ds.PatientPosition = "HFS"
        ds.FrameOfReferenceUID = frame_uid
        ds.PositionReferenceIndicator = ""
        ds.ImagePositionPatient = ipp_str[k]
        ds.ImageOrientationPatient = iop_str
        ds.SliceThickness = thickness_str
        ds.SliceLocation = _ds(float(positions_lps[k] @ normal))
        if time_points > 1:
            ds.TemporalPositionIdentifier = t + 1
            ds.NumberOfTemporalPositions = time_points
        if modality == "CT":
            ds.KVP = "120"
        else:
            ds.ScanningSequence = "SE"
            ds.SequenceVariant = "NONE"
            ds.ScanOptions = ""
            ds.MRAcquisitionType = "2D"
            ds.RepetitionTime = "500"
            ds.EchoTime = "15"
            ds.EchoTrainLength = 1
            ds.MagneticFieldStrength = "1.5"
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = photometric
        ds.Rows = rows
        ds.Columns = columns
        ds.PixelSpacing = pixel_spacing_str
        ds.BitsAllocated = 16
        ds.BitsStored = 16
        ds.HighBit = 15
        ds.PixelRepresentation = int(np_dtype.kind == "i")
        ds.WindowCenter = center_str
        ds.WindowWidth = width_str
        if write_rescale:
            ds.RescaleIntercept = intercept_str
            ds.RescaleSlope = slope_str
            ds.RescaleType = "HU" if modality == "CT" else "US"
        for keyword, value in (tags or {}).items():
            setattr(ds, keyword, value)

        ds.file_meta = FileMetaDataset()
        ds.file_meta.MediaStorageSOPClassUID = sop_class
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        pixels = stored[t, k]
        if transfer_syntax == ExplicitVRBigEndian:
            ds.file_meta.TransferSyntaxUID = transfer_syntax
            ds.PixelData = pixels.astype(np_dtype.newbyteorder(">")).tobytes()
        elif not transfer_syntax.is_compressed:
            ds.file_meta.TransferSyntaxUID = transfer_syntax
            ds.PixelData = pixels.astype(np_dtype.newbyteorder("<")).tobytes()
        else:
            ds.compress(transfer_syntax, pixels, generate_instance_uid=False)
        ds["PixelData"].VR = "OW" if not transfer_syntax.is_encapsulated else "OB"
        pydicom.dcmwrite(
            path,
            ds,
            implicit_vr=transfer_syntax == ImplicitVRLittleEndian,
            little_endian=transfer_syntax != ExplicitVRBigEndian,
            enforce_file_format=True,
        )

    by_position = sorted(range(len(files)), key=lambda n: (slice_of[files[n]], n))
    return SyntheticSeries(
        folder=out_dir,
        files=tuple(files[n] for n in by_position),
        slice_of=slice_of,
        voxels=voxels if time_points > 1 else voxels[0],
        stored=stored if time_points > 1 else stored[0],
        ijk_to_lps=ijk_to_lps,
        positions_lps=positions_lps,
        rescale=(slope, intercept),
        window=(float(center_str), float(width_str)),
        modality=modality,
        transfer_syntax=transfer_syntax,
        study_uid=study_uid,
        series_uid=series_uid,
        frame_of_reference_uid=frame_uid,
    )


@pytest.fixture
def make_series(tmp_path: Path) -> MakeSeries:
    """Factory: ``make_series(shape=..., spacing_mm=..., ...)`` writes a synthetic
    series under ``tmp_path`` and returns a ``SyntheticSeries`` (see ``write_series``).
    """

    def make(*args: Any, **kwargs: Any) -> SyntheticSeries:
        return write_series(tmp_path, *args, **kwargs)

    return make
