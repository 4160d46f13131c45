"""The workspace: every study open in the viewer, their volumes and annotations.

Qt-free. It scans and loads through a :class:`TaskRunner` it is given and tells
what happened through psygnal events; the window subscribes and draws. Nothing
here assumes one study: opening may add to what is open or replace it.
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from psygnal import Signal, SignalGroup

from imaging_viewer.core.workspace.study import Study
from imaging_viewer.core.workspace.tasks import run_synchronously
from imaging_viewer.core.workspace.volume_cache import VolumeCache

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Iterable

    from imaging_viewer.core.annotations.model import AnnotationSet
    from imaging_viewer.core.dicom.patient_identity import PatientKey
    from imaging_viewer.core.dicom.scan import ScanResult
    from imaging_viewer.core.dicom.series import SeriesInfo
    from imaging_viewer.core.exchange.annotation_documents import (
        AnnotationDocuments,
    )
    from imaging_viewer.core.exchange.structured_report import DicomImport
    from imaging_viewer.core.exchange.timepoint_report import TimepointReportOutcome
    from imaging_viewer.core.followup.response_table import TimepointData
    from imaging_viewer.core.teaching.burn_in import KeyImageBurnIn
    from imaging_viewer.core.teaching.case import TeachingCase
    from imaging_viewer.core.teaching.export import TeachingExport
    from imaging_viewer.core.teaching.key_images import KeyImageRef
    from imaging_viewer.core.viewer_state import ViewerState
    from imaging_viewer.core.volume import Volume, Window
    from imaging_viewer.core.workspace.tasks import TaskHandle, TaskRunner

PREVIEW_MIN_FRAMES = 8
"""Series with fewer frames than this load whole at once, without a preview."""


class WorkspaceEvents(SignalGroup):
    """What the workspace tells its observers (on the thread its runner
    delivers results on: the GUI thread in the application)."""

    progress = Signal(str, int, int)
    """(what, done, total) of the scan or load under way; total 0: unknown."""
    idle = Signal()
    """No scan or load runs any more."""
    opened = Signal(object)
    """A scan ended: the :class:`ScanResult` just added (or opened in place)."""
    series_grew = Signal(str, int, int)
    """(series id, instances before, instances now): a series already open
    came back from a later scan with more files (a retrieve under way)."""
    volume_loaded = Signal(str, object)
    """(series id, :class:`Volume`): a series' volume is ready (and cached)."""
    failed = Signal(str, str)
    """(what, message) of a scan or load that failed; "cancelled" when it was."""
    load_failed = Signal(str, str)
    """(series id, message) of a load that failed (after ``failed``)."""
    problem = Signal(str, str, str)
    """(severity, where, message) to show beside the scan's own problems."""


def merged_scan_results(first: ScanResult, second: ScanResult) -> ScanResult:
    """One scan result holding both, the series of ``second`` after those of
    ``first`` (a series already in ``first`` is not repeated; it takes the
    place of the one in ``first`` when it has more files: it grew)."""
    again = {s.id: s for s in second.series}
    kept = [
        again[s.id] if s.id in again and again[s.id].n_instances > s.n_instances else s
        for s in first.series
    ]
    known = {s.id for s in first.series}
    return dataclasses.replace(
        first,
        series=[*kept, *(s for s in second.series if s.id not in known)],
        skipped=[*first.skipped, *second.skipped],
        warnings=[*first.warnings, *second.warnings],
        files_examined=first.files_examined + second.files_examined,
    )


def main_series(series: list[SeriesInfo]) -> SeriesInfo:
    """The series to show first: the largest cross-sectional one (a localizer
    or scout is rarely what a reader wants first), else the first series."""
    volumes = [s for s in series if not s.is_projection and s.shape_kji[0] > 1]
    if not volumes:
        return series[0]
    return max(volumes, key=lambda s: (s.shape_kji[0], s.n_time_points))


def single_frame_series(series: SeriesInfo, k: int) -> SeriesInfo:
    """``series`` reduced to its acquired slice ``k`` (first time point)."""
    affine = series.ijk_to_lps.copy()
    affine[:3, 3] = affine[:3, 3] + affine[:3, 2] * k
    return dataclasses.replace(
        series,
        frames=((series.frames[0][k],),),
        shape_kji=(1, series.acquired_rows, series.acquired_columns),
        ijk_to_lps=affine,
        geometry=None,
    )


class Workspace:
    """Studies of patients (patient → study → series), grouped from what was
    opened, with a volume cache, load tasks and per-study annotations.

    Parameters
    ----------
    run : TaskRunner
        Starts slow work (default: at once, in the caller's thread).
    cache : VolumeCache, optional
        Where loaded volumes are kept (default: the default memory budget).
    autosave : bool
        Save each study's annotations a moment after they change, to
        ``sidecar(study_uid)``.
    reload_autosaved : bool
        Reload a study's autosaved annotations when they are first asked for.
    sidecar : callable, optional
        Study UID → autosave file (default
        :func:`~imaging_viewer.core.annotations.serialize.sidecar_path`).
    autosave_delay_s : float
        Quiet time after the last change before an autosave.
    """

    def __init__(
        self,
        run: TaskRunner = run_synchronously,
        *,
        cache: VolumeCache | None = None,
        autosave: bool = True,
        reload_autosaved: bool = True,
        sidecar: Callable[[str], Path] | None = None,
        autosave_delay_s: float = 2.0,
    ) -> None:
        self.events = WorkspaceEvents()
        self._run = run
        self.cache = cache if cache is not None else VolumeCache()
        self._autosave = autosave
        self._reload_autosaved_files = reload_autosaved
        self._sidecar = sidecar
        self._autosave_delay_s = autosave_delay_s
        self.studies: dict[str, Study] = {}
        """Open studies by Study Instance UID, in the order they were opened."""
        self.scan_result: ScanResult | None = None
        """Everything opened, as one scan result (series in opening order)."""
        self._series: dict[str, SeriesInfo] = {}
        self._scan: TaskHandle | None = None
        self._loads: dict[str, _Load] = {}
        self.no_loads = threading.Event()
        """Set while no series load runs (thumbnails wait for it)."""
        self.no_loads.set()
        self.confirm_other_patient: (
            Callable[[list[PatientKey], list[PatientKey]], bool] | None
        ) = None
        """Asked (open patients, other patients) before a study of another
        patient is added beside those open; False keeps it out. Without it the
        study is added with a warning (never silently)."""

    # ------------------------------------------------------------------ opening
    def open(self, path: str | os.PathLike[str], *, replace: bool = True) -> None:
        """Scan ``path`` (folder, file or DICOMDIR) and add its studies, or put
        them in place of everything open (``replace``); :attr:`events`
        ``opened`` follows, or ``failed``."""
        from imaging_viewer.core.dicom.scan import scan_folder

        where = Path(path)
        self._start_scan(
            where.name or str(where),
            str(where),
            lambda progress, cancel: scan_folder(where, progress, cancel),
            replace=replace,
        )

    def open_files(
        self,
        paths: Iterable[str | os.PathLike[str]],
        name: str,
        *,
        replace: bool = False,
    ) -> None:
        """Scan exactly the files ``paths`` (a study or series of the local
        database, whose folders may hold other studies) and add their series,
        or put them in place of everything open (``replace``); the scan
        result's root is ``name``. :attr:`events` ``opened`` follows, or
        ``failed``; a study of another patient is asked about as by :meth:`open`.
        """
        from imaging_viewer.core.dicom.scan import scan_files

        files = [Path(p) for p in paths]
        self._start_scan(
            name,
            name,
            lambda progress, cancel: scan_files(files, progress, cancel, root=name),
            replace=replace,
        )

    def _start_scan(
        self,
        name: str,
        where: str,
        scan: Callable[[Any, Any], ScanResult],
        *,
        replace: bool,
    ) -> None:
        """Run ``scan`` in place of the scan under way, then add what it found."""
        self.cancel_scan()
        label = f"Scanning {name}…"
        self.events.progress.emit(label, 0, 0)

        def done(result: ScanResult) -> None:
            self._scan = None
            self.add_scan_result(result, replace=replace)
            self._emit_idle_if_idle()

        def failed(message: str) -> None:
            self._scan = None
            self.events.failed.emit(f"Scanning {where}", message)
            self._emit_idle_if_idle()

        self._scan = self._run(
            scan,
            on_done=done,
            on_failed=failed,
            on_progress=lambda n, total: self.events.progress.emit(label, n, total),
        )

    def add_scan_result(self, result: ScanResult, *, replace: bool = True) -> None:
        """Add the studies of a finished scan (or put them in place of all).

        A study of another patient (Patient ID and name, PS3.3 C.7.1.1) is added
        beside those open only when :attr:`confirm_other_patient` agrees;
        otherwise ``failed`` tells "cancelled" and nothing changes.
        """
        if not replace and not self._may_add(result):
            self.events.failed.emit(f"Adding {result.root}", "cancelled")
            return
        if replace or self.scan_result is None:
            self.close_all()
            self.scan_result = result
        else:
            self.scan_result = merged_scan_results(self.scan_result, result)
        grown: list[tuple[str, int, int]] = []
        for series in result.series:
            held = self._series.get(series.id)
            if held is not None:
                if series.n_instances > held.n_instances:
                    self._replace_series(held, series)
                    grown.append((series.id, held.n_instances, series.n_instances))
                continue  # opened before
            self._series[series.id] = series
            study = self.studies.get(series.study_uid)
            if study is None:
                study = self.studies[series.study_uid] = Study.of_series(series)
            study.series.append(series)
            if result.root not in study.roots:
                study.roots.append(result.root)
        self.events.opened.emit(result)
        for series_id, before, now in grown:
            self.events.series_grew.emit(series_id, before, now)

    def _replace_series(self, held: SeriesInfo, grown: SeriesInfo) -> None:
        """A series that has more files now (still arriving): its file list is
        replaced; its cached volume goes unless it is shown (pinned), which
        the viewer reloads (:meth:`reload`) keeping its slice and window."""
        self._series[grown.id] = grown
        study = self.studies.get(held.study_uid)
        if study is not None:
            study.series = [grown if s.id == grown.id else s for s in study.series]
        if grown.id not in self.cache.pinned:
            self.cache.discard(grown.id)

    def _may_add(self, result: ScanResult) -> bool:
        from imaging_viewer.core.dicom.patient_identity import (
            describe_patient,
            other_patients,
        )

        open_patients = self.patients
        others = other_patients(
            open_patients, ((s.patient_id, s.patient_name) for s in result.series)
        )
        if not others:
            return True
        if self.confirm_other_patient is not None:
            return self.confirm_other_patient(open_patients, others)
        self.events.problem.emit(
            "warning",
            str(result.root),
            "added a study of another patient: "
            + ", ".join(describe_patient(key) for key in others),
        )
        return True

    def close_all(self) -> None:
        """Close every study: loads stop, autosaves are written, volumes go."""
        self.cancel_loads()
        for study in self.studies.values():
            if study.autosaver is not None:
                study.autosaver.close()
                study.autosaver = None
        self.studies.clear()
        self._series.clear()
        self.cache.clear()
        self.scan_result = None

    # ------------------------------------------------------------------ lookup
    def series(self, series_id: str) -> SeriesInfo | None:
        """A series of an open study by its id."""
        return self._series.get(series_id)

    def study_of(self, series_id: str) -> Study | None:
        """The study a series belongs to."""
        series = self._series.get(series_id)
        return None if series is None else self.studies.get(series.study_uid)

    def annotation_study(self, state: ViewerState) -> Study | None:
        """The study whose annotations the viewer edits: that of the first
        viewport's series, else the first study open."""
        series = state.viewports[0].series
        if series is not None and series.study_uid in self.studies:
            return self.studies[series.study_uid]
        return next(iter(self.studies.values()), None)

    @property
    def patients(self) -> list[tuple[str, str]]:
        """(Patient ID, Patient's Name) of the open studies, in opening order."""
        return list(dict.fromkeys(study.patient_key for study in self.studies.values()))

    # ------------------------------------------------------------------ volumes
    def volume(self, series_id: str) -> Volume | None:
        """The loaded volume of a series, if cached."""
        return self.cache.get(series_id)

    def is_loading(self, series_id: str) -> bool:
        """True while the series' volume loads."""
        return series_id in self._loads

    @property
    def scanning(self) -> bool:
        """True while a scan runs."""
        return self._scan is not None

    @property
    def busy(self) -> bool:
        """True while a scan or a load runs."""
        return self._scan is not None or bool(self._loads)

    def load(self, series_id: str) -> Volume | None:
        """The series' volume if cached; otherwise start loading it (once, however
        often asked) and return None: ``volume_loaded`` or ``failed`` follows."""
        cached = self.cache.get(series_id)
        if cached is not None or series_id in self._loads:
            return cached
        self._start_load(series_id)
        return self.cache.get(series_id)

    def reload(self, series_id: str) -> bool:
        """Load a series again although its volume is cached (its files grew);
        ``volume_loaded`` follows. False (nothing started) while it loads."""
        if series_id in self._loads or series_id not in self._series:
            return False
        self._start_load(series_id)
        return True

    def _start_load(self, series_id: str) -> None:
        series = self._series.get(series_id)
        if series is None:
            return
        from imaging_viewer.core.dicom.load import load_volume

        label = f"Loading {series.modality} {series.description or series.id}"
        self.events.progress.emit(label, 0, 0)
        load = _Load()

        def done(volume: Volume) -> None:
            if load.stopped.is_set():
                return  # cancelled meanwhile: nothing of it is kept
            self._end_load(series_id, load)
            current = self._series.get(series_id) is series
            if current or series_id in self.cache.pinned:
                self.cache.put(series_id, volume)  # else it grew meanwhile
            for warning in volume.warnings:
                if warning not in series.warnings:
                    self.events.problem.emit("warning", series.id, warning)
            self.events.volume_loaded.emit(series_id, volume)
            self._emit_idle_if_idle()

        def failed(message: str) -> None:
            if load.stopped.is_set():
                return
            self._end_load(series_id, load)
            self.events.failed.emit(f"Loading series {series_id}", message)
            self.events.load_failed.emit(series_id, message)
            self._emit_idle_if_idle()

        def work(
            progress: Callable[[int, int], None], cancel: Callable[[], bool]
        ) -> Volume:
            return load_volume(
                series,
                progress,
                lambda: load.stopped.is_set() or cancel(),
                resample_ready=True,
            )

        self.no_loads.clear()
        self._loads[series_id] = load

        def progress(done_count: int, total: int) -> None:
            if not load.stopped.is_set():
                self.events.progress.emit(label, done_count, total)

        load.handle = self._run(
            work, on_done=done, on_failed=failed, on_progress=progress
        )

    def load_preview(
        self, series_id: str, on_done: Callable[[SeriesInfo, Volume], None]
    ) -> bool:
        """Decode the middle image of a series alone, so something shows while
        the whole series loads; ``on_done(series, volume)`` gets it. False (and
        nothing started) for small series and those resampled on load."""
        series = self._series.get(series_id)
        if series is None:
            return False
        if series.geometry is not None and series.geometry.resample is not None:
            return False
        if len(series.frames[0]) * series.n_time_points < PREVIEW_MIN_FRAMES:
            return False
        from imaging_viewer.core.dicom.load import load_volume

        single = single_frame_series(series, len(series.frames[0]) // 2)
        self._run(
            lambda progress, cancel: load_volume(single, None, cancel),
            on_done=lambda volume: on_done(series, volume),
        )
        return True

    def cancel_load(self, series_id: str) -> None:
        """Stop loading one series (nothing of it is kept)."""
        load = self._loads.pop(series_id, None)
        if load is not None:
            load.stopped.set()
            if load.handle is not None:
                load.handle.cancel()
        self._update_no_loads()
        self._emit_idle_if_idle()

    def cancel_loads(self) -> None:
        """Stop every load."""
        for series_id in list(self._loads):
            self.cancel_load(series_id)

    def cancel_scan(self) -> None:
        """Stop the scan under way."""
        scan, self._scan = self._scan, None
        if scan is not None:
            scan.cancel()

    def cancel_all(self) -> None:
        """Stop the scan and every load."""
        self.cancel_scan()
        self.cancel_loads()

    def pin(self, series_ids: Iterable[str]) -> None:
        """The series shown in viewports: their volumes stay cached."""
        self.cache.pin(series_ids)

    def _end_load(self, series_id: str, load: _Load) -> None:
        if self._loads.get(series_id) is load:
            del self._loads[series_id]
        self._update_no_loads()

    def _update_no_loads(self) -> None:
        if self._loads:
            self.no_loads.clear()
        else:
            self.no_loads.set()

    def _emit_idle_if_idle(self) -> None:
        if not self.busy:
            self.events.idle.emit()

    # ------------------------------------------------------------------ annotations
    def annotations(self, study_uid: str) -> AnnotationSet:
        """The lesions and annotations of a study, made on first use with its
        autosaved annotations reloaded, and autosaved from then on."""
        from imaging_viewer.core.annotations.model import AnnotationSet

        study = self.studies.get(study_uid)
        if study is None:
            raise KeyError(f"no open study {study_uid!r}")
        if study.annotations is not None:
            return study.annotations
        annotations = study.annotations = AnnotationSet()
        self._reload_autosaved(study, annotations)
        if self._autosave:
            from imaging_viewer.core.annotations.serialize import Autosaver

            if self._sidecar is not None:
                study.autosaver = Autosaver(self._sidecar, self._autosave_delay_s)
            else:
                study.autosaver = Autosaver(delay_s=self._autosave_delay_s)
            # The study date orders time points in a follow-up (docs/annotations.md).
            date = study.date if len(study.date) == 8 and study.date.isdigit() else ""
            study.autosaver.watch(
                annotations,
                study.uid,
                study.frame_of_reference_uids,
                study_date=date,
                timepoint=study.timepoint,
            )
        return annotations

    def set_timepoint(self, study_uid: str, label: str) -> None:
        """Name a study's time point (``baseline``, ``follow-up 1``, …; empty:
        named by date order again); its annotation file records it as
        ``"timepoint"``, which the response table and the SR per time point use.

        Raises OSError when the annotation file cannot be written.
        """
        study = self.studies[study_uid]
        study.timepoint = " ".join(label.split())
        self.annotations(study_uid)  # the autosave records the label
        if study.autosaver is not None:
            study.autosaver.set_timepoint(study.timepoint)

    def timepoint_labels(self) -> dict[str, str]:
        """Each open study's time point label by Study Instance UID: the user's,
        else ``baseline``, ``follow-up 1``, … in date order per patient (an
        autosaved label is read back first)."""
        from imaging_viewer.core.followup.comparison import default_timepoint

        studies = list(self.studies.values())
        for study in studies:
            self.annotations(study.uid)
        return {study.uid: default_timepoint(studies, study) for study in studies}

    def _sidecar_of(self, study_uid: str) -> Path:
        from imaging_viewer.core.annotations.serialize import sidecar_path

        return (self._sidecar or sidecar_path)(study_uid)

    def _reload_autosaved(self, study: Study, annotations: AnnotationSet) -> None:
        if not self._reload_autosaved_files:
            return
        from imaging_viewer.core.annotations.serialize import AnnotationFileError, load

        path = self._sidecar_of(study.uid)
        if not path.exists():
            return
        try:
            loaded = load(path, study.uid)
        except AnnotationFileError as error:
            self.events.problem.emit("error", str(path), str(error))
            return
        with annotations.macro("load annotations"):
            for lesion in loaded.lesions:
                annotations.add_lesion(lesion)
        for calibration in loaded.calibrations:  # the reader's, PS3.3 10.7.1.1
            annotations.set_calibration(calibration)
        annotations.clear_history()
        if not study.timepoint:
            study.timepoint = _stored_timepoint(path)

    def timepoints(self, patient_key: tuple[str, str]) -> list[TimepointData]:
        """The open studies of one patient as time points of a response table
        (lesions matched by Tracking UID, PS3.16 TID 4108); studies of other
        patients are never mixed in."""
        from imaging_viewer.core.followup.response_table import TimepointData

        timepoints = []
        for study in self.studies.values():
            if study.patient_key != patient_key:
                continue
            first = study.series[0] if study.series else None
            timepoints.append(
                TimepointData(
                    self.annotations(study.uid),
                    study_uid=study.uid,
                    study_date=study.date
                    if len(study.date) == 8 and study.date.isdigit()
                    else "",
                    label=study.timepoint,
                    modality=first.modality if first else "",
                    series_description=first.description if first else "",
                    patient_id=study.patient_id,
                )
            )
        return timepoints

    def save_annotations(self, study_uid: str, path: str | os.PathLike[str]) -> None:
        """Write a study's annotations to ``path`` (atomically).

        Raises OSError when it cannot be written.
        """
        from imaging_viewer.core.annotations.serialize import save_atomic, to_json

        study = self.studies[study_uid]
        save_atomic(
            path,
            to_json(
                self.annotations(study_uid), study_uid, study.frame_of_reference_uids
            ),
        )

    def open_annotations(self, study_uid: str, path: str | os.PathLike[str]) -> int:
        """Put the annotations of the file at ``path`` in place of a study's
        (its lesions in one undoable step; its calibrations and key images
        replace the study's); returns the number of lesions.

        Raises AnnotationFileError or OSError with the reason.
        """
        from imaging_viewer.core.annotations.serialize import load

        loaded = load(path, study_uid)
        annotations = self.annotations(study_uid)
        with annotations.macro("open annotations"):
            annotations.clear()
            for lesion in loaded.lesions:
                annotations.add_lesion(lesion)
        for calibration in annotations.calibrations:
            annotations.remove_calibration(
                calibration.sop_instance_uid, calibration.frame
            )
        for calibration in loaded.calibrations:
            annotations.set_calibration(calibration)
        for mark in annotations.key_images:
            annotations.unmark_key_image(*mark.key)
        for mark in loaded.key_images:
            annotations.mark_key_image(mark)
        return len(loaded.lesions)

    def import_annotations(
        self, study_uid: str, path: str | os.PathLike[str]
    ) -> DicomImport:
        """Add the lesions of a TID 1500 SR or a GSPS drawn on images of the
        open studies to a study's annotations (a lesion already there is
        replaced by the file's); its warnings are emitted as problems.

        Raises
        ------
        InterchangeImportError
            The file is no readable SR or presentation state.
        """
        from imaging_viewer.core.exchange.interchange_import import (
            read_interchange_annotations,
        )

        series = self.scan_result.series if self.scan_result else []
        imported = read_interchange_annotations(path, series)
        annotations = self.annotations(study_uid)
        with annotations.macro(f"import {Path(path).name}"):
            for lesion in imported.annotation_set.lesions:
                if annotations.has_lesion(lesion.id):
                    annotations.remove_lesion(lesion.id)  # the file's version wins
                annotations.add_lesion(lesion)
        for warning in imported.warnings:
            self.events.problem.emit("warning", str(path), warning)
        return imported

    def export_teaching_case(
        self,
        study_uid: str,
        case: TeachingCase,
        out_dir: str | os.PathLike[str],
        burn_in: KeyImageBurnIn,
        **options: Any,
    ) -> TeachingExport:
        """A de-identified teaching case of a study's lesions
        (:func:`imaging_viewer.core.teaching.export.export_teaching_case`, whose
        keyword ``options`` it takes); ``burn_in`` draws the key images.

        Raises TeachingExportError or OSError with the reason.
        """
        from imaging_viewer.core.teaching.export import export_teaching_case

        if self.scan_result is None:
            raise KeyError("no study is open")
        return export_teaching_case(
            self.scan_result,
            self.annotations(study_uid),
            case,
            out_dir,
            burn_in=burn_in,
            study_uid=study_uid,
            **options,
        )

    def teaching_key_images(
        self, study_uid: str, *, displayed_series_uid: str = ""
    ) -> list[KeyImageRef]:
        """The key images a teaching case of the study would show (those its
        annotations are on), e.g. to review them for burned-in text first.

        Annotations that name no image (older files) go to the nearest image of
        ``displayed_series_uid``, the series they are shown on, first.
        """
        from imaging_viewer.core.teaching.key_images import select_key_images

        if self.scan_result is None:
            return []
        refs, _ = select_key_images(
            self._series_of(study_uid),
            self.annotations(study_uid),
            displayed_series_uid=displayed_series_uid,
        )
        return refs

    def export_annotation_documents(
        self,
        study_uid: str,
        folder: str | os.PathLike[str],
        *,
        window: Window | None = None,
        displayed_series_uid: str = "",
    ) -> tuple[AnnotationDocuments, list[str]]:
        """A study's lesions as a TID 1500 SR and a GSPS beside copies of their
        key images, not de-identified (for a PACS and other viewers); returns
        what was written and the warnings.

        Annotations that name no image (older files) go to the nearest image of
        ``displayed_series_uid`` first, and the SR and GSPS name that image.

        Raises DicomExportError or OSError with the reason.
        """
        from imaging_viewer.core.exchange.annotation_documents import (
            export_annotation_documents,
        )
        from imaging_viewer.core.teaching.key_images import (
            select_key_images,
            with_resolved_images,
        )

        series = self._series_of(study_uid)
        annotations = self.annotations(study_uid)
        images, warnings = select_key_images(
            series, annotations, displayed_series_uid=displayed_series_uid
        )
        result = export_annotation_documents(
            with_resolved_images(annotations, images),
            images,
            Path(folder),
            window=window,
            timepoint_label=self._timepoint_label(study_uid),
        )
        return result, [*warnings, *result.warnings]

    def _series_of(self, study_uid: str) -> list[SeriesInfo]:
        """The study's own series: its annotations' images are among them, never
        another open study's, even one sharing its frame of reference (a
        follow-up scanned in the same frame)."""
        study = self.studies.get(study_uid)
        if study is not None and study.series:
            return list(study.series)
        return list(self.scan_result.series) if self.scan_result else []

    def _timepoint_label(self, study_uid: str) -> str:
        """The study's time point label: the user's, else by date order."""
        from imaging_viewer.core.followup.comparison import default_timepoint

        self.annotations(study_uid)  # reads an autosaved label back
        return default_timepoint(list(self.studies.values()), self.studies[study_uid])

    def timepoint_reports_task(
        self,
        patient_key: tuple[str, str],
        folder: str | os.PathLike[str],
        *,
        displayed_series_uid: str = "",
    ) -> Callable[..., list[TimepointReportOutcome]]:
        """One TID 1500 SR per time point of a patient's open studies, into
        ``folder``: each study's lesions are copied now (quick, on the caller's
        thread), the returned ``fn(progress=, cancel=)`` writes them (slow: for
        a background thread) with :func:`~imaging_viewer.core.exchange.
        timepoint_report.write_timepoint_reports`, in study-date order, each
        labelled with its time point. Annotations resolve to the study's own
        images, never another study's in the same frame of reference."""
        from imaging_viewer.core.exchange.timepoint_report import (
            TimepointReportJob,
            write_timepoint_reports,
        )
        from imaging_viewer.core.teaching.key_images import (
            select_key_images,
            with_resolved_images,
        )

        studies = sorted(
            (s for s in self.studies.values() if s.patient_key == patient_key),
            key=lambda s: (s.date == "", s.date, s.time),
        )
        snapshots = [
            (
                study.uid,
                list(study.series),
                self._timepoint_label(study.uid),
                study.date if len(study.date) == 8 and study.date.isdigit() else "",
                with_resolved_images(self.annotations(study.uid), ()),  # a copy
            )
            for study in studies
        ]

        def write(
            progress: Callable[[int, int], None] | None = None,
            cancel: Callable[[], bool] | None = None,
        ) -> list[TimepointReportOutcome]:
            jobs = []
            for uid, series, label, date, lesions in snapshots:
                images, _ = select_key_images(
                    series, lesions, displayed_series_uid=displayed_series_uid
                )
                resolved = with_resolved_images(lesions, images)
                jobs.append(
                    TimepointReportJob(uid, label, date, resolved, tuple(images))
                )
            return write_timepoint_reports(
                jobs, folder, progress=progress, cancel=cancel
            )

        return write

    def flush_autosaves(self) -> None:
        """Write every pending autosave now."""
        for study in self.studies.values():
            if study.autosaver is not None:
                study.autosaver.flush()

    def close(self) -> None:
        """Stop all work and write what is pending (at exit)."""
        self.cancel_all()
        for study in self.studies.values():
            if study.autosaver is not None:
                study.autosaver.close()
                study.autosaver = None


def _stored_timepoint(path: Path) -> str:
    """The ``"timepoint"`` an annotation file records ("" when none or unreadable)."""
    import json

    from imaging_viewer.core.annotations.serialize import (
        AnnotationFileError,
        timepoint_of,
    )

    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return timepoint_of(document)[1] if isinstance(document, dict) else ""
    except (OSError, ValueError, AnnotationFileError):
        return ""


class _Load:
    """A load under way: its handle, and the flag that stops it (set on cancel,
    also when the runner's handle is not there yet)."""

    def __init__(self) -> None:
        self.stopped = threading.Event()
        self.handle: TaskHandle | None = None
