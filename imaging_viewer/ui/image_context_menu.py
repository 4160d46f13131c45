"""The context menu of an image (a right click that does not drag): tools,
mouse buttons, W/L presets, reset view, copy, mark key image, properties, and
delete the annotation under the pointer."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMenu

from imaging_viewer.ui.actions import ACTIONS
from imaging_viewer.ui.free_view_menu import add_free_view_menu
from imaging_viewer.ui.icons import icon

if TYPE_CHECKING:
    from PySide6.QtCore import QPointF

    from imaging_viewer.ui.actions import BuiltActions
    from imaging_viewer.ui.main_window import MainWindow
    from imaging_viewer.ui.slice_viewport import SliceViewportWidget

KEY_IMAGE_ACTION = "key_image"
"""The action that marks the shown image as a key image (when the window has it)."""
TOOL_GROUPS = ("drag", "annotate", "measure")
"""Tool bar groups whose tools the menu's Tools submenu lists."""


def build_image_menu(
    window: MainWindow,
    built: BuiltActions,
    widget: SliceViewportWidget,
    position: QPointF,
) -> QMenu:
    """The context menu of ``widget``'s image at widget ``position`` (not shown)."""
    menu = QMenu(widget)
    tools = menu.addMenu("Tools")
    for spec in ACTIONS:
        if spec.toolbar in TOOL_GROUPS and spec.id in built.actions:
            tools.addAction(built.actions[spec.id])
    menu.addMenu(built.submenus["mouse_buttons"])
    menu.addMenu(built.submenus["toolbar_presets"])
    add_free_view_menu(menu, window, widget)  # MPR 2×2's fourth view: its plane
    menu.addSeparator()
    reset = menu.addAction(icon("zoom-fit"), "Reset view")
    reset.setObjectName("reset_view")
    reset.triggered.connect(functools.partial(reset_view, widget))
    menu.addAction(built.actions["copy_view"])
    key_image = built.actions.get(KEY_IMAGE_ACTION)
    if key_image is None:  # key images not in this build: a hidden placeholder
        key_image = menu.addAction(icon("key-image"), "Mark key image")
        key_image.setObjectName("key_image_placeholder")
        key_image.setVisible(False)
    else:
        menu.addAction(key_image)
    properties = menu.addAction(icon("tags"), "Properties (DICOM tags)…")
    properties.setObjectName("properties")
    properties.triggered.connect(functools.partial(show_properties, window))
    _add_delete(menu, widget, position)
    return menu


def _add_delete(menu: QMenu, widget: SliceViewportWidget, position: QPointF) -> None:
    """ "Delete <kind>" for the annotation under ``position``; none: disabled."""
    annotation_id, kind = annotation_under(widget, position)
    menu.addSeparator()
    text = f"Delete {kind}" if kind else "Delete annotation"
    delete = menu.addAction(icon("delete"), text)
    delete.setObjectName("delete_annotation")
    delete.setEnabled(annotation_id is not None)
    if annotation_id is not None and widget.annotations is not None:
        delete.triggered.connect(
            functools.partial(widget.annotations.remove_annotation, annotation_id)
        )


def annotation_under(
    widget: SliceViewportWidget, position: QPointF
) -> tuple[str | None, str]:
    """(id, kind) of the annotation under widget ``position``, or (None, "")."""
    annotations = widget.annotations
    plane = widget.current_plane()
    point = widget.lps_at(position)
    if annotations is None or plane is None or point is None:
        return None, ""
    from imaging_viewer.core.tools.select import find_annotation

    ref = widget.image_ref()
    hit = find_annotation(
        annotations,
        plane,
        point,
        slab_mm=widget._slab_mm(plane),
        frame_of_reference_uid=ref.frame_of_reference_uid,
        sop_instance_uid=ref.sop_instance_uid or None,
    )
    if hit is None:
        return None, ""
    return hit.annotation.id, str(hit.annotation.kind)


def reset_view(widget: SliceViewportWidget, *_: object) -> None:
    """Back to the image as opened: header window, no flip, rotation or
    inversion, fitted."""
    state = widget.state
    state.flip_horizontal = False
    state.flip_vertical = False
    state.rotation_quarters = 0
    state.invert = False
    state.reset_window()
    widget.fit()


def show_properties(window: MainWindow, *_: object) -> None:
    """The tag browser of the active image (the one clicked), shown."""
    window.build_docks()
    toggle = window.actions_built.actions.get("tags")
    if toggle is not None and not toggle.isChecked():
        toggle.trigger()
