"""``imaging-viewer teach --lesion ... --key-images ...`` on a corpus CT (issue 15
item 12): the lesions and marked key images chosen, as the dialog chooses them.

The Philips head CT of the corpus (28 slices) with two lesions (slices 5 and 15)
and two images marked as key (slices 10 and 20). The command runs as a user
runs it; the key images written (not de-identified) are read back with pydicom.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pydicom
import pytest

from imaging_viewer.core.annotations.key_image_marks import KeyImageMark
from imaging_viewer.core.annotations.model import AnnotationSet, Lesion, Ruler
from imaging_viewer.core.annotations.serialize import to_json
from imaging_viewer.core.dicom.scan import scan_folder
from tests.conftest import corpus_path
from tests.test_cli_teach import run_cli, teach

if TYPE_CHECKING:
    from pathlib import Path

CT = corpus_path() / "dcm_qa_ct" / "In" / "Philips" / "S21570" / "S2010"
LESION_SLICES = {"Lesion 1": 5, "Lesion 2": 15}
MARKED_SLICES = (10, 20)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The annotation file: two lesions, two marked key images."""
    if not CT.is_dir():
        pytest.skip("the shared DICOM corpus is not here")
    (info,) = scan_folder(CT).series
    affine = np.asarray(info.ijk_to_lps)
    sops = [
        str(pydicom.dcmread(f.path, stop_before_pixels=True).SOPInstanceUID)
        for f in info.frames[0]
    ]

    def lps(i: float, j: float, k: int) -> tuple[float, float, float]:
        point = affine @ [i, j, k, 1.0]
        return float(point[0]), float(point[1]), float(point[2])

    normal = np.cross(affine[:3, 0], affine[:3, 1])
    normal_lps = tuple(float(v) for v in normal / np.linalg.norm(normal))
    lesions = []
    for label, k in LESION_SLICES.items():
        lesion = Lesion(label=label)
        ruler = Ruler(
            lesion_id=lesion.id,
            start_lps=lps(200, 250, k),
            end_lps=lps(300, 270, k),
            frame_of_reference_uid=info.frame_of_reference_uid,
            referenced_sop_instance_uid=sops[k],
            referenced_series_instance_uid=info.uid,
            plane_normal_lps=normal_lps,
        )
        lesions.append(replace(lesion, annotations=(ruler,)))
    annotation_set = AnnotationSet(lesions)
    for k in MARKED_SLICES:
        annotation_set.mark_key_image(
            KeyImageMark(sop_instance_uid=sops[k], series_instance_uid=info.uid)
        )
    folder = tmp_path_factory.mktemp("teach_choices")
    path = folder / "annotations.json"
    document = to_json(annotation_set, info.study_uid, [info.frame_of_reference_uid])
    path.write_text(json.dumps(document), encoding="utf-8")
    return {"file": path, "folder": folder, "sops": sops, "lesions": lesions}


def key_slices(source: dict[str, Any], name: str, *options: str) -> list[int]:
    """Slices of the key images ``teach`` writes with ``options``, in order."""
    out = source["folder"] / name
    teach(CT, "--annotations", source["file"], "-o", out, "--no-deidentify", *options)
    written = sorted((out / "dicom").glob("key[0-9][0-9].dcm"))
    return [
        source["sops"].index(str(pydicom.dcmread(p).SOPInstanceUID)) for p in written
    ]


def test_by_default_the_marked_images_then_every_lesion(
    source: dict[str, Any],
) -> None:
    assert key_slices(source, "all") == [10, 20, 5, 15]


def test_one_lesion_by_label_and_no_marked_images(source: dict[str, Any]) -> None:
    chosen = key_slices(
        source, "lesion2", "--lesion", "lesion 2", "--key-images", "none"
    )
    assert chosen == [15]


def test_a_lesion_by_tracking_uid_and_the_second_marked_image(
    source: dict[str, Any],
) -> None:
    first = source["lesions"][0]
    chosen = key_slices(
        source,
        "lesion1",
        "--lesion",
        first.tracking_uid,
        "--key-images",
        "2",
        "--preset",
        "Brain",
    )
    assert chosen == [20, 5]
    sheet = json.loads((source["folder"] / "lesion1" / "case.json").read_text())
    assert [lesion["label"] for lesion in sheet["lesions"]] == ["Lesion 1"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--lesion", "Lesion 9"), "no lesion has that label"),
        (("--key-images", "3"), "marks 2 key image(s)"),
        (("--key-images", "some"), "bad --key-images"),
    ],
)
def test_a_bad_choice_is_one_line(
    source: dict[str, Any], tmp_path: Path, options: tuple[str, ...], message: str
) -> None:
    result = run_cli(
        "teach", CT, "--annotations", source["file"], "-o", tmp_path / "x", *options
    )
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x").exists()
