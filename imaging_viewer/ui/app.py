"""The viewer application: QApplication set-up, dark theme and the main window."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from PySide6.QtWidgets import QApplication


def sample_data_path() -> Path | None:
    """The bundled sample study (``sample_data/`` beside the package), if present."""
    candidate = Path(__file__).resolve().parents[2] / "sample_data"
    return candidate if candidate.is_dir() else None


STYLE = "Fusion"
"""Qt style of the viewer; :func:`main` names it in QApplication's arguments."""


def apply_dark_theme(app: QApplication, *, set_style: bool = True) -> None:
    """Fusion style with a dark palette: images are read on dark surroundings.

    ``set_style=False`` when the application was made with ``-style Fusion``
    (as :func:`main` makes it): ``QApplication.setStyle`` builds the Python
    enums of QStyle (about 9 ms) before the first paint.
    """
    from PySide6.QtGui import QColor, QPalette

    if set_style:
        app.setStyle(STYLE)
    palette = QPalette()
    base = QColor(30, 30, 32)
    window = QColor(40, 40, 44)
    text = QColor(220, 220, 220)
    disabled = QColor(120, 120, 120)
    highlight = QColor(42, 130, 218)
    palette.setColor(QPalette.ColorRole.Window, window)
    palette.setColor(QPalette.ColorRole.WindowText, text)
    palette.setColor(QPalette.ColorRole.Base, base)
    palette.setColor(QPalette.ColorRole.AlternateBase, window)
    palette.setColor(QPalette.ColorRole.ToolTipBase, base)
    palette.setColor(QPalette.ColorRole.ToolTipText, text)
    palette.setColor(QPalette.ColorRole.Text, text)
    palette.setColor(QPalette.ColorRole.Button, window)
    palette.setColor(QPalette.ColorRole.ButtonText, text)
    palette.setColor(QPalette.ColorRole.BrightText, QColor(255, 80, 80))
    palette.setColor(QPalette.ColorRole.Highlight, highlight)
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor(255, 255, 255))
    palette.setColor(QPalette.ColorRole.PlaceholderText, disabled)
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
        QPalette.ColorRole.WindowText,
    ):
        palette.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    app.setPalette(palette)


def _set_application_icon(app: QApplication) -> None:
    """The icon of every window, and the desktop entry it belongs to (resources/)."""
    from imaging_viewer.resource_files import APP_ID
    from imaging_viewer.ui.icons import application_icon

    app.setWindowIcon(application_icon())
    app.setDesktopFileName(APP_ID)


def _arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="imaging-viewer",
        description=(
            "Open DICOM images in the viewer. Commands: imaging-viewer scan | "
            "convert | "
            "export ... (see imaging-viewer COMMAND --help)."
        ),
    )
    parser.add_argument(
        "path",
        nargs="?",
        help="folder, file or DICOMDIR (default: the bundled sample study)",
    )
    parser.add_argument(
        "--screenshot",
        metavar="OUT.png",
        help="open PATH, wait until it is shown, save the window as PNG and exit",
    )
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check decoders, resampling and the window offscreen, then exit",
    )
    parser.add_argument(
        "--layout",
        choices=["1x1", "1x2", "2x1", "2x2", "mpr", "mpr-2x2", "mpr-1+2"],
        help="viewport grid, or MPR (side by side, 2×2, one large + two small)",
    )
    parser.add_argument(
        "--series",
        help="series to show first (index from scan, id or UID)",
        default=None,
    )
    parser.add_argument(
        "--size", default="1600x1000", help="window size for --screenshot"
    )
    return parser.parse_args(list(argv))


def main(argv: Sequence[str] = ()) -> int:
    """Start the viewer window; returns the exit status."""
    args = _arguments(argv)
    if args.self_test:
        from imaging_viewer.self_test import run_self_test

        return run_self_test()
    path = Path(args.path) if args.path else sample_data_path()
    if path is not None and not path.exists():
        print(f"imaging-viewer: {path}: no such file or folder", file=sys.stderr)
        return 1
    if args.screenshot and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    prefetched = None
    if path is not None and not args.screenshot and args.series is None:
        # Read the image shown first while Qt loads and the window is built.
        from imaging_viewer.ui.first_look import prefetch

        prefetched = prefetch(path)

    from PySide6.QtWidgets import QApplication

    from imaging_viewer.ui.main_window import MainWindow
    from imaging_viewer.ui.workers import stop_background_work

    app = QApplication.instance()
    made_here = app is None
    if app is None:
        from imaging_viewer.ui.platform_check import platform_problem

        if (problem := platform_problem()) is not None:
            print(problem, file=sys.stderr)
            return 3
        app = QApplication([*sys.argv[:1], "-style", STYLE])
    assert isinstance(app, QApplication)
    app.setApplicationName("imaging_viewer")
    app.setOrganizationName("imaging_viewer")
    _set_application_icon(app)
    apply_dark_theme(app, set_style=not made_here)
    if probe := os.environ.get("IMAGING_VIEWER_STARTUP_PROBE"):
        from imaging_viewer.ui.startup_probe import install_startup_probe

        install_startup_probe(probe)
    # With an image read ahead, the window paints it before the viewports
    # (and pyqtgraph) are made.
    window = MainWindow(
        remember_settings=not args.screenshot,
        defer_viewports=prefetched is not None,
    )
    if args.layout and args.layout.startswith("mpr"):
        window.state.mpr_layout = args.layout.partition("-")[2] or "1x3"
        window.mpr_when_loaded = True
    elif args.layout:
        window.set_layout(args.layout)
    try:
        if args.screenshot:
            width, _, height = args.size.partition("x")
            window.resize(int(width), int(height))
            return window.run_screenshot(path, Path(args.screenshot), args.series)
        window.show()
        if path is not None:
            window.open_path(path, series_selector=args.series, prefetched=prefetched)
        return int(app.exec())
    finally:
        # Loads still under way when the window closes must not outlive it.
        stop_background_work()
