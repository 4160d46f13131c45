"""Small renders keep the corner text whole and clear of the scale bar.

The teaching dialog's preview of a calibrated radiograph (440 px wide) cut the
line "Calibrated: 0.2128 mm/px (42.56 mm ref)" with "…" where it ran into the
scale bar: the line now wraps at a space onto the line above, both halves
beside the bar.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pydicom
from PySide6.QtCore import QRectF

from imaging_viewer.core.annotations.calibration import Calibration
from imaging_viewer.core.dicom.load import load_volume
from imaging_viewer.core.dicom.scan import scan_folder
from imaging_viewer.core.viewer_state import ViewportState
from imaging_viewer.ui.export import render_view_image
from imaging_viewer.ui.overlay_painter import OverlayPainter

if TYPE_CHECKING:
    import pytest
    from pytestqt.qtbot import QtBot

CHEST = Path(__file__).resolve().parents[2] / "sample_data" / "XR"
CHEST_FILE = "gdcm-CR-MONO1-10-chest.dcm"


def test_the_calibration_line_is_whole_beside_the_scale_bar(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    del qtbot  # the QApplication text needs
    series = scan_folder(CHEST).series[0]
    sop = str(
        pydicom.dcmread(CHEST / CHEST_FILE, stop_before_pixels=True).SOPInstanceUID
    )
    viewport = ViewportState()
    viewport.show(series, load_volume(series))
    # 200 px over 42.56 mm: 0.2128 mm a pixel, as the reader calibrated it.
    calibration = Calibration(sop, (50.0, 0.0, -300.0), (250.0, 0.0, -300.0), 42.56)
    painters: list[OverlayPainter] = []
    fitted: list[dict[str, tuple[str, ...]]] = []
    paint_text = OverlayPainter.paint_text
    fitted_corners = OverlayPainter.fitted_corners

    def recorded_paint(self: OverlayPainter, *args: Any, **kwargs: Any) -> None:
        painters.append(self)
        paint_text(self, *args, **kwargs)

    def recorded_fit(self: OverlayPainter, *args: Any, **kwargs: Any) -> Any:
        fitted.append(fitted_corners(self, *args, **kwargs))
        return fitted[-1]

    monkeypatch.setattr(OverlayPainter, "paint_text", recorded_paint)
    monkeypatch.setattr(OverlayPainter, "fitted_corners", recorded_fit)
    image = render_view_image(
        viewport, overlays=True, include_patient=False, calibration=calibration
    )
    assert image.width() == 440  # the preview's size (shown at most 320 wide)

    lines = fitted[-1]["bottom_left"]
    expected = calibration.corner_text()
    assert expected == "Calibrated: 0.2128 mm/px (42.56 mm ref)"
    assert not any("…" in line for line in lines), lines
    assert " ".join(lines[-2:]) == expected
    painter = painters[-1]
    text_rect = painter.corner_rects["bottom_left"]
    bar_rect = painter.scale_bar_rect
    assert bar_rect is not None
    assert QRectF(image.rect()).contains(text_rect)
    assert not text_rect.intersects(bar_rect)
    assert not painter.corner_rects["bottom_right"].intersects(bar_rect)
