"""dcmtk's dsrdump on a TID 1500 report holding every measurement kind (issue 16
leftover d), on a real CT, MR and radiograph: it parses without an error and
identifies the Measurement Report (TID 1500) and one Measurement Group per
annotation (TID 1501, or TID 1410 Planar ROI Measurements for those with an
image region), each with its tool and the coded finding site."""

from __future__ import annotations

import re
import subprocess
from typing import TYPE_CHECKING

import pydicom
import pytest

from imaging_viewer.core.exchange.structured_report import OHIF_TOOLS
from tests.interop.reference_tools import require_program
from tests.interop.test_ohif_restores_our_sr import report_of

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.parametrize("kind", ["CT", "MR", "XR"])
def test_dsrdump_identifies_every_measurement_group(
    corpus: Path, sample_data: Path, tmp_path: Path, kind: str
) -> None:
    path = report_of(kind, corpus, sample_data, tmp_path)
    program = require_program("dsrdump", "dcmtk")
    result = subprocess.run(
        [program, "+Pt", "+Pl", str(path)],  # template ids, long values in full
        capture_output=True,
        text=True,
        errors="replace",
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert not re.search(r"^E:", result.stderr, re.MULTILINE), result.stderr
    dump = result.stdout
    assert re.search(r'"Imaging Measurement Report"\)=CONTINUOUS>\s+# TID 1500', dump)
    groups = re.findall(
        r'"Measurement Group"\)=CONTINUOUS>\s+# TID (1501|1410) \(DCMR\)', dump
    )
    # One group per annotation: count them independently, in the dataset.
    report = pydicom.dcmread(path)
    (measurements,) = [
        item
        for item in report.ContentSequence
        if item.ConceptNameCodeSequence[0].CodeValue == "126010"  # Imaging Meas.
    ]
    assert len(groups) == len(measurements.ContentSequence) > 0
    tools = set(re.findall(r'"Tracking Identifier"\)="[^"]*:(\w+)"', dump))
    assert set(OHIF_TOOLS.values()) <= tools
    assert '"Finding Site")=(71341001,SCT,"Femur")' in dump
