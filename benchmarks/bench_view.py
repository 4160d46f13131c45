"""Benchmark the viewer window: frame times of scroll and window drag, time to image.

Run: python benchmarks/bench_view.py [--platforms offscreen xcb] [--seconds 3]
     [--startup-repeat 5] [--switch-repeat 3] [--workdir DIR] [--ct-workdir DIR]

Data (generated once, outside the repo, reused between runs):

- the 300-slice 512² CT series of ``bench_load.py`` (its generator is imported: the
  28 real Philips slices of ``../shared/dicom/dcm_qa_ct``, interpolated along z),
  uncompressed, and its JPEG-LS copy (a second series, for switching);
- a 3000×3000 12-bit DX (Digital X-Ray For Presentation, uncompressed): the
  corpus CR hip (``RG2_JPLL.dcm``, 2140×1760, 10 bits) upsampled bilinearly,
  centred on a square canvas, with a little noise.

Each platform (``offscreen``; ``xcb`` on a private Xvfb via ``xvfb-run``) runs in
its own process; every measurement runs in a fresh child process under it:

- **frames**: a shown ``SliceViewportWidget`` of 1000×1000 px, with an (empty)
  annotation set as in the window. A frame is the
  state edit (``set_slice(k)`` for scroll, ``set_window(...)`` for window drag,
  with ``image_item.smooth = False`` as during a real drag) and a synchronous
  ``viewport().repaint()``: median and p95. The same edit followed by
  ``processEvents()`` (one paint, as for input events) runs in a loop for
  ``--seconds``: sustained fps. ``render_slice`` alone (same frames, into a
  preallocated buffer), repaints with nothing changed, nearest scaling and no
  overlays are timed the same way, to split rendering from Qt painting. A frame
  "floor" (a plain QWidget smoothly drawing one of two windowed images made
  beforehand, fitted as the viewport fits them) shows what any PySide6 viewer
  pays per frame for the draw and the flush; targets print the ratio to it.
- **startup**: ``python bench_view.py --child startup FOLDER`` runs the real
  ``imaging_viewer.cli.main([FOLDER])`` (what ``python -m imaging_viewer FOLDER``
  runs) with hooks that note when it gets where; the time of the first paint of an
  image is taken against the parent's clock just before it launched the process,
  so interpreter start-up counts. The first image on screen is painted by the
  window's first-look view (before pyqtgraph is imported) when the image was read
  ahead; the first paint of the interactive viewport that replaces it is noted
  too. Settings go to a temporary XDG_CONFIG_HOME.
  A "floor" child (numpy, PySide6 and pydicom only; a plain QWidget; the first
  file decoded without a scan) shows what any Python/PySide6 design pays.
- **switch**: in a running app showing a folder of the three series,
  ``show_series`` of another series until its first image is painted: uncached
  (its volume dropped from the window's cache; a CT shows its middle-slice
  preview first), then cached.

``-X importtime`` of ``imaging_viewer.ui.main_window`` (best of 3) is summarized
by package and by the main window's direct imports. The cores other processes
kept busy are printed with each figure. The table at the end says which targets
of the issue are met.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
VIEWPORT_PX = 1000
XRAY_PX = 3000
XRAY_SOURCE = REPO.parent / (
    "shared/dicom/pylibjpeg_data/ljdata/ds/JPEGLosslessSV1/RG2_JPLL.dcm"
)
XRAY_VERSION = 1
XVFB_SERVER_ARGS = "-screen 0 1920x1080x24"
# Targets of the issue.
TARGET_FPS = 60.0
TARGET_FRAME_MS = {"ct512": 2.0, "xray3000": 8.0}
TARGET_FIRST_IMAGE_MS = 450.0
TARGET_SWITCH_MS = 100.0
RESULT_ENV = "BENCH_VIEW_RESULT"
MAIN_WINDOW = "imaging_viewer.ui.main_window"


# --------------------------------------------------------------------------------
# Data


def _default_workdir() -> Path:
    return Path(os.environ.get("TMPDIR") or tempfile.gettempdir()) / (
        "imaging_viewer_bench_view"
    )


def _bench_load() -> Any:
    """``benchmarks/bench_load.py`` as a module (its CT generator and helpers)."""
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    import bench_load

    return bench_load


def _upsample(image: Any, rows: int, columns: int) -> Any:
    """Bilinear resize of a 2D float32 array (pixel centres aligned)."""
    import numpy as np

    def axis(n_in: int, n_out: int) -> tuple[Any, Any, Any]:
        x = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
        x = np.clip(x, 0, n_in - 1)
        low = np.minimum(np.floor(x).astype(np.intp), n_in - 2)
        return low, low + 1, (x - low).astype(np.float32)

    r0, r1, rw = axis(image.shape[0], rows)
    c0, c1, cw = axis(image.shape[1], columns)
    tall = image[r0] * (1 - rw)[:, None] + image[r1] * rw[:, None]
    return tall[:, c0] * (1 - cw)[None, :] + tall[:, c1] * cw[None, :]


def ensure_xray(workdir: Path) -> Path:
    """A folder with one 3000×3000 uint16 DX file, generated unless cached."""
    import numpy as np
    import pydicom
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    folder = workdir / f"dx{XRAY_PX}"
    manifest = workdir / f"dx{XRAY_PX}.json"
    expected = {"version": XRAY_VERSION, "size": XRAY_PX, "source": XRAY_SOURCE.name}
    if manifest.is_file() and len(list(folder.glob("*.dcm"))) == 1:
        try:
            if json.loads(manifest.read_text()) == expected:
                return folder
        except ValueError:
            pass
    if not XRAY_SOURCE.is_file():
        raise SystemExit(f"{XRAY_SOURCE}: the CR hip to start from is missing")
    print(f"  generating a {XRAY_PX}² DX in {folder} ...", flush=True)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    ds = pydicom.dcmread(XRAY_SOURCE)
    source = ds.pixel_array.astype(np.float32) * 4.0  # 10 -> 12 bits
    scale = XRAY_PX / max(source.shape)
    rows, columns = (round(n * scale) for n in source.shape)
    body = _upsample(source, rows, columns)
    canvas = np.full((XRAY_PX, XRAY_PX), float(np.percentile(source, 1)), np.float32)
    top, left = (XRAY_PX - rows) // 2, (XRAY_PX - columns) // 2
    canvas[top : top + rows, left : left + columns] = body
    rng = np.random.default_rng(3000)
    canvas += rng.normal(0.0, 6.0, canvas.shape).astype(np.float32)
    values = np.clip(np.rint(canvas), 0, 4095).astype(np.uint16)
    spacing = round(0.2 / scale, 6)
    entropy = ["imaging_viewer bench_view", str(XRAY_PX)]
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.1.1"  # DX Image Storage - Presentation
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.SOPInstanceUID = generate_uid(entropy_srcs=[*entropy, "sop"])
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.SeriesInstanceUID = generate_uid(entropy_srcs=[*entropy, "series"])
    ds.Modality = "DX"
    ds.SeriesDescription = f"bench_view synthetic DX {XRAY_PX}"
    ds.Rows = ds.Columns = XRAY_PX
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    ds.PixelRepresentation = 0
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.PixelSpacing = [spacing, spacing]
    ds.ImagerPixelSpacing = [spacing, spacing]
    ds.WindowCenter, ds.WindowWidth = 2044, 4096
    ds.PixelData = values.tobytes()
    ds["PixelData"].VR = "OW"
    ds.save_as(folder / "DX.dcm", enforce_file_format=True)
    manifest.write_text(json.dumps(expected))
    return folder


def ensure_study(workdir: Path, folders: dict[str, Path]) -> Path:
    """A folder of symbolic links to each series' files (one sub-folder each)."""
    study = workdir / "switch_study"
    for name, source in folders.items():
        target = study / name
        files = sorted(p for p in source.iterdir() if p.is_file())
        if target.is_dir() and len(list(target.iterdir())) == len(files):
            continue
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for path in files:
            (target / path.name).symlink_to(path.resolve())
    return study


# --------------------------------------------------------------------------------
# Children (fresh processes): --child frames | startup | switch


def _now() -> float:
    # CLOCK_MONOTONIC on Linux: comparable between processes.
    return time.perf_counter()


def _stats(times_ms: list[float]) -> dict[str, float]:
    ordered = sorted(times_ms)
    return {
        "median": statistics.median(ordered),
        "p95": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
        "n": len(ordered),
    }


def _qt_app() -> Any:
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication

    from imaging_viewer.ui.app import apply_dark_theme

    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)
    app = QApplication.instance() or QApplication(["bench_view"])
    app.setApplicationName("imaging_viewer")
    app.setOrganizationName("imaging_viewer")
    apply_dark_theme(app)
    return app


def _paint_counter() -> dict[str, int]:
    """Counts SliceImageItem paints that drew an image (class-wide hook)."""
    from imaging_viewer.ui.slice_viewport import SliceImageItem

    counter = {"paints": 0}
    original = SliceImageItem.paint

    def paint(self: Any, painter: Any, option: Any, widget: Any = None) -> None:
        original(self, painter, option, widget)
        if self._image is not None:
            counter["paints"] += 1

    SliceImageItem.paint = paint
    return counter


def _cpu_seconds() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _children_cpu_seconds() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _system_busy() -> float:
    """CPU seconds all processes have used since boot (/proc/stat)."""
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:9]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


class _OthersMeter:
    """Cores other processes kept busy meanwhile (0 on a quiet machine)."""

    def __enter__(self) -> _OthersMeter:
        self.busy0, self.cpu0, self.t0 = _system_busy(), _cpu_seconds(), _now()
        return self

    def __exit__(self, *_: object) -> None:
        wall = max(_now() - self.t0, 1e-6)
        own = _cpu_seconds() - self.cpu0
        self.others = max(0.0, (_system_busy() - self.busy0 - own) / wall)


# What each frame row does: (key, label, smooth, overlays, interaction).
FRAME_ROWS = (
    ("scroll", "scroll", True, True, "scroll"),
    ("scroll_nearest", "  same, nearest scaling", False, True, "scroll"),
    ("scroll_bare", "  same, no overlays", False, False, "scroll"),
    ("window_drag", "window drag", False, True, "window"),
    ("window_drag_bare", "  same, no overlays", False, False, "window"),
    ("repaint_smooth", "repaint, no change", True, True, "none"),
    ("repaint_nearest", "  same, nearest scaling", False, True, "none"),
)
FRAME_FLOOR = ("floor", "floor: plain QWidget")
"""A floor for frames: a plain QWidget draws one of two windowed images made
beforehand, smoothly scaled to fit as the viewport does; no render, overlays or
scene. What any PySide6 viewer pays per frame for the draw and the flush."""


def child_frames(args: argparse.Namespace) -> dict[str, Any]:
    import math

    import numpy as np
    from PySide6.QtTest import QTest

    from imaging_viewer.core.annotations.model import AnnotationSet
    from imaging_viewer.core.dicom.load import load_volume
    from imaging_viewer.core.dicom.scan import scan_folder
    from imaging_viewer.core.render import render_slice
    from imaging_viewer.core.viewer_state import ViewportState
    from imaging_viewer.core.volume import Window
    from imaging_viewer.ui.slice_viewport import SliceViewportWidget

    app = _qt_app()
    counter = _paint_counter()
    seconds = args.seconds
    results: dict[str, Any] = {
        "platform": app.platformName(),
        "seconds": seconds,
        "cases": {},
    }

    def synchronous(widget: Any, step: Any) -> dict[str, Any]:
        """Frames of ``step(n)`` + ``viewport().repaint()``, timed together."""
        times: list[float] = []
        start = _now()
        n = 0
        while _now() - start < seconds / 2:
            t0 = _now()
            step(n)
            widget.viewport().repaint()
            times.append((_now() - t0) * 1000)
            # Untimed: the scene's queued update would paint once more here.
            app.processEvents()
            n += 1
        return _stats(times)

    def sustained(widget: Any, step: Any) -> dict[str, Any]:
        """``step(n)`` + ``processEvents()`` (one paint, as for input events)."""
        times: list[float] = []
        paints0 = counter["paints"]
        with _OthersMeter() as meter:
            start = _now()
            n = 0
            while _now() - start < seconds:
                t0 = _now()
                step(n)
                app.processEvents()
                times.append((_now() - t0) * 1000)
                n += 1
            elapsed = _now() - start
        return {
            **_stats(times),
            "fps": n / elapsed,
            "paints_per_frame": (counter["paints"] - paints0) / max(n, 1),
            "others": meter.others,
        }

    def render_only(pixels_at: Any, window_at: Any, display: Any) -> dict[str, Any]:
        buffer = np.empty(pixels_at(0).shape, dtype=np.uint32)
        for n in range(10):
            render_slice(pixels_at(n), window_at(n), display=display, out=buffer)
        times: list[float] = []
        start = _now()
        n = 0
        while _now() - start < seconds / 2:
            t0 = _now()
            render_slice(pixels_at(n), window_at(n), display=display, out=buffer)
            times.append((_now() - t0) * 1000)
            n += 1
        return _stats(times)

    def measure(folder: str) -> dict[str, Any]:
        series = scan_folder(Path(folder)).series[0]
        volume = load_volume(series)
        state = ViewportState()
        state.show(series, volume)
        widget = SliceViewportWidget(state)
        # As the window sets it up: with the study's (here empty) annotations.
        widget.set_annotations(AnnotationSet())
        widget.resize(VIEWPORT_PX, VIEWPORT_PX)
        widget.show()
        QTest.qWaitForWindowExposed(widget)
        for _ in range(20):
            app.processEvents()
            time.sleep(0.01)
        window0 = state.editable_window() or Window(2048.0, 4096.0)
        n_slices = state.n_slices
        display = volume.display.with_user_inversion(state.invert)
        voxels = volume.time_point(0).voxels
        k_mid = state.slice_index

        def slice_at(n: int, n_slices: int = n_slices) -> int:
            # Ping-pong through the whole stack, one slice per frame.
            period = max(1, 2 * (n_slices - 1))
            k = n % period
            return k if k < n_slices else period - k

        def window_at(n: int, w: Window = window0) -> Window:
            # A drag: centre and width change a little every frame, never repeat.
            return Window(
                w.center + 0.3 * w.width * math.sin(n / 17.0) + n * 1e-6,
                max(1.0, w.width * (1.0 + 0.5 * math.sin(n / 29.0))),
                "manual",
            )

        steps = {
            "scroll": lambda n: state.set_slice(slice_at(n)),
            "window": lambda n: state.set_window(window_at(n)),
            "none": lambda n: widget.viewport().update(),
        }
        case: dict[str, Any] = {
            "shape": list(voxels.shape[1:]),
            "slices": n_slices,
            "viewport_px": [widget.viewport().width(), widget.viewport().height()],
            "rows": {},
        }
        for key, _label, smooth, overlays, interaction in FRAME_ROWS:
            if interaction == "scroll" and n_slices == 1:
                continue
            widget.image_item.smooth = smooth
            widget.viewer.show_overlays = overlays
            step = steps[interaction]
            for n in range(10):  # warm-up: LUT caches, first paints
                step(n)
                app.processEvents()
            row = {"sync": synchronous(widget, step), "loop": sustained(widget, step)}
            if interaction == "scroll" and smooth:
                row["render"] = render_only(
                    lambda n: voxels[slice_at(n)], lambda n: state.window, display
                )
            elif interaction == "window" and overlays:
                row["render"] = render_only(lambda n: voxels[k_mid], window_at, display)
            case["rows"][key] = row
            state.set_slice(k_mid)
            state.reset_window()
        widget.image_item.smooth = True
        widget.viewer.show_overlays = True
        case["zoom_factor"] = widget.zoom_factor()
        widget.close()
        widget.deleteLater()
        app.processEvents()
        case["rows"][FRAME_FLOOR[0]] = floor(
            [voxels[k_mid], voxels[slice_at(k_mid + 1)]], state.window, display
        )
        return case

    def floor(images: list[Any], window: Any, display: Any) -> dict[str, Any]:
        from PySide6.QtCore import QRectF
        from PySide6.QtGui import QColor, QImage, QPainter
        from PySide6.QtWidgets import QWidget

        buffers = [render_slice(pixels, window, display=display) for pixels in images]
        rows, columns = buffers[0].shape
        qimages = [
            QImage(b.data, columns, rows, columns * 4, QImage.Format.Format_RGB32)
            for b in buffers
        ]
        black = QColor(0, 0, 0)

        class FloorView(QWidget):
            shown = 0

            def paintEvent(self, event: Any) -> None:
                painter = QPainter(self)
                painter.fillRect(self.rect(), black)
                painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
                # Fitted with the viewport's 2 % margin (square pixels here).
                scale = min(self.width() / columns, self.height() / rows) / 1.04
                width, height = columns * scale, rows * scale
                painter.drawImage(
                    QRectF(
                        (self.width() - width) / 2,
                        (self.height() - height) / 2,
                        width,
                        height,
                    ),
                    qimages[self.shown % 2],
                )
                painter.end()
                counter["paints"] += 1

        view = FloorView()
        view.resize(VIEWPORT_PX, VIEWPORT_PX)
        view.show()
        QTest.qWaitForWindowExposed(view)

        class Synchronous:
            """``synchronous``'s interface: repaint() through ``viewport()``."""

            def viewport(self) -> Any:
                return view

        def step(n: int) -> None:
            view.shown = n
            view.update()

        for n in range(10):
            step(n)
            app.processEvents()
        row = {"sync": synchronous(Synchronous(), step), "loop": sustained(view, step)}
        view.close()
        view.deleteLater()
        app.processEvents()
        return row

    for name, folder in (("ct512", args.ct), ("xray3000", args.xray)):
        results["cases"][name] = measure(folder)
    return results


REFLINE_CASES = (
    ("mpr2x2", "MPR 2×2: three planes + acquired slices"),
    ("stack_coronal", "CT stack beside its coronal reformat"),
)
"""Reference line cases: several viewports of one frame of reference, each of
which draws the others' slices (issue 15 item 7)."""
TARGET_REFLINES_RATIO = 1.10
"""Reference lines on may cost at most 10 % of a frame with them off."""


def child_reflines(args: argparse.Namespace) -> dict[str, Any]:
    """Frames of several viewports (1000×1000 px in all) with reference lines
    on and off, alternated in rounds so that both see the same machine."""
    import math

    import numpy as np
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QGridLayout, QWidget

    from imaging_viewer.core.annotations.model import AnnotationSet
    from imaging_viewer.core.dicom.load import load_volume
    from imaging_viewer.core.dicom.scan import scan_folder
    from imaging_viewer.core.viewer_state import ViewerState
    from imaging_viewer.core.volume import Window
    from imaging_viewer.ui.mpr_layouts import VIEWPORT_COLOURS
    from imaging_viewer.ui.slice_viewport import SliceViewportWidget

    app = _qt_app()
    counter = _paint_counter()
    series = scan_folder(Path(args.ct)).series[0]
    volume = load_volume(series)
    results: dict[str, Any] = {
        "platform": app.platformName(),
        "seconds": args.seconds,
        "cases": {},
    }

    def siblings(viewer: Any, index: int) -> list[tuple[Any, Any]]:
        # As the window's MprLayouts.siblings: the crosshair's lines.
        state = viewer.viewports[index]
        shown = viewer.viewports[: viewer.visible_count]
        return [
            (other, VIEWPORT_COLOURS[n])
            for n, other in enumerate(shown)
            if n != index and other.is_mpr and other.volume is state.volume
        ]

    def build(case: str) -> tuple[Any, list[Any], Any]:
        viewer = ViewerState(mpr_layout="2x2")
        viewer.viewports[0].show(series, volume)
        if case == "mpr2x2":
            assert viewer.enter_mpr(0)
        else:
            viewer.layout = "1x2"
            coronal = viewer.viewports[1]
            coronal.show(series, volume)
            k, j, i = volume.shape_kji[:3]
            centre = volume.ijk_to_lps @ np.array([(i - 1) / 2, (j - 1) / 2, k / 2, 1])
            coronal.cursor_lps = (float(centre[0]), float(centre[1]), float(centre[2]))
            coronal.orientation = "coronal"
            coronal.sync_index_to_cursor()
        container = QWidget()
        grid = QGridLayout(container)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(2)
        widgets = []
        for index, cell in enumerate(viewer.cells):
            state = viewer.viewports[index]
            widget = SliceViewportWidget(state, viewer=viewer)
            widget.set_annotations(AnnotationSet())
            widget.colour = VIEWPORT_COLOURS[index]
            widget.siblings = lambda index=index: siblings(viewer, index)
            grid.addWidget(widget, *cell)
            widgets.append(widget)
        container.resize(VIEWPORT_PX, VIEWPORT_PX)
        container.show()
        QTest.qWaitForWindowExposed(container)
        for _ in range(20):
            app.processEvents()
            time.sleep(0.01)
        return viewer, widgets, container

    def measure(case: str) -> dict[str, Any]:
        viewer, widgets, container = build(case)
        source = viewer.viewports[0]
        n_slices = source.n_slices
        window0 = source.editable_window() or Window(40.0, 400.0)

        def slice_at(n: int) -> int:
            period = max(1, 2 * (n_slices - 1))
            k = n % period
            return k if k < n_slices else period - k

        def window_at(n: int, w: Window = window0) -> Window:
            return Window(
                w.center + 0.3 * w.width * math.sin(n / 17.0) + n * 1e-6,
                max(1.0, w.width * (1.0 + 0.5 * math.sin(n / 29.0))),
                "manual",
            )

        steps = {
            "scroll": lambda n: source.set_slice(slice_at(n)),
            "window": lambda n: source.set_window(window_at(n)),
        }
        rows: dict[str, Any] = {}
        rounds = 4
        for interaction, step in steps.items():
            for widget in widgets:
                widget.image_item.smooth = interaction == "scroll"
            times: dict[bool, list[float]] = {True: [], False: []}
            paints: dict[bool, int] = {True: 0, False: 0}
            frames: dict[bool, int] = {True: 0, False: 0}
            with _OthersMeter() as meter:
                n = 0
                for _ in range(rounds):
                    for lines in (True, False):
                        viewer.show_reference_lines = lines
                        for _ in range(10):  # warm-up, untimed
                            step(n)
                            app.processEvents()
                            n += 1
                        paints0 = counter["paints"]
                        start = _now()
                        while _now() - start < args.seconds / (2 * rounds):
                            t0 = _now()
                            step(n)
                            app.processEvents()  # paints what changed, as input does
                            times[lines].append((_now() - t0) * 1000)
                            n += 1
                            frames[lines] += 1
                        paints[lines] += counter["paints"] - paints0
            rows[interaction] = {
                "on" if lines else "off": {
                    **_stats(times[lines]),
                    "paints_per_frame": paints[lines] / max(frames[lines], 1),
                }
                for lines in (True, False)
            }
            rows[interaction]["others"] = meter.others
            source.set_slice(n_slices // 2)
            source.reset_window()
        viewer.show_reference_lines = True
        drawn = sum(len(list(w._reference_lines.lines())) for w in widgets)
        container.close()
        container.deleteLater()
        app.processEvents()
        return {
            "viewports": len(widgets),
            "reference_lines_drawn": drawn,
            "rows": rows,
        }

    for case, _label in REFLINE_CASES:
        results["cases"][case] = measure(case)
    return results


class _Marks:
    """perf_counter times of named events (the first occurrence of each)."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}

    def note(self, name: str) -> None:
        self.times.setdefault(name, _now())


class _PatchOnImport:
    """A meta-path finder that patches modules of the viewer as they are
    imported, so the child imports in the app's own order (the app reads its
    first look ahead while the window's modules import)."""

    def __init__(self, patches: dict[str, Any]) -> None:
        self.patches = patches

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        patch = self.patches.pop(name, None)
        if patch is None:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                break
        else:
            return None
        run = spec.loader.exec_module

        def exec_module(module: Any) -> None:
            run(module)
            patch(module)

        spec.loader.exec_module = exec_module
        return spec


def child_startup(args: argparse.Namespace) -> dict[str, Any]:
    marks = _Marks()
    marks.note("child_start")
    windows: list[Any] = []
    result: dict[str, Any] = {}

    def stop() -> None:
        from PySide6.QtWidgets import QApplication

        for window in windows:
            window.cancel_loading()
        app = QApplication.instance()
        if app is not None:
            app.quit()

    def image_painted() -> None:
        if "first_paint" not in marks.times:
            marks.note("first_paint")
            window = windows[0]
            volume = window.state.viewports[0].volume
            result["first_slices"] = volume.shape_kji[0] if volume else None
            result["first_image_shown_at"] = window.first_image_shown_at

    def patch_main_window(module: Any) -> None:
        marks.note("imports")
        from PySide6.QtCore import QTimer

        from imaging_viewer.core.viewer_state import ViewportState

        window_cls = module.MainWindow
        original_init = window_cls.__init__
        original_open = getattr(window_cls, "open_path", None)
        original_scanned = getattr(window_cls, "_on_scanned", None)
        original_show = getattr(ViewportState, "show", None)

        def init(self: Any, *a: Any, **k: Any) -> None:
            marks.note("qapplication")
            QTimer.singleShot(int(args.timeout * 1000), stop)
            original_init(self, *a, **k)
            marks.note("main_window")
            windows.append(self)

        def open_path(self: Any, *a: Any, **k: Any) -> None:
            marks.note("window_shown")
            original_open(self, *a, **k)

        def scanned(self: Any, scan: Any) -> None:
            marks.note("scanned")
            original_scanned(self, scan)

        def show(self: Any, series: Any, volume: Any) -> None:
            if volume is not None:
                marks.note("volume_ready")
            original_show(self, series, volume)

        window_cls.__init__ = init
        # Phase marks only: a hook the app no longer has leaves its mark out.
        for owner, name, hook in (
            (window_cls, "open_path", open_path),
            (window_cls, "_on_scanned", scanned),
            (ViewportState, "show", show),
        ):
            if callable(getattr(owner, name, None)):
                setattr(owner, name, hook)

    def patch_first_look_view(module: Any) -> None:
        view_cls = module.FirstLookView
        original_show_state = view_cls.show_state
        original_paint = view_cls.paintEvent

        def show_state(self: Any, state: Any) -> None:
            original_show_state(self, state)
            if self.has_image:
                marks.note("rendered")

        def paint(self: Any, event: Any) -> None:
            original_paint(self, event)
            if self.has_image:
                image_painted()

        view_cls.show_state = show_state
        view_cls.paintEvent = paint

    def patch_slice_viewport(module: Any) -> None:
        from PySide6.QtCore import QTimer

        item_cls = module.SliceImageItem
        original_set_buffer = item_cls.set_buffer
        original_paint = item_cls.paint

        def set_buffer(self: Any, buffer: Any) -> None:
            marks.note("rendered")
            original_set_buffer(self, buffer)

        def paint(self: Any, painter: Any, option: Any, widget: Any = None) -> None:
            original_paint(self, painter, option, widget)
            if self._image is not None and "viewport_paint" not in marks.times:
                image_painted()
                marks.note("viewport_paint")
                QTimer.singleShot(0, stop)

        item_cls.set_buffer = set_buffer
        item_cls.paint = paint

    sys.meta_path.insert(
        0,
        _PatchOnImport(
            {
                "imaging_viewer.ui.main_window": patch_main_window,
                "imaging_viewer.ui.first_look_view": patch_first_look_view,
                "imaging_viewer.ui.slice_viewport": patch_slice_viewport,
            }
        ),
    )
    from imaging_viewer.cli import main

    status = main([args.folder])
    result.update(status=status, marks=marks.times)
    return result


def child_floor(args: argparse.Namespace) -> dict[str, Any]:
    """A floor for start-up: the least any Python/PySide6 viewer must do.

    Imports numpy, PySide6 and pydicom (no pyqtgraph, no scan), shows a plain
    QWidget, decodes the first file of the folder, windows it with the render
    core and paints it once.
    """
    marks = _Marks()
    marks.note("child_start")
    import pydicom
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtWidgets import QApplication, QWidget

    from imaging_viewer.core.render import render_slice
    from imaging_viewer.core.volume import DisplayDefaults, Window

    marks.note("imports")
    app = QApplication(["bench_view"])
    shown: dict[str, Any] = {}

    class ImageWidget(QWidget):
        def paintEvent(self, event: Any) -> None:
            painter = QPainter(self)
            image = shown.get("image")
            if image is not None:
                painter.drawImage(self.rect(), image)
                marks.note("first_paint")
                QTimer.singleShot(0, app.quit)
            painter.end()

    widget = ImageWidget()
    widget.resize(VIEWPORT_PX, VIEWPORT_PX)
    widget.show()
    marks.note("main_window")
    path = min(p for p in Path(args.folder).iterdir() if p.is_file())
    ds = pydicom.dcmread(path)
    pixels = ds.pixel_array
    marks.note("volume_ready")
    intercept = float(getattr(ds, "RescaleIntercept", 0) or 0)
    window = Window(40.0 - intercept, 400.0)  # in stored values
    rgb = render_slice(pixels, window, display=DisplayDefaults())
    rows, columns = rgb.shape
    shown["buffer"] = rgb
    shown["image"] = QImage(
        rgb.data, columns, rows, columns * 4, QImage.Format.Format_RGB32
    )
    widget.update()
    marks.note("rendered")
    QTimer.singleShot(int(args.timeout * 1000), app.quit)
    app.exec()
    return {"marks": marks.times}


def child_switch(args: argparse.Namespace) -> dict[str, Any]:
    from PySide6.QtCore import QEventLoop, QTimer

    from imaging_viewer.ui.main_window import MainWindow
    from imaging_viewer.ui.slice_viewport import SliceImageItem

    app = _qt_app()
    window = MainWindow(remember_settings=False)
    window.resize(1600, 1000)
    window.show()
    target: dict[str, Any] = {"id": None, "at": None}
    loop = QEventLoop()
    original_paint = SliceImageItem.paint

    def paint(self: Any, painter: Any, option: Any, widget: Any = None) -> None:
        original_paint(self, painter, option, widget)
        state = window.state.viewports[0]
        if (
            target["id"] is not None
            and target["at"] is None
            and self is window.viewport_widgets[0].image_item
            and self._image is not None
            and state.series is not None
            and state.series.id == target["id"]
            and state.volume is not None
        ):
            target["at"] = _now()
            loop.quit()

    SliceImageItem.paint = paint

    def settle(timeout: float = 120.0) -> None:
        """Until scan, loads and thumbnails are done, and nothing is left to paint."""
        browser = window.series_browser
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            app.processEvents()
            busy = window.is_busy or any(v.loading for v in window.state.viewports)
            thumbnails = window.scan_result is not None and any(
                browser.thumbnail_state(s.id) == "pending"
                for s in window.scan_result.series
            )
            if window.scan_result is not None and not busy and not thumbnails:
                break
            time.sleep(0.01)
        for _ in range(10):
            app.processEvents()
            time.sleep(0.01)

    window.open_path(Path(args.folder))
    settle()
    assert window.scan_result is not None
    by_folder = {Path(s.files[0]).parent.name: s.id for s in window.scan_result.series}
    first = window.state.viewports[0].series
    measurements: list[dict[str, Any]] = []

    def switch(name: str, cached: bool) -> None:
        series_id = by_folder[name]
        if not cached:
            workspace = getattr(window, "workspace", None)
            if workspace is not None:
                workspace.cache.discard(series_id)  # forget the loaded volume
            else:  # the window before the workspace (for A/B runs)
                window._volumes.pop(series_id, None)
        settle()
        target.update(id=series_id, at=None)
        timer = QTimer()
        timer.setSingleShot(True)
        timer.timeout.connect(loop.quit)
        timer.start(int(args.timeout * 1000))
        start = _now()
        window.show_series(series_id, 0)
        if target["at"] is None:
            loop.exec()
        timer.stop()
        at = target["at"]
        volume = window.state.viewports[0].volume
        measurements.append(
            {
                "series": name,
                "cached": cached,
                "ms": None if at is None else (at - start) * 1000,
                "slices_shown": volume.shape_kji[0] if volume is not None else None,
            }
        )
        target.update(id=None)
        settle()

    # Each switch goes to a series other than the one shown (showing the shown
    # series again paints nothing): all three uncached, then all three cached.
    names = ["ct_raw", "dx", "ct_jpegls"]
    shown = next((n for n, i in by_folder.items() if first and i == first.id), "")
    if shown in names:
        index = names.index(shown) + 1
        names = names[index:] + names[:index]
    for _ in range(args.switch_repeat):
        for name in names:
            switch(name, cached=False)
        for name in names:
            switch(name, cached=True)
    window.cancel_loading()
    window.close()
    return {
        "first_series": first.description if first is not None else None,
        "measurements": measurements,
    }


def run_child(args: argparse.Namespace) -> None:
    kind = args.child
    if kind == "frames":
        result = child_frames(args)
    elif kind == "startup":
        result = child_startup(args)
    elif kind == "switch":
        result = child_switch(args)
    elif kind == "floor":
        result = child_floor(args)
    elif kind == "reflines":
        result = child_reflines(args)
    else:
        raise SystemExit(f"unknown child {kind}")
    Path(os.environ[RESULT_ENV]).write_text(json.dumps(result))
    if "imaging_viewer.core.dicom.workers" in sys.modules:
        from imaging_viewer.core.dicom.workers import shutdown_worker_pool

        shutdown_worker_pool()
    # Skip the rest of the teardown (Qt objects, threads): the result is out.
    os._exit(0)


# --------------------------------------------------------------------------------
# Platform runner: every child of one platform (under xvfb-run for xcb)


def _child_env(config_home: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO), env.get("PYTHONPATH", "")) if p
    )
    if config_home is not None:
        env["XDG_CONFIG_HOME"] = str(config_home)
    return env


def _launch(
    argv: list[str], env: dict[str, str], timeout: float
) -> tuple[float, dict[str, Any] | None, str]:
    """Run a child; returns (parent clock at launch, its result, output tail).

    The child writes its result to a file and its output goes to a file, not a
    pipe: helper processes it leaves behind cannot keep us waiting.
    """
    with tempfile.TemporaryDirectory(prefix="bench_view_") as tmp:
        result_path = Path(tmp) / "result.json"
        log_path = Path(tmp) / "log.txt"
        with open(log_path, "w") as log:
            busy0, children0 = _system_busy(), _children_cpu_seconds()
            start = _now()
            process = subprocess.Popen(
                argv,
                env=env | {RESULT_ENV: str(result_path)},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            wall = _now() - start
            own = _children_cpu_seconds() - children0
            others = max(0.0, (_system_busy() - busy0 - own) / wall)
        if result_path.is_file():
            result = json.loads(result_path.read_text())
            result.setdefault("others", others)
            return start, result, ""
        return start, None, log_path.read_text(errors="replace")[-2000:]


def _compile_package() -> None:
    """Write the package's bytecode, as installing it does.

    With PYTHONDONTWRITEBYTECODE set (as in some shells and CI) every child
    would otherwise compile the package's ~40 modules from source (~0.1 s)
    on each start, which an installed viewer never does.
    """
    import compileall

    import imaging_viewer

    compileall.compile_dir(Path(imaging_viewer.__file__).parent, quiet=1)


def _importtime_summary(env: dict[str, str], runs: int = 3) -> dict[str, Any]:
    """``-X importtime`` of the main window, best of ``runs``: self time by
    top-level package, and what each direct import of main_window costs in all."""
    by_package: dict[str, float] = {}
    direct: dict[str, float] = {}
    total = float("inf")
    for _ in range(runs):
        process = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {MAIN_WINDOW}"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        packages: dict[str, float] = {}
        children: dict[str, float] = {}
        run_total = float("inf")
        for line in process.stderr.splitlines():
            if not line.startswith("import time:") or line.count("|") != 2:
                continue
            self_us, cumulative_us, raw_name = line.removeprefix("import time:").split(
                "|"
            )
            if not self_us.strip().isdigit():
                continue  # the header line
            name = raw_name.strip()
            depth = (len(raw_name) - len(raw_name.lstrip()) - 1) // 2
            package = name.split(".")[0]
            packages[package] = packages.get(package, 0.0) + int(self_us) / 1000
            if depth == 1:
                children[name] = int(cumulative_us) / 1000
            elif depth == 0 and name == MAIN_WINDOW:
                run_total = int(cumulative_us) / 1000
        if run_total < total:
            total, by_package, direct = run_total, packages, children
    return {"total": total, "by_package": by_package, "direct": direct}


def run_platform(args: argparse.Namespace) -> None:
    platform = args.platform
    env = _child_env()
    env["QT_QPA_PLATFORM"] = platform
    me = [sys.executable, str(Path(__file__).resolve())]
    result: dict[str, Any] = {"platform": platform, "load_before": os.getloadavg()[0]}
    bench_load = _bench_load()

    def quiet() -> float:
        return float(bench_load.wait_for_quiet(args.max_wait))

    if "frames" in args.parts:
        for folder in (args.ct, args.xray):
            bench_load.warm_page_cache(Path(folder))
        quiet()
        _, frames, error = _launch(
            [
                *me,
                "--child",
                "frames",
                "--ct",
                args.ct,
                "--xray",
                args.xray,
                "--seconds",
                str(args.seconds),
            ],
            env,
            timeout=600,
        )
        result["frames"] = frames or {"error": error}
    if "reflines" in args.parts:
        bench_load.warm_page_cache(Path(args.ct))
        quiet()
        _, reflines, error = _launch(
            [
                *me,
                "--child",
                "reflines",
                "--ct",
                args.ct,
                "--seconds",
                str(args.seconds),
            ],
            env,
            timeout=600,
        )
        result["reflines"] = reflines or {"error": error}
    if "startup" in args.parts:
        _compile_package()
        floors = []
        for _ in range(3):
            start = _now()
            subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
            floors.append((_now() - start) * 1000)
        result["python_floor_ms"] = statistics.median(floors)
        result["importtime"] = _importtime_summary(env)
        runs: dict[str, list[dict[str, Any]]] = {}
        for name, kind, folder in (
            ("ct_raw", "startup", args.ct),
            ("ct_jpegls", "startup", args.ct_jpegls),
            ("floor", "floor", args.ct),
        ):
            runs[name] = []
            # One untimed run first: libraries and files into the page cache.
            for attempt in range(args.startup_repeat + 1):
                bench_load.warm_page_cache(Path(folder))
                busy = quiet()
                with tempfile.TemporaryDirectory(prefix="bench_view_cfg") as config:
                    start, child, error = _launch(
                        [*me, "--child", kind, folder],
                        _child_env(Path(config)) | {"QT_QPA_PLATFORM": platform},
                        timeout=120,
                    )
                if attempt == 0:
                    continue
                if child is None:
                    runs[name].append({"error": error})
                    continue
                marks = {k: (v - start) * 1000 for k, v in child["marks"].items()}
                runs[name].append(
                    {
                        "marks": marks,
                        "busy_before": busy,
                        "others": child["others"],
                        "slices": child.get("first_slices"),
                    }
                )
        result["startup"] = runs
    if "switch" in args.parts:
        for folder in (args.ct, args.ct_jpegls, args.xray):
            bench_load.warm_page_cache(Path(folder))
        quiet()
        with tempfile.TemporaryDirectory(prefix="bench_view_cfg") as config:
            _, switch, error = _launch(
                [
                    *me,
                    "--child",
                    "switch",
                    args.study,
                    "--switch-repeat",
                    str(args.switch_repeat),
                ],
                _child_env(Path(config)) | {"QT_QPA_PLATFORM": platform},
                timeout=900,
            )
        result["switch"] = switch or {"error": error}
    result["load_after"] = os.getloadavg()[0]
    Path(args.json_out).write_text(json.dumps(result))


# --------------------------------------------------------------------------------
# Report


def _fmt(value: float | None, spec: str = ".2f") -> str:
    return "—" if value is None else format(value, spec)


def _verdict(ok: bool | None) -> str:
    return {True: "met", False: "MISSED", None: "n/a"}[ok]


STARTUP_PHASES = (
    ("child_start", "interpreter up"),
    ("imports", "imports (the window's modules; floor: its own)"),
    ("main_window", "QApplication + MainWindow"),
    ("window_shown", "window shown, scan starts"),
    ("scanned", "scan of the folder done"),
    ("volume_ready", "first image decoded (preview)"),
    ("rendered", "rendered"),
    ("first_paint", "painted (first image on screen)"),
    ("viewport_paint", "interactive viewport painted"),
)


def print_platform(result: dict[str, Any]) -> list[tuple[str, bool | None, str]]:
    platform = result["platform"]
    targets: list[tuple[str, bool | None, str]] = []
    print(
        f"\n=== platform {platform} (load average {result['load_before']:.2f}"
        f" -> {result['load_after']:.2f}) ==="
    )
    frames = result.get("frames")
    if frames and "error" in frames:
        print(f"frames: FAILED\n{frames['error']}")
    elif frames:
        print(
            f"\nper frame in a {VIEWPORT_PX}×{VIEWPORT_PX} px viewport, ms median / p95"
            "\n  edit+repaint: the state edit and a synchronous viewport().repaint();"
            "\n  event loop: the edit and processEvents() (one paint), its fps"
            f" sustained over {frames.get('seconds', 3):g} s;"
            "\n  render: render_slice alone; others: cores other processes kept busy"
        )
        print(
            f"  {'case':9s} {'interaction':24s} {'edit+repaint':>15s}"
            f" {'event loop':>15s} {'fps':>6s} {'paints':>6s} {'render':>15s}"
            f" {'others':>6s}"
        )
        labels = {key: label for key, label, *_ in FRAME_ROWS}
        labels[FRAME_FLOOR[0]] = FRAME_FLOOR[1]
        for name, case in frames["cases"].items():
            for key, row in case["rows"].items():
                sync, loop, render = row["sync"], row["loop"], row.get("render")
                render_text = (
                    f"{render['median']:6.2f} / {render['p95']:6.2f}" if render else ""
                )
                print(
                    f"  {name:9s} {labels[key]:24s} {sync['median']:6.2f} /"
                    f" {sync['p95']:6.2f} {loop['median']:6.2f} / {loop['p95']:6.2f}"
                    f" {loop['fps']:6.0f} {loop['paints_per_frame']:6.2f}"
                    f" {render_text:>15s} {loop['others']:6.2f}"
                )
            limit = TARGET_FRAME_MS[name]
            floor_row = case["rows"].get(FRAME_FLOOR[0])
            for key in ("scroll", "window_drag"):
                row = case["rows"].get(key)
                if row is None:
                    continue
                sync, loop = row["sync"], row["loop"]
                detail = f"median {sync['median']:.2f} ms, p95 {sync['p95']:.2f}"
                if floor_row is not None:
                    floor_ms = floor_row["sync"]["median"]
                    detail += (
                        f"; floor {floor_ms:.2f} ms"
                        f" ({sync['median'] / floor_ms:.2f}× floor)"
                    )
                targets.append(
                    (
                        f"{platform}: {name} {labels[key]} ≤ {limit:g} ms/frame",
                        sync["median"] <= limit,
                        detail,
                    )
                )
                targets.append(
                    (
                        f"{platform}: {name} {labels[key]} ≥ {TARGET_FPS:g} fps",
                        loop["fps"] >= TARGET_FPS,
                        f"{loop['fps']:.0f} fps",
                    )
                )
    startup = result.get("startup")
    if startup:
        print(
            f"\ntime from process launch (ms, median of runs; python -c pass "
            f"{result['python_floor_ms']:.0f} ms)"
        )
        names = list(startup)
        print(f"  {'phase':40s}" + "".join(f" {n:>10s}" for n in names))
        for key, label in STARTUP_PHASES:
            cells = []
            for name in names:
                values = [
                    r["marks"][key] for r in startup[name] if key in r.get("marks", {})
                ]
                cells.append(_fmt(statistics.median(values) if values else None, ".0f"))
            print(f"  {label:40s}" + "".join(f" {c:>10s}" for c in cells))
        for label, key, how in (
            ("painted, best run", "first_paint", min),
            ("others (cores busy, median)", None, statistics.median),
        ):
            cells = []
            for name in names:
                values = [
                    r["marks"][key] if key else r["others"]
                    for r in startup[name]
                    if "marks" in r and (key is None or key in r["marks"])
                ]
                cells.append(
                    _fmt(how(values) if values else None, ".0f" if key else ".2f")
                )
            print(f"  {label:40s}" + "".join(f" {c:>10s}" for c in cells))
        for name in names:
            values = [
                r["marks"]["first_paint"]
                for r in startup[name]
                if "first_paint" in r.get("marks", {})
            ]
            errors = [r["error"] for r in startup[name] if "error" in r]
            if errors:
                print(f"  {name}: {len(errors)} run(s) failed:\n{errors[0]}")
            if name == "floor":
                continue
            ok = statistics.median(values) <= TARGET_FIRST_IMAGE_MS if values else None
            detail = (
                f"median {statistics.median(values):.0f} ms, min {min(values):.0f}"
                if values
                else "no paint"
            )
            targets.append(
                (
                    f"{platform}: first image of {name} (300 slices) "
                    f"≤ {TARGET_FIRST_IMAGE_MS:g} ms",
                    ok,
                    detail,
                )
            )
        if "floor" in startup:
            print(
                "  floor: imports numpy, PySide6 and pydicom only, a plain QWidget,"
                " the folder's first file\n  decoded without a scan, rendered and"
                " painted: what any Python/PySide6 design pays"
            )
        imports = result["importtime"]
        top = sorted(imports["by_package"].items(), key=lambda kv: -kv[1])[:8]
        print(
            f"\n  import {MAIN_WINDOW}: {imports['total']:.0f} ms"
            " (-X importtime, best of 3); self time by package (ms):"
        )
        print("    " + ", ".join(f"{k} {v:.0f}" for k, v in top))
        direct = sorted(imports["direct"].items(), key=lambda kv: -kv[1])[:8]
        print("  its direct imports, with everything they pull in (ms):")
        print("    " + ", ".join(f"{k} {v:.0f}" for k, v in direct))
    targets += _print_reflines(platform, result.get("reflines"))
    switch = result.get("switch")
    if switch and "error" in switch:
        print(f"switch: FAILED\n{switch['error']}")
    elif switch:
        print("\nseries chosen in the running app -> its first image painted (ms)")
        groups: dict[tuple[str, bool], list[float]] = {}
        for m in switch["measurements"]:
            if m["ms"] is not None:
                groups.setdefault((m["series"], m["cached"]), []).append(m["ms"])
        for (name, cached), values in groups.items():
            label = f"{name} ({'cached' if cached else 'uncached'})"
            print(
                f"  {label:24s} median {statistics.median(values):7.1f}  "
                f"max {max(values):7.1f}  (n={len(values)})"
            )
            targets.append(
                (
                    f"{platform}: switch to {label} ≤ {TARGET_SWITCH_MS:g} ms",
                    statistics.median(values) <= TARGET_SWITCH_MS,
                    f"{statistics.median(values):.0f} ms",
                )
            )
    return targets


def _print_reflines(
    platform: str, reflines: dict[str, Any] | None
) -> list[tuple[str, bool | None, str]]:
    """The reference line cases: frames with the lines on and off, their ratio."""
    targets: list[tuple[str, bool | None, str]] = []
    if not reflines:
        return targets
    if "error" in reflines:
        print(f"reflines: FAILED\n{reflines['error']}")
        return targets
    print(
        f"\nreference lines: viewports filling {VIEWPORT_PX}×{VIEWPORT_PX} px, the"
        " edit and processEvents() (what changed is painted), ms median / p95;"
        "\n  lines on and off alternated in rounds; on/off: the ratio of medians"
    )
    print(
        f"  {'case':50s} {'interaction':11s} {'lines on':>15s} {'lines off':>15s}"
        f" {'on/off':>6s} {'paints':>6s} {'others':>6s}"
    )
    labels = dict(REFLINE_CASES)
    for name, case in reflines["cases"].items():
        label = f"{labels.get(name, name)} (lines: {case['reference_lines_drawn']})"
        # Lines: the reference lines drawn in all its views (crosshairs apart).
        for interaction in ("scroll", "window"):
            row = case["rows"][interaction]
            on, off = row["on"], row["off"]
            ratio = on["median"] / off["median"] if off["median"] else math.nan
            print(
                f"  {label:50s} {interaction:11s} {on['median']:6.2f} /"
                f" {on['p95']:6.2f} {off['median']:6.2f} / {off['p95']:6.2f}"
                f" {ratio:6.2f} {on['paints_per_frame']:6.2f} {row['others']:6.2f}"
            )
            label = ""
            targets.append(
                (
                    f"{platform}: {name} {interaction} with reference lines ≤"
                    f" {TARGET_REFLINES_RATIO:g}× without",
                    ratio <= TARGET_REFLINES_RATIO,
                    f"{ratio:.2f}× ({on['median']:.2f} vs {off['median']:.2f} ms)",
                )
            )
    return targets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--platforms",
        nargs="+",
        default=["offscreen", "xcb"],
        choices=["offscreen", "xcb"],
    )
    parser.add_argument(
        "--parts",
        nargs="+",
        default=["frames", "reflines", "startup", "switch"],
        choices=["frames", "reflines", "startup", "switch"],
    )
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--startup-repeat", type=int, default=5)
    parser.add_argument("--switch-repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=_default_workdir())
    parser.add_argument(
        "--ct-workdir",
        type=Path,
        help="where bench_load.py keeps its CT series (default: its own default)",
    )
    parser.add_argument(
        "--max-wait",
        type=float,
        default=20.0,
        help="seconds to wait for other processes to leave the cores idle before "
        "each measurement (the 'others' figures say how busy they kept them)",
    )
    parser.add_argument("--json", type=Path, help="also write all results here")
    # Internal: the platform runner and the children.
    parser.add_argument("--platform", help=argparse.SUPPRESS)
    parser.add_argument("--json-out", help=argparse.SUPPRESS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("folder", nargs="?", help=argparse.SUPPRESS)
    for hidden in ("--ct", "--ct-jpegls", "--xray", "--study"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    parser.add_argument("--timeout", type=float, default=60.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args)
        return
    if args.platform:
        run_platform(args)
        return

    workdir = args.workdir.resolve()
    for folder in (workdir, args.ct_workdir):
        if folder is not None and folder.resolve().is_relative_to(REPO):
            raise SystemExit(f"{folder} is inside the repo: choose another")
    bench_load = _bench_load()
    ct_workdir = (args.ct_workdir or bench_load._default_workdir()).resolve()
    print(f"data: {ct_workdir} and {workdir} (cached); {os.cpu_count()} cores")
    ct = bench_load.ensure_dataset(ct_workdir, bench_load.SOURCE, 300, "raw")
    ct_jpegls = bench_load.ensure_dataset(ct_workdir, bench_load.SOURCE, 300, "jpegls")
    xray = ensure_xray(workdir)
    study = ensure_study(workdir, {"ct_raw": ct, "ct_jpegls": ct_jpegls, "dx": xray})
    for folder in (ct, ct_jpegls, xray):
        bench_load.warm_page_cache(folder)
    common = [
        "--ct", str(ct), "--ct-jpegls", str(ct_jpegls), "--xray", str(xray),
        "--study", str(study), "--seconds", str(args.seconds),
        "--startup-repeat", str(args.startup_repeat),
        "--switch-repeat", str(args.switch_repeat), "--max-wait", str(args.max_wait),
        "--parts", *args.parts,
    ]  # fmt: skip
    results = []
    for platform in args.platforms:
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
            out = Path(handle.name)
        argv = [
            sys.executable, str(Path(__file__).resolve()), "--platform", platform,
            "--json-out", str(out), *common,
        ]  # fmt: skip
        if platform == "xcb":
            if shutil.which("xvfb-run") is None:
                print("xcb: xvfb-run not found, skipped")
                continue
            argv = ["xvfb-run", "-a", "-s", XVFB_SERVER_ARGS, *argv]
        print(f"running {platform} ...", flush=True)
        subprocess.run(argv, env=_child_env(), check=False)
        try:
            results.append(json.loads(out.read_text()))
        except ValueError:
            print(f"{platform}: no result")
        finally:
            out.unlink(missing_ok=True)
    targets = []
    for result in results:
        targets += print_platform(result)
    print("\ntargets of the issue")
    for text, ok, detail in targets:
        print(f"  {_verdict(ok):6s} {text}: {detail}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
