"""Remake the README's pictures of the viewer (``docs/images/``).

Run from the repository under a 1920×1080 display::

    xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python \\
        scripts/docs_screenshots.py [--only NAME...] [--out FOLDER]

Each picture is made by a fresh process of this script (``--scene NAME``) with
its own empty settings and annotation folders (XDG_CONFIG_HOME, XDG_DATA_HOME),
so nothing of the user's viewer leaks in. The scenes open ``sample_data/`` or the
DICOM corpus (``../shared/dicom``, or ``IMAGING_VIEWER_CORPUS``); a scene whose
data is absent is skipped with a message. The PACS pictures come from
``scripts/pacs_dialog_screenshot.py`` when Orthanc is installed. A picture over
300 KB is saved with a 256-colour palette.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

REPOSITORY = Path(__file__).resolve().parent.parent
SAMPLE = REPOSITORY / "sample_data"
IMAGES = REPOSITORY / "docs" / "images"
MAX_BYTES = 300_000


def corpus() -> Path:
    """The DICOM corpus: IMAGING_VIEWER_CORPUS, else ../shared/dicom."""
    configured = os.environ.get("IMAGING_VIEWER_CORPUS")
    return Path(configured) if configured else REPOSITORY.parent / "shared" / "dicom"


PHILIPS_HEAD_CT = Path("dcm_qa_ct/In/Philips/S21570/S2010")
GE_CT = Path("dcm_qa_ct/In/GE")


@dataclass(frozen=True)
class Scene:
    """One picture: its file name, screen size and what it needs."""

    name: str
    size: tuple[int, int]
    needs: tuple[Path, ...] = ()
    """Corpus folders (relative to the corpus) the scene opens."""


# --------------------------------------------------------------------------
# The child process: one window, one picture.


def _application() -> Any:
    from PySide6.QtWidgets import QApplication

    from imaging_viewer.ui.app import STYLE, apply_dark_theme

    app = QApplication([sys.argv[0], "-style", STYLE])
    app.setApplicationName("imaging_viewer")
    app.setOrganizationName("imaging_viewer")
    apply_dark_theme(app, set_style=False)
    return app


def _pump(app: Any, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)


def _settle(app: Any, window: Any, patience_s: float = 120.0) -> None:
    """Wait until the window has scanned, loaded and drawn what it opened."""
    from imaging_viewer.ui.screenshot import _wait_for_thumbnails

    deadline = time.monotonic() + patience_s
    while time.monotonic() < deadline:
        app.processEvents()
        busy = window.is_busy or any(v.loading for v in window.state.viewports)
        if window.scan_result is not None and not busy:
            break
        time.sleep(0.02)
    else:
        raise SystemExit("still loading after two minutes")
    _wait_for_thumbnails(window, app, time.monotonic() + 30)
    for widget in window.viewport_widgets:
        widget.settle()
    _pump(app, 0.5)


def _open(
    app: Any, size: tuple[int, int], path: Path, mpr_layout: str | None = None
) -> Any:
    """A main window of ``size`` at the screen's corner showing ``path``."""
    from imaging_viewer.ui.main_window import MainWindow

    window = MainWindow(remember_settings=False)
    if mpr_layout is not None:
        window.state.mpr_layout = mpr_layout
        window.mpr_when_loaded = True
    window.resize(*size)
    window.move(0, 0)
    window.show()
    window.open_path(path)
    _settle(app, window)
    return window


def _save_screen(app: Any, size: tuple[int, int], output: Path) -> None:
    """The screen's top-left ``size`` (the window with its menus and dialogs)."""
    _pump(app, 0.8)
    image = app.primaryScreen().grabWindow(0, 0, 0, *size)
    if not image.save(str(output), "PNG"):
        raise SystemExit(f"cannot write {output}")


def _geometry(dicom: Path) -> tuple[Any, Callable[[float, float], tuple[float, ...]]]:
    """The header of ``dicom`` and its (column, row) → LPS mm map (PS3.3
    C.7.6.2.1.1, Image Position and Orientation)."""
    import numpy as np
    import pydicom

    header = pydicom.dcmread(dicom, stop_before_pixels=True)
    origin = np.array(header.ImagePositionPatient, dtype=float)
    along_row = np.array(header.ImageOrientationPatient[:3], dtype=float)
    along_column = np.array(header.ImageOrientationPatient[3:], dtype=float)
    row_mm, column_mm = (float(v) for v in header.PixelSpacing)

    def lps(column: float, row: float) -> tuple[float, ...]:
        point = origin + column * column_mm * along_row + row * row_mm * along_column
        return tuple(float(v) for v in point)

    return header, lps


def _normal(header: Any) -> tuple[float, float, float]:
    import numpy as np

    orientation = np.array(header.ImageOrientationPatient, dtype=float)
    n = np.cross(orientation[:3], orientation[3:])
    return (float(n[0]), float(n[1]), float(n[2]))


def _write_autosave(header: Any, lesions: list[Any], **extra: str) -> None:
    """The study's annotation autosave, which the viewer loads when it opens
    the study."""
    from imaging_viewer.core.annotations.model import AnnotationSet
    from imaging_viewer.core.annotations.serialize import sidecar_path, to_json

    path = sidecar_path(str(header.StudyInstanceUID))
    path.parent.mkdir(parents=True, exist_ok=True)
    document = to_json(AnnotationSet(lesions), str(header.StudyInstanceUID), **extra)
    path.write_text(json.dumps(document))


def _slice_file(folder: Path, index_from_top: int) -> Path:
    """The file of the ``index``-th slice, counted from the head end."""
    import pydicom

    files = [p for p in folder.iterdir() if p.is_file() and p.name != "DIRFILE"]
    located = []
    for path in files:
        header = pydicom.dcmread(path, stop_before_pixels=True)
        if "ImagePositionPatient" in header:
            located.append((float(header.ImagePositionPatient[2]), path))
    located.sort(reverse=True)
    return located[index_from_top][1]


def _ct_lesion(dicom: Path, label: str, with_bidirectional: bool) -> Any:
    """An ellipse ROI over the phantom's large insert (and its two diameters)."""
    from imaging_viewer.core.annotations.model import (
        Bidirectional,
        EllipseRoi,
        Lesion,
    )

    header, lps = _geometry(dicom)
    lesion = Lesion(label=label, role="target")
    common = {
        "lesion_id": lesion.id,
        "frame_of_reference_uid": str(header.FrameOfReferenceUID),
        "referenced_sop_instance_uid": str(header.SOPInstanceUID),
        "plane_normal_lps": _normal(header),
    }
    centre = INSERT_CENTRE
    annotations: list[Any] = [
        EllipseRoi(
            **common,
            centre_lps=lps(*centre),
            axis1_end_lps=lps(centre[0] + 15, centre[1]),
            axis2_end_lps=lps(centre[0], centre[1] + 15),
        )
    ]
    if with_bidirectional:
        annotations.append(
            Bidirectional(
                **common,
                long_start_lps=lps(centre[0] - 20, centre[1]),
                long_end_lps=lps(centre[0] + 20, centre[1]),
                short_start_lps=lps(centre[0], centre[1] - 19),
                short_end_lps=lps(centre[0], centre[1] + 19),
            )
        )
    return Lesion(**{**lesion.__dict__, "annotations": tuple(annotations)})


INSERT_CENTRE = (249.0, 240.0)
"""(column, row) of a round insert of the Philips head phantom's middle slice."""


def _viewer(folder: Path, mpr_layout: str | None = None) -> Callable[..., None]:
    def scene(app: Any, size: tuple[int, int], output: Path) -> None:
        _open(app, size, corpus() / folder, mpr_layout)
        _save_screen(app, size, output)

    return scene


def _calibrated_xray(app: Any, size: tuple[int, int], output: Path) -> None:
    """The chest CR without pixel spacing, calibrated with an 80 mm object over
    100 px, a ruler across the thorax (issue 15 item 1)."""
    from imaging_viewer.core.annotations.calibration import Calibration
    from imaging_viewer.core.annotations.model import AnnotationSet, Lesion, Ruler
    from imaging_viewer.core.annotations.serialize import sidecar_path, to_json

    folder = Path(tempfile.mkdtemp()) / "xr"
    folder.mkdir()
    source = SAMPLE / "XR" / "gdcm-CR-MONO1-10-chest.dcm"
    shutil.copy(source, folder)
    import numpy as np
    import pydicom

    from imaging_viewer.core.dicom.load import load_volume
    from imaging_viewer.core.dicom.scan import scan_folder

    header = pydicom.dcmread(source, stop_before_pixels=True)
    # No Image Position/Orientation on a CR: where the viewer puts its pixels.
    affine = load_volume(scan_folder(folder).series[0]).ijk_to_lps

    def lps(column: float, row: float) -> tuple[float, float, float]:
        point = affine @ np.array([column, row, 0.0, 1.0])
        return (float(point[0]), float(point[1]), float(point[2]))

    sop = str(header.SOPInstanceUID)
    lesion = Lesion(id="l1", label="Thorax width")
    ruler = Ruler(
        lesion_id="l1",
        referenced_sop_instance_uid=sop,
        plane_normal_lps=(0.0, 0.0, 1.0),
        start_lps=lps(60, 250),
        end_lps=lps(390, 250),
    )
    annotations = AnnotationSet(
        [Lesion(**{**lesion.__dict__, "annotations": (ruler,)})]
    )
    annotations.set_calibration(Calibration(sop, lps(300, 400), lps(400, 400), 80.0))
    path = sidecar_path(str(header.StudyInstanceUID))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_json(annotations, str(header.StudyInstanceUID))))
    _open(app, size, folder)
    _save_screen(app, size, output)


def _ct_roi_stats(app: Any, size: tuple[int, int], output: Path) -> None:
    """An ellipse ROI with its statistics and a bidirectional on the sample CT."""
    dicom = _slice_file(SAMPLE / "CT", 14)
    header, _ = _geometry(dicom)
    _write_autosave(header, [_ct_lesion(dicom, "Insert", with_bidirectional=True)])
    window = _open(app, size, SAMPLE / "CT")
    _show_slice_of(window, dicom)
    _save_screen(app, size, output)


def _show_slice_of(window: Any, dicom: Path) -> None:
    """The active viewport shows the slice of ``dicom``."""
    import numpy as np
    import pydicom

    from imaging_viewer.core.viewer_state import nearest_slice

    header = pydicom.dcmread(dicom, stop_before_pixels=True)
    viewport = window.state.active
    position = np.array(header.ImagePositionPatient, dtype=float)
    with window.state.unlinked():
        viewport.set_slice(nearest_slice(viewport.volume, position))
    window.refresh_checks()


def _lesion_mpr(app: Any, size: tuple[int, int], output: Path) -> None:
    """A lesion (ellipse, bidirectional, point) seen across the three planes."""
    from imaging_viewer.core.annotations.model import PointMarker

    dicom = _slice_file(SAMPLE / "CT", 14)
    header, lps = _geometry(dicom)
    lesion = _ct_lesion(dicom, "Lesion 1", with_bidirectional=True)
    point = PointMarker(
        lesion_id=lesion.id,
        frame_of_reference_uid=str(header.FrameOfReferenceUID),
        plane_normal_lps=_normal(header),
        position_lps=lps(*INSERT_CENTRE),
    )
    lesion = type(lesion)(
        **{**lesion.__dict__, "annotations": (*lesion.annotations, point)}
    )
    _write_autosave(header, [lesion])
    window = _open(app, size, SAMPLE / "CT", mpr_layout="1x3")
    import numpy as np

    window.state.set_cursor(np.array(lps(*INSERT_CENTRE)), 0)
    window.refresh_checks()
    _save_screen(app, size, output)


def _context_menu(folder: Path) -> Callable[..., None]:
    def scene(app: Any, size: tuple[int, int], output: Path) -> None:
        """The image's context menu open on its W/L presets."""
        from PySide6.QtCore import QPoint, QPointF

        from imaging_viewer.ui.image_context_menu import build_image_menu

        window = _open(app, size, corpus() / folder)
        widget = window.active_widget
        centre = QPointF(widget.width() / 2, widget.height() / 2)
        menu = build_image_menu(window, window.actions_built, widget, centre)
        menu.popup(widget.mapToGlobal(QPoint(int(centre.x()), int(centre.y()))))
        _pump(app, 0.5)
        presets = window.actions_built.submenus["toolbar_presets"]
        menu.setActiveAction(presets.menuAction())
        _pump(app, 0.3)
        geometry = menu.actionGeometry(presets.menuAction())
        presets.popup(menu.mapToGlobal(geometry.topRight()))
        _save_screen(app, size, output)

    return scene


def _teaching_dialog(app: Any, size: tuple[int, int], output: Path) -> None:
    """The teaching dialog on the corpus head CT: two lesions, two key images."""
    from imaging_viewer.ui.key_images import toggle_key_image

    folder = corpus() / PHILIPS_HEAD_CT
    dicom = _slice_file(folder, 14)
    header, _ = _geometry(dicom)
    first = _ct_lesion(dicom, "Lesion 1", with_bidirectional=False)
    second = _ct_lesion(_slice_file(folder, 12), "Lesion 2", with_bidirectional=False)
    _write_autosave(header, [first, second])
    window = _open(app, size, folder)
    for index in (14, 20):
        _show_slice_of(window, _slice_file(folder, index))
        _pump(app, 0.3)
        toggle_key_image(window)
    _pump(app, 0.5)
    study = window.lesion_export._annotation_study()
    dialog = window.lesion_export.teaching_dialog(study)
    dialog._fields["title"].setText("Two lesions of the head")
    dialog.show()
    _pump(app, 0.5)
    dialog.move(
        max(0, (size[0] - dialog.width()) // 2),
        max(0, (size[1] - dialog.height()) // 2),
    )
    _save_screen(app, size, output)


def _follow_up(with_dialog: bool) -> Callable[..., None]:
    def scene(app: Any, size: tuple[int, int], output: Path) -> None:
        """Baseline and follow-up copies of the sample CT, one lesion tracked."""
        sys.path.insert(0, str(REPOSITORY))
        import numpy as np
        from PySide6.QtCore import Qt

        from imaging_viewer.core.annotations.model import Lesion
        from imaging_viewer.core.viewer_state import nearest_slice
        from tests.core.workspace.test_prior_location import (
            later_copy,
            measured_lesion,
            slice_positions_s,
        )

        root = Path(tempfile.mkdtemp())
        sample = SAMPLE / "CT"
        base = later_copy(sample, root / "baseline", date="20150206")
        later = later_copy(sample, root / "later", date="20150512")
        window = _open(app, size, base)
        window.opening.add_study(later)
        _settle(app, window)
        workspace = window.workspace
        baseline, follow_up = sorted(workspace.studies.values(), key=lambda s: s.date)
        s = slice_positions_s(sample)[16]
        frame = baseline.series[0].frame_of_reference_uid
        prior = workspace.annotations(baseline.uid)
        prior.add_lesion(
            measured_lesion("L1 large insert", (-23.5, 82.7, s), frame, 23)
        )
        small = measured_lesion("L2 small insert", (-3.2, 107.4, s), frame, 17.0)
        prior.add_lesion(small)
        window.show_series(follow_up.series[0].id, 0)
        _settle(app, window)
        window.start_annotations()
        frame = follow_up.series[0].frame_of_reference_uid
        again = measured_lesion("L2 small insert", (-3.2, 107.4, s), frame, 16.5)
        if not with_dialog:
            again = Lesion(**{**again.__dict__, "tracking_uid": small.tracking_uid})
        window.state.annotations.add_lesion(again)
        window.state.annotations.add_lesion(
            measured_lesion("L1 (new measurement)", (-23.5, 82.7, s), frame, 22.5)
        )
        window.actions_built.actions["comparison"].trigger()
        _settle(app, window)
        _pump(app, 1.0)
        viewport = window.state.viewports[0]
        # Linked scrolling brings the prior along (the dialog shows it itself).
        viewport.set_slice(nearest_slice(viewport.volume, np.array([0, 0, s])))
        window.refresh_checks()
        docks = window.build_docks()
        docks.response_dock.show()
        docks.lesions_dock.raise_()
        window.resizeDocks([docks.response_dock], [235], Qt.Orientation.Vertical)
        _pump(app, 0.5)
        if with_dialog:
            panel = window.lesions_panel
            panel.tree.setCurrentItem(panel.tree.topLevelItem(0))
            panel.same_lesion_button.click()
            _pump(app, 0.5)
            dialog = window._same_lesion_dialog
            dialog.move(size[0] - dialog.width() - 10, size[1] - dialog.height() - 30)
        _save_screen(app, size, output)

    return scene


# --------------------------------------------------------------------------
# The parent: which scenes, in which process, and the PNG size.

SCENES: dict[str, tuple[Scene, Callable[..., None]]] = {}


def _add(scene: Scene, make: Callable[..., None]) -> None:
    SCENES[scene.name] = (scene, make)


_add(Scene("viewer_ct", (1600, 1000)), _viewer(SAMPLE / "CT"))
_add(Scene("viewer_mr", (1400, 900)), _viewer(SAMPLE / "MR"))
_add(Scene("viewer_xray", (1400, 900)), _viewer(SAMPLE / "XR"))
_add(Scene("mpr_ct", (1600, 900)), _viewer(SAMPLE / "CT", "1x3"))
_add(Scene("lesion_mpr", (1700, 1000)), _lesion_mpr)
for _width, _height in ((1366, 768), (1920, 1080)):
    _size = (_width, _height)
    _add(Scene(f"calibrated_xray_{_width}x{_height}", _size), _calibrated_xray)
    _add(Scene(f"ct_roi_stats_{_width}x{_height}", _size), _ct_roi_stats)
    _add(
        Scene(f"mpr_2x2_reference_lines_{_width}", _size, (PHILIPS_HEAD_CT,)),
        _viewer(PHILIPS_HEAD_CT, "2x2"),
    )
    _add(
        Scene(f"toolbar_context_menu_{_width}", _size, (GE_CT,)),
        _context_menu(GE_CT),
    )
_add(Scene("followup_comparison", (1920, 1080)), _follow_up(with_dialog=False))
_add(Scene("same_lesion_link", (1920, 1080)), _follow_up(with_dialog=True))
_add(Scene("teaching_dialog", (1366, 768), (PHILIPS_HEAD_CT,)), _teaching_dialog)


def _child(name: str, output: Path) -> int:
    """Make one picture in this process (called with ``--scene``)."""
    sys.path.insert(0, str(REPOSITORY))
    scene, make = SCENES[name]
    app = _application()
    make(app, scene.size, output)
    app.closeAllWindows()
    return 0


def _shrink(path: Path) -> None:
    """Over MAX_BYTES: the same picture with a 256-colour palette."""
    if path.stat().st_size <= MAX_BYTES:
        return
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, dither=Image.Dither.NONE)
    small.save(path, optimize=True)


def _pacs(folder: Path) -> None:
    if shutil.which("Orthanc") is None:
        print("pacs_dialog: skipped (Orthanc is not installed)")
        return
    subprocess.run(
        [
            sys.executable,
            str(REPOSITORY / "scripts" / "pacs_dialog_screenshot.py"),
            str(folder / "pacs_dialog.png"),
        ],
        check=False,
    )


def main(argv: list[str]) -> int:
    """Make the chosen pictures (all by default), each in a fresh process."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", metavar="NAME", help="these pictures")
    parser.add_argument("--out", type=Path, default=IMAGES, help="output folder")
    parser.add_argument("--scene", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.scene:
        return _child(args.scene, args.out / f"{args.scene}.png")
    names = args.only or [*SCENES, "pacs_dialog"]
    unknown = [n for n in names if n not in SCENES and n != "pacs_dialog"]
    if unknown:
        parser.error(f"unknown picture(s): {', '.join(unknown)}")
    args.out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for name in names:
        if name == "pacs_dialog":
            _pacs(args.out)
            continue
        scene, _ = SCENES[name]
        missing = [p for p in scene.needs if not (corpus() / p).is_dir()]
        if missing:
            print(f"{name}: skipped (needs the corpus: {corpus() / missing[0]})")
            continue
        with tempfile.TemporaryDirectory() as home:
            env = {
                **os.environ,
                "XDG_CONFIG_HOME": f"{home}/config",
                "XDG_DATA_HOME": f"{home}/data",
                "XDG_CACHE_HOME": f"{home}/cache",
                "PYTHONPATH": str(REPOSITORY),
            }
            command = [sys.executable, __file__, "--scene", name, "--out", args.out]
            result = subprocess.run([str(c) for c in command], env=env, check=False)
        output = args.out / f"{name}.png"
        if result.returncode != 0 or not output.exists():
            print(f"{name}: FAILED (exit status {result.returncode})")
            failed += 1
            continue
        _shrink(output)
        print(f"{name}: {output} ({output.stat().st_size // 1000} KB)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
