"""Opening studies in the window: the open dialogs, a first look at one image
of a folder, the scan in the background, and what the window shows once the
scan is done."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6 import QtWidgets

from imaging_viewer.core.workspace.growing_series import GrowingSeriesFollower
from imaging_viewer.core.workspace.workspace import main_series
from imaging_viewer.ui.first_look import Prefetch, first_look_file, look_at
from imaging_viewer.ui.workers import BackgroundTask, run_in_background

if TYPE_CHECKING:
    from imaging_viewer.core.dicom.patient_identity import PatientKey
    from imaging_viewer.core.dicom.scan import ScanResult
    from imaging_viewer.core.dicom.series import SeriesInfo
    from imaging_viewer.core.volume import Volume
    from imaging_viewer.ui.main_window import MainWindow


class StudyOpening:
    """Opens folders, files and DICOMDIRs in ``window`` (replacing what is open,
    or adding a study), and shows their series when the workspace has scanned
    them."""

    def __init__(self, window: MainWindow) -> None:
        self._window = window
        self._replace_on_open = True
        """The scan under way replaces what is open (else it adds a study)."""
        self._first_look_task: BackgroundTask | None = None
        self._pending_selector: str | None = None
        self._scan_after_first_paint: Path | None = None
        """The folder to scan once the deferred viewports are made."""
        window.workspace.confirm_other_patient = self._confirm_other_patient
        self.growing = GrowingSeriesFollower(window.workspace, window.state)
        """Series that grow while shown (a retrieve under way) are reloaded."""

    @property
    def looking(self) -> bool:
        """True while the first look at a folder is read."""
        return self._first_look_task is not None

    # ------------------------------------------------------------------ dialogs
    def open_folder(self) -> None:
        """Ask for a folder of DICOM files and open it."""
        folder = QtWidgets.QFileDialog.getExistingDirectory(
            self._window, "Open a folder of DICOM files", self._start_folder()
        )
        if folder:
            self._window.open_path(Path(folder))

    def open_file(self) -> None:
        """Ask for a DICOM file and open it."""
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self._window, "Open a DICOM file", self._start_folder()
        )
        if path:
            self._window.open_path(Path(path))

    def open_dicomdir(self) -> None:
        """Ask for a DICOMDIR and open what it lists."""
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self._window,
            "Open a DICOMDIR",
            self._start_folder(),
            "DICOMDIR (DICOMDIR dicomdir DIRFILE);;All files (*)",
        )
        if path:
            self._window.open_path(Path(path))

    def add_folder(self) -> None:
        """Ask for a folder, a file or a DICOMDIR's folder and add its studies to
        those open."""
        folder = QtWidgets.QFileDialog.getExistingDirectory(
            self._window, "Add the studies of a folder", self._start_folder()
        )
        if folder:
            self.add_study(Path(folder))

    def _confirm_other_patient(
        self, open_patients: list[PatientKey], others: list[PatientKey]
    ) -> bool:
        from imaging_viewer.ui.dialogs.other_patient_dialog import ask_other_patient

        window = self._window
        window.status.hide_progress()
        return ask_other_patient(window, open_patients, others)

    def _start_folder(self) -> str:
        return str(self._window.recent_studies.open_dialog_folder())

    # ------------------------------------------------------------------ opening
    def add_study(self, path: Path) -> None:
        """Scan ``path`` and add its studies to those open (the viewports keep
        what they show; empty ones get its series)."""
        self._window.workspace.cancel_scan()
        self._replace_on_open = False
        self._window.make_viewports()
        self._start_scan(path)

    def add_files(self, files: list[Path], name: str) -> None:
        """Scan exactly ``files`` (a study or series of the local database) and
        add their series as :meth:`add_study` does; with nothing open they are
        opened instead (main series first, ``name`` in the title)."""
        window = self._window
        replace = not window.workspace.studies
        if replace:
            window.cancel_loading()
            self._pending_selector = None
            window.loader.first_look = None
        else:
            window.workspace.cancel_scan()
        self._replace_on_open = replace
        window.make_viewports()
        window.workspace.open_files(files, name, replace=replace)

    def open_path(
        self, path: Path, series_selector: str | None, prefetched: Prefetch | None
    ) -> None:
        """Scan ``path`` (folder, file or DICOMDIR) in the background and show it;
        ``series_selector`` chooses the series of the first viewport.

        A folder gets a first look: one of its images (from the middle of the
        first folder that holds images) is read and shown before the scan of
        the whole folder starts. When the scan shows that image's series first,
        the image stays until the series has loaded, which then opens on it
        (other series open on their middle slice). ``prefetched``: that image,
        read ahead (``first_look.prefetch``).
        """
        window = self._window
        window.cancel_loading()
        self._replace_on_open = True
        self._pending_selector = series_selector
        window.loader.first_look = None
        window.status.show_progress(f"Scanning {path.name or path}…", 0, 0)
        if prefetched is not None and (
            prefetched.path != path or series_selector is not None
        ):
            prefetched = None
        if prefetched is None:
            window.make_viewports()  # nothing read ahead to show before them
        candidate = first_look_file(path) if series_selector is None else None
        if prefetched is not None:
            candidate = prefetched.candidate
        if candidate is None:
            self._start_scan(path)
            return

        def look(progress: object, cancel: Any) -> tuple[SeriesInfo, Volume] | None:
            if prefetched is not None:
                return prefetched.result.result()
            return look_at(candidate, cancel)

        def shown(result: tuple[SeriesInfo, Volume] | None) -> None:
            self._first_look_task = None
            viewport = window.state.viewports[0]
            if result is not None and not viewport.is_mpr:
                viewport.show(*result)
                window.loader.first_look = candidate
                window._note_first_image()
            if window.show_first_look(viewport):
                # The scan waits for the viewports: it would hold the GIL
                # before the first look is painted.
                self._scan_after_first_paint = path
                return
            self._start_scan(path)
            window.build_docks_after_paint()

        def failed(message: str) -> None:
            self._first_look_task = None
            window.make_viewports()
            window.build_docks_after_paint()
            if message != "cancelled":
                self._start_scan(path)

        ready = prefetched.result if prefetched is not None else None
        if ready is not None and ready.done() and ready.exception() is None:
            shown(ready.result())  # read ahead already: no round trip via a thread
            return
        self._first_look_task = run_in_background(look, on_done=shown, on_failed=failed)

    def start_waiting_scan(self) -> None:
        """Start the scan that waited for the first look's paint, if any."""
        scan, self._scan_after_first_paint = self._scan_after_first_paint, None
        if scan is not None:
            self._start_scan(scan)

    def cancel(self) -> None:
        """Stop the first look, and the scan waiting for it or under way."""
        self._scan_after_first_paint = None
        if self._first_look_task is not None:
            self._first_look_task.cancel()
            self._first_look_task = None
        self._window.workspace.cancel_scan()

    def _start_scan(self, path: Path) -> None:
        self._window.workspace.open(path, replace=self._replace_on_open)

    # ------------------------------------------------------------------ scanned
    def on_scanned(self, result: ScanResult) -> None:
        """Show what the scan found: list it, and fill the viewports (all of
        them when it replaces what was open; empty ones when it adds)."""
        window = self._window
        replaced, self._replace_on_open = self._replace_on_open, True
        window.status.hide_progress()
        everything = window.workspace.scan_result
        window.series_browser.set_scan_result(everything)
        window.series_browser.set_timepoints(window.workspace.timepoint_labels())
        window.problems_panel.set_scan_result(everything)
        if Path(result.root).exists():  # not a study named from the database
            window.recent_studies.add(Path(result.root))
        if not replaced:
            window.fill_empty_viewports()
            window.statusBar().showMessage(
                f"Added {len(result.series)} series from {result.root}", 10000
            )
            return
        for index, viewport in enumerate(window.state.viewports):
            if index == 0 and window.loader.first_look is not None:
                continue  # stays on screen until its series takes its place
            viewport.series = None
            viewport.volume = None
        window.setWindowTitle(f"imaging_viewer — {Path(result.root).name}")
        if not result.series:
            window.start_annotations()
            window.statusBar().showMessage(
                f"No DICOM images found in {result.root}", 10000
            )
            return
        self._show_first_series(result)
        window.start_annotations()
        if window.loader.first_look is not None:
            # Its series was not chosen for the first viewport: show that one.
            window.loader.first_look = None
            viewport = window.state.viewports[0]
            if viewport.volume is not None and not viewport.loading:
                viewport.series = None
                viewport.volume = None

    def _show_first_series(self, result: ScanResult) -> None:
        """The main series (or the one ``--series`` chose) in the first
        viewport, the next ones in the others shown."""
        window = self._window
        first = main_series(result.series)
        if self._pending_selector is not None:
            try:
                first = result.find_series(self._pending_selector)
            except LookupError as error:
                window.problems_panel.add_problem("error", "--series", str(error))
        order = [first] + [s for s in result.series if s.id != first.id]
        for index in range(window.state.visible_count):
            if index < len(order):
                window.show_series(order[index].id, index)
        window.state.active_index = 0
