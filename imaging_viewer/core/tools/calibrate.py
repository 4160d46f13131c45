"""The calibrate tool: a line over an object of known size sets an image's spacing.

The reader drags over a calibration ball or a prosthesis on a radiograph and
types its true size; the image's :class:`Calibration` is stored in the
annotation set (and file), and every length and area on that image is then in
mm from it (PS3.3 10.7.1.1, 10.7.1.3).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from imaging_viewer.core.annotations.calibration import Calibration
from imaging_viewer.core.annotations.model import Ruler
from imaging_viewer.core.tools.placement import Draft, build_or_none, place_points

if TYPE_CHECKING:
    from collections.abc import Callable

    from imaging_viewer.core.annotations.model import (
        Annotation,
        AnnotationSet,
        Point3,
    )
    from imaging_viewer.core.mpr import SlicePlane
    from imaging_viewer.core.tools.pointer import ImageRef, PointerEvent, ToolGenerator


def draw_calibration(
    annotations: AnnotationSet,
    plane: SlicePlane,
    lesion_id: str | None,
    event: PointerEvent,
    *,
    image: ImageRef | None = None,
    ask_length_mm: Callable[[float], float | None] = lambda _drawn: None,
) -> ToolGenerator:
    """Draw a line (one drag or two clicks), then ask its true length.

    The line shows as a ruler preview while it is drawn and is not kept as an
    annotation: on the release ``ask_length_mm(drawn_length)`` (the line's
    length in the image's own units) gives the object's size in mm, or None
    (cancelled); the image named by ``image`` is then calibrated, replacing
    any calibration it had. Nothing happens on an image without a SOP Instance
    UID (an MPR plane: calibration belongs to one acquired image).

    Parameters
    ----------
    annotations, plane, lesion_id, event, image
        As for :func:`~imaging_viewer.core.tools.ruler.draw_ruler`.
    ask_length_mm : callable
        Asks the reader the size of what the line covers.

    References
    ----------
    PS3.3 10.7.1.1 Pixel Spacing calibration; 10.7.1.3.
    """
    draft = Draft(annotations, plane, lesion_id, image)

    def build(points: list[Point3], _modifiers: frozenset[str]) -> Annotation | None:
        return build_or_none(
            lambda: Ruler(**draft.common(), start_lps=points[0], end_lps=points[1])
        )

    try:
        points, _ = yield from place_points(draft, event, 2, build)
    finally:
        draft.show(None)
    sop = draft.image.sop_instance_uid
    drawn = float(np.linalg.norm(np.subtract(points[1], points[0])))
    if not sop or drawn <= draft.min_step_mm:
        return
    known = ask_length_mm(drawn)
    if known is None:
        return
    try:
        calibration = Calibration(
            sop_instance_uid=sop,
            start_lps=points[0],
            end_lps=points[1],
            known_length_mm=known,
            frame=draft.image.frame,
        )
    except ValueError:
        return  # e.g. a size of 0 mm: nothing to calibrate by
    annotations.set_calibration(calibration)
