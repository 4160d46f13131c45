"""The workspace, headless: studies opened and added, the volume cache's budget,
autosave per study, SR/GSPS import dispatch and cancelled loads."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np
import pydicom
import pytest
from pydicom.uid import generate_uid

from imaging_viewer.core.annotations.measure import length_mm
from imaging_viewer.core.annotations.model import Ruler
from imaging_viewer.core.exchange.interchange_import import InterchangeImportError
from imaging_viewer.core.volume import Volume
from imaging_viewer.core.workspace import VolumeCache, Workspace, run_synchronously

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tests.conftest import MakeSeries


class Recorder:
    """Every event of a workspace, in order."""

    def __init__(self, workspace: Workspace) -> None:
        self.events: list[tuple[str, tuple[Any, ...]]] = []
        for name in ("opened", "volume_loaded", "failed", "problem", "idle"):
            getattr(workspace.events, name).connect(
                lambda *args, name=name: self.events.append((name, args))
            )

    def named(self, name: str) -> list[tuple[Any, ...]]:
        return [args for event, args in self.events if event == name]


def study(make_series: MakeSeries, folder: str, **options: Any) -> Any:
    return make_series(
        folder=folder,
        study_uid=generate_uid(),
        frame_of_reference_uid=generate_uid(),
        series_uid=generate_uid(),
        **options,
    )


@pytest.fixture
def sidecars(tmp_path: Path) -> Callable[[str], Path]:
    return lambda uid: tmp_path / "autosave" / f"{uid}.json"


def test_open_replaces_and_add_keeps_what_is_open(
    make_series: MakeSeries, sidecars: Callable[[str], Path]
) -> None:
    first = study(make_series, "a")
    second = study(make_series, "b", shape=(6, 5, 4))
    workspace = Workspace(sidecar=sidecars, autosave=False)
    recorder = Recorder(workspace)

    workspace.open(first.folder)
    assert len(workspace.studies) == 1
    workspace.open(second.folder, replace=False)
    assert len(workspace.studies) == 2
    assert workspace.scan_result is not None
    assert len(workspace.scan_result.series) == 2
    assert len(recorder.named("opened")) == 2
    # Adding the same folder again adds no series twice.
    workspace.open(first.folder, replace=False)
    assert len(workspace.scan_result.series) == 2

    workspace.open(second.folder)  # replace
    assert len(workspace.studies) == 1
    only = next(iter(workspace.studies.values()))
    assert only.series[0].shape_kji == (6, 5, 4)
    assert only.roots == [str(second.folder)]


def test_a_loaded_volume_matches_the_files_and_is_cached(
    make_series: MakeSeries,
) -> None:
    written = study(make_series, "a")
    workspace = Workspace(autosave=False)
    recorder = Recorder(workspace)
    workspace.open(written.folder)
    series_id = workspace.scan_result.series[0].id  # type: ignore[union-attr]

    assert workspace.load(series_id) is None or True  # synchronous: already done
    loaded = recorder.named("volume_loaded")
    assert [args[0] for args in loaded] == [series_id]
    volume = loaded[0][1]
    np.testing.assert_array_equal(volume.voxels, written.voxels)
    np.testing.assert_allclose(volume.ijk_to_lps, written.ijk_to_lps, atol=1e-6)
    assert workspace.volume(series_id) is volume
    assert workspace.load(series_id) is volume  # cached: no second load
    assert len(recorder.named("volume_loaded")) == 1
    assert workspace.no_loads.is_set()


def volume_of(n_bytes: int) -> Volume:
    return Volume(
        voxels=np.zeros(n_bytes // 2, dtype=np.int16).reshape(1, 1, -1),
        ijk_to_lps=np.eye(4),
        frame_of_reference_uid="1.2",
    )


def test_the_budget_evicts_the_least_recently_used_unpinned_volume() -> None:
    cache = VolumeCache(budget_bytes=3000)
    for name in "abc":
        assert cache.put(name, volume_of(1000)) == []
    cache.get("a")  # a is now the most recently used: b is the oldest
    cache.pin(["b"])  # ...but b is shown
    assert cache.put("d", volume_of(1000)) == ["c"]
    assert sorted(cache) == ["a", "b", "d"]
    assert cache.put("e", volume_of(1000)) == ["a"]
    # Pinned volumes stay even over budget; unpinning lets them go.
    cache.pin(["b", "d", "e"])
    assert cache.put("f", volume_of(1000)) == []  # the newest stays for now
    assert cache.used_bytes == 4000
    assert cache.pin(["e"]) == ["b"]  # the least recently used of those let go
    assert sorted(cache) == ["d", "e", "f"]


def test_the_default_budget_is_half_the_memory_less_what_is_in_use() -> None:
    from imaging_viewer.core.workspace.volume_cache import (
        MIN_BUDGET_BYTES,
        default_budget_bytes,
        physical_memory_bytes,
    )

    budget = default_budget_bytes()
    assert budget >= MIN_BUDGET_BYTES
    assert budget <= max(physical_memory_bytes() // 2, MIN_BUDGET_BYTES)


def test_a_load_cancelled_half_way_leaves_no_volume(make_series: MakeSeries) -> None:
    written = study(make_series, "a", shape=(12, 6, 7))
    workspace = Workspace(autosave=False)
    recorder = Recorder(workspace)
    workspace.open(written.folder)
    series_id = workspace.scan_result.series[0].id  # type: ignore[union-attr]
    progress: list[tuple[int, int]] = []

    def on_progress(what: str, done: int, total: int) -> None:
        if what.startswith("Loading"):
            progress.append((done, total))
            if total and done >= total // 2:
                workspace.cancel_load(series_id)

    workspace.events.progress.connect(on_progress)
    assert workspace.load(series_id) is None
    assert progress, "the load reported no progress"
    # Cancelled at the first report past half-way; nothing reported after.
    assert progress[-1][0] < 12
    assert [done for done, _ in progress].count(progress[-1][0]) == 1
    assert workspace.volume(series_id) is None
    assert series_id not in workspace.cache
    assert recorder.named("volume_loaded") == []
    assert not workspace.is_loading(series_id)
    assert workspace.no_loads.is_set()
    # Asked again, it loads whole.
    workspace.events.progress.disconnect(on_progress)
    workspace.load(series_id)
    assert workspace.volume(series_id) is not None


def test_annotations_are_autosaved_per_study(
    make_series: MakeSeries, sidecars: Callable[[str], Path]
) -> None:
    first = study(make_series, "a")
    second = study(make_series, "b")
    workspace = Workspace(sidecar=sidecars, autosave_delay_s=0.0)
    workspace.open(first.folder)
    workspace.open(second.folder, replace=False)
    uids = list(workspace.studies)
    rulers = {}
    for number, uid in enumerate(uids):
        annotations = workspace.annotations(uid)
        lesion = annotations.add_lesion(annotations.make_lesion(label=f"L{number}"))
        series = workspace.studies[uid].series[0]
        ruler = Ruler(
            lesion_id=lesion.id,
            frame_of_reference_uid=series.frame_of_reference_uid,
            plane_normal_lps=(0.0, 0.0, 1.0),
            start_lps=(0.0, 0.0, float(number)),
            end_lps=(10.0, 0.0, float(number)),
        )
        annotations.add_annotation(ruler)
        rulers[uid] = ruler
    workspace.flush_autosaves()
    for uid in uids:
        assert sidecars(uid).exists()
    workspace.close()

    # A new workspace reloads each study's own annotations.
    again = Workspace(sidecar=sidecars)
    again.open(first.folder)
    again.open(second.folder, replace=False)
    for uid in uids:
        reloaded = list(again.annotations(uid).annotations())
        assert [a.id for a in reloaded] == [rulers[uid].id]
        assert length_mm(reloaded[0].start_lps, reloaded[0].end_lps) == pytest.approx(
            10.0
        )
    again.close()


def test_a_damaged_autosave_is_reported_and_left_alone(
    make_series: MakeSeries, sidecars: Callable[[str], Path]
) -> None:
    written = study(make_series, "a")
    workspace = Workspace(sidecar=sidecars, autosave_delay_s=0.0)
    recorder = Recorder(workspace)
    workspace.open(written.folder)
    uid = next(iter(workspace.studies))
    path = sidecars(uid)
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    assert list(workspace.annotations(uid).annotations()) == []
    problems = recorder.named("problem")
    assert problems
    assert problems[0][:2] == ("error", str(path))
    workspace.close()
    assert path.read_text() == "{not json"


def ruler_on_sample_ct(sample_data: Path) -> tuple[Any, Any]:
    """A ruler on one slice of sample_data/CT, and that slice's header."""
    from imaging_viewer.core.annotations.model import AnnotationSet

    path = sorted((sample_data / "CT").iterdir())[10]
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    origin = np.asarray(ds.ImagePositionPatient, dtype=float)
    row, column = np.asarray(ds.ImageOrientationPatient, dtype=float).reshape(2, 3)
    spacing = [float(v) for v in ds.PixelSpacing]
    normal = np.cross(row, column)

    def lps(c: float, r: float) -> tuple[float, float, float]:
        point = origin + row * c * spacing[1] + column * r * spacing[0]
        return float(point[0]), float(point[1]), float(point[2])

    annotations = AnnotationSet()
    lesion = annotations.add_lesion(annotations.make_lesion(label="L1 skull"))
    annotations.add_annotation(
        Ruler(
            lesion_id=lesion.id,
            frame_of_reference_uid=str(ds.FrameOfReferenceUID),
            referenced_sop_instance_uid=str(ds.SOPInstanceUID),
            plane_normal_lps=tuple(normal),
            start_lps=lps(100, 120),
            end_lps=lps(160, 200),
        )
    )
    return annotations, ds


def test_sr_and_gsps_are_told_apart_and_imported(
    sample_data: Path, tmp_path: Path
) -> None:
    from imaging_viewer.core.exchange.presentation_state import (
        export_presentation_state,
    )
    from imaging_viewer.core.exchange.structured_report import (
        export_measurement_report,
    )

    annotations, ds = ruler_on_sample_ct(sample_data)
    sources = {str(ds.SOPInstanceUID): ds}
    sr = tmp_path / "sr.dcm"
    export_measurement_report(annotations, sources, series_number=901).dataset.save_as(
        sr, enforce_file_format=True
    )
    pr = tmp_path / "pr.dcm"
    export_presentation_state(annotations, sources, series_number=902).dataset.save_as(
        pr, enforce_file_format=True
    )
    original = next(iter(annotations.annotations()))

    for path in (sr, pr):
        workspace = Workspace(autosave=False)
        workspace.open(sample_data / "CT")
        uid = next(iter(workspace.studies))
        imported = workspace.import_annotations(uid, path)
        assert len(imported.annotation_set.lesions) == 1
        (ruler,) = workspace.annotations(uid).annotations()
        assert isinstance(ruler, Ruler)
        assert length_mm(ruler.start_lps, ruler.end_lps) == pytest.approx(
            length_mm(original.start_lps, original.end_lps), abs=1e-3
        )
        # Imported twice: the file's lesion replaces the one already there.
        workspace.import_annotations(uid, path)
        assert len(workspace.annotations(uid).lesions) == 1

    not_dicom = tmp_path / "notes.txt"
    not_dicom.write_text("hello")
    with pytest.raises(InterchangeImportError, match=r"notes\.txt"):
        workspace.import_annotations(uid, not_dicom)


def test_the_synchronous_runner_reports_failures_and_cancellation() -> None:
    outcomes: list[str] = []

    def fail(progress: Any, cancel: Any) -> None:
        raise ValueError("broken file")

    run_synchronously(
        fail, on_done=lambda _: outcomes.append("done"), on_failed=outcomes.append
    )
    assert outcomes == ["broken file"]
    started = time.perf_counter()
    assert time.perf_counter() - started < 1


def test_the_study_lesions_export_as_sr_and_gsps_and_import_back(
    sample_data: Path, tmp_path: Path
) -> None:
    drawn, _ = ruler_on_sample_ct(sample_data)
    workspace = Workspace(autosave=False)
    workspace.open(sample_data / "CT")
    uid = next(iter(workspace.studies))
    annotations = workspace.annotations(uid)
    for lesion in drawn.lesions:
        annotations.add_lesion(lesion)
    written, warnings = workspace.export_annotation_documents(uid, tmp_path / "out")
    assert warnings == []
    assert written.structured_report is not None
    assert written.presentation_state is not None
    (original,) = drawn.annotations()
    for path in (written.structured_report, written.presentation_state):
        again = Workspace(autosave=False)
        again.open(sample_data / "CT")
        again.import_annotations(uid, path)
        (ruler,) = again.annotations(uid).annotations()
        assert length_mm(ruler.start_lps, ruler.end_lps) == pytest.approx(
            length_mm(original.start_lps, original.end_lps), abs=1e-3
        )


def test_timepoints_are_the_studies_of_one_patient(make_series: MakeSeries) -> None:
    from imaging_viewer.core.annotations.model import Lesion
    from imaging_viewer.core.followup.response_table import build_table

    def of(folder: str, patient: str, date: str) -> Any:
        tags = {"PatientID": patient, "PatientName": patient, "StudyDate": date}
        return study(make_series, folder, tags=tags)

    workspace = Workspace(autosave=False)
    for folder, patient, date in (
        ("later", "P1", "20240601"),
        ("other", "P2", "20240301"),
        ("first", "P1", "20240101"),
    ):
        workspace.open(of(folder, patient, date).folder, replace=False)
    by_date = {s.date: s for s in workspace.studies.values()}
    by_date["20240101"].timepoint = "diagnosis"
    lesion = Lesion(label="L1")
    workspace.annotations(by_date["20240101"].uid).add_lesion(lesion)
    workspace.annotations(by_date["20240601"].uid).add_lesion(
        Lesion(label="L1 again", tracking_uid=lesion.tracking_uid)
    )

    timepoints = workspace.timepoints(by_date["20240101"].patient_key)
    assert sorted(t.study_date for t in timepoints) == ["20240101", "20240601"]
    assert {t.patient_id for t in timepoints} == {"P1"}
    table = build_table(timepoints)
    assert [t.label for t in table.timepoints] == ["diagnosis", ""]
    assert [row.tracking_uid for row in table.rows] == [lesion.tracking_uid]
