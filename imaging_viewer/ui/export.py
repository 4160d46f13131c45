"""Export of the shown slice as an image at native resolution, overlays optional."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

# ``QtCore.Qt`` is looked up where used (its enums are built on first access).
from PySide6 import QtCore
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF
from PySide6.QtGui import QGuiApplication, QImage, QPainter

from imaging_viewer.core.annotations.measure import spacing_source_of
from imaging_viewer.core.annotations.model import AnnotationSet
from imaging_viewer.core.files import write_bytes_atomic
from imaging_viewer.core.render import render_slice
from imaging_viewer.core.teaching.burn_in import reader_calibration
from imaging_viewer.ui.annotation_overlay import plane_of_slice, shown_annotations
from imaging_viewer.ui.overlay_painter import OverlayPainter

if TYPE_CHECKING:
    import os
    from collections.abc import Sequence

    from numpy.typing import NDArray

    from imaging_viewer.core.annotations.calibration import Calibration
    from imaging_viewer.core.annotations.model import Annotation, Lesion
    from imaging_viewer.core.mpr import SlicePlane
    from imaging_viewer.core.viewer_state import ViewportState
    from imaging_viewer.core.volume import Volume

__all__ = [
    "copy_to_clipboard",
    "overlay_scale_for",
    "render_view_image",
    "save_png",
]

_SCREEN_FONT_PX = 12.0
"""The screen's corner text (9 pt at 96 dpi), which an overlay scale of 1 draws."""
_FONT_FRACTION = 1 / 36
"""Exported text height as a fraction of the image's shorter side."""
_MIN_OVERLAY_SCALE = 0.75
"""Exported text is never smaller than 9 px."""


def overlay_scale_for(width: int, height: int) -> float:
    """The overlay scale of an exported image: text about 1/36 of its shorter
    side (14 px on a 512² CT), never below 9 px, so it reads at any size."""
    return max(
        _MIN_OVERLAY_SCALE, min(width, height) * _FONT_FRACTION / _SCREEN_FONT_PX
    )


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
    annotations: AnnotationSet | Sequence[tuple[Lesion, Annotation]] | None = None,
    overlay_scale: float | None = None,
    zoom: float | None = None,
    calibration: Calibration | None = None,
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

    Overlays and annotations are drawn by the viewport's own painter
    (:class:`~imaging_viewer.ui.overlay_painter.OverlayPainter`), with the image
    as its target: an export at overlay scale 1 is what a viewport showing the
    image 1:1 shows.

    Parameters
    ----------
    viewport : ViewportState
        What to export; it must show a volume.
    overlays : bool
        Burn in the corner text (:func:`~imaging_viewer.core.overlay_text.corner_text`),
        the orientation letters at the middle of each edge and a scale bar in mm,
        each shadowed in black so it reads on any grey.
    include_patient : bool, default True
        False leaves patient- and study-identifying lines out of the burned-in
        text (for teaching files).
    scale : int, default 1
        Integer magnification (pixel replication, values unchanged), for
        overlays that must be legible on small images.
    correct_aspect : bool, default False
        Resample non-square pixels to square ones.
    annotations : AnnotationSet or sequence of (Lesion, Annotation), optional
        Lesion annotations to burn in (with or without ``overlays``): of a set,
        those the viewport shows (as on screen, without a drawing in progress);
        of a sequence, all of them. None of a flipped or rotated view.
    overlay_scale : float, optional
        Size of text, lines and margins relative to the screen's; by default
        :func:`overlay_scale_for` the image's size.
    zoom : float, optional
        A "Zoom n%" line, as the screen shows; exports leave it out by default.
    calibration : Calibration, optional
        The reader's (default: the set's): text, scale bar, labels in mm.

    Returns
    -------
    QImage
        ``Format_RGB32``, owning its data.

    Raises
    ------
    ValueError
        When the viewport shows nothing, or ``scale`` is below 1.
    """
    image, column_mm = _rendered_image(viewport, scale, correct_aspect=correct_aspect)
    if overlays or annotations is not None:
        _paint_overlays(
            image,
            viewport,
            overlay_scale,
            overlays=overlays,
            include_patient=include_patient,
            annotations=annotations,
            column_mm=column_mm,
            zoom=zoom,
            calibration=calibration,
        )
    return image


def _rendered_image(
    viewport: ViewportState, scale: int, *, correct_aspect: bool
) -> tuple[QImage, float]:
    """The viewport's slice windowed, flipped, turned and resized as
    :func:`render_view_image` says, with the width of its pixels in mm."""
    volume = viewport.volume
    pixels = viewport.pixels()
    if volume is None or pixels is None:
        raise ValueError("the viewport shows no image")
    if scale < 1:
        raise ValueError(f"scale must be a positive integer, not {scale}")
    display = volume.display.with_user_inversion(viewport.invert)
    rgb32 = render_slice(pixels, viewport.window, display=display)
    image = _wrap(_orient(rgb32, viewport))
    column_mm, row_mm = _shown_spacing_mm(viewport, volume)
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
        image = resized
    if scale > 1:
        image = image.scaled(
            image.width() * scale,
            image.height() * scale,
            QtCore.Qt.AspectRatioMode.IgnoreAspectRatio,
            QtCore.Qt.TransformationMode.FastTransformation,
        )
        column_mm /= scale
    if image.format() != QImage.Format.Format_RGB32:
        image = image.convertToFormat(QImage.Format.Format_RGB32)
    return image, column_mm


def _shown_spacing_mm(viewport: ViewportState, volume: Volume) -> tuple[float, float]:
    """(column, row) spacing of the shown grid after its turn: a reformatted
    plane has its own (a coronal plane of an axial stack has rows one slice
    apart)."""
    affine = viewport.pixel_to_lps()
    if affine is not None:
        column_mm = float(np.linalg.norm(affine[:3, 0]))
        row_mm = float(np.linalg.norm(affine[:3, 1]))
    else:
        spacing = volume.spacing_mm
        column_mm, row_mm = float(spacing[0]), float(spacing[1])
    if viewport.rotation_quarters % 2:
        return row_mm, column_mm
    return column_mm, row_mm


def _paint_overlays(
    image: QImage,
    viewport: ViewportState,
    overlay_scale: float | None,
    *,
    overlays: bool,
    include_patient: bool,
    annotations: AnnotationSet | Sequence[tuple[Lesion, Annotation]] | None,
    column_mm: float,
    zoom: float | None,
    calibration: Calibration | None,
) -> None:
    """Annotations, then the text overlays (labels clear of it where there is
    room), in the viewport's order, at
    ``overlay_scale`` (by default :func:`overlay_scale_for` the image)."""
    if isinstance(annotations, AnnotationSet):
        calibrations: AnnotationSet | None = annotations
        if calibration is None:
            calibration = reader_calibration(annotations, viewport)
    else:
        calibrations = _set_of(calibration)
    if overlay_scale is None:
        overlay_scale = overlay_scale_for(image.width(), image.height())
    overlay_painter = OverlayPainter(image, overlay_scale)
    painter = QPainter(image)
    given = annotations

    def paint_annotations() -> None:
        if given is not None:
            _paint_annotations(
                painter,
                image,
                viewport,
                overlay_painter,
                given,
                calibrations,
                clear_of_text=overlays,
            )

    try:
        if not overlays:
            paint_annotations()
        else:  # as the screen: annotations under the text, labels clear of it
            overlay_painter.paint_text(
                painter,
                image.rect(),
                viewport,
                px_per_mm=1.0 / column_mm if column_mm > 0 else 0.0,
                zoom=zoom,
                include_patient=include_patient,
                calibration=calibration,
                underneath=paint_annotations,
            )
    finally:
        painter.end()


def _paint_annotations(
    painter: QPainter,
    image: QImage,
    viewport: ViewportState,
    overlay_painter: OverlayPainter,
    annotations: AnnotationSet | Sequence[tuple[Lesion, Annotation]],
    calibrations: AnnotationSet | None,
    *,
    clear_of_text: bool = False,
) -> None:
    if isinstance(annotations, AnnotationSet):
        shown = shown_annotations(viewport, annotations, preview=False)
    else:
        shown = _given_annotations(viewport, annotations)
    if shown is None or not shown[0]:
        return
    items, plane, spacing_source = shown
    columns, rows = plane.size_px
    # Pixel (c, r) is centred at (c + 0.5, r + 0.5) of the slice's grid, which
    # the image may stretch (square pixels, magnification).
    x_scale, y_scale = image.width() / columns, image.height() / rows
    overlay_painter.paint_annotations(
        painter,
        items,
        plane,
        lambda column, row: QPointF((column + 0.5) * x_scale, (row + 0.5) * y_scale),
        spacing_source=spacing_source,
        calibrations=calibrations,
        clear_of_text=clear_of_text,
    )


def _set_of(calibration: Calibration | None) -> AnnotationSet | None:
    """A set holding only ``calibration``, for the annotation labels."""
    if calibration is None:
        return None
    calibrations = AnnotationSet()
    calibrations.set_calibration(calibration)
    return calibrations


def _given_annotations(
    viewport: ViewportState, items: Sequence[tuple[Lesion, Annotation]]
) -> tuple[list[tuple[Lesion, Annotation]], SlicePlane, str] | None:
    """``items`` with the plane they are drawn on, as :func:`shown_annotations`
    gives; None on a flipped or rotated view (drawn on the unturned grid only)."""
    affine = viewport.pixel_to_lps()
    pixels = viewport.pixels()
    volume = viewport.volume
    if affine is None or pixels is None or volume is None:
        return None
    if (
        viewport.flip_horizontal
        or viewport.flip_vertical
        or viewport.rotation_quarters % 4
    ):
        return None
    plane = plane_of_slice(affine, (pixels.shape[1], pixels.shape[0]))
    return list(items), plane, spacing_source_of(volume)


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
