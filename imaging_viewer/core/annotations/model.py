"""Lesions, the annotations they own, and AnnotationSet: ordered, evented, undoable.

Every model here is immutable: an edit builds a new :class:`Lesion` or annotation
and an :class:`AnnotationSet` command swaps it in, so undo and redo only swap
references back and forth, and observers can keep what they were given.
Points are LPS millimetres (PS3.3 C.7.6.2.1.1: +x toward the patient's left,
+y posterior, +z superior).
"""

from __future__ import annotations

import math
import re
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar, Final, Protocol, Self

import numpy as np
from psygnal import Signal

from imaging_viewer.core.annotations.anatomic_sites import LATERALITIES

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from numpy.typing import ArrayLike, NDArray

    from imaging_viewer.core.annotations.calibration import Calibration
    from imaging_viewer.core.annotations.key_image_marks import KeyImageMark

Point3 = tuple[float, float, float]
"""An LPS point or direction in millimetres."""

DEFAULT_UNDO_DEPTH: Final = 1000
"""Undo steps an :class:`AnnotationSet` keeps unless told otherwise."""
MIN_UNDO_DEPTH: Final = 200

LESION_COLOURS: Final = (
    "#e6194b",
    "#3cb44b",
    "#ffe119",
    "#4363d8",
    "#f58231",
    "#911eb4",
    "#42d4f4",
    "#f032e6",
)
"""Colours given to new lesions in turn (distinct on grey images)."""

DRAWN_ON_PLANES: Final = ("", "axial", "coronal", "sagittal", "oblique")
"""Where an annotation was drawn: ``""`` an acquired image, else an MPR plane."""

LESION_ROLES: Final = ("", "target", "non-target", "new")
"""A lesion's role over time (RECIST 1.1); ``""`` is not assigned yet."""

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
# PS3.5 9.1: components of digits without leading zeros, dot-separated, ≤ 64 chars.
_UID = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$")
# A perpendicularity the JSON round trip and hand editing keep (cos of ~89.94°).
_PERPENDICULAR_COS: Final = 1e-3


def new_id() -> str:
    """A random identifier (UUID version 4) for a lesion or an annotation."""
    return str(uuid.uuid4())


def new_uid() -> str:
    """A new DICOM UID under the ``2.25`` root (a UUID as one integer).

    References
    ----------
    PS3.5 B.2 UUID Derived UID; PS3.5 9.1 UID Encoding Rules.
    """
    return f"2.25.{uuid.uuid4().int}"


def is_valid_uid(value: str) -> bool:
    """True if ``value`` follows the DICOM UID encoding rules (PS3.5 9.1)."""
    return 0 < len(value) <= 64 and _UID.match(value) is not None


def as_point(value: ArrayLike, name: str = "point") -> Point3:
    """``value`` as a :data:`Point3` (ValueError unless 3 finite numbers)."""
    return _point(value, name)


def _point(value: Any, name: str) -> Point3:
    array = np.asarray(value, dtype=np.float64).reshape(-1)
    if array.shape != (3,) or not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be 3 finite numbers (LPS mm), not {value!r}")
    return float(array[0]), float(array[1]), float(array[2])


def _unit_point(value: Any, name: str) -> Point3:
    point = _point(value, name)
    norm = math.sqrt(sum(c * c for c in point))
    if norm == 0.0:
        raise ValueError(f"{name} must not be zero")
    # Leave unit vectors bit-identical, so a JSON round trip compares equal.
    if abs(norm - 1.0) <= 1e-12:
        return point
    return point[0] / norm, point[1] / norm, point[2] / norm


def _vector(a: Point3, b: Point3) -> NDArray[np.float64]:
    return np.subtract(b, a)


# ------------------------------------------------------------------ annotations


@dataclass(frozen=True, kw_only=True)
class Annotation:
    """What every annotation has: where it was drawn, and for which lesion.

    Subclasses add their points as fields ending in ``_lps``;
    :attr:`points_lps` lists them in a fixed order (the order of the JSON file)
    and :meth:`with_points` builds a copy with new ones.
    """

    kind: ClassVar[str] = ""
    """Name in the annotation file (``"ruler"``, ``"angle"``, ...)."""
    point_fields: ClassVar[tuple[str, ...]] = ()
    """Names of the point fields, in the order of :attr:`points_lps`."""

    id: str = field(default_factory=new_id)
    lesion_id: str
    """The :class:`Lesion` this annotation belongs to."""
    frame_of_reference_uid: str = ""
    """Frame of Reference UID of the image it was drawn on (PS3.3 C.7.4.1.1.1);
    LPS points compare only within one frame of reference."""
    referenced_sop_instance_uid: str = ""
    """SOP Instance UID of the image it was drawn on; for a reformatted plane,
    of the acquired image nearest its centre (empty in older files)."""
    referenced_frame: int | None = None
    """Frame number (1-based, PS3.3 C.7.6.6) in a multi-frame image, else None."""
    referenced_series_instance_uid: str = ""
    """Series Instance UID (PS3.3 C.7.3.1) of the series it was drawn on; empty
    in files written before it was recorded."""
    drawn_on_plane: str = ""
    """Empty when drawn on an acquired image; else the reformatted plane it was
    drawn on (``axial``, ``coronal``, ``sagittal`` or ``oblique`` MPR), and the
    referenced image is the acquired image of the drawn series nearest its centre."""
    plane_normal_lps: Point3
    """Unit normal of the plane it was drawn on."""
    label: str = ""

    def __post_init__(self) -> None:
        if not self.lesion_id:
            raise ValueError("an annotation needs the id of its lesion")
        object.__setattr__(
            self,
            "plane_normal_lps",
            _unit_point(self.plane_normal_lps, "plane_normal_lps"),
        )
        if self.drawn_on_plane not in DRAWN_ON_PLANES:
            raise ValueError(
                f"drawn_on_plane is one of {DRAWN_ON_PLANES[1:]} or empty, "
                f"not {self.drawn_on_plane!r}"
            )
        if self.referenced_frame is not None:
            frame = int(self.referenced_frame)
            if frame < 1:
                raise ValueError(f"referenced_frame is 1-based, not {frame}")
            object.__setattr__(self, "referenced_frame", frame)
        for name in self.point_fields:
            object.__setattr__(self, name, _point(getattr(self, name), name))
        self._validate()

    def _validate(self) -> None:
        """Check constraints between points (subclasses)."""

    @property
    def points_lps(self) -> NDArray[np.float64]:
        """All points, shape (n, 3), LPS mm, in the order of :attr:`point_fields`."""
        return np.array([getattr(self, name) for name in self.point_fields])

    def with_points(self, points_lps: ArrayLike) -> Self:
        """A copy with new points (same order and count as :attr:`points_lps`)."""
        points = np.asarray(points_lps, dtype=np.float64)
        if points.shape != (len(self.point_fields), 3):
            raise ValueError(
                f"a {self.kind} has {len(self.point_fields)} points, "
                f"not an array of shape {points.shape}"
            )
        changes: dict[str, Any] = {
            name: _point(p, name)
            for name, p in zip(self.point_fields, points, strict=True)
        }
        return replace(self, **changes)

    def translated(self, offset_lps: ArrayLike) -> Self:
        """A copy moved by ``offset_lps`` (mm)."""
        offset = np.asarray(_point(offset_lps, "offset_lps"))
        return self.with_points(self.points_lps + offset)


@dataclass(frozen=True, kw_only=True)
class PointMarker(Annotation):
    """A point marking a place (e.g. a skip lesion)."""

    kind: ClassVar[str] = "point"
    point_fields: ClassVar[tuple[str, ...]] = ("position_lps",)
    position_lps: Point3


@dataclass(frozen=True, kw_only=True)
class Arrow(Annotation):
    """An arrow pointing at ``tip_lps`` from ``tail_lps``."""

    kind: ClassVar[str] = "arrow"
    point_fields: ClassVar[tuple[str, ...]] = ("tip_lps", "tail_lps")
    tip_lps: Point3
    tail_lps: Point3


@dataclass(frozen=True, kw_only=True)
class TextLabel(Annotation):
    """Text placed at ``anchor_lps`` (its top-left corner on screen)."""

    kind: ClassVar[str] = "text"
    point_fields: ClassVar[tuple[str, ...]] = ("anchor_lps",)
    anchor_lps: Point3
    text: str


@dataclass(frozen=True, kw_only=True)
class Ruler(Annotation):
    """A distance between two points."""

    kind: ClassVar[str] = "ruler"
    point_fields: ClassVar[tuple[str, ...]] = ("start_lps", "end_lps")
    start_lps: Point3
    end_lps: Point3


@dataclass(frozen=True, kw_only=True)
class Angle(Annotation):
    """The angle at ``vertex_lps`` between the arms to ``first_lps``, ``second_lps``."""

    kind: ClassVar[str] = "angle"
    point_fields: ClassVar[tuple[str, ...]] = ("first_lps", "vertex_lps", "second_lps")
    first_lps: Point3
    vertex_lps: Point3
    second_lps: Point3


@dataclass(frozen=True, kw_only=True)
class CobbAngle(Annotation):
    """The angle between two lines (e.g. along two vertebral endplates)."""

    kind: ClassVar[str] = "cobb_angle"
    point_fields: ClassVar[tuple[str, ...]] = (
        "line1_start_lps",
        "line1_end_lps",
        "line2_start_lps",
        "line2_end_lps",
    )
    line1_start_lps: Point3
    line1_end_lps: Point3
    line2_start_lps: Point3
    line2_end_lps: Point3

    @property
    def line1_lps(self) -> NDArray[np.float64]:
        """The first line, shape (2, 3)."""
        return np.array([self.line1_start_lps, self.line1_end_lps])

    @property
    def line2_lps(self) -> NDArray[np.float64]:
        """The second line, shape (2, 3)."""
        return np.array([self.line2_start_lps, self.line2_end_lps])


@dataclass(frozen=True, kw_only=True)
class EllipseRoi(Annotation):
    """An ellipse: its centre and the ends of its two semi-axes, in one plane.

    The semi-axes ``axis1_end_lps - centre_lps`` and ``axis2_end_lps -
    centre_lps`` are perpendicular and not zero.
    """

    kind: ClassVar[str] = "ellipse"
    point_fields: ClassVar[tuple[str, ...]] = (
        "centre_lps",
        "axis1_end_lps",
        "axis2_end_lps",
    )
    centre_lps: Point3
    axis1_end_lps: Point3
    axis2_end_lps: Point3

    def _validate(self) -> None:
        a = _vector(self.centre_lps, self.axis1_end_lps)
        b = _vector(self.centre_lps, self.axis2_end_lps)
        norm_a, norm_b = float(np.linalg.norm(a)), float(np.linalg.norm(b))
        if norm_a == 0.0 or norm_b == 0.0:
            raise ValueError("an ellipse needs two semi-axes longer than 0 mm")
        if abs(float(a @ b)) > _PERPENDICULAR_COS * norm_a * norm_b:
            raise ValueError("the semi-axes of an ellipse must be perpendicular")

    @property
    def semi_axes_mm(self) -> tuple[float, float]:
        """Lengths of the two semi-axes."""
        a = _vector(self.centre_lps, self.axis1_end_lps)
        b = _vector(self.centre_lps, self.axis2_end_lps)
        return float(np.linalg.norm(a)), float(np.linalg.norm(b))


@dataclass(frozen=True, kw_only=True)
class PolygonRoi(Annotation):
    """A closed outline through ``vertices_lps`` (a freehand outline has many)."""

    kind: ClassVar[str] = "polygon"
    vertices_lps: tuple[Point3, ...]

    def __post_init__(self) -> None:
        vertices = tuple(
            _point(v, f"vertices_lps[{n}]") for n, v in enumerate(self.vertices_lps)
        )
        if len(vertices) < 3:
            raise ValueError(
                f"a polygon needs at least 3 vertices, not {len(vertices)}"
            )
        object.__setattr__(self, "vertices_lps", vertices)
        super().__post_init__()

    @property
    def points_lps(self) -> NDArray[np.float64]:
        """The vertices, shape (n, 3)."""
        return np.array(self.vertices_lps)

    def with_points(self, points_lps: ArrayLike) -> Self:
        """A copy with new vertices (any number ≥ 3)."""
        points = np.asarray(points_lps, dtype=np.float64)
        if points.ndim != 2 or points.shape[1] != 3:
            raise ValueError(f"vertices must have shape (n, 3), not {points.shape}")
        return replace(self, vertices_lps=tuple(_point(p, "vertex") for p in points))


@dataclass(frozen=True, kw_only=True)
class Bidirectional(Annotation):
    """Longest diameter and the longest diameter perpendicular to it (RECIST).

    The short axis is perpendicular to the long axis.

    References
    ----------
    Eisenhauer et al., New response evaluation criteria in solid tumours:
    revised RECIST guideline (version 1.1), Eur J Cancer 2009;45:228-247.
    """

    kind: ClassVar[str] = "bidirectional"
    point_fields: ClassVar[tuple[str, ...]] = (
        "long_start_lps",
        "long_end_lps",
        "short_start_lps",
        "short_end_lps",
    )
    long_start_lps: Point3
    long_end_lps: Point3
    short_start_lps: Point3
    short_end_lps: Point3

    def _validate(self) -> None:
        long_axis = _vector(self.long_start_lps, self.long_end_lps)
        short_axis = _vector(self.short_start_lps, self.short_end_lps)
        norm_long = float(np.linalg.norm(long_axis))
        norm_short = float(np.linalg.norm(short_axis))
        if norm_long == 0.0:
            raise ValueError("the long axis of a bidirectional measurement is 0 mm")
        if abs(float(long_axis @ short_axis)) > _PERPENDICULAR_COS * (
            norm_long * norm_short
        ):
            raise ValueError("the short axis must be perpendicular to the long axis")

    @property
    def long_axis_lps(self) -> NDArray[np.float64]:
        """The long axis, shape (2, 3)."""
        return np.array([self.long_start_lps, self.long_end_lps])

    @property
    def short_axis_lps(self) -> NDArray[np.float64]:
        """The short axis, shape (2, 3)."""
        return np.array([self.short_start_lps, self.short_end_lps])


ANNOTATION_KINDS: Final[dict[str, type[Annotation]]] = {
    cls.kind: cls
    for cls in (
        PointMarker,
        Arrow,
        TextLabel,
        Ruler,
        Angle,
        CobbAngle,
        EllipseRoi,
        PolygonRoi,
        Bidirectional,
    )
}
"""Annotation classes by :attr:`Annotation.kind`."""


# ----------------------------------------------------------------------- lesion


@dataclass(frozen=True, kw_only=True)
class Lesion:
    """A lesion followed over time, and the annotations that show or measure it.

    ``tracking_uid`` identifies the lesion across studies in a structured report
    (PS3.16 TID 1500, Tracking Unique Identifier (112040)), so the same lesion
    is recognised before and after treatment.
    """

    id: str = field(default_factory=new_id)
    label: str = ""
    """Short name shown beside its annotations, e.g. ``"Lesion 1"``."""
    site: str = ""
    """Where it is, e.g. ``"left distal femur, metaphysis"``."""
    site_code: str = ""
    """Coded Finding Site (PS3.16 TID 1501 row 11): its SNOMED CT code value, e.g.
    ``"71341001"`` (see ``anatomic_sites``), or ``""``; ``site`` stays free text."""
    site_meaning: str = ""
    """The coded site's code meaning, e.g. ``"Femur"``."""
    laterality: str = ""
    """``"left"``, ``"right"``, ``"bilateral"`` or ``""`` (PS3.16 CID 244)."""
    finding: str = ""
    diagnosis: str = ""
    note: str = ""
    colour: str = LESION_COLOURS[0]
    """``#rrggbb``."""
    tracking_uid: str = field(default_factory=new_uid)
    """A DICOM UID (PS3.5 9.1) for SR tracking (PS3.16 TID 1500)."""
    annotations: tuple[Annotation, ...] = ()
    role: str = ""
    """RECIST 1.1 role over time: ``"target"``, ``"non-target"``, ``"new"``, or
    ``""`` while not assigned (Eisenhauer et al. 2009, 4.2 and 4.3.3)."""
    nodal: bool = False
    """A lymph node: measured by its short axis (RECIST 1.1, 4.2)."""
    organ: str = ""
    """Organ or site for the two-targets-per-organ rule, e.g. ``"lung"``."""
    soft_tissue_component: bool = False
    """A bone lesion with a measurable soft-tissue component (RECIST 1.1, 3.1.2):
    only then is a bone lesion measurable."""

    EDITABLE_FIELDS: ClassVar[tuple[str, ...]] = (
        "label",
        "site",
        "site_code",
        "site_meaning",
        "laterality",
        "finding",
        "diagnosis",
        "note",
        "colour",
        "tracking_uid",
        "role",
        "nodal",
        "organ",
        "soft_tissue_component",
    )
    FOLLOWUP_FIELDS: ClassVar[tuple[str, ...]] = (
        "role",
        "nodal",
        "organ",
        "soft_tissue_component",
    )
    """Fields added by annotation file schema version 2 (follow-up)."""

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("a lesion needs an id")
        if self.role not in LESION_ROLES:
            raise ValueError(
                f"role must be one of {', '.join(map(repr, LESION_ROLES))}, "
                f"not {self.role!r}"
            )
        if self.laterality not in ("", *LATERALITIES):
            raise ValueError(
                f"laterality must be one of {', '.join(LATERALITIES)} or empty, "
                f"not {self.laterality!r}"
            )
        if bool(self.site_code) != bool(self.site_meaning):
            raise ValueError("a coded site needs both its code and its meaning")
        object.__setattr__(self, "nodal", bool(self.nodal))
        object.__setattr__(
            self, "soft_tissue_component", bool(self.soft_tissue_component)
        )
        if not _COLOUR.match(self.colour):
            raise ValueError(f"colour must be #rrggbb, not {self.colour!r}")
        object.__setattr__(self, "colour", self.colour.lower())
        if not is_valid_uid(self.tracking_uid):
            raise ValueError(
                f"tracking_uid is not a DICOM UID (PS3.5 9.1): {self.tracking_uid!r}"
            )
        annotations = tuple(self.annotations)
        ids = set()
        for annotation in annotations:
            if annotation.lesion_id != self.id:
                raise ValueError(
                    f"annotation {annotation.id} belongs to lesion "
                    f"{annotation.lesion_id}, not {self.id}"
                )
            if annotation.id in ids:
                raise ValueError(f"annotation id {annotation.id} appears twice")
            ids.add(annotation.id)
        object.__setattr__(self, "annotations", annotations)

    def annotation_index(self, annotation_id: str) -> int:
        """Position of an annotation in :attr:`annotations` (ValueError if absent)."""
        for index, annotation in enumerate(self.annotations):
            if annotation.id == annotation_id:
                return index
        raise ValueError(f"lesion {self.id} has no annotation {annotation_id}")


# --------------------------------------------------------------------- commands


class Command(Protocol):
    """One undoable edit of the list of lesions of an :class:`AnnotationSet`."""

    @property
    def description(self) -> str:
        """What the edit does, for Edit menus and :attr:`AnnotationSet.changed`."""
        ...

    def apply(self, lesions: list[Lesion]) -> None:
        """Make the edit."""

    def revert(self, lesions: list[Lesion]) -> None:
        """Undo the edit; ``lesions`` is as :meth:`apply` left it."""


@dataclass(frozen=True)
class InsertLesion:
    """Put ``lesion`` at ``index``."""

    description: str
    index: int
    lesion: Lesion

    def apply(self, lesions: list[Lesion]) -> None:
        """Insert the lesion."""
        lesions.insert(self.index, self.lesion)

    def revert(self, lesions: list[Lesion]) -> None:
        """Take it out again."""
        del lesions[self.index]


@dataclass(frozen=True)
class DeleteLesion:
    """Take out the lesion at ``index`` (with its annotations)."""

    description: str
    index: int
    lesion: Lesion

    def apply(self, lesions: list[Lesion]) -> None:
        """Remove the lesion."""
        del lesions[self.index]

    def revert(self, lesions: list[Lesion]) -> None:
        """Put it back where it was."""
        lesions.insert(self.index, self.lesion)


@dataclass(frozen=True)
class ReplaceLesion:
    """Swap the lesion at ``index`` for an edited copy (its fields or annotations)."""

    description: str
    index: int
    before: Lesion
    after: Lesion

    def apply(self, lesions: list[Lesion]) -> None:
        """Put in the edited lesion."""
        lesions[self.index] = self.after

    def revert(self, lesions: list[Lesion]) -> None:
        """Put back the lesion as it was."""
        lesions[self.index] = self.before


@dataclass(frozen=True)
class MoveLesion:
    """Move the lesion at ``source`` to position ``target`` of the list."""

    description: str
    source: int
    target: int

    def apply(self, lesions: list[Lesion]) -> None:
        """Reorder."""
        lesions.insert(self.target, lesions.pop(self.source))

    def revert(self, lesions: list[Lesion]) -> None:
        """Restore the order."""
        lesions.insert(self.source, lesions.pop(self.target))


@dataclass(frozen=True)
class MacroCommand:
    """Several commands undone and redone as one step."""

    description: str
    commands: tuple[Command, ...]

    def apply(self, lesions: list[Lesion]) -> None:
        """Apply each command in turn."""
        for command in self.commands:
            command.apply(lesions)

    def revert(self, lesions: list[Lesion]) -> None:
        """Revert each command, last first."""
        for command in reversed(self.commands):
            command.revert(lesions)


# ---------------------------------------------------------------- the set


class AnnotationSet:
    """The lesions of a study, in order, with their annotations.

    Every edit is a :class:`Command` pushed on an undo stack (at least
    :data:`MIN_UNDO_DEPTH` steps deep); :meth:`macro` groups several edits into
    one step. After each edit, undo and redo, :attr:`changed` is emitted once
    with a description of what happened (``"add ruler"``, ``"undo add ruler"``).

    Selection and the preview of an annotation being drawn are view state, not
    edits: they are not undoable and have their own signals.
    """

    changed = Signal(str)
    """Emitted after every edit, undo and redo, with its description."""
    selection_changed = Signal(object)
    """Emitted with the id of the selected annotation, or None."""
    preview_changed = Signal(object)
    """Emitted with the annotation being drawn or dragged, or None when done."""

    def __init__(
        self, lesions: Iterable[Lesion] = (), *, undo_depth: int = DEFAULT_UNDO_DEPTH
    ) -> None:
        if undo_depth < MIN_UNDO_DEPTH:
            raise ValueError(f"undo_depth must be at least {MIN_UNDO_DEPTH}")
        self._lesions: list[Lesion] = []
        # Ids seen so far, in sets: checking each lesion against all before it
        # one by one made opening a file of n annotations take n² steps.
        lesion_ids: set[str] = set()
        annotation_ids: set[str] = set()
        for lesion in lesions:
            if lesion.id in lesion_ids:
                raise ValueError(f"lesion id {lesion.id} is already used")
            clash = annotation_ids.intersection(a.id for a in lesion.annotations)
            if clash:
                raise ValueError(f"annotation id {sorted(clash)[0]} is already used")
            lesion_ids.add(lesion.id)
            annotation_ids.update(a.id for a in lesion.annotations)
            self._lesions.append(lesion)
        self._undo: list[Command] = []
        self._redo: list[Command] = []
        self._undo_depth = undo_depth
        self._macros: list[list[Command]] = []
        self._selected_id: str | None = None
        self._preview: Annotation | None = None
        self._calibrations: dict[tuple[str, int | None], Calibration] = {}
        self._key_images: dict[tuple[str, int | None], KeyImageMark] = {}

    # -- reading

    @property
    def lesions(self) -> tuple[Lesion, ...]:
        """The lesions, in order (a snapshot)."""
        return tuple(self._lesions)

    def __len__(self) -> int:
        return len(self._lesions)

    def __iter__(self) -> Iterator[Lesion]:
        return iter(tuple(self._lesions))

    def lesion(self, lesion_id: str) -> Lesion:
        """The lesion with this id (KeyError if none)."""
        return self._lesions[self._lesion_index(lesion_id)]

    def has_lesion(self, lesion_id: str) -> bool:
        """True if a lesion has this id."""
        return any(lesion.id == lesion_id for lesion in self._lesions)

    def annotations(self) -> Iterator[Annotation]:
        """Every annotation, lesion by lesion."""
        for lesion in tuple(self._lesions):
            yield from lesion.annotations

    def annotation(self, annotation_id: str) -> Annotation:
        """The annotation with this id (KeyError if none)."""
        lesion = self.lesion_of(annotation_id)
        return lesion.annotations[lesion.annotation_index(annotation_id)]

    def lesion_of(self, annotation_id: str) -> Lesion:
        """The lesion that owns an annotation (KeyError if none)."""
        for lesion in self._lesions:
            if any(a.id == annotation_id for a in lesion.annotations):
                return lesion
        raise KeyError(f"no annotation {annotation_id}")

    def _lesion_index(self, lesion_id: str) -> int:
        for index, lesion in enumerate(self._lesions):
            if lesion.id == lesion_id:
                return index
        raise KeyError(f"no lesion {lesion_id}")

    def _check_new_lesion(self, lesion: Lesion) -> None:
        if self.has_lesion(lesion.id):
            raise ValueError(f"lesion id {lesion.id} is already used")
        existing = {a.id for a in self.annotations()}
        clash = existing.intersection(a.id for a in lesion.annotations)
        if clash:
            raise ValueError(f"annotation id {sorted(clash)[0]} is already used")

    # -- calibrations (PS3.3 10.7.1: a reader's spacing for one image)

    @property
    def calibrations(self) -> tuple[Calibration, ...]:
        """The reader's calibrations, one per image (and frame)."""
        return tuple(self._calibrations.values())

    def calibration(
        self, sop_instance_uid: str, frame: int | None = None
    ) -> Calibration | None:
        """The calibration of an image, or None."""
        if not sop_instance_uid:
            return None
        return self._calibrations.get((sop_instance_uid, frame))

    def set_calibration(self, calibration: Calibration) -> None:
        """Calibrate an image (replacing its calibration); emits :attr:`changed`."""
        self._calibrations[calibration.key] = calibration
        self.changed.emit("calibrate image")

    def remove_calibration(
        self, sop_instance_uid: str, frame: int | None = None
    ) -> None:
        """Remove an image's calibration, if it has one; emits :attr:`changed`."""
        if self._calibrations.pop((sop_instance_uid, frame), None) is not None:
            self.changed.emit("remove calibration")

    # -- key images (PS3.3 A.35.4 Key Object Selection: images the reader flags)

    @property
    def key_images(self) -> tuple[KeyImageMark, ...]:
        """The images marked as key, in the order they were marked."""
        return tuple(self._key_images.values())

    def is_key_image(self, sop_instance_uid: str, frame: int | None = None) -> bool:
        """True if the image (and frame) is marked as key."""
        return (sop_instance_uid, frame) in self._key_images

    def mark_key_image(self, mark: KeyImageMark) -> None:
        """Mark an image as key (replacing its mark); emits :attr:`changed`."""
        self._key_images[mark.key] = mark
        self.changed.emit("mark key image")

    def unmark_key_image(self, sop_instance_uid: str, frame: int | None = None) -> None:
        """Unmark an image, if it is marked; emits :attr:`changed`."""
        if self._key_images.pop((sop_instance_uid, frame), None) is not None:
            self.changed.emit("unmark key image")

    # -- lesions

    def make_lesion(self, **values: Any) -> Lesion:
        """A new lesion (not added) labelled and coloured after those already here."""
        number = len(self._lesions) + 1
        values.setdefault("label", f"Lesion {number}")
        values.setdefault("colour", LESION_COLOURS[(number - 1) % len(LESION_COLOURS)])
        return Lesion(**values)

    def add_lesion(self, lesion: Lesion, index: int | None = None) -> Lesion:
        """Add ``lesion`` (with any annotations it has) at ``index`` (default: last)."""
        self._check_new_lesion(lesion)
        position = len(self._lesions) if index is None else index
        if not 0 <= position <= len(self._lesions):
            raise IndexError(f"lesion index {index} out of range")
        name = lesion.label or "lesion"
        self._execute(InsertLesion(f"add lesion {name}", position, lesion))
        return lesion

    def remove_lesion(self, lesion_id: str) -> None:
        """Remove a lesion and all its annotations."""
        index = self._lesion_index(lesion_id)
        lesion = self._lesions[index]
        name = lesion.label or "lesion"
        self._execute(DeleteLesion(f"remove lesion {name}", index, lesion))

    def update_lesion(self, lesion_id: str, **changes: str | bool) -> Lesion:
        """Change text fields of a lesion (any of :attr:`Lesion.EDITABLE_FIELDS`)."""
        unknown = set(changes) - set(Lesion.EDITABLE_FIELDS)
        if unknown:
            raise TypeError(f"cannot edit {', '.join(sorted(unknown))} of a lesion")
        index = self._lesion_index(lesion_id)
        before = self._lesions[index]
        values: dict[str, Any] = changes
        after = replace(before, **values)
        if after == before:
            return before
        described = ", ".join(sorted(changes))
        self._execute(
            ReplaceLesion(
                f"edit {described} of {after.label or 'lesion'}", index, before, after
            )
        )
        return after

    def move_lesion(self, lesion_id: str, index: int) -> None:
        """Move a lesion to position ``index`` of the list."""
        source = self._lesion_index(lesion_id)
        if not 0 <= index < len(self._lesions):
            raise IndexError(f"lesion index {index} out of range")
        if source == index:
            return
        name = self._lesions[source].label or "lesion"
        self._execute(MoveLesion(f"reorder lesion {name}", source, index))

    # -- annotations

    def add_annotation(self, annotation: Annotation, index: int | None = None) -> None:
        """Add an annotation to its lesion (``annotation.lesion_id``)."""
        if any(a.id == annotation.id for a in self.annotations()):
            raise ValueError(f"annotation id {annotation.id} is already used")
        lesion_index = self._lesion_index(annotation.lesion_id)
        before = self._lesions[lesion_index]
        items = list(before.annotations)
        position = len(items) if index is None else index
        if not 0 <= position <= len(items):
            raise IndexError(f"annotation index {index} out of range")
        items.insert(position, annotation)
        after = replace(before, annotations=tuple(items))
        self._execute(
            ReplaceLesion(f"add {_kind_name(annotation)}", lesion_index, before, after)
        )

    def remove_annotation(self, annotation_id: str) -> None:
        """Remove an annotation from its lesion."""
        lesion = self.lesion_of(annotation_id)
        lesion_index = self._lesion_index(lesion.id)
        position = lesion.annotation_index(annotation_id)
        removed = lesion.annotations[position]
        items = list(lesion.annotations)
        del items[position]
        after = replace(lesion, annotations=tuple(items))
        self._execute(
            ReplaceLesion(f"remove {_kind_name(removed)}", lesion_index, lesion, after)
        )
        if self._selected_id == annotation_id:
            self.select(None)

    def update_annotation(
        self, annotation: Annotation, description: str | None = None
    ) -> None:
        """Replace the annotation with the same id by ``annotation`` (same lesion).

        Use :meth:`move_annotation` to give an annotation to another lesion.
        """
        lesion = self.lesion_of(annotation.id)
        if annotation.lesion_id != lesion.id:
            raise ValueError(
                "update_annotation keeps the lesion; use move_annotation to change it"
            )
        position = lesion.annotation_index(annotation.id)
        before = lesion.annotations[position]
        if type(before) is not type(annotation):
            raise TypeError(f"cannot replace a {before.kind} by a {annotation.kind}")
        if before == annotation:
            return
        items = list(lesion.annotations)
        items[position] = annotation
        after = replace(lesion, annotations=tuple(items))
        text = description or f"edit {_kind_name(annotation)}"
        self._execute(ReplaceLesion(text, self._lesion_index(lesion.id), lesion, after))

    def translate_annotation(self, annotation_id: str, offset_lps: ArrayLike) -> None:
        """Move an annotation by ``offset_lps`` (mm)."""
        annotation = self.annotation(annotation_id)
        self.update_annotation(
            annotation.translated(offset_lps), f"move {_kind_name(annotation)}"
        )

    def move_annotation(
        self, annotation_id: str, lesion_id: str, index: int | None = None
    ) -> None:
        """Give an annotation to another lesion (or move it within its own list)."""
        source = self.lesion_of(annotation_id)
        annotation = source.annotations[source.annotation_index(annotation_id)]
        self._lesion_index(lesion_id)  # KeyError before any change
        moved = replace(annotation, lesion_id=lesion_id)
        target_label = self.lesion(lesion_id).label or "lesion"
        with self.macro(f"move {_kind_name(annotation)} to {target_label}"):
            self.remove_annotation(annotation_id)
            self.add_annotation(moved, index)

    def clear(self) -> None:
        """Remove every lesion (one undoable step)."""
        if not self._lesions:
            return
        with self.macro("remove all lesions"):
            for lesion in list(self._lesions)[::-1]:
                self.remove_lesion(lesion.id)

    # -- undo

    @contextmanager
    def macro(self, description: str) -> Iterator[None]:
        """Group the edits made in the ``with`` block into one undoable step.

        If the block raises, its edits are reverted and the exception passes on.
        Macros nest: inner ones join the outermost.
        """
        self._macros.append([])
        try:
            yield
        except BaseException:
            commands = self._macros.pop()
            for command in reversed(commands):
                command.revert(self._lesions)
            raise
        commands = self._macros.pop()
        if not commands:
            return
        macro = MacroCommand(description, tuple(commands))
        if self._macros:
            self._macros[-1].append(macro)
            return
        self._push(macro)
        self.changed.emit(description)

    def _execute(self, command: Command) -> None:
        command.apply(self._lesions)
        if self._macros:
            self._macros[-1].append(command)
            return
        self._push(command)
        self.changed.emit(command.description)

    def _push(self, command: Command) -> None:
        self._undo.append(command)
        del self._undo[: -self._undo_depth]
        self._redo.clear()

    @property
    def undo_depth(self) -> int:
        """How many steps can be undone at most."""
        return self._undo_depth

    @property
    def can_undo(self) -> bool:
        """True if there is an edit to undo."""
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        """True if there is an undone edit to redo."""
        return bool(self._redo)

    @property
    def undo_description(self) -> str | None:
        """What :meth:`undo` would undo (for an Edit menu), or None."""
        return self._undo[-1].description if self._undo else None

    @property
    def redo_description(self) -> str | None:
        """What :meth:`redo` would redo, or None."""
        return self._redo[-1].description if self._redo else None

    def undo(self) -> str | None:
        """Undo the last edit; returns its description (None if nothing to undo)."""
        if self._macros:
            raise RuntimeError("cannot undo inside a macro")
        if not self._undo:
            return None
        command = self._undo.pop()
        command.revert(self._lesions)
        self._redo.append(command)
        self._drop_stale_selection()
        self.changed.emit(f"undo {command.description}")
        return command.description

    def redo(self) -> str | None:
        """Redo the last undone edit; returns its description (None if none)."""
        if self._macros:
            raise RuntimeError("cannot redo inside a macro")
        if not self._redo:
            return None
        command = self._redo.pop()
        command.apply(self._lesions)
        self._undo.append(command)
        self._drop_stale_selection()
        self.changed.emit(f"redo {command.description}")
        return command.description

    def clear_history(self) -> None:
        """Forget every undo and redo step (e.g. after loading a file)."""
        self._undo.clear()
        self._redo.clear()

    # -- view state

    @property
    def selected_id(self) -> str | None:
        """The selected annotation's id, or None."""
        return self._selected_id

    def select(self, annotation_id: str | None) -> None:
        """Select an annotation (None: nothing)."""
        if annotation_id is not None:
            self.annotation(annotation_id)  # KeyError if absent
        if annotation_id != self._selected_id:
            self._selected_id = annotation_id
            self.selection_changed.emit(annotation_id)

    @property
    def preview(self) -> Annotation | None:
        """The annotation a tool is drawing or dragging, not yet committed.

        Views draw it instead of the committed annotation with the same id.
        """
        return self._preview

    def set_preview(self, annotation: Annotation | None) -> None:
        """Show (or, with None, stop showing) an annotation being edited."""
        if annotation is not self._preview:
            self._preview = annotation
            self.preview_changed.emit(annotation)

    def _drop_stale_selection(self) -> None:
        if self._selected_id is None:
            return
        try:
            self.lesion_of(self._selected_id)
        except KeyError:
            self.select(None)


def _kind_name(annotation: Annotation) -> str:
    return annotation.kind.replace("_", " ")
