"""Coded finding sites (issue 16 item 3): SNOMED CT anatomic codes with
laterality, written as the Finding Site of PS3.16 TID 1501 and read back by
highdicom and by our import."""

from __future__ import annotations

from typing import TYPE_CHECKING

import highdicom as hd
import pydicom
import pytest
from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code

from imaging_viewer.core.annotations.anatomic_sites import (
    ANATOMIC_SITES,
    LATERALITIES,
    describe_site,
    site_by_code,
)
from imaging_viewer.core.annotations.model import Lesion
from imaging_viewer.core.exchange.structured_report import import_measurement_report
from tests.core.exchange.test_structured_report import (
    CODED_SITES,
    every_kind_set,
    example_image,
    export_and_check,
    without_private_records,
)

if TYPE_CHECKING:
    from pathlib import Path


def test_catalogue_is_dicoms_snomed_table() -> None:
    """Every offered site and laterality is pydicom's SCT code with its meaning."""
    by_value: dict[str, set[str]] = {}
    for name in dir(codes.SCT):
        try:
            code = getattr(codes.SCT, name)
        except (AttributeError, RuntimeError):
            continue
        if isinstance(code, Code):
            by_value.setdefault(code.value, set()).add(code.meaning)
    for site in ANATOMIC_SITES:
        assert site.meaning in by_value.get(site.code, set()), site
    assert LATERALITIES["left"] == (codes.SCT.Left.value, codes.SCT.Left.meaning)
    assert LATERALITIES["right"] == (codes.SCT.Right.value, codes.SCT.Right.meaning)
    for needed in ("Femur", "Tibia", "Humerus", "Pelvis", "Lung", "L3Vertebra"):
        assert site_by_code(getattr(codes.SCT, needed).value) is not None
    assert describe_site(codes.SCT.Femur.value, "Femur", "left") == "Left Femur"


def test_lesion_refuses_unknown_laterality() -> None:
    with pytest.raises(ValueError, match="laterality"):
        Lesion(laterality="up")
    with pytest.raises(ValueError, match="code and its meaning"):
        Lesion(site_code="71341001")


def test_highdicom_recovers_coded_sites(tmp_path: Path) -> None:
    sources, image = example_image("ct")
    original = every_kind_set([image])
    path, _ = export_and_check(original, sources, tmp_path)
    report = hd.sr.srread(path)
    groups = report.content.get_planar_roi_measurement_groups()
    assert groups
    by_uid = {lesion.tracking_uid: lesion for lesion in original.lesions}
    seen = 0
    for group in groups:
        lesion = by_uid[str(group.tracking_uid)]
        sites = group.finding_sites
        if not lesion.site_code:
            assert sites == []
            continue
        (site,) = sites
        assert site.value.value == lesion.site_code
        assert site.value.scheme_designator == "SCT"
        assert site.value.meaning == lesion.site_meaning
        if lesion.laterality:
            assert site.laterality is not None
            assert site.laterality.value == LATERALITIES[lesion.laterality][0]
        else:
            assert site.laterality is None
        seen += 1
    assert seen


def test_coded_site_read_back_without_private_records(tmp_path: Path) -> None:
    """Another program's report: the site comes from the standard CODE item."""
    sources, image = example_image("mr")
    original = every_kind_set([image])
    path, _ = export_and_check(original, sources, tmp_path)
    imported = import_measurement_report(without_private_records(pydicom.dcmread(path)))
    got = [
        (lesion.site_code, lesion.site_meaning, lesion.laterality)
        for lesion in imported.annotation_set.lesions
    ]
    want = [
        (lesion.site_code, lesion.site_meaning, lesion.laterality)
        for lesion in original.lesions
    ]
    assert got == want
    assert any(site for site, _, _ in got)
    assert len(CODED_SITES) == 4
