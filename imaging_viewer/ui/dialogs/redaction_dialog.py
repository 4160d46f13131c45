"""The redaction tool of the teaching case: each key image with the text OCR
found in it, and the user's own rectangles to black out (issue 18).

Rectangles are in stored-frame pixels (the DICOM image's rows and columns), as
:func:`~imaging_viewer.core.teaching.export.export_teaching_case` takes them
(``redactions=``, by SOP Instance UID), so the frame is shown as stored: no
window, flip or rotation of the viewport.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import Qt

if TYPE_CHECKING:
    from collections.abc import Sequence

    from imaging_viewer.core.exchange.burned_in_text import RedactionPreview, TextBox
    from imaging_viewer.core.teaching.key_images import KeyImageRef

_FOUND_PEN = QtGui.QColor(255, 60, 60)
_DRAWN_FILL = QtGui.QColor(0, 0, 0)
_DRAWN_PEN = QtGui.QColor(255, 200, 0)


class RedactionCanvas(QtWidgets.QWidget):
    """One frame, scaled to fit, with OCR's boxes outlined in red and the user's
    rectangles filled black; dragging draws a rectangle, a right click on one
    removes it."""

    changed = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(320, 240)
        self._image = QtGui.QImage()
        self._pixels: object = None  # keeps the QImage's buffer alive
        self.found: tuple[TextBox, ...] = ()
        self.drawn: list[TextBox] = []
        self._drag_from: QtCore.QPointF | None = None
        self._drag_to: QtCore.QPointF | None = None

    def show_preview(self, preview: RedactionPreview, drawn: Sequence[TextBox]) -> None:
        """Show ``preview``'s frame and boxes, with ``drawn`` as the user's."""
        import numpy as np

        pixels = np.ascontiguousarray(preview.pixels)
        self._pixels = pixels
        rows, columns = pixels.shape
        self._image = QtGui.QImage(
            pixels.data, columns, rows, columns, QtGui.QImage.Format.Format_Grayscale8
        )
        self.found = preview.found
        self.drawn = list(drawn)
        self.update()

    def _scale(self) -> tuple[float, float, float]:
        """(scale, x offset, y offset) of the image in the widget."""
        if self._image.isNull():
            return 1.0, 0.0, 0.0
        scale = min(
            self.width() / self._image.width(), self.height() / self._image.height()
        )
        x = (self.width() - self._image.width() * scale) / 2
        y = (self.height() - self._image.height() * scale) / 2
        return scale, x, y

    def to_stored(self, point: QtCore.QPointF) -> tuple[int, int]:
        """(column, row) of the stored frame under a widget point, clamped."""
        scale, x, y = self._scale()
        column = int((point.x() - x) / scale)
        row = int((point.y() - y) / scale)
        return (
            max(0, min(self._image.width(), column)),
            max(0, min(self._image.height(), row)),
        )

    def _rect(self, box: TextBox) -> QtCore.QRectF:
        scale, x, y = self._scale()
        return QtCore.QRectF(
            x + box.column * scale,
            y + box.row * scale,
            box.width * scale,
            box.height * scale,
        )

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        """The frame, OCR's boxes, the user's rectangles, the one being drawn."""
        painter = QtGui.QPainter(self)
        painter.fillRect(self.rect(), Qt.GlobalColor.darkGray)
        if not self._image.isNull():
            scale, x, y = self._scale()
            target = QtCore.QRectF(
                x, y, self._image.width() * scale, self._image.height() * scale
            )
            painter.drawImage(target, self._image)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QtGui.QPen(_FOUND_PEN, 2))
        for box in self.found:
            painter.drawRect(self._rect(box))
        painter.setPen(QtGui.QPen(_DRAWN_PEN, 1))
        painter.setBrush(_DRAWN_FILL)
        for box in self.drawn:
            painter.drawRect(self._rect(box))
        if self._drag_from is not None and self._drag_to is not None:
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(QtCore.QRectF(self._drag_from, self._drag_to))
        painter.end()

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:
        """Left: start a rectangle; right: remove the user's rectangle there."""
        point = event.position()
        if event.button() == Qt.MouseButton.RightButton:
            hit = [b for b in self.drawn if self._rect(b).contains(point)]
            if hit:
                self.drawn.remove(hit[-1])
                self.changed.emit()
                self.update()
            return
        if event.button() == Qt.MouseButton.LeftButton and not self._image.isNull():
            self._drag_from = self._drag_to = point

    def mouseMoveEvent(self, event: QtGui.QMouseEvent) -> None:
        """Follow the rectangle being drawn."""
        if self._drag_from is not None:
            self._drag_to = event.position()
            self.update()

    def mouseReleaseEvent(self, event: QtGui.QMouseEvent) -> None:
        """Keep the rectangle drawn (in stored-frame pixels) unless it is empty."""
        from imaging_viewer.core.exchange.burned_in_text import TextBox

        if self._drag_from is None:
            return
        (c0, r0), (c1, r1) = (
            self.to_stored(self._drag_from),
            self.to_stored(event.position()),
        )
        self._drag_from = self._drag_to = None
        if abs(c1 - c0) >= 1 and abs(r1 - r0) >= 1:
            self.drawn.append(
                TextBox(min(c0, c1), min(r0, r1), abs(c1 - c0), abs(r1 - r0))
            )
            self.changed.emit()
        self.update()


class RedactionDialog(QtWidgets.QDialog):
    """The key images (those at risk of burned-in text first, marked), one at a
    time with what OCR found and the rectangles the user draws.

    :meth:`redactions` gives the rectangles by SOP Instance UID, for
    ``export_teaching_case(redactions=...)``.
    """

    def __init__(
        self,
        key_images: Sequence[KeyImageRef],
        parent: QtWidgets.QWidget | None = None,
        *,
        use_ocr: bool = True,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Redact burned-in text")
        self._use_ocr = use_ocr
        self._refs = list(key_images)
        self._previews: dict[int, RedactionPreview] = {}
        self._drawn: dict[str, list[TextBox]] = {}
        self._searched: set[int] = set()
        self.image_list = QtWidgets.QListWidget()
        self.canvas = RedactionCanvas()
        self.note = QtWidgets.QLabel()
        self.note.setWordWrap(True)
        help_text = QtWidgets.QLabel(
            "Red: text OCR found (blacked out on export). Drag to black out more; "
            "right-click a black rectangle to remove it."
        )
        help_text.setWordWrap(True)
        side = QtWidgets.QVBoxLayout()
        side.addWidget(self.image_list)
        side.addWidget(help_text)
        main = QtWidgets.QHBoxLayout()
        main.addLayout(side, 1)
        right = QtWidgets.QVBoxLayout()
        right.addWidget(self.canvas, 1)
        right.addWidget(self.note)
        main.addLayout(right, 3)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(main, 1)
        layout.addWidget(buttons)
        self.resize(900, 600)
        self._fill_list()
        self.image_list.currentRowChanged.connect(self._show)
        self.canvas.changed.connect(self._keep_drawn)
        if self._refs:
            self.image_list.setCurrentRow(0)

    def _fill_list(self) -> None:
        from imaging_viewer.core.exchange.burned_in_text import redaction_preview

        for n, ref in enumerate(self._refs):
            # Without OCR first: the risk is known from the header alone.
            self._previews[n] = redaction_preview(
                ref.path, ref.frame_index, use_ocr=False
            )
        order = sorted(
            range(len(self._refs)), key=lambda n: self._previews[n].risk is None
        )
        self._refs = [self._refs[n] for n in order]
        self._previews = {i: self._previews[n] for i, n in enumerate(order)}
        for n, ref in enumerate(self._refs):
            risk = self._previews[n].risk
            label = f"series {ref.series.series_number}, slice {ref.slice_index + 1}"
            item = QtWidgets.QListWidgetItem(("⚠ " if risk else "") + label)
            item.setToolTip(risk or "not at risk of burned-in text")
            self.image_list.addItem(item)

    def _show(self, row: int) -> None:
        from imaging_viewer.core.exchange.burned_in_text import redaction_preview

        if not 0 <= row < len(self._refs):
            return
        ref = self._refs[row]
        preview = self._previews[row]
        if preview.risk is not None and self._use_ocr and row not in self._searched:
            preview = redaction_preview(ref.path, ref.frame_index)
            self._previews[row] = preview
            self._searched.add(row)
        self.canvas.show_preview(preview, self._drawn.get(preview.sop_instance_uid, []))
        lines = [preview.risk or "Not at risk of burned-in text."]
        if preview.found:
            lines.append(f"OCR found {len(preview.found)} text regions.")
        if preview.problem:
            lines.append(preview.problem)
        self.note.setText(" ".join(lines))

    def _keep_drawn(self) -> None:
        row = self.image_list.currentRow()
        if 0 <= row < len(self._refs):
            uid = self._previews[row].sop_instance_uid
            self._drawn[uid] = list(self.canvas.drawn)

    @property
    def any_at_risk(self) -> bool:
        """True when a key image may carry patient data in its pixels."""
        return any(p.risk is not None for p in self._previews.values())

    def redactions(self) -> dict[str, list[TextBox]]:
        """The user's rectangles by SOP Instance UID (stored-frame pixels)."""
        return {uid: boxes for uid, boxes in self._drawn.items() if boxes}
