"""Key images drawn with Qt for the teaching export, and the export that uses them.

:class:`QtKeyImageBurnIn` renders a key image with the viewport's overlay
painter (corner text, orientation letters, scale bar, annotations), at the
image's resolution. :func:`export_teaching_case` is the core export
(:func:`imaging_viewer.core.teaching.export.export_teaching_case`) with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter

from imaging_viewer.core.teaching import export as core_export
from imaging_viewer.core.teaching.burn_in import reader_calibration
from imaging_viewer.ui.export import render_view_image, save_png

if TYPE_CHECKING:
    import os
    from collections.abc import Sequence
    from pathlib import Path

    from imaging_viewer.core.annotations.model import AnnotationSet
    from imaging_viewer.core.dicom.scan import ScanResult
    from imaging_viewer.core.teaching.burn_in import KeyImageView
    from imaging_viewer.core.teaching.case import TeachingCase
    from imaging_viewer.core.teaching.export import TeachingExport
    from imaging_viewer.core.volume import Window
    from imaging_viewer.core.workspace import Workspace

__all__ = ["QtKeyImageBurnIn", "export_teaching_case", "first_key_image_preview"]


class QtKeyImageBurnIn:
    """Draws key images with QPainter (a ``core.teaching.burn_in.KeyImageBurnIn``).

    Raises
    ------
    RuntimeError
        Without a QGuiApplication (needed for text).
    """

    def __init__(self) -> None:
        if QGuiApplication.instance() is None:
            raise RuntimeError("a teaching export needs a QGuiApplication (for text)")

    def write_png(
        self, view: KeyImageView, path: Path, *, annotated: bool
    ) -> tuple[int, int]:
        """Write the key image as PNG; return its (columns, rows)."""
        if not annotated:
            image = render_view_image(view.viewport, overlays=False)
            if view.redacted:
                _black_out(image, view)
        else:
            image = _annotated_image(view)
        save_png(image, path)
        return image.width(), image.height()

    def write_pair_png(
        self,
        before: KeyImageView,
        after: KeyImageView,
        captions: Sequence[str],
        path: Path,
    ) -> tuple[int, int]:
        """Write two key images, annotated, side by side at one height, each
        under its caption (time point and date; never patient data)."""
        images = [_annotated_image(view) for view in (before, after)]
        height = max(image.height() for image in images)
        scaled = [image.scaledToHeight(height) for image in images]
        strip = max(24, height // 16)
        gap = 8
        width = sum(image.width() for image in scaled) + gap
        pair = QImage(width, height + strip, QImage.Format.Format_RGB32)
        pair.fill(QColor(0, 0, 0))
        painter = QPainter(pair)
        try:
            font = painter.font()
            font.setPixelSize(max(12, strip * 2 // 3))
            painter.setFont(font)
            painter.setPen(QColor(255, 255, 255))
            left = 0
            for image, caption in zip(scaled, captions, strict=True):
                painter.drawImage(left, strip, image)
                painter.drawText(
                    QRectF(left, 0, image.width(), strip),
                    int(Qt.AlignmentFlag.AlignCenter),
                    caption,
                )
                left += image.width() + gap
        finally:
            painter.end()
        save_png(pair, path)
        return pair.width(), pair.height()


def _black_out(image: QImage, view: KeyImageView) -> None:
    """Black out on the PNG the regions whose burned-in text was blacked out in
    the DICOM (found in the stored frame: scaled to the image's size)."""
    rows, columns = view.stored_size
    sx = image.width() / columns if columns else 1.0
    sy = image.height() / rows if rows else 1.0
    painter = QPainter(image)
    try:
        for box in view.redacted:
            painter.fillRect(
                QRectF(box.column * sx, box.row * sy, box.width * sx, box.height * sy),
                QColor(0, 0, 0),
            )
    finally:
        painter.end()


def export_teaching_case(
    scan_result: ScanResult,
    annotation_set: AnnotationSet,
    case: TeachingCase,
    out_dir: str | os.PathLike[str],
    **options: Any,
) -> TeachingExport:
    """The core teaching export, its key images drawn by :class:`QtKeyImageBurnIn`.

    ``options`` are those of
    :func:`imaging_viewer.core.teaching.export.export_teaching_case`.

    Raises
    ------
    RuntimeError
        Without a QGuiApplication (needed for text).
    """
    return core_export.export_teaching_case(
        scan_result,
        annotation_set,
        case,
        out_dir,
        burn_in=QtKeyImageBurnIn(),
        **options,
    )


def first_key_image_preview(
    workspace: Workspace,
    study_uid: str,
    annotation_set: AnnotationSet,
    window: Window | None = None,
    displayed_series_uid: str = "",
) -> QImage | None:
    """The first key image of a teaching case as the export burns it in: its
    annotations, technical corner text only (no patient data, as when
    de-identifying). None when there is none, or its series is not loaded.
    Annotations naming no image go to ``displayed_series_uid`` first."""
    from imaging_viewer.core.teaching.key_images import (
        annotations_on,
        key_image_viewport,
        select_key_images,
    )

    if workspace.scan_result is None:
        return None
    try:
        refs, _ = select_key_images(
            workspace.scan_result.series,
            annotation_set,
            displayed_series_uid=displayed_series_uid,
        )
    except LookupError:
        return None
    if not refs:
        return None
    ref = refs[0]
    volume = workspace.volume(ref.series.id)
    if volume is None:
        return None
    viewport = key_image_viewport(ref, volume, window, None, [])
    pixel_to_lps = viewport.pixel_to_lps()
    if pixel_to_lps is None:
        return None
    shown = annotations_on(annotation_set, ref, volume, pixel_to_lps)
    return render_view_image(
        viewport,
        overlays=True,
        include_patient=False,
        annotations=shown,
        calibration=reader_calibration(annotation_set, viewport),
    )


def _annotated_image(view: KeyImageView) -> QImage:
    """The key image as the viewport's painter draws it (overlays and
    annotations, patient lines only if asked), redacted regions blacked out."""
    image = render_view_image(
        view.viewport,
        overlays=True,
        include_patient=view.include_patient,
        annotations=list(view.annotations),
        calibration=view.calibration,
    )
    if view.redacted:
        _black_out(image, view)
    return image
