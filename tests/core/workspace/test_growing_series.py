"""A series that grows while it is open (a retrieve under way, issue 14 item 4),
headless: the real 28-slice CT copied into a folder in two steps, checked
against pydicom."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

import numpy as np
import pydicom

from imaging_viewer.core.pacs.arrivals import ArrivingFiles
from imaging_viewer.core.viewer_state import ViewerState
from imaging_viewer.core.volume import Window
from imaging_viewer.core.workspace import Workspace
from imaging_viewer.core.workspace.growing_series import GrowingSeriesFollower
from imaging_viewer.core.workspace.viewport_loading import ViewportLoader

if TYPE_CHECKING:
    from pathlib import Path


def _ct_by_position(sample_data: Path) -> list[Path]:
    """The CT's files in slice order along the normal (pydicom)."""
    files = sorted((sample_data / "CT").iterdir())

    def position(path: Path) -> float:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        normal = np.cross(
            np.array(ds.ImageOrientationPatient[:3], float),
            np.array(ds.ImageOrientationPatient[3:], float),
        )
        return float(np.dot(normal, np.array(ds.ImagePositionPatient, float)))

    return sorted(files, key=position)


def _copy(files: list[Path], folder: Path) -> None:
    folder.mkdir(exist_ok=True)
    for path in files:
        shutil.copy(path, folder / path.name)


def _workspace() -> Workspace:
    return Workspace(autosave=False, reload_autosaved=False)


def test_a_growing_folder_scanned_again_gives_one_larger_series(
    sample_data: Path, tmp_path: Path
) -> None:
    ordered = _ct_by_position(sample_data)
    folder = tmp_path / "arriving"
    _copy(ordered[::3], folder)  # every third slice first, as a retrieve may
    workspace = _workspace()
    grew: list[tuple[str, int, int]] = []
    workspace.events.series_grew.connect(lambda *args: grew.append(args))

    workspace.open(folder, replace=False)
    assert workspace.scan_result is not None
    [first] = workspace.scan_result.series
    assert first.n_instances == len(ordered[::3])

    _copy(ordered, folder)
    workspace.open(folder, replace=False)
    [series] = workspace.scan_result.series
    assert series.n_instances == len(ordered) == 28
    assert grew == [(series.id, len(ordered[::3]), 28)]
    [study] = workspace.studies.values()
    assert [s.n_instances for s in study.series] == [28]
    assert workspace.series(series.id) is series

    workspace.open(folder, replace=False)  # nothing new: no event
    assert len(grew) == 1


def test_a_cached_volume_not_shown_is_dropped_when_its_series_grows(
    sample_data: Path, tmp_path: Path
) -> None:
    ordered = _ct_by_position(sample_data)
    folder = tmp_path / "arriving"
    _copy(ordered[:10], folder)
    workspace = _workspace()
    workspace.open(folder, replace=False)
    series_id = workspace.scan_result.series[0].id  # type: ignore[union-attr]
    assert workspace.load(series_id) is not None  # at once: synchronous runner
    _copy(ordered, folder)
    workspace.open(folder, replace=False)
    assert workspace.volume(series_id) is None
    volume = workspace.load(series_id)
    assert volume is not None
    assert volume.shape_kji[0] == 28


def test_a_shown_series_reloads_on_the_same_image_and_window(
    sample_data: Path, tmp_path: Path
) -> None:
    ordered = _ct_by_position(sample_data)
    folder = tmp_path / "arriving"
    _copy(ordered[10:20], folder)  # a middle part first: slices come before it
    workspace = _workspace()
    state = ViewerState()
    loader = ViewportLoader(workspace, state)
    follower = GrowingSeriesFollower(workspace, state)  # noqa: F841 (kept alive)
    workspace.open(folder, replace=False)
    series_id = workspace.scan_result.series[0].id  # type: ignore[union-attr]
    loader.show_series(series_id, 0)
    viewport = state.viewports[0]
    assert viewport.volume is not None
    assert viewport.volume.shape_kji[0] == 10
    viewport.set_slice(3)  # ordered[13]
    viewport.set_window(Window(40.0, 400.0))
    window = viewport.window

    _copy(ordered, folder)
    workspace.open(folder, replace=False)

    assert viewport.volume is not None
    assert viewport.volume.shape_kji[0] == 28
    assert viewport.series is not None
    assert viewport.series.n_instances == 28
    assert viewport.slice_index == 13
    assert viewport.window == window
    source = pydicom.dcmread(ordered[13])
    expected = source.pixel_array * float(source.RescaleSlope) + float(
        source.RescaleIntercept
    )
    shown = viewport.volume.voxels[13]
    np.testing.assert_allclose(shown, expected, atol=1e-3)
    assert workspace.volume(series_id) is viewport.volume


def test_arriving_files_open_first_images_at_once_then_now_and_then() -> None:
    from pathlib import Path

    now = [0.0]
    files = ArrivingFiles(interval_s=1.5, clock=lambda: now[0])
    study = Path("/db/1.2.3")
    assert files.next_due() is None
    files.stored(study / "1.2.3.4" / "a.dcm")
    files.expect(300)
    assert files.next_due() == study  # the first images: at once
    assert files.status() == "receiving 1/300"
    files.stored(study / "1.2.3.4" / "b.dcm")
    assert files.pending
    assert files.next_due() is None  # too soon
    now[0] = 1.6
    assert files.next_due() == study
    assert files.next_due() is None  # nothing new
    files.stored(study / "1.2.3.4" / "c.dcm")
    assert files.next_due(final=True) == study  # at the end: at once
    assert not files.pending
    files.ignore(study)
    files.stored(study / "1.2.3.4" / "d.dcm")
    assert files.next_due(final=True) is None
    assert ArrivingFiles().status() == "receiving 0"
