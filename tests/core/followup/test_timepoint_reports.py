"""One TID 1500 SR per time point, read back into one tracked set.

The written reports are checked by dciodvfy and read by pydicom (Tracking UIDs,
Clinical Trial Time Point ID, study) independently of our import; the lengths
read back are compared with the distances of the points we drew.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from imaging_viewer.core.annotations.model import AnnotationSet, Lesion, Ruler
from imaging_viewer.core.exchange.timepoint_report import (
    export_timepoint_report,
    read_timepoint_reports,
)
from imaging_viewer.core.followup.response_table import TableMode, build_table
from imaging_viewer.core.followup.table_export import read_timepoints
from tests.core.exchange.test_structured_report import (
    pixel_to_lps_of,
    read_headers,
    run_dciodvfy,
)

if TYPE_CHECKING:
    from pathlib import Path

LESION_UID = "2.25.1234567890123456789"
OTHER_UID = "2.25.9876543210987654321"
RESPONSE = (sys.executable, "-m", "imaging_viewer", "response")


def _ruler(
    lesion_id: str, ds: Dataset, start: tuple[float, float], end_c: float
) -> Ruler:
    affine = pixel_to_lps_of(ds)
    a = affine @ [start[0], start[1], 0.0, 1.0]
    b = affine @ [end_c, start[1], 0.0, 1.0]
    return Ruler(
        lesion_id=lesion_id,
        frame_of_reference_uid=str(ds.FrameOfReferenceUID),
        referenced_sop_instance_uid=str(ds.SOPInstanceUID),
        plane_normal_lps=(0.0, 0.0, 1.0),
        start_lps=tuple(float(v) for v in a[:3]),  # type: ignore[arg-type]
        end_lps=tuple(float(v) for v in b[:3]),  # type: ignore[arg-type]
    )


def _lesion(uid: str, label: str, ds: Dataset, length_px: float) -> Lesion:
    lesion = Lesion(label=label, tracking_uid=uid, role="target", organ="lung")
    ruler = _ruler(lesion.id, ds, (100.0, 200.0), 100.0 + length_px)
    return Lesion(**{**lesion.__dict__, "annotations": (ruler,)})


def _follow_up_headers(headers: dict[str, Dataset]) -> dict[str, Dataset]:
    """The same images as another, later study of the same patient."""
    study_uid = generate_uid()
    copies = {}
    for uid, ds in headers.items():
        copy = Dataset()
        copy.update(ds)
        copy.StudyInstanceUID = study_uid
        copy.StudyDate = "20250301"
        copies[uid] = copy
    return copies


@pytest.fixture(scope="module")
def reports(sample_data: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    paths = sorted((sample_data / "CT").iterdir(), key=lambda p: int(p.name[1:]))
    baseline_headers = read_headers(paths)
    follow_up_headers = _follow_up_headers(baseline_headers)
    ds = list(baseline_headers.values())[12]
    out = tmp_path_factory.mktemp("timepoint_reports")
    written = []
    for name, headers, sets in (
        (
            "baseline",
            baseline_headers,
            [
                _lesion(LESION_UID, "L1 lung", ds, 80.0),
                _lesion(OTHER_UID, "L2", ds, 40),
            ],
        ),
        ("follow-up 1", follow_up_headers, [_lesion(LESION_UID, "L1 lung", ds, 50.0)]),
    ):
        export = export_timepoint_report(
            AnnotationSet(sets),
            headers,
            timepoint_label=name,
            series_number=900,
        )
        assert export.warnings == ()
        path = out / f"{name}.dcm"
        export.dataset.save_as(path, enforce_file_format=True)
        written.append(path)
    return ds, written


def test_each_report_is_valid_and_carries_the_tracking_uids(reports) -> None:  # type: ignore[no-untyped-def]
    _, (baseline, follow_up) = reports
    for path, label, expected in (
        (baseline, "baseline", {LESION_UID, OTHER_UID}),
        (follow_up, "follow-up 1", {LESION_UID}),
    ):
        run_dciodvfy(path)
        ds = pydicom.dcmread(path)
        assert ds.ClinicalTrialTimePointID == label
        uids = set()
        for container in ds.ContentSequence:
            for group in container.get("ContentSequence", []):
                for item in group.get("ContentSequence", []):
                    if item.get("ValueType") == "UIDREF":
                        uids.add(str(item.UID))
        assert uids == expected
    assert (
        pydicom.dcmread(baseline).StudyInstanceUID
        != pydicom.dcmread(follow_up).StudyInstanceUID
    )


def test_reports_read_back_into_one_tracked_set(reports) -> None:  # type: ignore[no-untyped-def]
    ds, (baseline, follow_up) = reports
    timepoints = read_timepoint_reports([follow_up, baseline])
    assert [t.label for t in timepoints] == ["baseline", "follow-up 1"]
    assert [t.study_date for t in timepoints] == [
        str(ds.StudyDate),
        "20250301",
    ]
    table = build_table(read_timepoints([follow_up, baseline]), TableMode.RECIST)
    by_uid = {row.tracking_uid: row for row in table.rows}
    assert set(by_uid) == {LESION_UID, OTHER_UID}
    spacing = float(ds.PixelSpacing[1])
    tracked = by_uid[LESION_UID]
    assert tracked.label == "L1 lung"
    sizes = [cell.size_mm if cell else None for cell in tracked.cells]
    assert sizes == pytest.approx([80.0 * spacing, 50.0 * spacing], abs=1e-3)
    assert by_uid[OTHER_UID].cells[1] is None


def test_response_command_reads_reports(reports) -> None:  # type: ignore[no-untyped-def]
    _, (baseline, follow_up) = reports
    result = subprocess.run(
        [*RESPONSE, "--recist", "--json", str(follow_up), str(baseline)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    document = json.loads(result.stdout)
    assert [t["label"] for t in document["timepoints"]] == ["baseline", "follow-up 1"]
    assert len(document["recist"]) == 2


def test_reports_of_different_patients_are_refused(
    reports,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    _, (baseline, follow_up) = reports
    other = pydicom.dcmread(follow_up)
    other.PatientID = "SOMEONE-ELSE"
    other_path = tmp_path / "other.dcm"
    other.save_as(other_path)
    with pytest.raises(ValueError, match="different patients"):
        read_timepoint_reports([baseline, other_path])
    result = subprocess.run(
        [*RESPONSE, str(baseline), str(other_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "different patients" in result.stderr
    assert "Traceback" not in result.stderr
