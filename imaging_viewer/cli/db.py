"""``imaging-viewer db import|list|remove``: the local study database."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from imaging_viewer.cli import options
from imaging_viewer.cli.options import CommandError

if TYPE_CHECKING:
    import argparse

    from imaging_viewer.cli.options import Subparsers


def add_parser(subparsers: Subparsers) -> argparse.ArgumentParser:
    """Add ``db`` to the command line."""
    parser = subparsers.add_parser(
        "db", help="import into, list or remove from the local study database"
    )
    actions = parser.add_subparsers(dest="db_command", required=True)
    importing = actions.add_parser("import", help="index the DICOM files under PATH")
    importing.add_argument("path", help="file or folder")
    importing.add_argument(
        "--copy",
        action="store_true",
        help="copy the files into the database's folder (default: index in place)",
    )
    listing = actions.add_parser("list", help="list the studies")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    removing = actions.add_parser(
        "remove", help="remove a study, series or instance (and its copied files)"
    )
    removing.add_argument("uid", metavar="UID")
    return parser


def _run(args: argparse.Namespace) -> int:
    from imaging_viewer.core.pacs.database import StudyDatabase

    with StudyDatabase() as database:
        if args.db_command == "import":
            if not Path(args.path).exists():
                raise CommandError(f"{args.path}: no such file or folder")
            result = database.import_paths([args.path], copy=args.copy)
            print(
                f"{result.indexed} instance(s) of {len(result.study_uids)} study(ies) "
                f"indexed into {database.path}; {len(result.skipped)} file(s) skipped"
            )
            return 0
        if args.db_command == "list":
            studies = database.studies()
            if args.json:
                options.print_json({"studies": [s.to_json() for s in studies]})
                return 0
            for s in studies:
                print(
                    f"{s.date or '--------'} {s.patient_id or '-'} "
                    f"{s.patient_name or '-'} {'/'.join(s.modalities)} "
                    f"{s.description or '(no description)'}: {s.series_count} "
                    f"series, {s.instance_count} instance(s)  {s.study_uid}"
                )
            return 0
        removed = database.remove(args.uid)
        if not removed:
            raise CommandError(f"{args.uid}: no such study, series or instance")
        print(f"{removed} instance(s) removed")
        return 0


def run(args: argparse.Namespace) -> int:
    """``imaging-viewer db ...``; a damaged database is one line, never changed."""
    from imaging_viewer.core.pacs.database import DatabaseError

    try:
        return _run(args)
    except DatabaseError as error:
        raise CommandError(str(error)) from error
