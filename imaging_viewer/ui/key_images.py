"""Key images while reading: mark or unmark the shown image (K, the tool bar,
the image's context menu), the "KEY" badge on a marked image, and going back
to a marked image from the Key images panel.

The marks live in the study's annotation set (``AnnotationSet.key_images``),
so they are autosaved with the annotations and exported as a Key Object
Selection document (PS3.3 A.35.4).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen

from imaging_viewer.core.viewer_state import nearest_slice

if TYPE_CHECKING:
    from collections.abc import Iterable

    from PySide6.QtCore import QRect

    from imaging_viewer.core.annotations.key_image_marks import KeyImageMark
    from imaging_viewer.core.dicom.scan import ScanResult
    from imaging_viewer.core.dicom.series import SeriesInfo
    from imaging_viewer.core.viewer_state import ViewportState
    from imaging_viewer.ui.main_window import MainWindow
    from imaging_viewer.ui.slice_viewport import SliceViewportWidget

__all__ = [
    "go_to_key_image",
    "is_shown_key_image",
    "locate_key_image",
    "paint_key_image_badge",
    "shown_image_mark",
    "toggle_key_image",
]

BADGE_TEXT = "KEY"


def _acquired_index(state: ViewportState) -> int:
    """The acquired slice behind the view: the shown one, the nearest to the
    cursor on an MPR plane, the nearest of an interpolated slice."""
    series = state.series
    assert series is not None
    k = state.slice_index
    if state.is_mpr and state.volume is not None and state.cursor_lps:
        k = nearest_slice(state.volume, np.asarray(state.cursor_lps)) or 0
    geometry = series.geometry
    if geometry is not None and geometry.resample is not None:
        plan = geometry.resample
        k = int(plan.below[k]) + (1 if plan.weight[k] >= 0.5 else 0)
    return k


def _view_index(series: SeriesInfo, k: int) -> int:
    """The slice of the view that shows acquired slice ``k`` (the nearest
    interpolated slice when the series is resampled)."""
    geometry = series.geometry
    if geometry is None or geometry.resample is None:
        return k
    plan = geometry.resample
    distance = np.abs(plan.below + plan.weight - k)
    return int(np.argmin(distance))


def shown_image_mark(state: ViewportState) -> KeyImageMark | None:
    """The mark of the acquired image a viewport shows (with its frame in a
    multi-frame file): on an MPR or interpolated plane, the nearest acquired
    image (as the teaching export chooses it); None without an image."""
    series = state.series
    if series is None or state.volume is None or not series.frames:
        return None
    from imaging_viewer.core.annotations.key_image_marks import KeyImageMark

    frames = series.frames[min(state.time_index, len(series.frames) - 1)]
    ref = frames[min(_acquired_index(state), len(frames) - 1)]
    sop_instance_uid = _sop_instance_uid(ref.path)
    if not sop_instance_uid:
        return None
    multi_frame = any(
        other.path == ref.path and other is not ref
        for slices in series.frames
        for other in slices
    )
    return KeyImageMark(
        sop_instance_uid,
        frame=ref.frame_index + 1 if multi_frame or ref.frame_index else None,
        series_instance_uid=series.uid,
    )


def is_shown_key_image(window: MainWindow) -> bool:
    """True if the active viewport's image is marked as key."""
    # Before any annotation is made the set does not exist yet: making it here
    # would import the annotation model before the first paint.
    annotations = vars(window.state).get("_annotations")
    if annotations is None or not annotations.key_images:
        return False
    mark = shown_image_mark(window.state.active)
    return mark is not None and annotations.is_key_image(*mark.key)


def toggle_key_image(
    window: MainWindow, widget: SliceViewportWidget | None = None
) -> None:
    """Mark the image of ``widget`` (default: the active viewport) as key, or
    unmark it."""
    window.start_annotations()
    view = widget or window.active_widget
    mark = shown_image_mark(view.state)
    if mark is None:
        window.statusBar().showMessage(
            "Key images are acquired images: show one (not an MPR or "
            "interpolated plane) to mark it",
            5000,
        )
        return
    annotations = window.state.annotations
    if annotations.is_key_image(*mark.key):
        annotations.unmark_key_image(*mark.key)
    else:
        if window.docks_built:
            window.build_docks().key_images_panel.remember_thumbnail(mark, view)
        annotations.mark_key_image(mark)
    view.viewport().update()
    window.refresh_checks()


def locate_key_image(
    scan_result: ScanResult | None, mark: KeyImageMark
) -> tuple[str, int, int] | None:
    """(series id, k, t) of a marked image among the scanned series, if there."""
    if scan_result is None:
        return None
    frame_index = (mark.frame or 1) - 1
    for series in scan_result.series:
        if mark.series_instance_uid and series.uid != mark.series_instance_uid:
            continue
        for t, slices in enumerate(series.frames):
            for k, ref in enumerate(slices):
                if ref.frame_index != frame_index:
                    continue
                if _sop_instance_uid(ref.path) == mark.sop_instance_uid:
                    return series.id, k, t
    return None


def go_to_key_image(window: Any, mark: KeyImageMark) -> bool:
    """Show a marked image in the active viewport (loading its series if
    needed); False if it is not among the open series."""
    located = locate_key_image(window.scan_result, mark)
    if located is None:
        window.statusBar().showMessage("That key image is not among the open series")
        return False
    series_id, k, t = located
    index = window.state.active_index
    viewport = window.state.viewports[index]

    def show() -> None:
        viewport.set_time(t)
        if viewport.series is not None:
            viewport.set_slice(_view_index(viewport.series, k))

    def show_when_loaded(shown_index: int) -> None:
        if shown_index == index:
            window.loader.volume_shown.disconnect(show_when_loaded)
            if viewport.series is not None and viewport.series.id == series_id:
                show()

    if viewport.series is None or viewport.series.id != series_id or viewport.is_mpr:
        window.show_series(series_id, index)
        if viewport.volume is None or viewport.loading:
            window.loader.volume_shown.connect(show_when_loaded)
            return True
    show()
    return True


def paint_key_image_badge(
    painter: QPainter,
    widget: SliceViewportWidget,
    text_rects: Iterable[QRectF] = (),
) -> QRectF | None:
    """A "KEY" badge at the top centre, under the orientation letter, of a
    viewport whose image is marked as key; returns where it went.

    It never covers the corner text (``text_rects``, where the overlay painter
    drew it): in a small pane it goes below the top corner blocks it would
    meet, and is left out when there is no room there either.
    """
    annotations = getattr(widget, "annotations", None)
    if annotations is None or not annotations.key_images:
        return None
    if not _parallel_to_acquired(widget.state):
        return None  # a coronal reformat of axial slices is not the key image
    mark = shown_image_mark(widget.state)
    if mark is None or not annotations.is_key_image(*mark.key):
        return None
    font = QFont(painter.font())
    font.setBold(True)
    painter.setFont(font)
    metrics = painter.fontMetrics()
    size = (metrics.horizontalAdvance(BADGE_TEXT) + 12, metrics.height() + 4)
    # Below the top orientation letter, which sits at the top centre.
    box = _badge_place(
        widget.viewport().rect(), size, 10 + metrics.height() + 4, list(text_rects)
    )
    if box is None:
        return None
    painter.setPen(QPen(QColor(255, 210, 0), 1.5))
    painter.setBrush(QColor(0, 0, 0, 170))
    painter.drawRoundedRect(box, 3, 3)
    painter.drawText(box, Qt.AlignmentFlag.AlignCenter, BADGE_TEXT)
    return box


def _badge_place(
    view: QRect, size: tuple[float, float], top: float, text_rects: list[QRectF]
) -> QRectF | None:
    """The badge's box at ``top``, centred; else just below the corner blocks
    it meets; None when it meets text there too or leaves the view."""
    width, height = size
    box = QRectF((view.width() - width) / 2, top, width, height)
    met = [rect for rect in text_rects if rect.intersects(box)]
    if met:
        box.moveTop(max(rect.bottom() for rect in met) + 4)
    if box.bottom() > view.height() or any(r.intersects(box) for r in text_rects):
        return None
    return box


def _sop_instance_uid(path: str) -> str:
    """SOP Instance UID of an image file (read once per file version)."""
    # pydicom's fallback reader stays off the start-up path.
    from imaging_viewer.core.dicom.acquired_images import sop_instance_uid_of

    return sop_instance_uid_of(path)


def _parallel_to_acquired(state: ViewportState) -> bool:
    """True when the view shows the acquired slices' plane (acquired pixels, or
    an MPR plane parallel to them)."""
    if not state.is_mpr:
        return True
    volume, shown = state.volume, state.pixel_to_lps()
    if volume is None or shown is None:
        return False
    acquired_normal = volume.ijk_to_lps[:3, 2]
    view_normal = shown[:3, 2]
    norms = float(np.linalg.norm(acquired_normal) * np.linalg.norm(view_normal))
    if norms == 0.0:
        return False
    return abs(float(acquired_normal @ view_normal)) / norms > 0.999
