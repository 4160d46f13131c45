"""The comparison layout: the current series beside its prior, linked.

Viewport 0 keeps the current series; viewport 1 gets the prior study's series
that matches it (:func:`match_prior_series`). Series of one frame of reference
link by position (PS3.3 C.7.4.1.1.1); across frames a rigid registration runs
through the workspace's task runner (progress, cancel) and the viewer then
links through its transform. Studies of another patient are never compared.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from psygnal import Signal

from imaging_viewer.core.followup.comparison import match_prior_series, prior_study
from imaging_viewer.core.workspace.tasks import run_synchronously

if TYPE_CHECKING:
    from collections.abc import Callable

    from imaging_viewer.core.followup.registration import RegistrationResult
    from imaging_viewer.core.volume import Volume
    from imaging_viewer.core.workspace.tasks import TaskHandle, TaskRunner
    from imaging_viewer.core.workspace.viewport_loading import ViewportLoader


class Comparison:
    """Puts the current study and its prior side by side (1×2), linked."""

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
        """(current, prior) shown while the comparison is on."""
        self._previous_layout = "1x1"
        self._task: TaskHandle | None = None
        self._running = False
        self._registered: set[tuple[str, str]] = set()
        loader.workspace.events.volume_loaded.connect(self._on_volume_loaded)

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
        if state.layout == "mpr":
            state.exit_mpr()
        self._previous_layout = state.layout
        state.layout = "1x2"
        state.active_index = 0
        self.series_ids = (current.id, match.id)
        self.loader.show_series(current.id, 0)
        self.loader.show_series(match.id, 1)
        self._register_when_loaded()
        label = prior.timepoint or prior.date or prior.uid
        self.message.emit(f"Comparing with {label}: {match.description or match.id}")
        return f"Comparing with {label}"

    def close(self) -> None:
        """Leave the comparison layout (a running registration stops)."""
        self.cancel()
        self.series_ids = None
        self.loader.state.layout = self._previous_layout

    def cancel(self) -> None:
        """Stop the registration under way, if any."""
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def _on_volume_loaded(self, _series_id: str, _volume: object) -> None:
        self._register_when_loaded()

    def _register_when_loaded(self) -> None:
        if self.series_ids is None or self._task is not None:
            return
        workspace = self.loader.workspace
        current_id, prior_id = self.series_ids
        fixed, moving = workspace.volume(current_id), workspace.volume(prior_id)
        if fixed is None or moving is None:
            return
        frames = (moving.frame_of_reference_uid, fixed.frame_of_reference_uid)
        if not all(frames) or frames[0] == frames[1] or frames in self._registered:
            return
        if fixed.is_projection or moving.is_projection:
            return  # no 3D geometry: linked by the user's lesion links only
        self.message.emit("Registering the prior study onto the current one…")
        self._running = True
        task = self._run(
            _registration(fixed, moving),
            on_done=lambda result: self._on_registered(frames, result),
            on_failed=self._on_failed,
            on_progress=self.progress.emit,
        )
        self._task = task if self._running else None  # a runner may finish at once

    def _on_registered(
        self, frames: tuple[str, str], result: RegistrationResult
    ) -> None:
        self._task, self._running = None, False
        self._registered.add(frames)
        self.loader.state.set_frame_transform(*frames, result.moving_to_fixed)
        self.registered.emit(result)
        self.message.emit(
            f"Studies registered (metric {result.metric:.2f}): scrolling is linked"
        )

    def _on_failed(self, message: str) -> None:
        self._task, self._running = None, False
        if message == "cancelled":
            self.message.emit("Registration cancelled: the studies are not linked")
        else:
            self.message.emit(f"Studies not linked: {message}")


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
