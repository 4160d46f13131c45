"""The window's ways into :class:`SendDialog`: the open series or study, our SR
and presentation state of the study's annotations (written as File → Export
DICOM writes them, into a temporary folder), a de-identified teaching case, the
studies and series selected in the Local database window."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt

if TYPE_CHECKING:
    from collections.abc import Callable

    from PySide6.QtWidgets import QWidget

    from imaging_viewer.core.workspace.study import Study
    from imaging_viewer.ui.dialogs.send_dialog import SendChoice, SendDialog

__all__ = [
    "annotation_documents_choice",
    "send_from_database",
    "send_from_window",
    "send_teaching_case",
]

SERIES, STUDY, ANNOTATIONS = 0, 1, 2
"""The window's choices, in the dialog's order."""


def _show(window: Any, dialog: SendDialog) -> SendDialog:
    """Show ``dialog`` as the window's send dialog, unless one is sending."""
    current: SendDialog | None = getattr(window, "_send_dialog", None)
    if current is not None and current.isVisible() and current.busy:
        dialog.deleteLater()
        current.raise_()
        return current
    if current is not None and current.isVisible():
        current.close()
    window._send_dialog = dialog
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()  # a new top-level window comes up in front
    return dialog


def _configure(window: Any) -> Callable[[], object]:
    def configure() -> object:
        from imaging_viewer.ui.dialogs.pacs_dialog import show_pacs_dialog

        return show_pacs_dialog(window)

    return configure


def annotation_documents_choice(
    window: Any, study: Study, scratch: list[tempfile.TemporaryDirectory[str]]
) -> SendChoice:
    """Our TID 1500 SR and GSPS (PS3.3 A.35.13, A.33.1) of ``study``'s lesions,
    written into a temporary folder kept in ``scratch`` when Send is pressed."""
    from imaging_viewer.ui.dialogs.send_dialog import SendChoice, SendNotPossible

    def files() -> list[Path]:
        from imaging_viewer.core.exchange.annotation_documents import (
            DicomExportError,
        )

        annotations = window.workspace.annotations(study.uid)
        if not (annotations.lesions or annotations.key_images):
            raise SendNotPossible("this study has no lesions or key images yet")
        folder = tempfile.TemporaryDirectory(prefix="imaging-viewer-send.")
        scratch.append(folder)
        series = window.state.active.series
        try:
            written, _ = window.workspace.export_annotation_documents(
                study.uid,
                Path(folder.name) / "documents",
                window=window.state.active.editable_window(),
                displayed_series_uid=series.uid if series is not None else "",
            )
        except DicomExportError as error:
            raise SendNotPossible(str(error)) from error
        return [
            path
            for path in (written.structured_report, written.presentation_state)
            if path is not None
        ]

    return SendChoice("Our SR and presentation state of this study's lesions", files)


def send_from_window(
    window: Any, *, series_id: str = "", study_uid: str = "", chosen: int = SERIES
) -> SendDialog | None:
    """Send to PACS… for the series ``series_id`` (default: the active view's),
    its study (or ``study_uid``) or our SR and GSPS of that study."""
    from PySide6.QtWidgets import QMessageBox

    from imaging_viewer.ui.dialogs.send_dialog import SendChoice, SendDialog

    workspace = window.workspace
    active = window.state.active.series
    series = workspace.series(series_id) if series_id else active
    study = workspace.studies.get(study_uid) if study_uid else None
    if study is None and series is not None:
        study = workspace.studies.get(series.study_uid)
    if study is None:
        QMessageBox.information(window, "Send to PACS", "Open a study first.")
        return None
    if series is None or series.study_uid != study.uid:
        series = study.series[0] if study.series else None
    study_files = sorted({f for s in study.series for f in s.files})
    choices = [
        SendChoice(
            f"Series: {series.description or '(no description)'} "
            f"({len(set(series.files))} files)"
            if series is not None
            else "Series: none",
            lambda: sorted({Path(f) for f in series.files}) if series else [],
        ),
        SendChoice(
            f"Study: {study.description or '(no description)'} "
            f"({len(study.series)} series, {len(study_files)} files)",
            lambda: [Path(f) for f in study_files],
        ),
    ]
    scratch: list[tempfile.TemporaryDirectory[str]] = []
    choices.append(annotation_documents_choice(window, study, scratch))
    dialog = SendDialog(choices, window, chosen=chosen, configure=_configure(window))
    dialog.destroyed.connect(lambda *_: _clean(scratch))
    return _show(window, dialog)


def _clean(scratch: list[tempfile.TemporaryDirectory[str]]) -> None:
    for folder in scratch:
        folder.cleanup()


def send_teaching_case(parent: QWidget, folder: Path) -> SendDialog:
    """Send a written teaching case: the de-identified DICOM files of its
    folder only (key images, SR, GSPS; never the sheet or the PNGs)."""
    from imaging_viewer.ui.dialogs.send_dialog import SendChoice, SendDialog

    choice = SendChoice(
        f"Teaching case (de-identified): {folder.name}",
        lambda: sorted(folder.rglob("*.dcm")),
    )
    dialog = SendDialog([choice], parent, configure=_configure(parent))
    return _show(parent, dialog)


def send_from_database(
    database_window: QWidget, entries: list[tuple[str, list[Path]]]
) -> SendDialog:
    """Send to PACS… the studies and series chosen in the Local database window:
    ``entries`` are their names and the files the database lists for them
    (those still on disk when Send is pressed are sent)."""
    from imaging_viewer.ui.dialogs.send_dialog import SendChoice, SendDialog

    files = sorted({path for _, paths in entries for path in paths})
    names = "; ".join(name for name, _ in entries[:3]) + (
        f" and {len(entries) - 3} more" if len(entries) > 3 else ""
    )
    choice = SendChoice(
        f"Selected in the local database: {names} ({len(files)} files)",
        lambda: [path for path in files if path.is_file()],
    )
    window = database_window.parentWidget()
    configure = _configure(window) if hasattr(window, "workspace") else None
    dialog = SendDialog([choice], database_window, configure=configure)
    return _show(database_window, dialog)
