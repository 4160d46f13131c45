"""The comparison layout in the window: one key toggles it, the registration's
progress and Cancel show in the status bar (the work is in
:mod:`imaging_viewer.core.workspace.comparison`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from imaging_viewer.core.workspace.comparison import Comparison
from imaging_viewer.ui.workers import run_in_background

if TYPE_CHECKING:
    from imaging_viewer.ui.main_window import MainWindow

STATUS_TIMEOUT_MS = 6000


def comparison_of(window: MainWindow) -> Comparison:
    """The window's comparison, made (and wired to its status bar) when first used."""
    existing: Comparison | None = getattr(window, "_comparison", None)
    if existing is not None:
        return existing
    comparison = Comparison(window.loader, run_in_background)

    def show_progress(done: int, total: int) -> None:
        window.status.show_progress("Registering the studies", done, total)
        if done >= total:
            window.status.hide_progress()

    def show_message(text: str) -> None:
        if not text.startswith("Registering"):
            window.status.hide_progress()
        window.statusBar().showMessage(text, STATUS_TIMEOUT_MS)

    comparison.progress.connect(show_progress)
    comparison.message.connect(show_message)
    window.loader.image_shown.connect(lambda _: show_priors_annotations(window))
    window._comparison = comparison  # type: ignore[attr-defined]
    return comparison


def toggle_comparison(window: MainWindow) -> None:
    """Show the active series beside its prior (1×2), or leave the comparison."""
    window.statusBar().showMessage(comparison_of(window).toggle(), STATUS_TIMEOUT_MS)
    show_priors_annotations(window)


def show_priors_annotations(window: MainWindow) -> None:
    """While comparing, each prior viewport draws its own study's lesions (the
    prior's measurements beside the current's); otherwise every viewport
    draws the annotation study's."""
    comparison: Comparison | None = getattr(window, "_comparison", None)
    priors = {p for _, p in comparison.pairs} if comparison is not None else set()
    workspace = window.workspace
    for index, widget in enumerate(window.viewport_widgets):
        series = window.state.viewports[index].series
        study = None if series is None else workspace.study_of(series.id)
        if index in priors and study is not None and study.uid:
            widget.set_annotations(workspace.annotations(study.uid))
        else:
            widget.set_annotations(window.state.annotations)


def comparison_is_on(window: MainWindow) -> bool:
    """Whether the comparison layout is shown."""
    comparison: Comparison | None = getattr(window, "_comparison", None)
    return comparison is not None and comparison.active


def cancel_registration(window: MainWindow) -> None:
    """Stop a registration under way (the status bar's Cancel)."""
    comparison: Comparison | None = getattr(window, "_comparison", None)
    if comparison is not None:
        comparison.cancel()


def pick_landmarks(window: MainWindow) -> None:
    """Wait for a landmark click in the current study, then in the prior."""
    from imaging_viewer.ui.comparison_landmarks import LandmarkPicker

    picker: LandmarkPicker | None = getattr(window, "_landmark_picker", None)
    if picker is None:
        picker = LandmarkPicker(window, comparison_of(window))
        window._landmark_picker = picker  # type: ignore[attr-defined]
    window.statusBar().showMessage(picker.start(), STATUS_TIMEOUT_MS)


def reset_link(window: MainWindow) -> None:
    """Forget the landmarks: back to the registration (or to position)."""
    comparison: Comparison | None = getattr(window, "_comparison", None)
    text = "No comparison open" if comparison is None else comparison.reset_link()
    window.statusBar().showMessage(text, STATUS_TIMEOUT_MS)
