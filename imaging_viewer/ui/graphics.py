"""pyqtgraph, imported without touching every Qt class up front.

``pyqtgraph.Qt`` mirrors QtCore, QtGui and QtWidgets by copying every name of
them, which makes PySide6 build all of its lazily created classes and enums:
about a third of pyqtgraph's import time. Here the mirrors are made first and
look names up in PySide6 when pyqtgraph first asks for them (and keep them), so
only the classes in use are built. Should a pyqtgraph release lay its package
out differently, it is imported as usual.
"""

from __future__ import annotations

import importlib.util
import sys
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

    try:
        import pyqtgraph
    except Exception:
        restore()
        for key in [k for k in sys.modules if k.split(".")[0] == "pyqtgraph"]:
            del sys.modules[key]
        import pyqtgraph
    finally:
        restore()
    return pyqtgraph


pg: Any = _import_pyqtgraph()
"""The pyqtgraph package."""
