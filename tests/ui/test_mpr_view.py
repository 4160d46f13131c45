"""MPR in the viewer: three planes through one cursor, crosshair, oblique, slab."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QObject, QPointF

from imaging_viewer.core.dicom.load import load_volume
from imaging_viewer.core.dicom.scan import scan_folder
from imaging_viewer.core.viewer_state import ViewerState
from imaging_viewer.ui.main_window import MainWindow
from tests.conftest import window_settled

if TYPE_CHECKING:
    from pathlib import Path

    from pytestqt.qtbot import QtBot

    from tests.conftest import MakeSeries, SyntheticSeries


@pytest.fixture
def axial(make_series: MakeSeries) -> SyntheticSeries:
    # 24 axial slices of 32×40 pixels, anisotropic voxels (0.8 × 0.6 × 2.5 mm).
    return make_series(shape=(24, 40, 32), spacing_mm=(0.8, 0.6, 2.5), modality="MR")


@pytest.fixture
def mpr_window(qtbot: QtBot, axial: SyntheticSeries) -> MainWindow:
    window = MainWindow(remember_settings=False)
    qtbot.addWidget(window)
    window.resize(1500, 800)
    window.show()
    window.open_path(axial.folder)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    window.toggle_mpr(True)
    assert window.state.layout == "mpr"
    return window


def test_mpr_shows_three_planes_in_the_radiological_convention(
    mpr_window: MainWindow,
) -> None:
    views = mpr_window.state.viewports[:3]
    assert [v.orientation for v in views] == ["axial", "coronal", "sagittal"]
    letters = [v.orientation_letters() for v in views]
    assert letters[0] == {"left": "R", "right": "L", "top": "A", "bottom": "P"}
    assert letters[1] == {"left": "R", "right": "L", "top": "S", "bottom": "I"}
    assert letters[2] == {"left": "A", "right": "P", "top": "S", "bottom": "I"}
    # Anisotropic voxels keep their size: coronal rows are 2.5 mm apart.
    coronal = views[1].current_slice()
    assert coronal is not None
    assert coronal.spacing_mm == pytest.approx((0.8, 2.5))


def test_axial_view_shows_the_acquired_slice_at_the_cursor(
    mpr_window: MainWindow, axial: SyntheticSeries
) -> None:
    state = mpr_window.state.viewports[0]
    pixels = state.pixels()
    assert pixels is not None
    np.testing.assert_array_equal(pixels, axial.voxels[state.slice_index])


def test_clicking_in_one_view_moves_the_other_planes(
    mpr_window: MainWindow, qtbot: QtBot, axial: SyntheticSeries
) -> None:
    axial_widget = mpr_window.viewport_widgets[0]
    coronal, sagittal = mpr_window.state.viewports[1:3]
    # The centre of voxel (i=5, j=30) of the shown axial slice, on screen.
    point = axial_widget._widget_point(5.0, 30.0)
    axial_widget._start_crosshair_drag(point)
    cursor = np.asarray(coronal.cursor_lps)
    expected = axial.ijk_to_lps @ np.array(
        [5, 30, mpr_window.state.viewports[0].slice_index, 1]
    )
    np.testing.assert_allclose(cursor, expected[:3], atol=1e-6)
    assert sagittal.cursor_lps == coronal.cursor_lps
    # The coronal plane now passes through row j = 30; its pixels are that row.
    pixels = coronal.pixels()
    assert pixels is not None
    np.testing.assert_array_equal(pixels[::-1][:, :], axial.voxels[:, 30, :])


def test_scrolling_a_view_moves_the_cursor_along_its_normal(
    mpr_window: MainWindow,
) -> None:
    coronal_widget = mpr_window.viewport_widgets[1]
    axial_state = mpr_window.state.viewports[0]
    before_axial = axial_state.slice_index
    coronal_widget._scroll(1)  # the first step lands on a row of voxel centres
    start = np.asarray(mpr_window.state.viewports[1].cursor_lps)
    coronal_widget._scroll(3)
    moved = np.asarray(mpr_window.state.viewports[0].cursor_lps) - start
    # Coronal planes step along y (posterior) by one row spacing.
    np.testing.assert_allclose(np.abs(moved), [0.0, 3 * 0.6, 0.0], atol=1e-9)
    assert axial_state.slice_index == before_axial


def test_dragging_a_line_rotates_that_plane_about_the_cursor(
    mpr_window: MainWindow,
) -> None:
    axial_widget = mpr_window.viewport_widgets[0]
    sagittal = mpr_window.state.viewports[2]
    lines = axial_widget._crosshair_lines()
    line = next(item for item in lines if item[0] is sagittal)
    _, _, centre, unit = line
    grab = centre + unit * 60
    axial_widget._start_crosshair_drag(grab)
    assert axial_widget._rotating is not None
    assert sagittal.interpolation == "nearest"
    # Turn the line by 30° on screen.
    angle = math.radians(30)
    radius = 60
    start_angle = math.atan2(unit.y(), unit.x())
    target = centre + QPointF(
        math.cos(start_angle + angle) * radius, math.sin(start_angle + angle) * radius
    )
    axial_widget._drag_crosshair(target)
    axial_widget._end_crosshair_drag()
    assert sagittal.interpolation == "linear"
    plane = sagittal.plane()
    assert plane is not None
    # The sagittal normal (+x) turned by 30° within the axial plane (about z).
    normal = plane.normal_lps
    assert abs(normal[2]) < 1e-9
    assert math.degrees(math.acos(abs(normal[0]))) == pytest.approx(30, abs=1.0)
    mpr_window.state.reset_planes()
    assert sagittal.plane_rotation is None


class _PaintSpy(QObject):
    """Records the regions of the paint events a widget receives."""

    def __init__(self) -> None:
        super().__init__()
        self.rects: list[tuple[int, int, int, int]] = []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            rect = event.region().boundingRect()  # type: ignore[attr-defined]
            self.rects.append((rect.x(), rect.y(), rect.width(), rect.height()))
        return False


@pytest.mark.parametrize("change", ["turn", "reset"])
def test_turning_a_plane_repaints_its_line_in_the_other_views(
    mpr_window: MainWindow, qtbot: QtBot, change: str
) -> None:
    # Each view draws the other planes' lines across its whole viewport, so a
    # turned (or reset) plane must repaint the other views in full: a repaint
    # of the image alone left the old line outside the image.
    sagittal = mpr_window.state.viewports[2]
    turn = math.radians(25)
    c, s = math.cos(turn), math.sin(turn)
    about_z = (c, -s, 0.0, s, c, 0.0, 0.0, 0.0, 1.0)
    if change == "reset":
        sagittal.plane_rotation = about_z
    qtbot.wait(300)  # settled: no repaint pending
    spies = []
    for widget in mpr_window.viewport_widgets[:2]:
        spy = _PaintSpy()
        widget.viewport().installEventFilter(spy)
        spies.append((widget, spy))
    if change == "turn":
        sagittal.plane_rotation = about_z
    else:
        mpr_window.state.reset_planes()
    for widget, spy in spies:
        whole = widget.viewport().rect()
        full = (whole.x(), whole.y(), whole.width(), whole.height())
        qtbot.waitUntil(lambda spy=spy, full=full: full in spy.rects, timeout=2000)
        widget.viewport().removeEventFilter(spy)


def test_thick_slab_mip_is_the_maximum_over_the_slab(
    mpr_window: MainWindow, axial: SyntheticSeries
) -> None:
    state = mpr_window.state.viewports[0]
    k = state.slice_index
    state.slab_mm = 5.0  # three slices of 2.5 mm: k-1, k, k+1
    state.slab_mode = "mip"
    pixels = state.pixels()
    assert pixels is not None
    expected = axial.voxels[k - 1 : k + 2].max(axis=0)
    np.testing.assert_allclose(pixels, expected)
    state.slab_mode = "minip"
    np.testing.assert_allclose(state.pixels(), axial.voxels[k - 1 : k + 2].min(axis=0))


def test_leaving_mpr_restores_the_acquired_view(mpr_window: MainWindow) -> None:
    mpr_window.toggle_mpr(False)
    assert mpr_window.state.layout == "1x1"
    assert all(not v.is_mpr for v in mpr_window.state.viewports)


def test_enter_mpr_refuses_a_projection_image(sample_data: object) -> None:
    result = scan_folder(sample_data / "XR" / "RG2_JPLL.dcm")  # type: ignore[operator]
    state = ViewerState()
    series = result.series[0]
    state.viewports[0].show(series, load_volume(series))
    assert state.enter_mpr(0) is False
    assert state.layout == "1x1"


def test_an_exported_reformat_keeps_its_shape_on_screen(mpr_window: MainWindow) -> None:
    # Coronal: 32 columns of 0.8 mm across, 24 slices of 2.5 mm down. The
    # exported image is in square pixels of 0.8 mm, as the view shows it.
    mpr_window.state.active_index = 1
    coronal = mpr_window.state.active
    pixels = coronal.pixels()
    assert pixels is not None
    assert pixels.shape == (24, 32)
    image = mpr_window.view_export.view_image(True)
    assert (image.width(), image.height()) == (32, 75)


@pytest.mark.parametrize(
    ("typed", "chosen", "written"),
    [
        ("plane.nii.gz", "", "plane.nii.gz"),
        ("plane", "MetaImage, values and geometry (*.mha)", "plane.mha"),
    ],
)
def test_an_oblique_plane_exports_with_its_values_and_geometry(
    mpr_window: MainWindow,
    axial: SyntheticSeries,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    typed: str,
    chosen: str,
    written: str,
) -> None:
    import SimpleITK as sitk
    from PySide6 import QtWidgets

    mpr_window.state.active_index = 2
    sagittal = mpr_window.state.active
    turn = math.radians(20)
    c, s = math.cos(turn), math.sin(turn)
    sagittal.plane_rotation = (c, -s, 0.0, s, c, 0.0, 0.0, 0.0, 1.0)
    sagittal.sync_index_to_cursor()
    monkeypatch.setattr(
        QtWidgets.QFileDialog,
        "getSaveFileName",
        lambda *a, **k: (str(tmp_path / typed), chosen),
    )
    mpr_window.view_export.export_view(True)
    image = sitk.ReadImage(str(tmp_path / written))
    shown = sagittal.current_slice()
    assert shown is not None
    rows, columns = shown.pixels.shape
    assert image.GetSize() == (columns, rows, 1)
    # Each pixel lies where SimpleITK, resampling the series itself, puts it.
    series = sitk.GetImageFromArray(axial.voxels.astype(np.float32))
    series.SetSpacing((0.8, 0.6, 2.5))
    series.SetOrigin(tuple(float(v) for v in axial.ijk_to_lps[:3, 3]))
    reference = sitk.Resample(
        series, image, sitk.Transform(), sitk.sitkLinear, -1.0e6, sitk.sitkFloat32
    )
    ours = sitk.GetArrayFromImage(image).astype(np.float64)
    theirs = sitk.GetArrayFromImage(reference).astype(np.float64)
    inside = theirs > -1.0e5
    assert inside.mean() > 0.3
    np.testing.assert_allclose(ours[inside], theirs[inside], atol=1.0)
