"""make_series, checked against pydicom, SimpleITK and dciodvfy: never our code."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pydicom
import pytest
from pydicom.pixels import apply_rescale
from pydicom.uid import (
    CTImageStorage,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    MRImageStorage,
    RLELossless,
)

COS30 = float(np.cos(np.radians(30)))
SIN30 = 0.5
OBLIQUE = (
    COS30,
    SIN30,
    0.0,
    0.0,
    0.0,
    -1.0,
)  # rows rotated in the axial plane; j → feet


def read(path):
    return pydicom.dcmread(path)


def modality_pixels(ds):
    return apply_rescale(ds.pixel_array, ds)


def pixel_lps(ds, column, row):
    """PS3.3 C.7.6.2.1.1 equation: the centre of pixel (column, row) in LPS."""
    position = np.array(ds.ImagePositionPatient, dtype=float)
    orientation = np.array(ds.ImageOrientationPatient, dtype=float)
    row_spacing, column_spacing = (float(v) for v in ds.PixelSpacing)
    return (
        position
        + column * column_spacing * orientation[:3]
        + row * row_spacing * orientation[3:]
    )


def to_lps(affine, i, j, k):
    return (affine @ np.array([i, j, k, 1.0]))[:3]


def test_default_series_matches_pydicom(make_series):
    series = make_series()

    assert series.voxels.shape == (5, 6, 7)
    assert len(series.files) == 5
    assert {p.parent for p in series.files} == {series.folder}
    for path in series.files:
        assert path.read_bytes()[128:132] == b"DICM"  # a Part 10 file with preamble
        ds = read(path)
        _, k = series.slice_of[path]
        assert ds.SOPClassUID == CTImageStorage
        assert ds.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        assert (ds.Rows, ds.Columns) == (6, 7)
        assert ds.SeriesInstanceUID == series.series_uid
        assert ds.StudyInstanceUID == series.study_uid
        assert ds.FrameOfReferenceUID == series.frame_of_reference_uid
        assert ds.PatientName == "Synthetic^Series"
        assert ds.PatientID
        np.testing.assert_array_equal(ds.ImagePositionPatient, series.positions_lps[k])
        np.testing.assert_array_equal(modality_pixels(ds), series.voxels[k])
        assert ds.pixel_array.dtype == np.int16
        for column, row in [(0, 0), (6, 0), (0, 5), (6, 5), (3, 2)]:
            np.testing.assert_allclose(
                to_lps(series.ijk_to_lps, column, row, k),
                pixel_lps(ds, column, row),
                atol=1e-9,
            )
        assert float(ds.WindowCenter) == series.window[0]
        assert float(ds.WindowWidth) == series.window[1]
    # default geometry: axial, (0.8, 0.6, 2.5) mm, slices toward the head
    np.testing.assert_allclose(
        series.ijk_to_lps,
        [[0.8, 0, 0, -40], [0, 0.6, 0, -30], [0, 0, 2.5, 20], [0, 0, 0, 1]],
    )
    assert read(series.files[0]).PixelSpacing == [0.6, 0.8]  # [row, column] spacing


def test_voxels_follow_the_documented_formula(make_series):
    series = make_series(shape=(3, 4, 5))
    k, j, i = np.meshgrid(range(3), range(4), range(5), indexing="ij")
    np.testing.assert_array_equal(series.stored, (i + 7 * j + 31 * k) % 4096 - 1024)
    np.testing.assert_array_equal(series.voxels, series.stored)  # CT int16: (1, 0)


def test_custom_values_and_fractional_rescale(make_series):
    series = make_series(
        shape=(2, 3, 4),
        dtype=np.uint16,
        rescale=(0.5, -100.0),
        values=lambda i, j, k, t: 1000 + i * 100 + j * 10 + k,
    )
    ds = read(series.files[1])
    assert ds.PixelRepresentation == 0
    assert (float(ds.RescaleSlope), float(ds.RescaleIntercept)) == (0.5, -100.0)
    assert series.voxels[1, 2, 3] == (1000 + 300 + 20 + 1) * 0.5 - 100
    np.testing.assert_array_equal(modality_pixels(ds), series.voxels[1])


def test_uint16_ct_default_rescale_gives_hu(make_series):
    series = make_series(dtype=np.uint16)
    assert series.rescale == (1.0, -1024.0)
    assert series.voxels.min() == -1024
    np.testing.assert_array_equal(
        modality_pixels(read(series.files[0])), series.voxels[0]
    )


def test_shuffle_hides_the_order_in_names(make_series):
    shuffled = make_series(shape=(12, 2, 2), folder="shuffled")
    ordered = make_series(shape=(12, 2, 2), folder="ordered", shuffle=False)
    assert sorted(ordered.files) == list(ordered.files)
    assert sorted(shuffled.files) != list(shuffled.files)
    assert sorted(shuffled.files) == sorted(shuffled.folder.iterdir())


def test_instance_numbers(make_series):
    def numbers(series):
        return [int(read(p).InstanceNumber) for p in series.files]

    assert numbers(make_series(folder="a")) == [1, 2, 3, 4, 5]
    assert numbers(make_series(folder="b", instance_order="reversed")) == [
        5,
        4,
        3,
        2,
        1,
    ]
    random_numbers = numbers(make_series(folder="c", instance_order="random", seed=3))
    assert sorted(random_numbers) == [1, 2, 3, 4, 5]


def test_missing_and_duplicate_slices(make_series):
    series = make_series(shape=(6, 3, 3), missing=[2], duplicate=[4])
    ks = [series.slice_of[p][1] for p in series.files]
    assert ks == [0, 1, 3, 4, 4, 5]
    assert series.voxels.shape == (6, 3, 3)  # the truth keeps the whole grid
    first, second = (read(p) for p in series.files[3:5])
    assert first.SOPInstanceUID != second.SOPInstanceUID
    assert first.ImagePositionPatient == second.ImagePositionPatient
    np.testing.assert_array_equal(first.pixel_array, second.pixel_array)
    assert int(second.InstanceNumber) == 7  # after the 6 regular numbers
    positions = {tuple(read(p).ImagePositionPatient) for p in series.files}
    assert tuple(series.positions_lps[2]) not in positions


def test_gantry_tilt_positions_shear_the_affine(make_series):
    tilt = np.radians(18.5)
    positions = [(-50.0, -60.0 + k * 3 * np.tan(tilt), 10.0 + 3 * k) for k in range(4)]
    series = make_series(shape=(4, 5, 5), positions=positions, spacing_mm=(1, 1, 3))
    for path in series.files:
        ds = read(path)
        k = series.slice_of[path][1]
        np.testing.assert_allclose(ds.ImagePositionPatient, positions[k], atol=1e-9)
        np.testing.assert_allclose(
            to_lps(series.ijk_to_lps, 0, 0, k), ds.ImagePositionPatient, atol=1e-9
        )
    slice_step = series.ijk_to_lps[:3, 2]
    np.testing.assert_allclose(slice_step, [0, 3 * np.tan(tilt), 3], atol=1e-9)
    # sheared: the step leaves the axial slice normal (0, 0, 1) by the tilt angle
    cos_angle = slice_step[2] / np.linalg.norm(slice_step)
    np.testing.assert_allclose(cos_angle, np.cos(tilt))


def test_irregular_spacing(make_series):
    z = [0.0, 1.0, 2.5, 7.0]
    series = make_series(shape=(4, 2, 2), positions=[(0, 0, v) for v in z])
    got = sorted(float(read(p).ImagePositionPatient[2]) for p in series.files)
    assert got == z
    np.testing.assert_allclose(series.ijk_to_lps[:3, 2], [0, 0, 7.0 / 3])  # mean step


def test_oblique_orientation(make_series):
    series = make_series(orientation=OBLIQUE, shuffle=False)
    ds = read(series.files[0])
    assert len(str(ds["ImageOrientationPatient"].value[0])) <= 16
    np.testing.assert_allclose(ds.ImageOrientationPatient, OBLIQUE, atol=1e-12)
    normal = np.cross(OBLIQUE[:3], OBLIQUE[3:])
    np.testing.assert_allclose(series.ijk_to_lps[:3, 2], 2.5 * normal, atol=1e-9)
    for path in series.files:
        ds = read(path)
        k = series.slice_of[path][1]
        np.testing.assert_allclose(
            to_lps(series.ijk_to_lps, 6, 5, k), pixel_lps(ds, 6, 5), atol=1e-9
        )


def test_time_points(make_series):
    series = make_series(shape=(3, 2, 2), time_points=4, modality="MR")
    assert series.voxels.shape == (4, 3, 2, 2)
    assert series.n_time_points == 4
    assert len(series.files) == 12
    for path in series.files:
        ds = read(path)
        t, k = series.slice_of[path]
        assert int(ds.TemporalPositionIdentifier) == t + 1
        assert int(ds.NumberOfTemporalPositions) == 4
        np.testing.assert_array_equal(ds.ImagePositionPatient, series.positions_lps[k])
        np.testing.assert_array_equal(modality_pixels(ds), series.voxels[t, k])
    np.testing.assert_array_equal(series.voxels[1] - series.voxels[0], 211)


def test_mr_has_no_modality_lut(make_series):
    series = make_series(modality="MR")
    ds = read(series.files[0])
    assert ds.SOPClassUID == MRImageStorage
    assert "RescaleSlope" not in ds
    assert series.rescale == (1.0, 0.0)
    np.testing.assert_array_equal(modality_pixels(ds), series.voxels[0])


def test_monochrome1_keeps_the_values(make_series):
    series = make_series(photometric="MONOCHROME1")
    ds = read(series.files[0])
    assert ds.PhotometricInterpretation == "MONOCHROME1"
    np.testing.assert_array_equal(modality_pixels(ds), series.voxels[0])


@pytest.mark.parametrize(
    "syntax",
    [
        ImplicitVRLittleEndian,
        ExplicitVRLittleEndian,
        ExplicitVRBigEndian,
        DeflatedExplicitVRLittleEndian,
        RLELossless,
        JPEG2000Lossless,
    ],
    ids=lambda uid: uid.keyword,
)
@pytest.mark.parametrize("dtype", [np.int16, np.uint16])
def test_transfer_syntaxes(make_series, syntax, dtype):
    # at least 32 pixels a side: JPEG 2000 uses 6 resolution levels by default
    series = make_series(shape=(2, 40, 33), transfer_syntax=syntax, dtype=dtype)
    for path in series.files:
        ds = read(path)
        assert ds.file_meta.TransferSyntaxUID == syntax
        np.testing.assert_array_equal(
            modality_pixels(ds), series.voxels[series.slice_of[path][1]]
        )


def test_several_series_in_one_folder(make_series):
    axial = make_series(folder="mixed", series_number=1)
    localizer = make_series(
        shape=(1, 4, 4),
        orientation=(1, 0, 0, 0, 0, -1),
        folder="mixed",
        series_number=2,
        tags={"ImageType": ["ORIGINAL", "PRIMARY", "LOCALIZER"]},
    )
    assert axial.folder == localizer.folder
    assert len(list(axial.folder.iterdir())) == 6
    assert axial.series_uid != localizer.series_uid
    assert axial.study_uid == localizer.study_uid
    assert axial.frame_of_reference_uid == localizer.frame_of_reference_uid
    assert read(localizer.files[0]).ImageType[2] == "LOCALIZER"
    with pytest.raises(FileExistsError):
        make_series(folder="mixed", series_number=1)


def test_bad_arguments(make_series):
    with pytest.raises(ValueError, match="dtype"):
        make_series(dtype=np.float32)
    with pytest.raises(ValueError, match="modality"):
        make_series(modality="US")
    with pytest.raises(ValueError, match="outside"):
        make_series(missing=[9])
    with pytest.raises(ValueError, match="positions"):
        make_series(positions=[(0, 0, 0)])


def test_simpleitk_reads_the_same_geometry_and_voxels(make_series):
    sitk = pytest.importorskip("SimpleITK")
    series = make_series(shape=(6, 8, 10), orientation=OBLIQUE, dtype=np.uint16)
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(series.folder)))
    image = reader.Execute()
    spacing = np.linalg.norm(series.ijk_to_lps[:3, :3], axis=0)
    np.testing.assert_allclose(image.GetOrigin(), series.ijk_to_lps[:3, 3], atol=1e-6)
    np.testing.assert_allclose(image.GetSpacing(), spacing, atol=1e-6)
    np.testing.assert_allclose(
        np.reshape(image.GetDirection(), (3, 3)),
        series.ijk_to_lps[:3, :3] / spacing,
        atol=1e-6,
    )
    np.testing.assert_array_equal(sitk.GetArrayFromImage(image), series.voxels)


@pytest.mark.skipif(
    shutil.which("dciodvfy") is None, reason="dicom3tools not installed"
)
@pytest.mark.parametrize(
    "kwargs",
    [
        {"modality": "CT"},
        {"modality": "MR", "time_points": 2},
        {
            "modality": "CT",
            "transfer_syntax": RLELossless,
            "photometric": "MONOCHROME1",
        },
        {"modality": "CT", "transfer_syntax": ExplicitVRBigEndian, "dtype": np.uint16},
    ],
    ids=["ct", "mr-4d", "ct-rle-mono1", "ct-big-endian"],
)
def test_headers_pass_dciodvfy(make_series, kwargs):
    series = make_series(**kwargs)
    result = subprocess.run(
        ["dciodvfy", str(series.files[0])], capture_output=True, text=True, check=False
    )
    report = result.stdout + result.stderr
    assert "Error" not in report, report
    assert "Warning" not in report, report
