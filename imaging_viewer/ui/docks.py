"""The window's docks (series, problems, DICOM tags, lesions, response) and their
panels, built after the first image is shown."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, overload

import numpy as np

# ``QtCore.Qt`` is looked up where used: its enums are built on first access.
from PySide6 import QtCore
from PySide6.QtWidgets import QDockWidget

from imaging_viewer.core.viewer_state import nearest_slice

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMainWindow, QWidget

    from imaging_viewer.core.followup.response_table import TimepointData
    from imaging_viewer.core.viewer_state import ViewerState
    from imaging_viewer.core.workspace import Workspace
    from imaging_viewer.ui.timepoint_report_export import TimepointReportExport

_T = TypeVar("_T")


class DockOwner(Protocol):
    """A window with docks built on first need."""

    def build_docks(self) -> WindowDocks:
        """The docks, built now if they are not yet."""
        ...


class DockPart(Generic[_T]):
    """A dock or its panel, as an attribute of the window: built with the docks,
    on first use at the latest.

    The window shows its first image before it builds the docks; whatever
    reaches for one of them earlier gets them built there and then.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, window: None, owner: type) -> DockPart[_T]: ...

    @overload
    def __get__(self, window: DockOwner, owner: type) -> _T: ...

    def __get__(self, window: DockOwner | None, owner: type) -> Any:
        if window is None:
            return self
        return getattr(window.build_docks(), self._name)


def _send_to_pacs(window: Any, study_uid: str, series_id: str) -> None:
    """The series browser's "Send to PACS…": its series, else its study."""
    from imaging_viewer.ui.pacs_send import STUDY, send_from_window

    send_from_window(
        window,
        series_id=series_id,
        study_uid=study_uid,
        chosen=0 if series_id else STUDY,
    )


def _timepoint_report_export(
    docks: WindowDocks, window: QMainWindow, workspace: Workspace
) -> TimepointReportExport:
    """Export SRs… of the Response dock (and its action)."""
    from imaging_viewer.ui.timepoint_report_export import TimepointReportExport

    panel = docks.response_panel
    export = TimepointReportExport(
        window,
        workspace,
        docks.patient_key,
        docks.displayed_series_uid,
        panel.show_export_result,
    )
    panel.reports_requested.connect(export.ask)
    return export


class WindowDocks:
    """The docks of ``window`` and their panels, each given its model.

    The window connects what opens series and annotations
    (``series_activated``, ``annotation_activated``); the docks keep the rest
    among themselves: a skipped file's header, the problem count, the active
    lesion, the tags of the active viewport's image.
    """

    def __init__(
        self, window: QMainWindow, state: ViewerState, workspace: Workspace
    ) -> None:
        from imaging_viewer.ui.annotation_overlay import spacing_source_in_views
        from imaging_viewer.ui.key_image_thumbnails import KeyImageThumbnailLoader
        from imaging_viewer.ui.key_images import go_to_key_image
        from imaging_viewer.ui.roi_statistics import roi_lines_in_views
        from imaging_viewer.ui.widgets.key_images_panel import KeyImagesPanelWidget
        from imaging_viewer.ui.widgets.lesions_panel import LesionsPanelWidget
        from imaging_viewer.ui.widgets.problems_panel import ProblemsPanelWidget
        from imaging_viewer.ui.widgets.response_panel import ResponsePanelWidget
        from imaging_viewer.ui.widgets.series_browser import SeriesBrowserWidget
        from imaging_viewer.ui.widgets.tag_browser import TagBrowserWidget

        self._window = window
        self._state = state
        areas = QtCore.Qt.DockWidgetArea
        self.series_browser = SeriesBrowserWidget(window)
        self.series_browser.thumbnails_go = workspace.no_loads
        self.series_dock = self._dock(
            "Series", self.series_browser, areas.LeftDockWidgetArea
        )
        problems = self.problems_panel = ProblemsPanelWidget(window)
        problems.file_activated.connect(self._on_problem_file_activated)
        self.problems_dock = self._dock(
            "Problems", problems, areas.BottomDockWidgetArea
        )
        self.tag_browser = TagBrowserWidget(window)
        problems.count_changed.connect(
            lambda _count: self.problems_dock.setWindowTitle(problems.title())
        )
        self._watch_problems(window, state)
        self.tags_dock = self._dock(
            "DICOM tags", self.tag_browser, areas.RightDockWidgetArea
        )
        self.tags_dock.hide()
        self.lesions_panel = LesionsPanelWidget(state.annotations, window)
        self.lesions_panel.spacing_source_of = functools.partial(
            spacing_source_in_views, state
        )
        self.lesions_panel.roi_lines_of = functools.partial(roi_lines_in_views, state)
        for viewport in state.viewports:  # ROI statistics need the pixels
            viewport.events.volume.connect(self.lesions_panel.refresh)
        self.lesions_panel.active_lesion_changed.connect(self._on_active_lesion)
        self.lesions_dock = self._dock(
            "Lesions", self.lesions_panel, areas.RightDockWidgetArea
        )
        self.tags_dock.visibilityChanged.connect(self._on_tags_visibility)
        self.key_images_panel = KeyImagesPanelWidget(state.annotations, window)
        self.key_images_panel.mark_activated.connect(
            functools.partial(go_to_key_image, window)
        )
        self.key_images_panel.set_thumbnail_loader(
            KeyImageThumbnailLoader(lambda: workspace.scan_result, window)
        )
        self.key_images_dock = self._dock(
            "Key images", self.key_images_panel, areas.RightDockWidgetArea
        )
        window.tabifyDockWidget(self.lesions_dock, self.key_images_dock)
        self.lesions_dock.raise_()
        self._workspace = workspace
        self.response_panel = ResponsePanelWidget(self._patient_timepoints, window)
        self.response_dock = self._dock(
            "Response", self.response_panel, areas.BottomDockWidgetArea
        )
        self.response_dock.hide()
        self.response_dock.visibilityChanged.connect(self._on_response_visibility)
        self.report_export = _timepoint_report_export(self, window, workspace)
        self.series_browser.timepoint_renamed.connect(self._on_timepoint_renamed)
        self.series_browser.send_requested.connect(
            functools.partial(_send_to_pacs, window)
        )
        workspace.events.opened.connect(self.response_panel.schedule_refresh)
        horizontal, vertical = (
            QtCore.Qt.Orientation.Horizontal,
            QtCore.Qt.Orientation.Vertical,
        )
        window.resizeDocks([self.series_dock], [340], horizontal)
        window.resizeDocks([self.problems_dock], [160], vertical)

    def _watch_problems(self, window: QMainWindow, state: ViewerState) -> None:
        """The status-bar badge (shows or hides the Problems dock), and the
        no-spacing warnings restated when the reader calibrates an image."""
        from imaging_viewer.ui.panel_visibility import ProblemsBadge
        from imaging_viewer.ui.spacing_warnings import SpacingWarnings

        panel = self.problems_panel
        self.problems_badge = ProblemsBadge(window, panel, self.problems_dock)
        self.spacing_warnings = SpacingWarnings(panel, state)

    @property
    def by_name(self) -> dict[str, QDockWidget]:
        """The docks by the names the action table gives them."""
        return {
            "series": self.series_dock,
            "problems": self.problems_dock,
            "tags": self.tags_dock,
            "lesions": self.lesions_dock,
            "key_images": self.key_images_dock,
            "response": self.response_dock,
        }

    def _dock(
        self, title: str, widget: QWidget, area: QtCore.Qt.DockWidgetArea
    ) -> QDockWidget:
        dock = QDockWidget(title, self._window)
        dock.setObjectName(f"dock_{title.replace(' ', '_')}")
        dock.setWidget(widget)
        self._window.addDockWidget(area, dock)
        return dock

    def _on_problem_file_activated(self, path: str) -> None:
        """Show the header of a skipped file, to see why it was skipped."""
        self.tags_dock.show()
        self.tag_browser.show_file(path)

    def _on_active_lesion(self, lesion_id: object) -> None:
        self._state.active_lesion_id = lesion_id if isinstance(lesion_id, str) else None

    def _on_tags_visibility(self, visible: bool) -> None:
        if visible:
            from imaging_viewer.ui.panel_visibility import widen_tags_dock

            widen_tags_dock(self._window, self.tags_dock)
            self.update_tag_browser()

    def _patient_timepoints(self) -> list[TimepointData]:
        """The open studies of the patient being annotated, as time points."""
        study = self._workspace.annotation_study(self._state)
        if study is None:
            return []
        return self._workspace.timepoints(study.patient_key)

    def patient_key(self) -> tuple[str, str] | None:
        """The patient being annotated (whose time points the table shows)."""
        study = self._workspace.annotation_study(self._state)
        return None if study is None else study.patient_key

    def displayed_series_uid(self) -> str:
        """Series Instance UID of the active viewport's series ("" when none)."""
        series = self._state.active.series
        return series.uid if series is not None else ""

    def _on_timepoint_renamed(self, study_uid: str, label: str) -> None:
        """Store a renamed time point on its study (and annotation file)."""
        try:
            self._workspace.set_timepoint(study_uid, label)
        except OSError as error:
            self.problems_panel.add_problem(
                "error", "time point", f"not saved: {error.strerror or error}"
            )
        self.series_browser.set_timepoints(self._workspace.timepoint_labels())
        self.response_panel.schedule_refresh()

    def _on_response_visibility(self, visible: bool) -> None:
        if visible:
            self.response_panel.refresh()

    def update_tag_browser(self) -> None:
        """Show the tags of the file behind the active viewport's image (the
        nearest slice's of an MPR plane), while the tags dock is shown."""
        if not self.tags_dock.isVisible():
            return
        viewport = self._state.active
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
