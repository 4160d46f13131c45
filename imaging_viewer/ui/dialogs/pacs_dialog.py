"""Query/retrieve window: configured PACS nodes (DIMSE or DICOMweb), a study
query with date presets, study then series results, and a retrieve into the
local study database that runs in the background and opens beside the studies
already open. The network work is the Qt-free ``core.pacs``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from imaging_viewer.core.overlay_text import format_person_name
from imaging_viewer.core.pacs import remote
from imaging_viewer.core.pacs.database import StudyDatabase, default_database_path
from imaging_viewer.core.pacs.errors import PacsError
from imaging_viewer.core.pacs.nodes import (
    DimseNode,
    load_nodes,
    nodes_path,
    parse_node,
    save_nodes,
)
from imaging_viewer.core.pacs.query import DATE_PRESETS, Query, date_preset
from imaging_viewer.core.pacs.sink import InstanceSink
from imaging_viewer.ui.dialogs.pacs_node_security import NodeSecurityFields
from imaging_viewer.ui.dialogs.pacs_receiver_box import ReceiverSettingsBox
from imaging_viewer.ui.workers import BackgroundTask, run_in_background

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from imaging_viewer.core.pacs.nodes import Node
    from imaging_viewer.core.pacs.query import QueryResult
    from imaging_viewer.ui.arriving_studies import ArrivingStudies
    from imaging_viewer.ui.pacs_receiver import PacsReceiverService

__all__ = ["PacsDialog"]

_ANY_DATE = "any date"
_RANGE = "range"


class PacsDialog(QDialog):
    """Find studies on a node and retrieve them; ``open_folder(path)`` adds a
    retrieved series folder to the workspace; ``open_patient()`` names the
    patient whose priors to fetch and the studies already open.

    With ``arrivals`` (makes an :class:`ArrivingStudies` per retrieve), a
    study opens at its first images and grows while the rest arrives;
    without it, it opens when the retrieve ends."""

    def __init__(
        self,
        open_folder: Callable[[Path], None],
        open_patient: Callable[[], tuple[str, set[str]]],
        parent: QWidget | None = None,
        *,
        nodes_file: Path | None = None,
        database_path: Path | None = None,
        receiver: PacsReceiverService | None = None,
        arrivals: Callable[[], ArrivingStudies] | None = None,
    ) -> None:
        super().__init__(parent)
        self._arrivals = arrivals
        self._arriving: ArrivingStudies | None = None
        self.setWindowTitle("Query / retrieve")
        self.resize(900, 600)
        self._open_folder = open_folder
        self._open_patient = open_patient
        self._nodes_file = nodes_file or nodes_path()
        self._database_path = database_path or default_database_path()
        self._nodes: dict[str, Node] = load_nodes(self._nodes_file)
        self._task: BackgroundTask | None = None
        self._limit = 50
        self.results: list[QueryResult] = []
        layout = QVBoxLayout(self)
        layout.addLayout(self._node_row())
        layout.addLayout(self._query_form())
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(
            ["Patient", "ID", "Date", "Modality", "Description", "Instances"]
        )
        self.tree.itemExpanded.connect(self._expand_study)
        layout.addWidget(self.tree, 1)
        layout.addLayout(self._retrieve_row())
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.receiver_box = (
            ReceiverSettingsBox(receiver) if receiver is not None else None
        )
        if self.receiver_box is not None:
            layout.addWidget(self.receiver_box)
        self._refresh_nodes()

    # ------------------------------------------------------------ building
    def _node_row(self) -> QFormLayout:
        form = QFormLayout()
        self.node_combo = QComboBox()
        self.node_combo.currentTextChanged.connect(self._show_node)
        self.node_name = QLineEdit()
        self.node_address = QLineEdit()
        self.node_address.setPlaceholderText("AET@HOST:PORT or https://…/dicom-web")
        self.move_port = QSpinBox()
        self.move_port.setRange(0, 65535)
        self.move_port.setSpecialValueText("C-GET")
        self.move_port.setToolTip("0: retrieve by C-GET; else C-MOVE to this port")
        save = QPushButton("Save node")
        save.clicked.connect(self.save_node)
        self.test_button = QPushButton("Test connection")
        self.test_button.clicked.connect(self.test_connection)
        row = QHBoxLayout()
        for widget in (self.node_name, self.node_address, self.move_port, save):
            row.addWidget(widget)
        form.addRow("Node", self.node_combo)
        form.addRow("Name, address, C-MOVE port", row)
        self.security = NodeSecurityFields(self)
        form.addRow("Authentication, TLS", self.security)
        form.addRow("", self.test_button)
        return form

    def _query_form(self) -> QFormLayout:
        form = QFormLayout()
        self.patient_name = QLineEdit()
        self.patient_name.setPlaceholderText("wildcards: * ?")
        self.patient_id = QLineEdit()
        self.date_choice = QComboBox()
        self.date_choice.addItems([_ANY_DATE, *DATE_PRESETS, _RANGE])
        self.date_range = QLineEdit()
        self.date_range.setPlaceholderText("YYYYMMDD-YYYYMMDD")
        self.modality = QLineEdit()
        self.accession = QLineEdit()
        self.description = QLineEdit()
        self.search_button = QPushButton("Search")
        self.search_button.clicked.connect(lambda: self.search(more=False))
        self.more_button = QPushButton("More")
        self.more_button.setEnabled(False)
        self.more_button.clicked.connect(lambda: self.search(more=True))
        dates = QHBoxLayout()
        dates.addWidget(self.date_choice)
        dates.addWidget(self.date_range)
        buttons = QHBoxLayout()
        buttons.addWidget(self.search_button)
        buttons.addWidget(self.more_button)
        form.addRow("Patient name", self.patient_name)
        form.addRow("Patient ID", self.patient_id)
        form.addRow("Date", dates)
        form.addRow("Modality", self.modality)
        form.addRow("Accession", self.accession)
        form.addRow("Description", self.description)
        form.addRow("", buttons)
        return form

    def _retrieve_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.retrieve_button = QPushButton("Retrieve and open")
        self.retrieve_button.clicked.connect(self.retrieve_selected)
        self.priors_button = QPushButton("Retrieve priors of the open patient")
        self.priors_button.clicked.connect(self.retrieve_priors)
        self.progress = QProgressBar()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        for widget in (
            self.retrieve_button,
            self.priors_button,
            self.progress,
            self.cancel_button,
        ):
            row.addWidget(widget)
        return row

    # ------------------------------------------------------------ nodes
    def _refresh_nodes(self) -> None:
        self.node_combo.clear()
        self.node_combo.addItems(sorted(self._nodes))

    def _show_node(self, name: str) -> None:
        node = self._nodes.get(name)
        if node is None:
            return
        self.node_name.setText(node.name)
        self.node_address.setText(node.describe())
        port = node.move_port if isinstance(node, DimseNode) else None
        self.move_port.setValue(port or 0)
        self.security.show_node(node)

    def save_node(self) -> None:
        """Add or replace the node the fields describe, and save the list."""
        from dataclasses import replace

        name = self.node_name.text().strip()
        try:
            if not name:
                raise PacsError("give the node a name")
            node = parse_node(
                self.node_address.text().strip(),
                move_port=self.move_port.value() or None,
                configured={},
            )
        except PacsError as error:
            self.status.setText(str(error))
            return
        node, secret_said = self.security.apply(replace(node, name=name), name)
        self._nodes[name] = node  # the secret stays in memory for this session
        save_nodes(self._nodes, self._nodes_file)
        self._refresh_nodes()
        self.node_combo.setCurrentText(name)
        said = f"saved {name}: {node.describe()}"
        self.status.setText(f"{said}; {secret_said}" if secret_said else said)

    def node(self) -> Node | None:
        """The node chosen, or None (said in the status line)."""
        node = self._nodes.get(self.node_combo.currentText())
        if node is None:
            self.status.setText("configure a node first (name, address, Save node)")
            return None
        completed = self.security.complete(node)
        if completed is None:
            self.status.setText("no password or token given: nothing done")
            return None
        self._nodes[node.name] = completed
        return completed

    # ------------------------------------------------------------ work
    def _run(
        self,
        work: Callable[..., Any],
        done: Callable[[Any], None],
        doing: str,
    ) -> None:
        self.status.setText(doing)
        self.cancel_button.setEnabled(True)
        self.progress.setRange(0, 0)

        def finished(result: Any) -> None:
            self._task = None
            self.cancel_button.setEnabled(False)
            self.progress.setRange(0, 1)
            self.progress.setValue(1)
            done(result)

        def failed(message: str) -> None:
            self._task = None
            self.cancel_button.setEnabled(False)
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self._end_arrivals()  # what arrived is kept and shown
            self.status.setText(message.removeprefix("PacsError: "))
            if "(HTTP 401)" in message:  # asked again next time
                self._nodes = {**self._nodes, **load_nodes(self._nodes_file)}

        self._task = run_in_background(work, finished, failed, self._progressed)

    def _follow_arrivals(self) -> Callable[[Path], None] | None:
        """A new :class:`ArrivingStudies` for the retrieve about to start; its
        ``stored`` goes to the sink (None: open at the end only)."""
        if self._arrivals is None:
            return None
        self._arriving = self._arrivals()
        self._arriving.status.connect(self._show_receiving)
        return self._arriving.stored

    def _show_receiving(self, text: str) -> None:
        if text and self._task is not None:
            self.status.setText(text)

    def _end_arrivals(self) -> bool:
        arriving, self._arriving = self._arriving, None
        if arriving is not None:
            arriving.finish()
        return arriving is not None

    def _progressed(self, done: int, total: int) -> None:
        if self._arriving is not None:
            self._arriving.expect(total)
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    @property
    def busy(self) -> bool:
        """True while a request runs in the background."""
        return self._task is not None

    def cancel(self) -> None:
        """Stop the running request at its next sub-operation."""
        if self._task is not None:
            self._task.cancel()

    def test_connection(self) -> None:
        """C-ECHO or a QIDO-RS request, in the background."""
        node = self.node()
        if node is None:
            return

        def echo(progress: Any, cancel: Any) -> None:
            remote.echo(node)

        self._run(
            echo,
            lambda _: self.status.setText(f"{node.describe()} answers"),
            f"testing {node.describe()}…",
        )

    def query(self) -> Query:
        """The study query the fields describe."""
        choice = self.date_choice.currentText()
        if choice == _ANY_DATE:
            dates = ""
        elif choice == _RANGE:
            dates = self.date_range.text().strip()
        else:
            dates = date_preset(choice)
        return Query(
            patient_name=self.patient_name.text().strip(),
            patient_id=self.patient_id.text().strip(),
            date=dates,
            modality=self.modality.text().strip(),
            accession=self.accession.text().strip(),
            description=self.description.text().strip(),
            limit=self._limit,
        )

    def search(self, *, more: bool = False) -> None:
        """C-FIND / QIDO-RS at study level; "More" asks again for twice as many."""
        node = self.node()
        if node is None:
            return
        self._limit = self._limit * 2 if more else 50
        query = self.query()

        def find(progress: Any, cancel: Any) -> tuple[list[QueryResult], bool]:
            return remote.find(node, query)

        self._run(find, self._show_studies, f"searching {node.describe()}…")

    def _show_studies(self, found: tuple[list[QueryResult], bool]) -> None:
        self.results, more = found
        self.tree.clear()
        for study in self.results:
            item = QTreeWidgetItem(
                [
                    format_person_name(study.patient_name),
                    study.patient_id,
                    study.date,
                    "/".join(study.modalities),
                    study.description,
                    "" if study.instances is None else str(study.instances),
                ]
            )
            item.setData(0, 256, study.study_uid)
            item.setToolTip(0, study.patient_name)
            item.setChildIndicatorPolicy(
                QTreeWidgetItem.ChildIndicatorPolicy.ShowIndicator
            )
            self.tree.addTopLevelItem(item)
        self.more_button.setEnabled(more)
        self.status.setText(
            f"{len(self.results)} stud{'y' if len(self.results) == 1 else 'ies'}"
            + (" (more on the node)" if more else "")
        )

    def _expand_study(self, item: QTreeWidgetItem) -> None:
        node = self.node()
        if node is None or item.parent() is not None or item.childCount():
            return
        study_uid = str(item.data(0, 256))

        def find(progress: Any, cancel: Any) -> tuple[list[QueryResult], bool]:
            return remote.find(node, Query(level="series", study_uid=study_uid))

        def show(found: tuple[list[QueryResult], bool]) -> None:
            for series in found[0]:
                count = "" if series.instances is None else str(series.instances)
                child = QTreeWidgetItem(
                    ["", "", "", series.modality, series.description, count]
                )
                child.setData(0, 256, series.series_uid)
                item.addChild(child)
            self.status.setText(f"{len(found[0])} series")

        self._run(find, show, "finding the series…")

    def retrieve_selected(self) -> None:
        """Retrieve the selected study or series into the database, then open it."""
        node = self.node()
        item = self.tree.currentItem()
        if node is None or item is None:
            if item is None:
                self.status.setText("select a study or series first")
            return
        parent = item.parent()
        study_uid = str((parent or item).data(0, 256))
        series_uid = str(item.data(0, 256)) if parent is not None else ""
        database_path = self._database_path
        on_stored = self._follow_arrivals()

        def fetch(progress: Any, cancel: Any) -> list[Path]:
            with StudyDatabase(database_path) as database:
                sink = InstanceSink(database=database, on_stored=on_stored)
                remote.retrieve(
                    node,
                    study_uid,
                    sink,
                    series_uid=series_uid,
                    progress=progress,
                    cancelled=cancel,
                )
                return database.instance_paths(series_uid or study_uid)

        self._run(fetch, self._open_retrieved, f"retrieving from {node.describe()}…")

    def _open_retrieved(self, paths: list[Path]) -> None:
        if not self._end_arrivals():  # else opened while they arrived
            for folder in sorted({path.parent.parent for path in paths}):
                self._open_folder(folder)
        self.status.setText(f"{len(paths)} instance(s) retrieved and opened")

    def retrieve_priors(self) -> None:
        """Find the open patient's other studies on the node, retrieve, open."""
        node = self.node()
        if node is None:
            return
        patient_id, open_studies = self._open_patient()
        if not patient_id:
            self.status.setText("no patient is open (or the open study has no ID)")
            return
        database_path = self._database_path
        on_stored = self._follow_arrivals()

        def fetch(progress: Any, cancel: Any) -> list[Path]:
            found, _ = remote.find(node, Query(patient_id=patient_id))
            paths: list[Path] = []
            with StudyDatabase(database_path) as database:
                for study in found:
                    if study.study_uid in open_studies:
                        continue
                    sink = InstanceSink(database=database, on_stored=on_stored)
                    remote.retrieve(
                        node, study.study_uid, sink, progress=progress, cancelled=cancel
                    )
                    paths += database.instance_paths(study.study_uid)
            return paths

        self._run(fetch, self._open_retrieved, f"retrieving priors of {patient_id}…")


def show_pacs_dialog(window: Any) -> PacsDialog:
    """Open (or raise) the window's query/retrieve dialog: retrieved studies are
    added beside those open; priors are those of the first patient open."""
    dialog = getattr(window, "_pacs_dialog", None)
    if dialog is None:
        from imaging_viewer.ui.arriving_studies import ArrivingStudies

        def open_patient() -> tuple[str, set[str]]:
            workspace = window.workspace
            patients = [pid for pid, _ in workspace.patients if pid]
            return (patients[0] if patients else "", set(workspace.studies))

        dialog = PacsDialog(
            window.opening.add_study,
            open_patient,
            window,
            receiver=getattr(window, "pacs_receiver", None),
            arrivals=lambda: ArrivingStudies.for_window(window),
        )
        window._pacs_dialog = dialog
    dialog.show()
    dialog.raise_()
    return dialog
