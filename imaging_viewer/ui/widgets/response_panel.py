"""ResponsePanelWidget: lesions × time points of one patient, with RECIST 1.1.

Rows are lesions matched by Tracking UID (PS3.16 TID 4108) across the open
studies of the patient, columns their time points in study-date order; each
cell the lesion's RECIST size (short axis of a node, else longest diameter)
and its % change against baseline. With RECIST on, a last row gives the sum of
diameters and the response (RECIST 1.1, Eisenhauer et al. 2009). Exports the
table as CSV and a PNG plot per lesion; its Export SRs… button asks whoever
listens (``reports_requested``) for one DICOM SR per time point.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from PySide6.QtGui import QShowEvent

    from imaging_viewer.core.annotations.model import AnnotationSet
    from imaging_viewer.core.followup.response_table import (
        LesionCell,
        ResponseTable,
        TimepointData,
    )

REFRESH_DELAY_MS: Final = 150
"""Edits closer together than this rebuild the table once (a drag, an undo)."""


def _cell_text(cell: LesionCell | None, first: bool) -> str:
    if cell is None or cell.size_mm is None:
        return "–" if cell is None else "not measured"
    text = f"{cell.size_mm:.1f} mm"
    if not first and cell.change_from_baseline_pct is not None:
        text += f" ({cell.change_from_baseline_pct:+.0f} %)"
    return text


class ResponsePanelWidget(QWidget):
    """The response table of the time points ``source()`` gives.

    ``source`` is called on :meth:`refresh`; the panel never reads the
    workspace itself. It follows the annotation sets it was given: a
    measurement added, edited, deleted or linked rebuilds the table a moment
    later (:meth:`schedule_refresh`: throttled, and only while shown).
    """

    reports_requested = Signal()
    """Export SRs… was clicked: one SR per time point is wanted."""

    def __init__(
        self,
        source: Callable[[], Sequence[TimepointData]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._source = source
        self.table: ResponseTable | None = None
        self._watched: list[AnnotationSet] = []
        self._stale = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_DELAY_MS)
        self._timer.timeout.connect(self._on_timer)
        self.recist = QCheckBox("RECIST 1.1")
        self.recist.toggled.connect(self.refresh)
        self.grid = QTableWidget(0, 0)
        self.grid.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.warnings = QLabel()
        self.warnings.setWordWrap(True)
        self.csv_button = QPushButton("Export CSV…")
        self.csv_button.clicked.connect(self._ask_csv)
        self.plot_button = QPushButton("Export plots…")
        self.plot_button.clicked.connect(self._ask_plots)
        self.reports_button = QPushButton("Export SRs…")
        self.reports_button.setToolTip(
            "One DICOM SR per time point, its lesions' Tracking UIDs linking them"
        )
        self.reports_button.clicked.connect(self.reports_requested)
        self.export_result = QLabel()
        self.export_result.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.recist)
        buttons.addStretch(1)
        buttons.addWidget(self.csv_button)
        buttons.addWidget(self.plot_button)
        buttons.addWidget(self.reports_button)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.grid, 1)
        layout.addWidget(self.warnings)
        layout.addWidget(self.export_result)

    def refresh(self) -> None:
        """Rebuild the table from the current time points."""
        from imaging_viewer.core.followup.response_table import TableMode, build_table
        from imaging_viewer.core.followup.table_export import timepoint_label

        mode = TableMode.RECIST if self.recist.isChecked() else TableMode.PLAIN
        self._stale = False
        timepoints = list(self._source())
        self._watch([t.annotation_set for t in timepoints])
        table = self.table = build_table(timepoints, mode)
        rows = len(table.rows) + (1 if table.recist else 0)
        self.grid.clear()
        self.grid.setRowCount(rows)
        self.grid.setColumnCount(len(table.timepoints))
        self.grid.setHorizontalHeaderLabels(
            [
                f"{timepoint_label(table, i)}\n{t.study_date or '?'}"
                for i, t in enumerate(table.timepoints)
            ]
        )
        self.grid.setVerticalHeaderLabels(
            [row.label or row.tracking_uid for row in table.rows]
            + (["RECIST sum"] if table.recist else [])
        )
        for r, row in enumerate(table.rows):
            for c, cell in enumerate(row.cells):
                self.grid.setItem(r, c, QTableWidgetItem(_cell_text(cell, c == 0)))
        for c, assessment in enumerate(table.recist):
            sums = table.target_sums[c] if c < len(table.target_sums) else None
            text = (
                f"{assessment.sum_mm:.1f} mm {assessment.response or 'baseline'}"
                if assessment is not None
                else f"{sums.sum_mm:.1f} mm not evaluable"
                if sums is not None and sums.unmeasured
                else "not evaluable"
            )
            self.grid.setItem(len(table.rows), c, QTableWidgetItem(text))
        self.grid.resizeColumnsToContents()
        self.warnings.setText("\n".join(table.warnings))
        has_rows = bool(table.rows)
        self.csv_button.setEnabled(has_rows)
        self.plot_button.setEnabled(has_rows)
        self.reports_button.setEnabled(has_rows)

    def schedule_refresh(self, *_: object) -> None:
        """Rebuild the table a moment from now (once for a burst of changes);
        while hidden, when it is next shown."""
        self._stale = True
        if not self._timer.isActive():
            self._timer.start()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.schedule_refresh()

    def _on_timer(self) -> None:
        if self.isVisible():
            self.refresh()

    def _watch(self, sets: list[AnnotationSet]) -> None:
        """Follow the ``changed`` events of ``sets`` (and no others)."""
        for old in self._watched:
            if not any(old is new for new in sets):
                old.changed.disconnect(self.schedule_refresh)
        for new in sets:
            if not any(new is old for old in self._watched):
                new.changed.connect(self.schedule_refresh)
        self._watched = sets

    def export_csv(self, path: str) -> None:
        """Write the table as CSV (``imaging-viewer response --csv`` columns)."""
        from imaging_viewer.core.followup.table_export import write_csv

        if self.table is not None:
            write_csv(self.table, path)

    def export_plots(self, folder: str) -> None:
        """Write a PNG plot per lesion into ``folder``."""
        from imaging_viewer.ui.response_plot import write_lesion_plots

        if self.table is not None:
            write_lesion_plots(self.table, folder)

    def _ask_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export response table", "response.csv", "CSV (*.csv)"
        )
        if path:
            self._report(lambda: self.export_csv(path))

    def _ask_plots(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export lesion plots")
        if folder:
            self._report(lambda: self.export_plots(folder))

    def show_export_result(self, line: str) -> None:
        """Show how an export went ("2 reports written to …")."""
        self.export_result.setText(line)

    def _report(self, write: Callable[[], None]) -> None:
        try:
            write()
        except OSError as error:
            self.warnings.setText(f"Export failed: {error.strerror or error}")
