"""The question asked before a study of another patient is added beside those
open (studies of two patients are never linked or compared silently)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMessageBox

from imaging_viewer.core.dicom.patient_identity import describe_patient

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from imaging_viewer.core.dicom.patient_identity import PatientKey


def other_patient_message(
    open_patients: list[PatientKey], others: list[PatientKey]
) -> str:
    """The question, naming both patients by name and Patient ID."""
    return (
        "The study to add is of another patient:\n\n"
        + "\n".join(f"    {describe_patient(key)}" for key in others)
        + "\n\nOpen now:\n\n"
        + "\n".join(f"    {describe_patient(key)}" for key in open_patients)
        + "\n\nStudies of different patients are never linked or compared. "
        "Add it anyway?"
    )


def ask_other_patient(
    parent: QWidget, open_patients: list[PatientKey], others: list[PatientKey]
) -> bool:
    """Ask whether to add a study of another patient; True to add it."""
    answer = QMessageBox.question(
        parent,
        "Add a study of another patient?",
        other_patient_message(open_patients, others),
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes
