"""DICOMDIR reading: the instance files a DICOMDIR (and its nested DIRFILEs) lists."""

from __future__ import annotations

import contextlib
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.filereader import read_file_meta_info
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.tag import Tag
from pydicom.uid import MediaStorageDirectoryStorage

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = ["DicomdirContents", "is_dicomdir", "read_dicomdir"]

# Names a directory file goes by: DICOMDIR (PS3.10 8.6) and the private nested
# DIRFILEs of Philips/Elscint CDs. Matched after _normalize_name().
_DIRECTORY_FILE_NAMES = frozenset({"DICOMDIR", "DIRFILE"})
_DIRECTORY_RECORD_SEQUENCE = Tag(0x0004, 0x1220)
# Nesting levels of directory files below the one read (Philips uses 2).
_MAX_DEPTH = 8
# Pydicom warnings kept per directory file; the rest are counted.
_MAX_WARNINGS = 5
# Names listed in the summary of missing files of one directory file.
_MAX_LISTED = 5
# Records between two calls to ``cancel``.
_CANCEL_EVERY = 64
# ISO 9660 file version suffix (";1") that some CD drivers leave on names.
_ISO9660_VERSION = re.compile(r";\d*$")


@dataclass(frozen=True)
class DicomdirContents:
    """What a DICOMDIR references, and what went wrong while following it.

    Paths are absolute and lie inside the folder of the DICOMDIR that was read;
    their case is the case on disk. Lists keep the order of the directory
    records and hold no duplicates.
    """

    files: list[Path] = field(default_factory=list)
    """Referenced instance files that exist (nested directory files excluded)."""
    dangling: list[Path] = field(default_factory=list)
    """Referenced files that do not exist, where their Referenced File ID puts
    them (references refused as leaving the folder are in ``problems`` only)."""
    directories: list[Path] = field(default_factory=list)
    """Every directory file (DICOMDIR, DIRFILE) opened, the first one included
    even when it could not be read; none of them is an instance file."""
    problems: list[str] = field(default_factory=list)
    """Human-readable, one per problem; each names the directory file concerned."""


def is_dicomdir(path: str | os.PathLike[str]) -> bool:
    """Tell whether a file is a DICOM directory file (DICOMDIR or a nested DIRFILE).

    Cheap: reads the preamble and File Meta Information only, unless the file is
    named DICOMDIR or DIRFILE and has no usable meta, in which case it must parse
    to a dataset with a Directory Record Sequence. Never raises.

    Parameters
    ----------
    path : str or os.PathLike
        The file to test.

    Returns
    -------
    bool
        True if the File Meta Information declares the Media Storage Directory
        Storage SOP Class (1.2.840.10008.1.3.10), or if a file named DICOMDIR or
        DIRFILE (any case, trailing dots ignored) holds a Directory Record
        Sequence (0004,1220).

    References
    ----------
    PS3.10 7.1 DICOM File Meta Information; PS3.10 8.6 DICOMDIR File;
    PS3.3 F.3 Basic Directory IOD; PS3.4 Annex B (Media Storage Directory Storage).
    """
    file_path = Path(path)
    if _declares_directory(file_path):
        return True
    if _normalize_name(file_path.name) not in _DIRECTORY_FILE_NAMES:
        return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = dcmread(
                file_path, force=True, specific_tags=[_DIRECTORY_RECORD_SEQUENCE]
            )
            return _DIRECTORY_RECORD_SEQUENCE in ds
    except Exception:  # any parse failure means "not one"
        return False


def read_dicomdir(
    path: str | os.PathLike[str], cancel: Callable[[], bool] | None = None
) -> DicomdirContents:
    """List the files a DICOMDIR references, following nested directory files.

    Referenced File IDs are resolved relative to the folder of the DICOMDIR
    (the File-set root), matching each component case-insensitively and ignoring
    trailing dots and ISO 9660 ";1" versions, as found on real CDs. A referenced
    file that is itself a Media Storage Directory (the DIRFILEs of Philips CDs:
    DICOMDIR -> study DIRFILE -> series DIRFILE -> images) is read in turn;
    cycles, nesting deeper than a few levels and references leaving the root
    folder are refused and reported. A bad or non-conformant DICOMDIR never
    raises: what can be read is returned, the rest is reported in ``problems``.

    Parameters
    ----------
    path : str or os.PathLike
        The DICOMDIR (or any directory file; its folder becomes the root).
    cancel : callable, optional
        Polled between directory files and every few records; when it returns
        True, reading stops and the partial result is returned, with a problem
        saying it was cancelled.

    Returns
    -------
    DicomdirContents
        The existing instance files, the dangling references, the directory
        files opened, and the problems met.

    References
    ----------
    PS3.10 8.2 File IDs (components, relative to the File-set root), 8.5 Character
    Set; PS3.3 F.3.2.1 File-set Identification / Directory Information (record
    offsets), F.3.2.2 Directory Record (Referenced File ID (0004,1500),
    Referenced SOP Class UID in File (0004,1510)); PS3.3 F.5 Directory Records.
    """
    first = Path(os.path.abspath(path))
    reader = _DicomdirReader(first, cancel)
    reader.read()
    return DicomdirContents(
        files=list(reader.files),
        dangling=list(reader.dangling),
        directories=list(reader.directories),
        problems=reader.problems,
    )


class _Cancelled(Exception):
    """Raised inside the reader when ``cancel`` says stop."""


class _DicomdirReader:
    """State of one read_dicomdir() call: results, visited files, folder listings."""

    def __init__(self, first: Path, cancel: Callable[[], bool] | None) -> None:
        self.first = first
        self.root = first.parent
        self.real_root = Path(os.path.realpath(self.root))
        self.cancel = cancel
        # dicts as ordered sets
        self.files: dict[Path, None] = {}
        self.dangling: dict[Path, None] = {}
        self.directories: dict[Path, None] = {}
        self.problems: list[str] = []
        self.visited: set[str] = set()
        self.listings: dict[Path, _Listing | None] = {}

    def read(self) -> None:
        """Read the first directory file and everything it leads to."""
        try:
            self._read(self.first, depth=0, chain=())
        except _Cancelled:
            self.problems.append(
                f"{self.first}: reading was cancelled; the lists are incomplete"
            )

    def _check_cancel(self) -> None:
        if self.cancel is not None and self.cancel():
            raise _Cancelled

    def _read(self, dir_file: Path, depth: int, chain: tuple[str, ...]) -> None:
        self._check_cancel()
        key = _identity(dir_file)
        self.visited.add(key)
        self.directories[dir_file] = None
        ds = self._load(dir_file)
        if ds is None:
            return
        records = self._ordered_records(dir_file, ds)
        missing: list[str] = []
        seen_ids: set[tuple[str, ...]] = set()
        for index, record in enumerate(records):
            if index % _CANCEL_EVERY == 0:
                self._check_cancel()
            components = self._file_id(dir_file, index, record)
            if components is None or components in seen_ids:
                continue
            seen_ids.add(components)
            target, nearest = self._resolve(dir_file, components)
            if target is None:
                if nearest is not None:
                    missing.append("\\".join(components))
                    self.dangling[nearest] = None
                continue
            if not self._is_directory_reference(record, target):
                self.files[target] = None
                continue
            self._follow(dir_file, target, depth, (*chain, key))
        if missing:
            listed = ", ".join(missing[:_MAX_LISTED])
            more = len(missing) - _MAX_LISTED
            tail = f" and {more} more" if more > 0 else ""
            self.problems.append(
                f"{dir_file}: {len(missing)} referenced file(s) not found: "
                f"{listed}{tail}"
            )

    def _follow(
        self, dir_file: Path, target: Path, depth: int, chain: tuple[str, ...]
    ) -> None:
        """Read a referenced directory file unless that would loop or nest too deep."""
        key = _identity(target)
        if key in chain:
            self.problems.append(
                f"{dir_file}: references {target}, a directory file that "
                "(indirectly) references it back; cycle not followed"
            )
            return
        if key in self.visited:
            return  # referenced twice: read once
        if depth + 1 > _MAX_DEPTH:
            self.problems.append(
                f"{dir_file}: references directory file {target} nested more "
                f"than {_MAX_DEPTH} levels deep; not followed"
            )
            return
        self._read(target, depth + 1, chain)

    def _load(self, dir_file: Path) -> Dataset | None:
        """Parse a directory file, turning every failure and warning into problems."""
        caught: list[warnings.WarningMessage] = []
        ds: Dataset | None = None
        sop_class: object = None
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                ds = dcmread(dir_file, force=True)
                # values are converted on access, with their warnings: here
                sop_class = ds.file_meta.get("MediaStorageSOPClassUID")
                if _DIRECTORY_RECORD_SEQUENCE in ds:
                    self._check_sequence_length(dir_file, ds)
                for _element in ds:
                    pass
                self._parse_records(dir_file, ds)
        except Exception as exc:
            self.problems.append(f"{dir_file}: cannot be read as DICOM ({exc})")
            ds = None
        is_directory = ds is not None and (
            _DIRECTORY_RECORD_SEQUENCE in ds
            or sop_class == MediaStorageDirectoryStorage
        )
        # what the parser says about a file that is no DICOMDIR at all is noise
        self._report_warnings(dir_file, caught, report=is_directory)
        if ds is None:
            return None
        if _DIRECTORY_RECORD_SEQUENCE not in ds:
            why = (
                "declares Media Storage Directory Storage but holds no Directory "
                "Record Sequence (0004,1220); truncated?"
                if sop_class == MediaStorageDirectoryStorage
                else "not a DICOMDIR: no Directory Record Sequence (0004,1220)"
            )
            self.problems.append(f"{dir_file}: {why} (PS3.3 F.3.2.1)")
            return None
        if sop_class != MediaStorageDirectoryStorage:
            self.problems.append(
                f"{dir_file}: non-conformant DICOMDIR: its File Meta Information "
                "does not declare Media Storage Directory Storage "
                f"({MediaStorageDirectoryStorage}, PS3.10 7.1); read anyway"
            )
        return ds

    def _parse_records(self, dir_file: Path, ds: Dataset) -> None:
        """Convert every record's elements now, while warnings are caught; count
        the records that cannot be (their attributes then read as absent)."""
        if _DIRECTORY_RECORD_SEQUENCE not in ds:
            return
        value = ds[_DIRECTORY_RECORD_SEQUENCE].value
        if not isinstance(value, Sequence):
            return
        failed = 0
        for record in value:
            try:
                for _element in record:
                    pass
            except Exception:
                failed += 1
        if failed:
            self.problems.append(
                f"{dir_file}: {failed} directory record(s) cannot be parsed"
            )

    def _check_sequence_length(self, dir_file: Path, ds: Dataset) -> None:
        """Report a Directory Record Sequence whose defined length runs past the
        end of the file (pydicom reads such a file up to its end, silently)."""
        raw = ds.get_item(_DIRECTORY_RECORD_SEQUENCE)
        length = getattr(raw, "length", None)
        start = getattr(raw, "value_tell", None)
        if not isinstance(length, int) or not isinstance(start, int):
            return
        if length == 0xFFFFFFFF:  # undefined length (PS3.5 7.5.2)
            return
        size = dir_file.stat().st_size
        if start + length > size:
            self.problems.append(
                f"{dir_file}: truncated: the Directory Record Sequence needs "
                f"{start + length} bytes, the file has {size}"
            )

    def _report_warnings(
        self, dir_file: Path, caught: list[warnings.WarningMessage], *, report: bool
    ) -> None:
        """Turn pydicom's warnings into problems (if report), pass others on."""
        ours = [w for w in caught if _from_pydicom(w)] if report else []
        for w in caught:
            if not _from_pydicom(w):
                # not about this file (another thread, garbage collection): pass
                # it on, but never let a warnings filter turn it into our error
                with contextlib.suppress(Exception):
                    warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        messages = list(dict.fromkeys(str(w.message) for w in ours))
        for message in messages[:_MAX_WARNINGS]:
            self.problems.append(f"{dir_file}: {message}")
        if len(messages) > _MAX_WARNINGS:
            self.problems.append(
                f"{dir_file}: {len(messages) - _MAX_WARNINGS} more parser warnings"
            )

    def _ordered_records(self, dir_file: Path, ds: Dataset) -> list[Dataset]:
        """Directory records in hierarchy order, then any unlinked ones.

        Walks the root directory entity through Offset of the First Directory
        Record of the Root Directory Entity, Offset of the Next Directory Record
        and Offset of Referenced Lower-Level Directory Entity (PS3.3 F.3.2.1,
        F.3.2.2), depth first. Directory files without offsets (Philips DIRFILEs
        leave them empty) are read in sequence order.
        """
        value = ds[_DIRECTORY_RECORD_SEQUENCE].value
        records = (
            [r for r in value if isinstance(r, Dataset)]
            if isinstance(value, Sequence)
            else []
        )
        untyped = sum(1 for r in records if not _has_record_type(r))
        if untyped:
            self.problems.append(
                f"{dir_file}: {untyped} directory record(s) without a Directory "
                "Record Type (0004,1430), a Type 1 attribute (PS3.3 F.3.2.2); "
                "truncated or corrupt?"
            )
        by_offset: dict[int, Dataset] = {}
        for record in records:
            offset = getattr(record, "seq_item_tell", None)
            if isinstance(offset, int):
                by_offset[offset] = record
        first = _offset(ds, "OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity")
        if first == 0:
            return records
        if first not in by_offset:
            self.problems.append(
                f"{dir_file}: the offset of the first root directory record "
                f"({first}) points to no record; records read in sequence order"
            )
            return records
        ordered, broken = _walk_offsets(first, by_offset)
        if broken:
            self.problems.append(f"{dir_file}: {broken}")
        linked = {id(r) for r in ordered}
        unlinked = [r for r in records if id(r) not in linked]
        if any("ReferencedFileID" in r for r in unlinked):
            self.problems.append(
                f"{dir_file}: {len(unlinked)} directory record(s) are not linked "
                "from the root directory entity (PS3.3 F.3.2.2); read anyway"
            )
        return ordered + unlinked

    def _file_id(
        self, dir_file: Path, index: int, record: Dataset
    ) -> tuple[str, ...] | None:
        """The components of a record's Referenced File ID, or None if it has none."""
        try:
            raw = record.get("ReferencedFileID")
        except Exception as exc:
            self.problems.append(
                f"{dir_file}: directory record {index + 1} has an unreadable "
                f"Referenced File ID ({exc})"
            )
            return None
        if raw is None:
            return None
        values = list(raw) if isinstance(raw, (MultiValue, list, tuple)) else [raw]
        # PS3.10 8.2: components are separated by "\" (the multi-value delimiter);
        # non-conformant writers also use "/" inside one value.
        components = tuple(
            part.strip()
            for value in values
            for part in re.split(r"[\\/]", _text(value))
        )
        if not any(components):
            return None
        shown = "\\".join(components)
        if any(not c or c in (".", "..") or ":" in c or "\0" in c for c in components):
            self.problems.append(
                f"{dir_file}: directory record {index + 1} references '{shown}', "
                "which is not a relative path inside the DICOMDIR's folder "
                "(PS3.10 8.2); refused"
            )
            return None
        return components

    def _resolve(
        self, dir_file: Path, components: tuple[str, ...]
    ) -> tuple[Path | None, Path | None]:
        """Find the file a Referenced File ID names, inside the root folder.

        Tried in turn: relative to the root (PS3.10 8.2); relative to the folder
        of the directory file holding the record; and, when the ID starts with
        the names of that folder's last parents, relative to that folder (a
        DIRFILE read on its own, its IDs still relative to the CD root).

        Returns the file found, or None and the path the file is missing at: the
        candidate that got furthest down existing folders (None when refused).
        """
        nearest: Path | None = None
        nearest_rank = (-1, False)
        for base, rest, overlaps in self._candidates(dir_file.parent, components):
            found, depth = self._lookup(base, rest)
            if found is None:
                # ties go to an ID whose head repeats the folder's names
                if (depth, overlaps) > nearest_rank:
                    nearest, nearest_rank = base.joinpath(*rest), (depth, overlaps)
                continue
            real = Path(os.path.realpath(found))
            if not _inside(real, self.real_root):
                shown = "\\".join(components)
                self.problems.append(
                    f"{dir_file}: '{shown}' resolves to {real}, outside the "
                    "DICOMDIR's folder; refused"
                )
                return None, None
            return found, None
        return None, nearest

    def _candidates(
        self, folder: Path, components: tuple[str, ...]
    ) -> Iterator[tuple[Path, tuple[str, ...], bool]]:
        """(base folder, components left, whether the ID's head named the folder)."""
        yield self.root, components, False
        if folder != self.root:
            yield folder, components, False
        names = folder.parts
        for k in range(min(len(components) - 1, len(names) - 1), 0, -1):
            head = [_normalize_name(c) for c in components[:k]]
            if head == [_normalize_name(n) for n in names[-k:]]:
                yield folder, components[k:], True

    def _lookup(
        self, base: Path, components: tuple[str, ...]
    ) -> tuple[Path | None, int]:
        """Walk the components down from base, matching names case-insensitively.

        Returns the file found (None if not) and how many components matched;
        the path keeps the on-disk spelling of every name.
        """
        current = base
        for position, component in enumerate(components):
            listing = self._listing(current)
            name = None if listing is None else listing.match(component)
            if listing is None or name is None:
                return None, position
            # folders on the way, a file at the end
            wants_folder = position < len(components) - 1
            if listing.is_dir[name] != wants_folder:
                return None, position
            current = current / name
        return current, len(components)

    def _listing(self, folder: Path) -> _Listing | None:
        if folder not in self.listings:
            self.listings[folder] = _Listing.of(folder)
        return self.listings[folder]

    def _is_directory_reference(self, record: Dataset, target: Path) -> bool:
        """Whether a referenced file is itself a directory file (judged by content).

        A record whose Referenced SOP Class UID in File (0004,1510) names another
        SOP Class is trusted; otherwise the file's own header decides.
        """
        try:
            sop_class = record.get("ReferencedSOPClassUIDInFile")
        except Exception:
            sop_class = None
        if sop_class and str(sop_class) != MediaStorageDirectoryStorage:
            return False
        return is_dicomdir(target)


@dataclass(frozen=True)
class _Listing:
    """The entries of one folder, for case-insensitive lookups."""

    is_dir: dict[str, bool]
    by_normal_name: dict[str, str]

    @classmethod
    def of(cls, folder: Path) -> _Listing | None:
        try:
            with os.scandir(folder) as entries:
                is_dir = {}
                for entry in entries:
                    try:
                        is_dir[entry.name] = entry.is_dir()
                    except OSError:
                        continue
        except OSError:
            return None
        by_normal_name: dict[str, str] = {}
        for name in sorted(is_dir):
            by_normal_name.setdefault(_normalize_name(name), name)
        return cls(is_dir, by_normal_name)

    def match(self, component: str) -> str | None:
        if component in self.is_dir:
            return component
        return self.by_normal_name.get(_normalize_name(component))


def _normalize_name(name: str) -> str:
    """A file name as compared with a File ID component: case, ISO 9660 version
    and trailing dots ignored (CD writers turn "IM1" into "IM1.", "IM1.;1", "im1")."""
    return _ISO9660_VERSION.sub("", name.strip()).rstrip(".").upper()


def _declares_directory(path: Path) -> bool:
    """Whether the File Meta Information says Media Storage Directory Storage."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            meta = read_file_meta_info(path)
            sop_class = meta.get("MediaStorageSOPClassUID")
    except Exception:  # not DICOM, unreadable, truncated meta: not one
        return False
    return bool(sop_class == MediaStorageDirectoryStorage)


def _has_record_type(record: Dataset) -> bool:
    try:
        return bool(record.get("DirectoryRecordType"))
    except Exception:
        return False


def _offset(ds: Dataset, keyword: str) -> int:
    """An offset attribute as an int; 0 when absent, empty or unreadable."""
    try:
        value = ds.get(keyword)
    except Exception:
        return 0
    return value if isinstance(value, int) and value > 0 else 0


def _walk_offsets(
    first: int, by_offset: dict[int, Dataset]
) -> tuple[list[Dataset], str]:
    """Depth-first walk of the record hierarchy; returns the records reached and a
    description of the first broken link ("" if none).

    References
    ----------
    PS3.3 F.3.2.2: Offset of the Next Directory Record (0004,1400) and Offset of
    Referenced Lower-Level Directory Entity (0004,1420); 0 means none.
    """
    ordered: list[Dataset] = []
    seen: set[int] = set()
    broken = ""
    pending = [first]
    while pending:
        offset = pending.pop()
        while offset:
            if offset in seen:
                broken = broken or f"record offsets loop back to offset {offset}"
                break
            record = by_offset.get(offset)
            if record is None:
                broken = broken or f"a record offset ({offset}) points to no record"
                break
            seen.add(offset)
            ordered.append(record)
            lower = _offset(record, "OffsetOfReferencedLowerLevelDirectoryEntity")
            following = _offset(record, "OffsetOfTheNextDirectoryRecord")
            if lower:
                pending.append(following)
                offset = lower
            else:
                offset = following
    return ordered, broken


def _from_pydicom(caught: warnings.WarningMessage) -> bool:
    """Whether a caught warning was raised by pydicom's reader."""
    parts = Path(caught.filename).parts
    return "pydicom" in parts and issubclass(caught.category, UserWarning)


def _identity(path: Path) -> str:
    """A key that is equal for two paths naming the same file (links resolved)."""
    return os.path.normcase(os.path.realpath(path))


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or path.is_relative_to(folder)


def _text(value: object) -> str:
    """A Referenced File ID value as text (bytes when the VR was not recognised)."""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)
