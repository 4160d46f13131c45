"""The response table dock: lesions × time points, RECIST toggle, CSV export."""

from __future__ import annotations

import csv
from typing import TYPE_CHECKING

from imaging_viewer.core.annotations.model import AnnotationSet, Lesion, Ruler
from imaging_viewer.core.followup.response_table import TimepointData
from imaging_viewer.ui.widgets.response_panel import ResponsePanelWidget

if TYPE_CHECKING:
    from pathlib import Path

    from pytestqt.qtbot import QtBot

TRACKING_UID = "2.25.424242"


def _lesion(diameter: float, uid: str = TRACKING_UID) -> Lesion:
    lesion = Lesion(label="L1 lung", tracking_uid=uid, role="target", organ="lung")
    ruler = Ruler(
        lesion_id=lesion.id,
        plane_normal_lps=(0.0, 0.0, 1.0),
        start_lps=(10.0, 0.0, 0.0),
        end_lps=(10.0 + diameter, 0.0, 0.0),
    )
    return Lesion(**{**lesion.__dict__, "annotations": (ruler,)})


def test_linking_a_lesion_updates_the_table_and_csv(
    qtbot: QtBot, tmp_path: Path
) -> None:
    baseline = AnnotationSet([_lesion(40.0)])
    follow_up = AnnotationSet()
    timepoints = [
        TimepointData(follow_up, study_uid="1.2.2", study_date="20240601"),
        TimepointData(baseline, study_uid="1.2.1", study_date="20240101"),
    ]
    panel = ResponsePanelWidget(lambda: timepoints)
    qtbot.addWidget(panel)
    panel.refresh()
    grid = panel.grid
    assert grid.columnCount() == 2
    assert grid.horizontalHeaderItem(0).text() == "baseline\n20240101"
    assert grid.item(0, 0).text() == "40.0 mm"
    assert grid.item(0, 1).text() == "–"

    # "Same lesion as…": the follow-up measurement gets the prior's Tracking UID.
    follow_up.add_lesion(_lesion(26.0))
    panel.recist.setChecked(True)  # toggling refreshes
    assert grid.rowCount() == 2
    assert grid.item(0, 1).text() == "26.0 mm (-35 %)"
    assert grid.verticalHeaderItem(1).text() == "RECIST sum"
    assert grid.item(1, 1).text() == "26.0 mm PR"

    out = tmp_path / "table.csv"
    panel.export_csv(str(out))
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["tracking_uid"] for r in rows] == [TRACKING_UID] * 2
    assert [float(r["longest_diameter_mm"]) for r in rows] == [40.0, 26.0]
    assert float(rows[1]["change_from_baseline_pct"]) == -35.0

    panel.export_plots(str(tmp_path / "plots"))
    assert [p.suffix for p in (tmp_path / "plots").iterdir()] == [".png"]


def test_the_table_follows_edits_live_and_throttled(qtbot: QtBot) -> None:
    baseline = AnnotationSet([_lesion(40.0)])
    follow_up = AnnotationSet()
    timepoints = [
        TimepointData(baseline, study_uid="1.2.1", study_date="20240101"),
        TimepointData(follow_up, study_uid="1.2.2", study_date="20240601"),
    ]
    calls: list[int] = []

    def source() -> list[TimepointData]:
        calls.append(1)
        return timepoints

    panel = ResponsePanelWidget(source)
    qtbot.addWidget(panel)
    panel.show()
    panel.refresh()
    grid = panel.grid

    # Measured at follow-up under another Tracking UID: a row of its own…
    follow_up.add_lesion(_lesion(30.0, uid="2.25.77"))
    qtbot.waitUntil(lambda: grid.rowCount() == 2)
    # …then linked ("same lesion as…"): one row, 40 → 30 mm.
    (lesion,) = follow_up.lesions
    follow_up.update_lesion(lesion.id, tracking_uid=TRACKING_UID)
    qtbot.waitUntil(lambda: grid.rowCount() == 1 and grid.item(0, 1) is not None)
    assert grid.item(0, 1).text() == "30.0 mm (-25 %)"

    # A burst of edits rebuilds the table once.
    before = len(calls)
    for label in ("a", "b", "c", "d"):
        follow_up.update_lesion(lesion.id, label=label)
    qtbot.waitUntil(lambda: len(calls) > before)
    qtbot.wait(300)
    assert len(calls) == before + 1

    # Deleted: the follow-up cell empties. Hidden: no rebuild until shown.
    panel.hide()
    follow_up.remove_lesion(lesion.id)
    qtbot.wait(300)
    assert grid.item(0, 1).text() == "30.0 mm (-25 %)"
    panel.show()
    qtbot.waitUntil(lambda: grid.item(0, 1).text() == "–")
