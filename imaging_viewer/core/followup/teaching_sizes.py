"""The lesion sizes of a teaching case's before/after pairs, from the response
table (RECIST diameter: short axis of a node, else longest diameter)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from imaging_viewer.core.followup.response_table import TimepointData, build_table

if TYPE_CHECKING:
    from collections.abc import Sequence

    from imaging_viewer.core.teaching.before_after import StudyTimepoint


def with_table_sizes(timepoints: Sequence[StudyTimepoint]) -> list[StudyTimepoint]:
    """``timepoints`` with each lesion's size as the response table of them
    all gives it (by Tracking UID, PS3.16 TID 1500)."""
    data = [
        TimepointData(t.annotation_set, study_date=t.study_date) for t in timepoints
    ]
    table = build_table(data)
    sized = []
    for timepoint in timepoints:
        index = next(
            n
            for n, t in enumerate(table.timepoints)
            if t.annotation_set is timepoint.annotation_set
        )
        sizes = {
            row.tracking_uid: cell.size_mm
            for row in table.rows
            if (cell := row.cells[index]) is not None
        }
        sized.append(replace(timepoint, sizes_mm=sizes))
    return sized
