"""``imaging-viewer convert PATH --series SEL -o OUT``: one series as NIfTI, NRRD or
MetaImage."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from imaging_viewer.cli import options
from imaging_viewer.cli.options import CommandError

if TYPE_CHECKING:
    import argparse

    from imaging_viewer.cli.options import Subparsers


def add_parser(subparsers: Subparsers) -> argparse.ArgumentParser:
    """Add ``convert`` to the command line."""
    parser = subparsers.add_parser(
        "convert", help="write one series as NIfTI, NRRD or MetaImage"
    )
    options.add_path_argument(parser)
    parser.add_argument("--series", required=True, help=options.SERIES_HELP)
    parser.add_argument(
        "-o", "--output", required=True, help="output file: .nii, .nii.gz, .nrrd, .mha"
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """``imaging-viewer convert PATH --series SEL -o OUT``."""
    from imaging_viewer.core.dicom.load import load_volume
    from imaging_viewer.core.volume_io import VOLUME_SUFFIXES, write_volume

    output = Path(args.output)
    if not output.name.lower().endswith(VOLUME_SUFFIXES):
        raise CommandError(
            f"{output}: unknown output format; use one of " + ", ".join(VOLUME_SUFFIXES)
        )
    options.check_writable(output)
    info = options.find_series(args.path, args.series)
    volume = load_volume(info)
    if volume.is_rgb:
        raise CommandError(
            f"series {info.id} is colour (RGB); convert writes scalar volumes"
        )
    try:
        write_volume(volume, output)
    except OSError as error:
        raise CommandError(options.cannot_write(output, error)) from error
    for warning in volume.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"wrote {output} ({options.format_size(info)} voxels, series {info.id})")
    return 0
