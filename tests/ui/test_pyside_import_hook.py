"""PySide6 no longer reads each imported module's source; features still work."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import TYPE_CHECKING

import imaging_viewer.ui  # noqa: F401  (installs the hook)
from imaging_viewer.ui import pyside_import_hook

if TYPE_CHECKING:
    from pathlib import Path

SNAKE_CASE_MODULE = """
from PySide6.QtCore import QObject
from __feature__ import snake_case  # noqa: F401


def names():
    obj = QObject()
    return hasattr(obj, "object_name"), hasattr(obj, "objectName")
"""

PLAIN_MODULE = """
from PySide6.QtCore import QObject


def names():
    obj = QObject()
    return hasattr(obj, "object_name"), hasattr(obj, "objectName")
"""


def test_the_viewer_skips_the_source_scan() -> None:
    feature = sys.modules["shibokensupport.feature"]
    assert feature._mod_uses_pyside is pyside_import_hook._uses_pyside
    assert pyside_import_hook.skip_source_scans()  # installing twice is harmless


def test_modules_imported_later_are_not_read(tmp_path: Path) -> None:
    # A module that never mentions PySide: read, PySide6 would record -1
    # ("ignore"); unread, it is recorded as using PySide without features.
    (tmp_path / "hook_probe_gone.py").write_text("VALUE = 1\n")
    sys.path.insert(0, str(tmp_path))
    try:
        import hook_probe_gone  # type: ignore[import-not-found]

        assert hook_probe_gone.VALUE == 1
    finally:
        sys.path.remove(str(tmp_path))
    feature = sys.modules["shibokensupport.feature"]
    assert feature.pyside_feature_dict["hook_probe_gone"] == 0


def test_a_module_that_selects_snake_case_keeps_it(tmp_path: Path) -> None:
    # In a fresh interpreter (features switch type dictionaries per module).
    (tmp_path / "with_snake_case.py").write_text(SNAKE_CASE_MODULE)
    (tmp_path / "plain_names.py").write_text(PLAIN_MODULE)
    script = textwrap.dedent(
        """
        import sys
        import imaging_viewer.ui
        feature = sys.modules["shibokensupport.feature"]
        assert feature._mod_uses_pyside.__module__.endswith("pyside_import_hook")
        import with_snake_case, plain_names
        print(with_snake_case.names(), plain_names.names())
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(True, False) (False, True)"
