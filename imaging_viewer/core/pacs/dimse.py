"""DIMSE with pynetdicom: C-ECHO, C-FIND, C-GET, C-MOVE (to our own storage SCP)
and C-STORE (PS3.4 Annexes A, B, C; PS3.7 9.1), with errors a person can act on.

Every call has timeouts (association, DIMSE, network), so nothing hangs; an
interrupted retrieve keeps what arrived (see :class:`~.sink.InstanceSink`).
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import UID, AllTransferSyntaxes
from pynetdicom import AE, StoragePresentationContexts, build_role, evt

from imaging_viewer.core.pacs.errors import PacsError
from imaging_viewer.core.pacs.negotiation import (
    association_batches,
    choose_syntax,
    recode,
    retrieve_contexts,
    syntax_name,
)
from imaging_viewer.core.pacs.query import Query, QueryResult, identifier
from imaging_viewer.core.pacs.query import result_from_dataset as _result

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from pathlib import Path

    from pynetdicom.association import Association

    from imaging_viewer.core.pacs.nodes import DimseNode
    from imaging_viewer.core.pacs.sink import InstanceSink

__all__ = [
    "RetrieveResult",
    "SendOutcome",
    "echo",
    "find",
    "retrieve",
    "send",
    "storage_contexts",
]

TIMEOUT_S: Final = 30.0
"""Association, DIMSE and network timeouts: a stopped peer is noticed in this time."""
CONNECT_TIMEOUT_S: Final = 5.0

# PS3.4 Annex A.4 and C.4: the SOP classes used (pynetdicom makes its names at
# run time, out of the type checker's sight).
Verification: Final = UID("1.2.840.10008.1.1")
StudyRootQueryRetrieveInformationModelFind: Final = UID("1.2.840.10008.5.1.4.1.2.2.1")
StudyRootQueryRetrieveInformationModelMove: Final = UID("1.2.840.10008.5.1.4.1.2.2.2")
StudyRootQueryRetrieveInformationModelGet: Final = UID("1.2.840.10008.5.1.4.1.2.2.3")

_SUCCESS: Final = 0x0000
_PENDING: Final = frozenset({0xFF00, 0xFF01})
_STATUS_TEXT: Final = {
    0xA700: "out of resources",
    0xA701: "out of resources (cannot count the matches)",
    0xA702: "out of resources (cannot do the sub-operations)",
    0xA801: "move destination unknown",
    0xA900: "the identifier does not match the SOP class",
    0xB000: "some sub-operations failed",
    0xFE00: "cancelled",
}


@dataclass(frozen=True)
class RetrieveResult:
    """A finished retrieve: sub-operations completed, failed, with warning."""

    completed: int
    failed: int
    warning: int
    received: int


@dataclass(frozen=True)
class SendOutcome:
    """The result of one C-STORE / STOW-RS instance: ``ok`` or why not."""

    path: str
    sop_instance_uid: str
    ok: bool
    message: str


def _status_text(status: int) -> str:
    if 0xC000 <= status <= 0xCFFF:
        return f"unable to process (status 0x{status:04X})"
    return f"{_STATUS_TEXT.get(status, 'failed')} (status 0x{status:04X})"


def _register_hint(node: DimseNode, port: int | None = None) -> str:
    where = f", port {port}" if port is not None else ""
    return (
        f"register AE {node.calling_aet!r} (this computer's host{where}) at the "
        f"PACS {node.describe()}"
    )


def _check_reachable(node: DimseNode) -> None:
    """A TCP connection first, to tell an unreachable node from a refusing one."""
    try:
        with socket.create_connection((node.host, node.port), CONNECT_TIMEOUT_S):
            pass
    except socket.gaierror as error:
        raise PacsError(f"unknown host {node.host!r} ({error.strerror})") from error
    except ConnectionRefusedError as error:
        raise PacsError(
            f"cannot reach {node.describe()}: connection refused (is the PACS "
            "running, and is the port right?)"
        ) from error
    except TimeoutError as error:
        raise PacsError(
            f"cannot reach {node.describe()}: no answer in {CONNECT_TIMEOUT_S:g} s "
            "(host down or a firewall in between?)"
        ) from error
    except OSError as error:
        raise PacsError(
            f"cannot reach {node.describe()}: {error.strerror or error}"
        ) from error


def _tls_args(node: DimseNode) -> tuple[ssl.SSLContext, str] | None:
    if node.tls is None:
        return None
    try:
        context = ssl.create_default_context(
            ssl.Purpose.SERVER_AUTH, cafile=node.tls.ca_file or None
        )
        if node.tls.cert_file:
            context.load_cert_chain(node.tls.cert_file, node.tls.key_file or None)
    except (OSError, ssl.SSLError) as error:
        raise PacsError(f"TLS set-up failed: {error}") from error
    return context, node.host


def _application_entity(node: DimseNode) -> AE:
    ae = AE(ae_title=node.calling_aet)
    ae.acse_timeout = TIMEOUT_S
    ae.dimse_timeout = TIMEOUT_S
    ae.network_timeout = TIMEOUT_S
    ae.connection_timeout = CONNECT_TIMEOUT_S
    return ae


def _associate(
    ae: AE,
    node: DimseNode,
    *,
    ext_neg: list[Any] | None = None,
    handlers: list[Any] | None = None,
    when_refused: str = "",
) -> Association:
    """An association, or PacsError naming the cause; ``when_refused`` is the
    message when the node answers but accepts none of the contexts asked."""
    _check_reachable(node)
    tls = _tls_args(node)
    try:
        assoc = ae.associate(
            node.host,
            node.port,
            ae_title=node.called_aet,
            ext_neg=ext_neg,
            evt_handlers=handlers,
            tls_args=tls,
        )
    except ssl.SSLError as error:
        raise PacsError(f"TLS failure with {node.describe()}: {error}") from error
    if assoc.is_established:
        return assoc
    if assoc.rejected_contexts and not assoc.accepted_contexts:
        raise PacsError(
            when_refused
            or f"{node.describe()} accepts none of the services asked of it"
        )
    if assoc.is_rejected:
        raise PacsError(
            f"{node.describe()} rejected the association from AE "
            f"{node.calling_aet!r}: {_register_hint(node)}, and check its AE title "
            f"is {node.called_aet!r}"
        )
    if tls is not None:
        raise PacsError(
            f"no association with {node.describe()} over TLS: check the CA, "
            "certificate and key, and that the port speaks TLS"
        )
    raise PacsError(
        f"{node.describe()} aborted or did not answer the association request "
        f"in {TIMEOUT_S:g} s (is it a DICOM port?)"
    )


def echo(node: DimseNode) -> None:
    """C-ECHO (PS3.7 9.1.5): returns when the node answers success."""
    ae = _application_entity(node)
    ae.add_requested_context(Verification)
    assoc = _associate(ae, node)
    try:
        status = assoc.send_c_echo()
    finally:
        assoc.release()
    code = status.get("Status") if status else None
    if code != _SUCCESS:
        raise PacsError(
            f"{node.describe()} did not answer the C-ECHO"
            + (f": {_status_text(code)}" if code is not None else "")
        )


def find(node: DimseNode, query: Query) -> tuple[list[QueryResult], bool]:
    """C-FIND at study or series level; returns the results and whether there
    were more than ``query.limit`` (the rest cancelled, PS3.7 9.3.2.3).

    At series level without a study UID, studies are found first and each is
    asked for its series (the Study Root model is hierarchical, PS3.4 C.4.1.1).
    """
    ae = _application_entity(node)
    ae.add_requested_context(StudyRootQueryRetrieveInformationModelFind)
    assoc = _associate(ae, node)
    try:
        if query.level == "study" or query.study_uid:
            parents: list[QueryResult | None] = [None]
            if query.level == "series":
                study_query = Query(study_uid=query.study_uid)
                parents = list(_find(assoc, node, study_query, None)[0]) or [None]
            results: list[QueryResult] = []
            more = False
            for parent in parents:
                found, more = _find(assoc, node, query, parent, len(results))
                results.extend(found)
            return results, more
        studies, _ = _find(assoc, node, _replace_level(query, "study"), None)
        results = []
        more = False
        for study in studies:
            found, more = _find(
                assoc,
                node,
                _replace_level(query, "series", study_uid=study.study_uid),
                study,
                len(results),
            )
            results.extend(found)
            if more:
                break
        return results, more
    finally:
        if assoc.is_established:
            assoc.release()


def _replace_level(query: Query, level: str, study_uid: str = "") -> Query:
    from dataclasses import replace

    if level == "study":
        return replace(query, level="study", modality="", limit=None)
    return replace(
        query,
        level="series",
        study_uid=study_uid,
        patient_id="",
        patient_name="",
        date="",
        accession="",
    )


def _find(
    assoc: Association,
    node: DimseNode,
    query: Query,
    parent: QueryResult | None,
    already: int = 0,
) -> tuple[list[QueryResult], bool]:
    results: list[QueryResult] = []
    more = False
    responses = assoc.send_c_find(
        identifier(query), StudyRootQueryRetrieveInformationModelFind
    )
    for status, found in responses:
        if not status:
            raise PacsError(
                f"{node.describe()} stopped answering the C-FIND (association "
                "aborted or timed out)"
            )
        code = status.Status
        if code in _PENDING and found is not None:
            if query.limit is not None and already + len(results) >= query.limit:
                more = True
                assoc.send_c_cancel(1, None, StudyRootQueryRetrieveInformationModelFind)
                continue
            results.append(_result(found, query.level, parent))
        elif code not in (_SUCCESS, 0xFE00):
            raise PacsError(
                f"{node.describe()} refused the C-FIND: {_status_text(code)}"
                + (f"; {_register_hint(node)}" if 0xC000 <= code <= 0xCFFF else "")
            )
    return results, more


def _retrieve_identifier(study_uid: str, series_uid: str) -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = "SERIES" if series_uid else "STUDY"
    ds.StudyInstanceUID = study_uid
    if series_uid:
        ds.SeriesInstanceUID = series_uid
    return ds


def retrieve(
    node: DimseNode,
    study_uid: str,
    sink: InstanceSink,
    *,
    series_uid: str = "",
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> RetrieveResult:
    """C-GET (``node.move_port`` None) or C-MOVE to our storage SCP on that port.

    ``progress(done, total)`` follows the sub-operation counts (PS3.4 C.4.2.1.6);
    ``cancelled()`` is polled at each: the association is aborted, what arrived is
    kept. Raises PacsError when the node refuses, stops mid-transfer or finds
    nothing; ``sink.finish()`` is called either way.
    """
    try:
        identifiers = [_retrieve_identifier(study_uid, series_uid)]
        kept = _kept_instances(sink, study_uid)
        if kept:
            # A retry: ask only for what is missing (PS3.4 C.4.2.2.1, a list
            # of SOP Instance UIDs at IMAGE level), per series.
            missing = _missing_instances(node, study_uid, series_uid, kept)
            if not missing:
                return RetrieveResult(0, 0, 0, 0)
            identifiers = [
                _instances_identifier(study_uid, series, sop_uids)
                for series, sop_uids in sorted(missing.items())
            ]
        result = RetrieveResult(0, 0, 0, 0)
        for ds in identifiers:
            if node.move_port is None:
                step = _get(node, ds, sink, progress, cancelled)
            else:
                step = _move(node, ds, sink, progress, cancelled)
            result = RetrieveResult(
                result.completed + step.completed,
                result.failed + step.failed,
                result.warning + step.warning,
                len(sink.received),
            )
        return result
    finally:
        sink.finish()


def _kept_instances(sink: InstanceSink, study_uid: str) -> set[str]:
    if sink.database is None:
        return set()
    return sink.database.study_sop_instance_uids(study_uid)


def _missing_instances(
    node: DimseNode, study_uid: str, series_uid: str, kept: set[str]
) -> dict[str, list[str]]:
    """The node's instances of the study (or series) not in ``kept``, by series:
    an IMAGE-level C-FIND (PS3.4 C.6.2.1.1)."""
    ae = _application_entity(node)
    ae.add_requested_context(StudyRootQueryRetrieveInformationModelFind)
    assoc = _associate(ae, node)
    request = Dataset()
    request.QueryRetrieveLevel = "IMAGE"
    request.StudyInstanceUID = study_uid
    request.SeriesInstanceUID = series_uid
    request.SOPInstanceUID = ""
    missing: dict[str, list[str]] = {}
    try:
        responses = assoc.send_c_find(
            request, StudyRootQueryRetrieveInformationModelFind
        )
        for status, found in responses:
            if not status:
                raise PacsError(
                    f"{node.describe()} stopped answering the C-FIND of the "
                    "instances to retrieve again"
                )
            if status.Status in _PENDING and found is not None:
                sop_uid = str(found.get("SOPInstanceUID", ""))
                if sop_uid and sop_uid not in kept:
                    series = str(found.get("SeriesInstanceUID", "")) or series_uid
                    missing.setdefault(series, []).append(sop_uid)
    finally:
        if assoc.is_established:
            assoc.release()
    return missing


def _instances_identifier(
    study_uid: str, series_uid: str, sop_uids: list[str]
) -> Dataset:
    ds = _retrieve_identifier(study_uid, series_uid)
    ds.QueryRetrieveLevel = "IMAGE"
    ds.SOPInstanceUID = sop_uids
    return ds


def _store_handler(sink: InstanceSink) -> Callable[[Any], int]:
    def handle(event: Any) -> int:
        try:
            sink.store_encoded(event.dataset, event.encoded_dataset())
        except OSError:
            return 0xA700  # out of resources: the disk is full or not writable
        return _SUCCESS

    return handle


def storage_contexts(ae: AE, *, as_scp: bool, known: Iterable[str] = ()) -> list[Any]:
    """Storage contexts: as the SCP role of a C-GET, the SOP classes ``known``
    to come one context per decodable transfer syntax, then every other storage
    SOP class pynetdicom knows with any syntax, leaving room for the Q/R context
    (see :func:`.negotiation.retrieve_contexts`); as a storage SCP, every storage
    SOP class in any syntax: files arrive as the archive keeps them."""
    classes: list[str] = [
        context.abstract_syntax
        for context in StoragePresentationContexts
        if context.abstract_syntax is not None
    ]
    if not as_scp:
        for sop_class in classes[:120]:
            ae.add_supported_context(sop_class, AllTransferSyntaxes)
        return []
    roles: dict[str, Any] = {}
    syntaxes_all: list[str] = list(AllTransferSyntaxes)
    for sop_class, syntaxes in retrieve_contexts(known, classes, syntaxes_all):
        ae.add_requested_context(sop_class, syntaxes)
        if sop_class not in roles:
            roles[sop_class] = build_role(sop_class, scp_role=True)
    return list(roles.values())


def _classes_in_study(node: DimseNode, study_uid: str) -> list[str]:
    """The study's SOP Classes in Study (PS3.4 C.6.2.1.2, an optional key): the
    classes a C-GET will bring; empty when the node does not say."""
    ae = _application_entity(node)
    ae.add_requested_context(StudyRootQueryRetrieveInformationModelFind)
    request = Dataset()
    request.QueryRetrieveLevel = "STUDY"
    request.StudyInstanceUID = study_uid
    request.SOPClassesInStudy = ""
    classes: list[str] = []
    try:
        assoc = _associate(ae, node)
    except PacsError:
        return classes
    try:
        responses = assoc.send_c_find(
            request, StudyRootQueryRetrieveInformationModelFind
        )
        for status, found in responses:
            if status and status.Status in _PENDING and found is not None:
                value = found.get("SOPClassesInStudy") or []
                values = [value] if isinstance(value, str) else list(value)
                classes += [str(uid) for uid in values if str(uid)]
    finally:
        if assoc.is_established:
            assoc.release()
    return classes


def _follow(
    responses: Iterable[tuple[Dataset, Dataset | None]],
    assoc: Association,
    node: DimseNode,
    sink: InstanceSink,
    what: str,
    progress: Callable[[int, int], None] | None,
    cancelled: Callable[[], bool] | None,
) -> RetrieveResult:
    completed = failed = warning = 0
    final: int | None = None
    for status, _ in responses:
        if cancelled is not None and cancelled():
            assoc.abort()
            raise PacsError(
                f"cancelled: {len(sink.received)} instance(s) kept",
                received=len(sink.received),
            )
        if not status:
            break
        code = status.Status
        completed = int(status.get("NumberOfCompletedSuboperations", completed) or 0)
        failed = int(status.get("NumberOfFailedSuboperations", failed) or 0)
        warning = int(status.get("NumberOfWarningSuboperations", warning) or 0)
        remaining = status.get("NumberOfRemainingSuboperations")
        if code in _PENDING:
            if progress is not None and remaining is not None:
                done = completed + failed + warning
                progress(done, done + int(remaining))
            continue
        final = code
    received = len(sink.received)
    if final is None:
        raise PacsError(
            f"{node.describe()} stopped during the {what} after {received} "
            "instance(s): they are kept; run the same retrieve again to finish",
            received=received,
        )
    if final == 0xA801:
        raise PacsError(
            f"{node.describe()} does not know the move destination "
            f"{node.calling_aet!r}: {_register_hint(node, node.move_port)}"
        )
    if 0xC000 <= final <= 0xCFFF and received == 0 and completed == 0:
        # Orthanc, for one, answers an unknown UID with "unable to process".
        raise PacsError(
            f"nothing found to retrieve on {node.describe()} (it answered: "
            f"{_status_text(final)}); check the UIDs with find"
        )
    if final not in (_SUCCESS, 0xB000):
        raise PacsError(f"{node.describe()} refused the {what}: {_status_text(final)}")
    if received == 0 and completed == 0:
        raise PacsError(f"nothing found to retrieve on {node.describe()}")
    if progress is not None:
        progress(completed + failed + warning, completed + failed + warning)
    return RetrieveResult(completed, failed, warning, received)


def _get(
    node: DimseNode,
    request: Dataset,
    sink: InstanceSink,
    progress: Callable[[int, int], None] | None,
    cancelled: Callable[[], bool] | None,
) -> RetrieveResult:
    ae = _application_entity(node)
    ae.add_requested_context(StudyRootQueryRetrieveInformationModelGet)
    known = _classes_in_study(node, str(request.StudyInstanceUID))
    roles = storage_contexts(ae, as_scp=True, known=known)
    no_get = (
        f"{node.describe()} does not support C-GET: retrieve by C-MOVE "
        f"(--move PORT) after you {_register_hint(node)}"
    )
    assoc = _associate(
        ae,
        node,
        ext_neg=roles,
        handlers=[(evt.EVT_C_STORE, _store_handler(sink))],
        when_refused=no_get,
    )
    try:
        if not any(
            context.abstract_syntax == StudyRootQueryRetrieveInformationModelGet
            for context in assoc.accepted_contexts
        ):
            raise PacsError(no_get)
        responses = assoc.send_c_get(
            request,
            StudyRootQueryRetrieveInformationModelGet,
        )
        return _follow(responses, assoc, node, sink, "C-GET", progress, cancelled)
    finally:
        if assoc.is_established:
            assoc.release()


def _move(
    node: DimseNode,
    request: Dataset,
    sink: InstanceSink,
    progress: Callable[[int, int], None] | None,
    cancelled: Callable[[], bool] | None,
) -> RetrieveResult:
    """C-MOVE with our storage SCP listening on ``node.move_port`` only meanwhile."""
    assert node.move_port is not None
    scp = _application_entity(node)
    storage_contexts(scp, as_scp=False)
    try:
        server = scp.start_server(
            ("", node.move_port),
            block=False,
            evt_handlers=[(evt.EVT_C_STORE, _store_handler(sink))],
        )
        assert server is not None  # not blocking: the server is returned
    except OSError as error:
        raise PacsError(
            f"cannot receive on port {node.move_port}: {error.strerror or error} "
            "(another program uses it? choose another --move port)"
        ) from error
    try:
        ae = _application_entity(node)
        ae.add_requested_context(StudyRootQueryRetrieveInformationModelMove)
        assoc = _associate(ae, node)
        try:
            responses = assoc.send_c_move(
                request,
                node.calling_aet,
                StudyRootQueryRetrieveInformationModelMove,
            )
            return _follow(responses, assoc, node, sink, "C-MOVE", progress, cancelled)
        finally:
            if assoc.is_established:
                assoc.release()
    finally:
        server.shutdown()


def send(
    node: DimseNode,
    paths: Iterable[Path],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> list[SendOutcome]:
    """C-STORE each file (PS3.4 Annex B); the outcome of every instance.

    Each file goes in its own transfer syntax when the node accepts it, else
    decompressed to an uncompressed one (see :mod:`.negotiation`); the outcome
    says which ("stored, sent as JPEG Lossless", "stored, decompressed: …").
    """
    files: list[tuple[Path, Dataset]] = []
    pairs: list[tuple[str, str]] = []
    outcomes: list[SendOutcome] = []
    for path in paths:
        try:
            read: Dataset = dcmread(path, stop_before_pixels=True)
            sop_class = str(read.SOPClassUID)
            syntax = str(read.file_meta.TransferSyntaxUID)
        except Exception as error:
            outcomes.append(SendOutcome(str(path), "", False, f"not DICOM ({error})"))
            continue
        files.append((path, read))
        pairs.append((sop_class, syntax))
    batches = association_batches(pairs)
    done = 0
    for batch in batches:
        ae = _application_entity(node)
        for sop_class, syntaxes in batch.items():
            for syntax in syntaxes:
                ae.add_requested_context(sop_class, syntax)
        assoc = _associate(ae, node)
        try:
            for path, header in files:
                if str(header.SOPClassUID) not in batch:
                    continue
                outcome = _store(assoc, path, header)
                if outcome is None:
                    raise PacsError(
                        f"{node.describe()} stopped during the send after {done} "
                        "instance(s): send again to finish",
                        outcomes=outcomes,
                    )
                outcomes.append(outcome)
                done += 1
                if progress is not None:
                    progress(done, len(files))
        finally:
            if assoc.is_established:
                assoc.release()
    return outcomes


def _store(assoc: Association, path: Path, header: Dataset) -> SendOutcome | None:
    """One C-STORE in the best syntax the node accepted; None when the
    association stopped (no response)."""
    uid = str(header.get("SOPInstanceUID", ""))
    sop_class = str(header.SOPClassUID)
    syntax = str(header.file_meta.TransferSyntaxUID)
    accepted = {
        (str(context.abstract_syntax), str(context.transfer_syntax[0]))
        for context in assoc.accepted_contexts
    }
    target = choose_syntax(sop_class, syntax, accepted)
    if target is None:
        return SendOutcome(
            str(path),
            uid,
            False,
            f"the PACS does not accept {UID(sop_class).name or sop_class} "
            f"(in {syntax_name(syntax)} or uncompressed)",
        )
    try:
        dataset: Dataset = dcmread(path)
        recoding = recode(dataset, target)
    except Exception as error:
        return SendOutcome(
            str(path),
            uid,
            False,
            f"cannot decompress {syntax_name(syntax)}, which the PACS does not "
            f"accept ({error})",
        )
    try:
        status = assoc.send_c_store(dataset)
    except (ValueError, RuntimeError, AttributeError) as error:
        return SendOutcome(str(path), uid, False, str(error))
    if not status:
        return None
    code = status.Status
    ok = code == _SUCCESS or 0xB000 <= code <= 0xBFFF
    return SendOutcome(
        str(path), uid, ok, recoding.message if ok else _status_text(code)
    )
