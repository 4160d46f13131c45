"""Issue 13 item 4 in the window: the Lesions panel edits a lesion's RECIST role,
nodal flag, organ (prefilled from the coded site) and, for bone, its soft-tissue
component; each edit is one undo step, saved in the annotation file (schema 2),
and the Response dock follows with the RECIST warnings (Eisenhauer et al. 2009:
at most 5 targets, 2 per organ, 10 mm measurable on CT)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pydicom

from imaging_viewer.core.annotations.model import AnnotationSet
from imaging_viewer.core.annotations.serialize import from_json, to_json
from imaging_viewer.core.followup.organs import organ_of_site
from imaging_viewer.core.followup.response_table import TimepointData
from imaging_viewer.ui.widgets.lesions_panel import LesionsPanelWidget
from imaging_viewer.ui.widgets.response_panel import ResponsePanelWidget
from tests.core.workspace.test_prior_location import (
    measured_lesion,
    slice_positions_s,
)

if TYPE_CHECKING:
    from pathlib import Path

    from pytestqt.qtbot import QtBot

    from imaging_viewer.core.annotations.model import Lesion


def _ct_lesions(sample_data: Path, sizes_mm: list[float]) -> list[Lesion]:
    """Lesions measured on the slices of the sample CT (positions and frame of
    reference read by pydicom), no role yet."""
    folder = sample_data / "CT"
    positions = slice_positions_s(folder)
    first = next(p for p in sorted(folder.rglob("*")) if p.is_file())
    frame = str(pydicom.dcmread(first, stop_before_pixels=True).FrameOfReferenceUID)
    lesions = []
    for n, size in enumerate(sizes_mm):
        lesion = measured_lesion(f"L{n + 1}", (0.0, 0.0, positions[n]), frame, size)
        lesions.append(type(lesion)(**{**lesion.__dict__, "role": ""}))
    return lesions


def _select(panel: LesionsPanelWidget, row: int) -> Lesion:
    panel.tree.setCurrentItem(panel.tree.topLevelItem(row))
    lesion_id = panel.active_lesion_id
    assert lesion_id is not None
    return panel.annotations.lesion(lesion_id)


def test_role_nodal_organ_edits_are_undoable_saved_and_warned(
    qtbot: QtBot, sample_data: Path, tmp_path: Path
) -> None:
    annotations = AnnotationSet(_ct_lesions(sample_data, [25.0] * 6 + [8.0]))
    panel = LesionsPanelWidget(annotations)
    qtbot.addWidget(panel)
    response = ResponsePanelWidget(
        lambda: [TimepointData(annotations, study_uid="1.2.3", study_date="20240101")]
    )
    qtbot.addWidget(response)
    response.show()
    response.recist.setChecked(True)
    editor = panel.role_editor
    assert not editor.role.isEnabled()  # no lesion chosen

    for row in range(7):
        lesion = _select(panel, row)
        assert editor.role.isEnabled()
        editor.role.setCurrentIndex(editor.role.findData("target"))
        editor.organ.setEditText("lung")
        editor.organ.lineEdit().editingFinished.emit()
        lesion = annotations.lesion(lesion.id)
        assert (lesion.role, lesion.organ) == ("target", "lung")
    qtbot.waitUntil(
        lambda: "7 target lesions in lung" in response.warnings.text(), timeout=5_000
    )
    warnings = response.warnings.text()
    assert "7 target lesions: RECIST 1.1 takes at most 5" in warnings
    assert "L7: under the measurable size" in warnings

    # Undo: one step per edit; the organ of L7 goes back, then its role.
    annotations.undo()
    assert annotations.lesion(lesion.id).organ == ""
    annotations.undo()
    assert annotations.lesion(lesion.id).role == ""
    annotations.redo()
    annotations.redo()
    assert _select(panel, 6).organ == "lung"
    assert editor.organ.currentText() == "lung"

    # A node: the coded site Lymph Node fills organ and nodal in one step.
    node = _select(panel, 5)
    panel.site_picker.site_chosen.emit("59441001", "Lymph Node", "")
    node = annotations.lesion(node.id)
    assert (node.organ, node.nodal) == ("lung", False)  # the typed organ stays
    editor.organ.setEditText("")
    editor.organ.lineEdit().editingFinished.emit()
    panel.site_picker.site_chosen.emit("59441001", "Lymph Node", "")
    node = annotations.lesion(node.id)
    assert (node.organ, node.nodal) == ("lymph node", True)
    assert editor.nodal.isChecked()
    annotations.undo()  # organ and nodal went together
    assert annotations.lesion(node.id).organ == ""
    assert not annotations.lesion(node.id).nodal
    annotations.redo()
    editor.nodal.setChecked(False)
    assert not annotations.lesion(node.id).nodal

    # Bone: measurable only with a soft-tissue component (RECIST 1.1 3.1.2).
    bone = _select(panel, 0)
    assert not editor.soft_tissue.isEnabled()
    panel.site_picker.site_chosen.emit("71341001", "Femur", "left")
    assert annotations.lesion(bone.id).organ == "lung"  # typed: kept
    editor.organ.setCurrentIndex(editor.organ.findText("bone"))
    editor.organ.activated.emit(editor.organ.currentIndex())
    assert annotations.lesion(bone.id).organ == "bone"
    assert editor.soft_tissue.isEnabled()
    qtbot.waitUntil(
        lambda: "L1: under the measurable size" in response.warnings.text(),
        timeout=5_000,
    )
    editor.soft_tissue.setChecked(True)
    assert annotations.lesion(bone.id).soft_tissue_component
    qtbot.waitUntil(lambda: "L1: under" not in response.warnings.text(), timeout=5_000)
    editor.role.setCurrentIndex(editor.role.findData("non-target"))

    # Saved in the annotation file and read back.
    path = tmp_path / "annotations.json"
    path.write_text(json.dumps(to_json(annotations, "1.2.3")), encoding="utf-8")
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["schema"] == "imaging_viewer.annotations/2"
    back = from_json(document)
    read = {lesion.label: lesion for lesion in back.lesions}
    assert (read["L1"].role, read["L1"].organ) == ("non-target", "bone")
    assert read["L1"].soft_tissue_component
    assert read["L6"].organ == "lymph node"
    assert [read[f"L{n}"].role for n in range(2, 8)] == ["target"] * 6


def test_organ_of_coded_sites() -> None:
    assert organ_of_site("71341001", "Femur") == "bone"
    assert organ_of_site("56401006", "T5 vertebra") == "bone"
    assert organ_of_site("272673000", "Bone") == "bone"
    assert organ_of_site("39607008", "Lung") == "lung"
    assert organ_of_site("59441001", "Lymph Node") == "lymph node"
    assert organ_of_site("72696002", "Knee") == ""  # a region: bone or soft tissue
