"""A teaching case's key images read in mm where the reader calibrated them.

On the sample chest radiograph (no Pixel Spacing, PS3.3 10.7.1.3) a reader
calibrated the image and measured 28.3 mm, as the screen and case.md said, but
the burned-in key image read "132.9 px" and "spacing: none (pixels)" with no
scale bar. The key image now draws with the reader's calibration, as the
screen does.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pydicom

from imaging_viewer.core.annotations.calibration import Calibration
from imaging_viewer.core.annotations.model import AnnotationSet, Lesion, Ruler
from imaging_viewer.core.dicom.scan import scan_folder
from imaging_viewer.core.teaching.case import TeachingCase
from imaging_viewer.core.teaching.export import export_teaching_case
from imaging_viewer.ui import annotation_overlay
from imaging_viewer.ui.overlay_painter import OverlayPainter
from imaging_viewer.ui.teaching_export import QtKeyImageBurnIn

if TYPE_CHECKING:
    import pytest
    from pytestqt.qtbot import QtBot

CHEST = Path(__file__).resolve().parents[2] / "sample_data" / "XR"
CHEST_FILE = "gdcm-CR-MONO1-10-chest.dcm"


def test_key_image_of_a_calibrated_radiograph_reads_mm(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    del qtbot  # the QApplication the burn-in needs for text
    folder = tmp_path / "xr"
    folder.mkdir()
    (folder / CHEST_FILE).write_bytes((CHEST / CHEST_FILE).read_bytes())
    scan = scan_folder(folder)
    sop = str(
        pydicom.dcmread(folder / CHEST_FILE, stop_before_pixels=True).SOPInstanceUID
    )
    lesion = Lesion(label="Lesion 1")
    # Without spacing, the annotation file's LPS mm are pixels: a 100 px ruler.
    ruler = Ruler(
        lesion_id=lesion.id,
        referenced_sop_instance_uid=sop,
        plane_normal_lps=(0.0, 1.0, 0.0),
        start_lps=(100.0, 0.0, -200.0),
        end_lps=(200.0, 0.0, -200.0),
    )
    annotation_set = AnnotationSet([Lesion(id=lesion.id, annotations=(ruler,))])
    # 200 px over a 50 mm object: 0.25 mm a pixel, so the ruler is 25 mm.
    annotation_set.set_calibration(
        Calibration(sop, (50.0, 0.0, -300.0), (250.0, 0.0, -300.0), 50.0)
    )
    labels: list[str] = []
    measurement_text = annotation_overlay.measurement_text

    def recorded_label(*args: Any, **kwargs: Any) -> str:
        labels.append(measurement_text(*args, **kwargs))
        return labels[-1]

    corners: list[str] = []
    corner_text = OverlayPainter.corner_text

    def recorded_corners(self: OverlayPainter, *args: Any, **kwargs: Any) -> Any:
        texts = corner_text(self, *args, **kwargs)
        corners.extend(str(text) for text in texts.values())
        return texts

    monkeypatch.setattr(annotation_overlay, "measurement_text", recorded_label)
    monkeypatch.setattr(OverlayPainter, "corner_text", recorded_corners)

    export_teaching_case(
        scan,
        annotation_set,
        TeachingCase(title="Chest"),
        tmp_path / "case",
        burn_in=QtKeyImageBurnIn(),
        case_key="calibrated chest",
    )

    assert labels
    assert all(label.startswith("25.0 mm") for label in labels), labels
    assert not any("px" in label for label in labels)
    shown = " ".join(corners)
    assert "Calibrated" in shown, shown
    assert "spacing: none" not in shown
    assert (tmp_path / "case" / "images" / "key01.png").exists()
