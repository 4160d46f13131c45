"""Point markers and text labels: placed where the pointer is released."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from imaging_viewer.core.annotations.model import PointMarker, TextLabel
from imaging_viewer.core.tools.marker import place_marker, place_text_label
from imaging_viewer.core.tools.pointer import DragSession, drive
from tests.core.tools.fake_pointer import IMAGE, drag, press, px, release

if TYPE_CHECKING:
    from imaging_viewer.core.annotations.model import AnnotationSet
    from imaging_viewer.core.mpr import SlicePlane


def test_marker_goes_where_the_pointer_is_released(
    annotations: AnnotationSet, plane: SlicePlane
) -> None:
    session = DragSession(
        place_marker(
            annotations, plane, "lesion-1", press(px(plane, 5, 5)), image=IMAGE
        )
    )
    assert isinstance(annotations.preview, PointMarker)
    session.send(drag(px(plane, 7, 9)))
    session.send(release(px(plane, 8, 9)))
    (marker,) = list(annotations.annotations())
    assert isinstance(marker, PointMarker)
    np.testing.assert_allclose(marker.position_lps, px(plane, 8, 9))
    assert marker.referenced_sop_instance_uid == IMAGE.sop_instance_uid
    assert annotations.preview is None
    annotations.undo()
    assert not list(annotations.annotations())


def test_text_label(annotations: AnnotationSet, plane: SlicePlane) -> None:
    drive(
        place_text_label(
            annotations, plane, "lesion-1", press(px(plane, 5, 5)), text="skip lesion"
        ),
        [release(px(plane, 5, 5))],
    )
    (label,) = list(annotations.annotations())
    assert isinstance(label, TextLabel)
    assert label.text == "skip lesion"
    np.testing.assert_allclose(label.anchor_lps, px(plane, 5, 5))
