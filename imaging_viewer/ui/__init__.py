"""Qt user interface: observes core models and draws them.

The Qt-free modules the window needs are imported here, before PySide6: once
PySide6 is imported, its import hook reads the source of every module imported
after it (looking for ``__feature__`` use), about 0.3 ms a module. numpy,
pydicom and psygnal bring several hundred modules, so importing them first
shortens start-up by a tenth of a second. The modules that need PySide6 come
after it; :mod:`~imaging_viewer.ui.pyside_import_hook` spares them the reading.
"""

from importlib import import_module

for _name in (
    "imaging_viewer.core.dicom.load",
    "imaging_viewer.core.overlay_text",
    "imaging_viewer.core.viewer_state",
):
    import_module(_name)

# Then PySide6, told not to read the source of every module imported after it
# (pyqtgraph and the viewer's Qt modules): see pyside_import_hook.
import_module("PySide6.QtCore")
import_module("imaging_viewer.ui.pyside_import_hook").skip_source_scans()
