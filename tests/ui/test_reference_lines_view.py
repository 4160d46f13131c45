"""Reference lines and MPR layouts in the window, on real CT of the corpus.

A tilted Philips CT beside its sagittal localizer (one Frame of Reference):
the axial slice shows on the localizer as a red line where pydicom's geometry
puts it. A Philips head CT in MPR 2×2 (the fourth view the acquired slices),
one large + two small, double-click to maximize, the crosshair's gap, the
oblique angle in the corner; the fourth view of 2×2 turned oblique.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pydicom
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QAction

from imaging_viewer.core.reference_lines import reference_lines
from imaging_viewer.ui.main_window import MainWindow
from imaging_viewer.ui.mpr_layouts import VIEWPORT_COLOURS
from tests.conftest import window_settled

if TYPE_CHECKING:
    from pathlib import Path

    from numpy.typing import NDArray
    from PySide6.QtGui import QColor, QImage
    from pytestqt.qtbot import QtBot

    from imaging_viewer.ui.slice_viewport import SliceViewportWidget


def _window(qtbot: QtBot, folder: Path) -> MainWindow:
    window = MainWindow(remember_settings=False)
    qtbot.addWidget(window)
    window.resize(1400, 800)
    window.show()
    window.open_path(folder)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    return window


def _pydicom_affine(dataset: pydicom.Dataset) -> NDArray[np.float64]:
    orientation = np.asarray(dataset.ImageOrientationPatient, dtype=float)
    row_spacing, column_spacing = (float(v) for v in dataset.PixelSpacing)
    affine = np.eye(4)
    affine[:3, 0] = orientation[:3] * column_spacing
    affine[:3, 1] = orientation[3:] * row_spacing
    affine[:3, 2] = np.cross(orientation[:3], orientation[3:])
    affine[:3, 3] = np.asarray(dataset.ImagePositionPatient, dtype=float)
    return affine


def _near(image: QImage, x: float, y: float, colour: QColor, radius: int = 2) -> bool:
    """Some pixel within ``radius`` of (x, y) has about ``colour``."""
    for dx in range(-radius, radius + 1):
        for dy in range(-radius, radius + 1):
            pixel = image.pixelColor(round(x) + dx, round(y) + dy)
            if (
                abs(pixel.red() - colour.red()) < 40
                and abs(pixel.green() - colour.green()) < 40
                and abs(pixel.blue() - colour.blue()) < 40
            ):
                return True
    return False


def _grab(widget: SliceViewportWidget) -> QImage:
    widget.settle()
    widget.viewport().repaint()
    return widget.viewport().grab().toImage()


@pytest.fixture
def philips_exam(corpus: Path) -> Path:
    return corpus / "dcm_qa_ct/In/Philips/S21610"


def test_the_axial_slice_shows_on_its_localizer(
    qtbot: QtBot, philips_exam: Path
) -> None:
    window = _window(qtbot, philips_exam)
    series = window.scan_result.series  # type: ignore[union-attr]
    axial = max(series, key=lambda s: len(s.files))
    localizer = next(
        s
        for s in series
        if s is not axial and s.frame_of_reference_uid == axial.frame_of_reference_uid
    )
    window.set_layout("1x2")
    window.show_series(axial.id, 0)
    window.show_series(localizer.id, 1)
    qtbot.waitUntil(lambda: window_settled(window), timeout=60_000)
    axial_state, localizer_state = window.state.viewports[:2]
    assert localizer_state.volume is not None
    assert localizer_state.volume.shape_kji[0] == 1
    target = window.viewport_widgets[1]
    # The line on the localizer is where pydicom's geometry puts the slice.
    header = pydicom.dcmread(philips_exam / "S1000/I10", stop_before_pixels=True)
    size = (int(header.Columns), int(header.Rows))
    affine = axial_state.pixel_to_lps()
    assert affine is not None
    normal = np.cross(affine[:3, 0], affine[:3, 1])
    normal /= np.linalg.norm(normal)
    files = [
        pydicom.dcmread(path, stop_before_pixels=True)
        for path in sorted((philips_exam / "S2010").glob("I*"))
    ]
    # The file whose position lies on the shown slice's plane.
    shown = min(
        files,
        key=lambda d: abs(
            float((np.asarray(d.ImagePositionPatient, float) - affine[:3, 3]) @ normal)
        ),
    )
    expected = reference_lines(_pydicom_affine(header), size, _pydicom_affine(shown))
    lines = list(target._reference_lines.lines())
    assert len(lines) == 1
    colour, segment, dashed = lines[0]
    assert colour == VIEWPORT_COLOURS[0]
    assert not dashed
    assert expected.centre is not None
    assert np.allclose(sorted(segment), sorted(expected.centre), atol=0.05)
    # It is drawn there, in the axial viewport's colour.
    image = _grab(target)
    (c1, r1), (c2, r2) = segment
    middle = target._widget_point((c1 + c2) / 2, (r1 + r2) / 2)
    assert _near(image, middle.x(), middle.y(), VIEWPORT_COLOURS[0])
    # The axial viewport's border wears the colour of its line.
    border = _grab(window.viewport_widgets[0])
    assert _near(border, 1, border.height() // 2, VIEWPORT_COLOURS[0], radius=1)
    # Scrolling the axial series moves the line along the localizer.
    axial_state.scroll(10)
    moved = next(iter(target._reference_lines.lines()))[1]
    assert abs(moved[0][1] - segment[0][1]) > 5
    (c1, r1), (c2, r2) = moved
    middle = target._widget_point((c1 + c2) / 2, (r1 + r2) / 2)
    assert _near(_grab(target), middle.x(), middle.y(), VIEWPORT_COLOURS[0])
    # No line on the axial image: the localizer is a single projection image.
    assert list(window.viewport_widgets[0]._reference_lines.lines()) == []
    window.actions_built.actions["reference_lines"].trigger()
    assert not window.state.show_reference_lines
    assert not window.actions_built.actions["reference_lines"].isChecked()
    assert list(target._reference_lines.lines()) == []
    image = _grab(target)
    assert not _near(image, middle.x(), middle.y(), VIEWPORT_COLOURS[0])


@pytest.fixture
def head_ct(qtbot: QtBot, corpus: Path) -> MainWindow:
    window = _window(qtbot, corpus / "dcm_qa_ct/In/Philips/S21570/S2010")
    window.actions_built.actions["mpr_layout_2x2"].trigger()
    assert window.state.layout == "mpr"
    qtbot.waitUntil(lambda: window.viewport_widgets[3].isVisible(), timeout=5_000)
    return window


def test_mpr_2x2_shows_the_acquired_slices_with_the_planes_crossing(
    head_ct: MainWindow,
) -> None:
    window = head_ct
    widgets = window.viewport_widgets
    assert all(widget.isVisible() for widget in widgets[:4])
    assert [v.orientation for v in window.state.viewports] == [
        "axial",
        "coronal",
        "sagittal",
        "acquired",
    ]
    top_left, bottom_right = widgets[0].geometry(), widgets[3].geometry()
    assert bottom_right.left() > top_left.right()
    assert bottom_right.top() > top_left.bottom()
    # On the acquired (axial) slices: the coronal and sagittal planes, not the
    # parallel axial one.
    colours = [colour for colour, _, _ in widgets[3]._reference_lines.lines()]
    assert colours == [VIEWPORT_COLOURS[1], VIEWPORT_COLOURS[2]]
    image = _grab(widgets[3])
    for colour, ((c1, r1), (c2, r2)), _ in widgets[3]._reference_lines.lines():
        point = widgets[3]._widget_point(c1 + (c2 - c1) / 4, r1 + (r2 - r1) / 4)
        assert _near(image, point.x(), point.y(), colour)
    # The axial plane shows on the coronal view as its crosshair line, and a
    # slab adds its faces as dashed lines there and on the acquired view.
    assert list(widgets[1]._reference_lines.lines()) == []
    window.state.viewports[0].slab_mm = 20.0
    faces = list(widgets[1]._reference_lines.lines())
    assert [(colour, dashed) for colour, _, dashed in faces] == [
        (VIEWPORT_COLOURS[0], True),
        (VIEWPORT_COLOURS[0], True),
    ]
    rows = sorted(segment[0][1] for _, segment, _ in faces)
    spacing = window.state.viewports[1].current_slice().spacing_mm[1]  # type: ignore[union-attr]
    assert (rows[1] - rows[0]) * spacing == pytest.approx(20.0, abs=0.01)


def test_double_click_maximizes_a_view_and_gives_the_others_back(
    qtbot: QtBot, head_ct: MainWindow
) -> None:
    widgets = head_ct.viewport_widgets
    coronal = widgets[1]
    qtbot.mouseDClick(coronal.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(40, 40))
    assert head_ct.state.maximized_index == 1
    qtbot.waitUntil(lambda: not widgets[0].isVisible(), timeout=2_000)
    assert coronal.isVisible()
    assert not any(widgets[n].isVisible() for n in (0, 2, 3))
    full = head_ct.centralWidget().width() * 0.9
    qtbot.waitUntil(lambda: coronal.width() > full, timeout=2_000)
    qtbot.mouseDClick(coronal.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(40, 40))
    qtbot.waitUntil(lambda: widgets[0].isVisible(), timeout=2_000)
    assert all(widget.isVisible() for widget in widgets[:4])


def test_one_large_and_two_small(qtbot: QtBot, head_ct: MainWindow) -> None:
    head_ct.actions_built.actions["mpr_layout_1+2"].trigger()
    assert head_ct.actions_built.actions["mpr_layout_1+2"].isChecked()
    widgets = head_ct.viewport_widgets
    qtbot.waitUntil(lambda: not widgets[3].isVisible(), timeout=2_000)
    qtbot.waitUntil(
        lambda: widgets[0].width() > 1.5 * widgets[1].width(), timeout=2_000
    )
    large, small = widgets[0].geometry(), widgets[1].geometry()
    assert large.width() == pytest.approx(2 * small.width(), rel=0.05)
    assert large.height() == pytest.approx(2 * small.height(), rel=0.05)


def test_the_crosshair_leaves_its_centre_clear(head_ct: MainWindow) -> None:
    axial = head_ct.viewport_widgets[0]
    image = _grab(axial)
    for _, colour, centre, unit in axial._crosshair_lines():
        for distance in (2, 6):
            point = centre + unit * distance
            assert not _near(image, point.x(), point.y(), colour, radius=0)
        point = centre + unit * 30
        assert _near(image, point.x(), point.y(), colour, radius=1)


def test_a_turned_plane_says_its_angle(head_ct: MainWindow) -> None:
    from imaging_viewer.core.geometry import rotation_about

    sagittal = head_ct.state.viewports[2]
    turned = rotation_about(np.array([0.0, 0.0, 1.0]), math.radians(12.5))
    sagittal.plane_rotation = tuple(float(v) for v in turned.ravel())
    text = head_ct.viewport_widgets[2]._corner_text()
    assert "Oblique 12.5°" in text["bottom_left"]


def test_the_fourth_view_is_free(head_ct: MainWindow) -> None:
    from imaging_viewer.ui.image_context_menu import build_image_menu

    window = head_ct
    widgets = window.viewport_widgets
    free = widgets[3]

    def show_entries(widget: SliceViewportWidget) -> dict[str, QAction]:
        menu = build_image_menu(window, window.actions_built, widget, QPointF(5, 5))
        entries = {a.objectName(): a for a in menu.findChildren(QAction)}
        return {name: a for name, a in entries.items() if name.startswith("free_")}

    # Only the fourth view has "Show"; it starts on the acquired slices.
    assert show_entries(widgets[0]) == {}
    entries = show_entries(free)
    assert sorted(entries) == [
        f"free_view_{kind}"
        for kind in sorted(("acquired", "oblique", "axial", "coronal", "sagittal"))
    ]
    assert entries["free_view_acquired"].isChecked()
    entries["free_view_oblique"].trigger()
    state = window.state.viewports[3]
    assert state.is_mpr
    assert state.plane_rotation is not None
    assert "Oblique 30.0°" in free._corner_text()["bottom_left"]
    assert show_entries(free)["free_view_oblique"].isChecked()
    # Its plane crosses the others as a blue crosshair line (turned by dragging
    # it), and they cross it; the acquired slices' lines are gone from it.
    assert VIEWPORT_COLOURS[3] in [c for _, c, _, _ in widgets[0]._crosshair_lines()]
    assert len(free._crosshair_lines()) == 3
    assert list(free._reference_lines.lines()) == []
    image = _grab(free)
    assert not image.isNull()
    show_entries(free)["free_view_sagittal"].trigger()
    assert state.orientation == "sagittal"
    assert state.plane_rotation is None
    show_entries(free)["free_view_acquired"].trigger()
    assert not state.is_mpr


def test_the_layout_button_lists_the_mpr_layouts_and_shows_the_current(
    head_ct: MainWindow,
) -> None:
    from imaging_viewer.ui.icons import icon

    built = head_ct.actions_built
    button = built.actions["toolbar_layout_menu"]
    entries = built.submenus["toolbar_layout_menu"].actions()
    names = [
        "layout_1x1",
        "layout_1x2",
        "layout_2x1",
        "layout_2x2",
        "mpr_layout_1x3",
        "mpr_layout_2x2",
        "mpr_layout_1+2",
    ]
    listed = [a for a in entries if not a.isSeparator()]
    assert listed == [built.actions[name] for name in names]
    # A separator between the grids and the MPR arrangements.
    assert entries[4].isSeparator()
    assert all(not action.icon().isNull() for action in listed)

    def shown() -> int:
        return button.icon().cacheKey()

    assert button.property("icon_name") == "layout-mpr-2x2"
    assert shown() == icon("layout-mpr-2x2").cacheKey()
    built.actions["mpr_layout_1+2"].trigger()
    assert button.property("icon_name") == "layout-mpr-1plus2"
    built.actions["mpr"].trigger()  # leave MPR: one viewport
    assert head_ct.state.layout == "1x1"
    assert button.property("icon_name") == "layout-1x1"
    assert shown() == icon("layout-1x1").cacheKey()
    built.actions["layout_1x2"].trigger()
    assert button.property("icon_name") == "layout-1x2"
