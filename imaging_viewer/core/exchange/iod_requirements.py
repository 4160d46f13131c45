"""Which attributes an IOD requires (Type 1 or 2), so that de-identification can
put a dummy or empty value where the profile would remove one (PS3.15 E.1.1).

The module tables of PS3.3 come from the machine-readable copy of the standard
that highdicom ships (``highdicom/_standard``: SOP class -> IOD -> modules ->
attributes with their type), read without importing highdicom. The functional
group macros of the enhanced multi-frame IODs are not in those tables; the
attributes of theirs that de-identification touches are listed here from PS3.3.

References
----------
PS3.3 Annex A (Composite IODs and their modules) and Annex C (module tables);
PS3.3 C.7.6.16.2.2 Frame Content Macro; PS3.5 7.4 (Data Element Types).
"""

from __future__ import annotations

import importlib.util
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

__all__ = ["REQUIRED_TYPES", "required_type"]

REQUIRED_TYPES: Final = ("1", "1C", "2", "2C")
"""Types of a present attribute that must stay present (1 and 1C with a value)."""

_FUNCTIONAL_GROUP_MACROS: Final[dict[tuple[str, str], str]] = {
    # PS3.3 C.7.6.16.2.2 Frame Content Macro: 1C, required when the frame is
    # ORIGINAL (Frame Type value 1); present in a source, so required there.
    ("FrameContentSequence", "FrameAcquisitionDateTime"): "1C",
    ("FrameContentSequence", "FrameReferenceDateTime"): "1C",
}
_ORDER: Final = {"1": 0, "1C": 1, "2": 2, "2C": 3, "3": 4}


def _standard_folder() -> Path | None:
    spec = importlib.util.find_spec("highdicom")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "_standard"
    return folder if folder.is_dir() else None


@lru_cache(maxsize=1)
def _tables() -> tuple[
    dict[str, str], dict[str, list[str]], dict[str, list[dict[str, Any]]]
]:
    folder = _standard_folder()
    if folder is None:
        return {}, {}, {}
    try:
        sop_classes = json.loads((folder / "sop_class_iod_map.json").read_text())
        iods = json.loads((folder / "iod_module_map.json").read_text())
        modules = json.loads((folder / "module_attribute_map.json").read_text())
    except (OSError, ValueError):
        return {}, {}, {}
    iod_modules = {
        iod: [str(module["key"]) for module in listed] for iod, listed in iods.items()
    }
    return dict(sop_classes), iod_modules, modules


@lru_cache(maxsize=64)
def _iod_types(sop_class_uid: str) -> dict[tuple[str, ...], str]:
    """(sequence keywords..., keyword) -> the strictest type any module of the
    IOD gives the attribute."""
    sop_classes, iod_modules, modules = _tables()
    types: dict[tuple[str, ...], str] = {}
    for module in iod_modules.get(sop_classes.get(sop_class_uid, ""), []):
        for attribute in modules.get(module, []):
            key = (*attribute["path"], attribute["keyword"])
            kind = str(attribute["type"])
            if _ORDER.get(kind, 4) < _ORDER.get(types.get(key, "3"), 4):
                types[key] = kind
    return types


def required_type(sop_class_uid: str, path: tuple[str, ...], keyword: str) -> str:
    """The type (``"1"``, ``"1C"``, ``"2"``, ``"2C"`` or ``"3"``) of ``keyword``
    at ``path`` (the keywords of the sequences it is nested in) in the IOD of
    ``sop_class_uid``; ``"3"`` when unknown.

    Attributes of a functional group macro are found by the macro's sequence
    whether they sit in the shared or the per-frame functional groups.
    """
    if path:
        macro = _FUNCTIONAL_GROUP_MACROS.get((path[-1], keyword))
        if macro is not None:
            return macro
    return _iod_types(sop_class_uid.strip()).get((*path, keyword), "3")
