"""SliceViewportWidget: one 2D view of a ViewportState, with radiology mouse habits.

Scene units are millimetres: the image item is scaled by the pixel spacing, so
non-square pixels show with the right aspect. Rendering goes through the Qt-free
render core into a preallocated RGB32 buffer that a QImage wraps without a copy.
"""

from __future__ import annotations

import functools
import math
from importlib import import_module
from typing import TYPE_CHECKING, Any, Final

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QTransform
from PySide6.QtWidgets import QGraphicsView

from imaging_viewer.core.geometry import rotation_about
from imaging_viewer.core.render import render_slice
from imaging_viewer.core.tools.pointer import DragSession, ImageRef, PointerEvent
from imaging_viewer.core.tools.window_level import drag_window
from imaging_viewer.core.viewer_state import ViewerState
from imaging_viewer.ui.actions import viewport_action
from imaging_viewer.ui.annotation_overlay import (
    image_ref_of,
    plane_of_slice,
    shown_annotations,
    slab_of,
)
from imaging_viewer.ui.calibration_controls import ask_known_length, calibration_shown
from imaging_viewer.ui.cine_mode import DEFAULT_CINE_MODE, next_cine_frame
from imaging_viewer.ui.cursor_mark import CursorMark
from imaging_viewer.ui.double_click_cursor import CursorAtPress
from imaging_viewer.ui.graphics import pg
from imaging_viewer.ui.key_images import paint_key_image_badge
from imaging_viewer.ui.mouse_bindings import ViewportMouse
from imaging_viewer.ui.overlay_painter import OverlayPainter
from imaging_viewer.ui.reference_line_overlay import ReferenceLineOverlay
from imaging_viewer.ui.rendered_inputs import RenderedInputs
from imaging_viewer.ui.roi_statistics import LiveRoiStatistics

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import NDArray
    from PySide6.QtGui import (
        QDragEnterEvent,
        QDropEvent,
        QKeyEvent,
        QMouseEvent,
        QPaintEvent,
        QResizeEvent,
        QWheelEvent,
    )
    from PySide6.QtWidgets import QStyleOptionGraphicsItem, QWidget

    from imaging_viewer.core.annotations.model import AnnotationSet
    from imaging_viewer.core.mpr import SlicePlane
    from imaging_viewer.core.viewer_state import ViewportState
    from imaging_viewer.core.volume import Volume, Window

SERIES_MIME_TYPE = "application/x-imaging-viewer-series"
TOOLS: dict[str, str] = {
    "ruler": "ruler:draw_ruler",
    "angle": "angle:draw_angle",
    "cobb": "angle:draw_cobb_angle",
    "ellipse": "ellipse:draw_ellipse",
    "polygon": "polygon:draw_polygon",
    "bidirectional": "bidirectional:draw_bidirectional",
    "arrow": "arrow:draw_arrow",
    "marker": "marker:place_marker",
    "text": "marker:place_text_label",
    "select": "select:select_and_edit",
    "calibrate": "calibrate:draw_calibration",
}
"""Left-drag tools that draw or edit lesion annotations: ``module:function`` in
:mod:`imaging_viewer.core.tools`, imported on first use (not at start-up)."""


def tool_function(name: str) -> Any:
    """The drag generator of the tool called ``name`` (a key of :data:`TOOLS`)."""
    module, _, function = TOOLS[name].partition(":")
    return getattr(import_module(f"imaging_viewer.core.tools.{module}"), function)


COARSE_MIN_PIXELS = 1 << 21
"""Images larger than this (2 megapixels) render at about screen resolution while
they change, for fluent window drags on large radiographs; full when settled."""


class SliceImageItem(pg.GraphicsObject):  # type: ignore[misc]
    """Draws an RGB32 buffer as a QImage over its extent, one scene unit per pixel.

    The extent is the shown image's size (rows × columns); the buffer may be a
    coarser rendering of it (every n-th pixel while a large image changes).
    """

    def __init__(self) -> None:
        super().__init__()
        self._image: QImage | None = None
        self._buffer: NDArray[np.uint32] | None = None
        self._extent: tuple[int, int] | None = None
        self.smooth = True

    def set_extent(self, rows: int, columns: int) -> None:
        """Buffers stand for an image of ``rows`` × ``columns`` pixels."""
        if self._extent != (rows, columns):
            self.prepareGeometryChange()
            self._extent = (rows, columns)

    def set_buffer(self, buffer: NDArray[np.uint32]) -> None:
        """Show ``buffer`` at the view's next paint (the caller updates the view).

        Not marked dirty here: the scene processes dirty items in a queued call,
        which may come after the view's paint of that frame and paint it again.
        """
        if self._extent is None:
            self.set_extent(buffer.shape[0], buffer.shape[1])
        if buffer is not self._buffer or self._image is None:
            # Wrapped, not copied: rendering into the same buffer needs no new image.
            self._image = pg.functions.ndarray_to_qimage(
                buffer, QImage.Format.Format_RGB32
            )
        self._buffer = buffer

    def clear(self) -> None:
        """Show nothing."""
        self.prepareGeometryChange()
        self._buffer = None
        self._image = None
        self._extent = None
        self.update()

    def boundingRect(self) -> QRectF:
        """The image rectangle in item coordinates (pixels)."""
        if self._extent is None:
            return QRectF()
        rows, columns = self._extent
        return QRectF(0, 0, columns, rows)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        """Draw the image (smoothly scaled unless interacting)."""
        if self._image is None:
            return
        # Antialiased edges would send Qt down its slow transformed-image path.
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.smooth)
        painter.drawImage(self.boundingRect(), self._image)


class SliceViewportWidget(pg.GraphicsView):  # type: ignore[misc]
    """A 2D viewport: shows the state's slice and turns mouse and keys into state edits.

    Mouse: wheel scrolls slices, Ctrl+wheel zooms, right-drag (or left-drag with
    the window tool) sets window width (horizontal) and level (vertical),
    middle-drag pans (left-drag with the pan tool). Its one-key shortcuts are
    the viewport keys of :data:`imaging_viewer.ui.actions.ACTIONS`.

    What it shows comes from ``state`` (slice, window, flips) and ``viewer``
    (tool, overlays, crosshair lines, which viewport is active): it repaints
    when they change. Alone (no ``viewer``), it is a viewer of one viewport.
    """

    state: ViewportState
    """What this viewport shows: series, slice, window, flips."""
    viewer: ViewerState
    """The viewer it belongs to: tool, overlays, crosshair, active viewport."""
    activated = Signal()
    """The user clicked or focused this viewport."""
    probed = Signal(str)
    """Status text for the pixel under the cursor (value and LPS position)."""
    series_dropped = Signal(str)
    """A series id was dropped here from the series browser."""

    def __init__(
        self,
        state: ViewportState,
        parent: QWidget | None = None,
        viewer: ViewerState | None = None,
    ) -> None:
        self._closing = False
        super().__init__(parent, background=QColor(0, 0, 0))
        self.state = state
        self.viewer = viewer if viewer is not None else ViewerState(viewports=(state,))
        self.siblings: Callable[[], list[tuple[ViewportState, QColor]]] | None = None
        """The other MPR views (state, colour) whose planes cross this one."""
        self.colour: QColor | None = None
        """This view's colour in MPR (its crosshair line in the other views)."""
        self._rotating: tuple[ViewportState, NDArray[np.float64], float] | None = None
        self.annotations: AnnotationSet | None = None
        """Lesion annotations drawn over the slice and edited by the tools."""
        self.active_lesion: Callable[[], str | None] = lambda: None
        self.ask_text: Callable[[], str | None] = lambda: None
        """Asks the user for a text label's words (None: cancelled)."""
        self.ask_length_mm = functools.partial(ask_known_length, self)
        self._session: DragSession | None = None
        self.view_box = pg.ViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.view_box.setMouseEnabled(False, False)
        # The view paints the black around the image; nothing paints under it.
        self.view_box.setBackgroundColor(None)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheNone)
        self.setCentralItem(self.view_box)
        self.image_item = SliceImageItem()
        self.view_box.addItem(self.image_item)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self._buffer: NDArray[np.uint32] | None = None
        self._stride = 1
        """The buffer holds every n-th pixel of the image (while it changes)."""
        self._coarse_cache: (
            tuple[tuple[Any, ...], NDArray[Any], NDArray[Any] | None] | None
        ) = None
        self._drag_button: Qt.MouseButton | None = None
        self._cursor_at_press = CursorAtPress()
        self._drag_start = QPointF()
        self._drag_window: Window | None = None
        self._drag_value_range = 1.0
        self._fitted_for: tuple[Any, ...] | None = None
        self._user_zoomed = False
        self._shown_pixel_spacing = (1.0, 1.0)
        self._smooth_later = QTimer(self)
        self._smooth_later.setSingleShot(True)
        self._smooth_later.setInterval(150)
        self._smooth_later.timeout.connect(self._on_settled)
        self._cine = QTimer(self)
        self._cine.setInterval(66)
        self._cine.timeout.connect(self._on_cine_tick)
        self.cine_mode = DEFAULT_CINE_MODE  # "loop" or "bounce" (ui/cine_mode.py)
        self._cine_step = 1
        self.mouse = ViewportMouse(self)
        """Button tools, the context click and the magnifier (ui/mouse_bindings)."""
        self._overlays = OverlayPainter(self.viewport())
        """Draws corner text, letters, scale bar, annotations and crosshair
        (as exports do), keeping what it worked out between frames."""
        self._overlay_metrics = self._overlays.metrics
        self._roi_stats = LiveRoiStatistics(state, self.viewport().update)
        self._reference_lines = ReferenceLineOverlay(self)
        self._cursor_mark = CursorMark(self)
        self._rendered = RenderedInputs()
        self._state_generation = 0
        """Counts state edits: cached overlay text is redrawn after one."""
        self._connect_state_events(state)

    def _connect_state_events(self, state: ViewportState) -> None:
        """Redraws on the state's and the viewer's edits."""
        state.events.all.connect(self._on_any_state_edit)
        for name in (
            "volume",
            "slice_index",
            "time_index",
            "window",
            "invert",
            "plane_rotation",
            "slab_mm",
            "slab_mode",
            "interpolation",
        ):
            getattr(state.events, name).connect(self._on_state_changed)
        state.events.cursor_lps.connect(self._on_cursor_moved)
        state.events.orientation.connect(self._on_geometry_changed)
        for name in ("flip_horizontal", "flip_vertical", "rotation_quarters"):
            getattr(state.events, name).connect(self._on_geometry_changed)
        for name in ("show_overlays", "show_crosshair", "active_index"):
            getattr(self.viewer.events, name).connect(self._on_view_flag_changed)

    @property
    def left_tool(self) -> str:
        """What left-drag does (the viewer's tool)."""
        return self.viewer.left_tool

    @property
    def show_overlays(self) -> bool:
        """Whether corner text, letters and scale bar are drawn (the viewer's)."""
        return self.viewer.show_overlays

    @property
    def show_crosshair(self) -> bool:
        """Whether MPR plane lines are drawn (the viewer's)."""
        return self.viewer.show_crosshair

    @property
    def active(self) -> bool:
        """True for the viewer's active viewport (keys and tools act on it)."""
        return self.viewer.active is self.state

    def _on_any_state_edit(self, *_: object) -> None:
        self._state_generation += 1

    def settle(self) -> None:
        """Show the image as it looks once interaction stops (full, smooth), now."""
        self._smooth_later.stop()
        self._on_settled()

    def _on_settled(self) -> None:
        if self._closing or self._drag_button is not None:
            return
        self.image_item.smooth = True
        if self._stride > 1:
            self._render(coarse=False)
        self.image_item.update()

    def close(self) -> bool:
        """Stop observing the state before pyqtgraph tears the scene down."""
        self._closing = True
        self._cine.stop()
        self._smooth_later.stop()
        self.state.events.disconnect(self._on_state_changed)
        self.state.events.disconnect(self._on_geometry_changed)
        self.state.events.all.disconnect(self._on_any_state_edit)
        self.viewer.events.disconnect(self._on_view_flag_changed)
        self._reference_lines.close()
        result: bool = super().close()
        return result

    # ------------------------------------------------------------------ drawing
    def _on_state_changed(self, *_: object) -> None:
        if not self._closing:
            self.refresh(only_if_changed=True)

    def _on_cursor_moved(self, *_: object) -> None:
        # An acquired view shows the cursor only as its mark: no repaint while
        # the mark and the picture stay as they are (MPR 2×2 scrolling).
        state = self.state
        if not self._closing and (
            state.is_mpr
            or not self._rendered.same(state, self._stride)
            or self._cursor_mark.moved()
        ):
            self.refresh(only_if_changed=True)

    def _on_view_flag_changed(self, *_: object) -> None:
        if not self._closing:
            self.viewport().update()

    def _on_geometry_changed(self, *_: object) -> None:
        if self._closing:
            return
        self._fitted_for = None
        self.refresh()

    def displayed_pixels(self) -> NDArray[Any] | None:
        """The slice as shown: flipped and rotated views of the state's pixels."""
        pixels = self.state.pixels()
        if pixels is None:
            return None
        if self.state.flip_horizontal:
            pixels = pixels[:, ::-1]
        if self.state.flip_vertical:
            pixels = pixels[::-1]
        quarters = self.state.rotation_quarters % 4
        if quarters:
            pixels = np.rot90(pixels, k=-quarters, axes=(0, 1))
        return pixels

    def refresh(self, *, only_if_changed: bool = False) -> None:
        """Render the current slice into the buffer and repaint.

        ``only_if_changed``: skip the rendering when the picture's inputs (the
        slice, window, look, flips, stride) are those last rendered (another
        MPR view scrolled: only the crosshair over this image moves).

        While the image keeps changing (scroll, cine, window drag) it is scaled
        with nearest neighbour, which Qt does in a fraction of the time, and
        images of more than :data:`COARSE_MIN_PIXELS` are rendered at about
        screen resolution; a moment after the last change the full image is
        repainted smoothly.
        """
        self.image_item.smooth = False
        self._smooth_later.start()
        self._render(coarse=True, only_if_changed=only_if_changed)

    def _render(self, *, coarse: bool, only_if_changed: bool = False) -> None:
        state = self.state
        volume = state.volume
        pixels = self.displayed_pixels()
        if volume is None or pixels is None:
            self.image_item.clear()
            self._buffer = None
            self._rendered.forget()
            self._stride = 1
            self._coarse_cache = None
            self.viewport().update()
            return
        rows, columns = pixels.shape[:2]
        affine = state.pixel_to_lps()
        assert affine is not None
        (rx, dx, *_), (ry, dy, *_), (rz, dz, *_) = affine[:3].tolist()
        column_mm, row_mm = math.hypot(rx, ry, rz), math.hypot(dx, dy, dz)
        if state.rotation_quarters % 2:
            column_mm, row_mm = row_mm, column_mm
        if state.is_mpr:
            key: tuple[Any, ...] = (id(volume), state.orientation)
        else:
            key = (
                id(volume),
                rows,
                columns,
                column_mm,
                row_mm,
                state.rotation_quarters,
            )
        # Geometry first: the stride depends on the zoom after a fit.
        self.image_item.set_extent(rows, columns)
        self._shown_pixel_spacing = (column_mm, row_mm)
        self.image_item.setTransform(self._item_transform(affine, column_mm, row_mm))
        if self._fitted_for != key:
            self._fitted_for = key
            self.fit()
        stride = self._coarse_stride(rows, columns) if coarse else 1
        self._stride = stride
        if (
            only_if_changed
            and self._buffer is not None
            and self._rendered.same(state, stride)
        ):
            self.viewport().update()
            return
        if stride > 1:
            pixels = self._coarse_pixels(pixels, stride)
        shape = pixels.shape[:2]
        if self._buffer is None or self._buffer.shape != shape:
            self._buffer = np.empty(shape, dtype=np.uint32)
        display = volume.display.with_user_inversion(state.invert)
        render_slice(pixels, state.window, display=display, out=self._buffer)
        self._rendered.note(state, stride)
        self.image_item.set_buffer(self._buffer)
        self.viewport().update()

    def _coarse_pixels(self, pixels: NDArray[Any], stride: int) -> NDArray[Any]:
        """Every ``stride``-th pixel; kept as a compact copy once asked for twice.

        A window drag renders the same pixels frame after frame: from a compact
        copy, each frame reads 1/stride² of the memory a strided view touches.
        """
        interface = pixels.__array_interface__
        key = (interface["data"][0], pixels.shape, pixels.strides, stride)
        cached = self._coarse_cache
        # The entry holds the source view: its memory cannot be reused meanwhile.
        if cached is not None and cached[0] == key:
            if cached[2] is None:
                copy = np.ascontiguousarray(pixels[::stride, ::stride])
                self._coarse_cache = (key, pixels, copy)
                return copy
            return cached[2]
        self._coarse_cache = (key, pixels, None)
        return pixels[::stride, ::stride]

    def _coarse_stride(self, rows: int, columns: int) -> int:
        """Every how many pixels to render a large image while it changes (1: all).

        About one image pixel per screen pixel at the current zoom, and never
        fewer than 256 pixels a side.
        """
        if rows * columns <= COARSE_MIN_PIXELS:
            return 1
        view_width = float(self.view_box.viewRect().width())
        screen_width = float(self.view_box.width()) * self.devicePixelRatioF()
        if view_width <= 0 or screen_width <= 0:
            return 1
        pixels_per_screen_pixel = view_width / self._shown_pixel_spacing[0]
        pixels_per_screen_pixel /= screen_width
        return max(1, min(int(pixels_per_screen_pixel), min(rows, columns) // 256))

    def _item_transform(
        self, affine: NDArray[np.float64], column_mm: float, row_mm: float
    ) -> QTransform:
        """Scene = millimetres in the plane, measured from the volume's centre.

        Slices of one view (and MPR planes as the cursor moves) then stay put on
        screen; flipped or rotated X-rays are simply drawn from the origin.
        """
        state = self.state
        volume = state.volume
        transform = QTransform()
        if volume is not None and not (
            state.flip_horizontal or state.flip_vertical or state.rotation_quarters % 4
        ):
            # Plain floats: this runs on every frame of a scroll.
            (rx, dx, _, ox), (ry, dy, _, oy), (rz, dz, _, oz) = affine[:3].tolist()
            cx, cy, cz = _centre_lps(volume)
            ox, oy, oz = ox - cx, oy - cy, oz - cz
            transform.translate(
                (ox * rx + oy * ry + oz * rz) / column_mm - column_mm / 2,
                (ox * dx + oy * dy + oz * dz) / row_mm - row_mm / 2,
            )
        transform.scale(column_mm, row_mm)
        return transform

    def fit(self) -> None:
        """Fit the whole image in the viewport."""
        rect = self.image_item.mapRectToParent(self.image_item.boundingRect())
        if rect.isValid():
            self.view_box.setRange(rect=rect, padding=0.02)
        self._user_zoomed = False

    def zoom_factor(self) -> float | None:
        """Screen pixels per image pixel (1.0 is 1:1)."""
        if self._buffer is None:
            return None
        view_rect = self.view_box.viewRect()
        width_px = self.view_box.width()
        if view_rect.width() <= 0 or width_px <= 0:
            return None
        screen_per_mm = float(width_px) / float(view_rect.width())
        return float(screen_per_mm * self._shown_pixel_spacing[0])

    def actual_size(self) -> None:
        """Zoom to one screen pixel per image pixel (1:1), keeping the centre."""
        factor = self.zoom_factor()
        if factor:
            self.view_box.scaleBy((factor, factor))
            self._user_zoomed = True

    def zoom_by(self, factor: float, centre: QPointF | None = None) -> None:
        """Zoom in (factor > 1) about ``centre`` (scene point) or the view centre."""
        scale = 1.0 / factor
        self._user_zoomed = True
        if centre is None:
            self.view_box.scaleBy((scale, scale))
        else:
            self.view_box.scaleBy(
                (scale, scale), center=self.view_box.mapSceneToView(centre)
            )

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        """Black around the image only: its pixels are opaque and cover the rest."""
        brush = self.backgroundBrush()
        painter.save()
        painter.resetTransform()
        whole = self.viewport().rect()
        if self.image_item._image is None:
            painter.fillRect(whole, brush)
        else:
            shown = self.mapFromScene(self.image_item.sceneBoundingRect())
            # One pixel inside, so that no edge is left unpainted.
            inner = shown.boundingRect().adjusted(1, 1, -1, -1).intersected(whole)
            if inner.isEmpty():
                painter.fillRect(whole, brush)
            else:
                left, top = inner.left(), inner.top()
                right, bottom = inner.right() + 1, inner.bottom() + 1
                width, height = whole.width(), whole.height()
                for x, y, w, h in (
                    (0, 0, width, top),
                    (0, bottom, width, height - bottom),
                    (0, top, left, bottom - top),
                    (right, top, width - right, bottom - top),
                ):
                    if w > 0 and h > 0:
                        painter.fillRect(x, y, w, h, brush)
        painter.restore()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        """Overlays in screen pixels: corner text, orientation letters, scale bar."""
        super().drawForeground(painter, rect)
        if self._closing:
            return
        painter.save()
        painter.resetTransform()
        width, height = self.viewport().width(), self.viewport().height()
        if self.colour is not None and (
            self.state.is_mpr or self._reference_lines.wears_colour()
        ):
            # Each MPR view (and each slice drawn as a reference line) wears
            # the colour of its line in the other views.
            painter.setPen(QPen(self.colour, 3 if self.active else 1))
            painter.drawRect(1, 1, width - 2, height - 2)
        elif self.active:
            painter.setPen(QPen(QColor(42, 130, 218), 2))
            painter.drawRect(1, 1, width - 2, height - 2)
        if self.state.volume is None:
            painter.setPen(QColor(140, 140, 140))
            message = "Loading…" if self.state.loading else "Drop a series here"
            painter.drawText(
                QRectF(0, 0, width, height), Qt.AlignmentFlag.AlignCenter, message
            )
        else:
            if self.state.is_mpr and self.show_crosshair:
                self._draw_crosshair(painter)
            self._cursor_mark.paint(painter)  # an acquired slice's 3D cursor
            self._reference_lines.paint(painter)
            if not self.show_overlays:
                self._draw_annotations(painter)
            else:  # the annotations under the text, their labels clear of it
                self._overlays.paint_text(
                    painter,
                    self.viewport().rect(),
                    self.state,
                    px_per_mm=self._screen_per_mm(),
                    generation=self._state_generation,
                    zoom=self.zoom_factor(),
                    calibration=calibration_shown(self.state, self.annotations),
                    underneath=lambda: self._draw_annotations(painter),
                )
            texts = self._overlays.corner_rects if self.show_overlays else {}
            paint_key_image_badge(painter, self, texts.values())  # clear of them
        painter.restore()

    def _screen_per_mm(self) -> float:
        """Widget pixels per millimetre across the image (0 before a layout)."""
        view_width = float(self.view_box.viewRect().width())
        return float(self.view_box.width()) / view_width if view_width > 0 else 0.0

    def _corner_text(self) -> dict[str, list[str]]:
        """:func:`~imaging_viewer.core.overlay_text.corner_text` of the state,
        as the overlays show it (top corners kept per series, bottom ones per
        state edit and zoom)."""
        return self._overlays.corner_text(
            self.state,
            generation=self._state_generation,
            zoom=self.zoom_factor(),
            calibration=calibration_shown(self.state, self.annotations),
        )

    def _fitted_corners(self, width: int, margin: int) -> dict[str, tuple[str, ...]]:
        """The corner texts as drawn ``width`` pixels wide, long lines ending in
        "…" where they would meet (``margin`` is the painter's, 6 px)."""
        return self._overlays.fitted_corners(self._corner_text(), width)

    # ------------------------------------------------------------------ lesions
    def set_annotations(self, annotations: AnnotationSet) -> None:
        """Draw (and edit) this set; repaint whenever it changes."""
        previous = getattr(self, "annotations", None)
        if previous is not None:
            for signal in (
                previous.changed,
                previous.preview_changed,
                previous.selection_changed,
            ):
                signal.disconnect(self._on_annotations_changed)
        self.annotations = annotations
        self.viewport().update()
        for signal in (
            annotations.changed,
            annotations.preview_changed,
            annotations.selection_changed,
        ):
            signal.connect(self._on_annotations_changed)

    def _on_annotations_changed(self, *_: object) -> None:
        if not self._closing:
            self.viewport().update()

    def current_plane(self) -> SlicePlane | None:
        """The plane of the shown slice (acquired or MPR)."""
        affine = self.state.pixel_to_lps()
        pixels = self.state.pixels()
        if affine is None or pixels is None:
            return None
        return plane_of_slice(affine, (pixels.shape[1], pixels.shape[0]))

    def image_ref(self) -> ImageRef:
        """The image annotations drawn here refer to (PS3.3 C.7.4.1, C.12.1)."""
        return image_ref_of(self.state)

    def _slab_mm(self, plane: SlicePlane) -> float:
        return slab_of(self.state)

    def _draw_annotations(self, painter: QPainter) -> None:
        shown = shown_annotations(self.state, self.annotations)
        if shown is None or self.annotations is None:
            return
        items, plane, spacing_source = shown
        self._overlays.paint_annotations(
            painter,
            items,
            plane,
            self._widget_point,
            spacing_source=spacing_source,
            selected_id=self.annotations.selected_id,
            calibrations=self.annotations,
            roi_lines=self._roi_stats.lines,
            bounds=QRectF(self.viewport().rect()),
            clear_of_text=self.show_overlays,
        )

    def _pointer(self, kind: str, event: QMouseEvent) -> PointerEvent | None:
        point = self.lps_at(event.position())
        if point is None:
            return None
        buttons = set()
        if event.buttons() & Qt.MouseButton.LeftButton:
            buttons.add("left")
        modifiers = set()
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            modifiers.add("shift")
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            modifiers.add("control")
        return PointerEvent(kind, point, frozenset(buttons), frozenset(modifiers))  # type: ignore[arg-type]

    def _start_tool(self, event: QMouseEvent) -> None:
        annotations = self.annotations
        plane = self.current_plane()
        press = self._pointer("press", event)
        if annotations is None or plane is None or press is None:
            return
        if self._session is not None and self._session.active:
            self._session.send(press)  # a multi-click tool's next point
            return
        tool = tool_function(self.left_tool)
        lesion = self.active_lesion()
        ref = self.image_ref()
        if self.left_tool == "select":
            generator = tool(
                annotations,
                plane,
                lesion,
                press,
                slab_mm=self._slab_mm(plane),
                frame_of_reference_uid=ref.frame_of_reference_uid,
                sop_instance_uid=ref.sop_instance_uid or None,
            )
        elif self.left_tool == "text":
            text = self.ask_text()
            if not text:
                return
            generator = tool(annotations, plane, lesion, press, text=text, image=ref)
        elif self.left_tool == "calibrate":
            ask = self.ask_length_mm
            generator = tool(
                annotations, plane, None, press, image=ref, ask_length_mm=ask
            )
        else:
            generator = tool(annotations, plane, lesion, press, image=ref)
        self._session = DragSession(generator)

    def _feed_tool(self, kind: str, event: QMouseEvent) -> None:
        if self._session is None or not self._session.active:
            return
        pointer = self._pointer(kind, event)
        if pointer is not None:
            self._session.send(pointer)

    def cancel_tool(self) -> None:
        """Drop a drawing in progress (Escape)."""
        if self._session is not None:
            self._session.cancel()
            self._session = None
        if self.annotations is not None:
            self.annotations.set_preview(None)

    # ------------------------------------------------------------------ MPR
    def _widget_point(self, column: float, row: float) -> QPointF:
        """Widget position of a point given in (fractional) pixel-centre coordinates."""
        scene = self.image_item.mapToScene(QPointF(column + 0.5, row + 0.5))
        point: QPointF = self.viewportTransform().map(scene)  # sub-pixel precision
        return point

    def _pixel_of_lps(
        self, point_lps: NDArray[np.float64]
    ) -> tuple[float, float] | None:
        affine = self.state.pixel_to_lps()
        if affine is None:
            return None
        solved = np.linalg.solve(affine[:3, :3], np.asarray(point_lps) - affine[:3, 3])
        return float(solved[0]), float(solved[1])

    def lps_at(self, position: QPointF) -> NDArray[np.float64] | None:
        """The LPS point (mm) under a widget position, on the shown plane."""
        affine = self.state.pixel_to_lps()
        if affine is None:
            return None
        # Sub-pixel precision: mapToScene takes only integer widget points.
        scene = self.viewportTransform().inverted()[0].map(position)
        point = self.image_item.mapFromScene(scene)
        pixel = np.array([point.x() - 0.5, point.y() - 0.5, 0.0, 1.0])
        result: NDArray[np.float64] = (affine @ pixel)[:3]
        return result

    def _crosshair_lines(self) -> list[tuple[ViewportState, QColor, QPointF, QPointF]]:
        """(sibling, colour, cursor point, unit screen direction) of each plane line."""
        state = self.state
        plane = state.plane()
        if plane is None or state.cursor_lps is None or self.siblings is None:
            return []
        pixel = self._pixel_of_lps(np.asarray(state.cursor_lps))
        if pixel is None:
            return []
        centre = self._widget_point(*pixel)
        column_mm, row_mm = self._shown_pixel_spacing
        lines = []
        for sibling, colour in self.siblings():
            other = sibling.plane()
            if other is None:
                continue
            direction = np.cross(plane.normal_lps, other.normal_lps)
            if np.linalg.norm(direction) < 1e-6:
                continue
            step = QPointF(
                float(direction @ plane.right_lps) / column_mm,
                float(direction @ plane.down_lps) / row_mm,
            )
            ahead = self._widget_point(
                pixel[0] + step.x() * 10, pixel[1] + step.y() * 10
            )
            screen = ahead - centre
            length = math.hypot(screen.x(), screen.y()) or 1.0
            lines.append(
                (
                    sibling,
                    colour,
                    centre,
                    QPointF(screen.x() / length, screen.y() / length),
                )
            )
        return lines

    def _draw_crosshair(self, painter: QPainter) -> None:
        lines = [
            (colour, centre, unit)
            for _, colour, centre, unit in self._crosshair_lines()
        ]
        self._overlays.paint_crosshair(
            painter, lines, reach=4.0 * (self.width() + self.height())
        )

    def _start_crosshair_drag(self, position: QPointF) -> None:
        """Near a plane line (away from the centre): rotate that plane; else move
        the cursor here."""
        self._rotating = None
        for sibling, _, centre, unit in self._crosshair_lines():
            offset = position - centre
            along = offset.x() * unit.x() + offset.y() * unit.y()
            across = abs(offset.x() * unit.y() - offset.y() * unit.x())
            if across < 8 and abs(along) > 30:
                start = sibling.plane_rotation
                matrix = np.eye(3) if start is None else np.asarray(start).reshape(3, 3)
                angle = math.atan2(offset.y(), offset.x())
                self._rotating = (sibling, matrix, angle)
                sibling.interpolation = "nearest"
                return
        self._move_cursor(position)

    def _move_cursor(self, position: QPointF) -> None:
        point = self.lps_at(position)
        if point is not None:
            self.state.place_cursor(point)  # the viewer moves the other views

    def _drag_crosshair(self, position: QPointF) -> None:
        if self._rotating is None:
            self._move_cursor(position)
            return
        sibling, start, start_angle = self._rotating
        plane = self.state.plane()
        pixel = self._pixel_of_lps(np.asarray(self.state.cursor_lps))
        if plane is None or pixel is None:
            return
        offset = position - self._widget_point(*pixel)
        angle = math.atan2(offset.y(), offset.x()) - start_angle
        # Screen angles grow from right toward down, which is a positive turn
        # about right × down, the plane normal.
        turned = rotation_about(plane.normal_lps, angle) @ start
        sibling.plane_rotation = tuple(float(v) for v in turned.ravel())
        sibling.sync_index_to_cursor()

    def _end_crosshair_drag(self) -> None:
        if self._rotating is not None:
            self._rotating[0].interpolation = "linear"
        self._rotating = None

    # ------------------------------------------------------------------ input
    def wheelEvent(self, event: QWheelEvent) -> None:
        """Wheel scrolls slices; Ctrl+wheel zooms about the cursor."""
        steps = event.angleDelta().y() / 120
        if self.mouse.wheel(event):
            pass
        elif event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoom_by(1.15**steps, self.mapToScene(event.position().toPoint()))
        elif steps:
            self._scroll(-int(math.copysign(max(1, abs(round(steps))), steps)))
        event.accept()

    def _scroll(self, steps: int) -> None:
        """Move ``steps`` slices (time points when there is one slice); linked
        viewports follow (the viewer's doing)."""
        if self.state.volume is None:
            return
        if self.state.n_slices == 1 and self.state.n_time_points > 1:
            self.state.set_time(self.state.time_index + steps)
        else:
            self.state.scroll(steps)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        """Start a drag: window (right, or left with the window tool), pan or zoom."""
        self.activated.emit()
        self.setFocus()
        self._drag_button = event.button()
        self._drag_start = event.position()
        self._drag_window = self.state.editable_window()
        pixels = self.state.pixels()
        if (
            pixels is not None
            and pixels.size
            and not (self.state.volume and self.state.volume.is_rgb)
        ):
            sample = pixels[
                :: max(1, pixels.shape[0] // 64), :: max(1, pixels.shape[1] // 64)
            ]
            self._drag_value_range = float(np.ptp(sample)) or 1.0
        self.image_item.smooth = False
        mode = self._mode_for(event.button())
        self._cursor_at_press.forget()
        if self.mouse.press(event):
            pass
        elif mode == "crosshair":
            self._cursor_at_press.remember(self.viewer)  # a double-click undoes it
            self._start_crosshair_drag(event.position())
        elif mode in TOOLS:
            self._start_tool(event)
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        """Double-click (left, no drawing under way): this view fills the grid
        alone, or gives the others back."""
        drawing = self._session is not None and self._session.active
        if event.button() == Qt.MouseButton.LeftButton and not drawing:
            self._cursor_at_press.restore(self.viewer)  # its first press moved it
            viewports = self.viewer.viewports
            if self.state in viewports and self.viewer.visible_count > 1:
                self.viewer.toggle_maximized(viewports.index(self.state))
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        """Drag in progress, or hover: probe the pixel under the cursor."""
        position = event.position()
        if self._drag_button is None:
            self._probe(position)
            self._feed_tool("move", event)  # multi-click tools follow the pointer
            return
        if self.mouse.move(event):
            event.accept()
            return
        delta = position - self._drag_start
        mode = self._mode_for(self._drag_button)
        if mode == "window" and self._drag_window is not None:
            window = drag_window(
                self._drag_window,
                delta.x(),
                delta.y(),
                value_range=self._drag_value_range,
            )
            self.state.set_window(window)
        elif mode == "pan":
            self._pan(delta)
            self._drag_start = position
        elif mode == "zoom":
            self.zoom_by(1.01 ** (-delta.y()))
            self._drag_start = position
        elif mode == "crosshair":
            self._drag_crosshair(position)
        elif mode in TOOLS:
            self._feed_tool("move", event)
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        """End a drag (a right click: the context menu); repaint smoothly."""
        if self.mouse.release(event):
            pass
        elif self._drag_button is not None:
            mode = self._mode_for(self._drag_button)
            if mode == "crosshair":
                self._end_crosshair_drag()
            elif mode in TOOLS:
                self._feed_tool("release", event)
        self._drag_button = None
        self._smooth_later.start()
        event.accept()

    def _mode_for(self, button: Qt.MouseButton) -> str:
        return self.mouse.mode_for(button)

    def _pan(self, delta: QPointF) -> None:
        view_rect = self.view_box.viewRect()
        if self.view_box.width() <= 0:
            return
        mm_per_px = view_rect.width() / self.view_box.width()
        self._user_zoomed = True
        self.view_box.translateBy(x=-delta.x() * mm_per_px, y=-delta.y() * mm_per_px)

    def _probe(self, position: QPointF) -> None:
        pixels = self.displayed_pixels()
        if pixels is None:
            return
        point = self.image_item.mapFromScene(self.mapToScene(position.toPoint()))
        column, row = math.floor(point.x()), math.floor(point.y())
        rows, columns = pixels.shape[:2]
        if not (0 <= row < rows and 0 <= column < columns):
            self.probed.emit("")
            return
        value = pixels[row, column]
        original = self._original_pixel(column, row, rows, columns)
        affine = self.state.pixel_to_lps()
        text = f"({original[0]}, {original[1]})  value {_format_value(value)}"
        volume = self.state.volume
        if volume is not None and volume.modality == "CT" and not volume.is_rgb:
            text += " HU"
        if affine is not None and volume is not None and not volume.is_projection:
            lps = affine @ np.array([original[0], original[1], 0.0, 1.0])
            text += f"   LPS ({lps[0]:.1f}, {lps[1]:.1f}, {lps[2]:.1f}) mm"
        self.probed.emit(text)

    def _original_pixel(
        self, column: int, row: int, rows: int, columns: int
    ) -> tuple[int, int]:
        """Undo rotation and flips: shown (column, row) to stored (column, row)."""
        quarters = self.state.rotation_quarters % 4
        for _ in range(quarters):
            # Shown = rot90 clockwise of the previous; step back one turn.
            column, row = row, columns - 1 - column
            rows, columns = columns, rows
        if self.state.flip_vertical:
            row = rows - 1 - row
        if self.state.flip_horizontal:
            column = columns - 1 - column
        return column, row

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """The viewport keys of the action table, pressed without a modifier
        (Alt+A is an annotation tool, not A); others go to the view."""
        modifiers = int(event.modifiers().value) & ~_KEYPAD
        action = None if modifiers else viewport_action(int(event.key()))
        if action is None or action.on_viewport is None:
            super().keyPressEvent(event)
            return
        action.on_viewport(self)
        event.accept()

    def toggle_cine(self) -> None:
        """Play or stop cine: time points when there are several, else slices."""
        if self._cine.isActive():
            self._cine.stop()
        elif self.state.volume is not None:
            self._cine.start()

    def set_cine_rate(self, frames_per_second: float) -> None:
        """Cine speed: 1 to 60 frames a second."""
        self._cine.setInterval(round(1000 / max(1.0, min(60.0, frames_per_second))))

    @property
    def cine_running(self) -> bool:
        """True while cine plays."""
        return self._cine.isActive()

    def _on_cine_tick(self) -> None:
        state = self.state
        if state.volume is None:
            self._cine.stop()
        elif state.n_time_points > 1:
            index, count = state.time_index, state.n_time_points
            index, self._cine_step = next_cine_frame(
                index, count, self._cine_step, self.cine_mode
            )
            state.set_time(index)
        else:
            index, self._cine_step = next_cine_frame(
                state.slice_index, state.n_slices, self._cine_step, self.cine_mode
            )
            state.set_slice(index)

    def focusInEvent(self, event: Any) -> None:
        """Focus makes this the active viewport."""
        self.activated.emit()
        super().focusInEvent(event)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept series dragged from the series browser."""
        if event.mimeData().hasFormat(SERIES_MIME_TYPE):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: Any) -> None:
        """Keep accepting a series drag over the viewport."""
        if event.mimeData().hasFormat(SERIES_MIME_TYPE):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        """A series dropped here opens here."""
        data = event.mimeData().data(SERIES_MIME_TYPE)
        series_id = bytes(data.data()).decode("utf-8")
        self.activated.emit()
        self.series_dropped.emit(series_id)
        event.acceptProposedAction()

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Keep the image fitted until the user zooms."""
        super().resizeEvent(event)
        if self._closing:
            return
        if getattr(self, "_buffer", None) is not None and not self._user_zoomed:
            self.fit()

    def paintEvent(self, event: QPaintEvent) -> None:
        """Paint (the image item and the overlays)."""
        super().paintEvent(event)


_KEYPAD: Final[int] = int(Qt.KeyboardModifier.KeypadModifier.value)
"""Digits of the number pad are the same keys."""


def _centre_lps(volume: Volume) -> list[float]:
    """LPS of the volume's central voxel position, as floats."""
    k, j, i = volume.shape_kji
    ci, cj, ck = (i - 1) / 2, (j - 1) / 2, (k - 1) / 2
    rows = volume.ijk_to_lps[:3].tolist()
    return [a * ci + b * cj + c * ck + t for a, b, c, t in rows]


def _format_value(value: Any) -> str:
    array = np.asarray(value)
    if array.ndim:
        return "RGB(" + ", ".join(str(int(v)) for v in array) + ")"
    if array.dtype.kind == "f":
        return f"{float(array):.4g}"
    return str(int(array))
