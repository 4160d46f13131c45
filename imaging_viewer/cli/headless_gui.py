"""The QGuiApplication that headless commands start only to draw text."""

from __future__ import annotations

import os

# Kept on the module so it lives as long as the process.
_GUI_APPLICATION: object = None


def start_headless_gui() -> None:
    """A QGuiApplication for text rendering, on no screen at all.

    Export never shows a window, so unless the user chose a Qt platform, the
    offscreen one is used: no display (or a dead X connection) cannot stop it.
    """
    from PySide6.QtGui import QGuiApplication

    if QGuiApplication.instance() is not None:
        return
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    global _GUI_APPLICATION
    _GUI_APPLICATION = QGuiApplication(["imaging-viewer"])
