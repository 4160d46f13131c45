"""Lesions, annotations and AnnotationSet: validation, events, undo and redo."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np
import pytest

from imaging_viewer.core.annotations.model import (
    ANNOTATION_KINDS,
    MIN_UNDO_DEPTH,
    Angle,
    Annotation,
    AnnotationSet,
    Arrow,
    Bidirectional,
    CobbAngle,
    EllipseRoi,
    Lesion,
    PointMarker,
    PolygonRoi,
    Ruler,
    TextLabel,
    is_valid_uid,
    new_uid,
)
from imaging_viewer.core.viewer_state import ViewerState

if TYPE_CHECKING:
    from collections.abc import Callable

AXIAL = (0.0, 0.0, 1.0)


def every_kind(lesion_id: str) -> list[Annotation]:
    """One annotation of each kind, on the axial plane z = 10."""
    common = {"lesion_id": lesion_id, "plane_normal_lps": AXIAL}
    return [
        PointMarker(**common, position_lps=(1, 2, 10)),
        Arrow(**common, tip_lps=(0, 0, 10), tail_lps=(5, 5, 10)),
        TextLabel(**common, anchor_lps=(3, 3, 10), text="skip lesion"),
        Ruler(**common, start_lps=(0, 0, 10), end_lps=(3, 4, 10)),
        Angle(
            **common, first_lps=(1, 0, 10), vertex_lps=(0, 0, 10), second_lps=(0, 1, 10)
        ),
        CobbAngle(
            **common,
            line1_start_lps=(0, 0, 10),
            line1_end_lps=(10, 0, 10),
            line2_start_lps=(0, 5, 10),
            line2_end_lps=(10, 8, 10),
        ),
        EllipseRoi(
            **common,
            centre_lps=(5, 5, 10),
            axis1_end_lps=(9, 5, 10),
            axis2_end_lps=(5, 7, 10),
        ),
        PolygonRoi(
            **common, vertices_lps=((0, 0, 10), (4, 0, 10), (4, 3, 10), (1, 5, 10))
        ),
        Bidirectional(
            **common,
            long_start_lps=(0, 0, 10),
            long_end_lps=(10, 0, 10),
            short_start_lps=(5, -2, 10),
            short_end_lps=(5, 3, 10),
        ),
    ]


@pytest.fixture
def populated() -> tuple[AnnotationSet, list[str]]:
    """A set with two lesions, the first holding one annotation of each kind."""
    annotations = AnnotationSet()
    first = annotations.add_lesion(annotations.make_lesion(site="left distal femur"))
    second = annotations.add_lesion(annotations.make_lesion(site="left proximal femur"))
    for annotation in every_kind(first.id):
        annotations.add_annotation(annotation)
    annotations.clear_history()
    return annotations, [first.id, second.id]


# ------------------------------------------------------------------ models


def test_every_kind_is_registered() -> None:
    kinds = {type(a) for a in every_kind("x")}
    assert set(ANNOTATION_KINDS.values()) == kinds
    assert len(ANNOTATION_KINDS) == 9


def test_lesion_defaults_are_unique_ids_and_dicom_uids() -> None:
    one, two = Lesion(), Lesion()
    assert one.id != two.id
    assert re.fullmatch(r"2\.25\.[1-9][0-9]*", one.tracking_uid)
    assert len(one.tracking_uid) <= 64
    assert is_valid_uid(one.tracking_uid)
    assert one.tracking_uid != two.tracking_uid
    assert is_valid_uid(new_uid())


@pytest.mark.parametrize("colour", ["red", "#12345", "#1234567", "#gg0000", ""])
def test_lesion_refuses_bad_colours(colour: str) -> None:
    with pytest.raises(ValueError, match="rrggbb"):
        Lesion(colour=colour)


@pytest.mark.parametrize("uid", ["", "1.2.03", "1..2", "abc", "1." + "2" * 70])
def test_lesion_refuses_bad_tracking_uids(uid: str) -> None:
    with pytest.raises(ValueError, match="UID"):
        Lesion(tracking_uid=uid)


def test_lesion_owns_only_its_annotations() -> None:
    lesion = Lesion()
    ruler = Ruler(
        lesion_id="other",
        plane_normal_lps=AXIAL,
        start_lps=(0, 0, 0),
        end_lps=(1, 0, 0),
    )
    with pytest.raises(ValueError, match="belongs to lesion"):
        Lesion(id=lesion.id, annotations=(ruler,))


def test_points_are_lps_tuples_and_normals_unit() -> None:
    ruler = Ruler(
        lesion_id="a",
        plane_normal_lps=np.array([0.0, 0.0, 2.0]),
        start_lps=np.array([1, 2, 3]),
        end_lps=[4.5, 6, 3],
    )
    assert ruler.start_lps == (1.0, 2.0, 3.0)
    assert ruler.plane_normal_lps == (0.0, 0.0, 1.0)
    np.testing.assert_array_equal(ruler.points_lps, [[1, 2, 3], [4.5, 6, 3]])
    moved = ruler.translated((1, 1, 0))
    assert moved.id == ruler.id
    assert moved.end_lps == (5.5, 7.0, 3.0)
    with pytest.raises(ValueError, match="finite"):
        Ruler(
            lesion_id="a",
            plane_normal_lps=AXIAL,
            start_lps=(np.nan, 0, 0),
            end_lps=(0, 0, 0),
        )
    with pytest.raises(ValueError, match="zero"):
        Ruler(
            lesion_id="a",
            plane_normal_lps=(0, 0, 0),
            start_lps=(0, 0, 0),
            end_lps=(0, 0, 0),
        )


def test_ellipse_axes_must_be_perpendicular_and_not_zero() -> None:
    common = {"lesion_id": "a", "plane_normal_lps": AXIAL, "centre_lps": (0, 0, 0)}
    with pytest.raises(ValueError, match="perpendicular"):
        EllipseRoi(**common, axis1_end_lps=(2, 0, 0), axis2_end_lps=(1, 1, 0))
    with pytest.raises(ValueError, match="longer than 0"):
        EllipseRoi(**common, axis1_end_lps=(2, 0, 0), axis2_end_lps=(0, 0, 0))
    ellipse = EllipseRoi(**common, axis1_end_lps=(3, 0, 0), axis2_end_lps=(0, -2, 0))
    assert ellipse.semi_axes_mm == (3.0, 2.0)


def test_bidirectional_short_axis_must_be_perpendicular() -> None:
    common = {
        "lesion_id": "a",
        "plane_normal_lps": AXIAL,
        "long_start_lps": (0, 0, 0),
        "long_end_lps": (10, 0, 0),
    }
    with pytest.raises(ValueError, match="perpendicular"):
        Bidirectional(**common, short_start_lps=(4, -2, 0), short_end_lps=(6, 2, 0))
    Bidirectional(**common, short_start_lps=(4, -2, 0), short_end_lps=(4, 2, 0))


def test_polygon_needs_three_vertices_and_takes_any_number() -> None:
    with pytest.raises(ValueError, match="at least 3"):
        PolygonRoi(
            lesion_id="a", plane_normal_lps=AXIAL, vertices_lps=((0, 0, 0), (1, 0, 0))
        )
    theta = np.linspace(0, 2 * np.pi, 500, endpoint=False)
    freehand = PolygonRoi(
        lesion_id="a",
        plane_normal_lps=AXIAL,
        vertices_lps=np.stack(
            [np.cos(theta), np.sin(theta), np.zeros_like(theta)], axis=1
        ),
    )
    assert freehand.points_lps.shape == (500, 3)
    assert freehand.with_points(freehand.points_lps[:10]).points_lps.shape == (10, 3)


def test_referenced_frame_is_one_based() -> None:
    with pytest.raises(ValueError, match="1-based"):
        PointMarker(
            lesion_id="a",
            plane_normal_lps=AXIAL,
            position_lps=(0, 0, 0),
            referenced_frame=0,
        )


# ----------------------------------------------------------------- the set


def test_changed_is_emitted_once_per_edit_with_a_description() -> None:
    annotations = AnnotationSet()
    seen: list[str] = []
    annotations.changed.connect(seen.append)
    lesion = annotations.add_lesion(annotations.make_lesion())
    ruler = every_kind(lesion.id)[3]
    annotations.add_annotation(ruler)
    annotations.translate_annotation(ruler.id, (1, 0, 0))
    annotations.undo()
    annotations.redo()
    assert seen == [
        "add lesion Lesion 1",
        "add ruler",
        "move ruler",
        "undo move ruler",
        "redo move ruler",
    ]


def test_new_lesions_get_numbered_labels_and_distinct_colours() -> None:
    annotations = AnnotationSet()
    first = annotations.add_lesion(annotations.make_lesion())
    second = annotations.add_lesion(annotations.make_lesion())
    assert (first.label, second.label) == ("Lesion 1", "Lesion 2")
    assert first.colour != second.colour


def _state(annotations: AnnotationSet) -> tuple[Lesion, ...]:
    return annotations.lesions


EDITS: dict[str, Callable[[AnnotationSet, list[str]], None]] = {
    "add lesion": lambda s, ids: s.add_lesion(Lesion(label="new"), 0),
    "remove lesion": lambda s, ids: s.remove_lesion(ids[0]),
    "update lesion": lambda s, ids: s.update_lesion(
        ids[0], diagnosis="osteosarcoma", colour="#00ff00", note="before chemo"
    ),
    "move lesion": lambda s, ids: s.move_lesion(ids[1], 0),
    "add annotation": lambda s, ids: s.add_annotation(every_kind(ids[1])[0]),
    "remove annotation": lambda s, ids: s.remove_annotation(
        s.lesion(ids[0]).annotations[4].id
    ),
    "update annotation": lambda s, ids: s.update_annotation(
        s.lesion(ids[0]).annotations[3].with_points([[0, 0, 10], [6, 8, 10]])
    ),
    "translate annotation": lambda s, ids: s.translate_annotation(
        s.lesion(ids[0]).annotations[7].id, (2, -1, 0)
    ),
    "move annotation": lambda s, ids: s.move_annotation(
        s.lesion(ids[0]).annotations[0].id, ids[1]
    ),
    "clear": lambda s, ids: s.clear(),
    "macro": lambda s, ids: _two_edits_in_a_macro(s, ids),
}


def _two_edits_in_a_macro(annotations: AnnotationSet, ids: list[str]) -> None:
    with annotations.macro("two edits"):
        annotations.update_lesion(ids[1], label="renamed")
        annotations.remove_annotation(annotations.lesion(ids[0]).annotations[1].id)


@pytest.mark.parametrize("name", list(EDITS))
def test_every_edit_undoes_and_redoes(
    populated: tuple[AnnotationSet, list[str]], name: str
) -> None:
    annotations, ids = populated
    seen: list[str] = []
    annotations.changed.connect(seen.append)
    before = _state(annotations)
    EDITS[name](annotations, ids)
    after = _state(annotations)
    assert after != before
    assert len(seen) == 1, "one edit, one changed signal"
    assert annotations.can_undo
    assert not annotations.can_redo
    description = annotations.undo_description
    assert annotations.undo() == description
    assert _state(annotations) == before
    assert annotations.redo_description == description
    assert annotations.redo() == description
    assert _state(annotations) == after
    assert seen[1:] == [f"undo {description}", f"redo {description}"]
    # Undo once more: the edit was a single step.
    annotations.undo()
    assert not annotations.can_undo
    assert _state(annotations) == before


def test_update_lesion_edits_only_text_fields(
    populated: tuple[AnnotationSet, list[str]],
) -> None:
    annotations, ids = populated
    with pytest.raises(TypeError, match="annotations"):
        annotations.update_lesion(ids[0], annotations="x")
    lesion = annotations.update_lesion(ids[0], site="left femur, diaphysis")
    assert lesion.site == "left femur, diaphysis"
    assert annotations.lesion(ids[0]).annotations == lesion.annotations


def test_moved_annotation_belongs_to_its_new_lesion(
    populated: tuple[AnnotationSet, list[str]],
) -> None:
    annotations, ids = populated
    marker = annotations.lesion(ids[0]).annotations[0]
    annotations.move_annotation(marker.id, ids[1])
    assert annotations.lesion_of(marker.id).id == ids[1]
    assert annotations.annotation(marker.id).lesion_id == ids[1]


def test_update_cannot_change_kind_or_lesion(
    populated: tuple[AnnotationSet, list[str]],
) -> None:
    annotations, ids = populated
    ruler = annotations.lesion(ids[0]).annotations[3]
    with pytest.raises(ValueError, match="move_annotation"):
        annotations.update_annotation(Ruler(**{**_fields(ruler), "lesion_id": ids[1]}))
    arrow = Arrow(
        id=ruler.id,
        lesion_id=ids[0],
        plane_normal_lps=AXIAL,
        tip_lps=(0, 0, 0),
        tail_lps=(1, 1, 0),
    )
    with pytest.raises(TypeError, match="ruler"):
        annotations.update_annotation(arrow)


def _fields(ruler: Annotation) -> dict[str, object]:
    assert isinstance(ruler, Ruler)
    return {
        "id": ruler.id,
        "lesion_id": ruler.lesion_id,
        "plane_normal_lps": ruler.plane_normal_lps,
        "start_lps": ruler.start_lps,
        "end_lps": ruler.end_lps,
    }


def test_ids_stay_unique(populated: tuple[AnnotationSet, list[str]]) -> None:
    annotations, ids = populated
    existing = annotations.lesion(ids[0]).annotations[0]
    with pytest.raises(ValueError, match="already used"):
        annotations.add_annotation(existing)
    with pytest.raises(ValueError, match="already used"):
        annotations.add_lesion(Lesion(id=ids[1]))
    with pytest.raises(KeyError):
        annotations.add_annotation(every_kind("no such lesion")[0])


def test_a_new_edit_clears_redo(populated: tuple[AnnotationSet, list[str]]) -> None:
    annotations, ids = populated
    annotations.update_lesion(ids[0], note="one")
    annotations.undo()
    assert annotations.can_redo
    annotations.update_lesion(ids[0], note="two")
    assert not annotations.can_redo
    assert annotations.redo() is None


def test_undo_goes_back_at_least_200_steps() -> None:
    annotations = AnnotationSet()
    lesion = annotations.add_lesion(Lesion(label="L"))
    initial = annotations.lesions
    states = []
    for n in range(MIN_UNDO_DEPTH + 50):
        annotations.update_lesion(lesion.id, note=f"edit {n}")
        states.append(annotations.lesions)
    for expected in reversed(states[:-1]):
        annotations.undo()
        assert annotations.lesions == expected
    annotations.undo()
    assert annotations.lesions == initial
    assert annotations.undo_depth >= MIN_UNDO_DEPTH


def test_undo_depth_is_bounded_and_at_least_200() -> None:
    with pytest.raises(ValueError, match="at least"):
        AnnotationSet(undo_depth=10)
    annotations = AnnotationSet(undo_depth=MIN_UNDO_DEPTH)
    lesion = annotations.add_lesion(Lesion())
    for n in range(MIN_UNDO_DEPTH + 5):
        annotations.update_lesion(lesion.id, note=str(n))
    steps = 0
    while annotations.undo() is not None:
        steps += 1
    assert steps == MIN_UNDO_DEPTH


def test_a_failing_macro_changes_nothing(
    populated: tuple[AnnotationSet, list[str]],
) -> None:
    annotations, ids = populated
    before = annotations.lesions
    seen: list[str] = []
    annotations.changed.connect(seen.append)

    def half_done() -> None:
        with annotations.macro("half done"):
            annotations.update_lesion(ids[0], label="changed")
            annotations.remove_lesion("no such lesion")

    with pytest.raises(KeyError):
        half_done()
    assert annotations.lesions == before
    assert seen == []
    assert not annotations.can_undo


def test_selection_follows_removal_and_undo(
    populated: tuple[AnnotationSet, list[str]],
) -> None:
    annotations, ids = populated
    selected: list[object] = []
    annotations.selection_changed.connect(selected.append)
    marker = every_kind(ids[1])[0]
    annotations.add_annotation(marker)
    annotations.select(marker.id)
    annotations.undo()
    assert annotations.selected_id is None
    assert selected == [marker.id, None]
    with pytest.raises(KeyError):
        annotations.select("nothing")


def test_preview_is_not_an_edit(populated: tuple[AnnotationSet, list[str]]) -> None:
    annotations, ids = populated
    previews: list[object] = []
    annotations.preview_changed.connect(previews.append)
    draft = every_kind(ids[0])[0]
    annotations.set_preview(draft)
    annotations.set_preview(None)
    assert previews == [draft, None]
    assert not annotations.can_undo


def test_the_viewer_state_makes_its_annotation_set_once_on_first_use() -> None:
    state = ViewerState()
    assert state._annotations is None  # not made before it is needed
    annotations = state.annotations
    assert isinstance(annotations, AnnotationSet)
    assert state.annotations is annotations
    assert ViewerState().annotations is not annotations
