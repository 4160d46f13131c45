"""Render the application icon's PNG sizes from its SVG (run after editing the SVG).

``QT_QPA_PLATFORM=offscreen python packaging/render_app_icon.py`` writes
``resources/hicolor/<n>x<n>/apps/imaging-viewer.png`` for the sizes desktops ask for
(freedesktop Icon Theme Specification: hicolor is every theme's fallback).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def main() -> int:
    """Write every PNG size; returns the exit status."""
    app = QGuiApplication([])  # noqa: F841 - QPainter needs the application
    hicolor = Path(__file__).resolve().parents[1] / "resources" / "hicolor"
    renderer = QSvgRenderer(str(hicolor / "scalable" / "apps" / "imaging-viewer.svg"))
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        folder = hicolor / f"{size}x{size}" / "apps"
        folder.mkdir(parents=True, exist_ok=True)
        image.save(str(folder / "imaging-viewer.png"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
