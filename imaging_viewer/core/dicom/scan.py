"""Scanning: find the DICOM images under a path, group them into series (headers)."""

from __future__ import annotations

import os
import stat
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pydicom
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID

from imaging_viewer.core.dicom.dicomdir import is_dicomdir, read_dicomdir
from imaging_viewer.core.dicom.fast_header import read_fast_header
from imaging_viewer.core.dicom.header import (
    MEDIA_STORAGE_DIRECTORY,
    InstanceHeader,
    header_from_dataset,
    is_native_transfer_syntax,
    transfer_syntax_name,
)
from imaging_viewer.core.dicom.inflate import inflated_size_exceeds
from imaging_viewer.core.dicom.limits import MAX_INFLATED_BYTES, max_image_bytes
from imaging_viewer.core.dicom.series import SeriesInfo, group_into_series

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(done, total)``."""
CancelCallback = Callable[[], bool]
"""Returns True when the user asked to stop."""

# A header claiming more pixel data than this is refused before any read.
MAX_IMAGE_BYTES = 8 * 1024**3
# Deflated Explicit VR Little Endian (PS3.5 A.5).
DEFLATED = "1.2.840.10008.1.2.1.99"
# A compressed image claiming more than this, at a compression ratio above the
# limit, is taken for a hostile or corrupt header rather than allocated.
IMPLAUSIBLE_COMPRESSED_BYTES = 256 * 1024**2
COMPRESSION_RATIO_LIMIT = 2000
# Bytes read first: the preamble and the file meta group (PS3.10 7.1).
_HEAD_BYTES = 4096
# Below this many files the fast reader declines, pydicom reads them in this
# process; above, in a process pool.
PARALLEL_SCAN_MIN_FILES = 400


class Cancelled(Exception):
    """The user cancelled a scan or a load."""


@dataclass(frozen=True)
class SkippedFile:
    """A file that is not part of any series, and why."""

    path: str
    reason: str

    def to_json(self) -> dict[str, str]:
        """The ``scan --json`` record (public contract)."""
        return {"path": self.path, "reason": self.reason}


@dataclass(frozen=True)
class StudyNode:
    """A study and its series, for the patient/study/series browser."""

    uid: str
    date: str
    time: str
    description: str
    accession_number: str
    series: tuple[SeriesInfo, ...]


@dataclass(frozen=True)
class PatientNode:
    """A patient and their studies."""

    name: str
    id: str
    birth_date: str
    sex: str
    studies: tuple[StudyNode, ...]


@dataclass(frozen=True, eq=False)
class ScanResult:
    """What :func:`scan_folder` found."""

    root: str
    series: list[SeriesInfo]
    skipped: list[SkippedFile]
    warnings: list[str] = field(default_factory=list)
    files_examined: int = 0

    @property
    def patients(self) -> list[PatientNode]:
        """The patient → study → series tree, in the order of ``series``."""
        patients: dict[tuple[str, str], dict[str, list[SeriesInfo]]] = {}
        for info in self.series:
            studies = patients.setdefault((info.patient_id, info.patient_name), {})
            studies.setdefault(info.study_uid, []).append(info)
        nodes = []
        for (patient_id, name), studies in patients.items():
            first = next(iter(studies.values()))[0]
            study_nodes = tuple(
                StudyNode(
                    uid=uid,
                    date=items[0].study_date,
                    time=items[0].study_time,
                    description=items[0].study_description,
                    accession_number=items[0].accession_number,
                    series=tuple(items),
                )
                for uid, items in studies.items()
            )
            nodes.append(
                PatientNode(
                    name=name,
                    id=patient_id,
                    birth_date=first.patient_birth_date,
                    sex=first.patient_sex,
                    studies=study_nodes,
                )
            )
        return nodes

    def find_series(self, selector: str) -> SeriesInfo:
        """The series named by index (0-based), id, Series Instance UID or number.

        Raises
        ------
        LookupError
            With a message naming the choices, when nothing or more than one matches.
        """
        if selector.isdigit() and int(selector) < len(self.series):
            return self.series[int(selector)]
        matches = [s for s in self.series if selector in (s.id, s.uid)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            ids = ", ".join(s.id for s in matches)
            raise LookupError(
                f"series {selector!r} is split into parts: choose one of {ids}"
            )
        raise LookupError(
            f"no series {selector!r}: give an index 0..{len(self.series) - 1} or a UID"
            if self.series
            else "no image series were found"
        )


def _iter_files(root: Path) -> Iterator[Path]:
    """Every regular file below ``root``, in a stable order; hidden entries skipped."""
    for folder, directories, files in os.walk(root, followlinks=False):
        directories[:] = sorted(d for d in directories if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                yield Path(folder) / name


def _decoder_available(transfer_syntax: str) -> bool:
    try:
        from pydicom.pixels.decoders.base import get_decoder

        return bool(get_decoder(UID(transfer_syntax)).is_available)
    except (NotImplementedError, ValueError, KeyError):
        return False


_DECODER_CACHE: dict[str, bool] = {}


def read_header(path: str) -> InstanceHeader | SkippedFile:
    """Read one file's header, or say why it is not a usable image.

    Never raises for bad input: a non-DICOM, truncated, unreadable or hostile file
    gives a :class:`SkippedFile` naming the problem. Common files are read by
    :mod:`~imaging_viewer.core.dicom.fast_header`, the rest by pydicom, with the
    same result.
    """
    return _read_fast_header(path) or _read_pydicom_header(path)


def _read_fast_header(path: str) -> InstanceHeader | SkippedFile | None:
    """The header by the fast reader, or None where pydicom must read the file."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        header = read_fast_header(path)
    return None if header is None else _check_image(header)


def _read_pydicom_header(path: str) -> InstanceHeader | SkippedFile:
    """The header as pydicom reads it."""
    with warnings.catch_warnings():
        # Invalid values in headers are common and harmless here; pydicom warns of each.
        warnings.simplefilter("ignore")
        return _read_header(path)


def _read_header(path: str) -> InstanceHeader | SkippedFile:
    try:
        status = os.stat(path)
        if not stat.S_ISREG(status.st_mode):
            # A FIFO or device would block or never end.
            return SkippedFile(path, "not a regular file (FIFO, device or socket)")
        size = status.st_size
        with open(path, "rb") as handle:
            head = handle.read(_HEAD_BYTES)
    except OSError as error:
        return SkippedFile(path, f"cannot read the file: {error.strerror or error}")
    if size == 0:
        return SkippedFile(path, "empty file")
    has_preamble = len(head) >= 132 and head[128:132] == b"DICM"
    if not has_preamble and not _looks_like_raw_dicom(head):
        return SkippedFile(
            path, "not a DICOM file (no DICM prefix and no DICOM elements at the start)"
        )
    if _declares_deflate(head):
        too_large = inflated_size_exceeds(path, MAX_INFLATED_BYTES)
        if too_large is not None:
            return SkippedFile(path, too_large)
    try:
        with open(path, "rb") as handle:
            ds = pydicom.dcmread(
                handle,
                stop_before_pixels=True,
                force=not has_preamble,
                defer_size=1 << 20,
            )
            # pydicom stops quietly at the end of a file cut short: an image header
            # that runs to the end never reached its Pixel Data. (A deflated
            # dataset is inflated whole, so its handle is always at the end.)
            deflated = ds.file_meta.get("TransferSyntaxUID", "") == DEFLATED
            reached_end = handle.tell() >= size and not deflated
        sop_class = str(
            ds.get("SOPClassUID", "") or ds.file_meta.get("MediaStorageSOPClassUID", "")
        )
        if sop_class == MEDIA_STORAGE_DIRECTORY:
            return SkippedFile(
                path,
                "DICOMDIR (media directory), not an image: lists files, holds none",
            )
        cut_short = (
            "SOPClassUID" not in ds or "Rows" in ds or _is_image_class(sop_class)
        )
        if reached_end and cut_short:
            return SkippedFile(
                path, f"truncated: the file ends at byte {size}, before the pixel data"
            )
        if "Rows" not in ds or "Columns" not in ds:
            name = UID(sop_class).name if sop_class else "unknown SOP class"
            return SkippedFile(path, f"not an image: {name} has no pixel data")
        header = header_from_dataset(ds, path, size)
    except InvalidDicomError as error:
        return SkippedFile(path, f"not a DICOM file: {error}")
    except MemoryError:
        return SkippedFile(path, "header too large to read")
    except Exception as error:  # pydicom raises many types on corrupt input
        return SkippedFile(
            path, f"unreadable DICOM header: {type(error).__name__}: {error}"
        )
    return _check_image(header)


def _declares_deflate(head: bytes) -> bool:
    """The file meta (in the first bytes) names Deflated Explicit VR Little Endian."""
    return DEFLATED.encode() in head


def _is_image_class(sop_class: str) -> bool:
    """True for SOP classes whose name says they store images (PS3.4 Annex B)."""
    try:
        name = UID(sop_class).name
    except (ValueError, KeyError):
        return False
    return "Image Storage" in name


def _looks_like_raw_dicom(head: bytes) -> bool:
    """A file without preamble still starts with a group 0002 or 0008 element."""
    if len(head) < 8:
        return False
    group = int.from_bytes(head[0:2], "little")
    group_be = int.from_bytes(head[0:2], "big")
    return group in (0x0002, 0x0008) or group_be in (0x0002, 0x0008)


def _check_image(header: InstanceHeader) -> InstanceHeader | SkippedFile:
    path = header.path
    if header.rows <= 0 or header.columns <= 0:
        return SkippedFile(path, f"invalid image size {header.columns}×{header.rows}")
    if header.bits_allocated not in (1, 8, 16, 32, 64):
        return SkippedFile(path, f"unsupported Bits Allocated {header.bits_allocated}")
    total = header.pixel_bytes_per_frame * max(1, header.number_of_frames)
    if total > MAX_IMAGE_BYTES or total > max_image_bytes():
        return SkippedFile(
            path,
            "image too large for memory: the header claims "
            f"{header.columns}×{header.rows}×{header.number_of_frames} frames of "
            f"{header.bits_allocated} bits "
            f"({total / 1024**3:.1f} GiB, more than the "
            f"{min(MAX_IMAGE_BYTES, max_image_bytes()) / 1024**3:.1f} GiB allowed)",
        )
    if header.invalid_attributes:
        return SkippedFile(path, "; ".join(header.invalid_attributes))
    syntax = header.transfer_syntax_uid
    if (
        not is_native_transfer_syntax(syntax)
        and total > IMPLAUSIBLE_COMPRESSED_BYTES
        and total > COMPRESSION_RATIO_LIMIT * header.file_size
    ):
        return SkippedFile(
            path,
            f"implausible image size: the header claims {total / 1024**2:.0f} MiB "
            f"of pixels in a {header.file_size / 1024**2:.1f} MiB file",
        )
    if is_native_transfer_syntax(syntax):
        if header.file_size < total:
            return SkippedFile(
                path,
                f"pixel data truncated: the header needs {total} bytes of pixel data, "
                f"the whole file has {header.file_size}",
            )
    else:
        available = _DECODER_CACHE.get(syntax)
        if available is None:
            available = _DECODER_CACHE[syntax] = _decoder_available(syntax)
        if not available:
            return SkippedFile(
                path,
                f"no decoder for transfer syntax {transfer_syntax_name(syntax)} "
                f"({syntax})",
            )
    if header.mosaic is None and "MOSAIC" in (v.upper() for v in header.image_type):
        return SkippedFile(
            path, "Siemens mosaic without a readable slice count (CSA header)"
        )
    return header


def _read_headers_chunk(paths: list[str]) -> list[InstanceHeader | SkippedFile]:
    return [_read_pydicom_header(p) for p in paths]


def _collect_paths(
    root: Path, warnings: list[str], cancel: CancelCallback | None
) -> list[str]:
    """The files to read: those a DICOMDIR references, or every file of a folder."""
    if root.is_file():
        if not is_dicomdir(root):
            return [str(root)]
        contents = read_dicomdir(root, cancel)
        warnings.extend(contents.problems)
        if contents.dangling or not contents.files:
            folder = root.parent
            warnings.append(
                f"{root}: {len(contents.dangling)} referenced file(s) are missing; "
                f"scanned the folder {folder} instead"
            )
            return [str(p) for p in _iter_files(folder)]
        return [str(p) for p in contents.files]
    paths = [str(p) for p in _iter_files(root)]
    # A CD's DICOMDIR at the top: its files are scanned with the folder anyway,
    # but references to files that are not there are worth a word.
    for name in ("DICOMDIR", "dicomdir"):
        top = root / name
        if top.is_file() and is_dicomdir(top):
            contents = read_dicomdir(top, cancel)
            warnings.extend(contents.problems)
            break
    return paths


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def scan_folder(
    path: str | os.PathLike[str],
    progress: ProgressCallback | None = None,
    cancel: CancelCallback | None = None,
) -> ScanResult:
    """Find the image series under ``path``: a folder (recursive), a file or a DICOMDIR.

    Reads headers only. Files with or without an extension are tried; a DICOMDIR
    is followed through its records (nested DIRFILEs included), falling back to
    the folder when references dangle.

    Parameters
    ----------
    path
        Folder, single file or DICOMDIR.
    progress
        Called with (files done, files in all) as headers are read.
    cancel
        Polled between files; when it returns True, :class:`Cancelled` is raised.

    Returns
    -------
    ScanResult
        Series (split wherever a DICOM series holds more than one volume), and
        every file not used, with the reason.

    References
    ----------
    PS3.10 (media storage, DICOMDIR); PS3.3 C.7.6.2 (image plane).
    """
    root = Path(path)
    warnings: list[str] = []
    if not root.exists():
        raise FileNotFoundError(f"{root}: no such file or folder")
    paths = _collect_paths(root, warnings, cancel)
    return _scan_paths(str(root), paths, warnings, progress, cancel)


def scan_files(
    paths: Iterable[str | os.PathLike[str]],
    progress: ProgressCallback | None = None,
    cancel: CancelCallback | None = None,
    *,
    root: str | None = None,
) -> ScanResult:
    """The image series of exactly the files ``paths`` (a study or series chosen
    in the local database), nothing else of their folders.

    Reads headers as :func:`scan_folder` does (fast reader, pydicom in worker
    processes for many files, ``progress`` and ``cancel`` alike); a file listed
    twice is read once, a file gone is skipped with the reason. ``root`` names
    what was opened in the result (default: the files' common folder).
    """
    files = list(dict.fromkeys(os.fspath(p) for p in paths))
    if root is None:
        root = _common_folder(files)
    return _scan_paths(root, files, [], progress, cancel)


def _common_folder(files: list[str]) -> str:
    """The folder all ``files`` are under ("" when none, or no common one)."""
    try:
        return os.path.commonpath([os.path.dirname(f) or "." for f in files])
    except ValueError:  # none, or relative and absolute (or other drives) mixed
        return ""


def _scan_paths(
    root: str,
    paths: list[str],
    warnings: list[str],
    progress: ProgressCallback | None,
    cancel: CancelCallback | None,
) -> ScanResult:
    """Read the headers of ``paths`` and group them into series (PS3.3 C.7.6.2)."""
    skipped: list[SkippedFile] = []
    results = _read_headers(paths, progress, cancel)
    total = len(paths)
    headers: list[InstanceHeader] = []
    seen_instances: dict[str, str] = {}
    for result in results:
        if isinstance(result, SkippedFile):
            skipped.append(result)
            continue
        uid = result.sop_instance_uid
        if uid and uid in seen_instances:
            skipped.append(
                SkippedFile(
                    result.path,
                    f"duplicate of {seen_instances[uid]} (same SOP Instance UID)",
                )
            )
            continue
        if uid:
            seen_instances[uid] = result.path
        headers.append(result)
    unassembled: list[tuple[str, str]] = []
    series = group_into_series(headers, unassembled)
    skipped.extend(SkippedFile(p, reason) for p, reason in unassembled)
    used = {f for s in series for f in s.files} | {p for p, _ in unassembled}
    for header in headers:
        if header.path not in used:
            skipped.append(
                SkippedFile(
                    header.path, "duplicate slice position: another image was kept"
                )
            )
    return ScanResult(root, series, skipped, warnings, total)


def _read_headers(
    paths: list[str], progress: ProgressCallback | None, cancel: CancelCallback | None
) -> list[InstanceHeader | SkippedFile]:
    """Every file's header, in the order of ``paths``.

    The fast reader goes through all files in this process (about 0.1 ms a file);
    the files it declines are read by pydicom, in worker processes when there are
    many of them (pydicom parsing holds the GIL, and the pool costs its start-up).
    """
    total = len(paths)
    results: list[InstanceHeader | SkippedFile | None] = []
    declined: list[int] = []
    for index, file_path in enumerate(paths):
        if cancel is not None and cancel():
            raise Cancelled("scan cancelled")
        header = _read_fast_header(file_path)
        results.append(header)
        if header is None:
            declined.append(index)
            continue
        done = index + 1 - len(declined)
        if progress is not None and (done % 16 == 0 or done == total):
            progress(done, total)
    if not declined:
        return cast("list[InstanceHeader | SkippedFile]", results)
    slow_paths = [paths[i] for i in declined]
    slow: list[InstanceHeader | SkippedFile] = []
    fast_done = total - len(declined)
    if len(slow_paths) >= PARALLEL_SCAN_MIN_FILES and (os.cpu_count() or 1) > 1:
        # concurrent.futures.process imports multiprocessing (~10 ms): only here.
        from concurrent.futures.process import BrokenProcessPool

        try:
            slow = _scan_parallel(slow_paths, progress, cancel, fast_done, total)
        except BrokenProcessPool:
            # Workers could not start (e.g. a main script without a __main__ guard).
            from imaging_viewer.core.dicom.workers import shutdown_worker_pool

            shutdown_worker_pool()
            slow = []
    if len(slow) != len(slow_paths):
        slow = []
        for done, file_path in enumerate(slow_paths, start=fast_done + 1):
            if cancel is not None and cancel():
                raise Cancelled("scan cancelled")
            slow.append(_read_pydicom_header(file_path))
            if progress is not None and (done % 16 == 0 or done == total):
                progress(done, total)
    for index, header in zip(declined, slow, strict=True):
        results[index] = header
    return cast("list[InstanceHeader | SkippedFile]", results)


def _scan_parallel(
    paths: list[str],
    progress: ProgressCallback | None,
    cancel: CancelCallback | None,
    done: int = 0,
    total: int | None = None,
) -> list[InstanceHeader | SkippedFile]:
    """Parse headers with pydicom in worker processes: its parsing holds the GIL."""
    from imaging_viewer.core.dicom.workers import worker_pool

    pool: ProcessPoolExecutor = worker_pool()
    chunk = max(32, len(paths) // ((os.cpu_count() or 2) * 4))
    chunks = [paths[i : i + chunk] for i in range(0, len(paths), chunk)]
    futures: list[Any] = [pool.submit(_read_headers_chunk, c) for c in chunks]
    results: list[InstanceHeader | SkippedFile] = []
    total = len(paths) + done if total is None else total
    try:
        for future in futures:
            if cancel is not None and cancel():
                raise Cancelled("scan cancelled")
            part = future.result()
            results.extend(part)
            done += len(part)
            if progress is not None:
                progress(done, total)
    finally:
        for future in futures:
            future.cancel()
    return results
