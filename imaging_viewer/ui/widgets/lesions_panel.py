"""LesionsPanelWidget: the lesions of the study, their annotations and measurements."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QMenu,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from imaging_viewer.ui.annotation_overlay import calibration_of, measurement_text
from imaging_viewer.ui.widgets.lesion_role_editor import LesionRoleEditor
from imaging_viewer.ui.widgets.site_picker import SitePickerWidget
from imaging_viewer.ui.widgets.wrapping_delegate import WrappingDelegate

if TYPE_CHECKING:
    from collections.abc import Callable

    from imaging_viewer.core.annotations.model import Annotation, AnnotationSet

_ID_ROLE = Qt.ItemDataRole.UserRole
_FIELDS = ("label", "site", "finding", "diagnosis", "note")
_NAME_COLUMN_WIDTH = 110
_LONGEST_KIND = "bidirectional"


class LesionsPanelWidget(QWidget):
    """Lists lesions with their annotations and measurements; edits a lesion's
    label, site, finding, diagnosis, note and RECIST role, nodal flag and organ;
    picks the active lesion.

    Double-clicking an annotation emits :attr:`annotation_activated` so the
    viewer can jump to it.
    """

    annotation_activated = Signal(str)
    """An annotation id the user wants to see."""
    active_lesion_changed = Signal(object)
    """The lesion id new annotations go to (None: start a new lesion)."""
    same_lesion_requested = Signal(str)
    """A lesion id to link to a lesion of an earlier time point."""
    unlink_requested = Signal(str)
    """A lesion id to unlink from the earlier lesion it is linked to."""

    def __init__(
        self, annotations: AnnotationSet, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.annotations = annotations
        self.spacing_source = ""
        self.spacing_source_of: Callable[[Annotation], str] = self._spacing_source_of
        self.roi_lines_of: Callable[[Annotation], tuple[str, ...]] = lambda _a: ()
        """An ROI's statistics (mean ± SD, min, max), from the views."""
        """Spacing source of the image an annotation was drawn on (the window
        looks it up in the views); lengths without one read in px."""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        buttons = QHBoxLayout()
        self.new_button = QPushButton("New lesion")
        self.new_button.setToolTip("The next annotation starts a new lesion")
        self.new_button.clicked.connect(self._on_new_lesion)
        self.delete_button = QPushButton("Delete")
        self.delete_button.setToolTip("Delete the selected lesion or annotation")
        self.delete_button.clicked.connect(self.delete_selected)
        self.same_lesion_button = QPushButton("Same lesion as…")
        self.same_lesion_button.setToolTip(
            "Link the selected lesion to a lesion of an earlier time point"
        )
        self.same_lesion_button.clicked.connect(self._on_same_lesion)
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.delete_button)
        buttons.addWidget(self.same_lesion_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Lesion", "Measurement"])
        # Readable at the dock's default width: a narrow name column, and the
        # measurement (with its spacing source and ROI statistics) wrapped over
        # as many lines as it needs; the tooltip has it all (issue 15 item 1).
        self.tree.setColumnWidth(0, self._name_column_width())
        self.tree.setWordWrap(True)
        self.tree.setItemDelegate(WrappingDelegate(self.tree))
        self.tree.setUniformRowHeights(False)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.tree.header().setStretchLastSection(True)
        self.tree.header().sectionResized.connect(self._on_column_resized)
        self.tree.itemSelectionChanged.connect(self._on_selection)
        self.tree.itemDoubleClicked.connect(self._on_double_click)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._on_context_menu)
        layout.addWidget(self.tree, 1)
        form = QFormLayout()
        self.editors: dict[str, QLineEdit] = {}
        for name in _FIELDS:
            editor = QLineEdit()
            editor.setPlaceholderText(
                {
                    "label": "e.g. Lesion 1",
                    "site": "e.g. left distal femur, metaphysis",
                    "finding": "e.g. aggressive periosteal reaction",
                    "diagnosis": "e.g. osteosarcoma",
                    "note": "",
                }[name]
            )
            editor.editingFinished.connect(
                lambda name=name: self._on_field_edited(name)
            )
            form.addRow(name.capitalize(), editor)
            self.editors[name] = editor
        self.site_picker = SitePickerWidget()  # coded site beside the free text
        self.site_picker.site_chosen.connect(self._on_site_chosen)
        form.insertRow(2, "Coded site", self.site_picker)
        self.role_editor = LesionRoleEditor(self)  # RECIST role, nodal, organ
        self.role_editor.add_rows(form)
        layout.addLayout(form)
        self._active_lesion: str | None = None
        annotations.changed.connect(self._on_changed)
        self.refresh()

    def set_annotations(self, annotations: AnnotationSet) -> None:
        """List and edit another set (another study's)."""
        self.annotations.changed.disconnect(self._on_changed)
        self.annotations = annotations
        self._active_lesion = None
        annotations.changed.connect(self._on_changed)
        self.refresh()

    @property
    def active_lesion_id(self) -> str | None:
        """The lesion that new annotations join."""
        return self._active_lesion

    def _spacing_source_of(self, annotation: Annotation) -> str:
        """Without views to ask: stated spacing in a frame of reference, none on
        a projection image (PS3.3 10.7.1.3)."""
        return self.spacing_source if annotation.frame_of_reference_uid else "none"

    def _name_column_width(self) -> int:
        """Narrow, yet wide enough for the longest annotation kind under its
        lesion ("bidirectional" was cut to "bidirectiona")."""
        longest = self.tree.fontMetrics().horizontalAdvance(_LONGEST_KIND)
        # A kind sits one level under its lesion, itself indented past the root
        # decoration: two indentations, then the text and the cell's margins.
        return max(_NAME_COLUMN_WIDTH, 2 * self.tree.indentation() + longest + 16)

    def refresh(self) -> None:
        """Rebuild the list from the annotation set."""
        selected = self._selected_id()
        self.tree.blockSignals(True)
        self.tree.clear()
        for lesion in self.annotations.lesions:
            item = QTreeWidgetItem([lesion.label or "(lesion)", lesion.site])
            item.setData(0, _ID_ROLE, ("lesion", lesion.id))
            item.setForeground(0, QBrush(QColor(lesion.colour)))
            for annotation in lesion.annotations:
                child = self._annotation_item(annotation)
                item.addChild(child)
                if annotation.id == selected:
                    child.setSelected(True)
            self.tree.addTopLevelItem(item)
            if lesion.id == selected:
                item.setSelected(True)
            item.setExpanded(True)
        self.tree.blockSignals(False)
        if self._active_lesion and not self.annotations.has_lesion(self._active_lesion):
            self._set_active(None)
        self._show_fields()

    def _annotation_item(self, annotation: Annotation) -> QTreeWidgetItem:
        """The row of an annotation: its name, and what it measures (wrapped),
        with the full text and the spacing it rests on in the tooltip."""
        source = self.spacing_source_of(annotation)
        calibration = calibration_of(self.annotations, annotation)
        lines = self.roi_lines_of(annotation)
        name = annotation.label or annotation.kind
        text = measurement_text(annotation, source, calibration, lines)
        child = QTreeWidgetItem([name, text])
        child.setData(0, _ID_ROLE, ("annotation", annotation.id))
        tooltip = measurement_text(annotation, source, calibration, lines, "\n")
        if annotation.kind == "bidirectional" and tooltip:
            tooltip = f"{tooltip}\n(long axis × short axis)"
        spacing = calibration.source if calibration is not None else source
        if spacing == "none":
            spacing = "none: the image has no pixel spacing, sizes are in pixels"
        if spacing and tooltip:
            tooltip += f"\nSpacing: {spacing}"
        for column, tip in ((0, f"{name}\n{tooltip}".strip()), (1, tooltip)):
            child.setToolTip(column, tip)
        return child

    def _on_column_resized(self, *_args: object) -> None:
        # Wrapped rows take their height from the column's new width.
        self.tree.doItemsLayout()

    def _on_changed(self, _description: str) -> None:
        self.refresh()
        # A lesion just created by a tool becomes the active one.
        lesions = self.annotations.lesions
        if self._active_lesion is None and lesions:
            self._set_active(lesions[-1].id)

    def _selected_id(self) -> str | None:
        items = self.tree.selectedItems()
        if not items:
            return None
        _, item_id = items[0].data(0, _ID_ROLE)
        return str(item_id)

    def _selected_lesion_id(self) -> str | None:
        items = self.tree.selectedItems()
        if not items:
            return None
        kind, item_id = items[0].data(0, _ID_ROLE)
        if kind == "lesion":
            return str(item_id)
        return self.annotations.lesion_of(str(item_id)).id

    def _on_selection(self) -> None:
        lesion_id = self._selected_lesion_id()
        if lesion_id is not None:
            self._set_active(lesion_id)
        items = self.tree.selectedItems()
        if items and items[0].data(0, _ID_ROLE)[0] == "annotation":
            self.annotations.select(str(items[0].data(0, _ID_ROLE)[1]))
        self._show_fields()

    def _set_active(self, lesion_id: str | None) -> None:
        if lesion_id != self._active_lesion:
            self._active_lesion = lesion_id
            self.active_lesion_changed.emit(lesion_id)

    def _show_fields(self) -> None:
        lesion_id = self._active_lesion
        lesion = (
            self.annotations.lesion(lesion_id)
            if lesion_id and self.annotations.has_lesion(lesion_id)
            else None
        )
        for name, editor in self.editors.items():
            editor.blockSignals(True)
            editor.setText(getattr(lesion, name) if lesion is not None else "")
            editor.setEnabled(lesion is not None)
            editor.blockSignals(False)
        self.site_picker.setEnabled(lesion is not None)
        self.same_lesion_button.setEnabled(lesion is not None)
        self.role_editor.show_lesion(self.annotations, lesion)
        if lesion is not None:
            self.site_picker.show_site(lesion.site_code, lesion.laterality)

    def _on_site_chosen(self, code: str, meaning: str, laterality: str) -> None:
        lesion_id = self._active_lesion
        if lesion_id and self.annotations.has_lesion(lesion_id):
            lesion = self.annotations.lesion(lesion_id)
            self.annotations.update_lesion(  # one undo step, organ prefilled
                lesion_id,
                site_code=code,
                site_meaning=meaning,
                laterality=laterality,
                **LesionRoleEditor.site_changes(lesion, code, meaning),
            )

    def _on_field_edited(self, name: str) -> None:
        lesion_id = self._active_lesion
        if not lesion_id or not self.annotations.has_lesion(lesion_id):
            return
        value = self.editors[name].text().strip()
        if getattr(self.annotations.lesion(lesion_id), name) != value:
            self.annotations.update_lesion(lesion_id, **{name: value})

    def _on_new_lesion(self) -> None:
        self.tree.clearSelection()
        self._set_active(None)
        self._show_fields()

    def _on_same_lesion(self) -> None:
        if self._active_lesion and self.annotations.has_lesion(self._active_lesion):
            self.same_lesion_requested.emit(self._active_lesion)

    def lesion_menu(self, item: QTreeWidgetItem) -> QMenu | None:
        """The context menu of a lesion row (None for an annotation row)."""
        kind, lesion_id = item.data(0, _ID_ROLE)
        if kind != "lesion":
            return None
        menu = QMenu(self)
        menu.addAction(
            "Same lesion as…", lambda: self.same_lesion_requested.emit(lesion_id)
        )
        menu.addAction(
            "Unlink from earlier lesion", lambda: self.unlink_requested.emit(lesion_id)
        )
        return menu

    def _on_context_menu(self, position: QPoint) -> None:
        item = self.tree.itemAt(position)
        menu = None if item is None else self.lesion_menu(item)
        if item is None or menu is None:
            return
        self.tree.setCurrentItem(item)  # the lesion it acts on becomes the active one
        menu.exec(self.tree.viewport().mapToGlobal(position))
        menu.deleteLater()

    def _on_double_click(self, item: QTreeWidgetItem, _column: int) -> None:
        kind, item_id = item.data(0, _ID_ROLE)
        if kind == "annotation":
            self.annotation_activated.emit(str(item_id))
        elif item.childCount():
            child = item.child(0)
            if child is not None:
                _, first = child.data(0, _ID_ROLE)
                self.annotation_activated.emit(str(first))

    def delete_selected(self) -> None:
        """Delete the selected annotation, or the whole lesion (undoable)."""
        items = self.tree.selectedItems()
        if not items:
            return
        kind, item_id = items[0].data(0, _ID_ROLE)
        if kind == "lesion":
            self.annotations.remove_lesion(str(item_id))
        else:
            self.annotations.remove_annotation(str(item_id))
