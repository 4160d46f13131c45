"""A real PACS for the tests: Orthanc (Debian ``orthanc``, ``orthanc-dicomweb``),
started on loopback with a temporary JSON configuration, stopped at the end.

Skips with a message on a clone without Orthanc; fails under CI (``CI=true`` or
``IMAGING_VIEWER_REQUIRE_CORPUS=1``), as a missing corpus does.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

ORTHANC = shutil.which("Orthanc") or "/usr/sbin/Orthanc"
DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
USER, PASSWORD = "alice", "wonderland"
OUR_AET = "IMAGINGVIEWER"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _require_or_skip(message: str) -> None:
    if os.environ.get("CI") == "true" or (
        os.environ.get("IMAGING_VIEWER_REQUIRE_CORPUS") == "1"
    ):
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class Orthanc:
    """A running Orthanc: its ports, AE, and the port our C-MOVE SCP uses."""

    aet: str
    dicom_port: int
    http_port: int
    move_port: int
    process: subprocess.Popen[bytes]
    folder: Path

    @property
    def node(self) -> str:
        return f"{self.aet}@127.0.0.1:{self.dicom_port}"

    @property
    def dicomweb_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/dicom-web"

    def rest(self, path: str, method: str = "GET") -> object:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.http_port}{path}", method=method
        )
        manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        manager.add_password(None, request.full_url, USER, PASSWORD)
        opener = urllib.request.build_opener(
            urllib.request.HTTPBasicAuthHandler(manager)
        )
        with opener.open(request, timeout=10) as response:
            return json.loads(response.read() or b"null")

    def clear(self) -> None:
        """Delete every study stored so far."""
        for study in self.rest("/studies"):  # type: ignore[attr-defined]
            self.rest(f"/studies/{study}", method="DELETE")


def start_orthanc(folder: Path, *, allow_get: bool = True) -> Orthanc:
    """Start Orthanc with its configuration in ``folder``; ready when it answers."""
    if not Path(ORTHANC).exists() or not DICOMWEB_PLUGIN.exists():
        _require_or_skip(
            "Orthanc with its DICOMweb plugin is not installed "
            "(Debian: orthanc orthanc-dicomweb; scripts/bootstrap.sh installs them)"
        )
    dicom_port, http_port, move_port = free_port(), free_port(), free_port()
    config = {
        "Name": "imaging-viewer-tests",
        "StorageDirectory": str(folder / "storage"),
        "IndexDirectory": str(folder / "storage"),
        "DicomAet": "ORTHANC",
        "DicomPort": dicom_port,
        "HttpPort": http_port,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": True,
        "RegisteredUsers": {USER: PASSWORD},
        "Plugins": [str(DICOMWEB_PLUGIN)],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
        "DicomModalities": {
            "viewer": {
                "AET": OUR_AET,
                "Host": "127.0.0.1",
                "Port": move_port,
                "AllowGet": allow_get,
            }
        },
        "DicomCheckModalityHost": False,
        "DicomAlwaysAllowEcho": False,
        "DicomAlwaysAllowStore": False,
        "UnknownSopClassAccepted": True,
        "StableAge": 1,
    }
    (folder / "orthanc.json").write_text(json.dumps(config))
    log = open(folder / "orthanc.log", "wb")  # noqa: SIM115 (closed with the process)
    process = subprocess.Popen(
        [ORTHANC, str(folder / "orthanc.json")], stdout=log, stderr=subprocess.STDOUT
    )
    orthanc = Orthanc("ORTHANC", dicom_port, http_port, move_port, process, folder)
    deadline = time.monotonic() + 10
    while True:
        try:
            orthanc.rest("/system")
            with socket.create_connection(("127.0.0.1", dicom_port), 1):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(
                    "Orthanc did not start: "
                    + (folder / "orthanc.log").read_text(errors="replace")[-2000:]
                )
            time.sleep(0.02)
    return orthanc


def stop_orthanc(orthanc: Orthanc) -> None:
    orthanc.process.terminate()
    try:
        orthanc.process.wait(10)
    except subprocess.TimeoutExpired:
        orthanc.process.kill()
        orthanc.process.wait()


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Orthanc]:
    """A fresh Orthanc per test module."""
    server = start_orthanc(tmp_path_factory.mktemp("orthanc"))
    yield server
    stop_orthanc(server)
