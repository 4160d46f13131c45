"""ViewerState: the single source of truth the viewer window observes and edits."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from psygnal import SignalGroupDescriptor

from imaging_viewer.core.dicom.patient_identity import same_patient
from imaging_viewer.core.geometry import orientation_label
from imaging_viewer.core.linked_cursor import linked_cursor, place_mapped_plane
from imaging_viewer.core.mpr import (
    Slice,
    SlicePlane,
    plane_for,
    reslice,
    slice_step_mm,
    snapped_to_voxels,
)
from imaging_viewer.core.render import CT_PRESETS, auto_window, window_from_voi_lut

if TYPE_CHECKING:
    from collections.abc import Iterator

    from numpy.typing import NDArray

    from imaging_viewer.core.annotations.model import AnnotationSet
    from imaging_viewer.core.dicom.series import SeriesInfo
    from imaging_viewer.core.geometry import Affine, Vec3
    from imaging_viewer.core.tools.pointer import ImageRef
    from imaging_viewer.core.volume import VoiLut, Volume, Window

LAYOUTS: dict[str, tuple[int, int]] = {
    "1x1": (1, 1),
    "1x2": (1, 2),
    "2x1": (2, 1),
    "2x2": (2, 2),
    "mpr": (1, 3),
}
"""Viewport grids by name: (rows, columns)."""
Cell = tuple[int, int, int, int]
"""Where a viewport sits in the grid: (row, column, row span, column span)."""
MPR_LAYOUTS: dict[str, tuple[Cell, ...]] = {
    "1x3": ((0, 0, 1, 1), (0, 1, 1, 1), (0, 2, 1, 1)),
    "2x2": ((0, 0, 1, 1), (0, 1, 1, 1), (1, 0, 1, 1), (1, 1, 1, 1)),
    "1+2": ((0, 0, 2, 2), (0, 2, 1, 1), (1, 2, 1, 1)),
}
"""MPR arrangements of the axial, coronal and sagittal views: side by side;
2×2 with the acquired slices fourth; one large (two thirds wide) and two small."""
SHARED_BY_MPR_VIEWS: tuple[str, ...] = (
    "time_index",
    "window",
    "window_label",
    "header_window_index",
    "invert",
)
"""What the MPR views of one volume show alike: a change in one is made in the
others (one time point of a 4D volume, one grey scale for its three planes)."""


@dataclass
class ViewportState:
    """What one viewport shows: a series, its slice and time point, and how.

    ``window`` is a :class:`Window` or a header :class:`VoiLut`;
    ``window_label`` says where it came from (header, preset, auto, manual).
    """

    events: ClassVar[SignalGroupDescriptor] = SignalGroupDescriptor()
    """One psygnal signal per field, emitted when it changes."""

    series: SeriesInfo | None = None
    volume: Volume | None = None
    slice_index: int = 0
    time_index: int = 0
    window: Window | VoiLut | None = None
    window_label: str = ""
    header_window_index: int = 0
    invert: bool = False
    flip_horizontal: bool = False
    flip_vertical: bool = False
    rotation_quarters: int = 0
    """Clockwise quarter turns of the image on screen (X-ray display)."""
    loading: bool = False
    orientation: str = "acquired"
    """``acquired`` shows the volume's own slices; ``axial``, ``coronal`` and
    ``sagittal`` show reformatted planes through ``cursor_lps`` (MPR)."""
    cursor_lps: tuple[float, float, float] | None = None
    """The 3D cursor (LPS mm) an MPR plane passes through."""
    plane_rotation: tuple[float, ...] | None = None
    """Row-major 3×3 rotation of an oblique MPR plane about the cursor."""
    slab_mm: float = 0.0
    """Thick-slab thickness (0: a thin plane)."""
    slab_mode: str = "mip"
    """``mip``, ``minip`` or ``mean``."""
    interpolation: str = "linear"
    """``linear``, or ``nearest`` while a plane is being dragged."""

    def __post_init__(self) -> None:
        # The cached slices hold views of the voxels: they go with the volume.
        self.events.volume.connect(self._forget_slices)

    def _forget_slices(self) -> None:
        object.__setattr__(self, "_cache", None)
        object.__setattr__(self, "_acquired", None)

    @property
    def is_mpr(self) -> bool:
        """True when showing a reformatted plane rather than the acquired slices."""
        return self.orientation != "acquired" and self.volume is not None

    @property
    def n_slices(self) -> int:
        """Slices to scroll through: acquired slices, or plane positions (MPR)."""
        if self.volume is None:
            return 1
        if self.is_mpr:
            return self._mpr_range()[2]
        return self.volume.shape_kji[0]

    @property
    def n_time_points(self) -> int:
        """Time points or cine frames (1 when empty)."""
        return self.volume.n_time_points if self.volume is not None else 1

    def show(self, series: SeriesInfo | None, volume: Volume | None) -> None:
        """Show a volume (or a preview) from its middle slice, in its default window.

        Not a scroll: linked viewports stay where they are.
        """
        object.__setattr__(self, "_showing", True)
        try:
            self._show(series, volume)
        finally:
            object.__setattr__(self, "_showing", False)

    _showing = False
    """True while :meth:`show` sets the slice of a newly shown volume."""

    def _show(self, series: SeriesInfo | None, volume: Volume | None) -> None:
        # Same series again (a preview replaced by the full volume): keep the
        # reader's slice and window; anything else starts afresh.
        keep_position = (
            self.volume is not None
            and self.series is not None
            and series is not None
            and self.series.id == series.id
        )
        if volume is None:
            self.series = series
            self.volume = None
            return
        if (
            not keep_position
            and self.orientation != "acquired"
            and acquired_first(series)
        ):
            # A sparse stack never opens on an interpolated plane: MPR only
            # when asked for (issue 15 item 5).
            self.orientation = "acquired"
            self.plane_rotation = None
            self.slab_mm = 0.0
        n_slices, n_times = volume.shape_kji[0], volume.n_time_points
        if keep_position:
            slice_index = min(self.slice_index, n_slices - 1)
            time_index = min(self.time_index, n_times - 1)
        else:
            slice_index, time_index = n_slices // 2, 0
        self.series = series
        self.volume = volume
        self.slice_index = slice_index
        self.time_index = time_index
        if not keep_position:
            self.reset_window()
            if self.orientation == "acquired":
                self.cursor_lps = None  # another volume: no stale cursor mark

    def pixels(self) -> NDArray[Any] | None:
        """The shown slice ``[row, column]`` (``[row, column, 3]`` for RGB)."""
        current = self.current_slice()
        return None if current is None else current.pixels

    def pixel_to_lps(self) -> Affine | None:
        """Maps (column, row, 0, 1) of the shown slice to LPS (PS3.3 C.7.6.2.1.1).

        The third column is the step to the next slice along the normal.
        """
        current = self.current_slice()
        return None if current is None else current.pixel_to_lps

    def current_slice(self) -> Slice | None:
        """The shown slice with its placement: acquired pixels (a view), or an
        MPR plane through the cursor. Cached until what it depends on changes.

        Indices are clamped: observers of ``volume`` may run before the indices
        are set for a new volume.
        """
        volume = self.volume
        if volume is None:
            return None
        time = min(self.time_index, volume.n_time_points - 1)
        if not self.is_mpr:
            voxels = volume.time_point(time).voxels
            k = min(self.slice_index, voxels.shape[0] - 1)
            acquired = self._acquired
            # A frame asks several times: the same view of the same array.
            if (
                acquired is not None
                and acquired[0] is voxels
                and acquired[1] is volume.ijk_to_lps
                and acquired[2] == k
            ):
                return acquired[3]
            affine = volume.ijk_to_lps.copy()
            positions = volume.slice_positions_lps
            if positions is not None and len(positions) == voxels.shape[0]:
                affine[:3, 3] = positions[k]  # a sparse stack: each image's own
            else:
                affine[:3, 3] = affine[:3, 3] + affine[:3, 2] * k
            affine.flags.writeable = False  # shared by every caller until k changes
            shown = Slice(voxels[k], affine)
            object.__setattr__(self, "_acquired", (voxels, volume.ijk_to_lps, k, shown))
            return shown
        key = (
            id(volume),
            self.orientation,
            self.cursor_lps,
            self.plane_rotation,
            time,
            self.slab_mm,
            self.slab_mode,
            self.interpolation,
        )
        cached = self._cache
        if cached is not None and cached[0] == key:
            return cached[2]
        plane = self.plane()
        assert plane is not None
        # The plane, not the cursor, decides the pixels: moving the cursor
        # within the plane (another view scrolls) keeps the resliced slice.
        plane_key = (key[0], *key[4:], _plane_key(plane))
        if cached is not None and cached[1] == plane_key:
            object.__setattr__(self, "_cache", (key, plane_key, cached[2]))
            return cached[2]
        result = reslice(
            volume,
            plane,
            time_index=time,
            interpolation=self.interpolation,
            slab_mm=self.slab_mm,
            slab_mode=self.slab_mode,
        )
        affine = result.pixel_to_lps.copy()
        affine[:3, 2] = plane.normal_lps * slice_step_mm(volume, plane)
        affine.flags.writeable = False  # shared by every caller until the plane moves
        current = Slice(result.pixels, affine)
        object.__setattr__(self, "_cache", (key, plane_key, current))
        return current

    _cache = None  # (state key, plane key, Slice) of the last MPR plane
    _acquired = None  # (voxels, ijk_to_lps, k, Slice) of the last acquired slice

    def plane(self) -> SlicePlane | None:
        """The MPR plane through the cursor (None when not in MPR)."""
        volume = self.volume
        if volume is None or not self.is_mpr:
            return None
        cursor = self.cursor_lps or _volume_centre(volume)
        rotation = None
        if self.plane_rotation is not None:
            rotation = np.asarray(self.plane_rotation, dtype=np.float64).reshape(3, 3)
        plane = plane_for(volume, self.orientation, cursor, rotation)
        if rotation is None:
            # Straight planes sit on voxel centres: the voxels, not a blend.
            plane = snapped_to_voxels(volume, plane)
        return plane

    def _mpr_range(self) -> tuple[float, float, int]:
        """(lowest distance along the normal, step, positions) of the volume."""
        volume = self.volume
        plane = self.plane()
        assert volume is not None
        assert plane is not None
        normal = plane.normal_lps
        step = slice_step_mm(volume, plane)
        k, j, i = volume.shape_kji
        corners = np.array(
            [[a, b, c, 1.0] for a in (0, i - 1) for b in (0, j - 1) for c in (0, k - 1)]
        )
        distances = (corners @ volume.ijk_to_lps.T)[:, :3] @ normal
        low, high = float(distances.min()), float(distances.max())
        return low, step, int(np.floor((high - low) / step + 1e-6)) + 1

    def mpr_index(self) -> int:
        """Which plane position (0-based) the cursor is at, along the normal."""
        plane = self.plane()
        if plane is None or self.volume is None:
            return self.slice_index
        low, step, count = self._mpr_range()
        cursor = np.asarray(self.cursor_lps or _volume_centre(self.volume))
        index = round((float(cursor @ plane.normal_lps) - low) / step)
        return int(np.clip(index, 0, count - 1))

    def move_cursor_to_index(self, index: int) -> None:
        """Move the cursor along this plane's normal to plane position ``index``."""
        plane = self.plane()
        volume = self.volume
        if plane is None or volume is None:
            return
        low, step, count = self._mpr_range()
        index = int(np.clip(index, 0, count - 1))
        cursor = np.asarray(self.cursor_lps or _volume_centre(volume), dtype=np.float64)
        target = low + index * step
        cursor = cursor + (target - float(cursor @ plane.normal_lps)) * plane.normal_lps
        self.cursor_lps = (float(cursor[0]), float(cursor[1]), float(cursor[2]))
        self.slice_index = index

    def oblique_angle_deg(self) -> float | None:
        """How far an oblique MPR plane is turned from its straight plane
        (the angle between their normals), or None when straight."""
        rotation = self.plane_rotation
        if rotation is None or not self.is_mpr:
            return None
        normal = _STRAIGHT_NORMALS.get(self.orientation)
        if normal is None:
            return None
        matrix = np.asarray(rotation, dtype=np.float64).reshape(3, 3)
        cosine = abs(float(np.asarray(normal) @ matrix @ np.asarray(normal)))
        angle = float(np.degrees(np.arccos(min(1.0, cosine))))
        return angle if angle >= 0.05 else None

    def place_cursor(self, position_lps: NDArray[np.float64]) -> None:
        """Put this MPR view's 3D cursor at ``position_lps``; the viewer moves
        the other views of the volume along (:meth:`ViewerState.sync_linked`)."""
        self.cursor_lps = (
            float(position_lps[0]),
            float(position_lps[1]),
            float(position_lps[2]),
        )
        self.sync_index_to_cursor()

    def sync_index_to_cursor(self) -> None:
        """After the cursor moved elsewhere: the slice number of this MPR view."""
        if self.is_mpr:
            self.slice_index = self.mpr_index()

    def slice_position_lps(self) -> Vec3 | None:
        """LPS position of the first voxel of the shown slice."""
        affine = self.pixel_to_lps()
        return None if affine is None else affine[:3, 3]

    def set_slice(self, index: int) -> None:
        """Go to slice ``index``, clamped to the volume (MPR: moves the cursor)."""
        if self.is_mpr:
            self.move_cursor_to_index(index)
            return
        self.slice_index = max(0, min(int(index), self.n_slices - 1))

    def scroll(self, steps: int) -> None:
        """Move ``steps`` slices (negative: back)."""
        self.set_slice(self.slice_index + steps)

    def set_time(self, index: int) -> None:
        """Go to time point (cine frame) ``index``, wrapping around."""
        self.time_index = int(index) % self.n_time_points

    def reset_window(self) -> None:
        """The header's first window, else its VOI LUT, else auto."""
        volume = self.volume
        if volume is None:
            return
        display = volume.display
        self.header_window_index = 0
        if display.windows:
            self._set_window(display.windows[0], self._header_label(0))
        elif display.voi_luts:
            self._set_window(display.voi_luts[0], "header VOI LUT")
        else:
            self.apply_auto_window()

    def _header_label(self, index: int) -> str:
        assert self.volume is not None
        windows = self.volume.display.windows
        explanation = windows[index].explanation
        label = f"header {index + 1}/{len(windows)}"
        return f"{label} {explanation}".strip()

    def _set_window(self, window: Window | VoiLut, label: str) -> None:
        self.window = window
        self.window_label = label

    def cycle_header_window(self) -> None:
        """Next window of the header (Window Center/Width values, then VOI LUTs)."""
        if self.volume is None:
            return
        display = self.volume.display
        choices: list[tuple[Window | VoiLut, str]] = [
            (w, self._header_label(n)) for n, w in enumerate(display.windows)
        ]
        choices += [
            (lut, f"header VOI LUT {n + 1} {lut.explanation}".strip())
            for n, lut in enumerate(display.voi_luts)
        ]
        if not choices:
            self.apply_auto_window()
            return
        self.header_window_index = (self.header_window_index + 1) % len(choices)
        self._set_window(*choices[self.header_window_index])

    def apply_auto_window(self) -> None:
        """A window from the histogram of the shown slice."""
        pixels = self.pixels()
        if pixels is None or (self.volume is not None and self.volume.is_rgb):
            return
        self._set_window(auto_window(pixels), "auto")

    def apply_preset(self, name: str) -> None:
        """A named CT window (PS3.3 C.11.2.1.2 values; DOMAIN presets)."""
        self._set_window(CT_PRESETS[name], f"preset {name}")

    def set_window(self, window: Window, label: str = "manual") -> None:
        """Set a window chosen by the user (drag, typed values)."""
        self._set_window(window, label)

    def editable_window(self) -> Window | None:
        """The current window as a Window (a VOI LUT is approximated) for dragging."""
        from imaging_viewer.core.volume import VoiLut, Window

        if isinstance(self.window, VoiLut):
            return window_from_voi_lut(self.window)
        if isinstance(self.window, Window):
            return self.window
        return None

    def screen_axes_lps(self) -> tuple[Vec3, Vec3] | None:
        """LPS directions of screen right and screen down, after flips and rotation."""
        affine = self.pixel_to_lps()
        if affine is None:
            return None
        right = affine[:3, 0] / (np.linalg.norm(affine[:3, 0]) or 1.0)
        down = affine[:3, 1] / (np.linalg.norm(affine[:3, 1]) or 1.0)
        if self.flip_horizontal:
            right = -right
        if self.flip_vertical:
            down = -down
        for _ in range(self.rotation_quarters % 4):
            # A clockwise quarter turn: what pointed down now points left.
            right, down = -down, right
        return right, down

    def orientation_letters(self) -> dict[str, str]:
        """Letters at the middle of each edge: ``left``, ``right``, ``top``, ``bottom``.

        Empty for images whose orientation is unknown (PS3.3 C.7.6.1.1.1 and
        C.7.6.2.1.1 give it).
        """
        axes = self.screen_axes_lps()
        series = self.series
        if axes is None or (series is not None and not series.orientation_source):
            return {}
        right, down = axes
        return {
            "left": orientation_label(-right),
            "right": orientation_label(right),
            "top": orientation_label(-down),
            "bottom": orientation_label(down),
        }


def _same_patient(a: ViewportState, b: ViewportState) -> bool:
    """True unless both viewports show a series and they are of two patients."""
    if a.series is None or b.series is None:
        return True
    return same_patient(
        (a.series.patient_id, a.series.patient_name),
        (b.series.patient_id, b.series.patient_name),
    )


@dataclass
class ViewerState:
    """The viewer: a grid of viewports, which is active, and how they are linked.

    The only home of view state: keys, menus and tool bar write it, viewport
    widgets read it when they paint. When a shown viewport's slice or 3D cursor
    changes, the viewer itself brings the linked viewports along
    (:meth:`sync_linked`).
    """

    events: ClassVar[SignalGroupDescriptor] = SignalGroupDescriptor()
    """One psygnal signal per field, emitted when it changes."""

    layout: str = "1x1"
    active_index: int = 0
    link_scrolling: bool = True
    show_overlays: bool = True
    """Corner text, orientation letters and scale bar over each image."""
    show_crosshair: bool = True
    """The coloured plane lines of the other MPR views."""
    show_reference_lines: bool = True
    """Each shown slice as a line on the other viewports' images of its frame
    of reference (localizers included), and thick slabs' faces dashed."""
    mpr_layout: str = "1x3"
    """How the MPR views are arranged: a key of :data:`MPR_LAYOUTS`."""
    maximized_index: int | None = None
    """The viewport filling the grid on its own (double-click), or None."""
    left_tool: str = "window"
    """What left-drag does: ``window``, ``pan``, ``zoom``, ``crosshair`` or an
    annotation tool (``ruler``, ``arrow``, ...)."""
    viewports: tuple[ViewportState, ...] = field(
        default_factory=lambda: tuple(ViewportState() for _ in range(4))
    )
    active_lesion_id: str | None = None
    """New annotations go to this lesion; None starts a new lesion."""

    def __post_init__(self) -> None:
        self._annotations: AnnotationSet | None = None
        self._linking = 0
        """Above 0 while viewports are being brought along (or must stay)."""
        self._frame_transforms: dict[tuple[str, str], NDArray[np.float64]] = {}
        """(from frame, to frame) → 4×4 LPS map, from a registration."""
        for index, viewport in enumerate(self.viewports):
            for name in SHARED_BY_MPR_VIEWS:
                getattr(viewport.events, name).connect(
                    partial(self._share_with_mpr_views, viewport, name)
                )
            viewport.events.slice_index.connect(partial(self._on_viewport_moved, index))
            viewport.events.cursor_lps.connect(partial(self._on_viewport_moved, index))
        self.events.link_scrolling.connect(self._on_link_scrolling)
        self.events.layout.connect(self._on_layout_changed)

    def _on_layout_changed(self, *_: object) -> None:
        self.maximized_index = None

    def _on_viewport_moved(self, index: int, *_: object) -> None:
        """A shown viewport went to another slice or cursor: the others follow
        (not while they are being brought along, nor for a newly shown volume)."""
        if self._linking or index >= self.visible_count:
            return
        if self.viewports[index]._showing:
            return
        self.sync_linked(index)

    def _on_link_scrolling(self, linked: bool) -> None:
        if linked:
            self.sync_linked(self.active_index)

    @contextmanager
    def unlinked(self) -> Iterator[None]:
        """Slice and cursor changes made inside move no other viewport (a
        series opening on its own slice, say)."""
        self._linking += 1
        try:
            yield
        finally:
            self._linking -= 1

    def toggle_overlays(self) -> None:
        """Show or hide the overlays of every viewport."""
        self.show_overlays = not self.show_overlays

    def toggle_crosshair(self) -> None:
        """Show or hide the MPR plane lines."""
        self.show_crosshair = not self.show_crosshair

    def toggle_reference_lines(self) -> None:
        """Show or hide the reference lines."""
        self.show_reference_lines = not self.show_reference_lines

    def toggle_link(self) -> None:
        """Link or unlink scrolling (linking brings the others to the active one)."""
        self.link_scrolling = not self.link_scrolling

    def _share_with_mpr_views(self, source: ViewportState, name: str) -> None:
        """Give the other MPR views of the source's volume its new ``name``."""
        if not source.is_mpr:
            return
        value = getattr(source, name)
        for viewport in self.viewports:
            if viewport is source or not viewport.is_mpr:
                continue
            if viewport.volume is not source.volume:
                continue
            current = getattr(viewport, name)
            # Identity first: a VOI LUT holds arrays, which do not compare.
            if current is value or (isinstance(value, int | str) and current == value):
                continue
            setattr(viewport, name, value)

    @property
    def annotations(self) -> AnnotationSet:
        """The lesions and their annotations of the open study (LPS mm).

        Made on first use: the annotation model (16 dataclasses, about 15 ms
        to define on Python 3.11) is not needed before the first paint.
        """
        if self._annotations is None:
            from imaging_viewer.core.annotations.model import AnnotationSet

            self._annotations = AnnotationSet()
        return self._annotations

    @annotations.setter
    def annotations(self, annotation_set: AnnotationSet) -> None:
        """Edit another set (another study's); whoever draws it is told by the
        caller (the window re-points its viewports and panel)."""
        self._annotations = annotation_set

    def go_to_annotation(self, annotation_id: str) -> None:
        """Bring the active viewport to an annotation (its nearest slice, or the
        MPR cursor to its centre), select it, and bring linked viewports along."""
        annotation = self.annotations.annotation(annotation_id)
        point = np.asarray(annotation.points_lps.mean(axis=0), dtype=np.float64)
        viewport = self.active
        if viewport.volume is None:
            return
        if viewport.is_mpr:
            self.set_cursor(point, self.active_index)
        else:
            target = nearest_slice(viewport.volume, point)
            if target is not None:
                viewport.set_slice(target)
        self.annotations.select(annotation_id)
        self.sync_linked(self.active_index)

    @property
    def cells(self) -> tuple[Cell, ...]:
        """Where each viewport of the layout sits, in viewport order."""
        if self.layout == "mpr":
            return MPR_LAYOUTS.get(self.mpr_layout, MPR_LAYOUTS["1x3"])
        rows, columns = LAYOUTS[self.layout]
        return tuple((n // columns, n % columns, 1, 1) for n in range(rows * columns))

    @property
    def grid(self) -> tuple[int, int]:
        """(rows, columns) of the layout."""
        cells = self.cells
        return (
            max(row + height for row, _, height, _ in cells),
            max(column + width for _, column, _, width in cells),
        )

    @property
    def visible_count(self) -> int:
        """Viewports shown by the layout."""
        return len(self.cells)

    def toggle_maximized(self, index: int) -> None:
        """Let viewport ``index`` fill the grid alone, or give the others back."""
        if self.maximized_index is None and index < self.visible_count:
            self.maximized_index = index
        else:
            self.maximized_index = None

    def set_mpr_layout(self, name: str) -> None:
        """Arrange the MPR views (a key of :data:`MPR_LAYOUTS`); in 2×2 the
        fourth view shows the acquired slices of the volume at the cursor."""
        if name not in MPR_LAYOUTS:
            raise ValueError(f"unknown MPR layout {name!r}")
        self.maximized_index = None
        if self.layout == "mpr" and len(MPR_LAYOUTS[name]) > 3:
            self._show_acquired_beside_mpr()
        self.mpr_layout = name

    @property
    def active(self) -> ViewportState:
        """The viewport that keyboard and tools act on."""
        return self.viewports[self.active_index]

    def sync_linked(self, source_index: int) -> None:
        """Bring other viewports to where the source viewport is.

        MPR views of the same volume share its 3D cursor. With linking on,
        viewports of acquired slices in the same frame of reference go to the
        slice nearest the source's position (PS3.3 C.7.4.1.1.1: positions are
        comparable only within one frame of reference), or across two frames the
        user registered (:meth:`set_frame_transform`). The 3D cursor maps the
        same way: acquired views mark the mapped point, reformatted views of
        another volume show the mapped plane (:mod:`.linked_cursor`).
        """
        with self.unlinked():
            self._sync_linked(source_index)

    def set_frame_transform(
        self, moving_frame: str, fixed_frame: str, moving_to_fixed: NDArray[np.float64]
    ) -> None:
        """Link two frames of reference through a rigid registration: linked
        scrolling maps positions through it (both ways) from now on."""
        matrix = np.asarray(moving_to_fixed, dtype=np.float64)
        self._frame_transforms[moving_frame, fixed_frame] = matrix
        self._frame_transforms[fixed_frame, moving_frame] = np.asarray(
            np.linalg.inv(matrix), dtype=np.float64
        )
        self.sync_linked(self.active_index)

    def clear_frame_transforms(self) -> None:
        """Forget every registration: only one frame of reference links again."""
        self._frame_transforms.clear()

    def frame_transform(
        self, source_frame: str, target_frame: str
    ) -> NDArray[np.float64] | None:
        """The 4×4 map of LPS positions from one frame of reference to another:
        identity within one frame, a registration's between two, else None
        (positions of unrelated frames are not comparable, PS3.3 C.7.4.1.1.1)."""
        if source_frame == target_frame:
            return np.eye(4)
        return self._frame_transforms.get((source_frame, target_frame))

    def other_patient_viewports(self) -> list[int]:
        """The visible viewports showing another patient than the active one
        (Patient ID and name, PS3.3 C.7.1.1): linking never reaches them."""
        return [
            index
            for index, viewport in enumerate(self.viewports[: self.visible_count])
            if not _same_patient(self.active, viewport)
        ]

    def _sync_linked(self, source_index: int) -> None:
        source = self.viewports[source_index]
        cursor = linked_cursor(source)
        if cursor is not None:
            self.set_cursor(cursor, source_index)
            position: Vec3 | None = cursor
        else:
            position = _slice_centre_lps(source)
            self._bring_mpr_cursor_to(source)
        if not self.link_scrolling or position is None or source.volume is None:
            return
        frame = source.volume.frame_of_reference_uid
        if not frame:
            return
        for index, viewport in enumerate(self.viewports[: self.visible_count]):
            volume = viewport.volume
            if index == source_index or volume is None:
                continue
            if viewport.is_mpr and volume is source.volume:
                continue  # shares the source's cursor (set_cursor)
            if volume.is_projection or not _same_patient(source, viewport):
                continue  # never linked across patients
            transform = self.frame_transform(frame, volume.frame_of_reference_uid)
            if transform is None:
                continue
            mapped = transform[:3, :3] @ position + transform[:3, 3]
            if viewport.is_mpr:
                place_mapped_plane(viewport, source, transform, mapped)
                continue
            target = nearest_slice(volume, mapped)
            if target is not None and target != viewport.slice_index:
                viewport.set_slice(target)
            if cursor is not None:  # its mark (issue 13: the 3D cursor maps)
                viewport.cursor_lps = (
                    float(mapped[0]),
                    float(mapped[1]),
                    float(mapped[2]),
                )

    def _bring_mpr_cursor_to(self, source: ViewportState) -> None:
        """An acquired view of an MPR volume (the fourth of 2×2) scrolled: the
        cursor moves along the slice normal onto its slice."""
        affine = source.pixel_to_lps()
        if affine is None:
            return
        for index, viewport in enumerate(self.viewports[: self.visible_count]):
            if not viewport.is_mpr or viewport.volume is not source.volume:
                continue
            if viewport.cursor_lps is None:
                continue
            normal = np.cross(affine[:3, 0], affine[:3, 1])
            normal = normal / (np.linalg.norm(normal) or 1.0)
            cursor = np.asarray(viewport.cursor_lps, dtype=np.float64)
            cursor = cursor + float((affine[:3, 3] - cursor) @ normal) * normal
            self.set_cursor(cursor, index)
            return

    def set_cursor(
        self, position_lps: NDArray[np.float64], source_index: int | None = None
    ) -> None:
        """Move the 3D cursor of every MPR view of the same volume."""
        source = (
            self.viewports[source_index] if source_index is not None else self.active
        )
        cursor = (
            float(position_lps[0]),
            float(position_lps[1]),
            float(position_lps[2]),
        )
        for viewport in self.viewports[: self.visible_count]:
            if viewport.is_mpr and viewport.volume is source.volume:
                viewport.cursor_lps = cursor
                viewport.sync_index_to_cursor()

    def enter_mpr(self, source_index: int | None = None) -> bool:
        """Axial, coronal and sagittal views of a viewport's volume, side by side.

        The cursor starts at the centre of the slice the source shows. Returns
        False where there is no volume to reformat (nothing, or one image).
        """
        with self.unlinked():
            return self._enter_mpr(
                self.active_index if source_index is None else source_index
            )

    def _enter_mpr(self, index: int) -> bool:
        source = self.viewports[index]
        volume, series = source.volume, source.series
        if volume is None or volume.is_projection or volume.shape_kji[0] < 2:
            return False
        current = source.current_slice()
        assert current is not None
        rows, columns = current.pixels.shape[:2]
        centre = current.pixel_to_lps @ np.array(
            [(columns - 1) / 2, (rows - 1) / 2, 0, 1]
        )
        window, label = source.window, source.window_label
        time = source.time_index
        for viewport, orientation in zip(
            self.viewports[:3], ("axial", "coronal", "sagittal"), strict=True
        ):
            viewport.orientation = "acquired"
            viewport.show(series, volume)
            viewport.time_index = time
            viewport.plane_rotation = None
            viewport.cursor_lps = (float(centre[0]), float(centre[1]), float(centre[2]))
            viewport.orientation = orientation
            viewport.sync_index_to_cursor()
            if window is not None:
                viewport.window, viewport.window_label = window, label
        self.maximized_index = None
        self.layout = "mpr"
        if len(MPR_LAYOUTS.get(self.mpr_layout, ())) > 3:
            self._show_acquired_beside_mpr()
        self.active_index = 0
        return True

    def _show_acquired_beside_mpr(self) -> None:
        """The fourth viewport: the MPR volume's acquired slices, at the slice
        nearest the cursor, in the same window."""
        source = self.viewports[0]
        volume = source.volume
        if not source.is_mpr or volume is None or len(self.viewports) < 4:
            return
        acquired = self.viewports[3]
        with self.unlinked():
            acquired.orientation = "acquired"
            acquired.plane_rotation = None
            acquired.slab_mm = 0.0
            acquired.show(source.series, volume)
            acquired.time_index = source.time_index
            if source.window is not None:
                acquired.window = source.window
                acquired.window_label = source.window_label
            cursor = source.cursor_lps
            target = nearest_slice(volume, np.asarray(cursor)) if cursor else None
            if target is not None:
                acquired.set_slice(target)

    def exit_mpr(self) -> None:
        """Back to the acquired slices in one viewport."""
        for viewport in self.viewports:
            if viewport.orientation != "acquired":
                viewport.orientation = "acquired"
                viewport.plane_rotation = None
                viewport.slab_mm = 0.0
        self.maximized_index = None
        self.layout = "1x1"

    def reset_planes(self) -> None:
        """Undo oblique rotations of the MPR views."""
        for viewport in self.viewports:
            viewport.plane_rotation = None
            viewport.sync_index_to_cursor()


_STRAIGHT_NORMALS: dict[str, tuple[float, float, float]] = {
    "axial": (0.0, 0.0, 1.0),
    "coronal": (0.0, 1.0, 0.0),
    "sagittal": (1.0, 0.0, 0.0),
}
"""The normal (up to sign) of each straight MPR plane, LPS."""


def _plane_key(plane: SlicePlane) -> tuple[float | int, ...]:
    """A plane's placement and grid, to 10 nm: equal keys sample the same pixels
    (the grid is anchored to the volume, so only the plane's position along
    its normal moves it; the cursor's position within the plane does not)."""
    return (
        *np.round(plane.origin_lps, 5).tolist(),
        *np.round(plane.right_lps, 9).tolist(),
        *np.round(plane.down_lps, 9).tolist(),
        *plane.spacing_mm,
        *plane.size_px,
    )


def _volume_centre(volume: Volume) -> tuple[float, float, float]:
    k, j, i = volume.shape_kji
    centre = volume.ijk_to_lps @ np.array([(i - 1) / 2, (j - 1) / 2, (k - 1) / 2, 1.0])
    return float(centre[0]), float(centre[1]), float(centre[2])


def _slice_centre_lps(viewport: ViewportState) -> Vec3 | None:
    """LPS centre of the acquired slice a viewport shows."""
    volume = viewport.volume
    if volume is None or volume.is_projection:
        return None
    _k, j, i = volume.shape_kji
    centre = np.array([(i - 1) / 2, (j - 1) / 2, viewport.slice_index, 1.0])
    result: Vec3 = (volume.ijk_to_lps @ centre)[:3]
    return result


def nearest_slice(volume: Volume, position_lps: NDArray[np.float64]) -> int | None:
    """Index of the slice of ``volume`` nearest ``position_lps`` along its normal,
    or None where the position lies more than one slice outside the volume."""
    affine = volume.ijk_to_lps
    ijk = np.linalg.solve(affine[:3, :3], position_lps - affine[:3, 3])
    k = round(float(ijk[2]))
    n_slices = volume.shape_kji[0]
    if k < -1 or k > n_slices:
        return None
    return int(np.clip(k, 0, n_slices - 1))


def image_ref_of(state: ViewportState) -> ImageRef:
    """The image annotations drawn on ``state``'s view refer to (PS3.3 C.7.4.1,
    C.12.1): its frame of reference and series, and the SOP instance of an
    acquired slice; on a reformatted plane, the acquired image nearest each
    annotation's centre."""
    # scan (pydicom's fallback reader) and the annotation model stay off the
    # start-up path.
    from imaging_viewer.core.dicom.acquired_images import (
        acquired_image_at,
        sop_instance_uid_of,
    )
    from imaging_viewer.core.tools.pointer import ImageRef

    volume, series = state.volume, state.series
    frame = volume.frame_of_reference_uid if volume is not None else ""
    if series is None:
        return ImageRef(frame_of_reference_uid=frame)
    time = min(state.time_index, len(series.frames) - 1)
    plane = ""
    if state.is_mpr:
        plane = "oblique" if state.plane_rotation is not None else state.orientation
    if plane or (series.geometry is not None and series.geometry.resample is not None):
        shown = series
        return ImageRef(
            frame_of_reference_uid=frame,
            series_instance_uid=series.uid,
            plane=plane,
            nearest_image=lambda point: acquired_image_at(shown, point, time),
        )
    frames = series.frames[time]
    ref = frames[min(state.slice_index, len(frames) - 1)]
    return ImageRef(
        frame_of_reference_uid=frame,
        sop_instance_uid=sop_instance_uid_of(ref.path),
        series_instance_uid=series.uid,
    )


def acquired_first(series: SeriesInfo | None) -> str:
    """Why ``series`` opens as its acquired images, never on an interpolated
    plane (few images, or gaps much wider than its slices); empty for a volume."""
    geometry = series.geometry if series is not None else None
    return geometry.acquired_first if geometry is not None else ""


def mpr_gap_warning(viewport: ViewportState) -> str:
    """The warning MPR of a sparse stack shows: its planes are interpolated
    across the gaps between the acquired images; empty otherwise."""
    reason = acquired_first(viewport.series) if viewport.is_mpr else ""
    if not reason:
        return ""
    return f"MPR interpolated across the gaps ({reason}): not acquired data"
