"""PACS behaviours Orthanc cannot show, played by pynetdicom's own SCPs on
loopback: one that refuses C-GET (offers C-MOVE only) and one that aborts the
association in the middle of a C-GET."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pynetdicom import AE, evt
from pynetdicom.sop_class import (
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelMove,
)

from tests.pacs.conftest import free_port

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pydicom

AET = "FAKEPACS"


@dataclass
class FakePacs:
    """A running pynetdicom SCP: its node string and the datasets it serves."""

    port: int
    datasets: list[pydicom.Dataset]
    abort_after: int | None = None

    @property
    def node(self) -> str:
        return f"{AET}@127.0.0.1:{self.port}"


def _get_handler(pacs: FakePacs) -> Any:
    def handle(event: Any) -> Iterator[Any]:
        wanted = str(event.identifier.StudyInstanceUID)
        matches = [ds for ds in pacs.datasets if str(ds.StudyInstanceUID) == wanted]
        yield len(matches)
        for sent, ds in enumerate(matches):
            if pacs.abort_after is not None and sent == pacs.abort_after:
                event.assoc.abort()  # the PACS stops mid-transfer
                return
            yield 0xFF00, ds

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
    handlers = []
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
