"""The node editor's security fields: DICOMweb authentication (none, HTTP basic,
bearer token) and DIMSE TLS (CA, certificate, key files; PS3.15 B.1).

Passwords and tokens go to the platform keyring when there is one; otherwise
nothing secret is saved, the editor says so, and the secret is asked for when
the node is used (:meth:`NodeSecurityFields.complete`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLineEdit,
    QPushButton,
    QWidget,
)

from imaging_viewer.core.pacs.credentials import (
    keyring_available,
    load_secret,
    save_secret,
)
from imaging_viewer.core.pacs.nodes import DimseNode, TlsSettings, WebNode

if TYPE_CHECKING:
    from collections.abc import Callable

    from imaging_viewer.core.pacs.nodes import Node

__all__ = ["AUTH_CHOICES", "NO_KEYRING", "NodeSecurityFields"]

AUTH_CHOICES = ("no authentication", "basic (user, password)", "bearer token")
NO_KEYRING = "password not saved: no keyring; it is asked for when used"


def _ask_with_a_dialog(prompt: str) -> str | None:
    text, ok = QInputDialog.getText(
        None, "Query / retrieve", prompt, QLineEdit.EchoMode.Password
    )
    return text if ok else None


class NodeSecurityFields(QWidget):
    """Authentication and TLS of the node being edited; ``ask(prompt)`` asks the
    user for a secret not kept (None: cancelled)."""

    def __init__(
        self,
        parent: QWidget | None = None,
        ask: Callable[[str], str | None] = _ask_with_a_dialog,
    ) -> None:
        super().__init__(parent)
        self.ask = ask
        self.auth = QComboBox()
        self.auth.addItems(AUTH_CHOICES)
        self.auth.setToolTip("DICOMweb: how to authenticate")
        self.user = QLineEdit()
        self.user.setPlaceholderText("user")
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setPlaceholderText(
            "password or token" if keyring_available() else "asked when used"
        )
        self.tls_files: list[QLineEdit] = []
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for widget in (self.auth, self.user, self.secret):
            row.addWidget(widget)
        for label in ("TLS CA", "TLS cert", "TLS key"):
            field = QLineEdit()
            field.setPlaceholderText(label)
            field.setToolTip(f"DIMSE over TLS: the {label[4:]} file (PEM)")
            browse = QPushButton("…")
            browse.setMaximumWidth(28)
            browse.clicked.connect(lambda _=False, f=field: self._browse(f))
            self.tls_files.append(field)
            row.addWidget(field)
            row.addWidget(browse)

    def _browse(self, field: QLineEdit) -> None:
        path, _ = QFileDialog.getOpenFileName(self, field.placeholderText())
        if path:
            field.setText(path)

    def show_node(self, node: Node) -> None:
        """Fill the fields from ``node`` (its secret is never shown)."""
        self.secret.clear()
        if isinstance(node, WebNode):
            bearer = node.auth == "bearer" or bool(node.token)
            self.auth.setCurrentIndex(2 if bearer else 1 if node.user else 0)
            self.user.setText(node.user)
            for field in self.tls_files:
                field.clear()
            return
        self.auth.setCurrentIndex(0)
        self.user.clear()
        tls = node.tls or TlsSettings()
        for field, value in zip(
            self.tls_files, (tls.ca_file, tls.cert_file, tls.key_file), strict=True
        ):
            field.setText(value)

    def apply(self, node: Node, name: str) -> tuple[Node, str]:
        """``node`` with the fields' security, its secret kept in the keyring
        when there is one; and what to tell the user about the secret."""
        if isinstance(node, DimseNode):
            files = [field.text().strip() for field in self.tls_files]
            tls = TlsSettings(*files) if any(files) else None
            return replace(node, tls=tls), ""
        choice = self.auth.currentIndex()
        secret = self.secret.text()
        node = replace(
            node,
            user=self.user.text().strip() if choice == 1 else "",
            password=secret if choice == 1 else "",
            token=secret if choice == 2 else "",
            auth=("", "basic", "bearer")[choice],
        )
        if choice == 0:
            return node, ""
        kind = "password" if choice == 1 else "token"
        if secret and save_secret(name, kind, secret):
            return node, f"{kind} saved in the keyring"
        return node, "" if not secret and keyring_available() else NO_KEYRING

    def complete(self, node: Node) -> Node | None:
        """``node`` with its secret: kept in memory, from the keyring, else
        asked for; None when the user cancels."""
        if not isinstance(node, WebNode):
            return node
        if (node.user or node.auth == "basic") and not node.password:
            password = load_secret(node.name, "password") or self.ask(
                f"Password of {node.user} at {node.base_url}"
            )
            return None if password is None else replace(node, password=password)
        if node.auth == "bearer" and not node.token:
            token = load_secret(node.name, "token") or self.ask(
                f"Bearer token for {node.base_url}"
            )
            return None if token is None else replace(node, token=token)
        return node
