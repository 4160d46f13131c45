"""Where a lesion of an earlier time point is: shown while the user chooses it
in "same lesion as…".

Viewports showing the prior's study go to the lesion's centre. LPS positions
compare only within one frame of reference (PS3.3 C.7.4.1.1.1): a viewport of
the lesion's frame gets the centre as it is, one of another frame the centre
mapped through the registration linking the two frames (the comparison
layout's), and one without such a map is left where it is. When no viewport
shows the prior, the returned line says where it is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from imaging_viewer.core.viewer_state import nearest_slice

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from imaging_viewer.core.annotations.model import Lesion
    from imaging_viewer.core.dicom.series import SeriesInfo
    from imaging_viewer.core.viewer_state import ViewerState, ViewportState
    from imaging_viewer.core.workspace.lesion_links import PriorLesion
    from imaging_viewer.core.workspace.workspace import Workspace


def lesion_frame(lesion: Lesion) -> str:
    """The Frame of Reference UID its annotations were drawn in ("" if none)."""
    return next(
        (
            a.frame_of_reference_uid
            for a in lesion.annotations
            if a.frame_of_reference_uid
        ),
        "",
    )


def prior_name(prior: PriorLesion) -> str:
    """``L1 liver (baseline, 2005-01-01)`` for a status line."""
    date = prior.study_date
    if len(date) == 8 and date.isdigit():
        date = f"{date[:4]}-{date[4:6]}-{date[6:]}"
    when = ", ".join(part for part in (prior.timepoint, date) if part)
    return f"{prior.lesion.label or 'the lesion'} ({when})"


def _mapped(
    state: ViewerState, frame: str, target_frame: str, centre: NDArray[np.float64]
) -> NDArray[np.float64] | None:
    if not frame or not target_frame:
        return None
    transform = state.frame_transform(frame, target_frame)
    if transform is None:
        return None
    return np.asarray(transform[:3, :3] @ centre + transform[:3, 3], dtype=np.float64)


def _go_to(
    state: ViewerState, index: int, viewport: ViewportState, at: NDArray[np.float64]
) -> bool:
    volume = viewport.volume
    if volume is None or volume.is_projection:
        return False
    if viewport.is_mpr:
        state.set_cursor(at, index)
        return True
    k = nearest_slice(volume, at)
    if k is None:
        return False
    viewport.set_slice(k)
    return True


def show_prior_lesion(
    state: ViewerState, workspace: Workspace, prior: PriorLesion
) -> str:
    """Bring the viewports showing ``prior``'s study to its centre (the other
    viewports stay where the user is measuring); returns a status line."""
    name = prior_name(prior)
    if prior.centre_lps is None:
        return f"{name} has no measurement to show"
    centre = np.asarray(prior.centre_lps, dtype=np.float64)
    frame = lesion_frame(prior.lesion)
    moved: list[int] = []
    with state.unlinked():
        for index, viewport in enumerate(state.viewports[: state.visible_count]):
            series, volume = viewport.series, viewport.volume
            if series is None or volume is None or series.study_uid != prior.study_uid:
                continue
            at = _mapped(state, frame, volume.frame_of_reference_uid, centre)
            if at is not None and _go_to(state, index, viewport, at):
                moved.append(index)
    if moved:
        where = ", ".join(str(index + 1) for index in moved)
        return f"{name} shown in viewport {where}"
    return f"{name}: {_where(workspace, prior, frame, centre)}"


def _where(
    workspace: Workspace, prior: PriorLesion, frame: str, centre: NDArray[np.float64]
) -> str:
    """Its slice in the series it was drawn on, and its LPS centre."""
    position = "L {:.0f} P {:.0f} S {:.0f} mm".format(*centre)
    series = _drawn_series(workspace, prior, frame)
    if series is None or series.is_projection:
        return f"at {position} (not shown: Compare with prior shows the prior)"
    k = _series_slice(series, centre)
    slice_text = "" if k is None else f"slice {k + 1} of "
    title = series.description or series.id
    return (
        f"{slice_text}“{title}”, at {position} "
        "(not shown: Compare with prior shows the prior)"
    )


def _drawn_series(
    workspace: Workspace, prior: PriorLesion, frame: str
) -> SeriesInfo | None:
    study = workspace.studies.get(prior.study_uid)
    if study is None:
        return None
    drawn = {
        a.referenced_series_instance_uid
        for a in prior.lesion.annotations
        if a.referenced_series_instance_uid
    }
    for series in study.series:
        if series.uid in drawn:
            return series
    return next(
        (s for s in study.series if frame and s.frame_of_reference_uid == frame), None
    )


def _series_slice(series: SeriesInfo, centre: NDArray[np.float64]) -> int | None:
    affine = series.ijk_to_lps
    ijk = np.linalg.solve(affine[:3, :3], centre - affine[:3, 3])
    k = round(float(ijk[2]))
    n_slices = series.shape_kji[0]
    if k < -1 or k > n_slices:
        return None
    return int(np.clip(k, 0, n_slices - 1))
