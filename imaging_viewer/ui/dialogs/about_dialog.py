"""Help > About: the version, and what the viewer is (and is not) for."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6 import QtWidgets

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget


def show_about(parent: QWidget) -> None:
    """The About box: version, purpose, and that it is not a medical device."""
    from imaging_viewer import __version__

    QtWidgets.QMessageBox.about(
        parent,
        "About imaging_viewer",
        f"imaging_viewer {__version__}\nA viewer for DICOM X-ray, CT and MRI.\n"
        "Not a medical device: for teaching and review.",
    )
