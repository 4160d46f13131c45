"""imaging-viewer: the command line (scan, convert, export, teach, register,
response, pacs, db) and the viewer.

Each subcommand is a module of this package with ``add_parser(subparsers)`` and
``run(args) -> int``; what they share is in :mod:`imaging_viewer.cli.options`.
Without a subcommand the window opens (:mod:`imaging_viewer.cli.gui`).

Headless commands import neither Qt nor SimpleITK until they need them, so they
run without a display; the window's path imports no subcommand.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import TYPE_CHECKING, Final

from imaging_viewer.cli.options import CommandError, fail

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["COMMANDS", "main"]

COMMANDS: Final = (
    "scan",
    "convert",
    "export",
    "teach",
    "register",
    "response",
    "pacs",
    "db",
)
"""The subcommands, in the order ``--help`` lists them: each names a module of
this package. A new subcommand is its module plus its name here."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="imaging-viewer",
        description="A viewer for DICOM X-ray, CT and MRI; commands need no display.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        command = importlib.import_module(f"imaging_viewer.cli.{name}")
        command.add_parser(subparsers).set_defaults(handler=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments or arguments[0] not in (*COMMANDS, "-h", "--help"):
        from imaging_viewer.cli import gui

        return gui.run(arguments)
    args = _parser().parse_args(arguments)
    try:
        status: int = args.handler(args)
    except CommandError as error:
        fail(str(error))
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except BrokenPipeError:
        # The reader went away (``scan | head``): stop quietly, as the Python
        # documentation advises, with nothing more written to the closed pipe.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except MemoryError:
        fail("not enough memory for this series")
    return status
