"""The Help dialog "Keyboard and mouse": every key and mouse binding, from the
action table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6 import QtCore, QtWidgets

from imaging_viewer.ui.actions import help_rows

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget


class ShortcutsDialog(QtWidgets.QDialog):
    """A read-only table of every key and mouse action (:func:`help_rows`);
    not modal, so it can stay open beside the images."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard and mouse")
        layout = QtWidgets.QVBoxLayout(self)
        rows = help_rows()
        table = QtWidgets.QTableWidget(len(rows), 2, self)
        table.setHorizontalHeaderLabels(["Key / mouse", "Action"])
        for row, (keys, action) in enumerate(rows):
            table.setItem(row, 0, QtWidgets.QTableWidgetItem(keys))
            table.setItem(row, 1, QtWidgets.QTableWidgetItem(action))
        table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setWordWrap(True)
        table.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        table.resizeColumnToContents(0)
        header = table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setDefaultAlignment(QtCore.Qt.AlignmentFlag.AlignLeft)
        # Rows follow their wrapped text as the dialog is resized.
        rows_header = table.verticalHeader()
        rows_header.hide()
        rows_header.setSectionResizeMode(
            QtWidgets.QHeaderView.ResizeMode.ResizeToContents
        )
        layout.addWidget(table)
        self.resize(860, 560)
