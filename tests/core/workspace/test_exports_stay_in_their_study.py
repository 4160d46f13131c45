"""A study's exports name its own images, never those of another open study
that shares its frame of reference (a follow-up scanned in the same frame)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pydicom

from imaging_viewer.core.workspace import Workspace, run_synchronously
from tests.core.workspace.test_prior_location import later_copy, measured_lesion

if TYPE_CHECKING:
    from pathlib import Path


def _referenced_sop_uids(path: Path) -> set[str]:
    """Every Referenced SOP Instance UID in a DICOM file, by pydicom."""
    found: set[str] = set()

    def visit(ds: pydicom.Dataset, element: pydicom.DataElement) -> None:
        if element.keyword == "ReferencedSOPInstanceUID":
            found.add(str(element.value))

    pydicom.dcmread(path).walk(visit)
    return found


def test_an_annotation_without_an_image_exports_on_its_own_study(
    sample_data: Path, tmp_path: Path
) -> None:
    workspace = Workspace(run_synchronously, autosave=False, reload_autosaved=False)
    workspace.open(sample_data / "CT")
    workspace.open(later_copy(sample_data / "CT", tmp_path / "later"), replace=False)
    baseline, follow_up = sorted(workspace.studies.values(), key=lambda s: s.date)
    follow_up_files = [f.path for f in follow_up.series[0].frames[0]]
    middle = pydicom.dcmread(follow_up_files[14], stop_before_pixels=True)
    # An older annotation: no image named, only its place in the shared frame.
    lesion = measured_lesion(
        "L1",
        (0.0, 0.0, float(middle.ImagePositionPatient[2])),
        middle.FrameOfReferenceUID,
    )
    workspace.annotations(follow_up.uid).add_lesion(lesion)

    workspace.export_annotation_documents(follow_up.uid, tmp_path / "out")

    follow_up_uids = {
        str(pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID)
        for p in follow_up_files
    }
    baseline_uids = {
        str(pydicom.dcmread(f.path, stop_before_pixels=True).SOPInstanceUID)
        for f in baseline.series[0].frames[0]
    }
    written = sorted((tmp_path / "out").rglob("*.dcm"))
    assert written
    referenced = set().union(*(_referenced_sop_uids(p) for p in written))
    assert referenced & follow_up_uids
    assert not referenced & baseline_uids
    assert str(middle.SOPInstanceUID) in referenced
    # The teaching case's key images come from the same study.
    keys = workspace.teaching_key_images(follow_up.uid)
    assert [key.sop_instance_uid for key in keys] == [str(middle.SOPInstanceUID)]
