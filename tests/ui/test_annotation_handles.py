"""Handles on the selected annotation, for every tool, and labels kept inside
the view (issue 15 item 3)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QImage, QPainter

from imaging_viewer.core.annotations.model import (
    Angle,
    Annotation,
    Arrow,
    Bidirectional,
    EllipseRoi,
    Lesion,
    PointMarker,
    PolygonRoi,
    Ruler,
)
from imaging_viewer.core.mpr import SlicePlane
from imaging_viewer.ui.annotation_overlay import clamped, draw_annotations

NORMAL = (0.0, 0.0, 1.0)
PLANE = SlicePlane(
    origin_lps=np.zeros(3),
    right_lps=np.array([1.0, 0.0, 0.0]),
    down_lps=np.array([0.0, 1.0, 0.0]),
    spacing_mm=(1.0, 1.0),
    size_px=(200, 200),
)
COMMON = {"id": "a1", "lesion_id": "l1", "plane_normal_lps": NORMAL}
SHAPES: list[Annotation] = [
    Ruler(**COMMON, start_lps=(40, 50, 0), end_lps=(120, 50, 0)),
    Angle(
        **COMMON, first_lps=(40, 40, 0), vertex_lps=(80, 90, 0), second_lps=(130, 40, 0)
    ),
    EllipseRoi(
        **COMMON,
        centre_lps=(100, 100, 0),
        axis1_end_lps=(140, 100, 0),
        axis2_end_lps=(100, 130, 0),
    ),
    PolygonRoi(**COMMON, vertices_lps=((40, 40, 0), (140, 50, 0), (90, 150, 0))),
    Bidirectional(
        **COMMON,
        long_start_lps=(40, 100, 0),
        long_end_lps=(160, 100, 0),
        short_start_lps=(100, 70, 0),
        short_end_lps=(100, 130, 0),
    ),
    Arrow(**COMMON, tip_lps=(60, 60, 0), tail_lps=(140, 140, 0)),
    PointMarker(**COMMON, position_lps=(100, 100, 0)),
]


def _paint(annotation: Annotation, selected: str | None) -> QImage:
    image = QImage(200, 200, QImage.Format.Format_RGB32)
    image.fill(QColor(0, 0, 0))
    painter = QPainter(image)
    draw_annotations(
        painter,
        [(Lesion(id="l1", colour="#ff0000"), annotation)],
        PLANE,
        QPointF,
        selected_id=selected,
        bounds=QRectF(0, 0, 200, 200),
    )
    painter.end()
    return image


@pytest.mark.parametrize("annotation", SHAPES, ids=lambda a: a.kind)
def test_the_selected_annotation_shows_a_handle_on_each_point(
    qapp: object, annotation: Annotation
) -> None:
    selected = _paint(annotation, "a1")
    plain = _paint(annotation, None)
    for point in annotation.points_lps:
        x, y = round(point[0]), round(point[1])
        # A white square's inside (the outline is red; the label is elsewhere).
        assert QColor(selected.pixel(x + 2, y + 2)).lightness() > 240
        assert QColor(plain.pixel(x + 2, y + 2)).lightness() < 240


def test_labels_stay_inside_the_view(qapp: object) -> None:
    # A ruler ending at the right edge: its label would start past the edge.
    ruler = Ruler(**COMMON, start_lps=(100, 190, 0), end_lps=(199, 196, 0))
    image = _paint(ruler, None)
    red_columns = [
        x
        for x in range(150, 200)
        for y in range(150, 200)
        if QColor(image.pixel(x, y)).red() > 200
        and QColor(image.pixel(x, y)).green() < 80
    ]
    assert red_columns  # the label (red text) is drawn inside the image
    box = clamped(QRectF(190, 195, 60, 14), QRectF(0, 0, 200, 200))
    assert box == QRectF(140, 186, 60, 14)
    assert clamped(QRectF(-5, -5, 10, 10), QRectF(0, 0, 200, 200)).topLeft() == (
        QPointF(0, 0)
    )
