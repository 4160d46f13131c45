"""One overlay painter: an exported PNG shows what the viewport shows (offscreen)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np
import pytest
from PySide6.QtGui import QColor, QImage

from imaging_viewer.core.annotations.model import (
    AnnotationSet,
    Arrow,
    EllipseRoi,
    Lesion,
    Ruler,
)
from imaging_viewer.core.dicom.load import load_volume
from imaging_viewer.core.dicom.scan import scan_folder
from imaging_viewer.core.viewer_state import ViewerState, ViewportState
from imaging_viewer.ui.export import render_view_image, save_png
from imaging_viewer.ui.slice_viewport import SliceViewportWidget

if TYPE_CHECKING:
    from pathlib import Path

    from numpy.typing import NDArray
    from pytestqt.qtbot import QtBot

LESION_COLOUR = "#e6194b"


def rgb_of(image: QImage) -> NDArray[np.int64]:
    """(rows, columns, 3) red, green, blue of an image."""
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    rows, columns = image.height(), image.width()
    words = np.frombuffer(image.constBits(), dtype=np.uint32)
    words = words.reshape(rows, image.bytesPerLine() // 4)[:, :columns]
    return np.stack([(words >> s & 0xFF).astype(np.int64) for s in (16, 8, 0)], -1)


def lesion_pixels(rgb: NDArray[np.int64]) -> NDArray[np.bool_]:
    colour = QColor(LESION_COLOUR)
    target = np.array([colour.red(), colour.green(), colour.blue()])
    return bool_all(np.abs(rgb - target) < 40)


def bool_all(close: NDArray[np.bool_]) -> NDArray[np.bool_]:
    return np.asarray(close.all(axis=-1))


@pytest.fixture
def shown(qtbot: QtBot, sample_data: Path) -> tuple[SliceViewportWidget, AnnotationSet]:
    """The sample CT in a 512 × 512 viewport showing it 1:1, with a ruler, an
    ellipse and an arrow on the shown slice."""
    series = scan_folder(sample_data / "CT").series[0]
    state = ViewportState()
    # Another viewport is the active one: no active frame around this one.
    viewer = ViewerState(viewports=(ViewportState(), state), active_index=0)
    widget = SliceViewportWidget(state, viewer=viewer)
    qtbot.addWidget(widget)
    widget.resize(512, 512)
    widget.show()
    qtbot.waitExposed(widget)
    state.show(series, load_volume(series))
    qtbot.waitUntil(lambda: widget.viewport().size().width() == 512, timeout=5000)
    assert widget.viewport().size().height() == 512
    affine = state.pixel_to_lps()
    assert affine is not None
    assert state.volume is not None

    def lps(column: float, row: float) -> tuple[float, float, float]:
        point = affine @ [column, row, 0.0, 1.0]
        return float(point[0]), float(point[1]), float(point[2])

    normal = np.cross(affine[:3, 0], affine[:3, 1])
    lesion = Lesion(label="L1", colour=LESION_COLOUR)
    drawn = {
        "lesion_id": lesion.id,
        "frame_of_reference_uid": state.volume.frame_of_reference_uid,
        "plane_normal_lps": tuple(float(v) for v in normal / np.linalg.norm(normal)),
    }
    annotations = AnnotationSet(
        [
            dataclasses.replace(
                lesion,
                annotations=(
                    Ruler(start_lps=lps(150, 250), end_lps=lps(300, 280), **drawn),
                    EllipseRoi(
                        centre_lps=lps(260, 330),
                        axis1_end_lps=lps(300, 330),
                        axis2_end_lps=lps(260, 355),
                        **drawn,
                    ),
                    Arrow(
                        tip_lps=lps(256, 200),
                        tail_lps=lps(330, 160),
                        label="here",
                        **drawn,
                    ),
                ),
            )
        ]
    )
    widget.set_annotations(annotations)
    # 1:1, the image filling the viewport: widget pixel = image pixel.
    image_rect = widget.image_item.mapRectToParent(widget.image_item.boundingRect())
    widget.view_box.setRange(rect=image_rect, padding=0)
    widget.settle()
    assert widget.zoom_factor() == pytest.approx(1.0)
    return widget, annotations


@pytest.mark.parametrize("overlays", [True, False])
def test_exported_png_equals_the_screen_at_the_same_scale(
    shown: tuple[SliceViewportWidget, AnnotationSet], overlays: bool, tmp_path: Path
) -> None:
    widget, annotations = shown
    widget.viewer.show_overlays = overlays
    widget.settle()
    screen = rgb_of(widget.viewport().grab().toImage())
    exported = render_view_image(
        widget.state,
        overlays=overlays,
        annotations=annotations,
        overlay_scale=1.0,  # the screen's sizes
        zoom=widget.zoom_factor() if overlays else None,  # the screen's "Zoom" line
    )
    saved = rgb_of(QImage(str(save_png(exported, tmp_path / "view.png"))))
    plain = rgb_of(render_view_image(widget.state, overlays=False))
    assert saved.shape == screen.shape == plain.shape == (512, 512, 3)

    close = np.abs(saved - screen).max(axis=-1) <= 3
    assert close.mean() >= 0.99, f"{(~close).sum()} pixels differ"
    # The annotations are on both, in their lesion's colour, along the ruler
    # (row 250 to 280, columns 150 to 300), around the ellipse and the arrow.
    for rgb in (screen, saved):
        marked = lesion_pixels(rgb)
        assert marked[245:290, 150:300].sum() > 100  # ruler
        assert marked[300:360, 215:305].sum() > 100  # ellipse
        assert marked[155:205, 256:335].sum() > 50  # arrow
    # Text, letters and scale bar only with overlays, on both.
    regions = {
        "top left": (slice(0, 50), slice(0, 100)),
        "top right": (slice(0, 80), slice(330, 512)),
        "bottom left": (slice(460, 512), slice(0, 110)),
        "bottom right": (slice(460, 512), slice(420, 512)),
        "letter A": (slice(0, 30), slice(240, 272)),
        "letter R": (slice(236, 276), slice(0, 24)),
        "scale bar": (slice(440, 480), slice(190, 322)),
    }
    for name, (rows, columns) in regions.items():
        for rgb in (screen, saved):
            changed = (rgb[rows, columns] != plain[rows, columns]).any(axis=-1)
            assert changed.any() == overlays, name


def test_the_scale_bar_is_horizontal_on_screen_as_in_exports(
    shown: tuple[SliceViewportWidget, AnnotationSet],
) -> None:
    widget, _ = shown
    # The CT's pixels are 0.45 mm: a quarter of 512 px is 58 mm, so 50 mm.
    column_mm = widget._shown_pixel_spacing[0]
    screen = rgb_of(widget.viewport().grab().toImage())
    plain = rgb_of(render_view_image(widget.state, overlays=False))
    drawn = (screen != plain).any(axis=-1) & (screen.min(axis=-1) > 200)
    longest = 0
    for row in drawn[400:]:
        runs = np.diff(np.flatnonzero(np.diff(np.r_[0, row.astype(int), 0])))[::2]
        longest = max(longest, int(runs.max()) if runs.size else 0)
    assert abs(longest - 50 / column_mm) <= 3
    # Nothing like it stands upright at the right edge (the old screen bar).
    assert drawn[:, 480:].sum(axis=0).max() <= 60
