"""``imaging-viewer pacs echo|find|get|send NODE ...``: talk to a PACS.

NODE is a configured node's name, ``AET@HOST:PORT`` (DIMSE) or an
``http(s)://`` DICOMweb base URL.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from imaging_viewer.cli import options
from imaging_viewer.cli.options import CommandError

if TYPE_CHECKING:
    import argparse

    from imaging_viewer.cli.options import Subparsers
    from imaging_viewer.core.pacs.nodes import Node


def _add_node(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "node", help="configured name, AET@HOST:PORT, or http(s):// DICOMweb URL"
    )
    parser.add_argument("--aet", default="IMAGINGVIEWER", help="our calling AE title")
    parser.add_argument("--user", default="", help="DICOMweb user (HTTP basic)")
    parser.add_argument("--password", default="", help="DICOMweb password")
    parser.add_argument("--token", default="", help="DICOMweb bearer token")
    parser.add_argument(
        "--move",
        type=int,
        metavar="PORT",
        help="retrieve by C-MOVE to our storage SCP on PORT instead of C-GET",
    )


def add_parser(subparsers: Subparsers) -> argparse.ArgumentParser:
    """Add ``pacs`` to the command line."""
    parser = subparsers.add_parser(
        "pacs", help="echo, find, get or send studies on a PACS (DIMSE or DICOMweb)"
    )
    actions = parser.add_subparsers(dest="pacs_command", required=True)
    _add_node(actions.add_parser("echo", help="test the connection"))
    find = actions.add_parser("find", help="query studies or series")
    _add_node(find)
    find.add_argument("--level", choices=("study", "series"), default="study")
    find.add_argument("--patient-id", default="")
    find.add_argument("--patient-name", default="")
    find.add_argument("--date", default="", metavar="YYYYMMDD[-YYYYMMDD]")
    find.add_argument("--modality", default="")
    find.add_argument("--study", default="", metavar="UID")
    find.add_argument("--json", action="store_true", help="machine-readable output")
    get = actions.add_parser("get", help="retrieve a study or series")
    _add_node(get)
    get.add_argument("--study", required=True, metavar="UID")
    get.add_argument("--series", default="", metavar="UID")
    get.add_argument(
        "-o",
        "--output",
        metavar="DIR",
        help="into DIR as Part 10 files (default: into the local study database)",
    )
    send = actions.add_parser("send", help="store files on the node")
    _add_node(send)
    send.add_argument("paths", nargs="+", metavar="PATH")
    return parser


def _node(args: argparse.Namespace) -> Node:
    from imaging_viewer.core.pacs.nodes import parse_node

    return parse_node(
        args.node,
        calling_aet=args.aet,
        user=args.user,
        password=args.password,
        token=args.token,
        move_port=args.move,
    )


def _files(paths: list[str]) -> list[Path]:
    found: list[Path] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            found.extend(p for p in sorted(path.rglob("*")) if p.is_file())
        elif path.is_file():
            found.append(path)
        else:
            raise CommandError(f"{text}: no such file or folder")
    return found


def _run(args: argparse.Namespace) -> int:
    from imaging_viewer.core.pacs import remote
    from imaging_viewer.core.pacs.query import Query, check_date

    node = _node(args)
    if args.pacs_command == "echo":
        remote.echo(node)
        print(f"{node.describe()}: OK")
        return 0
    if args.pacs_command == "find":
        query = Query(
            level=args.level,
            patient_id=args.patient_id,
            patient_name=args.patient_name,
            date=check_date(args.date) if args.date else "",
            modality=args.modality,
            study_uid=args.study,
        )
        results, _ = remote.find(node, query)
        if args.json:
            options.print_json({"results": [r.to_json() for r in results]})
            return 0
        for r in results:
            what = r.modality if r.series_uid else "/".join(r.modalities)
            uid = r.series_uid or r.study_uid
            count = f" {r.instances} instance(s)" if r.instances is not None else ""
            print(
                f"{r.date or '--------'} {r.patient_id or '-'} {r.patient_name or '-'}"
                f" {what} {r.description or '(no description)'}{count}  {uid}"
            )
        return 0
    if args.pacs_command == "get":
        return _get(args, node)
    outcomes = remote.send(node, _files(args.paths))
    failed = [o for o in outcomes if not o.ok]
    for outcome in outcomes:
        state = "stored" if outcome.ok else f"FAILED: {outcome.message}"
        print(f"{outcome.path}: {state}")
    if failed:
        raise CommandError(f"{len(failed)} of {len(outcomes)} instance(s) not stored")
    return 0


def _get(args: argparse.Namespace, node: Node) -> int:
    from imaging_viewer.core.pacs import remote
    from imaging_viewer.core.pacs.database import StudyDatabase
    from imaging_viewer.core.pacs.sink import InstanceSink

    if args.output:
        sink = InstanceSink(folder=Path(args.output))
        result = remote.retrieve(node, args.study, sink, series_uid=args.series)
        where = args.output
    else:
        with StudyDatabase() as database:
            sink = InstanceSink(database=database)
            result = remote.retrieve(node, args.study, sink, series_uid=args.series)
            where = str(database.path)
    print(f"{result.received} instance(s) retrieved into {where}")
    if result.failed:
        print(f"warning: {result.failed} sub-operation(s) failed at the node")
    return 0


def run(args: argparse.Namespace) -> int:
    """``imaging-viewer pacs ...``; a PACS or database failure is one line."""
    from imaging_viewer.core.pacs.database import DatabaseError
    from imaging_viewer.core.pacs.errors import PacsError

    try:
        return _run(args)
    except (PacsError, DatabaseError) as error:
        raise CommandError(str(error)) from error
    except OSError as error:
        raise CommandError(str(error.strerror or error)) from error
