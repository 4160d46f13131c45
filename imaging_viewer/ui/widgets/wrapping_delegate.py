"""WrappingDelegate: tree rows as tall as their word-wrapped text.

QTreeView wraps an item's text when asked (``wordWrap``) but sizes the row
without knowing the column's width, so the wrapped lines are cut. This delegate
gives each cell the height of its text wrapped at its column's width.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtWidgets import QStyledItemDelegate, QTreeView

if TYPE_CHECKING:
    from PySide6.QtWidgets import QStyleOptionViewItem

_PADDING = 8
"""Room the style keeps around a cell's text (px), both sides together."""


class WrappingDelegate(QStyledItemDelegate):
    """Size hints of a :class:`QTreeView`'s cells with their text word-wrapped
    at the width of their column."""

    def __init__(self, tree: QTreeView) -> None:
        super().__init__(tree)
        self._tree = tree

    def sizeHint(
        self,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> QSize:
        """The usual hint, made as tall as the text wrapped in its column."""
        hint = super().sizeHint(option, index)
        text = index.data(Qt.ItemDataRole.DisplayRole)
        if not isinstance(text, str) or not text:
            return hint
        width = self._tree.columnWidth(index.column()) - _PADDING
        if index.column() == 0:
            depth, parent = 1, index.parent()
            while parent.isValid():
                depth, parent = depth + 1, parent.parent()
            width -= depth * self._tree.indentation()
        if width <= 0:
            return hint
        wrapped = option.fontMetrics.boundingRect(
            QRect(0, 0, width, 100_000), Qt.TextFlag.TextWordWrap, text
        )
        return QSize(hint.width(), max(hint.height(), wrapped.height() + 4))
