"""Pointer events in patient space, and the session that feeds them to a drag tool.

A tool is a generator function (as napari's mouse bindings are): called with
the press event, it runs to its first ``yield``; each later event is sent in
(``generator.send(event)``) and the tool yields again, until it returns. Tools
that place several points (an angle, a Cobb angle) keep receiving events after
the first release, until their last point is placed. The UI turns its mouse
events into :class:`PointerEvent` (scene point -> pixel -> ``pixel_to_lps``),
so tools never see Qt.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Literal

import numpy as np

from imaging_viewer.core.annotations.model import Annotation

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import ArrayLike

    from imaging_viewer.core.geometry import Vec3

PointerKind = Literal["press", "move", "release"]
POINTER_KINDS: Final = ("press", "move", "release")
BUTTONS: Final = frozenset({"left", "right", "middle"})
MODIFIERS: Final = frozenset({"shift", "control", "alt", "meta"})

ToolGenerator = Generator[Annotation | None, "PointerEvent", None]
"""What a tool function returns: yields its preview (or None) after each event."""


@dataclass(frozen=True, eq=False)
class PointerEvent:
    """A pointer press, move or release at a point of patient space."""

    kind: PointerKind
    position_lps: Vec3
    """Where the pointer is, LPS mm (on the plane of the view)."""
    buttons: frozenset[str] = field(default_factory=frozenset)
    """Buttons held: ``left``, ``right``, ``middle`` (empty while hovering)."""
    modifiers: frozenset[str] = field(default_factory=frozenset)
    """Keys held: ``shift``, ``control``, ``alt``, ``meta``."""

    def __post_init__(self) -> None:
        if self.kind not in POINTER_KINDS:
            raise ValueError(f"kind must be press, move or release, not {self.kind!r}")
        position = np.array(self.position_lps, dtype=np.float64).reshape(-1)
        if position.shape != (3,) or not np.all(np.isfinite(position)):
            raise ValueError(f"position_lps must be 3 finite numbers: {position!r}")
        position.flags.writeable = False
        object.__setattr__(self, "position_lps", position)
        buttons = frozenset(self.buttons)
        modifiers = frozenset(self.modifiers)
        if not buttons <= BUTTONS:
            raise ValueError(f"unknown buttons {sorted(buttons - BUTTONS)}")
        if not modifiers <= MODIFIERS:
            raise ValueError(f"unknown modifiers {sorted(modifiers - MODIFIERS)}")
        object.__setattr__(self, "buttons", buttons)
        object.__setattr__(self, "modifiers", modifiers)

    @classmethod
    def at(
        cls,
        kind: PointerKind,
        position_lps: ArrayLike,
        *,
        buttons: Iterable[str] = ("left",),
        modifiers: Iterable[str] = (),
    ) -> PointerEvent:
        """An event with the left button held by default (none for releases)."""
        held = frozenset(buttons) if kind != "release" else frozenset()
        return cls(kind, np.asarray(position_lps), held, frozenset(modifiers))


@dataclass(frozen=True)
class ImageRef:
    """The image a view shows, recorded in the annotations drawn on it."""

    frame_of_reference_uid: str = ""
    """Frame of Reference UID (PS3.3 C.7.4.1.1.1); empty for projection images."""
    sop_instance_uid: str = ""
    """SOP Instance UID of the shown image; empty for reformatted planes."""
    frame: int | None = None
    """1-based frame number in a multi-frame image (PS3.3 C.7.6.6)."""
    series_instance_uid: str = ""
    """Series Instance UID of the shown series (PS3.3 C.7.3.1)."""
    plane: str = ""
    """``""`` for an acquired image; the MPR plane shown (``axial``, ``coronal``,
    ``sagittal``, ``oblique``)."""
    nearest_image: Callable[[Vec3], tuple[str, int | None] | None] | None = field(
        default=None, compare=False, repr=False
    )
    """For a reformatted plane: (SOP Instance UID, frame) of the acquired image
    of the series nearest an LPS point, or None."""


class DragSession:
    """Feeds pointer events to one tool generator until it finishes.

    Parameters
    ----------
    generator : ToolGenerator
        A tool called with the press event, e.g.
        ``draw_ruler(annotations, plane, lesion_id, press)``; it is started here.
    """

    def __init__(self, generator: ToolGenerator) -> None:
        self._generator = generator
        self.preview: Annotation | None = None
        """What the tool last yielded."""
        self.active = True
        """False once the tool has returned (or was cancelled)."""
        try:
            self.preview = next(generator)
        except StopIteration:
            self.active = False

    def send(self, event: PointerEvent) -> bool:
        """Pass ``event`` to the tool; returns whether it still wants events."""
        if not self.active:
            return False
        try:
            self.preview = self._generator.send(event)
        except StopIteration:
            self.active = False
            self.preview = None
        return self.active

    def cancel(self) -> None:
        """Stop the tool without committing anything (e.g. on Escape)."""
        if self.active:
            self._generator.close()
            self.active = False
            self.preview = None


def drive(generator: ToolGenerator, events: Iterable[PointerEvent]) -> DragSession:
    """Start ``generator`` and send it ``events`` in turn (scripts and tests)."""
    session = DragSession(generator)
    for event in events:
        session.send(event)
    return session
