"""Leftovers of killed saves and exports (issue 18): the start-up sweep of the
folders the app writes to, and staging folders removed after a failure."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

import pydicom
import pytest

from imaging_viewer.core.exchange.annotation_documents import prepare_staging_folder
from imaging_viewer.core.files import write_text_atomic
from imaging_viewer.core.leftovers import STAGING_SUFFIX, sweep_leftovers

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import MakeSeries


def _age(*paths: Path) -> None:
    old = time.time() - 3600
    for path in paths:
        os.utime(path, (old, old))


def test_sweep_removes_stale_leftovers_of_any_target_and_nothing_else(
    tmp_path: Path,
) -> None:
    autosave, exports = tmp_path / "annotations", tmp_path / "exports"
    autosave.mkdir()
    exports.mkdir()
    stale_file = autosave / ".1.2.3.json.k2j4_x9a.tmp"
    stale_file.write_bytes(b"")
    stale_folder = prepare_staging_folder(exports / "case")  # as an export makes it
    (stale_folder / "images").mkdir()
    (stale_folder / "images" / "key01.png").write_bytes(b"png")
    fresh = exports / ".view.png.abcd1234.tmp"  # a save running now
    fresh.write_bytes(b"")
    # The user's own hidden files and folders, however they are named.
    kept = [
        exports / ".bashrc",
        exports / ".notes.abcdefgh",
        exports / ".notes.abcdefgh.txt",
        exports / ".Project.ABCDEFGH.tmp",
    ]
    for path in kept:
        path.write_bytes(b"keep")
    (exports / ".config.abcdefgh").mkdir()
    kept.append(exports / ".config.abcdefgh")
    _age(stale_file, stale_folder, *kept)

    removed = sweep_leftovers([autosave, exports, tmp_path / "missing", exports])

    assert stale_folder.name.endswith(STAGING_SUFFIX)
    assert sorted(removed) == sorted([stale_file, stale_folder])
    assert not stale_file.exists()
    assert not stale_folder.exists()
    assert fresh.exists()
    assert all(path.exists() for path in kept)


def test_a_failed_write_leaves_nothing(tmp_path: Path) -> None:
    """A write that fails leaves no temporary file: the target's folder is gone
    before the rename."""

    class Failing(str):
        def encode(self, *args: object, **kwargs: object) -> bytes:
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        write_text_atomic(tmp_path / "a.json", Failing("x"))
    assert list(tmp_path.iterdir()) == []


def test_a_failed_teaching_export_leaves_no_staging_folder(
    tmp_path: Path, make_series: MakeSeries
) -> None:
    """The staging folder of a teaching case whose writing fails part-way (here
    the PNG writer: a full disk) is removed, and no case folder appears."""
    from imaging_viewer.core.annotations.model import AnnotationSet, Lesion
    from imaging_viewer.core.dicom.scan import scan_folder
    from imaging_viewer.core.teaching.case import TeachingCase
    from imaging_viewer.core.teaching.export import export_teaching_case

    class FullDisk:
        def write_png(self, view: object, path: Path, *, annotated: bool) -> object:
            path.write_bytes(b"half a PNG")
            raise OSError(28, "No space left on device")

    series = make_series(shape=(3, 8, 9))
    result = scan_folder(series.folder)
    path = result.series[0].frames[0][1].path
    sop = str(pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID)
    out = tmp_path / "cases"
    out.mkdir()

    with pytest.raises(OSError, match="No space"):
        export_teaching_case(
            result,
            AnnotationSet([Lesion(label="L1")]),
            TeachingCase(title="full disk"),
            out / "case",
            burn_in=FullDisk(),
            key_images=[sop],
        )

    assert list(out.iterdir()) == []
