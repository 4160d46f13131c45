"""What drawing tools share: a draft annotation on a plane, and placing its points.

Points are placed on presses and releases at least half a pixel away from the
last point placed (the last point only on a release); moves in between update
a floating point. So a ruler is one drag (press, release) or two clicks, an
angle a drag then a click or three clicks, and a Cobb angle two drags.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from imaging_viewer.core.annotations.model import AnnotationSet, as_point, new_id
from imaging_viewer.core.tools.pointer import ImageRef

if TYPE_CHECKING:
    from collections.abc import Callable, Generator

    from numpy.typing import ArrayLike

    from imaging_viewer.core.annotations.model import Annotation, Point3
    from imaging_viewer.core.geometry import Vec3
    from imaging_viewer.core.mpr import SlicePlane
    from imaging_viewer.core.tools.pointer import PointerEvent


def on_plane(plane: SlicePlane, position_lps: ArrayLike) -> Vec3:
    """``position_lps`` moved along the plane normal onto ``plane``."""
    position = np.asarray(position_lps, dtype=np.float64)
    distance = float((position - plane.origin_lps) @ plane.normal_lps)
    result: Vec3 = position - distance * plane.normal_lps
    return result


class Draft:
    """A new annotation being drawn on ``plane`` for a lesion.

    ``lesion_id`` None draws for a new lesion, added with the annotation in the
    same undoable step.
    """

    def __init__(
        self,
        annotations: AnnotationSet,
        plane: SlicePlane,
        lesion_id: str | None,
        image: ImageRef | None,
    ) -> None:
        self.annotations = annotations
        self.plane = plane
        self.new_lesion = lesion_id is None or not annotations.has_lesion(lesion_id)
        self.lesion_id = lesion_id if lesion_id is not None else new_id()
        self.image = image if image is not None else ImageRef()
        self.annotation_id = new_id()
        self.min_step_mm = 0.5 * min(plane.spacing_mm)
        """Closer points than this (half a pixel) count as the same point."""

    def common(self) -> dict[str, Any]:
        """The fields every annotation kind has, for this draft."""
        return {
            "id": self.annotation_id,
            "lesion_id": self.lesion_id,
            "frame_of_reference_uid": self.image.frame_of_reference_uid,
            "referenced_sop_instance_uid": self.image.sop_instance_uid,
            "referenced_frame": self.image.frame,
            "referenced_series_instance_uid": self.image.series_instance_uid,
            "drawn_on_plane": self.image.plane,
            "plane_normal_lps": self.plane.normal_lps,
        }

    def with_image(self, annotation: AnnotationT) -> AnnotationT:
        """``annotation`` naming its image: drawn on a reformatted plane, the
        acquired image of the series nearest its centre (PS3.3 C.10.4, C.17.2)."""
        locate = self.image.nearest_image
        if locate is None or annotation.referenced_sop_instance_uid:
            return annotation
        centre = annotation.points_lps.mean(axis=0)
        found = locate(centre)
        if found is None:
            return annotation
        uid, frame = found
        return replace(
            annotation, referenced_sop_instance_uid=uid, referenced_frame=frame
        )

    def on_plane(self, position_lps: ArrayLike) -> Vec3:
        """A pointer position projected onto the draft's plane."""
        return on_plane(self.plane, position_lps)

    def show(self, annotation: Annotation | None) -> Annotation | None:
        """Make ``annotation`` the set's preview; returns it (for ``yield``)."""
        self.annotations.set_preview(annotation)
        return annotation

    def commit(self, annotation: Annotation) -> None:
        """Add ``annotation`` (and its new lesion, if any) as one undoable step."""
        annotation = self.with_image(annotation)
        self.annotations.set_preview(None)
        with self.annotations.macro(f"add {annotation.kind.replace('_', ' ')}"):
            if self.new_lesion and not self.annotations.has_lesion(self.lesion_id):
                self.annotations.add_lesion(
                    self.annotations.make_lesion(id=self.lesion_id)
                )
            self.annotations.add_annotation(annotation)
        self.annotations.select(annotation.id)


AnnotationT = TypeVar("AnnotationT", bound="Annotation")


def build_or_none(build: Callable[[], AnnotationT]) -> AnnotationT | None:
    """``build()``, or None where the points do not make a valid annotation yet."""
    try:
        return build()
    except ValueError:
        return None


def place_points(
    draft: Draft,
    event: PointerEvent,
    count: int,
    build: Callable[[list[Point3], frozenset[str]], Annotation | None],
) -> Generator[Annotation | None, PointerEvent, tuple[list[Point3], frozenset[str]]]:
    """Place ``count`` points, starting with the press ``event``.

    ``build(points, modifiers)`` makes the preview from the placed points and the
    floating one (repeated up to ``count``). Returns the points and the
    modifiers held at the last release.
    """
    placed = [draft.on_plane(event.position_lps)]
    floating = placed[0]
    modifiers = event.modifiers
    while True:
        points = [as_point(p) for p in placed + [floating] * (count - len(placed))]
        event = yield draft.show(build(points, modifiers))
        floating = draft.on_plane(event.position_lps)
        modifiers = event.modifiers
        if event.kind == "move":
            continue
        moved = float(np.linalg.norm(floating - placed[-1])) > draft.min_step_mm
        # A press starts a segment (a second Cobb line) unless it is for the
        # last point, which is placed on the release, so it can still be moved.
        if moved and (event.kind == "release" or count - len(placed) >= 2):
            placed.append(floating)
        if len(placed) == count:
            return [as_point(p) for p in placed], modifiers
