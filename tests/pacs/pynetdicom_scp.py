"""PACS behaviours Orthanc cannot show, played by pynetdicom's own SCPs on
loopback: one that refuses C-GET (offers C-MOVE only) and one that aborts the
association in the middle of a C-GET."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pydicom
import pydicom.multival
from pynetdicom import AE, evt
from pynetdicom.sop_class import (
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelMove,
)

from tests.pacs.conftest import free_port

if TYPE_CHECKING:
    from collections.abc import Iterator

AET = "FAKEPACS"


@dataclass
class FakePacs:
    """A running pynetdicom SCP: its node string and the datasets it serves."""

    port: int
    datasets: list[pydicom.Dataset]
    abort_after: int | None = None
    sent: list[str] = field(default_factory=list)
    """SOP Instance UIDs sent by C-GET, in order."""

    @property
    def node(self) -> str:
        return f"{AET}@127.0.0.1:{self.port}"


def _matches(pacs: FakePacs, identifier: pydicom.Dataset) -> list[pydicom.Dataset]:
    """The datasets an identifier names: its study, and at IMAGE level its list
    of SOP Instance UIDs (PS3.4 C.4.2.2.1)."""
    wanted = str(identifier.StudyInstanceUID)
    matches = [ds for ds in pacs.datasets if str(ds.StudyInstanceUID) == wanted]
    sop_uids = identifier.get("SOPInstanceUID", "")
    if identifier.QueryRetrieveLevel == "IMAGE" and sop_uids:
        listed = {str(uid) for uid in pydicom.multival.MultiValue(str, sop_uids)}
        matches = [ds for ds in matches if str(ds.SOPInstanceUID) in listed]
    return matches


def _get_handler(pacs: FakePacs) -> Any:
    def handle(event: Any) -> Iterator[Any]:
        matches = _matches(pacs, event.identifier)
        yield len(matches)
        for sent, ds in enumerate(matches):
            if pacs.abort_after is not None and sent == pacs.abort_after:
                event.assoc.abort()  # the PACS stops mid-transfer
                return
            pacs.sent.append(str(ds.SOPInstanceUID))
            yield 0xFF00, ds

    return handle


def _find_handler(pacs: FakePacs) -> Any:
    def handle(event: Any) -> Iterator[Any]:
        for ds in _matches(pacs, event.identifier):
            answer = pydicom.Dataset()
            answer.QueryRetrieveLevel = event.identifier.QueryRetrieveLevel
            answer.StudyInstanceUID = ds.StudyInstanceUID
            answer.SeriesInstanceUID = ds.SeriesInstanceUID
            answer.SOPInstanceUID = ds.SOPInstanceUID
            yield 0xFF00, answer

    return handle


@contextlib.contextmanager
def fake_pacs(
    datasets: list[pydicom.Dataset], *, allow_get: bool, abort_after: int | None
) -> Iterator[FakePacs]:
    """A pynetdicom Q/R SCP on loopback, stopped when the block ends."""
    pacs = FakePacs(free_port(), datasets, abort_after)
    ae = AE(ae_title=AET)
    ae.add_supported_context(StudyRootQueryRetrieveInformationModelFind)
    ae.add_supported_context(StudyRootQueryRetrieveInformationModelMove)
    handlers = [(evt.EVT_C_FIND, _find_handler(pacs))]
    if allow_get:
        ae.add_supported_context(StudyRootQueryRetrieveInformationModelGet)
        # The storage sub-operations go back on the same association (PS3.4
        # C.4.3): accept the viewer's SCP role for the classes served.
        for sop_class in sorted({str(ds.SOPClassUID) for ds in datasets}):
            ae.add_supported_context(sop_class, scu_role=True, scp_role=True)
        handlers.append((evt.EVT_C_GET, _get_handler(pacs)))
    server = ae.start_server(
        ("127.0.0.1", pacs.port), block=False, evt_handlers=handlers
    )
    try:
        yield pacs
    finally:
        server.shutdown()
