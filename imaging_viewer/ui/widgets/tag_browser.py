"""TagBrowserWidget: the DICOM header of one file as a searchable tree."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Final

from PySide6.QtCore import (
    QCoreApplication,
    QEvent,
    QObject,
    QRunnable,
    Qt,
    QThreadPool,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QBrush, QColor, QFont, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from imaging_viewer.core.dicom.tags import TagNode, read_tag_tree

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from PySide6.QtGui import QCloseEvent, QKeyEvent

COLUMNS: Final = ("Tag", "Name", "VR", "Value")
TAG_COLUMN, NAME_COLUMN, VR_COLUMN, VALUE_COLUMN = range(len(COLUMNS))
NODE_ROLE: Final = int(Qt.ItemDataRole.UserRole) + 1
"""On every item: its :class:`~imaging_viewer.core.dicom.tags.TagNode`."""
MAX_FILTER_ITEMS: Final = 5000
"""A filter shows at most this many rows (matches and their ancestors)."""
FILTER_DELAY_MS: Final = 150
_CACHE_FILES: Final = 8
_PRIVATE_COLOUR: Final = QColor(150, 190, 230)
_ERROR_COLOUR: Final = QColor(240, 110, 100)
_MATCH_COLOUR: Final = QColor(90, 80, 30)

_ITEM_TAG: Final = "(FFFE,E000)"
_Key = tuple[str, int | None]
_Path = tuple[str, ...]


def _haystack(node: TagNode) -> str:
    compact = node.tag.strip("()").replace(",", "")
    return " ".join(
        (
            node.tag,
            compact,
            node.keyword,
            node.name,
            node.value,
            node.note,
            node.private_creator,
        )
    ).lower()


class _ReadSignals(QObject):
    finished = Signal(int, str, object, object)
    """(request number, path, frame index or None, list of TagNode)."""


class _ReadTask(QRunnable):
    def __init__(
        self,
        number: int,
        path: str,
        frame_index: int | None,
        signals: _ReadSignals,
        stop: threading.Event,
    ) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._number = number
        self._path = path
        self._frame_index = frame_index
        self._signals = signals
        self._stop = stop

    def run(self) -> None:
        nodes = read_tag_tree(self._path, self._frame_index)
        if not self._stop.is_set():
            self._signals.finished.emit(
                self._number, self._path, self._frame_index, nodes
            )


class _TagTreeWidget(QTreeWidget):
    """The tree: Ctrl+C copies values, not the current cell."""

    copy_requested = Signal()

    def event(self, event: QEvent) -> bool:
        # Claim Ctrl+C before a window-wide Copy shortcut takes it.
        if event.type() == QEvent.Type.ShortcutOverride:
            key_event: QKeyEvent = event  # type: ignore[assignment]
            if key_event.matches(QKeySequence.StandardKey.Copy):
                event.accept()
                return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_requested.emit()
            event.accept()
            return
        super().keyPressEvent(event)


class TagBrowserWidget(QWidget):
    """Every data element of one DICOM file: Tag, Name, VR, Value.

    The header is read in the background (the latest request wins, so scrolling
    through slices never queues reads) and shown lazily: sequence items are
    made when expanded. The search box keeps the rows whose tag, keyword, name or
    value contains the text (case-insensitive), with their ancestors expanded.
    Expanded rows stay expanded from one file to the next.
    """

    file_shown = Signal(str)
    """The path whose header is now shown (after a read, or from the cache)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = _ReadSignals(self)
        self._signals.finished.connect(self._on_read_finished)
        self._stop = threading.Event()
        self._requests = 0
        self._reading: _Key | None = None
        self._pending: _Key | None = None
        self._cache: OrderedDict[tuple[str, int | None, float], list[TagNode]] = (
            OrderedDict()
        )
        self._key: _Key | None = None
        self._nodes: list[TagNode] = []
        self._haystacks: dict[int, str] = {}
        self._expanded: set[_Path] = set()
        self._filtering = False
        self._status = "No file"

        self.search_edit = QLineEdit(self)
        self.search_edit.setObjectName("tagSearchEdit")
        self.search_edit.setPlaceholderText("Filter by tag, keyword, name or value")
        self.search_edit.setClearButtonEnabled(True)
        self.status_label = QLabel("No file", self)
        self.status_label.setObjectName("tagStatusLabel")
        self.status_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
        )
        self.tree = self._make_tree()

        self._copy_value_action = QAction("Copy value", self.tree)
        self._copy_value_action.triggered.connect(self._on_copy_requested)
        copy_tag = QAction("Copy tag", self.tree)
        copy_tag.triggered.connect(lambda: self._copy_column(TAG_COLUMN))
        copy_row = QAction("Copy row", self.tree)
        copy_row.triggered.connect(self._on_copy_row)
        self.tree.addActions([self._copy_value_action, copy_tag, copy_row])
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)

        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(FILTER_DELAY_MS)
        self._filter_timer.timeout.connect(self._on_filter_timeout)
        self.search_edit.textChanged.connect(self._on_search_text_changed)
        self.search_edit.returnPressed.connect(self._on_filter_timeout)
        self.tree.itemExpanded.connect(self._on_item_expanded)
        self.tree.itemCollapsed.connect(self._on_item_collapsed)
        self.tree.copy_requested.connect(self._on_copy_requested)

        top = QHBoxLayout()
        top.setContentsMargins(4, 4, 4, 2)
        top.addWidget(self.search_edit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(top)
        layout.addWidget(self.status_label)
        layout.addWidget(self.tree)
        self.status_label.setContentsMargins(6, 0, 6, 2)

        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self._on_about_to_quit)

    def _make_tree(self) -> _TagTreeWidget:
        """The tag tree: columns sized for a tag four sequences deep and the
        longest common attribute names."""
        tree = _TagTreeWidget(self)
        tree.setObjectName("tagTreeWidget")
        tree.setColumnCount(len(COLUMNS))
        tree.setHeaderLabels(list(COLUMNS))
        tree.setUniformRowHeights(True)
        tree.setAlternatingRowColors(True)
        tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        tree.setIndentation(14)
        tree.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = tree.header()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        metrics = tree.fontMetrics()
        # Room for the tag of a row four levels deep (sequence, item, sequence, item).
        tag_width = metrics.horizontalAdvance("(0000,0000)") + 4 * 14 + 32
        tree.setColumnWidth(TAG_COLUMN, tag_width)
        name_width = metrics.horizontalAdvance("Media Storage SOP Instance UID")
        tree.setColumnWidth(NAME_COLUMN, name_width)
        tree.setColumnWidth(VR_COLUMN, metrics.horizontalAdvance("VR__") + 8)
        return tree

    # ------------------------------------------------------------------ public
    @property
    def current_path(self) -> str | None:
        """The file shown (or being read), None when empty."""
        return self._key[0] if self._key is not None else None

    @property
    def nodes(self) -> list[TagNode]:
        """The top-level nodes of the file shown."""
        return list(self._nodes)

    def show_file(
        self, path: str | os.PathLike[str], frame_index: int | None = None
    ) -> None:
        """Show the header of ``path``; for an enhanced multi-frame file, the
        per-frame functional groups of ``frame_index`` only (0-based).

        Returns at once; :attr:`file_shown` follows when the tree is filled.
        """
        key: _Key = (os.fspath(path), frame_index)
        if key == self._key and self._reading is None and self._pending is None:
            self.file_shown.emit(key[0])
            return
        self._key = key
        cached = self._cache.get(self._cache_key(key))
        if cached is not None:
            self._pending = None
            self._cache.move_to_end(self._cache_key(key))
            self._show_nodes(key, cached)
            return
        if self._reading is not None:
            self._pending = key
            return
        self._start_read(key)

    def clear(self) -> None:
        """Show nothing."""
        self._pending = None
        self._key = None
        self._nodes = []
        self._haystacks.clear()
        self.tree.clear()
        self._status = "No file"
        self.status_label.setText(self._status)

    def set_filter_text(self, text: str) -> None:
        """Filter now (the search box waits for typing to pause)."""
        self._filter_timer.stop()
        if self.search_edit.text() != text:
            self.search_edit.blockSignals(True)
            self.search_edit.setText(text)
            self.search_edit.blockSignals(False)
        self._apply_filter()

    def selected_values(self) -> list[str]:
        """Values of the selected rows (the current row when none is selected)."""
        return [self._node(item).value for item in self._selected_items()]

    def copy_selected_value(self) -> str:
        """Put the selected values on the clipboard, one per line; returns them."""
        text = "\n".join(self.selected_values())
        if text:
            QGuiApplication.clipboard().setText(text)
        return text

    def find_items(self, text: str, column: int = TAG_COLUMN) -> list[QTreeWidgetItem]:
        """Rows made so far whose ``column`` text equals ``text``."""
        return self.tree.findItems(
            text, Qt.MatchFlag.MatchExactly | Qt.MatchFlag.MatchRecursive, column
        )

    # ------------------------------------------------------------------ Qt
    def closeEvent(self, event: QCloseEvent) -> None:
        self._stop_reads()
        super().closeEvent(event)

    # ------------------------------------------------------------------ slots
    def _on_read_finished(
        self, number: int, path: str, frame_index: object, nodes: object
    ) -> None:
        if number != self._requests:
            return
        key: _Key = (path, frame_index if isinstance(frame_index, int) else None)
        self._reading = None
        tree_nodes = list(nodes) if isinstance(nodes, list) else []
        cache_key = self._cache_key(key)
        self._cache[cache_key] = tree_nodes
        while len(self._cache) > _CACHE_FILES:
            self._cache.popitem(last=False)
        pending, self._pending = self._pending, None
        if pending is not None and pending != key:
            self._start_read(pending)
            return
        if key == self._key:
            self._show_nodes(key, tree_nodes)

    def _on_search_text_changed(self, _: str) -> None:
        self._filter_timer.start()

    def _on_filter_timeout(self) -> None:
        self._filter_timer.stop()
        self._apply_filter()

    def _on_item_expanded(self, item: QTreeWidgetItem) -> None:
        self._fill_children(item)
        if not self._filtering:
            self._expanded.add(self._item_path(item))

    def _on_item_collapsed(self, item: QTreeWidgetItem) -> None:
        if not self._filtering:
            self._expanded.discard(self._item_path(item))

    def _on_copy_requested(self) -> None:
        self.copy_selected_value()

    def _on_copy_row(self) -> None:
        rows = [
            "\t".join(item.text(c) for c in range(len(COLUMNS)))
            for item in self._selected_items()
        ]
        if rows:
            QGuiApplication.clipboard().setText("\n".join(rows))

    def _on_about_to_quit(self) -> None:
        self._stop_reads()

    # ------------------------------------------------------------------ reading
    @staticmethod
    def _cache_key(key: _Key) -> tuple[str, int | None, float]:
        try:
            mtime = os.stat(key[0]).st_mtime
        except OSError:
            mtime = -1.0
        return (key[0], key[1], mtime)

    def _start_read(self, key: _Key) -> None:
        self._requests += 1
        self._reading = key
        self.status_label.setText(f"Reading {os.path.basename(key[0])}…")
        self._pool.start(
            _ReadTask(self._requests, key[0], key[1], self._signals, self._stop)
        )

    def _stop_reads(self) -> None:
        self._stop.set()
        self._pool.clear()
        self._pool.waitForDone()
        self._stop = threading.Event()
        self._reading = None
        self._pending = None

    # ------------------------------------------------------------------ tree
    def _show_nodes(self, key: _Key, nodes: list[TagNode]) -> None:
        scroll = self.tree.verticalScrollBar().value()
        current = self.tree.currentItem()
        current_path = self._item_path(current) if current is not None else None
        self._nodes = nodes
        self._haystacks.clear()
        count = sum(1 for node in nodes for n in node.walk() if n.tag != _ITEM_TAG)
        name = os.path.basename(key[0])
        frame = f" · frame {key[1] + 1}" if key[1] is not None else ""
        self._status = f"{name}{frame} · {count} elements"
        self.status_label.setToolTip(key[0])
        self._apply_filter(restore_current=current_path)
        self.tree.verticalScrollBar().setValue(scroll)
        self.file_shown.emit(key[0])

    def _apply_filter(self, restore_current: _Path | None = None) -> None:
        needle = self.search_edit.text().strip().lower()
        self.tree.setUpdatesEnabled(False)
        try:
            self.tree.clear()
            if not needle:
                self._fill(self.tree.invisibleRootItem(), self._nodes)
                self._restore_expanded()
                self.status_label.setText(self._status)
            else:
                shown = self._fill_filtered(needle)
                more = f" (the first {shown})" if shown >= MAX_FILTER_ITEMS else ""
                self.status_label.setText(f"{self._status} · {shown} rows{more}")
            if restore_current is not None:
                item = self._item_at(restore_current)
                if item is not None:
                    self.tree.setCurrentItem(item)
        finally:
            self.tree.setUpdatesEnabled(True)

    def _make_item(self, node: TagNode) -> QTreeWidgetItem:
        name = node.name
        if node.private_creator:
            name = f"{name} ({node.private_creator})"
        value = f"{node.value}  ({node.note})" if node.note else node.value
        item = QTreeWidgetItem([node.tag, name, node.vr, value])
        item.setData(0, NODE_ROLE, node)
        item.setToolTip(NAME_COLUMN, node.keyword or name)
        if node.value or node.note:
            tip = node.value if not node.note else f"{node.value}\n{node.note}"
            item.setToolTip(VALUE_COLUMN, tip[:2000])
        if node.children:
            item.setChildIndicatorPolicy(
                QTreeWidgetItem.ChildIndicatorPolicy.ShowIndicator
            )
        if node.is_error:
            for column in range(len(COLUMNS)):
                item.setForeground(column, QBrush(_ERROR_COLOUR))
        elif node.private_creator or (
            node.tag.startswith("(") and int(node.tag[1:5], 16) % 2 == 1
        ):
            for column in range(len(COLUMNS)):
                item.setForeground(column, QBrush(_PRIVATE_COLOUR))
        if node.tag == _ITEM_TAG:
            font = QFont(item.font(NAME_COLUMN))
            font.setItalic(True)
            item.setFont(NAME_COLUMN, font)
        return item

    def _fill(self, parent: QTreeWidgetItem, nodes: Iterable[TagNode]) -> None:
        parent.addChildren([self._make_item(node) for node in nodes])

    def _fill_children(self, item: QTreeWidgetItem) -> None:
        if item.childCount() > 0:
            return
        node = item.data(0, NODE_ROLE)
        if isinstance(node, TagNode) and node.children:
            self._fill(item, node.children)

    def _fill_filtered(self, needle: str) -> int:
        """Rows for the matches and their ancestors; returns how many were made."""
        made = 0

        def keep(node: TagNode) -> tuple[bool, list[TagNode]]:
            """(node matches, children leading to matches)."""
            leading = [c for c in node.children if any(keep_cache(c))]
            return self._matches(node, needle), leading

        cache: dict[int, tuple[bool, list[TagNode]]] = {}

        def keep_cache(node: TagNode) -> tuple[bool, bool]:
            found = cache.get(id(node))
            if found is None:
                found = cache[id(node)] = keep(node)
            return found[0], bool(found[1])

        def add(parent: QTreeWidgetItem, nodes: Sequence[TagNode]) -> None:
            nonlocal made
            for node in nodes:
                if made >= MAX_FILTER_ITEMS:
                    return
                matched, has_leading = keep_cache(node)
                if not matched and not has_leading:
                    continue
                item = self._make_item(node)
                parent.addChild(item)
                made += 1
                if matched:
                    for column in range(len(COLUMNS)):
                        item.setBackground(column, QBrush(_MATCH_COLOUR))
                if has_leading:
                    add(item, cache[id(node)][1])
                    item.setExpanded(True)

        self._filtering = True
        try:
            add(self.tree.invisibleRootItem(), self._nodes)
        finally:
            self._filtering = False
        return made

    def _matches(self, node: TagNode, needle: str) -> bool:
        text = self._haystacks.get(id(node))
        if text is None:
            text = self._haystacks[id(node)] = _haystack(node)
        return needle in text

    def _restore_expanded(self) -> None:
        for path in sorted(self._expanded, key=len):
            item = self._item_at(path)
            if item is not None:
                item.setExpanded(True)

    def _item_at(self, path: _Path) -> QTreeWidgetItem | None:
        """The row at ``path`` (see :meth:`_item_path`), made if need be."""
        parent = self.tree.invisibleRootItem()
        parent_node: TagNode | None = None
        item: QTreeWidgetItem | None = None
        for key in path:
            self._fill_children(parent)
            target: TagNode | None = None
            if key.startswith("#") and parent_node is not None:
                position = int(key[1:])
                if position < len(parent_node.children):
                    target = parent_node.children[position]
            item = None
            for n in range(parent.childCount()):
                child = parent.child(n)
                if child is None:
                    continue
                node = self._node(child)
                if node is target or (target is None and node.tag == key):
                    item = child
                    break
            if item is None:
                return None
            parent, parent_node = item, self._node(item)
        return item

    def _item_path(self, item: QTreeWidgetItem) -> _Path:
        """Tags from the top down to ``item``; a sequence item is ``#n``, its
        position in the sequence as shown (so the one item of the frame shown
        matches from frame to frame)."""
        keys: list[str] = []
        current: QTreeWidgetItem | None = item
        while current is not None:
            node = self._node(current)
            parent = current.parent()
            key = node.tag
            if node.tag == _ITEM_TAG and parent is not None:
                siblings = self._node(parent).children
                key = next(
                    (f"#{n}" for n, other in enumerate(siblings) if other is node),
                    node.tag,
                )
            keys.append(key)
            current = parent
        return tuple(reversed(keys))

    @staticmethod
    def _node(item: QTreeWidgetItem) -> TagNode:
        node = item.data(0, NODE_ROLE)
        assert isinstance(node, TagNode)
        return node

    def _selected_items(self) -> list[QTreeWidgetItem]:
        items = self.tree.selectedItems()
        current = self.tree.currentItem()
        if not items and current is not None:
            items = [current]
        return sorted(items, key=self._tree_position)

    @staticmethod
    def _tree_position(item: QTreeWidgetItem) -> tuple[int, ...]:
        """Row numbers from the top: sorts items in the order shown."""
        rows: list[int] = []
        current: QTreeWidgetItem | None = item
        while current is not None:
            parent = current.parent()
            if parent is None:
                tree = current.treeWidget()
                rows.append(tree.indexOfTopLevelItem(current) if tree else 0)
            else:
                rows.append(parent.indexOfChild(current))
            current = parent
        return tuple(reversed(rows))

    def _copy_column(self, column: int) -> None:
        texts = [item.text(column) for item in self._selected_items()]
        if texts:
            QGuiApplication.clipboard().setText("\n".join(texts))
