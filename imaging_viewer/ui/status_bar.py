"""What the window's status bar holds: the value under the pointer, and the
progress of background work with its Cancel button."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton

if TYPE_CHECKING:
    from collections.abc import Callable

    from PySide6.QtWidgets import QStatusBar


class StatusReadouts:
    """The probe text (left) and a progress label, bar and Cancel (right) in
    ``status_bar``; Cancel calls ``cancel``."""

    def __init__(self, status_bar: QStatusBar, cancel: Callable[[], object]) -> None:
        self.probe_label = QLabel("")
        self.probe_label.setMinimumWidth(420)
        status_bar.addWidget(self.probe_label, 1)
        self.progress_label = QLabel("")
        status_bar.addPermanentWidget(self.progress_label)
        self.progress_bar = QProgressBar()
        self.progress_bar.setMaximumWidth(220)
        self.progress_bar.hide()
        status_bar.addPermanentWidget(self.progress_bar)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.hide()
        self.cancel_button.clicked.connect(cancel)
        status_bar.addPermanentWidget(self.cancel_button)

    def show_probe(self, text: str) -> None:
        """The pixel value, position and such under the pointer."""
        self.probe_label.setText(text)

    def show_progress(self, text: str, done: int, total: int) -> None:
        """Show what runs, with its progress (``total`` 0: unknown) and Cancel."""
        self.progress_label.setText(text)
        self.progress_bar.setRange(0, total)
        self.progress_bar.setValue(done)
        self.progress_bar.show()
        self.cancel_button.show()

    def hide_progress(self) -> None:
        """Nothing runs any more."""
        self.progress_label.setText("")
        self.progress_bar.hide()
        self.cancel_button.hide()
