"""Export of the active view: PNG as shown, a plane's values, the clipboard."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6 import QtWidgets

if TYPE_CHECKING:
    from collections.abc import Callable

    from PySide6.QtCore import QSettings
    from PySide6.QtGui import QImage
    from PySide6.QtWidgets import QStatusBar, QWidget

    from imaging_viewer.core.viewer_state import ViewerState
    from imaging_viewer.ui.slice_viewport import SliceViewportWidget

EXPORT_FILTERS: tuple[str, ...] = (
    "PNG image, as shown (*.png)",
    "NIfTI, values and geometry (*.nii.gz *.nii)",
    "NRRD, values and geometry (*.nrrd)",
    "MetaImage, values and geometry (*.mha)",
)
"""What the view can be exported as (file dialog filters)."""
_FILTER_SUFFIXES = dict(
    zip(EXPORT_FILTERS, (".png", ".nii.gz", ".nrrd", ".mha"), strict=True)
)


class ViewExport:
    """Saves or copies what the active viewport shows (File menu, Ctrl+E, Ctrl+C).

    ``settings``: where the last export folder is remembered (None: nowhere).
    """

    def __init__(
        self,
        parent: QWidget,
        state: ViewerState,
        active_widget: Callable[[], SliceViewportWidget],
        status_bar: QStatusBar,
        settings: QSettings | None,
    ) -> None:
        self._parent = parent
        self._state = state
        self._active_widget = active_widget
        self._status_bar = status_bar
        self._settings = settings
        self._last_folder: Path | None = None

    def sweep_leftovers(self) -> list[Path]:
        """At start-up, remove what killed saves and exports left in the places
        the app writes: the annotation autosave folder and the last export folder
        (stale hidden ``.tmp`` files and ``.staging`` folders only). Nothing is
        swept when nothing is remembered (``settings`` None, e.g. in tests)."""
        from imaging_viewer.core.annotations.serialize import user_data_dir
        from imaging_viewer.core.leftovers import sweep_leftovers

        if self._settings is None:
            return []
        folders = [user_data_dir() / "annotations"]
        stored = self._settings.value("export_folder")
        if isinstance(stored, str) and stored:
            folders.append(Path(stored))
        return sweep_leftovers(folders)

    def view_image(self, overlays: bool, include_patient: bool = True) -> QImage:
        """The active viewport's slice as a QImage at native resolution, in
        square pixels as on screen; with ``overlays``, its corner text,
        letters, scale bar and the annotations it shows are burned in (without
        the patient's and study's identifying lines unless ``include_patient``)."""
        from imaging_viewer.ui.export import render_view_image

        # As on screen: square pixels, whatever the grid's spacing.
        return render_view_image(
            self._state.active,
            overlays=overlays,
            include_patient=include_patient,
            correct_aspect=True,
            annotations=self._active_widget().annotations if overlays else None,
        )

    def file_name(self) -> str:
        """A name for the active view's PNG that says what it shows, without
        patient data: modality, series, plane and image, e.g.
        ``CT_Se201_Im22.png``, ``MR_Se4_coronal_Im128.png``."""
        viewport = self._state.active
        series = viewport.series
        parts = [series.modality.strip() if series and series.modality.strip() else ""]
        if series is not None and series.series_number is not None:
            parts.append(f"Se{series.series_number}")
        if viewport.is_mpr:
            parts.append(viewport.orientation)
        parts.append(f"Im{viewport.slice_index + 1}")
        if viewport.n_time_points > 1:
            parts.append(f"T{viewport.time_index + 1}")
        name = "_".join(part for part in parts if part) or "view"
        safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in name)
        return f"{safe}.png"

    def folder(self) -> Path:
        """Where the last export went (remembered), else the home folder."""
        if self._last_folder is None and self._settings is not None:
            stored = self._settings.value("export_folder")
            if isinstance(stored, str) and Path(stored).is_dir():
                self._last_folder = Path(stored)
        folder = self._last_folder
        return folder if folder is not None and folder.is_dir() else Path.home()

    def export_view(self, overlays: bool, include_patient: bool = True) -> None:
        """Save the active viewport's slice or plane: as PNG (what the view
        shows, native resolution), or as NIfTI, NRRD or MetaImage (its values
        in modality units with its place in patient space)."""
        from imaging_viewer.core.volume_io import VOLUME_SUFFIXES

        if self._state.active.volume is None:
            return
        path, chosen = QtWidgets.QFileDialog.getSaveFileName(
            self._parent,
            "Export the view",
            str(self.folder() / self.file_name()),
            ";;".join(EXPORT_FILTERS),
        )
        if not path:
            return
        target = Path(path)
        if not target.name.lower().endswith((".png", *VOLUME_SUFFIXES)):
            # No known suffix typed: the chosen type's.
            suffix = _FILTER_SUFFIXES.get(chosen, ".png")
            target = target.with_name(target.name + suffix)
        self._last_folder = target.parent
        if self._settings is not None:
            self._settings.setValue("export_folder", str(self._last_folder))
        try:
            if target.name.lower().endswith(VOLUME_SUFFIXES):
                self._write_plane(target)
            else:
                from imaging_viewer.ui.export import save_png

                save_png(self.view_image(overlays, include_patient), target)
        except (OSError, ValueError) as error:
            QtWidgets.QMessageBox.warning(
                self._parent, "Export failed", f"{target}: {error}"
            )
            return
        self._status_bar.showMessage(f"Saved {target}", 5000)

    def _write_plane(self, target: Path) -> None:
        from imaging_viewer.core.volume_io import write_plane

        current = self._state.active.current_slice()
        if current is None:
            raise ValueError("the viewport shows no image")
        if current.pixels.ndim != 2:
            raise ValueError("colour images are exported as PNG only")
        write_plane(current, target)

    def copy_view(self) -> None:
        """Copy the active viewport's image (with overlays) to the clipboard."""
        from imaging_viewer.ui.export import copy_to_clipboard

        if self._state.active.volume is not None:
            copy_to_clipboard(self.view_image(self._state.show_overlays))
            self._status_bar.showMessage("Copied the view", 3000)
