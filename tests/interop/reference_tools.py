"""The other systems' own programs the interoperability tests run: dcmtk,
dicom3tools and node with the OHIF adapters (``tests/interop/package.json``).

Each is installed by ``scripts/bootstrap.sh``; a test that needs a missing one is
skipped with a message on a user's clone and fails in CI (``CI=true`` or
``IMAGING_VIEWER_REQUIRE_CORPUS=1``), as the corpus does.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

INTEROP = Path(__file__).resolve().parent


def in_ci() -> bool:
    """True where a missing reference tool is an error, not a reason to skip."""
    return (
        os.environ.get("CI", "").lower() == "true"
        or os.environ.get("IMAGING_VIEWER_REQUIRE_CORPUS") == "1"
    )


def missing(message: str) -> None:
    """Skip the test, or fail it in CI."""
    if in_ci():
        pytest.fail(f"{message}; CI installs it (scripts/bootstrap.sh install)")
    pytest.skip(f"{message}: run scripts/bootstrap.sh install")


def require_program(name: str, package: str) -> str:
    """The path of ``name`` (from Debian ``package``)."""
    program = shutil.which(name)
    if program is None:
        missing(f"{name} (Debian package {package}) is not installed")
    assert program is not None
    return program


def dciodvfy_errors(path: Path) -> list[str]:
    """dciodvfy's error lines for a file (PS3.3 IOD conformance)."""
    program = require_program("dciodvfy", "dicom3tools")
    result = subprocess.run(
        [program, "-new", str(path)],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=300,
        check=False,
    )
    return [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if re.match(r"^Error", line)
    ]


def dcmpschk(path: Path) -> str:
    """dcmtk's presentation state checker's report; fails the test on an error."""
    program = require_program("dcmpschk", "dcmtk")
    result = subprocess.run(
        [program, str(path)],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=120,
        check=False,
    )
    report = result.stdout + result.stderr
    errors = [line for line in report.splitlines() if re.search(r"^E:|Error", line)]
    assert result.returncode == 0, report
    assert not errors, report
    return report


def ohif_restore(path: Path) -> dict[str, list[dict[str, object]]]:
    """The tool states OHIF's adapters (``@cornerstonejs/adapters``) restore from
    an SR, by Cornerstone tool name (see ``ohif_sr.mjs``)."""
    import json

    node = require_program("node", "nodejs")
    if not (INTEROP / "node_modules" / "@cornerstonejs" / "adapters").is_dir():
        missing(f"the node packages of {INTEROP / 'package.json'} are not installed")
    result = subprocess.run(
        [node, str(INTEROP / "ohif_sr.mjs"), "restore", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=INTEROP,
    )
    assert result.returncode == 0, result.stderr
    restored: dict[str, list[dict[str, object]]] = json.loads(result.stdout)
    return restored


def ohif_write(states: dict[str, object], path: Path) -> Path:
    """The SR OHIF's adapters write for Cornerstone tool states (see
    ``ohif_sr.mjs write``)."""
    import json

    node = require_program("node", "nodejs")
    if not (INTEROP / "node_modules" / "@cornerstonejs" / "adapters").is_dir():
        missing(f"the node packages of {INTEROP / 'package.json'} are not installed")
    states_path = path.with_suffix(".json")
    states_path.write_text(json.dumps(states), encoding="utf-8")
    result = subprocess.run(
        [node, str(INTEROP / "ohif_sr.mjs"), "write", str(states_path), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=INTEROP,
    )
    assert result.returncode == 0, result.stderr
    return path
