"""The comparison layout: the current series beside its prior, linked.

Viewport 0 keeps the current series; viewport 1 gets the prior study's series
that matches it (:func:`match_prior_series`). When both studies have a second
matching series the layout is 2×2: current | prior on each row
(:func:`second_pair`). A series dropped on a viewport replaces its own, and
the link follows: whatever pair a row shows is registered. Series of one frame
of reference link by position (PS3.3 C.7.4.1.1.1); across frames a rigid
registration runs through the workspace's task runner (progress, cancel) and
the viewer then links through its transform, unless the user set a landmark
in each study (:mod:`imaging_viewer.core.followup.landmarks`) until the link is
reset. Projection radiographs have no 3D geometry and are never linked by
one: only by the user's lesion links. Studies of another patient are never
compared.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from psygnal import Signal

from imaging_viewer.core.followup.comparison import (
    match_prior_series,
    prior_study,
    second_pair,
)
from imaging_viewer.core.workspace.tasks import run_synchronously

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np
    from numpy.typing import NDArray

    from imaging_viewer.core.followup.landmarks import LandmarkLink
    from imaging_viewer.core.followup.registration import RegistrationResult
    from imaging_viewer.core.volume import Volume
    from imaging_viewer.core.workspace.tasks import TaskHandle, TaskRunner
    from imaging_viewer.core.workspace.viewport_loading import ViewportLoader


RADIOGRAPHS_NOT_LINKED = (
    "Radiographs have no 3D geometry: not linked by position or registration, "
    "only by their lesion links (Same lesion as…)"
)
"""What the comparison says for a projection image (PS3.3 C.8.11.1: no Image
Position (Patient), no frame of reference to map)."""

Frames = tuple[str, str]
"""(prior frame of reference, current frame of reference)."""


class Comparison:
    """Puts the current study and its prior side by side (1×2 or 2×2), linked."""

    progress = Signal(int, int)
    """(done, total) of the registration under way."""
    message = Signal(str)
    """What happened, in one line, for the status bar."""
    registered = Signal(object)
    """The :class:`RegistrationResult` now linking the two studies."""

    def __init__(self, loader: ViewportLoader, run: TaskRunner = run_synchronously):
        self.loader = loader
        self._run = run
        self.series_ids: tuple[str, str] | None = None
        """(current, prior) of the first row when the comparison opened."""
        self.pairs: tuple[tuple[int, int], ...] = ()
        """(current viewport, prior viewport) of each row while it is on."""
        self._previous_layout = "1x1"
        self._task: TaskHandle | None = None
        self._running = False
        self._registered: set[Frames] = set()
        """Frame pairs registered, under way, or refused: not tried again."""
        self.registrations: dict[Frames, NDArray[np.float64]] = {}
        """Prior → current transforms the registration found, by frames."""
        self.landmarks: dict[Frames, LandmarkLink] = {}
        """Links the user set by landmarks: they win over the registration."""
        loader.workspace.events.volume_loaded.connect(self._on_volume_loaded)
        loader.image_shown.connect(self._on_image_shown)

    @property
    def active(self) -> bool:
        """True while the comparison layout is shown."""
        return self.series_ids is not None

    def toggle(self) -> str:
        """Show the comparison, or leave it; returns what happened in one line."""
        if self.active:
            self.close()
            return "Comparison closed"
        return self.open()

    def open(self) -> str:
        """Show the active viewport's series beside its prior's matching series."""
        workspace, state = self.loader.workspace, self.loader.state
        current = state.active.series
        if current is None:
            return "Nothing shown to compare"
        study = workspace.study_of(current.id)
        studies = list(workspace.studies.values())
        prior = None if study is None else prior_study(studies, study)
        if prior is None and study is not None and len(workspace.patients) > 1:
            return (
                "The other studies open are of another patient: studies of two "
                "patients are never compared"
            )
        if prior is None:
            return "No other study of this patient to compare with (File → Add study…)"
        match = match_prior_series(current, prior.series)
        if match is None:
            return f"The prior study has no {current.modality} series to compare"
        second = (
            None
            if study is None
            else second_pair(current, study.series, match, prior.series)
        )
        if state.layout == "mpr":
            state.exit_mpr()
        self._previous_layout = state.layout
        state.layout = "1x2" if second is None else "2x2"
        state.active_index = 0
        self.series_ids = (current.id, match.id)
        shown = [current, match] + ([] if second is None else list(second))
        self.pairs = ((0, 1),) if second is None else ((0, 1), (2, 3))
        for index, series in enumerate(shown):
            self.loader.show_series(series.id, index)
        self._register_when_loaded()
        label = prior.timepoint or prior.date or prior.uid
        self.message.emit(f"Comparing with {label}: {match.description or match.id}")
        return f"Comparing with {label}"

    def close(self) -> None:
        """Leave the comparison layout (a running registration stops)."""
        self.cancel()
        self.series_ids = None
        self.pairs = ()
        self.loader.state.layout = self._previous_layout

    def cancel(self) -> None:
        """Stop the registration under way, if any."""
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def _on_volume_loaded(self, _series_id: str, _volume: object) -> None:
        self._register_when_loaded()

    def _on_image_shown(self, _index: int) -> None:
        self._register_when_loaded()  # a series dropped on a viewport: link it

    def pair_volumes(self, row: int = 0) -> tuple[Volume, Volume] | None:
        """(current, prior) volumes a row shows, once both are loaded."""
        if row >= len(self.pairs):
            return None
        state, workspace = self.loader.state, self.loader.workspace
        shown = [state.viewports[index].series for index in self.pairs[row]]
        if shown[0] is None or shown[1] is None:
            return None
        fixed, moving = workspace.volume(shown[0].id), workspace.volume(shown[1].id)
        return None if fixed is None or moving is None else (fixed, moving)

    def _register_when_loaded(self) -> None:
        if not self.active or self._task is not None:
            return
        for row in range(len(self.pairs)):
            volumes = self.pair_volumes(row)
            if volumes is not None and self._register(*volumes):
                return

    def _register(self, fixed: Volume, moving: Volume) -> bool:
        """Start registering a pair unless it needs none; True if started."""
        frames = (moving.frame_of_reference_uid, fixed.frame_of_reference_uid)
        if fixed.is_projection or moving.is_projection:
            if frames not in self._registered:  # said once per pair
                self._registered.add(frames)
                self.message.emit(RADIOGRAPHS_NOT_LINKED)
            return False  # no 3D geometry: linked by the user's lesion links only
        if not all(frames) or frames[0] == frames[1] or frames in self._registered:
            return False
        self._registered.add(frames)
        self.message.emit("Registering the prior study onto the current one…")
        self._running = True
        task = self._run(
            _registration(fixed, moving),
            on_done=lambda result: self._on_registered(frames, result),
            on_failed=lambda message: self._on_failed(message, frames),
            on_progress=self.progress.emit,
        )
        self._task = task if self._running else None  # a runner may finish at once
        return True

    def _on_registered(self, frames: Frames, result: RegistrationResult) -> None:
        self._task, self._running = None, False
        self.registrations[frames] = result.moving_to_fixed
        if frames not in self.landmarks:  # the user's landmarks win
            self.loader.state.set_frame_transform(*frames, result.moving_to_fixed)
        self.registered.emit(result)
        self.message.emit(
            f"Studies registered ({result.related_fraction:.0%} of the best match): "
            "scrolling is linked"
        )
        self._register_when_loaded()  # the other row, if it needs one

    def _on_failed(self, message: str, frames: Frames | None = None) -> None:
        self._task, self._running = None, False
        if message == "cancelled":
            if frames is not None:
                self._registered.discard(frames)  # asked again next time
            self.message.emit("Registration cancelled: the studies are not linked")
        else:
            self.message.emit(f"Studies not linked: {message}")

    def set_landmarks(
        self,
        current_lps: NDArray[np.float64],
        prior_lps: NDArray[np.float64],
        row: int = 0,
    ) -> str:
        """Link a row's two studies by one matching landmark in each (current,
        prior; LPS mm) instead of by the registration; returns the match's
        quality in one line."""
        from imaging_viewer.core.followup.landmarks import link_by_landmarks

        volumes = self.pair_volumes(row)
        if volumes is None:
            return "Landmarks need both series of the comparison loaded"
        fixed, moving = volumes
        if fixed.is_projection or moving.is_projection:
            return "Radiographs have no 3D geometry: link them by their lesions"
        frames = (moving.frame_of_reference_uid, fixed.frame_of_reference_uid)
        if not all(frames) or frames[0] == frames[1]:
            return "One frame of reference: the series are linked by position"
        link = link_by_landmarks(
            fixed, moving, current_lps, prior_lps, self.registrations.get(frames)
        )
        self.landmarks[frames] = link
        self.loader.state.set_frame_transform(*frames, link.prior_to_current)
        summary = link.summary()
        self.message.emit(summary)
        return summary

    def reset_link(self) -> str:
        """Forget the landmarks: back to the registration, or to position
        within one frame of reference."""
        if not self.landmarks:
            return "No landmark link to reset"
        self.landmarks.clear()
        state = self.loader.state
        state.clear_frame_transforms()
        for frames, transform in self.registrations.items():
            state.set_frame_transform(*frames, transform)
        state.sync_linked(state.active_index)
        text = (
            "Link reset to the registration"
            if self.registrations
            else "Link reset: the studies are not linked"
        )
        self.message.emit(text)
        return text


def _registration(fixed: Volume, moving: Volume) -> Callable[..., Any]:
    def work(
        progress: Callable[[int, int], None], cancel: Callable[[], bool]
    ) -> RegistrationResult:
        from imaging_viewer.core.followup.registration import register_rigid

        return register_rigid(
            fixed,
            moving,
            progress=lambda fraction: progress(round(100 * fraction), 100),
            cancelled=cancel,
        )

    return work
