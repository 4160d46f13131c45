"""Qt user interface: observes core models and draws them.

The Qt-free modules the window needs are imported here, before PySide6: once
PySide6 is imported, its import hook reads the source of every module imported
after it (looking for ``__feature__`` use), about 0.3 ms a module. numpy,
pydicom and psygnal bring several hundred modules, so importing them first
shortens start-up by a tenth of a second.
"""

from importlib import import_module

for _name in (
    "imaging_viewer.core.annotations.serialize",
    "imaging_viewer.core.dicom.load",
    "imaging_viewer.core.overlay_text",
    "imaging_viewer.core.viewer_state",
):
    import_module(_name)
