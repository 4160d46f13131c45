"""When the Problems and DICOM tags panels show themselves, and how wide.

The Problems panel hides itself when it holds nothing to act on: nothing at all,
or only files that are not DICOM (a README, checksums: summarised in one line);
it shows itself for errors and warnings; a status-bar badge with the count opens
it. So an empty panel takes no height from the images at 1366×768.
The tag browser opens wide enough to read values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from PySide6 import QtCore
from PySide6.QtWidgets import QStyle, QToolButton

if TYPE_CHECKING:
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QDockWidget, QMainWindow

    from imaging_viewer.ui.widgets.problems_panel import ProblemsPanelWidget

TAGS_WIDTH_FRACTION: Final = 0.45
"""The tag browser opens at least this share of the window's width…"""
TAGS_MIN_WIDTH_PX: Final = 520
"""…and at least this wide (tag, name, VR and a readable value)."""


class ProblemsBadge:
    """The problem count in the status bar (hidden at none); a click opens the
    Problems panel. Hides the panel when it comes to hold nothing to act on
    (empty, as when a study opens, or only files that are not DICOM), shows it
    when an error or warning arrives."""

    def __init__(
        self, window: QMainWindow, panel: ProblemsPanelWidget, dock: QDockWidget
    ) -> None:
        self._panel = panel
        self._dock = dock
        self._attention = False
        self._quiet = False
        self.button = QToolButton(window)
        self.button.setObjectName("problemsBadge")
        self.button.setAutoRaise(True)
        self.button.setToolButtonStyle(
            QtCore.Qt.ToolButtonStyle.ToolButtonTextBesideIcon
        )
        self.button.clicked.connect(self.open_panel)
        window.statusBar().addPermanentWidget(self.button)
        panel.count_changed.connect(self._on_count_changed)
        self._on_count_changed(panel.count)

    def open_panel(self) -> None:
        """Show the Problems panel (in front of docks tabbed with it)."""
        self._dock.show()
        self._dock.raise_()

    def _on_count_changed(self, count: int) -> None:
        panel = self._panel
        self.button.setVisible(count > 0)
        # The style's icons, not "⚠"/"ⓘ" characters: a font without them
        # (Xvfb's, some desktops') drew an empty box.
        severity = "warning" if panel.needs_attention else "information"
        if self.button.property("severity") != severity:
            self.button.setProperty("severity", severity)
            self.button.setIcon(_badge_icon(self.button, severity))
        self.button.setText(str(count))
        self.button.setToolTip(f"{panel.summary()} — click to show the Problems panel")
        attention, quiet = panel.needs_attention, self.nothing_to_act_on
        if attention and not self._attention:
            self._dock.show()
        elif quiet and (not self._quiet or count == 0):
            self._dock.hide()  # count 0: cleared, as for a newly opened study
        self._attention, self._quiet = attention, quiet

    @property
    def nothing_to_act_on(self) -> bool:
        """True when the panel is empty or holds only files that are not DICOM."""
        return self._panel.count == 0 or self._panel.only_not_dicom

    def settle(self) -> None:
        """Hide the panel if it holds nothing to act on (after the saved dock
        positions are restored, which may show it empty)."""
        if self.nothing_to_act_on:
            self._dock.hide()


def widen_tags_dock(window: QMainWindow, dock: QDockWidget) -> None:
    """Make the docked tag browser wide enough to read values: at least
    :data:`TAGS_WIDTH_FRACTION` of the window, :data:`TAGS_MIN_WIDTH_PX`
    at least (never wider than it is when already so)."""
    if dock.isFloating():
        return
    target = max(int(window.width() * TAGS_WIDTH_FRACTION), TAGS_MIN_WIDTH_PX)
    target = min(target, int(window.width() * 0.7))
    if dock.width() < target:
        window.resizeDocks([dock], [target], QtCore.Qt.Orientation.Horizontal)


def _badge_icon(button: QToolButton, severity: str) -> QIcon:
    """The style's warning or information icon."""
    pixmap = (
        QStyle.StandardPixmap.SP_MessageBoxWarning
        if severity == "warning"
        else QStyle.StandardPixmap.SP_MessageBoxInformation
    )
    return button.style().standardIcon(pixmap)
