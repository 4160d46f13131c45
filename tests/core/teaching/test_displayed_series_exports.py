"""Exports place an older annotation (no recorded image or series) on the series
it is displayed on, and the SR and GSPS name that image (issue 15 item 4).

The corpus CT written twice as series 202 and 203 (``test_drawn_series``): same
frame of reference and positions, so only the displayed series tells them apart.
The SR and GSPS written are read back with pydicom.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import pydicom
import pytest

from imaging_viewer.core.annotations.model import AnnotationSet, Lesion, Ruler
from imaging_viewer.core.teaching.case import TeachingCase
from imaging_viewer.core.workspace import Workspace
from tests.core.teaching.test_drawn_series import (
    BONE,
    STANDARD,
    _scoord_references,
    by_number,
    ruler_on_axial_mpr,
    sop_at,
    two_reconstructions,
)
from tests.core.teaching.test_export import FakeBurnIn

if TYPE_CHECKING:
    from pathlib import Path

    from imaging_viewer.core.dicom.scan import ScanResult

__all__ = ["two_reconstructions"]  # the fixture, used by name


def older_ruler(scan: ScanResult) -> Ruler:
    """A ruler 12 mm above the first slice, as an older file keeps it: points and
    frame of reference only, no image, series or plane."""
    (ruler,) = list(ruler_on_axial_mpr(by_number(scan, BONE), 12.0).annotations())
    assert isinstance(ruler, Ruler)
    return replace(
        ruler,
        referenced_sop_instance_uid="",
        referenced_frame=None,
        referenced_series_instance_uid="",
        drawn_on_plane="",
    )


def open_with(scan: ScanResult, ruler: Ruler) -> tuple[Workspace, str]:
    workspace = Workspace(autosave=False)
    workspace.open(scan.root)
    (study_uid,) = workspace.studies
    workspace.annotations(study_uid).add_lesion(
        replace(Lesion(id="lesion-1", label="Lesion 1"), annotations=(ruler,))
    )
    return workspace, study_uid


def _presentation_images(path: Path) -> set[tuple[str, str]]:
    state = pydicom.dcmread(path)
    return {
        (str(series.SeriesInstanceUID), str(image.ReferencedSOPInstanceUID))
        for series in state.ReferencedSeriesSequence
        for image in series.ReferencedImageSequence
    }


@pytest.mark.parametrize("displayed", [STANDARD, BONE])
def test_dicom_export_puts_an_older_annotation_on_the_displayed_series(
    two_reconstructions: ScanResult, tmp_path: Path, displayed: int
) -> None:
    shown = by_number(two_reconstructions, displayed)
    workspace, study_uid = open_with(
        two_reconstructions, older_ruler(two_reconstructions)
    )
    (key,) = workspace.teaching_key_images(study_uid, displayed_series_uid=shown.uid)
    assert (key.series.uid, key.slice_index) == (shown.uid, 2)

    result, warnings = workspace.export_annotation_documents(
        study_uid, tmp_path / "out", displayed_series_uid=shown.uid
    )
    assert not [line for line in warnings if "lies on no" in line]
    assert result.structured_report is not None
    assert result.presentation_state is not None
    expected = sop_at(shown, 2)
    copied = pydicom.dcmread(tmp_path / "out" / "key01.dcm")
    assert (copied.SeriesInstanceUID, copied.SOPInstanceUID) == (shown.uid, expected)
    # The SCOORD names the resolved image, not only the evidence list.
    assert set(_scoord_references(pydicom.dcmread(result.structured_report))) == {
        expected
    }
    assert _presentation_images(result.presentation_state) == {(shown.uid, expected)}


def test_teaching_case_puts_an_older_annotation_on_the_displayed_series(
    two_reconstructions: ScanResult, tmp_path: Path
) -> None:
    standard = by_number(two_reconstructions, STANDARD)
    workspace, study_uid = open_with(
        two_reconstructions, older_ruler(two_reconstructions)
    )
    exported = workspace.export_teaching_case(
        study_uid,
        TeachingCase(title="Older annotation"),
        tmp_path / "case",
        FakeBurnIn(),
        deidentify=False,
        displayed_series_uid=standard.uid,
    )
    assert len(exported.images) == 1
    dicom = tmp_path / "case" / "dicom"
    key = pydicom.dcmread(dicom / "key01.dcm")
    assert (key.SeriesNumber, key.SOPInstanceUID) == (STANDARD, sop_at(standard, 2))
    assert set(_scoord_references(pydicom.dcmread(dicom / "report_sr.dcm"))) == {
        sop_at(standard, 2)
    }
    assert _presentation_images(dicom / "annotations_pr.dcm") == {
        (standard.uid, sop_at(standard, 2))
    }


def test_the_resolved_image_is_named_only_where_none_was_recorded(
    two_reconstructions: ScanResult,
) -> None:
    from imaging_viewer.core.teaching.key_images import (
        select_key_images,
        with_resolved_images,
    )

    bone = by_number(two_reconstructions, BONE)
    standard = by_number(two_reconstructions, STANDARD)
    drawn = ruler_on_axial_mpr(bone, 12.0)
    older = replace(older_ruler(two_reconstructions), id="older", lesion_id="lesion-2")
    annotations = AnnotationSet(
        [
            *drawn.lesions,
            replace(Lesion(id="lesion-2", label="Lesion 2"), annotations=(older,)),
        ]
    )
    refs, _ = select_key_images(
        two_reconstructions.series, annotations, displayed_series_uid=standard.uid
    )
    resolved = with_resolved_images(annotations, refs)
    (kept,) = drawn.annotations()
    assert resolved.annotation(kept.id) == kept
    named = resolved.annotation("older")
    assert named.referenced_sop_instance_uid == sop_at(standard, 2)
    assert named.referenced_series_instance_uid == standard.uid
    assert named.referenced_frame is None
