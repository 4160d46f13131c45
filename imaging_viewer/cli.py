"""imaging-viewer: the command line (scan, convert) and the entry to the viewer window.

Headless commands import neither Qt nor SimpleITK until they need them, so they
run without a display.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from collections.abc import Sequence

    from imaging_viewer.core.dicom.scan import ScanResult
    from imaging_viewer.core.dicom.series import SeriesInfo

COMMANDS = ("scan", "convert")


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


# SimpleITK picks the writer from the file name (NIfTI, NRRD, MetaImage).
_CONVERT_SUFFIXES = (".nii", ".nii.gz", ".nrrd", ".nhdr", ".mha", ".mhd")


def command_convert(args: argparse.Namespace) -> int:
    """``imaging-viewer convert PATH --series SEL -o OUT``."""
    from imaging_viewer.core.dicom.load import load_volume
    from imaging_viewer.core.volume_io import write_volume

    output = Path(args.output)
    if not output.name.lower().endswith(_CONVERT_SUFFIXES):
        raise CommandError(
            f"{output}: unknown output format; use one of "
            + ", ".join(_CONVERT_SUFFIXES)
        )
    result = _scan(args.path)
    try:
        info = result.find_series(args.series)
    except LookupError as error:
        raise CommandError(str(error)) from error
    volume = load_volume(info)
    if volume.is_rgb:
        raise CommandError(
            f"series {info.id} is colour (RGB); convert writes scalar volumes"
        )
    try:
        write_volume(volume, output)
    except OSError as error:
        raise CommandError(
            f"{output}: cannot write ({error.strerror or error})"
        ) from error
    for warning in volume.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"wrote {output} ({_format_size(info)} voxels, series {info.id})")
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
    except MemoryError:
        _fail("not enough memory for this series")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
