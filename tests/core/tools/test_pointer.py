"""PointerEvent and DragSession: events in patient space fed to a tool generator."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest

from imaging_viewer.core.tools.pointer import DragSession, PointerEvent, drive

if TYPE_CHECKING:
    from collections.abc import Iterator


def test_event_holds_a_read_only_lps_point() -> None:
    event = PointerEvent.at("move", [1, 2, 3], modifiers=["shift"])
    assert event.position_lps.dtype == np.float64
    np.testing.assert_array_equal(event.position_lps, [1, 2, 3])
    assert event.buttons == frozenset({"left"})
    assert event.modifiers == frozenset({"shift"})
    with pytest.raises(ValueError, match="read-only"):
        event.position_lps[0] = 5
    assert PointerEvent.at("release", [0, 0, 0]).buttons == frozenset()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("drag", (0, 0, 0)), "kind"),
        (("move", (0, 0)), "3 finite"),
        (("move", (0, np.inf, 0)), "3 finite"),
        (("move", (0, 0, 0), frozenset({"thumb"})), "unknown buttons"),
        (("move", (0, 0, 0), frozenset(), frozenset({"hyper"})), "unknown modifiers"),
    ],
)
def test_bad_events_are_refused(arguments: tuple[object, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PointerEvent(*arguments)  # type: ignore[arg-type]


def test_session_runs_a_generator_to_its_end() -> None:
    seen: list[str] = []

    def tool(event: PointerEvent) -> Iterator[None]:
        seen.append(event.kind)
        while event.kind != "release":
            event = yield None
            seen.append(event.kind)

    press = PointerEvent.at("press", (0, 0, 0))
    move = PointerEvent.at("move", (1, 0, 0))
    release = PointerEvent.at("release", (1, 0, 0))
    session = DragSession(tool(press))
    assert session.active
    assert session.send(move)
    assert not session.send(release)
    assert not session.send(move), "a finished session takes no more events"
    assert seen == ["press", "move", "release"]
    assert not drive(tool(press), [release]).active


def test_cancel_closes_the_generator() -> None:
    closed: list[bool] = []

    def tool(_event: PointerEvent) -> Iterator[None]:
        try:
            while True:
                yield None
        finally:
            closed.append(True)

    session = DragSession(tool(PointerEvent.at("press", (0, 0, 0))))
    session.cancel()
    assert closed == [True]
    assert not session.active
