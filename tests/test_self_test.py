"""``imaging-viewer --self-test`` in the clone (tests/packaging runs it frozen)."""

from __future__ import annotations

import os
import subprocess
import sys

from imaging_viewer.self_test import SAMPLES
from tests.conftest import REPO_ROOT


def test_self_test_passes_and_names_every_check() -> None:
    env = os.environ | {"QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-m", "imaging_viewer", "--self-test"],
        cwd=REPO_ROOT / "tests",
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for _syntax, uid, *_ in SAMPLES:
        assert f"({uid})" in result.stdout
    assert "SimpleITK" in result.stdout
    assert "viewer window showed" in result.stdout
    assert f"{len(SAMPLES) + 2} passed, 0 failed" in result.stdout


def test_self_test_samples_decode_like_pydicom() -> None:
    """The samples are what their names say, by pydicom alone (no code of ours)."""
    import numpy as np
    import pydicom

    from imaging_viewer.resource_files import resource_path

    reference = pydicom.dcmread(resource_path("samples", "MR_small.dcm")).pixel_array
    for name in ("MR_small_RLE.dcm", "MR_small_jpeg_ls_lossless.dcm"):
        ds = pydicom.dcmread(resource_path("samples", name))
        assert np.array_equal(ds.pixel_array, reference)
