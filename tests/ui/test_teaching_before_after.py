"""Issue 13 item 6 from the teaching dialog: with two studies of one patient
open (the corpus CT and its copy as a later study) and a lesion linked across
them, "Before/after pair per tracked lesion" is on, and the export writes
``before_after/pair01.png`` with both sides as de-identified DICOM (read back
with pydicom: no source name, ID or UIDs); narrowed to an untracked lesion, no
pair is made."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pydicom
from PySide6.QtCore import Qt

from imaging_viewer.core.annotations.model import Lesion, Ruler
from imaging_viewer.core.teaching.case import TeachingCase
from imaging_viewer.core.workspace.lesion_links import (
    link_same_lesion,
    prior_lesions,
)
from imaging_viewer.ui.main_window import MainWindow
from tests.conftest import window_settled
from tests.core.workspace.test_timepoint_labels import _two_timepoints

if TYPE_CHECKING:
    from pathlib import Path

    import pytest
    from pytestqt.qtbot import QtBot


def _ruler_lesion(dicom: Path, label: str, length_px: float, row: int) -> Lesion:
    """A lesion measured by a ruler on ``dicom`` (geometry read with pydicom)."""
    ds = pydicom.dcmread(dicom, stop_before_pixels=True)
    origin = np.array(ds.ImagePositionPatient, dtype=float)
    row_dir = np.array(ds.ImageOrientationPatient[:3], dtype=float)
    col_dir = np.array(ds.ImageOrientationPatient[3:], dtype=float)
    row_mm, col_mm = (float(v) for v in ds.PixelSpacing)
    start = origin + 100 * col_mm * row_dir + row * row_mm * col_dir
    lesion = Lesion(label=label, role="target")
    ruler = Ruler(
        lesion_id=lesion.id,
        referenced_sop_instance_uid=str(ds.SOPInstanceUID),
        plane_normal_lps=tuple(np.cross(row_dir, col_dir).tolist()),
        start_lps=tuple(start.tolist()),
        end_lps=tuple((start + length_px * col_mm * row_dir).tolist()),
    )
    return Lesion(**{**lesion.__dict__, "annotations": (ruler,)})


def test_dialog_exports_a_deidentified_pair_of_the_linked_lesion(
    qtbot: QtBot, corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    studies = tmp_path / "studies"
    studies.mkdir()
    earlier, later = _two_timepoints(corpus, studies)
    window = MainWindow(remember_settings=False)
    qtbot.addWidget(window)
    window.show()
    window.open_path(studies)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    workspace = window.workspace
    baseline, follow_up = sorted(workspace.studies.values(), key=lambda s: s.date)
    assert baseline.patient_key == follow_up.patient_key
    workspace.annotations(baseline.uid).add_lesion(
        _ruler_lesion(earlier / "ct.dcm", "L1 liver", 50, 100)
    )
    current = _ruler_lesion(later / "ct.dcm", "L1 again", 40, 100)
    untracked = _ruler_lesion(later / "ct.dcm", "new", 20, 200)
    for lesion in (current, untracked):
        workspace.annotations(follow_up.uid).add_lesion(lesion)
    (choice,) = prior_lesions(workspace, follow_up.uid)
    link_same_lesion(workspace, follow_up.uid, current.id, choice)
    window.use_annotations(workspace.annotations(follow_up.uid))

    export = window.lesion_export
    dialog = export.teaching_dialog(follow_up)
    qtbot.addWidget(dialog)
    assert dialog.before_after.isEnabled()
    assert dialog.before_after.isChecked()
    assert dialog.before_after.toolTip().startswith("1 lesion is tracked")
    folder = export.write_teaching_case(
        follow_up,
        TeachingCase(title="Liver"),
        tmp_path / "case",
        {},
        export.teaching_options(dialog, follow_up),
    )
    assert folder == tmp_path / "case"
    pair = folder / "before_after"
    assert (pair / "pair01.png").is_file()
    sources = [
        pydicom.dcmread(path, stop_before_pixels=True)
        for path in (earlier / "ct.dcm", later / "ct.dcm")
    ]
    for side, source in zip(("before", "after"), sources, strict=True):
        written = pydicom.dcmread(pair / f"pair01_{side}.dcm")
        assert written.PatientID != source.PatientID
        assert str(written.PatientName) != str(source.PatientName)
        assert written.SOPInstanceUID != source.SOPInstanceUID
        assert written.StudyInstanceUID != source.StudyInstanceUID
        assert not written.get("PatientBirthDate")
        data = (pair / f"pair01_{side}.dcm").read_bytes()
        assert str(source.PatientID).encode() not in data
    assert not (pair / "pair02.png").exists()  # the untracked lesion has none

    # Narrowed in the dialog to the untracked lesion: no pair.
    items = [dialog.lesion_list.item(n) for n in range(dialog.lesion_list.count())]
    for item in items:
        wanted = item.data(Qt.ItemDataRole.UserRole) == untracked.id
        item.setCheckState(Qt.CheckState.Checked if wanted else Qt.CheckState.Unchecked)
    narrowed = export.write_teaching_case(
        follow_up,
        TeachingCase(title="Liver"),
        tmp_path / "narrowed",
        {},
        export.teaching_options(dialog, follow_up),
    )
    assert narrowed is not None
    assert not (narrowed / "before_after").exists()


def test_off_with_one_study_open(
    qtbot: QtBot, corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    earlier, _ = _two_timepoints(corpus, tmp_path)
    window = MainWindow(remember_settings=False)
    qtbot.addWidget(window)
    window.show()
    window.open_path(earlier)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    (study,) = window.workspace.studies.values()
    window.workspace.annotations(study.uid).add_lesion(
        _ruler_lesion(earlier / "ct.dcm", "L1", 50, 100)
    )
    window.use_annotations(window.workspace.annotations(study.uid))
    dialog = window.lesion_export.teaching_dialog(study)
    qtbot.addWidget(dialog)
    assert not dialog.before_after.isEnabled()
    assert not dialog.before_after.isChecked()
    assert dialog.before_after.toolTip().startswith("No lesion of this study")
    assert "before_after" not in window.lesion_export.teaching_options(dialog, study)
