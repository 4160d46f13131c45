"""How measurements read (round 5, a radiologist at 1366×768).

A bidirectional reads "60.0 × 30.0 mm" (long × short), not "L 60.0 × S 30.0 mm",
whose letters read as the orientation letters Left and Superior beside it. Areas
from 100 mm² up read in cm² with one decimal; SR and JSON keep mm² (UCUM mm2).
The expected areas are worked out here by hand (π·a·b), not by our code.
"""

from __future__ import annotations

import math

import pytest

from imaging_viewer.core.annotations.measure import (
    Measurement,
    measure,
    measure_shown,
    measurement_text,
    value_text,
)
from imaging_viewer.core.annotations.model import (
    AnnotationSet,
    Bidirectional,
    EllipseRoi,
    Lesion,
)
from imaging_viewer.core.teaching.case import TeachingCase
from imaging_viewer.core.teaching.case_sheet import build_case_sheet
from imaging_viewer.core.teaching.measurements import measure_annotations

AXIAL = (0.0, 0.0, 1.0)


def _bidirectional() -> Bidirectional:
    return Bidirectional(
        lesion_id="a",
        plane_normal_lps=AXIAL,
        long_start_lps=(0.0, 0.0, 0.0),
        long_end_lps=(60.0, 0.0, 0.0),
        short_start_lps=(30.0, -15.0, 0.0),
        short_end_lps=(30.0, 15.0, 0.0),
    )


def _ellipse(a_mm: float, b_mm: float, lesion_id: str = "a") -> EllipseRoi:
    return EllipseRoi(
        lesion_id=lesion_id,
        plane_normal_lps=AXIAL,
        centre_lps=(0.0, 0.0, 0.0),
        axis1_end_lps=(a_mm, 0.0, 0.0),
        axis2_end_lps=(0.0, b_mm, 0.0),
    )


def test_bidirectional_reads_long_by_short_without_letters() -> None:
    text = measurement_text(measure(_bidirectional(), spacing_source="PixelSpacing"))
    assert text == "60.0 × 30.0 mm"
    pixels = measurement_text(measure_shown(_bidirectional(), spacing_source="none"))
    assert pixels == "60.0 × 30.0 px"


@pytest.mark.parametrize(
    ("a_mm", "b_mm", "expected"),
    [
        (20.0, 16.43, f"{math.pi * 20 * 16.43 / 100:.1f} cm²"),  # 1032.3 mm²
        (6.0, 5.0, f"{math.pi * 6 * 5:.1f} mm²"),  # 94.2 mm²: below 1 cm²
        (10.0, 10.0 / math.pi + 1e-9, "1.0 cm²"),  # 100 mm² exactly: cm²
    ],
)
def test_area_reads_in_cm2_from_100_mm2(
    a_mm: float, b_mm: float, expected: str
) -> None:
    values = measure(_ellipse(a_mm, b_mm), spacing_source="PixelSpacing")
    assert measurement_text(values) == expected


def test_pixel_areas_stay_in_px2() -> None:
    values = measure_shown(_ellipse(20.0, 20.0), spacing_source="none")
    assert measurement_text(values) == f"{math.pi * 400:.1f} px²"
    assert value_text(Measurement("angle", 41.04, "deg")) == "41.0°"


def test_case_sheet_shows_cm2_and_json_keeps_mm2() -> None:
    lesion = Lesion(label="Lesion 1")
    roi = _ellipse(20.0, 16.43, lesion.id)
    annotation_set = AnnotationSet(
        [
            Lesion(
                id=lesion.id,
                label="Lesion 1",
                annotations=(roi, _bidirectional_of(lesion.id)),
            )
        ]
    )
    markdown, document = build_case_sheet(
        TeachingCase(), annotation_set, measure_annotations(annotation_set)
    )
    row = next(line for line in markdown.splitlines() if line.startswith("| Lesion 1"))
    assert f"area {math.pi * 20 * 16.43 / 100:.1f} cm²" in row
    assert "long axis 60.0 mm; short axis 30.0 mm" in row  # coded names kept
    measurements = document["lesions"][0]["measurements"]
    area = next(m for m in measurements if m["name"] == "area")
    assert area["unit"] == "mm2"
    assert area["value"] == pytest.approx(math.pi * 20 * 16.43)


def _bidirectional_of(lesion_id: str) -> Bidirectional:
    axes = _bidirectional()
    return Bidirectional(
        lesion_id=lesion_id,
        plane_normal_lps=AXIAL,
        long_start_lps=axes.long_start_lps,
        long_end_lps=axes.long_end_lps,
        short_start_lps=axes.short_start_lps,
        short_end_lps=axes.short_end_lps,
    )
