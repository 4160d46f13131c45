"""Reference lines on one viewport: where the other viewports' slices cross it.

Each shown viewport of the same frame of reference (PS3.3 C.7.4.1.1.1) draws
its slice here as a line in its own colour (that of its border), and a thick
slab's faces as dashed lines; on a localizer the slice planes of the series
beside it show where they were acquired. MPR views of one volume already draw
each other's planes as the crosshair: between them only slab faces are added.
The geometry is :mod:`imaging_viewer.core.reference_lines`; it is worked out
again only when a slice, a slab or this image changes (the slices are cached
by their states, so unchanged geometry is the very same array).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from imaging_viewer.core.reference_lines import ReferenceLines, reference_lines
from imaging_viewer.ui.mpr_layouts import viewport_colour

if TYPE_CHECKING:
    from collections.abc import Iterator

    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QColor, QPainter

    from imaging_viewer.core.viewer_state import ViewportState
    from imaging_viewer.ui.slice_viewport import SliceViewportWidget

__all__ = ["ReferenceLineOverlay"]

_SOURCE_EVENTS = ("volume", "plane_rotation", "orientation", "slab_mm")
"""A change of these in another viewport moves its line here."""
_SOURCE_STEPS = ("slice_index", "cursor_lps")
"""A change of these in another viewport may move its line here: it does when
its slice moved (an MPR cursor moving within the plane keeps the plane)."""
_VIEWER_EVENTS = ("show_reference_lines", "layout", "mpr_layout", "maximized_index")


class ReferenceLineOverlay:
    """The reference lines of one viewport widget: which viewports draw one
    here, their lines (kept while nothing moves), and repainting when they move.
    """

    def __init__(self, widget: SliceViewportWidget) -> None:
        self.widget = widget
        self._lines: dict[int, tuple[Any, Any, float, tuple[int, int], Any]] = {}
        """Per source viewport: (its affine, ours, slab, our size, lines)."""
        viewer = widget.viewer
        for viewport in viewer.viewports:
            for name in _SOURCE_EVENTS:
                getattr(viewport.events, name).connect(self._on_source_moved)
            for name in _SOURCE_STEPS:
                getattr(viewport.events, name).connect(self._on_source_stepped)
        for name in _VIEWER_EVENTS:
            getattr(viewer.events, name).connect(self._on_flag_changed)

    def close(self) -> None:
        """Stop following the other viewports (the widget is closing)."""
        viewer = self.widget.viewer
        for viewport in viewer.viewports:
            viewport.events.disconnect(self._on_source_moved)
            viewport.events.disconnect(self._on_source_stepped)
        viewer.events.disconnect(self._on_flag_changed)

    def _on_flag_changed(self, *_: object) -> None:
        if self.widget.isVisible():
            self.widget.viewport().update()

    def _on_source_moved(self, *_: object) -> None:
        if self.widget.isVisible() and any(True for _ in self.sources()):
            self.widget.viewport().update()

    def _on_source_stepped(self, *_: object) -> None:
        if self.widget.isVisible() and self._a_line_moved():
            self.widget.viewport().update()

    def _a_line_moved(self) -> bool:
        """True when a source's slice is not the one its drawn line was worked
        out from (the states cache their slices: an unmoved slice is the same)."""
        for index, source, _ in self.sources():
            kept = self._lines.get(index)
            shown = source.current_slice()
            if kept is None or shown is None or kept[0] is not shown.pixel_to_lps:
                return True
        return False

    def wears_colour(self) -> bool:
        """True when this viewport's slice may show as a line elsewhere: its
        border then wears the colour of that line."""
        viewer, volume = self.widget.viewer, self.widget.state.volume
        return (
            viewer.show_reference_lines
            and viewer.visible_count > 1
            and viewer.maximized_index is None
            and volume is not None
            and not volume.is_projection
            and bool(volume.frame_of_reference_uid)
        )

    def sources(self) -> Iterator[tuple[int, ViewportState, bool]]:
        """(index, state, slab faces only) of each viewport drawing a line here.

        Shown viewports of our frame of reference, except single images that
        are not MPR planes (a localizer has no slice to show elsewhere) and
        projection radiographs; MPR views of our volume give their slab faces
        only (the crosshair is their line), and on an MPR view the acquired
        slices of its volume (MPR 2×2) none: they follow the cursor, so the
        crosshair shows them too.
        """
        viewer, target = self.widget.viewer, self.widget.state
        volume = target.volume
        if (
            not viewer.show_reference_lines
            or volume is None
            or volume.is_projection
            or not volume.frame_of_reference_uid
            or viewer.maximized_index is not None
        ):
            return
        frame = volume.frame_of_reference_uid
        for index, source in enumerate(viewer.viewports[: viewer.visible_count]):
            other = source.volume
            if source is target or other is None or other.is_projection:
                continue
            if other.frame_of_reference_uid != frame:
                continue
            if not source.is_mpr and other.shape_kji[0] < 2:
                continue
            if target.is_mpr and other is volume and not source.is_mpr:
                continue  # the acquired slice at the cursor: the crosshair's line
            sibling = source.is_mpr and target.is_mpr and other is volume
            yield index, source, sibling

    def lines(self) -> Iterator[tuple[QColor, tuple[Any, ...], bool]]:
        """(colour, segment in our pixel coordinates, dashed) of each line."""
        target = self.widget.state
        current = target.current_slice()
        if current is None:
            return
        rows, columns = current.pixels.shape[:2]
        size = (columns, rows)
        target_affine = current.pixel_to_lps
        for index, source, faces_only in self.sources():
            colour = viewport_colour(index)
            shown = source.current_slice()
            if colour is None or shown is None:
                continue
            found = self._cached(index, shown.pixel_to_lps, target_affine, source, size)
            if found.centre is not None and not faces_only:
                yield colour, found.centre, False
            for face in found.slab_limits:
                yield colour, face, True

    def _cached(
        self,
        index: int,
        source_affine: Any,
        target_affine: Any,
        source: ViewportState,
        size: tuple[int, int],
    ) -> ReferenceLines:
        slab = source.slab_mm if source.is_mpr else 0.0
        kept = self._lines.get(index)
        if (
            kept is not None
            and kept[0] is source_affine
            and kept[1] is target_affine
            and kept[2] == slab
            and kept[3] == size
        ):
            found: ReferenceLines = kept[4]
            return found
        found = reference_lines(target_affine, size, source_affine, slab_mm=slab)
        self._lines[index] = (source_affine, target_affine, slab, size, found)
        return found

    def paint(self, painter: QPainter) -> None:
        """Draw the lines through the widget's overlay painter."""
        widget = self.widget
        state = widget.state
        current = state.current_slice()
        if current is None:
            return
        rows, columns = current.pixels.shape[:2]
        drawn: list[tuple[QColor, QPointF, QPointF, bool]] = []
        for colour, ((c1, r1), (c2, r2)), dashed in self.lines():
            start = widget._widget_point(*_shown(state, c1, r1, rows, columns))
            end = widget._widget_point(*_shown(state, c2, r2, rows, columns))
            drawn.append((colour, start, end, dashed))
        if drawn:
            widget._overlays.paint_reference_lines(painter, drawn)


def _shown(
    state: ViewportState, column: float, row: float, rows: int, columns: int
) -> tuple[float, float]:
    """Stored pixel (column, row) to where it is shown after flips and quarter
    turns (the inverse of the viewport's ``_original_pixel``)."""
    if state.flip_horizontal:
        column = columns - 1 - column
    if state.flip_vertical:
        row = rows - 1 - row
    for _ in range(state.rotation_quarters % 4):
        # A clockwise quarter turn: the last row becomes the first column.
        column, row = rows - 1 - row, column
        rows, columns = columns, rows
    return column, row
