"""Annotation files beyond the limits: refused quickly, with a reason, never hanging."""

from __future__ import annotations

import json
import os
import threading
import time
from typing import TYPE_CHECKING

import pytest

from imaging_viewer.core.annotations import limits
from imaging_viewer.core.annotations.model import AnnotationSet, Lesion, Ruler
from imaging_viewer.core.annotations.serialize import (
    AnnotationFileError,
    load,
    save_atomic,
    to_json,
)
from imaging_viewer.core.leftovers import remove_leftovers

if TYPE_CHECKING:
    from pathlib import Path

STUDY = "1.2.826.0.1.3680043.8.498.10"


def _annotations(count: int) -> AnnotationSet:
    lesions = [
        Lesion(
            id=f"L{n}",
            annotations=(
                Ruler(
                    id=f"A{n}",
                    lesion_id=f"L{n}",
                    start_lps=(0.0, 0.0, float(n)),
                    end_lps=(1.0, 1.0, float(n)),
                    plane_normal_lps=(0.0, 0.0, 1.0),
                ),
            ),
        )
        for n in range(count)
    ]
    return AnnotationSet(lesions)


def test_deeply_nested_json_is_refused_without_recursion(tmp_path: Path) -> None:
    """Fuzzing: 100,000-deep nesting gave a RecursionError traceback."""
    path = tmp_path / "deep.json"
    path.write_text('{"lesions": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(AnnotationFileError, match="nested 100001 deep"):
        load(path, STUDY)


def test_nesting_depth_agrees_with_json(tmp_path: Path) -> None:
    """The bracket count ignores brackets inside strings, as the json module does."""
    document = {"a": ["[[[{", {"b": [1, '\\"[[']}], "c": "]]]\\\\"}

    def depth(value: object) -> int:
        if isinstance(value, dict):
            return 1 + max((depth(v) for v in value.values()), default=0)
        if isinstance(value, list):
            return 1 + max((depth(v) for v in value), default=0)
        return 0

    text = json.dumps(document)
    assert limits.nesting_depth(text) == depth(json.loads(text)) == 4


def test_too_many_annotations_are_refused_quickly(tmp_path: Path) -> None:
    """Fuzzing: 144,000 annotations got no answer in 120 s (ids were checked n²)."""
    path = tmp_path / "many.json"
    save_atomic(path, to_json(_annotations(limits.MAX_ANNOTATIONS + 1), STUDY))
    start = time.perf_counter()
    with pytest.raises(AnnotationFileError, match="at most 20000"):
        load(path, STUDY)
    assert time.perf_counter() - start < 10


def test_many_annotations_within_the_limit_load_in_linear_time(
    tmp_path: Path,
) -> None:
    path = tmp_path / "many.json"
    annotations = _annotations(limits.MAX_ANNOTATIONS)
    save_atomic(path, to_json(annotations, STUDY))
    start = time.perf_counter()
    loaded = load(path, STUDY)
    assert time.perf_counter() - start < 10
    assert len(loaded) == limits.MAX_ANNOTATIONS


def test_too_large_file_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 1000)
    path = tmp_path / "large.json"
    path.write_bytes(b" " * 1001)
    with pytest.raises(AnnotationFileError, match="limited to"):
        load(path, STUDY)


@pytest.mark.parametrize("device", ["/dev/zero", "fifo"])
def test_devices_and_fifos_are_refused_without_blocking(
    tmp_path: Path, device: str
) -> None:
    """Fuzzing: /dev/zero read for ever, a FIFO blocked waiting for a writer."""
    if device == "fifo":
        path = tmp_path / "pipe.json"
        os.mkfifo(path)
    else:
        path = tmp_path / device
        if not os.path.exists(device):
            pytest.skip(f"{device} is missing here")
        path = type(tmp_path)(device)
    outcome: list[BaseException | None] = []

    def read() -> None:
        try:
            load(path, STUDY)
        except BaseException as error:
            outcome.append(error)
        else:
            outcome.append(None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(10)
    assert outcome, "reading the annotation file blocked"
    assert isinstance(outcome[0], AnnotationFileError)
    assert "not a regular file" in str(outcome[0])


def test_stale_staging_entries_are_removed(tmp_path: Path) -> None:
    """A killed save or export leaves `.<name>.XXXXXXXX[.tmp]`; the next one removes
    those that are stale, and nothing else."""
    stale_file = tmp_path / ".a.json.abcd1234.tmp"
    stale_file.write_bytes(b"")
    stale_folder = tmp_path / ".case.wxyz_789"
    (stale_folder / "images").mkdir(parents=True)
    fresh = tmp_path / ".a.json.fresh123.tmp"
    fresh.write_bytes(b"")
    unrelated = tmp_path / ".a.json.notes"
    unrelated.write_bytes(b"keep")
    old = time.time() - 3600
    for path in (stale_file, stale_folder):
        os.utime(path, (old, old))

    save_atomic(tmp_path / "a.json", to_json(_annotations(1), STUDY))
    removed = remove_leftovers(tmp_path, "case")

    assert removed == [stale_folder]
    assert not stale_file.exists()
    assert not stale_folder.exists()
    assert fresh.exists()
    assert unrelated.exists()
