"""The Lesions panel reads "60.0 × 30.0 mm" for a bidirectional (no "L"/"S",
which read as Left/Superior) and areas from 100 mm² in cm² (round 5)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from imaging_viewer.core.annotations.model import (
    AnnotationSet,
    Bidirectional,
    EllipseRoi,
    Lesion,
)
from imaging_viewer.ui.widgets.lesions_panel import LesionsPanelWidget

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

FRAME = "1.2.826.0.1.3680043.8.498.3"
AXIAL = (0.0, 0.0, 1.0)


def test_lesions_panel_bidirectional_and_cm2(qtbot: QtBot) -> None:
    lesion_id = "l1"
    axes = Bidirectional(
        lesion_id=lesion_id,
        frame_of_reference_uid=FRAME,
        plane_normal_lps=AXIAL,
        long_start_lps=(0.0, 0.0, 0.0),
        long_end_lps=(60.0, 0.0, 0.0),
        short_start_lps=(30.0, -15.0, 0.0),
        short_end_lps=(30.0, 15.0, 0.0),
    )
    big, small = (
        EllipseRoi(
            lesion_id=lesion_id,
            frame_of_reference_uid=FRAME,
            plane_normal_lps=AXIAL,
            centre_lps=(0.0, 0.0, 0.0),
            axis1_end_lps=(a, 0.0, 0.0),
            axis2_end_lps=(0.0, b, 0.0),
        )
        for a, b in ((20.0, 16.43), (6.0, 5.0))
    )
    annotations = AnnotationSet(
        [Lesion(id=lesion_id, label="Lesion 1", annotations=(axes, big, small))]
    )
    panel = LesionsPanelWidget(annotations)
    panel.spacing_source = "PixelSpacing"
    qtbot.addWidget(panel)
    panel.refresh()
    lesion = panel.tree.topLevelItem(0)
    assert lesion is not None
    texts = [lesion.child(n).text(1) for n in range(lesion.childCount())]
    assert texts == [
        "60.0 × 30.0 mm",
        f"{math.pi * 20 * 16.43 / 100:.1f} cm²",
        f"{math.pi * 6 * 5:.1f} mm²",
    ]
    assert "long axis × short axis" in lesion.child(0).toolTip(1)
