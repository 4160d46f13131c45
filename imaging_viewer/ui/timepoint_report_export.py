"""Export SRs…: one DICOM SR (TID 1500) per time point of the patient, in the
background.

Each report carries its lesions' Tracking UIDs (PS3.16 TID 4108) and its time
point as Clinical Trial Time Point ID (PS3.3 C.7.2.3), so another system, and
``imaging-viewer response``, links the lesions across the reports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog, QMainWindow

from imaging_viewer.ui.workers import BackgroundTask, run_in_background

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from PySide6.QtWidgets import QWidget

    from imaging_viewer.core.exchange.timepoint_report import TimepointReportOutcome
    from imaging_viewer.core.workspace import Workspace

RESULT_SHOWN_MS = 15_000
"""How long the status bar shows the result line."""


def result_line(outcomes: Sequence[TimepointReportOutcome], folder: str) -> str:
    """ "2 reports written to …", then each study that was not, and why."""
    written = [o for o in outcomes if o.path is not None]
    count = len(written)
    parts = [f"{count} report{'' if count == 1 else 's'} written to {folder}"]
    parts += [
        f"{o.label or o.study_uid}: not written ({o.error})"
        for o in outcomes
        if o.path is None
    ]
    return "; ".join(parts)


class TimepointReportExport:
    """Asks for a folder and writes the patient's reports there, off the GUI
    thread; ``show_result`` gets the result line (also on the status bar)."""

    def __init__(
        self,
        parent: QWidget,
        workspace: Workspace,
        patient_key: Callable[[], tuple[str, str] | None],
        displayed_series_uid: Callable[[], str],
        show_result: Callable[[str], None],
    ) -> None:
        self._parent = parent
        self._workspace = workspace
        self._patient_key = patient_key
        self._displayed_series_uid = displayed_series_uid
        self._show_result = show_result
        self.task: BackgroundTask | None = None
        self.last_outcomes: list[TimepointReportOutcome] = []

    @property
    def running(self) -> bool:
        """True while reports are being written."""
        return self.task is not None

    def ask(self) -> None:
        """Ask for the folder, then :meth:`start`."""
        if self.running:
            return
        folder = QFileDialog.getExistingDirectory(
            self._parent, "Folder for one SR per time point"
        )
        if folder:
            self.start(folder)

    def start(self, folder: str) -> None:
        """Write the reports into ``folder`` in the background."""
        patient = self._patient_key()
        if patient is None:
            self._report("No study is being annotated: no report to write")
            return
        write = self._workspace.timepoint_reports_task(
            patient, folder, displayed_series_uid=self._displayed_series_uid()
        )
        self._report(f"Writing one SR per time point to {folder}…")

        def done(outcomes: list[TimepointReportOutcome]) -> None:
            self.task = None
            self.last_outcomes = outcomes
            self._report(result_line(outcomes, folder))

        def failed(message: str) -> None:
            self.task = None
            self._report(f"Export SRs failed: {message}")

        self.task = run_in_background(write, done, failed)

    def _report(self, line: str) -> None:
        self._show_result(line)
        if isinstance(self._parent, QMainWindow):
            self._parent.statusBar().showMessage(line, RESULT_SHOWN_MS)
