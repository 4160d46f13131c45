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

    from imaging_viewer.core.annotations.model import Annotation, Lesion
    from imaging_viewer.core.exchange.burned_in_text import TextBox
    from imaging_viewer.core.mpr import SlicePlane
    from imaging_viewer.core.viewer_state import ViewportState

__all__ = ["KeyImageBurnIn", "KeyImageView"]


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
