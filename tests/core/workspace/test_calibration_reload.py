"""A reader's calibration comes back with the study's autosaved annotations
and with File → Open annotations (issue 15 item 1: found reloading a
calibrated radiograph, whose lengths fell back to px)."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

import pydicom
import pytest

from imaging_viewer.core.annotations.calibration import Calibration
from imaging_viewer.core.workspace import Workspace

if TYPE_CHECKING:
    from pathlib import Path

CR_WITHOUT_SPACING = "gdcm-CR-MONO1-10-chest.dcm"


def test_calibrations_are_reloaded(sample_data: Path, tmp_path: Path) -> None:
    folder = tmp_path / "xr"
    folder.mkdir()
    shutil.copy(sample_data / "XR" / CR_WITHOUT_SPACING, folder)
    ds = pydicom.dcmread(folder / CR_WITHOUT_SPACING)
    sop, study_uid = str(ds.SOPInstanceUID), str(ds.StudyInstanceUID)

    def sidecars(uid: str) -> Path:
        return tmp_path / "autosave" / f"{uid}.json"

    first = Workspace(sidecar=sidecars, autosave_delay_s=0.0)
    first.open(folder)
    annotations = first.annotations(study_uid)
    annotations.set_calibration(Calibration(sop, (0, 0, 0), (100, 0, 0), 25.0))
    first.flush_autosaves()
    saved = tmp_path / "saved.json"
    first.save_annotations(study_uid, saved)
    first.close()

    second = Workspace(sidecar=sidecars, autosave=False)
    second.open(folder)
    reloaded = second.annotations(study_uid).calibration(sop)
    assert reloaded is not None
    assert reloaded.scale == pytest.approx(0.25)

    second.annotations(study_uid).remove_calibration(sop)
    second.open_annotations(study_uid, saved)
    opened = second.annotations(study_uid).calibration(sop)
    assert opened is not None
    assert opened.scale == pytest.approx(0.25)
    second.close()
