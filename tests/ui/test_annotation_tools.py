"""Drawing lesions with the mouse: tools, measurements, display across planes, undo."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QMouseEvent

from imaging_viewer.core.annotations.measure import length_mm
from imaging_viewer.core.annotations.model import (
    Bidirectional,
    EllipseRoi,
    PointMarker,
    Ruler,
)
from imaging_viewer.ui.main_window import MainWindow
from tests.conftest import window_settled

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

    from imaging_viewer.ui.slice_viewport import SliceViewportWidget
    from tests.conftest import MakeSeries, SyntheticSeries


def _mouse(
    widget: SliceViewportWidget,
    kind: QMouseEvent.Type,
    at: QPointF,
    buttons: Qt.MouseButton,
    button: Qt.MouseButton = Qt.MouseButton.LeftButton,
) -> None:
    event = QMouseEvent(
        kind,
        at,
        widget.mapToGlobal(at),
        button,
        buttons,
        Qt.KeyboardModifier.NoModifier,
    )
    if kind == QMouseEvent.Type.MouseButtonPress:
        widget.mousePressEvent(event)
    elif kind == QMouseEvent.Type.MouseMove:
        widget.mouseMoveEvent(event)
    else:
        widget.mouseReleaseEvent(event)


def _drag(widget: SliceViewportWidget, start: QPointF, end: QPointF) -> None:
    left = Qt.MouseButton.LeftButton
    _mouse(widget, QMouseEvent.Type.MouseButtonPress, start, left)
    for f in (0.25, 0.5, 0.75, 1.0):
        _mouse(widget, QMouseEvent.Type.MouseMove, start + (end - start) * f, left)
    _mouse(widget, QMouseEvent.Type.MouseButtonRelease, end, Qt.MouseButton.NoButton)


@pytest.fixture
def series(make_series: MakeSeries) -> SyntheticSeries:
    # Non-square pixels: 0.7 mm between columns, 0.5 mm between rows, 3 mm slices.
    return make_series(shape=(12, 60, 50), spacing_mm=(0.7, 0.5, 3.0))


@pytest.fixture
def window(qtbot: QtBot, series: SyntheticSeries) -> MainWindow:
    main = MainWindow(remember_settings=False)
    qtbot.addWidget(main)
    main.resize(1300, 800)
    main.show()
    main.open_path(series.folder)
    qtbot.waitUntil(lambda: window_settled(main), timeout=60_000)
    return main


def test_ruler_drawn_with_the_mouse_measures_in_millimetres(
    window: MainWindow, series: SyntheticSeries
) -> None:
    widget = window.viewport_widgets[0]
    window.set_left_tool("ruler")
    _drag(widget, widget._widget_point(10, 20), widget._widget_point(40, 20))
    rulers = [a for a in window.state.annotations.annotations() if isinstance(a, Ruler)]
    assert len(rulers) == 1
    # 30 columns of 0.7 mm.
    assert length_mm(rulers[0].start_lps, rulers[0].end_lps) == pytest.approx(
        21.0, abs=1e-6
    )
    # The new lesion became the active one, and the panel lists it.
    assert window.state.active_lesion_id == window.state.annotations.lesions[0].id
    assert window.lesions_panel.tree.topLevelItemCount() == 1
    # Undo and redo.
    window.undo_action.trigger()
    assert not list(window.state.annotations.annotations())
    window.redo_action.trigger()
    assert len(list(window.state.annotations.annotations())) == 1


def test_bidirectional_and_ellipse_join_the_active_lesion(window: MainWindow) -> None:
    widget = window.viewport_widgets[0]
    window.set_left_tool("ellipse")
    _drag(widget, widget._widget_point(10, 10), widget._widget_point(30, 40))
    lesion = window.state.annotations.lesions[0]
    window.set_left_tool("bidirectional")
    left = Qt.MouseButton.LeftButton
    _drag(widget, widget._widget_point(12, 25), widget._widget_point(28, 25))
    # Then a click for the width.
    at = widget._widget_point(20, 30)
    _mouse(widget, QMouseEvent.Type.MouseMove, at, Qt.MouseButton.NoButton)
    _mouse(widget, QMouseEvent.Type.MouseButtonPress, at, left)
    _mouse(widget, QMouseEvent.Type.MouseButtonRelease, at, Qt.MouseButton.NoButton)
    kinds = {type(a) for a in window.state.annotations.lesion(lesion.id).annotations}
    assert kinds == {EllipseRoi, Bidirectional}
    assert len(window.state.annotations.lesions) == 1


def test_a_marker_on_the_axial_plane_shows_on_the_other_mpr_planes(
    window: MainWindow,
) -> None:
    widget = window.viewport_widgets[0]
    window.set_left_tool("marker")
    at = widget._widget_point(25, 30)
    left = Qt.MouseButton.LeftButton
    _mouse(widget, QMouseEvent.Type.MouseButtonPress, at, left)
    _mouse(widget, QMouseEvent.Type.MouseButtonRelease, at, Qt.MouseButton.NoButton)
    marker = next(iter(window.state.annotations.annotations()))
    assert isinstance(marker, PointMarker)
    window.toggle_mpr(True)
    window.go_to_annotation(marker.id)
    from imaging_viewer.ui.annotation_overlay import visible_annotations

    for index in range(3):
        view = window.viewport_widgets[index]
        plane = view.current_plane()
        assert plane is not None
        shown = visible_annotations(
            window.state.annotations,
            plane,
            view._slab_mm(plane),
            frame_of_reference_uid=view.image_ref().frame_of_reference_uid,
        )
        assert [a.id for _, a in shown] == [marker.id], view.state.orientation
    # And on the axial view it is drawn where it was placed.
    axial = window.viewport_widgets[0]
    pixel = axial.current_plane().lps_to_pixel(np.asarray(marker.position_lps))
    assert pixel[:2] == pytest.approx([25, 30], abs=1e-6)


def test_teaching_case_export_from_the_window(
    window: MainWindow, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The File menu action writes a de-identified case for the drawn lesion."""
    from PySide6.QtWidgets import QDialog, QFileDialog

    widget = window.viewport_widgets[0]
    window.set_left_tool("ruler")
    _drag(widget, widget._widget_point(10, 20), widget._widget_point(40, 20))
    monkeypatch.setattr(QDialog, "exec", lambda self: QDialog.DialogCode.Accepted)
    monkeypatch.setattr(
        QFileDialog, "getExistingDirectory", lambda *args, **kwargs: str(tmp_path)
    )
    window.lesion_export.export_teaching()
    folder = tmp_path / "teaching_case"  # type: ignore[operator]
    names = {p.name for p in folder.rglob("*")}
    assert {"case.md", "case.json"} <= names
    assert any(name.endswith(".png") for name in names)
    assert any(name.endswith(".dcm") for name in names)
    # The de-identified DICOM (key image, SR, presentation state) stays valid.
    import subprocess

    for path in folder.rglob("*.dcm"):
        report = subprocess.run(
            ["dciodvfy", str(path)], capture_output=True, text=True, check=False
        )
        errors = [
            line
            for line in (report.stdout + report.stderr).splitlines()
            if line.startswith("Error")
        ]
        assert not errors, f"{path.name}: {errors}"


@pytest.mark.parametrize("name", ["report_sr.dcm", "annotations_pr.dcm"])
def test_lesions_go_out_as_dicom_and_come_back(
    name: str, window: MainWindow, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Export as SR + GSPS, clear, import the SR or the GSPS: the same lesion and
    ruler, on the image it was drawn on; a file that is neither is refused."""
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    widget = window.viewport_widgets[0]
    window.set_left_tool("ruler")
    _drag(widget, widget._widget_point(10, 20), widget._widget_point(40, 20))
    before = window.state.annotations.lesions[0]
    monkeypatch.setattr(
        QFileDialog, "getExistingDirectory", lambda *args, **kwargs: str(tmp_path)
    )
    window.lesion_export.export_dicom()
    exported = tmp_path / "annotations_dicom" / "dicom" / name  # type: ignore[operator]
    assert exported.exists()
    window.state.annotations.clear()
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", lambda *args, **kwargs: (str(exported), "")
    )
    window.annotation_files.import_report()
    after = window.state.annotations.lesions
    assert [lesion.tracking_uid for lesion in after] == [before.tracking_uid]
    ruler = after[0].annotations[0]
    assert isinstance(ruler, Ruler)
    assert np.allclose(ruler.points_lps, before.annotations[0].points_lps, atol=1e-3)
    assert ruler.referenced_sop_instance_uid == (
        before.annotations[0].referenced_sop_instance_uid
    )

    warnings: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "warning", lambda parent, title, text: warnings.append(text)
    )
    junk = tmp_path / "junk.dcm"  # type: ignore[operator]
    junk.write_bytes(b"not dicom at all")
    assert not window.annotation_files.import_dicom_annotations(str(junk))
    assert len(warnings) == 1
    assert "junk.dcm" in warnings[0]
    assert len(window.state.annotations.lesions) == 1


def _click(widget: SliceViewportWidget, at: QPointF) -> None:
    _mouse(widget, QMouseEvent.Type.MouseMove, at, Qt.MouseButton.NoButton)
    _mouse(widget, QMouseEvent.Type.MouseButtonPress, at, Qt.MouseButton.LeftButton)
    _mouse(widget, QMouseEvent.Type.MouseButtonRelease, at, Qt.MouseButton.NoButton)


def test_every_drawing_tool_works_with_the_mouse(
    window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    from imaging_viewer.core.annotations.measure import angle_deg
    from imaging_viewer.core.annotations.model import (
        Angle,
        Arrow,
        CobbAngle,
        PolygonRoi,
        TextLabel,
    )

    w = window.viewport_widgets[0]
    p = w._widget_point
    window.set_left_tool("arrow")
    _drag(w, p(30, 30), p(10, 10))
    window.set_left_tool("angle")
    _drag(w, p(10, 40), p(30, 40))  # first arm: from the first point to the vertex
    _click(w, p(30, 20))  # the second arm's end
    window.set_left_tool("cobb")
    _drag(w, p(5, 5), p(20, 5))
    _drag(w, p(5, 25), p(20, 35))
    window.set_left_tool("polygon")
    for column, row in ((5, 45), (20, 45), (20, 55), (5, 55)):
        _click(w, p(column, row))
    _click(w, p(5, 45))  # back on the first vertex closes it
    monkeypatch.setattr(window, "_ask_label_text", lambda: "periosteal reaction")
    w.ask_text = window._ask_label_text
    window.set_left_tool("text")
    _click(w, p(40, 50))
    kinds = {type(a): a for a in window.state.annotations.annotations()}
    assert set(kinds) == {Arrow, Angle, CobbAngle, PolygonRoi, TextLabel}
    angle = kinds[Angle]
    assert angle_deg(
        angle.first_lps, angle.vertex_lps, angle.second_lps
    ) == pytest.approx(90.0, abs=0.5)
    assert kinds[TextLabel].text == "periosteal reaction"
    assert len(kinds[PolygonRoi].vertices_lps) == 4


def test_select_tool_moves_an_annotation(window: MainWindow) -> None:
    w = window.viewport_widgets[0]
    p = w._widget_point
    window.set_left_tool("ruler")
    _drag(w, p(10, 20), p(40, 20))
    ruler = next(iter(window.state.annotations.annotations()))
    window.set_left_tool("select")
    _drag(w, p(25, 20), p(25, 30))  # grab the line in its middle, move 10 rows down
    moved = window.state.annotations.annotation(ruler.id)
    shift = np.asarray(moved.points_lps) - np.asarray(ruler.points_lps)
    # Rows are 0.5 mm apart along +y (posterior) in this axial series.
    assert np.allclose(shift, [[0, 5.0, 0], [0, 5.0, 0]], atol=1e-6)


def _colour_pixels(image: object, colour: str) -> np.ndarray:
    """A mask of the pixels of ``image`` (QImage) close to ``colour``."""
    from PySide6.QtGui import QColor, QImage

    assert isinstance(image, QImage)
    rgb32 = image.convertToFormat(QImage.Format.Format_RGB32)
    pixels = np.frombuffer(rgb32.constBits(), dtype=np.uint32).reshape(
        rgb32.height(), rgb32.bytesPerLine() // 4
    )[:, : rgb32.width()]
    target = QColor(colour)
    red = (pixels >> 16) & 0xFF
    green = (pixels >> 8) & 0xFF
    blue = pixels & 0xFF
    return (
        (np.abs(red.astype(int) - target.red()) < 40)
        & (np.abs(green.astype(int) - target.green()) < 40)
        & (np.abs(blue.astype(int) - target.blue()) < 40)
    )


def test_the_exported_view_carries_the_annotations_drawn_on_it(
    window: MainWindow, qtbot: QtBot, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pathlib import Path

    from PySide6 import QtWidgets
    from PySide6.QtGui import QImage

    from imaging_viewer.ui.export import render_view_image

    widget = window.viewport_widgets[0]
    window.set_left_tool("ruler")
    _drag(widget, widget._widget_point(10, 20), widget._widget_point(40, 20))
    colour = window.state.annotations.lesions[0].colour
    # With overlays (Ctrl+E), the export shows the ruler along row 20, columns
    # 10 to 40 of the 50 × 60 slice, as the screen does: in square pixels of
    # 0.5 mm, so columns of 0.7 mm are 1.4 image pixels wide (70 × 60).
    out = Path(str(tmp_path)) / "view.png"
    suggested: list[str] = []

    def save_as(*args: object, **_: object) -> tuple[str, str]:
        suggested.append(str(args[2]))
        return str(out), ""

    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", save_as)
    window.view_export.export_view(True)
    # The suggested name says what the image is, with no patient data; the
    # next export starts in the folder of the last one.
    series = window.state.active.series
    assert series is not None
    image_number = window.state.active.slice_index + 1
    name = f"{series.modality}_Se{series.series_number}_Im{image_number}.png"
    assert Path(suggested[0]).name == name
    assert series.patient_name not in name
    saved = QImage(str(out))
    assert (saved.width(), saved.height()) == (70, 60)
    marked = _colour_pixels(saved, colour)
    rows, columns = np.nonzero(marked)
    assert rows.size > 10
    on_line = (np.abs(rows - 20.5) <= 2) & (columns >= 12) & (columns <= 59)
    assert on_line.mean() > 0.6  # the label sits beside the line
    assert np.any(on_line & (columns > 30) & (columns < 40))
    assert np.any(on_line & (columns >= 54))  # the far end, at 40.5 × 1.4
    # Without overlays (Ctrl+Shift+E): the plain windowed slice, no marks.
    window.view_export.export_view(False)
    assert Path(suggested[1]).parent == out.parent
    plain = QImage(str(out)).convertToFormat(QImage.Format.Format_RGB32)
    expected = render_view_image(
        window.state.active, overlays=False, correct_aspect=True
    )
    assert plain == expected.convertToFormat(QImage.Format.Format_RGB32)
    # On another slice the ruler is not shown, and not exported.
    window.state.active.set_slice(window.state.active.slice_index + 3)
    assert not _colour_pixels(window.view_export.view_image(True), colour).any()
