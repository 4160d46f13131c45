"""What the subcommands share: their common options, the checks of what they are
given, and :class:`CommandError` for a failure told in one line.

Everything heavy (the scanner, the render presets) is imported where it is used,
so that importing a subcommand costs nothing until it runs.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeAlias

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterator

    from imaging_viewer.core.dicom.scan import ScanResult
    from imaging_viewer.core.dicom.series import SeriesInfo
    from imaging_viewer.core.volume import Window

    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]
    """What each subcommand's ``add_parser`` adds its parser to."""

PATH_HELP = "folder, file or DICOMDIR"
SERIES_HELP = "series index (from scan), id or Series Instance UID"


class CommandError(Exception):
    """A failure to report as one line on stderr, with a non-zero exit status."""


def fail(message: str, status: int = 1) -> NoReturn:
    """Print ``imaging-viewer: message`` on stderr and exit with ``status``."""
    print(f"imaging-viewer: {message}", file=sys.stderr)
    raise SystemExit(status)


# ------------------------------------------------------------- adding options


def add_path_argument(parser: argparse.ArgumentParser, help: str = PATH_HELP) -> None:
    """The ``PATH`` every subcommand reads."""
    parser.add_argument("path", help=help)


def add_window_options(
    parser: argparse.ArgumentParser, *, window_help: str, preset_help: str
) -> None:
    """``--window CENTER,WIDTH`` and ``--preset NAME`` (read by :func:`window_of`)."""
    parser.add_argument("--window", metavar="CENTER,WIDTH", help=window_help)
    parser.add_argument("--preset", metavar="NAME", help=preset_help)


# ------------------------------------------------------------ reading options


def scan_path(path: str) -> ScanResult:
    """Scan ``path``; a missing or unreadable path is a :class:`CommandError`."""
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


def find_series(path: str, selector: str) -> SeriesInfo:
    """Scan ``path`` and pick the series ``selector`` names."""
    try:
        return scan_path(path).find_series(selector)
    except LookupError as error:
        raise CommandError(str(error)) from error


def format_size(info: SeriesInfo) -> str:
    """The series' size in voxels, ``512×512×120``."""
    return "×".join(str(v) for v in info.size)


def parse_window(text: str) -> Window:
    """``CENTER,WIDTH`` in modality units (HU for CT) as a LINEAR window."""
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


def find_preset(name: str) -> str:
    """The CT_PRESETS key for ``name``: any case, spaces, underscores or hyphens."""
    from imaging_viewer.core.render import CT_PRESETS

    by_key = {_preset_key(preset): preset for preset in CT_PRESETS}
    found = by_key.get(_preset_key(name))
    if found is None:
        choices = ", ".join(key.replace(" ", "_") for key in by_key)
        raise CommandError(f"unknown preset {name!r}; choose one of {choices}")
    return found


def window_of(args: argparse.Namespace) -> tuple[Window | None, str | None]:
    """The ``--window`` or the ``--preset`` given (at most one of them)."""
    if args.window is not None and args.preset is not None:
        raise CommandError("give either --window or --preset, not both")
    window = parse_window(args.window) if args.window is not None else None
    preset = find_preset(args.preset) if args.preset is not None else None
    return window, preset


def parse_index(option: str, text: str | None, count: int, what: str) -> int | None:
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


# ---------------------------------------------------------------- output


def check_folder_writable(output: Path) -> None:
    """Refuse ``output`` when its folder is missing or read-only."""
    if not output.parent.is_dir():
        raise CommandError(f"{output}: cannot write (no folder {output.parent})")
    if not os.access(output.parent, os.W_OK):
        raise CommandError(
            f"{output}: cannot write (folder {output.parent} is read-only)"
        )


def check_writable(output: Path) -> None:
    """Refuse an output file that cannot be written, before any work."""
    if output.is_dir():
        raise CommandError(f"{output}: is a folder; give a file name")
    check_folder_writable(output)


def cannot_write(output: Path, error: OSError, *, names_file: bool = True) -> str:
    """One line for a failed write of ``output``.

    ``names_file``: the writer's own messages name the file (the volume writers),
    so an error without an errno is shown as it is.
    """
    if error.strerror or not names_file:
        return f"{output}: cannot write ({error.strerror or error})"
    return str(error)


def print_json(document: Any) -> None:
    """Print ``document`` as the ``--json`` contracts do: indented UTF-8 JSON."""
    json.dump(document, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


@contextlib.contextmanager
def annotation_file_errors(path: str, missing: str = "no such file") -> Iterator[None]:
    """Reading the annotation file ``path`` in the block: a missing, invalid or
    unreadable file becomes a one-line :class:`CommandError` naming it."""
    from imaging_viewer.core.annotations.serialize import AnnotationFileError

    try:
        yield
    except FileNotFoundError:
        raise CommandError(f"{path}: {missing}") from None
    except AnnotationFileError as error:
        raise CommandError(f"{path}: {error.reason}") from None
    except OSError as error:
        raise CommandError(f"{path}: cannot read ({error.strerror or error})") from None
