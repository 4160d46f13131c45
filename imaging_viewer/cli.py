"""imaging-viewer: the command line (scan, convert, export, teach) and the viewer.

Headless commands import neither Qt nor SimpleITK until they need them, so they
run without a display.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from collections.abc import Sequence

    from imaging_viewer.core.dicom.scan import ScanResult
    from imaging_viewer.core.dicom.series import SeriesInfo
    from imaging_viewer.core.viewer_state import ViewportState
    from imaging_viewer.core.volume import Window

COMMANDS = ("scan", "convert", "export", "teach")


class CommandError(Exception):
    """A failure to report as one line on stderr, with a non-zero exit status."""


def _fail(message: str, status: int = 1) -> NoReturn:
    print(f"imaging-viewer: {message}", file=sys.stderr)
    raise SystemExit(status)


def _scan(path: str) -> ScanResult:
    from imaging_viewer.core.dicom.scan import scan_folder

    target = Path(path)
    if not target.exists():
        raise CommandError(f"{path}: no such file or folder")
    try:
        return scan_folder(target)
    except PermissionError as error:
        raise CommandError(f"{path}: permission denied ({error.strerror})") from error
    except OSError as error:
        raise CommandError(f"{path}: {error.strerror or error}") from error


def _format_size(info: SeriesInfo) -> str:
    return "×".join(str(v) for v in info.size)


def _print_tree(result: ScanResult) -> None:
    index = {info.id: n for n, info in enumerate(result.series)}
    for patient in result.patients:
        sex = f", {patient.sex}" if patient.sex else ""
        born = f", born {patient.birth_date}" if patient.birth_date else ""
        print(
            f"Patient {patient.name or '(no name)'} "
            f"[{patient.id or 'no ID'}{sex}{born}]"
        )
        for study in patient.studies:
            date = study.date or "no date"
            print(
                f"  Study {date} {study.description or '(no description)'}  {study.uid}"
            )
            for info in study.series:
                spacing = " × ".join(f"{v:.4g}" for v in info.spacing_mm)
                number = (
                    f"#{info.series_number} " if info.series_number is not None else ""
                )
                print(
                    f"    [{index[info.id]}] {info.modality:3} {number}"
                    f"{info.description or '(no description)'}: {_format_size(info)} "
                    f"voxels, {spacing} mm, {info.n_instances} file(s)"
                )
                print(f"        id {info.id}")
                if info.is_projection:
                    print(
                        f"        projection image; spacing from {info.spacing_source}"
                    )
                for warning in info.warnings:
                    print(f"        warning: {warning}")
    for warning in result.warnings:
        print(f"warning: {warning}")
    if result.skipped:
        print(f"Skipped {len(result.skipped)} file(s):")
        for skipped in result.skipped:
            print(f"  {skipped.path}: {skipped.reason}")


def command_scan(args: argparse.Namespace) -> int:
    """``imaging-viewer scan PATH [--json]``."""
    result = _scan(args.path)
    if args.json:
        document = {
            "root": result.root,
            "files_examined": result.files_examined,
            "series": [info.to_json() for info in result.series],
            "skipped": [skipped.to_json() for skipped in result.skipped],
            "warnings": result.warnings,
        }
        json.dump(document, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        _print_tree(result)
    if not result.series:
        raise CommandError(
            f"no DICOM images found under {args.path} "
            f"({result.files_examined} file(s) looked at, "
            f"{len(result.skipped)} skipped)"
        )
    return 0


def _cannot_write(output: Path, error: OSError) -> str:
    """One line for a failed write (the writers' own messages name the file)."""
    if error.strerror:
        return f"{output}: cannot write ({error.strerror})"
    return str(error)


def _check_writable(output: Path) -> None:
    """Refuse an output path that cannot be written, before any work."""
    if output.is_dir():
        raise CommandError(f"{output}: is a folder; give a file name")
    if not output.parent.is_dir():
        raise CommandError(f"{output}: cannot write (no folder {output.parent})")
    if not os.access(output.parent, os.W_OK):
        raise CommandError(
            f"{output}: cannot write (folder {output.parent} is read-only)"
        )


def _find_series(path: str, selector: str) -> SeriesInfo:
    """Scan ``path`` and pick the series ``selector`` names."""
    try:
        return _scan(path).find_series(selector)
    except LookupError as error:
        raise CommandError(str(error)) from error


def command_convert(args: argparse.Namespace) -> int:
    """``imaging-viewer convert PATH --series SEL -o OUT``."""
    from imaging_viewer.core.dicom.load import load_volume
    from imaging_viewer.core.volume_io import VOLUME_SUFFIXES, write_volume

    output = Path(args.output)
    if not output.name.lower().endswith(VOLUME_SUFFIXES):
        raise CommandError(
            f"{output}: unknown output format; use one of " + ", ".join(VOLUME_SUFFIXES)
        )
    _check_writable(output)
    info = _find_series(args.path, args.series)
    volume = load_volume(info)
    if volume.is_rgb:
        raise CommandError(
            f"series {info.id} is colour (RGB); convert writes scalar volumes"
        )
    try:
        write_volume(volume, output)
    except OSError as error:
        raise CommandError(_cannot_write(output, error)) from error
    for warning in volume.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"wrote {output} ({_format_size(info)} voxels, series {info.id})")
    return 0


def _parse_window(text: str) -> Window:
    """``CENTER,WIDTH`` in modality units (HU for CT) as a LINEAR window."""
    import math

    from imaging_viewer.core.volume import Window

    parts = text.split(",")
    try:
        center, width = (float(part) for part in parts)
    except ValueError:
        raise CommandError(
            f"bad --window {text!r}: expected CENTER,WIDTH, e.g. 40,400 "
            "(write --window=-600,1500 when the centre is negative)"
        ) from None
    if not (math.isfinite(center) and math.isfinite(width)):
        raise CommandError(f"bad --window {text!r}: values must be finite")
    if width < 1:
        # PS3.3 C.11.2.1.2.1: Window Width shall be >= 1 (LINEAR).
        raise CommandError(f"bad --window {text!r}: WIDTH must be at least 1")
    return Window(center=center, width=width, explanation="command line")


def _preset_key(name: str) -> str:
    return " ".join(name.replace("_", " ").replace("-", " ").lower().split())


def _find_preset(name: str) -> str:
    """The CT_PRESETS key for ``name``: any case, spaces, underscores or hyphens."""
    from imaging_viewer.core.render import CT_PRESETS

    by_key = {_preset_key(preset): preset for preset in CT_PRESETS}
    found = by_key.get(_preset_key(name))
    if found is None:
        choices = ", ".join(key.replace(" ", "_") for key in by_key)
        raise CommandError(f"unknown preset {name!r}; choose one of {choices}")
    return found


def _parse_index(option: str, text: str | None, count: int, what: str) -> int | None:
    """A 0-based index given on the command line, checked against ``count``."""
    if text is None:
        return None
    try:
        index = int(text)
    except ValueError:
        raise CommandError(f"bad {option} {text!r}: expected a whole number") from None
    if not 0 <= index < count:
        raise CommandError(
            f"{option} {index} is out of range: the series has {count} {what} "
            f"(0 to {count - 1})"
        )
    return index


def _headless_gui() -> None:
    """A QGuiApplication for text rendering, on no screen at all.

    Export never shows a window, so unless the user chose a Qt platform, the
    offscreen one is used: no display (or a dead X connection) cannot stop it.
    """
    import os

    from PySide6.QtGui import QGuiApplication

    if QGuiApplication.instance() is not None:
        return
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # Kept on the module so it lives as long as the process.
    global _GUI_APPLICATION
    _GUI_APPLICATION = QGuiApplication(["imaging-viewer"])


_GUI_APPLICATION: object = None


def _parse_position(text: str) -> tuple[float, float, float]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError as error:
        raise CommandError(f"--position-lps {text!r}: give X,Y,Z in mm") from error
    if len(values) != 3 or not all(math.isfinite(v) for v in values):
        raise CommandError(f"--position-lps {text!r}: give X,Y,Z in mm")
    return values[0], values[1], values[2]


def _set_plane(
    viewport: ViewportState,
    plane: str,
    position: tuple[float, float, float] | None,
    slab_mm: float | None,
    slab_mode: str,
) -> None:
    """Show a reformatted plane: through ``position`` or the volume's centre."""
    volume = viewport.volume
    assert volume is not None
    if volume.is_projection or volume.shape_kji[0] < 2:
        raise CommandError("--plane needs a volume of several slices, not one image")
    if position is None:
        k, j, i = volume.shape_kji
        centre = volume.ijk_to_lps @ [(i - 1) / 2, (j - 1) / 2, (k - 1) / 2, 1.0]
        position = (float(centre[0]), float(centre[1]), float(centre[2]))
    viewport.cursor_lps = position
    viewport.orientation = plane
    if slab_mm is not None:
        if not (math.isfinite(slab_mm) and slab_mm >= 0):
            raise CommandError(f"--slab-mm {slab_mm}: give a thickness of 0 mm or more")
        viewport.slab_mm = slab_mm
        viewport.slab_mode = slab_mode
    viewport.sync_index_to_cursor()


def _write_plane_image(viewport: ViewportState, output: Path, series_id: str) -> int:
    """The plane's modality values with its geometry (a one-slice volume)."""
    from imaging_viewer.core.volume_io import write_plane

    current = viewport.current_slice()
    assert current is not None
    try:
        write_plane(current, output)
    except OSError as error:
        raise CommandError(_cannot_write(output, error)) from error
    rows, columns = current.pixels.shape[:2]
    print(
        f"wrote {output} ({columns}×{rows} pixels, series {series_id}, "
        f"{viewport.orientation} plane {viewport.slice_index} "
        f"(0 to {viewport.n_slices - 1}))"
    )
    return 0


def command_export(args: argparse.Namespace) -> int:
    """``imaging-viewer export PATH [--series SEL] [--slice K] [--time T]
    [--window C,W | --preset NAME] [--overlays] -o OUT.png``."""
    from imaging_viewer.core.dicom.load import load_volume
    from imaging_viewer.core.viewer_state import ViewportState
    from imaging_viewer.core.volume_io import VOLUME_SUFFIXES

    output = Path(args.output)
    as_image = output.name.lower().endswith(VOLUME_SUFFIXES)
    if output.suffix.lower() != ".png" and not as_image:
        raise CommandError(
            f"{output}: export writes PNG, or a plane as NIfTI/NRRD/MetaImage "
            "(.nii, .nii.gz, .nrrd, .mha); give one of those"
        )
    if as_image and args.plane is None:
        raise CommandError("a NIfTI/NRRD/MetaImage export needs --plane")
    position = _parse_position(args.position_lps) if args.position_lps else None
    if position is not None and args.slice is not None:
        raise CommandError("give either --slice or --position-lps, not both")
    if args.slab_mm is not None and args.plane is None:
        raise CommandError("--slab-mm works on a --plane")
    if args.window is not None and args.preset is not None:
        raise CommandError("give either --window or --preset, not both")
    window = _parse_window(args.window) if args.window is not None else None
    preset = _find_preset(args.preset) if args.preset is not None else None
    _check_writable(output)
    info = _find_series(args.path, args.series)
    try:
        volume = load_volume(info)
    except (OSError, ValueError, RuntimeError) as error:
        raise CommandError(f"series {info.id}: cannot load ({error})") from error
    viewport = ViewportState()
    viewport.show(info, volume)
    if args.plane is not None:
        _set_plane(viewport, args.plane, position, args.slab_mm, args.slab_mode)
    k = _parse_index("--slice", args.slice, viewport.n_slices, "slices")
    t = _parse_index("--time", args.time, viewport.n_time_points, "time points")
    if k is not None:
        viewport.set_slice(k)
    if t is not None:
        viewport.set_time(t)
    if as_image:
        return _write_plane_image(viewport, output, info.id)
    if window is not None:
        viewport.set_window(window, "manual")
    elif preset is not None:
        if volume.modality != "CT":
            print(
                f"warning: {preset} is a CT window in HU; series {info.id} is "
                f"{volume.modality or 'not CT'}",
                file=sys.stderr,
            )
        viewport.apply_preset(preset)
    elif viewport.window_label == "auto":
        viewport.apply_auto_window()  # of the slice shown, not the middle one

    if args.overlays:
        _headless_gui()
    from imaging_viewer.ui.export import render_view_image, save_png

    # A plane is drawn as on screen, in square pixels (a coronal plane of 5 mm
    # slices would otherwise be squashed); an acquired slice stays one PNG
    # pixel per DICOM pixel.
    image = render_view_image(
        viewport,
        overlays=args.overlays,
        include_patient=not args.no_patient_data,
        correct_aspect=args.plane is not None,
    )
    try:
        save_png(image, output)
    except OSError as error:
        raise CommandError(
            f"{output}: cannot write ({error.strerror or error})"
        ) from error
    for warning in volume.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(
        f"wrote {output} ({image.width()}×{image.height()} pixels, series {info.id}, "
        f"slice {viewport.slice_index} (0 to {viewport.n_slices - 1}), "
        f"{viewport.window_label or 'no window'})"
    )
    return 0


def _parse_key_image(text: str) -> str | tuple[str, int]:
    """``--key-image``: a SOP Instance UID, or ``SERIES:K`` (slice K, from 0)."""
    if ":" in text:
        series, _, index = text.rpartition(":")
        try:
            k = int(index)
        except ValueError:
            raise CommandError(
                f"bad --key-image {text!r}: give SERIES:K (K a whole number) or a "
                "SOP Instance UID"
            ) from None
        if not series or k < 0:
            raise CommandError(f"bad --key-image {text!r}: give SERIES:K, K from 0")
        return series, k
    return text


def _read_annotations(path: str, result: ScanResult) -> tuple[Any, str]:
    """The annotation file's set and study UID, checked against the scan."""
    from imaging_viewer.core.annotations.serialize import (
        AnnotationFileError,
        check_schema,
        from_json,
        read_document,
        study_uid_of,
    )

    try:
        document = read_document(path)
        check_schema(document)
        study_uid = study_uid_of(document)
        annotation_set = from_json(document)
    except FileNotFoundError:
        raise CommandError(f"{path}: no such annotation file") from None
    except AnnotationFileError as error:
        raise CommandError(f"{path}: {error.reason}") from None
    except OSError as error:
        raise CommandError(f"{path}: cannot read ({error.strerror or error})") from None
    studies = {info.study_uid for info in result.series}
    if study_uid not in studies:
        raise CommandError(
            f"{path}: holds the annotations of study {study_uid}, which is not "
            f"under {result.root}"
        )
    if not len(annotation_set):
        raise CommandError(f"{path}: holds no lesions")
    return annotation_set, study_uid


def command_teach(args: argparse.Namespace) -> int:
    """``imaging-viewer teach PATH --annotations FILE -o DIR [--keep-dates]
    [--date-shift-days N] [--no-deidentify] [--title ...] ...``."""
    from imaging_viewer.core.teaching.case import TeachingCase

    output = Path(args.output)
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise CommandError(f"{output}: exists and is not an empty folder")
    if not output.parent.is_dir():
        raise CommandError(f"{output}: cannot write (no folder {output.parent})")
    if not os.access(output.parent, os.W_OK):
        raise CommandError(
            f"{output}: cannot write (folder {output.parent} is read-only)"
        )
    if args.no_deidentify and (args.keep_dates or args.date_shift_days):
        raise CommandError(
            "--keep-dates and --date-shift-days apply to de-identification; "
            "--no-deidentify keeps everything"
        )
    if args.window is not None and args.preset is not None:
        raise CommandError("give either --window or --preset, not both")
    window = _parse_window(args.window) if args.window is not None else None
    preset = _find_preset(args.preset) if args.preset is not None else None
    key_images = [_parse_key_image(text) for text in args.key_image or ()]
    result = _scan(args.path)
    if not result.series:
        raise CommandError(f"no DICOM images found under {args.path}")
    annotation_set, study_uid = _read_annotations(args.annotations, result)
    case = TeachingCase(
        title=args.title or "",
        history=args.history or "",
        findings=args.findings or "",
        diagnosis=args.diagnosis or "",
        discussion=args.discussion or "",
        references=tuple(args.reference or ()),
        modality=args.modality or "",
        anatomy=args.anatomy or "",
        keywords=tuple(args.keyword or ()),
    )
    _headless_gui()
    from imaging_viewer.core.teaching.export import TeachingExportError
    from imaging_viewer.ui.teaching_export import export_teaching_case

    try:
        exported = export_teaching_case(
            result,
            annotation_set,
            case,
            output,
            deidentify=not args.no_deidentify,
            keep_dates=args.keep_dates,
            date_shift_days=args.date_shift_days or 0,
            key_images=key_images,
            case_key=args.case_key,
            window=window,
            preset=preset,
            study_uid=study_uid,
        )
    except (TeachingExportError, LookupError) as error:
        raise CommandError(str(error)) from error
    except OSError as error:
        raise CommandError(
            f"{output}: cannot write ({error.strerror or error})"
        ) from error
    for line in exported.skipped:
        print(f"warning: {line}", file=sys.stderr)
    for line in exported.warnings:
        print(f"warning: {line}", file=sys.stderr)
    extras = [
        name
        for name, path in (
            ("SR", exported.structured_report),
            ("presentation state", exported.presentation_state),
        )
        if path is not None
    ]
    what = "de-identified" if not args.no_deidentify else "NOT de-identified"
    print(
        f"wrote {output}: {len(exported.images)} key image(s), {what}"
        + (f", with {' and '.join(extras)}" if extras else "")
        + ", case.md and case.json"
    )
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="imaging-viewer",
        description="A viewer for DICOM X-ray, CT and MRI; commands need no display.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    scan = sub.add_parser(
        "scan", help="list the patients, studies and series under PATH"
    )
    scan.add_argument("path", help="folder, file or DICOMDIR")
    scan.add_argument("--json", action="store_true", help="machine-readable output")
    scan.set_defaults(handler=command_scan)
    convert = sub.add_parser(
        "convert", help="write one series as NIfTI, NRRD or MetaImage"
    )
    convert.add_argument("path", help="folder, file or DICOMDIR")
    convert.add_argument(
        "--series",
        required=True,
        help="series index (from scan), id or Series Instance UID",
    )
    convert.add_argument(
        "-o", "--output", required=True, help="output file: .nii, .nii.gz, .nrrd, .mha"
    )
    convert.set_defaults(handler=command_convert)
    export = sub.add_parser(
        "export",
        help="write one slice as PNG, one pixel per DICOM pixel, overlays optional",
    )
    export.add_argument("path", help="folder, file or DICOMDIR")
    export.add_argument(
        "--series",
        default="0",
        help="series index (from scan), id or Series Instance UID; default 0",
    )
    export.add_argument(
        "--slice", metavar="K", help="slice index, from 0; default the middle slice"
    )
    export.add_argument(
        "--time",
        metavar="T",
        help="time point (or cine frame) index, from 0; default 0",
    )
    export.add_argument(
        "--window",
        metavar="CENTER,WIDTH",
        help="window in modality units (HU for CT), e.g. 40,400; a negative centre "
        "as --window=-600,1500. Default: the header's first window, else its "
        "VOI LUT, else auto",
    )
    export.add_argument(
        "--preset",
        metavar="NAME",
        help="CT window preset: brain, subdural, stroke, soft_tissue, mediastinum, "
        "liver, lung, bone, temporal_bone (any case; spaces or underscores)",
    )
    export.add_argument(
        "--plane",
        choices=["axial", "coronal", "sagittal"],
        help="a reformatted plane, shown as radiologists do (axial from the feet, "
        "coronal from the front, sagittal with anterior on the left); as PNG in "
        "square pixels, as on screen",
    )
    export.add_argument(
        "--position-lps",
        metavar="X,Y,Z",
        help="with --plane: the point (LPS mm) the plane passes through; default the "
        "volume's centre (or use --slice K to count planes)",
    )
    export.add_argument(
        "--slab-mm", type=float, metavar="T", help="with --plane: thick slab in mm"
    )
    export.add_argument(
        "--slab-mode",
        choices=["mip", "minip", "mean"],
        default="mip",
        help="how a thick slab is reduced (default mip)",
    )
    export.add_argument(
        "--overlays",
        action="store_true",
        help="burn in corner text, orientation letters and a scale bar",
    )
    export.add_argument(
        "--no-patient-data",
        action="store_true",
        help="with --overlays: leave out patient and study details (name, ID, dates, "
        "institution, descriptions)",
    )
    export.add_argument("-o", "--output", required=True, help="output file: .png")
    export.set_defaults(handler=command_export)
    teach = sub.add_parser(
        "teach",
        help="write a teaching case: key images with annotations burned in, "
        "de-identified DICOM with SR and presentation state, and a case sheet",
    )
    teach.add_argument("path", help="folder, file or DICOMDIR of the study")
    teach.add_argument(
        "--annotations",
        required=True,
        metavar="FILE",
        help="the study's annotation file (JSON, docs/annotations.md)",
    )
    teach.add_argument(
        "-o", "--output", required=True, metavar="DIR", help="new (or empty) folder"
    )
    teach.add_argument(
        "--keep-dates",
        action="store_true",
        help="keep dates and times (PS3.15 Retain Longitudinal Temporal "
        "Information); by default they are removed",
    )
    teach.add_argument(
        "--date-shift-days",
        type=int,
        metavar="N",
        help="keep dates, moved by N days (times of day unchanged)",
    )
    teach.add_argument(
        "--no-deidentify",
        action="store_true",
        help="keep the DICOM as it is and patient data in the corner text "
        "(not for sharing)",
    )
    teach.add_argument(
        "--case-key",
        metavar="KEY",
        help="secret that makes the new UIDs repeatable across runs; random by default",
    )
    teach.add_argument(
        "--key-image",
        action="append",
        metavar="UID|SERIES:K",
        help="another key image: a SOP Instance UID, or a series (index, id or "
        "UID) and slice K from 0; repeatable",
    )
    teach.add_argument(
        "--window",
        metavar="CENTER,WIDTH",
        help="window of every image, e.g. 40,400; default each image's own",
    )
    teach.add_argument(
        "--preset", metavar="NAME", help="CT window preset for the CT images"
    )
    for name, text in (
        ("--title", "case title"),
        ("--history", "clinical history"),
        ("--findings", "imaging findings"),
        ("--diagnosis", "diagnosis"),
        ("--discussion", "discussion"),
        ("--modality", "modality, e.g. MR"),
        ("--anatomy", "anatomy, e.g. femur"),
    ):
        teach.add_argument(name, metavar="TEXT", help=text)
    teach.add_argument(
        "--reference", action="append", metavar="TEXT", help="a reference; repeatable"
    )
    teach.add_argument(
        "--keyword", action="append", metavar="TEXT", help="a keyword; repeatable"
    )
    teach.set_defaults(handler=command_teach)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments or arguments[0] not in (*COMMANDS, "-h", "--help"):
        from imaging_viewer.ui.app import main as gui_main

        return gui_main(arguments)
    args = _parser().parse_args(arguments)
    try:
        status: int = args.handler(args)
    except CommandError as error:
        _fail(str(error))
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except BrokenPipeError:
        # The reader went away (``scan | head``): stop quietly, as the Python
        # documentation advises, with nothing more written to the closed pipe.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except MemoryError:
        _fail("not enough memory for this series")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
