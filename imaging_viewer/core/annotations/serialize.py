"""The annotation file: versioned JSON in LPS millimetres, atomic saves, autosave.

The format is documented in ``docs/annotations.md``. A file is only ever
replaced whole (:func:`save_atomic`), and never by the autosaver when it holds
something this session did not load (a corrupt file, a newer schema, another
study, or annotations it never had).
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from psygnal import Signal

from imaging_viewer import __version__
from imaging_viewer.core.annotations.anatomic_sites import coded_site_record
from imaging_viewer.core.annotations.calibration import Calibration
from imaging_viewer.core.annotations.key_image_marks import KeyImageMark
from imaging_viewer.core.annotations.limits import (
    AnnotationLimitError,
    check_annotation_count,
    parse_bounded,
    read_bounded,
)
from imaging_viewer.core.annotations.model import (
    ANNOTATION_KINDS,
    AnnotationSet,
    Lesion,
    PolygonRoi,
    TextLabel,
)
from imaging_viewer.core.files import write_text_atomic

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from imaging_viewer.core.annotations.model import Annotation

SCHEMA_NAME: Final = "imaging_viewer.annotations"
SCHEMA_VERSION: Final = 2
"""The newest version this one reads and writes."""
SCHEMA_V1: Final = f"{SCHEMA_NAME}/1"
SCHEMA: Final = SCHEMA_V1
"""The ``schema`` of a file without follow-up data: still version 1, so older
imaging_viewers keep opening it."""
SCHEMA_V2: Final = f"{SCHEMA_NAME}/2"
"""The ``schema`` of a file with follow-up data (study date, time point, lesion
roles, nodes, organs); a version 2 reader reads version 1 too."""
_STUDY_DATE = re.compile(r"^[0-9]{8}$")

_LESION_TEXT_KEYS: Final = (
    "label",
    "site",
    "site_code",
    "site_meaning",
    "laterality",
    "finding",
    "diagnosis",
    "note",
)
_SAFE_NAME = re.compile(r"[^0-9A-Za-z._-]")


class AnnotationFileError(Exception):
    """An annotation file that cannot be used: corrupt, newer, or another study's.

    The file is left as it is.
    """

    def __init__(self, message: str, path: Path | None = None) -> None:
        super().__init__(f"{path}: {message}" if path is not None else message)
        self.path = path
        self.reason = message


# ---------------------------------------------------------------- to JSON


def _annotation_to_json(annotation: Annotation) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": annotation.id,
        "kind": annotation.kind,
        "label": annotation.label,
        "frame_of_reference_uid": annotation.frame_of_reference_uid,
        "referenced_sop_instance_uid": annotation.referenced_sop_instance_uid,
        "referenced_frame": annotation.referenced_frame,
        "plane_normal_lps": list(annotation.plane_normal_lps),
        "points_lps": [[float(c) for c in p] for p in annotation.points_lps],
    }
    # Optional (added later): written only when known, so readers of older
    # files and older readers of newer ones see the same document.
    if annotation.referenced_series_instance_uid:
        item["referenced_series_instance_uid"] = (
            annotation.referenced_series_instance_uid
        )
    if annotation.drawn_on_plane:
        item["drawn_on_plane"] = annotation.drawn_on_plane
    if isinstance(annotation, TextLabel):
        item["text"] = annotation.text
    return item


def _has_followup(lesion: Lesion) -> bool:
    return any(
        getattr(lesion, name) != getattr(Lesion, name, None)
        for name in Lesion.FOLLOWUP_FIELDS
    )


def _followup_to_json(lesion: Lesion) -> dict[str, Any]:
    item: dict[str, Any] = {"nodal": lesion.nodal, "organ": lesion.organ}
    if lesion.role:
        item["role"] = lesion.role
    if lesion.soft_tissue_component:
        item["soft_tissue_component"] = True
    return item


def _lesion_to_json(lesion: Lesion, followup: bool = False) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": lesion.id,
        "label": lesion.label,
        "site": lesion.site,
        "finding": lesion.finding,
        "diagnosis": lesion.diagnosis,
        "note": lesion.note,
        "colour": lesion.colour,
        "tracking_uid": lesion.tracking_uid,
    }
    # Optional keys: a file without a coded site is unchanged (and older readers
    # ignore them).
    item.update(coded_site_record(lesion))
    if followup:
        item.update(_followup_to_json(lesion))
    item["annotations"] = [_annotation_to_json(a) for a in lesion.annotations]
    return item


def to_json(
    annotation_set: AnnotationSet,
    study_uid: str,
    frame_of_reference_uids: Iterable[str] = (),
    *,
    study_date: str = "",
    timepoint: str = "",
) -> dict[str, Any]:
    """The annotation file of a study as a JSON-ready dict.

    Parameters
    ----------
    annotation_set : AnnotationSet
        The lesions, in order, with their annotations.
    study_uid : str
        Study Instance UID (0020,000D) the annotations belong to.
    frame_of_reference_uids : iterable of str
        Frames of reference of the study's series; those of the annotations
        are added.
    study_date : str
        Study Date (0008,0020), ``YYYYMMDD`` (PS3.5 6.2 DA), or ``""``.
    timepoint : str
        The time point's label, e.g. ``"baseline"``, ``"follow-up 1"``.

    Returns
    -------
    dict
        ``{"schema": "imaging_viewer.annotations/1", "coordinate_system":
        "LPS", "units": "mm", ...}``, see ``docs/annotations.md``; schema
        version 2 when there is follow-up data (a study date, a time point,
        a lesion's role, node, organ or soft-tissue component).

    References
    ----------
    PS3.3 C.7.6.2.1.1 (LPS patient coordinates); C.7.4.1.1.1 Frame of Reference UID.
    """
    if not study_uid:
        raise ValueError("annotations are saved per study: study_uid is empty")
    if study_date and not _STUDY_DATE.match(study_date):
        raise ValueError(f"study_date must be YYYYMMDD, not {study_date!r}")
    lesions = annotation_set.lesions
    followup = bool(study_date or timepoint) or any(map(_has_followup, lesions))
    frames = dict.fromkeys(u for u in frame_of_reference_uids if u)
    for lesion in lesions:
        for annotation in lesion.annotations:
            if annotation.frame_of_reference_uid:
                frames.setdefault(annotation.frame_of_reference_uid)
    document: dict[str, Any] = {
        "schema": SCHEMA_V2 if followup else SCHEMA_V1,
        "coordinate_system": "LPS",
        "units": "mm",
        "written_by": f"imaging_viewer {__version__}",
        "study_instance_uid": study_uid,
    }
    if followup:
        document["study_date"] = study_date
        document["timepoint"] = timepoint
    document["frame_of_reference_uids"] = list(frames)
    document["lesions"] = [_lesion_to_json(lesion, followup) for lesion in lesions]
    if annotation_set.calibrations:
        # Optional: a reader that does not know it ignores it (from_json).
        document["calibrations"] = [c.to_json() for c in annotation_set.calibrations]
    if annotation_set.key_images:
        # Optional, like calibrations: images the reader marked as key.
        document["key_images"] = [m.to_json() for m in annotation_set.key_images]
    return document


# -------------------------------------------------------------- from JSON


def _field(mapping: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in mapping:
        raise AnnotationFileError(f"{where}: {key!r} is missing")
    value = mapping[key]
    # bool is an int in Python, never a number or an id here.
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise AnnotationFileError(
            f"{where}.{key}: expected {kind.__name__}, found {type(value).__name__}"
        )
    return value


def _text(mapping: Mapping[str, Any], key: str, where: str, default: str = "") -> str:
    if key not in mapping:
        return default
    value: str = _field(mapping, key, str, where)
    return value


def _number_list(value: Any, where: str) -> list[float]:
    if not isinstance(value, list) or len(value) != 3:
        raise AnnotationFileError(f"{where}: expected 3 numbers [x, y, z]")
    for number in value:
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise AnnotationFileError(f"{where}: expected numbers, found {number!r}")
    return [float(n) for n in value]


def check_schema(document: Mapping[str, Any]) -> None:
    """Raise :class:`AnnotationFileError` unless this version can read ``document``.

    Checks ``schema`` (name and version), ``coordinate_system`` and ``units``.
    """
    schema = document.get("schema")
    if not isinstance(schema, str) or not schema.startswith(SCHEMA_NAME + "/"):
        raise AnnotationFileError(
            f"not an imaging_viewer annotation file (schema {schema!r}, expected "
            f"{SCHEMA!r})"
        )
    version_text = schema[len(SCHEMA_NAME) + 1 :]
    if not version_text.isdigit() or int(version_text) < 1:
        raise AnnotationFileError(f"unknown schema version {schema!r}")
    if int(version_text) > SCHEMA_VERSION:
        raise AnnotationFileError(
            f"written by a newer imaging_viewer: schema {schema}; this version "
            f"({__version__}) reads {SCHEMA_V2}. Update imaging_viewer to open it"
        )
    if document.get("coordinate_system") != "LPS":
        raise AnnotationFileError(
            f"coordinate_system is {document.get('coordinate_system')!r}, not 'LPS'"
        )
    if document.get("units") != "mm":
        raise AnnotationFileError(f"units are {document.get('units')!r}, not 'mm'")


def _annotation_from_json(item: Any, lesion_id: str, where: str) -> Annotation:
    if not isinstance(item, dict):
        raise AnnotationFileError(f"{where}: expected an object")
    kind = _field(item, "kind", str, where)
    cls = ANNOTATION_KINDS.get(kind)
    if cls is None:
        raise AnnotationFileError(
            f"{where}.kind: unknown kind {kind!r} (known: "
            f"{', '.join(sorted(ANNOTATION_KINDS))})"
        )
    raw_points = _field(item, "points_lps", list, where)
    points = [
        _number_list(p, f"{where}.points_lps[{n}]") for n, p in enumerate(raw_points)
    ]
    frame = item.get("referenced_frame")
    if frame is not None and (isinstance(frame, bool) or not isinstance(frame, int)):
        raise AnnotationFileError(
            f"{where}.referenced_frame: expected an integer or null"
        )
    values: dict[str, Any] = {
        "id": _field(item, "id", str, where),
        "lesion_id": lesion_id,
        "label": _text(item, "label", where),
        "frame_of_reference_uid": _text(item, "frame_of_reference_uid", where),
        "referenced_sop_instance_uid": _text(
            item, "referenced_sop_instance_uid", where
        ),
        "referenced_frame": frame,
        "referenced_series_instance_uid": _text(
            item, "referenced_series_instance_uid", where
        ),
        "drawn_on_plane": _text(item, "drawn_on_plane", where),
        "plane_normal_lps": _number_list(
            item.get("plane_normal_lps"), f"{where}.plane_normal_lps"
        ),
    }
    if cls is PolygonRoi:
        values["vertices_lps"] = points
    else:
        if len(points) != len(cls.point_fields):
            raise AnnotationFileError(
                f"{where}.points_lps: a {kind} has {len(cls.point_fields)} points, "
                f"found {len(points)}"
            )
        values.update(zip(cls.point_fields, points, strict=True))
    if cls is TextLabel:
        values["text"] = _field(item, "text", str, where)
    try:
        return cls(**values)
    except ValueError as error:
        raise AnnotationFileError(f"{where}: {error}") from None


def _lesion_from_json(item: Any, where: str) -> Lesion:
    if not isinstance(item, dict):
        raise AnnotationFileError(f"{where}: expected an object")
    lesion_id: str = _field(item, "id", str, where)
    raw_annotations = _field(item, "annotations", list, where)
    annotations = tuple(
        _annotation_from_json(a, lesion_id, f"{where}.annotations[{n}]")
        for n, a in enumerate(raw_annotations)
    )
    values: dict[str, Any] = {k: _text(item, k, where) for k in _LESION_TEXT_KEYS}
    values["colour"] = _field(item, "colour", str, where)
    values["tracking_uid"] = _field(item, "tracking_uid", str, where)
    # Schema version 2; absent in version 1 (and read as not assigned).
    values["role"] = _text(item, "role", where)
    values["organ"] = _text(item, "organ", where)
    for flag in ("nodal", "soft_tissue_component"):
        values[flag] = _field(item, flag, bool, where) if flag in item else False
    try:
        return Lesion(id=lesion_id, annotations=annotations, **values)
    except ValueError as error:
        raise AnnotationFileError(f"{where}: {error}") from None


def study_uid_of(document: Mapping[str, Any]) -> str:
    """The ``study_instance_uid`` of an annotation document."""
    uid: str = _field(document, "study_instance_uid", str, "file")
    return uid


def timepoint_of(document: Mapping[str, Any]) -> tuple[str, str]:
    """``(study_date, timepoint)`` of an annotation document (``""`` if absent).

    Raises
    ------
    AnnotationFileError
        If either is not a string, or the date is not ``YYYYMMDD``.
    """
    study_date = _text(document, "study_date", "file")
    if study_date and not _STUDY_DATE.match(study_date):
        raise AnnotationFileError(
            f"file.study_date: expected YYYYMMDD (PS3.5 DA), found {study_date!r}"
        )
    return study_date, _text(document, "timepoint", "file")


def from_json(document: Mapping[str, Any]) -> AnnotationSet:
    """The :class:`AnnotationSet` of an annotation document (empty undo history).

    Keys this version does not know are ignored (a version 1 reader skips
    additions that do not change the meaning of the keys it knows).

    Raises
    ------
    AnnotationFileError
        If the schema is not ``imaging_viewer.annotations/1`` or ``/2`` (a
        newer one says so), or the content is malformed.
    """
    if not isinstance(document, dict):
        raise AnnotationFileError("expected a JSON object at the top level")
    check_schema(document)
    study_uid_of(document)
    try:
        check_annotation_count(document)
    except AnnotationLimitError as error:
        raise AnnotationFileError(str(error)) from None
    raw_lesions = _field(document, "lesions", list, "file")
    lesions = [
        _lesion_from_json(item, f"lesions[{n}]") for n, item in enumerate(raw_lesions)
    ]
    try:
        annotation_set = AnnotationSet(lesions)
    except ValueError as error:
        raise AnnotationFileError(str(error)) from None
    for calibration in _calibrations_from_json(document):
        annotation_set.set_calibration(calibration)
    for mark in _key_images_from_json(document):
        annotation_set.mark_key_image(mark)
    return annotation_set


def _calibrations_from_json(document: Mapping[str, Any]) -> list[Calibration]:
    raw = document.get("calibrations", [])
    if not isinstance(raw, list):
        raise AnnotationFileError("calibrations must be a list")
    result = []
    for n, item in enumerate(raw):
        if not isinstance(item, dict):
            raise AnnotationFileError(f"calibrations[{n}] must be an object")
        try:
            result.append(Calibration.from_json(item))
        except (TypeError, ValueError) as error:
            raise AnnotationFileError(f"calibrations[{n}]: {error}") from None
    return result


def _key_images_from_json(document: Mapping[str, Any]) -> list[KeyImageMark]:
    raw = document.get("key_images", [])
    if not isinstance(raw, list):
        raise AnnotationFileError("key_images must be a list")
    result = []
    for n, item in enumerate(raw):
        if not isinstance(item, dict):
            raise AnnotationFileError(f"key_images[{n}] must be an object")
        try:
            result.append(KeyImageMark.from_json(item))
        except (TypeError, ValueError) as error:
            raise AnnotationFileError(f"key_images[{n}]: {error}") from None
    return result


# ------------------------------------------------------------------- files


def save_atomic(path: str | os.PathLike[str], document: Mapping[str, Any]) -> None:
    """Write ``document`` as JSON to ``path`` so the old file survives any failure.

    Written by :func:`~imaging_viewer.core.files.write_text_atomic`: to a
    temporary file in the same folder, fsynced, then renamed over ``path``.
    Whenever it is interrupted (an error, a full disk, the process killed),
    ``path`` holds either the previous file or the new one, whole. A kill can
    leave a hidden ``.<name>.*.tmp`` file behind; the next save to ``path``
    removes it once stale.

    Parameters
    ----------
    path : path-like
        The file to replace (created with its folder if missing). An existing
        file keeps its permission bits; a new one follows the umask.
    document : mapping
        JSON-ready (e.g. from :func:`to_json`); NaN and infinity are refused.
    """
    target = Path(path)
    # Compact: indenting would make json use its pure-Python encoder, several
    # times slower on long freehand outlines.
    data = json.dumps(
        document, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(target, data)


def read_document(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON object in an annotation file (schema not checked).

    Raises
    ------
    AnnotationFileError
        If the file is not UTF-8 JSON holding an object.
    OSError
        If it cannot be read (FileNotFoundError if it is not there).
    """
    source = Path(path)
    try:
        raw = read_bounded(source)
        document = parse_bounded(raw.decode("utf-8"))
        check_annotation_count(document)
    except AnnotationLimitError as error:
        raise AnnotationFileError(f"not read: {error}", source) from None
    except UnicodeDecodeError:
        raise AnnotationFileError(
            "not an annotation file: not UTF-8 text", source
        ) from None
    except json.JSONDecodeError as error:
        raise AnnotationFileError(
            f"not an annotation file, or a damaged one: invalid JSON ({error})", source
        ) from None
    if not isinstance(document, dict):
        raise AnnotationFileError(
            "not an annotation file: the JSON is not an object", source
        )
    return document


def load(path: str | os.PathLike[str], expected_study_uid: str) -> AnnotationSet:
    """Read an annotation file of the study ``expected_study_uid``.

    Never writes to ``path``.

    Parameters
    ----------
    path : path-like
        The file.
    expected_study_uid : str
        Study Instance UID (0020,000D) of the open study.

    Returns
    -------
    AnnotationSet
        With an empty undo history.

    Raises
    ------
    AnnotationFileError
        If the file is not JSON or is damaged, was written by a newer
        imaging_viewer (a newer schema version), or belongs to another study.
    OSError
        If it cannot be read (FileNotFoundError if it is not there).
    """
    source = Path(path)
    document = read_document(source)
    try:
        check_schema(document)
        study_uid = study_uid_of(document)
    except AnnotationFileError as error:
        raise AnnotationFileError(error.reason, source) from None
    if study_uid != expected_study_uid:
        raise AnnotationFileError(
            f"holds the annotations of study {study_uid}, not of the open study "
            f"{expected_study_uid}",
            source,
        )
    try:
        return from_json(document)
    except AnnotationFileError as error:
        raise AnnotationFileError(error.reason, source) from None


# ---------------------------------------------------------------- autosave


def user_data_dir() -> Path:
    """Where imaging_viewer keeps per-user data.

    ``$XDG_DATA_HOME/imaging_viewer`` (default ``~/.local/share/imaging_viewer``)
    on Linux and other POSIX systems, ``~/Library/Application
    Support/imaging_viewer`` on macOS, ``%LOCALAPPDATA%\\imaging_viewer`` on
    Windows.
    """
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        base = Path(local) if local else Path.home() / "AppData" / "Local"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        # XDG Base Directory: a relative XDG_DATA_HOME is invalid and ignored.
        xdg = os.environ.get("XDG_DATA_HOME", "")
        base = Path(xdg) if xdg and Path(xdg).is_absolute() else None
        if base is None:
            base = Path.home() / ".local" / "share"
    return base / "imaging_viewer"


def sidecar_path(study_uid: str) -> Path:
    """The autosave file of a study: ``<user data>/annotations/<study uid>.json``."""
    name = _SAFE_NAME.sub("_", study_uid.strip())
    if not name.strip("."):
        raise ValueError(f"no file name can be made of study uid {study_uid!r}")
    return user_data_dir() / "annotations" / f"{name}.json"


def _ids(annotation_set: AnnotationSet) -> set[str]:
    ids = {lesion.id for lesion in annotation_set.lesions}
    ids.update(annotation.id for annotation in annotation_set.annotations())
    return ids


def _document_ids(document: Mapping[str, Any]) -> set[str]:
    return _ids(from_json(document))


class Autosaver:
    """Saves an :class:`AnnotationSet` a moment after it last changed.

    Each :attr:`AnnotationSet.changed` (re)starts a :class:`threading.Timer` of
    ``delay_s``; when it fires, the set is written with :func:`save_atomic` to
    ``path_provider(study_uid)``. :meth:`flush` writes at once (e.g. before
    closing the study). :attr:`saved` and :attr:`failed` are emitted from the
    thread that saved (the timer's, or the caller of :meth:`flush`).

    An existing file is replaced only if everything in it was in the set when
    :meth:`watch` was called (the set was loaded from it) and it reads as this
    study's annotation file. Otherwise it is left alone: the annotations go to
    ``<name>.1.json`` (or the next free number) beside it, and :attr:`failed`
    says why.

    Parameters
    ----------
    path_provider : callable
        Study Instance UID -> the file to write (default :func:`sidecar_path`).
    delay_s : float
        Quiet time after the last change before saving.
    """

    saved = Signal(object)
    """Emitted with the :class:`~pathlib.Path` written."""
    failed = Signal(str)
    """Emitted with a message when saving failed or had to go elsewhere."""

    def __init__(
        self,
        path_provider: Callable[[str], Path] = sidecar_path,
        delay_s: float = 2.0,
    ) -> None:
        if delay_s < 0:
            raise ValueError("delay_s must be >= 0")
        self._path_provider = path_provider
        self._delay_s = float(delay_s)
        self._lock = threading.Lock()
        self._save_lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._pending = False
        self._set: AnnotationSet | None = None
        self._study_uid = ""
        self._frames: tuple[str, ...] = ()
        self._study_date = ""
        self._timepoint = ""
        self._known_ids: set[str] = set()
        self._path: Path | None = None

    @property
    def path(self) -> Path | None:
        """The file being saved to, once known (after the first save)."""
        return self._path

    @property
    def pending(self) -> bool:
        """True while a change waits to be saved."""
        return self._pending

    def watch(
        self,
        annotation_set: AnnotationSet,
        study_uid: str,
        frame_of_reference_uids: Iterable[str] = (),
        *,
        study_date: str = "",
        timepoint: str = "",
    ) -> None:
        """Start saving ``annotation_set`` (of ``study_uid``) when it changes.

        Whatever was watched before is flushed first. ``study_date`` and
        ``timepoint`` are written with it (see :func:`to_json`).
        """
        if not study_uid:
            raise ValueError("autosave needs the study uid")
        self.unwatch()
        self._set = annotation_set
        self._study_uid = study_uid
        self._frames = tuple(frame_of_reference_uids)
        self._study_date = study_date
        self._timepoint = timepoint
        self._known_ids = _ids(annotation_set)
        self._path = None
        annotation_set.changed.connect(self._on_changed)

    def set_timepoint(self, timepoint: str) -> None:
        """Write ``timepoint`` as the file's time point label from now on; the
        file is saved at once (docs/annotations.md, ``"timepoint"``)."""
        self._timepoint = timepoint
        if self._set is None:
            return
        with self._lock:
            self._pending = True
        self.flush()

    def unwatch(self) -> None:
        """Save what is pending and stop watching."""
        if self._set is None:
            return
        try:
            self.flush()
        finally:
            self._set.changed.disconnect(self._on_changed)
            self._set = None

    def close(self) -> None:
        """Same as :meth:`unwatch` (for ``contextlib.closing``)."""
        self.unwatch()

    def _on_changed(self, _description: str) -> None:
        assert self._set is not None
        self._known_ids |= _ids(self._set)
        with self._lock:
            self._pending = True
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self._delay_s, self._on_timer)
            self._timer.daemon = True
            self._timer.start()

    def _on_timer(self) -> None:
        try:
            self._save()
        except Exception as error:
            self.failed.emit(f"autosave failed: {error}")

    def flush(self) -> Path | None:
        """Save now if a change is pending; returns the path written, or None.

        Raises
        ------
        OSError
            If the file cannot be written (the change stays pending).
        """
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        return self._save()

    def _save(self) -> Path | None:
        with self._save_lock:
            annotation_set = self._set
            with self._lock:
                if not self._pending or annotation_set is None:
                    return None
                self._pending = False
            try:
                document = to_json(
                    annotation_set,
                    self._study_uid,
                    self._frames,
                    study_date=self._study_date,
                    timepoint=self._timepoint,
                )
                path = self._target()
                save_atomic(path, document)
            except BaseException:
                with self._lock:
                    self._pending = True
                raise
        self.saved.emit(path)
        return path

    def _target(self) -> Path:
        """The file to write, chosen (and checked) at the first save."""
        if self._path is not None:
            return self._path
        path = Path(self._path_provider(self._study_uid))
        reason = self._reason_not_to_replace(path)
        if reason:
            alternative = _free_sibling(path)
            self.failed.emit(
                f"{path} was left as it is ({reason}); annotations are saved to "
                f"{alternative} instead"
            )
            path = alternative
        self._path = path
        return path

    def _reason_not_to_replace(self, path: Path) -> str:
        if not path.exists():
            return ""
        try:
            document = read_document(path)
            check_schema(document)
            if study_uid_of(document) != self._study_uid:
                return "it belongs to another study"
            unknown = _document_ids(document) - self._known_ids
        except AnnotationFileError as error:
            return error.reason
        except OSError as error:
            return f"it cannot be read: {error}"
        if unknown:
            return "it holds annotations that were not loaded into this session"
        return ""


def _free_sibling(path: Path) -> Path:
    number = 1
    while True:
        candidate = path.with_name(f"{path.stem}.{number}{path.suffix}")
        if not candidate.exists():
            return candidate
        number += 1
