"""Failures a person can act on: each message says what went wrong and what to do."""

from __future__ import annotations

__all__ = ["PacsError"]


class PacsError(Exception):
    """A remote node could not do what was asked; the message is one line that
    names the cause and the fix (register our AE, use C-MOVE, check credentials).

    ``received`` counts the instances kept from an interrupted retrieve.
    """

    def __init__(self, message: str, *, received: int = 0) -> None:
        super().__init__(message)
        self.received = received
