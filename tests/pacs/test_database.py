"""The local study database against pydicom reading the same files."""

from __future__ import annotations

import sqlite3
import warnings
from typing import TYPE_CHECKING

import pydicom
import pytest

from imaging_viewer.core.pacs.database import (
    SCHEMA_VERSION,
    DatabaseError,
    StudyDatabase,
)

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.corpus


def _reference(folder: Path) -> dict[str, tuple[str, str, str]]:
    """SOP Instance UID → (series, study, modality) as pydicom reads them."""
    found: dict[str, tuple[str, str, str]] = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds = pydicom.dcmread(path, stop_before_pixels=True)
        except Exception:
            continue
        if (
            "SOPInstanceUID" in ds
            and "SeriesInstanceUID" in ds
            and "StudyInstanceUID" in ds
        ):
            found[str(ds.SOPInstanceUID)] = (
                str(ds.SeriesInstanceUID),
                str(ds.StudyInstanceUID),
                str(ds.get("Modality", "")),
            )
    return found


@pytest.fixture(scope="module")
def indexed(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> StudyDatabase:
    """The whole corpus indexed in place."""
    path = tmp_path_factory.mktemp("db") / "studies.sqlite"
    database = StudyDatabase(path)
    result = database.import_paths([corpus])
    assert result.indexed > 500
    assert not result.cancelled
    database.close()
    return StudyDatabase(path)  # re-opened


def test_index_whole_corpus_matches_pydicom(
    indexed: StudyDatabase, corpus: Path
) -> None:
    reference = _reference(corpus / "dcm_qa_ct")
    rows = {row[0]: row for row in indexed.iter_rows("Images")}
    for sop_uid, (series_uid, _, _) in reference.items():
        assert sop_uid in rows
        assert rows[sop_uid][2] == series_uid
    patients, studies, series, instances = indexed.counts()
    assert instances == len(rows)
    assert 0 < patients <= studies <= series <= instances


def test_search_by_modality_name_and_date(indexed: StudyDatabase) -> None:
    ct = indexed.studies(modality="ct")
    assert ct
    assert all("CT" in study.modalities for study in ct)
    first = ct[0]
    assert first.study_uid in {
        s.study_uid for s in indexed.studies(patient_name=first.patient_name[:3] + "*")
    }
    if first.date:
        dated = indexed.studies(date_from=first.date, date_to=first.date)
        assert all(s.date == first.date for s in dated)
        assert first.study_uid in {s.study_uid for s in dated}
    assert indexed.studies(patient_id="no such patient id at all") == []
    series = indexed.series(first.study_uid)
    assert sum(s.instance_count for s in series) == first.instance_count


def test_copy_import_then_remove_deletes_copies(corpus: Path, tmp_path: Path) -> None:
    source = corpus / "dcm_qa_ct"
    database = StudyDatabase(tmp_path / "db" / "studies.sqlite")
    progress: list[tuple[int, int]] = []
    result = database.import_paths(
        [source], copy=True, progress=lambda d, t: progress.append((d, t))
    )
    assert result.indexed > 0
    assert progress[-1][0] == progress[-1][1]
    study = database.studies()[0]
    paths = database.instance_paths(study.study_uid)
    assert paths
    assert all(database.files_folder in p.parents and p.is_file() for p in paths)
    # the copies are the same bytes as some source file
    sizes = {p.stat().st_size for p in source.rglob("*") if p.is_file()}
    assert paths[0].stat().st_size in sizes
    removed = database.remove(study.study_uid)
    assert removed == len(paths)
    assert not any(p.exists() for p in paths)
    assert study.study_uid not in {s.study_uid for s in database.studies()}
    assert database.remove("1.2.3.4.5.6.7.8.9") == 0


def test_cancel_keeps_what_was_committed(corpus: Path, tmp_path: Path) -> None:
    database = StudyDatabase(tmp_path / "studies.sqlite")
    calls = iter(range(10_000))
    result = database.import_paths(
        [corpus / "dcm_qa_ct"], cancelled=lambda: next(calls) >= 7
    )
    assert result.cancelled
    assert database.counts()[3] == result.indexed <= 7


def test_reindex_drops_vanished_files(corpus: Path, tmp_path: Path) -> None:
    database = StudyDatabase(tmp_path / "db" / "studies.sqlite")
    database.import_paths([corpus / "dcm_qa_ct"], copy=True)
    before = database.counts()[3]
    victim = next(database.files_folder.rglob("*.dcm"))
    victim.unlink()
    result = database.reindex()
    assert database.counts()[3] == before - 1
    assert len(result.skipped) == 1


def test_damaged_database_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "studies.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    before = path.read_bytes()
    with pytest.raises(DatabaseError, match="not a SQLite database"):
        StudyDatabase(path)
    assert path.read_bytes() == before


def test_truncated_database_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "studies.sqlite"
    StudyDatabase(path).close()
    data = path.read_bytes()
    path.write_bytes(data[:120] + b"\xff" * (len(data) - 120))
    before = path.read_bytes()
    with pytest.raises(DatabaseError, match="damaged"):
        StudyDatabase(path)
    assert path.read_bytes() == before


def test_newer_schema_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "studies.sqlite"
    StudyDatabase(path).close()
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE SchemaInfo SET Version = ?", (SCHEMA_VERSION + 1,))
    connection.close()
    before = path.read_bytes()
    with pytest.raises(DatabaseError, match="newer imaging-viewer"):
        StudyDatabase(path)
    assert path.read_bytes() == before
