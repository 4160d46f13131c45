"""Grayscale Softcopy Presentation States (PS3.3 A.33.1) of lesions and annotations.

:func:`export_presentation_state` draws an :class:`AnnotationSet` on the
acquired images it belongs to, as the graphic and text objects of a GSPS
built with highdicom; :func:`import_presentation_state` reads one back.

How annotations are written (PS3.3 C.10.5 Graphic Annotation, C.10.7 Graphic
Layer, C.10.8 Graphic Group):

- one Graphic Layer per lesion: its name a Code String made from the lesion
  label, its description the label, its Recommended Display CIELab Value the
  lesion colour;
- one Graphic Group per annotation, whose objects carry the lesion's label and
  Tracking UID (Tracking ID/UID, 0062,0020/0021);
- graphic objects in PIXEL units of the referenced image: POINT (point),
  POLYLINE (ruler, arrow tip→tail, angle, each axis of a bidirectional, each
  line of a Cobb angle, closed for a polygon), ELLIPSE (major axis first);
  a text label is a Text Object at its anchor, and the label and measurements
  of the others a Text Object beside them;
- the window, when given, as the Softcopy VOI LUT (PS3.3 C.11.8).

LPS points map to pixels through each image's Image Position and Orientation
and Pixel Spacing (PS3.3 C.7.6.2.1.1). An annotation drawn on a reformatted
plane, not on an acquired image, is moved onto the nearest acquired image of
its frame of reference when all its points lie within half a slice of it, and
left out with a warning otherwise.

What a GSPS has no attribute for (the lesion's id, site, finding, diagnosis,
note; each annotation's id, kind, label, text and plane normal) is kept as
JSON in the private element (0071,xx01) UT of the private creator
``"imaging_viewer annotations"``. A GSPS from another program is read from its
standard content alone: one lesion per layer, one annotation per object.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pydicom
import pydicom.errors

from imaging_viewer import __version__
from imaging_viewer.core.annotations.anatomic_sites import (
    coded_site_from_record,
    coded_site_record,
)
from imaging_viewer.core.annotations.measure import (
    UNIT_TEXT,
    NoSpacingError,
    measure,
    measure_shown,
)
from imaging_viewer.core.annotations.model import (
    LESION_COLOURS,
    Annotation,
    AnnotationSet,
    Arrow,
    EllipseRoi,
    Lesion,
    TextLabel,
    is_valid_uid,
    new_id,
    new_uid,
)
from imaging_viewer.core.annotations.naming import annotation_name
from imaging_viewer.core.exchange.structured_report import (
    DicomExport,
    DicomImport,
    ImagePlacement,
    annotation_from_shapes,
    ellipse_axes,
    find_placement,
    first_frame,
    image_placements,
    lies_parallel,
    quiet_highdicom,
    shapes_of,
    with_patient_and_study,
)

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping, Sequence

    from numpy.typing import NDArray
    from pydicom.dataset import Dataset

    from imaging_viewer.core.annotations.calibration import Calibration
    from imaging_viewer.core.dicom.series import SeriesInfo
    from imaging_viewer.core.geometry import Affine
    from imaging_viewer.core.volume import Window

PRIVATE_CREATOR: Final = "imaging_viewer annotations"
PRIVATE_GROUP: Final = 0x0071
RECORD_ELEMENT: Final = 0x01
"""(0071,xx01) UT: JSON of the lesions and annotations (see the module docstring)."""
RECORD_SCHEMA: Final = "imaging_viewer.gsps/1"

_GSPS: Final = "1.2.840.10008.5.1.4.1.1.11.1"
# Points this close to an image's plane (mm) count as on it.
_ON_PLANE_MM: Final = 1e-3
_CONTROL = re.compile(r"[\x00-\x1f\x7f\\]")
_UNITS_TEXT: Final = {"mm": " mm", "mm2": " mm²", "deg": "°"}


# ------------------------------------------------------------------ geometry


def half_slice_mm(
    placements: Mapping[tuple[str, int | None], ImagePlacement],
) -> dict[tuple[str, int | None], float]:
    """Half the distance to the nearest parallel image of the same stack, per image.

    Images are stacked by frame of reference, series and orientation; a lone
    image uses half its Slice Thickness, else counts only points on its plane.
    """
    stacks: dict[tuple[Any, ...], list[tuple[tuple[str, int | None], float]]] = (
        defaultdict(list)
    )
    for key, placement in placements.items():
        normal = placement.normal_lps
        stack = (
            placement.frame_of_reference_uid,
            str(placement.dataset.get("SeriesInstanceUID", "")),
            tuple(np.round(normal, 4)),
        )
        stacks[stack].append((key, float(normal @ placement.pixel_to_lps[:3, 3])))
    half: dict[tuple[str, int | None], float] = {}
    for members in stacks.values():
        for key, position in members:
            gaps = [
                abs(position - other)
                for _, other in members
                if abs(position - other) > _ON_PLANE_MM
            ]
            if gaps:
                half[key] = min(gaps) / 2.0
            else:
                thickness = placements[key].slice_thickness_mm
                half[key] = thickness / 2.0 if thickness else _ON_PLANE_MM
    return half


def _target(
    annotation: Annotation,
    placements: Mapping[tuple[str, int | None], ImagePlacement],
    half: Mapping[tuple[str, int | None], float],
) -> tuple[ImagePlacement | None, str]:
    """The acquired image to draw an annotation on, or why there is none."""
    points = annotation.points_lps
    if annotation.referenced_sop_instance_uid:
        placement = find_placement(
            placements,
            annotation.referenced_sop_instance_uid,
            annotation.referenced_frame,
            points,
        )
        if placement is not None and (
            not annotation.frame_of_reference_uid
            or lies_parallel(annotation, placement)
        ):
            return placement, ""
    if not annotation.frame_of_reference_uid:
        return None, (
            "the image it was drawn on "
            f"({annotation.referenced_sop_instance_uid or 'none'}) was not given"
        )
    best: tuple[float, ImagePlacement] | None = None
    for key, placement in placements.items():
        if placement.frame_of_reference_uid != annotation.frame_of_reference_uid:
            continue
        distance = float(np.abs(placement.lps_to_pixel(points)[:, 2]).max())
        if distance <= half[key] + _ON_PLANE_MM and (
            best is None or distance < best[0]
        ):
            best = (distance, placement)
    if best is None:
        return None, (
            "it is not on an acquired image: it was drawn on a reformatted plane, "
            "more than half a slice from every image given"
        )
    return best[1], ""


# ------------------------------------------------------------------ export


def _long_string(text: str, size: int = 64) -> str:
    # LO/ST: no backslash or control characters (PS3.5 6.2).
    return _CONTROL.sub(" ", text).strip()[:size]


def _layer_name(label: str, number: int, used: set[str]) -> str:
    """A unique Code String (PS3.5 6.2: A-Z, 0-9, space, _; ≤ 16) for a layer."""
    name = re.sub(r"[^A-Z0-9 _]", "_", label.upper())
    name = re.sub(r"^[^A-Z]+", "", name)[:16].rstrip(" _")
    if not name:
        name = f"LESION {number}"
    candidate, suffix = name, 1
    while candidate in used:
        suffix += 1
        tail = f"_{suffix}"
        candidate = name[: 16 - len(tail)].rstrip(" _") + tail
    used.add(candidate)
    return candidate


def _measurement_text(
    annotation: Annotation,
    placement: ImagePlacement,
    calibration: Calibration | None = None,
) -> str:
    """E.g. ``"length 12.3 mm"``, ``"angle 41.0°"``; pixels without spacing; mm
    from a reader's calibration of the image (PS3.3 10.7.1)."""
    if calibration is not None:
        return (
            "; ".join(
                f"{r.name} {r.value:.1f}{UNIT_TEXT[r.unit]}"
                for r in measure_shown(annotation, calibration=calibration)
            )
            + " (calibrated)"
        )
    units = _UNITS_TEXT
    try:
        results = measure(annotation, spacing_source=placement.spacing_source)
    except NoSpacingError:
        results = measure(annotation)
        units = {"mm": " px", "mm2": " px²", "deg": "°"}
    return "; ".join(f"{r.name} {r.value:.1f}{units[r.unit]}" for r in results)


def arrow_head(line: NDArray[np.float64]) -> NDArray[np.float64]:
    """The head of an arrow drawn tip → tail (pixels): a polyline barb → tip →
    barb, 30° either side of the shaft, a fifth of its length (3 to 20 pixels).

    A GSPS has no arrow graphic (PS3.3 C.10.5.1.2 lists POINT, POLYLINE,
    INTERPOLATED, CIRCLE, ELLIPSE): the head is a second POLYLINE of the same
    Graphic Group, which other viewers draw and our import recognises.
    """
    tip, tail = np.asarray(line[0], dtype=np.float64), np.asarray(line[-1])
    shaft = tail - tip
    length = float(np.hypot(*shaft))
    if length == 0.0:
        return np.vstack([tip, tip, tip])
    size = min(max(length / 5.0, 3.0), 20.0)
    direction = shaft / length * size
    barbs = []
    for angle in (np.radians(30.0), -np.radians(30.0)):
        cos, sin = np.cos(angle), np.sin(angle)
        rotated = np.array(
            [
                cos * direction[0] - sin * direction[1],
                sin * direction[0] + cos * direction[1],
            ]
        )
        barbs.append(tip + rotated)
    return np.vstack([barbs[0], tip, barbs[1]])


def _colour(hex_colour: str) -> Any:
    from highdicom.color import CIELabColor

    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return CIELabColor.from_rgb(red, green, blue)


def _objects(
    annotation: Annotation,
    pixels: Sequence[tuple[str, NDArray[np.float64]]],
    placement: ImagePlacement,
    tracking: tuple[str, str],
    group: Any,
    measurement_text: bool,
    calibration: Calibration | None = None,
) -> tuple[list[Any], list[Any]]:
    """The graphic and text objects of one annotation (PIXEL units)."""
    import highdicom as hd

    tracking_id, tracking_uid = tracking
    units = hd.pr.AnnotationUnitsValues.PIXEL
    graphics: list[Any] = []
    texts: list[Any] = []
    if isinstance(annotation, TextLabel):
        texts.append(
            hd.pr.TextObject(
                # Text Value is Type 1: the exact text is in the private record.
                text_value=_long_string(annotation.text or annotation.label, 1024)
                or "-",
                units=units,
                anchor_point=tuple(pixels[0][1][0]),
                anchor_point_visible=False,
                tracking_id=tracking_id,
                tracking_uid=tracking_uid,
                graphic_group=group,
            )
        )
        return graphics, texts
    shapes = list(pixels)
    if isinstance(annotation, Arrow):
        shapes.append(("POLYLINE", arrow_head(pixels[0][1])))
    for graphic_type, data in shapes:
        graphics.append(
            hd.pr.GraphicObject(
                graphic_type="POLYLINE" if graphic_type == "POLYGON" else graphic_type,
                graphic_data=data,
                units=units,
                tracking_id=tracking_id,
                tracking_uid=tracking_uid,
                graphic_group=group,
            )
        )
    words = [annotation.label] if annotation.label else []
    if measurement_text:
        words.append(_measurement_text(annotation, placement, calibration))
    caption = _long_string(": ".join(w for w in words if w), 1024)
    if caption:
        texts.append(
            hd.pr.TextObject(
                text_value=caption,
                units=units,
                anchor_point=tuple(pixels[0][1][-1]),
                anchor_point_visible=False,
                tracking_id=tracking_id,
                tracking_uid=tracking_uid,
                graphic_group=group,
            )
        )
    return graphics, texts


def _record(
    lesions: Sequence[Lesion], written: Mapping[str, tuple[int, Annotation]]
) -> str:
    items = []
    for lesion in lesions:
        annotations = []
        for annotation in lesion.annotations:
            if annotation.id not in written:
                continue
            group_id, _ = written[annotation.id]
            item: dict[str, Any] = {
                "graphic_group_id": group_id,
                "id": annotation.id,
                "kind": annotation.kind,
                "label": annotation.label,
                "plane_normal_lps": list(annotation.plane_normal_lps),
            }
            if isinstance(annotation, TextLabel):
                item["text"] = annotation.text
            if isinstance(annotation, EllipseRoi):
                item["major_axis"] = ellipse_axes(annotation)[1]
            annotations.append(item)
        if annotations:
            items.append(
                {
                    "id": lesion.id,
                    "label": lesion.label,
                    "site": lesion.site,
                    **coded_site_record(lesion),
                    "finding": lesion.finding,
                    "diagnosis": lesion.diagnosis,
                    "note": lesion.note,
                    "colour": lesion.colour,
                    "tracking_uid": lesion.tracking_uid,
                    "annotations": annotations,
                }
            )
    # ASCII, non-ASCII as JSON escapes: dcmtk's presentation-state checker
    # (dcmpschk) refuses UTF-8 in a private UT it does not know.
    return json.dumps(
        {"schema": RECORD_SCHEMA, "lesions": items},
        ensure_ascii=True,
        separators=(",", ":"),
    )


def _voi(
    window: Window, rescale: tuple[float, float] = (1.0, 0.0), references: Any = None
) -> Any:
    import highdicom as hd

    slope, intercept = rescale
    return hd.pr.SoftcopyVOILUTTransformation(
        window_center=(window.center - intercept) / slope,
        window_width=window.width / abs(slope),
        window_explanation=_long_string(window.explanation) or None,
        voi_lut_function=window.function or None,
        referenced_images=references,
    )


def _per_image_voi(
    images: Sequence[ImagePlacement], window: Window | None, *, stored: bool = True
) -> list[Any] | None:
    """One Softcopy VOI LUT item per image (and rescale), referencing its
    frames: ``window``, else the image's own first window. With ``stored``
    the window is in stored values (no Modality LUT applies), else in
    modality units."""
    import highdicom as hd

    frames: dict[tuple[str, tuple[float, float]], list[ImagePlacement]] = defaultdict(
        list
    )
    for placement in images:
        key = (placement.sop_instance_uid, placement.rescale or (1.0, 0.0))
        frames[key].append(placement)
    voi = []
    for (_, rescale), members in frames.items():
        chosen = window or next(iter(members[0].windows), None)
        if chosen is None:
            continue
        numbers = [p.frame_number for p in members if p.frame_number is not None]
        references = hd.ReferencedImageSequence(
            referenced_images=[members[0].dataset],
            referenced_frame_number=numbers or None,
        )
        voi.append(_voi(chosen, rescale if stored else (1.0, 0.0), references))
    return voi or None


def _with_shared_groups(ds: Dataset) -> Dataset:
    """``ds``, or for a multi-frame image missing its (Type 2) Shared Functional
    Groups Sequence (PS3.3 C.7.6.16), a shallow copy with an empty one, which
    is what highdicom reads windows from."""
    if "PerFrameFunctionalGroupsSequence" not in ds or (
        ds.get("SharedFunctionalGroupsSequence")
    ):
        return ds
    from pydicom.dataset import Dataset as PydicomDataset
    from pydicom.sequence import Sequence as PydicomSequence

    patched = PydicomDataset()
    for element in ds:  # a new element dict: ``ds`` is left as it is
        patched.add(element)
    if hasattr(ds, "file_meta"):
        patched.file_meta = ds.file_meta
    patched.SharedFunctionalGroupsSequence = PydicomSequence([PydicomDataset()])
    return patched


def _pixel_transformations(
    images: Sequence[ImagePlacement], window: Window | None
) -> tuple[Any, list[Any] | None, str]:
    """Modality LUT and Softcopy VOI LUT items for the images drawn on.

    A presentation state has one Modality LUT for all its images (PS3.3
    A.33.1, C.11.1). Where the images' Rescale Slope/Intercept differ, it
    gets the identity instead, and the window is given per image (frame) in
    stored values, so the images show as they did.
    """
    import highdicom as hd

    modality = str(images[0].dataset.get("Modality", ""))
    rescale_type = "HU" if modality == "CT" else "US"
    rescales = {p.rescale or (1.0, 0.0) for p in images}
    if len(rescales) == 1:
        (rescale,) = rescales
        lut = None
        if any(p.rescale is not None for p in images):
            lut = hd.ModalityLUTTransformation(
                rescale_intercept=rescale[1],
                rescale_slope=rescale[0],
                rescale_type=rescale_type,
            )
        if window is not None:
            return lut, [_voi(window)], ""
        # Each image's own first (displayed) window, per image: a VOI item has
        # one window (PS3.3 C.11.8: Window Center/Width VM 1 in a presentation
        # state), where highdicom would copy all the image's header windows;
        # and it fails on a multi-frame image without its (Type 2) Shared
        # Functional Groups Sequence.
        return lut, _per_image_voi(images, None, stored=False), ""
    voi = _per_image_voi(images, window)
    identity = hd.ModalityLUTTransformation(
        rescale_intercept=0.0, rescale_slope=1.0, rescale_type="US"
    )
    note = (
        "the images have different Rescale Slope/Intercept: the presentation state "
        "applies none, and gives the window per image in stored values"
    )
    return identity, voi or None, note


def _laterality(images: Sequence[Dataset]) -> str:
    # General Series Laterality is Type 2C (PS3.3 C.7.3.1): the images' own
    # where they agree, else empty (unknown).
    values = {
        str(ds.get("Laterality") or ds.get("ImageLaterality") or "") for ds in images
    }
    value = values.pop() if len(values) == 1 else ""
    return value if value in ("R", "L") else ""


def export_presentation_state(
    annotation_set: AnnotationSet,
    source_datasets: Mapping[str, Dataset],
    *,
    series_number: int,
    window: Window | None = None,
    pixel_to_lps: Mapping[str, Affine] | None = None,
    measurement_text: bool = True,
    manufacturer: str = "imaging_viewer",
    device_serial_number: str = "1",
    content_label: str = "ANNOTATIONS",
    content_description: str = "imaging_viewer annotations",
    content_creator_name: str | None = None,
    series_instance_uid: str | None = None,
    sop_instance_uid: str | None = None,
    series_description: str = "imaging_viewer annotations",
) -> DicomExport:
    """Draw lesions and their annotations as a Grayscale Softcopy Presentation State.

    Parameters
    ----------
    annotation_set : AnnotationSet
        The lesions, in order, with their annotations.
    source_datasets : mapping of str to pydicom.Dataset
        Headers of the acquired images to draw on, by SOP Instance UID: those
        the annotations were drawn on, and for annotations drawn on
        reformatted planes the images of that series (the nearest one within
        half a slice is used). Grayscale images (one sample per pixel) only.
    series_number : int
        Series Number of the new presentation state series.
    window : Window, optional
        The window the images were shown with, written as the Softcopy VOI
        LUT of every referenced image; by default viewers use the images' own.
    pixel_to_lps : mapping of str to (4, 4) array, optional
        Placement per SOP Instance UID instead of the header's (see
        :func:`~imaging_viewer.core.exchange.structured_report.image_placements`).
    measurement_text : bool
        Write each annotation's label and measurements as a text object.
    manufacturer, device_serial_number : str
        General Equipment (PS3.3 C.7.5.1).
    content_label : str
        Content Label (0070,0080): a Code String.
    content_description, content_creator_name : str, optional
        Presentation State Identification (PS3.3 C.11.10).
    series_instance_uid, sop_instance_uid : str, optional
        New UIDs by default.
    series_description : str
        Series Description (0008,103E).

    Returns
    -------
    DicomExport
        The presentation state (``dataset.save_as(path)`` writes it) and a
        warning per annotation left out (not within half a slice of an image
        given, or partly outside the image).

    Raises
    ------
    ValueError
        If no annotation could be drawn on an image given.

    References
    ----------
    PS3.3 A.33.1 Grayscale Softcopy Presentation State IOD; C.10.5 Graphic
    Annotation Module (Table C.10-5: PIXEL units put 0.0\\0.0 at the top left
    corner of the top left pixel; C.10.5.1.2 Graphic Type); C.10.7 Graphic
    Layer Module;
    C.10.8 Graphic Group Module; C.11.8 Softcopy VOI LUT Module;
    C.7.6.2.1.1 Image Position and Image Orientation.
    """
    import highdicom as hd

    completed = with_patient_and_study(source_datasets.values())
    sources = dict(zip(source_datasets, completed, strict=True))
    placements = image_placements(sources, pixel_to_lps)
    half = half_slice_mm(placements)
    warnings: list[str] = []
    layers: list[Any] = []
    groups: list[Any] = []
    by_image: dict[tuple[str, tuple[str, int | None]], tuple[list[Any], list[Any]]] = {}
    image_of: dict[tuple[str, int | None], ImagePlacement] = {}
    written: dict[str, tuple[int, Annotation]] = {}
    used_names: set[str] = set()
    for number, lesion in enumerate(annotation_set.lesions, start=1):
        name = lesion.label or f"lesion {number}"
        layer: Any = None
        tracking = (
            _long_string(lesion.label) or f"Lesion {number}",
            lesion.tracking_uid,
        )
        for annotation in lesion.annotations:
            what = annotation_name(lesion, annotation, name)
            placement, reason = _target(annotation, placements, half)
            if placement is None:
                warnings.append(f"{what} left out: {reason}")
                continue
            if int(placement.dataset.get("SamplesPerPixel", 1)) != 1:
                warnings.append(
                    f"{what} left out: image {placement.sop_instance_uid} is in "
                    "colour, and a grayscale presentation state cannot refer to it"
                )
                continue
            pixels = [
                (graphic_type, placement.dicom_pixels(points))
                for graphic_type, points in shapes_of(annotation)
            ]
            if not all(placement.contains(p) for _, p in pixels):
                warnings.append(
                    f"{what} left out: it reaches outside image "
                    f"{placement.sop_instance_uid}"
                )
                continue
            if layer is None:
                layer = hd.pr.GraphicLayer(
                    layer_name=_layer_name(lesion.label, number, used_names),
                    order=len(layers) + 1,
                    description=_long_string(lesion.label) or None,
                    display_color=_colour(lesion.colour),
                )
                layers.append(layer)
            group = hd.pr.GraphicGroup(
                graphic_group_id=len(groups) + 1,
                label=_long_string(f"{name}: {annotation.kind}"),
            )
            groups.append(group)
            written[annotation.id] = (group.graphic_group_id, annotation)
            graphics, texts = _objects(
                annotation,
                pixels,
                placement,
                tracking,
                group,
                measurement_text,
                annotation_set.calibration(
                    annotation.referenced_sop_instance_uid,
                    annotation.referenced_frame,
                ),
            )
            image_key = (placement.sop_instance_uid, placement.frame_number)
            image_of[image_key] = placement
            bucket = by_image.setdefault((layer.GraphicLayer, image_key), ([], []))
            bucket[0].extend(graphics)
            bucket[1].extend(texts)
    if not written:
        raise ValueError(
            "nothing to draw: "
            + ("; ".join(warnings) if warnings else "there are no annotations")
        )
    layer_by_name = {layer.GraphicLayer: layer for layer in layers}
    annotations = [
        hd.pr.GraphicAnnotation(
            referenced_images=[image_of[image_key].dataset],
            graphic_layer=layer_by_name[layer_name],
            referenced_frame_number=image_key[1],
            graphic_objects=graphics or None,
            text_objects=texts or None,
        )
        for (layer_name, image_key), (graphics, texts) in by_image.items()
    ]
    referenced = list(
        {p.sop_instance_uid: p.dataset for p in image_of.values()}.values()
    )
    modality_lut, voi, note = _pixel_transformations(list(image_of.values()), window)
    if note:
        warnings.append(note)
    with quiet_highdicom():
        state = hd.pr.GrayscaleSoftcopyPresentationState(
            referenced_images=[_with_shared_groups(ds) for ds in referenced],
            series_instance_uid=series_instance_uid or hd.UID(),
            series_number=series_number,
            sop_instance_uid=sop_instance_uid or hd.UID(),
            instance_number=1,
            manufacturer=manufacturer,
            manufacturer_model_name="imaging_viewer",
            software_versions=__version__,
            device_serial_number=device_serial_number,
            content_label=content_label,
            content_description=_long_string(content_description) or None,
            graphic_annotations=annotations,
            graphic_layers=layers,
            graphic_groups=groups,
            content_creator_name=content_creator_name,
            modality_lut_transformation=modality_lut,
            voi_lut_transformations=voi,
            series_description=series_description,
            specific_character_set="ISO_IR 192",
        )
    state.Laterality = _laterality(referenced)
    block = state.private_block(PRIVATE_GROUP, PRIVATE_CREATOR, create=True)
    block.add_new(RECORD_ELEMENT, "UT", _record(annotation_set.lesions, written))
    return DicomExport(state, tuple(warnings))


# ------------------------------------------------------------------ import


def _private_record(dataset: Dataset) -> dict[str, Any]:
    try:
        block = dataset.private_block(PRIVATE_GROUP, PRIVATE_CREATOR)
        value = json.loads(str(block[RECORD_ELEMENT].value))
    except (KeyError, ValueError):
        return {}
    if not isinstance(value, dict) or value.get("schema") != RECORD_SCHEMA:
        return {}
    return value


@dataclass
class _Object:
    """A graphic or text object read from a GSPS, with its points in LPS."""

    graphic_type: str
    points_lps: NDArray[np.float64]
    placement: ImagePlacement
    layer: str
    group_id: int | None
    tracking_id: str
    tracking_uid: str
    text: str = ""
    arrow: bool = False
    """A 2-point polyline whose group also draws a head at its first point."""


def _arrows_found(objects: Sequence[_Object]) -> list[_Object]:
    """``objects`` with each arrow head (a barb → tip → barb polyline of the
    Graphic Group of a 2-point polyline starting at the tip) taken out and its
    shaft marked as an arrow."""
    shafts = [
        o
        for o in objects
        if o.graphic_type == "POLYLINE" and len(o.points_lps) == 2 and o.group_id
    ]
    heads: set[int] = set()
    for head in objects:
        if head.graphic_type != "POLYLINE" or len(head.points_lps) != 3:
            continue
        for shaft in shafts:
            if shaft.group_id == head.group_id and np.allclose(
                head.points_lps[1], shaft.points_lps[0], atol=1e-3
            ):
                shaft.arrow = True
                heads.add(id(head))
                break
    return [o for o in objects if id(o) not in heads]


def _hex_colour(value: Sequence[int] | None) -> str:
    if value is None or len(value) != 3:
        return ""
    from highdicom.color import CIELabColor

    red, green, blue = CIELabColor.from_dicom_value([int(v) for v in value]).to_rgb(
        clip=True
    )
    return f"#{red:02x}{green:02x}{blue:02x}"


def _read_objects(
    dataset: Dataset,
    placements: Mapping[tuple[str, int | None], ImagePlacement],
    warnings: list[str],
) -> list[_Object]:
    objects: list[_Object] = []
    for number, item in enumerate(dataset.get("GraphicAnnotationSequence") or [], 1):
        references = item.get("ReferencedImageSequence") or []
        if not references:
            warnings.append(f"graphic annotation {number} skipped: no image")
            continue
        reference = references[0]
        uid = str(reference.ReferencedSOPInstanceUID)
        frame = first_frame(reference.get("ReferencedFrameNumber"))
        placement = find_placement(placements, uid, frame)
        if placement is None:
            warnings.append(
                f"graphic annotation {number} skipped: its image {uid} was not given"
            )
            continue
        layer = str(item.get("GraphicLayer", ""))
        for graphic in item.get("GraphicObjectSequence") or []:
            if str(graphic.get("GraphicAnnotationUnits", "")) != "PIXEL":
                warnings.append(
                    f"graphic annotation {number}: an object in "
                    f"{graphic.get('GraphicAnnotationUnits')} units skipped"
                )
                continue
            data = np.asarray(graphic.GraphicData, dtype=np.float64).reshape(-1, 2)
            objects.append(
                _Object(
                    str(graphic.GraphicType),
                    placement.pixel_to_points_lps(data - 0.5),
                    placement,
                    layer,
                    _int_or_none(graphic.get("GraphicGroupID")),
                    str(graphic.get("TrackingID", "")),
                    str(graphic.get("TrackingUID", "")),
                )
            )
        for text in item.get("TextObjectSequence") or []:
            if (
                "AnchorPoint" in text
                and text.get("AnchorPointAnnotationUnits") == "PIXEL"
            ):
                anchor = np.asarray(text.AnchorPoint, dtype=np.float64).reshape(1, 2)
            elif text.get("BoundingBoxAnnotationUnits") == "PIXEL":
                anchor = np.asarray(
                    text.BoundingBoxTopLeftHandCorner, dtype=np.float64
                ).reshape(1, 2)
            else:
                continue
            objects.append(
                _Object(
                    "TEXT",
                    placement.pixel_to_points_lps(anchor - 0.5),
                    placement,
                    layer,
                    _int_or_none(text.get("GraphicGroupID")),
                    str(text.get("TrackingID", "")),
                    str(text.get("TrackingUID", "")),
                    str(text.get("UnformattedTextValue", "")),
                )
            )
    return objects


def _int_or_none(value: Any) -> int | None:
    return int(value) if value not in (None, "") else None


def _kind_of(obj: _Object) -> str:
    count = len(obj.points_lps)
    if obj.graphic_type == "TEXT":
        return "text"
    if obj.graphic_type in ("ELLIPSE", "CIRCLE"):
        return "ellipse"
    if obj.graphic_type == "POINT":
        return "point"
    if obj.arrow:
        return "arrow"
    closed = count > 3 and np.allclose(obj.points_lps[0], obj.points_lps[-1])
    if closed:
        return "polygon"
    return {2: "ruler", 3: "angle"}.get(count, "")


def _normal(record: Mapping[str, Any], placement: ImagePlacement) -> tuple[float, ...]:
    # The points now lie on the image: keep the drawn normal only if parallel.
    image = placement.normal_lps
    stored = record.get("plane_normal_lps")
    if isinstance(stored, list) and len(stored) == 3:
        normal = np.asarray(stored, dtype=np.float64)
        if abs(abs(float(normal @ image)) - 1.0) < 1e-6:
            return tuple(float(v) for v in normal)
    return tuple(float(v) for v in image)


def import_presentation_state(
    dataset: Dataset,
    source_datasets: Mapping[str, Dataset],
    *,
    pixel_to_lps: Mapping[str, Affine] | None = None,
) -> DicomImport:
    """Read the lesions and annotations a Grayscale Softcopy Presentation State draws.

    Pixel positions are mapped back to LPS through the referenced images'
    placement, so each annotation lies on the image it is drawn on and
    references it.

    Parameters
    ----------
    dataset : pydicom.Dataset
        The presentation state.
    source_datasets : mapping of str to pydicom.Dataset
        Headers of the referenced images, by SOP Instance UID.
    pixel_to_lps : mapping of str to (4, 4) array, optional
        Placement per SOP Instance UID instead of the header's.

    Returns
    -------
    DicomImport
        The annotation set (empty undo history) and a warning per object
        skipped (an image not given, DISPLAY units, a graphic not recognised).

    Raises
    ------
    ValueError
        If the dataset is not a Grayscale Softcopy Presentation State.

    References
    ----------
    PS3.3 A.33.1; C.10.5 (C.10.5.1.2 Graphic Data); C.10.7; C.10.8;
    C.7.6.2.1.1.
    """
    if str(dataset.get("SOPClassUID", "")) != _GSPS:
        raise ValueError("not a Grayscale Softcopy Presentation State (PS3.3 A.33.1)")
    placements = image_placements(source_datasets, pixel_to_lps)
    warnings: list[str] = []
    objects = _read_objects(dataset, placements, warnings)
    record = _private_record(dataset)
    if record:
        lesions = _lesions_from_record(record, objects, warnings)
    else:
        lesions = _lesions_from_layers(dataset, objects, warnings)
    return DicomImport(AnnotationSet(lesions), tuple(warnings))


def _lesions_from_record(
    record: Mapping[str, Any], objects: Sequence[_Object], warnings: list[str]
) -> list[Lesion]:
    by_group: dict[int, list[_Object]] = defaultdict(list)
    for obj in objects:
        if obj.group_id is not None:
            by_group[obj.group_id].append(obj)
    lesions: list[Lesion] = []
    for entry in record.get("lesions", []):
        lesion = Lesion(
            id=str(entry.get("id") or new_id()),
            label=str(entry.get("label", "")),
            site=str(entry.get("site", "")),
            **coded_site_from_record(entry),
            finding=str(entry.get("finding", "")),
            diagnosis=str(entry.get("diagnosis", "")),
            note=str(entry.get("note", "")),
            colour=str(entry.get("colour", LESION_COLOURS[0])),
            tracking_uid=str(entry.get("tracking_uid") or new_uid()),
        )
        annotations: list[Annotation] = []
        for item in entry.get("annotations", []):
            kind = str(item.get("kind", ""))
            members = by_group.get(int(item.get("graphic_group_id", 0)), [])
            shapes = [
                o for o in members if (o.graphic_type == "TEXT") == (kind == "text")
            ]
            if not shapes:
                warnings.append(
                    f"{kind} {item.get('id')} skipped: its graphics are missing"
                )
                continue
            if kind in ("text", "arrow"):
                shapes = shapes[:1]  # an arrow's second polyline is its head
            placement = shapes[0].placement
            common = {
                "id": str(item.get("id") or new_id()),
                "label": str(item.get("label", "")),
                "frame_of_reference_uid": placement.frame_of_reference_uid,
                "referenced_sop_instance_uid": placement.sop_instance_uid,
                "referenced_frame": placement.frame_number,
                "plane_normal_lps": _normal(item, placement),
            }
            try:
                annotations.append(
                    annotation_from_shapes(
                        kind,
                        [(o.graphic_type, o.points_lps) for o in shapes],
                        lesion_id=lesion.id,
                        common=common,
                        text=str(item.get("text", shapes[0].text)),
                        major_axis=int(item.get("major_axis", 1)),
                    )
                )
            except ValueError as error:
                warnings.append(f"{kind} {common['id']} skipped: {error}")
        lesions.append(_with_annotations(lesion, annotations))
    return lesions


def _with_annotations(lesion: Lesion, annotations: list[Annotation]) -> Lesion:
    fields = {name: getattr(lesion, name) for name in ("id", *Lesion.EDITABLE_FIELDS)}
    return Lesion(**fields, annotations=tuple(annotations))


def _lesions_from_layers(
    dataset: Dataset, objects: Sequence[_Object], warnings: list[str]
) -> list[Lesion]:
    """One lesion per layer (or Tracking UID), one annotation per object."""
    layers = {
        str(item.GraphicLayer): item
        for item in dataset.get("GraphicLayerSequence") or []
    }
    order = sorted(layers, key=lambda n: int(layers[n].get("GraphicLayerOrder", 0)))
    by_lesion: dict[str, list[_Object]] = defaultdict(list)
    keys: dict[str, str] = {}
    for obj in _arrows_found(objects):
        key = obj.tracking_uid if is_valid_uid(obj.tracking_uid) else obj.layer
        keys.setdefault(key, obj.layer)
        by_lesion[key].append(obj)
    lesions = []
    ordered = sorted(
        by_lesion,
        key=lambda k: order.index(keys[k]) if keys[k] in order else len(order),
    )
    for number, key in enumerate(ordered):
        members = by_lesion[key]
        layer = layers.get(keys[key])
        label = members[0].tracking_id or (
            str(layer.get("GraphicLayerDescription", "") or keys[key]) if layer else key
        )
        colour = (
            _hex_colour(layer.get("GraphicLayerRecommendedDisplayCIELabValue"))
            if layer is not None
            else ""
        ) or LESION_COLOURS[number % len(LESION_COLOURS)]
        lesion = Lesion(
            label=label,
            colour=colour,
            tracking_uid=key if is_valid_uid(key) else new_uid(),
        )
        built = {
            id(obj): _annotation_of_object(obj, lesion.id, warnings) for obj in members
        }
        consumed = _read_captions(members, built)
        annotations = [
            annotation
            for obj in members
            if not (obj.graphic_type == "TEXT" and obj.group_id in consumed)
            and (annotation := built[id(obj)]) is not None
        ]
        lesions.append(_with_annotations(lesion, annotations))
    return lesions


def _annotation_of_object(
    obj: _Object, lesion_id: str, warnings: list[str]
) -> Annotation | None:
    """The annotation one graphic or text object draws (None, with a warning,
    when it is none of our kinds)."""
    kind = _kind_of(obj)
    if not kind:
        warnings.append(
            f"a {obj.graphic_type} of {len(obj.points_lps)} points skipped: "
            "not an annotation kind"
        )
        return None
    common = {
        "frame_of_reference_uid": obj.placement.frame_of_reference_uid,
        "referenced_sop_instance_uid": obj.placement.sop_instance_uid,
        "referenced_frame": obj.placement.frame_number,
        "plane_normal_lps": tuple(obj.placement.normal_lps),
    }
    try:
        return annotation_from_shapes(
            kind,
            [(obj.graphic_type, obj.points_lps)],
            lesion_id=lesion_id,
            common=common,
            text=obj.text,
        )
    except ValueError as error:
        warnings.append(f"a {obj.graphic_type} skipped: {error}")
        return None


def _read_captions(
    members: Sequence[_Object], built: dict[int, Annotation | None]
) -> set[int]:
    """Label the graphics whose Graphic Group holds their caption (the text
    ``"label: measurement"`` or the measurement alone, as written here; PS3.3
    C.10.5: a group's objects are handled together); ``built`` is updated.

    Returns the groups whose text object was such a caption: it is not a text
    label of its own. A text without the graphic's measurement stays one.
    """
    captions = {
        o.group_id: o.text
        for o in members
        if o.graphic_type == "TEXT" and o.group_id is not None
    }
    consumed: set[int] = set()
    for obj in members:
        annotation = built[id(obj)]
        group = obj.group_id
        if obj.graphic_type == "TEXT" or annotation is None or group not in captions:
            continue
        try:
            measured = _measurement_text(annotation, obj.placement)
        except ValueError:
            continue
        caption = captions[group]
        if not measured:
            continue
        if caption == measured:
            consumed.add(group)
        elif caption.endswith(f": {measured}"):
            built[id(obj)] = replace(annotation, label=caption[: -len(measured) - 2])
            consumed.add(group)
    return consumed


def referenced_images(dataset: Dataset) -> dict[str, set[str]]:
    """SOP Instance UIDs a presentation state applies to, by Series Instance UID.

    References
    ----------
    PS3.3 C.11.11 Presentation Series Reference: (0008,1115) Referenced Series
    Sequence, each with its (0008,1140) Referenced Image Sequence.
    """
    referenced: dict[str, set[str]] = {}
    for series_item in dataset.get("ReferencedSeriesSequence") or []:
        series_uid = str(series_item.get("SeriesInstanceUID", ""))
        uids = referenced.setdefault(series_uid, set())
        for image in series_item.get("ReferencedImageSequence") or []:
            uid = str(image.get("ReferencedSOPInstanceUID", ""))
            if uid:
                uids.add(uid)
    return referenced


def read_presentation_state(
    path: str | os.PathLike[str], series: Sequence[SeriesInfo]
) -> DicomImport:
    """Import a GSPS file onto the images of ``series`` (an open study), as
    :func:`presentation_state_onto` does.

    Raises
    ------
    ValueError
        When the file is not a readable DICOM Grayscale Softcopy Presentation
        State, or none of the images it references is open.
    """
    try:
        dataset = pydicom.dcmread(path)
    except (OSError, pydicom.errors.InvalidDicomError) as error:
        raise ValueError(f"{path}: not a readable DICOM file ({error})") from error
    try:
        return presentation_state_onto(dataset, series)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from error


def presentation_state_onto(
    dataset: Dataset, series: Sequence[SeriesInfo]
) -> DicomImport:
    """Import a GSPS onto the images of ``series`` (an open study).

    The images it references are found among the files of the series with
    the referenced Series Instance UIDs by their headers (read as a scan reads
    them), and only those are read with pydicom. Annotations on images that
    are not open are skipped with a warning, as are those the GSPS draws in
    DISPLAY units (see :func:`import_presentation_state`).

    Raises
    ------
    ValueError
        When ``dataset`` is not a Grayscale Softcopy Presentation State, or
        none of the images it references is open.
    """
    from imaging_viewer.core.dicom.scan import read_header

    if str(dataset.get("SOPClassUID", "")) != _GSPS:
        raise ValueError("not a Grayscale Softcopy Presentation State (PS3.3 A.33.1)")
    wanted = referenced_images(dataset)
    sources: dict[str, Dataset] = {}
    for info in series:
        uids = wanted.get(info.uid, set())
        for file in dict.fromkeys(info.files) if uids else ():
            header = read_header(file)
            uid = getattr(header, "sop_instance_uid", "")
            if uid not in uids:
                continue
            try:
                sources[uid] = pydicom.dcmread(file, stop_before_pixels=True)
            except (OSError, pydicom.errors.InvalidDicomError):
                continue
            if uids <= sources.keys():
                break
    if not sources:
        raise ValueError(
            "none of the images it annotates is open; open their study first"
        )
    return import_presentation_state(dataset, sources)
