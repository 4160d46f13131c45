"""Tests for imaging_viewer.core.overlay_text: exact corner lines, synthetic, real."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pydicom
import pytest

from imaging_viewer.core.dicom.load import load_volume
from imaging_viewer.core.dicom.scan import scan_folder
from imaging_viewer.core.overlay_text import (
    CORNERS,
    PATIENT_FIELDS,
    corner_text,
    format_age,
    format_date,
    format_person_name,
    format_time,
)
from imaging_viewer.core.render import CT_PRESETS
from imaging_viewer.core.viewer_state import ViewportState
from imaging_viewer.core.volume import VoiLut

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import MakeSeries, SyntheticSeries


def viewport_for(path: Path) -> ViewportState:
    """A viewport showing the first series under ``path``, as the viewer opens it."""
    info = scan_folder(path).series[0]
    viewport = ViewportState()
    viewport.show(info, load_volume(info))
    return viewport


def synthetic_viewport(make_series: MakeSeries, **kwargs: object) -> ViewportState:
    series: SyntheticSeries = make_series(**kwargs)
    return viewport_for(series.folder)


# --- value formatting (PS3.5 6.2) ---


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Doe^John", "Doe, John"),
        ("Doe^John^^Dr^", "Doe, John, Dr"),
        ("Yamada^Tarou=山田^太郎=やまだ^たろう", "Yamada, Tarou"),
        ("=山田^太郎", "山田, 太郎"),
        ("Anonymized", "Anonymized"),
        ("", ""),
        ("^^", ""),
    ],
)
def test_format_person_name(value: str, expected: str) -> None:
    assert format_person_name(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("20240102", "2024-01-02"),
        ("2024.01.02", "2024-01-02"),
        (" 20150206 ", "2015-02-06"),
        ("", ""),
        ("2024", "2024"),
    ],
)
def test_format_date(value: str, expected: str) -> None:
    assert format_date(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120000", "12:00:00"),
        ("092815.672", "09:28:15"),
        ("143046.000000", "14:30:46"),
        ("1430", "14:30"),
        ("14", "14"),
        ("12:00:00", "12:00:00"),
        ("", ""),
    ],
)
def test_format_time(value: str, expected: str) -> None:
    assert format_time(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("045Y", "45Y"), ("003M", "3M"), ("010D", "10D"), ("0Y", "0Y"), ("", "")],
)
def test_format_age(value: str, expected: str) -> None:
    assert format_age(value) == expected


# --- synthetic series ---


def test_corner_text_of_a_synthetic_ct(make_series: MakeSeries) -> None:
    # slices at z = 20, 22.5, ... 30 (axial: the normal is +S)
    viewport = synthetic_viewport(make_series, window=(40.0, 400.0))
    assert viewport.slice_index == 2
    assert corner_text(viewport) == {
        "top_left": ["Synthetic, Series", "ID SYN0001", "O"],
        "top_right": [
            "imaging_viewer tests",
            "2024-01-02 12:00:00",
            "Se 1: synthetic CT 5x6x7",
            "CT",
        ],
        "bottom_left": ["Im 3/5", "Loc 25 mm", "Sp 2.5 mm"],
        "bottom_right": ["W 400 L 40", "header 1/1"],
    }
    # A viewport keeps the series' corners and recomputes the others.
    whole = corner_text(viewport, zoom=1.5)
    top = corner_text(viewport, corners=("top_right", "top_left"))
    bottom = corner_text(viewport, zoom=1.5, corners=("bottom_left", "bottom_right"))
    assert list(top) == ["top_left", "top_right"]
    assert {**top, **bottom} == whole
    with pytest.raises(ValueError, match="unknown corners"):
        corner_text(viewport, corners=("middle",))


def test_corner_text_follows_slice_zoom_window_and_inversion(
    make_series: MakeSeries,
) -> None:
    viewport = synthetic_viewport(make_series, window=(40.0, 400.0))
    viewport.set_slice(0)
    viewport.apply_preset("Bone")
    viewport.invert = True
    texts = corner_text(viewport, zoom=1.5)
    assert texts["bottom_left"] == ["Im 1/5", "Loc 20 mm", "Sp 2.5 mm"]
    assert texts["bottom_right"] == [
        "W 2000 L 500",
        "preset Bone",
        "Zoom 150%",
        "Inverted",
    ]
    viewport.set_slice(4)
    viewport.set_window(CT_PRESETS["Lung"], "manual")
    texts = corner_text(viewport, zoom=0.333)
    assert texts["bottom_left"] == ["Im 5/5", "Loc 30 mm", "Sp 2.5 mm"]
    assert texts["bottom_right"] == ["W 1500 L -600", "manual", "Zoom 33%", "Inverted"]


def test_flips_and_rotation_do_not_change_the_text(make_series: MakeSeries) -> None:
    viewport = synthetic_viewport(make_series)
    before = corner_text(viewport)
    viewport.flip_horizontal = True
    viewport.flip_vertical = True
    viewport.rotation_quarters = 3
    assert corner_text(viewport) == before


def test_voi_lut_window(make_series: MakeSeries) -> None:
    viewport = synthetic_viewport(make_series)
    lut = VoiLut(first_mapped=-1024, bits=8, table=np.arange(256, dtype=np.uint16))
    viewport.window = lut
    viewport.window_label = "header VOI LUT"
    assert corner_text(viewport)["bottom_right"] == ["VOI LUT", "header VOI LUT"]


def test_location_is_along_the_slice_normal(make_series: MakeSeries) -> None:
    # Sagittal: rows along +P, columns along -S, so the normal is P x (-S) = -L (R).
    # Slice k sits at L = -40 - 2.5 k, i.e. 40 + 2.5 k mm along the normal.
    viewport = synthetic_viewport(
        make_series, orientation=(0.0, 1.0, 0.0, 0.0, 0.0, -1.0), shape=(4, 6, 7)
    )
    viewport.set_slice(3)
    assert corner_text(viewport)["bottom_left"] == [
        "Im 4/4",
        "Loc 47.5 mm",
        "Sp 2.5 mm",
    ]


@pytest.mark.parametrize(
    ("mode", "line"),
    [
        ("mip", "MIP 7.5 mm slab"),
        ("minip", "MinIP 7.5 mm slab"),
        ("mean", "Mean 7.5 mm slab"),
    ],
)
def test_a_thick_slab_is_named_with_its_projection(
    make_series: MakeSeries, mode: str, line: str
) -> None:
    viewport = synthetic_viewport(make_series)
    viewport.slab_mm = 7.5
    viewport.slab_mode = mode
    assert corner_text(viewport)["bottom_left"] == [
        "Im 3/5",
        "Loc 25 mm",
        "Sp 2.5 mm",
        line,
    ]
    viewport.slab_mm = 0.0
    assert corner_text(viewport)["bottom_left"] == ["Im 3/5", "Loc 25 mm", "Sp 2.5 mm"]


def test_time_points(make_series: MakeSeries) -> None:
    viewport = synthetic_viewport(make_series, time_points=3)
    viewport.set_time(1)
    assert corner_text(viewport)["bottom_left"] == [
        "Im 3/5",
        "Time 2/3",
        "Loc 25 mm",
        "Sp 2.5 mm",
    ]


def test_patient_details(make_series: MakeSeries) -> None:
    viewport = synthetic_viewport(
        make_series,
        tags={
            "PatientName": "Doe^Jane^^Ms",
            "PatientID": "P-123",
            "PatientSex": "F",
            "PatientAge": "017Y",
            "PatientBirthDate": "20070304",
            "AccessionNumber": "ACC42",
            "StudyDescription": "KNEE LEFT",
            "StudyTime": "083000.5",
            "SeriesDescription": "T1 SAG",
            "SeriesNumber": 7,
        },
    )
    texts = corner_text(viewport)
    assert texts["top_left"] == ["Doe, Jane, Ms", "ID P-123", "F, 17Y"]
    assert texts["top_right"] == [
        "imaging_viewer tests",
        "2024-01-02 08:30:00",
        "Acc ACC42",
        "KNEE LEFT",
        "Se 7: T1 SAG",
        "CT",
    ]


def test_birth_date_stands_in_for_a_missing_age(make_series: MakeSeries) -> None:
    viewport = synthetic_viewport(
        make_series, tags={"PatientSex": "M", "PatientBirthDate": "19790203"}
    )
    assert corner_text(viewport)["top_left"][-1] == "M, born 1979-02-03"


def test_without_patient_data_only_technical_lines_remain(
    make_series: MakeSeries,
) -> None:
    viewport = synthetic_viewport(
        make_series,
        window=(40.0, 400.0),
        tags={
            "PatientName": "Doe^Jane",
            "PatientID": "P-123",
            "PatientSex": "F",
            "PatientAge": "017Y",
            "PatientBirthDate": "20070304",
            "AccessionNumber": "ACC42",
            "StudyDescription": "KNEE LEFT",
            "SeriesDescription": "T1 SAG",
        },
    )
    full = corner_text(viewport, include_patient=True)
    texts = corner_text(viewport, include_patient=False)
    assert texts == {
        "top_left": [],
        "top_right": ["imaging_viewer tests", "Se 1", "CT"],
        "bottom_left": ["Im 3/5", "Loc 25 mm", "Sp 2.5 mm"],
        "bottom_right": ["W 400 L 40", "header 1/1"],
    }
    everything = "\n".join(line for lines in texts.values() for line in lines)
    for secret in ("Doe", "Jane", "P-123", "17Y", "2024", "ACC42", "KNEE", "T1"):
        assert secret not in everything
        assert any(secret in line for lines in full.values() for line in lines)


def test_patient_fields_name_series_attributes(make_series: MakeSeries) -> None:
    info = scan_folder(make_series().folder).series[0]
    known = set(info.__dataclass_fields__)
    # institution_name is shown when SeriesInfo carries it.
    assert PATIENT_FIELDS - {"institution_name"} <= known


def test_empty_viewport() -> None:
    assert corner_text(ViewportState()) == {corner: [] for corner in CORNERS}


def test_loading_viewport_shows_the_series_lines(make_series: MakeSeries) -> None:
    info = scan_folder(make_series().folder).series[0]
    viewport = ViewportState(series=info, loading=True)
    texts = corner_text(viewport)
    assert texts["top_left"] == ["Synthetic, Series", "ID SYN0001", "O"]
    assert texts["bottom_left"] == []


# --- sample_data ---


def test_sample_ct(sample_data: Path) -> None:
    viewport = viewport_for(sample_data / "CT")
    # Independently: the slice positions along the normal from pydicom, sorted.
    locations = []
    for path in (sample_data / "CT").iterdir():
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        orientation = np.array(ds.ImageOrientationPatient, dtype=float)
        normal = np.cross(orientation[:3], orientation[3:])
        locations.append(
            float(np.dot(np.array(ds.ImagePositionPatient, float), normal))
        )
    locations.sort()
    middle = locations[14]
    steps = np.diff(locations)
    assert f"{middle:.2f}" == "766.21"
    assert np.allclose(steps, 5.0)
    assert corner_text(viewport, zoom=1.0) == {
        "top_left": ["HEAD", "ID PLASTIC", "M"],
        "top_right": [
            "Philips",
            "2015-02-06 09:28:15",
            "1A TRAUMA/PLAIN HEAD DM",
            "Se 201: STD BRAIN 5MM",
            "CT",
        ],
        "bottom_left": ["Im 15/28", "Loc 766.21 mm", "Sp 5 mm"],
        "bottom_right": ["W 80 L 40", "header 1/2", "Zoom 100%"],
    }
    assert corner_text(viewport, include_patient=False) == {
        "top_left": [],
        "top_right": ["Philips", "Se 201", "CT"],
        "bottom_left": ["Im 15/28", "Loc 766.21 mm", "Sp 5 mm"],
        "bottom_right": ["W 80 L 40", "header 1/2"],
    }


def test_sample_projection_radiographs(sample_data: Path) -> None:
    hip = viewport_for(sample_data / "XR" / "RG2_JPLL.dcm")
    assert corner_text(hip) == {
        "top_left": ["CompressedSamples, RG2", "ID 10RG2", "M"],
        "top_right": [
            "Fuji Photo Film Co.,Ltd.",
            "2004-08-26 18:50:59",
            "HIP JOINT",
            "Se 1",
            "CR",
        ],
        "bottom_left": ["Im 1/1", "spacing: PixelSpacing"],
        "bottom_right": ["W 1024 L 511", "header 1/1"],
    }
    chest = viewport_for(sample_data / "XR" / "gdcm-CR-MONO1-10-chest.dcm")
    assert corner_text(chest) == {
        "top_left": ["Anonymized"],
        "top_right": ["FUJI PHOTO FILM CO. LTD.", "Acc FUJI95714", "CR"],
        "bottom_left": ["Im 1/1", "spacing: none (pixels)"],
        "bottom_right": ["W 1024 L 550", "header 1/1"],
    }
    assert corner_text(chest, include_patient=False)["top_right"] == [
        "FUJI PHOTO FILM CO. LTD.",
        "CR",
    ]


def test_imager_pixel_spacing_is_named(make_series: MakeSeries, tmp_path: Path) -> None:
    # A projection radiograph: no position or orientation, ImagerPixelSpacing only.
    series = make_series(shape=(1, 6, 7))
    ds = pydicom.dcmread(series.files[0])
    for keyword in (
        "ImagePositionPatient",
        "ImageOrientationPatient",
        "PixelSpacing",
        "SliceLocation",
    ):
        delattr(ds, keyword)
    ds.Modality = "DX"
    ds.ImagerPixelSpacing = [0.15, 0.15]
    ds.PatientOrientation = ["L", "F"]
    target = tmp_path / "dx.dcm"
    ds.save_as(target)
    viewport = viewport_for(target)
    texts = corner_text(viewport)
    assert texts["bottom_left"] == ["Im 1/1", "spacing: ImagerPixelSpacing"]
    assert texts["top_right"][-1] == "DX"


def test_a_volume_let_go_is_not_kept_by_cached_slices(make_series: MakeSeries) -> None:
    import gc
    import weakref

    viewport = synthetic_viewport(make_series)
    volume = viewport.volume
    assert volume is not None
    assert viewport.pixel_to_lps() is viewport.pixel_to_lps()  # cached per slice
    gone = weakref.ref(volume.voxels)
    viewport.volume = None
    del volume
    gc.collect()
    assert gone() is None


def _bottom_left(make_series: MakeSeries, **kwargs: object) -> list[str]:
    return corner_text(synthetic_viewport(make_series, **kwargs))["bottom_left"]


def test_resampled_slices_say_why_in_the_corner(make_series: MakeSeries) -> None:
    # The acquired slices were not shown as they are: the reader is told.
    step = 2.5
    tilt = [
        (-40.0, -30.0 + k * step * math.tan(math.radians(20)), 20.0 + k * step)
        for k in range(6)
    ]
    lines = _bottom_left(make_series, shape=(6, 6, 7), positions=tilt, folder="t")
    assert lines[-1] == "resampled: tilt 20.0°"
    lines = _bottom_left(make_series, shape=(6, 6, 7), missing=[2], folder="m")
    assert lines[-1] == "resampled: 1 missing slice"
    uneven = [(-40.0, -30.0, z) for z in (20.0, 22.5, 25.0, 28.1, 30.0, 32.5)]
    lines = _bottom_left(make_series, shape=(6, 6, 7), positions=uneven, folder="u")
    assert lines[-1] == "resampled: uneven spacing"
    # An even, untilted stack says nothing of the kind.
    assert not any(line.startswith("resampled") for line in _bottom_left(make_series))
