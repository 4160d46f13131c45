"""Send to PACS interrupted mid-send (Orthanc killed, issue 14 item 7): the
instances Orthanc confirmed before it stopped count as sent (one C-STORE
response per instance, PS3.4 B.2.3; one STOW-RS response per request, PS3.18
10.5.3), "Retry failed" sends only the others once Orthanc is back, and at the
end Orthanc holds every instance exactly once, as its own REST API lists them
and pydicom reads the files sent."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pydicom
import pytest

from imaging_viewer.core.pacs import remote
from imaging_viewer.core.pacs.nodes import parse_node, save_nodes
from imaging_viewer.ui.dialogs.send_dialog import SendChoice, SendDialog
from tests.pacs.conftest import PASSWORD, USER, Orthanc, start_orthanc, stop_orthanc

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from pytestqt.qtbot import QtBot

GE_CT = Path("dcm_qa_ct/In/GE")


@pytest.fixture
def orthanc_folder(tmp_path: Path) -> Iterator[list[Orthanc]]:
    """The Orthanc of the test (started again on the same storage), stopped at
    the end whatever happened."""
    (tmp_path / "orthanc").mkdir()
    running = [start_orthanc(tmp_path / "orthanc")]
    yield running
    stop_orthanc(running[-1])


def _uid(path: Path) -> str:
    return str(pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID)


def _stored(orthanc: Orthanc) -> list[str]:
    """SOP Instance UIDs of every instance Orthanc holds (repeats kept)."""
    found = orthanc.rest("/instances?expand")
    assert isinstance(found, list)
    return [str(i["MainDicomTags"]["SOPInstanceUID"]) for i in found]


def _configure(path: Path, orthanc: Orthanc, web: bool) -> None:
    node = (
        parse_node(orthanc.dicomweb_url, user=USER, configured={})
        if web
        else parse_node(orthanc.node, configured={})
    )
    save_nodes({"pacs": replace(node, name="pacs")}, path)


def _kill_after(
    monkeypatch: pytest.MonkeyPatch, orthanc: Orthanc, confirmed: int
) -> list[list[str]]:
    """Kill Orthanc once ``confirmed`` instances have been answered (in the
    sending thread, between two instances); returns the files of every call
    to ``remote.send``, batch by batch."""
    real = remote.send
    calls: list[list[str]] = []
    answered = [0]

    def spy(
        node: Any, paths: Any, *, progress: Callable[..., None] | None = None
    ) -> list[Any]:
        paths = list(paths)
        calls.append([str(p) for p in paths])
        before = answered[0]

        def step(done: int, total: int) -> None:
            answered[0] = before + done
            if progress is not None:
                progress(done, total)
            if answered[0] >= confirmed and orthanc.process.poll() is None:
                orthanc.process.kill()
                orthanc.process.wait()

        return real(node, paths, progress=step)

    monkeypatch.setattr(remote, "send", spy)
    return calls


def _dialog(qtbot: QtBot, files: list[Path], nodes: Path) -> SendDialog:
    dialog = SendDialog(
        [SendChoice("the files", lambda: files)],
        nodes_file=nodes,
        ask_secret=lambda prompt: PASSWORD,
    )
    qtbot.addWidget(dialog)
    return dialog


def _wait(qtbot: QtBot, dialog: SendDialog) -> None:
    assert dialog.busy
    qtbot.waitUntil(lambda: not dialog.busy, timeout=60_000)


def _send_killed_then_retry(
    qtbot: QtBot,
    monkeypatch: pytest.MonkeyPatch,
    running: list[Orthanc],
    files: list[Path],
    *,
    web: bool,
    kill_after: int,
    batch: int,
) -> tuple[SendDialog, set[str], list[list[str]]]:
    nodes = running[0].folder.parent / "nodes.json"
    _configure(nodes, running[0], web)
    calls = _kill_after(monkeypatch, running[0], kill_after)
    dialog = _dialog(qtbot, files, nodes)
    dialog.batch = batch
    dialog.send()
    _wait(qtbot, dialog)

    report = dialog.report
    assert report is not None
    assert report.stopped
    assert "Traceback" not in dialog.status.text()
    assert len(report.outcomes) == len(files)
    confirmed = {o.sop_instance_uid for o in report.outcomes if o.ok}
    assert len(confirmed) >= kill_after
    assert dialog.retry_button.isEnabled()
    assert report.not_confirmed()

    running.append(start_orthanc(running[0].folder))  # same storage, back up
    stop_orthanc(running[0])  # already dead: only reaped
    stored = set(_stored(running[-1]))
    assert confirmed <= stored  # what was confirmed had arrived
    _configure(nodes, running[-1], web)
    calls.clear()
    dialog.retry_failed()
    _wait(qtbot, dialog)
    return dialog, confirmed, calls


def test_c_store_killed_mid_batch_retry_sends_only_the_unconfirmed(
    qtbot: QtBot,
    monkeypatch: pytest.MonkeyPatch,
    orthanc_folder: list[Orthanc],
    corpus: Path,
) -> None:
    files = sorted((corpus / GE_CT).iterdir())
    dialog, confirmed, retried = _send_killed_then_retry(
        qtbot, monkeypatch, orthanc_folder, files, web=False, kill_after=11, batch=8
    )

    assert 11 <= len(confirmed) < 16  # stopped in the middle of the 2nd batch
    everything = {_uid(f) for f in files}
    sent_again = {_uid(Path(p)) for call in retried for p in call}
    assert sent_again == everything - confirmed
    assert dialog.status.text() == f"{len(files)} sent, 0 failed"
    assert dialog.results.topLevelItemCount() == len(files)
    assert not dialog.retry_button.isEnabled()
    stored = _stored(orthanc_folder[-1])
    assert sorted(stored) == sorted(everything)  # each exactly once


def test_stow_rs_killed_between_studies_retry_sends_only_the_unconfirmed(
    qtbot: QtBot,
    monkeypatch: pytest.MonkeyPatch,
    orthanc_folder: list[Orthanc],
    corpus: Path,
    sample_data: Path,
) -> None:
    first = sorted((sample_data / "CT").iterdir())
    files = first + sorted((corpus / GE_CT).iterdir())
    dialog, confirmed, retried = _send_killed_then_retry(
        qtbot,
        monkeypatch,
        orthanc_folder,
        files,
        web=True,
        kill_after=len(first),
        batch=len(files),  # both studies in one batch: two STOW-RS requests
    )

    assert confirmed == {_uid(f) for f in first}  # the first study's response
    everything = {_uid(f) for f in files}
    sent_again = {_uid(Path(p)) for call in retried for p in call}
    assert sent_again == everything - confirmed
    assert dialog.status.text() == f"{len(files)} sent, 0 failed"
    assert sorted(_stored(orthanc_folder[-1])) == sorted(everything)
