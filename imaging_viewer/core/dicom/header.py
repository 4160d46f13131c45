"""InstanceHeader: what the scanner keeps of one DICOM file's header (no pixels)."""

from __future__ import annotations

import dataclasses
import functools
import math
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from pydicom.multival import MultiValue
from pydicom.uid import UID

from imaging_viewer.core.dicom.limits import (
    is_plausible_coordinate,
    is_plausible_rescale,
    is_plausible_spacing,
    is_plausible_tilt,
    is_plausible_window,
)
from imaging_viewer.core.dicom.siemens_mosaic import MosaicLayout, mosaic_layout
from imaging_viewer.core.volume import VoiLut, Window

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

# Media Storage Directory Storage (PS3.4 Annex B): a DICOMDIR, not an image.
MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"


@dataclass(frozen=True)
class FrameHeader:
    """Per-frame attributes: from the top level of a classic instance, or from the
    Per-Frame and Shared Functional Groups of an enhanced one (PS3.3 C.7.6.16)."""

    position_lps: tuple[float, float, float] | None = None
    orientation: tuple[float, float, float, float, float, float] | None = None
    pixel_spacing: tuple[float, float] | None = None
    """(row spacing, column spacing) in mm: between rows, then between columns."""
    slice_thickness: float | None = None
    rescale_slope: float = 1.0
    rescale_intercept: float = 0.0
    frame_type: tuple[str, ...] = ()
    stack_id: str = ""
    in_stack_position: int | None = None
    temporal_index: int | None = None
    echo_number: int | None = None
    windows: tuple[Window, ...] = ()
    isotropic_diffusion: bool = False
    """Diffusion Directionality (0018,9075) is ISOTROPIC: a derived trace image
    (PS3.3 C.8.13.5.9), not one of the acquired directions."""
    invalid: tuple[str, ...] = ()
    """Why this frame's geometry or rescale cannot be used (absurd or non-finite
    values, :mod:`~imaging_viewer.core.dicom.limits`); empty when usable."""


@dataclass(frozen=True, eq=False)
class InstanceHeader:
    """The header of one image instance, as far as assembling and showing it needs."""

    path: str
    sop_class_uid: str
    sop_instance_uid: str
    transfer_syntax_uid: str
    patient_name: str = ""
    patient_id: str = ""
    patient_birth_date: str = ""
    patient_sex: str = ""
    patient_age: str = ""
    study_uid: str = ""
    study_date: str = ""
    study_time: str = ""
    study_description: str = ""
    accession_number: str = ""
    series_uid: str = ""
    series_number: int | None = None
    series_description: str = ""
    series_date: str = ""
    series_time: str = ""
    modality: str = ""
    body_part: str = ""
    manufacturer: str = ""
    frame_of_reference_uid: str = ""
    image_type: tuple[str, ...] = ()
    instance_number: int | None = None
    acquisition_number: int | None = None
    temporal_position: int | None = None
    trigger_time: float | None = None
    rows: int = 0
    columns: int = 0
    samples_per_pixel: int = 1
    photometric: str = "MONOCHROME2"
    bits_allocated: int = 16
    bits_stored: int = 16
    pixel_representation: int = 0
    planar_configuration: int = 0
    number_of_frames: int = 1
    has_float_pixels: bool = False
    frames: tuple[FrameHeader, ...] = ()
    """One entry per frame for enhanced multi-frame; a single shared entry otherwise."""
    per_frame_geometry: bool = False
    """True where ``frames`` holds one entry per frame (enhanced multi-frame)."""
    gantry_tilt_deg: float = 0.0
    imager_pixel_spacing: tuple[float, float] | None = None
    estimated_magnification: float | None = None
    """Estimated Radiographic Magnification Factor (PS3.3 C.8.11.1.1.1)."""
    pixel_spacing_calibration_type: str = ""
    """Pixel Spacing Calibration Type, ``GEOMETRY`` or ``FIDUCIAL`` (PS3.3 10.7.1.1)."""
    pixel_spacing_calibration_description: str = ""
    patient_orientation: tuple[str, ...] = ()
    voi_luts: tuple[VoiLut, ...] = ()
    modality_lut: VoiLut | None = None
    """A Modality LUT Sequence table (PS3.3 C.11.1), used instead of rescaling."""
    presentation_lut_shape: str = ""
    mosaic: MosaicLayout | None = None
    file_size: int = 0
    has_invalid_pixel_spacing: bool = False
    """Pixel Spacing is present but not two positive numbers."""
    synthetic_positions: bool = False
    """The frames had no Plane Position: they were placed as one evenly spaced
    stack (:func:`_stack_without_plane_position`)."""
    invalid_attributes: tuple[str, ...] = ()
    """Geometry attributes present but unusable (NaN, zero vectors): the reason
    to skip the file rather than show it without position."""

    @property
    def is_enhanced(self) -> bool:
        """True for an enhanced multi-frame instance (per-frame functional groups)."""
        return self.per_frame_geometry

    def frame(self, index: int) -> FrameHeader:
        """The attributes of frame ``index`` (0-based)."""
        if self.per_frame_geometry:
            return self.frames[index]
        return self.frames[0]

    @property
    def pixel_bytes_per_frame(self) -> int:
        """Bytes one frame of native (uncompressed) pixel data takes (PS3.5 8.1.1).

        YBR_FULL_422 stores two values per pixel, not three (PS3.3 C.7.6.3.1.2).
        """
        samples = self.samples_per_pixel
        if self.photometric == "YBR_FULL_422" and samples == 3:
            samples = 2
        bits = self.rows * self.columns * samples * self.bits_allocated
        return (bits + 7) // 8


_INVALID_POSITION = (
    "invalid Image Position (Patient): not three finite numbers within 1 km "
    "of the origin"
)

# A multi-valued element's value (plain types first: MultiValue is an ABC, slower
# to test).
_MULTIPLE = (list, tuple, MultiValue)


def _text(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword)
    if value is None:
        return ""
    if isinstance(value, _MULTIPLE):
        return "\\".join(str(v) for v in value)
    return str(value).strip()


def _int(ds: Dataset, keyword: str) -> int | None:
    value = ds.get(keyword)
    if value is None or value == "":
        return None
    try:
        if isinstance(value, _MULTIPLE):
            value = value[0]
        return int(float(value))
    except (TypeError, ValueError):
        return None


def _float(ds: Dataset, keyword: str) -> float | None:
    value = ds.get(keyword)
    if value is None or value == "":
        return None
    try:
        if isinstance(value, _MULTIPLE):
            value = value[0]
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def _floats(ds: Dataset, keyword: str, count: int) -> tuple[float, ...] | None:
    value = ds.get(keyword)
    if value is None or value == "":
        return None
    try:
        values = [
            float(v) for v in (value if isinstance(value, _MULTIPLE) else [value])
        ]
    except (TypeError, ValueError):
        return None
    if len(values) != count or not all(math.isfinite(v) for v in values):
        return None
    return tuple(values)


def _orientation(ds: Dataset) -> tuple[float, float, float, float, float, float] | None:
    values = _floats(ds, "ImageOrientationPatient", 6)
    if values is None:
        return None
    # A series repeats one orientation: each distinct one (bit for bit) is
    # checked and normalised once.
    return _unit_axes(struct.pack("<6d", *values))


@functools.lru_cache(maxsize=256)
def _unit_axes(
    packed: bytes,
) -> tuple[float, float, float, float, float, float] | None:
    """Row and column direction cosines, normalised; None unless nearly orthonormal."""
    values = struct.unpack("<6d", packed)
    row = np.array(values[:3])
    col = np.array(values[3:])
    if not (0.5 < np.linalg.norm(row) < 1.5 and 0.5 < np.linalg.norm(col) < 1.5):
        return None
    if abs(float(np.dot(row, col))) > 0.05:
        return None
    row /= np.linalg.norm(row)
    col /= np.linalg.norm(col)
    return (
        float(row[0]),
        float(row[1]),
        float(row[2]),
        float(col[0]),
        float(col[1]),
        float(col[2]),
    )


def _spacing(ds: Dataset, keyword: str) -> tuple[float, float] | None:
    values = _floats(ds, keyword, 2)
    if values is None or not all(is_plausible_spacing(v) for v in values):
        return None
    return (values[0], values[1])


def _thickness(ds: Dataset) -> float | None:
    value = _float(ds, "SliceThickness")
    return value if value is not None and is_plausible_spacing(value) else None


def _position(ds: Dataset) -> tuple[float, float, float] | None:
    """Image Position (Patient), or None unless three plausible coordinates."""
    values = _floats(ds, "ImagePositionPatient", 3)
    if values is None or not all(is_plausible_coordinate(v) for v in values):
        return None
    return (values[0], values[1], values[2])


def _rescale_problems(ds: Dataset) -> list[str]:
    """Rescale Slope/Intercept present but unusable (PS3.3 C.11.1.1.2)."""
    problems = []
    for keyword in ("RescaleSlope", "RescaleIntercept"):
        value = ds.get(keyword)
        if value is None or value == "":
            continue
        try:
            number = float(value[0] if isinstance(value, _MULTIPLE) else value)
        except (TypeError, ValueError, IndexError):
            continue  # unreadable text: the default applies, as before
        if not is_plausible_rescale(number):
            problems.append(
                f"invalid {keyword}: {number:g} is not a finite number within "
                "±1e15 (the pixels cannot be converted to modality units)"
            )
    return problems


def _windows(ds: Dataset) -> tuple[Window, ...]:
    """Header windows (PS3.3 C.11.2.1.2): multi-valued centers pair with widths."""
    centers = ds.get("WindowCenter")
    widths = ds.get("WindowWidth")
    if centers is None or widths is None:
        return ()
    if not isinstance(centers, _MULTIPLE):
        centers = [centers]
    if not isinstance(widths, _MULTIPLE):
        widths = [widths]
    explanations = ds.get("WindowCenterWidthExplanation", [])
    if not isinstance(explanations, _MULTIPLE):
        explanations = [explanations]
    function = _text(ds, "VOILUTFunction").upper() or "LINEAR"
    result = []
    for n, (c, w) in enumerate(zip(centers, widths, strict=False)):
        try:
            center, width = float(c), float(w)
        except (TypeError, ValueError):
            continue
        if not is_plausible_window(center, width):
            continue  # PS3.3 C.11.2.1.2: the window is dropped, not the file
        explanation = str(explanations[n]) if n < len(explanations) else ""
        result.append(Window(center, width, explanation, function))
    return tuple(result)


def _encoding(ds: Dataset) -> tuple[bool, bool]:
    """(implicit VR, little endian) as the dataset was read."""
    encoding = getattr(ds, "original_encoding", None)
    if isinstance(encoding, tuple) and len(encoding) == 2 and None not in encoding:
        return bool(encoding[0]), bool(encoding[1])
    return True, True


def _lut_items(ds: Dataset, sequence: str) -> tuple[VoiLut, ...]:
    """The LUTs of a VOI LUT or Modality LUT Sequence (PS3.3 C.11.2.1.1, C.11.1.1.1).

    LUT Data stored as OW follows the file's byte order; a first mapped value
    is signed when the pixels are (PS3.3 C.11.1.1.1: "... SS or US").
    """
    items = ds.get(sequence, []) or []
    if not items:
        return ()
    big_endian = not _encoding(ds)[1]
    signed = _int(ds, "PixelRepresentation") == 1
    luts = []
    for item in items:
        try:
            descriptor = [int(v) for v in item.LUTDescriptor]
            data = item.LUTData
            entries = descriptor[0] or 65536
            first = descriptor[1]
            if signed and first > 32767:
                first -= 65536
            bits = descriptor[2]
            if isinstance(data, bytes):
                if bits <= 8 and len(data) == entries:
                    table = np.frombuffer(data, dtype=np.uint8).astype(np.uint16)
                else:
                    order = ">u2" if big_endian else "<u2"
                    usable = len(data) - len(data) % 2
                    table = np.frombuffer(data[:usable], dtype=order).astype(np.uint16)
            else:
                table = np.asarray(data, dtype=np.uint16)
            table = table[:entries]
            if table.size == 0:
                continue
            explanation = _text(item, "LUTExplanation")
            luts.append(
                VoiLut(
                    first_mapped=first, bits=bits, table=table, explanation=explanation
                )
            )
        except (AttributeError, TypeError, ValueError, IndexError):
            continue
    return tuple(luts)


def _frame_from_classic(ds: Dataset) -> FrameHeader:
    return FrameHeader(
        position_lps=_position(ds),
        orientation=_orientation(ds),
        pixel_spacing=_spacing(ds, "PixelSpacing"),
        slice_thickness=_thickness(ds),
        rescale_slope=_float(ds, "RescaleSlope") or 1.0,
        rescale_intercept=_float(ds, "RescaleIntercept") or 0.0,
        frame_type=tuple(str(v) for v in (ds.get("ImageType") or [])),
        echo_number=_int(ds, "EchoNumbers"),
        windows=_windows(ds),
        isotropic_diffusion=_is_isotropic(ds),
        invalid=tuple(_rescale_problems(ds)),
    )


def _is_isotropic(ds: Dataset | None) -> bool:
    return (
        ds is not None and _text(ds, "DiffusionDirectionality").upper() == "ISOTROPIC"
    )


def _first_item(group: Dataset | None, sequence: str) -> Dataset | None:
    if group is None:
        return None
    seq = group.get(sequence)
    if not seq:
        return None
    item: Dataset = seq[0]
    return item


def _functional(
    per_frame: Dataset | None, shared: Dataset | None, sequence: str
) -> Dataset | None:
    """A functional group macro: the per-frame item if present, else the shared one."""
    return _first_item(per_frame, sequence) or _first_item(shared, sequence)


_FRAME_TYPE_SEQUENCES = (
    "MRImageFrameTypeSequence",
    "CTImageFrameTypeSequence",
    "XRayFrameTypeSequence",
    "PETFrameTypeSequence",
)


def _frame_from_functional_groups(
    per_frame: Dataset | None, shared: Dataset | None, top: FrameHeader
) -> FrameHeader:
    """PS3.3 C.7.6.16.2: per-frame functional groups override the shared ones."""
    position: tuple[float, ...] | None = None
    invalid: list[str] = []
    plane_position = _functional(per_frame, shared, "PlanePositionSequence")
    if plane_position is not None:
        position = _position(plane_position)
        if position is None and "ImagePositionPatient" in plane_position:
            invalid.append(_INVALID_POSITION)
    plane_orientation = _functional(per_frame, shared, "PlaneOrientationSequence")
    orientation = _orientation(plane_orientation) if plane_orientation else None
    measures = _functional(per_frame, shared, "PixelMeasuresSequence")
    spacing = _spacing(measures, "PixelSpacing") if measures else None
    thickness = _thickness(measures) if measures else None
    transform = _functional(per_frame, shared, "PixelValueTransformationSequence")
    if transform is not None:
        invalid.extend(_rescale_problems(transform))
    slope = (
        _float(transform, "RescaleSlope") if transform else None
    ) or top.rescale_slope
    intercept = _float(transform, "RescaleIntercept") if transform else None
    frame_type: tuple[str, ...] = top.frame_type
    for name in _FRAME_TYPE_SEQUENCES:
        item = _functional(per_frame, shared, name)
        if item is not None and item.get("FrameType"):
            frame_type = tuple(str(v) for v in item.FrameType)
            break
    content = _first_item(per_frame, "FrameContentSequence")
    stack_id = _text(content, "StackID") if content else ""
    in_stack = _int(content, "InStackPositionNumber") if content else None
    temporal = _int(content, "TemporalPositionIndex") if content else None
    voi = _functional(per_frame, shared, "FrameVOILUTSequence")
    diffusion = _functional(per_frame, shared, "MRDiffusionSequence")
    return FrameHeader(
        position_lps=(position[0], position[1], position[2])
        if position
        else top.position_lps,
        orientation=orientation or top.orientation,
        pixel_spacing=spacing or top.pixel_spacing,
        slice_thickness=thickness if thickness is not None else top.slice_thickness,
        rescale_slope=slope,
        rescale_intercept=intercept if intercept is not None else top.rescale_intercept,
        frame_type=frame_type,
        stack_id=stack_id,
        in_stack_position=in_stack,
        temporal_index=temporal,
        echo_number=top.echo_number,
        windows=_windows(voi) if voi is not None else top.windows,
        isotropic_diffusion=(
            _is_isotropic(diffusion)
            if diffusion is not None
            else top.isotropic_diffusion
        ),
        invalid=tuple(invalid) or top.invalid,
    )


def header_from_dataset(ds: Dataset, path: str, file_size: int) -> InstanceHeader:
    """Extract an :class:`InstanceHeader` from a dataset read without pixel data."""
    meta = getattr(ds, "file_meta", None)
    transfer_syntax = ""
    if meta is not None:
        transfer_syntax = str(meta.get("TransferSyntaxUID", "") or "")
    if not transfer_syntax:
        # No file meta: pydicom guessed the encoding while reading (PS3.10 7.1).
        implicit, little = _encoding(ds)
        transfer_syntax = (
            "1.2.840.10008.1.2"
            if implicit
            else ("1.2.840.10008.1.2.1" if little else "1.2.840.10008.1.2.2")
        )
    sop_class = _text(ds, "SOPClassUID") or (
        str(meta.get("MediaStorageSOPClassUID", "")) if meta is not None else ""
    )
    number_of_frames = _int(ds, "NumberOfFrames") or 1
    top = _frame_from_classic(ds)
    per_frame_seq = ds.get("PerFrameFunctionalGroupsSequence")
    shared = _first_item(ds, "SharedFunctionalGroupsSequence")
    frames: tuple[FrameHeader, ...]
    per_frame_geometry = False
    if per_frame_seq is not None or shared is not None:
        items = list(per_frame_seq or [])
        if len(items) == number_of_frames and number_of_frames > 0:
            frames = tuple(
                _frame_from_functional_groups(item, shared, top) for item in items
            )
            per_frame_geometry = True
        else:
            frames = (_frame_from_functional_groups(None, shared, top),)
    else:
        frames = (top,)
    synthetic_positions = False
    if per_frame_geometry and number_of_frames > 1:
        stacked = _stack_without_plane_position(ds, frames, top)
        if stacked is not None:
            frames, synthetic_positions = stacked, True
    mosaic = (
        mosaic_layout(ds) if "MOSAIC" in (v.upper() for v in top.frame_type) else None
    )
    invalid = []
    if "ImagePositionPatient" in ds and top.position_lps is None:
        invalid.append(_INVALID_POSITION)
    if "ImageOrientationPatient" in ds and top.orientation is None:
        invalid.append(
            "invalid Image Orientation (Patient): not two orthogonal unit vectors"
        )
    for frame in frames if per_frame_geometry else (*frames, top):
        invalid.extend(p for p in frame.invalid if p not in invalid)
    tilt = _float(ds, "GantryDetectorTilt") or 0.0
    if not is_plausible_tilt(tilt):
        tilt = 0.0
    return InstanceHeader(
        path=path,
        sop_class_uid=sop_class,
        sop_instance_uid=_text(ds, "SOPInstanceUID"),
        transfer_syntax_uid=transfer_syntax,
        patient_name=_text(ds, "PatientName"),
        patient_id=_text(ds, "PatientID"),
        patient_birth_date=_text(ds, "PatientBirthDate"),
        patient_sex=_text(ds, "PatientSex"),
        patient_age=_text(ds, "PatientAge"),
        study_uid=_text(ds, "StudyInstanceUID"),
        study_date=_text(ds, "StudyDate"),
        study_time=_text(ds, "StudyTime"),
        study_description=_text(ds, "StudyDescription"),
        accession_number=_text(ds, "AccessionNumber"),
        series_uid=_text(ds, "SeriesInstanceUID"),
        series_number=_int(ds, "SeriesNumber"),
        series_description=_text(ds, "SeriesDescription"),
        series_date=_text(ds, "SeriesDate"),
        series_time=_text(ds, "SeriesTime"),
        modality=_text(ds, "Modality").upper(),
        body_part=_text(ds, "BodyPartExamined"),
        manufacturer=_text(ds, "Manufacturer"),
        frame_of_reference_uid=_text(ds, "FrameOfReferenceUID"),
        image_type=tuple(str(v) for v in (ds.get("ImageType") or [])),
        instance_number=_int(ds, "InstanceNumber"),
        acquisition_number=_int(ds, "AcquisitionNumber"),
        temporal_position=_int(ds, "TemporalPositionIdentifier"),
        trigger_time=_float(ds, "TriggerTime"),
        rows=_int(ds, "Rows") or 0,
        columns=_int(ds, "Columns") or 0,
        samples_per_pixel=_int(ds, "SamplesPerPixel") or 1,
        photometric=_text(ds, "PhotometricInterpretation").upper() or "MONOCHROME2",
        bits_allocated=_int(ds, "BitsAllocated") or 16,
        bits_stored=_int(ds, "BitsStored") or _int(ds, "BitsAllocated") or 16,
        pixel_representation=_int(ds, "PixelRepresentation") or 0,
        planar_configuration=_int(ds, "PlanarConfiguration") or 0,
        number_of_frames=number_of_frames,
        frames=frames,
        per_frame_geometry=per_frame_geometry,
        gantry_tilt_deg=tilt,
        imager_pixel_spacing=_spacing(ds, "ImagerPixelSpacing"),
        estimated_magnification=_float(ds, "EstimatedRadiographicMagnificationFactor"),
        pixel_spacing_calibration_type=_text(ds, "PixelSpacingCalibrationType").upper(),
        pixel_spacing_calibration_description=_text(
            ds, "PixelSpacingCalibrationDescription"
        ),
        patient_orientation=tuple(str(v) for v in (ds.get("PatientOrientation") or [])),
        voi_luts=_lut_items(ds, "VOILUTSequence"),
        modality_lut=next(iter(_lut_items(ds, "ModalityLUTSequence")), None),
        presentation_lut_shape=_text(ds, "PresentationLUTShape").upper(),
        mosaic=mosaic,
        file_size=file_size,
        invalid_attributes=tuple(invalid),
        has_invalid_pixel_spacing="PixelSpacing" in ds and top.pixel_spacing is None,
        synthetic_positions=synthetic_positions,
    )


_IDENTITY_ORIENTATION = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


def _stack_without_plane_position(
    ds: Dataset, frames: tuple[FrameHeader, ...], top: FrameHeader
) -> tuple[FrameHeader, ...] | None:
    """Frames of an enhanced image with no Plane Position, placed as a 3D stack.

    Where no frame has an Image Position (Patient) (PS3.3 C.7.6.16.2.3 makes it
    mandatory, but files lack it), SimpleITK (GDCM) and dcm2niix stack the frames
    in order along the slice normal, one Spacing Between Slices (else Slice
    Thickness, else 1 mm) apart, from the top-level position or the origin, in
    the frames' orientation or the identity. Returns None where any frame has a
    position, or where the frames are not one stack (several Stack IDs,
    temporal positions or types).
    """
    if any(f.position_lps is not None for f in frames):
        return None
    if len({(f.stack_id, f.temporal_index, f.frame_type) for f in frames}) > 1:
        return None
    orientation = frames[0].orientation or top.orientation or _IDENTITY_ORIENTATION
    if any((f.orientation or orientation) != orientation for f in frames):
        return None
    measures = _first_item(
        _first_item(ds, "SharedFunctionalGroupsSequence"), "PixelMeasuresSequence"
    )
    spacing = (
        (_float(measures, "SpacingBetweenSlices") if measures else None)
        or _float(ds, "SpacingBetweenSlices")
        or frames[0].slice_thickness
        or 1.0
    )
    if not is_plausible_spacing(abs(spacing)):
        spacing = 1.0
    normal = np.cross(orientation[:3], orientation[3:])
    origin = np.array(top.position_lps or (0.0, 0.0, 0.0))
    placed = []
    for index, frame in enumerate(frames):
        x, y, z = (float(v) for v in origin + normal * spacing * index)
        placed.append(
            dataclasses.replace(frame, position_lps=(x, y, z), orientation=orientation)
        )
    return tuple(placed)


def is_native_transfer_syntax(uid: str) -> bool:
    """True for uncompressed transfer syntaxes (PS3.5 A.1 to A.3), deflate excluded."""
    return uid in ("1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2")


def transfer_syntax_name(uid: str) -> str:
    """A readable name for a transfer syntax UID."""
    try:
        name = UID(uid).name
    except (ValueError, KeyError):
        name = uid
    return str(name)
