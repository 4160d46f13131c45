"""The Lesions panel is readable at its default width (issue 15 item 1).

"62.5 mm (cal…" was cut: the measurement column wraps its text over the lines it
needs, and the tooltip holds the full text and the spacing it rests on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFontMetrics

from imaging_viewer.core.annotations.calibration import Calibration
from imaging_viewer.core.annotations.model import (
    AnnotationSet,
    EllipseRoi,
    Lesion,
    Ruler,
)
from imaging_viewer.ui.widgets.lesions_panel import LesionsPanelWidget

if TYPE_CHECKING:
    from PySide6.QtWidgets import QTreeWidgetItem
    from pytestqt.qtbot import QtBot

SOP = "1.2.826.0.1.3680043.8.498.2"
FRAME = "1.2.826.0.1.3680043.8.498.3"
STATS = ("mean 41.2 ± 8.3 HU", "min -12 max 96 HU")
DOCK_WIDTH = 260
"""About the Lesions dock's width beside a 1366 px wide viewer."""


def _panel(qtbot: QtBot) -> LesionsPanelWidget:
    ruler = Ruler(
        lesion_id="l1",
        referenced_sop_instance_uid=SOP,  # a radiograph: no frame of reference
        plane_normal_lps=(0.0, 1.0, 0.0),
        start_lps=(0.0, 0.0, 0.0),
        end_lps=(250.0, 0.0, 0.0),
    )
    ellipse = EllipseRoi(
        lesion_id="l1",
        frame_of_reference_uid=FRAME,
        plane_normal_lps=(0.0, 0.0, 1.0),
        centre_lps=(0.0, 0.0, 0.0),
        axis1_end_lps=(10.0, 0.0, 0.0),
        axis2_end_lps=(0.0, 6.0, 0.0),
    )
    annotations = AnnotationSet([Lesion(id="l1", annotations=(ruler, ellipse))])
    annotations.set_calibration(
        Calibration(SOP, (0.0, 0.0, 0.0), (100.0, 0.0, 0.0), 25.0)
    )
    panel = LesionsPanelWidget(annotations)
    panel.spacing_source = "PixelSpacing"
    panel.roi_lines_of = lambda a: STATS if isinstance(a, EllipseRoi) else ()
    qtbot.addWidget(panel)
    panel.resize(DOCK_WIDTH, 500)
    panel.show()
    qtbot.waitExposed(panel)
    panel.refresh()
    return panel


def _children(panel: LesionsPanelWidget) -> list[QTreeWidgetItem]:
    lesion = panel.tree.topLevelItem(0)
    assert lesion is not None
    return [lesion.child(n) for n in range(lesion.childCount())]


def test_full_measurement_is_in_the_tooltip(qtbot: QtBot) -> None:
    ruler, ellipse = _children(_panel(qtbot))
    assert ruler.text(1) == "62.5 mm (calibrated)"
    assert "62.5 mm (calibrated)" in ruler.toolTip(1)
    assert "calibration (25 mm over 100.0 units drawn)" in ruler.toolTip(1)
    assert "62.5 mm (calibrated)" in ruler.toolTip(0)
    tip = ellipse.toolTip(1)
    assert tip.splitlines()[0] == "1.9 cm²"  # π·10·6 = 188.5 mm² (round 5: cm²)
    for line in STATS:
        assert line in tip.splitlines()
    assert "Spacing: PixelSpacing" in tip


def test_measurements_wrap_inside_their_column(qtbot: QtBot) -> None:
    panel = _panel(qtbot)
    tree = panel.tree
    assert tree.wordWrap()
    for item in _children(panel):
        text = item.text(1)
        rect = tree.visualItemRect(item)
        width = tree.columnWidth(1)
        assert tree.columnViewportPosition(1) + width <= tree.viewport().width()
        metrics = QFontMetrics(tree.font())
        needed = metrics.boundingRect(
            QRect(0, 0, width - 8, 10_000), Qt.TextFlag.TextWordWrap, text
        )
        assert needed.height() <= rect.height(), (text, needed, rect)
        # Every word fits the column's width: nothing is cut at its edge.
        assert all(metrics.horizontalAdvance(w) < width - 8 for w in text.split())
    ruler, ellipse = _children(panel)
    assert tree.visualItemRect(ellipse).height() > tree.visualItemRect(ruler).height()


def test_longest_annotation_kind_is_not_cut(qtbot: QtBot) -> None:
    """Under Xvfb at 1366 px the name column read "bidirectiona" (found by
    trying it); the X server's font is wider than offscreen's, so widen it."""
    from PySide6.QtWidgets import QApplication

    font = QApplication.font()
    wider = QApplication.font()
    wider.setPointSizeF(font.pointSizeF() * 1.4)
    QApplication.setFont(wider)
    try:
        tree = _panel(qtbot).tree
        tree.expandAll()
        # An annotation's cell, where its kind is written (one level under its
        # lesion): the kind's text fits in it.
        child = tree.topLevelItem(0).child(0)
        cell = tree.visualRect(tree.indexFromItem(child, 0))
        advance = tree.fontMetrics().horizontalAdvance("bidirectional")
    finally:
        QApplication.setFont(font)
    assert cell.width() >= advance + 4
