"""The teaching-case dialog, and the exports of the lesions it leads to: a
de-identified teaching case, or a DICOM SR with its presentation state."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6 import QtWidgets

if TYPE_CHECKING:
    from collections.abc import Callable

    from PySide6.QtWidgets import QStatusBar, QWidget

    from imaging_viewer.core.exchange.burned_in_text import TextBox
    from imaging_viewer.core.teaching.case import TeachingCase
    from imaging_viewer.core.viewer_state import ViewerState
    from imaging_viewer.core.workspace import Study, Workspace

    ReportProblem = Callable[[str, str, str], None]
    """Lists a problem: (severity, where, message)."""

_CASE_FIELDS = ("title", "history", "findings", "diagnosis", "discussion")
_ONE_LINE_FIELDS = ("title", "diagnosis")


class TeachingCaseDialog(QtWidgets.QDialog):
    """Asks for the text of a teaching case: title, history, findings,
    diagnosis and discussion (reminding that none of it may name the patient)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Teaching case")
        form = QtWidgets.QFormLayout(self)
        self._fields: dict[str, QtWidgets.QLineEdit | QtWidgets.QPlainTextEdit] = {}
        for name in _CASE_FIELDS:
            editor: QtWidgets.QLineEdit | QtWidgets.QPlainTextEdit
            editor = (
                QtWidgets.QLineEdit()
                if name in _ONE_LINE_FIELDS
                else QtWidgets.QPlainTextEdit()
            )
            form.addRow(name.capitalize(), editor)
            self._fields[name] = editor
        note = QtWidgets.QLabel(
            "Exported images and files carry no patient data (PS3.15 Basic Profile); "
            "do not type any here."
        )
        note.setWordWrap(True)
        form.addRow(note)
        self.review_images = QtWidgets.QCheckBox(
            "Review the key images and black out text by hand (always asked for "
            "images at risk of burned-in text)"
        )
        form.addRow(self.review_images)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def case(self) -> TeachingCase:
        """The case as typed (each field stripped)."""
        from imaging_viewer.core.teaching.case import TeachingCase

        values = {
            name: (
                e.text() if isinstance(e, QtWidgets.QLineEdit) else e.toPlainText()
            ).strip()
            for name, e in self._fields.items()
        }
        return TeachingCase(
            title=values["title"],
            history=values["history"],
            findings=values["findings"],
            diagnosis=values["diagnosis"],
            discussion=values["discussion"],
        )


class LesionExport:
    """Writes the open study's lesions out: as a de-identified teaching case, or
    as DICOM objects for PACS and other viewers (File and Annotate menus)."""

    def __init__(
        self,
        parent: QWidget,
        workspace: Workspace,
        state: ViewerState,
        report_problem: ReportProblem,
        status_bar: QStatusBar,
        annotation_study: Callable[[], Study | None],
    ) -> None:
        self._parent = parent
        self._annotation_study = annotation_study
        self._workspace = workspace
        self._state = state
        self._report_problem = report_problem
        self._status_bar = status_bar

    def export_teaching(self) -> None:
        """Ask for the case text and a folder, then write the de-identified case."""
        from imaging_viewer.core.teaching.export import TeachingExportError
        from imaging_viewer.ui.teaching_export import QtKeyImageBurnIn

        study = self._annotation_study()
        if study is None or not self._state.annotations.lesions:
            QtWidgets.QMessageBox.information(
                self._parent,
                "Teaching case",
                "Mark at least one lesion first (Annotate menu).",
            )
            return
        dialog = TeachingCaseDialog(self._parent)
        if dialog.exec() != QtWidgets.QDialog.DialogCode.Accepted:
            return
        folder = QtWidgets.QFileDialog.getExistingDirectory(
            self._parent, "Folder for the case"
        )
        if not folder:
            return
        redactions = self._ask_redactions(study, dialog.review_images.isChecked())
        if redactions is None:
            return
        case = dialog.case()
        out_dir = Path(folder) / (_safe_name(case.title) or "teaching_case")
        window = self._state.active.editable_window()
        try:
            result = self._workspace.export_teaching_case(
                study.uid,
                case,
                out_dir,
                QtKeyImageBurnIn(),
                window=window,
                redactions=redactions,
            )
        except (TeachingExportError, OSError) as error:
            QtWidgets.QMessageBox.warning(
                self._parent, "Teaching case not written", str(error)
            )
            return
        for warning in result.warnings:
            self._report_problem("warning", "teaching case", warning)
        self._status_bar.showMessage(
            f"Wrote {len(result.files)} files to {result.folder}", 10000
        )

    def _ask_redactions(
        self, study: Study, always: bool
    ) -> dict[str, list[TextBox]] | None:
        """The user's rectangles to black out, by SOP Instance UID: asked in the
        redaction tool when a key image is at risk of burned-in text (or
        ``always``); None when the user cancels."""
        from imaging_viewer.ui.dialogs.redaction_dialog import RedactionDialog

        key_images = self._workspace.teaching_key_images(study.uid)
        if not key_images:
            return {}
        tool = RedactionDialog(key_images, self._parent)
        if not (always or tool.any_at_risk):
            return {}
        if tool.exec() != QtWidgets.QDialog.DialogCode.Accepted:
            return None
        return tool.redactions()

    def export_dicom(self) -> None:
        """Write the lesions as a TID 1500 SR and a GSPS beside their key images
        (not de-identified: for PACS and other viewers, not for teaching)."""
        from imaging_viewer.core.exchange.annotation_documents import DicomExportError

        study = self._annotation_study()
        if study is None or not self._state.annotations.lesions:
            QtWidgets.QMessageBox.information(
                self._parent, "DICOM export", "There are no lesions yet."
            )
            return
        folder = QtWidgets.QFileDialog.getExistingDirectory(
            self._parent, "Folder for the DICOM files"
        )
        if not folder:
            return
        try:
            result, warnings = self._workspace.export_annotation_documents(
                study.uid,
                Path(folder) / "annotations_dicom" / "dicom",
                window=self._state.active.editable_window(),
            )
        except (DicomExportError, OSError) as error:
            QtWidgets.QMessageBox.warning(
                self._parent, "DICOM export failed", str(error)
            )
            return
        for warning in warnings:
            self._report_problem("warning", "DICOM export", warning)
        self._status_bar.showMessage(
            f"Wrote {result.structured_report} and {result.presentation_state}", 10000
        )


def _safe_name(title: str) -> str:
    """A folder name from a case title (letters, digits, - and _)."""
    kept = "".join(c if c.isalnum() or c in "-_" else "_" for c in title.strip())
    return kept.strip("_")[:60]
