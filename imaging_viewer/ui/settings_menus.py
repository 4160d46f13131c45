"""What the window remembers between runs (QSettings): recent studies and
custom window presets, each with its menu, and the window's own place,
docks and layout."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6 import QtWidgets
from PySide6.QtCore import QByteArray
from PySide6.QtGui import QAction

from imaging_viewer.core.viewer_state import LAYOUTS
from imaging_viewer.core.volume import Window

if TYPE_CHECKING:
    from collections.abc import Callable

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QMainWindow, QMenu, QWidget

    from imaging_viewer.core.viewer_state import ViewerState

MAX_RECENT = 10
_DEFAULT_SIZE = (1600, 1000)


class RecentStudies:
    """The studies opened last (File > Recent studies), newest first.

    ``remember``: False leaves the stored list as it is (a screenshot run).
    """

    def __init__(
        self,
        menu: QMenu,
        settings: QSettings,
        open_path: Callable[[Path], object],
        *,
        remember: bool,
    ) -> None:
        self._menu = menu
        self._settings = settings
        self._open_path = open_path
        self._remember = remember
        self.rebuild()

    def entries(self) -> list[str]:
        """The stored paths, newest first."""
        stored = self._settings.value("recent", []) or []
        return [str(p) for p in stored] if isinstance(stored, list) else [str(stored)]

    def add(self, path: Path) -> None:
        """Put ``path`` first in the list (and the menu)."""
        if not self._remember:
            return
        # Absolute: the list must still lead there from another working folder.
        entry = str(path.absolute())
        entries = [entry] + [p for p in self.entries() if p != entry]
        self._settings.setValue("recent", entries[:MAX_RECENT])
        self.rebuild()

    def rebuild(self) -> None:
        """One menu entry a stored study, which opens it."""
        self._menu.clear()
        for entry in self.entries():
            action = QAction(entry, self._menu)
            action.triggered.connect(
                lambda _=False, entry=entry: self._open_path(Path(entry))
            )
            self._menu.addAction(action)
        self._menu.setEnabled(bool(self.entries()))

    def open_dialog_folder(self) -> Path:
        """Where the open dialogs start: beside the study opened last (its
        folder's parent, or a file's folder), else the home folder."""
        for entry in self.entries():
            path = Path(entry)
            start = path.parent
            if start.is_dir() and path.exists():
                return start
        return Path.home()


class CustomPresets:
    """Window presets the user saved (Window > Custom presets)."""

    def __init__(
        self, menu: QMenu, settings: QSettings, state: ViewerState, parent: QWidget
    ) -> None:
        self._menu = menu
        self._settings = settings
        self._state = state
        self._parent = parent
        self.rebuild()

    def save_current(self) -> None:
        """Ask for a name and store the active viewport's window under it."""
        window = self._state.active.editable_window()
        if window is None:
            return
        name, ok = QtWidgets.QInputDialog.getText(
            self._parent, "Save window preset", "Name:"
        )
        if ok and name.strip():
            presets = self.presets()
            presets[name.strip()] = (window.center, window.width)
            self._settings.setValue(
                "presets", [[k, c, w] for k, (c, w) in presets.items()]
            )
            self.rebuild()

    def presets(self) -> dict[str, tuple[float, float]]:
        """The stored presets: name → (center, width); damaged entries skipped."""
        stored = self._settings.value("presets", []) or []
        presets: dict[str, tuple[float, float]] = {}
        for entry in stored if isinstance(stored, list) else []:
            try:
                name, center, width = entry
                presets[str(name)] = (float(center), float(width))
            except (TypeError, ValueError):
                continue
        return presets

    def rebuild(self) -> None:
        """One menu entry a preset, which applies it to the active viewport."""
        self._menu.clear()
        for name, (center, width) in self.presets().items():
            action = QAction(f"{name} ({width:g}/{center:g})", self._menu)
            action.triggered.connect(
                lambda _=False, name=name, center=center, width=width: (
                    self._state.active.set_window(
                        Window(center, width, name), f"preset {name}"
                    )
                )
            )
            self._menu.addAction(action)


class WindowPlacement:
    """The window's geometry, dock and tool-bar positions and layout, as left
    at the last close; ``settings`` None: nothing is read or stored."""

    def __init__(
        self, window: QMainWindow, state: ViewerState, settings: QSettings | None
    ) -> None:
        self._window = window
        self._state = state
        self._settings = settings

    def restore(self) -> None:
        """Geometry and layout (before the window shows)."""
        stored = self._settings
        geometry = stored.value("geometry") if stored is not None else None
        if isinstance(geometry, QByteArray):
            self._window.restoreGeometry(geometry)
        else:
            self._fit_default_size()
        layout = stored.value("layout") if stored is not None else None
        if isinstance(layout, str) and layout in LAYOUTS:
            self._state.layout = layout

    def _fit_default_size(self) -> None:
        """The default size, made smaller on a smaller screen (a 1366×768
        laptop): the whole window, docks and tool bars, stays on screen."""
        width, height = _DEFAULT_SIZE
        screen = self._window.screen()
        if screen is None:
            self._window.resize(width, height)
            return
        available = screen.availableGeometry()
        # Room for a window manager's frame and title bar.
        width = min(width, available.width())
        height = min(height, available.height() - 30)
        self._window.resize(width, max(height, 480))
        self._window.move(available.topLeft())

    def restore_docks(self) -> None:
        """Dock and tool-bar positions (once the docks exist)."""
        if self._settings is not None:
            window_state = self._settings.value("window_state")
            if isinstance(window_state, QByteArray):
                self._window.restoreState(window_state)

    def save(self) -> None:
        """Store geometry, docks and layout (when the window closes)."""
        if self._settings is not None:
            self._settings.setValue("geometry", self._window.saveGeometry())
            self._settings.setValue("window_state", self._window.saveState())
            self._settings.setValue("layout", self._state.layout)
