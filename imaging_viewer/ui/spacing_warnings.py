"""The Problems panel's "no pixel spacing" warning, restated once the reader
calibrates the image: it then says measurements are in mm from the calibration.

The series warning comes from the scan (:data:`NO_SPACING_WARNING`); a reader's
calibration (PS3.3 10.7.1.1) gives the image a spacing, so the warning, kept,
reads e.g. "no pixel spacing in the header: calibrated by the reader (25 mm
reference), measurements in mm", and reads as found again when the
calibration is removed. Updated live, on each annotation change and new image.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imaging_viewer.core.dicom.series import NO_SPACING_WARNING
from imaging_viewer.ui.calibration_controls import calibration_shown

if TYPE_CHECKING:
    from imaging_viewer.core.annotations.calibration import Calibration
    from imaging_viewer.core.annotations.model import AnnotationSet
    from imaging_viewer.core.viewer_state import ViewerState
    from imaging_viewer.ui.widgets.problems_panel import ProblemsPanelWidget


def calibrated_warning(calibration: Calibration) -> str:
    """The no-spacing warning of a calibrated image."""
    return (
        "no pixel spacing in the header: calibrated by the reader "
        f"({calibration.known_length_mm:g} mm reference), measurements in mm"
    )


class SpacingWarnings:
    """Keeps the no-spacing warnings of the series on screen in step with the
    reader's calibrations of the images shown."""

    def __init__(self, panel: ProblemsPanelWidget, state: ViewerState) -> None:
        self._panel = panel
        self._state = state
        self._watched: AnnotationSet | None = None
        for viewport in state.viewports:
            viewport.events.volume.connect(self.update)
        panel.count_changed.connect(self.update)  # rows made again by a scan
        self.update()

    def update(self, *_args: object) -> None:
        """Restate the warning of each shown series by its image's calibration."""
        annotations = self._state.annotations
        if annotations is not self._watched:  # another study's set
            if self._watched is not None:
                self._watched.changed.disconnect(self.update)
            annotations.changed.connect(self.update)
            self._watched = annotations
        for viewport in self._state.viewports:
            if viewport.series is None or viewport.volume is None:
                continue
            calibration = calibration_shown(viewport, annotations)
            self._panel.restate(
                viewport.series.id,
                NO_SPACING_WARNING,
                None if calibration is None else calibrated_warning(calibration),
            )
