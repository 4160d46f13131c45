"""Opening exactly a study's (or a series') files, as the Local database does
(issue 14): the folders they share with another study add nothing else. The
study and series UIDs are read with pydicom, not by the scan under test."""

from __future__ import annotations

import warnings
from collections import defaultdict
from typing import TYPE_CHECKING

import pydicom
import pytest

from imaging_viewer.core.dicom.scan import scan_files, scan_folder
from imaging_viewer.core.workspace import Workspace

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.corpus

StudyFiles = dict[str, dict[str, list["Path"]]]
"""Study UID → Series UID → files."""


def _by_study(folder: Path) -> StudyFiles:
    found: StudyFiles = defaultdict(lambda: defaultdict(list))
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds = pydicom.dcmread(path, stop_before_pixels=True)
        except Exception:
            continue
        if "Rows" in ds and "SeriesInstanceUID" in ds:
            found[str(ds.StudyInstanceUID)][str(ds.SeriesInstanceUID)].append(path)
    return found


@pytest.fixture
def mixed(corpus: Path, tmp_path: Path) -> Path:
    """The Philips folder's two studies, their files side by side in one
    folder (as a PACS export or a USB stick often has them)."""
    philips = corpus / "dcm_qa_ct" / "In" / "Philips"
    folder = tmp_path / "mixed"
    folder.mkdir()
    for index, path in enumerate(sorted(p for p in philips.rglob("I*"))):
        (folder / f"{index:03d}_{path.name}").symlink_to(path)
    return folder


def _workspace() -> Workspace:
    return Workspace(autosave=False, reload_autosaved=False)


@pytest.mark.parametrize("where", ["corpus", "mixed"])
def test_only_the_chosen_study_is_added(where: str, corpus: Path, mixed: Path) -> None:
    folder = corpus / "dcm_qa_ct" / "In" / "Philips" if where == "corpus" else mixed
    studies = _by_study(folder)
    assert len(studies) == 2
    # The whole folder holds both: what opening its folders would add.
    assert {s.study_uid for s in scan_folder(folder).series} == set(studies)
    for study_uid, series in studies.items():
        workspace = _workspace()
        files = [p for paths in series.values() for p in paths]
        workspace.open_files(files, "PLASTIC HEAD", replace=False)
        assert set(workspace.studies) == {study_uid}
        assert workspace.scan_result is not None
        assert workspace.scan_result.root == "PLASTIC HEAD"
        assert {s.uid for s in workspace.scan_result.series} == set(series)
        used = {f for s in workspace.scan_result.series for f in s.files}
        assert used == {str(p) for p in files}


def test_only_the_chosen_series_is_added(mixed: Path) -> None:
    studies = _by_study(mixed)
    study_uid, series = max(studies.items(), key=lambda kv: len(kv[1]))
    assert len(series) > 1
    for series_uid, files in series.items():
        workspace = _workspace()
        workspace.open_files(files, "one series")
        assert set(workspace.studies) == {study_uid}
        assert workspace.scan_result is not None
        assert {s.uid for s in workspace.scan_result.series} == {series_uid}
        used = {f for s in workspace.scan_result.series for f in s.files}
        assert used == {str(p) for p in files}


def test_added_beside_an_open_study(mixed: Path) -> None:
    studies = _by_study(mixed)
    (first, first_series), (second, second_series) = studies.items()
    workspace = _workspace()
    workspace.open_files(
        [p for paths in first_series.values() for p in paths], "first", replace=True
    )
    one_series, files = next(iter(second_series.items()))
    workspace.open_files(files, "second")
    assert list(workspace.studies) == [first, second]
    assert {s.uid for s in workspace.studies[second].series} == {one_series}


def test_files_gone_or_not_dicom_are_skipped_with_why(
    mixed: Path, tmp_path: Path
) -> None:
    files = sorted(mixed.iterdir())[:3]
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    result = scan_files([*files, files[0], tmp_path / "gone", text])
    assert result.root == str(tmp_path)
    assert sum(len(s.files) for s in result.series) == 3
    reasons = {s.path: s.reason for s in result.skipped}
    assert "cannot read" in reasons[str(tmp_path / "gone")]
    assert "not a DICOM file" in reasons[str(text)]
    assert scan_files([]).series == []
