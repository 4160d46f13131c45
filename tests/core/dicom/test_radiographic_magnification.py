"""Spacing of projection radiographs: Pixel Spacing, else Imager Pixel Spacing
corrected by the Estimated Radiographic Magnification Factor, else Imager Pixel
Spacing at the detector (PS3.3 10.7.1.1, C.8.11.1.1.1).

The corpus has a DX with Imager Pixel Spacing only and none with the factor: the
factor is set on a copy. Expected spacings are computed from the pydicom dataset.
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

import numpy as np
import pydicom
import pytest

from imaging_viewer.core.annotations.measure import measure, spacing_note
from imaging_viewer.core.annotations.model import Ruler
from imaging_viewer.core.dicom.load import load_volume
from imaging_viewer.core.dicom.scan import scan_folder
from imaging_viewer.core.overlay_text import corner_text
from imaging_viewer.core.viewer_state import ViewportState

if TYPE_CHECKING:
    from pathlib import Path

    from imaging_viewer.core.volume import Volume

DX_IMAGER_ONLY = (
    "pylibjpeg_data/ljdata/ds/JPEG2000Lossless/JPEG2KLossless_1s_1f_u_16_16.dcm"
)


def _copy(corpus: Path, tmp_path: Path, **attributes: object) -> Path:
    folder = tmp_path / "dx"
    folder.mkdir()
    target = folder / "dx.dcm"
    if not attributes:
        shutil.copy(corpus / DX_IMAGER_ONLY, target)
        return folder
    ds = pydicom.dcmread(corpus / DX_IMAGER_ONLY)
    for keyword, value in attributes.items():
        setattr(ds, keyword, value)
    ds.save_as(target)
    return folder


def _open(folder: Path) -> tuple[ViewportState, Volume]:
    (info,) = scan_folder(folder).series
    volume = load_volume(info)
    viewport = ViewportState()
    viewport.show(info, volume)
    return viewport, volume


def _row_column_spacing(volume: Volume) -> tuple[float, float]:
    axes = volume.ijk_to_lps[:3, :3]
    return float(np.linalg.norm(axes[:, 1])), float(np.linalg.norm(axes[:, 0]))


def _ruler_of(volume: Volume, columns: int) -> Ruler:
    start = volume.ijk_to_lps @ np.array([0.0, 0.0, 0.0, 1.0])
    end = volume.ijk_to_lps @ np.array([float(columns), 0.0, 0.0, 1.0])
    return Ruler(
        lesion_id="a",
        plane_normal_lps=(0, 1, 0),
        start_lps=tuple(start[:3]),
        end_lps=tuple(end[:3]),
    )


def test_imager_pixel_spacing_alone_is_at_the_detector(
    corpus: Path, tmp_path: Path
) -> None:
    folder = _copy(corpus, tmp_path)
    ds = pydicom.dcmread(folder / "dx.dcm", stop_before_pixels=True)
    assert "PixelSpacing" not in ds
    assert "EstimatedRadiographicMagnificationFactor" not in ds
    viewport, volume = _open(folder)
    expected = tuple(float(v) for v in ds.ImagerPixelSpacing)
    assert _row_column_spacing(volume) == pytest.approx(expected)
    assert spacing_note(volume.spacing_source) == "at detector"
    (length,) = measure(_ruler_of(volume, 100), spacing_source=volume.spacing_source)
    assert length.value == pytest.approx(100 * expected[1])
    assert "spacing: ImagerPixelSpacing" in corner_text(viewport)["bottom_left"]


def test_imager_pixel_spacing_is_divided_by_the_ermf(
    corpus: Path, tmp_path: Path
) -> None:
    folder = _copy(corpus, tmp_path, EstimatedRadiographicMagnificationFactor=1.25)
    ds = pydicom.dcmread(folder / "dx.dcm", stop_before_pixels=True)
    factor = float(ds.EstimatedRadiographicMagnificationFactor)
    expected = tuple(float(v) / factor for v in ds.ImagerPixelSpacing)
    viewport, volume = _open(folder)
    assert _row_column_spacing(volume) == pytest.approx(expected)
    assert spacing_note(volume.spacing_source) == "×1/ERMF"
    assert "1.25" in volume.spacing_source
    (length,) = measure(_ruler_of(volume, 100), spacing_source=volume.spacing_source)
    assert length.value == pytest.approx(100 * expected[1])
    assert length.spacing_source == volume.spacing_source
    assert (
        "spacing: ImagerPixelSpacing ×1/ERMF 1.25"
        in (corner_text(viewport)["bottom_left"])
    )


def test_pixel_spacing_wins_and_names_its_calibration_type(
    corpus: Path, tmp_path: Path
) -> None:
    folder = _copy(
        corpus,
        tmp_path,
        PixelSpacing=[0.3, 0.3],
        EstimatedRadiographicMagnificationFactor=1.25,
        PixelSpacingCalibrationType="GEOMETRY",
        PixelSpacingCalibrationDescription="magnification at the isocentre",
    )
    viewport, volume = _open(folder)
    assert _row_column_spacing(volume) == pytest.approx((0.3, 0.3))
    assert volume.spacing_source == (
        "PixelSpacing (calibrated: GEOMETRY; magnification at the isocentre)"
    )
    assert spacing_note(volume.spacing_source) == ""
    assert "spacing: PixelSpacing (GEOMETRY)" in corner_text(viewport)["bottom_left"]


@pytest.mark.parametrize("factor", [0.0, -1.5])
def test_a_factor_that_is_not_positive_is_not_applied(
    corpus: Path, tmp_path: Path, factor: float
) -> None:
    folder = _copy(corpus, tmp_path, EstimatedRadiographicMagnificationFactor=factor)
    ds = pydicom.dcmread(folder / "dx.dcm", stop_before_pixels=True)
    (info,) = scan_folder(folder).series
    volume = load_volume(info)
    expected = tuple(float(v) for v in ds.ImagerPixelSpacing)
    assert _row_column_spacing(volume) == pytest.approx(expected)
    assert spacing_note(volume.spacing_source) == "at detector"
    assert any("Magnification Factor" in w for w in info.warnings), info.warnings


def test_the_case_sheet_names_the_corrected_spacing(
    corpus: Path, tmp_path: Path
) -> None:
    from imaging_viewer.core.annotations.model import AnnotationSet, Lesion
    from imaging_viewer.core.teaching.case import TeachingCase
    from imaging_viewer.core.teaching.case_sheet import build_case_sheet
    from imaging_viewer.core.teaching.measurements import measure_annotations

    folder = _copy(corpus, tmp_path, EstimatedRadiographicMagnificationFactor=1.25)
    ds = pydicom.dcmread(folder / "dx.dcm", stop_before_pixels=True)
    _, volume = _open(folder)
    ruler = _ruler_of(volume, 100)
    lesion = Lesion(id="a", label="Lesion 1", annotations=(ruler,))
    annotation_set = AnnotationSet([lesion])
    values = measure_annotations(annotation_set, {ruler.id: volume.spacing_source})
    markdown, document = build_case_sheet(
        TeachingCase(title="Femur"), annotation_set, values
    )
    (measurement,) = document["lesions"][0]["measurements"]
    assert (
        measurement["spacing_source"] == "ImagerPixelSpacing (corrected by ERMF 1.25)"
    )
    expected = 100 * float(ds.ImagerPixelSpacing[1]) / 1.25
    assert measurement["value"] == pytest.approx(expected)
    assert "corrected by ERMF 1.25" in markdown
