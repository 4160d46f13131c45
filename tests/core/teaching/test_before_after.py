"""Issue 13 item 6: a teaching case's before/after key images per tracked
lesion, on the corpus CT and its copy as a later study of the patient. The
images are checked against pydicom's SOP Instance UIDs, the dates against the
files' Study Date moved by the case's shift."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pydicom

from imaging_viewer.core.annotations.model import AnnotationSet, Lesion, Ruler
from imaging_viewer.core.dicom.scan import scan_folder
from imaging_viewer.core.teaching.before_after import (
    StudyTimepoint,
    before_after_pairs,
    case_date,
)
from tests.core.workspace.test_timepoint_labels import _two_timepoints

if TYPE_CHECKING:
    from pathlib import Path

TRACKED = "2.25.1313131313"


def _lesion(label: str, sop_uid: str, tracking_uid: str | None = None) -> Lesion:
    lesion = Lesion(
        label=label, **({"tracking_uid": tracking_uid} if tracking_uid else {})
    )
    ruler = Ruler(
        lesion_id=lesion.id,
        referenced_sop_instance_uid=sop_uid,
        plane_normal_lps=(0.0, 0.0, 1.0),
        start_lps=(0.0, 0.0, 0.0),
        end_lps=(20.0, 0.0, 0.0),
    )
    return Lesion(**{**lesion.__dict__, "annotations": (ruler,)})


def _timepoint(folder: Path, *lesions_of: tuple[str, str | None]) -> StudyTimepoint:
    ds = pydicom.dcmread(folder / "ct.dcm", stop_before_pixels=True)
    lesions = [_lesion(label, str(ds.SOPInstanceUID), uid) for label, uid in lesions_of]
    return StudyTimepoint(
        scan_folder(folder).series, AnnotationSet(lesions), str(ds.StudyDate)
    )


def test_pairs_of_tracked_lesions_with_shifted_dates(
    corpus: Path, tmp_path: Path
) -> None:
    earlier, later = _two_timepoints(corpus, tmp_path)
    baseline = _timepoint(earlier, ("L1 liver", TRACKED), ("only then", None))
    follow_up = _timepoint(later, ("L1 again", TRACKED), ("new", None))
    before_date = pydicom.dcmread(earlier / "ct.dcm").StudyDate
    assert before_date < "20050301"

    pairs, left_out = before_after_pairs([follow_up, baseline], date_shift_days=-100)
    assert left_out == []
    (pair,) = pairs  # untracked lesions have no pair
    assert (pair.tracking_uid, pair.label) == (TRACKED, "L1 liver")
    before_uid = pydicom.dcmread(earlier / "ct.dcm").SOPInstanceUID
    after_uid = pydicom.dcmread(later / "ct.dcm").SOPInstanceUID
    assert pair.before.image.sop_instance_uid == before_uid
    assert pair.after.image.sop_instance_uid == after_uid
    assert pair.after.lesion.label == "L1 again"
    assert pair.before.caption.startswith("baseline · ")
    assert pair.after.caption == "follow-up 1 · 2004-11-21"  # 2005-03-01 − 100 d
    assert pair.before.date == case_date(
        before_date, keep_dates=True, date_shift_days=-100
    )

    removed, _ = before_after_pairs([baseline, follow_up])  # dates removed
    assert [removed[0].before.caption, removed[0].after.caption] == [
        "baseline",
        "follow-up 1",
    ]


def test_a_tracked_lesion_without_image_is_said(corpus: Path, tmp_path: Path) -> None:
    earlier, later = _two_timepoints(corpus, tmp_path)
    baseline = _timepoint(earlier, ("L1", TRACKED))
    unmeasured = StudyTimepoint(
        scan_folder(later).series,
        AnnotationSet([Lesion(label="L1", tracking_uid=TRACKED)]),
        "20050301",
    )
    pairs, left_out = before_after_pairs([baseline, unmeasured])
    assert pairs == []
    assert left_out == ["L1: no key image at two time points, no pair"]


def test_case_date_never_shows_a_removed_date() -> None:
    assert case_date("20050301", keep_dates=False) == ""
    assert case_date("20050301", keep_dates=True) == "20050301"
    assert case_date("20050301", keep_dates=True, date_shift_days=1) == "20050302"
    assert case_date("2005", keep_dates=True) == ""
