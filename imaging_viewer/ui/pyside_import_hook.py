"""Imports after PySide6, without PySide6 reading every new module's source.

PySide6 replaces ``__import__`` to support ``from __feature__ import snake_case``
(PYSIDE-2029). After each import it reads the whole source of the new module to
see whether it mentions PySide, and records 0 ("uses PySide, no feature") or -1
("ignore this module") in ``pyside_feature_dict``. Neither answer selects a
feature, and the viewer never selects one, so both mean the same here. Reading
the sources of pyqtgraph and of the viewer's Qt modules (about 170, 0.2 ms
each) costs some 30 ms before the viewports are up: :func:`skip_source_scans`
makes the answer 0 without reading.

A module that does import ``__feature__`` is entered in the dict by PySide6 at
that import, before its own import ends and the answer is asked for, so it
keeps its features.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import ModuleType

_FEATURE_MODULES = ("shibokensupport.feature", "PySide6.support.feature")


def _uses_pyside(module: ModuleType) -> bool:
    """Every module counts as one that uses PySide without features."""
    return True


def skip_source_scans() -> bool:
    """Stop PySide6 reading each later import's source; False if this PySide6
    is laid out differently (then it goes on as before)."""
    for name in _FEATURE_MODULES:
        feature = sys.modules.get(name)
        if feature is None:
            continue
        if not callable(getattr(feature, "_mod_uses_pyside", None)):
            return False
        if not isinstance(getattr(feature, "pyside_feature_dict", None), dict):
            return False
        feature._mod_uses_pyside = _uses_pyside  # type: ignore[attr-defined]
        return True
    return False
