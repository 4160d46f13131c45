"""Tests for core/dicom/siemens_mosaic.py: CSA parsing, tile layout and geometry.

The geometry and voxels of real mosaics are checked against the dcm2niix NIfTI
references in ``shared/dicom/expected`` (independent of our code), read with
nibabel; synthetic datasets cover the fallbacks and hostile CSA bytes.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import struct
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pydicom
import pydicom.examples
import pytest
from pydicom.dataset import Dataset
from pydicom.misc import is_dicom

from imaging_viewer.core.dicom.siemens_mosaic import (
    MosaicLayout,
    mosaic_layout,
    parse_csa_header,
    unpack_mosaic,
)

if TYPE_CHECKING:
    from numpy.typing import NDArray

# --------------------------------------------------------------------------- corpus


def _corpus_root() -> Path | None:
    env = os.environ.get("IMAGING_VIEWER_CORPUS")
    root = (
        Path(env)
        if env
        else Path(__file__).resolve().parents[3].parent / "shared" / "dicom"
    )
    return root if root.is_dir() else None


CORPUS = _corpus_root()
MOSAIC_GLOBS = (
    "dcm_qa_ts/In/*.dcm",
    "dcm_qa_orientation/In/Orientation/**/*",
    "dcm_qa_nih/In/20180918Si/**/*",
)
MOSAIC_DIRS = tuple(g.split("/*", 1)[0] for g in MOSAIC_GLOBS)


def _mosaic_files() -> list[Path]:
    if CORPUS is None:
        return []
    found = {
        path
        for pattern in MOSAIC_GLOBS
        for path in CORPUS.glob(pattern)
        if path.is_file() and is_dicom(path)
    }
    return sorted(found)


def _mosaic_reference_entries() -> list[dict[str, Any]]:
    if CORPUS is None:
        return []
    table = CORPUS / "expected" / "reference_geometry.json"
    if not table.is_file():
        return []
    entries = json.loads(table.read_text())["entries"]
    return [
        e
        for e in entries
        if any(
            d == top or d.startswith(f"{top}/")
            for d in e["input_dirs"]
            for top in MOSAIC_DIRS
        )
    ]


MOSAIC_FILES = _mosaic_files()
REFERENCE_ENTRIES = _mosaic_reference_entries()
needs_corpus = pytest.mark.skipif(CORPUS is None, reason="DICOM corpus not found")


def _file_id(path: Path) -> str:
    assert CORPUS is not None
    return path.relative_to(CORPUS).as_posix()


def _entry_id(entry: dict[str, Any]) -> str:
    return str(entry["reference"]).split(" ", 1)[0]


def test_corpus_lists_the_expected_mosaics(corpus: Path) -> None:
    # The corpus fixture skips without the corpus, and fails instead in CI.
    # 9 transfer syntaxes + 21 orientation series x 2 + 4 NIH series x 2.
    assert len(MOSAIC_FILES) == 59
    assert len(REFERENCE_ENTRIES) == 34


# --------------------------------------------------------------- independent maths


def _affine_from_dataset(ds: Dataset, layout: MosaicLayout) -> NDArray[np.float64]:
    """ijk_to_lps built in the test from the DICOM attributes and layout fields."""
    iop = np.array([float(v) for v in ds.ImageOrientationPatient])
    row_spacing, column_spacing = (float(v) for v in ds.PixelSpacing)
    affine = np.eye(4)
    affine[:3, 0] = iop[:3] * column_spacing
    affine[:3, 1] = iop[3:] * row_spacing
    affine[:3, 2] = layout.slice_normal_lps * layout.slice_spacing_mm
    affine[:3, 3] = layout.first_position_lps
    return affine


def _corners(affine: NDArray[np.float64], shape: tuple[int, ...]) -> NDArray[Any]:
    ijk = np.array(
        list(itertools.product(*[(0, n - 1) for n in shape[:3]])), dtype=np.float64
    )
    corners: NDArray[Any] = ijk @ affine[:3, :3].T + affine[:3, 3]
    return corners


def _assert_same_corner_sets(
    ours: NDArray[np.float64], reference: NDArray[np.float64]
) -> None:
    # dcm2niix stores float32: allow 1e-4 relative (README), and 0.01 mm.
    scale = max(float(np.abs(reference).max()), 1.0)
    tolerance = max(0.01, 1e-4 * scale)
    distances = np.linalg.norm(ours[:, None, :] - reference[None, :, :], axis=-1)
    assert distances.min(axis=1).max() < tolerance, distances.min(axis=1)
    assert distances.min(axis=0).max() < tolerance, distances.min(axis=0)


def _virtual_mosaic_centre(ds: Dataset) -> NDArray[np.float64]:
    """Centre of the whole mosaic, placed as one image by its own IPP."""
    iop = np.array([float(v) for v in ds.ImageOrientationPatient])
    ipp = np.array([float(v) for v in ds.ImagePositionPatient])
    row_spacing, column_spacing = (float(v) for v in ds.PixelSpacing)
    centre: NDArray[np.float64] = (
        ipp
        + iop[:3] * column_spacing * (ds.Columns - 1) / 2
        + iop[3:] * row_spacing * (ds.Rows - 1) / 2
    )
    return centre


def _csa_image_header(ds: Dataset) -> dict[str, list[str]]:
    return parse_csa_header(ds.private_block(0x0029, "SIEMENS CSA HEADER")[0x10].value)


# ------------------------------------------------------------ every corpus mosaic


@needs_corpus
@pytest.mark.corpus
@pytest.mark.parametrize("path", MOSAIC_FILES, ids=_file_id)
def test_every_corpus_mosaic_unpacks(path: Path) -> None:
    ds = pydicom.dcmread(path)
    layout = mosaic_layout(ds)
    assert layout is not None

    csa = _csa_image_header(ds)
    assert layout.n_slices == int(csa["NumberOfImagesInMosaic"][0])
    assert layout.n_slices == ds.private_block(0x0019, "SIEMENS MR HEADER")[0x0A].value
    assert (
        layout.tiles_per_side**2 >= layout.n_slices > (layout.tiles_per_side - 1) ** 2
    )
    assert layout.tiles_per_side * layout.tile_rows == ds.Rows
    assert layout.tiles_per_side * layout.tile_columns == ds.Columns

    # The normal is along the CSA SliceNormalVector, and is a unit vector
    # orthogonal to both in-plane axes.
    csa_normal = np.array([float(v) for v in csa["SliceNormalVector"]])
    np.testing.assert_allclose(layout.slice_normal_lps, csa_normal, atol=1e-5)
    assert np.linalg.norm(layout.slice_normal_lps) == pytest.approx(1.0)
    assert abs(layout.slice_normal_lps @ layout.row_cosine_lps) < 1e-6
    assert abs(layout.slice_normal_lps @ layout.column_cosine_lps) < 1e-6
    assert layout.slice_spacing_mm == pytest.approx(float(ds.SpacingBetweenSlices))

    # The mosaic's IPP places a whole-mosaic-sized image centred on slice 0.
    tile_centre = (
        layout.first_position_lps
        + layout.row_cosine_lps
        * layout.pixel_spacing_mm[1]
        * (layout.tile_columns - 1)
        / 2
        + layout.column_cosine_lps
        * layout.pixel_spacing_mm[0]
        * (layout.tile_rows - 1)
        / 2
    )
    np.testing.assert_allclose(tile_centre, _virtual_mosaic_centre(ds), atol=1e-6)
    np.testing.assert_allclose(
        layout.ijk_to_lps(), _affine_from_dataset(ds, layout), atol=1e-12
    )

    frame = ds.pixel_array
    slices = unpack_mosaic(frame, layout)
    assert slices.shape == (layout.n_slices, layout.tile_rows, layout.tile_columns)
    assert slices.dtype == frame.dtype
    # Each slice has signal, and the tiles past n_slices are the zero padding.
    assert all(np.count_nonzero(s) > 0 for s in slices)
    side, rows, cols = layout.tiles_per_side, layout.tile_rows, layout.tile_columns
    for tile in range(layout.n_slices, side * side):
        r, c = divmod(tile, side)
        assert not frame[r * rows : (r + 1) * rows, c * cols : (c + 1) * cols].any()


# ------------------------------------------------------ against dcm2niix references


def _entry_files(entry: dict[str, Any]) -> list[Path]:
    """The entry's DICOM files of its series, first time point first.

    Files named in ``input_dirs`` are taken as they are: the dcm_qa_ts entries
    2-9 name one file each but carry series_number 1, copied from Ref/1.
    Folders are filtered by the entry's series number.
    """
    assert CORPUS is not None
    candidates: list[tuple[Path, bool]] = []
    for name in entry["input_dirs"]:
        path = CORPUS / name
        if path.is_dir():
            candidates += sorted((p, True) for p in path.iterdir() if p.is_file())
        else:
            candidates.append((path, False))
    keyed = []
    for path, filter_series in candidates:
        if not is_dicom(path):
            continue
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        if filter_series and int(ds.SeriesNumber) != int(entry["series_number"]):
            continue
        order = (int(ds.get("AcquisitionNumber") or 0), int(ds.InstanceNumber))
        keyed.append((order, path))
    return [path for _, path in sorted(keyed)]


@needs_corpus
@pytest.mark.corpus
@pytest.mark.parametrize("entry", REFERENCE_ENTRIES, ids=_entry_id)
def test_mosaics_match_dcm2niix_reference(entry: dict[str, Any]) -> None:
    assert CORPUS is not None
    ref_shape = tuple(int(n) for n in entry["shape"])
    ref_affine = np.array(entry["affine_lps"], dtype=np.float64)
    n_volumes = ref_shape[3] if len(ref_shape) == 4 else 1
    files = _entry_files(entry)
    assert len(files) == n_volumes

    ref_path = CORPUS / _entry_id(entry)
    ref_data = None
    if ref_path.is_file():
        nib = pytest.importorskip("nibabel")
        ref_data = np.asarray(nib.load(ref_path).dataobj)
        assert ref_data.shape == ref_shape

    # Our voxels in the reference's index order, to hash as dcm2niix stored them.
    ours_in_ref_order = np.full(ref_shape, -1, dtype=np.int64)
    to_ref_index = np.linalg.inv(ref_affine)
    for t, path in enumerate(files):
        ds = pydicom.dcmread(path)
        layout = mosaic_layout(ds)
        assert layout is not None
        slices = unpack_mosaic(ds.pixel_array, layout)
        shape_ijk = (layout.tile_columns, layout.tile_rows, layout.n_slices)
        assert sorted(shape_ijk) == sorted(ref_shape[:3])
        affine = _affine_from_dataset(ds, layout)
        _assert_same_corner_sets(
            _corners(affine, shape_ijk), _corners(ref_affine, ref_shape)
        )

        # Every voxel centre lands on a reference voxel centre, one to one.
        k, j, i = np.indices(slices.shape).reshape(3, -1)
        lps = np.stack([i, j, k], axis=1) @ affine[:3, :3].T + affine[:3, 3]
        ref_ijk = lps @ to_ref_index[:3, :3].T + to_ref_index[:3, 3]
        ref_index = np.rint(ref_ijk).astype(np.int64)
        assert np.abs(ref_ijk - ref_index).max() < 1e-2
        volume = ours_in_ref_order[..., t] if n_volumes > 1 else ours_in_ref_order
        volume[tuple(ref_index.T)] = slices[k, j, i]
        assert (volume >= 0).all()  # every reference voxel was reached
        if ref_data is not None:
            reference = ref_data[..., t] if n_volumes > 1 else ref_data
            np.testing.assert_array_equal(
                slices[k, j, i], reference[tuple(ref_index.T)]
            )

    assert entry["datatype"] == "int16"
    stored = np.ascontiguousarray(ours_in_ref_order.astype(np.int16)).tobytes()
    assert hashlib.sha256(stored).hexdigest() == entry["voxel_sha256_unscaled"]


# ----------------------------------------------------------- synthetic CSA headers


def _csa2(tags: list[tuple[str, int, str, list[bytes]]], n_items: int = 6) -> bytes:
    """A CSA2 ("SV10") header, laid out as Siemens writes it."""
    out = bytearray(b"SV10\x04\x03\x02\x01")
    out += struct.pack("<2I", len(tags), 77)
    for name, vm, vr, values in tags:
        count = max(n_items, len(values))
        out += struct.pack("<64si4s3i", name.encode(), vm, vr.encode(), 3, count, 77)
        for index in range(count):
            value = values[index] if index < len(values) else b""
            out += struct.pack("<4i", len(value), len(value), 77, len(value))
            out += value + b"\x00" * (-len(value) % 4)
    return bytes(out)


def _csa1(tags: list[tuple[str, int, str, list[bytes]]]) -> bytes:
    """A CSA1 header: no magic, item length offset by tag 0's item count."""
    first_count = len(tags[0][3])
    out = bytearray(struct.pack("<2I", len(tags), 77))
    for name, vm, vr, values in tags:
        out += struct.pack(
            "<64si4s3i", name.encode(), vm, vr.encode(), 3, len(values), 77
        )
        for value in values:
            out += struct.pack("<4i", len(value) + first_count, 0, 77, 0)
            out += value + b"\x00" * (-len(value) % 4)
    return bytes(out)


SAMPLE_TAGS = [
    ("NumberOfImagesInMosaic", 1, "US", [b"35 "]),
    ("SliceNormalVector", 3, "FD", [b"0.0", b"0.10799944", b"0.99415095"]),
    ("ImageHistory", 0, "LT", [b"ChannelMixing", b"CC:SoS\x00junk", b""]),
    ("Empty", 1, "IS", []),
]
SAMPLE_PARSED = {
    "NumberOfImagesInMosaic": ["35"],
    "SliceNormalVector": ["0.0", "0.10799944", "0.99415095"],
    "ImageHistory": ["ChannelMixing", "CC:SoS"],
    "Empty": [],
}


def test_parse_csa2() -> None:
    assert parse_csa_header(_csa2(SAMPLE_TAGS)) == SAMPLE_PARSED


def test_parse_csa1() -> None:
    assert parse_csa_header(_csa1(SAMPLE_TAGS)) == SAMPLE_PARSED


def test_parse_csa1_skips_a_bad_item_length_and_reads_on() -> None:
    raw = bytearray(_csa1([("A", 1, "IS", [b"1"]), ("B", 1, "IS", [b"2"])]))
    second_tag = 8 + 84 + 16 + 4
    # Item of tag A claims more bytes than remain: A is empty, B still parses.
    struct.pack_into("<i", raw, 8 + 84, 1 << 20)
    raw[8 + 84 + 16 : second_tag] = b""  # the unread item body is absent
    assert parse_csa_header(bytes(raw)) == {"A": [], "B": ["2"]}


@pytest.mark.parametrize("make", [_csa2, _csa1], ids=["csa2", "csa1"])
def test_parse_truncated_headers_return_a_prefix(make: Any) -> None:
    raw = make(SAMPLE_TAGS)
    names = list(SAMPLE_PARSED)
    for length in range(len(raw) + 1):
        parsed = parse_csa_header(raw[:length])
        assert list(parsed) == names[: len(parsed)]
        # All but the last tag read are complete.
        for name in list(parsed)[:-1]:
            assert parsed[name] == SAMPLE_PARSED[name]


@needs_corpus
@pytest.mark.corpus
def test_parse_truncated_real_header() -> None:
    assert CORPUS is not None
    ds = pydicom.dcmread(CORPUS / "dcm_qa_ts/In/1.dcm", stop_before_pixels=True)
    raw = ds.private_block(0x0029, "SIEMENS CSA HEADER")[0x10].value
    full = parse_csa_header(raw)
    assert full["NumberOfImagesInMosaic"] == ["35"]
    assert len(full) == 83
    for length in [*range(0, 400), *range(400, len(raw), 37)]:
        parsed = parse_csa_header(raw[:length])
        for name in list(parsed)[:-1]:
            assert parsed[name] == full[name]


HOSTILE = [
    b"",
    b"SV10",
    b"SV10\x04\x03\x02\x01",
    b"\xff" * 7,
    # 4 billion tags, no bodies.
    b"SV10\x04\x03\x02\x01" + struct.pack("<2I", 0xFFFFFFFF, 77),
    struct.pack("<2I", 0xFFFFFFFF, 77) + b"\x00" * 200,
    # One tag claiming 2**31 - 1 items, then one item claiming 2**31 - 1 bytes.
    b"SV10\x04\x03\x02\x01"
    + struct.pack("<2I", 1, 77)
    + struct.pack("<64si4s3i", b"Big", 1, b"US", 3, 0x7FFFFFFF, 77)
    + struct.pack("<4i", 0x7FFFFFFF, 0x7FFFFFFF, 77, 0),
    # Negative counts and lengths.
    b"SV10\x04\x03\x02\x01"
    + struct.pack("<2I", 2, 77)
    + struct.pack("<64si4s3i", b"Neg", -5, b"US", 3, -1, 77)
    + struct.pack("<64si4s3i", b"NegLen", 1, b"US", 3, 1, 77)
    + struct.pack("<4i", 0, -8, 77, 0),
    struct.pack("<2I", 1, 77)
    + struct.pack("<64si4s3i", b"Neg1", 1, b"US", 3, 3, 77)
    + struct.pack("<4i", -100, 0, 77, 0) * 3,
]


@pytest.mark.parametrize("raw", HOSTILE, ids=range(len(HOSTILE)))
def test_parse_hostile_bytes_never_raises(raw: bytes) -> None:
    parsed = parse_csa_header(raw)
    assert isinstance(parsed, dict)
    assert all(isinstance(v, list) for v in parsed.values())
    assert sum(len(v) for v in parsed.values()) <= len(raw) // 16


def test_parse_random_garbage_never_raises() -> None:
    rng = np.random.default_rng(20240918)
    for _ in range(300):
        size = int(rng.integers(0, 2000))
        raw = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
        for candidate in (raw, b"SV10\x04\x03\x02\x01" + raw):
            assert isinstance(parse_csa_header(candidate), dict)
    # Random flips in a valid header.
    valid = bytearray(_csa2(SAMPLE_TAGS))
    for _ in range(300):
        mutated = bytearray(valid)
        for position in rng.integers(0, len(valid), 8):
            mutated[position] = int(rng.integers(0, 256))
        assert isinstance(parse_csa_header(bytes(mutated)), dict)


def test_parse_accepts_bytes_like() -> None:
    raw = _csa2(SAMPLE_TAGS)
    assert parse_csa_header(bytearray(raw)) == SAMPLE_PARSED  # type: ignore[arg-type]
    assert parse_csa_header(memoryview(raw)) == SAMPLE_PARSED  # type: ignore[arg-type]


# ------------------------------------------------------- synthetic mosaic datasets


def _mosaic_dataset(
    *,
    n_slices: int = 5,
    tile_shape: tuple[int, int] = (4, 6),
    csa_tags: list[tuple[str, int, str, list[bytes]]] | None = None,
    mr_header_count: int | None = None,
) -> Dataset:
    """A sagittal mosaic whose CSA normal points against cross(row, column)."""
    side = int(np.ceil(np.sqrt(n_slices)))
    ds = Dataset()
    ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "ND", "MOSAIC"]
    ds.Rows = side * tile_shape[0]
    ds.Columns = side * tile_shape[1]
    ds.ImageOrientationPatient = [0, 1, 0, 0, 0, -1]
    ds.ImagePositionPatient = [-61.2, -100.0, 80.0]
    ds.PixelSpacing = [2.0, 3.0]
    ds.SliceThickness = 3.0
    ds.SpacingBetweenSlices = 3.6
    if csa_tags is None:
        csa_tags = [
            ("NumberOfImagesInMosaic", 1, "US", [str(n_slices).encode()]),
            ("SliceNormalVector", 3, "FD", [b"1.0", b"0.0", b"0.0"]),
        ]
    if csa_tags:
        block = ds.private_block(0x0029, "SIEMENS CSA HEADER", create=True)
        block.add_new(0x10, "OB", _csa2(csa_tags))
    if mr_header_count is not None:
        block = ds.private_block(0x0019, "SIEMENS MR HEADER", create=True)
        block.add_new(0x0A, "US", mr_header_count)
    return ds


def test_synthetic_layout() -> None:
    layout = mosaic_layout(_mosaic_dataset())
    assert layout is not None
    assert (layout.n_slices, layout.tiles_per_side) == (5, 3)
    assert (layout.tile_rows, layout.tile_columns) == (4, 6)
    assert layout.pixel_spacing_mm == (2.0, 3.0)
    np.testing.assert_array_equal(layout.slice_normal_lps, [1.0, 0.0, 0.0])
    assert layout.slice_spacing_mm == 3.6
    # Mosaic 12 x 18 px, tile 4 x 6 px: move 6 columns along +y (3 mm each)
    # and 4 rows along -z (2 mm each).
    np.testing.assert_allclose(layout.first_position_lps, [-61.2, -82.0, 72.0])
    np.testing.assert_allclose(
        layout.slice_position_lps(4), [-61.2 + 4 * 3.6, -82.0, 72.0]
    )
    expected = np.array(
        [
            [0.0, 0.0, 3.6, -61.2],
            [3.0, 0.0, 0.0, -82.0],
            [0.0, -2.0, 0.0, 72.0],
            [0.0, 0.0, 0.0, 1.0],
        ]
    )
    np.testing.assert_allclose(layout.ijk_to_lps(), expected)
    with pytest.raises(ValueError, match="read-only"):
        layout.first_position_lps[0] = 0.0


def test_mr_header_count_and_cross_product_fallback() -> None:
    ds = _mosaic_dataset(csa_tags=[], mr_header_count=5)
    layout = mosaic_layout(ds)
    assert layout is not None
    assert layout.n_slices == 5
    # Without SliceNormalVector the normal is cross(row, column) = -x here.
    np.testing.assert_array_equal(layout.slice_normal_lps, [-1.0, 0.0, 0.0])


def test_csa_count_wins_over_mr_header() -> None:
    layout = mosaic_layout(_mosaic_dataset(mr_header_count=9))
    assert layout is not None
    assert layout.n_slices == 5


def test_mr_header_count_read_as_un_bytes() -> None:
    ds = _mosaic_dataset(csa_tags=[])
    block = ds.private_block(0x0019, "SIEMENS MR HEADER", create=True)
    block.add_new(0x0A, "UN", struct.pack("<H", 5))
    layout = mosaic_layout(ds)
    assert layout is not None
    assert layout.n_slices == 5


def test_oblique_csa_normal_is_ignored() -> None:
    tags = [
        ("NumberOfImagesInMosaic", 1, "US", [b"5"]),
        ("SliceNormalVector", 3, "FD", [b"0.7", b"0.7", b"0.0"]),
    ]
    layout = mosaic_layout(_mosaic_dataset(csa_tags=tags))
    assert layout is not None
    np.testing.assert_array_equal(layout.slice_normal_lps, [-1.0, 0.0, 0.0])


def test_slice_thickness_fallback() -> None:
    ds = _mosaic_dataset()
    del ds.SpacingBetweenSlices
    layout = mosaic_layout(ds)
    assert layout is not None
    assert layout.slice_spacing_mm == 3.0


def _without(ds: Dataset, keyword: str) -> Dataset:
    delattr(ds, keyword)
    return ds


@pytest.mark.parametrize(
    "ds",
    [
        pytest.param(pydicom.examples.mr, id="not-siemens-mr"),
        pytest.param(_mosaic_dataset(csa_tags=[]), id="no-count"),
        pytest.param(_without(_mosaic_dataset(), "ImageType"), id="no-image-type"),
        pytest.param(
            _without(_mosaic_dataset(), "ImagePositionPatient"), id="no-position"
        ),
        pytest.param(
            _without(_mosaic_dataset(), "ImageOrientationPatient"), id="no-orientation"
        ),
        pytest.param(_without(_mosaic_dataset(), "PixelSpacing"), id="no-spacing"),
        pytest.param(
            _without(
                _without(_mosaic_dataset(), "SpacingBetweenSlices"), "SliceThickness"
            ),
            id="no-slice-spacing",
        ),
        pytest.param(
            _mosaic_dataset(csa_tags=[("NumberOfImagesInMosaic", 1, "US", [b"10"])]),
            id="rows-not-divisible",
        ),
        pytest.param(
            _mosaic_dataset(csa_tags=[("NumberOfImagesInMosaic", 1, "US", [b"0"])]),
            id="zero-count",
        ),
        pytest.param(
            _mosaic_dataset(csa_tags=[("NumberOfImagesInMosaic", 1, "US", [b"x"])]),
            id="garbage-count",
        ),
    ],
)
def test_not_a_usable_mosaic(ds: Dataset) -> None:
    assert mosaic_layout(ds) is None


def test_image_type_single_value() -> None:
    ds = _mosaic_dataset()
    ds.ImageType = "MOSAIC"
    assert mosaic_layout(ds) is not None


# ---------------------------------------------------------------- unpack_mosaic


def test_unpack_mosaic_row_major_tiles() -> None:
    layout = mosaic_layout(_mosaic_dataset(n_slices=5, tile_shape=(4, 6)))
    assert layout is not None
    side, rows, cols = 3, 4, 6
    r, c = np.indices((side * rows, side * cols))
    # Encode tile, row in tile and column in tile in each pixel value.
    tile = (r // rows) * side + (c // cols)
    frame = (tile * 10000 + (r % rows) * 100 + (c % cols)).astype(np.int32)
    slices = unpack_mosaic(frame, layout)
    assert slices.shape == (5, rows, cols)
    assert slices.dtype == np.int32
    k, j, i = np.indices(slices.shape)
    np.testing.assert_array_equal(slices, k * 10000 + j * 100 + i)


def test_unpack_mosaic_rejects_wrong_shape() -> None:
    layout = mosaic_layout(_mosaic_dataset())
    assert layout is not None
    with pytest.raises(ValueError, match="shape"):
        unpack_mosaic(np.zeros((12, 17), dtype=np.uint16), layout)
