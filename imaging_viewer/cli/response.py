"""``imaging-viewer response``: the response table of several time points.

Reads annotation files (docs/annotations.md), orders them by the study date
they record, matches lesions by Tracking UID, and prints lesions × time points
(longest diameter, short axis, product, volumes, ROI mean/SD, % change against
baseline and nadir); ``--recist`` adds the RECIST 1.1 sum and response.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from imaging_viewer.cli import options
from imaging_viewer.cli.options import CommandError

if TYPE_CHECKING:
    import argparse

    from imaging_viewer.cli.options import Subparsers
    from imaging_viewer.core.followup.response_table import ResponseTable


def add_parser(subparsers: Subparsers) -> argparse.ArgumentParser:
    """Add ``response`` to the command line."""
    parser = subparsers.add_parser(
        "response",
        help="lesions × time points from annotation files, RECIST 1.1 optional",
    )
    parser.add_argument(
        "annotations",
        nargs="+",
        metavar="ANNOTATIONS.json",
        help="annotation files of the time points, or our DICOM SR measurement "
        "reports (any order: the study date orders)",
    )
    parser.add_argument(
        "--recist", action="store_true", help="RECIST 1.1 sum, changes and response"
    )
    parser.add_argument(
        "--bone",
        action="store_true",
        help="bone-tumour table: no response category; bone lesions non-measurable "
        "unless a soft-tissue component is marked",
    )
    parser.add_argument("--csv", metavar="OUT", help="also write the table as CSV")
    parser.add_argument(
        "--plot",
        metavar="DIR",
        help="also write a PNG plot of each lesion's size over time into DIR",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    return parser


def _number(value: float | None, unit: str = "") -> str:
    return "–" if value is None else f"{value:.1f}{unit}"


def _print_text(table: ResponseTable) -> None:
    from imaging_viewer.core.followup.table_export import timepoint_label

    for index, timepoint in enumerate(table.timepoints):
        print(
            f"[{index}] {timepoint_label(table, index)}  {timepoint.study_date or '?'}"
            f"  {timepoint.study_uid}"
        )
    for row in table.rows:
        flags = ", ".join(
            f for f in (row.role, "node" if row.nodal else "", row.organ) if f
        )
        print(f"{row.label or row.tracking_uid}" + (f" ({flags})" if flags else ""))
        for index, cell in enumerate(row.cells):
            if cell is None:
                print(f"  [{index}] not seen")
                continue
            size = cell.size
            print(
                f"  [{index}] LD {_number(size.longest_diameter_mm, ' mm')}"
                f"  SA {_number(size.short_axis_mm, ' mm')}"
                f"  vol {_number(size.volume_mm3, ' mm³')}"
                f"  Δbaseline {_number(cell.change_from_baseline_pct, ' %')}"
                f"  Δnadir {_number(cell.change_from_nadir_pct, ' %')}"
            )
    for index, assessment in enumerate(table.recist):
        if assessment is None:
            sums = table.target_sums[index] if table.target_sums else None
            measured = "" if sums is None else f" (measured {sums.sum_mm:.1f} mm"
            if sums is not None and sums.unmeasured:
                measured += f"; no diameter of {', '.join(sums.unmeasured)}"
            print(f"RECIST [{index}] not evaluable{measured}{')' if sums else ''}")
            continue
        print(
            f"RECIST [{index}] sum {assessment.sum_mm:.1f} mm"
            f"  Δbaseline {assessment.change_from_baseline_pct:+.1f} %"
            f"  Δnadir {assessment.change_from_nadir_pct:+.1f} %"
            f"  {assessment.response or 'baseline'}"
        )
    for warning in table.warnings:
        print(f"warning: {warning}")


def _write_plots(table: ResponseTable, folder: str) -> None:
    """Paint the plots offscreen (no display needed)."""
    from imaging_viewer.cli.headless_gui import start_headless_gui
    from imaging_viewer.ui.response_plot import write_lesion_plots

    start_headless_gui()

    try:
        write_lesion_plots(table, folder)
    except OSError as error:
        raise CommandError(f"{folder}: {error.strerror or error}") from None


def run(args: argparse.Namespace) -> int:
    """Build the table and print it (and write the CSV)."""
    from imaging_viewer.core.followup.response_table import TableMode, build_table
    from imaging_viewer.core.followup.table_export import (
        different_patients,
        read_timepoint,
        table_to_json,
        write_csv,
    )

    if args.recist and args.bone:
        raise CommandError("give either --recist or --bone, not both")
    timepoints = []
    for path in args.annotations:
        with options.annotation_file_errors(path):
            timepoints.append(read_timepoint(path))
    patients = different_patients(timepoints)
    if len(patients) > 1:
        raise CommandError(
            "the time points are of different patients: " + ", ".join(patients)
        )
    mode = (
        TableMode.RECIST
        if args.recist
        else TableMode.BONE
        if args.bone
        else TableMode.PLAIN
    )
    table = build_table(timepoints, mode)
    if args.csv:
        try:
            write_csv(table, args.csv)
        except OSError as error:
            raise CommandError(f"{args.csv}: {error.strerror or error}") from None
    if args.plot:
        _write_plots(table, args.plot)
    if args.json:
        print(json.dumps(table_to_json(table), ensure_ascii=False))
    else:
        _print_text(table)
    return 0
