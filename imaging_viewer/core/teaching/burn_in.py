"""What the teaching export asks of whoever draws: a key image as PNG.

The export is Qt-free; drawing text and annotations onto an image is not. The
ui implements :class:`KeyImageBurnIn` (``ui.teaching_export``), tests may fake
it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from pathlib import Path

    from imaging_viewer.core.annotations.calibration import Calibration
    from imaging_viewer.core.annotations.model import Annotation, AnnotationSet, Lesion
    from imaging_viewer.core.exchange.burned_in_text import TextBox
    from imaging_viewer.core.mpr import SlicePlane
    from imaging_viewer.core.viewer_state import ViewportState

__all__ = ["KeyImageBurnIn", "KeyImageView", "reader_calibration"]


@dataclass(frozen=True, eq=False)
class KeyImageView:
    """A key image as the case shows it."""

    viewport: ViewportState
    """Shows the image: its volume, slice, time point and window."""
    annotations: tuple[tuple[Lesion, Annotation], ...]
    """What is drawn on the annotated image, in drawing order."""
    plane: SlicePlane
    """The image's pixel grid in LPS, to project the annotations with."""
    spacing_source: str
    """``measure.spacing_source_of`` the volume, for the measurement labels."""
    include_patient: bool
    """False leaves patient- and study-identifying lines out of the corner text."""
    redacted: tuple[TextBox, ...] = ()
    """Regions of the stored frame whose burned-in text was blacked out in the
    DICOM: black them out in both PNGs too (scaled to the PNG's size)."""
    stored_size: tuple[int, int] = (0, 0)
    """(rows, columns) of the stored frame the regions are in."""
    calibration: Calibration | None = None
    """The reader's calibration of the image: its labels, corner text and scale
    bar in mm as on screen, not in pixels (PS3.3 10.7.1.3)."""


def reader_calibration(
    annotation_set: AnnotationSet, viewport: ViewportState
) -> Calibration | None:
    """The reader's calibration of the image ``viewport`` shows, if any."""
    if not annotation_set.calibrations:
        return None
    from imaging_viewer.core.viewer_state import image_ref_of

    ref = image_ref_of(viewport)
    return annotation_set.calibration(ref.sop_instance_uid, ref.frame)


class KeyImageBurnIn(Protocol):
    """Writes key images as PNG at native resolution (one pixel per DICOM pixel)."""

    def write_png(
        self, view: KeyImageView, path: Path, *, annotated: bool
    ) -> tuple[int, int]:
        """Write the image to ``path``: with corner text and annotations burned
        in when ``annotated``, else with nothing drawn on it.

        Returns
        -------
        (int, int)
            Columns and rows of the image written.
        """
        ...
