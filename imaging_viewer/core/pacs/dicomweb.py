"""DICOMweb with dicomweb-client: QIDO-RS, WADO-RS and STOW-RS (PS3.18 10.4-10.6),
no authentication, HTTP basic or a bearer token; errors a person can act on."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import requests
from dicomweb_client.api import DICOMwebClient
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from imaging_viewer.core.pacs.dimse import RetrieveResult, SendOutcome
from imaging_viewer.core.pacs.errors import PacsError
from imaging_viewer.core.pacs.query import Query, QueryResult, result_from_dataset

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from pathlib import Path

    from imaging_viewer.core.pacs.nodes import WebNode
    from imaging_viewer.core.pacs.sink import InstanceSink

__all__ = ["echo", "find", "retrieve", "send"]

TIMEOUT_S: Final = 30.0


class _TimeoutSession(requests.Session):
    def request(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", TIMEOUT_S)
        return super().request(*args, **kwargs)


def _session(node: WebNode) -> requests.Session:
    session = _TimeoutSession()
    if node.token:
        session.headers["Authorization"] = f"Bearer {node.token}"
    elif node.user:
        session.auth = (node.user, node.password)
    return session


def _client(node: WebNode) -> DICOMwebClient:
    return DICOMwebClient(url=node.base_url, session=_session(node))


def _failure(node: WebNode, error: Exception, what: str) -> PacsError:
    if isinstance(error, requests.HTTPError) and error.response is not None:
        code = error.response.status_code
        if code == 401:
            return PacsError(
                f"{node.base_url}: authentication failed (HTTP 401): check --user "
                "and --password, or --token"
            )
        if code == 403:
            return PacsError(
                f"{node.base_url}: access forbidden (HTTP 403): this account may "
                f"not {what}"
            )
        if code == 404:
            return PacsError(
                f"{node.base_url}: not found (HTTP 404): is this the DICOMweb base "
                "URL (often ending in /dicom-web)?"
            )
        return PacsError(f"{node.base_url}: {what} failed (HTTP {code})")
    if isinstance(error, requests.Timeout):
        return PacsError(f"{node.base_url}: no answer in {TIMEOUT_S:g} s")
    if isinstance(error, requests.exceptions.SSLError):
        return PacsError(f"{node.base_url}: TLS failure ({error})")
    if isinstance(error, requests.ConnectionError):
        return PacsError(
            f"cannot reach {node.base_url}: is the server running and the URL right?"
        )
    return PacsError(f"{node.base_url}: {what} failed ({error})")


def echo(node: WebNode) -> None:
    """A QIDO-RS request for one study: the server answers and accepts us."""
    try:
        _client(node).search_for_studies(limit=1)
    except (requests.RequestException, ValueError) as error:
        raise _failure(node, error, "search") from error


def _search_filters(query: Query) -> dict[str, str]:
    filters = {
        "PatientID": query.patient_id,
        "PatientName": query.patient_name,
        "StudyDate": query.date,
        "AccessionNumber": query.accession,
        "StudyInstanceUID": query.study_uid,
    }
    if query.level == "study":
        filters["ModalitiesInStudy"] = query.modality
        filters["StudyDescription"] = query.description
    else:
        filters["Modality"] = query.modality
        filters["SeriesDescription"] = query.description
    return {key: value for key, value in filters.items() if value}


def find(node: WebNode, query: Query) -> tuple[list[QueryResult], bool]:
    """QIDO-RS at study or series level (PS3.18 10.6); results, and whether there
    were more than ``query.limit``."""
    client = _client(node)
    limit = query.limit + 1 if query.limit is not None else None
    fields = ["StudyDescription", "NumberOfStudyRelatedInstances"]
    try:
        if query.level == "study":
            found = client.search_for_studies(
                search_filters=_search_filters(query), fields=fields, limit=limit
            )
        else:
            found = client.search_for_series(
                study_instance_uid=query.study_uid or None,
                search_filters=_search_filters(query),
                fields=[
                    "PatientID",
                    "PatientName",
                    "StudyDate",
                    "NumberOfSeriesRelatedInstances",
                ],
                limit=limit,
            )
    except (requests.RequestException, ValueError) as error:
        raise _failure(node, error, "search") from error
    results = [
        result_from_dataset(Dataset.from_json(item), query.level) for item in found
    ]
    if query.limit is not None and len(results) > query.limit:
        return results[: query.limit], True
    return results, False


# Any transfer syntax: the instances as the archive keeps them, not transcoded
# (PS3.18 8.7.3.5.2); each part is a Part 10 file.
_ACCEPT_DICOM: Final = 'multipart/related; type="application/dicom"; transfer-syntax=*'
_CHUNK_BYTES: Final = 1 << 20


def _boundary(content_type: str) -> bytes:
    media_type, *parameters = (item.strip() for item in content_type.split(";"))
    if media_type.lower() != "multipart/related":
        raise ValueError(f"unexpected answer {media_type!r}, not multipart/related")
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "boundary":
            return value.strip().strip('"').encode("ascii")
    raise ValueError("multipart answer without a boundary")


def _part_body(part: bytes | bytearray) -> bytes:
    """The body of one MIME part (after its header lines and blank line)."""
    header_end = part.find(b"\r\n\r\n")
    return bytes(part[header_end + 4 :]) if header_end >= 0 else bytes(part)


def iter_parts(response: requests.Response) -> Iterator[bytes]:
    """The bodies of a multipart/related answer (RFC 2387) as they stream in."""
    delimiter = b"\r\n--" + _boundary(response.headers.get("Content-Type", ""))
    data = bytearray(b"\r\n")  # the first boundary has no CRLF before it
    search_from = 0
    started = False
    for chunk in response.iter_content(chunk_size=_CHUNK_BYTES):
        data += chunk
        while (found := data.find(delimiter, search_from)) >= 0:
            if started:
                yield _part_body(data[:found])
            started = True
            del data[: found + len(delimiter)]
            search_from = 0
        search_from = max(0, len(data) - len(delimiter) + 1)
    if started and not data.startswith(b"--"):
        # No close delimiter (RFC 2046 5.1.1): the server stopped mid-answer.
        raise ValueError("the answer ended before its last part")


def retrieve(
    node: WebNode,
    study_uid: str,
    sink: InstanceSink,
    *,
    series_uid: str = "",
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    expected: int = 0,
) -> RetrieveResult:
    """WADO-RS of a study or series (PS3.18 10.4): each instance written as it
    streams in, as received (no decoding), in any transfer syntax.

    A retry into a database that already holds part of the study asks only for
    what is missing: the instances QIDO-RS lists (PS3.18 10.6) less those kept,
    a whole series by its series URL, else instance by instance.

    ``progress(done, total)``: ``total`` is ``expected`` (the instance count a
    query found) when given, else what has arrived so far.
    """
    base = f"{node.base_url.rstrip('/')}/studies/{study_uid}"
    session = _session(node)
    try:
        urls = [f"{base}/series/{series_uid}" if series_uid else base]
        kept = _kept_instances(sink, study_uid)
        if kept:
            urls = _missing_urls(node, study_uid, series_uid, kept)
            if not urls:
                return RetrieveResult(0, 0, 0, 0)
            expected = expected or len(urls)
        for url in urls:
            _stream(session, url, sink, progress, cancelled, expected)
    except (requests.RequestException, ValueError) as error:
        received = len(sink.received)
        failure = _failure(node, error, "retrieve")
        if received:
            failure = PacsError(
                f"{failure} after {received} instance(s): they are kept; run the "
                "same retrieve again to finish",
                received=received,
            )
        raise failure from error
    finally:
        sink.finish()
    if not sink.received:
        raise PacsError(f"nothing found to retrieve on {node.base_url}")
    return RetrieveResult(len(sink.received), 0, 0, len(sink.received))


def _kept_instances(sink: InstanceSink, study_uid: str) -> set[str]:
    if sink.database is None:
        return set()
    return sink.database.study_sop_instance_uids(study_uid)


def _missing_urls(
    node: WebNode, study_uid: str, series_uid: str, kept: set[str]
) -> list[str]:
    """The WADO-RS URLs of what the server has and ``kept`` lacks: a series URL
    when none of its instances is kept, else one URL per missing instance."""
    found = _client(node).search_for_instances(
        study_instance_uid=study_uid,
        series_instance_uid=series_uid or None,
        fields=["SeriesInstanceUID", "SOPInstanceUID"],
        get_remaining=True,
    )
    by_series: dict[str, list[str]] = {}
    for item in found:
        ds = Dataset.from_json(item)
        by_series.setdefault(str(ds.get("SeriesInstanceUID", "")), []).append(
            str(ds.get("SOPInstanceUID", ""))
        )
    base = f"{node.base_url.rstrip('/')}/studies/{study_uid}"
    urls: list[str] = []
    for series, sop_uids in sorted(by_series.items()):
        missing = [uid for uid in sop_uids if uid and uid not in kept]
        if len(missing) == len(sop_uids):
            urls.append(f"{base}/series/{series}")
        else:
            urls += [f"{base}/series/{series}/instances/{uid}" for uid in missing]
    return urls


def _stream(
    session: requests.Session,
    url: str,
    sink: InstanceSink,
    progress: Callable[[int, int], None] | None,
    cancelled: Callable[[], bool] | None,
    expected: int,
) -> None:
    """One WADO-RS request, each part kept as it arrives."""
    response = session.get(url, headers={"Accept": _ACCEPT_DICOM}, stream=True)
    with response:
        response.raise_for_status()
        for part in iter_parts(response):
            if cancelled is not None and cancelled():
                raise PacsError(
                    f"cancelled: {len(sink.received)} instance(s) kept",
                    received=len(sink.received),
                )
            try:
                sink.store_part10(part)
            except InvalidDicomError as error:
                raise ValueError(f"a part is not DICOM ({error})") from error
            if progress is not None:
                done = len(sink.received)
                progress(done, max(expected, done))


def send(
    node: WebNode,
    paths: Iterable[Path],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> list[SendOutcome]:
    """STOW-RS of the files, grouped by study (PS3.18 10.5); per-instance outcome
    from the response's Referenced and Failed SOP Sequences."""
    outcomes: list[SendOutcome] = []
    by_study: dict[str, list[tuple[Path, Dataset]]] = {}
    for path in paths:
        try:
            ds: Dataset = dcmread(path)
            by_study.setdefault(str(ds.StudyInstanceUID), []).append((path, ds))
        except Exception as error:
            outcomes.append(SendOutcome(str(path), "", False, f"not DICOM ({error})"))
    client = _client(node)
    done = 0
    for study_uid, items in by_study.items():
        try:
            response = client.store_instances(
                [ds for _, ds in items], study_instance_uid=study_uid
            )
        except (requests.RequestException, ValueError) as error:
            failure = _failure(node, error, "store")
            failure.outcomes = outcomes  # the studies answered before this one
            raise failure from error
        stored = {
            str(item.get("ReferencedSOPInstanceUID", ""))
            for item in response.get("ReferencedSOPSequence", [])
        }
        failed = {
            str(item.get("ReferencedSOPInstanceUID", "")): int(
                item.get("FailureReason", 0) or 0
            )
            for item in response.get("FailedSOPSequence", [])
        }
        for path, ds in items:
            uid = str(ds.SOPInstanceUID)
            if uid in stored:
                outcomes.append(SendOutcome(str(path), uid, True, "stored"))
            else:
                reason = failed.get(uid)
                outcomes.append(
                    SendOutcome(
                        str(path),
                        uid,
                        False,
                        f"refused (failure reason 0x{reason:04X})"
                        if reason
                        else "not in the server's answer",
                    )
                )
        done += len(items)
        if progress is not None:
            progress(done, done)
    return outcomes
