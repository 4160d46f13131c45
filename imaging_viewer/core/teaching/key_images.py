"""Key images: the acquired images a teaching case shows, and how each is shown.

Which acquired images show the lesions (:func:`select_key_images`), and, for
each, the view that renders it and the annotations drawn on it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Final

import numpy as np

from imaging_viewer.core.annotations.measure import is_within_slab
from imaging_viewer.core.annotations.naming import annotation_name
from imaging_viewer.core.dicom.acquired_images import nearest_acquired_slice
from imaging_viewer.core.dicom.scan import read_header
from imaging_viewer.core.mpr import SlicePlane
from imaging_viewer.core.viewer_state import ViewportState

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from numpy.typing import NDArray

    from imaging_viewer.core.annotations.model import (
        Annotation,
        AnnotationSet,
        Lesion,
    )
    from imaging_viewer.core.dicom.series import SeriesInfo
    from imaging_viewer.core.volume import Volume, Window

__all__ = [
    "KeyImageRef",
    "annotations_on",
    "image_plane",
    "key_image_viewport",
    "select_key_images",
    "window_label",
    "with_resolved_images",
]

# An annotation counts as drawn on a slice's plane when its normal is this
# parallel to the slice normal (cos of ~2.6°).
_PARALLEL_COS: Final = 0.999


@dataclass(frozen=True, eq=False)
class KeyImageRef:
    """One acquired image of a scanned series chosen for the case."""

    series: SeriesInfo
    slice_index: int
    """``k``: the slice of the series' volume, 0-based."""
    time_index: int
    path: str
    """The DICOM file holding it."""
    frame_index: int
    """0-based frame within ``path`` (0 for a single-frame file)."""
    sop_instance_uid: str
    annotation_ids: tuple[str, ...] = ()
    """Annotations that chose this image (drawn on it, or nearest to it)."""

    @property
    def key(self) -> tuple[str, int, int]:
        """(series id, k, t): what makes two references the same image."""
        return (self.series.id, self.slice_index, self.time_index)


class _SopIndex:
    """SOP Instance UIDs of the scanned files, read when first asked for."""

    def __init__(self) -> None:
        self._by_path: dict[str, str] = {}

    def uid(self, path: str) -> str:
        if path not in self._by_path:
            header = read_header(path)
            self._by_path[path] = str(getattr(header, "sop_instance_uid", "") or "")
        return self._by_path[path]


def _image_ref(
    series: SeriesInfo, k: int, t: int, index: _SopIndex, ids: tuple[str, ...] = ()
) -> KeyImageRef:
    frame = series.frames[t][k]
    return KeyImageRef(
        series=series,
        slice_index=k,
        time_index=t,
        path=frame.path,
        frame_index=frame.frame_index,
        sop_instance_uid=index.uid(frame.path),
        annotation_ids=ids,
    )


def _find_referenced(
    annotation: Annotation, series_list: Sequence[SeriesInfo], index: _SopIndex
) -> tuple[SeriesInfo, int, int] | None:
    """The (series, k, t) of the image an annotation names, if scanned."""
    uid = annotation.referenced_sop_instance_uid
    frame = (annotation.referenced_frame or 1) - 1
    for series in series_list:
        if (
            annotation.frame_of_reference_uid
            and series.frame_of_reference_uid
            and series.frame_of_reference_uid != annotation.frame_of_reference_uid
        ):
            continue
        for t, slices in enumerate(series.frames):
            for k, ref in enumerate(slices):
                if ref.frame_index == frame and index.uid(ref.path) == uid:
                    return series, k, t
    return None


def _nearest_slice(
    annotation: Annotation, series_list: Sequence[SeriesInfo], displayed_uid: str = ""
) -> tuple[SeriesInfo, int] | None:
    """The acquired slice nearest to an annotation in its frame of reference.

    The series it was drawn on comes first when known (else the displayed
    series ``displayed_uid``): two reconstructions of one acquisition share
    their frame of reference and positions. Then series whose slices are
    parallel to the plane it was drawn on; then the one whose nearest slice
    lies closest to its points.
    """
    frame = annotation.frame_of_reference_uid
    if not frame:
        return None
    preferred = annotation.referenced_series_instance_uid or displayed_uid
    points = annotation.points_lps
    normal = np.asarray(annotation.plane_normal_lps)
    best: tuple[tuple[int, int, float], SeriesInfo, int] | None = None
    for series in series_list:
        if series.frame_of_reference_uid != frame or series.is_projection:
            continue
        affine = np.asarray(series.ijk_to_lps, dtype=np.float64)
        try:
            ijk = (points - affine[:3, 3]) @ np.linalg.inv(affine[:3, :3]).T
        except np.linalg.LinAlgError:
            continue
        n_slices, rows, columns = series.shape_kji
        i, j, k_values = ijk[:, 0], ijk[:, 1], ijk[:, 2]
        inside = (
            np.all((i >= -0.5) & (i <= columns - 0.5))
            and np.all((j >= -0.5) & (j <= rows - 0.5))
            and np.all((k_values >= -0.5) & (k_values <= n_slices - 0.5))
        )
        if not inside:
            continue
        k = int(np.clip(round(float(k_values.mean())), 0, n_slices - 1))
        if series.geometry is not None and series.geometry.resample is not None:
            # The grid is resampled: name the acquired slice, not the grid's.
            k = nearest_acquired_slice(series, points.mean(axis=0)) or 0
        slice_normal = np.cross(affine[:3, 0], affine[:3, 1])
        norm = float(np.linalg.norm(slice_normal))
        parallel = norm > 0 and abs(float(slice_normal @ normal)) / norm >= (
            _PARALLEL_COS
        )
        step_mm = float(np.linalg.norm(affine[:3, 2]))
        off_plane_mm = float(np.max(np.abs(k_values - k))) * step_mm
        score = (
            0 if preferred and series.uid == preferred else 1,
            0 if parallel else 1,
            off_plane_mm,
        )
        if best is None or score < best[0]:
            best = (score, series, k)
    if best is None:
        return None
    return best[1], best[2]


def _find_series(series_list: Sequence[SeriesInfo], selector: str) -> SeriesInfo:
    if selector.isdigit() and int(selector) < len(series_list):
        return series_list[int(selector)]
    matches = [s for s in series_list if selector in (s.id, s.uid)]
    if len(matches) != 1:
        raise LookupError(
            f"no single series {selector!r}: give an index 0..{len(series_list) - 1},"
            " a series id or a Series Instance UID"
        )
    return matches[0]


def select_key_images(
    series_list: Sequence[SeriesInfo],
    annotation_set: AnnotationSet,
    key_images: Iterable[str | tuple[str, int]] = (),
    *,
    displayed_series_uid: str = "",
) -> tuple[list[KeyImageRef], list[str]]:
    """The acquired images a teaching case shows: those the reader marked as
    key (``annotation_set.key_images``, first), and those its annotations are on.

    Each annotation picks the image it was drawn on
    (``referenced_sop_instance_uid`` and ``referenced_frame``), or, when it was
    drawn on a reformatted plane, the acquired image of the drawn series
    nearest its centre, recorded when drawn. An annotation without one (older
    files), or whose image is not among ``series_list``, takes the acquired
    slice nearest to it in its frame of reference, preferring the series it
    was drawn on (else the displayed series), then series whose slices are
    parallel to the plane it was drawn on. Images
    named in ``key_images`` are added.

    Parameters
    ----------
    series_list : sequence of SeriesInfo
        The scanned series (``ScanResult.series``).
    annotation_set : AnnotationSet
        The lesions and their annotations.
    key_images : iterable
        More images: a SOP Instance UID, or ``(series, k)`` with the series as
        an index, id or Series Instance UID and ``k`` its slice (0-based).
    displayed_series_uid : str
        Series Instance UID of the series shown, where annotations without a
        referenced image or series (older files) are placed first.

    Returns
    -------
    (list of KeyImageRef, list of str)
        The images, in lesion order and then in the order given, each once;
        and a line for each annotation that lies on no scanned image.

    Raises
    ------
    LookupError
        When an image of ``key_images`` is not among the scanned series.
    """
    index = _SopIndex()
    found: dict[tuple[str, int, int], KeyImageRef] = {}
    warnings: list[str] = []

    def add(series: SeriesInfo, k: int, t: int, annotation_id: str | None) -> None:
        key = (series.id, k, t)
        ids = (annotation_id,) if annotation_id else ()
        if key in found:
            existing = found[key]
            found[key] = replace(existing, annotation_ids=existing.annotation_ids + ids)
        else:
            found[key] = _image_ref(series, k, t, index, ids)

    # The images the reader marked as key come first (issue 15 item 6).
    for mark in annotation_set.key_images:
        located = _locate_sop(
            series_list, mark.sop_instance_uid, index, (mark.frame or 1) - 1
        )
        if located is None:
            warnings.append(
                f"key image {mark.sop_instance_uid} is not among the scanned images"
            )
            continue
        add(*located, None)
    for lesion in annotation_set.lesions:
        for annotation in lesion.annotations:
            referenced = (
                _find_referenced(annotation, series_list, index)
                if annotation.referenced_sop_instance_uid
                else None
            )
            if referenced is not None:
                add(*referenced, annotation.id)
                continue
            nearest = _nearest_slice(annotation, series_list, displayed_series_uid)
            if nearest is not None:
                add(nearest[0], nearest[1], 0, annotation.id)
                continue
            warnings.append(
                f"{annotation_name(lesion, annotation, 'a lesion')} lies on "
                "no scanned image (its image or frame of reference is not there)"
            )
    for wanted in key_images:
        if isinstance(wanted, str):
            located = _locate_sop(series_list, wanted, index)
            if located is None:
                raise LookupError(f"no scanned image has SOP Instance UID {wanted}")
            add(*located, None)
        else:
            selector, k = wanted
            series = _find_series(series_list, selector)
            if not 0 <= k < series.shape_kji[0]:
                raise LookupError(
                    f"series {series.id} has slices 0 to {series.shape_kji[0] - 1}, "
                    f"not {k}"
                )
            add(series, k, 0, None)
    return list(found.values()), warnings


def with_resolved_images(
    annotation_set: AnnotationSet, refs: Sequence[KeyImageRef]
) -> AnnotationSet:
    """A copy of ``annotation_set`` in which each annotation that names no image
    (older files) names the one :func:`select_key_images` resolved for it: its
    SOP Instance UID, frame (1-based, multi-frame files only) and series, so
    the SR's SCOORD and the GSPS reference that image (PS3.3 C.18.6.1.1 Selected
    Frame and Referenced SOP; A.33.1 Referenced Image). Annotations that name
    their image, calibrations and key-image marks are kept as they are.
    """
    from imaging_viewer.core.annotations.model import AnnotationSet

    chosen: dict[str, KeyImageRef] = {}
    for ref in refs:
        for annotation_id in ref.annotation_ids:
            chosen.setdefault(annotation_id, ref)
    lesions = []
    for lesion in annotation_set.lesions:
        annotations = []
        for annotation in lesion.annotations:
            image = chosen.get(annotation.id)
            if image is not None and not annotation.referenced_sop_instance_uid:
                annotation = replace(
                    annotation,
                    referenced_sop_instance_uid=image.sop_instance_uid,
                    referenced_frame=_frame_number(image),
                    referenced_series_instance_uid=image.series.uid,
                )
            annotations.append(annotation)
        lesions.append(replace(lesion, annotations=tuple(annotations)))
    resolved = AnnotationSet(lesions)
    for calibration in annotation_set.calibrations:
        resolved.set_calibration(calibration)
    for mark in annotation_set.key_images:
        resolved.mark_key_image(mark)
    return resolved


def _frame_number(ref: KeyImageRef) -> int | None:
    """1-based Referenced Frame Number of a multi-frame file's frame, else None."""
    frames = ref.series.frames[ref.time_index]
    multi_frame = sum(1 for other in frames if other.path == ref.path) > 1
    return ref.frame_index + 1 if multi_frame or ref.frame_index else None


def _locate_sop(
    series_list: Sequence[SeriesInfo],
    uid: str,
    index: _SopIndex,
    frame_index: int | None = None,
) -> tuple[SeriesInfo, int, int] | None:
    """The (series, k, t) of an image (and 0-based frame, when given)."""
    for series in series_list:
        for t, slices in enumerate(series.frames):
            for k, ref in enumerate(slices):
                if frame_index is not None and ref.frame_index != frame_index:
                    continue
                if index.uid(ref.path) == uid:
                    return series, k, t
    return None


# ------------------------------------------------------------------- showing


def image_plane(pixel_to_lps: NDArray[np.float64]) -> SlicePlane:
    """The plane of a slice: its pixel grid, rows made exactly perpendicular.

    Header orientations are rounded, so row and column directions can be off
    perpendicular by a few parts per million; projecting with the corrected
    grid moves points by far less than a pixel.
    """
    column_step = np.asarray(pixel_to_lps[:3, 0], dtype=np.float64)
    row_step = np.asarray(pixel_to_lps[:3, 1], dtype=np.float64)
    column_mm = float(np.linalg.norm(column_step))
    row_mm = float(np.linalg.norm(row_step))
    right = column_step / column_mm
    down = row_step / row_mm
    down = down - float(down @ right) * right
    down = down / float(np.linalg.norm(down))
    return SlicePlane(
        origin_lps=np.asarray(pixel_to_lps[:3, 3], dtype=np.float64),
        right_lps=right,
        down_lps=down,
        spacing_mm=(column_mm, row_mm),
        size_px=(1, 1),
    )


def window_label(viewport: ViewportState) -> str:
    """The window a key image is shown with, e.g. ``W 400 L 40 (soft tissue)``."""
    window = viewport.window
    parts = []
    center = getattr(window, "center", None)
    width = getattr(window, "width", None)
    if center is not None and width is not None:
        parts.append(f"W {width:g} L {center:g}")
    elif window is not None:
        parts.append("VOI LUT")
    if viewport.window_label:
        parts.append(f"({viewport.window_label})")
    return " ".join(parts)


def key_image_viewport(
    ref: KeyImageRef,
    volume: Volume,
    window: Window | None,
    preset: str | None,
    warnings: list[str],
) -> ViewportState:
    """A viewport showing the key image: its slice and time point, with
    ``window``, else the CT ``preset`` (CT only), else the image's own window.

    A preset asked for a series that is not CT adds a line to ``warnings``.
    """
    viewport = ViewportState()
    viewport.show(ref.series, volume)
    viewport.set_slice(ref.slice_index)
    viewport.set_time(ref.time_index)
    if window is not None and not volume.is_rgb:
        viewport.set_window(window, "manual")
    elif preset is not None and volume.modality == "CT":
        viewport.apply_preset(preset)
    else:
        if preset is not None:
            warnings.append(
                f"{ref.series.modality or 'image'} series {ref.series.series_number}: "
                f"{preset} is a CT window; its own window is used"
            )
        if viewport.window_label == "auto":
            viewport.apply_auto_window()
    return viewport


def annotations_on(
    annotation_set: AnnotationSet,
    ref: KeyImageRef,
    volume: Volume,
    pixel_to_lps: NDArray[np.float64],
) -> list[tuple[Lesion, Annotation]]:
    """Annotations within half a slice of the image, and those that chose it."""
    plane = image_plane(pixel_to_lps)
    step_mm = float(np.linalg.norm(pixel_to_lps[:3, 2])) or 1.0
    chosen = set(ref.annotation_ids)
    shown: list[tuple[Lesion, Annotation]] = []
    for lesion in annotation_set.lesions:
        for annotation in lesion.annotations:
            if annotation.id in chosen or is_within_slab(
                annotation,
                plane,
                step_mm,
                frame_of_reference_uid=volume.frame_of_reference_uid,
                sop_instance_uid=ref.sop_instance_uid,
            ):
                shown.append((lesion, annotation))
    return shown
