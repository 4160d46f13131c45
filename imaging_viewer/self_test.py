"""``imaging-viewer --self-test``: check that this installation can do its work.

The same checks run in a clone, an installed wheel and the frozen bundle
(packaging/), where a decoder plugin or a Qt library left out of the build shows
up only at run time:

1. every compressed transfer syntax the viewer supports decodes a bundled sample
   (resources/samples/, from pydicom's test files): JPEG baseline (PS3.5 A.4.1),
   JPEG lossless (A.4.1), JPEG-LS (A.4.3), JPEG 2000 (A.4.4) and RLE (Annex G);
   lossless ones must equal the uncompressed image, the lossy one come close;
2. SimpleITK resamples a volume on an oblique plane (the MPR path);
3. the viewer's window opens offscreen, shows a sample and is grabbed.

It prints one line a check and returns 0 when all passed, 1 otherwise.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from imaging_viewer.resource_files import resource_path

if TYPE_CHECKING:
    from collections.abc import Callable

SAMPLES: tuple[tuple[str, str, str, str, float], ...] = (
    # transfer syntax, its UID, sample, lossless reference, largest mean |error|
    ("RLE Lossless", "1.2.840.10008.1.2.5", "MR_small_RLE.dcm", "MR_small.dcm", 0.0),
    (
        "JPEG-LS Lossless",
        "1.2.840.10008.1.2.4.80",
        "MR_small_jpeg_ls_lossless.dcm",
        "MR_small.dcm",
        0.0,
    ),
    (
        "JPEG 2000 Lossless",
        "1.2.840.10008.1.2.4.90",
        "MR_small_jp2klossless.dcm",
        "MR_small.dcm",
        0.0,
    ),
    (
        "JPEG Lossless SV1",
        "1.2.840.10008.1.2.4.70",
        "SC_rgb_jpeg_gdcm.dcm",
        "SC_rgb_rle.dcm",
        0.0,
    ),
    (
        "JPEG Baseline",
        "1.2.840.10008.1.2.4.50",
        "SC_rgb_jpeg_dcmtk.dcm",
        "SC_rgb_rle.dcm",
        2.0,
    ),
)
"""The samples and what each must match (pydicom's test files; resources/samples)."""


def _decode(name: str) -> np.ndarray[Any, Any]:
    from imaging_viewer.core.dicom.pixels import decode_frames

    return np.asarray(decode_frames(str(resource_path("samples", name)), [0]))


def _check_sample(
    syntax: str, uid: str, sample: str, reference: str, tolerance: float
) -> str:
    from imaging_viewer.core.dicom.scan import read_header

    header = read_header(str(resource_path("samples", sample)))
    found = getattr(header, "transfer_syntax_uid", None)
    if found is None:
        raise AssertionError(f"{sample} does not read: {getattr(header, 'reason', '')}")
    if found != uid:
        raise AssertionError(f"{sample} is {found}, not {uid}")
    pixels, expected = _decode(sample), _decode(reference)
    if pixels.shape != expected.shape:
        raise AssertionError(f"shape {pixels.shape}, expected {expected.shape}")
    error = float(np.abs(pixels.astype(np.float64) - expected).mean())
    if error > tolerance:
        raise AssertionError(f"mean |error| {error:.2f} > {tolerance}")
    size = "×".join(str(n) for n in pixels.shape[1:])
    match = "equals" if tolerance == 0 else f"within {error:.2f} of"
    return f"{syntax} ({uid}): {sample} {size} {match} {reference}"


def _check_resample() -> str:
    from imaging_viewer.core.mpr import plane_for, reslice
    from imaging_viewer.core.volume import Volume

    image = _decode("MR_small.dcm")[0].astype(np.int16)
    voxels = np.ascontiguousarray(np.stack([image] * 8))
    volume = Volume(voxels=voxels, ijk_to_lps=np.diag([1.0, 1.0, 2.0, 1.0]))
    centre = np.array([32.0, 32.0, 7.0])
    angle = np.deg2rad(20.0)
    rotation = np.array(
        [
            [np.cos(angle), 0.0, np.sin(angle)],
            [0.0, 1.0, 0.0],
            [-np.sin(angle), 0.0, np.cos(angle)],
        ]
    )
    plane = plane_for(volume, "axial", centre, rotation)
    result = reslice(volume, plane, interpolation="nearest")
    if "SimpleITK" not in sys.modules:
        raise AssertionError("the oblique plane did not go through SimpleITK")
    # right and down are orthonormal: a point's pixel is its projection on them
    offset = centre - plane.origin_lps
    column = round(float(offset @ plane.right_lps) / plane.spacing_mm[0])
    row = round(float(offset @ plane.down_lps) / plane.spacing_mm[1])
    got = int(result.pixels[row, column])
    if got != int(image[32, 32]):
        raise AssertionError(f"centre pixel {got}, expected {int(image[32, 32])}")
    import SimpleITK

    columns, rows = plane.size_px
    return (
        f"SimpleITK {SimpleITK.Version.VersionString()} resampled a 20° oblique "
        f"plane ({columns}×{rows} px) of an 8×64×64 volume"
    )


def _check_window() -> str:
    if os.environ.get("QT_QPA_PLATFORM") is None:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtGui import QImage
    from PySide6.QtWidgets import QApplication

    from imaging_viewer.ui.app import STYLE, apply_dark_theme
    from imaging_viewer.ui.main_window import MainWindow
    from imaging_viewer.ui.workers import stop_background_work

    app = QApplication.instance() or QApplication([sys.argv[0], "-style", STYLE])
    assert isinstance(app, QApplication)
    apply_dark_theme(app, set_style=False)
    window = MainWindow(remember_settings=False)
    window.resize(900, 700)
    try:
        with tempfile.TemporaryDirectory(prefix="imaging-viewer-self-test") as tmp:
            shot = Path(tmp) / "window.png"
            status = window.run_screenshot(
                resource_path("samples", "MR_small.dcm"), shot, None
            )
            image = QImage(str(shot))
            if status != 0 or image.isNull():
                raise AssertionError("the window could not be grabbed")
            viewport = window.viewport_widgets[0]
            centre = viewport.mapTo(window, viewport.rect().center())
            grey = {
                image.pixelColor(centre.x() + dx, centre.y() + dy).value()
                for dx in range(-20, 21, 5)
                for dy in range(-20, 21, 5)
            }
            if len(grey) < 3:
                raise AssertionError("the viewport shows no image")
    finally:
        window.close()
        stop_background_work()
    platform = QApplication.platformName()
    return f"the viewer window showed MR_small.dcm ({platform} platform)"


def run_self_test(out: Callable[[str], None] = print) -> int:
    """Run every check, print one line each; 0 when all passed, else 1."""
    from imaging_viewer import __version__

    frozen = " (frozen)" if getattr(sys, "frozen", False) else ""
    python = sys.version.split()[0]
    out(f"imaging-viewer {__version__}{frozen} self-test, Python {python}")
    checks: list[tuple[str, Callable[[], str]]] = [
        (f"decode {row[0]}", partial(_check_sample, *row)) for row in SAMPLES
    ]
    checks += [("resample", _check_resample), ("window", _check_window)]
    failed = 0
    for name, check in checks:
        start = time.perf_counter()
        try:
            detail = check()
        except Exception as error:  # every failure is reported, none stops the rest
            failed += 1
            out(f"FAIL  {name}: {type(error).__name__}: {error}")
            if os.environ.get("IMAGING_VIEWER_DEBUG"):
                traceback.print_exc()
            continue
        out(f"ok    {detail} [{(time.perf_counter() - start) * 1000:.0f} ms]")
    passed = len(checks) - failed
    out(f"self-test: {passed} passed, {failed} failed")
    return 1 if failed else 0
