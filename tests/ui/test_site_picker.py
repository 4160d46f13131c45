"""The Lesions panel's site picker (issue 16 leftover a): a coded SNOMED CT
site and laterality chosen from lists, the free-text site kept beside them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydicom.sr.codedict import codes

from imaging_viewer.core.annotations.model import AnnotationSet, Lesion
from imaging_viewer.ui.widgets.lesions_panel import LesionsPanelWidget

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot


def test_choosing_a_coded_site_and_laterality_keeps_the_free_text(
    qtbot: QtBot,
) -> None:
    annotations = AnnotationSet([Lesion(id="l1", label="Lesion 1", site="metaphysis")])
    panel = LesionsPanelWidget(annotations)
    qtbot.addWidget(panel)
    panel.refresh()
    panel.tree.setCurrentItem(panel.tree.topLevelItem(0))
    picker = panel.site_picker
    assert picker.isEnabled()
    femur = codes.SCT.Femur  # the independent reference: pydicom's code dictionary
    picker.site.setCurrentIndex(picker.site.findText(femur.meaning))
    picker.laterality.setCurrentIndex(picker.laterality.findData("left"))
    picker.laterality.activated.emit(picker.laterality.currentIndex())
    lesion = annotations.lesion("l1")
    assert (lesion.site_code, lesion.site_meaning, lesion.laterality) == (
        femur.value,
        femur.meaning,
        "left",
    )
    assert lesion.site == "metaphysis"
    annotations.undo()
    panel.refresh()
    panel.tree.setCurrentItem(panel.tree.topLevelItem(0))
    assert picker.chosen() == ("", "", "")
