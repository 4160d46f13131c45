"""ProblemsPanelWidget: scan warnings, series warnings, skipped files and errors."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Final

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QStyle,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from PySide6.QtGui import QKeyEvent

    from imaging_viewer.core.dicom.scan import ScanResult
    from imaging_viewer.core.dicom.series import SeriesInfo

SEVERITIES: Final = ("error", "warning", "skipped")
FILTERS: Final = (
    ("All", "all"),
    ("Errors", "error"),
    ("Warnings", "warning"),
    ("Skipped", "skipped"),
)
"""Filter box entries: (label, severity or "all")."""
COLUMNS: Final = ("Severity", "Where", "Message")
SEVERITY_COLUMN, WHERE_COLUMN, MESSAGE_COLUMN = range(len(COLUMNS))
SEVERITY_ROLE: Final = int(Qt.ItemDataRole.UserRole) + 1
SERIES_ID_ROLE: Final = int(Qt.ItemDataRole.UserRole) + 2
"""On rows about a series: its id."""
PATH_ROLE: Final = int(Qt.ItemDataRole.UserRole) + 3
"""On rows about a file: its path."""
MESSAGE_ROLE: Final = int(Qt.ItemDataRole.UserRole) + 4
"""On a row whose message was restated (:meth:`restate`): the message as found."""

_ALIASES: Final = {"errors": "error", "warnings": "warning", "skip": "skipped"}
_COLOURS: Final = {
    "error": QColor(240, 110, 100),
    "warning": QColor(230, 175, 70),
    "skipped": QColor(160, 160, 170),
}
_ICONS: Final = {
    "error": QStyle.StandardPixmap.SP_MessageBoxCritical,
    "warning": QStyle.StandardPixmap.SP_MessageBoxWarning,
    "skipped": QStyle.StandardPixmap.SP_FileIcon,
}


def series_label(series: SeriesInfo) -> str:
    """``Series 3 · T1 SAG (MR)``: how a problem names its series."""
    number = (
        f"Series {series.series_number}"
        if series.series_number is not None
        else "Series"
    )
    description = series.description or "(no description)"
    return f"{number} · {description} ({series.modality})"


NOT_DICOM_REASONS: Final = (
    "not a DICOM file",
    "empty file",
    "not a regular file",
    "DICOMDIR (media directory)",
)
"""How the scan words a skipped file that is no DICOM image file at all (a
README, a checksum list, the DICOMDIR index): nothing for the reader to fix."""


def is_not_dicom(reason: str) -> bool:
    """True when a skipped file's reason says it is not a DICOM image file."""
    return reason.startswith(NOT_DICOM_REASONS)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


class ProblemsPanelWidget(QWidget):
    """What went wrong, one row each: severity, where (series or file), message.

    Double-click (or Enter) on a row about a series emits :attr:`series_activated`,
    on a row about a file :attr:`file_activated`.
    """

    series_activated = Signal(str)
    """A series id."""
    file_activated = Signal(str)
    """The path of a skipped file (e.g. to show its tags)."""
    count_changed = Signal(int)
    """The number of problems (all severities), after every change."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._root = ""
        self._series_labels: dict[str, str] = {}
        self._seen: set[tuple[str, str, str]] = set()
        self._counts = dict.fromkeys(SEVERITIES, 0)
        self._not_dicom = 0

        self.title_label = QLabel(self)
        self.title_label.setObjectName("problemsTitleLabel")
        self.filter_combo = QComboBox(self)
        self.filter_combo.setObjectName("problemsFilterCombo")
        for label, severity in FILTERS:
            self.filter_combo.addItem(label, severity)
        self.filter_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToContents
        )
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("problemsTreeWidget")
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.tree.setWordWrap(False)
        header = self.tree.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        metrics = self.tree.fontMetrics()
        self.tree.setColumnWidth(
            SEVERITY_COLUMN, metrics.horizontalAdvance("Warning") + 48
        )
        self.tree.setColumnWidth(WHERE_COLUMN, metrics.horizontalAdvance("M" * 22))

        self.filter_combo.currentIndexChanged.connect(self._on_filter_changed)
        self.tree.itemDoubleClicked.connect(self._on_item_double_clicked)
        self.tree.installEventFilter(self)

        top = QHBoxLayout()
        top.setContentsMargins(6, 4, 4, 4)
        top.addWidget(self.title_label, 1)
        top.addWidget(QLabel("Show:", self))
        top.addWidget(self.filter_combo)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(top)
        layout.addWidget(self.tree)
        self._update_title()

    # ------------------------------------------------------------------ public
    @property
    def count(self) -> int:
        """Problems of every severity."""
        return sum(self._counts.values())

    def counts(self) -> dict[str, int]:
        """Problems by severity."""
        return dict(self._counts)

    @property
    def only_not_dicom(self) -> bool:
        """True when every problem is a skipped file that is not DICOM: the
        panel then needs no attention (it may hide, summarised in one line)."""
        return self.count > 0 and self._not_dicom == self.count

    @property
    def needs_attention(self) -> bool:
        """True when it holds an error or a warning."""
        return bool(self._counts["error"] or self._counts["warning"])

    def summary(self) -> str:
        """The title line: counts by severity, or ``5 files are not DICOM``."""
        return self.title_label.text()

    def title(self) -> str:
        """``Problems (12)``, e.g. for a dock title."""
        return f"Problems ({self.count})" if self.count else "Problems"

    def clear(self) -> None:
        """Remove every problem."""
        self.tree.clear()
        self._seen.clear()
        self._counts = dict.fromkeys(SEVERITIES, 0)
        self._not_dicom = 0
        self._update_title()

    def set_scan_result(self, result: ScanResult | None) -> None:
        """Show the problems of a scan: its warnings, each series' warnings and
        the files it skipped (replacing everything shown)."""
        self.tree.setUpdatesEnabled(False)
        try:
            self.clear()
            self._root = result.root if result is not None else ""
            self._series_labels = (
                {s.id: series_label(s) for s in result.series} if result else {}
            )
            if result is None:
                return
            items: list[QTreeWidgetItem] = []
            where = os.path.basename(os.path.normpath(result.root)) or result.root
            for message in result.warnings:
                items.extend(self._items("warning", where, message, None, None))
            for series in result.series:
                for message in series.warnings:
                    items.extend(
                        self._items("warning", series.id, message, series.id, None)
                    )
            for skipped in result.skipped:
                items.extend(
                    self._items(
                        "skipped", skipped.path, skipped.reason, None, skipped.path
                    )
                )
            self.tree.addTopLevelItems(items)
            self._apply_filter()  # hiding works only on items in the tree
        finally:
            self.tree.setUpdatesEnabled(True)
            self._update_title()

    def add_problem(
        self,
        severity: str,
        where: str,
        message: str,
        series_id: str | None = None,
    ) -> None:
        """Add one problem (a repeat of one shown is ignored).

        Parameters
        ----------
        severity
            "error", "warning" or "skipped".
        where
            A series id (of the scan shown), a file path, or any short text.
        message
            What happened.
        series_id
            The series the problem is about; defaults to ``where`` when that is
            the id of a series of the scan shown.
        """
        severity = _ALIASES.get(severity.lower(), severity.lower())
        if severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {severity!r}")
        if series_id is None and where in self._series_labels:
            series_id = where
        path = where if series_id is None and os.path.isfile(where) else None
        # Rows stay grouped by severity: errors, then warnings, then skipped files.
        rank = SEVERITIES.index(severity)
        row = sum(self._counts[s] for s in SEVERITIES[: rank + 1])
        items = self._items(severity, where, message, series_id, path)
        if items:
            self.tree.insertTopLevelItems(row, items)
            for item in items:
                item.setHidden(not self._passes(severity))
            self._update_title()

    def restate(self, series_id: str, message: str, shown: str | None) -> None:
        """Show ``shown`` instead of ``message`` on the rows about a series that
        say it (the problem found still stands, but the reader has dealt with
        it, e.g. calibrated an image without spacing); None: ``message`` again."""
        for n in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(n)
            if item is None or item.data(SEVERITY_COLUMN, SERIES_ID_ROLE) != series_id:
                continue
            found = item.data(MESSAGE_COLUMN, MESSAGE_ROLE) or item.text(MESSAGE_COLUMN)
            if found != message:
                continue
            item.setData(MESSAGE_COLUMN, MESSAGE_ROLE, message)
            item.setText(MESSAGE_COLUMN, shown or message)
            item.setToolTip(MESSAGE_COLUMN, shown or message)

    def set_filter(self, severity: str) -> None:
        """Show only one severity ("error", "warning", "skipped"), or "all"."""
        index = self.filter_combo.findData(severity)
        if index < 0:
            raise ValueError(f"unknown filter {severity!r}")
        self.filter_combo.setCurrentIndex(index)

    def visible_items(self) -> list[QTreeWidgetItem]:
        """The rows the filter lets through, in order."""
        items = []
        for n in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(n)
            if item is not None and not item.isHidden():
                items.append(item)
        return items

    # ------------------------------------------------------------------ Qt
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.tree and event.type() == QEvent.Type.KeyPress:
            key_event: QKeyEvent = event  # type: ignore[assignment]
            item = self.tree.currentItem()
            if key_event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and item:
                return self._activate(item)
        return super().eventFilter(watched, event)

    # ------------------------------------------------------------------ slots
    def _on_item_double_clicked(self, item: QTreeWidgetItem, _: int) -> None:
        self._activate(item)

    def _on_filter_changed(self, _: int) -> None:
        self._apply_filter()
        self._update_title()

    # ------------------------------------------------------------------ rows
    def _items(
        self,
        severity: str,
        where: str,
        message: str,
        series_id: str | None,
        path: str | None,
    ) -> list[QTreeWidgetItem]:
        key = (severity, where, message)
        if key in self._seen:
            return []
        self._seen.add(key)
        self._counts[severity] += 1
        if severity == "skipped" and is_not_dicom(message):
            self._not_dicom += 1
        shown_where = where
        where_tip = where
        if series_id is not None:
            shown_where = self._series_labels.get(series_id, where)
            where_tip = f"{shown_where}\nSeries id {series_id}\nDouble-click to show it"
        elif path is not None:
            shown_where = self._relative(path)
            where_tip = f"{path}\nDouble-click to show its tags"
        item = QTreeWidgetItem([severity.capitalize(), shown_where, message])
        item.setIcon(SEVERITY_COLUMN, self.style().standardIcon(_ICONS[severity]))
        item.setForeground(SEVERITY_COLUMN, QBrush(_COLOURS[severity]))
        item.setData(SEVERITY_COLUMN, SEVERITY_ROLE, severity)
        if series_id is not None:
            item.setData(SEVERITY_COLUMN, SERIES_ID_ROLE, series_id)
        if path is not None:
            item.setData(SEVERITY_COLUMN, PATH_ROLE, path)
        item.setToolTip(WHERE_COLUMN, where_tip)
        item.setToolTip(MESSAGE_COLUMN, message)
        return [item]

    def _relative(self, path: str) -> str:
        if self._root and os.path.isdir(self._root):
            try:
                relative = os.path.relpath(path, self._root)
            except ValueError:
                return path
            if not relative.startswith(".."):
                return relative
        return path

    def _passes(self, severity: str) -> bool:
        wanted = self.filter_combo.currentData()
        return wanted in (None, "all") or wanted == severity

    def _apply_filter(self) -> None:
        for n in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(n)
            if item is not None:
                item.setHidden(not self._passes(str(item.data(0, SEVERITY_ROLE))))

    def _activate(self, item: QTreeWidgetItem) -> bool:
        series_id = item.data(SEVERITY_COLUMN, SERIES_ID_ROLE)
        if series_id:
            self.series_activated.emit(str(series_id))
            return True
        path = item.data(SEVERITY_COLUMN, PATH_ROLE)
        if path:
            self.file_activated.emit(str(path))
            return True
        return False

    def _update_title(self) -> None:
        total = self.count
        if not total:
            self.title_label.setText("No problems")
        elif self.only_not_dicom:
            self.title_label.setText(
                "1 file is not DICOM" if total == 1 else f"{total} files are not DICOM"
            )
        else:
            parts = [
                _plural(self._counts["error"], "error"),
                _plural(self._counts["warning"], "warning"),
                f"{self._counts['skipped']} skipped",
            ]
            text = f"{_plural(total, 'problem')}: " + " · ".join(parts)
            if self.filter_combo.currentData() not in (None, "all"):
                shown = self._counts.get(str(self.filter_combo.currentData()), 0)
                text += f" (showing {shown})"
            self.title_label.setText(text)
        self.count_changed.emit(total)
