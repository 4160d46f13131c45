"""The calibrate tool's dialog, "Remove calibration", and what the corner shows.

The core tool (:mod:`imaging_viewer.core.tools.calibrate`) draws the line and
stores the calibration; this module asks the reader the object's size and
finds the calibration of the image a viewport shows (PS3.3 10.7.1.1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtWidgets import QInputDialog

from imaging_viewer.ui.annotation_overlay import image_ref_of

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from imaging_viewer.core.annotations.calibration import Calibration
    from imaging_viewer.core.annotations.model import AnnotationSet
    from imaging_viewer.core.viewer_state import ViewportState
    from imaging_viewer.ui.main_window import MainWindow

DEFAULT_KNOWN_MM = 25.0
"""The usual calibration ball."""


def ask_known_length(parent: QWidget | None, drawn: float) -> float | None:
    """Ask the size (mm) of the object the line was drawn over; None: cancelled."""
    value, accepted = QInputDialog.getDouble(
        parent,
        "Calibrate",
        f"The line is {drawn:.1f} px long.\n"
        "True size of the object under it (mm), e.g. a 25 mm calibration ball:",
        DEFAULT_KNOWN_MM,
        0.01,
        10_000.0,
        2,
    )
    return float(value) if accepted and value > 0 else None


def calibration_shown(
    state: ViewportState, annotations: AnnotationSet | None
) -> Calibration | None:
    """The reader's calibration of the image ``state`` shows, if any (cheap
    when nothing is calibrated: the image is looked up only then)."""
    if annotations is None or not annotations.calibrations or state.volume is None:
        return None
    ref = image_ref_of(state)
    return annotations.calibration(ref.sop_instance_uid, ref.frame)


def pixel_mm(state: ViewportState) -> float:
    """The header's size of one column step of the shown image, in its units."""
    affine = state.pixel_to_lps()
    return 1.0 if affine is None else float(np.linalg.norm(affine[:3, 0]))


def remove_calibration(window: MainWindow) -> None:
    """Return the active viewport's image to its header spacing."""
    widget = window.active_widget
    annotations = widget.annotations
    if annotations is None:
        return
    ref = image_ref_of(widget.state)
    if annotations.calibration(ref.sop_instance_uid, ref.frame) is None:
        window.statusBar().showMessage("This image has no calibration", 4000)
        return
    annotations.remove_calibration(ref.sop_instance_uid, ref.frame)
    window.statusBar().showMessage("Calibration removed: header spacing", 4000)
