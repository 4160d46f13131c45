"""Series put into viewports from the workspace, headless."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from pydicom.uid import generate_uid

from imaging_viewer.core.dicom.scan import scan_folder
from imaging_viewer.core.viewer_state import ViewerState
from imaging_viewer.core.workspace import VolumeCache, Workspace
from imaging_viewer.core.workspace.viewport_loading import ViewportLoader

if TYPE_CHECKING:
    from tests.conftest import MakeSeries


class DeferredRunner:
    """Starts nothing until told: a load under way, as in the application."""

    def __init__(self) -> None:
        self.pending: list[tuple[Any, Any, Any]] = []

    def __call__(self, fn: Any, on_done: Any, on_failed: Any = None, **_: Any) -> Any:
        record = [fn, on_done, on_failed, False]

        class Handle:
            def cancel(self) -> None:
                record[3] = True

        self.pending.append(record)  # type: ignore[arg-type]
        return Handle()

    def finish_all(self) -> None:
        while self.pending:
            fn, on_done, on_failed, cancelled = self.pending.pop(0)
            if cancelled:
                if on_failed is not None:
                    on_failed("cancelled")
                continue
            on_done(fn(progress=lambda *_: None, cancel=lambda: False))


def two_series(make_series: MakeSeries) -> list[Any]:
    study_uid = generate_uid()
    frame = generate_uid()
    return [
        make_series(
            folder=f"s{n}",
            shape=shape,
            study_uid=study_uid,
            frame_of_reference_uid=frame,
            series_uid=generate_uid(),
            series_number=n + 1,
        )
        for n, shape in enumerate([(10, 6, 7), (12, 6, 7)])
    ]


def test_viewports_share_a_load_and_show_the_volume(make_series: MakeSeries) -> None:
    written = two_series(make_series)
    runner = DeferredRunner()
    workspace = Workspace(runner, autosave=False)
    workspace.add_scan_result(scan_folder(written[0].folder.parent))
    state = ViewerState(layout="1x2")
    loader = ViewportLoader(workspace, state)
    shown: list[int] = []
    loader.volume_shown.connect(shown.append)
    ids = [s.id for s in workspace.scan_result.series]  # type: ignore[union-attr]
    loader.show_series(ids[0], 0)
    loader.show_series(ids[0], 1)
    # One load for both viewports (previews aside), both waiting.
    assert workspace.is_loading(ids[0])
    assert state.viewports[0].loading
    assert state.viewports[1].loading
    runner.finish_all()
    assert shown == [0, 1]
    for viewport in state.viewports[:2]:
        assert not viewport.loading
        assert viewport.volume is workspace.volume(ids[0])
    assert workspace.cache.pinned == {ids[0]}


def test_a_viewport_switching_series_stops_the_load_nobody_waits_for(
    make_series: MakeSeries,
) -> None:
    written = two_series(make_series)
    runner = DeferredRunner()
    workspace = Workspace(runner, autosave=False, cache=VolumeCache(10**9))
    workspace.add_scan_result(scan_folder(written[0].folder.parent))
    state = ViewerState()
    loader = ViewportLoader(workspace, state)
    ids = [s.id for s in workspace.scan_result.series]  # type: ignore[union-attr]
    loader.show_series(ids[0], 0)
    loader.show_series(ids[1], 0)  # changed its mind before the first finished
    assert not workspace.is_loading(ids[0])
    runner.finish_all()
    assert workspace.volume(ids[0]) is None  # cancelled: nothing kept
    viewport = state.viewports[0]
    assert viewport.series is not None
    assert viewport.series.id == ids[1]
    expected = written[1].voxels
    assert viewport.volume is not None
    np.testing.assert_array_equal(viewport.volume.voxels, expected)
    # Back to the first series: loads again; the second stays cached.
    loader.show_series(ids[0], 0)
    runner.finish_all()
    assert workspace.volume(ids[1]) is not None
    assert workspace.cache.pinned == {ids[0]}


def test_cancel_leaves_no_viewport_waiting(make_series: MakeSeries) -> None:
    written = two_series(make_series)
    runner = DeferredRunner()
    workspace = Workspace(runner, autosave=False)
    workspace.add_scan_result(scan_folder(written[0].folder.parent))
    state = ViewerState()
    loader = ViewportLoader(workspace, state)
    series_id = workspace.scan_result.series[0].id  # type: ignore[union-attr]
    loader.show_series(series_id, 0)
    loader.cancel()
    runner.finish_all()
    assert not state.viewports[0].loading
    assert state.viewports[0].volume is None
    assert loader.waits_for(0) is None
    assert not workspace.busy
