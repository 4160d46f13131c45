"""A PNG plot of each lesion's size over time, painted by Qt (no plotting library).

One image per lesion of a response table: its RECIST size (short axis of a
node, else longest diameter, RECIST 1.1 §3.2) at each time point it was
measured, on a time axis by study date (by order where a date is missing), the
% change against baseline written beside each point. Paints on a QImage, so it
works offscreen (``imaging-viewer response --plot DIR``) and from the GUI.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from pathlib import Path
from typing import TYPE_CHECKING, Final

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen

from imaging_viewer.core.files import write_bytes_atomic

if TYPE_CHECKING:
    from imaging_viewer.core.followup.response_table import LesionRow, ResponseTable

PLOT_SIZE: Final = (720, 420)
LINE_COLOUR: Final = QColor("#1f77b4")
"""Colour of the size line and its points."""
_MARGINS: Final = (70.0, 50.0, 100.0, 70.0)  # left, top, right, bottom


def _day(study_date: str) -> int | None:
    try:
        return dt.date(
            int(study_date[:4]), int(study_date[4:6]), int(study_date[6:8])
        ).toordinal()
    except (ValueError, IndexError):
        return None


def _x_positions(table: ResponseTable) -> list[float]:
    """0…1 along the time axis: by study date where every time point has one."""
    count = len(table.timepoints)
    days = [_day(t.study_date) for t in table.timepoints]
    known = [d for d in days if d is not None]
    if len(known) == count and count > 1 and max(known) > min(known):
        return [(d - min(known)) / (max(known) - min(known)) for d in known]
    return [index / max(count - 1, 1) for index in range(count)]


def render_lesion_plot(table: ResponseTable, row: LesionRow) -> QImage:
    """The plot of one lesion (needs a QGuiApplication for fonts)."""
    from imaging_viewer.core.followup.table_export import timepoint_label

    width, height = PLOT_SIZE
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    left, top, right, bottom = _MARGINS
    area = QRectF(left, top, width - left - right, height - top - bottom)
    values = [None if c is None else c.size_mm for c in row.cells]
    measured = [v for v in values if v is not None]
    y_max = max(measured) * 1.2 if measured and max(measured) > 0 else 10.0
    xs = _x_positions(table)

    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = QFont()
        font.setPixelSize(13)
        painter.setFont(font)
        painter.setPen(QColor("black"))
        title = row.label or row.tracking_uid
        kind = "short axis" if row.nodal else "longest diameter"
        painter.drawText(
            QRectF(0, 8, width, 30),
            Qt.AlignmentFlag.AlignHCenter,
            f"{title} — {kind} (mm)",
        )
        grid = QPen(QColor("#d0d0d0"))
        for step in range(5):
            value = y_max * step / 4
            y = area.bottom() - area.height() * step / 4
            painter.setPen(grid)
            painter.drawLine(QPointF(area.left(), y), QPointF(area.right(), y))
            painter.setPen(QColor("black"))
            painter.drawText(
                QRectF(0, y - 9, left - 8, 18),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                f"{value:.0f}",
            )
        painter.drawLine(area.bottomLeft(), area.bottomRight())
        painter.drawLine(area.bottomLeft(), area.topLeft())
        for index, x in enumerate(xs):
            px = area.left() + area.width() * x
            date = table.timepoints[index].study_date
            painter.drawText(
                QRectF(px - 60, area.bottom() + 6, 120, 40),
                Qt.AlignmentFlag.AlignHCenter,
                f"{timepoint_label(table, index)}\n{date or '?'}",
            )
        points = [
            (
                QPointF(
                    area.left() + area.width() * x,
                    area.bottom() - area.height() * v / y_max,
                ),
                index,
            )
            for index, (x, v) in enumerate(zip(xs, values, strict=True))
            if v is not None
        ]
        painter.setPen(QPen(LINE_COLOUR, 2.0))
        for (a, _), (b, _) in itertools.pairwise(points):
            painter.drawLine(a, b)
        painter.setBrush(LINE_COLOUR)
        for point, index in points:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawEllipse(point, 5.0, 5.0)
            cell = row.cells[index]
            change = None if cell is None else cell.change_from_baseline_pct
            text = f"{values[index]:.1f}"
            if index and change is not None:
                text += f" ({change:+.0f} %)"
            painter.setPen(QColor("black"))
            painter.drawText(point + QPointF(8.0, -8.0), text)
    finally:
        painter.end()
    return image


def png_bytes(image: QImage) -> bytes:
    """The image encoded as PNG."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")  # type: ignore[call-overload]
    buffer.close()
    return bytes(data.data())


def _file_name(row: LesionRow, number: int) -> str:
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", row.label).strip("_")
    return f"lesion_{number:02d}" + (f"_{name}" if name else "") + ".png"


def write_lesion_plots(table: ResponseTable, folder: str | Path) -> list[Path]:
    """One PNG per lesion in ``folder`` (created), each written atomically.

    Raises
    ------
    OSError
        When the folder cannot be made or written.
    """
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    return [
        write_bytes_atomic(
            target / _file_name(row, number), png_bytes(render_lesion_plot(table, row))
        )
        for number, row in enumerate(table.rows, start=1)
    ]
