"""Before/after key images of each tracked lesion, for a teaching case.

A lesion followed over time keeps one Tracking UID (PS3.16 TID 1500, Tracking
Unique Identifier (112040)) in the annotation sets of the patient's studies.
For each lesion seen at two time points or more, the pair is its key image at
the earliest time point (the baseline) and at the latest, each labelled with
its time point and its study date: shifted by the case's date shift when dates
are kept (PS3.15 E.3.6 Retain Longitudinal Temporal Information Modified
Dates), left out when they are removed, so the labels never hold a real date
the de-identified DICOM does not.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from imaging_viewer.core.teaching.export import chosen_part
from imaging_viewer.core.teaching.key_images import select_key_images

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence

    from imaging_viewer.core.annotations.model import AnnotationSet, Lesion
    from imaging_viewer.core.dicom.series import SeriesInfo
    from imaging_viewer.core.teaching.key_images import KeyImageRef


@dataclass(frozen=True)
class StudyTimepoint:
    """One study of the patient: its series and its lesions."""

    series: Sequence[SeriesInfo]
    annotation_set: AnnotationSet
    study_date: str
    """``YYYYMMDD``; orders the time points (an empty date sorts last)."""
    label: str = ""
    """Time point label, e.g. ``"baseline"``; by default from its position."""
    sizes_mm: Mapping[str, float | None] = field(default_factory=dict)
    """Each lesion's size as the response table gives it (RECIST diameter), by
    Tracking UID (``core.followup.teaching_sizes`` fills it)."""


@dataclass(frozen=True)
class PairImage:
    """One side of a pair: the lesion at one time point and its key image."""

    timepoint: str
    date: str
    """The study date as the case shows it (shifted), or ``""``."""
    lesion: Lesion
    image: KeyImageRef
    size_mm: float | None = None
    """The lesion's size at this time point (``StudyTimepoint.sizes_mm``)."""

    @property
    def caption(self) -> str:
        """e.g. ``"baseline · 2015-02-06"``."""
        if len(self.date) != 8:
            return self.timepoint
        return f"{self.timepoint} · {self.date[:4]}-{self.date[4:6]}-{self.date[6:]}"


@dataclass(frozen=True)
class BeforeAfterPair:
    """A tracked lesion at its earliest and at its latest time point."""

    tracking_uid: str
    label: str
    before: PairImage
    after: PairImage


def case_date(date: str, *, keep_dates: bool, date_shift_days: int = 0) -> str:
    """A study date as the teaching case shows it: shifted by
    ``date_shift_days`` when dates are kept, else ``""`` (PS3.15 E.3.6)."""
    digits = date.strip()
    if not (keep_dates or date_shift_days) or len(digits) != 8:
        return ""
    try:
        day = datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
        moved = day + datetime.timedelta(days=date_shift_days)
    except (ValueError, OverflowError):
        return ""
    return moved.strftime("%Y%m%d")


def _label(index: int, timepoint: StudyTimepoint) -> str:
    if timepoint.label:
        return timepoint.label
    return "baseline" if index == 0 else f"follow-up {index}"


def _key_image(timepoint: StudyTimepoint, lesion: Lesion) -> KeyImageRef | None:
    part = chosen_part(timepoint.annotation_set, [lesion.id], ())
    refs, _ = select_key_images(timepoint.series, part)
    return refs[0] if refs else None


def tracked_across(timepoints: Sequence[StudyTimepoint]) -> set[str]:
    """Tracking UIDs (PS3.16 TID 1500, 112040) of the lesions found at two
    time points or more: those that can have a before/after pair."""
    counts: dict[str, int] = {}
    for timepoint in timepoints:
        for uid in {lesion.tracking_uid for lesion in timepoint.annotation_set.lesions}:
            counts[uid] = counts.get(uid, 0) + 1
    return {uid for uid, count in counts.items() if count > 1}


def before_after_pairs(
    timepoints: Sequence[StudyTimepoint],
    *,
    keep_dates: bool = False,
    date_shift_days: int = 0,
    only: Collection[str] | None = None,
) -> tuple[list[BeforeAfterPair], list[str]]:
    """The before/after pair of each lesion tracked over two time points or
    more (by Tracking UID), in the order of the earliest study's lesions; and
    a line for each tracked lesion left out (no key image at two times).

    ``only``: the Tracking UIDs of the lesions the case was narrowed to (None:
    every tracked lesion)."""
    ordered = sorted(
        enumerate(timepoints), key=lambda item: (item[1].study_date or "9" * 8, item[0])
    )
    seen: dict[str, list[PairImage]] = {}
    labels: dict[str, str] = {}
    for index, (_, timepoint) in enumerate(ordered):
        label = _label(index, timepoint)
        date = case_date(
            timepoint.study_date, keep_dates=keep_dates, date_shift_days=date_shift_days
        )
        for lesion in timepoint.annotation_set.lesions:
            if only is not None and lesion.tracking_uid not in only:
                continue
            labels.setdefault(lesion.tracking_uid, lesion.label)
            image = _key_image(timepoint, lesion)
            if image is not None:
                size = timepoint.sizes_mm.get(lesion.tracking_uid)
                pair_image = PairImage(label, date, lesion, image, size)
                seen.setdefault(lesion.tracking_uid, []).append(pair_image)
    counts: dict[str, int] = {}
    for _, timepoint in ordered:
        for uid in {lesion.tracking_uid for lesion in timepoint.annotation_set.lesions}:
            counts[uid] = counts.get(uid, 0) + 1
    pairs: list[BeforeAfterPair] = []
    left_out: list[str] = []
    for uid, count in counts.items():
        if count < 2 or uid not in labels:
            continue
        images = seen.get(uid, [])
        if len(images) < 2 or images[0].timepoint == images[-1].timepoint:
            left_out.append(
                f"{labels[uid] or uid}: no key image at two time points, no pair"
            )
            continue
        pairs.append(BeforeAfterPair(uid, labels[uid], images[0], images[-1]))
    return pairs, left_out
