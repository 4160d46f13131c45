"""``imaging-viewer [PATH] [--screenshot OUT.png] [--layout L] [--series SEL]
[--size WxH]``: the viewer window, the command line without a subcommand.

The window's own options are read by :func:`imaging_viewer.ui.app.main`, which
defers its heavy imports until after the first paint; nothing else of the
command line is imported on the way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence


def run(arguments: Sequence[str]) -> int:
    """Open the window (or take a ``--screenshot``); returns the exit status."""
    from imaging_viewer.ui.app import main as open_window

    return open_window(arguments)
