"""The Lesions panel never shows pixels as mm (issue 15, item 1).

On a radiograph without Pixel Spacing or Imager Pixel Spacing (PS3.3
10.7.1.3), a 255 px ruler read "255.0 mm" in the panel; it reads px, and mm
once the reader calibrates the image.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imaging_viewer.core.annotations.calibration import Calibration
from imaging_viewer.core.annotations.model import AnnotationSet, Lesion, Ruler
from imaging_viewer.ui.widgets.lesions_panel import LesionsPanelWidget

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

SOP = "1.2.826.0.1.3680043.8.498.1"


def _panel_texts(panel: LesionsPanelWidget) -> list[str]:
    lesion_item = panel.tree.topLevelItem(0)
    assert lesion_item is not None
    return [lesion_item.child(n).text(1) for n in range(lesion_item.childCount())]


def test_panel_reads_px_without_spacing_and_mm_once_calibrated(qtbot: QtBot) -> None:
    ruler = Ruler(
        lesion_id="l1",
        referenced_sop_instance_uid=SOP,  # a radiograph: no frame of reference
        plane_normal_lps=(0.0, 1.0, 0.0),
        start_lps=(0.0, 0.0, 0.0),
        end_lps=(255.0, 0.0, 0.0),
    )
    annotations = AnnotationSet([Lesion(id="l1", annotations=(ruler,))])
    panel = LesionsPanelWidget(annotations)
    qtbot.addWidget(panel)
    panel.refresh()
    assert _panel_texts(panel) == ["255.0 px"]

    annotations.set_calibration(
        Calibration(SOP, (0.0, 0.0, 0.0), (100.0, 0.0, 0.0), 25.0)
    )
    panel.refresh()
    # The source shows next to a length not from Pixel Spacing (issue 15 item 1).
    assert _panel_texts(panel) == ["63.8 mm (calibrated)"]

    annotations.remove_calibration(SOP)
    panel.refresh()
    assert _panel_texts(panel) == ["255.0 px"]
