"""Everything opened is indexed (issue 14): a folder opened in the workspace is
referenced in place in the local study database, in the background; `db list
--json` shows it; the setting turns it off."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING

import pydicom
import pytest

from imaging_viewer.core.pacs.database import StudyDatabase, default_database_path
from imaging_viewer.core.workspace import Workspace
from imaging_viewer.ui.open_indexing import OpenedStudiesIndexer
from imaging_viewer.ui.workers import run_in_background

if TYPE_CHECKING:
    from pathlib import Path

    from pytestqt.qtbot import QtBot


def _open(
    folder: Path, *, enabled: bool, database_path: Path | None = None
) -> tuple[Workspace, OpenedStudiesIndexer, list[int], list[str]]:
    """Open ``folder`` in a workspace followed by an indexer; what it indexed
    and its failures are collected from the start."""
    workspace = Workspace(run_in_background, autosave=False)
    indexer = OpenedStudiesIndexer(
        workspace, delay_ms=10, enabled=enabled, database_path=database_path
    )
    counts: list[int] = []
    failures: list[str] = []
    indexer.indexed.connect(counts.append)
    indexer.failed.connect(failures.append)
    workspace.open(folder)
    return workspace, indexer, counts, failures


@pytest.mark.corpus
def test_an_opened_corpus_folder_is_listed_by_db_list(
    qtbot: QtBot, corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = corpus / "dcm_qa_ct" / "In" / "GE"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    workspace, indexer, counts, _ = _open(folder, enabled=True)
    qtbot.waitUntil(lambda: bool(counts), timeout=60_000)
    assert not indexer.busy
    files = sorted(p for p in folder.iterdir() if p.is_file())
    assert counts == [len(files)]
    environment = {**os.environ, "XDG_DATA_HOME": str(tmp_path)}
    environment.pop("DISPLAY", None)
    listed = subprocess.run(
        [sys.executable, "-m", "imaging_viewer", "db", "list", "--json"],
        capture_output=True,
        text=True,
        env=environment,
        check=True,
        timeout=120,
    )
    studies = json.loads(listed.stdout)
    study = str(pydicom.dcmread(files[0], stop_before_pixels=True).StudyInstanceUID)
    assert [s["study_uid"] for s in studies["studies"]] == [study]
    with StudyDatabase(default_database_path()) as database:
        paths = database.instance_paths(study)
    assert sorted(paths) == files  # referenced in place, not copied
    workspace.close()


def test_turned_off_nothing_is_indexed(
    qtbot: QtBot, sample_data: Path, tmp_path: Path
) -> None:
    database_path = tmp_path / "studies.sqlite"
    workspace, indexer, _, _ = _open(
        sample_data / "CT", enabled=False, database_path=database_path
    )
    qtbot.waitUntil(lambda: workspace.scan_result is not None, timeout=30_000)
    qtbot.wait(100)
    assert not indexer.busy
    assert not database_path.exists()
    workspace.close()


def test_a_damaged_database_is_said_not_raised(
    qtbot: QtBot, sample_data: Path, tmp_path: Path
) -> None:
    database_path = tmp_path / "studies.sqlite"
    database_path.write_bytes(b"not a database at all" * 10)
    workspace, indexer, _, failures = _open(
        sample_data / "CT", enabled=True, database_path=database_path
    )
    qtbot.waitUntil(lambda: bool(failures), timeout=30_000)
    assert "not a SQLite database" in failures[0]
    assert not indexer.busy
    assert database_path.read_bytes() == b"not a database at all" * 10
    workspace.close()
