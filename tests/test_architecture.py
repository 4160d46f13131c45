"""The import rules of ARCHITECTURE.md, checked in fresh interpreters.

lint-imports checks the static import graph. These tests check what is really loaded
at run time, which also catches imports hidden in functions run at import time and
eager imports of optional heavy modules (SimpleITK must be imported lazily).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
QT = ("PySide6", "shiboken6", "pyqtgraph")
FORBIDDEN_IN_CORE = (*QT, "SimpleITK", "imaging_viewer.ui")

# Runs in a child interpreter: imports each module in turn and records which forbidden
# top-level modules appeared after which import, so a failure names the culprit.
_PROBE = textwrap.dedent(
    """
    import importlib, json, pkgutil, sys

    forbidden = {forbidden!r}
    targets = {targets!r}

    def loaded():
        return {{
            name for name in forbidden
            if any(m == name or m.startswith(name + ".") for m in sys.modules)
        }}

    report = {{"imported": [], "culprits": {{}}}}
    for target in targets:
        names = [target]
        if target.endswith(".*"):
            package = importlib.import_module(target[:-2])
            names = [package.__name__] + [
                info.name
                for info in pkgutil.walk_packages(
                    package.__path__, package.__name__ + ".", onerror=lambda name: None
                )
            ]
        for name in names:
            before = loaded()
            importlib.import_module(name)
            report["imported"].append(name)
            for new in sorted(loaded() - before):
                report["culprits"][new] = name
    print(json.dumps(report))
    """
)


def probe(*targets: str, forbidden: tuple[str, ...]) -> dict[str, object]:
    """Import ``targets`` (``"pkg.*"`` = the package and all its submodules)."""
    code = _PROBE.format(forbidden=list(forbidden), targets=list(targets))
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO_ROOT,
        check=False,
    )
    assert result.returncode == 0, f"import failed:\n{result.stderr}"
    report: dict[str, object] = json.loads(result.stdout.splitlines()[-1])
    return report


def test_core_imports_neither_qt_nor_simpleitk() -> None:
    report = probe("imaging_viewer.core.*", forbidden=FORBIDDEN_IN_CORE)
    imported = report["imported"]
    assert isinstance(imported, list)
    assert "imaging_viewer.core.geometry" in imported
    assert "imaging_viewer.core.volume" in imported
    assert report["culprits"] == {}, (
        "core must stay Qt-free and import SimpleITK lazily; "
        f"first imported by: {report['culprits']}"
    )


def test_package_import_loads_no_qt() -> None:
    report = probe("imaging_viewer", forbidden=QT)
    assert report["culprits"] == {}


@pytest.mark.skipif(
    importlib.util.find_spec("imaging_viewer.cli") is None,
    reason="imaging_viewer.cli not written yet",
)
def test_cli_import_is_headless_and_light() -> None:
    # The CLI runs without a display and starts fast: Qt only for the window,
    # SimpleITK only when converting.
    report = probe("imaging_viewer.cli", forbidden=(*QT, "SimpleITK"))
    assert report["culprits"] == {}


UI_PACKAGE = REPO_ROOT / "imaging_viewer" / "ui"
MAIN_WINDOW_MAX_LINES = 600
"""The window is its grid, docks and status bar: it stays under this many lines."""
UI_FUNCTION_MAX_LINES = 80
"""No function of the UI is longer, from ``def`` to its last line, docstring
included."""


def _long_functions(path: Path) -> list[str]:
    """``path:line name (n lines)`` for each function of ``path`` that is too long."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            assert node.end_lineno is not None
            length = node.end_lineno - node.lineno + 1
            if length > UI_FUNCTION_MAX_LINES:
                where = path.relative_to(REPO_ROOT)
                found.append(f"{where}:{node.lineno} {node.name} ({length} lines)")
    return found


def test_the_main_window_stays_small() -> None:
    lines = (UI_PACKAGE / "main_window.py").read_text(encoding="utf-8").splitlines()
    assert len(lines) < MAIN_WINDOW_MAX_LINES, (
        f"ui/main_window.py has {len(lines)} lines: give a whole responsibility "
        "a module of its own (docks, export, dialogs, settings menus...)"
    )


def test_no_ui_function_is_long() -> None:
    paths = sorted(UI_PACKAGE.rglob("*.py"))
    assert UI_PACKAGE / "main_window.py" in paths
    long = [entry for path in paths for entry in _long_functions(path)]
    assert long == [], f"longer than {UI_FUNCTION_MAX_LINES} lines: split them"
