"""Issue 13 item 6 in the window, on real data: the Response dock's Export SRs…
writes one TID 1500 SR per time point (in the background), read back by
highdicom and by ``imaging-viewer response --json`` into the dock's tracked
lesion; its CSV and plot exports through the window; File → Export DICOM's SR
carries the study's time point."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from typing import TYPE_CHECKING

import highdicom as hd
import numpy as np
import pydicom
import pytest
from PIL import Image
from PySide6.QtWidgets import QFileDialog

from imaging_viewer.core.workspace.lesion_links import link_same_lesion, prior_lesions
from imaging_viewer.ui.main_window import MainWindow
from tests.conftest import window_settled
from tests.core.exchange.test_structured_report import run_dciodvfy
from tests.core.workspace.test_prior_location import (
    LATER_DATE,
    later_copy,
    measured_lesion,
    slice_positions_s,
)

if TYPE_CHECKING:
    from pathlib import Path

    from pytestqt.qtbot import QtBot

    from imaging_viewer.core.workspace import Study
    from imaging_viewer.ui.docks import WindowDocks

BASELINE_DATE = "20150206"
FOLLOW_UP_DATE = LATER_DATE  # later_copy's default
RESPONSE = (sys.executable, "-m", "imaging_viewer", "response")


@pytest.fixture
def tracked(
    qtbot: QtBot, sample_data: Path, tmp_path: Path
) -> tuple[MainWindow, WindowDocks, Study, Study]:
    """The sample CT as baseline and its later copy as follow-up (one patient,
    one frame of reference), one lesion linked across them (40 → 28 mm), the
    follow-up shown and the Response dock open."""
    window = MainWindow(remember_settings=False)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    baseline_folder = later_copy(
        sample_data / "CT", tmp_path / "baseline", date=BASELINE_DATE
    )
    window.open_path(baseline_folder)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    window.opening.add_study(later_copy(sample_data / "CT", tmp_path / "later"))
    qtbot.waitUntil(lambda: len(window.workspace.studies) == 2, timeout=60_000)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    workspace = window.workspace
    baseline, follow_up = sorted(workspace.studies.values(), key=lambda s: s.date)
    window.show_series(follow_up.series[0].id, 0)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    positions = slice_positions_s(sample_data / "CT")
    frame = baseline.series[0].frame_of_reference_uid
    workspace.annotations(baseline.uid).add_lesion(
        measured_lesion("L1 brain", (0.0, 0.0, positions[9]), frame, 40.0)
    )
    current = measured_lesion("new", (0.0, 0.0, positions[20]), frame, 28.0)
    workspace.annotations(follow_up.uid).add_lesion(current)
    (prior,) = prior_lesions(workspace, follow_up.uid)
    link_same_lesion(workspace, follow_up.uid, current.id, prior)
    docks = window.build_docks()
    docks.response_dock.show()
    grid = docks.response_panel.grid
    qtbot.waitUntil(lambda: grid.rowCount() == 1, timeout=5_000)
    return window, docks, baseline, follow_up


def _choose_folder(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    monkeypatch.setattr(
        QFileDialog, "getExistingDirectory", lambda *_args, **_kw: str(folder)
    )


def _tracking_uids(path: Path) -> list[str]:
    """Tracking UIDs of the report's measurement groups, as highdicom reads them."""
    report = hd.sr.srread(path).content
    assert isinstance(report, hd.sr.MeasurementReport)
    groups = [
        *report.get_image_measurement_groups(),
        *report.get_planar_roi_measurement_groups(),
    ]
    assert groups
    return [str(group.tracking_uid) for group in groups]


def test_export_srs_writes_one_linked_report_per_timepoint(
    qtbot: QtBot,
    tracked: tuple[MainWindow, WindowDocks, Study, Study],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window, docks, baseline, follow_up = tracked
    panel = docks.response_panel
    out = tmp_path / "reports"
    _choose_folder(monkeypatch, out)
    panel.reports_button.click()
    # The click returned before anything was written: the window never blocks.
    assert panel.export_result.text().startswith("Writing one SR per time point")
    export = docks.report_export
    qtbot.waitUntil(lambda: not export.running, timeout=60_000)
    assert panel.export_result.text() == f"2 reports written to {out}"
    assert window.statusBar().currentMessage() == panel.export_result.text()
    files = sorted(out.iterdir())
    assert [p.name for p in files] == [
        f"baseline_{BASELINE_DATE}_sr.dcm",
        f"follow-up_1_{FOLLOW_UP_DATE}_sr.dcm",
    ]
    by_study = {str(pydicom.dcmread(p).StudyInstanceUID): p for p in files}
    assert set(by_study) == {baseline.uid, follow_up.uid}
    labels = [pydicom.dcmread(p).ClinicalTrialTimePointID for p in files]
    assert labels == ["baseline", "follow-up 1"]
    (lesion,) = window.workspace.annotations(baseline.uid).lesions
    assert _tracking_uids(files[0]) == _tracking_uids(files[1]) == [lesion.tracking_uid]
    for path in files:
        run_dciodvfy(path)

    result = subprocess.run(
        [*RESPONSE, "--json", *(str(p) for p in reversed(files))],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    document = json.loads(result.stdout)
    assert [t["label"] for t in document["timepoints"]] == ["baseline", "follow-up 1"]
    assert [t["study_date"] for t in document["timepoints"]] == [
        BASELINE_DATE,
        FOLLOW_UP_DATE,
    ]
    (row,) = document["lesions"]
    assert row["tracking_uid"] == lesion.tracking_uid
    grid = panel.grid
    shown = [grid.item(0, c).text() for c in range(grid.columnCount())]
    assert shown == ["40.0 mm", "28.0 mm (-30 %)"]
    sizes = [cell["size_mm"] for cell in row["measurements"]]
    assert [f"{size:.1f} mm" for size in sizes] == ["40.0 mm", "28.0 mm"]
    assert row["measurements"][1]["change_from_baseline_pct"] == pytest.approx(-30.0)


def test_a_timepoint_without_lesions_is_reported_not_written(
    qtbot: QtBot,
    tracked: tuple[MainWindow, WindowDocks, Study, Study],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window, docks, _baseline, follow_up = tracked
    annotations = window.workspace.annotations(follow_up.uid)
    annotations.remove_lesion(annotations.lesions[0].id)
    out = tmp_path / "reports"
    _choose_folder(monkeypatch, out)
    window.actions_built.actions["export_timepoint_srs"].trigger()  # the menu entry
    qtbot.waitUntil(lambda: not docks.report_export.running, timeout=60_000)
    assert docks.response_panel.export_result.text() == (
        f"1 report written to {out}; follow-up 1: not written (no lesions)"
    )
    assert [p.name for p in out.iterdir()] == [f"baseline_{BASELINE_DATE}_sr.dcm"]


def test_csv_and_plots_through_the_windows_dock(
    tracked: tuple[MainWindow, WindowDocks, Study, Study],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _window, docks, baseline, follow_up = tracked
    panel = docks.response_panel
    table = tmp_path / "response.csv"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *_a, **_k: (str(table), "CSV (*.csv)")
    )
    panel.csv_button.click()
    rows = list(csv.DictReader(table.open(encoding="utf-8")))
    assert [r["study_instance_uid"] for r in rows] == [baseline.uid, follow_up.uid]
    assert [r["timepoint_label"] for r in rows] == ["baseline", "follow-up 1"]
    assert [r["study_date"] for r in rows] == [BASELINE_DATE, FOLLOW_UP_DATE]
    assert len({r["tracking_uid"] for r in rows}) == 1
    assert [float(r["longest_diameter_mm"]) for r in rows] == pytest.approx(
        [40.0, 28.0], abs=1e-3
    )

    plots = tmp_path / "plots"
    plots.mkdir()
    _choose_folder(monkeypatch, plots)
    panel.plot_button.click()
    (png,) = plots.iterdir()
    assert png.suffix == ".png"
    with Image.open(png) as image:
        pixels = np.asarray(image.convert("L"))
    assert min(pixels.shape) > 100
    assert pixels.std() > 5  # a drawn plot, not a blank image
    assert panel.warnings.text() == ""


def test_export_dicom_sr_carries_the_timepoint(
    qtbot: QtBot,
    tracked: tuple[MainWindow, WindowDocks, Study, Study],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window, _docks, _baseline, follow_up = tracked
    assert window.annotation_study() is follow_up
    _choose_folder(monkeypatch, tmp_path)
    window.actions_built.actions["export_dicom"].trigger()
    report = tmp_path / "annotations_dicom" / "dicom" / "report_sr.dcm"
    qtbot.waitUntil(report.exists, timeout=60_000)
    ds = pydicom.dcmread(report)
    assert ds.ClinicalTrialTimePointID == "follow-up 1"
    assert ds.StudyInstanceUID == follow_up.uid
    run_dciodvfy(report)
