"""SameLesionDialog: choose the lesion of an earlier time point that a lesion of
the current study is (they then share one Tracking UID, PS3.16 TID 1500)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from imaging_viewer.core.workspace.lesion_links import PriorLesion

_COLUMNS = ("Time point", "Date", "Lesion", "Size")


def _date_text(date: str) -> str:
    """``YYYYMMDD`` (PS3.5 DA) as ``YYYY-MM-DD``."""
    if len(date) == 8 and date.isdigit():
        return f"{date[:4]}-{date[4:6]}-{date[6:]}"
    return date or "?"


class SameLesionDialog(QDialog):
    """Lists the same patient's lesions of earlier time points (newest first);
    choosing one in the list calls ``show_location`` (which brings the prior
    into view and says where it is) and shows its answer."""

    def __init__(
        self,
        lesion_label: str,
        priors: Sequence[PriorLesion],
        show_location: Callable[[PriorLesion], str],
        parent: QWidget | None = None,
        *,
        linked: PriorLesion | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Same lesion as…")
        self.priors = list(priors)
        self._show_location = show_location
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(f"<b>{lesion_label}</b> is the same lesion as, at an earlier time:")
        )
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(list(_COLUMNS))
        self.tree.setRootIsDecorated(False)
        for prior in self.priors:
            size = f"{prior.size_mm:.1f} mm" if prior.size_mm is not None else "–"
            item = QTreeWidgetItem(
                [
                    prior.timepoint,
                    _date_text(prior.study_date),
                    prior.lesion.label or "(no label)",
                    size,
                ]
            )
            item.setTextAlignment(3, Qt.AlignmentFlag.AlignRight)
            self.tree.addTopLevelItem(item)
        for column in range(len(_COLUMNS)):
            self.tree.resizeColumnToContents(column)
        self.tree.setMinimumWidth(460)
        self.tree.currentItemChanged.connect(self._on_current)
        self.tree.itemDoubleClicked.connect(lambda *_: self.accept())
        layout.addWidget(self.tree, 1)
        self.location = QLabel()
        self.location.setWordWrap(True)
        layout.addWidget(self.location)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.link_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.link_button.setText("Link")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        start = self.priors.index(linked) if linked in self.priors else 0
        if self.priors:
            self.choose(start)
        self.link_button.setEnabled(bool(self.priors))

    @property
    def chosen(self) -> PriorLesion | None:
        """The prior lesion chosen in the list."""
        row = self.tree.currentIndex().row() if self.tree.currentItem() else -1
        return self.priors[row] if 0 <= row < len(self.priors) else None

    def choose(self, row: int) -> None:
        """Make row ``row`` the current choice (shows where it is)."""
        item = self.tree.topLevelItem(row)
        if item is not None:
            self.tree.setCurrentItem(item)

    def _on_current(self, *_: object) -> None:
        prior = self.chosen
        self.location.setText("" if prior is None else self._show_location(prior))
