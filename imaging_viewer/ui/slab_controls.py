"""The thick-slab controls of the tool bar: thickness and projection of the
active viewport."""

from __future__ import annotations

from typing import TYPE_CHECKING

# ``QtCore.Qt`` is looked up where used: its enums are built on first access.
from PySide6 import QtCore
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QLabel

if TYPE_CHECKING:
    from PySide6.QtWidgets import QToolBar

    from imaging_viewer.core.viewer_state import ViewerState

SLAB_MODES = (("MIP", "mip"), ("MinIP", "minip"), ("Mean", "mean"))
"""(label, ``ViewportState.slab_mode``) of each projection."""


class SlabControls:
    """A thickness (mm, 0: thin) and a projection that edit the active
    viewport's slab, and show it when another viewport becomes active."""

    def __init__(self, state: ViewerState) -> None:
        self._state = state
        self.spin = QDoubleSpinBox()
        self.spin.setRange(0.0, 300.0)
        self.spin.setSingleStep(1.0)
        self.spin.setSuffix(" mm")
        self.spin.setToolTip("Thick-slab thickness in the active view (0: thin)")
        self.spin.valueChanged.connect(self._on_changed)
        self.mode_box = QComboBox()
        for label, mode in SLAB_MODES:
            self.mode_box.addItem(label, mode)
        self.mode_box.currentIndexChanged.connect(self._on_changed)

    def add_to(self, toolbar: QToolBar) -> None:
        """Put the controls at the end of ``toolbar``, after their label."""
        toolbar.addWidget(QLabel(" Slab "))
        toolbar.addWidget(self.spin)
        toolbar.addWidget(self.mode_box)

    def click_focus_only(self) -> None:
        """Only a click gives them the keyboard (not the start, not Tab): the
        first arrow key scrolls the image, not the slab (after the first
        paint: it builds Qt's enums)."""
        for control in (self.spin, self.mode_box):
            control.setFocusPolicy(QtCore.Qt.FocusPolicy.ClickFocus)

    def show_active(self) -> None:
        """Show the active viewport's slab (without editing it)."""
        active = self._state.active
        for control in (self.spin, self.mode_box):
            control.blockSignals(True)
        self.spin.setValue(active.slab_mm)
        self.mode_box.setCurrentIndex(max(0, self.mode_box.findData(active.slab_mode)))
        for control in (self.spin, self.mode_box):
            control.blockSignals(False)

    def _on_changed(self, *_: object) -> None:
        active = self._state.active
        active.slab_mm = float(self.spin.value())
        active.slab_mode = str(self.mode_box.currentData())
