"""pyqtgraph, imported without touching every Qt class up front.

``pyqtgraph.Qt`` mirrors QtCore, QtGui and QtWidgets by copying every name of
them, which makes PySide6 build all of its lazily created classes and enums:
about a third of pyqtgraph's import time. Here the mirrors are made first and
look names up in PySide6 when pyqtgraph first asks for them (and keep them), so
only the classes in use are built. A few modules pyqtgraph's ``__init__``
imports that the viewer never uses (colour-bar, colour-map and scatter-plot
widgets, with the parameter tree they pull in, and the remote graphics view
with its multiprocess package) are left out while it imports
and load on first use (``pg.ColorBarItem``, or importing them). Should a
pyqtgraph release lay its package out differently, it is imported as usual.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6 import QtCore, QtGui, QtWidgets

if TYPE_CHECKING:
    from types import ModuleType

_SOURCES: dict[str, ModuleType] = {
    "QtCore": QtCore,
    "QtGui": QtGui,
    "QtWidgets": QtWidgets,
}


_DEFERRED = {
    "graphicsItems.ColorBarItem": ("ColorBarItem",),
    "widgets.ColorMapWidget": ("ColorMapWidget", "ColorMapParameter"),
    "widgets.DataFilterWidget": ("DataFilterWidget",),
    "widgets.ScatterPlotWidget": ("ScatterPlotWidget",),
    "widgets.RemoteGraphicsView": ("RemoteGraphicsView",),
}
"""pyqtgraph modules (``from … import *`` in its ``__init__``) loaded on first use,
with the names (their ``__all__``) they give the package."""


_STANDING_IN = object()
"""What a stand-in module gives for the names it stands in for."""


def _defer(package: Path) -> list[str]:
    """Stand empty modules in for the deferred ones; the names stood in for."""
    names = []
    for relative in _DEFERRED:
        name = f"pyqtgraph.{relative}"
        if name in sys.modules:
            continue
        if not (package / (relative.replace(".", "/") + ".py")).is_file():
            continue
        stub = types.ModuleType(name)
        stub.__dict__["__all__"] = []
        for attribute in _DEFERRED[relative]:  # for ``from … import name``
            setattr(stub, attribute, _STANDING_IN)
        sys.modules[name] = stub
        names.append(name)
    return names


def _undefer(pyqtgraph: ModuleType, names: list[str]) -> None:
    """Drop the stand-ins; ``pyqtgraph.X`` then imports what defines ``X``."""
    for name in names:
        stub = sys.modules.get(name)
        if stub is not None and getattr(stub, "__file__", None) is None:
            del sys.modules[name]
        parent, _, leaf = name.rpartition(".")
        owner = sys.modules.get(parent)
        if owner is not None and getattr(owner, leaf, None) is stub:
            delattr(owner, leaf)
    owners = {
        attribute: name
        for name in names
        for attribute in _DEFERRED[name.removeprefix("pyqtgraph.")]
    }
    for attribute in owners:
        if vars(pyqtgraph).get(attribute) is _STANDING_IN:
            delattr(pyqtgraph, attribute)
    if not owners or "__getattr__" in vars(pyqtgraph):
        return

    def load(attribute: str) -> Any:
        owner = owners.get(attribute)
        if owner is None:
            message = f"module 'pyqtgraph' has no attribute {attribute!r}"
            raise AttributeError(message)
        value = getattr(importlib.import_module(owner), attribute)
        setattr(pyqtgraph, attribute, value)
        return value

    pyqtgraph.__getattr__ = load  # type: ignore[method-assign]


def _lazy_mirror(package: Path, name: str, source: ModuleType) -> ModuleType | None:
    """``pyqtgraph.Qt.<name>`` as a module that forwards to ``source``."""
    init = package / "Qt" / name / "__init__.py"
    if not init.is_file():
        return None
    spec = importlib.util.spec_from_file_location(
        f"pyqtgraph.Qt.{name}", init, submodule_search_locations=[str(init.parent)]
    )
    if spec is None or spec.loader is None:
        return None
    mirror = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mirror)

    def forward(attribute: str) -> Any:
        value = getattr(source, attribute)
        setattr(mirror, attribute, value)
        return value

    mirror.__getattr__ = forward  # type: ignore[method-assign]
    return mirror


def _import_pyqtgraph() -> Any:
    if "pyqtgraph" in sys.modules:
        return sys.modules["pyqtgraph"]
    spec = importlib.util.find_spec("pyqtgraph")
    if spec is None or spec.origin is None:
        import pyqtgraph

        return pyqtgraph
    package = Path(spec.origin).parent
    mirrors = {
        name: _lazy_mirror(package, name, source) for name, source in _SOURCES.items()
    }
    if any(mirror is None for mirror in mirrors.values()):
        import pyqtgraph

        return pyqtgraph
    for name, mirror in mirrors.items():
        sys.modules[f"pyqtgraph.Qt.{name}"] = mirror  # type: ignore[assignment]
    # pyqtgraph copies the names dir() lists: none, while it imports. (PySide6
    # lists its lazily made classes with a module __dir__ of its own.)
    saved = [source.__dict__.get("__dir__") for source in _SOURCES.values()]
    for source in _SOURCES.values():
        source.__dict__["__dir__"] = list

    def restore() -> None:
        for source, original in zip(_SOURCES.values(), saved, strict=True):
            if original is None:
                source.__dict__.pop("__dir__", None)
            else:
                source.__dict__["__dir__"] = original

    deferred = _defer(package)
    try:
        import pyqtgraph
    except Exception:
        restore()
        for key in [k for k in sys.modules if k.split(".")[0] == "pyqtgraph"]:
            del sys.modules[key]
        import pyqtgraph

        deferred = []
    finally:
        restore()
    _undefer(pyqtgraph, deferred)
    return pyqtgraph


pg: Any = _import_pyqtgraph()
"""The pyqtgraph package, configured for the viewer: arrays are [row, column]
as numpy and DICOM have them, and lines are antialiased."""
pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)
