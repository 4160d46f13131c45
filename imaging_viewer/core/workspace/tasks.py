"""How the workspace runs slow work: through a runner it is given.

The application gives a runner that uses a thread pool and delivers results on
the GUI thread; tests give :func:`run_synchronously`, which does the work at
once in the caller's thread. The workspace never starts threads itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable


class TaskHandle(Protocol):
    """A started task: it can be asked to stop."""

    def cancel(self) -> None:
        """Ask the work to stop at its next check."""


class TaskRunner(Protocol):
    """Starts ``fn(progress=, cancel=)`` and reports how it ended.

    ``fn`` calls ``progress(done, total)`` as it goes and stops early when
    ``cancel()`` returns True. Exactly one of ``on_done(result)`` and
    ``on_failed(message)`` is called once the work ends; a cancelled task ends
    with ``on_failed("cancelled")``.
    """

    def __call__(
        self,
        fn: Callable[..., Any],
        on_done: Callable[[Any], None],
        on_failed: Callable[[str], None] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> TaskHandle: ...


class SynchronousTask:
    """The handle of work that :func:`run_synchronously` ran; cancelling it
    while it runs (from a progress callback) stops it."""

    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        """Stop the work at its next check."""
        self.cancelled = True


def run_synchronously(
    fn: Callable[..., Any],
    on_done: Callable[[Any], None],
    on_failed: Callable[[str], None] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> SynchronousTask:
    """A :class:`TaskRunner` that does the work now, in the caller's thread."""
    task = SynchronousTask()

    def progress(done: int, total: int) -> None:
        if on_progress is not None:
            on_progress(done, total)

    def cancel() -> bool:
        return task.cancelled

    try:
        result = fn(progress=progress, cancel=cancel)
    except Exception as error:  # reported, as the threaded runner does
        if on_failed is not None:
            on_failed("cancelled" if task.cancelled else f"{error}")
        return task
    if task.cancelled:
        if on_failed is not None:
            on_failed("cancelled")
    else:
        on_done(result)
    return task
