"""Annotate → Same lesion as… and Unlink from earlier lesion in the window: the
Lesions panel's button and row menu and the Annotate menu open them for the selected
lesion of the current study (the work is in
:mod:`imaging_viewer.core.workspace.lesion_links`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from imaging_viewer.core.workspace.lesion_links import (
    link_same_lesion,
    linked_priors,
    prior_lesions,
    unlink_lesion,
)
from imaging_viewer.core.workspace.prior_location import prior_name, show_prior_lesion

if TYPE_CHECKING:
    from imaging_viewer.ui.dialogs.same_lesion_dialog import SameLesionDialog
    from imaging_viewer.ui.main_window import MainWindow
    from imaging_viewer.ui.widgets.lesions_panel import LesionsPanelWidget

STATUS_TIMEOUT_MS = 8000
NO_LESION = "Select a lesion of the current study in the Lesions panel first"


def bind_lesions_panel(window: MainWindow, panel: LesionsPanelWidget) -> None:
    """The panel's "Same lesion as…" button and row menu act through the window."""
    panel.same_lesion_requested.connect(lambda id_: same_lesion_as(window, id_))
    panel.unlink_requested.connect(lambda id_: unlink_from_earlier(window, id_))


def _current(window: MainWindow, lesion_id: str | None) -> tuple[str, str] | None:
    """(study UID, lesion id) of the lesion to link, or None (said why)."""
    study = window.annotation_study()
    lesion_id = lesion_id or window.state.active_lesion_id
    if study is None or not study.uid:
        window.statusBar().showMessage("No study is open", STATUS_TIMEOUT_MS)
        return None
    if lesion_id is None or not window.workspace.annotations(study.uid).has_lesion(
        lesion_id
    ):
        window.statusBar().showMessage(NO_LESION, STATUS_TIMEOUT_MS)
        return None
    return study.uid, lesion_id


def same_lesion_as(
    window: MainWindow, lesion_id: str | None = None
) -> SameLesionDialog | None:
    """Open the "same lesion as…" dialog for a lesion of the current study (the
    selected one by default); choosing a prior links them (undoable)."""
    from imaging_viewer.ui.dialogs.same_lesion_dialog import SameLesionDialog

    current = _current(window, lesion_id)
    if current is None:
        return None
    study_uid, lesion_id = current
    workspace = window.workspace
    priors = prior_lesions(workspace, study_uid)
    if not priors:
        window.statusBar().showMessage(
            "No earlier time point of this patient has lesions "
            "(File → Add study… adds the prior)",
            STATUS_TIMEOUT_MS,
        )
        return None
    lesion = workspace.annotations(study_uid).lesion(lesion_id)
    linked = linked_priors(workspace, study_uid, lesion_id)
    dialog = SameLesionDialog(
        lesion.label or "This lesion",
        priors,
        lambda prior: show_prior_lesion(window.state, workspace, prior),
        window,
        linked=linked[0] if linked else None,
    )

    def link() -> None:
        prior = dialog.chosen
        if prior is None or not workspace.annotations(study_uid).has_lesion(lesion_id):
            return
        link_same_lesion(workspace, study_uid, lesion_id, prior)
        window.statusBar().showMessage(
            f"{lesion.label or 'The lesion'} is the same lesion as "
            f"{prior_name(prior)}: the Response table tracks it",
            STATUS_TIMEOUT_MS,
        )

    dialog.accepted.connect(link)
    dialog.finished.connect(dialog.deleteLater)
    window._same_lesion_dialog = dialog  # type: ignore[attr-defined]
    dialog.open()
    return dialog


def unlink_from_earlier(window: MainWindow, lesion_id: str | None = None) -> None:
    """Give a lesion of the current study a Tracking UID of its own (undoable)."""
    current = _current(window, lesion_id)
    if current is None:
        return
    study_uid, lesion_id = current
    workspace = window.workspace
    linked = linked_priors(workspace, study_uid, lesion_id)
    label = workspace.annotations(study_uid).lesion(lesion_id).label or "The lesion"
    if not linked:
        window.statusBar().showMessage(
            f"{label} is not linked to an earlier lesion", STATUS_TIMEOUT_MS
        )
        return
    unlink_lesion(workspace, study_uid, lesion_id)
    window.statusBar().showMessage(
        f"{label} is no longer the same lesion as {prior_name(linked[0])}",
        STATUS_TIMEOUT_MS,
    )
