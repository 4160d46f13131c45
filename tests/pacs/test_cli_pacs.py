"""``imaging-viewer pacs`` and ``db`` as a user runs them (a subprocess, no
display), against Orthanc; the database in a temporary XDG_DATA_HOME."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING

import pydicom
import pytest

from tests.pacs.conftest import Orthanc, free_port

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.corpus

SERIES = "dcm_qa_ct/In/GE"


def _cli(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "XDG_DATA_HOME": str(data)}
    environment.pop("DISPLAY", None)
    return subprocess.run(
        [sys.executable, "-m", "imaging_viewer.cli", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


def test_pacs_and_db_commands(orthanc: Orthanc, corpus: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    series = corpus / SERIES
    source = pydicom.dcmread(next(series.iterdir()), stop_before_pixels=True)
    study = str(source.StudyInstanceUID)

    assert _cli("pacs", "echo", orthanc.node, data=data).returncode == 0
    sent = _cli("pacs", "send", orthanc.node, str(series), data=data)
    assert sent.returncode == 0, sent.stderr

    found = _cli(
        "pacs",
        "find",
        orthanc.node,
        "--patient-id",
        str(source.PatientID),
        "--json",
        data=data,
    )
    assert found.returncode == 0, found.stderr
    results = json.loads(found.stdout)["results"]
    assert [r["study_uid"] for r in results] == [study]
    assert results[0]["modalities"] == ["CT"]

    web = _cli(
        "pacs",
        "find",
        orthanc.dicomweb_url,
        "--user",
        "alice",
        "--password",
        "wonderland",
        "--level",
        "series",
        "--study",
        study,
        "--json",
        data=data,
    )
    assert web.returncode == 0, web.stderr
    (series_result,) = json.loads(web.stdout)["results"]
    assert series_result["series_uid"] == str(source.SeriesInstanceUID)
    assert series_result["modality"] == "CT"

    out = tmp_path / "out"
    got = _cli("pacs", "get", orthanc.node, "--study", study, "-o", str(out), data=data)
    assert got.returncode == 0, got.stderr
    assert len(list(out.glob("*.dcm"))) == len(list(series.iterdir()))

    into_db = _cli(
        "pacs",
        "get",
        orthanc.node,
        "--study",
        study,
        "--move",
        str(orthanc.move_port),
        data=data,
    )
    assert into_db.returncode == 0, into_db.stderr
    listed = json.loads(_cli("db", "list", "--json", data=data).stdout)["studies"]
    assert [s["study_uid"] for s in listed] == [study]

    removed = _cli("db", "remove", study, data=data)
    assert removed.returncode == 0, removed.stderr
    assert json.loads(_cli("db", "list", "--json", data=data).stdout)["studies"] == []
    assert not list((data / "imaging_viewer" / "database" / "files").rglob("*.dcm"))

    imported = _cli("db", "import", str(series), data=data)
    assert imported.returncode == 0, imported.stderr
    listed = json.loads(_cli("db", "list", "--json", data=data).stdout)["studies"]
    assert listed[0]["instances"] == len(list(series.iterdir()))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("pacs", "echo", "NOBODY@127.0.0.1:{port}"), "connection refused"),
        (("pacs", "find", "not a node"), "unknown node"),
        (("db", "remove", "1.2.3"), "no such study"),
    ],
)
def test_failures_are_one_line(
    args: tuple[str, ...], message: str, tmp_path: Path
) -> None:
    filled = [a.format(port=free_port()) for a in args]
    result = _cli(*filled, data=tmp_path)
    assert result.returncode != 0
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_unknown_ae_and_bad_password(orthanc: Orthanc, tmp_path: Path) -> None:
    stranger = _cli("pacs", "find", orthanc.node, "--aet", "STRANGER", data=tmp_path)
    assert stranger.returncode != 0
    assert "register AE 'STRANGER'" in stranger.stderr
    denied = _cli(
        "pacs",
        "echo",
        orthanc.dicomweb_url,
        "--user",
        "alice",
        "--password",
        "no",
        data=tmp_path,
    )
    assert denied.returncode != 0
    assert "authentication failed" in denied.stderr


def test_damaged_database_is_one_line(tmp_path: Path) -> None:
    database = tmp_path / "imaging_viewer" / "database" / "studies.sqlite"
    database.parent.mkdir(parents=True)
    database.write_bytes(b"garbage" * 50)
    result = _cli("db", "list", data=tmp_path)
    assert result.returncode != 0
    assert "not a SQLite database" in result.stderr
    assert database.read_bytes() == b"garbage" * 50
