"""Annotation files from the File menu: save and open the JSON annotation
file, import the lesions of a DICOM SR or presentation state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6 import QtWidgets

if TYPE_CHECKING:
    from collections.abc import Callable

    from PySide6.QtWidgets import QStatusBar, QWidget

    from imaging_viewer.core.workspace import Study, Workspace


class AnnotationFiles:
    """Asks for annotation files and hands them to the workspace, for the study
    the annotations belong to (``study``, None when nothing is open)."""

    def __init__(
        self,
        parent: QWidget,
        workspace: Workspace,
        study: Callable[[], Study | None],
        status_bar: QStatusBar,
    ) -> None:
        self._parent = parent
        self._workspace = workspace
        self._study = study
        self._status_bar = status_bar

    def _study_uid(self) -> str | None:
        study = self._study()
        return study.uid if study is not None and study.uid else None

    def save_as(self) -> None:
        """Save the annotations as a JSON annotation file, where the user says."""
        uid = self._study_uid()
        if uid is None:
            return
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self._parent, "Save annotations", "annotations.json", "Annotations (*.json)"
        )
        if path:
            try:
                self._workspace.save_annotations(uid, path)
            except OSError as error:
                QtWidgets.QMessageBox.warning(
                    self._parent, "Save failed", f"{path}: {error}"
                )
                return
            self._status_bar.showMessage(f"Saved {path}", 5000)

    def open_file(self) -> None:
        """Replace the annotations with those of a JSON annotation file."""
        from imaging_viewer.core.annotations.serialize import AnnotationFileError

        uid = self._study_uid()
        if uid is None:
            return
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self._parent, "Open annotations", "", "Annotations (*.json)"
        )
        if not path:
            return
        try:
            self._workspace.open_annotations(uid, path)
        except (AnnotationFileError, OSError) as error:
            QtWidgets.QMessageBox.warning(
                self._parent, "Cannot open annotations", str(error)
            )

    def import_report(self) -> None:
        """Ask for a DICOM SR or presentation state and add its lesions."""
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self._parent, "Import a DICOM SR or presentation state"
        )
        if path:
            self.import_dicom_annotations(path)

    def import_dicom_annotations(self, path: str) -> bool:
        """Add the lesions of a TID 1500 measurement report or of a Grayscale
        Softcopy Presentation State (drawn on images of the open study)."""
        from imaging_viewer.core.exchange.interchange_import import (
            InterchangeImportError,
        )

        uid = self._study_uid()
        if uid is None:
            QtWidgets.QMessageBox.warning(
                self._parent, "Cannot import", "Open a study first."
            )
            return False
        try:
            imported = self._workspace.import_annotations(uid, path)
        except InterchangeImportError as error:
            QtWidgets.QMessageBox.warning(self._parent, "Cannot import", str(error))
            return False
        count = len(imported.annotation_set.lesions)
        self._status_bar.showMessage(
            f"Imported {count} lesion{'s' if count != 1 else ''} from {path}", 10000
        )
        return True
