"""ROI statistics for labels and the Lesions panel, live while an ROI is drawn.

Mean, SD, minimum and maximum of the pixels inside an ellipse or polygon
(:func:`~imaging_viewer.core.annotations.measure.roi_stats`: a vectorised mask
over the ROI's bounding window), in modality units (HU for CT after Rescale
Slope and Intercept, PS3.3 C.11.1.1.2). Results are kept per outline and
slice; while an outline changes they are worked out at most every
:data:`THROTTLE_S`, and the view is repainted once the pointer rests.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Final

from PySide6.QtCore import QTimer

from imaging_viewer.core.annotations.measure import (
    roi_stats,
    roi_stats_lines,
    value_unit,
)
from imaging_viewer.core.annotations.model import EllipseRoi, PolygonRoi
from imaging_viewer.ui.annotation_overlay import image_ref_of

if TYPE_CHECKING:
    from collections.abc import Callable

    from imaging_viewer.core.annotations.measure import RoiStats
    from imaging_viewer.core.annotations.model import Annotation
    from imaging_viewer.core.mpr import Slice
    from imaging_viewer.core.viewer_state import ViewerState, ViewportState
    from imaging_viewer.core.volume import Volume

THROTTLE_S: Final = 0.05
"""Statistics of a changing outline are worked out at most this often."""
_CACHE_SIZE: Final = 256


def stats_on(image: Slice | Volume, annotation: Annotation) -> RoiStats | None:
    """Statistics of an ROI on a slice (or the volume slice it lies on); None
    for other kinds, an RGB image, or an ROI off the image's plane."""
    if not isinstance(annotation, EllipseRoi | PolygonRoi):
        return None
    try:
        # Spacing "" : only the pixel values are used; areas come from measure_shown.
        return roi_stats(image, annotation, spacing_source="")
    except ValueError:
        return None


class LiveRoiStatistics:
    """``lines(annotation)``: the statistics lines of an ROI on ``state``'s slice.

    ``repaint`` is called once the last throttled outline can be worked out.
    """

    def __init__(self, state: ViewportState, repaint: Callable[[], None]) -> None:
        self.state = state
        self._cache: dict[tuple[Annotation, int], tuple[str, ...]] = {}
        self._latest: dict[str, tuple[str, ...]] = {}
        self._last_time = 0.0
        self._later = QTimer()
        self._later.setSingleShot(True)
        self._later.setInterval(round(THROTTLE_S * 1000) + 10)
        self._later.timeout.connect(repaint)

    def lines(self, annotation: Annotation) -> tuple[str, ...]:
        if not isinstance(annotation, EllipseRoi | PolygonRoi):
            return ()
        image = self.state.current_slice()
        if image is None or image.pixels.ndim != 2:
            return ()
        key = (annotation, id(image))
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        now = time.monotonic()
        if annotation.id in self._latest and now - self._last_time < THROTTLE_S:
            self._later.start()  # show the outline's own numbers when it rests
            return self._latest[annotation.id]
        self._last_time = now
        stats = stats_on(image, annotation)
        series = self.state.series
        unit = value_unit(series.modality if series is not None else "")
        result = roi_stats_lines(stats, unit) if stats is not None else ()
        if len(self._cache) >= _CACHE_SIZE:
            self._cache.clear()
        self._cache[key] = self._latest[annotation.id] = result
        return result


def roi_lines_in_views(state: ViewerState, annotation: Annotation) -> tuple[str, ...]:
    """Statistics lines of an ROI for the Lesions panel, from a view showing its
    frame of reference (or image); none where no view shows it."""
    if not isinstance(annotation, EllipseRoi | PolygonRoi):
        return ()
    for viewport in state.viewports:
        volume = viewport.volume
        if volume is None or volume.is_rgb:
            continue
        if annotation.frame_of_reference_uid:
            if volume.frame_of_reference_uid != annotation.frame_of_reference_uid:
                continue
        elif (
            image_ref_of(viewport).sop_instance_uid
            != annotation.referenced_sop_instance_uid
        ):
            continue  # a projection image's ROI: on its own image only
        stats = stats_on(volume, annotation)
        if stats is None:
            shown = viewport.current_slice()  # drawn on an MPR plane
            stats = stats_on(shown, annotation) if shown is not None else None
        if stats is not None:
            series = viewport.series
            unit = value_unit(series.modality if series is not None else "")
            return roi_stats_lines(stats, unit)
    return ()
