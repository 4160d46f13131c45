"""The ruler tool, driven by fake pointer events."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pytest

from imaging_viewer.core.annotations.measure import distance_to_plane_mm, measure
from imaging_viewer.core.annotations.model import Ruler
from imaging_viewer.core.geometry import affine_from_axes, rotation_about
from imaging_viewer.core.mpr import plane_for
from imaging_viewer.core.tools.pointer import DragSession, drive
from imaging_viewer.core.tools.ruler import draw_ruler
from imaging_viewer.core.volume import Volume
from tests.core.tools.fake_pointer import (
    FRAME,
    IMAGE,
    click,
    drag,
    hover,
    press,
    px,
    release,
)

if TYPE_CHECKING:
    from imaging_viewer.core.annotations.model import AnnotationSet
    from imaging_viewer.core.mpr import SlicePlane


def only_annotation(annotations: AnnotationSet) -> Ruler:
    (annotation,) = list(annotations.annotations())
    assert isinstance(annotation, Ruler)
    return annotation


def test_a_drag_draws_one_undoable_ruler(
    annotations: AnnotationSet, plane: SlicePlane
) -> None:
    changes: list[str] = []
    annotations.changed.connect(changes.append)
    start, middle, end = px(plane, 10, 10), px(plane, 20, 15), px(plane, 30, 40)
    session = DragSession(
        draw_ruler(annotations, plane, "lesion-1", press(start), image=IMAGE)
    )
    session.send(drag(middle))
    preview = annotations.preview
    assert isinstance(preview, Ruler)
    assert preview is session.preview
    np.testing.assert_allclose(preview.points_lps, [start, middle])
    assert not list(annotations.annotations()), "nothing is committed while dragging"
    session.send(drag(end))
    assert not session.send(release(end))
    assert annotations.preview is None
    ruler = only_annotation(annotations)
    np.testing.assert_allclose(ruler.points_lps, [start, end])
    assert ruler.lesion_id == "lesion-1"
    assert ruler.frame_of_reference_uid == FRAME
    assert ruler.referenced_sop_instance_uid == IMAGE.sop_instance_uid
    assert ruler.plane_normal_lps == (0.0, 0.0, 1.0)
    # 20 columns × 0.5 mm and 30 rows × 0.8 mm.
    (length,) = measure(ruler)
    assert length.value == pytest.approx(math.hypot(10.0, 24.0))
    assert changes == ["add ruler"]
    assert annotations.selected_id == ruler.id
    annotations.undo()
    assert not list(annotations.annotations())
    assert not annotations.can_undo


def test_two_clicks_draw_a_ruler(annotations: AnnotationSet, plane: SlicePlane) -> None:
    start, end = px(plane, 5, 5), px(plane, 5, 25)
    first, *rest = click(start)
    session = drive(
        draw_ruler(annotations, plane, "lesion-1", first),
        [*rest, hover(px(plane, 5, 15)), *click(end)],
    )
    assert not session.active
    np.testing.assert_allclose(only_annotation(annotations).points_lps, [start, end])


def test_cancel_adds_nothing(annotations: AnnotationSet, plane: SlicePlane) -> None:
    session = drive(
        draw_ruler(annotations, plane, "lesion-1", press(px(plane, 1, 1))),
        [drag(px(plane, 9, 9))],
    )
    assert annotations.preview is not None
    session.cancel()
    assert annotations.preview is None
    assert not list(annotations.annotations())
    assert not annotations.can_undo


def test_a_ruler_for_a_new_lesion_is_one_step(
    annotations: AnnotationSet, plane: SlicePlane
) -> None:
    first, *rest = [press(px(plane, 1, 1)), release(px(plane, 30, 1))]
    drive(draw_ruler(annotations, plane, None, first), rest)
    assert [lesion.label for lesion in annotations.lesions] == ["Lesion 1", "Lesion 2"]
    assert len(annotations.lesions[1].annotations) == 1
    annotations.undo()
    assert [lesion.label for lesion in annotations.lesions] == ["Lesion 1"]


def test_points_are_put_on_the_plane(
    annotations: AnnotationSet, plane: SlicePlane
) -> None:
    off = np.array([0.0, 0.0, 3.0])
    drive(
        draw_ruler(annotations, plane, "lesion-1", press(px(plane, 1, 1) + off)),
        [release(px(plane, 11, 1) - off)],
    )
    ruler = only_annotation(annotations)
    np.testing.assert_allclose(
        distance_to_plane_mm(ruler.points_lps, plane), 0.0, atol=1e-12
    )
    assert measure(ruler)[0].value == pytest.approx(5.0)


def test_a_ruler_on_an_oblique_plane() -> None:
    from imaging_viewer.core.annotations.model import AnnotationSet, Lesion

    volume = Volume(
        np.zeros((20, 30, 40), dtype=np.int16),
        affine_from_axes((0, 0, 0), (0.6, 0, 0), (0, 0.6, 0), (0, 0, 2.0)),
        frame_of_reference_uid=FRAME,
    )
    turn = rotation_about((0.3, 1.0, 0.2), math.radians(40.0))
    plane = plane_for(volume, "coronal", (12.0, 9.0, 20.0), turn)
    annotations = AnnotationSet([Lesion(id="l")])
    start, end = px(plane, 4, 7), px(plane, 16, 2)
    drive(draw_ruler(annotations, plane, "l", press(start)), [release(end)])
    ruler = only_annotation(annotations)
    column_mm, row_mm = plane.spacing_mm
    assert measure(ruler)[0].value == pytest.approx(
        math.hypot(12 * column_mm, 5 * row_mm)
    )
    np.testing.assert_allclose(ruler.plane_normal_lps, plane.normal_lps)
    assert len({round(float(z), 6) for z in ruler.points_lps[:, 1]}) == 2, "oblique"
