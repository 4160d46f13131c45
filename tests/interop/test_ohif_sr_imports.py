"""An SR written by OHIF's own adapters (``ohif_sr.mjs write``, from known
Cornerstone tool states) opens here as annotations on the right images with the
right values (issue 16 item 2)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pydicom
import pytest

from imaging_viewer.core.annotations.measure import measure
from imaging_viewer.core.annotations.model import Arrow
from imaging_viewer.core.exchange.structured_report import import_measurement_report
from tests.core.exchange.test_structured_report import read_headers
from tests.interop.reference_tools import ohif_write

if TYPE_CHECKING:
    from pathlib import Path


def _image(ds: pydicom.Dataset) -> dict[str, object]:
    return {
        "studyInstanceUID": str(ds.StudyInstanceUID),
        "seriesInstanceUID": str(ds.SeriesInstanceUID),
        "sopInstanceUID": str(ds.SOPInstanceUID),
        "sopClassUID": str(ds.SOPClassUID),
        "frameNumber": 1,
    }


def _point(x: float, y: float) -> dict[str, float]:
    return {"x": x, "y": y}


# dcmjs writes its free-text code CORNERSTONEFREETEXT (20 characters) as an SH.
@pytest.mark.filterwarnings("ignore:The value length .20. exceeds")
def test_an_sr_written_by_ohif_imports(sample_data: Path, tmp_path: Path) -> None:
    paths = sorted((sample_data / "CT").iterdir(), key=lambda p: int(p.name[1:]))
    sources = read_headers(paths[:4])
    first, second = list(sources.values())[1:3]
    row_mm, column_mm = (float(v) for v in first.PixelSpacing)
    states = {
        "image:1": {
            "image": _image(first),
            "tools": {
                "Length": {
                    "data": [
                        {
                            "handles": {
                                "start": _point(100, 120),
                                "end": _point(160, 200),
                            },
                            "length": math.hypot(60 * column_mm, 80 * row_mm),
                        }
                    ]
                },
                "EllipticalRoi": {
                    "data": [
                        {
                            "handles": {
                                "start": _point(200, 200),
                                "end": _point(260, 230),
                            },
                            "cachedStats": {"area": 1.0},
                        }
                    ]
                },
            },
        },
        "image:2": {
            "image": _image(second),
            "tools": {
                "Bidirectional": {
                    "data": [
                        {
                            "handles": {
                                "start": _point(100, 100),
                                "end": _point(180, 100),
                                "perpendicularStart": _point(140, 80),
                                "perpendicularEnd": _point(140, 130),
                            },
                            "longestDiameter": 80 * column_mm,
                            "shortestDiameter": 50 * row_mm,
                        }
                    ]
                },
                "ArrowAnnotate": {
                    "data": [
                        {
                            "handles": {
                                "start": _point(300, 310),
                                "end": _point(320, 330),
                            },
                            "label": "look here",
                        }
                    ]
                },
            },
        },
    }
    path = ohif_write(states, tmp_path / "ohif.dcm")

    imported = import_measurement_report(pydicom.dcmread(path), sources)
    assert imported.warnings == ()
    annotations = {a.kind: a for a in imported.annotation_set.annotations()}
    assert set(annotations) == {"ruler", "ellipse", "bidirectional", "arrow"}
    on = {kind: a.referenced_sop_instance_uid for kind, a in annotations.items()}
    assert on["ruler"] == on["ellipse"] == first.SOPInstanceUID
    assert on["bidirectional"] == on["arrow"] == second.SOPInstanceUID

    def values(kind: str) -> list[float]:
        return [m.value for m in measure(annotations[kind])]

    assert values("ruler") == pytest.approx(
        [math.hypot(60 * column_mm, 80 * row_mm)], abs=0.1
    )
    assert values("bidirectional") == pytest.approx(
        [80 * column_mm, 50 * row_mm], abs=0.1
    )
    assert values("ellipse") == pytest.approx(
        [math.pi * 30 * column_mm * 15 * row_mm], abs=0.1
    )
    arrow = annotations["arrow"]
    assert isinstance(arrow, Arrow)
    assert arrow.label == "look here"
    # Each OHIF measurement is its own lesion (its own Tracking UID), to be
    # renamed or linked by the user.
    assert len(imported.annotation_set.lesions) == 4
