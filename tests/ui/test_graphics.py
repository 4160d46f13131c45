"""pyqtgraph as ui.graphics imports it: unused modules load on first use."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
from imaging_viewer.ui.graphics import pg
assert "pyqtgraph.parametertree" not in sys.modules
assert "pyqtgraph.widgets.ColorMapWidget" not in sys.modules
assert pg.ImageItem and pg.GraphicsView and pg.ViewBox
assert pg.ColorBarItem.__module__ == "pyqtgraph.graphicsItems.ColorBarItem"
assert pg.ScatterPlotWidget.__name__ == "ScatterPlotWidget"
assert "pyqtgraph.multiprocess" not in sys.modules
assert pg.RemoteGraphicsView.__name__ == "RemoteGraphicsView"
from pyqtgraph import ColorMapParameter
from pyqtgraph.widgets.DataFilterWidget import DataFilterWidget
assert DataFilterWidget.__module__ == "pyqtgraph.widgets.DataFilterWidget"
try:
    pg.NoSuchName
except AttributeError:
    pass
else:
    raise AssertionError("pg.NoSuchName")
print("ok")
"""


def test_deferred_pyqtgraph_modules_load_on_first_use() -> None:
    """The deferred modules are not imported up front, yet every name works."""
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
