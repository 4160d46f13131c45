"""Send to PACS: choose a configured node and what to send (a series, a study,
our SR and presentation state, a de-identified teaching case); the C-STORE or
STOW-RS runs in the background with progress and Cancel, and ends with one
result per instance (PS3.4 B.2.3 statuses, PS3.18 10.5.3 failure reasons);
"Retry failed" then sends only the instances the node did not confirm."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from imaging_viewer.core.pacs.credentials import load_secret
from imaging_viewer.core.pacs.nodes import WebNode, load_nodes, nodes_path
from imaging_viewer.core.pacs.sending import (
    SEND_BATCH,
    SendReport,
    after_retry,
    send_in_batches,
)
from imaging_viewer.ui.workers import run_in_background

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from imaging_viewer.core.pacs.nodes import Node

__all__ = ["SendChoice", "SendDialog", "SendNotPossible"]


class SendNotPossible(Exception):
    """What was chosen cannot be sent; the message says why (no lesions yet)."""


@dataclass(frozen=True)
class SendChoice:
    """One thing the dialog can send: its label and how to get its files
    (called on the GUI thread when Send is pressed)."""

    label: str
    files: Callable[[], Sequence[Path]]


def _ask_secret(prompt: str) -> str | None:
    text, ok = QInputDialog.getText(
        None, "Send to PACS", prompt, QLineEdit.EchoMode.Password
    )
    return text if ok else None


class _NodeCombo(QComboBox):
    """The configured nodes, read again each time the list opens (the PACS
    dialog may have added one meanwhile)."""

    def __init__(self, nodes_file: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.nodes_file = nodes_file
        self.nodes: dict[str, Node] = {}
        self.reload()

    def reload(self) -> None:
        chosen = self.currentText()
        self.nodes = load_nodes(self.nodes_file)
        self.clear()
        self.addItems(sorted(self.nodes))
        if chosen in self.nodes:
            self.setCurrentText(chosen)

    def showPopup(self) -> None:
        self.reload()
        super().showPopup()


class SendDialog(QDialog):
    """Send one of ``choices`` to a configured node; ``configure()`` opens the
    node editor (the query/retrieve window)."""

    def __init__(
        self,
        choices: Sequence[SendChoice],
        parent: QWidget | None = None,
        *,
        chosen: int = 0,
        configure: Callable[[], object] | None = None,
        nodes_file: Path | None = None,
        ask_secret: Callable[[str], str | None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Send to PACS")
        self.resize(820, 500)
        self._choices = list(choices)
        self._configure = configure
        self._ask_secret = ask_secret or _ask_secret
        self.batch = SEND_BATCH
        """Files per association or STOW-RS request (Cancel acts between)."""
        self._task: Any = None
        self._cancel_asked = False
        self._retrying: SendReport | None = None
        """The report a running retry completes."""
        self.report: SendReport | None = None
        layout = QVBoxLayout(self)
        layout.addLayout(self._form(nodes_file or nodes_path(), chosen))
        layout.addLayout(self._buttons())
        self.progress = QProgressBar()
        self.progress.setFormat("%v of %m instances")
        self.progress.setValue(0)
        layout.addWidget(self.progress)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.results = QTreeWidget()
        self.results.setHeaderLabels(["SOP Instance UID", "File", "Result"])
        self.results.setRootIsDecorated(False)
        layout.addWidget(self.results, 1)

    # ------------------------------------------------------------ building
    def _form(self, nodes_file: Path, chosen: int) -> QFormLayout:
        form = QFormLayout()
        self.node_combo = _NodeCombo(nodes_file, self)
        configure = QPushButton("Configure nodes…")
        configure.setToolTip("Add or edit nodes in the query / retrieve window")
        configure.setEnabled(self._configure is not None)
        configure.clicked.connect(self._open_configuration)
        row = QHBoxLayout()
        row.addWidget(self.node_combo, 1)
        row.addWidget(configure)
        form.addRow("To", row)
        self.what = QButtonGroup(self)
        column = QVBoxLayout()
        for index, choice in enumerate(self._choices):
            button = QRadioButton(choice.label)
            button.setChecked(index == chosen)
            self.what.addButton(button, index)
            column.addWidget(button)
        form.addRow("Send", column)
        return form

    def _buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.send_button = QPushButton("Send")
        self.send_button.setDefault(True)
        self.send_button.clicked.connect(self.send)
        self.retry_button = QPushButton("Retry failed")
        self.retry_button.setToolTip(
            "Send again only the instances the node did not confirm"
        )
        self.retry_button.setEnabled(False)
        self.retry_button.clicked.connect(self.retry_failed)
        self.cancel_button = QPushButton("Cancel send")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        row.addStretch(1)
        for button in (self.send_button, self.retry_button, self.cancel_button, close):
            row.addWidget(button)
        return row

    def _open_configuration(self) -> None:
        if self._configure is not None:
            self._configure()

    # ------------------------------------------------------------ sending
    @property
    def busy(self) -> bool:
        """True while a send runs in the background."""
        return self._task is not None

    def node(self) -> Node | None:
        """The chosen node with its secret (keyring, else asked); None, said in
        the status line, when there is none or the user gave no secret."""
        self.node_combo.reload()
        node = self.node_combo.nodes.get(self.node_combo.currentText())
        if node is None:
            self.status.setText("No PACS node configured: Configure nodes… first")
            return None
        if not isinstance(node, WebNode):
            return node
        kind = "token" if node.auth == "bearer" else "password"
        needed = node.token if kind == "token" else node.password
        if (node.user or node.auth in ("basic", "bearer")) and not needed:
            secret = load_secret(node.name, kind) or self._ask_secret(
                f"{kind.capitalize()} for {node.base_url}"
            )
            if secret is None:
                self.status.setText(f"No {kind} given: nothing sent")
                return None
            node = replace(node, **{kind: secret})
        return node

    def send(self) -> None:
        """Send what is chosen to the chosen node, in the background."""
        if self.busy:
            return
        choice = self._choices[max(self.what.checkedId(), 0)]
        try:
            files = list(choice.files())
        except (SendNotPossible, OSError) as error:
            self.status.setText(f"Nothing sent: {error}")
            return
        if not files:
            self.status.setText("Nothing sent: no DICOM files to send")
            return
        node = self.node()
        if node is not None:
            self._start(node, files, None)

    def retry_failed(self) -> None:
        """Send again, to the chosen node, only the instances of the last send
        that were not confirmed (refused, not answered, cancelled)."""
        if self.busy or self.report is None:
            return
        files = self.report.not_confirmed()
        if not files:
            self.status.setText("Nothing to retry: every instance was sent")
            return
        node = self.node()
        if node is not None:
            self._start(node, files, self.report)

    def _start(
        self, node: Node, files: list[Path], retrying: SendReport | None
    ) -> None:
        self.results.clear()
        self.report = None
        self._retrying = retrying
        self._cancel_asked = False
        self.progress.setRange(0, len(files))
        self.progress.setValue(0)
        self.status.setText(f"Sending {len(files)} files to {node.describe()}…")
        self.send_button.setEnabled(False)
        self.retry_button.setEnabled(False)
        self.cancel_button.setEnabled(True)

        batch = self.batch

        def work(progress: Any, cancel: Any) -> SendReport:
            return send_in_batches(
                node,
                files,
                progress=progress,
                cancelled=lambda: self._cancel_asked,
                batch=batch,
            )

        self._task = run_in_background(
            work, self._show_report, self._failed, self._progressed
        )

    def cancel(self) -> None:
        """Stop after the batch being sent; what was sent is reported."""
        if self.busy:
            self._cancel_asked = True
            self.status.setText("Cancelling after the files being sent…")

    def _progressed(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _finish(self) -> None:
        self._task = None
        self.send_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.retry_button.setEnabled(
            self.report is not None and bool(self.report.not_confirmed())
        )

    def _failed(self, message: str) -> None:
        self.report, self._retrying = self._retrying, None
        self._finish()
        self.status.setText(f"Send failed: {message}")

    def _show_report(self, report: SendReport) -> None:
        if self._retrying is not None:
            report = after_retry(self._retrying, report)
        self.report, self._retrying = report, None
        self._finish()
        self.progress.setRange(0, max(len(report.outcomes), 1))
        self.progress.setValue(report.sent)
        self.status.setText(report.summary())
        for outcome in report.outcomes:
            item = QTreeWidgetItem(
                [
                    outcome.sop_instance_uid,
                    Path(outcome.path).name,
                    "OK" if outcome.ok else outcome.message,
                ]
            )
            item.setToolTip(1, outcome.path)
            item.setToolTip(2, outcome.message)
            self.results.addTopLevelItem(item)
        for column in (0, 1):
            self.results.resizeColumnToContents(column)

    def closeEvent(self, event: Any) -> None:
        self.cancel()
        super().closeEvent(event)
