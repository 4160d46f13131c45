"""The response table: lesions × time points, their sizes and changes, RECIST 1.1.

Lesions are matched across time points by their Tracking UID (PS3.16 TID 1500,
Tracking Unique Identifier); time points are ordered by study date. In RECIST
mode the table also holds the sum of target diameters and the response at each
time point (:mod:`.recist`), and warnings where the data bend the rules (never
blocks). In bone-tumour mode there is no response category: the response of a
primary bone sarcoma is graded by pathology.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Final

import numpy as np

from imaging_viewer.core.followup.lesion_size import LesionSize, lesion_size
from imaging_viewer.core.followup.recist import (
    MAX_TARGETS,
    MAX_TARGETS_PER_ORGAN,
    RecistAssessment,
    TargetMeasurement,
    Timepoint,
    assess,
    measurable,
    percent_change,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from imaging_viewer.core.annotations.measure import RoiStats
    from imaging_viewer.core.annotations.model import AnnotationSet, Lesion

PLANE_CHANGE_DEG: Final = 10.0
"""A diameter measured on planes further apart than this is a change of plane."""
BONE_ORGANS: Final = frozenset({"bone", "skeleton", "femur", "tibia", "humerus"})


class TableMode(StrEnum):
    """How the table is read."""

    PLAIN = "plain"
    RECIST = "recist"
    BONE = "bone"


@dataclass(frozen=True)
class TimepointData:
    """One time point: a study's lesions and what is known of its images."""

    annotation_set: AnnotationSet
    study_uid: str = ""
    study_date: str = ""
    """``YYYYMMDD``; orders the time points (an empty date sorts last)."""
    label: str = ""
    modality: str = ""
    series_description: str = ""
    """Series description or sequence, for the change-of-sequence warning."""
    roi_stats: Mapping[str, RoiStats] | None = None
    source: str = ""
    """Where it came from (a file), for messages."""
    patient_id: str = ""
    """Patient ID (0010,0020) where the source records one (our SRs do)."""


@dataclass(frozen=True)
class LesionCell:
    """One lesion at one time point, and how it changed."""

    size: LesionSize
    size_mm: float | None
    """RECIST diameter: short axis of a node, else longest diameter."""
    change_from_baseline_pct: float | None
    change_from_nadir_pct: float | None
    volume_change_from_baseline_pct: float | None


@dataclass(frozen=True)
class LesionRow:
    """One tracked lesion across the time points (None where it was not seen)."""

    tracking_uid: str
    label: str
    role: str
    nodal: bool
    organ: str
    measurable: bool
    cells: tuple[LesionCell | None, ...]


@dataclass(frozen=True)
class ResponseTable:
    """Lesions × time points, with RECIST where asked for."""

    mode: TableMode
    timepoints: tuple[TimepointData, ...]
    rows: tuple[LesionRow, ...]
    recist: tuple[RecistAssessment | None, ...] = ()
    """Per time point in RECIST mode; None where not evaluable."""
    warnings: tuple[str, ...] = field(default_factory=tuple)
    target_sums: tuple[TargetSum, ...] = ()
    """Per time point in RECIST mode: the sum of the targets measured there,
    and those not measured (then the time point is not evaluable)."""


@dataclass(frozen=True)
class TargetSum:
    """The sum of the target diameters measured at one time point (RECIST 1.1
    section 4.3.1), with the targets not measured there."""

    sum_mm: float
    unmeasured: tuple[str, ...]
    """Labels (else Tracking UIDs) of targets without a diameter."""


def _is_bone(lesion: Lesion) -> bool:
    organ = lesion.organ.strip().lower()
    return organ in BONE_ORGANS or "bone" in organ


def _order(timepoints: Sequence[TimepointData]) -> list[TimepointData]:
    indexed = list(enumerate(timepoints))
    indexed.sort(key=lambda item: (item[1].study_date or "99999999", item[0]))
    return [t for _, t in indexed]


def _changes(
    values: list[float | None],
) -> tuple[list[float | None], list[float | None]]:
    """% change of each value against the first and against the smallest before it."""
    baseline = values[0]
    from_baseline: list[float | None] = []
    from_nadir: list[float | None] = []
    nadir: float | None = None
    for index, value in enumerate(values):
        if value is None or baseline is None:
            from_baseline.append(None)
            from_nadir.append(None)
        else:
            from_baseline.append(percent_change(value, baseline) if index else 0.0)
            reference = value if nadir is None else nadir
            from_nadir.append(percent_change(value, reference) if index else 0.0)
        if value is not None:
            nadir = value if nadir is None else min(nadir, value)
    return from_baseline, from_nadir


def _finite(value: float | None) -> float | None:
    return value if value is None or math.isfinite(value) else None


def _row(
    tracking_uid: str, lesions: list[Lesion | None], timepoints: list[TimepointData]
) -> LesionRow:
    first = next(lesion for lesion in lesions if lesion is not None)
    sizes = [
        None if lesion is None else lesion_size(lesion, t.roi_stats)
        for lesion, t in zip(lesions, timepoints, strict=True)
    ]
    diameters = [
        None if s is None else s.recist_diameter_mm(first.nodal) for s in sizes
    ]
    volumes = [None if s is None else s.volume_mm3 for s in sizes]
    from_baseline, from_nadir = _changes(diameters)
    volume_from_baseline, _ = _changes(volumes)
    cells = tuple(
        None
        if size is None
        else LesionCell(
            size,
            diameters[i],
            _finite(from_baseline[i]),
            _finite(from_nadir[i]),
            _finite(volume_from_baseline[i]),
        )
        for i, size in enumerate(sizes)
    )
    baseline_size = sizes[0]
    fits = baseline_size is not None and measurable(
        baseline_size.longest_diameter_mm or 0.0,
        baseline_size.short_axis_mm or 0.0,
        nodal=first.nodal,
        modality=timepoints[0].modality or "CT",
    )
    if _is_bone(first) and not first.soft_tissue_component:
        fits = False
    return LesionRow(
        tracking_uid,
        first.label,
        first.role,
        first.nodal,
        first.organ,
        fits,
        cells,
    )


def _angle_deg(a: Sequence[float], b: Sequence[float]) -> float:
    cos = abs(float(np.dot(a, b)))
    return math.degrees(math.acos(min(1.0, cos)))


def _acquisition_warnings(timepoints: list[TimepointData]) -> list[str]:
    warnings: list[str] = []
    for index in range(1, len(timepoints)):
        before, now = timepoints[index - 1], timepoints[index]
        if before.modality and now.modality and before.modality != now.modality:
            warnings.append(
                f"time point {index}: modality changed from {before.modality} to "
                f"{now.modality}"
            )
        if (
            before.series_description
            and now.series_description
            and before.series_description != now.series_description
        ):
            warnings.append(
                f"time point {index}: sequence changed from "
                f"{before.series_description!r} to {now.series_description!r}"
            )
    return warnings


def _plane_warnings(rows: Sequence[LesionRow]) -> list[str]:
    warnings = []
    for row in rows:
        normals = [
            (i, c.size.plane_normal_lps)
            for i, c in enumerate(row.cells)
            if c is not None and c.size.plane_normal_lps is not None
        ]
        for (_, previous), (index, normal) in itertools.pairwise(normals):
            if _angle_deg(previous, normal) > PLANE_CHANGE_DEG:
                warnings.append(
                    f"{row.label or row.tracking_uid}: measured on another plane at "
                    f"time point {index}"
                )
    return warnings


def _targets(rows: Sequence[LesionRow]) -> tuple[list[LesionRow], list[str]]:
    targets = [row for row in rows if row.role == "target"]
    warnings: list[str] = []
    if not targets and not any(row.role for row in rows):
        # No roles assigned: every lesion measured at baseline is taken as a target.
        targets = [
            row
            for row in rows
            if row.cells[0] is not None and row.cells[0].size_mm is not None
        ]
        if targets:
            warnings.append(
                "no lesion has a role: every lesion measured at baseline is taken "
                "as a target"
            )
    if len(targets) > MAX_TARGETS:
        warnings.append(
            f"{len(targets)} target lesions: RECIST 1.1 takes at most {MAX_TARGETS}"
        )
    per_organ = Counter(row.organ.strip().lower() for row in targets if row.organ)
    for organ, count in sorted(per_organ.items()):
        if count > MAX_TARGETS_PER_ORGAN:
            warnings.append(
                f"{count} target lesions in {organ}: RECIST 1.1 takes at most "
                f"{MAX_TARGETS_PER_ORGAN} per organ"
            )
    for row in targets:
        if not row.measurable:
            warnings.append(
                f"{row.label or row.tracking_uid}: under the measurable size at "
                "baseline (10 mm CT/MR, 15 mm short axis for nodes, 20 mm chest "
                "X-ray) or bone without a soft-tissue component"
            )
    return targets, warnings


def _target_sums(rows: Sequence[LesionRow], count: int) -> tuple[TargetSum, ...]:
    targets, _ = _targets(rows)
    sums = []
    for index in range(count):
        sizes = [
            cell.size_mm if (cell := row.cells[index]) is not None else None
            for row in targets
        ]
        sums.append(
            TargetSum(
                math.fsum(s for s in sizes if s is not None),
                tuple(
                    row.label or row.tracking_uid
                    for row, size in zip(targets, sizes, strict=True)
                    if size is None
                ),
            )
        )
    return tuple(sums)


def _recist(
    rows: Sequence[LesionRow], lesions_by_timepoint: list[dict[str, Lesion]]
) -> tuple[list[RecistAssessment | None], list[str]]:
    targets, warnings = _targets(rows)
    count = len(lesions_by_timepoint)
    if not targets:
        warnings.append("no target lesion measured at baseline: no RECIST response")
        return [None] * count, warnings
    baseline_uids = set(lesions_by_timepoint[0])
    evaluable: list[tuple[int, Timepoint]] = []
    for index in range(count):
        measured = {
            row.tracking_uid: TargetMeasurement(cell.size_mm, row.nodal)
            for row in targets
            if (cell := row.cells[index]) is not None and cell.size_mm is not None
        }
        if len(measured) < len(targets):
            missing = [
                r.label or r.tracking_uid
                for r in targets
                if r.tracking_uid not in measured
            ]
            warnings.append(
                f"time point {index}: not evaluable, no diameter of "
                f"{', '.join(missing)}"
            )
            continue
        new_lesion = index > 0 and any(
            lesion.role == "new"
            or (uid not in baseline_uids and lesion.role != "non-target")
            for uid, lesion in lesions_by_timepoint[index].items()
        )
        evaluable.append((index, Timepoint(measured, new_lesion=new_lesion)))
    results: list[RecistAssessment | None] = [None] * count
    if evaluable and evaluable[0][0] == 0:
        assessed = assess([t for _, t in evaluable])
        for (index, _), assessment in zip(evaluable, assessed, strict=True):
            results[index] = RecistAssessment(
                index,
                assessment.sum_mm,
                assessment.change_from_baseline_pct,
                assessment.change_from_nadir_pct,
                assessment.response,
                assessment.nadir_mm,
            )
    return results, warnings


def build_table(
    timepoints: Sequence[TimepointData], mode: TableMode = TableMode.PLAIN
) -> ResponseTable:
    """The response table of ``timepoints`` (in any order; sorted by study date).

    Lesions with the same Tracking UID are one row; a row's label, role, node
    and organ are those of its first appearance.
    """
    ordered = _order(timepoints)
    if not ordered:
        return ResponseTable(mode, (), ())
    warnings: list[str] = []
    if any(not t.study_date for t in ordered):
        warnings.append("a time point has no study date: it is put last")
    by_timepoint = [
        {lesion.tracking_uid: lesion for lesion in t.annotation_set.lesions}
        for t in ordered
    ]
    uids = list(dict.fromkeys(uid for lesions in by_timepoint for uid in lesions))
    rows = tuple(
        _row(uid, [lesions.get(uid) for lesions in by_timepoint], ordered)
        for uid in uids
    )
    warnings += _acquisition_warnings(ordered)
    warnings += _plane_warnings(rows)
    recist: tuple[RecistAssessment | None, ...] = ()
    sums: tuple[TargetSum, ...] = ()
    if mode is TableMode.RECIST:
        assessments, recist_warnings = _recist(rows, by_timepoint)
        recist = tuple(assessments)
        warnings += recist_warnings
        sums = _target_sums(rows, len(ordered))
    return ResponseTable(mode, tuple(ordered), rows, recist, tuple(warnings), sums)
