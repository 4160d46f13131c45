"""The teaching-case dialog, and the exports of the lesions it leads to: a
de-identified teaching case, or a DICOM SR with its presentation state."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6 import QtWidgets

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from PySide6.QtGui import QImage, QPixmap
    from PySide6.QtWidgets import QListWidget, QStatusBar, QWidget

    from imaging_viewer.core.annotations.key_image_marks import KeyImageMark
    from imaging_viewer.core.annotations.model import Lesion
    from imaging_viewer.core.exchange.burned_in_text import TextBox
    from imaging_viewer.core.teaching.case import TeachingCase
    from imaging_viewer.core.viewer_state import ViewerState
    from imaging_viewer.core.volume import Window
    from imaging_viewer.core.workspace import Study, Workspace

    ReportProblem = Callable[[str, str, str], None]
    """Lists a problem: (severity, where, message)."""

_CASE_FIELDS = ("title", "history", "findings", "diagnosis", "discussion")
_ONE_LINE_FIELDS = ("title", "diagnosis")


WINDOW_CHOICES = ("current", "header")
"""Window choices besides the CT presets: the viewport's, or each image's own."""


class TeachingCaseDialog(QtWidgets.QDialog):
    """Asks for a teaching case: its text (title, history, findings, diagnosis,
    discussion; reminding that none of it may name the patient), the lesions
    and key images to export (check lists), the window and the dates.

    Tab moves between the fields (the text boxes do not take it).
    """

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        lesions: Sequence[Lesion] = (),
        key_images: Sequence[KeyImageMark] = (),
        thumbnails: Mapping[tuple[str, int | None], QPixmap] | None = None,
        tracked_lesions: int = 0,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Teaching case")
        # The form on the left, the preview on its right: at 1366×768 the
        # dialog fits on the screen with its buttons (one column was 880 px).
        outer = QtWidgets.QVBoxLayout(self)
        columns = QtWidgets.QHBoxLayout()
        outer.addLayout(columns, 1)
        form = QtWidgets.QFormLayout()
        columns.addLayout(form, 1)
        self._side = QtWidgets.QVBoxLayout()
        columns.addLayout(self._side)
        self._fields: dict[str, QtWidgets.QLineEdit | QtWidgets.QPlainTextEdit] = {}
        for name in _CASE_FIELDS:
            editor: QtWidgets.QLineEdit | QtWidgets.QPlainTextEdit
            if name in _ONE_LINE_FIELDS:
                editor = QtWidgets.QLineEdit()
            else:
                editor = QtWidgets.QPlainTextEdit()
                editor.setTabChangesFocus(True)
                editor.setFixedHeight(60)
            form.addRow(name.capitalize(), editor)
            self._fields[name] = editor
        self.lesion_list = _check_list(
            [(lesion.label or "lesion", lesion.id, None) for lesion in lesions]
        )
        form.addRow("Lesions", self.lesion_list)
        images = thumbnails or {}
        self.key_image_list = _check_list(
            [
                (f"Key image {n}", mark, images.get(mark.key))
                for n, mark in enumerate(key_images, start=1)
            ]
        )
        form.addRow("Key images", self.key_image_list)
        self.before_after = _before_after_check(tracked_lesions)
        form.addRow(self.before_after)
        self._add_window_and_dates(form)
        self._add_notes_and_buttons(form)

    def _add_window_and_dates(self, form: QtWidgets.QFormLayout) -> None:
        from imaging_viewer.core.render import CT_PRESETS

        self.window_choice = QtWidgets.QComboBox()
        self.window_choice.addItem("Current window (the active view's)", "current")
        for name, preset in CT_PRESETS.items():
            self.window_choice.addItem(
                f"CT {name} ({preset.width:g}/{preset.center:g})", name
            )
        self.window_choice.addItem("The header's window (each image's own)", "header")
        form.addRow("Window", self.window_choice)
        self.dates_choice = QtWidgets.QComboBox()
        self.dates_choice.addItem("Remove dates (PS3.15 Basic Profile)", "remove")
        self.dates_choice.addItem("Keep dates", "keep")
        self.dates_choice.addItem("Shift dates by", "shift")
        self.shift_days = QtWidgets.QSpinBox()
        self.shift_days.setRange(-36500, 36500)
        self.shift_days.setSuffix(" days")
        self.shift_days.setEnabled(False)
        self.dates_choice.currentIndexChanged.connect(
            lambda _: self.shift_days.setEnabled(
                self.dates_choice.currentData() == "shift"
            )
        )
        dates = QtWidgets.QHBoxLayout()
        dates.addWidget(self.dates_choice)
        dates.addWidget(self.shift_days)
        form.addRow("Dates", dates)

    def _on_dates_choice(self, _index: int) -> None:
        self.shift_days.setEnabled(self.dates_choice.currentData() == "shift")

    def _add_notes_and_buttons(self, form: QtWidgets.QFormLayout) -> None:
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
        self.preview_title = QtWidgets.QLabel("First key image, as exported")
        self.preview_title.setVisible(False)
        self._side.addWidget(self.preview_title)
        self.preview = QtWidgets.QLabel()
        self.preview.setVisible(False)
        self._side.addWidget(self.preview)
        self._side.addStretch(1)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        outer = self.layout()
        assert outer is not None
        outer.addWidget(buttons)

    def show_preview(self, image: QImage) -> None:
        """Show the first key image as it will be exported (scaled down)."""
        from PySide6.QtGui import QPixmap

        picture = QPixmap.fromImage(image)
        self.preview.setPixmap(picture.scaledToWidth(min(320, max(1, picture.width()))))
        self.preview.setToolTip("The first key image as exported (de-identified)")
        self.preview.setVisible(True)
        self.preview_title.setVisible(True)

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

    def export_options(self, current_window: Window | None) -> dict[str, Any]:
        """The keyword options of the core teaching export the dialog chose:
        lesions, key images, window or preset, dates."""
        choice = self.window_choice.currentData()
        options: dict[str, Any] = {
            "lesion_ids": _checked(self.lesion_list),
            "key_image_marks": _checked(self.key_image_list),
            "window": current_window if choice == "current" else None,
            "preset": None if choice in WINDOW_CHOICES else choice,
        }
        dates = self.dates_choice.currentData()
        options["keep_dates"] = dates in ("keep", "shift")
        options["date_shift_days"] = self.shift_days.value() if dates == "shift" else 0
        return options


def _before_after_check(tracked_lesions: int) -> QtWidgets.QCheckBox:
    """ "Before/after pair per tracked lesion": on when lesions of the study are
    tracked in other open studies of the patient (same Tracking UID)."""
    check = QtWidgets.QCheckBox("Before/after pair per tracked lesion")
    check.setEnabled(tracked_lesions > 0)
    check.setChecked(tracked_lesions > 0)
    if tracked_lesions:
        lesions = "lesion is" if tracked_lesions == 1 else "lesions are"
        check.setToolTip(
            f"{tracked_lesions} {lesions} tracked across this patient's open "
            "studies (same Tracking UID): each chosen one gets its key image at "
            "the earliest and the latest time point side by side, in before_after/"
        )
    else:
        check.setToolTip(
            "No lesion of this study is tracked in another open study of the "
            "patient: open the prior study and link its lesions (Same lesion as…)"
        )
    return check


def _check_list(items: Sequence[tuple[str, object, QPixmap | None]]) -> QListWidget:
    """A list of checked entries (text, data, thumbnail)."""
    from PySide6.QtCore import QSize, Qt
    from PySide6.QtGui import QIcon

    widget = QtWidgets.QListWidget()
    with_thumbnails = any(thumbnail is not None for _, _, thumbnail in items)
    widget.setIconSize(QSize(48, 48))
    # Every entry seen at once, up to three thumbnails or five lines.
    row = 52 if with_thumbnails else widget.fontMetrics().height() + 4
    shown = max(1, min(len(items), 3 if with_thumbnails else 5))
    widget.setFixedHeight(row * shown + 2 * widget.frameWidth() + 2)
    for text, data, thumbnail in items:
        item = QtWidgets.QListWidgetItem(text)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked)
        item.setData(Qt.ItemDataRole.UserRole, data)
        if thumbnail is not None:
            item.setIcon(QIcon(thumbnail))
        widget.addItem(item)
    return widget


def _checked(widget: QListWidget) -> list[Any]:
    from PySide6.QtCore import Qt

    return [
        widget.item(n).data(Qt.ItemDataRole.UserRole)
        for n in range(widget.count())
        if widget.item(n).checkState() == Qt.CheckState.Checked
    ]


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
        """Ask for the case (text, lesions, key images, window, dates) and a
        folder, then write the de-identified case; offer to open its folder."""
        study = self._annotation_study()
        annotations = self._state.annotations
        if study is None or not (annotations.lesions or annotations.key_images):
            QtWidgets.QMessageBox.information(
                self._parent,
                "Teaching case",
                "Mark at least one lesion or key image first (Annotate menu).",
            )
            return
        dialog = self.teaching_dialog(study)
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
        options = self.teaching_options(dialog, study)
        self.write_teaching_case(study, case, out_dir, redactions, options)

    def teaching_dialog(self, study: Study) -> TeachingCaseDialog:
        """The dialog for a case of the study's lesions and key images, with
        the first key image's preview and the before/after choice (on when
        lesions are tracked across the patient's open studies)."""
        from imaging_viewer.core.workspace.teaching_timepoints import (
            tracked_lesion_count,
        )

        annotations = self._state.annotations
        dialog = TeachingCaseDialog(
            self._parent,
            lesions=annotations.lesions,
            key_images=annotations.key_images,
            thumbnails=self.thumbnails(),
            tracked_lesions=tracked_lesion_count(self._workspace, study.uid),
        )
        from imaging_viewer.ui.teaching_export import first_key_image_preview

        preview = first_key_image_preview(
            self._workspace,
            study.uid,
            annotations,
            self._state.active.editable_window(),
            self.displayed_series_uid(),
        )
        if preview is not None:
            dialog.show_preview(preview)
        return dialog

    def teaching_options(
        self, dialog: TeachingCaseDialog, study: Study
    ) -> dict[str, Any]:
        """The core export's options the dialog chose, with the patient's open
        studies as time points when it asks for before/after pairs."""
        options = dialog.export_options(self._state.active.editable_window())
        options["displayed_series_uid"] = self.displayed_series_uid()
        if dialog.before_after.isEnabled() and dialog.before_after.isChecked():
            from imaging_viewer.core.workspace.teaching_timepoints import (
                teaching_timepoints,
            )

            options["before_after"] = teaching_timepoints(self._workspace, study.uid)
        return options

    def write_teaching_case(
        self,
        study: Study,
        case: TeachingCase,
        out_dir: Path,
        redactions: Mapping[str, Sequence[TextBox]],
        options: Mapping[str, Any],
    ) -> Path | None:
        """Write the case; report the outcome with an "Open folder" button."""
        from imaging_viewer.core.teaching.export import TeachingExportError
        from imaging_viewer.ui.teaching_export import QtKeyImageBurnIn

        try:
            result = self._workspace.export_teaching_case(
                study.uid,
                case,
                out_dir,
                QtKeyImageBurnIn(),
                redactions=redactions,
                **options,
            )
        except (TeachingExportError, OSError, LookupError) as error:
            QtWidgets.QMessageBox.warning(
                self._parent, "Teaching case not written", str(error)
            )
            return None
        for warning in result.warnings:
            self._report_problem("warning", "teaching case", warning)
        message = f"Wrote {len(result.files)} files to {result.folder}"
        self._status_bar.showMessage(message, 10000)
        self.show_done(message, result.folder)
        return result.folder

    def show_done(self, message: str, folder: Path) -> QtWidgets.QMessageBox:
        """A message box saying what was written, with an "Open folder" button."""
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices

        box = QtWidgets.QMessageBox(self._parent)
        box.setWindowTitle("Teaching case written")
        box.setText(message)
        open_button = box.addButton(
            "Open folder", QtWidgets.QMessageBox.ButtonRole.ActionRole
        )
        send = box.addButton(
            "Send to PACS…", QtWidgets.QMessageBox.ButtonRole.ActionRole
        )
        send.clicked.connect(lambda: _send_teaching_case(self._parent, folder))
        box.addButton(QtWidgets.QMessageBox.StandardButton.Close)
        open_button.clicked.connect(
            lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
        )
        box.open()
        return box

    def displayed_series_uid(self) -> str:
        """Series Instance UID of the active view's series: where annotations
        that name no image (older files) are placed first."""
        series = self._state.active.series
        return series.uid if series is not None else ""

    def thumbnails(self) -> dict[tuple[str, int | None], QPixmap]:
        """The key images' thumbnails the Key images panel remembered."""
        if not getattr(self._parent, "docks_built", False):
            return {}
        docks = self._parent.build_docks()  # type: ignore[attr-defined]
        return dict(docks.key_images_panel.thumbnails)

    def _ask_redactions(
        self, study: Study, always: bool
    ) -> dict[str, list[TextBox]] | None:
        """The user's rectangles to black out, by SOP Instance UID: asked in the
        redaction tool when a key image is at risk of burned-in text (or
        ``always``); None when the user cancels."""
        from imaging_viewer.ui.dialogs.redaction_dialog import RedactionDialog

        key_images = self._workspace.teaching_key_images(
            study.uid, displayed_series_uid=self.displayed_series_uid()
        )
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
        annotations = self._state.annotations
        if study is None or not (annotations.lesions or annotations.key_images):
            QtWidgets.QMessageBox.information(
                self._parent, "DICOM export", "There are no lesions or key images yet."
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
                displayed_series_uid=self.displayed_series_uid(),
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


def _send_teaching_case(parent: QtWidgets.QWidget, folder: Path) -> None:
    from imaging_viewer.ui.pacs_send import send_teaching_case

    send_teaching_case(parent, folder)


def _safe_name(title: str) -> str:
    """A folder name from a case title (letters, digits, - and _)."""
    kept = "".join(c if c.isalnum() or c in "-_" else "_" for c in title.strip())
    return kept.strip("_")[:60]
