"""``imaging-viewer register`` and ``imaging-viewer response``: the public contracts."""

from __future__ import annotations

import csv
import json
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from imaging_viewer.cli import main
from imaging_viewer.core.annotations.model import AnnotationSet, Lesion, Ruler
from imaging_viewer.core.annotations.serialize import save_atomic, to_json
from imaging_viewer.core.dicom.load import load_volume
from tests.core.followup.test_registration import _fixed_series, write_moved_study

if TYPE_CHECKING:
    from pathlib import Path

TRACKING_UID = "2.25.1234567890"


def _annotation_file(
    path: Path, study: str, date: str, diameter: float, *, new: bool = False
) -> Path:
    lesion = Lesion(label="L1 right lung", tracking_uid=TRACKING_UID, role="target")
    ruler = Ruler(
        lesion_id=lesion.id,
        plane_normal_lps=(0.0, 0.0, 1.0),
        start_lps=(0.0, 0.0, 0.0),
        end_lps=(diameter, 0.0, 0.0),
    )
    lesions = [Lesion(**{**lesion.__dict__, "annotations": (ruler,)})]
    if new:
        lesions.append(Lesion(label="N1", role="new"))
    save_atomic(path, to_json(AnnotationSet(lesions), study, study_date=date))
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        status = main(list(argv))
    except SystemExit as exit_:
        status = int(exit_.code or 0)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_response_json_orders_by_date_and_gives_recist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = _annotation_file(tmp_path / "a.json", "1.2.3.1", "20240101", 30.0)
    first = _annotation_file(tmp_path / "b.json", "1.2.3.2", "20240401", 20.0)
    second = _annotation_file(tmp_path / "c.json", "1.2.3.3", "20240701", 25.0)
    out = tmp_path / "table.csv"
    status, stdout, _ = _run(
        capsys,
        "response",
        str(second),
        str(baseline),
        str(first),
        "--recist",
        "--json",
        "--csv",
        str(out),
    )
    assert status == 0
    document = json.loads(stdout)
    assert [t["study_date"] for t in document["timepoints"]] == [
        "20240101",
        "20240401",
        "20240701",
    ]
    assert [t["study_instance_uid"] for t in document["timepoints"]] == [
        "1.2.3.1",
        "1.2.3.2",
        "1.2.3.3",
    ]
    recist = document["recist"]
    assert [r["timepoint"] for r in recist] == [0, 1, 2]
    assert [r["sum_mm"] for r in recist] == [30.0, 20.0, 25.0]
    # 30 → 20: −33.3 % (PR); 20 → 25: +25 % and +5 mm over the nadir (PD).
    assert recist[1]["change_from_baseline_pct"] == pytest.approx(-33.333, abs=1e-3)
    assert recist[2]["change_from_nadir_pct"] == pytest.approx(25.0)
    assert [r["response"] for r in recist] == [None, "PR", "PD"]
    (lesion,) = document["lesions"]
    assert lesion["tracking_uid"] == TRACKING_UID
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [float(r["longest_diameter_mm"]) for r in rows] == [30.0, 20.0, 25.0]
    assert rows[1]["change_from_baseline_pct"] == "-33.333"


def test_response_new_lesion_is_pd_and_text_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = _annotation_file(tmp_path / "a.json", "1.2.3.1", "20240101", 30.0)
    later = _annotation_file(tmp_path / "b.json", "1.2.3.2", "20240401", 20.0, new=True)
    status, stdout, _ = _run(capsys, "response", str(baseline), str(later), "--recist")
    assert status == 0
    assert "RECIST [1] sum 20.0 mm" in stdout
    assert stdout.rstrip().splitlines()[-1].startswith(("RECIST [1]", "warning"))
    assert "PD" in stdout


def _two_targets(
    path: Path, study: str, date: str, first: float, second: float | None
) -> Path:
    """L1 and L2, both targets; L2 without a diameter when ``second`` is None."""
    lesions = []
    for label, uid, diameter in (
        ("L1 right lung", TRACKING_UID, first),
        ("L2 liver", TRACKING_UID + "2", second),
    ):
        lesion = Lesion(label=label, tracking_uid=uid, role="target")
        if diameter is not None:
            ruler = Ruler(
                lesion_id=lesion.id,
                plane_normal_lps=(0.0, 0.0, 1.0),
                start_lps=(0.0, 0.0, 0.0),
                end_lps=(diameter, 0.0, 0.0),
            )
            lesion = Lesion(**{**lesion.__dict__, "annotations": (ruler,)})
        lesions.append(lesion)
    save_atomic(path, to_json(AnnotationSet(lesions), study, study_date=date))
    return path


def test_response_unmeasured_target_keeps_sum_a_number(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = _two_targets(tmp_path / "a.json", "1.2.3.1", "20240101", 30.0, 20.0)
    later = _two_targets(tmp_path / "b.json", "1.2.3.2", "20240401", 25.0, None)
    status, stdout, _ = _run(
        capsys, "response", str(baseline), str(later), "--recist", "--json"
    )
    assert status == 0
    recist = json.loads(stdout)["recist"]
    # Contract: sum_mm is a number; the unmeasured target makes the time point
    # not evaluable (RECIST 1.1 4.3.1), so no response.
    assert [r["sum_mm"] for r in recist] == [50.0, 25.0]
    assert [r["response"] for r in recist] == [None, None]
    assert [r["not_evaluable"] for r in recist] == [False, True]
    assert [r["unmeasured_targets"] for r in recist] == [[], ["L2 liver"]]
    assert recist[1]["change_from_baseline_pct"] is None
    assert recist[0]["change_from_baseline_pct"] == 0.0


def test_response_refuses_a_bad_file_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    status, _, stderr = _run(capsys, "response", str(bad))
    assert status != 0
    assert len(stderr.strip().splitlines()) == 1
    assert "invalid JSON" in stderr


@pytest.fixture(scope="module")
def moved(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    series = _fixed_series(corpus)
    folder = tmp_path_factory.mktemp("cli_register") / "moved"
    truth = write_moved_study(series, load_volume(series), folder)
    return series, folder, truth


def test_register_json(
    moved: Any, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    series, folder, truth = moved
    status, stdout, stderr = _run(
        capsys,
        "register",
        str(corpus / "dcm_qa_ct/In/Philips"),
        str(folder),
        "--fixed-series",
        series.uid,
        "--json",
    )
    assert status == 0, stderr
    document = json.loads(stdout)
    matrix = np.array(document["moving_to_fixed"])
    assert matrix.shape == (4, 4)
    assert isinstance(document["metric"], float)
    assert document["converged"] is True
    residual = matrix[:3, :3] @ truth[:3, :3].T
    assert math.degrees(math.acos(min(1.0, (np.trace(residual) - 1) / 2))) < 1.0
    point = np.array([0.0, 0.0, 0.0, 1.0])
    assert np.linalg.norm((matrix @ point - truth @ point)[:3]) < 2.0


def test_register_refuses_another_patient_then_unrelated_anatomy(
    moved: Any, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    series, _, _ = moved
    fixed = str(corpus / "dcm_qa_ct/In/Philips")
    other = str(corpus / "dcm_qa_ct/In/GE")
    status, _, stderr = _run(
        capsys, "register", fixed, other, "--fixed-series", series.uid
    )
    assert status != 0
    assert len(stderr.strip().splitlines()) == 1
    assert "different patients" in stderr
    status, _, stderr = _run(
        capsys, "register", fixed, other, "--fixed-series", series.uid, "--force"
    )
    assert status != 0
    assert "same anatomy" in stderr
    assert len(stderr.strip().splitlines()) == 1
