"""SitePickerWidget: a coded anatomic site (SNOMED CT, from the DICOM content
mapping resource) and its laterality, chosen from lists; the lesion's free-text
site stays beside it (PS3.16 TID 1501 row 11 Finding Site, CID 244)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QCompleter, QHBoxLayout, QWidget

from imaging_viewer.core.annotations.anatomic_sites import ANATOMIC_SITES, LATERALITIES

__all__ = ["SitePickerWidget"]


class SitePickerWidget(QWidget):
    """A searchable list of coded sites and a laterality list.

    :attr:`site_chosen` is emitted with (code, meaning, laterality) when the
    user changes either; ``""`` for none.
    """

    site_chosen = Signal(str, str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.site = QComboBox()
        self.site.setEditable(True)
        self.site.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.site.addItem("", ("", ""))
        for site in sorted(ANATOMIC_SITES, key=lambda s: s.meaning):
            self.site.addItem(site.meaning, (site.code, site.meaning))
        completer = self.site.completer()
        if completer is not None:
            completer.setFilterMode(completer.filterMode().MatchContains)
            completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.site.setToolTip("Coded site (SNOMED CT): type to search")
        self.laterality = QComboBox()
        self.laterality.addItem("", "")
        for name in LATERALITIES:
            self.laterality.addItem(name, name)
        self.laterality.setToolTip("Laterality (PS3.16 CID 244)")
        layout.addWidget(self.site, 1)
        layout.addWidget(self.laterality)
        self.site.activated.connect(self._on_changed)
        line = self.site.lineEdit()
        if line is not None:
            line.editingFinished.connect(self._on_changed)
        self.laterality.activated.connect(self._on_changed)

    def show_site(self, code: str, laterality: str) -> None:
        """Show a lesion's coded site and laterality (without emitting)."""
        for combo in (self.site, self.laterality):
            combo.blockSignals(True)
        index = next(
            (n for n in range(self.site.count()) if self.site.itemData(n)[0] == code),
            0,
        )
        self.site.setCurrentIndex(index)
        self.laterality.setCurrentIndex(max(0, self.laterality.findData(laterality)))
        for combo in (self.site, self.laterality):
            combo.blockSignals(False)

    def chosen(self) -> tuple[str, str, str]:
        """(code, meaning, laterality) as shown."""
        index = self.site.findText(self.site.currentText())
        code, meaning = self.site.itemData(index) if index >= 0 else ("", "")
        return code, meaning, str(self.laterality.currentData() or "")

    def _on_changed(self, *_: object) -> None:
        self.site_chosen.emit(*self.chosen())
