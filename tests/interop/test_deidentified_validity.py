"""De-identification keeps the IOD valid: dciodvfy finds no more errors in the
de-identified file than in its source (PS3.15 E.1.1: dummy or empty values where
the IOD requires an attribute the profile would remove).

The whole corpus is checked by ``scripts/deidentified_validity.py`` (about a
minute); here, the files whose IODs need it (enhanced multi-frame MR and CT with
functional groups, Enhanced General Equipment, Acquisition Context) and one
classic image of each kind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pydicom
import pytest

from imaging_viewer.core.exchange.deidentify import (
    DeidContext,
    deidentify,
    read_dataset,
    write_dataset,
)
from imaging_viewer.core.exchange.iod_requirements import required_type
from tests.interop.reference_tools import dciodvfy_errors

if TYPE_CHECKING:
    from pathlib import Path

FILES = (
    "dcm_qa_enh/In/Philips/IM_0027_fMAP.dcm",
    "dcm_qa_enh/In/Siemens/XA10/6_1.dcm",
    "dicom2nifti/hyperfine/anatomical/001/001.dcm",
    "dicom2nifti/philips_enhanced/anatomical/001/IM-0001-0170-0001.dcm",
    "dicom2nifti/siemens_multiframe/anatomical/001/IM-0001-0001-0001.dcm",
    "pydicom_data_subset/eCT_Supplemental.dcm",
    "dcm_qa_ct/In/GE/01.dcm",
)
ENHANCED_MR = "1.2.840.10008.5.1.4.1.1.4.1"


@pytest.mark.parametrize("name", FILES)
def test_no_new_dciodvfy_errors(corpus: Path, tmp_path: Path, name: str) -> None:
    source = corpus / name
    out = deidentify(read_dataset(source), DeidContext("k", accept_burned_in=True))
    target = write_dataset(out, tmp_path / "deidentified.dcm")
    before, after = dciodvfy_errors(source), dciodvfy_errors(target)
    new = sorted(set(after) - set(before))
    assert len(after) <= len(before), "\n".join(new[:20])


def test_enhanced_mr_keeps_required_attributes_as_dummies(corpus: Path) -> None:
    source = pydicom.dcmread(corpus / FILES[1])
    out = deidentify(source, DeidContext("k", accept_burned_in=True))
    # PS3.3 C.7.6.16 / C.7.5.2: Type 1 -> a dummy, never the original value.
    assert out.ContentDate == "19000101" != source.ContentDate
    assert out.DeviceSerialNumber == "DEIDENTIFIED"
    # Acquisition Context Sequence (Type 2): present, empty.
    assert "AcquisitionContextSequence" in out
    assert len(out.AcquisitionContextSequence) == 0
    for frame in out.PerFrameFunctionalGroupsSequence:
        content = frame.FrameContentSequence[0]
        assert content.FrameAcquisitionDateTime == "19000101000000"
        assert content.FrameReferenceDateTime == "19000101000000"


def test_with_retained_dates_the_frame_times_stay(corpus: Path) -> None:
    source = pydicom.dcmread(corpus / FILES[1])
    out = deidentify(source, DeidContext("k", keep_dates=True, accept_burned_in=True))
    original = source.PerFrameFunctionalGroupsSequence[0].FrameContentSequence[0]
    kept = out.PerFrameFunctionalGroupsSequence[0].FrameContentSequence[0]
    assert kept.FrameAcquisitionDateTime == original.FrameAcquisitionDateTime


def test_types_from_the_module_tables() -> None:
    assert required_type(ENHANCED_MR, (), "ContentDate") == "1"
    assert required_type(ENHANCED_MR, (), "AcquisitionContextSequence") == "2"
    assert required_type(ENHANCED_MR, (), "PatientComments") == "3"
    assert required_type("1.2.3.4", (), "ContentDate") == "3"
    frame = ("PerFrameFunctionalGroupsSequence", "FrameContentSequence")
    assert required_type(ENHANCED_MR, frame, "FrameAcquisitionDateTime") == "1C"
