"""``imaging-viewer scan PATH [--json]``: the patients, studies and series in PATH."""

from __future__ import annotations

from typing import TYPE_CHECKING

from imaging_viewer.cli import options
from imaging_viewer.cli.options import CommandError

if TYPE_CHECKING:
    import argparse

    from imaging_viewer.cli.options import Subparsers
    from imaging_viewer.core.dicom.scan import ScanResult


def add_parser(subparsers: Subparsers) -> argparse.ArgumentParser:
    """Add ``scan`` to the command line."""
    parser = subparsers.add_parser(
        "scan", help="list the patients, studies and series under PATH"
    )
    options.add_path_argument(parser)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


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
                size = options.format_size(info)
                print(
                    f"    [{index[info.id]}] {info.modality:3} {number}"
                    f"{info.description or '(no description)'}: {size} "
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


def run(args: argparse.Namespace) -> int:
    """``imaging-viewer scan PATH [--json]``."""
    result = options.scan_path(args.path)
    if args.json:
        document = {
            "root": result.root,
            "files_examined": result.files_examined,
            "series": [info.to_json() for info in result.series],
            "skipped": [skipped.to_json() for skipped in result.skipped],
            "warnings": result.warnings,
        }
        options.print_json(document)
    else:
        _print_tree(result)
    if not result.series:
        raise CommandError(
            f"no DICOM images found under {args.path} "
            f"({result.files_examined} file(s) looked at, "
            f"{len(result.skipped)} skipped)"
        )
    return 0
