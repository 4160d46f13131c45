"""The select tool: pick within a tolerance in mm, move the annotation or a handle."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest

from imaging_viewer.core.annotations.measure import measure
from imaging_viewer.core.annotations.model import (
    Bidirectional,
    EllipseRoi,
    PointMarker,
    Ruler,
)
from imaging_viewer.core.mpr import SlicePlane
from imaging_viewer.core.tools.pointer import DragSession, drive
from imaging_viewer.core.tools.select import find_annotation, select_and_edit
from tests.core.tools.fake_pointer import FRAME, drag, press, px, release

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from imaging_viewer.core.annotations.model import Annotation, AnnotationSet

AXIAL = (0.0, 0.0, 1.0)


def add(annotations: AnnotationSet, annotation: Annotation) -> Annotation:
    annotations.add_annotation(annotation)
    annotations.clear_history()
    return annotation


def ruler(plane: SlicePlane, a: tuple[float, float], b: tuple[float, float]) -> Ruler:
    return Ruler(
        lesion_id="lesion-1",
        frame_of_reference_uid=FRAME,
        plane_normal_lps=AXIAL,
        start_lps=px(plane, *a),
        end_lps=px(plane, *b),
    )


def move_with(
    annotations: AnnotationSet,
    plane: SlicePlane,
    start: NDArray[np.float64],
    end: NDArray[np.float64],
) -> DragSession:
    middle = (start + end) / 2
    return drive(
        select_and_edit(annotations, plane, "lesion-1", press(start)),
        [drag(middle), drag(end), release(end)],
    )


def test_the_nearest_annotation_within_tolerance_is_picked(
    annotations: AnnotationSet, plane: SlicePlane
) -> None:
    near = add(annotations, ruler(plane, (10, 10), (50, 10)))
    far = add(annotations, ruler(plane, (10, 20), (50, 20)))  # 8 mm below
    pointer = px(plane, 30, 12)  # 1.6 mm below the first ruler
    hit = find_annotation(annotations, plane, pointer, tolerance_mm=3.0)
    assert hit is not None
    assert hit.annotation == near
    assert hit.handle is None
    assert hit.distance_mm == pytest.approx(1.6)
    assert find_annotation(annotations, plane, pointer, tolerance_mm=1.0) is None
    hit = find_annotation(annotations, plane, px(plane, 30, 18))
    assert hit is not None
    assert hit.annotation == far


def test_handles_win_over_outlines(
    annotations: AnnotationSet, plane: SlicePlane
) -> None:
    add(annotations, ruler(plane, (10, 10), (50, 10)))
    crossing = add(annotations, ruler(plane, (52, 8), (52, 30)))
    # 1 mm from the first ruler's line and 1.8 mm from the second's start.
    hit = find_annotation(
        annotations, plane, px(plane, 50, 10) + np.array([1.0, 1.0, 0.0])
    )
    assert hit is not None
    assert hit.handle == 1
    hit = find_annotation(
        annotations, plane, px(plane, 52, 8) + np.array([0.0, -0.5, 0])
    )
    assert hit is not None
    assert (hit.annotation, hit.handle) == (crossing, 0)


def test_dragging_moves_the_whole_annotation(
    annotations: AnnotationSet, plane: SlicePlane
) -> None:
    original = add(annotations, ruler(plane, (10, 10), (50, 10)))
    changes: list[str] = []
    annotations.changed.connect(changes.append)
    start = px(plane, 30, 11)
    offset = np.array([4.0, 6.0, 0.0])
    session = DragSession(select_and_edit(annotations, plane, "lesion-1", press(start)))
    assert annotations.selected_id == original.id
    session.send(drag(start + offset / 2))
    assert annotations.preview is not None
    assert annotations.annotation(original.id) == original, "not committed yet"
    session.send(drag(start + offset))
    session.send(release(start + offset))
    assert not session.active
    assert annotations.preview is None
    moved = annotations.annotation(original.id)
    np.testing.assert_allclose(moved.points_lps, original.points_lps + offset)
    assert changes == ["move ruler"]
    annotations.undo()
    assert annotations.annotation(original.id) == original
    assert not annotations.can_undo


def test_motion_counts_in_the_plane(
    annotations: AnnotationSet, plane: SlicePlane
) -> None:
    original = add(annotations, ruler(plane, (10, 10), (50, 10)))
    start = px(plane, 30, 10)
    move_with(annotations, plane, start, start + np.array([2.0, 0.0, 7.0]))
    moved = annotations.annotation(original.id)
    np.testing.assert_allclose(
        moved.points_lps, original.points_lps + np.array([2.0, 0.0, 0.0])
    )


def test_dragging_a_handle_moves_only_that_point(
    annotations: AnnotationSet, plane: SlicePlane
) -> None:
    original = add(annotations, ruler(plane, (10, 10), (50, 10)))
    move_with(annotations, plane, px(plane, 50, 10), px(plane, 50, 30))
    edited = annotations.annotation(original.id)
    np.testing.assert_allclose(
        edited.points_lps, [px(plane, 10, 10), px(plane, 50, 30)]
    )
    assert annotations.undo_description == "edit ruler"
    # 40 columns × 0.5 mm by 20 rows × 0.8 mm.
    assert measure(edited)[0].value == pytest.approx(np.hypot(20.0, 16.0))


def test_press_on_nothing_clears_the_selection(
    annotations: AnnotationSet, plane: SlicePlane
) -> None:
    original = add(annotations, ruler(plane, (10, 10), (50, 10)))
    annotations.select(original.id)
    session = DragSession(
        select_and_edit(annotations, plane, "lesion-1", press(px(plane, 150, 80)))
    )
    assert not session.active
    assert annotations.selected_id is None


def test_cancel_leaves_the_annotation(
    annotations: AnnotationSet, plane: SlicePlane
) -> None:
    original = add(annotations, ruler(plane, (10, 10), (50, 10)))
    session = drive(
        select_and_edit(annotations, plane, "lesion-1", press(px(plane, 30, 10))),
        [drag(px(plane, 30, 40))],
    )
    session.cancel()
    assert annotations.annotation(original.id) == original
    assert annotations.preview is None
    assert not annotations.can_undo


def test_a_click_without_motion_changes_nothing(
    annotations: AnnotationSet, plane: SlicePlane
) -> None:
    original = add(annotations, ruler(plane, (10, 10), (50, 10)))
    drive(
        select_and_edit(annotations, plane, "lesion-1", press(px(plane, 30, 10))),
        [release(px(plane, 30, 10))],
    )
    assert annotations.selected_id == original.id
    assert not annotations.can_undo


def ellipse(plane: SlicePlane) -> EllipseRoi:
    centre = px(plane, 100, 50)  # semi-axes 10 mm along x, 4 mm along y
    return EllipseRoi(
        lesion_id="lesion-1",
        plane_normal_lps=AXIAL,
        centre_lps=centre,
        axis1_end_lps=centre + np.array([10.0, 0, 0]),
        axis2_end_lps=centre + np.array([0, 4.0, 0]),
    )


def test_inside_an_roi_moves_it(annotations: AnnotationSet, plane: SlicePlane) -> None:
    original = add(annotations, ellipse(plane))
    start = px(plane, 100, 50) + np.array([2.0, 0.5, 0])  # inside, far from the outline
    move_with(annotations, plane, start, start + np.array([-5.0, 3.0, 0]))
    moved = annotations.annotation(original.id)
    np.testing.assert_allclose(
        moved.points_lps, original.points_lps + np.array([-5.0, 3.0, 0])
    )


def test_turning_an_ellipse_keeps_its_axes_perpendicular(
    annotations: AnnotationSet, plane: SlicePlane
) -> None:
    original = add(annotations, ellipse(plane))
    assert isinstance(original, EllipseRoi)
    handle = np.array(original.axis1_end_lps)
    # Drag the end of the 10 mm semi-axis to (6, 8) mm from the centre.
    move_with(annotations, plane, handle, handle + np.array([-4.0, 8.0, 0]))
    edited = annotations.annotation(original.id)
    assert isinstance(edited, EllipseRoi)
    assert edited.centre_lps == original.centre_lps
    assert edited.semi_axes_mm == pytest.approx((10.0, 4.0))
    centre = np.array(edited.centre_lps)
    np.testing.assert_allclose(np.array(edited.axis1_end_lps) - centre, [6.0, 8.0, 0])
    np.testing.assert_allclose(
        np.array(edited.axis2_end_lps) - centre, [-3.2, 2.4, 0], atol=1e-12
    )


def test_the_short_axis_stays_perpendicular(
    annotations: AnnotationSet, plane: SlicePlane
) -> None:
    origin = px(plane, 60, 40)
    measurement = Bidirectional(
        lesion_id="lesion-1",
        plane_normal_lps=AXIAL,
        long_start_lps=origin,
        long_end_lps=origin + np.array([20.0, 0, 0]),
        short_start_lps=origin + np.array([8.0, -3.0, 0]),
        short_end_lps=origin + np.array([8.0, 5.0, 0]),
    )
    add(annotations, measurement)
    # A short-axis end dragged obliquely moves only along the perpendicular.
    handle = np.array(measurement.short_end_lps)
    move_with(annotations, plane, handle, handle + np.array([3.0, 2.0, 0]))
    edited = annotations.annotation(measurement.id)
    assert isinstance(edited, Bidirectional)
    np.testing.assert_allclose(edited.short_end_lps, origin + np.array([8.0, 7.0, 0]))
    np.testing.assert_allclose(edited.short_start_lps, measurement.short_start_lps)
    # Turning the long axis by its end carries the short axis, still perpendicular
    # and crossing at the same fraction (8 / 20) of the long axis.
    handle = np.array(edited.long_end_lps)
    move_with(annotations, plane, handle, origin + np.array([0.0, 20.0, 0]))
    turned = annotations.annotation(measurement.id)
    assert isinstance(turned, Bidirectional)
    np.testing.assert_allclose(turned.long_end_lps, origin + np.array([0.0, 20.0, 0]))
    # The long axis now points along +y; perpendicular = normal × along = -x.
    np.testing.assert_allclose(
        turned.short_start_lps, origin + np.array([3.0, 8.0, 0]), atol=1e-12
    )
    np.testing.assert_allclose(
        turned.short_end_lps, origin + np.array([-7.0, 8.0, 0]), atol=1e-12
    )
    long_axis, short_axis = measure(turned)
    assert (long_axis.value, short_axis.value) == pytest.approx((20.0, 10.0))
    annotations.undo()
    annotations.undo()
    assert annotations.annotation(measurement.id) == measurement


def test_a_marker_from_a_sagittal_view_is_picked_on_an_axial_view(
    annotations: AnnotationSet, plane: SlicePlane
) -> None:
    position = px(plane, 80, 30)
    marker = add(
        annotations,
        PointMarker(
            lesion_id="lesion-1",
            frame_of_reference_uid=FRAME,
            plane_normal_lps=(1.0, 0.0, 0.0),
            position_lps=position,
        ),
    )
    hit = find_annotation(
        annotations,
        plane,
        position + np.array([1.0, 0, 0]),
        frame_of_reference_uid=FRAME,
    )
    assert hit is not None
    assert hit.annotation == marker
    above = SlicePlane(
        origin_lps=plane.origin_lps + np.array([0, 0, 5.0]),
        right_lps=plane.right_lps,
        down_lps=plane.down_lps,
        spacing_mm=plane.spacing_mm,
        size_px=plane.size_px,
    )
    assert find_annotation(annotations, above, position + np.array([0, 0, 5.0])) is None
    assert find_annotation(annotations, above, position, slab_mm=12.0) is not None
    assert (
        find_annotation(annotations, plane, position, frame_of_reference_uid="9.9")
        is None
    )
