"""Time point labels: computed by date, renamed by the user, kept in the study's
annotation file (read back with pydicom-independent JSON) and used by the
response table."""

from __future__ import annotations

import json
import shutil
from typing import TYPE_CHECKING

import pydicom

from imaging_viewer.core.workspace import Workspace, run_synchronously

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

CT1 = "dwv/nema-ct1_jpll.dcm"


def _two_timepoints(corpus: Path, folder: Path) -> tuple[Path, Path]:
    """The real CT, and a copy of it as a later study of the same patient."""
    earlier = folder / "earlier"
    later = folder / "later"
    earlier.mkdir()
    later.mkdir()
    shutil.copy(corpus / CT1, earlier / "ct.dcm")
    ds = pydicom.dcmread(corpus / CT1)
    ds.StudyInstanceUID = pydicom.uid.generate_uid()
    ds.SeriesInstanceUID = pydicom.uid.generate_uid()
    ds.SOPInstanceUID = pydicom.uid.generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.StudyDate = "20050301"
    ds.save_as(later / "ct.dcm")
    return earlier, later


def _workspace(sidecars: Callable[[str], Path]) -> Workspace:
    return Workspace(run_synchronously, sidecar=sidecars, autosave_delay_s=0.01)


def test_labels_by_date_renamed_and_kept(corpus: Path, tmp_path: Path) -> None:
    earlier, later = _two_timepoints(corpus, tmp_path)

    def sidecars(uid: str) -> Path:
        return tmp_path / "auto" / f"{uid}.json"

    workspace = _workspace(sidecars)
    workspace.open(later)
    workspace.open(earlier, replace=False)
    by_date = sorted(workspace.studies.values(), key=lambda s: s.date)
    first, second = (s.uid for s in by_date)
    assert workspace.timepoint_labels() == {first: "baseline", second: "follow-up 1"}

    workspace.set_timepoint(second, "  after   cycle 2 ")
    assert workspace.timepoint_labels()[second] == "after cycle 2"
    document = json.loads(sidecars(second).read_text(encoding="utf-8"))
    assert document["timepoint"] == "after cycle 2"
    assert document["study_date"] == "20050301"
    (patient,) = workspace.patients
    labels = [t.label for t in workspace.timepoints(patient)]
    assert "after cycle 2" in labels
    workspace.close()

    reopened = _workspace(sidecars)
    reopened.open(earlier)
    reopened.open(later, replace=False)
    assert reopened.timepoint_labels()[second] == "after cycle 2"
    reopened.close()
