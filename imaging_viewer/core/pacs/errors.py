"""Failures a person can act on: each message says what went wrong and what to do."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from imaging_viewer.core.pacs.dimse import SendOutcome

__all__ = ["PacsError"]


class PacsError(Exception):
    """A remote node could not do what was asked; the message is one line that
    names the cause and the fix (register our AE, use C-MOVE, check credentials).

    ``received`` counts the instances kept from an interrupted retrieve;
    ``outcomes`` are those an interrupted send had already been answered for
    (a C-STORE response per instance, PS3.4 B.2.3; a STOW-RS response per
    request, PS3.18 10.5.3), so that a retry sends only the rest.
    """

    def __init__(
        self,
        message: str,
        *,
        received: int = 0,
        outcomes: Sequence[SendOutcome] = (),
    ) -> None:
        super().__init__(message)
        self.received = received
        self.outcomes: list[SendOutcome] = list(outcomes)
