"""A reformatted plane in any viewport of a grid layout (the comparison's, say).

Issue 13 item 3: in the comparison layout each viewport can show its series'
acquired slices or an axial, coronal, sagittal or oblique plane through its
3D cursor, as MPR 2×2's free view can (:mod:`~imaging_viewer.core.mpr_free_view`).
A linked reformatted view of the other study then shows the mapped plane
(:mod:`~imaging_viewer.core.linked_cursor`): the later study's planes stay
straight, the earlier study's are turned by the registration.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from imaging_viewer.core.dicom.patient_identity import same_patient
from imaging_viewer.core.geometry import rotation_about
from imaging_viewer.core.linked_cursor import linked_cursor
from imaging_viewer.core.mpr_free_view import (
    FREE_VIEW_INDEX,
    FREE_VIEW_KINDS,
    OBLIQUE_START_DEG,
    free_view_kind,
    show_in_free_view,
)

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from imaging_viewer.core.viewer_state import ViewerState, ViewportState

__all__ = ["PLANE_KINDS", "plane_kind", "show_plane_in"]

PLANE_KINDS = FREE_VIEW_KINDS
"""What a viewport can show: acquired slices, an oblique or a straight plane."""


def plane_kind(viewer: ViewerState, index: int) -> str | None:
    """What viewport ``index`` shows (a key of :data:`PLANE_KINDS`), or None
    when it cannot choose: empty, a radiograph or a single image, or an MPR
    view other than the free one."""
    if viewer.layout == "mpr":
        return free_view_kind(viewer) if index == FREE_VIEW_INDEX else None
    if index >= viewer.visible_count:
        return None
    view = viewer.viewports[index]
    volume = view.volume
    if volume is None or volume.is_projection or volume.shape_kji[0] < 2:
        return None
    if not view.is_mpr:
        return "acquired"
    return "oblique" if view.oblique_angle_deg() is not None else view.orientation


def show_plane_in(viewer: ViewerState, index: int, kind: str) -> bool:
    """Make viewport ``index`` show ``kind`` of its own volume, through its 3D
    cursor (or the centre of its slice), then link the others to it. False
    when it cannot (see :func:`plane_kind`); ValueError for an unknown kind."""
    if kind not in PLANE_KINDS:
        raise ValueError(f"unknown plane {kind!r}")
    if viewer.layout == "mpr":
        return index == FREE_VIEW_INDEX and show_in_free_view(viewer, kind)
    if plane_kind(viewer, index) is None:
        return False
    view = viewer.viewports[index]
    cursor = linked_cursor(view)
    if cursor is None:
        cursor = _slice_centre(view)
    with viewer.unlinked():
        if kind == "acquired":
            _show_acquired(view, cursor)
        else:
            _show_plane(view, kind, cursor)
    viewer.sync_linked(_leader(viewer, index))
    return True


def _show_acquired(view: ViewportState, cursor: NDArray[np.float64] | None) -> None:
    from imaging_viewer.core.viewer_state import nearest_slice

    view.orientation = "acquired"
    view.plane_rotation = None
    view.slab_mm = 0.0
    if cursor is not None and view.volume is not None:
        target = nearest_slice(view.volume, cursor)
        if target is not None:
            view.set_slice(target)


def _show_plane(
    view: ViewportState, kind: str, cursor: NDArray[np.float64] | None
) -> None:
    rotation: tuple[float, ...] | None = None
    orientation = kind
    if kind == "oblique":
        orientation = "axial"
        turned = rotation_about(
            np.array([1.0, 0.0, 0.0]), math.radians(OBLIQUE_START_DEG)
        )
        rotation = tuple(float(value) for value in turned.ravel())
    view.plane_rotation = rotation
    if cursor is not None:
        view.cursor_lps = (float(cursor[0]), float(cursor[1]), float(cursor[2]))
    view.orientation = orientation
    view.sync_index_to_cursor()


def _slice_centre(view: ViewportState) -> NDArray[np.float64] | None:
    current = view.current_slice()
    if current is None:
        return None
    rows, columns = current.pixels.shape[:2]
    centre = current.pixel_to_lps @ np.array([(columns - 1) / 2, (rows - 1) / 2, 0, 1])
    return np.asarray(centre[:3], dtype=np.float64)


def _study_date(view: ViewportState) -> str:
    series = view.series
    return "" if series is None else series.study_date


def _leader(viewer: ViewerState, index: int) -> int:
    """Which viewport the others follow after ``index`` changed its plane: a
    linked view of a later study of the patient that sets a cursor (its
    planes stay straight, the earlier study's are mapped), else ``index``."""
    view = viewer.viewports[index]
    if view.volume is None:
        return index
    for other, partner in enumerate(viewer.viewports[: viewer.visible_count]):
        volume = partner.volume
        if other == index or volume is None or volume is view.volume:
            continue
        if linked_cursor(partner) is None or _study_date(partner) <= _study_date(view):
            continue
        if (
            view.series is not None
            and partner.series is not None
            and not same_patient(
                (view.series.patient_id, view.series.patient_name),
                (partner.series.patient_id, partner.series.patient_name),
            )
        ):
            continue
        frames = (volume.frame_of_reference_uid, view.volume.frame_of_reference_uid)
        if viewer.frame_transform(*frames) is not None:
            return other
    return index
