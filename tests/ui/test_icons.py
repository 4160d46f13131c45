"""ui/icons.py: toolbar icons by name, the application icon on every window."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from PySide6.QtWidgets import QApplication

from imaging_viewer.ui.icons import application_icon, icon
from tests.packaging.test_resources import TOOLBAR_ICON_NAMES

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot


@pytest.mark.parametrize("name", TOOLBAR_ICON_NAMES)
def test_each_toolbar_icon_draws(qapp: QApplication, name: str) -> None:
    image = icon(name).pixmap(24, 24).toImage()
    assert not image.isNull()
    opaque = sum(
        image.pixelColor(x, y).alpha() > 0 for x in range(24) for y in range(24)
    )
    assert opaque > 10  # something is drawn, not an empty square


def test_unknown_names_give_an_empty_icon(qapp: QApplication) -> None:
    assert icon("no-such-icon").isNull()


def test_icons_are_cached(qapp: QApplication) -> None:
    assert icon("pan") is icon("pan")


def test_application_icon_offers_every_size(qapp: QApplication) -> None:
    sides = {size.width() for size in application_icon().availableSizes()}
    assert {16, 32, 48, 256} <= sides


def test_the_window_uses_the_application_icon(qtbot: QtBot) -> None:
    from imaging_viewer.ui.app import _set_application_icon
    from imaging_viewer.ui.main_window import MainWindow

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    _set_application_icon(app)
    window = MainWindow(remember_settings=False)
    qtbot.addWidget(window)
    assert not window.windowIcon().isNull()
    assert window.windowIcon().cacheKey() == app.windowIcon().cacheKey()
