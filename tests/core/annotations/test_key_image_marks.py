"""Key images marked while reading (issue 15 item 6): kept by the annotation
set and the annotation file (an optional, additive ``key_images`` list)."""

from __future__ import annotations

import json

import pytest

from imaging_viewer.core.annotations.key_image_marks import KeyImageMark
from imaging_viewer.core.annotations.model import AnnotationSet
from imaging_viewer.core.annotations.serialize import (
    AnnotationFileError,
    from_json,
    to_json,
)

STUDY = "1.2.3"


def test_mark_and_unmark_emit_changed() -> None:
    annotation_set = AnnotationSet()
    seen: list[str] = []
    annotation_set.changed.connect(seen.append)
    annotation_set.mark_key_image(KeyImageMark("1.2.3.4", frame=3))
    assert annotation_set.is_key_image("1.2.3.4", 3)
    assert not annotation_set.is_key_image("1.2.3.4")
    annotation_set.unmark_key_image("1.2.3.4", 3)
    annotation_set.unmark_key_image("1.2.3.4", 3)  # not marked: nothing happens
    assert annotation_set.key_images == ()
    assert seen == ["mark key image", "unmark key image"]


def test_key_images_round_trip_in_order() -> None:
    annotation_set = AnnotationSet()
    marks = [
        KeyImageMark("1.2.3.9", series_instance_uid="1.2.3.7", note="fracture"),
        KeyImageMark("1.2.3.4", frame=2),
    ]
    for mark in marks:
        annotation_set.mark_key_image(mark)
    document = json.loads(json.dumps(to_json(annotation_set, STUDY)))
    assert document["key_images"][1] == {"sop_instance_uid": "1.2.3.4", "frame": 2}
    assert list(from_json(document).key_images) == marks


def test_file_without_key_images_has_no_field() -> None:
    document = to_json(AnnotationSet(), STUDY)
    assert "key_images" not in document
    assert from_json(document).key_images == ()


@pytest.mark.parametrize(
    "bad",
    [
        "not a list",
        ["not an object"],
        [{"frame": 1}],
        [{"sop_instance_uid": "1.2", "frame": 0}],
        [{"sop_instance_uid": "1.2", "frame": True}],
        [{"sop_instance_uid": "", "frame": None}],
        [{"sop_instance_uid": "1.2", "note": 5}],
    ],
)
def test_malformed_key_images_are_a_file_error(bad: object) -> None:
    document = to_json(AnnotationSet(), STUDY)
    document["key_images"] = bad
    with pytest.raises(AnnotationFileError, match="key_images"):
        from_json(document)
