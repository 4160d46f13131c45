"""The window's reading controls beyond the action table: the W/L presets
drop-down (the modality's presets), the cine frame rate, the tools of the right
and middle mouse buttons, and the image's context menu on each viewport.

The window makes one (before the first paint: no Qt enums built here), passes
:attr:`ReadingControls.toolbar_extras` to the tool bars, then :meth:`bind` the
built actions and :meth:`attach` each viewport.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Final

from PySide6.QtGui import QActionGroup
from PySide6.QtWidgets import QMenu, QSpinBox, QWidgetAction

from imaging_viewer.core.render import CT_PRESETS
from imaging_viewer.ui.cine_mode import CINE_MODES, DEFAULT_CINE_MODE
from imaging_viewer.ui.context_menu_key import ContextMenuKey
from imaging_viewer.ui.mouse_bindings import BUTTON_TOOLS, ButtonTools

if TYPE_CHECKING:
    from PySide6.QtCore import QPointF, QSettings
    from PySide6.QtGui import QAction

    from imaging_viewer.core.volume import Window
    from imaging_viewer.ui.actions import BuiltActions
    from imaging_viewer.ui.main_window import MainWindow
    from imaging_viewer.ui.slice_viewport import SliceViewportWidget

DEFAULT_CINE_FPS: Final = 15
CINE_FPS_RANGE: Final = (1, 60)
_CINE_KEY: Final = "cine/frames_per_second"
_CINE_MODE_KEY: Final = "cine/mode"


class CineRate:
    """The cine frame rate (1–60 frames a second, 15 by default), a spin box in
    the menu of the tool bar's cine button, and the play mode (loop or bounce)
    below it; every viewport plays at them, and the settings keep them."""

    def __init__(self, window: MainWindow, settings: QSettings | None) -> None:
        self._window = window
        self._settings = settings
        self.spin = QSpinBox()
        self.spin.setRange(*CINE_FPS_RANGE)
        self.spin.setPrefix("Frame rate ")
        self.spin.setSuffix(" fps")
        self.spin.setToolTip("Cine speed, frames a second (1–60)")
        saved = None if settings is None else settings.value(_CINE_KEY)
        try:
            fps = int(saved) if saved is not None else DEFAULT_CINE_FPS
        except (TypeError, ValueError):
            fps = DEFAULT_CINE_FPS
        self.spin.setValue(fps)
        self.spin.valueChanged.connect(self._on_changed)
        self.menu = QMenu("Cine", window)
        holder = QWidgetAction(self.menu)
        holder.setDefaultWidget(self.spin)
        self.menu.addAction(holder)
        self.menu.addSeparator()
        self._add_modes(None if settings is None else settings.value(_CINE_MODE_KEY))

    def _add_modes(self, saved: object) -> None:
        modes = dict(CINE_MODES)
        self.mode: str = str(saved) if saved in modes else DEFAULT_CINE_MODE
        """``"loop"`` or ``"bounce"`` (ui/cine_mode.py)."""
        group = QActionGroup(self.menu)
        self.mode_actions: dict[str, QAction] = {}
        for mode, label in CINE_MODES:
            action = self.menu.addAction(label)
            action.setObjectName(f"cine_{mode}")
            action.setCheckable(True)
            action.setChecked(mode == self.mode)
            action.setActionGroup(group)
            action.triggered.connect(functools.partial(self.set_mode, mode))
            self.mode_actions[mode] = action

    def set_mode(self, mode: str, *_: object) -> None:
        """Play every viewport in ``mode`` (``"loop"`` or ``"bounce"``)."""
        if mode not in self.mode_actions:
            return
        self.mode = mode
        self.mode_actions[mode].setChecked(True)
        for widget in self._window.viewport_widgets:
            widget.cine_mode = mode
        if self._settings is not None:
            self._settings.setValue(_CINE_MODE_KEY, mode)

    @property
    def fps(self) -> int:
        """Frames a second."""
        return int(self.spin.value())

    def set_fps(self, fps: int) -> None:
        """Play at ``fps`` (clamped to 1–60)."""
        self.spin.setValue(fps)

    def _on_changed(self, fps: int) -> None:
        for widget in self._window.viewport_widgets:
            widget.set_cine_rate(fps)
        if self._settings is not None:
            self._settings.setValue(_CINE_KEY, int(fps))


class ReadingControls:
    """Presets drop-down, cine rate, button tools and context menus of a window."""

    def __init__(self, window: MainWindow, settings: QSettings | None) -> None:
        self._window = window
        self.buttons = ButtonTools(settings)
        """The tools of the right and middle buttons, shared by every viewport."""
        self.cine = CineRate(window, settings)
        self.context_menu: QMenu | None = None
        """The last context menu opened on an image."""

    def bind(self, built: BuiltActions) -> None:
        """Fill the drop-downs and submenus the action table left empty."""
        self._built = built
        presets = built.submenus["toolbar_presets"]
        presets.aboutToShow.connect(functools.partial(self._fill_presets, presets))
        built.actions["cine"].setMenu(self.cine.menu)
        buttons = built.submenus["mouse_buttons"]
        buttons.aboutToShow.connect(functools.partial(self._fill_buttons, buttons))

    def attach(self, widget: SliceViewportWidget) -> None:
        """Give a new viewport the shared button tools, cine rate and context menu."""
        widget.mouse.buttons = self.buttons
        widget.mouse.on_context_menu = functools.partial(self._open_menu, widget)
        widget.set_cine_rate(self.cine.fps)
        widget.cine_mode = self.cine.mode
        widget.installEventFilter(
            ContextMenuKey(
                widget, functools.partial(self._open_menu, widget), self._menu_open
            )
        )

    def _menu_open(self) -> bool:
        return self.context_menu is not None and self.context_menu.isVisible()

    # ------------------------------------------------------------------ menus
    def _fill_presets(self, menu: QMenu) -> None:
        """The active image's presets: CT windows for CT, else the header's
        windows; then reset, auto, and the user's own presets."""
        menu.clear()
        actions = self._built.actions
        volume = self._window.state.active.volume
        if volume is None or volume.modality == "CT":
            for name in CT_PRESETS:
                menu.addAction(actions[f"preset_{name}"])
        else:
            for number, window in enumerate(volume.display.windows, start=1):
                self._add_header_window(menu, number, window)
        menu.addSeparator()
        for action_id in ("reset_window", "auto_window", "header_window"):
            menu.addAction(actions[action_id])
        menu.addMenu(self._built.submenus["custom_presets"])

    def _add_header_window(self, menu: QMenu, number: int, window: Window) -> None:
        volume = self._window.state.active.volume
        count = 0 if volume is None else len(volume.display.windows)
        label = f"header {number}/{count} {window.explanation}".strip()
        text = f"Header: W {window.width:g} L {window.center:g} {window.explanation}"
        action = menu.addAction(text.strip())
        action.triggered.connect(
            lambda *_: self._window.state.active.set_window(window, label)
        )

    def _fill_buttons(self, menu: QMenu) -> None:
        """Right button ▸ tools, Middle button ▸ tools, the current ones checked."""
        menu.clear()
        for button, title in (("right", "Right button"), ("middle", "Middle button")):
            submenu = menu.addMenu(title)
            for tool, label in BUTTON_TOOLS:
                action = submenu.addAction(label)
                action.setCheckable(True)
                action.setChecked(self.buttons.tool(button) == tool)
                action.triggered.connect(functools.partial(self._assign, button, tool))

    def _assign(self, button: str, tool: str, *_: object) -> None:
        self.buttons.assign(button, tool)

    def _open_menu(self, widget: SliceViewportWidget, position: QPointF) -> None:
        from imaging_viewer.ui.image_context_menu import build_image_menu

        if self.context_menu is not None:
            self.context_menu.deleteLater()
        menu = self.context_menu = build_image_menu(
            self._window, self._built, widget, position
        )
        menu.popup(widget.mapToGlobal(position.toPoint()))

    def action(self, action_id: str) -> QAction | None:
        """A built action by id (None when no engineer added it yet)."""
        return self._built.actions.get(action_id)
