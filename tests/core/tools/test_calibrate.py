"""The calibrate tool: a line over an object of known size calibrates its image."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from imaging_viewer.core.annotations.model import Ruler
from imaging_viewer.core.tools.calibrate import draw_calibration
from imaging_viewer.core.tools.pointer import DragSession, ImageRef
from tests.core.tools.fake_pointer import IMAGE, drag, press, px, release

if TYPE_CHECKING:
    from imaging_viewer.core.annotations.model import AnnotationSet
    from imaging_viewer.core.mpr import SlicePlane


def _draw(
    annotations: AnnotationSet,
    plane: SlicePlane,
    answer: float | None,
    image: ImageRef = IMAGE,
) -> list[float]:
    asked: list[float] = []

    def ask(drawn: float) -> float | None:
        asked.append(drawn)
        return answer

    # 40 columns of 0.5 mm: a 20 mm line.
    start, end = px(plane, 10, 10), px(plane, 50, 10)
    session = DragSession(
        draw_calibration(
            annotations, plane, None, press(start), image=image, ask_length_mm=ask
        )
    )
    session.send(drag(end))
    assert isinstance(annotations.preview, Ruler)  # drawn as a ruler
    session.send(release(end))
    assert not session.active
    assert annotations.preview is None
    return asked


def test_the_line_and_the_typed_size_calibrate_the_image(
    annotations: AnnotationSet, plane: SlicePlane
) -> None:
    changes: list[str] = []
    annotations.changed.connect(changes.append)
    asked = _draw(annotations, plane, 25.0)
    assert asked == [pytest.approx(20.0)]
    calibration = annotations.calibration(IMAGE.sop_instance_uid)
    assert calibration is not None
    assert calibration.scale == pytest.approx(25.0 / 20.0)
    # Not an annotation: no lesion, nothing listed.
    assert not list(annotations.annotations())
    assert changes == ["calibrate image"]


@pytest.mark.parametrize("answer", [None, 0.0, -3.0, float("nan")])
def test_cancelled_or_nonsense_sizes_change_nothing(
    annotations: AnnotationSet, plane: SlicePlane, answer: float | None
) -> None:
    _draw(annotations, plane, answer)
    assert annotations.calibrations == ()


def test_an_mpr_plane_cannot_be_calibrated(
    annotations: AnnotationSet, plane: SlicePlane
) -> None:
    image = ImageRef(frame_of_reference_uid=IMAGE.frame_of_reference_uid)
    assert _draw(annotations, plane, 25.0, image) == []
    assert annotations.calibrations == ()
