"""What each mouse button does in a viewport, and the right click that opens the
image's context menu.

The left button drives the viewer's tool (W/L, pan, zoom, magnifier, crosshair
or an annotation tool). The right button windows and the middle one pans, by
default; either takes any drag tool of :data:`BUTTON_TOOLS` (View ▸ Mouse
buttons, the context menu), remembered in the settings. A right click that
moves less than :data:`CLICK_SLOP_PX` opens the context menu instead of
windowing (as in Weasis, RadiAnt and OHIF).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from PySide6.QtCore import QObject, QPointF, Qt, Signal

if TYPE_CHECKING:
    from collections.abc import Callable

    from PySide6.QtCore import QSettings
    from PySide6.QtGui import QMouseEvent, QWheelEvent

    from imaging_viewer.ui.magnifier import MagnifierLens
    from imaging_viewer.ui.slice_viewport import SliceViewportWidget

BUTTON_TOOLS: Final = (
    ("window", "W/L"),
    ("pan", "Pan"),
    ("zoom", "Zoom"),
    ("magnifier", "Magnifier"),
)
"""(tool, label) of the drag tools the right and middle buttons can take."""
DEFAULT_BUTTON_TOOLS: Final = {"right": "window", "middle": "pan"}
CLICK_SLOP_PX: Final = 3.0
"""A right press that moves less than this (screen pixels, each way) is a click."""
_SETTINGS_KEY: Final = "mouse_buttons/{}"


class ButtonTools(QObject):
    """The tools of the right and middle buttons, saved in ``settings``."""

    changed = Signal()

    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        self._settings = settings
        self._tools = dict(DEFAULT_BUTTON_TOOLS)
        known = {tool for tool, _ in BUTTON_TOOLS}
        for button in self._tools:
            saved = None if settings is None else settings.value(_key(button))
            if isinstance(saved, str) and saved in known:
                self._tools[button] = saved

    def tool(self, button: str) -> str:
        """The tool of ``"right"`` or ``"middle"``."""
        return self._tools[button]

    def assign(self, button: str, tool: str) -> None:
        """Give ``button`` (right or middle) ``tool``, one of :data:`BUTTON_TOOLS`."""
        if button not in self._tools or tool not in dict(BUTTON_TOOLS):
            raise ValueError(f"cannot give the {button} button the {tool} tool")
        self._tools[button] = tool
        if self._settings is not None:
            self._settings.setValue(_key(button), tool)
        self.changed.emit()


def _key(button: str) -> str:
    return _SETTINGS_KEY.format(button)


class ViewportMouse:
    """One viewport's mouse: the tool of each button, the context click, the lens.

    The viewport asks it first (:meth:`press`, :meth:`move`, :meth:`release`,
    :meth:`wheel`); True means it has dealt with the event.
    """

    def __init__(self, viewport: SliceViewportWidget) -> None:
        self._viewport = viewport
        self.buttons = ButtonTools()
        """Shared by the window's viewports (the window gives its own)."""
        self.on_context_menu: Callable[[QPointF], object] | None = None
        """Opens the context menu at a widget position (set by the window)."""
        self._press = QPointF()
        self._clicking = False
        """A right press that has not moved (yet)."""
        self._lens: MagnifierLens | None = None

    def mode_for(self, button: Qt.MouseButton) -> str:
        """What a drag with ``button`` does."""
        if button == Qt.MouseButton.RightButton:
            return self.buttons.tool("right")
        if button == Qt.MouseButton.MiddleButton:
            return self.buttons.tool("middle")
        return self._viewport.left_tool

    @property
    def lens(self) -> MagnifierLens:
        """The magnifier's lens, made when first used."""
        if self._lens is None:
            from imaging_viewer.ui.magnifier import MagnifierLens

            self._lens = MagnifierLens(self._viewport)
        return self._lens

    @property
    def magnifying(self) -> bool:
        """True while the lens shows."""
        return self._lens is not None and self._lens.isVisible()

    def press(self, event: QMouseEvent) -> bool:
        """Note a right press (a click until it moves); show the lens."""
        self._press = event.position()
        self._clicking = event.button() == Qt.MouseButton.RightButton
        if self.mode_for(event.button()) == "magnifier":
            self.lens.show_at(event.position())
            return True
        return False

    def move(self, event: QMouseEvent) -> bool:
        """Move the lens; hold a right press back until it leaves the slop."""
        if self.magnifying:
            self.lens.show_at(event.position())
            return True
        if self._clicking:
            delta = event.position() - self._press
            if max(abs(delta.x()), abs(delta.y())) < CLICK_SLOP_PX:
                return True
            self._clicking = False
        return False

    def release(self, event: QMouseEvent) -> bool:
        """Hide the lens; a right click (no move) opens the context menu."""
        if self.magnifying:
            self.lens.hide()
            return True
        if self._clicking and event.button() == Qt.MouseButton.RightButton:
            self._clicking = False
            if self.on_context_menu is not None:
                self.on_context_menu(event.position())
            return True
        return False

    def wheel(self, event: QWheelEvent) -> bool:
        """While the lens shows, the wheel changes its magnification."""
        if not self.magnifying:
            return False
        steps = event.angleDelta().y() / 120
        if steps:
            self.lens.step_zoom(1 if steps > 0 else -1)
            self.lens.show_at(event.position())
        return True
