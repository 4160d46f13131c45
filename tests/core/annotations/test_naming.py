"""Messages name annotations "Lesion 1, ruler 2", never by UUID (round 5)."""

from __future__ import annotations

from imaging_viewer.core.annotations.model import Angle, Lesion, Ruler
from imaging_viewer.core.annotations.naming import annotation_name

AXIAL = (0.0, 0.0, 1.0)


def _ruler(lesion_id: str, x: float) -> Ruler:
    return Ruler(
        lesion_id=lesion_id,
        plane_normal_lps=AXIAL,
        start_lps=(0.0, 0.0, 0.0),
        end_lps=(x, 0.0, 0.0),
    )


def test_annotations_are_numbered_by_kind_in_their_lesion() -> None:
    lesion = Lesion(label="Lesion 1")
    first, second = _ruler(lesion.id, 10.0), _ruler(lesion.id, 20.0)
    angle = Angle(
        lesion_id=lesion.id,
        plane_normal_lps=AXIAL,
        first_lps=(1.0, 0.0, 0.0),
        vertex_lps=(0.0, 0.0, 0.0),
        second_lps=(0.0, 1.0, 0.0),
    )
    lesion = Lesion(id=lesion.id, label="Lesion 1", annotations=(first, angle, second))
    assert annotation_name(lesion, first) == "Lesion 1, ruler 1"
    assert annotation_name(lesion, second) == "Lesion 1, ruler 2"
    assert annotation_name(lesion, angle) == "Lesion 1, angle 1"
    unlabelled = Lesion(id=lesion.id, label="", annotations=(first,))
    assert annotation_name(unlabelled, first, "lesion 3") == "lesion 3, ruler 1"
    assert first.id not in annotation_name(lesion, first)
