"""DICOM SR Measurement Reports (PS3.16 TID 1500) of lesions and their annotations.

:func:`export_measurement_report` writes an :class:`AnnotationSet` as a
Comprehensive 3D SR (PS3.3 A.35.13) holding a TID 1500 Measurement Report,
built with highdicom; :func:`import_measurement_report` reads one back. The
module also holds what the SR and the presentation state share: where each
referenced image lies in patient space (:class:`ImagePlacement`) and the
result types (:class:`DicomExport`, :class:`DicomImport`).

The content tree, one Measurement Group per annotation, each carrying its
lesion's Tracking Unique Identifier (``Lesion.tracking_uid``), so all of a
lesion's measurements share one UID, and OHIF's tool name as Tracking Identifier
(``cornerstoneTools@^4.0.0:Length``; docs/annotations.md):

=============================  ============================================
annotation                     group and geometry
=============================  ============================================
ruler                          TID 1501; Length (mm), inferred from POLYLINE
bidirectional                  TID 1501; Long Axis and Short Axis (mm), each
                               inferred from its POLYLINE
angle                          TID 1501; Angle (deg), POLYLINE of 3 points
                               (SCOORD: 4, two lines sharing the vertex)
cobb_angle                     TID 1501; Cobb angle (deg), two POLYLINEs
                               (SCOORD: one of 4 points)
ellipse                        TID 1410; Image Region ELLIPSE (major axis
                               first); Area (mm2), and Mean, Standard
                               Deviation, Minimum, Maximum when given
polygon                        TID 1410; Image Region POLYGON (SCOORD3D) or
                               closed POLYLINE (SCOORD); Area and statistics
point, text                    TID 1410; Image Region POINT
arrow                          TID 1410; Image Region POLYLINE (tip, tail);
                               Length (mm)
=============================  ============================================

Geometry is SCOORD3D (LPS mm, PS3.3 C.18.9) in the annotation's frame of
reference; annotations on projection images, which have none, are SCOORD
(PS3.3 C.18.6) in the pixel coordinates of the image they were drawn on.

Where the lesion's fields go (each group repeats them):

- ``label``: the Finding (121071, DCM) as dcmjs writes a free-text label (code
  ``CORNERSTONEFREETEXT``, scheme ``99dcmjs``, the label as meaning), and
  exactly in the lesion record below;
- ``diagnosis``: TEXT (439401001, SCT, "Diagnosis");
- ``note``: TEXT (121106, DCM, "Comment");
- ``id``, ``label``, ``colour``, ``site``, ``finding`` and the follow-up fields:
  TEXT (LESION, 99IMGVIEWER, "imaging_viewer lesion") holding JSON (OHIF reads
  Finding Site and Finding as CODE and fails on TEXT ones);
- the annotation's own ``id``, ``kind``, ``label``, ``text``, plane normal and
  image reference: TEXT (ANNOTATION, 99IMGVIEWER, "imaging_viewer annotation")
  holding JSON.

Each measurement OHIF reads also has a SCOORD on its referenced image (see
:func:`ohif_graphic`); the reader prefers SCOORD3D.

``99IMGVIEWER`` is a private coding scheme (PS3.16 8.2: private designators
begin with "99"), declared in the Coding Scheme Identification Sequence. An SR
written by another program, without the private items, is read from its
standard content: kinds are inferred from the measurements and graphic types.
"""

from __future__ import annotations

import json
import math
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final
from warnings import catch_warnings, filterwarnings

import numpy as np
import pydicom
import pydicom.errors
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code
from pydicom.uid import generate_uid

from imaging_viewer import __version__
from imaging_viewer.core.annotations.anatomic_sites import (
    LATERALITIES,
    LATERALITY_MODIFIER,
    SNOMED_CT,
    laterality_by_code,
)
from imaging_viewer.core.annotations.measure import (
    NoSpacingError,
    length_mm,
    measure,
    measure_shown,
)
from imaging_viewer.core.annotations.model import (
    LESION_COLOURS,
    LESION_ROLES,
    Angle,
    Annotation,
    AnnotationSet,
    Arrow,
    Bidirectional,
    CobbAngle,
    EllipseRoi,
    Lesion,
    PointMarker,
    PolygonRoi,
    Ruler,
    TextLabel,
    is_valid_uid,
    new_id,
    new_uid,
)
from imaging_viewer.core.annotations.naming import annotation_name
from imaging_viewer.core.dicom.header import header_from_dataset
from imaging_viewer.core.dicom.series import group_into_series

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable, Iterator, Mapping, Sequence

    import highdicom as hd
    from numpy.typing import ArrayLike, NDArray

    from imaging_viewer.core.annotations.calibration import Calibration
    from imaging_viewer.core.annotations.measure import RoiStats
    from imaging_viewer.core.geometry import Affine, Vec3
    from imaging_viewer.core.volume import Window

PRIVATE_SCHEME: Final = "99IMGVIEWER"
"""Private coding scheme designator of the lesion and annotation records."""
LESION_RECORD: Final = Code("LESION", PRIVATE_SCHEME, "imaging_viewer lesion")
ANNOTATION_RECORD: Final = Code(
    "ANNOTATION", PRIVATE_SCHEME, "imaging_viewer annotation"
)
PIXEL_VALUE: Final = Code("PIXELVALUE", PRIVATE_SCHEME, "Pixel value")
"""Quantity of ROI statistics of images that are neither CT nor MR."""

FINDING_SITE: Final = Code("363698007", "SCT", "Finding Site")
FINDING: Final = Code("121071", "DCM", "Finding")
DIAGNOSIS: Final = Code("439401001", "SCT", "Diagnosis")
COMMENT: Final = Code("121106", "DCM", "Comment")
PIXELS: Final = Code("{pixels}", "UCUM", "pixels")
"""Unit of lengths on an image without pixel spacing (PS3.3 10.7.1.3)."""

# An annotation lies on an image whose normal is this parallel to its plane's
# (cos of ~2.6°).
_PARALLEL_COS: Final = 0.999
_MEASUREMENT_GROUP: Final = ("125007", "DCM")
_IMAGING_MEASUREMENTS: Final = ("126010", "DCM")
_IMAGE_REGION: Final = ("111030", "DCM")
_LENGTH: Final = {("410668003", "SCT"), ("G-D7FE", "SRT")}
# Reports written before SNOMED-RT codes were retired (e.g. by dcmjs) use SRT ones.
_LONG_AXIS: Final = {("103339001", "SCT"), ("G-A185", "SRT")}
_SHORT_AXIS: Final = {("103340004", "SCT"), ("G-A186", "SRT")}
_ANGLE: Final = {("1483009", "SCT")}
_COBB: Final = {("285285000", "SCT")}


@dataclass(frozen=True, eq=False)
class DicomExport:
    """A DICOM object made from an :class:`AnnotationSet`, and what was left out."""

    dataset: Dataset
    """The SR or presentation state (a highdicom object, a pydicom Dataset)."""
    warnings: tuple[str, ...] = ()
    """One line per annotation left out or measurement not written, for the UI."""


@dataclass(frozen=True, eq=False)
class DicomImport:
    """An :class:`AnnotationSet` read from a DICOM object, and what was skipped."""

    annotation_set: AnnotationSet
    warnings: tuple[str, ...] = ()


# --------------------------------------------------------------- image placement


@dataclass(frozen=True, eq=False)
class ImagePlacement:
    """Where one acquired image (one frame of it) lies in patient space.

    ``pixel_to_lps`` maps (column, row, 0, 1), pixel centres at integers, to
    LPS mm. DICOM graphic coordinates (SCOORD, presentation states) put 0.0\\0.0
    at the top left corner of the top left pixel instead, so they are these
    plus 0.5 (PS3.3 C.18.6.1.1; Table C.10-5, Graphic Annotation Units PIXEL).
    """

    dataset: Dataset
    sop_instance_uid: str
    sop_class_uid: str
    frame_number: int | None
    """1-based frame of a multi-frame image, else None."""
    rows: int
    columns: int
    pixel_to_lps: Affine
    frame_of_reference_uid: str
    spacing_source: str
    """As ``Volume.spacing_source``: ``""`` (Pixel Spacing of a 3D image),
    ``"PixelSpacing"``/``"ImagerPixelSpacing (...)"`` (projection) or ``"none"``."""
    slice_thickness_mm: float | None = None
    rescale: tuple[float, float] | None = None
    """(Rescale Slope, Rescale Intercept) of the frame, None where the image
    has no Modality LUT attributes (PS3.3 C.11.1, C.7.6.16.2.9)."""
    windows: tuple[Window, ...] = ()
    """The image's own windows (PS3.3 C.11.2)."""

    @property
    def normal_lps(self) -> Vec3:
        """Unit normal: column direction × row direction."""
        normal = np.cross(self.pixel_to_lps[:3, 0], self.pixel_to_lps[:3, 1])
        unit: Vec3 = normal / np.linalg.norm(normal)
        return unit

    def lps_to_pixel(self, points_lps: ArrayLike) -> NDArray[np.float64]:
        """(column, row, distance from the plane in mm) of LPS points, shape (n, 3).

        References
        ----------
        PS3.3 C.7.6.2.1.1 Image Position and Image Orientation.
        """
        matrix = np.eye(4)
        matrix[:3, :2] = self.pixel_to_lps[:3, :2]
        matrix[:3, 2] = self.normal_lps
        matrix[:3, 3] = self.pixel_to_lps[:3, 3]
        points = np.atleast_2d(np.asarray(points_lps, dtype=np.float64))
        solved = np.linalg.solve(matrix[:3, :3], (points - matrix[:3, 3]).T)
        return np.asarray(solved.T, dtype=np.float64)

    def pixel_to_points_lps(self, pixels: ArrayLike) -> NDArray[np.float64]:
        """LPS points of (column, row) pixel positions (centres at integers)."""
        px = np.atleast_2d(np.asarray(pixels, dtype=np.float64))
        result: NDArray[np.float64] = (
            px[:, :2] @ self.pixel_to_lps[:3, :2].T + self.pixel_to_lps[:3, 3]
        )
        return result

    def dicom_pixels(self, points_lps: ArrayLike) -> NDArray[np.float64]:
        """DICOM (column, row) graphic coordinates of LPS points, shape (n, 2)."""
        return self.lps_to_pixel(points_lps)[:, :2] + 0.5

    def contains(self, dicom_pixels: NDArray[np.float64]) -> bool:
        """True where every point lies on the image (0 … Columns, 0 … Rows)."""
        return bool(
            np.all(dicom_pixels >= 0.0)
            and np.all(dicom_pixels[:, 0] <= self.columns)
            and np.all(dicom_pixels[:, 1] <= self.rows)
        )


def image_placements(
    source_datasets: Mapping[str, Dataset],
    pixel_to_lps: Mapping[str, Affine] | None = None,
) -> dict[tuple[str, int | None], ImagePlacement]:
    """Where each frame of each image lies, keyed by (SOP Instance UID, frame).

    Parameters
    ----------
    source_datasets : mapping of str to pydicom.Dataset
        Headers of the images, by SOP Instance UID.
    pixel_to_lps : mapping of str to (4, 4) array, optional
        Placement to use instead of the header's, by SOP Instance UID: what
        the viewer placed the image with, e.g. ``Volume.ijk_to_lps`` of a
        projection radiograph. By default a projection image (no Image
        Position/Orientation) is placed as the viewer places it, from Patient
        Orientation and its spacing.

    Returns
    -------
    dict
        ``{(sop_instance_uid, frame_number or None): ImagePlacement}``.

    References
    ----------
    PS3.3 C.7.6.2.1.1 (Image Position/Orientation), C.7.6.16.2 (per-frame
    Plane Position and Orientation), 10.7.1.3 (Pixel Spacing).
    """
    placements: dict[tuple[str, int | None], ImagePlacement] = {}
    overrides = pixel_to_lps or {}
    for uid, ds in source_datasets.items():
        # A non-empty path: series grouping names images by it.
        header = header_from_dataset(ds, f"<{uid}>", 0)
        frames: list[int | None] = (
            [None]
            if header.number_of_frames <= 1
            else list(range(1, header.number_of_frames + 1))
        )
        projection: tuple[Affine, str] | None = None
        has_rescale = "RescaleSlope" in ds or any(
            "PixelValueTransformationSequence" in group
            for name in (
                "SharedFunctionalGroupsSequence",
                "PerFrameFunctionalGroupsSequence",
            )
            for group in ds.get(name) or []
        )
        for frame_number in frames:
            frame = header.frame((frame_number or 1) - 1)
            if uid in overrides:
                affine = np.asarray(overrides[uid], dtype=np.float64)
                source = "" if frame.pixel_spacing else _projection_placement(header)[1]
            elif frame.position_lps is not None and frame.orientation is not None:
                row_mm, column_mm = frame.pixel_spacing or (1.0, 1.0)
                orientation = np.asarray(frame.orientation, dtype=np.float64)
                affine = np.eye(4)
                affine[:3, 0] = orientation[:3] * column_mm
                affine[:3, 1] = orientation[3:] * row_mm
                affine[:3, 2] = np.cross(orientation[:3], orientation[3:])
                affine[:3, 3] = frame.position_lps
                source = "" if frame.pixel_spacing else "none"
            else:
                projection = projection or _projection_placement(header)
                affine, source = projection
            placements[(uid, frame_number)] = ImagePlacement(
                dataset=ds,
                sop_instance_uid=uid,
                sop_class_uid=header.sop_class_uid,
                frame_number=frame_number,
                rows=header.rows,
                columns=header.columns,
                pixel_to_lps=affine,
                frame_of_reference_uid=header.frame_of_reference_uid,
                spacing_source=source,
                slice_thickness_mm=frame.slice_thickness,
                rescale=(
                    (frame.rescale_slope, frame.rescale_intercept)
                    if has_rescale
                    else None
                ),
                windows=frame.windows,
            )
    return placements


def _projection_placement(header: Any) -> tuple[Affine, str]:
    # The viewer's own placement of an image with no 3D position (series.py).
    series = group_into_series([header])
    if not series:
        return np.eye(4), "none"
    return np.asarray(series[0].ijk_to_lps, dtype=np.float64), series[0].spacing_source


def lies_parallel(annotation: Annotation, placement: ImagePlacement) -> bool:
    """True when ``annotation`` was drawn on a plane parallel to the image (within
    ~2.6°), so its points project onto the image's pixels as drawn. An
    annotation drawn on a coronal reformat names the nearest axial image, but
    has no outline on it."""
    normal = np.asarray(annotation.plane_normal_lps, dtype=np.float64)
    return abs(float(normal @ placement.normal_lps)) >= _PARALLEL_COS


def find_placement(
    placements: Mapping[tuple[str, int | None], ImagePlacement],
    sop_instance_uid: str,
    frame_number: int | None,
    points_lps: ArrayLike | None = None,
) -> ImagePlacement | None:
    """The placement of an image (frame); of a multi-frame image with no frame
    given, the frame nearest to ``points_lps``."""
    exact = placements.get((sop_instance_uid, frame_number))
    if exact is not None:
        return exact
    if frame_number is None:
        frames = [p for (uid, _), p in placements.items() if uid == sop_instance_uid]
        if frames and points_lps is not None:
            return min(
                frames,
                key=lambda p: float(np.abs(p.lps_to_pixel(points_lps)[:, 2]).max()),
            )
        return frames[0] if frames else None
    return placements.get((sop_instance_uid, None)) if frame_number == 1 else None


# ------------------------------------------------------------------ shapes


def ellipse_axes(ellipse: EllipseRoi) -> tuple[NDArray[np.float64], int]:
    """The DICOM ELLIPSE points of an ellipse, and which of its axes is major.

    Returns
    -------
    (numpy.ndarray, int)
        Shape (4, 3): the ends of the major axis, then of the minor axis
        (PS3.3 C.10.5.1.2, C.18.6.1.2, C.18.9.1.2); and 1 or 2, the semi-axis
        (``axis1_end_lps`` or ``axis2_end_lps``) that is the major one. A
        circle's first axis counts as major.
    """
    centre = np.asarray(ellipse.centre_lps)
    a = np.asarray(ellipse.axis1_end_lps) - centre
    b = np.asarray(ellipse.axis2_end_lps) - centre
    if np.linalg.norm(a) >= np.linalg.norm(b):
        major, minor, which = a, b, 1
    else:
        major, minor, which = b, a, 2
    points = np.array([centre - major, centre + major, centre - minor, centre + minor])
    return points, which


def ellipse_from_axes(
    points_lps: ArrayLike, major_axis: int = 1
) -> tuple[Vec3, Vec3, Vec3]:
    """(centre, axis1 end, axis2 end) from the four DICOM ELLIPSE points."""
    points = np.asarray(points_lps, dtype=np.float64).reshape(4, 3)
    centre: Vec3 = points.mean(axis=0)
    major_end: Vec3 = points[1]
    minor_end: Vec3 = points[3]
    if major_axis == 2:
        return centre, minor_end, major_end
    return centre, major_end, minor_end


def shapes_of(annotation: Annotation) -> list[tuple[str, NDArray[np.float64]]]:
    """The graphics of an annotation as (graphic type, LPS points), in order.

    A polygon is closed (first point repeated at the end) and typed
    ``POLYGON``: callers writing 2D graphics use a closed ``POLYLINE``.
    """
    if isinstance(annotation, EllipseRoi):
        return [("ELLIPSE", ellipse_axes(annotation)[0])]
    if isinstance(annotation, PolygonRoi):
        points = annotation.points_lps
        return [("POLYGON", np.vstack([points, points[:1]]))]
    if isinstance(annotation, Bidirectional):
        return [
            ("POLYLINE", annotation.long_axis_lps),
            ("POLYLINE", annotation.short_axis_lps),
        ]
    if isinstance(annotation, CobbAngle):
        return [("POLYLINE", annotation.line1_lps), ("POLYLINE", annotation.line2_lps)]
    if isinstance(annotation, PointMarker | TextLabel):
        return [("POINT", annotation.points_lps)]
    return [("POLYLINE", annotation.points_lps)]


def annotation_from_shapes(
    kind: str,
    shapes: Sequence[tuple[str, NDArray[np.float64]]],
    *,
    lesion_id: str,
    common: Mapping[str, Any],
    text: str = "",
    major_axis: int = 1,
) -> Annotation:
    """Rebuild an annotation of ``kind`` from its graphics (see :func:`shapes_of`).

    Raises
    ------
    ValueError
        If the graphics do not fit the kind.
    """
    points = [np.asarray(p, dtype=np.float64) for _, p in shapes]
    values: dict[str, Any] = {"lesion_id": lesion_id, **common}
    first = points[0] if points else np.zeros((0, 3))

    def need(count: int, shape_count: int = 1) -> None:
        if len(points) != shape_count or any(len(p) != count for p in points):
            raise ValueError(
                f"a {kind} needs {shape_count} graphic(s) of {count} points"
            )

    if kind == "ellipse":
        if shapes[0][0] == "CIRCLE":
            centre, edge = first[0], first[1]
            radius = edge - centre
            other = np.cross(np.asarray(values["plane_normal_lps"]), radius)
            return _build(EllipseRoi, np.array([centre, edge, centre + other]), values)
        need(4)
        centre, end1, end2 = ellipse_from_axes(first, major_axis)
        return _build(EllipseRoi, np.array([centre, end1, end2]), values)
    if kind == "polygon":
        if len(points) != 1 or len(first) < 3:
            raise ValueError("a polygon needs one outline of 3 or more points")
        vertices = first
        if len(vertices) > 3 and np.allclose(vertices[0], vertices[-1], atol=1e-6):
            vertices = vertices[:-1]
        return PolygonRoi(vertices_lps=tuple(map(tuple, vertices)), **values)
    if kind in ("bidirectional", "cobb_angle"):
        need(2, 2)
        cls: type[Annotation] = Bidirectional if kind == "bidirectional" else CobbAngle
        return _build(cls, np.vstack(points), values)
    count = {"point": 1, "text": 1, "arrow": 2, "ruler": 2, "angle": 3}.get(kind)
    if count is None:
        raise ValueError(f"unknown annotation kind {kind!r}")
    need(count)
    cls = {
        "point": PointMarker,
        "text": TextLabel,
        "arrow": Arrow,
        "ruler": Ruler,
        "angle": Angle,
    }[kind]
    if kind == "text":
        values["text"] = text
    return _build(cls, first, values)


def _build(
    cls: type[Annotation], points: NDArray[np.float64], values: dict[str, Any]
) -> Annotation:
    named: dict[str, Any] = dict(zip(cls.point_fields, map(tuple, points), strict=True))
    return cls(**named, **values)


def plane_normal_of(points_lps: NDArray[np.float64]) -> Vec3 | None:
    """The unit normal of the plane through points (None if they are on a line)."""
    points = np.asarray(points_lps, dtype=np.float64)
    if len(points) < 3:
        return None
    centred = points - points.mean(axis=0)
    _, singular, vt = np.linalg.svd(centred)
    if singular[1] <= 1e-9 * max(singular[0], 1.0):
        return None
    normal: Vec3 = vt[2] / np.linalg.norm(vt[2])
    return normal


# ------------------------------------------------------------------ export


def _text_item(name: Code, value: str) -> hd.sr.TextContentItem:
    import highdicom as hd

    return hd.sr.TextContentItem(
        name=name, value=value, relationship_type=hd.sr.RelationshipTypeValues.CONTAINS
    )


FREE_TEXT_SCHEME: Final = "99dcmjs"
FREE_TEXT: Final = "CORNERSTONEFREETEXT"
"""dcmjs's code of a free-text Finding: its meaning is the measurement's label."""


def finding_of(lesion: Lesion, number: int) -> Code:
    """The group's Finding (TID 1501 row 3): the lesion label as OHIF writes and
    reads it, a free-text code whose meaning is the label.

    OHIF's adapters read (121071, DCM) as CODE: a TEXT one crashes them, so the
    lesion's own finding text goes in the lesion record.
    """
    return Code(FREE_TEXT, FREE_TEXT_SCHEME, (lesion.label or f"Lesion {number}")[:64])


def finding_sites_of(lesion: Lesion) -> list[hd.sr.FindingSite] | None:
    """The lesion's coded Finding Site (363698007, SCT) as CODE, with its
    Laterality (272741003, SCT) as HAS CONCEPT MOD (PS3.16 TID 1501 row 11,
    CID 244), or ``None`` when the lesion has no coded site."""
    import highdicom as hd

    if not lesion.site_code:
        return None
    laterality = LATERALITIES.get(lesion.laterality)
    return [
        hd.sr.FindingSite(
            anatomic_location=Code(lesion.site_code, SNOMED_CT, lesion.site_meaning),
            laterality=Code(laterality[0], SNOMED_CT, laterality[1])
            if laterality
            else None,
        )
    ]


def coded_site_of(children: Sequence[Dataset]) -> dict[str, Any]:
    """``site_code``, ``site_meaning`` and ``laterality`` of a group's first coded
    Finding Site (PS3.16 TID 1501 row 11), ``{}`` when it has none."""
    for child in children:
        if not _is(child, FINDING_SITE) or child.get("ValueType") != "CODE":
            continue
        concept = (child.get("ConceptCodeSequence") or [None])[0]
        code = str(getattr(concept, "CodeValue", "") or "") if concept else ""
        meaning = str(getattr(concept, "CodeMeaning", "") or "") if concept else ""
        if not (code and meaning):
            continue
        laterality = ""
        for modifier in _children(child):
            if _is(modifier, (LATERALITY_MODIFIER[0], SNOMED_CT)):
                value = (modifier.get("ConceptCodeSequence") or [None])[0]
                laterality = laterality_by_code(
                    str(getattr(value, "CodeValue", "") or "")
                )
        return {"site_code": code, "site_meaning": meaning, "laterality": laterality}
    return {}


def _lesion_items(lesion: Lesion) -> list[Any]:
    items: list[Any] = [
        _text_item(name, value)
        for name, value in (
            (DIAGNOSIS, lesion.diagnosis),
            (COMMENT, lesion.note),
        )
        if value
    ]
    record: dict[str, Any] = {
        "id": lesion.id,
        "label": lesion.label,
        "colour": lesion.colour,
    }
    # Free-text site in the record: a TEXT Finding Site crashes OHIF's adapters,
    # which read (363698007, SCT) as CODE (TID 1501 row 11).
    if lesion.site:
        record["site"] = lesion.site
    if lesion.finding:
        record["finding"] = lesion.finding
    # Follow-up fields (annotation file schema 2), so a tracked lesion keeps its
    # role, node and organ when SRs of several time points are read back.
    for name in Lesion.FOLLOWUP_FIELDS:
        if getattr(lesion, name) != getattr(Lesion, name):
            record[name] = getattr(lesion, name)
    items.append(_text_item(LESION_RECORD, json.dumps(record, ensure_ascii=False)))
    return items


def _annotation_record(annotation: Annotation) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": annotation.id,
        "kind": annotation.kind,
        "label": annotation.label,
        "plane_normal_lps": list(annotation.plane_normal_lps),
        "referenced_sop_instance_uid": annotation.referenced_sop_instance_uid,
        "referenced_frame": annotation.referenced_frame,
    }
    if isinstance(annotation, TextLabel):
        record["text"] = annotation.text
    if isinstance(annotation, EllipseRoi):
        record["major_axis"] = ellipse_axes(annotation)[1]
    return record


@dataclass(frozen=True, eq=False)
class _Where:
    """How one annotation's geometry is written: SCOORD3D, or SCOORD on an image."""

    frame_of_reference_uid: str
    placement: ImagePlacement | None

    @property
    def spacing_source(self) -> str:
        return self.placement.spacing_source if self.placement else ""

    def region(self, graphic_type: str, points_lps: NDArray[np.float64]) -> Any:
        import highdicom as hd

        if self.frame_of_reference_uid:
            return hd.sr.ImageRegion3D(
                graphic_type=graphic_type,
                graphic_data=points_lps,
                frame_of_reference_uid=self.frame_of_reference_uid,
            )
        assert self.placement is not None
        return hd.sr.ImageRegion(
            graphic_type=_graphic_type_2d(graphic_type),
            graphic_data=self.placement.dicom_pixels(points_lps),
            source_image=self._source_image(),
        )

    def coordinates(self, graphic_type: str, points_lps: NDArray[np.float64]) -> Any:
        import highdicom as hd

        if self.frame_of_reference_uid:
            return hd.sr.CoordinatesForMeasurement3D(
                graphic_type=graphic_type,
                graphic_data=points_lps,
                frame_of_reference_uid=self.frame_of_reference_uid,
            )
        assert self.placement is not None
        return hd.sr.CoordinatesForMeasurement(
            graphic_type=_graphic_type_2d(graphic_type),
            graphic_data=self.placement.dicom_pixels(points_lps),
            source_image=self._source_image(),
        )

    def image_coordinates(
        self, graphic_type: str, points_lps: NDArray[np.float64]
    ) -> Any:
        """SCOORD in the pixels of the referenced image (OHIF's adapters read it)."""
        import highdicom as hd

        assert self.placement is not None
        return hd.sr.CoordinatesForMeasurement(
            graphic_type=graphic_type,
            graphic_data=self.placement.dicom_pixels(points_lps),
            source_image=self._source_image(),
        )

    def _source_image(self) -> hd.sr.SourceImageForRegion:
        import highdicom as hd

        assert self.placement is not None
        frame = self.placement.frame_number
        return hd.sr.SourceImageForRegion(
            referenced_sop_class_uid=self.placement.sop_class_uid,
            referenced_sop_instance_uid=self.placement.sop_instance_uid,
            referenced_frame_numbers=[frame] if frame is not None else None,
        )


def _graphic_type_2d(graphic_type: str) -> str:
    # SCOORD has no POLYGON: a closed POLYLINE is its outline (PS3.3 C.18.6.1.2).
    return "POLYLINE" if graphic_type == "POLYGON" else graphic_type


def _where(
    annotation: Annotation,
    placements: Mapping[tuple[str, int | None], ImagePlacement],
) -> tuple[_Where | None, str]:
    placement = (
        find_placement(
            placements,
            annotation.referenced_sop_instance_uid,
            annotation.referenced_frame,
            annotation.points_lps,
        )
        if annotation.referenced_sop_instance_uid
        else None
    )
    if annotation.frame_of_reference_uid:
        if placement is not None and not lies_parallel(annotation, placement):
            placement = None  # SCOORD3D only: it has no outline on that image
        return _Where(annotation.frame_of_reference_uid, placement), ""
    if placement is None:
        return None, (
            "it has no frame of reference, and the image it was drawn on "
            f"({annotation.referenced_sop_instance_uid or 'none'}) was not given"
        )
    return _Where("", placement), ""


def _quantity(modality: str) -> tuple[Code, Code]:
    if modality == "CT":
        return codes.DCM.AttenuationCoefficient, codes.UCUM.HounsfieldUnit
    if modality == "MR":
        return codes.DCM.MRSignalIntensity, codes.UCUM.ArbitraryUnit
    return PIXEL_VALUE, codes.UCUM.ArbitraryUnit


# Cornerstone's adapters find the bidirectional's axes by these exact meanings.
LONG_AXIS: Final = Code("103339001", "SCT", "Long Axis")
SHORT_AXIS: Final = Code("103340004", "SCT", "Short Axis")
OHIF_TOOLKIT: Final = "cornerstoneTools@^4.0.0"
"""Toolkit part of the Tracking Identifier ``<toolkit>@<version>:<ToolName>``
that ``@cornerstonejs/adapters`` dispatch on (docs/annotations.md)."""
OWN_TOOLKIT: Final = "imaging_viewer@1"
"""Toolkit part for kinds OHIF has no tool for, or that have no image to show."""
OHIF_TOOLS: Final = {
    "ruler": "Length",
    "bidirectional": "Bidirectional",
    "ellipse": "EllipticalRoi",
    "polygon": "FreehandRoi",
    "arrow": "ArrowAnnotate",
    "angle": "Angle",
    "cobb_angle": "CobbAngle",
}
"""Cornerstone (legacy adapter) tool of each of our measurement kinds."""

_MEASURE_NAMES: Final = {
    "length": codes.SCT.Length,
    "long axis": LONG_AXIS,
    "short axis": SHORT_AXIS,
    "angle": codes.SCT.Angle,
    "cobb angle": codes.SCT.CobbAngle,
    "area": codes.SCT.Area,
}
_UNITS: Final = {
    "mm": codes.UCUM.Millimeter,
    "mm2": codes.UCUM.SquareMillimeter,
    "deg": codes.UCUM.Degree,
}


def _values(
    annotation: Annotation, where: _Where, calibration: Calibration | None = None
) -> tuple[list[tuple[Code, float, Code]], str]:
    """(name, value, unit) of each measurement, and a warning if in pixels.

    A reader's calibration of the image gives mm (PS3.3 10.7.1), with a note
    that it is one.
    """
    source = where.spacing_source
    if calibration is not None:
        calibrated = measure_shown(annotation, calibration=calibration)
        return [
            (_MEASURE_NAMES[r.name], r.value, _UNITS[r.unit]) for r in calibrated
        ], f"sizes from the reader's {calibration.source}"
    try:
        results = measure(annotation, spacing_source=source)
        # Imager Pixel Spacing, divided by the ERMF or not, is not the patient's
        # Pixel Spacing (PS3.3 10.7.1.1, C.8.11.1.1.1): say which it is.
        note = f"sizes from {source}" if source.startswith("ImagerPixel") else ""
    except NoSpacingError:
        # Placed at 1 mm per pixel, so the "mm" are pixels (series.py).
        results = measure(annotation)
        note = "the image has no pixel spacing: its sizes are written in pixels"
    values = []
    for result in results:
        unit = _UNITS[result.unit]
        if note and result.unit != "deg":
            unit = PIXELS
        values.append((_MEASURE_NAMES[result.name], result.value, unit))
    return values, note


def _measurement_group(
    lesion: Lesion,
    number: int,
    annotation: Annotation,
    where: _Where,
    stats: RoiStats | None,
    modality: str,
    calibration: Calibration | None = None,
) -> tuple[Any, list[str]]:
    import highdicom as hd

    notes: list[str] = []
    tool = OHIF_TOOLS.get(annotation.kind)
    shown = tool is not None and where.placement is not None
    tracking = hd.sr.TrackingIdentifier(
        uid=lesion.tracking_uid,
        identifier=(
            f"{OHIF_TOOLKIT}:{tool}"
            if shown
            else f"{OWN_TOOLKIT}:{tool or type(annotation).__name__}"
        ),
    )
    shapes = shapes_of(annotation)
    values, note = _values(annotation, where, calibration)
    if note:
        notes.append(note)
    if isinstance(annotation, Arrow):
        values.append(_arrow_length(annotation, where))
    finding = finding_of(lesion, number)
    if isinstance(annotation, Ruler | Angle | CobbAngle | Bidirectional):
        if not where.frame_of_reference_uid and isinstance(
            annotation, Angle | CobbAngle
        ):
            # On a projection image the SCOORD is the one OHIF reads (4 points).
            shapes = [ohif_graphic(annotation)]
        coordinates = [where.coordinates(t, p) for t, p in shapes]
        per_value = (
            [[c] for c in coordinates]
            if isinstance(annotation, Bidirectional)
            else [coordinates]
        )
        measurements = [
            hd.sr.Measurement(
                name=name, value=value, unit=unit, referenced_coordinates=refs
            )
            for (name, value, unit), refs in zip(values, per_value, strict=True)
        ]
        group: Any = hd.sr.MeasurementsAndQualitativeEvaluations(
            tracking_identifier=tracking,
            finding_type=finding,
            finding_sites=finding_sites_of(lesion),
            measurements=measurements,
        )
    else:
        measurements = [
            hd.sr.Measurement(name=name, value=value, unit=unit)
            for name, value, unit in values
        ]
        if stats is not None:
            quantity, unit = _quantity(modality)
            for derivation, value in (
                (codes.SCT.Mean, stats.mean),
                (codes.SCT.StandardDeviation, stats.sd),
                (codes.SCT.Minimum, stats.min),
                (codes.SCT.Maximum, stats.max),
            ):
                if math.isfinite(value):
                    measurements.append(
                        hd.sr.Measurement(
                            name=quantity, value=value, unit=unit, derivation=derivation
                        )
                    )
                else:
                    notes.append(f"no pixel inside: {derivation.meaning} not written")
        ((graphic_type, points),) = shapes
        group = hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
            tracking_identifier=tracking,
            referenced_region=where.region(graphic_type, points),
            finding_type=finding,
            finding_sites=finding_sites_of(lesion),
            measurements=measurements or None,
        )
    content = group[0].ContentSequence
    if shown:
        _add_image_coordinates(annotation, content, where)
    for item in _lesion_items(lesion):
        content.append(item)
    record = json.dumps(_annotation_record(annotation), ensure_ascii=False)
    content.append(_text_item(ANNOTATION_RECORD, record))
    return group, notes


def _arrow_length(annotation: Arrow, where: _Where) -> tuple[Code, float, Code]:
    """The arrow's length: the measurement OHIF's ArrowAnnotate reader needs."""
    tip, tail = annotation.points_lps
    try:
        value = length_mm(tip, tail, spacing_source=where.spacing_source)
        unit = codes.UCUM.Millimeter
    except NoSpacingError:
        value, unit = length_mm(tip, tail), PIXELS
    return codes.SCT.Length, value, unit


def ohif_graphic(annotation: Annotation) -> tuple[str, NDArray[np.float64]]:
    """The one graphic OHIF's tool reads (graphic type, LPS points).

    An angle is two lines sharing the vertex (4 points), a Cobb angle its two
    lines (4 points), a bidirectional its long axis.
    """
    if isinstance(annotation, Angle):
        first, vertex, second = annotation.points_lps
        return "POLYLINE", np.array([first, vertex, vertex, second])
    if isinstance(annotation, CobbAngle):
        return "POLYLINE", np.vstack([annotation.line1_lps, annotation.line2_lps])
    graphic_type, points = shapes_of(annotation)[0]
    return _graphic_type_2d(graphic_type), points


def _add_image_coordinates(
    annotation: Annotation, content: Sequence[Dataset], where: _Where
) -> None:
    """Put SCOORDs on the referenced image under the measurements OHIF reads.

    OHIF takes the first numeric item's SCOORD (the bidirectional: each axis's);
    SCOORD3D stays beside it. On a projection image the SCOORDs are already there.
    """
    numbers = [item for item in content if item.ValueType == "NUM"]
    if isinstance(annotation, Bidirectional):
        pairs = list(zip(numbers, shapes_of(annotation), strict=False))
    else:
        pairs = [(numbers[0], ohif_graphic(annotation))]
    for number, (graphic_type, points) in pairs:
        children = number.get("ContentSequence", [])
        if any(c.ValueType == "SCOORD" for c in children):
            continue
        scoord = where.image_coordinates(graphic_type, points)
        if "ContentSequence" not in number:
            number.ContentSequence = [scoord]
        else:
            number.ContentSequence.append(scoord)


def _device_uid() -> str:
    # The same device UID in every report this program writes (PS3.16 TID 1004).
    return str(generate_uid(None, entropy_srcs=["imaging_viewer device observer"]))


@contextmanager
def quiet_highdicom() -> Iterator[None]:
    """Silence highdicom's advice on values copied from the source images.

    It warns, e.g., of a one-component Patient's Name; such values come from
    the images as they are, and a report copies them unchanged.
    """
    with catch_warnings():
        filterwarnings("ignore", message=".*person name.*", category=UserWarning)
        yield


def with_patient_and_study(datasets: Iterable[Dataset]) -> list[Dataset]:
    """Shallow copies of image headers with every patient and study attribute
    highdicom copies into a new object present (empty where missing).

    These are Type 2 in image IODs (PS3.3 C.7.1.1, C.7.2.1), so a header may
    lack them; highdicom reads them as attributes.
    """
    evidence = []
    for ds in datasets:
        copy = Dataset()
        copy.update(ds)
        for keyword in (
            "PatientName",
            "PatientID",
            "PatientBirthDate",
            "PatientSex",
            "AccessionNumber",
            "StudyID",
            "StudyDate",
            "StudyTime",
            "ReferringPhysicianName",
        ):
            if keyword not in copy:
                setattr(copy, keyword, "")
        evidence.append(copy)
    return evidence


def export_measurement_report(
    annotation_set: AnnotationSet,
    source_datasets: Mapping[str, Dataset],
    *,
    series_number: int,
    manufacturer: str = "imaging_viewer",
    device_observer_uid: str | None = None,
    observer_name: str | None = None,
    roi_stats: Mapping[str, RoiStats] | None = None,
    pixel_to_lps: Mapping[str, Affine] | None = None,
    series_instance_uid: str | None = None,
    sop_instance_uid: str | None = None,
    series_description: str = "imaging_viewer measurements",
) -> DicomExport:
    """Write lesions and their annotations as a TID 1500 Measurement Report.

    Parameters
    ----------
    annotation_set : AnnotationSet
        The lesions, in order, with their annotations.
    source_datasets : mapping of str to pydicom.Dataset
        Headers of the images the annotations were drawn on (or of their
        series), by SOP Instance UID: the report's evidence, and where patient
        and study come from. At least one.
    series_number : int
        Series Number of the new SR series.
    manufacturer : str
        Manufacturer (0008,0070) and device observer manufacturer.
    device_observer_uid : str, optional
        Device Observer UID (PS3.16 TID 1004); by default one fixed UID
        derived from this program's name.
    observer_name : str, optional
        Person Observer Name (TID 1003) of whoever made the measurements.
    roi_stats : mapping of str to RoiStats, optional
        Statistics (:func:`~imaging_viewer.core.annotations.measure.roi_stats`)
        of ellipses and polygons by annotation id, written as Mean, Standard
        Deviation, Minimum and Maximum in HU (CT) or arbitrary units.
    pixel_to_lps : mapping of str to (4, 4) array, optional
        See :func:`image_placements` (projection images only need it when the
        viewer placed them otherwise).
    series_instance_uid, sop_instance_uid : str, optional
        New UIDs by default.
    series_description : str
        Series Description (0008,103E).

    Returns
    -------
    DicomExport
        The Comprehensive 3D SR (``dataset.save_as(path)`` writes it) and a
        warning per annotation left out (a projection annotation whose image
        was not given) or measurement written in pixels.

    Raises
    ------
    ValueError
        If no source dataset is given, or no annotation could be written.

    References
    ----------
    PS3.16 TID 1500 Measurement Report, TID 1501 Measurement and Qualitative
    Evaluation Group, TID 1410 Planar ROI Measurements, TID 300 Measurement,
    TID 4108 Tracking Identifier; PS3.3 A.35.13 Comprehensive 3D SR IOD,
    C.18.6 Spatial Coordinates Macro, C.18.9 3D Spatial Coordinates Macro.
    """
    import highdicom as hd
    from highdicom.coding_schemes import CodingSchemeIdentificationItem

    if not source_datasets:
        raise ValueError("a report needs the headers of the annotated images")
    placements = image_placements(source_datasets, pixel_to_lps)
    stats = roi_stats or {}
    modality = str(next(iter(source_datasets.values())).get("Modality", ""))
    groups: list[Any] = []
    warnings: list[str] = []
    for number, lesion in enumerate(annotation_set.lesions, start=1):
        name = lesion.label or f"lesion {number}"
        for annotation in lesion.annotations:
            what = annotation_name(lesion, annotation, name)
            where, reason = _where(annotation, placements)
            if where is None:
                warnings.append(f"{what} left out: {reason}")
                continue
            image_modality = (
                str(where.placement.dataset.get("Modality", modality))
                if where.placement
                else modality
            )
            group, notes = _measurement_group(
                lesion,
                number,
                annotation,
                where,
                stats.get(annotation.id),
                image_modality,
                annotation_set.calibration(
                    annotation.referenced_sop_instance_uid,
                    annotation.referenced_frame,
                ),
            )
            groups.append(group)
            warnings.extend(f"{what}: {note}" for note in notes)
    if not groups:
        raise ValueError(
            "nothing to export: "
            + ("; ".join(warnings) if warnings else "there are no annotations")
        )
    device = hd.sr.ObserverContext(
        observer_type=codes.DCM.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=device_observer_uid or _device_uid(),
            name="imaging_viewer",
            manufacturer_name=manufacturer,
            model_name="imaging_viewer",
        ),
    )
    person = (
        hd.sr.ObserverContext(
            observer_type=codes.DCM.Person,
            observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(
                name=observer_name
            ),
        )
        if observer_name
        else None
    )
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(
            observer_person_context=person, observer_device_context=device
        ),
        procedure_reported=codes.SCT.ImagingProcedure,
        imaging_measurements=groups,
    )
    with quiet_highdicom():
        document = hd.sr.Comprehensive3DSR(
            evidence=with_patient_and_study(source_datasets.values()),
            content=report[0],
            series_instance_uid=series_instance_uid or hd.UID(),
            series_number=series_number,
            sop_instance_uid=sop_instance_uid or hd.UID(),
            instance_number=1,
            manufacturer=manufacturer,
            is_complete=True,
            series_description=series_description,
            manufacturer_model_name="imaging_viewer",
            software_versions=__version__,
            specific_character_set="ISO_IR 192",
            coding_schemes=[
                CodingSchemeIdentificationItem(
                    designator=PRIVATE_SCHEME,
                    name="imaging_viewer lesion and annotation records",
                    responsible_organization="imaging_viewer",
                ),
                CodingSchemeIdentificationItem(
                    designator=FREE_TEXT_SCHEME,
                    name="dcmjs free-text labels",
                    responsible_organization="dcmjs",
                ),
            ],
        )
    return DicomExport(document, tuple(warnings))


# ------------------------------------------------------------------ import


def _concept(item: Dataset) -> tuple[str, str]:
    sequence = item.get("ConceptNameCodeSequence")
    if not sequence:
        return "", ""
    code = sequence[0]
    value = str(code.get("CodeValue") or code.get("LongCodeValue") or "")
    scheme = str(code.get("CodingSchemeDesignator", ""))
    return value, scheme


def _children(item: Dataset) -> list[Dataset]:
    return list(item.get("ContentSequence") or [])


def _is(item: Dataset, code: Code | tuple[str, str]) -> bool:
    key = (code.value, code.scheme_designator) if isinstance(code, Code) else code
    return _concept(item) == key


def first_frame(value: Any) -> int | None:
    """The first Referenced Frame Number (IS, one or more values), or None."""
    if value is None or value == "":
        return None
    if isinstance(value, int | str):
        return int(value)
    values = list(value)
    return int(values[0]) if values else None


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@dataclass
class _Graphic:
    """One SCOORD or SCOORD3D item: its type, points in LPS, and where from."""

    graphic_type: str
    points_lps: NDArray[np.float64]
    frame_of_reference_uid: str
    placement: ImagePlacement | None


def _graphic(
    item: Dataset,
    placements: Mapping[tuple[str, int | None], ImagePlacement],
) -> _Graphic | str:
    """The graphic of a SCOORD/SCOORD3D item, or why it cannot be placed."""
    data = np.asarray(item.GraphicData, dtype=np.float64)
    graphic_type = str(item.GraphicType)
    if item.ValueType == "SCOORD3D":
        return _Graphic(
            graphic_type,
            data.reshape(-1, 3),
            str(item.ReferencedFrameOfReferenceUID),
            None,
        )
    images = [c for c in _children(item) if c.get("ValueType") == "IMAGE"]
    if not images:
        return "a SCOORD without its image"
    reference = images[0].ReferencedSOPSequence[0]
    uid = str(reference.ReferencedSOPInstanceUID)
    frame = first_frame(reference.get("ReferencedFrameNumber"))
    placement = find_placement(placements, uid, frame)
    if placement is None:
        return f"its image {uid} was not given"
    pixels = data.reshape(-1, 2) - 0.5
    return _Graphic(
        graphic_type,
        placement.pixel_to_points_lps(pixels),
        placement.frame_of_reference_uid,
        placement,
    )


def _infer_kind(
    graphics: Sequence[_Graphic], names: set[tuple[str, str]], is_roi: bool
) -> str:
    if names & _LONG_AXIS and names & _SHORT_AXIS and len(graphics) == 2:
        return "bidirectional"
    if names & _COBB:
        return "cobb_angle"
    if names & _ANGLE:
        return "angle"
    if names & _LENGTH and not is_roi:  # an ROI's Length is an arrow's (OHIF)
        return "ruler"
    if len(graphics) != 1:
        return ""
    graphic = graphics[0]
    count = len(graphic.points_lps)
    if graphic.graphic_type in ("ELLIPSE", "CIRCLE"):
        return "ellipse"
    if graphic.graphic_type == "POLYGON" or (
        graphic.graphic_type == "POLYLINE"
        and count > 3
        and np.allclose(graphic.points_lps[0], graphic.points_lps[-1])
    ):
        return "polygon"
    if graphic.graphic_type == "POINT":
        return "point"
    if graphic.graphic_type == "POLYLINE" and count == 2:
        return "arrow" if is_roi else "ruler"
    return ""


def _plane_normal(
    record: Mapping[str, Any], graphics: Sequence[_Graphic]
) -> tuple[float, float, float]:
    normal = record.get("plane_normal_lps")
    if isinstance(normal, list) and len(normal) == 3:
        return float(normal[0]), float(normal[1]), float(normal[2])
    for graphic in graphics:
        if graphic.placement is not None:
            n = graphic.placement.normal_lps
            return float(n[0]), float(n[1]), float(n[2])
    points = np.vstack([g.points_lps for g in graphics])
    found = plane_normal_of(points)
    if found is not None:
        return float(found[0]), float(found[1]), float(found[2])
    return 0.0, 0.0, 1.0


def _measurement_graphics(measurement: Dataset) -> list[Dataset]:
    """A measurement's SCOORD3Ds if it has any (the SCOORD beside them is for
    OHIF), else its SCOORDs."""
    children = _children(measurement)
    for value_type in ("SCOORD3D", "SCOORD"):
        found = [c for c in children if c.get("ValueType") == value_type]
        if found:
            return found
    return []


def _tool_hint(group: Any) -> str:
    """Our kind for the OHIF tool a Tracking Identifier names (a hint only)."""
    identifier = str(group.tracking_identifier or "")
    tool = identifier.split(":")[1] if identifier.count(":") >= 1 else ""
    kinds = {tool_name: kind for kind, tool_name in OHIF_TOOLS.items()}
    return kinds.get(tool, "")


def _ohif_arrow(tip: _Graphic) -> _Graphic:
    """OHIF writes an arrow as its tip only, and draws its tail 20 pixels down
    and right (@cornerstonejs/adapters ArrowAnnotate): do the same."""
    placement = tip.placement
    if placement is None:
        return tip
    pixel = placement.dicom_pixels(tip.points_lps)[0] - 0.5
    tail = placement.pixel_to_points_lps(pixel + 20.0)
    return _Graphic(
        "POLYLINE",
        np.vstack([tip.points_lps, tail]),
        tip.frame_of_reference_uid,
        placement,
    )


def _label_of(group: Any, children: Sequence[Dataset]) -> str:
    """A lesion label from a free-text coded Finding (as OHIF writes it), else
    from the Tracking Identifier unless it names a tool."""
    for child in children:
        if child.get("ValueType") == "CODE" and _is(child, FINDING):
            code = child.ConceptCodeSequence[0]
            # CodeValue as dcmjs writes it, LongCodeValue (> 16 characters) as we do
            if FREE_TEXT in (code.get("CodeValue"), code.get("LongCodeValue")):
                return str(code.get("CodeMeaning", ""))
    identifier = str(group.tracking_identifier or "")
    return "" if ":" in identifier and "@" in identifier else identifier


def _our_shapes(
    kind: str, graphics: Sequence[_Graphic]
) -> list[tuple[str, NDArray[np.float64]]]:
    """Graphics as :func:`annotation_from_shapes` takes them; an angle or Cobb
    angle written as OHIF's one 4-point line (see :func:`ohif_graphic`) is split."""
    shapes = [(g.graphic_type, g.points_lps) for g in graphics]
    if len(shapes) == 1 and len(shapes[0][1]) == 4:
        graphic_type, points = shapes[0]
        if kind == "angle":
            return [(graphic_type, points[[0, 1, 3]])]
        if kind == "cobb_angle":
            return [(graphic_type, points[:2]), (graphic_type, points[2:])]
    return shapes


@dataclass
class _LesionDraft:
    lesion: Lesion
    annotations: list[Annotation]


def import_measurement_report(
    dataset: Dataset,
    source_datasets: Mapping[str, Dataset] | None = None,
    *,
    pixel_to_lps: Mapping[str, Affine] | None = None,
) -> DicomImport:
    """Read the lesions and annotations of a TID 1500 Measurement Report.

    Measurement groups with the same Tracking Unique Identifier make one
    lesion (in order of first appearance); each group makes one annotation,
    with its points in LPS mm. Measured values are not read: they are
    measured again from the points.

    Parameters
    ----------
    dataset : pydicom.Dataset
        An Enhanced, Comprehensive or Comprehensive 3D SR holding TID 1500.
    source_datasets : mapping of str to pydicom.Dataset, optional
        Headers of the referenced images, by SOP Instance UID: needed only for
        SCOORD (pixel) graphics, e.g. on projection radiographs.
    pixel_to_lps : mapping of str to (4, 4) array, optional
        See :func:`image_placements`.

    Returns
    -------
    DicomImport
        The annotation set (empty undo history) and a warning per group
        skipped (no graphics, an image not given, a kind not recognised).

    Raises
    ------
    ValueError
        If the dataset is not an SR Measurement Report.

    References
    ----------
    PS3.16 TID 1500, TID 1501, TID 1410, TID 4108; PS3.3 C.18.6, C.18.9.
    """
    import highdicom as hd

    sop_classes: dict[str, Any] = {
        "1.2.840.10008.5.1.4.1.1.88.34": hd.sr.Comprehensive3DSR,
        "1.2.840.10008.5.1.4.1.1.88.33": hd.sr.ComprehensiveSR,
        "1.2.840.10008.5.1.4.1.1.88.22": hd.sr.EnhancedSR,
    }
    sr_class = sop_classes.get(str(dataset.get("SOPClassUID", "")))
    if sr_class is None or not _is(dataset, ("126000", "DCM")):
        raise ValueError(
            "not a DICOM SR Measurement Report (PS3.16 TID 1500, title 126000)"
        )
    document = sr_class.from_dataset(dataset, copy=True)
    containers = [
        item for item in _children(document) if _is(item, _IMAGING_MEASUREMENTS)
    ]
    placements = image_placements(source_datasets or {}, pixel_to_lps)
    drafts: dict[str, _LesionDraft] = {}
    used_ids: set[str] = set()
    warnings: list[str] = []
    number = 0
    for container in containers:
        for item in _children(container):
            if not _is(item, _MEASUREMENT_GROUP):
                continue
            number += 1
            where = f"measurement group {number}"
            try:
                problem = _read_group(item, placements, drafts, used_ids)
            except ValueError as error:
                problem = str(error)
            if problem:
                warnings.append(f"{where} skipped: {problem}")
    lesions = [
        Lesion(**{**_lesion_fields(d.lesion), "annotations": tuple(d.annotations)})
        for d in drafts.values()
    ]
    return DicomImport(AnnotationSet(lesions), tuple(warnings))


def _followup_fields(lesion_record: Mapping[str, Any]) -> dict[str, Any]:
    """Role, node, organ of our own lesion record; anything malformed is left out."""
    fields: dict[str, Any] = {}
    role = lesion_record.get("role")
    if role in LESION_ROLES:
        fields["role"] = role
    organ = lesion_record.get("organ")
    if isinstance(organ, str):
        fields["organ"] = organ
    for flag in ("nodal", "soft_tissue_component"):
        if isinstance(lesion_record.get(flag), bool):
            fields[flag] = lesion_record[flag]
    return fields


def _lesion_fields(lesion: Lesion) -> dict[str, Any]:
    return {name: getattr(lesion, name) for name in ("id", *Lesion.EDITABLE_FIELDS)}


def _read_group(
    item: Dataset,
    placements: Mapping[tuple[str, int | None], ImagePlacement],
    drafts: dict[str, _LesionDraft],
    used_ids: set[str],
) -> str:
    import highdicom as hd

    children = _children(item)
    is_roi = any(_is(c, _IMAGE_REGION) for c in children)
    group: Any = (
        hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations.from_sequence([item])
        if is_roi
        else hd.sr.MeasurementsAndQualitativeEvaluations.from_sequence([item])
    )
    texts: dict[tuple[str, str], str] = {
        _concept(c): str(c.TextValue)
        for c in children
        if c.get("ValueType") == "TEXT" and "TextValue" in c
    }
    lesion_record = _json(texts.get((LESION_RECORD.value, PRIVATE_SCHEME), ""))
    record = _json(texts.get((ANNOTATION_RECORD.value, PRIVATE_SCHEME), ""))

    graphic_items: list[Dataset] = []
    names: set[tuple[str, str]] = set()
    if is_roi:
        graphic_items = [c for c in children if _is(c, _IMAGE_REGION)][:1]
    for measurement in group.get_measurements():
        names.add(_concept(measurement[0]))
        if is_roi:
            continue  # SCOORDs under an ROI's measurements repeat its region
        graphic_items.extend(_measurement_graphics(measurement[0]))
    if not graphic_items:
        return "no spatial coordinates"
    graphics: list[_Graphic] = []
    for graphic_item in graphic_items:
        graphic = _graphic(graphic_item, placements)
        if isinstance(graphic, str):
            return graphic
        graphics.append(graphic)

    hint = _tool_hint(group)
    if hint == "arrow" and len(graphics) == 1 and len(graphics[0].points_lps) == 1:
        graphics = [_ohif_arrow(graphics[0])]
    kind = str(record.get("kind") or _infer_kind(graphics, names, is_roi))
    if hint == "arrow" and kind == "ruler" and not record:
        kind = hint  # OHIF's arrow: its tip and tail, no Length of its own
    if not kind:
        return "its kind of annotation is not recognised"

    tracking_uid = str(group.tracking_uid or "")
    if not is_valid_uid(tracking_uid):
        tracking_uid = new_uid()
    draft = drafts.get(tracking_uid)
    if draft is None:
        colour = str(lesion_record.get("colour", ""))
        if not (len(colour) == 7 and colour.startswith("#")):
            colour = LESION_COLOURS[len(drafts) % len(LESION_COLOURS)]
        lesion_id = str(lesion_record.get("id") or "")
        if not lesion_id or lesion_id in used_ids:
            lesion_id = new_id()
        used_ids.add(lesion_id)
        label = lesion_record.get("label")
        draft = drafts[tracking_uid] = _LesionDraft(
            Lesion(
                id=lesion_id,
                label=str(label if label is not None else _label_of(group, children)),
                site=texts.get((FINDING_SITE.value, "SCT"))
                or str(lesion_record.get("site", "")),
                finding=texts.get((FINDING.value, "DCM"))
                or str(lesion_record.get("finding", "")),
                diagnosis=texts.get((DIAGNOSIS.value, "SCT"), ""),
                note=texts.get((COMMENT.value, "DCM"), ""),
                colour=colour,
                tracking_uid=tracking_uid,
                **coded_site_of(children),
                **_followup_fields(lesion_record),
            ),
            [],
        )
    annotation_id = str(record.get("id") or "")
    if not annotation_id or annotation_id in used_ids:
        annotation_id = new_id()
    placement = next((g.placement for g in graphics if g.placement), None)
    referenced_uid = str(
        record.get("referenced_sop_instance_uid")
        or (placement.sop_instance_uid if placement else "")
    )
    frame = record.get("referenced_frame")
    if frame is None and placement is not None:
        frame = placement.frame_number
    common = {
        "id": annotation_id,
        "label": str(record.get("label", "") if record else _label_of(group, children)),
        "frame_of_reference_uid": graphics[0].frame_of_reference_uid,
        "referenced_sop_instance_uid": referenced_uid,
        "referenced_frame": int(frame) if frame is not None else None,
        "plane_normal_lps": _plane_normal(record, graphics),
    }
    annotation = annotation_from_shapes(
        kind,
        _our_shapes(kind, graphics),
        lesion_id=draft.lesion.id,
        common=common,
        text=str(record.get("text", "")),
        major_axis=int(record.get("major_axis", 1)),
    )
    used_ids.add(annotation_id)
    draft.annotations.append(annotation)
    return ""


def read_measurement_report(path: str | os.PathLike[str]) -> DicomImport:
    """Import a TID 1500 report from a file (see :func:`import_measurement_report`).

    Raises
    ------
    ValueError
        When the file is not a DICOM measurement report.
    """
    try:
        dataset = pydicom.dcmread(path)
    except (OSError, pydicom.errors.InvalidDicomError) as error:
        raise ValueError(f"{path}: not a readable DICOM file ({error})") from error
    return import_measurement_report(dataset)
