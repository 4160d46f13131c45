"""The response table on a synthetic follow-up whose truth is known.

A sphere of radius 15 mm at baseline shrinks to 10 mm at follow-up, in a frame
rotated and moved against the baseline's. The annotations are made from the
voxels (as a reader would draw them: outlines on every slice, a bidirectional
on the widest slice, a ruler across the slices), and the table's diameters,
volumes and changes are compared with the sphere's: 4/3·π·r³, 2·r.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pytest

from imaging_viewer.core.annotations.model import (
    AnnotationSet,
    Bidirectional,
    Lesion,
    PolygonRoi,
    Ruler,
)
from imaging_viewer.core.followup.recist import Response
from imaging_viewer.core.followup.response_table import (
    TableMode,
    TimepointData,
    build_table,
)

if TYPE_CHECKING:
    from numpy.typing import NDArray

SPACING_MM = 1.0


def _rotation(angle_deg: float) -> NDArray[np.float64]:
    a = math.radians(angle_deg)
    return np.array(
        [[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]]
    )


def _sphere_annotations(
    lesion: Lesion, radius_mm: float, ijk_to_lps: NDArray[np.float64]
) -> Lesion:
    """Outlines, bidirectional and ruler measured on the voxels of a sphere."""
    size = 48
    centre = np.array([size / 2 - 0.3, size / 2 + 0.2, size / 2 + 0.1])
    k, j, i = np.indices((size, size, size)) + 0.0
    inside = (i - centre[0]) ** 2 + (j - centre[1]) ** 2 + (k - centre[2]) ** 2 <= (
        radius_mm / SPACING_MM
    ) ** 2

    def lps(ijk: NDArray[np.float64]) -> tuple[float, float, float]:
        point = ijk_to_lps @ np.append(ijk, 1.0)
        return float(point[0]), float(point[1]), float(point[2])

    normal = tuple(float(c) for c in ijk_to_lps[:3, 2] / SPACING_MM)
    annotations: list[object] = []
    widest = (0, 0)
    for slice_index in range(size):
        count = int(inside[slice_index].sum())
        if count == 0:
            continue
        widest = max(widest, (count, slice_index))
        # The reader's outline: a circle of the slice's area around its centroid.
        rows, cols = np.nonzero(inside[slice_index])
        r = math.sqrt(count / math.pi) * SPACING_MM
        angles = np.linspace(0, 2 * math.pi, 64, endpoint=False)
        vertices = [
            lps(
                np.array(
                    [
                        cols.mean() + r * math.cos(t),
                        rows.mean() + r * math.sin(t),
                        slice_index,
                    ]
                )
            )
            for t in angles
        ]
        annotations.append(
            PolygonRoi(
                lesion_id=lesion.id,
                plane_normal_lps=normal,
                vertices_lps=tuple(vertices),
            )
        )
    _, mid = widest
    rows, cols = np.nonzero(inside[mid])
    long_ = (cols.max() - cols.min() + 1) * SPACING_MM
    short = (rows.max() - rows.min() + 1) * SPACING_MM
    c_row, c_col = rows.mean(), cols.mean()
    annotations.append(
        Bidirectional(
            lesion_id=lesion.id,
            plane_normal_lps=normal,
            long_start_lps=lps(np.array([c_col - long_ / 2, c_row, mid])),
            long_end_lps=lps(np.array([c_col + long_ / 2, c_row, mid])),
            short_start_lps=lps(np.array([c_col, c_row - short / 2, mid])),
            short_end_lps=lps(np.array([c_col, c_row + short / 2, mid])),
        )
    )
    slices = np.nonzero(inside.any(axis=(1, 2)))[0]
    height = (slices.max() - slices.min() + 1) * SPACING_MM
    annotations.append(
        Ruler(
            lesion_id=lesion.id,
            plane_normal_lps=tuple(float(c) for c in ijk_to_lps[:3, 0]),
            start_lps=lps(np.array([c_col, c_row, mid - height / 2])),
            end_lps=lps(np.array([c_col, c_row, mid + height / 2])),
        )
    )
    return Lesion(
        id=lesion.id,
        label=lesion.label,
        tracking_uid=lesion.tracking_uid,
        role="target",
        organ="lung",
        annotations=tuple(annotations),  # type: ignore[arg-type]
    )


def _timepoint(
    lesion: Lesion, radius_mm: float, ijk_to_lps: NDArray[np.float64], date: str
) -> TimepointData:
    return TimepointData(
        AnnotationSet([_sphere_annotations(lesion, radius_mm, ijk_to_lps)]),
        study_uid=f"1.2.3.{date}",
        study_date=date,
        modality="CT",
    )


@pytest.fixture(scope="module")
def table():  # type: ignore[no-untyped-def]
    lesion = Lesion(label="L1 right lung")
    baseline_frame = np.eye(4)
    moved = np.eye(4)
    moved[:3, :3] = _rotation(8.0)
    moved[:3, 3] = [25.0, -12.0, 30.0]
    follow_up = _timepoint(lesion, 10.0, moved, "20240301")
    baseline = _timepoint(lesion, 15.0, baseline_frame, "20240101")
    # Given out of order: the study date orders them.
    return build_table([follow_up, baseline], TableMode.RECIST)


def test_timepoints_are_ordered_by_study_date(table) -> None:  # type: ignore[no-untyped-def]
    assert [t.study_date for t in table.timepoints] == ["20240101", "20240301"]


def test_diameters_within_a_voxel_of_the_truth(table) -> None:  # type: ignore[no-untyped-def]
    (row,) = table.rows
    baseline, follow_up = row.cells
    assert baseline.size.longest_diameter_mm == pytest.approx(30.0, abs=SPACING_MM)
    assert baseline.size.short_axis_mm == pytest.approx(30.0, abs=SPACING_MM)
    assert follow_up.size.longest_diameter_mm == pytest.approx(20.0, abs=SPACING_MM)
    assert baseline.size.product_mm2 == pytest.approx(900.0, rel=0.07)


def test_volumes_within_voxel_tolerance(table) -> None:  # type: ignore[no-untyped-def]
    (row,) = table.rows
    for cell, radius in zip(row.cells, (15.0, 10.0), strict=True):
        truth = 4.0 / 3.0 * math.pi * radius**3
        # Half a voxel on the radius: (r ± 0.5)³ bounds the voxelised sphere.
        tolerance = 4.0 / 3.0 * math.pi * ((radius + 0.5) ** 3 - radius**3)
        assert cell.size.outline_volume_mm3 == pytest.approx(truth, abs=tolerance)
        assert cell.size.ellipsoid_volume_mm3 == pytest.approx(truth, abs=tolerance)


def test_changes_and_recist(table) -> None:  # type: ignore[no-untyped-def]
    (row,) = table.rows
    follow_up = row.cells[1]
    # 30 → 20 mm: −33 %; ±1 mm on each gives about ±5 %.
    assert follow_up.change_from_baseline_pct == pytest.approx(-100 / 3, abs=5.0)
    assert follow_up.change_from_nadir_pct == follow_up.change_from_baseline_pct
    # (10/15)³ − 1 = −70 % of the volume.
    assert follow_up.volume_change_from_baseline_pct == pytest.approx(-70.4, abs=6.0)
    assert table.recist[0].response is None
    assert table.recist[1].response is Response.PR


def _lesion(label: str, diameter: float, **fields: object) -> Lesion:
    lesion = Lesion(label=label, **fields)  # type: ignore[arg-type]
    ruler = Ruler(
        lesion_id=lesion.id,
        plane_normal_lps=(0.0, 0.0, 1.0),
        start_lps=(0.0, 0.0, 0.0),
        end_lps=(diameter, 0.0, 0.0),
    )
    return Lesion(**{**lesion.__dict__, "annotations": (ruler,)})


def test_recist_warnings_and_new_lesion() -> None:
    targets = [_lesion(f"L{n}", 20.0, role="target", organ="lung") for n in range(1, 7)]
    small = _lesion("L7", 8.0, role="target", organ="liver")
    baseline = TimepointData(
        AnnotationSet([*targets, small]), study_date="20240101", modality="CT"
    )
    again = [Lesion(**{**lesion.__dict__}) for lesion in [*targets, small]]
    new = _lesion("N1", 12.0, role="new")
    follow_up = TimepointData(
        AnnotationSet([*again, new]), study_date="20240401", modality="MR"
    )
    table = build_table([baseline, follow_up], TableMode.RECIST)
    text = "\n".join(table.warnings)
    assert "7 target lesions" in text
    assert "6 target lesions in lung" in text
    assert "L7: under the measurable size" in text
    assert "modality changed from CT to MR" in text
    assert table.recist[1].response is Response.PD


def test_bone_mode_has_no_response_and_bone_is_not_measurable() -> None:
    bone = _lesion("L1 distal femur", 80.0, organ="bone")
    soft = _lesion(
        "L2 soft-tissue mass", 60.0, organ="bone", soft_tissue_component=True
    )
    table = build_table(
        [TimepointData(AnnotationSet([bone, soft]), study_date="20240101")],
        TableMode.BONE,
    )
    assert table.recist == ()
    assert [row.measurable for row in table.rows] == [False, True]
