"""The node editor's authentication and TLS (pytest-qt, against Orthanc's
registered user): without a keyring nothing secret is saved and the dialog says
so, the password is asked for when used, a wrong one gives the HTTP 401
message; with a keyring it is kept there; TLS files are saved with the node."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pydicom

from imaging_viewer.core.pacs import credentials, remote
from imaging_viewer.core.pacs.nodes import DimseNode, load_nodes, parse_node
from imaging_viewer.ui.dialogs.pacs_dialog import PacsDialog
from imaging_viewer.ui.dialogs.pacs_node_security import NO_KEYRING
from tests.pacs.conftest import PASSWORD, USER

if TYPE_CHECKING:
    from pathlib import Path

    import pytest
    from pytestqt.qtbot import QtBot

    from tests.pacs.conftest import Orthanc


class FakeKeyring:
    """The keyring library's three calls, in memory."""

    def __init__(self) -> None:
        self.kept: dict[tuple[str, str], str] = {}

    def set_password(self, service: str, account: str, value: str) -> None:
        self.kept[service, account] = value

    def get_password(self, service: str, account: str) -> str | None:
        return self.kept.get((service, account))

    def delete_password(self, service: str, account: str) -> None:
        self.kept.pop((service, account), None)


def _dialog(qtbot: QtBot, tmp_path: Path, asked: list[str], answer: Any) -> PacsDialog:
    dialog = PacsDialog(
        lambda _: None,
        lambda: ("", set()),
        nodes_file=tmp_path / "nodes.json",
        database_path=tmp_path / "studies.sqlite",
    )
    qtbot.addWidget(dialog)

    def ask(prompt: str) -> str | None:
        asked.append(prompt)
        return answer() if callable(answer) else answer

    dialog.security.ask = ask
    return dialog


def _wait(qtbot: QtBot, dialog: PacsDialog) -> None:
    qtbot.waitUntil(lambda: not dialog.busy, timeout=30_000)


def _configure_web(dialog: PacsDialog, orthanc: Orthanc, password: str) -> None:
    dialog.node_name.setText("web")
    dialog.node_address.setText(orthanc.dicomweb_url)
    dialog.security.auth.setCurrentIndex(1)
    dialog.security.user.setText(USER)
    dialog.security.secret.setText(password)
    dialog.save_node()


def test_without_a_keyring_the_password_is_not_saved_and_asked_when_used(
    qtbot: QtBot,
    tmp_path: Path,
    orthanc: Orthanc,
    sample_data: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(credentials, "_keyring", lambda: None)
    orthanc.clear()
    files = sorted((sample_data / "CT").iterdir())[:2]
    remote.send(parse_node(orthanc.node, configured={}), files)
    asked: list[str] = []
    dialog = _dialog(qtbot, tmp_path, asked, None)
    _configure_web(dialog, orthanc, PASSWORD)
    assert NO_KEYRING in dialog.status.text()
    assert PASSWORD not in (tmp_path / "nodes.json").read_text()
    saved = load_nodes(tmp_path / "nodes.json")["web"]
    assert (saved.user, saved.password) == (USER, "")  # type: ignore[union-attr]
    dialog.test_connection()  # this session: the password is in memory
    _wait(qtbot, dialog)
    assert dialog.status.text() == f"{orthanc.dicomweb_url} answers"
    assert asked == []

    # Next session: asked when used; a wrong one gives the 401 message.
    answers = iter(["wrong", PASSWORD])
    later = _dialog(qtbot, tmp_path, asked, lambda: next(answers))
    assert later.security.auth.currentIndex() == 1
    assert later.security.user.text() == USER
    later.test_connection()
    _wait(qtbot, later)
    assert "authentication failed (HTTP 401)" in later.status.text()
    assert len(asked) == 1
    later.search()  # a DICOMweb node in the dialog: QIDO-RS
    _wait(qtbot, later)
    assert len(asked) == 2
    study = str(pydicom.dcmread(files[0], stop_before_pixels=True).StudyInstanceUID)
    assert [r.study_uid for r in later.results] == [study]


def test_cancelling_the_question_does_nothing(
    qtbot: QtBot, tmp_path: Path, orthanc: Orthanc, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(credentials, "_keyring", lambda: None)
    asked: list[str] = []
    dialog = _dialog(qtbot, tmp_path, asked, None)
    _configure_web(dialog, orthanc, "")
    dialog._nodes["web"] = load_nodes(tmp_path / "nodes.json")["web"]
    dialog.test_connection()
    assert not dialog.busy
    assert "no password or token given" in dialog.status.text()


def test_with_a_keyring_the_password_is_kept_there(
    qtbot: QtBot, tmp_path: Path, orthanc: Orthanc, monkeypatch: pytest.MonkeyPatch
) -> None:
    keyring = FakeKeyring()
    monkeypatch.setattr(credentials, "_keyring", lambda: keyring)
    asked: list[str] = []
    dialog = _dialog(qtbot, tmp_path, asked, None)
    _configure_web(dialog, orthanc, PASSWORD)
    assert "password saved in the keyring" in dialog.status.text()
    assert list(keyring.kept.values()) == [PASSWORD]
    assert PASSWORD not in (tmp_path / "nodes.json").read_text()
    later = _dialog(qtbot, tmp_path, asked, None)
    later.test_connection()
    _wait(qtbot, later)
    assert later.status.text() == f"{orthanc.dicomweb_url} answers"
    assert asked == []


def test_a_bearer_token_node_asks_for_its_token(
    qtbot: QtBot, tmp_path: Path, orthanc: Orthanc, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(credentials, "_keyring", lambda: None)
    asked: list[str] = []
    dialog = _dialog(qtbot, tmp_path, asked, "not-a-token")
    dialog.node_name.setText("web")
    dialog.node_address.setText(orthanc.dicomweb_url)
    dialog.security.auth.setCurrentIndex(2)
    dialog.security.secret.setText("not-a-token")
    dialog.save_node()
    assert NO_KEYRING in dialog.status.text()
    assert json.loads((tmp_path / "nodes.json").read_text())["nodes"][0]["token"] == ""
    later = _dialog(qtbot, tmp_path, asked, "not-a-token")
    assert later.security.auth.currentIndex() == 2
    later.test_connection()
    _wait(qtbot, later)
    assert asked == ["Bearer token for " + orthanc.dicomweb_url]
    assert "HTTP 401" in later.status.text()  # Orthanc knows no tokens


def test_tls_files_are_saved_with_a_dimse_node(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = _dialog(qtbot, tmp_path, [], None)
    dialog.node_name.setText("secure")
    dialog.node_address.setText("PACS@pacs.example:2762")
    for field, name in zip(
        dialog.security.tls_files, ("ca.pem", "me.pem", "me.key"), strict=True
    ):
        field.setText(str(tmp_path / name))
    dialog.save_node()
    node = load_nodes(tmp_path / "nodes.json")["secure"]
    assert isinstance(node, DimseNode)
    assert node.tls is not None
    assert node.tls.ca_file == str(tmp_path / "ca.pem")
    assert node.tls.key_file == str(tmp_path / "me.key")
    later = _dialog(qtbot, tmp_path, [], None)
    assert [f.text() for f in later.security.tls_files] == [
        str(tmp_path / n) for n in ("ca.pem", "me.pem", "me.key")
    ]
