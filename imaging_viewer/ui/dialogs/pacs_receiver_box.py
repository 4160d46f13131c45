"""The "Receive" settings of the query/retrieve window: the storage SCP that
stays on (off by default, loopback unless opened, accepted calling AEs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from imaging_viewer.core.pacs.receiver import ReceiverSettings
from imaging_viewer.ui.open_indexing import indexing_enabled, set_indexing

if TYPE_CHECKING:
    from imaging_viewer.ui.pacs_receiver import PacsReceiverService

__all__ = ["ReceiverSettingsBox"]


class ReceiverSettingsBox(QGroupBox):
    """Edit and apply the receiver's settings; the line below says what it does."""

    def __init__(self, service: PacsReceiverService, parent: QWidget | None = None):
        super().__init__("Local database: receive (storage SCP), index", parent)
        self._service = service
        settings = service.settings()
        self.enabled = QCheckBox("Receive")
        self.enabled.setChecked(settings.enabled)
        self.port = QSpinBox()
        self.port.setRange(1024, 65535)
        self.port.setValue(settings.port)
        self.port.setPrefix("port ")
        self.network = QCheckBox("accept from the network")
        self.network.setChecked(settings.accept_from_network)
        self.network.setToolTip(
            "Off: only programs on this computer can send. On: list the AE titles."
        )
        self.aets = QLineEdit(", ".join(settings.accepted_aets))
        self.aets.setPlaceholderText("accepted calling AEs (empty: any, this computer)")
        self.our_aet = QLineEdit(settings.our_aet)
        self.our_aet.setMaximumWidth(140)
        self.our_aet.setToolTip("Our AE title: the one the senders call")
        self.apply_button = QPushButton("Apply")
        self.apply_button.clicked.connect(self.apply)
        row = QHBoxLayout()
        for widget in (
            self.enabled,
            self.our_aet,
            self.port,
            self.network,
            self.aets,
            self.apply_button,
        ):
            row.addWidget(widget)
        self.state = QLabel(self._describe())
        self.state.setWordWrap(True)
        self.index_opened = QCheckBox(
            "Index the studies I open (files stay where they are)"
        )
        self.index_opened.setChecked(indexing_enabled())
        self.index_opened.toggled.connect(set_indexing)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.state)
        layout.addWidget(self.index_opened)

    def _describe(self) -> str:
        if self._service.running:
            return "receiving"
        return self._service.last_error or "receiving is off"

    def settings(self) -> ReceiverSettings:
        """The settings the fields describe."""
        titles = tuple(t.strip() for t in self.aets.text().split(",") if t.strip())
        return ReceiverSettings(
            enabled=self.enabled.isChecked(),
            port=self.port.value(),
            accept_from_network=self.network.isChecked(),
            accepted_aets=titles,
            our_aet=self.our_aet.text().strip(),
        )

    def apply(self) -> None:
        """Save the settings and restart (or stop) the receiver."""
        self.state.setText(self._service.apply(self.settings()))
