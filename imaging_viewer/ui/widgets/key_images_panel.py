"""KeyImagesPanelWidget: the images marked as key, with thumbnails; a click
shows one, Unmark removes it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from PySide6.QtGui import QPixmap

    from imaging_viewer.core.annotations.key_image_marks import KeyImageMark
    from imaging_viewer.core.annotations.model import AnnotationSet

__all__ = ["THUMBNAIL_SIZE", "KeyImagesPanelWidget", "ThumbnailLoader"]

THUMBNAIL_SIZE = 72
_MARK_ROLE = Qt.ItemDataRole.UserRole


class ThumbnailLoader(Protocol):
    """Draws key images' thumbnails (``ui.key_image_thumbnails``)."""

    ready: Any
    """Signal (mark key, QImage or None) when one is drawn."""

    def request(self, mark: KeyImageMark, size: int) -> None: ...


class KeyImagesPanelWidget(QWidget):
    """Lists the key images of the annotation set, in the order marked.

    A click (or Enter) on one emits :attr:`mark_activated` with its
    :class:`KeyImageMark`; thumbnails are those remembered when marking, or
    drawn from the file in the background (:meth:`set_thumbnail_loader`) for
    marks read from an annotation file.
    """

    mark_activated = Signal(object)
    """The KeyImageMark the user wants to see."""

    def __init__(
        self, annotations: AnnotationSet, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.annotations = annotations
        self._thumbnails: dict[tuple[str, int | None], QPixmap] = {}
        self._no_thumbnail: set[tuple[str, int | None]] = set()
        self._loader: ThumbnailLoader | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        self.hint = QLabel("No key images: press K on an image to mark it.")
        self.hint.setWordWrap(True)
        layout.addWidget(self.hint)
        self.list = QListWidget()
        self.list.setIconSize(QSize(THUMBNAIL_SIZE, THUMBNAIL_SIZE))
        self.list.itemClicked.connect(self._on_activated)
        self.list.itemActivated.connect(self._on_activated)
        layout.addWidget(self.list, 1)
        buttons = QHBoxLayout()
        self.unmark_button = QPushButton("Unmark")
        self.unmark_button.setToolTip("Remove the selected image from the key images")
        self.unmark_button.clicked.connect(self.unmark_selected)
        buttons.addWidget(self.unmark_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.annotations.changed.connect(self._on_changed)
        self.refresh()

    def set_annotations(self, annotations: AnnotationSet) -> None:
        """List the key images of another set (another study's)."""
        if annotations is self.annotations:
            return
        self.annotations.changed.disconnect(self._on_changed)
        self.annotations = annotations
        annotations.changed.connect(self._on_changed)
        self._no_thumbnail.clear()
        self.refresh()

    def set_thumbnail_loader(self, loader: ThumbnailLoader) -> None:
        """Draw the missing thumbnails with ``loader`` (in the background)."""
        self._loader = loader
        loader.ready.connect(self._on_thumbnail_ready)
        self.refresh()

    def _on_thumbnail_ready(self, key: tuple[str, int | None], image: object) -> None:
        from PySide6.QtGui import QIcon, QImage, QPixmap

        if not isinstance(image, QImage) or image.isNull():
            self._no_thumbnail.add(key)
            return
        pixmap = QPixmap.fromImage(image)
        self._thumbnails.setdefault(key, pixmap)
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(_MARK_ROLE).key == key:
                item.setIcon(QIcon(self._thumbnails[key]))

    @property
    def thumbnails(self) -> dict[tuple[str, int | None], QPixmap]:
        """Thumbnails remembered, by (SOP Instance UID, frame)."""
        return dict(self._thumbnails)

    def remember_thumbnail(self, mark: KeyImageMark, view: QWidget) -> None:
        """Keep a small picture of ``view`` (showing the image being marked)."""
        picture = view.grab()
        if not picture.isNull():
            self._thumbnails[mark.key] = picture.scaled(
                THUMBNAIL_SIZE,
                THUMBNAIL_SIZE,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )

    def _on_changed(self, description: str) -> None:
        if "key image" in description:
            self.refresh()

    def refresh(self) -> None:
        """Fill the list from the annotation set."""
        from PySide6.QtGui import QIcon

        self.list.clear()
        for number, mark in enumerate(self.annotations.key_images, start=1):
            text = f"Key image {number}"
            if mark.frame is not None:
                text += f", frame {mark.frame}"
            if mark.note:
                text += f"\n{mark.note}"
            item = QListWidgetItem(text)
            item.setData(_MARK_ROLE, mark)
            item.setToolTip(f"SOP Instance UID {mark.sop_instance_uid}")
            thumbnail = self._thumbnails.get(mark.key)
            if thumbnail is not None:
                item.setIcon(QIcon(thumbnail))
            elif self._loader is not None and mark.key not in self._no_thumbnail:
                self._loader.request(mark, THUMBNAIL_SIZE)
            self.list.addItem(item)
        has_marks = bool(self.annotations.key_images)
        self.hint.setVisible(not has_marks)
        self.unmark_button.setEnabled(has_marks)

    def unmark_selected(self) -> None:
        """Unmark the selected key image, if any."""
        item = self.list.currentItem()
        if item is not None:
            mark = item.data(_MARK_ROLE)
            self.annotations.unmark_key_image(*mark.key)

    def _on_activated(self, item: QListWidgetItem) -> None:
        self.mark_activated.emit(item.data(_MARK_ROLE))
