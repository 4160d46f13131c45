"""The workspace: the studies open in the viewer, their volumes and annotations."""

from imaging_viewer.core.workspace.study import Study
from imaging_viewer.core.workspace.tasks import (
    TaskHandle,
    TaskRunner,
    run_synchronously,
)
from imaging_viewer.core.workspace.volume_cache import VolumeCache, default_budget_bytes
from imaging_viewer.core.workspace.workspace import Workspace, WorkspaceEvents

__all__ = [
    "Study",
    "TaskHandle",
    "TaskRunner",
    "VolumeCache",
    "Workspace",
    "WorkspaceEvents",
    "default_budget_bytes",
    "run_synchronously",
]
