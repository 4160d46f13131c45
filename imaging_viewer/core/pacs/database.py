"""The local study database: every instance opened, imported, retrieved or received.

SQLite, with a versioned schema modelled on the one 3D Slicer uses through CTK
(``Libs/DICOM/Core/Resources/dicom-schema.sql``): Patients → Studies → Series →
Images, each with its insert time, plus what the viewer needs to open an instance
without reading it again (file path, SOP class, transfer syntax, frame of
reference, number of frames). It lives in the user's data folder
(:func:`default_database_path`); imported files are either copied into the
database's ``files/`` folder or referenced where they are.

A file that is not a database of ours, is damaged, or was written by a newer
schema raises :class:`DatabaseError` with a clear message and is never written
to. Imports commit in batches, report throttled progress and can be cancelled;
what was committed stays consistent.

The patient/study/series/instance model is PS3.3 Annex A.1.2 (the DICOM
information model); the attributes are those of the PS3.4 C.6.2 Study Root
Query/Retrieve levels.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pydicom
from pydicom.errors import InvalidDicomError

from imaging_viewer.core.annotations.serialize import user_data_dir
from imaging_viewer.core.dicom.fast_header import read_fast_header
from imaging_viewer.core.files import write_bytes_atomic

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from imaging_viewer.core.dicom.header import InstanceHeader

__all__ = [
    "SCHEMA_VERSION",
    "DatabaseError",
    "ImportResult",
    "SeriesRecord",
    "StudyDatabase",
    "StudyRecord",
    "default_database_path",
]

SCHEMA_VERSION: Final = 1
"""The schema this code writes; a database with a higher version is refused."""

_SQLITE_MAGIC: Final = b"SQLite format 3\x00"
_BATCH: Final = 500
"""Instances per transaction while importing."""
_PROGRESS_INTERVAL_S: Final = 0.1

# Only these are read from each file (pydicom skips converting the rest).
_TAGS: Final = [
    "SpecificCharacterSet",
    "SOPClassUID",
    "SOPInstanceUID",
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "StudyInstanceUID",
    "StudyID",
    "StudyDate",
    "StudyTime",
    "StudyDescription",
    "AccessionNumber",
    "SeriesInstanceUID",
    "SeriesNumber",
    "SeriesDate",
    "SeriesDescription",
    "Modality",
    "BodyPartExamined",
    "FrameOfReferenceUID",
    "InstanceNumber",
    "NumberOfFrames",
]

_SCHEMA: Final = """
CREATE TABLE SchemaInfo (Version INTEGER NOT NULL);
CREATE TABLE Patients (
  UID INTEGER PRIMARY KEY AUTOINCREMENT,
  PatientsName TEXT NOT NULL DEFAULT '',
  PatientID TEXT NOT NULL DEFAULT '',
  PatientsBirthDate TEXT NOT NULL DEFAULT '',
  PatientsSex TEXT NOT NULL DEFAULT '',
  InsertTimestamp TEXT NOT NULL);
CREATE UNIQUE INDEX PatientsIdentity
  ON Patients (PatientID, PatientsName, PatientsBirthDate);
CREATE TABLE Studies (
  StudyInstanceUID TEXT PRIMARY KEY,
  PatientsUID INTEGER NOT NULL REFERENCES Patients (UID),
  StudyID TEXT NOT NULL DEFAULT '',
  StudyDate TEXT NOT NULL DEFAULT '',
  StudyTime TEXT NOT NULL DEFAULT '',
  StudyDescription TEXT NOT NULL DEFAULT '',
  AccessionNumber TEXT NOT NULL DEFAULT '',
  InsertTimestamp TEXT NOT NULL);
CREATE INDEX StudiesPatientIndex ON Studies (PatientsUID);
CREATE TABLE Series (
  SeriesInstanceUID TEXT PRIMARY KEY,
  StudyInstanceUID TEXT NOT NULL REFERENCES Studies (StudyInstanceUID),
  SeriesNumber INTEGER,
  SeriesDate TEXT NOT NULL DEFAULT '',
  SeriesDescription TEXT NOT NULL DEFAULT '',
  Modality TEXT NOT NULL DEFAULT '',
  BodyPartExamined TEXT NOT NULL DEFAULT '',
  FrameOfReferenceUID TEXT NOT NULL DEFAULT '',
  InsertTimestamp TEXT NOT NULL);
CREATE INDEX SeriesStudyIndex ON Series (StudyInstanceUID);
CREATE TABLE Images (
  SOPInstanceUID TEXT PRIMARY KEY,
  Filename TEXT NOT NULL UNIQUE,
  SeriesInstanceUID TEXT NOT NULL REFERENCES Series (SeriesInstanceUID),
  SOPClassUID TEXT NOT NULL DEFAULT '',
  TransferSyntaxUID TEXT NOT NULL DEFAULT '',
  InstanceNumber INTEGER,
  NumberOfFrames INTEGER NOT NULL DEFAULT 1,
  Copied INTEGER NOT NULL DEFAULT 0,
  InsertTimestamp TEXT NOT NULL);
CREATE INDEX ImagesSeriesIndex ON Images (SeriesInstanceUID);
"""


class DatabaseError(Exception):
    """The database cannot be used (damaged, not ours, newer schema); says why."""


def default_database_path() -> Path:
    """``<user data>/database/studies.sqlite``."""
    return user_data_dir() / "database" / "studies.sqlite"


@dataclass(frozen=True)
class StudyRecord:
    """A study in the database, with its patient and a summary of its series."""

    study_uid: str
    patient_name: str
    patient_id: str
    date: str
    description: str
    accession: str
    modalities: tuple[str, ...]
    series_count: int
    instance_count: int

    def to_json(self) -> dict[str, Any]:
        """The study as ``db list --json`` writes it."""
        return {
            "study_uid": self.study_uid,
            "patient_id": self.patient_id,
            "patient_name": self.patient_name,
            "date": self.date,
            "modalities": list(self.modalities),
            "description": self.description,
            "accession": self.accession,
            "series": self.series_count,
            "instances": self.instance_count,
        }


@dataclass(frozen=True)
class SeriesRecord:
    """A series in the database."""

    series_uid: str
    study_uid: str
    number: int | None
    modality: str
    description: str
    frame_of_reference_uid: str
    instance_count: int


@dataclass
class ImportResult:
    """What an import did: instances indexed, files skipped (with why), cancelled."""

    indexed: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    cancelled: bool = False
    study_uids: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class _Instance:
    """The attributes of one file the database keeps."""

    path: str
    transfer_syntax: str
    values: dict[str, Any]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value)
    return str(value).strip()


def _integer(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _from_header(header: InstanceHeader) -> _Instance:
    values = {
        "SOPClassUID": header.sop_class_uid,
        "SOPInstanceUID": header.sop_instance_uid,
        "PatientName": header.patient_name,
        "PatientID": header.patient_id,
        "PatientBirthDate": header.patient_birth_date,
        "PatientSex": header.patient_sex,
        "StudyInstanceUID": header.study_uid,
        "StudyID": "",
        "StudyDate": header.study_date,
        "StudyTime": header.study_time,
        "StudyDescription": header.study_description,
        "AccessionNumber": header.accession_number,
        "SeriesInstanceUID": header.series_uid,
        "SeriesNumber": header.series_number,
        "SeriesDate": header.series_date,
        "SeriesDescription": header.series_description,
        "Modality": header.modality,
        "BodyPartExamined": header.body_part,
        "FrameOfReferenceUID": header.frame_of_reference_uid,
        "InstanceNumber": header.instance_number,
        "NumberOfFrames": header.number_of_frames,
    }
    return _Instance(header.path, header.transfer_syntax_uid, values)


def read_instance(path: str) -> _Instance | str:
    """The indexed attributes of ``path``, or why it cannot be indexed.

    Common image files are read by the scanner's fast header reader
    (:mod:`~imaging_viewer.core.dicom.fast_header`); the rest (other SOP
    classes, unusual encodings) by pydicom. Never raises for bad input.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            header = read_fast_header(path)
        except Exception:  # the fast reader declines by None; be safe anyway
            header = None
        if header is not None and header.study_uid and header.series_uid:
            return _from_header(header)
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=_TAGS)
            values = {keyword: ds.get(keyword) for keyword in _TAGS[1:]}
            transfer_syntax = str(ds.file_meta.get("TransferSyntaxUID", ""))
        except (InvalidDicomError, OSError, ValueError, EOFError) as error:
            return f"not a DICOM file ({error})"
        except Exception as error:  # hostile input must not stop an import
            return f"unreadable DICOM file ({type(error).__name__}: {error})"
    for required in ("SOPInstanceUID", "SeriesInstanceUID", "StudyInstanceUID"):
        if not _text(values.get(required)):
            return f"no {required}: not a composite instance (PS3.3 C.12.1)"
    return _Instance(path, transfer_syntax, values)


def _walk(paths: Iterable[str | os.PathLike[str]]) -> list[str]:
    found: list[str] = []
    for path in paths:
        top = Path(path)
        if top.is_file():
            found.append(str(top))
            continue
        for folder, dirs, files in os.walk(top):
            dirs.sort()
            found.extend(
                os.path.join(folder, name)
                for name in sorted(files)
                if name != "DICOMDIR" and not name.startswith(".")
            )
    return found


def _safe_name(uid: str) -> str:
    return "".join(c if c.isalnum() or c == "." else "_" for c in uid) or "_"


class StudyDatabase:
    """The SQLite index of local studies (see the module docstring).

    Parameters
    ----------
    path : path-like, optional
        The database file; :func:`default_database_path` when omitted. A missing
        file is created with the current schema; an existing one is checked.

    Raises
    ------
    DatabaseError
        When the file is not a database of ours, is damaged, or has a newer schema.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_database_path()
        self.files_folder = self.path.parent / "files"
        existed = self.path.exists()
        if existed:
            self._check_header()
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            uri = f"{self.path.resolve().as_uri()}?mode={'rw' if existed else 'rwc'}"
            self._connection = sqlite3.connect(
                uri, uri=True, check_same_thread=False, timeout=10
            )
        except sqlite3.Error as error:
            raise DatabaseError(
                f"{self.path}: cannot open the database ({error})"
            ) from error
        self._connection.execute("PRAGMA foreign_keys = ON")
        try:
            if existed:
                self._check_schema()
            else:
                with self._connection:
                    self._connection.executescript(_SCHEMA)
                    self._connection.execute(
                        "INSERT INTO SchemaInfo VALUES (?)", (SCHEMA_VERSION,)
                    )
        except BaseException:
            self._connection.close()
            raise

    # ---------------------------------------------------------------- checks

    def _check_header(self) -> None:
        try:
            with open(self.path, "rb") as handle:
                head = handle.read(len(_SQLITE_MAGIC))
        except OSError as error:
            raise DatabaseError(
                f"{self.path}: cannot read the database ({error.strerror or error})"
            ) from error
        if head and head != _SQLITE_MAGIC:
            raise DatabaseError(
                f"{self.path}: not a SQLite database (damaged?); it was left "
                "untouched: move it away to start a new database"
            )

    def _check_schema(self) -> None:
        try:
            integrity = self._connection.execute("PRAGMA quick_check").fetchone()
            rows = self._connection.execute("SELECT Version FROM SchemaInfo").fetchall()
        except sqlite3.DatabaseError as error:
            raise DatabaseError(
                f"{self.path}: the database is damaged or not ours ({error}); it was "
                "left untouched: move it away to start a new database"
            ) from error
        if integrity is None or integrity[0] != "ok":
            raise DatabaseError(
                f"{self.path}: the database is damaged ({integrity and integrity[0]}); "
                "it was left untouched: move it away to start a new database"
            )
        if len(rows) != 1 or not isinstance(rows[0][0], int):
            raise DatabaseError(
                f"{self.path}: the database has no schema version; it was left "
                "untouched: move it away to start a new database"
            )
        version = rows[0][0]
        if version > SCHEMA_VERSION:
            raise DatabaseError(
                f"{self.path}: written by a newer imaging-viewer (schema {version}, "
                f"this one reads {SCHEMA_VERSION}); it was left untouched: update "
                "imaging-viewer to use it"
            )

    # ----------------------------------------------------------------- life

    def close(self) -> None:
        """Close the connection."""
        self._connection.close()

    def __enter__(self) -> StudyDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --------------------------------------------------------------- import

    def import_paths(
        self,
        paths: Iterable[str | os.PathLike[str]],
        *,
        copy: bool = False,
        progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> ImportResult:
        """Index the files in ``paths`` (files or folders, walked recursively).

        ``copy``: copy each file into the database's ``files/`` folder and index
        the copy (removed with its entry), else reference it in place.
        ``progress(done, total)`` is called at most every 0.1 s and at the end;
        ``cancelled()`` is polled between files: the files indexed so far stay.
        """
        files = _walk(paths)
        result = ImportResult()
        last_report = 0.0
        batch: list[_Instance] = []
        for done, path in enumerate(files):
            if cancelled is not None and cancelled():
                result.cancelled = True
                break
            instance = read_instance(path)
            if isinstance(instance, str):
                result.skipped.append((path, instance))
            else:
                if copy:
                    try:
                        instance = self._copy_in(instance)
                    except OSError as error:
                        result.skipped.append(
                            (path, f"cannot copy: {error.strerror or error}")
                        )
                        continue
                batch.append(instance)
                result.study_uids.add(_text(instance.values["StudyInstanceUID"]))
            if len(batch) >= _BATCH:
                result.indexed += self._insert(batch, copied=copy)
                batch.clear()
            now = time.monotonic()
            if progress is not None and now - last_report >= _PROGRESS_INTERVAL_S:
                last_report = now
                progress(done + 1, len(files))
        result.indexed += self._insert(batch, copied=copy)
        if progress is not None:
            progress(len(files) if not result.cancelled else done, len(files))
        return result

    def add_instance_files(self, paths: Iterable[str | os.PathLike[str]]) -> int:
        """Index files already in the database's folder (retrieved, received),
        in batches; returns how many were indexed."""
        instances = [read_instance(str(path)) for path in paths]
        good = [i for i in instances if not isinstance(i, str)]
        return sum(
            self._insert(good[start : start + _BATCH], copied=True)
            for start in range(0, len(good), _BATCH)
        )

    def storage_path(self, study_uid: str, series_uid: str, sop_uid: str) -> Path:
        """Where a copied or retrieved instance is kept (its folders made)."""
        folder = self.files_folder / _safe_name(study_uid) / _safe_name(series_uid)
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{_safe_name(sop_uid)}.dcm"

    def _copy_in(self, instance: _Instance) -> _Instance:
        values = instance.values
        target = self.storage_path(
            _text(values["StudyInstanceUID"]),
            _text(values["SeriesInstanceUID"]),
            _text(values["SOPInstanceUID"]),
        )
        if Path(instance.path).resolve() != target.resolve():
            write_bytes_atomic(target, Path(instance.path).read_bytes())
        return _Instance(str(target), instance.transfer_syntax, values)

    def _insert(self, batch: list[_Instance], *, copied: bool) -> int:
        if not batch:
            return 0
        stamp = _now()
        with self._connection as connection:
            for instance in batch:
                self._insert_one(connection, instance, copied, stamp)
        return len(batch)

    def _insert_one(
        self,
        connection: sqlite3.Connection,
        instance: _Instance,
        copied: bool,
        stamp: str,
    ) -> None:
        v = instance.values
        patient = (
            _text(v["PatientID"]),
            _text(v["PatientName"]),
            _text(v["PatientBirthDate"]),
        )
        connection.execute(
            "INSERT OR IGNORE INTO Patients (PatientID, PatientsName, "
            "PatientsBirthDate, PatientsSex, InsertTimestamp) VALUES (?, ?, ?, ?, ?)",
            (*patient, _text(v["PatientSex"]), stamp),
        )
        (patient_uid,) = connection.execute(
            "SELECT UID FROM Patients WHERE PatientID = ? AND PatientsName = ? "
            "AND PatientsBirthDate = ?",
            patient,
        ).fetchone()
        study_uid = _text(v["StudyInstanceUID"])
        series_uid = _text(v["SeriesInstanceUID"])
        connection.execute(
            "INSERT OR IGNORE INTO Studies (StudyInstanceUID, PatientsUID, StudyID, "
            "StudyDate, StudyTime, StudyDescription, AccessionNumber, "
            "InsertTimestamp) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                study_uid,
                patient_uid,
                _text(v["StudyID"]),
                _text(v["StudyDate"]),
                _text(v["StudyTime"]),
                _text(v["StudyDescription"]),
                _text(v["AccessionNumber"]),
                stamp,
            ),
        )
        connection.execute(
            "INSERT OR IGNORE INTO Series (SeriesInstanceUID, StudyInstanceUID, "
            "SeriesNumber, SeriesDate, SeriesDescription, Modality, BodyPartExamined, "
            "FrameOfReferenceUID, InsertTimestamp) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                series_uid,
                study_uid,
                _integer(v["SeriesNumber"]),
                _text(v["SeriesDate"]),
                _text(v["SeriesDescription"]),
                _text(v["Modality"]),
                _text(v["BodyPartExamined"]),
                _text(v["FrameOfReferenceUID"]),
                stamp,
            ),
        )
        path = str(Path(instance.path).absolute())
        # The same file re-imported, or the same instance found elsewhere: the
        # newer row wins (one file per instance, one instance per file).
        connection.execute("DELETE FROM Images WHERE Filename = ?", (path,))
        connection.execute(
            "INSERT OR REPLACE INTO Images (SOPInstanceUID, Filename, "
            "SeriesInstanceUID, SOPClassUID, TransferSyntaxUID, InstanceNumber, "
            "NumberOfFrames, Copied, InsertTimestamp) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                _text(v["SOPInstanceUID"]),
                path,
                series_uid,
                _text(v["SOPClassUID"]),
                instance.transfer_syntax,
                _integer(v["InstanceNumber"]),
                _integer(v["NumberOfFrames"]) or 1,
                int(copied),
                stamp,
            ),
        )

    # --------------------------------------------------------------- browse

    def studies(
        self,
        *,
        patient_name: str = "",
        patient_id: str = "",
        date_from: str = "",
        date_to: str = "",
        modality: str = "",
        description: str = "",
    ) -> list[StudyRecord]:
        """The studies matching every filter given, newest first.

        Name, ID and description match case-insensitively with ``*`` and ``?``
        wildcards (PS3.4 C.2.2.2.4) or as a substring without them; dates are
        ``YYYYMMDD``, inclusive.
        """
        where: list[str] = []
        arguments: list[str] = []
        for column, text in (
            ("p.PatientsName", patient_name),
            ("p.PatientID", patient_id),
            ("st.StudyDescription", description),
        ):
            if text:
                where.append(f"{column} LIKE ? ESCAPE '!'")
                arguments.append(_like_pattern(text))
        if date_from:
            where.append("st.StudyDate >= ?")
            arguments.append(date_from)
        if date_to:
            where.append("st.StudyDate <= ?")
            arguments.append(date_to)
        if modality:
            where.append(
                "EXISTS (SELECT 1 FROM Series m WHERE m.StudyInstanceUID = "
                "st.StudyInstanceUID AND upper(m.Modality) = upper(?))"
            )
            arguments.append(modality)
        query = (
            "SELECT st.StudyInstanceUID, p.PatientsName, p.PatientID, st.StudyDate, "
            "st.StudyDescription, st.AccessionNumber, "
            "(SELECT group_concat(DISTINCT se.Modality) FROM Series se "
            " WHERE se.StudyInstanceUID = st.StudyInstanceUID), "
            "(SELECT count(*) FROM Series se "
            " WHERE se.StudyInstanceUID = st.StudyInstanceUID), "
            "(SELECT count(*) FROM Images i JOIN Series se "
            " ON i.SeriesInstanceUID = se.SeriesInstanceUID "
            " WHERE se.StudyInstanceUID = st.StudyInstanceUID) "
            "FROM Studies st JOIN Patients p ON st.PatientsUID = p.UID"
        )
        if where:
            query += " WHERE " + " AND ".join(where)
        query += " ORDER BY st.StudyDate DESC, p.PatientsName"
        return [
            StudyRecord(
                study_uid=row[0],
                patient_name=row[1],
                patient_id=row[2],
                date=row[3],
                description=row[4],
                accession=row[5],
                modalities=tuple(sorted(m for m in (row[6] or "").split(",") if m)),
                series_count=row[7],
                instance_count=row[8],
            )
            for row in self._connection.execute(query, arguments)
        ]

    def series(self, study_uid: str) -> list[SeriesRecord]:
        """The series of a study, by series number."""
        rows = self._connection.execute(
            "SELECT se.SeriesInstanceUID, se.StudyInstanceUID, se.SeriesNumber, "
            "se.Modality, se.SeriesDescription, se.FrameOfReferenceUID, "
            "(SELECT count(*) FROM Images i "
            " WHERE i.SeriesInstanceUID = se.SeriesInstanceUID) "
            "FROM Series se WHERE se.StudyInstanceUID = ? "
            "ORDER BY se.SeriesNumber, se.SeriesInstanceUID",
            (study_uid,),
        )
        return [SeriesRecord(*row) for row in rows]

    def instance_paths(self, uid: str) -> list[Path]:
        """The files of a study, series or instance (whichever ``uid`` names)."""
        rows = self._connection.execute(
            "SELECT i.Filename FROM Images i JOIN Series se "
            "ON i.SeriesInstanceUID = se.SeriesInstanceUID "
            "WHERE se.StudyInstanceUID = ?1 OR se.SeriesInstanceUID = ?1 "
            "OR i.SOPInstanceUID = ?1 ORDER BY i.InstanceNumber, i.Filename",
            (uid,),
        )
        return [Path(row[0]) for row in rows]

    def sop_instance_uids(self, series_uid: str) -> set[str]:
        """The instances of a series already in the database."""
        rows = self._connection.execute(
            "SELECT SOPInstanceUID FROM Images WHERE SeriesInstanceUID = ?",
            (series_uid,),
        )
        return {row[0] for row in rows}

    def study_sop_instance_uids(self, study_uid: str) -> set[str]:
        """The instances of a study already in the database."""
        rows = self._connection.execute(
            "SELECT i.SOPInstanceUID FROM Images i JOIN Series se "
            "ON i.SeriesInstanceUID = se.SeriesInstanceUID "
            "WHERE se.StudyInstanceUID = ?",
            (study_uid,),
        )
        return {row[0] for row in rows}

    def counts(self) -> tuple[int, int, int, int]:
        """How many patients, studies, series and instances."""
        return tuple(
            self._connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("Patients", "Studies", "Series", "Images")
        )

    # --------------------------------------------------------------- remove

    def remove(self, uid: str) -> int:
        """Remove a study, series or instance (and its copied files).

        Returns the number of instances removed; 0 when ``uid`` names nothing.
        """
        with self._connection as connection:
            rows = connection.execute(
                "SELECT i.SOPInstanceUID, i.Filename, i.Copied FROM Images i "
                "JOIN Series se ON i.SeriesInstanceUID = se.SeriesInstanceUID "
                "WHERE se.StudyInstanceUID = ?1 OR se.SeriesInstanceUID = ?1 "
                "OR i.SOPInstanceUID = ?1",
                (uid,),
            ).fetchall()
            connection.executemany(
                "DELETE FROM Images WHERE SOPInstanceUID = ?",
                [(row[0],) for row in rows],
            )
            connection.execute("DELETE FROM Series WHERE SeriesInstanceUID = ?", (uid,))
            connection.execute("DELETE FROM Series WHERE StudyInstanceUID = ?1", (uid,))
            connection.execute("DELETE FROM Studies WHERE StudyInstanceUID = ?", (uid,))
            self._prune(connection)
        # Files go after the commit: a crash between leaves files, never rows
        # pointing at nothing.
        for _, filename, copied in rows:
            if copied:
                self._remove_copied_file(Path(filename))
        return len(rows)

    def _remove_copied_file(self, path: Path) -> None:
        with contextlib.suppress(OSError):
            path.unlink()
        folder = path.parent
        for _ in range(2):  # the series folder, then the study folder
            if folder == self.files_folder:
                break
            with contextlib.suppress(OSError):
                folder.rmdir()
            folder = folder.parent

    @staticmethod
    def _prune(connection: sqlite3.Connection) -> None:
        """Drop series, studies and patients left without instances."""
        connection.execute(
            "DELETE FROM Series WHERE SeriesInstanceUID NOT IN "
            "(SELECT SeriesInstanceUID FROM Images)"
        )
        connection.execute(
            "DELETE FROM Studies WHERE StudyInstanceUID NOT IN "
            "(SELECT StudyInstanceUID FROM Series)"
        )
        connection.execute(
            "DELETE FROM Patients WHERE UID NOT IN (SELECT PatientsUID FROM Studies)"
        )

    # -------------------------------------------------------------- reindex

    def reindex(
        self,
        *,
        progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> ImportResult:
        """Read every indexed file again: gone or unreadable files lose their row,
        the others are updated."""
        rows = self._connection.execute(
            "SELECT SOPInstanceUID, Filename, Copied FROM Images"
        ).fetchall()
        result = ImportResult()
        gone: list[tuple[str]] = []
        by_copied: dict[bool, list[_Instance]] = {True: [], False: []}
        last_report = 0.0
        for done, (sop_uid, filename, copied) in enumerate(rows):
            if cancelled is not None and cancelled():
                result.cancelled = True
                break
            instance = read_instance(filename)
            if isinstance(instance, str):
                gone.append((sop_uid,))
                result.skipped.append((filename, instance))
            else:
                by_copied[bool(copied)].append(instance)
            now = time.monotonic()
            if progress is not None and now - last_report >= _PROGRESS_INTERVAL_S:
                last_report = now
                progress(done + 1, len(rows))
        with self._connection as connection:
            connection.executemany("DELETE FROM Images WHERE SOPInstanceUID = ?", gone)
        for copied, instances in by_copied.items():
            for start in range(0, len(instances), _BATCH):
                result.indexed += self._insert(
                    instances[start : start + _BATCH], copied=copied
                )
        with self._connection as connection:
            self._prune(connection)
        if progress is not None:
            progress(len(rows), len(rows))
        return result

    def iter_rows(self, table: str) -> Iterator[tuple[Any, ...]]:
        """Every row of a table (for tests and diagnostics)."""
        if table not in ("Patients", "Studies", "Series", "Images", "SchemaInfo"):
            raise ValueError(f"no table {table!r}")
        yield from self._connection.execute(f"SELECT * FROM {table}")


def _like_pattern(text: str) -> str:
    """A DICOM wildcard match (``*``, ``?``) as an SQL LIKE pattern; plain text
    matches as a substring."""
    escaped = text.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    if "*" in text or "?" in text:
        return escaped.replace("*", "%").replace("?", "_")
    return f"%{escaped}%"
