"""Export of the shown slice as an image at native resolution, overlays optional."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

# ``QtCore.Qt`` is looked up where used (its enums are built on first access).
from PySide6 import QtCore
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
)

from imaging_viewer.core.files import write_bytes_atomic
from imaging_viewer.core.overlay_text import corner_text
from imaging_viewer.core.render import render_slice

if TYPE_CHECKING:
    import os

    from numpy.typing import NDArray

    from imaging_viewer.core.viewer_state import ViewportState

__all__ = [
    "copy_to_clipboard",
    "render_view_image",
    "save_png",
]

_TEXT_COLOUR = QColor(255, 255, 255)
_LETTER_COLOUR = QColor(255, 220, 120)
_OUTLINE_COLOUR = QColor(0, 0, 0, 220)
_FONT_FRACTION = 1 / 36
"""Text height as a fraction of the image's shorter side."""
_MIN_FONT_PX = 9
_SCALE_BAR_FRACTION = 0.25
"""The scale bar is at most this fraction of the image width."""


def _orient(pixels: NDArray[np.uint32], viewport: ViewportState) -> NDArray[np.uint32]:
    """Flip, then turn clockwise, as :meth:`ViewportState.screen_axes_lps` does."""
    if viewport.flip_horizontal:
        pixels = pixels[:, ::-1]
    if viewport.flip_vertical:
        pixels = pixels[::-1, :]
    pixels = np.rot90(pixels, k=-(viewport.rotation_quarters % 4))
    return np.ascontiguousarray(pixels)


def _wrap(pixels: NDArray[np.uint32]) -> QImage:
    """A QImage that owns a copy of C-contiguous RGB32 ``pixels``.

    The QImage made on the array's buffer shares its memory (no copy); the one
    copy then gives the result its own data, so it outlives ``pixels``.
    """
    rows, columns = pixels.shape
    view = QImage(pixels.data, columns, rows, columns * 4, QImage.Format.Format_RGB32)
    return view.copy()


def render_view_image(
    viewport: ViewportState,
    *,
    overlays: bool,
    include_patient: bool = True,
    scale: int = 1,
    correct_aspect: bool = False,
) -> QImage:
    """The viewport's slice as an image: one image pixel per DICOM pixel.

    The slice goes through :func:`~imaging_viewer.core.render.render_slice` with
    the viewport's window (and its "invert"), then its flips and rotation. The
    result is at native resolution: pixels stay the DICOM pixels (or the
    reformatted plane's). Where they are not square, the screen corrects the
    aspect but this image does not, unless ``correct_aspect`` resamples it to
    square pixels (Qt smooth scaling, to the finer of the two spacings, so no
    detail is lost), as a plane of 5 mm slices needs to look as it does on
    screen.

    Parameters
    ----------
    viewport : ViewportState
        What to export; it must show a volume.
    overlays : bool
        Burn in the corner text (:func:`~imaging_viewer.core.overlay_text.corner_text`),
        the orientation letters at the middle of each edge and a scale bar in mm,
        each outlined in black so it reads on any grey. The font size follows the
        image size.
    include_patient : bool, default True
        False leaves patient- and study-identifying lines out of the burned-in
        text (for teaching files).
    scale : int, default 1
        Integer magnification (pixel replication, values unchanged), for
        overlays that must be legible on small images.
    correct_aspect : bool, default False
        Resample non-square pixels to square ones.

    Returns
    -------
    QImage
        ``Format_RGB32``, owning its data.

    Raises
    ------
    ValueError
        When the viewport shows nothing, or ``scale`` is below 1.
    """
    volume = viewport.volume
    pixels = viewport.pixels()
    if volume is None or pixels is None:
        raise ValueError("the viewport shows no image")
    if scale < 1:
        raise ValueError(f"scale must be a positive integer, not {scale}")
    display = volume.display.with_user_inversion(viewport.invert)
    rgb32 = render_slice(pixels, viewport.window, display=display)
    image = _wrap(_orient(rgb32, viewport))

    # The shown grid's spacing: a reformatted plane has its own (a coronal
    # plane of an axial stack has rows one slice apart).
    affine = viewport.pixel_to_lps()
    if affine is not None:
        column_mm = float(np.linalg.norm(affine[:3, 0]))
        row_mm = float(np.linalg.norm(affine[:3, 1]))
    else:
        spacing = volume.spacing_mm
        column_mm, row_mm = float(spacing[0]), float(spacing[1])
    if viewport.rotation_quarters % 2:
        column_mm, row_mm = row_mm, column_mm
    if correct_aspect and not math.isclose(column_mm, row_mm, rel_tol=1e-6):
        square_mm = min(column_mm, row_mm)
        width = round(image.width() * column_mm / square_mm)
        height = round(image.height() * row_mm / square_mm)
        resized = image.scaled(
            width,
            height,
            QtCore.Qt.AspectRatioMode.IgnoreAspectRatio,
            QtCore.Qt.TransformationMode.SmoothTransformation,
        )
        column_mm *= image.width() / width
        row_mm *= image.height() / height
        image = resized
    if scale > 1:
        image = image.scaled(
            image.width() * scale,
            image.height() * scale,
            QtCore.Qt.AspectRatioMode.IgnoreAspectRatio,
            QtCore.Qt.TransformationMode.FastTransformation,
        )
        column_mm /= scale
        row_mm /= scale
    if image.format() != QImage.Format.Format_RGB32:
        image = image.convertToFormat(QImage.Format.Format_RGB32)
    if overlays:
        _burn_overlays(image, viewport, include_patient, column_mm)
    return image


# --- overlays ---


def _outlined_text(
    painter: QPainter,
    x: float,
    baseline: float,
    text: str,
    font: QFont,
    colour: QColor,
    outline: float,
) -> None:
    path = QPainterPath()
    path.addText(QPointF(x, baseline), font, text)
    pen = QPen(_OUTLINE_COLOUR, outline)
    pen.setJoinStyle(QtCore.Qt.PenJoinStyle.RoundJoin)
    painter.strokePath(path, pen)
    painter.fillPath(path, colour)


def _burn_overlays(
    image: QImage, viewport: ViewportState, include_patient: bool, column_mm: float
) -> None:
    width, height = image.width(), image.height()
    font_px = max(_MIN_FONT_PX, round(min(width, height) * _FONT_FRACTION))
    font = QFont()
    font.setPixelSize(font_px)
    font.setStyleHint(QFont.StyleHint.SansSerif)
    metrics = QFontMetricsF(font)
    line = metrics.lineSpacing()
    margin = font_px * 0.5
    outline = max(2.0, font_px / 4)

    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        texts = corner_text(viewport, include_patient=include_patient)
        # Each corner has half the width, less room for the orientation letter
        # in the middle of the edge: long lines end in "…".
        room = max(1.0, width / 2 - 2 * margin - font_px)
        elide = QtCore.Qt.TextElideMode.ElideRight
        for corner, lines in texts.items():
            for n, full_text in enumerate(lines):
                text = (
                    full_text
                    if metrics.horizontalAdvance(full_text) <= room
                    else metrics.elidedText(full_text, elide, room)
                )
                if corner.startswith("top"):
                    baseline = margin + metrics.ascent() + n * line
                else:
                    from_bottom = len(lines) - 1 - n
                    baseline = height - margin - metrics.descent() - from_bottom * line
                if corner.endswith("left"):
                    x = margin
                else:
                    x = width - margin - metrics.horizontalAdvance(text)
                _outlined_text(painter, x, baseline, text, font, _TEXT_COLOUR, outline)

        letter_font = QFont(font)
        letter_font.setPixelSize(round(font_px * 1.3))
        letter_font.setBold(True)
        letter_metrics = QFontMetricsF(letter_font)
        middle = (letter_metrics.ascent() - letter_metrics.descent()) / 2
        letters = viewport.orientation_letters()
        for edge, text in letters.items():
            advance = letter_metrics.horizontalAdvance(text)
            if edge == "left":
                x, baseline = margin, height / 2 + middle
            elif edge == "right":
                x, baseline = width - margin - advance, height / 2 + middle
            elif edge == "top":
                x, baseline = (width - advance) / 2, margin + letter_metrics.ascent()
            else:
                x = (width - advance) / 2
                baseline = height - margin - letter_metrics.descent()
            _outlined_text(
                painter, x, baseline, text, letter_font, _LETTER_COLOUR, outline
            )

        series = viewport.series
        if series is None or series.spacing_source != "none":
            bottom = height - margin
            if "bottom" in letters:
                bottom -= letter_metrics.height() + margin
            _draw_scale_bar(
                painter, width, bottom, column_mm, font, metrics, outline, font_px
            )
    finally:
        painter.end()


def _nice_length(limit: float) -> float:
    """The largest 1, 2 or 5 times a power of ten not above ``limit``."""
    if limit <= 0 or not math.isfinite(limit):
        return 0.0
    power = 10.0 ** math.floor(math.log10(limit))
    for step in (5.0, 2.0, 1.0):
        if step * power <= limit:
            return step * power
    return power


def _draw_scale_bar(
    painter: QPainter,
    width: int,
    bottom: float,
    column_mm: float,
    font: QFont,
    metrics: QFontMetricsF,
    outline: float,
    font_px: int,
) -> None:
    """A horizontal bar at the bottom centre, ``n mm`` long, labelled above."""
    if column_mm <= 0:
        return
    length_mm = _nice_length(width * _SCALE_BAR_FRACTION * column_mm)
    length_px = length_mm / column_mm
    if length_px < 4:
        return
    x0 = (width - length_px) / 2
    x1 = x0 + length_px
    tick = font_px * 0.4
    y = bottom - tick
    bar = QPainterPath()
    bar.moveTo(x0, y - tick)
    bar.lineTo(x0, y)
    bar.lineTo(x1, y)
    bar.lineTo(x1, y - tick)
    thickness = max(1.0, font_px / 8)
    outline_pen = QPen(_OUTLINE_COLOUR, thickness + outline)
    outline_pen.setCapStyle(QtCore.Qt.PenCapStyle.SquareCap)
    outline_pen.setJoinStyle(QtCore.Qt.PenJoinStyle.MiterJoin)
    painter.strokePath(bar, outline_pen)
    pen = QPen(_TEXT_COLOUR, thickness)
    pen.setCapStyle(QtCore.Qt.PenCapStyle.SquareCap)
    pen.setJoinStyle(QtCore.Qt.PenJoinStyle.MiterJoin)
    painter.strokePath(bar, pen)
    label = f"{length_mm:g} mm"
    advance = metrics.horizontalAdvance(label)
    baseline = y - tick - metrics.descent() - thickness
    _outlined_text(
        painter, (width - advance) / 2, baseline, label, font, _TEXT_COLOUR, outline
    )


# --- output ---


def save_png(image: QImage, path: str | os.PathLike[str]) -> Path:
    """Write ``image`` as PNG, atomically
    (:func:`~imaging_viewer.core.files.write_bytes_atomic`).

    A failed write leaves any earlier file at ``path`` untouched, and no partial
    file behind.

    Parameters
    ----------
    image : QImage
        The image, e.g. from :func:`render_view_image`.
    path : str or os.PathLike
        The PNG file to write (replaced if it exists).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    OSError
        When the folder is missing or not writable, or encoding fails.
    """
    target = Path(path)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    # The 6.11 stubs type the format as bytes; at run time only str is accepted.
    encoded = image.save(buffer, "PNG")  # type: ignore[call-overload]
    buffer.close()
    if not encoded:
        raise OSError(f"{target}: could not encode the image as PNG")
    return write_bytes_atomic(target, data.data())


def copy_to_clipboard(image: QImage) -> None:
    """Put ``image`` on the system clipboard.

    Raises
    ------
    RuntimeError
        When no QGuiApplication (or QApplication) is running.
    """
    app: Any = QGuiApplication.instance()
    if app is None:
        raise RuntimeError("copying to the clipboard needs a running QGuiApplication")
    QGuiApplication.clipboard().setImage(image)
