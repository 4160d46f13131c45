"""Tools the packaging tests call: present, or skipped (an error in CI)."""

from __future__ import annotations

import os
import shutil

import pytest


def in_ci() -> bool:
    """In CI (``CI=true``, or the corpus required as in .ci/run)."""
    return (
        os.environ.get("CI", "").lower() == "true"
        or os.environ.get("IMAGING_VIEWER_REQUIRE_CORPUS") == "1"
    )


def skip_or_fail(message: str) -> None:
    """Skip on a developer's clone; fail in CI, where everything must be there."""
    if in_ci():
        pytest.fail(f"{message} (CI must have it: scripts/bootstrap.sh installs it)")
    pytest.skip(message)


def require_tool(name: str, package: str) -> str:
    """The path of the command ``name`` (Debian package ``package``)."""
    path = shutil.which(name)
    if path is None:
        skip_or_fail(f"{name} not found: apt-get install {package}")
    assert path is not None
    return path
