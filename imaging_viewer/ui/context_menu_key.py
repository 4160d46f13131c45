"""The image's context menu from the keyboard: the Menu key or Shift+F10 opens
it at the pointer when the pointer is over the image, else at its centre."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtGui import QContextMenuEvent, QCursor, QKeyEvent

if TYPE_CHECKING:
    from collections.abc import Callable

    from PySide6.QtWidgets import QWidget


def is_menu_key(event: QKeyEvent) -> bool:
    """The Menu key (no modifier), or Shift+F10 (the usual keyboard equivalent)."""
    modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
    if event.key() == Qt.Key.Key_Menu:
        return modifiers == Qt.KeyboardModifier.NoModifier
    return (
        event.key() == Qt.Key.Key_F10 and modifiers == Qt.KeyboardModifier.ShiftModifier
    )


def keyboard_menu_position(widget: QWidget) -> QPointF:
    """Where a menu asked for from the keyboard opens: at the pointer if it is
    over ``widget``, else at ``widget``'s centre (widget coordinates)."""
    pointer = widget.mapFromGlobal(QCursor.pos())
    if widget.rect().contains(pointer):
        return QPointF(pointer)
    return QPointF(widget.width() / 2, widget.height() / 2)


class ContextMenuKey(QObject):
    """Event filter of a viewport: the menu key calls ``open_menu(position)``.

    A key press opens it; the context menu event some platforms send for the
    same key (reason Keyboard) then finds it open and does nothing more. Right
    clicks stay with the mouse bindings (a click that does not drag).
    """

    def __init__(
        self,
        widget: QWidget,
        open_menu: Callable[[QPointF], object],
        is_open: Callable[[], bool],
    ) -> None:
        super().__init__(widget)
        self._widget = widget
        self._open_menu = open_menu
        self._is_open = is_open

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Open the menu on the menu key; let every other event through."""
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            if not is_menu_key(event):
                return False
        elif event.type() == QEvent.Type.ContextMenu and isinstance(
            event, QContextMenuEvent
        ):
            if event.reason() != QContextMenuEvent.Reason.Keyboard:
                return False
            if self._is_open():
                return True
        else:
            return False
        self._open_menu(keyboard_menu_position(self._widget))
        return True
