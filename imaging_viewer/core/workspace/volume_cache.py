"""Loaded volumes kept for reuse within a memory budget.

The least recently used volume that no viewport shows is dropped first when the
budget is exceeded; the volumes shown (pinned) are never dropped, so the cache
may exceed its budget while they alone do. The default budget follows Weasis:
half the physical memory less what is in use, and never less than 512 MiB.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from imaging_viewer.core.volume import Volume

MIN_BUDGET_BYTES = 512 * 1024**2
"""The smallest default budget: two 512×512×500 int16 volumes fit."""


def _meminfo_bytes(field_name: str) -> int | None:
    """A field of /proc/meminfo in bytes (None where there is no such file)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                name, _, value = line.partition(":")
                if name == field_name:
                    return int(value.split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def physical_memory_bytes() -> int:
    """The machine's physical memory (0 when it cannot be told)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 0


def default_budget_bytes() -> int:
    """Half the physical memory less what is in use now, at least 512 MiB."""
    total = physical_memory_bytes()
    available = _meminfo_bytes("MemAvailable")
    if total <= 0:
        return MIN_BUDGET_BYTES
    in_use = total - available if available is not None else 0
    return max(total // 2 - in_use, MIN_BUDGET_BYTES)


def volume_bytes(volume: Volume) -> int:
    """Memory held by a volume's voxels."""
    return int(volume.voxels.nbytes)


class VolumeCache:
    """Volumes by series id, least recently used first out, pins kept.

    Parameters
    ----------
    budget_bytes : int, optional
        Memory the cached volumes may take (default :func:`default_budget_bytes`).
    """

    def __init__(self, budget_bytes: int | None = None) -> None:
        self.budget_bytes = (
            default_budget_bytes() if budget_bytes is None else int(budget_bytes)
        )
        self._volumes: OrderedDict[str, Volume] = OrderedDict()
        self._pinned: frozenset[str] = frozenset()

    def __contains__(self, series_id: object) -> bool:
        return series_id in self._volumes

    def __len__(self) -> int:
        return len(self._volumes)

    def __iter__(self) -> Iterator[str]:
        return iter(self._volumes)

    @property
    def used_bytes(self) -> int:
        """Memory taken by the cached volumes."""
        return sum(volume_bytes(volume) for volume in self._volumes.values())

    def get(self, series_id: str) -> Volume | None:
        """The cached volume of a series (now the most recently used), if any."""
        volume = self._volumes.get(series_id)
        if volume is not None:
            self._volumes.move_to_end(series_id)
        return volume

    def put(self, series_id: str, volume: Volume) -> list[str]:
        """Keep ``volume``; returns the series ids dropped to stay in budget."""
        self._volumes[series_id] = volume
        self._volumes.move_to_end(series_id)
        return self._evict(keep=series_id)

    def pin(self, series_ids: Iterable[str]) -> list[str]:
        """The volumes that must stay (shown in a viewport); the others may go.

        Returns the series ids dropped now that fewer are pinned.
        """
        ordered = list(dict.fromkeys(series_ids))
        self._pinned = frozenset(ordered)
        for series_id in ordered:
            if series_id in self._volumes:
                self._volumes.move_to_end(series_id)
        return self._evict()

    @property
    def pinned(self) -> frozenset[str]:
        """The series ids kept whatever the budget."""
        return self._pinned

    def discard(self, series_id: str) -> None:
        """Forget one volume."""
        self._volumes.pop(series_id, None)

    def clear(self) -> None:
        """Forget every volume (the pins stay)."""
        self._volumes.clear()

    def _evict(self, keep: str | None = None) -> list[str]:
        dropped: list[str] = []
        used = self.used_bytes
        for series_id in list(self._volumes):  # least recently used first
            if used <= self.budget_bytes:
                break
            if series_id in self._pinned or series_id == keep:
                continue
            used -= volume_bytes(self._volumes.pop(series_id))
            dropped.append(series_id)
        return dropped
