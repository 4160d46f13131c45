"""MainWindow: the viewport grid, docks, status bar and menus; it subscribes to
the workspace and leaves each other job to a module of its own."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

# ``QtCore.Qt`` is not used here: PySide6 builds the Python enums of the whole
# Qt namespace (93 of them, ~25 ms) on first access, which waits for the first
# paint (the docks, the slab controls and the dialogs touch it).
from PySide6 import QtWidgets
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QDockWidget, QGridLayout, QMainWindow, QWidget

from imaging_viewer.core.viewer_state import ViewerState
from imaging_viewer.core.workspace import Workspace
from imaging_viewer.core.workspace.viewport_loading import ViewportLoader
from imaging_viewer.ui.actions import (
    BuiltActions,
    apply_icons,
    bind_dock_toggles,
    build_actions,
    refresh_checks,
)
from imaging_viewer.ui.annotation_files import AnnotationFiles
from imaging_viewer.ui.comparison_view import cancel_registration
from imaging_viewer.ui.dialogs.teaching_dialog import LesionExport
from imaging_viewer.ui.docks import DockPart, WindowDocks
from imaging_viewer.ui.mpr_layouts import MprLayouts, place_viewports, viewport_colour
from imaging_viewer.ui.pacs_receiver import PacsReceiverService
from imaging_viewer.ui.reading_controls import ReadingControls
from imaging_viewer.ui.settings_menus import (
    CustomPresets,
    RecentStudies,
    WindowPlacement,
)
from imaging_viewer.ui.slab_controls import SlabControls
from imaging_viewer.ui.status_bar import StatusReadouts
from imaging_viewer.ui.study_opening import StudyOpening
from imaging_viewer.ui.view_export import ViewExport
from imaging_viewer.ui.workers import run_in_background

if TYPE_CHECKING:
    from pathlib import Path

    from PySide6.QtCore import QChildEvent
    from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QShowEvent

    from imaging_viewer.core.annotations.model import AnnotationSet
    from imaging_viewer.core.dicom.scan import ScanResult
    from imaging_viewer.core.viewer_state import ViewportState
    from imaging_viewer.core.workspace import Study
    from imaging_viewer.ui.first_look import Prefetch
    from imaging_viewer.ui.first_look_view import FirstLookView
    from imaging_viewer.ui.slice_viewport import SliceViewportWidget
    from imaging_viewer.ui.widgets.lesions_panel import LesionsPanelWidget
    from imaging_viewer.ui.widgets.problems_panel import ProblemsPanelWidget
    from imaging_viewer.ui.widgets.series_browser import SeriesBrowserWidget
    from imaging_viewer.ui.widgets.tag_browser import TagBrowserWidget

_FIRST_LOOK_PATIENCE_MS = 500
"""Deferred viewports are made this long after the first look at the latest,
should the window not be painted (hidden, minimised)."""


class MainWindow(QMainWindow):
    """The viewer window: opens studies, lists their series, shows them in a grid.

    The docks (series, problems, DICOM tags, lesions) are built once the first
    image has been shown (or at once when there is none to wait for, or when
    something needs them earlier); saved dock and tool-bar positions are
    restored then.
    """

    state: ViewerState
    """What the window shows and how: layout, viewports, tool, flags."""
    series_browser: DockPart[SeriesBrowserWidget] = DockPart()
    problems_panel: DockPart[ProblemsPanelWidget] = DockPart()
    tag_browser: DockPart[TagBrowserWidget] = DockPart()
    lesions_panel: DockPart[LesionsPanelWidget] = DockPart()
    series_dock: DockPart[QDockWidget] = DockPart()
    problems_dock: DockPart[QDockWidget] = DockPart()
    tags_dock: DockPart[QDockWidget] = DockPart()
    lesions_dock: DockPart[QDockWidget] = DockPart()

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
        self.workspace = Workspace(run_in_background, autosave=remember_settings)
        """The open studies, their volumes and annotations (the window draws them)."""
        self.loader = ViewportLoader(self.workspace, self.state)
        self.loader.image_shown.connect(lambda _index: self._note_first_image())
        self.loader.volume_shown.connect(self._on_volume_shown)
        settings = QSettings()
        self.placement = WindowPlacement(
            self, self.state, settings if remember_settings else None
        )
        self.opening: StudyOpening = StudyOpening(self)
        self.first_image_shown_at: float | None = None
        self.mpr_when_loaded = False
        """Enter MPR once the first viewport's volume has loaded (--layout mpr)."""
        self._docks: WindowDocks | None = None
        self._viewports_ready = not defer_viewports
        self._first_look_view: FirstLookView | None = None
        self.status = StatusReadouts(self.statusBar(), self.cancel_loading)
        self.reading = ReadingControls(self, settings if remember_settings else None)
        self._build_viewports()
        self._build_actions()
        self.recent_studies: RecentStudies = RecentStudies(
            self.recent_menu, settings, self.open_path, remember=remember_settings
        )
        self.custom_presets: CustomPresets = CustomPresets(
            self.custom_presets_menu, settings, self.state, self
        )
        self.view_export: ViewExport = ViewExport(
            self,
            self.state,
            lambda: self.active_widget,
            self.statusBar(),
            settings if remember_settings else None,
        )
        self.annotation_files: AnnotationFiles = AnnotationFiles(
            self, self.workspace, self.annotation_study, self.statusBar()
        )
        self.lesion_export: LesionExport = LesionExport(
            self,
            self.workspace,
            self.state,
            self._on_problem,
            self.statusBar(),
            self.annotation_study,
        )
        self.mpr: MprLayouts = MprLayouts(self)
        self._subscribe()
        self.pacs_receiver = PacsReceiverService.for_window(self, remember_settings)
        self.placement.restore()
        self._on_layout_changed()
        self._on_active_changed()
        self._focus_active_viewport()

    def _subscribe(self) -> None:
        """Follow the workspace (scans, loads, problems) and the view state."""
        events = self.workspace.events
        events.progress.connect(self.status.show_progress)
        events.opened.connect(self._on_scanned)
        events.failed.connect(self._on_task_failed)
        events.problem.connect(self._on_problem)
        events.idle.connect(self._on_idle)
        self.state.events.layout.connect(self._on_layout_changed)
        self.state.events.active_index.connect(self._on_active_changed)
        for name in (
            "layout",
            "left_tool",
            "show_overlays",
            "show_crosshair",
            "link_scrolling",
        ):
            getattr(self.state.events, name).connect(self.refresh_checks)

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
            view.painted.connect(lambda: QTimer.singleShot(0, self.make_viewports))
            self._grid.addWidget(view, 0, 0)
            return
        self._add_viewports(1)

    def make_viewports(self) -> None:
        """Make the viewports that were deferred (see ``defer_viewports``) in
        place of the first-look view, and start the scan that waited for its
        first paint; nothing if they exist."""
        if self._viewports_ready:
            return
        self._viewports_ready = True
        self.opening.start_waiting_scan()
        view, self._first_look_view = self._first_look_view, None
        if view is not None:
            self._grid.removeWidget(view)
            view.hide()
            view.deleteLater()
        self._on_layout_changed()
        self._on_active_changed()
        self._focus_active_viewport()
        self.build_docks_after_paint()

    def show_first_look(self, viewport: ViewportState) -> bool:
        """Show ``viewport``'s first look in the plain view that stands in for
        the deferred viewports; True when the viewports wait for its paint (or
        for the patience to run out, should it never be painted)."""
        view = self._first_look_view
        if view is None:
            return False
        view.show_state(viewport)
        if view.has_image:
            QTimer.singleShot(_FIRST_LOOK_PATIENCE_MS, self.make_viewports)
            return True
        self.make_viewports()
        return False

    def _add_viewports(self, count: int) -> None:
        """Make the widgets of the first ``count`` viewports, if not made yet.

        The viewports a layout does not show wait until one does; they all
        read the tool, crosshair and overlay settings from the window's state.
        Nothing is made while the viewports are deferred (see
        ``defer_viewports``).
        """
        if not self._viewports_ready:
            return
        from imaging_viewer.ui.slice_viewport import SliceViewportWidget

        while len(self.viewport_widgets) < min(count, len(self.state.viewports)):
            index = len(self.viewport_widgets)
            state = self.state.viewports[index]
            widget = SliceViewportWidget(state, self._central, viewer=self.state)
            widget.activated.connect(
                lambda index=index: self._on_viewport_activated(index)
            )
            widget.probed.connect(self.status.show_probe)
            widget.series_dropped.connect(
                lambda series_id, index=index: self.show_series(series_id, index)
            )
            widget.siblings = lambda index=index: self.mpr.siblings(index)
            # The other MPR views draw this plane's line across their whole
            # viewport: turning it must repaint them, not only this view.
            state.events.plane_rotation.connect(
                lambda *_, index=index: self.mpr.repaint_siblings(index)
            )
            widget.set_annotations(self.state.annotations)
            widget.active_lesion = lambda: self.state.active_lesion_id
            widget.ask_text = self._ask_label_text
            widget.colour = viewport_colour(index)
            self.reading.attach(widget)
            widget.hide()
            self.viewport_widgets.append(widget)
            if state.volume is not None:  # shown before its widget was made
                widget.refresh()

    @property
    def docks_built(self) -> bool:
        """True once the docks exist (see :meth:`build_docks`)."""
        return self._docks is not None

    def build_docks(self) -> WindowDocks:
        """The docks, with their View and Annotate menu entries; built on the
        first call, which restores the saved dock and tool-bar positions."""
        if self._docks is not None:
            return self._docks
        docks = self._docks = WindowDocks(self, self.state, self.workspace)
        docks.series_browser.series_activated.connect(self._on_series_activated)
        docks.problems_panel.series_activated.connect(self._on_series_activated)
        docks.lesions_panel.annotation_activated.connect(self.go_to_annotation)
        bind_dock_toggles(self, self._actions, docks.by_name)
        from imaging_viewer.ui.lesion_linking import bind_lesions_panel

        bind_lesions_panel(self, docks.lesions_panel)  # "same lesion as…"
        apply_icons(self._actions)
        self.slab.click_focus_only()
        self.placement.restore_docks()
        docks.problems_badge.settle()  # empty: no height taken from the images
        self.view_export.sweep_leftovers()  # of saves killed in an earlier run
        return docks

    def _build_docks_when_idle(self) -> None:
        """Build the docks unless a first look is on its way, or deferred
        viewports are still to be made (either builds them after)."""
        if not self.opening.looking and self._viewports_ready:
            self.build_docks()

    def build_docks_after_paint(self) -> None:
        """Build the docks once the image just shown has been painted (after
        the deferred viewports, when they are)."""
        if self._docks is None and self._viewports_ready:
            QTimer.singleShot(0, self.build_docks)

    def showEvent(self, event: QShowEvent) -> None:
        """On first showing, the docks follow as soon as nothing waits on them."""
        super().showEvent(event)
        if self._docks is None:
            QTimer.singleShot(0, self._build_docks_when_idle)

    def _on_tags_toggled(self, shown: bool) -> None:
        """Opened by the user (Ctrl+T, menu): typing goes to its search field;
        closed: back to the active viewport."""
        if shown:
            self.tag_browser.search_edit.setFocus()
            self.tag_browser.search_edit.selectAll()
        elif self.viewport_widgets:
            self.active_widget.setFocus()

    def _update_tag_browser(self) -> None:
        if self._docks is not None:
            self._docks.update_tag_browser()

    def _build_actions(self) -> None:
        """Menus, tool bars and keys, from the action table (ui/actions.py)."""
        self.slab = SlabControls(self.state)
        self.slab_spin = self.slab.spin
        built = self._actions = build_actions(self, {"mpr": self.slab.add_to})
        self.reading.bind(built)
        self.recent_menu = built.submenus["recent"]
        self.custom_presets_menu = built.submenus["custom_presets"]
        self.mpr_action = built.actions["mpr"]
        self.link_action = built.actions["link"]
        self.overlays_action = built.actions["overlays"]
        self.crosshair_action = built.actions["crosshair_lines"]
        self.undo_action = built.actions["undo"]
        self.redo_action = built.actions["redo"]
        self.export_action = built.actions["export_view"]
        self.refresh_checks()

    @property
    def actions_built(self) -> BuiltActions:
        """The QActions, menus and tool bars made from the action table."""
        return self._actions

    def refresh_checks(self, *_: object) -> None:
        """Check the tool bar and menu entries as the state says."""
        refresh_checks(self, self._actions)

    def _focus_active_viewport(self, *_: object) -> None:
        """The keyboard goes to the active viewport (at start, after dialogs)."""
        if self._viewports_ready and self.viewport_widgets:
            index = min(self.state.active_index, len(self.viewport_widgets) - 1)
            self.viewport_widgets[index].setFocus()

    def childEvent(self, event: QChildEvent) -> None:
        """Dialogs of the window give the keyboard back to the active viewport
        when they close (Help, a label's text, a message)."""
        super().childEvent(event)
        if event.polished():
            child = event.child()
            if isinstance(child, QtWidgets.QDialog):
                child.finished.connect(self._focus_active_viewport)

    # ------------------------------------------------------------------ state
    @property
    def active_widget(self) -> SliceViewportWidget:
        """The viewport that menus and keys act on (made now if deferred)."""
        self.make_viewports()
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
        self.mpr.toggle(checked)

    def _on_escape(self) -> None:
        for widget in self.viewport_widgets:
            widget.cancel_tool()
        self.cancel_loading()

    def _ask_label_text(self) -> str | None:
        text, ok = QtWidgets.QInputDialog.getText(self, "Text label", "Text:")
        return text.strip() if ok and text.strip() else None

    def _delete_selected(self) -> None:
        selected = self.state.annotations.selected_id
        if selected is not None:
            self.state.annotations.remove_annotation(selected)
            self.state.annotations.select(None)
        else:
            self.lesions_panel.delete_selected()

    def go_to_annotation(self, annotation_id: str) -> None:
        """Show the active viewport at the annotation (slice or MPR cursor)."""
        self.state.go_to_annotation(annotation_id)

    # ------------------------------------------------------------------ annotations
    @property
    def scan_result(self) -> ScanResult | None:
        """Everything open, as one scan result (the workspace's)."""
        return self.workspace.scan_result

    def annotation_study(self) -> Study | None:
        """The study the annotations belong to (see Workspace.annotation_study)."""
        return self.workspace.annotation_study(self.state)

    def start_annotations(self) -> None:
        """Show and edit the annotations of the annotation study (reloaded
        from its autosave, and autosaved by the workspace)."""
        study = self.annotation_study()
        if study is not None and study.uid:
            self.use_annotations(self.workspace.annotations(study.uid))

    def use_annotations(self, annotations: AnnotationSet) -> None:
        """Draw and edit ``annotations`` in every viewport and the Lesions panel."""
        if annotations is self.state.annotations:
            return
        self.state.annotations = annotations
        self.state.active_lesion_id = None
        for widget in self.viewport_widgets:
            widget.set_annotations(annotations)
        if self._docks is not None:
            self._docks.lesions_panel.set_annotations(annotations)
            self._docks.key_images_panel.set_annotations(annotations)
            self._docks.spacing_warnings.update()

    def set_left_tool(self, name: str) -> None:
        """What left-drag does: window, pan, zoom, crosshair or an annotation tool."""
        self.state.left_tool = name

    def _on_layout_changed(self, *_: object) -> None:
        state = self.state
        self._add_viewports(state.visible_count)
        place_viewports(
            self._grid, self.viewport_widgets, state.cells, state.maximized_index
        )
        if self.state.active_index >= state.visible_count:
            self.state.active_index = 0
        if self.state.layout != "mpr":
            self.fill_empty_viewports()

    def fill_empty_viewports(self) -> None:
        """Newly shown viewports get the next series not shown yet."""
        if self.scan_result is None:
            return
        shown = {v.series.id for v in self.state.viewports if v.series is not None}
        unshown = [s for s in self.scan_result.series if s.id not in shown]
        for index in range(self.state.visible_count):
            if self.state.viewports[index].series is None and unshown:
                self.show_series(unshown.pop(0).id, index)

    def _on_active_changed(self, *_: object) -> None:
        self.slab.show_active()
        self._update_tag_browser()

    def _on_viewport_activated(self, index: int) -> None:
        self.state.active_index = index

    # ------------------------------------------------------------------ opening
    def open_path(
        self,
        path: Path,
        series_selector: str | None = None,
        prefetched: Prefetch | None = None,
    ) -> None:
        """Open ``path`` (folder, file or DICOMDIR), replacing what is open
        (see :meth:`StudyOpening.open_path`)."""
        self.opening.open_path(path, series_selector, prefetched)

    def _on_scanned(self, result: ScanResult) -> None:
        self.opening.on_scanned(result)

    def _on_series_activated(self, series_id: str) -> None:
        """A series opened from the browser or the problems panel: shown in the
        active viewport, which takes the keyboard (scroll, presets) from the
        list."""
        self.show_series(series_id, self.state.active_index)
        self.active_widget.setFocus()

    def show_series(self, series_id: str, index: int) -> None:
        """Show a series of the workspace in viewport ``index``."""
        self.loader.show_series(series_id, index)

    def _on_volume_shown(self, index: int) -> None:
        if self.mpr_when_loaded and index == 0:
            self.mpr_when_loaded = False
            self.toggle_mpr(True)
        if not self.is_busy:
            self.status.hide_progress()

    def _on_problem(self, severity: str, where: str, message: str) -> None:
        self.problems_panel.add_problem(severity, where, message)

    def _on_idle(self) -> None:
        if not self.is_busy:
            self.status.hide_progress()

    def _note_first_image(self) -> None:
        if self.first_image_shown_at is None:
            self.first_image_shown_at = time.perf_counter()

    def cancel_loading(self) -> None:
        """Stop the scan and loads under way."""
        self.opening.cancel()
        self.loader.cancel()
        cancel_registration(self)
        self.status.hide_progress()

    @property
    def is_busy(self) -> bool:
        """True while a scan or load runs."""
        return self.workspace.busy or self.opening.looking

    def _on_task_failed(self, what: str, message: str) -> None:
        if not self.is_busy:
            self.status.hide_progress()
        if message == "cancelled":
            self.statusBar().showMessage(f"{what}: cancelled", 5000)
            return
        self.problems_panel.add_problem("error", what, message)
        self.statusBar().showMessage(f"{what} failed: {message}", 10000)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Remember geometry, docks and layout; stop background work."""
        self.cancel_loading()
        self.workspace.close()
        self.build_docks()
        self.placement.save()
        super().closeEvent(event)

    # ------------------------------------------------------------------ drops
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept files and folders dropped from the desktop."""
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        """Add the dropped files and folders to the studies open (opened if none is)."""
        from imaging_viewer.ui.dropped_studies import add_dropped

        if add_dropped(self, event.mimeData().urls()):
            event.acceptProposedAction()

    # ------------------------------------------------------------------ help
    def show_shortcuts(self) -> None:
        """A table of every key and mouse action (from the action table)."""
        from imaging_viewer.ui.dialogs.shortcuts_dialog import ShortcutsDialog

        self._shortcuts_dialog = ShortcutsDialog(self)
        self._shortcuts_dialog.show()

    # ------------------------------------------------------------------ screenshot
    def run_screenshot(
        self, path: Path | None, output: Path, series_selector: str | None
    ) -> int:
        """Open ``path``, wait until every viewport shows its series, save a PNG."""
        from imaging_viewer.ui.screenshot import run_screenshot

        return run_screenshot(self, path, output, series_selector)
