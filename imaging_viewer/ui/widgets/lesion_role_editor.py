"""LesionRoleEditor: a lesion's RECIST role, nodal flag, organ and, for a bone
lesion, its soft-tissue component (RECIST 1.1, Eisenhauer et al. 2009).

Every edit goes through :meth:`AnnotationSet.update_lesion`, so it is undoable,
saved in the annotation file (schema 2) and seen by the Response dock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QHBoxLayout

from imaging_viewer.core.followup.organs import (
    RECIST_ORGANS,
    is_bone_organ,
    organ_of_site,
)

if TYPE_CHECKING:
    from imaging_viewer.core.annotations.model import AnnotationSet, Lesion

ROLE_NAMES: Final = {
    "": "not assigned",
    "target": "target",
    "non-target": "non-target",
    "new": "new",
}
"""RECIST 1.1 roles (sections 4.2, 4.3.3) and how the combo names them."""


class LesionRoleEditor(QObject):
    """Edits the follow-up fields of the lesion :meth:`show_lesion` gives; its
    rows go into the panel's form (:meth:`add_rows`), aligned with the others."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._annotations: AnnotationSet | None = None
        self._lesion_id: str | None = None
        self.role = QComboBox()
        for role, name in ROLE_NAMES.items():
            self.role.addItem(name, role)
        self.role.setToolTip(
            "RECIST 1.1: at most 5 target lesions, 2 per organ (section 4.2)"
        )
        self.role.currentIndexChanged.connect(self._on_role)
        self.nodal = QCheckBox("Nodal")
        self.nodal.setToolTip("A lymph node: measured by its short axis")
        self.nodal.toggled.connect(lambda on: self._update(nodal=on))
        self.organ = QComboBox()
        self.organ.setEditable(True)
        self.organ.addItems(RECIST_ORGANS)
        self.organ.setCurrentIndex(-1)
        self.organ.setToolTip("Organ for the two-targets-per-organ rule")
        line_edit = self.organ.lineEdit()
        if line_edit is not None:
            line_edit.setPlaceholderText("e.g. lung")
            line_edit.editingFinished.connect(self._on_organ)
        self.organ.activated.connect(lambda _index: self._on_organ())
        self.soft_tissue = QCheckBox("Soft-tissue component")
        self.soft_tissue.setToolTip(
            "A bone lesion is measurable only with a soft-tissue component "
            "(RECIST 1.1 section 3.1.2)"
        )
        self.soft_tissue.toggled.connect(
            lambda on: self._update(soft_tissue_component=on)
        )
        self.show_lesion(None, None)

    def add_rows(self, form: QFormLayout) -> None:
        """Put the editors at the end of ``form``."""
        role_row = QHBoxLayout()
        role_row.addWidget(self.role, 1)
        role_row.addWidget(self.nodal)
        form.addRow("Role", role_row)
        form.addRow("Organ", self.organ)
        form.addRow("", self.soft_tissue)

    def show_lesion(
        self, annotations: AnnotationSet | None, lesion: Lesion | None
    ) -> None:
        """Show ``lesion`` of ``annotations`` (None: nothing to edit)."""
        self._annotations = annotations
        self._lesion_id = lesion.id if lesion is not None else None
        for widget in (self.role, self.nodal, self.organ, self.soft_tissue):
            widget.blockSignals(True)
            widget.setEnabled(lesion is not None)
        self.role.setCurrentIndex(
            max(0, self.role.findData(lesion.role if lesion is not None else ""))
        )
        self.nodal.setChecked(lesion is not None and lesion.nodal)
        self.organ.setEditText(lesion.organ if lesion is not None else "")
        self.soft_tissue.setChecked(lesion is not None and lesion.soft_tissue_component)
        self.soft_tissue.setEnabled(
            lesion is not None
            and (is_bone_organ(lesion.organ) or lesion.soft_tissue_component)
        )
        for widget in (self.role, self.nodal, self.organ, self.soft_tissue):
            widget.blockSignals(False)

    @staticmethod
    def site_changes(lesion: Lesion, code: str, meaning: str) -> dict[str, str | bool]:
        """What choosing a coded site also sets: the organ it lies in, unless the
        user typed another one; a lymph node is nodal."""
        organ = organ_of_site(code, meaning)
        previous = organ_of_site(lesion.site_code, lesion.site_meaning)
        changes: dict[str, str | bool] = {}
        if organ and lesion.organ in ("", previous):
            changes["organ"] = organ
            if organ == "lymph node":
                changes["nodal"] = True
        return changes

    def _on_role(self, _index: int) -> None:
        self._update(role=str(self.role.currentData() or ""))

    def _on_organ(self) -> None:
        self._update(organ=self.organ.currentText().strip())

    def _update(self, **changes: str | bool) -> None:
        annotations, lesion_id = self._annotations, self._lesion_id
        if annotations is None or not lesion_id:
            return
        if annotations.has_lesion(lesion_id):
            annotations.update_lesion(lesion_id, **changes)
