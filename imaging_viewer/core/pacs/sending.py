"""Sending many files to a node in batches: progress, cancel between batches,
and one outcome per file even when the node stops answering half-way (the
instances it confirmed before stopping count as sent), so that a retry sends
only what was not confirmed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from imaging_viewer.core.pacs import remote
from imaging_viewer.core.pacs.dimse import SendOutcome
from imaging_viewer.core.pacs.errors import PacsError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from imaging_viewer.core.pacs.nodes import Node

__all__ = ["SEND_BATCH", "SendReport", "after_retry", "send_in_batches"]

SEND_BATCH = 32
"""Files per association (C-STORE) or per request (STOW-RS): small enough for
progress and a prompt cancel, large enough that the handshakes cost nothing."""


@dataclass
class SendReport:
    """What a send did, file by file (PS3.4 B.2.3 statuses, PS3.18 10.5.3)."""

    outcomes: list[SendOutcome] = field(default_factory=list)
    stopped: str = ""
    """Why the send stopped before the end ("" when every file was tried)."""
    cancelled: bool = False

    @property
    def sent(self) -> int:
        """Instances the node confirmed."""
        return sum(outcome.ok for outcome in self.outcomes)

    @property
    def failed(self) -> int:
        """Files not sent, refused or not confirmed."""
        return len(self.outcomes) - self.sent

    def not_confirmed(self) -> list[Path]:
        """The DICOM files the node did not confirm (refused, not answered,
        not sent): what "Retry failed" sends. Files that are not DICOM (no SOP
        Instance UID) would fail again and are left out."""
        return [
            Path(outcome.path)
            for outcome in self.outcomes
            if not outcome.ok and outcome.sop_instance_uid
        ]

    def summary(self) -> str:
        """``28 sent, 0 failed``, and why it stopped when it did."""
        text = f"{self.sent} sent, {self.failed} failed"
        if self.cancelled:
            return f"{text} (cancelled)"
        return f"{text}: {self.stopped}" if self.stopped else text


def after_retry(previous: SendReport, retry: SendReport) -> SendReport:
    """``previous`` with each file the retry tried replaced by its new outcome
    (same order); the retry says whether, and why, it stopped."""
    again = {outcome.path: outcome for outcome in retry.outcomes}
    return SendReport(
        [again.pop(outcome.path, outcome) for outcome in previous.outcomes]
        + list(again.values()),
        stopped=retry.stopped,
        cancelled=retry.cancelled,
    )


def _sop_instance_uid(path: Path) -> str:
    """The file's SOP Instance UID, or "" for what is not DICOM."""
    from pydicom import dcmread

    try:
        return str(
            dcmread(
                path, stop_before_pixels=True, specific_tags=["SOPInstanceUID"]
            ).get("SOPInstanceUID", "")
        )
    except Exception:  # not DICOM: the path says which file
        return ""


def _not_sent(paths: Sequence[Path], reason: str) -> list[SendOutcome]:
    return [
        SendOutcome(str(path), _sop_instance_uid(path), False, reason) for path in paths
    ]


def send_in_batches(
    node: Node,
    paths: Sequence[Path],
    *,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    batch: int = SEND_BATCH,
) -> SendReport:
    """C-STORE or STOW-RS ``paths`` to ``node``, ``batch`` files at a time.

    ``cancelled()`` is asked between batches; when it says yes, or the node
    fails (PacsError: unreachable, refused, unknown AE, HTTP 401, timeout),
    the files not confirmed are reported as failed with the reason, and the
    send stops. Never raises PacsError.
    """
    report = SendReport()
    total = len(paths)
    for start in range(0, total, batch):
        chunk = paths[start : start + batch]
        if cancelled is not None and cancelled():
            report.cancelled = True
            report.outcomes += _not_sent(paths[start:], "not sent (cancelled)")
            break

        def step(done: int, _total: int, offset: int = start) -> None:
            if progress is not None:
                progress(offset + done, total)

        try:
            report.outcomes += remote.send(node, chunk, progress=step)
        except PacsError as error:
            # Instances answered before the node stopped keep their outcome
            # (PS3.4 B.2.3 per C-STORE); only the others are "not sent".
            report.stopped = str(error)
            report.outcomes += error.outcomes
            answered = {outcome.path for outcome in error.outcomes}
            unanswered = [path for path in chunk if str(path) not in answered]
            report.outcomes += _not_sent(
                [*unanswered, *paths[start + batch :]], f"not sent: {error}"
            )
            break
        if progress is not None:
            progress(min(start + batch, total), total)
    return report
