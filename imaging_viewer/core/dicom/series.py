"""SeriesInfo: one displayable series; how headers are grouped and sorted into it."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from imaging_viewer.core.dicom.stack_geometry import StackGeometry, plan_stack
from imaging_viewer.core.geometry import (
    Affine,
    affine_from_axes,
    direction_from_patient_orientation,
    spacing_from_affine,
)
from imaging_viewer.core.volume import DisplayDefaults, VoiLut, Window

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from numpy.typing import NDArray

    from imaging_viewer.core.dicom.header import FrameHeader, InstanceHeader

# Slices closer than this along the normal share a position (mm).
SAME_POSITION_MM = 0.01


@dataclass(frozen=True)
class FrameRef:
    """One 2D image: a single-frame file, a frame of a multi-frame file or a tile."""

    path: str
    frame_index: int = 0
    tile: int | None = None
    rescale_slope: float = 1.0
    rescale_intercept: float = 0.0


@dataclass(frozen=True, eq=False)
class SeriesInfo:
    """A displayable series: one volume (possibly 4D) or one projection image (set).

    ``frames[t][k]`` lists the acquired images, sorted along the slice normal;
    ``ijk_to_lps`` and ``shape_kji`` describe the grid ``load_volume`` returns.
    """

    id: str
    """Unique within a scan: the Series Instance UID, with ``#N`` where the DICOM
    series was split into several (localizers, echoes, stacks, image types)."""
    uid: str
    modality: str
    description: str
    series_number: int | None
    frames: tuple[tuple[FrameRef, ...], ...]
    ijk_to_lps: Affine
    shape_kji: tuple[int, int, int]
    warnings: tuple[str, ...]
    files: tuple[str, ...]
    modality_lut: VoiLut | None = None
    """Modality LUT Sequence of the series (PS3.3 C.11.1), replacing the rescale."""
    acquired_rows: int = 0
    acquired_columns: int = 0
    samples_per_pixel: int = 1
    bits_allocated: int = 16
    bits_stored: int = 16
    pixel_representation: int = 0
    photometric: str = "MONOCHROME2"
    transfer_syntaxes: tuple[str, ...] = ()
    display: DisplayDefaults = field(default_factory=DisplayDefaults)
    geometry: StackGeometry | None = None
    is_projection: bool = False
    spacing_source: str = ""
    orientation_source: str = ""
    frame_of_reference_uid: str = ""
    sop_class_uid: str = ""
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
    series_date: str = ""
    series_time: str = ""
    body_part: str = ""
    manufacturer: str = ""
    image_type: tuple[str, ...] = ()
    has_float_pixels: bool = False

    @property
    def n_time_points(self) -> int:
        """Time points (4D) or cine frames; 1 for a plain volume."""
        return len(self.frames)

    @property
    def n_instances(self) -> int:
        """Number of files (instances) the series comes from."""
        return len(self.files)

    @property
    def size(self) -> list[int]:
        """[columns, rows, slices] of the grid, plus time points where more than one."""
        k, j, i = self.shape_kji
        size = [i, j, k]
        if self.n_time_points > 1:
            size.append(self.n_time_points)
        return size

    @property
    def spacing_mm(self) -> list[float]:
        """Voxel size along i, j, k in mm."""
        return [float(v) for v in spacing_from_affine(self.ijk_to_lps)]

    def to_json(self) -> dict[str, Any]:
        """The ``scan --json`` record of this series (keys are a public contract)."""
        return {
            "id": self.id,
            "uid": self.uid,
            "modality": self.modality,
            "description": self.description,
            "series_number": self.series_number,
            "number_of_instances": self.n_instances,
            "size": self.size,
            "spacing_mm": [round(v, 6) for v in self.spacing_mm],
            "ijk_to_lps": [
                [round(float(v), 6) for v in row] for row in self.ijk_to_lps
            ],
            "frame_of_reference_uid": self.frame_of_reference_uid,
            "is_projection": self.is_projection,
            "spacing_source": self.spacing_source,
            "photometric": self.photometric,
            "transfer_syntaxes": list(self.transfer_syntaxes),
            "patient": {
                "name": self.patient_name,
                "id": self.patient_id,
                "birth_date": self.patient_birth_date,
                "sex": self.patient_sex,
            },
            "study": {
                "uid": self.study_uid,
                "date": self.study_date,
                "description": self.study_description,
            },
            "warnings": list(self.warnings),
            "files": list(self.files),
        }


def _frame_entries(
    header: InstanceHeader,
) -> list[tuple[FrameRef, FrameHeader, NDArray[np.float64] | None]]:
    """Every 2D image of an instance with its frame attributes and LPS position."""
    entries: list[tuple[FrameRef, FrameHeader, NDArray[np.float64] | None]] = []
    if header.mosaic is not None:
        layout = header.mosaic
        frame = header.frame(0)
        start = np.asarray(layout.first_position_lps, dtype=np.float64)
        step = (
            np.asarray(layout.slice_normal_lps, dtype=np.float64)
            * layout.slice_spacing_mm
        )
        for tile in range(layout.n_slices):
            ref = FrameRef(
                header.path, 0, tile, frame.rescale_slope, frame.rescale_intercept
            )
            entries.append((ref, frame, start + tile * step))
        return entries
    n_frames = header.number_of_frames if header.per_frame_geometry else 1
    if not header.per_frame_geometry and header.number_of_frames > 1:
        # Classic multi-frame (cine, US, XA): frames share one geometry.
        n_frames = header.number_of_frames
    for index in range(n_frames):
        frame = header.frame(index)
        position = (
            np.asarray(frame.position_lps, dtype=np.float64)
            if frame.position_lps
            else None
        )
        ref = FrameRef(
            header.path, index, None, frame.rescale_slope, frame.rescale_intercept
        )
        entries.append((ref, frame, position))
    return entries


@dataclass
class _Group:
    key: tuple[Any, ...]
    headers: list[InstanceHeader] = field(default_factory=list)
    entries: list[
        tuple[FrameRef, FrameHeader, NDArray[np.float64] | None, InstanceHeader]
    ] = field(default_factory=list)


def _orientation_key(frame: FrameHeader) -> tuple[float, ...] | None:
    if frame.orientation is None:
        return None
    return tuple(round(v, 3) + 0.0 for v in frame.orientation)


# Image Type value 3 of MR images that are different images of one acquisition
# (PS3.3 C.8.3.1.1.1 and vendor use): magnitude, phase, real, imaginary, maps.
_COMPLEX_PARTS = {
    "M",
    "P",
    "R",
    "I",
    "MAGNITUDE",
    "PHASE",
    "REAL",
    "IMAGINARY",
    "B0",
    "FIELD_MAP",
}


def _image_type_key(header: InstanceHeader, frame: FrameHeader) -> tuple[str, ...]:
    """The part of Image Type / Frame Type that tells different images apart."""
    # A derived isotropic (trace) diffusion image is split off from the acquired
    # directions, as dcm2niix does (it marks Philips ISOTROPIC images derived).
    isotropic = ("ISOTROPIC",) if frame.isotropic_diffusion else ()
    if header.per_frame_geometry:
        return tuple(v.upper() for v in frame.frame_type[2:]) + isotropic
    values = [v.upper() for v in header.image_type]
    key = list(isotropic)
    if "LOCALIZER" in values:
        key.append("LOCALIZER")
    if header.modality == "MR" and len(values) > 2:
        for value in values[2:]:
            parts = set(value.split("_"))
            if parts & _COMPLEX_PARTS:
                key.append(value)
    return tuple(key)


# Secondary Capture Image Storage and its multi-frame variants (PS3.4 B.5).
_SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"


def _is_secondary_capture(header: InstanceHeader) -> bool:
    uid = header.sop_class_uid
    return uid == _SECONDARY_CAPTURE or uid.startswith(_SECONDARY_CAPTURE + ".")


def _time_key(
    header: InstanceHeader, frame: FrameHeader, ref: FrameRef
) -> tuple[float, ...]:
    """Order of time points at one position (PS3.3 C.7.6.16.2.2, C.7.3.1)."""
    return (
        float(frame.temporal_index if frame.temporal_index is not None else math.inf),
        float(
            header.temporal_position
            if header.temporal_position is not None
            else math.inf
        ),
        float(
            header.acquisition_number
            if header.acquisition_number is not None
            else math.inf
        ),
        float(header.trigger_time if header.trigger_time is not None else math.inf),
        float(
            header.instance_number if header.instance_number is not None else math.inf
        ),
        float(ref.frame_index),
    )


def group_into_series(
    headers: Sequence[InstanceHeader],
    unassembled: list[tuple[str, str]] | None = None,
) -> list[SeriesInfo]:
    """Group image headers into series, splitting a DICOM series wherever it holds
    more than one volume: orientation (localizers), image size, echo, image or
    frame type (magnitude/phase, field maps), enhanced stacks, acquisitions with
    different slice positions, and each classic multi-frame clip on its own.

    Returns the series in patient, study, series-number order. A group of images
    that cannot be assembled (values no check foresaw) is left out, never the
    others: its files go to ``unassembled`` as (path, reason).
    """
    groups: dict[tuple[Any, ...], _Group] = {}
    for header in headers:
        for ref, frame, position in _frame_entries(header):
            rows = header.mosaic.tile_rows if header.mosaic else header.rows
            columns = header.mosaic.tile_columns if header.mosaic else header.columns
            no_geometry = position is None or frame.orientation is None
            # A clip, and a secondary capture (screenshots, scanned pages: unrelated
            # images even within one series), each stand alone.
            alone = header.number_of_frames > 1 or _is_secondary_capture(header)
            clip = header.path if (no_geometry and alone) else ""
            key = (
                header.study_uid,
                header.series_uid or header.path,
                _orientation_key(frame) if not no_geometry else None,
                rows,
                columns,
                header.samples_per_pixel,
                header.series_number,
                frame.echo_number,
                _image_type_key(header, frame),
                frame.stack_id,
                clip,
            )
            group = groups.get(key)
            if group is None:
                group = groups[key] = _Group(key)
            if not group.headers or group.headers[-1] is not header:
                group.headers.append(header)
            group.entries.append((ref, frame, position, header))

    series: list[SeriesInfo] = []
    for group in groups.values():
        try:
            series.extend(_assemble_group(group))
        except (ArithmeticError, ValueError, IndexError, TypeError) as error:
            if unassembled is None:
                raise
            reason = (
                f"cannot assemble its series ({type(error).__name__}: {error}); "
                "the other series are not affected"
            )
            unassembled.extend((h.path, reason) for h in group.headers)
    series.sort(
        key=lambda s: (
            s.patient_id,
            s.patient_name,
            s.study_date,
            s.study_uid,
            s.series_number if s.series_number is not None else 1 << 30,
            s.uid,
            s.id,
        )
    )
    # Give every part of a split DICOM series its own id.
    by_uid: dict[str, list[int]] = defaultdict(list)
    for index, info in enumerate(series):
        by_uid[info.uid].append(index)
    for indices in by_uid.values():
        if len(indices) > 1:
            for part, index in enumerate(indices, start=1):
                series[index] = _with_id(series[index], f"{series[index].uid}#{part}")
    return series


def _with_id(info: SeriesInfo, new_id: str) -> SeriesInfo:
    values = {name: getattr(info, name) for name in info.__dataclass_fields__}
    values["id"] = new_id
    return SeriesInfo(**values)


def _split_by_acquisition(
    entries: list[
        tuple[FrameRef, FrameHeader, NDArray[np.float64] | None, InstanceHeader]
    ],
) -> list[
    list[tuple[FrameRef, FrameHeader, NDArray[np.float64] | None, InstanceHeader]]
]:
    by_acquisition: dict[int | None, list[Any]] = defaultdict(list)
    for entry in entries:
        by_acquisition[entry[3].acquisition_number].append(entry)
    return [
        by_acquisition[k]
        for k in sorted(by_acquisition, key=lambda v: (v is None, v or 0))
    ]


def _assemble_group(group: _Group) -> list[SeriesInfo]:
    entries = group.entries
    first_frame = entries[0][1]
    if entries[0][2] is None or first_frame.orientation is None:
        return [_assemble_projection(group)]
    orientation = np.asarray(first_frame.orientation, dtype=np.float64)
    row_cosine, column_cosine = orientation[:3], orientation[3:]
    header0 = entries[0][3]
    if header0.mosaic is not None:
        normal = np.asarray(header0.mosaic.slice_normal_lps, dtype=np.float64)
    else:
        normal = np.cross(row_cosine, column_cosine)
    normal = normal / np.linalg.norm(normal)
    distances = np.array(
        [float(np.dot(e[2], normal)) for e in entries if e[2] is not None]
    )
    order = np.argsort(distances, kind="stable")
    # Cluster positions along the normal.
    clusters: list[list[int]] = []
    last = -math.inf
    for index in order:
        d = distances[index]
        if d - last > SAME_POSITION_MM:
            clusters.append([])
            last = d
        clusters[-1].append(int(index))
    counts = {len(c) for c in clusters}
    warnings: list[str] = []
    if header0.synthetic_positions:
        warnings.append(
            "no Plane Position (Patient) in the frames: stacked in frame order "
            "along the slice normal, as SimpleITK and dcm2niix do; positions "
            "in the patient are not known"
        )
    if len(counts) > 1:
        parts = _split_by_acquisition(entries)
        if len(parts) > 1:
            result: list[SeriesInfo] = []
            for part in parts:
                sub = _Group(group.key, [], part)
                result.extend(_assemble_group(sub))
            return result
        # Duplicates at some positions only: keep the first image at each.
        duplicates = sum(len(c) - 1 for c in clusters)
        warnings.append(
            f"{duplicates} image(s) duplicate the position of another; "
            "kept the first of each (by acquisition and instance number)"
        )
        time_points = 1
    else:
        time_points = counts.pop()
    grid: list[list[FrameRef]] = [[] for _ in range(time_points)]
    positions: list[NDArray[np.float64]] = []
    for cluster in clusters:
        members = sorted(
            cluster,
            key=lambda n: _time_key(entries[n][3], entries[n][1], entries[n][0]),
        )
        members = members[:time_points]
        for t, n in enumerate(members):
            grid[t].append(entries[n][0])
        position = entries[members[0]][2]
        assert position is not None
        positions.append(position)
    frame = entries[clusters[len(clusters) // 2][0]][1]
    pixel_spacing = frame.pixel_spacing
    spacing_source = "PixelSpacing"
    if pixel_spacing is None:
        pixel_spacing = (1.0, 1.0)
        spacing_source = "none"
        if header0.has_invalid_pixel_spacing:
            warnings.append(
                "Pixel Spacing in the header is not two positive numbers: 1 mm "
                "assumed, measurements are in pixels"
            )
        else:
            warnings.append(
                "no Pixel Spacing in the header: 1 mm assumed, measurements are in "
                "pixels"
            )
    fallback = None
    if header0.mosaic is not None:
        fallback = header0.mosaic.slice_spacing_mm
    elif frame.slice_thickness:
        fallback = frame.slice_thickness
    rows = header0.mosaic.tile_rows if header0.mosaic else header0.rows
    columns = header0.mosaic.tile_columns if header0.mosaic else header0.columns
    geometry = plan_stack(
        np.array(positions),
        row_cosine,
        column_cosine,
        normal,
        pixel_spacing,
        rows,
        columns,
        fallback,
        frame.slice_thickness,
    )
    warnings.extend(geometry.warnings)
    if (
        geometry.resample is None
        and abs(header0.gantry_tilt_deg) > 0.01
        and len(positions) > 1
    ):
        warnings.append(
            f"Gantry/Detector Tilt is {header0.gantry_tilt_deg:g}° but the slice "
            "positions show no tilt; positions were trusted"
        )
    return [
        _series_info(
            group,
            grid,
            geometry.ijk_to_lps,
            geometry.shape_kji,
            warnings,
            geometry,
            spacing_source,
        )
    ]


def projection_spacing(
    header: InstanceHeader,
    pixel_spacing: tuple[float, float] | None,
    warnings: list[str],
) -> tuple[tuple[float, float], str]:
    """(row, column) spacing of a projection image in mm, and where it comes from.

    In the order of PS3.3 10.7.1.1 and C.8.11.1.1.1: Pixel Spacing (in the
    patient; calibrated as Pixel Spacing Calibration Type and Description say);
    else Imager Pixel Spacing divided by the Estimated Radiographic Magnification
    Factor (corrected to the isocentre); else Imager Pixel Spacing as is (at the
    detector); else none (1 per pixel, ``"none"``). A reader's calibration of
    the image overrides all of these (``annotations.calibration``).
    """
    imager = header.imager_pixel_spacing
    if pixel_spacing is not None:
        source = "PixelSpacing"
        calibration_type = header.pixel_spacing_calibration_type
        if calibration_type:
            description = header.pixel_spacing_calibration_description
            source += f" (calibrated: {calibration_type}"
            source += f"; {description})" if description else ")"
        elif imager and not np.allclose(imager, pixel_spacing):
            source = (
                "PixelSpacing (calibrated; ImagerPixelSpacing "
                f"{imager[0]:g}\\{imager[1]:g} differs)"
            )
        return pixel_spacing, source
    if imager is None:
        return (1.0, 1.0), "none"
    factor = header.estimated_magnification
    if factor is not None and factor > 0.0:
        corrected = (imager[0] / factor, imager[1] / factor)
        return corrected, f"ImagerPixelSpacing (corrected by ERMF {factor:g})"
    if factor is not None:
        warnings.append(
            f"Estimated Radiographic Magnification Factor {factor:g} is not "
            "positive: Imager Pixel Spacing used uncorrected"
        )
    return imager, (
        "ImagerPixelSpacing (at the detector, not corrected for magnification)"
    )


NO_SPACING_WARNING: Final = "no pixel spacing in the header: measurements are in pixels"
"""A projection image's series warning when no spacing is given (PS3.3 10.7.1.3)."""


def _assemble_projection(group: _Group) -> SeriesInfo:
    """Images with no 3D position: projection radiographs, captures, cine clips.

    Orientation comes from Patient Orientation (PS3.3 C.7.6.1.1.1); spacing from
    Pixel Spacing, else Imager Pixel Spacing (PS3.3 10.7.1.3).
    """
    entries = sorted(group.entries, key=lambda e: _time_key(e[3], e[1], e[0]))
    header = entries[0][3]
    frame = entries[0][1]
    warnings: list[str] = []
    (row_spacing, column_spacing), source = projection_spacing(
        header, frame.pixel_spacing, warnings
    )
    if source == "none" and header.modality not in ("US", "XC", "OT", "SC"):
        warnings.append(NO_SPACING_WARNING)
    row_dir: NDArray[np.float64] | None = None
    column_dir: NDArray[np.float64] | None = None
    orientation_source = ""
    if len(header.patient_orientation) == 2:
        row_dir = direction_from_patient_orientation(header.patient_orientation[0])
        column_dir = direction_from_patient_orientation(header.patient_orientation[1])
        if (
            row_dir is not None
            and column_dir is not None
            and abs(float(np.dot(row_dir, column_dir))) < 0.5
        ):
            orientation_source = "PatientOrientation"
        else:
            row_dir = column_dir = None
    if row_dir is None or column_dir is None:
        row_dir = np.array([1.0, 0.0, 0.0])
        column_dir = np.array([0.0, 0.0, -1.0])
    normal = np.cross(row_dir, column_dir)
    affine = affine_from_axes(
        np.zeros(3), row_dir * column_spacing, column_dir * row_spacing, normal * 1.0
    )
    frames = tuple((e[0],) for e in entries)
    modality = header.modality
    is_projection = modality in (
        "CR",
        "DX",
        "MG",
        "RF",
        "XA",
        "IO",
        "PX",
        "RG",
        "DR",
        "NM",
    )
    info = _series_info(
        group,
        [list(f) for f in frames],
        affine,
        (1, header.rows, header.columns),
        warnings,
        None,
        source,
    )
    values = {name: getattr(info, name) for name in info.__dataclass_fields__}
    values["is_projection"] = is_projection
    values["orientation_source"] = orientation_source
    return SeriesInfo(**values)


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def _series_info(
    group: _Group,
    grid: list[list[FrameRef]],
    affine: Affine,
    shape_kji: tuple[int, int, int],
    warnings: list[str],
    geometry: StackGeometry | None,
    spacing_source: str,
) -> SeriesInfo:
    headers_by_path = {e[3].path: e[3] for e in group.entries}
    used_paths = _unique(ref.path for frames in grid for ref in frames)
    headers = [headers_by_path[p] for p in used_paths]
    header = headers[0]
    middle_ref = grid[0][len(grid[0]) // 2]
    middle_header = headers_by_path[middle_ref.path]
    middle_frame = middle_header.frame(middle_ref.frame_index)
    windows: tuple[Window, ...] = middle_frame.windows
    display = DisplayDefaults(
        photometric=header.photometric,
        windows=windows,
        voi_luts=header.voi_luts,
        presentation_lut_shape=header.presentation_lut_shape,
        bits_stored=header.bits_stored,
        pixel_is_signed=header.pixel_representation == 1,
    )
    photometrics = _unique(h.photometric for h in headers)
    if len(photometrics) > 1:
        warnings.append("mixed Photometric Interpretation: " + ", ".join(photometrics))
    frame_of_reference = _unique(h.frame_of_reference_uid for h in headers)
    if len(frame_of_reference) > 1:
        warnings.append("images of this series name more than one Frame of Reference")
    return SeriesInfo(
        id=header.series_uid or header.path,
        uid=header.series_uid,
        modality=header.modality,
        description=header.series_description,
        series_number=header.series_number,
        frames=tuple(tuple(frames) for frames in grid),
        ijk_to_lps=affine,
        shape_kji=shape_kji,
        warnings=tuple(warnings),
        files=tuple(sorted(used_paths)),
        modality_lut=header.modality_lut,
        acquired_rows=header.mosaic.tile_rows if header.mosaic else header.rows,
        acquired_columns=header.mosaic.tile_columns
        if header.mosaic
        else header.columns,
        samples_per_pixel=header.samples_per_pixel,
        bits_allocated=header.bits_allocated,
        bits_stored=header.bits_stored,
        pixel_representation=header.pixel_representation,
        photometric=header.photometric,
        transfer_syntaxes=_unique(h.transfer_syntax_uid for h in headers),
        display=display,
        geometry=geometry,
        spacing_source=spacing_source,
        orientation_source="ImageOrientationPatient" if geometry is not None else "",
        frame_of_reference_uid=frame_of_reference[0] if frame_of_reference else "",
        sop_class_uid=header.sop_class_uid,
        patient_name=header.patient_name,
        patient_id=header.patient_id,
        patient_birth_date=header.patient_birth_date,
        patient_sex=header.patient_sex,
        patient_age=header.patient_age,
        study_uid=header.study_uid,
        study_date=header.study_date,
        study_time=header.study_time,
        study_description=header.study_description,
        accession_number=header.accession_number,
        series_date=header.series_date,
        series_time=header.series_time,
        body_part=header.body_part,
        manufacturer=header.manufacturer,
        image_type=header.image_type,
        has_float_pixels=header.has_float_pixels,
    )
