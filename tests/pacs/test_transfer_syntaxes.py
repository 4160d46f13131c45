"""C-STORE and C-GET of compressed files (issue 14): each (SOP class, transfer
syntax) in its own presentation context (PS3.7 D.3.3.4), an uncompressed fallback
the file is decompressed to when the SCP refuses its syntax. Pixels compared with
pydicom's decoding of the source files, against Orthanc and a pynetdicom SCP."""

from __future__ import annotations

import contextlib
import urllib.request
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pydicom
import pytest
from pydicom.pixels import get_decoder
from pydicom.uid import (
    AllTransferSyntaxes,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGLosslessSV1,
)
from pynetdicom import AE, evt

from imaging_viewer.core.pacs import remote
from imaging_viewer.core.pacs.database import StudyDatabase
from imaging_viewer.core.pacs.negotiation import (
    DECODABLE_SYNTAXES,
    MAX_CONTEXTS,
    association_batches,
    choose_syntax,
    retrieve_contexts,
)
from imaging_viewer.core.pacs.nodes import parse_node
from imaging_viewer.core.pacs.sink import InstanceSink
from tests.pacs.conftest import PASSWORD, USER, Orthanc, free_port

if TYPE_CHECKING:
    from collections.abc import Iterator

REPO = Path(__file__).resolve().parents[2]
CT = "1.2.840.10008.5.1.4.1.1.2"
MR = "1.2.840.10008.5.1.4.1.1.4"


def test_one_context_per_sop_class_and_syntax_plus_fallbacks() -> None:
    batches = association_batches(
        [(MR, JPEG2000Lossless), (MR, JPEG2000Lossless), (CT, ExplicitVRLittleEndian)]
    )
    assert batches == [
        {
            MR: [JPEG2000Lossless, ExplicitVRLittleEndian, ImplicitVRLittleEndian],
            CT: [ExplicitVRLittleEndian, ImplicitVRLittleEndian],
        }
    ]


def test_more_than_128_contexts_go_in_several_associations() -> None:
    pairs = [(f"1.2.3.{n}", syntax) for n in range(60) for syntax in (JPEGLosslessSV1,)]
    batches = association_batches(pairs)
    assert len(batches) == 2  # 60 classes x 3 contexts = 180
    assert all(sum(map(len, b.values())) <= MAX_CONTEXTS for b in batches)
    assert sorted(c for b in batches for c in b) == sorted(p[0] for p in pairs)


def test_choose_own_syntax_else_uncompressed_else_none() -> None:
    accepted = {(MR, JPEG2000Lossless), (MR, ImplicitVRLittleEndian)}
    assert choose_syntax(MR, JPEG2000Lossless, accepted) == JPEG2000Lossless
    assert choose_syntax(MR, JPEGLosslessSV1, accepted) == ImplicitVRLittleEndian
    assert choose_syntax(CT, JPEGLosslessSV1, accepted) is None


def test_retrieve_contexts_fit_with_the_get_context() -> None:
    others = [f"1.2.3.{n}" for n in range(200)]
    contexts = retrieve_contexts([MR, CT], others, list(AllTransferSyntaxes))
    assert len(contexts) == MAX_CONTEXTS - 1
    assert [s for c, s in contexts if c == MR] == [[s] for s in DECODABLE_SYNTAXES]


@pytest.mark.parametrize("syntax", DECODABLE_SYNTAXES)
def test_decodable_syntaxes_are_decoded_by_pydicom(syntax: str) -> None:
    assert get_decoder(syntax).is_available


def _files(corpus: Path) -> list[Path]:
    ts = sorted((corpus / "dcm_qa_ts" / "In").glob("*.dcm"))
    return ts + sorted((REPO / "sample_data" / "XR").glob("*.dcm"))


def _sources(paths: list[Path]) -> dict[str, pydicom.Dataset]:
    return {str(ds.SOPInstanceUID): ds for ds in map(pydicom.dcmread, paths)}


def _orthanc_file(orthanc: Orthanc, instance_id: str) -> pydicom.Dataset:
    request = urllib.request.Request(
        f"http://127.0.0.1:{orthanc.http_port}/instances/{instance_id}/file"
    )
    manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    manager.add_password(None, request.full_url, USER, PASSWORD)
    opener = urllib.request.build_opener(urllib.request.HTTPBasicAuthHandler(manager))
    with opener.open(request, timeout=10) as response:
        return pydicom.dcmread(BytesIO(response.read()))


@pytest.mark.corpus
def test_every_transfer_syntax_is_stored_in_orthanc_with_its_pixels(
    orthanc: Orthanc, corpus: Path
) -> None:
    orthanc.clear()
    paths = _files(corpus)
    sources = _sources(paths)
    node = parse_node(orthanc.node, configured={})
    outcomes = remote.send(node, paths)
    assert all(o.ok for o in outcomes), outcomes
    jpll = next(o for o in outcomes if o.path.endswith("RG2_JPLL.dcm"))
    assert jpll.message == "stored, sent as JPEG Lossless"
    instances = orthanc.rest("/instances?expand")
    assert isinstance(instances, list)
    stored = {i["MainDicomTags"]["SOPInstanceUID"]: i["ID"] for i in instances}
    assert sorted(stored) == sorted(sources)
    for uid, source in sources.items():
        got = _orthanc_file(orthanc, stored[uid])
        assert got.file_meta.TransferSyntaxUID == source.file_meta.TransferSyntaxUID
        np.testing.assert_array_equal(got.pixel_array, source.pixel_array)


@contextlib.contextmanager
def _implicit_only_scp(folder: Path) -> Iterator[str]:
    """A pynetdicom storage SCP accepting Implicit VR Little Endian only."""
    ae = AE(ae_title="IMPLICIT")
    for sop_class in (MR, "1.2.840.10008.5.1.4.1.1.1"):  # MR, CR
        ae.add_supported_context(sop_class, ImplicitVRLittleEndian)

    def store(event: evt.Event) -> int:
        ds = event.dataset
        ds.file_meta = event.file_meta
        ds.save_as(folder / f"{ds.SOPInstanceUID}.dcm", enforce_file_format=True)
        return 0x0000

    port = free_port()
    server = ae.start_server(
        ("127.0.0.1", port), block=False, evt_handlers=[(evt.EVT_C_STORE, store)]
    )
    try:
        yield f"IMPLICIT@127.0.0.1:{port}"
    finally:
        server.shutdown()


@pytest.mark.corpus
def test_an_implicit_only_scp_receives_decompressed_pixels(
    corpus: Path, tmp_path: Path
) -> None:
    paths = _files(corpus)
    sources = _sources(paths)
    with _implicit_only_scp(tmp_path) as address:
        outcomes = remote.send(parse_node(address, configured={}), paths)
    assert all(o.ok for o in outcomes), outcomes
    messages = {Path(o.path).name: o.message for o in outcomes}
    assert messages["9.dcm"] == (
        "stored, decompressed: the PACS does not accept JPEG 2000 Lossless"
    )
    assert messages["RG2_JPLL.dcm"] == (
        "stored, decompressed: the PACS does not accept JPEG Lossless"
    )
    assert messages["2.dcm"] == "stored"
    received = _sources(sorted(tmp_path.glob("*.dcm")))
    assert sorted(received) == sorted(sources)
    for uid, got in received.items():
        assert got.file_meta.TransferSyntaxUID == ImplicitVRLittleEndian
        np.testing.assert_array_equal(got.pixel_array, sources[uid].pixel_array)


@pytest.mark.corpus
def test_c_get_of_a_compressed_series_into_the_database(
    orthanc: Orthanc, corpus: Path, tmp_path: Path
) -> None:
    orthanc.clear()
    paths = sorted((corpus / "dcm_qa_ts" / "In").glob("*.dcm"))
    sources = _sources(paths)
    node = parse_node(orthanc.node, configured={})
    assert all(o.ok for o in remote.send(node, paths))
    study = str(next(iter(sources.values())).StudyInstanceUID)
    database = StudyDatabase(tmp_path / "studies.sqlite")
    result = remote.retrieve(node, study, InstanceSink(database=database))
    assert result.completed == len(sources)
    got = _sources(database.instance_paths(study))
    assert sorted(got) == sorted(sources)
    for uid, ds in got.items():
        # As the archive keeps it: not transcoded on the way.
        assert ds.file_meta.TransferSyntaxUID == (
            sources[uid].file_meta.TransferSyntaxUID
        )
        np.testing.assert_array_equal(ds.pixel_array, sources[uid].pixel_array)
