"""Calibration you can see (issue 15, item 1): pixels are px everywhere, and a
reader's calibration of a radiograph gives mm that say where they come from.

Checked on a real CR without Pixel Spacing or Imager Pixel Spacing (PS3.3
10.7.1.3); the SR is read back with highdicom, not our own import.
"""

from __future__ import annotations

import json
import shutil
from typing import TYPE_CHECKING

import highdicom as hd
import numpy as np
import pydicom
import pytest
from pydicom.sr.codedict import codes

from imaging_viewer.core.annotations.calibration import Calibration
from imaging_viewer.core.annotations.measure import (
    measure_shown,
    measurement_text,
    spacing_source_of,
)
from imaging_viewer.core.annotations.model import AnnotationSet, Lesion, Ruler
from imaging_viewer.core.annotations.serialize import (
    AnnotationFileError,
    from_json,
    to_json,
)
from imaging_viewer.core.dicom.load import load_volume
from imaging_viewer.core.dicom.scan import scan_folder
from imaging_viewer.core.exchange.presentation_state import export_presentation_state
from imaging_viewer.core.exchange.structured_report import (
    export_measurement_report,
)
from imaging_viewer.core.teaching.case import TeachingCase
from imaging_viewer.core.teaching.case_sheet import build_case_sheet
from imaging_viewer.core.teaching.measurements import measure_annotations

if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from pydicom.dataset import Dataset

CR_WITHOUT_SPACING = "gdcm-CR-MONO1-10-chest.dcm"


def _radiograph(sample_data: Path, tmp_path: Path) -> tuple[Any, Dataset]:
    folder = tmp_path / "xr"
    folder.mkdir()
    shutil.copy(sample_data / "XR" / CR_WITHOUT_SPACING, folder)
    volume = load_volume(scan_folder(folder).series[0])
    return volume, pydicom.dcmread(folder / CR_WITHOUT_SPACING)


def _ruler_on(volume: Any, ds: Dataset, columns: float) -> tuple[AnnotationSet, Ruler]:
    """A horizontal ruler ``columns`` pixels long on the radiograph."""
    start = (volume.ijk_to_lps @ np.array([10.0, 20.0, 0.0, 1.0]))[:3]
    end = (volume.ijk_to_lps @ np.array([10.0 + columns, 20.0, 0.0, 1.0]))[:3]
    ruler = Ruler(
        lesion_id="l1",
        referenced_sop_instance_uid=str(ds.SOPInstanceUID),
        plane_normal_lps=tuple(
            volume.ijk_to_lps[:3, 2] / np.linalg.norm(volume.ijk_to_lps[:3, 2])
        ),
        start_lps=start,
        end_lps=end,
    )
    annotations = AnnotationSet(
        [Lesion(id="l1", label="Lesion 1", annotations=(ruler,))]
    )
    return annotations, ruler


def _sr_length(annotations: AnnotationSet, ds: Dataset, tmp_path: Path) -> Any:
    result = export_measurement_report(
        annotations, {str(ds.SOPInstanceUID): ds}, series_number=901
    )
    path = tmp_path / "sr.dcm"
    result.dataset.save_as(path, enforce_file_format=True)
    report = hd.sr.srread(path).content
    (group,) = report.get_image_measurement_groups()
    (length,) = group.get_measurements(name=codes.SCT.Length)
    return length, result.warnings


def test_a_length_without_spacing_is_px_in_every_output(
    sample_data: Path, tmp_path: Path
) -> None:
    volume, ds = _radiograph(sample_data, tmp_path)
    assert "PixelSpacing" not in ds
    assert "ImagerPixelSpacing" not in ds
    source = spacing_source_of(volume)
    assert source == "none"
    annotations, ruler = _ruler_on(volume, ds, 255.0)
    # Panel and label text.
    values = measure_shown(ruler, spacing_source=source)
    assert [(v.name, v.unit) for v in values] == [("length", "px")]
    assert values[0].value == pytest.approx(255.0)
    assert measurement_text(values) == "255.0 px"
    # Case sheet: its JSON and its Markdown.
    measured = measure_annotations(annotations, {ruler.id: source})
    markdown, document = build_case_sheet(TeachingCase(), annotations, measured)
    (record,) = document["lesions"][0]["measurements"]
    assert (record["unit"], record["value"]) == ("px", pytest.approx(255.0))
    assert "255.0 px" in markdown
    assert "255.0 mm" not in markdown
    assert json.loads(json.dumps(document)) == document
    # SR: UCUM {pixels}, read back by highdicom.
    length, warnings = _sr_length(annotations, ds, tmp_path)
    assert length.unit.value == "{pixels}"
    assert float(length.value) == pytest.approx(255.0, abs=1e-3)
    assert any("pixels" in w for w in warnings)


def test_calibration_round_trip(sample_data: Path, tmp_path: Path) -> None:
    """Draw, calibrate (a 25 mm ball over 100 px), save, reload, SR."""
    volume, ds = _radiograph(sample_data, tmp_path)
    annotations, ruler = _ruler_on(volume, ds, 255.0)
    ball_start = (volume.ijk_to_lps @ np.array([300.0, 300.0, 0.0, 1.0]))[:3]
    ball_end = (volume.ijk_to_lps @ np.array([300.0, 400.0, 0.0, 1.0]))[:3]
    changes: list[str] = []
    annotations.changed.connect(changes.append)
    annotations.set_calibration(
        Calibration(str(ds.SOPInstanceUID), ball_start, ball_end, 25.0)
    )
    assert changes == ["calibrate image"]

    document = to_json(annotations, str(ds.StudyInstanceUID))
    path = tmp_path / "annotations.json"
    path.write_text(json.dumps(document))
    reloaded = from_json(json.loads(path.read_text()))
    calibration = reloaded.calibration(str(ds.SOPInstanceUID))
    assert calibration is not None
    assert calibration.scale == pytest.approx(0.25)
    assert "Calibrated: 0.25 mm" in calibration.corner_text()

    (value,) = measure_shown(
        ruler, spacing_source=spacing_source_of(volume), calibration=calibration
    )
    assert (value.unit, value.value) == ("mm", pytest.approx(255.0 * 0.25))
    assert value.spacing_source.startswith("calibration (25 mm")
    measured = measure_annotations(reloaded, {ruler.id: "none"})
    markdown, sheet = build_case_sheet(TeachingCase(), reloaded, measured)
    (record,) = sheet["lesions"][0]["measurements"]
    assert record["unit"] == "mm"
    assert record["spacing_source"].startswith("calibration")
    assert "63.8 mm" in markdown

    length, warnings = _sr_length(reloaded, ds, tmp_path)
    assert length.unit.value == "mm"
    assert float(length.value) == pytest.approx(63.75, abs=1e-3)
    assert any("calibration" in w for w in warnings)

    # Removable; the file then has no calibrations key.
    reloaded.remove_calibration(str(ds.SOPInstanceUID))
    assert reloaded.calibration(str(ds.SOPInstanceUID)) is None
    assert "calibrations" not in to_json(reloaded, str(ds.StudyInstanceUID))
    (value,) = measure_shown(ruler, spacing_source="none")
    assert value.unit == "px"


@pytest.mark.parametrize(
    "bad",
    [
        "not a list",
        [
            {
                "sop_instance_uid": "1.2",
                "start_lps": [0, 0, 0],
                "end_lps": [0, 0, 0],
                "known_length_mm": 25,
            }
        ],
        [
            {
                "sop_instance_uid": "1.2",
                "start_lps": [0, 0, 0],
                "end_lps": [1, 0, 0],
                "known_length_mm": -1,
            }
        ],
        [
            {
                "sop_instance_uid": "1.2",
                "start_lps": [0, 0],
                "end_lps": [1, 0, 0],
                "known_length_mm": 5,
            }
        ],
    ],
)
def test_bad_calibrations_are_a_file_error(bad: object) -> None:
    document = to_json(AnnotationSet(), "1.2.3")
    document["calibrations"] = bad
    with pytest.raises(AnnotationFileError, match="calibrations"):
        from_json(document)


def _gsps_texts(annotations: AnnotationSet, ds: Dataset) -> list[str]:
    result = export_presentation_state(
        annotations, {str(ds.SOPInstanceUID): ds}, series_number=902
    )
    return [
        str(text.UnformattedTextValue)
        for item in result.dataset.GraphicAnnotationSequence
        for text in item.get("TextObjectSequence", [])
    ]


def test_gsps_text_is_px_then_calibrated_mm(sample_data: Path, tmp_path: Path) -> None:
    volume, ds = _radiograph(sample_data, tmp_path)
    annotations, _ = _ruler_on(volume, ds, 255.0)
    assert _gsps_texts(annotations, ds) == ["length 255.0 px"]
    start = (volume.ijk_to_lps @ np.array([0.0, 0.0, 0.0, 1.0]))[:3]
    end = (volume.ijk_to_lps @ np.array([0.0, 100.0, 0.0, 1.0]))[:3]
    annotations.set_calibration(Calibration(str(ds.SOPInstanceUID), start, end, 25.0))
    assert _gsps_texts(annotations, ds) == ["length 63.8 mm (calibrated)"]
