"""Key images the reader marks while reading, kept with the annotations.

A key image is an acquired image (a SOP Instance, and a frame of a
multi-frame image) the reader flags as significant. They are written as a Key
Object Selection document (PS3.3 A.35.4; title "Of Interest", DCM 113000, or
"For Teaching", DCM 113004, PS3.16 CID 7010) and start the teaching case.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["KeyImageMark"]


@dataclass(frozen=True)
class KeyImageMark:
    """One image marked as key."""

    sop_instance_uid: str
    """SOP Instance UID of the marked image."""
    frame: int | None = None
    """Frame number (1-based, PS3.3 C.7.6.6) of a multi-frame image, else None."""
    series_instance_uid: str = ""
    """Series Instance UID of the image (to find it again), if known."""
    note: str = ""
    """Why it was marked (free text)."""

    def __post_init__(self) -> None:
        if not self.sop_instance_uid:
            raise ValueError("a key image is one image: no SOP Instance UID")
        if self.frame is not None and (
            isinstance(self.frame, bool) or int(self.frame) < 1
        ):
            raise ValueError(f"frame is 1-based, not {self.frame!r}")

    @property
    def key(self) -> tuple[str, int | None]:
        """(SOP Instance UID, frame): what makes two marks the same image."""
        return (self.sop_instance_uid, self.frame)

    def to_json(self) -> dict[str, Any]:
        """The mark as an item of the annotation file's ``key_images`` list."""
        item: dict[str, Any] = {
            "sop_instance_uid": self.sop_instance_uid,
            "frame": self.frame,
        }
        if self.series_instance_uid:
            item["series_instance_uid"] = self.series_instance_uid
        if self.note:
            item["note"] = self.note
        return item

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> KeyImageMark:
        """Raises ValueError when ``item`` is malformed."""
        uid = item.get("sop_instance_uid")
        if not isinstance(uid, str):
            raise ValueError("sop_instance_uid must be a string")
        frame = item.get("frame")
        if frame is not None and (
            not isinstance(frame, int) or isinstance(frame, bool) or frame < 1
        ):
            raise ValueError(f"frame must be a positive integer, not {frame!r}")
        series = item.get("series_instance_uid", "")
        note = item.get("note", "")
        if not isinstance(series, str) or not isinstance(note, str):
            raise ValueError("series_instance_uid and note must be strings")
        return cls(
            sop_instance_uid=uid, frame=frame, series_instance_uid=series, note=note
        )
