"""The window's actions, declared once: menus, tool bars, viewport keys and the
Help list are all built from :data:`ACTIONS` (as napari's app-model does)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QToolBar

from imaging_viewer.core.render import CT_PRESETS

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from PySide6.QtWidgets import QDockWidget

    from imaging_viewer.ui.main_window import MainWindow
    from imaging_viewer.ui.slice_viewport import SliceViewportWidget


@dataclass(frozen=True)
class Action:
    """One thing the user can do, and every way to reach it."""

    id: str
    text: str
    """Menu text (``&`` marks the mnemonic inside its menu)."""
    run: Callable[[MainWindow], object] | None = None
    """What it does, given the window (menu, tool bar, window shortcut). None:
    :attr:`on_viewport` on the active viewport."""
    on_viewport: Callable[[SliceViewportWidget], object] | None = None
    """What its viewport key does to the viewport that has the focus."""
    menus: tuple[str, ...] = ()
    """Menus it is in (keys of :data:`MENUS`), in the order of :data:`ACTIONS`."""
    section: str = ""
    """A menu puts a separator where the section changes."""
    toolbar: str | None = None
    """Tool bar group (see :data:`TOOLBARS`)."""
    icon: str | None = None
    """Freedesktop icon name; an icon the theme lacks means no icon."""
    shortcuts: tuple[str, ...] = ()
    """Keys, in QKeySequence's portable text (``Ctrl+Shift+O``, ``PgUp``)."""
    viewport_key: bool = False
    """The keys are one-key shortcuts of the focused viewport, not of the
    window: they work while a viewport has the focus, and leave typing in
    fields alone."""
    checkable: bool = False
    checked: Callable[[MainWindow], bool] | None = None
    """Whether it shows checked, read from the window's state."""
    label: str = ""
    """Shorter text for the tool bar (default: :attr:`text`)."""
    tip: str = ""
    help: str = ""
    """What the Help list says (default: the text)."""
    dock: str | None = None
    """The show/hide toggle of this dock, made with the docks (after the
    first paint); the entry keeps its place in the menu."""
    submenu: bool = False
    """A menu filled by the window (recent studies, custom presets)."""

    @property
    def plain_text(self) -> str:
        """The text without its mnemonic mark."""
        return self.text.replace("&&", "\0").replace("&", "").replace("\0", "&")

    @property
    def keys_text(self) -> str:
        """The keys as the Help list and the menus show them."""
        return " or ".join(self.shortcuts)


MENUS: dict[str, str] = {
    "file": "F&ile",
    "view": "&View",
    "window": "&Window",
    "annotate": "A&nnotate",
    "help": "&Help",
}
"""Menu-bar menus and their titles. Alt+letter belongs to the annotation tools
(Alt+A arrow, Alt+F polygon...): the titles' mnemonics use other letters."""
TOOLBARS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Tools", "toolbar_tools", ("layout", "drag", "mpr", "link", "view")),
    ("Annotate", "toolbar_annotate", ("annotate", "measure", "edit")),
)
"""Tool bars: (title, object name for saved positions, groups with a separator
between them)."""
TOOLBAR_MENUS: dict[str, tuple[str, str, str]] = {
    "layout_menu": ("layout", "Layout", "layout-2x2"),
    "presets": ("drag", "W/L presets", "auto-window"),
    "transform": ("view", "Flip and rotate", "rotate-right"),
    "measure_more": ("measure", "Cobb angle and calibration", "calibrate"),
}
"""Groups shown as one drop-down button at the end of another group: group:
(the group it ends, button text, icon). Rarely used entries keep the tool bar
short enough to show whole at 1366 px. The window fills an empty one (the W/L
presets of the image's modality)."""
MENUS_SHOWING_CURRENT: tuple[str, ...] = ("layout_menu",)
"""Drop-downs whose button shows the icon of their checked entry (the layout)."""
MEASUREMENT_TOOLS: frozenset[str] = frozenset(
    {"ruler", "angle", "cobb", "ellipse", "polygon", "bidirectional", "calibrate"}
)
"""Annotation tools that measure (their own tool bar group)."""
MOUSE_BINDINGS: tuple[tuple[str, str], ...] = (
    ("Wheel", "previous/next slice"),
    (
        "Right-drag (or left-drag, W/L tool)",
        "window: horizontal = width, vertical = level",
    ),
    ("Right-click (without moving)", "context menu of the image"),
    ("Ctrl+wheel, zoom tool", "zoom"),
    ("Middle-drag, pan tool", "pan"),
    ("Magnifier tool: hold the button; wheel", "lens over the image; its zoom"),
    ("View ▸ Mouse buttons", "give the right or middle button another tool"),
    ("MPR: left-click/drag (crosshair tool)", "move the 3D cursor; all views follow"),
    ("MPR: drag a coloured line away from its centre", "rotate that plane (oblique)"),
)
"""Mouse bindings of the viewports, as listed under Help."""


# ---------------------------------------------------------------- viewport keys
def _time_step(steps: int) -> Callable[[SliceViewportWidget], None]:
    def step(widget: SliceViewportWidget) -> None:
        state = widget.state
        if state.n_time_points > 1:
            state.set_time(state.time_index + steps)

    return step


def _slice_step(steps: int) -> Callable[[SliceViewportWidget], None]:
    return lambda widget: widget._scroll(steps)


def _last_slice(widget: SliceViewportWidget) -> None:
    widget.state.set_slice(widget.state.n_slices - 1)


def _preset_key(name: str) -> Callable[[SliceViewportWidget], None]:
    def apply(widget: SliceViewportWidget) -> None:
        state = widget.state
        if state.volume is not None and state.volume.modality == "CT":
            state.apply_preset(name)
        else:  # other modalities: the header's windows
            state.cycle_header_window()

    return apply


def _toggle(name: str) -> Callable[[SliceViewportWidget], None]:
    def toggle(widget: SliceViewportWidget) -> None:
        state = widget.state
        setattr(state, name, not getattr(state, name))

    return toggle


def _rotate(widget: SliceViewportWidget) -> None:
    state = widget.state
    state.rotation_quarters = (state.rotation_quarters + 1) % 4


def _key(
    action_id: str,
    text: str,
    key: str,
    on_viewport: Callable[[SliceViewportWidget], object],
) -> Action:
    """A viewport key without a menu entry."""
    return Action(
        action_id, text, on_viewport=on_viewport, shortcuts=(key,), viewport_key=True
    )


# ---------------------------------------------------------------- window handlers
def _show_pacs_dialog(window: MainWindow) -> None:
    # pynetdicom and the database load only when the dialog is first asked for.
    from imaging_viewer.ui.dialogs.pacs_dialog import show_pacs_dialog

    show_pacs_dialog(window)


def _show_database_dialog(window: MainWindow) -> None:
    # The database loads only when its window is first asked for.
    from imaging_viewer.ui.dialogs.database_dialog import show_database_dialog

    show_database_dialog(window)


def _send_to_pacs(window: MainWindow, chosen: int = 0) -> None:
    # The send dialog and pynetdicom load only when first asked for.
    from imaging_viewer.ui.pacs_send import send_from_window

    send_from_window(window, chosen=chosen)


def _set_layout(name: str) -> Callable[[MainWindow], None]:
    return lambda window: window.set_layout(name)


def _layout_is(name: str) -> Callable[[MainWindow], bool]:
    return lambda window: window.state.layout == name


def _set_mpr_layout(name: str) -> Callable[[MainWindow], None]:
    return lambda window: window.mpr.set_layout(name)


def _mpr_layout_is(name: str) -> Callable[[MainWindow], bool]:
    return lambda window: (
        window.state.layout == "mpr" and (window.state.mpr_layout == name)
    )


def _mpr_layouts() -> list[Action]:
    names = {
        "1x3": ("MPR side by side", "axial, coronal and sagittal side by side"),
        "2x2": (
            "MPR 2×2",
            "MPR 2×2: three planes and a free view (right-click it: oblique...)",
        ),
        "1+2": ("MPR 1 large + 2 small", "MPR: one large view and two small"),
    }
    return [
        Action(
            f"mpr_layout_{name}",
            text,
            run=_set_mpr_layout(name),
            menus=("view",),
            section="mpr",
            toolbar="layout_menu",
            icon=f"layout-mpr-{name.replace('+', 'plus')}",
            checkable=True,
            checked=_mpr_layout_is(name),
            help=help_text,
        )
        for name, (text, help_text) in names.items()
    ]


def _use_tool(name: str) -> Callable[[MainWindow], None]:
    return lambda window: window.set_left_tool(name)


def _tool_is(name: str) -> Callable[[MainWindow], bool]:
    return lambda window: window.state.left_tool == name


def _apply_preset(name: str) -> Callable[[MainWindow], None]:
    return lambda window: window.state.active.apply_preset(name)


def _remove_calibration(window: MainWindow) -> None:
    from imaging_viewer.ui.calibration_controls import remove_calibration

    remove_calibration(window)


def _show_about(window: MainWindow) -> None:
    from imaging_viewer.ui.dialogs.about_dialog import show_about

    show_about(window)


def _toggle_key_image(window: MainWindow) -> None:
    from imaging_viewer.ui.key_images import toggle_key_image

    toggle_key_image(window)


def _toggle_key_image_of(widget: SliceViewportWidget) -> None:
    from imaging_viewer.ui.key_images import toggle_key_image

    toggle_key_image(widget.window(), widget)


def _is_key_image(window: MainWindow) -> bool:
    from imaging_viewer.ui.key_images import is_shown_key_image

    return is_shown_key_image(window)


def _toggle_comparison(window: MainWindow) -> None:
    from imaging_viewer.ui.comparison_view import toggle_comparison

    toggle_comparison(window)


def _pick_landmarks(window: MainWindow) -> None:
    from imaging_viewer.ui.comparison_view import pick_landmarks

    pick_landmarks(window)


def _reset_comparison_link(window: MainWindow) -> None:
    from imaging_viewer.ui.comparison_view import reset_link

    reset_link(window)


def _same_lesion_as(window: MainWindow) -> None:
    from imaging_viewer.ui.lesion_linking import same_lesion_as

    same_lesion_as(window)


def _unlink_lesion(window: MainWindow) -> None:
    from imaging_viewer.ui.lesion_linking import unlink_from_earlier

    unlink_from_earlier(window)


def _toggle_link(window: MainWindow) -> None:
    """Link or unlink scrolling; says which viewports (another patient's) the
    link leaves out."""
    state = window.state
    state.toggle_link()
    others = state.other_patient_viewports()
    if state.link_scrolling and others:
        which = ", ".join(str(index + 1) for index in others)
        window.statusBar().showMessage(
            f"Linked, except viewport {which}: another patient is never linked", 8000
        )


def _comparison_is_on(window: MainWindow) -> bool:
    from imaging_viewer.ui.comparison_view import comparison_is_on

    return comparison_is_on(window)


# ---------------------------------------------------------------- the table
def _layouts() -> list[Action]:
    return [
        Action(
            f"layout_{name}",
            f"Layout {name[0]}×{name[2]}",
            run=_set_layout(name),
            menus=("view",),
            section="layout",
            toolbar="layout_menu",
            icon=f"layout-{name}",
            shortcuts=(f"Ctrl+{n}",),
            checkable=True,
            checked=_layout_is(name),
            help=f"layout {name[0]}×{name[2]}",
        )
        for n, name in enumerate(("1x1", "1x2", "2x1", "2x2"), start=1)
    ]


def _drag_tools() -> list[Action]:
    return [
        Action(
            f"tool_{name}",
            text,
            run=_use_tool(name),
            menus=("view",),
            section="tools",
            toolbar="drag",
            icon=icon,
            checkable=True,
            checked=_tool_is(name),
            tip=f"Left-drag: {text}",
        )
        for name, text, icon in (
            ("window", "W/L", "window-level"),
            ("pan", "Pan", "pan"),
            ("zoom", "Zoom", "zoom"),
            ("magnifier", "Magnifier", "magnifier"),
            ("crosshair", "Crosshair", "crosshair"),
        )
    ]


RARE_MEASUREMENT_TOOLS: frozenset[str] = frozenset({"cobb", "calibrate"})
"""Measurement tools in the tool bar's drop-down rather than a button each."""


def _tool_group(name: str) -> str:
    """The tool bar group of an annotation or measurement tool."""
    if name in RARE_MEASUREMENT_TOOLS:
        return "measure_more"
    return "measure" if name in MEASUREMENT_TOOLS else "annotate"


ANNOTATION_TOOLS: tuple[tuple[str, str, str], ...] = (
    ("select", "Select", "S"),
    ("marker", "Point", "P"),
    ("arrow", "Arrow", "A"),
    ("text", "Text", "T"),
    ("ruler", "Ruler", "R"),
    ("angle", "Angle", "G"),
    ("cobb", "Cobb", "C"),
    ("ellipse", "Ellipse", "E"),
    ("polygon", "Polygon", "F"),
    ("bidirectional", "Bidirectional", "B"),
    ("calibrate", "Calibrate", "L"),
)
"""Annotation tools: (name, label, letter of their Alt+letter shortcut)."""


def _annotation_tools() -> list[Action]:
    return [
        Action(
            f"tool_{name}",
            text,
            run=_use_tool(name),
            menus=("annotate",),
            section="tools",
            toolbar=_tool_group(name),
            icon="point" if name == "marker" else name,
            shortcuts=(f"Alt+{letter}",),
            checkable=True,
            checked=_tool_is(name),
            tip=f"{text} (Alt+{letter})",
            help=f"annotate: {text.lower()}",
        )
        for name, text, letter in ANNOTATION_TOOLS
    ]


def _presets() -> list[Action]:
    return [
        Action(
            f"preset_{name}",
            f"CT {name} ({preset.width:g}/{preset.center:g})",
            run=_apply_preset(name),
            on_viewport=_preset_key(name),
            menus=("window",),
            section="presets",
            shortcuts=(str(n),),
            viewport_key=True,
            help=f"CT {name} window (other modalities: next header window)",
        )
        for n, (name, preset) in enumerate(CT_PRESETS.items(), start=1)
    ]


ACTIONS: tuple[Action, ...] = (
    # File
    Action(
        "open_folder",
        "Open &folder…",
        run=lambda w: w.opening.open_folder(),
        menus=("file",),
        section="open",
        icon="folder-open",
        shortcuts=("Ctrl+O",),
    ),
    Action(
        "open_file",
        "Open f&ile…",
        run=lambda w: w.opening.open_file(),
        menus=("file",),
        section="open",
        icon="document-open",
        shortcuts=("Ctrl+Shift+O",),
    ),
    Action(
        "open_dicomdir",
        "Open &DICOMDIR…",
        run=lambda w: w.opening.open_dicomdir(),
        menus=("file",),
        section="open",
        shortcuts=("Ctrl+D",),
    ),
    Action(
        "add_study",
        "&Add study…",
        run=lambda w: w.opening.add_folder(),
        menus=("file",),
        section="open",
        tip="Add a folder's studies to those open (a prior beside the current)",
    ),
    Action("recent", "&Recent studies", menus=("file",), section="open", submenu=True),
    Action(
        "pacs",
        "&Query / retrieve (PACS)…",
        run=lambda w: _show_pacs_dialog(w),
        menus=("file",),
        section="open",
        shortcuts=("Ctrl+Shift+Q",),
        tip="Find studies on a PACS (DIMSE or DICOMweb), retrieve and open them",
    ),
    Action(
        "local_database",
        "&Local database…",
        run=lambda w: _show_database_dialog(w),
        menus=("file",),
        section="open",
        shortcuts=("Ctrl+Shift+L",),
        tip="Browse, search and open the studies indexed on this computer; "
        "import, remove, re-index",
    ),
    Action(
        "send_to_pacs",
        "Send to PACS…",
        run=lambda w: _send_to_pacs(w),
        menus=("file",),
        section="open",
        tip="C-STORE or STOW-RS the current series or study, or our SR and "
        "presentation state, to a configured PACS node; a result per instance",
    ),
    # View
    *_layouts(),
    *_drag_tools(),
    Action(
        "mouse_buttons", "Mouse buttons", menus=("view",), section="tools", submenu=True
    ),
    Action(
        "mpr",
        "MPR",
        run=lambda w: w.toggle_mpr(),
        menus=("view",),
        section="mpr",
        toolbar="mpr",
        icon="mpr",
        shortcuts=("M",),
        checkable=True,
        checked=lambda w: w.state.layout == "mpr",
        tip="Axial, coronal and sagittal views with a 3D cursor (M)",
        help="MPR on the active viewport's volume (again: back to one viewport)",
    ),
    *_mpr_layouts(),
    Action(
        "reset_planes",
        "Reset planes",
        run=lambda w: w.state.reset_planes(),
        menus=("view",),
        section="mpr",
        toolbar="mpr",
        icon="undo",
        shortcuts=("Ctrl+R",),
        help="reset oblique MPR planes",
    ),
    Action(
        "crosshair_lines",
        "Crosshair lines",
        run=lambda w: w.state.toggle_crosshair(),
        on_viewport=lambda widget: widget.viewer.toggle_crosshair(),
        menus=("view",),
        section="mpr",
        shortcuts=("X",),
        viewport_key=True,
        checkable=True,
        checked=lambda w: w.state.show_crosshair,
        help="show/hide the MPR crosshair lines",
    ),
    Action(
        "reference_lines",
        "Reference lines",
        run=lambda w: w.state.toggle_reference_lines(),
        menus=("view",),
        section="mpr",
        checkable=True,
        checked=lambda w: w.state.show_reference_lines,
        help="show/hide each slice as a line on the other viewports (and localizers)",
    ),
    Action(
        "link",
        "Link",
        run=_toggle_link,
        menus=("view",),
        section="mpr",
        toolbar="link",
        icon="link",
        shortcuts=("L",),
        checkable=True,
        checked=lambda w: w.state.link_scrolling,
        tip="Scroll viewports of the same frame of reference together (L)",
        help="link / unlink scrolling of viewports in the same frame of reference",
    ),
    Action(
        "overlays",
        "Overlays",
        run=lambda w: w.state.toggle_overlays(),
        on_viewport=lambda widget: widget.viewer.toggle_overlays(),
        menus=("view",),
        section="mpr",
        toolbar="link",
        icon="overlays",
        shortcuts=("O",),
        viewport_key=True,
        checkable=True,
        checked=lambda w: w.state.show_overlays,
        help="show/hide overlays",
    ),
    Action(
        "fit",
        "Fit to window",
        on_viewport=lambda widget: widget.fit(),
        menus=("view",),
        section="image",
        toolbar="view",
        icon="zoom-fit",
        shortcuts=("F",),
        viewport_key=True,
        label="Fit",
    ),
    Action(
        "actual_size",
        "Actual size",
        on_viewport=lambda widget: widget.actual_size(),
        menus=("view",),
        section="image",
        toolbar="view",
        icon="zoom-original",
        shortcuts=("N",),
        viewport_key=True,
        label="1:1",
        help="1:1 (one screen pixel per image pixel)",
    ),
    Action(
        "invert",
        "Invert grey scale",
        on_viewport=_toggle("invert"),
        menus=("view",),
        section="image",
        toolbar="view",
        icon="invert",
        shortcuts=("I",),
        viewport_key=True,
        label="Invert",
    ),
    Action(
        "flip_horizontal",
        "Flip horizontally",
        on_viewport=_toggle("flip_horizontal"),
        menus=("view",),
        section="image",
        toolbar="transform",
        icon="flip-horizontal",
        shortcuts=("H",),
        viewport_key=True,
        label="Flip H",
    ),
    Action(
        "flip_vertical",
        "Flip vertically",
        on_viewport=_toggle("flip_vertical"),
        menus=("view",),
        section="image",
        toolbar="transform",
        icon="flip-vertical",
        shortcuts=("V",),
        viewport_key=True,
        label="Flip V",
    ),
    Action(
        "rotate",
        "Rotate 90° clockwise",
        on_viewport=_rotate,
        menus=("view",),
        section="image",
        toolbar="transform",
        icon="rotate-right",
        shortcuts=("R",),
        viewport_key=True,
        label="Rotate",
    ),
    Action(
        "cine",
        "Play or stop cine",
        on_viewport=lambda widget: widget.toggle_cine(),
        menus=("view",),
        section="image",
        toolbar="view",
        icon="cine",
        shortcuts=("Space",),
        viewport_key=True,
        label="Cine",
        help="play/stop cine (time points, else slices)",
    ),
    # Viewport keys without a menu entry
    _key("previous_slice", "previous slice", "Up", _slice_step(-1)),
    _key("next_slice", "next slice", "Down", _slice_step(1)),
    _key("back_ten", "10 slices back", "PgUp", _slice_step(-10)),
    _key("ahead_ten", "10 slices ahead", "PgDown", _slice_step(10)),
    _key("first_slice", "first slice", "Home", lambda w: w.state.set_slice(0)),
    _key("last_slice", "last slice", "End", _last_slice),
    _key("previous_time", "previous time point or cine frame", "Left", _time_step(-1)),
    _key("next_time", "next time point or cine frame", "Right", _time_step(1)),
    # Window
    Action(
        "header_window",
        "Header window (next)",
        on_viewport=lambda widget: widget.state.cycle_header_window(),
        menus=("window",),
        section="windows",
        shortcuts=("W",),
        viewport_key=True,
        help="next window from the header (Window Center/Width, VOI LUT)",
    ),
    Action(
        "auto_window",
        "Auto window",
        on_viewport=lambda widget: widget.state.apply_auto_window(),
        menus=("window",),
        section="windows",
        shortcuts=("A",),
        viewport_key=True,
        help="auto window from the shown image",
    ),
    Action(
        "reset_window",
        "Reset window",
        on_viewport=lambda widget: widget.state.reset_window(),
        menus=("window",),
        section="windows",
        shortcuts=("0",),
        viewport_key=True,
        help="back to the header window",
    ),
    *_presets(),
    Action(
        "custom_presets",
        "Custom presets",
        menus=("window",),
        section="custom",
        submenu=True,
    ),
    Action(
        "save_preset",
        "Save current window as preset…",
        run=lambda w: w.custom_presets.save_current(),
        menus=("window",),
        section="custom",
    ),
    # Annotate
    *_annotation_tools(),
    Action(
        "undo",
        "Undo",
        run=lambda w: w.state.annotations.undo(),
        menus=("annotate",),
        section="edit",
        toolbar="edit",
        icon="undo",
        shortcuts=("Ctrl+Z",),
        help="undo (annotations)",
    ),
    Action(
        "redo",
        "Redo",
        run=lambda w: w.state.annotations.redo(),
        menus=("annotate",),
        section="edit",
        toolbar="edit",
        icon="redo",
        shortcuts=("Ctrl+Shift+Z", "Ctrl+Y"),
        help="redo (annotations)",
    ),
    Action(
        "delete",
        "Delete selected annotation",
        run=lambda w: w._delete_selected(),
        menus=("annotate",),
        section="edit",
        icon="delete",
        shortcuts=("Del",),
    ),
    Action(
        "remove_calibration",
        "Remove calibration",
        run=lambda w: _remove_calibration(w),
        menus=("annotate",),
        section="edit",
        tip="Return the image to its header spacing (or px)",
        help="remove the reader's calibration of the image",
    ),
    Action(
        "key_image",
        "Mark &key image",
        run=_toggle_key_image,
        on_viewport=_toggle_key_image_of,
        menus=("annotate",),
        section="key images",
        toolbar="annotate",
        icon="key-image",
        shortcuts=("K",),
        viewport_key=True,
        checkable=True,
        checked=_is_key_image,
        label="Key image",
        tip="Mark or unmark the shown image as a key image (K)",
        help="mark / unmark the shown image as a key image",
    ),
    Action(
        "key_images",
        "Key images",
        menus=("annotate",),
        section="key images",
        dock="key_images",
    ),
    Action(
        "save_annotations",
        "Save annotations as…",
        run=lambda w: w.annotation_files.save_as(),
        menus=("file",),
        section="annotations",
        icon="document-save-as",
        shortcuts=("Ctrl+S",),
        help="save annotations (they are also autosaved)",
    ),
    Action(
        "open_annotations",
        "Open annotations…",
        run=lambda w: w.annotation_files.open_file(),
        menus=("file",),
        section="annotations",
    ),
    Action(
        "lesions", "Lesions", menus=("annotate",), section="annotations", dock="lesions"
    ),
    Action(
        "teaching_case",
        "Export teaching case…",
        run=lambda w: w.lesion_export.export_teaching(),
        menus=("file", "annotate"),
        section="annotations",
        shortcuts=("Ctrl+Shift+T",),
        tip=(
            "De-identified case folder: annotated and clean PNGs, DICOM key images, "
            "SR, presentation state and a case sheet"
        ),
        help="export a teaching case (de-identified images and lesions)",
    ),
    Action(
        "comparison",
        "Compare with prior",
        run=_toggle_comparison,
        menus=("view",),
        section="layout",
        shortcuts=("Ctrl+Shift+C",),
        checkable=True,
        checked=_comparison_is_on,
        tip="The current series beside the matching series of the patient's prior "
        "study, linked (registered when their frames of reference differ)",
        help="compare with the prior study (side by side, linked)",
    ),
    Action(
        "comparison_landmarks",
        "Link by landmarks…",
        run=_pick_landmarks,
        menus=("view",),
        section="layout",
        tip="Click a point in the current study, then the same anatomy in the "
        "prior: their offset links the two instead of the registration",
        help="link the comparison by one landmark in each study",
    ),
    Action(
        "comparison_reset_link",
        "Reset comparison link",
        run=_reset_comparison_link,
        menus=("view",),
        section="layout",
        tip="Forget the landmarks: back to the registration or frame of reference",
        help="reset the comparison's link to the registration",
    ),
    Action(
        "response_table",
        "Response table",
        menus=("annotate",),
        section="annotations",
        dock="response",
    ),
    Action(
        "same_lesion",
        "Same lesion as…",
        run=_same_lesion_as,
        menus=("annotate",),
        section="annotations",
        tip="Link the selected lesion to the same patient's lesion of an earlier "
        "time point (one Tracking UID: the Response table tracks it)",
        help="link the selected lesion to a lesion of an earlier time point",
    ),
    Action(
        "unlink_lesion",
        "Unlink from earlier lesion",
        run=_unlink_lesion,
        menus=("annotate",),
        section="annotations",
        help="unlink the selected lesion from the earlier lesion it was linked to",
    ),
    Action(
        "export_dicom",
        "Export annotations as DICOM SR and presentation state…",
        run=lambda w: w.lesion_export.export_dicom(),
        menus=("file", "annotate"),
        section="annotations",
    ),
    Action(
        "send_annotations",
        "Send annotations to PACS…",
        run=lambda w: _send_to_pacs(w, chosen=2),
        menus=("file", "annotate"),
        section="annotations",
        tip="Write the study's lesions as DICOM SR and presentation state and "
        "send them to a PACS node",
    ),
    Action(
        "export_timepoint_srs",
        "Export one SR per time point…",
        run=lambda w: w.build_docks().report_export.ask(),
        menus=("file", "annotate"),
        section="annotations",
        tip="One DICOM SR per time point of the patient's open studies, linked by "
        "the lesions' Tracking UIDs (also the Response table's Export SRs…)",
        help="export one DICOM SR per time point (lesions linked across them)",
    ),
    Action(
        "import_dicom",
        "Import DICOM SR or presentation state…",
        run=lambda w: w.annotation_files.import_report(),
        menus=("file", "annotate"),
        section="annotations",
    ),
    Action(
        "export_view",
        "&Export view…",
        run=lambda w: w.view_export.export_view(overlays=True),
        menus=("file",),
        section="export",
        icon="export",
        shortcuts=("Ctrl+E",),
        help=(
            "export the view as PNG with overlays and annotations, or the slice or "
            "plane as NIfTI, NRRD or MetaImage"
        ),
    ),
    Action(
        "export_plain",
        "Export image without overlays…",
        run=lambda w: w.view_export.export_view(overlays=False),
        menus=("file",),
        section="export",
        shortcuts=("Ctrl+Shift+E",),
    ),
    Action(
        "export_anonymous",
        "Export view without patient data…",
        run=lambda w: w.view_export.export_view(overlays=True, include_patient=False),
        menus=("file",),
        section="export",
        shortcuts=("Ctrl+Alt+E",),
        help=(
            "export the view with its annotations and technical overlays but no "
            "patient or study data (for slides)"
        ),
    ),
    Action(
        "copy_view",
        "&Copy view",
        run=lambda w: w.view_export.copy_view(),
        menus=("file",),
        section="export",
        icon="copy",
        shortcuts=("Ctrl+C",),
        help="copy the view to the clipboard",
    ),
    Action(
        "quit",
        "&Quit",
        run=lambda w: w.close(),
        menus=("file",),
        section="quit",
        icon="application-exit",
        shortcuts=("Ctrl+Q",),
    ),
    # Docks (View, last)
    Action("series", "Series", menus=("view",), section="docks", dock="series"),
    Action("problems", "Problems", menus=("view",), section="docks", dock="problems"),
    Action(
        "tags",
        "DICOM tags",
        run=lambda w: w._on_tags_toggled(not w.tags_dock.isHidden()),
        menus=("view",),
        section="docks",
        shortcuts=("Ctrl+T",),
        dock="tags",
        help="DICOM tag browser",
    ),
    # Help
    Action(
        "shortcuts",
        "Keyboard and mouse",
        run=lambda w: w.show_shortcuts(),
        menus=("help",),
        icon="help",
        shortcuts=("F1",),
        help="this list",
    ),
    Action("about", "About", run=_show_about, menus=("help",)),
    Action(
        "cancel",
        "Cancel",
        run=lambda w: w._on_escape(),
        shortcuts=("Escape",),
        help="cancel loading, or the drawing in progress",
    ),
)
"""Every action of the window, in menu order."""


# ---------------------------------------------------------------- building
@dataclass
class BuiltActions:
    """What :func:`build_actions` made for a window."""

    actions: dict[str, QAction] = field(default_factory=dict)
    menus: dict[str, QMenu] = field(default_factory=dict)
    submenus: dict[str, QMenu] = field(default_factory=dict)
    toolbars: dict[str, QToolBar] = field(default_factory=dict)
    dock_places: dict[str, list[tuple[QMenu, QAction | None]]] = field(
        default_factory=dict
    )
    """Where each dock's toggle goes: (menu, the entry it goes before)."""
    icons_applied: bool = False
    """True once :func:`apply_icons` ran (after the first paint)."""


def build_actions(
    window: MainWindow,
    toolbar_extras: Mapping[str, Callable[[QToolBar], object]] | None = None,
) -> BuiltActions:
    """Make the window's QActions, menus and tool bars from :data:`ACTIONS`.

    ``toolbar_extras``: widgets a tool bar group ends with (by group name).
    Before the first paint: no icons (see :func:`apply_icons`), and only calls
    that build no PySide6 enums.
    """
    built = BuiltActions()
    menu_bar = window.menuBar()
    built.menus = {key: menu_bar.addMenu(title) for key, title in MENUS.items()}
    sections: dict[str, str] = {}
    waiting: dict[str, list[str]] = {}  # dock toggles waiting for the next entry
    for spec in ACTIONS:
        if spec.submenu:
            for key in spec.menus:
                _separate(built.menus[key], sections, key, spec.section)
                built.submenus[spec.id] = built.menus[key].addMenu(spec.text)
                _place_docks(built, waiting, key, built.submenus[spec.id].menuAction())
            continue
        if spec.dock is not None:
            for key in spec.menus:
                _separate(built.menus[key], sections, key, spec.section)
                waiting.setdefault(key, []).append(spec.dock)
            continue
        action = built.actions[spec.id] = _make_action(window, spec)
        for key in spec.menus:
            _separate(built.menus[key], sections, key, spec.section)
            _place_docks(built, waiting, key, action)
            built.menus[key].addAction(action)
    for key, docks in waiting.items():
        for dock in docks:
            built.dock_places.setdefault(dock, []).append((built.menus[key], None))
    extras = toolbar_extras or {}
    for title, name, groups in TOOLBARS:
        toolbar = built.toolbars[name] = QToolBar(title, window)
        toolbar.setObjectName(name)
        window.addToolBar(toolbar)
        for n, group in enumerate(groups):
            if n:
                toolbar.addSeparator()
            _add_group(window, built, toolbar, group)
            if group in extras:
                extras[group](toolbar)
    return built


def _add_group(
    window: MainWindow, built: BuiltActions, toolbar: QToolBar, group: str
) -> None:
    """The group's buttons, then the drop-downs of :data:`TOOLBAR_MENUS` that
    end it."""
    for spec in ACTIONS:
        if spec.toolbar == group:
            toolbar.addAction(built.actions[spec.id])
    for menu_group, (after, text, _icon) in TOOLBAR_MENUS.items():
        if after != group:
            continue
        button = built.actions[f"toolbar_{menu_group}"] = QAction(window)
        button.setText(text)
        menu = built.submenus[f"toolbar_{menu_group}"] = QMenu(text, window)
        keys: list[str] = []
        sections: dict[str, str] = {}
        for spec in ACTIONS:
            if spec.toolbar == menu_group:
                _separate(menu, sections, menu_group, spec.section)
                menu.addAction(built.actions[spec.id])
                keys += spec.shortcuts[:1]
        button.setToolTip(f"{text} ({', '.join(keys)})" if keys else text)
        button.setMenu(menu)
        # The button itself opens the menu too (it has no action of its own).
        button.triggered.connect(functools.partial(_open_menu, toolbar, button))
        toolbar.addAction(button)


def _open_menu(toolbar: QToolBar, button: QAction, *_: object) -> None:
    widget = toolbar.widgetForAction(button)
    menu = button.menu()
    if widget is not None and isinstance(menu, QMenu):
        menu.popup(widget.mapToGlobal(widget.rect().bottomLeft()))


def _separate(menu: QMenu, sections: dict[str, str], key: str, section: str) -> None:
    """A separator where the section of menu ``key`` changes."""
    previous = sections.get(key)
    if previous is not None and previous != section:
        menu.addSeparator()
    sections[key] = section


def _place_docks(
    built: BuiltActions, waiting: dict[str, list[str]], key: str, before: QAction
) -> None:
    for dock in waiting.pop(key, []):
        built.dock_places.setdefault(dock, []).append((built.menus[key], before))


def _make_action(window: MainWindow, spec: Action) -> QAction:
    # QAction(parent), then the text: resolving QAction(text, parent) among
    # its overloads builds QIcon's enums (about 2 ms) before the first paint.
    action = QAction(window)
    if spec.viewport_key:
        # Shown beside the text (after a tab, as menus show shortcuts), bound
        # by the viewports: typing in a field must not reach them.
        action.setText(f"{spec.text}\t{spec.keys_text}")
        action.setIconText(spec.label or spec.plain_text)
    else:
        action.setText(spec.text)
        if spec.label:
            action.setIconText(spec.label)
    if spec.shortcuts and not spec.viewport_key:
        # setShortcuts, not setShortcut: resolving setShortcut's overloads
        # builds every enum of the Qt namespace, before the first paint.
        action.setShortcuts([QKeySequence(key) for key in spec.shortcuts])
    if spec.tip:
        action.setToolTip(spec.tip)
    elif spec.toolbar is not None and spec.shortcuts:
        action.setToolTip(f"{spec.label or spec.plain_text} ({spec.keys_text})")
    action.setCheckable(spec.checkable)
    action.triggered.connect(functools.partial(_trigger, window, spec))
    window.addAction(action)
    return action


def _trigger(window: MainWindow, spec: Action, *_: object) -> None:
    if spec.run is not None:
        spec.run(window)
    elif spec.on_viewport is not None:
        spec.on_viewport(window.active_widget)
    # A click on a checked entry unchecks it; the state decides.
    window.refresh_checks()


def refresh_checks(window: MainWindow, built: BuiltActions) -> None:
    """Check the checkable actions as the window's state says."""
    for spec in ACTIONS:
        action = built.actions.get(spec.id)
        if action is not None and spec.checked is not None:
            checked = bool(spec.checked(window))
            if action.isChecked() != checked:
                action.setChecked(checked)
    if built.icons_applied:
        _show_current_icons(built)


def _show_current_icons(built: BuiltActions) -> None:
    """The drop-downs of :data:`MENUS_SHOWING_CURRENT` wear their checked
    entry's icon (the layout shown), else their own."""
    from imaging_viewer.ui.icons import icon

    for group in MENUS_SHOWING_CURRENT:
        button = built.actions.get(f"toolbar_{group}")
        if button is None:
            continue
        name = TOOLBAR_MENUS[group][2]
        for spec in ACTIONS:
            action = built.actions.get(spec.id)
            if spec.toolbar == group and action is not None and action.isChecked():
                name = spec.icon or name
                break
        if button.property("icon_name") != name:
            button.setProperty("icon_name", name)
            button.setIcon(icon(name))


def bind_dock_toggles(
    window: MainWindow, built: BuiltActions, docks: Mapping[str, QDockWidget]
) -> None:
    """Give each dock's show/hide toggle its table entry: text, keys, place."""
    for spec in ACTIONS:
        if spec.dock is None or spec.dock not in docks:
            continue
        toggle = docks[spec.dock].toggleViewAction()
        toggle.setText(spec.text)
        if spec.shortcuts:
            toggle.setShortcuts([QKeySequence(key) for key in spec.shortcuts])
        if spec.run is not None:
            toggle.triggered.connect(functools.partial(_run_only, window, spec))
        built.actions[spec.id] = toggle
        for menu, before in built.dock_places.get(spec.dock, []):
            if before is None:
                menu.addAction(toggle)
            else:
                menu.insertAction(before, toggle)


def _run_only(window: MainWindow, spec: Action, *_: object) -> None:
    if spec.run is not None:
        spec.run(window)


def apply_icons(built: BuiltActions) -> None:
    """The icons (resources/icons) of the actions that name one (after the first
    paint: QIcon builds its enums). An unknown name leaves the action without."""
    from imaging_viewer.ui.icons import icon

    named = [(spec.id, spec.icon) for spec in ACTIONS]
    named += [(f"toolbar_{group}", item[2]) for group, item in TOOLBAR_MENUS.items()]
    for action_id, name in named:
        action = built.actions.get(action_id)
        if action is None or name is None:
            continue
        image = icon(name)
        if not image.isNull():
            action.setIcon(image)
    built.icons_applied = True
    _show_current_icons(built)


# ---------------------------------------------------------------- keys and Help
@functools.cache
def _viewport_keys() -> dict[int, Action]:
    """Viewport actions by Qt key code."""
    keys: dict[int, Action] = {}
    for spec in ACTIONS:
        if spec.viewport_key:
            for key in spec.shortcuts:
                combination = QKeySequence(key)[0]  # type: ignore[index]
                keys[int(combination.key().value)] = spec
    return keys


def viewport_action(key: int) -> Action | None:
    """The viewport action of an unmodified key (a Qt key code), if any."""
    return _viewport_keys().get(key)


def viewport_key_names() -> tuple[str, ...]:
    """Every key the viewports bind, in QKeySequence's portable text."""
    return tuple(key for spec in ACTIONS if spec.viewport_key for key in spec.shortcuts)


def help_rows() -> list[tuple[str, str]]:
    """(keys or mouse, what they do) for the Help list: every key of
    :data:`ACTIONS`, then the mouse bindings."""
    rows = [
        (spec.keys_text, spec.help or spec.plain_text)
        for spec in ACTIONS
        if spec.shortcuts
    ]
    return rows + list(MOUSE_BINDINGS)
