"""OHIF's own SR libraries (dcmjs and ``@cornerstonejs/adapters``, run by node)
on the TID 1500 reports we write.

Issue 16 item 1: every measurement kind comes back as its Cornerstone tool, on
its image, with its value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest

from imaging_viewer.core.annotations.measure import NoSpacingError, measure
from imaging_viewer.core.exchange.structured_report import (
    OHIF_TOOLS,
    export_measurement_report,
)
from tests.core.exchange.test_structured_report import every_kind_set
from tests.interop.reference_tools import dciodvfy_errors, ohif_restore
from tests.interop.test_presentation_state_validity import images_of

if TYPE_CHECKING:
    from pathlib import Path


def report_of(kind: str, corpus: Path, sample_data: Path, tmp_path: Path) -> Path:
    sources, images = images_of(kind, corpus, sample_data, tmp_path)
    result = export_measurement_report(every_kind_set(images), sources, series_number=9)
    path = tmp_path / "sr.dcm"
    result.dataset.save_as(path, enforce_file_format=True)
    return path


def test_the_adapters_read_our_report(
    corpus: Path, sample_data: Path, tmp_path: Path
) -> None:
    restored = ohif_restore(report_of("CT", corpus, sample_data, tmp_path))
    assert isinstance(restored, dict)


# Where each Cornerstone tool state holds its value.
OHIF_VALUES = {
    "Length": ("length",),
    "Bidirectional": ("longestDiameter", "shortestDiameter"),
    "EllipticalRoi": ("cachedStats", "area"),
    "FreehandRoi": ("cachedStats", "area"),
    "Angle": ("rAngle",),
    "CobbAngle": ("rAngle",),
}


def _value(state: dict[str, object], path: tuple[str, ...]) -> float:
    value: object = state
    for key in path:
        assert isinstance(value, dict), state
        value = value[key]
    assert isinstance(value, int | float | str), state
    return float(value)


@pytest.mark.parametrize("kind", ["CT", "MR", "XR"])
def test_ohif_restores_every_kind(
    corpus: Path, sample_data: Path, tmp_path: Path, kind: str
) -> None:
    sources, images = images_of(kind, corpus, sample_data, tmp_path)
    annotations = every_kind_set(images)
    result = export_measurement_report(annotations, sources, series_number=9)
    path = tmp_path / "sr.dcm"
    result.dataset.save_as(path, enforce_file_format=True)
    restored = ohif_restore(path)
    assert set(OHIF_TOOLS.values()) <= set(restored)
    assert dciodvfy_errors(path) == []
    for lesion in annotations.lesions:
        for annotation in lesion.annotations:
            tool = OHIF_TOOLS.get(annotation.kind)
            if tool is None:
                continue
            on_image = [
                state
                for state in restored[tool]
                if state["sopInstanceUID"] == annotation.referenced_sop_instance_uid
            ]
            assert on_image, (annotation.kind, restored[tool])
            spacing = "none" if kind == "XR" else ""
            try:
                expected = [
                    m.value for m in measure(annotation, spacing_source=spacing)
                ]
            except NoSpacingError:
                expected = [m.value for m in measure(annotation)]
            if tool in OHIF_VALUES:
                values = [
                    [_value(s, (name,)) for name in OHIF_VALUES[tool]]
                    if tool == "Bidirectional"
                    else [_value(s, OHIF_VALUES[tool])]
                    for s in on_image
                ]
                assert any(
                    np.allclose(v, expected[: len(v)], atol=0.1) for v in values
                ), (annotation.kind, values, expected)
