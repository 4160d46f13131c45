"""SeriesBrowserWidget: the patient → study → series tree of a scan, with thumbnails."""

from __future__ import annotations

import dataclasses
import threading
from typing import TYPE_CHECKING, ClassVar, Final

import numpy as np
from PySide6.QtCore import (
    QAbstractItemModel,
    QCoreApplication,
    QEvent,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRectF,
    QRunnable,
    QSize,
    Qt,
    QThreadPool,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QIcon,
    QImage,
    QPainter,
    QPen,
    QPixmap,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from imaging_viewer.core.dicom.load import load_volume
from imaging_viewer.core.render import default_window_for, render_slice

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QCloseEvent, QKeyEvent

    from imaging_viewer.core.dicom.scan import ScanResult, StudyNode
    from imaging_viewer.core.dicom.series import SeriesInfo

MIME_TYPE: Final = "application/x-imaging-viewer-series"
"""Drag payload: the series id, UTF-8."""
THUMBNAIL_PX: Final = 64

SERIES_ID_ROLE: Final = int(Qt.ItemDataRole.UserRole) + 1
"""On series rows: the series id (str)."""
KIND_ROLE: Final = int(Qt.ItemDataRole.UserRole) + 2
"""On every row: "patient", "study" or "series"."""
THUMBNAIL_STATE_ROLE: Final = int(Qt.ItemDataRole.UserRole) + 3
"""On series rows: "pending", "ready" or "failed"."""
STUDY_UID_ROLE: Final = int(Qt.ItemDataRole.UserRole) + 4
"""On study rows: the Study Instance UID (str)."""
TIMEPOINT_ROLE: Final = int(Qt.ItemDataRole.UserRole) + 5
"""On study rows: the time point label shown (str)."""
TIME_ROLE: Final = int(Qt.ItemDataRole.UserRole) + 6
"""On the date cell of series rows: the time, ``HH:MM`` (shown under the date)."""
DETAILS_ROLE: Final = int(Qt.ItemDataRole.UserRole) + 7
"""On series rows (column 0): "CT · No. 3 · 28 images", shown under the
description while the browser is too narrow for those columns."""
COMPACT_BELOW_PX: Final = 480
"""Narrower than this, modality, number and images go under the description."""

COLUMNS: Final = ("Series", "Modality", "No.", "Images", "Date")
_SERIES, _MODALITY, _NUMBER, _IMAGES, _DATE = range(len(COLUMNS))
_MAX_RENDER_PX: Final = 256
"""Images are subsampled to about this size before windowing: enough for 64 px."""


def format_dicom_date(value: str) -> str:
    """``20240102`` as ``2024-01-02``; anything else unchanged (PS3.5 6.2 DA)."""
    text = value.strip()
    if len(text) >= 8 and text[:8].isdigit():
        return f"{text[:4]}-{text[4:6]}-{text[6:8]}"
    return text


def format_dicom_time(value: str) -> str:
    """``103105.123`` as ``10:31`` (PS3.5 6.2 TM); empty when not a time."""
    text = value.strip()
    if len(text) >= 4 and text[:4].isdigit():
        return f"{text[:2]}:{text[2:4]}"
    return ""


def format_person_name(value: str) -> str:
    """``DOE^JOHN^^^`` as ``DOE, JOHN`` (PS3.5 6.2.1 PN)."""
    parts = [p.strip() for p in value.split("=")[0].split("^")]
    family, given = [*parts, "", ""][:2]
    if family and given:
        return f"{family}, {given}"
    return family or given or ""


def image_count_text(series: SeriesInfo) -> tuple[str, str]:
    """("150 (15×10)", tooltip) for slices × time points; ("28", ...) for one."""
    slices = len(series.frames[0]) if series.frames else 0
    times = series.n_time_points
    total = slices * times
    if times == 1:
        return str(total), f"{slices} image{'' if slices == 1 else 's'}"
    what = "frames" if slices == 1 else "time points"
    return (
        f"{total} ({slices}×{times})",
        f"{slices} slice{'' if slices == 1 else 's'} × {times} {what} = {total} images",
    )


def middle_frame_series(series: SeriesInfo) -> SeriesInfo:
    """``series`` reduced to its middle image: the middle slice of the first time
    point, or the middle frame of a clip (one image per time point).

    The reduced series loads as a single 2D image, through the same decoder as
    the full series (multi-frame, mosaic tile, compressed), without resampling.
    """
    frames = series.frames[0]
    if len(frames) == 1 and series.n_time_points > 1:
        ref = series.frames[series.n_time_points // 2][0]
    else:
        ref = frames[len(frames) // 2]
    return dataclasses.replace(
        series,
        frames=((ref,),),
        shape_kji=(1, series.acquired_rows, series.acquired_columns),
        geometry=None,
        files=(ref.path,),
    )


def render_thumbnail(series: SeriesInfo, size: int = THUMBNAIL_PX) -> QImage:
    """A ``size``×``size`` RGB32 thumbnail of the middle image, in the default window.

    Runs off the GUI thread (QImage and QPainter on a QImage are thread-safe).

    Raises
    ------
    ValueError
        When the image cannot be decoded.
    """
    volume = load_volume(middle_frame_series(series))
    if len(volume.warnings) > len(series.warnings):
        raise ValueError(volume.warnings[-1])
    pixels = volume.time_point(0).voxels[0]
    rows, columns = int(pixels.shape[0]), int(pixels.shape[1])
    step = max(1, max(rows, columns) // _MAX_RENDER_PX)
    if step > 1:
        pixels = np.ascontiguousarray(pixels[::step, ::step])
    window = None if volume.is_rgb else default_window_for(volume)
    rgb = np.ascontiguousarray(render_slice(pixels, window, display=volume.display))
    height, width = rgb.shape
    image = QImage(rgb.data, width, height, width * 4, QImage.Format.Format_RGB32)
    # Physical aspect: rows and columns may have different spacings (PS3.3 10.7.1.3).
    column_mm = float(np.linalg.norm(series.ijk_to_lps[:3, 0])) or 1.0
    row_mm = float(np.linalg.norm(series.ijk_to_lps[:3, 1])) or 1.0
    extent_x, extent_y = columns * column_mm, rows * row_mm
    scale = size / max(extent_x, extent_y)
    target = QSize(
        max(1, round(extent_x * scale)),
        max(1, round(extent_y * scale)),
    )
    scaled = image.scaled(
        target,
        Qt.AspectRatioMode.IgnoreAspectRatio,
        Qt.TransformationMode.SmoothTransformation,
    )
    canvas = QImage(size, size, QImage.Format.Format_RGB32)
    canvas.fill(QColor(0, 0, 0))
    painter = QPainter(canvas)
    painter.drawImage(
        (size - scaled.width()) // 2, (size - scaled.height()) // 2, scaled
    )
    painter.end()
    return canvas


class _ThumbnailSignals(QObject):
    finished = Signal(int, str, object, str)
    """(generation, series id, QImage or None, error text)."""


class _ThumbnailTask(QRunnable):
    def __init__(
        self,
        generation: int,
        series: SeriesInfo,
        signals: _ThumbnailSignals,
        stop: threading.Event,
        go: threading.Event,
    ) -> None:
        super().__init__()
        # The pool owns and deletes the task, queued or run.
        self.setAutoDelete(True)
        self.generation = generation
        self.series = series
        self._signals = signals
        self._stop = stop
        self._go = go

    def run(self) -> None:
        # The shown series loads first: a thumbnail waits until no load runs.
        while not self._go.wait(0.05):
            if self._stop.is_set():
                return
        if self._stop.is_set():
            return
        image: QImage | None = None
        error = ""
        try:
            image = render_thumbnail(self.series)
        except Exception as exc:  # decoders raise many types; shown as a tooltip
            error = f"{type(exc).__name__}: {exc}"
        if not self._stop.is_set():
            self._signals.finished.emit(self.generation, self.series.id, image, error)


class _BrowserDelegate(QStyledItemDelegate):
    """Draws a series' time under its date, and edits a study's time point label
    in place (the label alone; the widget is told, the model is not written)."""

    def __init__(self, browser: SeriesBrowserWidget) -> None:
        super().__init__(browser)
        self._browser = browser

    def initStyleOption(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        super().initStyleOption(option, index)
        # A line separator (U+2028): the style breaks the line there.
        time = index.data(TIME_ROLE)
        if time:
            option.text = f"{option.text}\u2028{time}"
        details = index.data(DETAILS_ROLE)
        if details and self._browser.compact:
            option.text = f"{option.text}\u2028{details}"

    def setEditorData(
        self, editor: QWidget, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        if isinstance(editor, QLineEdit):
            editor.setText(str(index.data(TIMEPOINT_ROLE) or ""))
            editor.selectAll()
            return
        super().setEditorData(editor, index)

    def setModelData(
        self,
        editor: QWidget,
        model: QAbstractItemModel,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        uid = index.data(STUDY_UID_ROLE)
        if isinstance(editor, QLineEdit) and uid:
            self._browser.timepoint_renamed.emit(str(uid), editor.text().strip())


class _SeriesItemModel(QStandardItemModel):
    """The tree's model: series rows drag as :data:`MIME_TYPE`."""

    def mimeTypes(self) -> list[str]:
        return [MIME_TYPE]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        data = QMimeData()
        for index in indexes:
            series_id = index.siblingAtColumn(0).data(SERIES_ID_ROLE)
            if series_id:
                data.setData(MIME_TYPE, str(series_id).encode("utf-8"))
                data.setText(str(series_id))
                break
        return data


class SeriesBrowserWidget(QWidget):
    """The series of a scan as a patient → study → series tree.

    Series rows show modality, series number, description, date, image count and
    a thumbnail of the middle image (made in the background; a modality tile
    until then, or when the image cannot be decoded). Double-click or Enter on a
    series emits :attr:`series_activated`; dragging one carries its id as
    :data:`MIME_TYPE`.
    """

    series_activated = Signal(str)
    """A series id, on double-click or Enter."""
    series_selected = Signal(str)
    """The series id of the current row ("" when it is not a series)."""
    thumbnail_ready = Signal(str)
    """A series id whose thumbnail was drawn."""
    timepoint_renamed = Signal(str, str)
    """(Study Instance UID, new time point label) edited in place."""
    send_requested = Signal(str, str)
    """Study Instance UID (or ""), series id (or ""): "Send to PACS…"."""

    THREADS: ClassVar[int] = 2

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Created first, so it is destroyed (and waits for its threads) first.
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(self.THREADS)
        self._signals = _ThumbnailSignals(self)
        self._signals.finished.connect(self._on_thumbnail_finished)
        self._stop = threading.Event()
        self.thumbnails_go = threading.Event()
        """Thumbnails are drawn while it is set; a window clears it while the
        series it shows load, so that they are not slowed by thumbnails."""
        self.thumbnails_go.set()
        self._generation = 0
        self._series: dict[str, SeriesInfo] = {}
        self._rows: dict[str, QPersistentModelIndex] = {}
        self._tiles: dict[tuple[str, bool], QIcon] = {}
        self._studies: dict[str, tuple[QPersistentModelIndex, StudyNode]] = {}
        self._timepoints: dict[str, str] = {}
        self.compact = False
        """Modality, number and images are shown under the description (their
        columns hidden): the browser is narrower than :data:`COMPACT_BELOW_PX`."""

        self.summary_label = QLabel("No folder scanned")
        self.summary_label.setObjectName("seriesSummaryLabel")
        self.summary_label.setContentsMargins(4, 2, 4, 2)

        self.model = _SeriesItemModel(self)
        self.model.setHorizontalHeaderLabels(list(COLUMNS))
        self.tree_view = QTreeView(self)
        self.tree_view.setObjectName("seriesTreeView")
        self.tree_view.setModel(self.model)
        self.tree_view.setIconSize(QSize(THUMBNAIL_PX, THUMBNAIL_PX))
        self.tree_view.setUniformRowHeights(False)
        self.tree_view.setAlternatingRowColors(True)
        self.tree_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree_view.setSelectionBehavior(
            QAbstractItemView.SelectionBehavior.SelectRows
        )
        self.tree_view.setDragEnabled(True)
        self.tree_view.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree_view.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.tree_view.setIndentation(14)
        self.tree_view.setWordWrap(True)
        self.tree_view.setItemDelegate(_BrowserDelegate(self))
        self.tree_view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree_view.customContextMenuRequested.connect(self._on_context_menu)
        header = self.tree_view.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(_SERIES, QHeaderView.ResizeMode.Stretch)
        for column in (_MODALITY, _NUMBER, _IMAGES, _DATE):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.tree_view.doubleClicked.connect(self._on_double_clicked)
        self.tree_view.installEventFilter(self)
        self.tree_view.viewport().installEventFilter(self)
        selection = self.tree_view.selectionModel()
        selection.currentRowChanged.connect(self._on_current_row_changed)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.tree_view)

        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self._on_about_to_quit)

    # ------------------------------------------------------------------ public
    def set_scan_result(self, result: ScanResult | None) -> None:
        """Show the series of ``result`` (None clears), thumbnails to follow."""
        # Queued thumbnails are dropped; one being drawn finishes unseen.
        self._stop.set()
        self._pool.clear()
        self._generation += 1
        self._series.clear()
        self._rows.clear()
        self._studies.clear()
        self.model.removeRows(0, self.model.rowCount())
        if result is None:
            self.summary_label.setText("No folder scanned")
            return
        root = self.model.invisibleRootItem()
        images = 0
        for patient in result.patients:
            patient_text = format_person_name(patient.name) or "(no name)"
            details = [
                f"ID {patient.id}" if patient.id else "",
                patient.sex,
                format_dicom_date(patient.birth_date),
            ]
            detail = ", ".join(d for d in details if d)
            patient_row = self._row("patient", patient_text)
            patient_row[0].setToolTip(f"{patient_text}\n{detail}".strip())
            if detail:
                patient_row[0].setText(f"{patient_text}  ({detail})")
            bold = QFont()
            bold.setBold(True)
            patient_row[0].setFont(bold)
            root.appendRow(patient_row)
            # Patient and study rows read across the whole width (not cut at the
            # thumbnail column).
            self.tree_view.setFirstColumnSpanned(
                patient_row[0].row(), root.index(), True
            )
            for study in sorted(
                patient.studies, key=lambda st: (st.date, st.time), reverse=True
            ):
                study_row = self._row("study", "")
                study_row[0].setData(study.uid, STUDY_UID_ROLE)
                study_row[0].setEditable(True)
                study_row[_DATE].setText(format_dicom_date(study.date))
                patient_row[0].appendRow(study_row)
                self._studies[study.uid] = (
                    QPersistentModelIndex(study_row[0].index()),
                    study,
                )
                self._show_study(study.uid)
                self.tree_view.setFirstColumnSpanned(
                    study_row[0].row(), patient_row[0].index(), True
                )
                for series in study.series:
                    series_row = self._series_row(series)
                    study_row[0].appendRow(series_row)
                    self._rows[series.id] = QPersistentModelIndex(series_row[0].index())
                    images += series.n_time_points * len(series.frames[0])
        self.tree_view.expandAll()
        n = len(result.series)
        self.summary_label.setText(
            f"{n} series, {images} image{'' if images == 1 else 's'}"
            + (f", {len(result.skipped)} file(s) skipped" if result.skipped else "")
        )
        self._start_thumbnails(result.series)

    def set_timepoints(self, labels: Mapping[str, str]) -> None:
        """Show each study's time point label (by Study Instance UID)."""
        self._timepoints = dict(labels)
        for uid in self._studies:
            self._show_study(uid)

    def study_index(self, study_uid: str) -> QModelIndex:
        """The model index (column 0) of a study row; invalid when absent."""
        entry = self._studies.get(study_uid)
        if entry is None or not entry[0].isValid():
            return QModelIndex()
        row = entry[0]
        return self.model.index(row.row(), 0, row.parent())

    def rename_timepoint(self, study_uid: str) -> bool:
        """Edit a study's time point label in place; False when not shown."""
        index = self.study_index(study_uid)
        if not index.isValid():
            return False
        self.tree_view.setCurrentIndex(index)
        self.tree_view.edit(index)
        return True

    def series_index(self, series_id: str) -> QModelIndex:
        """The model index (column 0) of a series row; invalid when absent."""
        row = self._rows.get(series_id)
        if row is None or not row.isValid():
            return QModelIndex()
        return self.model.index(row.row(), 0, row.parent())

    def series_ids(self) -> list[str]:
        """The series shown, in tree order."""
        return list(self._rows)

    def select_series(self, series_id: str) -> bool:
        """Make a series the current row; False when it is not shown."""
        index = self.series_index(series_id)
        if not index.isValid():
            return False
        self.tree_view.setCurrentIndex(index)
        self.tree_view.scrollTo(index)
        return True

    def current_series_id(self) -> str | None:
        """The id of the current series row, or None."""
        return self._series_id_of(self.tree_view.currentIndex())

    def thumbnail_state(self, series_id: str) -> str:
        """ "pending", "ready" or "failed" ("" for an unknown series)."""
        index = self.series_index(series_id)
        return str(index.data(THUMBNAIL_STATE_ROLE) or "") if index.isValid() else ""

    # ------------------------------------------------------------------ Qt
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and watched is self.tree_view.viewport():
            self._update_compact()
        if watched is self.tree_view and event.type() == QEvent.Type.KeyPress:
            key_event: QKeyEvent = event  # type: ignore[assignment]
            if key_event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                series_id = self.current_series_id()
                if series_id:
                    self.series_activated.emit(series_id)
                    return True
        return super().eventFilter(watched, event)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._cancel_thumbnails()
        super().closeEvent(event)

    # ------------------------------------------------------------------ slots
    def _on_double_clicked(self, index: QModelIndex) -> None:
        series_id = self._series_id_of(index)
        if series_id:
            self.series_activated.emit(series_id)
            return
        uid = index.siblingAtColumn(0).data(STUDY_UID_ROLE)
        if uid:
            self.rename_timepoint(str(uid))

    def _on_context_menu(self, position: QPoint) -> None:
        index = self.tree_view.indexAt(position)
        uid = index.siblingAtColumn(0).data(STUDY_UID_ROLE) if index.isValid() else None
        series_id = self._series_id_of(index) if index.isValid() else None
        if not (uid or series_id):
            return
        menu = QMenu(self)
        if uid:
            menu.addAction("Rename timepoint…", lambda: self.rename_timepoint(str(uid)))
        send = (str(uid or ""), series_id or "")
        menu.addAction("Send to PACS…", lambda: self.send_requested.emit(*send))
        menu.exec(self.tree_view.viewport().mapToGlobal(position))

    def _on_current_row_changed(self, current: QModelIndex, _: QModelIndex) -> None:
        self.series_selected.emit(self._series_id_of(current) or "")

    def _on_thumbnail_finished(
        self, generation: int, series_id: str, image: object, error: str
    ) -> None:
        if generation != self._generation:
            return
        index = self.series_index(series_id)
        if not index.isValid():
            return
        item = self.model.itemFromIndex(index)
        series = self._series[series_id]
        if isinstance(image, QImage) and not image.isNull():
            item.setIcon(QIcon(QPixmap.fromImage(image)))
            item.setData("ready", THUMBNAIL_STATE_ROLE)
            self.thumbnail_ready.emit(series_id)
        else:
            item.setIcon(self._tile(series.modality, failed=True))
            item.setData("failed", THUMBNAIL_STATE_ROLE)
            item.setToolTip(f"{self._tooltip(series)}\n\nNo preview: {error}")

    def _on_about_to_quit(self) -> None:
        self._cancel_thumbnails()

    # ------------------------------------------------------------------ rows
    def _row(self, kind: str, text: str) -> list[QStandardItem]:
        items = [QStandardItem() for _ in COLUMNS]
        items[0].setText(text)
        for item in items:
            item.setData(kind, KIND_ROLE)
            item.setEditable(False)
            item.setDragEnabled(False)
        return items

    def _update_compact(self) -> None:
        compact = self.tree_view.viewport().width() < COMPACT_BELOW_PX
        if compact == self.compact:
            return
        self.compact = compact
        for column in (_MODALITY, _NUMBER, _IMAGES):
            self.tree_view.setColumnHidden(column, compact)
        self.tree_view.doItemsLayout()

    def _show_study(self, uid: str) -> None:
        """A study row reads: date · time point · description · accession."""
        row, study = self._studies[uid]
        if not row.isValid():
            return
        item = self.model.itemFromIndex(self.model.index(row.row(), 0, row.parent()))
        label = self._timepoints.get(uid, "")
        parts = [
            format_dicom_date(study.date),
            label,
            study.description or "(no study description)",
            f"Acc. {study.accession_number}" if study.accession_number else "",
        ]
        item.setText(" · ".join(p for p in parts if p))
        item.setData(label, TIMEPOINT_ROLE)
        item.setToolTip(
            f"Time point: {label or '(not named)'} (double-click to rename)\n"
            f"Study Instance UID {uid}"
        )

    def _series_row(self, series: SeriesInfo) -> list[QStandardItem]:
        items = self._row("series", series.description or "(no description)")
        count, count_tip = image_count_text(series)
        items[_MODALITY].setText(series.modality)
        items[_NUMBER].setText(
            str(series.series_number) if series.series_number is not None else ""
        )
        items[_IMAGES].setText(count)
        items[_IMAGES].setToolTip(count_tip)
        items[_DATE].setText(format_dicom_date(series.series_date or series.study_date))
        time = format_dicom_time(series.series_time or series.study_time)
        if time:
            items[_DATE].setData(time, TIME_ROLE)
        items[_DATE].setToolTip(f"{items[_DATE].text()} {time}".strip())
        for column in (_MODALITY, _NUMBER, _IMAGES):
            items[column].setTextAlignment(Qt.AlignmentFlag.AlignCenter)
        number = (
            f"No. {series.series_number}" if series.series_number is not None else ""
        )
        noun = "image" if count == "1" else "images"
        details = [series.modality, number, f"{count} {noun}"]
        items[0].setData(" · ".join(d for d in details if d), DETAILS_ROLE)
        for item in items:
            item.setData(series.id, SERIES_ID_ROLE)
            item.setDragEnabled(True)
        first = items[0]
        first.setIcon(self._tile(series.modality, failed=False))
        first.setData("pending", THUMBNAIL_STATE_ROLE)
        first.setToolTip(self._tooltip(series))
        if series.warnings:
            first.setText(f"{first.text()}  ⚠")
        self._series[series.id] = series
        return items

    @staticmethod
    def _tooltip(series: SeriesInfo) -> str:
        size = "×".join(str(v) for v in series.size)
        lines = [
            series.description or "(no description)",
            f"{series.modality}, series {series.series_number}, {size}",
            f"Accession number {series.accession_number or '(none)'}",
            f"Series Instance UID {series.uid}",
        ]
        lines.extend(f"⚠ {w}" for w in series.warnings)
        return "\n".join(lines)

    def _series_id_of(self, index: QModelIndex) -> str | None:
        if not index.isValid():
            return None
        value = index.siblingAtColumn(0).data(SERIES_ID_ROLE)
        return str(value) if value else None

    def _tile(self, modality: str, failed: bool) -> QIcon:
        """A modality tile: the thumbnail before (or instead of) the image."""
        key = (modality, failed)
        icon = self._tiles.get(key)
        if icon is not None:
            return icon
        pixmap = QPixmap(THUMBNAIL_PX, THUMBNAIL_PX)
        pixmap.fill(QColor(0, 0, 0, 0))
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor(90, 90, 98), 1))
        painter.setBrush(QColor(52, 52, 58))
        inner = THUMBNAIL_PX - 3
        painter.drawRoundedRect(QRectF(1.5, 1.5, inner, inner), 6, 6)
        font = QFont(painter.font())
        font.setBold(True)
        font.setPixelSize(18)
        painter.setFont(font)
        painter.setPen(QColor(170, 170, 180))
        painter.drawText(
            QRectF(0, 0, THUMBNAIL_PX, THUMBNAIL_PX),
            Qt.AlignmentFlag.AlignCenter,
            modality or "?",
        )
        if failed:
            font.setPixelSize(10)
            font.setBold(False)
            painter.setFont(font)
            painter.setPen(QColor(224, 160, 48))
            painter.drawText(
                QRectF(0, THUMBNAIL_PX - 20, THUMBNAIL_PX, 16),
                Qt.AlignmentFlag.AlignCenter,
                "no preview",
            )
        painter.end()
        icon = self._tiles[key] = QIcon(pixmap)
        return icon

    # ------------------------------------------------------------------ thumbnails
    def _start_thumbnails(self, series: Sequence[SeriesInfo]) -> None:
        self._stop = threading.Event()
        for info in series:
            self._pool.start(
                _ThumbnailTask(
                    self._generation,
                    info,
                    self._signals,
                    self._stop,
                    self.thumbnails_go,
                )
            )

    def _cancel_thumbnails(self) -> None:
        """Drop queued thumbnails and wait for those being drawn."""
        self._stop.set()
        self._pool.clear()
        self._pool.waitForDone()
