"""The Local database window (issue 14 item 1), as Horos's and Weasis's: browse
and search the studies indexed on this computer (patient name with ``*``/``?``
wildcards, ID, date presets or a range, modality, description), open a study
or series beside those open (exactly its files, not the rest of their
folders), remove entries (copied files deleted, referenced
files left), re-index, and import folders or files by copy or by reference.
Imports and re-indexing run in the background with throttled progress and a
Cancel; files that could not be indexed are listed. A damaged database, or one
written by a newer imaging-viewer, is said in the window and never written to.

The database is the Qt-free :class:`~imaging_viewer.core.pacs.database.StudyDatabase`.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from imaging_viewer.core.overlay_text import format_person_name
from imaging_viewer.core.pacs.database import (
    DatabaseError,
    ImportResult,
    StudyDatabase,
    default_database_path,
)
from imaging_viewer.core.pacs.query import DATE_PRESETS, date_preset
from imaging_viewer.ui.workers import BackgroundTask, run_in_background

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from imaging_viewer.core.pacs.database import StudyRecord
    from imaging_viewer.ui.dialogs.send_dialog import SendDialog

__all__ = ["DatabaseDialog", "folders_to_open", "show_database_dialog"]

_ANY_DATE = "any date"
_TYPING_MS = 300
_RANGE = "range"
_UID = Qt.ItemDataRole.UserRole
_COLUMNS = (
    "Patient",
    "Patient ID",
    "Date",
    "Modalities",
    "Description",
    "Series",
    "Instances",
)
_COPY = "Copy into the database"
_REFERENCE = "Reference in place"


class _SortableItem(QTreeWidgetItem):
    """Counts sort as numbers, the rest as text."""

    def __lt__(self, other: QTreeWidgetItem) -> bool:
        column = self.treeWidget().sortColumn() if self.treeWidget() else 0
        if column >= 5:
            return int(self.text(column) or 0) < int(other.text(column) or 0)
        return self.text(column).lower() < other.text(column).lower()


def _date_text(value: str) -> str:
    """``YYYYMMDD`` as ``YYYY-MM-DD`` (sorts the same, reads better)."""
    if len(value) == 8 and value.isdigit():
        return f"{value[:4]}-{value[4:6]}-{value[6:]}"
    return value


def _files_under(folder: Path, limit: int) -> int:
    """How many files ``folder`` holds (recursively), counting at most past
    ``limit``; DICOMDIR and hidden files are not counted (the scan skips them)."""
    count = 0
    for _, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        count += sum(1 for f in files if f != "DICOMDIR" and not f.startswith("."))
        if count > limit:
            break
    return count


def _name_of(item: QTreeWidgetItem) -> str:
    """A study's patient, date and description, and a series' number and
    description after them: what the window calls what it opens."""
    study = item.parent() or item
    words = [study.text(0), study.text(2), study.text(4)]
    if item is not study:
        words.append(item.text(4) or item.text(3))
    # The name stands where a folder's name does (a title, the problems list).
    return " · ".join(w for w in words if w).replace("/", "-") or "study"


def folders_to_open(paths: Iterable[Path]) -> list[Path]:
    """The folders to scan to open exactly ``paths``, fewest first: their common
    folder when it holds nothing else, else each file's folder."""
    files = sorted({Path(p) for p in paths})
    if not files:
        return []
    common = Path(os.path.commonpath([str(f.parent) for f in files]))
    if _files_under(common, len(files)) <= len(files):
        return [common]
    return sorted({f.parent for f in files})


class DatabaseDialog(QDialog):
    """The Local database window; ``open_files(files, name)`` adds the series of
    exactly ``files`` (a study or series, named ``name``) beside those open."""

    def __init__(
        self,
        open_files: Callable[[list[Path], str], None],
        parent: QWidget | None = None,
        *,
        database_path: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Local database")
        self.resize(1000, 620)
        self._open_files = open_files
        self.database_path = database_path or default_database_path()
        self.database: StudyDatabase | None = None
        self._task: BackgroundTask | None = None
        self.studies: list[StudyRecord] = []
        self.last_result: ImportResult | None = None
        layout = QVBoxLayout(self)
        layout.addLayout(self._search_form())
        self.tree = self._make_tree()
        layout.addWidget(self.tree, 1)
        self.counts = QLabel("")
        layout.addWidget(self.counts)
        layout.addLayout(self._button_row())
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
        )
        layout.addWidget(self.status)
        self.errors = QListWidget()
        self.errors.setMaximumHeight(110)
        self.errors.setToolTip("Files that could not be indexed, and why")
        self.errors.hide()
        layout.addWidget(self.errors)
        self.open_database()

    # ------------------------------------------------------------ building
    def _search_form(self) -> QFormLayout:
        form = QFormLayout()
        self.patient_name = QLineEdit()
        self.patient_name.setPlaceholderText("part of the name, or wildcards: * ?")
        self.patient_id = QLineEdit()
        self.date_choice = QComboBox()
        self.date_choice.addItems([_ANY_DATE, *DATE_PRESETS, _RANGE])
        self.date_range = QLineEdit()
        self.date_range.setPlaceholderText("YYYYMMDD-YYYYMMDD")
        self.date_range.setEnabled(False)
        self.date_choice.currentTextChanged.connect(
            lambda text: self.date_range.setEnabled(text == _RANGE)
        )
        self.modality = QLineEdit()
        self.modality.setPlaceholderText("CT, MR, …")
        self.description = QLineEdit()
        self.search_button = QPushButton("Search")
        self.search_button.setDefault(True)
        self.search_button.clicked.connect(self.search)
        # The list follows the typing (Horos's search field), a moment after it.
        self._typed = QTimer(self)
        self._typed.setSingleShot(True)
        self._typed.setInterval(_TYPING_MS)
        self._typed.timeout.connect(self.search)
        for field in (
            self.patient_name,
            self.patient_id,
            self.date_range,
            self.modality,
            self.description,
        ):
            field.returnPressed.connect(self.search)
            field.textEdited.connect(lambda _: self._typed.start())
        self.date_choice.activated.connect(lambda _: self.search())
        names = QHBoxLayout()
        names.addWidget(self.patient_name, 2)
        names.addWidget(QLabel("Patient ID"))
        names.addWidget(self.patient_id, 1)
        dates = QHBoxLayout()
        dates.addWidget(self.date_choice)
        dates.addWidget(self.date_range)
        dates.addWidget(QLabel("Modality"))
        dates.addWidget(self.modality)
        details = QHBoxLayout()
        details.addWidget(self.description, 1)
        details.addWidget(self.search_button)
        form.addRow("Patient name", names)
        form.addRow("Study date", dates)
        form.addRow("Description", details)
        return form

    def _make_tree(self) -> QTreeWidget:
        tree = QTreeWidget()
        tree.setHeaderLabels(list(_COLUMNS))
        tree.setSortingEnabled(True)
        tree.sortByColumn(2, Qt.SortOrder.DescendingOrder)
        tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        tree.setAlternatingRowColors(True)
        tree.setUniformRowHeights(True)
        tree.itemExpanded.connect(self._expand_study)
        tree.itemDoubleClicked.connect(lambda item, _column: self.open_items([item]))
        tree.setColumnWidth(0, 200)
        tree.setColumnWidth(1, 130)
        tree.setColumnWidth(2, 95)
        tree.setColumnWidth(4, 260)
        return tree

    def _button_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.open_button = QPushButton("Open")
        self.open_button.setToolTip(
            "Add the selected studies or series beside those open (double-click)"
        )
        self.open_button.clicked.connect(self.open_selected)
        self.remove_button = QPushButton("Remove…")
        self.remove_button.clicked.connect(lambda: self.remove_selected())
        self.send_button = QPushButton("Send to PACS…")
        self.send_button.setToolTip("Send the selected studies or series to a PACS")
        self.send_button.clicked.connect(lambda: self.send_selected())
        self.import_button = QPushButton("Import…")
        menu = QMenu(self.import_button)
        menu.addAction("Folder…", lambda: self._ask_import(folder=True))
        menu.addAction("Files…", lambda: self._ask_import(folder=False))
        self.import_button.setMenu(menu)
        self.reindex_button = QPushButton("Re-index")
        self.reindex_button.setToolTip(
            "Read every indexed file again: moved or deleted files lose their entry"
        )
        self.reindex_button.clicked.connect(self.reindex)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        for widget in (
            self.open_button,
            self.send_button,
            self.remove_button,
            self.import_button,
            self.reindex_button,
            self.progress,
            self.cancel_button,
        ):
            row.addWidget(widget)
        return row

    # ------------------------------------------------------------ database
    def open_database(self) -> bool:
        """Open the database (created when missing); a damaged or newer one is
        said and left untouched, and the window offers nothing that writes."""
        try:
            self.database = StudyDatabase(self.database_path)
        except DatabaseError as error:
            self.database = None
            self.status.setText(str(error))
            self.status.setStyleSheet("color: #c0392b; font-weight: bold")
            self.counts.setText("The local database cannot be used.")
            self._enable(False)
            self.cancel_button.setEnabled(False)
            return False
        self.status.setStyleSheet("")
        self._enable(True)
        self.search()
        return True

    def _enable(self, enabled: bool) -> None:
        for widget in (
            self.search_button,
            self.open_button,
            self.send_button,
            self.remove_button,
            self.import_button,
            self.reindex_button,
        ):
            widget.setEnabled(enabled)

    # ------------------------------------------------------------ search
    def date_filter(self) -> tuple[str, str]:
        """(from, to) as ``YYYYMMDD``, either empty for no bound."""
        choice = self.date_choice.currentText()
        if choice == _ANY_DATE:
            return "", ""
        text = date_preset(choice) if choice in DATE_PRESETS else ""
        if choice == _RANGE:
            text = self.date_range.text().strip().replace("/", "").replace(".", "")
        first, _, last = text.partition("-")
        if "-" not in text:
            last = first
        return first.strip(), last.strip()

    def search(self) -> None:
        """List the studies matching the fields (every field that is filled)."""
        self._typed.stop()
        if self.database is None:
            return
        first, last = self.date_filter()
        try:
            self.studies = self.database.studies(
                patient_name=self.patient_name.text().strip(),
                patient_id=self.patient_id.text().strip(),
                date_from=first,
                date_to=last,
                modality=self.modality.text().strip(),
                description=self.description.text().strip(),
            )
        except sqlite3.Error as error:  # locked by another writer, or gone
            self.status.setText(f"the database cannot be read now: {error}")
            return
        self.tree.setSortingEnabled(False)
        self.tree.clear()
        for study in self.studies:
            item = _SortableItem(
                [
                    format_person_name(study.patient_name),
                    study.patient_id,
                    _date_text(study.date),
                    "/".join(study.modalities),
                    study.description,
                    str(study.series_count),
                    str(study.instance_count),
                ]
            )
            item.setData(0, _UID, study.study_uid)
            item.setToolTip(0, study.patient_name)
            item.setChildIndicatorPolicy(
                QTreeWidgetItem.ChildIndicatorPolicy.ShowIndicator
            )
            self.tree.addTopLevelItem(item)
        self.tree.setSortingEnabled(True)
        self._show_counts()

    def _show_counts(self) -> None:
        if self.database is None:
            return
        patients, studies, series, instances = self.database.counts()
        shown = len(self.studies)
        self.counts.setText(
            f"{shown} of {studies} stud{'y' if studies == 1 else 'ies'} shown · "
            f"the database holds {patients} patient(s), {series} series, "
            f"{instances} instance(s) · {self.database_path}"
        )

    def _expand_study(self, item: QTreeWidgetItem) -> None:
        if self.database is None or item.parent() is not None or item.childCount():
            return
        for series in self.database.series(str(item.data(0, _UID))):
            number = "" if series.number is None else f"Se {series.number}  "
            child = _SortableItem(
                [
                    "",
                    "",
                    "",
                    series.modality,
                    f"{number}{series.description}".strip(),
                    "",
                    str(series.instance_count),
                ]
            )
            child.setData(0, _UID, series.series_uid)
            item.addChild(child)

    # ------------------------------------------------------------ open
    def _chosen(self, items: Iterable[QTreeWidgetItem]) -> list[QTreeWidgetItem]:
        """Studies and series chosen; a series whose study is chosen too goes."""
        chosen = list(items)
        studies = {id(i) for i in chosen if i.parent() is None}
        return [
            i for i in chosen if i.parent() is None or id(i.parent()) not in studies
        ]

    def _selected_uids(self, items: Iterable[QTreeWidgetItem]) -> list[str]:
        """The UIDs of :meth:`_chosen`."""
        return [str(i.data(0, _UID)) for i in self._chosen(items)]

    def open_selected(self) -> None:
        """Open the selected studies and series beside those open."""
        self.open_items(self.tree.selectedItems())

    def open_items(self, items: Iterable[QTreeWidgetItem]) -> None:
        """Open these studies or series (their files, found in the database)."""
        if self.database is None:
            return
        chosen = self._chosen(items)
        if not chosen:
            self.status.setText("select a study or series first")
            return
        try:
            listed = [
                (item, self.database.instance_paths(str(item.data(0, _UID))))
                for item in chosen
            ]
        except sqlite3.Error as error:  # locked by another writer, or gone
            self.status.setText(f"the database cannot be read now: {error}")
            return
        missing = opened = 0
        for item, paths in listed:
            present = [p for p in paths if p.is_file()]
            missing += len(paths) - len(present)
            if present:
                self._open_files(present, _name_of(item))
                opened += len(present)
        if not opened:
            self.status.setText(
                "its files are gone (moved or deleted): Re-index to update"
            )
            return
        said = f"opening {opened} file(s) of {len(chosen)} selected entr" + (
            "y" if len(chosen) == 1 else "ies"
        )
        if missing:
            said += f"; {missing} file(s) are gone: Re-index to update"
        self.status.setText(said)

    def send_selected(self) -> SendDialog | None:
        """Send to PACS… the selected studies and series: their files, as the
        database lists them, through the window's Send to PACS dialog."""
        if self.database is None:
            return None
        chosen = self._chosen(self.tree.selectedItems())
        if not chosen:
            self.status.setText("select a study or series first")
            return None
        try:
            entries = [
                (_name_of(item), self.database.instance_paths(str(item.data(0, _UID))))
                for item in chosen
            ]
        except sqlite3.Error as error:  # locked by another writer, or gone
            self.status.setText(f"the database cannot be read now: {error}")
            return None
        from imaging_viewer.ui.pacs_send import send_from_database

        return send_from_database(self, entries)

    # ------------------------------------------------------------ remove
    def remove_selected(self, *, confirm: bool = True) -> int:
        """Remove the selected studies and series from the database, after a
        question naming what happens to the files; returns instances removed."""
        if self.database is None or self.busy:
            return 0
        uids = self._selected_uids(self.tree.selectedItems())
        if not uids:
            self.status.setText("select a study or series first")
            return 0
        ours = self.database.files_folder.resolve()
        paths = [p for uid in uids for p in self.database.instance_paths(uid)]
        copied = sum(1 for p in paths if p.resolve().is_relative_to(ours))
        question = (
            f"Remove {len(uids)} entr{'y' if len(uids) == 1 else 'ies'} "
            f"({len(paths)} instance(s)) from the local database?\n\n"
            f"{copied} file(s) copied into the database will be deleted; "
            f"{len(paths) - copied} file(s) referenced in place stay where they are."
        )
        if confirm:
            answer = QMessageBox.question(
                self, "Remove from the local database", question
            )
            if answer != QMessageBox.StandardButton.Yes:
                return 0
        try:
            removed = sum(self.database.remove(uid) for uid in uids)
        except sqlite3.Error as error:  # locked, read-only, gone: said
            self.status.setText(f"nothing removed: {error}")
            return 0
        self.search()
        self.status.setText(
            f"removed {removed} instance(s): {copied} copied file(s) deleted, "
            f"{len(paths) - copied} referenced file(s) left in place"
        )
        return removed

    # ------------------------------------------------------------ background
    @property
    def busy(self) -> bool:
        """True while an import or a re-index runs."""
        return self._task is not None

    def cancel(self) -> None:
        """Stop the import or re-index at its next file (what is done stays)."""
        if self._task is not None:
            self._task.cancel()

    def _ask_import(self, *, folder: bool) -> None:
        start = str(Path.home())
        if folder:
            chosen = QFileDialog.getExistingDirectory(self, "Import a folder", start)
            paths = [chosen] if chosen else []
        else:
            paths, _ = QFileDialog.getOpenFileNames(self, "Import files", start)
        if not paths:
            return
        box = QMessageBox(self)
        box.setWindowTitle("Import into the local database")
        box.setText(
            "Copy the files into the database's folder (they stay available when "
            "the originals move, and are deleted with their entry), or reference "
            "them where they are?"
        )
        copy_button = box.addButton(_COPY, QMessageBox.ButtonRole.AcceptRole)
        box.addButton(_REFERENCE, QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        clicked = box.clickedButton()
        if clicked is None or box.buttonRole(clicked) != box.ButtonRole.AcceptRole:
            return
        self.import_paths([Path(p) for p in paths], copy=clicked is copy_button)

    def import_paths(self, paths: list[Path], *, copy: bool) -> None:
        """Import files and folders in the background (batched, cancellable)."""
        database_path = self.database_path

        def work(progress: Any, cancel: Any) -> ImportResult:
            with StudyDatabase(database_path) as database:
                return database.import_paths(
                    paths, copy=copy, progress=progress, cancelled=cancel
                )

        how = "copying" if copy else "referencing"
        self._start(work, f"importing ({how}) {', '.join(p.name for p in paths)}…")

    def reindex(self) -> None:
        """Read every indexed file again, in the background."""
        database_path = self.database_path

        def work(progress: Any, cancel: Any) -> ImportResult:
            with StudyDatabase(database_path) as database:
                return database.reindex(progress=progress, cancelled=cancel)

        self._start(work, "re-indexing…")

    def _start(self, work: Callable[..., ImportResult], doing: str) -> None:
        if self.database is None or self.busy:
            return
        self.last_result = None
        self.errors.clear()
        self.errors.hide()
        self._enable(False)
        self.cancel_button.setEnabled(True)
        self.progress.setRange(0, 0)
        self.status.setText(doing)
        self._task = run_in_background(work, self._finished, self._failed, self._step)

    def _step(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(f"{done}/{total}")

    def _end(self) -> None:
        self._task = None
        self._enable(True)
        self.cancel_button.setEnabled(False)
        self.progress.setRange(0, 1)
        self.search()

    def _finished(self, result: ImportResult) -> None:
        self._end()
        self.progress.setValue(1)
        self.progress.setFormat("done")
        self.last_result = result
        self.status.setText(
            f"{result.indexed} instance(s) indexed, {len(result.skipped)} file(s) "
            "could not be (listed below)"
            if result.skipped
            else f"{result.indexed} instance(s) indexed"
        )
        for path, why in result.skipped:
            self.errors.addItem(f"{path}: {why}")
        self.errors.setVisible(bool(result.skipped))

    def _failed(self, message: str) -> None:
        self._end()
        self.progress.setValue(0)
        self.progress.setFormat("")
        if message == "cancelled":
            self.status.setText("cancelled: what was indexed before stays")
        else:
            self.status.setText(message.removeprefix("DatabaseError: "))


def show_database_dialog(window: Any) -> DatabaseDialog:
    """Open (or raise) the window's Local database: studies and series opened
    from it are added beside those open, exactly their files, one after the
    other as dropped folders are (the other-patient question applies)."""
    dialog: DatabaseDialog | None = getattr(window, "_database_dialog", None)
    if dialog is None:
        from imaging_viewer.ui.dropped_studies import dropped_studies

        def open_files(files: list[Path], name: str) -> None:
            dropped_studies(window).add_files(files, name)

        dialog = DatabaseDialog(open_files, window)
        window._database_dialog = dialog
    elif dialog.database is None:
        dialog.open_database()  # moved away since: try again
    else:
        dialog.search()  # studies opened or retrieved since
    dialog.show()
    dialog.raise_()
    return dialog
