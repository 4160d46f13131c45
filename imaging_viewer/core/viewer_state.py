"""ViewerState: the single source of truth the viewer window observes and edits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from psygnal import SignalGroupDescriptor

from imaging_viewer.core.geometry import orientation_label
from imaging_viewer.core.render import CT_PRESETS, auto_window, window_from_voi_lut

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from imaging_viewer.core.dicom.series import SeriesInfo
    from imaging_viewer.core.geometry import Affine, Vec3
    from imaging_viewer.core.volume import VoiLut, Volume, Window

LAYOUTS: dict[str, tuple[int, int]] = {
    "1x1": (1, 1),
    "1x2": (1, 2),
    "2x1": (2, 1),
    "2x2": (2, 2),
}
"""Viewport grids by name: (rows, columns)."""


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

    @property
    def n_slices(self) -> int:
        """Slices of the volume (1 when empty)."""
        return self.volume.shape_kji[0] if self.volume is not None else 1

    @property
    def n_time_points(self) -> int:
        """Time points or cine frames (1 when empty)."""
        return self.volume.n_time_points if self.volume is not None else 1

    def show(self, series: SeriesInfo | None, volume: Volume | None) -> None:
        """Show a volume (or a preview) from its middle slice, in its default window."""
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

    def pixels(self) -> NDArray[Any] | None:
        """The shown slice ``[row, column]`` (``[row, column, 3]`` for RGB), a view.

        Indices are clamped: observers of ``volume`` may run before the indices
        are set for a new volume.
        """
        if self.volume is None:
            return None
        time = min(self.time_index, self.volume.n_time_points - 1)
        voxels = self.volume.time_point(time).voxels
        result: NDArray[Any] = voxels[min(self.slice_index, voxels.shape[0] - 1)]
        return result

    def pixel_to_lps(self) -> Affine | None:
        """Maps (column, row, 0, 1) of the shown slice to LPS (PS3.3 C.7.6.2.1.1)."""
        if self.volume is None:
            return None
        affine = self.volume.ijk_to_lps.copy()
        affine[:3, 3] = affine[:3, 3] + affine[:3, 2] * self.slice_index
        return affine

    def slice_position_lps(self) -> Vec3 | None:
        """LPS position of the first voxel of the shown slice."""
        affine = self.pixel_to_lps()
        return None if affine is None else affine[:3, 3]

    def set_slice(self, index: int) -> None:
        """Go to slice ``index``, clamped to the volume."""
        self.slice_index = int(np.clip(index, 0, self.n_slices - 1))

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


@dataclass
class ViewerState:
    """The viewer: a grid of viewports, which is active, and how they are linked."""

    events: ClassVar[SignalGroupDescriptor] = SignalGroupDescriptor()
    """One psygnal signal per field, emitted when it changes."""

    layout: str = "1x1"
    active_index: int = 0
    link_scrolling: bool = True
    show_overlays: bool = True
    viewports: tuple[ViewportState, ...] = field(
        default_factory=lambda: tuple(ViewportState() for _ in range(4))
    )

    @property
    def grid(self) -> tuple[int, int]:
        """(rows, columns) of the layout."""
        return LAYOUTS[self.layout]

    @property
    def visible_count(self) -> int:
        """Viewports shown by the layout."""
        rows, columns = self.grid
        return rows * columns

    @property
    def active(self) -> ViewportState:
        """The viewport that keyboard and tools act on."""
        return self.viewports[self.active_index]

    def sync_linked(self, source_index: int) -> None:
        """Bring linked viewports to the slice nearest the source's position.

        Only viewports showing a volume in the same frame of reference follow
        (PS3.3 C.7.4.1.1.1: positions are comparable only within one).
        """
        if not self.link_scrolling:
            return
        source = self.viewports[source_index]
        position = _slice_centre_lps(source)
        if position is None or source.volume is None:
            return
        frame = source.volume.frame_of_reference_uid
        if not frame:
            return
        for index, viewport in enumerate(self.viewports[: self.visible_count]):
            volume = viewport.volume
            if index == source_index or volume is None:
                continue
            if volume.frame_of_reference_uid != frame or volume.is_projection:
                continue
            target = nearest_slice(volume, position)
            if target is not None and target != viewport.slice_index:
                viewport.set_slice(target)


def _slice_centre_lps(viewport: ViewportState) -> Vec3 | None:
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
