"""MainWindow: menus, tool bar, docks (series, problems, tags) and the viewport grid."""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

import numpy as np

# ``QtCore.Qt`` is looked up where used: PySide6 builds the Python enums of the
# whole Qt namespace (93 of them, ~25 ms) on first access, after the first paint.
from PySide6 import QtCore, QtWidgets
from PySide6.QtCore import QByteArray, QSettings, QTimer
from PySide6.QtGui import QAction, QActionGroup, QColor, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDockWidget,
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QToolBar,
    QWidget,
)

from imaging_viewer.core.render import CT_PRESETS
from imaging_viewer.core.viewer_state import LAYOUTS, ViewerState, nearest_slice
from imaging_viewer.core.volume import Window
from imaging_viewer.ui.first_look import Prefetch, first_look_file, look_at
from imaging_viewer.ui.icons import set_toolbar_icons
from imaging_viewer.ui.workers import BackgroundTask, run_in_background

if TYPE_CHECKING:
    from PySide6.QtGui import (
        QCloseEvent,
        QDragEnterEvent,
        QDropEvent,
        QImage,
        QShowEvent,
    )

    from imaging_viewer.core.annotations.serialize import Autosaver
    from imaging_viewer.core.dicom.scan import ScanResult
    from imaging_viewer.core.dicom.series import SeriesInfo
    from imaging_viewer.core.volume import Volume
    from imaging_viewer.ui.first_look_view import FirstLookView
    from imaging_viewer.ui.slice_viewport import SliceViewportWidget
    from imaging_viewer.ui.widgets.lesions_panel import LesionsPanelWidget
    from imaging_viewer.ui.widgets.problems_panel import ProblemsPanelWidget
    from imaging_viewer.ui.widgets.series_browser import SeriesBrowserWidget
    from imaging_viewer.ui.widgets.tag_browser import TagBrowserWidget

_T = TypeVar("_T")

MAX_RECENT = 10
_FIRST_LOOK_PATIENCE_MS = 500
"""Deferred viewports are made this long after the first look at the latest,
should the window not be painted (hidden, minimised)."""
ANNOTATION_TOOLS: tuple[tuple[str, str, str], ...] = (
    ("select", "Select", "Alt+S"),
    ("marker", "Point", "Alt+P"),
    ("arrow", "Arrow", "Alt+A"),
    ("text", "Text", "Alt+T"),
    ("ruler", "Ruler", "Alt+R"),
    ("angle", "Angle", "Alt+G"),
    ("cobb", "Cobb", "Alt+C"),
    ("ellipse", "Ellipse", "Alt+E"),
    ("polygon", "Polygon", "Alt+F"),
    ("bidirectional", "Bidirectional", "Alt+B"),
)
"""Annotation tools: (name, label, shortcut)."""
# Axial, coronal, sagittal: the colour of each MPR view and of its line elsewhere.
MPR_COLOURS = (QColor(230, 70, 70), QColor(80, 200, 90), QColor(235, 200, 60))
EXPORT_FILTERS: tuple[str, ...] = (
    "PNG image, as shown (*.png)",
    "NIfTI, values and geometry (*.nii.gz *.nii)",
    "NRRD, values and geometry (*.nrrd)",
    "MetaImage, values and geometry (*.mha)",
)
"""What the view can be exported as (file dialog filters)."""
_FILTER_SUFFIXES = dict(
    zip(EXPORT_FILTERS, (".png", ".nii.gz", ".nrrd", ".mha"), strict=True)
)
WINDOW_SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("Ctrl+O / Ctrl+Shift+O / Ctrl+D", "open folder / file / DICOMDIR"),
    ("Ctrl+1 … Ctrl+4", "layout 1×1, 1×2, 2×1, 2×2"),
    ("L", "link / unlink scrolling of viewports in the same frame of reference"),
    ("M", "MPR on the active viewport's volume (again: back to one viewport)"),
    ("Ctrl+T", "DICOM tag browser"),
    (
        "Ctrl+E / Ctrl+Shift+E",
        "export the view as PNG with / without overlays and annotations, or the "
        "slice or plane as NIfTI, NRRD or MetaImage",
    ),
    (
        "Ctrl+Alt+E",
        "export the view with its annotations and technical overlays but no "
        "patient or study data (for slides)",
    ),
    ("Ctrl+C", "copy the view to the clipboard"),
    ("Escape", "cancel loading, or the drawing in progress"),
    ("Alt+S/P/A/T", "annotate: select, point, arrow, text"),
    ("Alt+R/G/C/E/F/B", "measure: ruler, angle, Cobb, ellipse, polygon, bidirectional"),
    (
        "Ctrl+Z / Ctrl+Shift+Z or Ctrl+Y / Delete",
        "undo / redo / delete selected annotation",
    ),
    ("Ctrl+S", "save annotations (they are also autosaved)"),
    ("Ctrl+Shift+T", "export a teaching case (de-identified images and lesions)"),
    ("F1", "this list"),
)


class _DockPart(Generic[_T]):
    """A dock or its panel: built with the docks, on first use at the latest.

    The window shows its first image before it builds the docks; whatever
    reaches for one of them earlier gets them built there and then.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = f"_{name}"

    @overload
    def __get__(self, window: None, owner: type) -> _DockPart[_T]: ...

    @overload
    def __get__(self, window: MainWindow, owner: type) -> _T: ...

    def __get__(self, window: MainWindow | None, owner: type) -> Any:
        if window is None:
            return self
        window.build_docks()
        return getattr(window, self._name)


class MainWindow(QMainWindow):
    """The viewer window: opens studies, lists their series, shows them in a grid.

    The docks (series, problems, DICOM tags, lesions) are built once the first
    image has been shown (or at once when there is none to wait for, or when
    something needs them earlier); saved dock and tool-bar positions are
    restored then.
    """

    series_browser: _DockPart[SeriesBrowserWidget] = _DockPart()
    problems_panel: _DockPart[ProblemsPanelWidget] = _DockPart()
    tag_browser: _DockPart[TagBrowserWidget] = _DockPart()
    lesions_panel: _DockPart[LesionsPanelWidget] = _DockPart()
    series_dock: _DockPart[QDockWidget] = _DockPart()
    problems_dock: _DockPart[QDockWidget] = _DockPart()
    tags_dock: _DockPart[QDockWidget] = _DockPart()
    lesions_dock: _DockPart[QDockWidget] = _DockPart()

    def __init__(
        self, remember_settings: bool = True, *, defer_viewports: bool = False
    ) -> None:
        """``defer_viewports``: an image read ahead will be shown first
        (``open_path(..., prefetched=...)``): a plain view paints it, and the
        interactive viewports (pyqtgraph, imported then) take its place right
        after that first paint."""
        super().__init__()
        self.setWindowTitle("imaging_viewer")
        self.setAcceptDrops(True)
        self.state = ViewerState()
        self.scan_result: ScanResult | None = None
        self._remember = remember_settings
        self._last_export_folder: Path | None = None
        self._settings = QSettings()
        self._scan_task: BackgroundTask | None = None
        self._first_look_task: BackgroundTask | None = None
        self._first_look: str | None = None
        """The file shown before the scan ended (until its series replaces it)."""
        self._load_tasks: dict[int, BackgroundTask] = {}
        self._no_loads = threading.Event()
        """Set while no series load runs: thumbnails wait for it."""
        self._no_loads.set()
        self._volumes: dict[str, Volume] = {}
        self._series_by_id: dict[str, SeriesInfo] = {}
        self._pending_selector: str | None = None
        self.first_image_shown_at: float | None = None
        self.mpr_when_loaded = False
        """Enter MPR once the first viewport's volume has loaded (--layout mpr)."""
        self._docks_built = False
        self._autosaver: Autosaver | None = None
        self._annotation_study_uid = ""
        self._viewports_ready = not defer_viewports
        self._first_look_view: FirstLookView | None = None
        self._scan_after_first_paint: Path | None = None
        """The folder to scan once the deferred viewports are made."""
        self._build_viewports()
        self._build_status_bar()
        self._build_actions()
        self.state.events.layout.connect(self._on_layout_changed)
        self.state.events.active_index.connect(self._on_active_changed)
        self.state.events.show_overlays.connect(self._on_overlays_changed)
        self._restore_settings()
        self._on_layout_changed()
        self._on_active_changed()

    # ------------------------------------------------------------------ building
    def _build_viewports(self) -> None:
        central = QWidget(self)
        self._grid = QGridLayout(central)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(2)
        self.viewport_widgets: list[SliceViewportWidget] = []
        """One per viewport that a layout has shown so far (see _add_viewports)."""
        self._central = central
        for state in self.state.viewports:
            state.events.slice_index.connect(lambda *_: self._update_tag_browser())
        self.setCentralWidget(central)
        if not self._viewports_ready:
            from imaging_viewer.ui.first_look_view import FirstLookView

            view = self._first_look_view = FirstLookView(central)
            view.painted.connect(lambda: QTimer.singleShot(0, self._make_viewports))
            self._grid.addWidget(view, 0, 0)
            return
        self._add_viewports(1)

    def _make_viewports(self) -> None:
        """Make the viewports that were deferred (see ``defer_viewports``) in
        place of the first-look view, and start the scan that waited for its
        first paint; nothing if they exist."""
        if self._viewports_ready:
            return
        self._viewports_ready = True
        scan, self._scan_after_first_paint = self._scan_after_first_paint, None
        if scan is not None:
            self._start_scan(scan)
        view, self._first_look_view = self._first_look_view, None
        if view is not None:
            self._grid.removeWidget(view)
            view.hide()
            view.deleteLater()
        self._on_layout_changed()
        self._on_active_changed()
        self._on_overlays_changed()
        self._build_docks_after_paint()

    def _add_viewports(self, count: int) -> None:
        """Make the widgets of the first ``count`` viewports, if not made yet.

        The viewports a layout does not show wait until one does; a new one
        takes the window's tool, crosshair and overlay settings. Nothing is
        made while the viewports are deferred (see ``defer_viewports``).
        """
        if not self._viewports_ready:
            return
        from imaging_viewer.ui.slice_viewport import SliceViewportWidget

        while len(self.viewport_widgets) < min(count, len(self.state.viewports)):
            index = len(self.viewport_widgets)
            state = self.state.viewports[index]
            widget = SliceViewportWidget(state, self._central)
            widget.activated.connect(
                lambda index=index: self._on_viewport_activated(index)
            )
            widget.probed.connect(self._on_probed)
            widget.series_dropped.connect(
                lambda series_id, index=index: self.show_series(series_id, index)
            )
            widget.slice_changed.connect(
                lambda index=index: self._on_slice_scrolled(index)
            )
            widget.cursor_moved.connect(
                lambda point, index=index: self._on_cursor_moved(index, point)
            )
            widget.siblings = lambda index=index: self._mpr_siblings(index)
            # The other MPR views draw this plane's line across their whole
            # viewport: turning it must repaint them, not only this view.
            state.events.plane_rotation.connect(
                lambda *_, index=index: self._repaint_mpr_siblings(index)
            )
            widget.set_annotations(self.state.annotations)
            widget.active_lesion = lambda: self.state.active_lesion_id
            widget.ask_text = self._ask_label_text
            widget.colour = MPR_COLOURS[index] if index < len(MPR_COLOURS) else None
            if self.viewport_widgets:
                first = self.viewport_widgets[0]
                widget.left_tool = first.left_tool
                widget.show_crosshair = self.crosshair_action.isChecked()
                widget.show_overlays = self.state.show_overlays
                widget.active = index == self.state.active_index
            widget.hide()
            self.viewport_widgets.append(widget)
            if state.volume is not None:  # shown before its widget was made
                widget.refresh()

    @property
    def docks_built(self) -> bool:
        """True once the docks exist (see :meth:`build_docks`)."""
        return self._docks_built

    def build_docks(self) -> None:
        """Build the docks, their View and Annotate menu entries, and restore
        the saved window state (dock and tool-bar positions); once."""
        if self._docks_built:
            return
        self._docks_built = True
        from imaging_viewer.ui.widgets.lesions_panel import LesionsPanelWidget
        from imaging_viewer.ui.widgets.problems_panel import ProblemsPanelWidget
        from imaging_viewer.ui.widgets.series_browser import SeriesBrowserWidget
        from imaging_viewer.ui.widgets.tag_browser import TagBrowserWidget

        series_browser = self._series_browser = SeriesBrowserWidget(self)
        series_browser.thumbnails_go = self._no_loads
        series_browser.series_activated.connect(self._on_series_activated)
        series_dock = self._series_dock = self._dock(
            "Series", series_browser, QtCore.Qt.DockWidgetArea.LeftDockWidgetArea
        )
        problems = self._problems_panel = ProblemsPanelWidget(self)
        problems.series_activated.connect(self._on_series_activated)
        problems.file_activated.connect(self._on_problem_file_activated)
        problems_dock = self._problems_dock = self._dock(
            "Problems", problems, QtCore.Qt.DockWidgetArea.BottomDockWidgetArea
        )
        tag_browser = self._tag_browser = TagBrowserWidget(self)
        problems.count_changed.connect(
            lambda _count: problems_dock.setWindowTitle(problems.title())
        )
        tags_dock = self._tags_dock = self._dock(
            "DICOM tags", tag_browser, QtCore.Qt.DockWidgetArea.RightDockWidgetArea
        )
        tags_dock.hide()
        lesions = self._lesions_panel = LesionsPanelWidget(self.state.annotations, self)
        lesions.active_lesion_changed.connect(self._on_active_lesion)
        lesions.annotation_activated.connect(self.go_to_annotation)
        lesions_dock = self._lesions_dock = self._dock(
            "Lesions", lesions, QtCore.Qt.DockWidgetArea.RightDockWidgetArea
        )
        tags_dock.visibilityChanged.connect(self._on_tags_visibility)

        self._view_menu.addAction(series_dock.toggleViewAction())
        self._view_menu.addAction(problems_dock.toggleViewAction())
        tags = tags_dock.toggleViewAction()
        tags.setShortcut(QKeySequence("Ctrl+T"))
        tags.triggered.connect(self._on_tags_toggled)
        self._view_menu.addAction(tags)
        self._annotate_menu.insertAction(
            self._lesions_toggle_before, lesions_dock.toggleViewAction()
        )
        self.resizeDocks([series_dock], [340], QtCore.Qt.Orientation.Horizontal)
        self.resizeDocks([problems_dock], [160], QtCore.Qt.Orientation.Vertical)
        if self._remember:
            window_state = self._settings.value("window_state")
            if isinstance(window_state, QByteArray):
                self.restoreState(window_state)

    def _build_docks_when_idle(self) -> None:
        """Build the docks unless a first look is on its way, or deferred
        viewports are still to be made (either builds them after)."""
        if self._first_look_task is None and self._viewports_ready:
            self.build_docks()

    def _build_docks_after_paint(self) -> None:
        """Build the docks once the image just shown has been painted (after
        the deferred viewports, when they are)."""
        if not self._docks_built and self._viewports_ready:
            QTimer.singleShot(0, self.build_docks)

    def showEvent(self, event: QShowEvent) -> None:
        """On first showing, the docks follow as soon as nothing waits on them."""
        super().showEvent(event)
        if not self._docks_built:
            QTimer.singleShot(0, self._build_docks_when_idle)

    def _on_problem_file_activated(self, path: str) -> None:
        """Show the header of a skipped file, to see why it was skipped."""
        self.tags_dock.show()
        self.tag_browser.show_file(path)

    def _on_tags_visibility(self, visible: bool) -> None:
        if visible:
            self._update_tag_browser()

    def _on_tags_toggled(self, shown: bool) -> None:
        """Opened by the user (Ctrl+T, menu): typing goes to its search field;
        closed: back to the active viewport."""
        if shown:
            self.tag_browser.search_edit.setFocus()
            self.tag_browser.search_edit.selectAll()
        elif self.viewport_widgets:
            self.active_widget.setFocus()

    def _dock(
        self, title: str, widget: QWidget, area: QtCore.Qt.DockWidgetArea
    ) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{title.replace(' ', '_')}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        self.probe_label = QLabel("")
        self.probe_label.setMinimumWidth(420)
        status.addWidget(self.probe_label, 1)
        self.progress_label = QLabel("")
        status.addPermanentWidget(self.progress_label)
        self.progress_bar = QProgressBar()
        self.progress_bar.setMaximumWidth(220)
        self.progress_bar.hide()
        status.addPermanentWidget(self.progress_bar)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.hide()
        self.cancel_button.clicked.connect(self.cancel_loading)
        status.addPermanentWidget(self.cancel_button)

    def _action(
        self,
        text: str,
        slot: Any,
        shortcut: str | QKeySequence | QKeySequence.StandardKey | None = None,
        checkable: bool = False,
    ) -> QAction:
        # QAction(parent), then the text: resolving QAction(text, parent) among
        # its overloads builds QIcon's enums (about 2 ms) before the first paint.
        action = QAction(self)
        action.setText(text)
        if shortcut is not None:
            # setShortcuts, not setShortcut: resolving setShortcut's overloads
            # builds every enum of the Qt namespace, before the first paint.
            action.setShortcuts([QKeySequence(shortcut)])
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addAction(
            self._action("Open &folder…", self._on_open_folder, "Ctrl+O")
        )
        file_menu.addAction(
            self._action("Open f&ile…", self._on_open_file, "Ctrl+Shift+O")
        )
        file_menu.addAction(
            self._action("Open &DICOMDIR…", self._on_open_dicomdir, "Ctrl+D")
        )
        self.recent_menu = file_menu.addMenu("&Recent studies")
        file_menu.addSeparator()
        self.export_action = self._action(
            "&Export view…", lambda: self.export_view(overlays=True), "Ctrl+E"
        )
        file_menu.addAction(self.export_action)
        file_menu.addAction(
            self._action(
                "Export image without overlays…",
                lambda: self.export_view(overlays=False),
                "Ctrl+Shift+E",
            )
        )
        file_menu.addAction(
            self._action(
                "Export view without patient data…",
                lambda: self.export_view(overlays=True, include_patient=False),
                "Ctrl+Alt+E",
            )
        )
        file_menu.addAction(
            self._action("&Copy view", self.copy_view, QKeySequence.StandardKey.Copy)
        )
        file_menu.addSeparator()
        file_menu.addAction(
            self._action("&Quit", self.close, QKeySequence.StandardKey.Quit)
        )

        view_menu = menu.addMenu("&View")
        toolbar = QToolBar("Tools", self)
        toolbar.setObjectName("toolbar_tools")
        self.addToolBar(toolbar)
        layout_group = QActionGroup(self)
        self.layout_actions: dict[str, QAction] = {}
        for n, name in enumerate((name for name in LAYOUTS if name != "mpr"), start=1):
            rows, columns = LAYOUTS[name]
            action = self._action(
                f"Layout {rows}×{columns}",
                lambda _=False, name=name: self.set_layout(name),
                f"Ctrl+{n}",
                checkable=True,
            )
            layout_group.addAction(action)
            view_menu.addAction(action)
            toolbar.addAction(action)
            self.layout_actions[name] = action
        toolbar.addSeparator()
        tool_group = QActionGroup(self)
        self.tool_actions: dict[str, QAction] = {}
        for name, text in (
            ("window", "W/L"),
            ("pan", "Pan"),
            ("zoom", "Zoom"),
            ("crosshair", "Crosshair"),
        ):
            action = self._action(
                text,
                lambda _=False, name=name: self.set_left_tool(name),
                checkable=True,
            )
            action.setToolTip(f"Left-drag: {text}")
            tool_group.addAction(action)
            toolbar.addAction(action)
            self.tool_actions[name] = action
        self.tool_actions["window"].setChecked(True)
        toolbar.addSeparator()
        self.mpr_action = self._action("MPR", self.toggle_mpr, "M", checkable=True)
        self.mpr_action.setToolTip(
            "Axial, coronal and sagittal views with a 3D cursor (M)"
        )
        toolbar.addAction(self.mpr_action)
        view_menu.addAction(self.mpr_action)
        reset_planes = self._action("Reset planes", self._on_reset_planes, "Ctrl+R")
        view_menu.addAction(reset_planes)
        toolbar.addAction(reset_planes)
        self.crosshair_action = self._action(
            "Crosshair lines", self._on_crosshair_toggled, checkable=True
        )
        self.crosshair_action.setChecked(True)
        view_menu.addAction(self.crosshair_action)
        toolbar.addWidget(QLabel(" Slab "))
        self.slab_spin = QDoubleSpinBox()
        self.slab_spin.setRange(0.0, 300.0)
        self.slab_spin.setSingleStep(1.0)
        self.slab_spin.setSuffix(" mm")
        self.slab_spin.setToolTip("Thick-slab thickness in the active view (0: thin)")
        self.slab_spin.valueChanged.connect(self._on_slab_changed)
        toolbar.addWidget(self.slab_spin)
        self.slab_mode_box = QComboBox()
        for label, mode in (("MIP", "mip"), ("MinIP", "minip"), ("Mean", "mean")):
            self.slab_mode_box.addItem(label, mode)
        self.slab_mode_box.currentIndexChanged.connect(self._on_slab_changed)
        toolbar.addWidget(self.slab_mode_box)
        toolbar.addSeparator()
        self.link_action = self._action(
            "Link", self._on_link_toggled, "L", checkable=True
        )
        self.link_action.setChecked(self.state.link_scrolling)
        self.link_action.setToolTip(
            "Scroll viewports of the same frame of reference together"
        )
        toolbar.addAction(self.link_action)
        view_menu.addAction(self.link_action)
        self.overlays_action = self._action(
            "Overlays", self._on_overlays_toggled, checkable=True
        )
        self.overlays_action.setChecked(True)
        toolbar.addAction(self.overlays_action)
        view_menu.addAction(self.overlays_action)
        view_menu.addSeparator()
        self._view_menu = view_menu  # the docks' toggles follow (build_docks)
        toolbar.addSeparator()
        for text, slot in (
            ("Fit", lambda: self.active_widget.fit()),
            ("1:1", lambda: self.active_widget.actual_size()),
            ("Invert", lambda: self._toggle("invert")),
            ("Flip H", lambda: self._toggle("flip_horizontal")),
            ("Flip V", lambda: self._toggle("flip_vertical")),
            ("Rotate", self._rotate),
            ("Cine", lambda: self.active_widget.toggle_cine()),
        ):
            toolbar.addAction(self._action(text, slot))

        window_menu = menu.addMenu("&Window")
        window_menu.addAction(
            self._action(
                "Header window (next)", lambda: self.state.active.cycle_header_window()
            )
        )
        window_menu.addAction(
            self._action("Auto window", lambda: self.state.active.apply_auto_window())
        )
        window_menu.addAction(
            self._action("Reset window", lambda: self.state.active.reset_window())
        )
        window_menu.addSeparator()
        for n, name in enumerate(CT_PRESETS, start=1):
            preset = CT_PRESETS[name]
            window_menu.addAction(
                self._action(
                    f"CT {name} ({preset.width:g}/{preset.center:g})  [{n}]",
                    lambda _=False, name=name: self.state.active.apply_preset(name),
                )
            )
        window_menu.addSeparator()
        self.custom_presets_menu = window_menu.addMenu("Custom presets")
        window_menu.addAction(
            self._action("Save current window as preset…", self._on_save_preset)
        )

        annotate_menu = menu.addMenu("&Annotate")
        annotate_bar = QToolBar("Annotate", self)
        annotate_bar.setObjectName("toolbar_annotate")
        self.addToolBar(annotate_bar)  # the top area
        for name, text, key in ANNOTATION_TOOLS:
            action = self._action(
                text, lambda _=False, name=name: self.set_left_tool(name), key, True
            )
            action.setToolTip(f"{text} ({key})")
            tool_group.addAction(action)
            annotate_bar.addAction(action)
            annotate_menu.addAction(action)
            self.tool_actions[name] = action
        annotate_menu.addSeparator()
        self.undo_action = self._action(
            "Undo", lambda: self.state.annotations.undo(), QKeySequence.StandardKey.Undo
        )
        self.redo_action = self._action(
            "Redo", lambda: self.state.annotations.redo(), QKeySequence.StandardKey.Redo
        )
        delete = self._action(
            "Delete selected annotation",
            self._delete_selected,
            QKeySequence.StandardKey.Delete,
        )
        for action in (self.undo_action, self.redo_action, delete):
            annotate_menu.addAction(action)
        annotate_bar.addAction(self.undo_action)
        annotate_bar.addAction(self.redo_action)
        for bar in (toolbar, annotate_bar):
            set_toolbar_icons(bar)
        annotate_menu.addSeparator()
        self._annotate_menu = annotate_menu  # the lesions toggle goes in (build_docks)
        file_menu.insertAction(
            self.export_action,
            self._action("Save annotations as…", self._on_save_annotations, "Ctrl+S"),
        )
        file_menu.insertAction(
            self.export_action,
            self._action("Open annotations…", self._on_open_annotations),
        )
        teach = self._action(
            "Export teaching case…", self.export_teaching, "Ctrl+Shift+T"
        )
        teach.setToolTip(
            "De-identified case folder: annotated and clean PNGs, DICOM key images, "
            "SR, presentation state and a case sheet"
        )
        annotate_menu.addAction(teach)
        self._lesions_toggle_before = teach
        file_menu.insertAction(self.export_action, teach)
        dicom_out = self._action(
            "Export annotations as DICOM SR and presentation state…", self.export_dicom
        )
        dicom_in = self._action(
            "Import DICOM SR or presentation state…", self.import_report
        )
        for action in (dicom_out, dicom_in):
            annotate_menu.addAction(action)
            file_menu.insertAction(self.export_action, action)

        help_menu = menu.addMenu("&Help")
        help_menu.addAction(
            self._action("Keyboard and mouse", self.show_shortcuts, "F1")
        )
        help_menu.addAction(self._action("About", self._on_about))
        self._action("Cancel", self._on_escape, "Escape")

    # ------------------------------------------------------------------ state
    @property
    def active_widget(self) -> SliceViewportWidget:
        """The viewport that menus and keys act on (made now if deferred)."""
        self._make_viewports()
        return self.viewport_widgets[self.state.active_index]

    def set_layout(self, name: str) -> None:
        """Show 1×1, 1×2, 2×1 or 2×2 viewports (or ``mpr``)."""
        if name == "mpr":
            self.toggle_mpr(True)
            return
        if self.state.layout == "mpr":
            self.state.exit_mpr()
        self.state.layout = name

    def toggle_mpr(self, checked: bool | None = None) -> None:
        """Enter (or leave) MPR on the active viewport's volume."""
        entering = self.state.layout != "mpr" if checked is None else bool(checked)
        if entering:
            if self.state.enter_mpr(self.state.active_index):
                self.set_left_tool("crosshair")
            else:
                self.statusBar().showMessage(
                    "MPR needs a volume of several slices in the active viewport", 5000
                )
        elif self.state.layout == "mpr":
            self.state.exit_mpr()
            self.set_left_tool("window")
        self.mpr_action.setChecked(self.state.layout == "mpr")

    def _mpr_siblings(self, index: int) -> list[tuple[Any, QColor]]:
        state = self.state.viewports[index]
        if not state.is_mpr:
            return []
        return [
            (other, MPR_COLOURS[n])
            for n, other in enumerate(self.state.viewports[:3])
            if n != index and other.is_mpr and other.volume is state.volume
        ]

    def _repaint_mpr_siblings(self, index: int) -> None:
        """Repaint the views that draw viewport ``index``'s plane line."""
        siblings = [state for state, _ in self._mpr_siblings(index)]
        for widget in self.viewport_widgets:
            if any(widget.state is state for state in siblings):
                widget.viewport().update()

    def _on_cursor_moved(self, index: int, point: Any) -> None:
        self.state.set_cursor(point, index)
        self.state.sync_linked(index)

    def _on_escape(self) -> None:
        for widget in self.viewport_widgets:
            widget.cancel_tool()
        self.cancel_loading()

    def _ask_label_text(self) -> str | None:
        text, ok = QtWidgets.QInputDialog.getText(self, "Text label", "Text:")
        return text.strip() if ok and text.strip() else None

    def _on_active_lesion(self, lesion_id: object) -> None:
        self.state.active_lesion_id = lesion_id if isinstance(lesion_id, str) else None

    def _delete_selected(self) -> None:
        selected = self.state.annotations.selected_id
        if selected is not None:
            self.state.annotations.remove_annotation(selected)
            self.state.annotations.select(None)
        else:
            self.lesions_panel.delete_selected()

    def go_to_annotation(self, annotation_id: str) -> None:
        """Show the active viewport at the annotation (slice or MPR cursor)."""
        annotation = self.state.annotations.annotation(annotation_id)
        point = np.asarray(annotation.points_lps.mean(axis=0))
        viewport = self.state.active
        if viewport.volume is None:
            return
        if viewport.is_mpr:
            self.state.set_cursor(point, self.state.active_index)
        else:
            target = nearest_slice(viewport.volume, point)
            if target is not None:
                viewport.set_slice(target)
        self.state.annotations.select(annotation_id)
        self.state.sync_linked(self.state.active_index)

    # ------------------------------------------------------------------ annotations
    def _study_frames(self) -> tuple[str, list[str]]:
        result = self.scan_result
        viewport = self.state.viewports[0]
        series = viewport.series or (
            result.series[0] if result and result.series else None
        )
        if series is None or result is None:
            return "", []
        frames = sorted(
            {
                s.frame_of_reference_uid
                for s in result.series
                if s.study_uid == series.study_uid
            }
            - {""}
        )
        return series.study_uid, frames

    def _start_annotations(self) -> None:
        """Reload the study's autosaved annotations and keep saving them."""
        from imaging_viewer.core.annotations.serialize import (
            AnnotationFileError,
            Autosaver,
            load,
            sidecar_path,
        )

        if self._autosaver is not None:
            self._autosaver.close()
            self._autosaver = None
        annotations = self.state.annotations
        annotations.clear()
        annotations.clear_history()
        study_uid, frames = self._study_frames()
        self._annotation_study_uid = study_uid
        if not study_uid:
            return
        path = sidecar_path(study_uid)
        if path.exists():
            try:
                loaded = load(path, study_uid)
            except AnnotationFileError as error:
                self.problems_panel.add_problem("error", str(path), str(error))
            else:
                with annotations.macro("load annotations"):
                    for lesion in loaded.lesions:
                        annotations.add_lesion(lesion)
                annotations.clear_history()
        if self._remember:
            self._autosaver = Autosaver(delay_s=2.0)
            self._autosaver.watch(annotations, study_uid, frames)

    def _on_save_annotations(self) -> None:
        from imaging_viewer.core.annotations.serialize import save_atomic, to_json

        study_uid, frames = self._study_frames()
        if not study_uid:
            return
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, "Save annotations", "annotations.json", "Annotations (*.json)"
        )
        if path:
            try:
                save_atomic(path, to_json(self.state.annotations, study_uid, frames))
            except OSError as error:
                QtWidgets.QMessageBox.warning(self, "Save failed", f"{path}: {error}")
                return
            self.statusBar().showMessage(f"Saved {path}", 5000)

    def _on_open_annotations(self) -> None:
        from imaging_viewer.core.annotations.serialize import AnnotationFileError, load

        study_uid, _ = self._study_frames()
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Open annotations", "", "Annotations (*.json)"
        )
        if not path:
            return
        try:
            loaded = load(path, study_uid)
        except (AnnotationFileError, OSError) as error:
            QtWidgets.QMessageBox.warning(self, "Cannot open annotations", str(error))
            return
        annotations = self.state.annotations
        with annotations.macro("open annotations"):
            annotations.clear()
            for lesion in loaded.lesions:
                annotations.add_lesion(lesion)

    def export_teaching(self) -> None:
        """Ask for the case text and a folder, then write the de-identified case."""
        from imaging_viewer.core.teaching import TeachingCase
        from imaging_viewer.ui.teaching_export import (
            TeachingExportError,
            export_teaching_case,
        )

        if self.scan_result is None or not self.state.annotations.lesions:
            QtWidgets.QMessageBox.information(
                self, "Teaching case", "Mark at least one lesion first (Annotate menu)."
            )
            return
        dialog = QtWidgets.QDialog(self)
        dialog.setWindowTitle("Teaching case")
        form = QtWidgets.QFormLayout(dialog)
        fields: dict[str, QtWidgets.QLineEdit | QtWidgets.QPlainTextEdit] = {}
        for name in ("title", "history", "findings", "diagnosis", "discussion"):
            editor: QtWidgets.QLineEdit | QtWidgets.QPlainTextEdit
            editor = (
                QtWidgets.QLineEdit()
                if name in ("title", "diagnosis")
                else QtWidgets.QPlainTextEdit()
            )
            form.addRow(name.capitalize(), editor)
            fields[name] = editor
        note = QLabel(
            "Exported images and files carry no patient data (PS3.15 Basic Profile); "
            "do not type any here."
        )
        note.setWordWrap(True)
        form.addRow(note)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(dialog.accept)
        buttons.rejected.connect(dialog.reject)
        form.addRow(buttons)
        if dialog.exec() != QtWidgets.QDialog.DialogCode.Accepted:
            return
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "Folder for the case")
        if not folder:
            return
        values = {
            name: (
                e.text() if isinstance(e, QtWidgets.QLineEdit) else e.toPlainText()
            ).strip()
            for name, e in fields.items()
        }
        case = TeachingCase(
            title=values["title"],
            history=values["history"],
            findings=values["findings"],
            diagnosis=values["diagnosis"],
            discussion=values["discussion"],
        )
        out_dir = Path(folder) / (_safe_name(values["title"]) or "teaching_case")
        window = self.state.active.editable_window()
        try:
            result = export_teaching_case(
                self.scan_result, self.state.annotations, case, out_dir, window=window
            )
        except (TeachingExportError, OSError) as error:
            QtWidgets.QMessageBox.warning(self, "Teaching case not written", str(error))
            return
        for warning in result.warnings:
            self.problems_panel.add_problem("warning", "teaching case", warning)
        self.statusBar().showMessage(
            f"Wrote {len(result.files)} files to {result.folder}", 10000
        )

    def export_dicom(self) -> None:
        """Write the lesions as a TID 1500 SR and a GSPS beside their key images
        (not de-identified: for PACS and other viewers, not for teaching)."""
        from imaging_viewer.core.teaching import TeachingCase
        from imaging_viewer.ui.teaching_export import (
            TeachingExportError,
            export_teaching_case,
        )

        if self.scan_result is None or not self.state.annotations.lesions:
            QtWidgets.QMessageBox.information(
                self, "DICOM export", "There are no lesions yet."
            )
            return
        folder = QtWidgets.QFileDialog.getExistingDirectory(
            self, "Folder for the DICOM files"
        )
        if not folder:
            return
        try:
            result = export_teaching_case(
                self.scan_result,
                self.state.annotations,
                TeachingCase(title="annotations"),
                Path(folder) / "annotations_dicom",
                deidentify=False,
                window=self.state.active.editable_window(),
            )
        except (TeachingExportError, OSError) as error:
            QtWidgets.QMessageBox.warning(self, "DICOM export failed", str(error))
            return
        for warning in result.warnings:
            self.problems_panel.add_problem("warning", "DICOM export", warning)
        self.statusBar().showMessage(
            f"Wrote {result.structured_report} and {result.presentation_state}", 10000
        )

    def import_report(self) -> None:
        """Ask for a DICOM SR or presentation state and add its lesions."""
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Import a DICOM SR or presentation state"
        )
        if path:
            self.import_dicom_annotations(path)

    def import_dicom_annotations(self, path: str) -> bool:
        """Add the lesions of a TID 1500 measurement report or of a Grayscale
        Softcopy Presentation State (drawn on images of the open study)."""
        import pydicom
        import pydicom.errors

        from imaging_viewer.core.dicom.presentation_state import (
            presentation_state_onto,
        )
        from imaging_viewer.core.dicom.structured_report import (
            import_measurement_report,
        )

        try:
            dataset = pydicom.dcmread(path)
        except (OSError, pydicom.errors.InvalidDicomError) as error:
            QtWidgets.QMessageBox.warning(
                self, "Cannot import", f"{path}: not a readable DICOM file ({error})"
            )
            return False
        sop_class = str(dataset.get("SOPClassUID", ""))
        try:
            if sop_class == pydicom.uid.GrayscaleSoftcopyPresentationStateStorage:
                series = self.scan_result.series if self.scan_result else []
                imported = presentation_state_onto(dataset, series)
            else:
                imported = import_measurement_report(dataset)
        except ValueError as error:
            QtWidgets.QMessageBox.warning(self, "Cannot import", f"{path}: {error}")
            return False
        annotations = self.state.annotations
        with annotations.macro(f"import {Path(path).name}"):
            for lesion in imported.annotation_set.lesions:
                if annotations.has_lesion(lesion.id):
                    annotations.remove_lesion(lesion.id)  # the file's version wins
                annotations.add_lesion(lesion)
        for warning in imported.warnings:
            self.problems_panel.add_problem("warning", path, warning)
        count = len(imported.annotation_set.lesions)
        self.statusBar().showMessage(
            f"Imported {count} lesion{'s' if count != 1 else ''} from {path}", 10000
        )
        return True

    def _on_reset_planes(self) -> None:
        self.state.reset_planes()

    def _on_crosshair_toggled(self, checked: bool) -> None:
        for widget in self.viewport_widgets:
            widget.show_crosshair = bool(checked)
            widget.viewport().update()

    def _on_slab_changed(self, *_: object) -> None:
        state = self.state.active
        state.slab_mm = float(self.slab_spin.value())
        state.slab_mode = str(self.slab_mode_box.currentData())

    def set_left_tool(self, name: str) -> None:
        """What left-drag does: window, pan or zoom."""
        for widget in self.viewport_widgets:
            widget.left_tool = name
        self.tool_actions[name].setChecked(True)

    def _toggle(self, name: str) -> None:
        state = self.state.active
        setattr(state, name, not getattr(state, name))

    def _rotate(self) -> None:
        state = self.state.active
        state.rotation_quarters = (state.rotation_quarters + 1) % 4

    def _on_layout_changed(self, *_: object) -> None:
        rows, columns = self.state.grid
        self._add_viewports(rows * columns)
        for n in range(4):
            # Equal cells whatever each viewport's size hint.
            self._grid.setColumnStretch(n, 1 if n < columns else 0)
            self._grid.setRowStretch(n, 1 if n < rows else 0)
        for index, widget in enumerate(self.viewport_widgets):
            self._grid.removeWidget(widget)
            if index < rows * columns:
                self._grid.addWidget(widget, index // columns, index % columns)
                widget.show()
            else:
                widget.hide()
        if self.state.active_index >= rows * columns:
            self.state.active_index = 0
        if self.state.layout in self.layout_actions:
            self.layout_actions[self.state.layout].setChecked(True)
        mpr = self.state.layout == "mpr"
        self.mpr_action.setChecked(mpr)
        if not mpr:
            self._fill_empty_viewports()

    def _fill_empty_viewports(self) -> None:
        """Newly shown viewports get the next series not shown yet."""
        if self.scan_result is None:
            return
        shown = {v.series.id for v in self.state.viewports if v.series is not None}
        unshown = [s for s in self.scan_result.series if s.id not in shown]
        for index in range(self.state.visible_count):
            if self.state.viewports[index].series is None and unshown:
                self.show_series(unshown.pop(0).id, index)

    def _on_active_changed(self, *_: object) -> None:
        for index, widget in enumerate(self.viewport_widgets):
            widget.active = index == self.state.active_index
            widget.viewport().update()
        active = self.state.active
        for control in (self.slab_spin, self.slab_mode_box):
            control.blockSignals(True)
        self.slab_spin.setValue(active.slab_mm)
        self.slab_mode_box.setCurrentIndex(
            max(0, self.slab_mode_box.findData(active.slab_mode))
        )
        for control in (self.slab_spin, self.slab_mode_box):
            control.blockSignals(False)
        self._update_tag_browser()

    def _on_viewport_activated(self, index: int) -> None:
        self.state.active_index = index

    def _on_slice_scrolled(self, index: int) -> None:
        self.state.sync_linked(index)

    def _on_link_toggled(self, checked: bool) -> None:
        self.state.link_scrolling = bool(checked)
        if checked:
            self.state.sync_linked(self.state.active_index)

    def _on_overlays_toggled(self, checked: bool) -> None:
        self.state.show_overlays = bool(checked)

    def _on_overlays_changed(self, *_: object) -> None:
        for widget in self.viewport_widgets:
            widget.show_overlays = self.state.show_overlays
            widget.viewport().update()

    def _on_probed(self, text: str) -> None:
        self.probe_label.setText(text)

    # ------------------------------------------------------------------ opening
    def open_dialog_folder(self) -> Path:
        """Where the open dialogs start: beside the study opened last (its
        folder's parent, or a file's folder), else the home folder."""
        for entry in self._recent():
            path = Path(entry)
            start = path.parent
            if start.is_dir() and path.exists():
                return start
        return Path.home()

    def _on_open_folder(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(
            self, "Open a folder of DICOM files", str(self.open_dialog_folder())
        )
        if folder:
            self.open_path(Path(folder))

    def _on_open_file(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Open a DICOM file", str(self.open_dialog_folder())
        )
        if path:
            self.open_path(Path(path))

    def _on_open_dicomdir(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self,
            "Open a DICOMDIR",
            str(self.open_dialog_folder()),
            "DICOMDIR (DICOMDIR dicomdir DIRFILE);;All files (*)",
        )
        if path:
            self.open_path(Path(path))

    def open_path(
        self,
        path: Path,
        series_selector: str | None = None,
        prefetched: Prefetch | None = None,
    ) -> None:
        """Scan ``path`` (folder, file or DICOMDIR) in the background and show it.

        A folder gets a first look: one of its images (from the middle of the
        first folder that holds images) is read and shown before the scan of
        the whole folder starts. When the scan shows that image's series first,
        the image stays until the series has loaded, which then opens on it
        (other series open on their middle slice). ``prefetched``: that image,
        read ahead (``first_look.prefetch``).
        """
        self.cancel_loading()
        self._pending_selector = series_selector
        self._current_path = path
        self._first_look = None
        self._show_progress(f"Scanning {path.name or path}…", 0, 0)
        if prefetched is not None and (
            prefetched.path != path or series_selector is not None
        ):
            prefetched = None
        if prefetched is None:
            self._make_viewports()  # nothing read ahead to show before them
        candidate = first_look_file(path) if series_selector is None else None
        if prefetched is not None:
            candidate = prefetched.candidate
        if candidate is None:
            self._start_scan(path)
            return

        def look(progress: object, cancel: Any) -> tuple[SeriesInfo, Volume] | None:
            if prefetched is not None:
                return prefetched.result.result()
            return look_at(candidate, cancel)

        def shown(result: tuple[SeriesInfo, Volume] | None) -> None:
            self._first_look_task = None
            viewport = self.state.viewports[0]
            if result is not None and not viewport.is_mpr:
                viewport.show(*result)
                self._first_look = candidate
                self._note_first_image()
            view = self._first_look_view
            if view is not None:
                view.show_state(viewport)
                if view.has_image:
                    # Made after its first paint; or soon if it is never painted.
                    # The scan then starts too: it would hold the GIL meanwhile.
                    self._scan_after_first_paint = path
                    QTimer.singleShot(_FIRST_LOOK_PATIENCE_MS, self._make_viewports)
                    return
                self._make_viewports()
            self._start_scan(path)
            self._build_docks_after_paint()

        def failed(message: str) -> None:
            self._first_look_task = None
            self._make_viewports()
            self._build_docks_after_paint()
            if message != "cancelled":
                self._start_scan(path)

        ready = prefetched.result if prefetched is not None else None
        if ready is not None and ready.done() and ready.exception() is None:
            shown(ready.result())  # read ahead already: no round trip via a thread
            return
        self._first_look_task = run_in_background(look, on_done=shown, on_failed=failed)

    def _start_scan(self, path: Path) -> None:
        from imaging_viewer.core.dicom.scan import scan_folder

        self._scan_task = run_in_background(
            lambda progress, cancel: scan_folder(path, progress, cancel),
            on_done=self._on_scanned,
            on_failed=lambda message: self._on_task_failed(f"Scanning {path}", message),
            on_progress=lambda done, total: self._show_progress(
                f"Scanning {path.name or path}…", done, total
            ),
        )

    def _on_scanned(self, result: ScanResult) -> None:
        self._scan_task = None
        self._hide_progress()
        self.scan_result = result
        self._series_by_id = {s.id: s for s in result.series}
        self._volumes.clear()
        for index, viewport in enumerate(self.state.viewports):
            if index == 0 and self._first_look is not None:
                continue  # stays on screen until its series takes its place
            viewport.series = None
            viewport.volume = None
        self.series_browser.set_scan_result(result)
        self.problems_panel.set_scan_result(result)
        self._start_annotations()
        self._add_recent(Path(result.root))
        self.setWindowTitle(f"imaging_viewer — {Path(result.root).name}")
        if not result.series:
            self.statusBar().showMessage(
                f"No DICOM images found in {result.root}", 10000
            )
            return
        first = _main_series(result.series)
        if self._pending_selector is not None:
            try:
                first = result.find_series(self._pending_selector)
            except LookupError as error:
                self.problems_panel.add_problem("error", "--series", str(error))
        order = [first] + [s for s in result.series if s.id != first.id]
        for index in range(self.state.visible_count):
            if index < len(order):
                self.show_series(order[index].id, index)
        self.state.active_index = 0
        if self._first_look is not None:
            # Its series was not chosen for the first viewport: show that one.
            self._first_look = None
            viewport = self.state.viewports[0]
            if viewport.volume is not None and not viewport.loading:
                viewport.series = None
                viewport.volume = None

    def _on_series_activated(self, series_id: str) -> None:
        """A series opened from the browser or the problems panel: shown in the
        active viewport, which takes the keyboard (scroll, presets) from the
        list."""
        self.show_series(series_id, self.state.active_index)
        self.active_widget.setFocus()

    def show_series(self, series_id: str, index: int) -> None:
        """Show a series of the scan in viewport ``index`` (loads it if needed)."""
        series = self._series_by_id.get(series_id)
        if series is None:
            return
        viewport = self.state.viewports[index]
        previous = self._load_tasks.pop(index, None)
        if previous is not None:
            previous.cancel()
            self._loads_changed()
        cached = self._volumes.get(series_id)
        if cached is not None:
            viewport.loading = False
            viewport.show(series, cached)
            self._note_first_image()
            return
        start = self._first_look_slice(series, index)
        if start is not None:
            # The first look shows this slice already: keep it until the
            # whole series is loaded, then stay on it.
            viewport.loading = True
            viewport.series = series
            self._load_full(series, index, start)
            return
        viewport.series = series
        viewport.volume = None
        viewport.loading = True
        self._load_preview(series, index)
        self._load_full(series, index)

    def _first_look_slice(self, series: SeriesInfo, index: int) -> int | None:
        """The slice of ``series`` the first look shows (None: it shows none).

        The series then opens on that slice rather than its middle: the image
        on screen stays put. The first look is the middle file by name, which
        need not be the middle slice by position.
        """
        path, self._first_look = self._first_look, None
        viewport = self.state.viewports[index]
        if path is None or index != 0 or viewport.volume is None:
            return None
        if series.geometry is not None and series.geometry.resample is not None:
            return None
        if series.n_time_points != 1:
            return None
        absolute = os.path.abspath(path)
        frames = series.frames[0]
        shown = [
            k
            for k, frame in enumerate(frames)
            if frame.path == path or os.path.abspath(frame.path) == absolute
        ]
        if len(shown) == 1:
            return shown[0]  # a single-frame file
        if len(shown) == len(frames) == viewport.volume.shape_kji[0]:
            return viewport.slice_index  # the series is that multi-frame file
        return None

    def _load_preview(self, series: SeriesInfo, index: int) -> None:
        """Decode the middle image alone first, so something shows at once."""
        from imaging_viewer.core.dicom.load import load_volume

        if series.geometry is not None and series.geometry.resample is not None:
            return
        if len(series.frames[0]) * series.n_time_points < 8:
            return
        middle = len(series.frames[0]) // 2
        single = dataclasses.replace(
            series,
            frames=((series.frames[0][middle],),),
            shape_kji=(1, series.acquired_rows, series.acquired_columns),
            ijk_to_lps=_shift_to_slice(series, middle),
            geometry=None,
        )

        def shown(volume: Volume) -> None:
            viewport = self.state.viewports[index]
            if (
                viewport.loading
                and viewport.series is not None
                and viewport.series.id == series.id
            ):
                viewport.show(series, volume)
                self._note_first_image()

        run_in_background(
            lambda progress, cancel: load_volume(single, None, cancel), on_done=shown
        )

    def _load_full(
        self, series: SeriesInfo, index: int, start: int | None = None
    ) -> None:
        from imaging_viewer.core.dicom.load import load_volume

        label = f"Loading {series.modality} {series.description or series.id}"
        self._show_progress(label, 0, 0)

        def done(volume: Volume) -> None:
            self._load_tasks.pop(index, None)
            self._loads_changed()
            self._volumes[series.id] = volume
            viewport = self.state.viewports[index]
            if viewport.series is None or viewport.series.id != series.id:
                return
            had_preview = viewport.volume is not None
            viewport.loading = False
            viewport.show(series, volume)
            if had_preview:
                viewport.set_slice(volume.shape_kji[0] // 2 if start is None else start)
            for warning in volume.warnings:
                if warning not in series.warnings:
                    self.problems_panel.add_problem("warning", series.id, warning)
            self._note_first_image()
            if self.mpr_when_loaded and index == 0:
                self.mpr_when_loaded = False
                self.toggle_mpr(True)
            if not self._load_tasks and self._scan_task is None:
                self._hide_progress()
            self.state.sync_linked(self.state.active_index)

        def failed(message: str) -> None:
            self._load_tasks.pop(index, None)
            self._loads_changed()
            self.state.viewports[index].loading = False
            self._on_task_failed(f"Loading series {series.id}", message)

        self._load_tasks[index] = run_in_background(
            lambda progress, cancel: load_volume(
                series, progress, cancel, resample_ready=True
            ),
            on_done=done,
            on_failed=failed,
            on_progress=lambda done_count, total: self._show_progress(
                label, done_count, total
            ),
        )
        self._loads_changed()

    def _loads_changed(self) -> None:
        """Hold the thumbnails while a shown series loads; release them after."""
        if self._load_tasks:
            self._no_loads.clear()
        else:
            self._no_loads.set()

    def _note_first_image(self) -> None:
        if self.first_image_shown_at is None:
            self.first_image_shown_at = time.perf_counter()

    def cancel_loading(self) -> None:
        """Stop the scan and loads under way."""
        self._scan_after_first_paint = None
        if self._first_look_task is not None:
            self._first_look_task.cancel()
            self._first_look_task = None
        if self._scan_task is not None:
            self._scan_task.cancel()
            self._scan_task = None
        for task in self._load_tasks.values():
            task.cancel()
        self._load_tasks.clear()
        self._loads_changed()
        for viewport in self.state.viewports:
            viewport.loading = False
        self._hide_progress()

    @property
    def is_busy(self) -> bool:
        """True while a scan or load runs."""
        return (
            self._scan_task is not None
            or self._first_look_task is not None
            or bool(self._load_tasks)
        )

    def _on_task_failed(self, what: str, message: str) -> None:
        self._scan_task = None if what.startswith("Scanning") else self._scan_task
        if not self.is_busy:
            self._hide_progress()
        if message == "cancelled":
            self.statusBar().showMessage(f"{what}: cancelled", 5000)
            return
        self.problems_panel.add_problem("error", what, message)
        self.statusBar().showMessage(f"{what} failed: {message}", 10000)

    def _show_progress(self, text: str, done: int, total: int) -> None:
        self.progress_label.setText(text)
        self.progress_bar.setRange(0, total)
        self.progress_bar.setValue(done)
        self.progress_bar.show()
        self.cancel_button.show()

    def _hide_progress(self) -> None:
        self.progress_label.setText("")
        self.progress_bar.hide()
        self.cancel_button.hide()

    # ------------------------------------------------------------------ tags
    def _update_tag_browser(self) -> None:
        if not self._docks_built or not self.tags_dock.isVisible():
            return
        viewport = self.state.active
        series = viewport.series
        if series is None:
            return
        frames = series.frames[min(viewport.time_index, len(series.frames) - 1)]
        k = viewport.slice_index
        if viewport.is_mpr and viewport.volume is not None and viewport.cursor_lps:
            k = nearest_slice(viewport.volume, np.asarray(viewport.cursor_lps)) or 0
        geometry = series.geometry
        if geometry is not None and geometry.resample is not None:
            plan = geometry.resample
            k = int(plan.below[k]) + (1 if plan.weight[k] >= 0.5 else 0)
        ref = frames[min(k, len(frames) - 1)]
        self.tag_browser.show_file(ref.path, ref.frame_index)

    # ------------------------------------------------------------------ export
    def view_image(self, overlays: bool, include_patient: bool = True) -> QImage:
        """The active viewport's slice as a QImage at native resolution, in
        square pixels as on screen; with ``overlays``, its corner text,
        letters, scale bar and the annotations it shows are burned in (without
        the patient's and study's identifying lines unless ``include_patient``)."""
        from imaging_viewer.ui.export import render_view_image

        # As on screen: square pixels, whatever the grid's spacing.
        image = render_view_image(
            self.state.active,
            overlays=overlays,
            include_patient=include_patient,
            correct_aspect=True,
        )
        if overlays:
            self.active_widget.burn_annotations(image)
        return image

    def export_file_name(self) -> str:
        """A name for the active view's PNG that says what it shows, without
        patient data: modality, series, plane and image, e.g.
        ``CT_Se201_Im22.png``, ``MR_Se4_coronal_Im128.png``."""
        viewport = self.state.active
        series = viewport.series
        parts = [series.modality.strip() if series and series.modality.strip() else ""]
        if series is not None and series.series_number is not None:
            parts.append(f"Se{series.series_number}")
        if viewport.is_mpr:
            parts.append(viewport.orientation)
        parts.append(f"Im{viewport.slice_index + 1}")
        if viewport.n_time_points > 1:
            parts.append(f"T{viewport.time_index + 1}")
        name = "_".join(part for part in parts if part) or "view"
        safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in name)
        return f"{safe}.png"

    def _export_folder(self) -> Path:
        """Where the last export went (remembered), else the home folder."""
        if self._last_export_folder is None and self._remember:
            stored = self._settings.value("export_folder")
            if isinstance(stored, str) and Path(stored).is_dir():
                self._last_export_folder = Path(stored)
        folder = self._last_export_folder
        return folder if folder is not None and folder.is_dir() else Path.home()

    def export_view(self, overlays: bool, include_patient: bool = True) -> None:
        """Save the active viewport's slice or plane: as PNG (what the view
        shows, native resolution), or as NIfTI, NRRD or MetaImage (its values
        in modality units with its place in patient space)."""
        from imaging_viewer.core.volume_io import VOLUME_SUFFIXES

        viewport = self.state.active
        if viewport.volume is None:
            return
        path, chosen = QtWidgets.QFileDialog.getSaveFileName(
            self,
            "Export the view",
            str(self._export_folder() / self.export_file_name()),
            ";;".join(EXPORT_FILTERS),
        )
        if not path:
            return
        target = Path(path)
        name = target.name.lower()
        if not name.endswith((".png", *VOLUME_SUFFIXES)):
            # No known suffix typed: the chosen type's.
            suffix = _FILTER_SUFFIXES.get(chosen, ".png")
            target = target.with_name(target.name + suffix)
        self._last_export_folder = target.parent
        if self._remember:
            self._settings.setValue("export_folder", str(self._last_export_folder))
        try:
            if target.name.lower().endswith(VOLUME_SUFFIXES):
                self._write_plane(target)
            else:
                from imaging_viewer.ui.export import save_png

                save_png(self.view_image(overlays, include_patient), target)
        except (OSError, ValueError) as error:
            QtWidgets.QMessageBox.warning(self, "Export failed", f"{target}: {error}")
            return
        self.statusBar().showMessage(f"Saved {target}", 5000)

    def _write_plane(self, target: Path) -> None:
        from imaging_viewer.core.volume_io import write_plane

        current = self.state.active.current_slice()
        if current is None:
            raise ValueError("the viewport shows no image")
        if current.pixels.ndim != 2:
            raise ValueError("colour images are exported as PNG only")
        write_plane(current, target)

    def copy_view(self) -> None:
        """Copy the active viewport's image (with overlays) to the clipboard."""
        from imaging_viewer.ui.export import copy_to_clipboard

        if self.state.active.volume is not None:
            copy_to_clipboard(self.view_image(self.state.show_overlays))
            self.statusBar().showMessage("Copied the view", 3000)

    # ------------------------------------------------------------------ presets
    def _on_save_preset(self) -> None:
        window = self.state.active.editable_window()
        if window is None:
            return
        name, ok = QtWidgets.QInputDialog.getText(self, "Save window preset", "Name:")
        if ok and name.strip():
            presets = self._custom_presets()
            presets[name.strip()] = (window.center, window.width)
            self._settings.setValue(
                "presets", [[k, c, w] for k, (c, w) in presets.items()]
            )
            self._rebuild_custom_presets()

    def _custom_presets(self) -> dict[str, tuple[float, float]]:
        stored = self._settings.value("presets", []) or []
        presets: dict[str, tuple[float, float]] = {}
        for entry in stored if isinstance(stored, list) else []:
            try:
                name, center, width = entry
                presets[str(name)] = (float(center), float(width))
            except (TypeError, ValueError):
                continue
        return presets

    def _rebuild_custom_presets(self) -> None:
        self.custom_presets_menu.clear()
        for name, (center, width) in self._custom_presets().items():
            action = QAction(f"{name} ({width:g}/{center:g})", self)
            action.triggered.connect(
                lambda _=False, name=name, center=center, width=width: (
                    self.state.active.set_window(
                        Window(center, width, name), f"preset {name}"
                    )
                )
            )
            self.custom_presets_menu.addAction(action)

    # ------------------------------------------------------------------ recent
    def _recent(self) -> list[str]:
        stored = self._settings.value("recent", []) or []
        return [str(p) for p in stored] if isinstance(stored, list) else [str(stored)]

    def _add_recent(self, path: Path) -> None:
        if not self._remember:
            return
        # Absolute: the list must still lead there from another working folder.
        entry = str(path.absolute())
        entries = [entry] + [p for p in self._recent() if p != entry]
        self._settings.setValue("recent", entries[:MAX_RECENT])
        self._rebuild_recent()

    def _rebuild_recent(self) -> None:
        self.recent_menu.clear()
        for entry in self._recent():
            action = QAction(entry, self)
            action.triggered.connect(
                lambda _=False, entry=entry: self.open_path(Path(entry))
            )
            self.recent_menu.addAction(action)
        self.recent_menu.setEnabled(bool(self._recent()))

    # ------------------------------------------------------------------ settings
    def _restore_settings(self) -> None:
        self._rebuild_recent()
        self._rebuild_custom_presets()
        if not self._remember:
            self.resize(1600, 1000)
            return
        geometry = self._settings.value("geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1600, 1000)
        layout = self._settings.value("layout")
        if isinstance(layout, str) and layout in LAYOUTS:
            self.state.layout = layout

    def closeEvent(self, event: QCloseEvent) -> None:
        """Remember geometry, docks and layout; stop background work."""
        self.cancel_loading()
        self.build_docks()
        if self._remember:
            self._settings.setValue("geometry", self.saveGeometry())
            self._settings.setValue("window_state", self.saveState())
            self._settings.setValue("layout", self.state.layout)
        super().closeEvent(event)

    # ------------------------------------------------------------------ drops
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept files and folders dropped from the desktop."""
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        """Open the first dropped file or folder."""
        for url in event.mimeData().urls():
            if url.isLocalFile():
                self.open_path(Path(url.toLocalFile()))
                event.acceptProposedAction()
                return

    # ------------------------------------------------------------------ help
    def show_shortcuts(self) -> None:
        """A table of every key and mouse action."""
        dialog = QtWidgets.QDialog(self)
        dialog.setWindowTitle("Keyboard and mouse")
        layout = QtWidgets.QVBoxLayout(dialog)
        from imaging_viewer.ui.slice_viewport import SHORTCUTS

        rows = SHORTCUTS + WINDOW_SHORTCUTS
        table = QtWidgets.QTableWidget(len(rows), 2, dialog)
        table.setHorizontalHeaderLabels(["Key / mouse", "Action"])
        for row, (keys, action) in enumerate(rows):
            table.setItem(row, 0, QtWidgets.QTableWidgetItem(keys))
            table.setItem(row, 1, QtWidgets.QTableWidgetItem(action))
        table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setWordWrap(True)
        table.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        table.resizeColumnToContents(0)
        header = table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setDefaultAlignment(QtCore.Qt.AlignmentFlag.AlignLeft)
        # Rows follow their wrapped text as the dialog is resized.
        rows_header = table.verticalHeader()
        rows_header.hide()
        rows_header.setSectionResizeMode(
            QtWidgets.QHeaderView.ResizeMode.ResizeToContents
        )
        layout.addWidget(table)
        dialog.resize(860, 560)
        dialog.show()
        self._shortcuts_dialog = dialog

    def _on_about(self) -> None:
        from imaging_viewer import __version__

        QtWidgets.QMessageBox.about(
            self,
            "About imaging_viewer",
            f"imaging_viewer {__version__}\nA viewer for DICOM X-ray, CT and MRI.\n"
            "Not a medical device: for teaching and review.",
        )

    # ------------------------------------------------------------------ screenshot
    def run_screenshot(
        self, path: Path | None, output: Path, series_selector: str | None
    ) -> int:
        """Open ``path``, wait until every viewport shows its series, save a PNG."""
        import sys

        app = QApplication.instance()
        assert app is not None
        self.show()
        if path is not None:
            self.open_path(path, series_selector=series_selector)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            app.processEvents()
            loading = any(v.loading for v in self.state.viewports)
            if self.scan_result is not None and not self.is_busy and not loading:
                break
            time.sleep(0.01)
        else:
            print(f"imaging-viewer: {path}: still loading after 300 s", file=sys.stderr)
            return 1
        for widget in self.viewport_widgets:
            widget.settle()
        for _ in range(5):
            app.processEvents()
        QTimer.singleShot(0, lambda: None)
        app.processEvents()
        image = self.grab()
        if not image.save(str(output), "PNG"):
            print(f"imaging-viewer: cannot write {output}", file=sys.stderr)
            return 1
        return 0


def _safe_name(title: str) -> str:
    """A folder name from a case title (letters, digits, - and _)."""
    kept = "".join(c if c.isalnum() or c in "-_" else "_" for c in title.strip())
    return kept.strip("_")[:60]


def _main_series(series: list[SeriesInfo]) -> SeriesInfo:
    """The series to show first: the largest cross-sectional one (a localizer or
    scout is rarely what a reader wants first), else the first series."""
    volumes = [s for s in series if not s.is_projection and s.shape_kji[0] > 1]
    if not volumes:
        return series[0]
    return max(volumes, key=lambda s: (s.shape_kji[0], s.n_time_points))


def _shift_to_slice(series: SeriesInfo, k: int) -> Any:
    affine = series.ijk_to_lps.copy()
    affine[:3, 3] = affine[:3, 3] + affine[:3, 2] * k
    return affine
