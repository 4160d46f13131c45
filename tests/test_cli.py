"""The command line, run as users run it: ``python -m imaging_viewer`` in a subprocess.

Geometry written by ``convert`` is read back with SimpleITK and compared with both
our loaded volume and SimpleITK's own ``ImageSeriesReader`` of the same DICOM
folder (the independent reference). Bad input must end with a non-zero status and
one line on stderr, never a traceback.
"""

from __future__ import annotations

import json
import math
import os
import shlex
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from imaging_viewer.core.dicom.load import load_volume
from imaging_viewer.core.dicom.scan import scan_folder

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import MakeSeries, SyntheticSeries

sitk = pytest.importorskip("SimpleITK")

SERIES_KEYS = {
    "uid",
    "modality",
    "description",
    "size",
    "spacing_mm",
    "ijk_to_lps",
    "warnings",
    "files",
}
QT_MODULES = ("PySide6", "shiboken6", "pyqtgraph")
OUTPUT_SUFFIXES = (".nii.gz", ".nrrd", ".mha")


def run_cli(
    *args: str | Path, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run(
        [sys.executable, "-m", "imaging_viewer", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=cwd,
        check=False,
    )


def scan_json(path: Path) -> dict[str, Any]:
    done = run_cli("scan", path, "--json")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def assert_json_series(item: dict[str, Any]) -> None:
    missing = SERIES_KEYS - item.keys()
    assert not missing, f"series record lacks {missing}: {sorted(item)}"
    assert isinstance(item["uid"], str)
    assert item["uid"]
    assert isinstance(item["modality"], str)
    assert isinstance(item["description"], str)
    assert all(isinstance(n, int) and n > 0 for n in item["size"])
    assert len(item["size"]) in (3, 4)
    assert len(item["spacing_mm"]) == 3
    assert all(isinstance(v, float | int) and v > 0 for v in item["spacing_mm"])
    affine = np.array(item["ijk_to_lps"], dtype=np.float64)
    assert affine.shape == (4, 4)
    np.testing.assert_array_equal(affine[3], [0, 0, 0, 1])
    np.testing.assert_allclose(
        np.linalg.norm(affine[:3, :3], axis=0), item["spacing_mm"], rtol=1e-5
    )
    assert isinstance(item["warnings"], list)
    assert all(isinstance(w, str) for w in item["warnings"])
    assert item["files"]
    assert all(isinstance(f, str) and os.path.isfile(f) for f in item["files"])


def oblique_series(make_series: MakeSeries, **kwargs: Any) -> SyntheticSeries:
    """An oblique series (20° about z, then 10° about x) with distinct spacings."""
    a, b = math.radians(20), math.radians(10)
    rz = np.array(
        [[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]]
    )
    rx = np.array(
        [[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]]
    )
    turn = rz @ rx
    return make_series(
        shape=(7, 10, 12),
        spacing_mm=(0.7, 0.9, 2.0),
        orientation=(*turn[:, 0], *turn[:, 1]),
        origin_lps=(-21.5, 13.0, 40.25),
        **kwargs,
    )


def series_reader_image(folder: Path, uid: str) -> Any:
    """SimpleITK's (GDCM's) own reading of one DICOM series in ``folder``."""
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder), uid))
    return reader.Execute()


def assert_same_geometry(
    image: Any,
    ijk_to_lps: np.ndarray,
    shape_kji: tuple[int, ...],
    what: str,
    atol: float,
) -> None:
    spacing = np.linalg.norm(ijk_to_lps[:3, :3], axis=0)
    direction = ijk_to_lps[:3, :3] / spacing
    assert image.GetSize() == tuple(reversed(shape_kji)), what
    np.testing.assert_allclose(image.GetSpacing(), spacing, atol=atol, err_msg=what)
    np.testing.assert_allclose(
        image.GetOrigin(), ijk_to_lps[:3, 3], atol=atol, err_msg=what
    )
    np.testing.assert_allclose(
        np.array(image.GetDirection()).reshape(3, 3), direction, atol=atol, err_msg=what
    )


def assert_one_line_error(done: subprocess.CompletedProcess[str], what: str) -> None:
    assert done.returncode != 0, f"{what}: exit status 0; stdout {done.stdout!r}"
    assert "Traceback" not in done.stderr, (
        f"{what}: traceback on stderr:\n{done.stderr}"
    )
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"{what}: expected one line on stderr, got:\n{done.stderr}"


# ---------------------------------------------------------------------- scan


def test_scan_json_on_sample_data(sample_data: Path) -> None:
    document = scan_json(sample_data)

    assert document["series"], "no series in sample_data"
    for item in document["series"]:
        assert_json_series(item)
    ct = [s for s in document["series"] if s["modality"] == "CT"]
    assert len(ct) == 1
    assert ct[0]["size"] == [512, 512, 28]
    assert len(ct[0]["files"]) == 28
    assert {s["modality"] for s in document["series"]} >= {"CT", "MR", "CR"}
    assert document["skipped"], "sample_data has README and licence files to skip"
    for skipped in document["skipped"]:
        assert set(skipped) >= {"path", "reason"}
        assert skipped["reason"]
    assert any(s["path"].endswith("README.md") for s in document["skipped"])


def test_scan_json_on_a_synthetic_series(
    make_series: MakeSeries, tmp_path: Path
) -> None:
    series = oblique_series(make_series)
    (series.folder / "notes.txt").write_text("not DICOM")

    document = scan_json(series.folder)

    assert len(document["series"]) == 1
    item = document["series"][0]
    assert_json_series(item)
    assert item["uid"] == series.series_uid
    assert item["modality"] == "CT"
    assert item["description"] == "synthetic CT 7x10x12"
    assert item["size"] == [12, 10, 7]
    np.testing.assert_allclose(item["spacing_mm"], [0.7, 0.9, 2.0], atol=1e-6)
    # JSON rounds to 6 decimals.
    np.testing.assert_allclose(item["ijk_to_lps"], series.ijk_to_lps, atol=1.01e-6)
    assert item["warnings"] == []
    assert sorted(item["files"]) == sorted(str(p) for p in series.files)
    assert document["skipped"] == [
        {
            "path": str(series.folder / "notes.txt"),
            "reason": document["skipped"][0]["reason"],
        }
    ]
    assert "not a DICOM" in document["skipped"][0]["reason"]


def test_scan_lists_patient_study_series(
    make_series: MakeSeries, sample_data: Path
) -> None:
    series = make_series()
    done = run_cli("scan", series.folder)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    patient = [n for n, line in enumerate(lines) if "Synthetic^Series" in line]
    study = [n for n, line in enumerate(lines) if series.study_uid in line]
    listed = [n for n, line in enumerate(lines) if "synthetic CT 5x6x7" in line]
    assert len(patient) == len(study) == len(listed) == 1, done.stdout
    assert patient[0] < study[0] < listed[0], "not in patient/study/series order"
    assert "20240102" in lines[study[0]]
    assert "7×6×5" in lines[listed[0]]
    assert series.series_uid in done.stdout

    done = run_cli("scan", sample_data)
    assert done.returncode == 0, done.stderr
    for text in ("HEAD", "1A TRAUMA/PLAIN HEAD DM", "STD BRAIN 5MM", "512×512×28"):
        assert text in done.stdout, f"{text!r} not in:\n{done.stdout}"


def test_scan_imports_neither_qt_nor_simpleitk(sample_data: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "imaging_viewer",
            "scan",
            str(sample_data),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    imported = {
        line.rsplit("|", 1)[-1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "imaging_viewer.cli" in imported
    for name in (*QT_MODULES, "SimpleITK", "imaging_viewer.ui"):
        culprits = sorted(m for m in imported if m == name or m.startswith(name + "."))
        assert not culprits, f"`scan` imported {culprits}"

    probe = (
        "import contextlib, io, json, sys\n"
        "from imaging_viewer.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    status = main(['scan', {str(sample_data)!r}, '--json'])\n"
        "print(json.dumps([status, sorted(sys.modules)]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    status, modules = json.loads(done.stdout)
    assert status == 0
    loaded = [m for m in modules if m.split(".")[0] in (*QT_MODULES, "SimpleITK")]
    assert not loaded, f"`scan` left these in sys.modules: {loaded}"


# ------------------------------------------------------------------- convert


@pytest.mark.parametrize("suffix", OUTPUT_SUFFIXES)
def test_convert_synthetic_round_trip(
    make_series: MakeSeries, tmp_path: Path, suffix: str
) -> None:
    series = oblique_series(make_series)
    output = tmp_path / f"out{suffix}"

    done = run_cli("convert", series.folder, "--series", "0", "-o", output)

    assert done.returncode == 0, done.stderr
    assert output.is_file()
    volume = load_volume(scan_folder(series.folder).series[0])
    written = sitk.ReadImage(str(output))
    # NIfTI keeps its geometry in float32.
    atol = 1e-4 if suffix.startswith(".nii") else 1e-6
    assert_same_geometry(
        written, volume.ijk_to_lps, volume.voxels.shape, f"{suffix} vs loaded", atol
    )
    assert_same_geometry(
        written, series.ijk_to_lps, series.voxels.shape, f"{suffix} vs analytic", atol
    )
    np.testing.assert_array_equal(sitk.GetArrayFromImage(written), volume.voxels)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(written), series.voxels)

    reference = series_reader_image(series.folder, series.series_uid)
    assert_same_geometry(
        reference, volume.ijk_to_lps, volume.voxels.shape, "ImageSeriesReader", 1e-4
    )
    np.testing.assert_array_equal(sitk.GetArrayFromImage(reference), volume.voxels)


@pytest.mark.parametrize("suffix", OUTPUT_SUFFIXES)
def test_convert_sample_ct_matches_simpleitk_series_reader(
    sample_data: Path, tmp_path: Path, suffix: str
) -> None:
    document = scan_json(sample_data)
    (index,) = [n for n, s in enumerate(document["series"]) if s["modality"] == "CT"]
    output = tmp_path / f"ct{suffix}"

    done = run_cli("convert", sample_data, "--series", str(index), "-o", output)

    assert done.returncode == 0, done.stderr
    written = sitk.ReadImage(str(output))
    info = scan_folder(sample_data).series[index]
    volume = load_volume(info)
    atol = 1e-4 if suffix.startswith(".nii") else 1e-6
    assert_same_geometry(
        written, volume.ijk_to_lps, volume.voxels.shape, f"{suffix} vs loaded", atol
    )
    np.testing.assert_array_equal(sitk.GetArrayFromImage(written), volume.voxels)

    reference = series_reader_image(sample_data / "CT", info.uid)
    assert_same_geometry(
        reference, volume.ijk_to_lps, volume.voxels.shape, "ImageSeriesReader", 1e-4
    )
    np.testing.assert_array_equal(sitk.GetArrayFromImage(reference), volume.voxels)


# ----------------------------------------------------------------- bad input


@pytest.fixture
def synthetic_folder(make_series: MakeSeries) -> Path:
    return make_series(shape=(3, 4, 5)).folder


BAD_INVOCATIONS = {
    "scan-missing-path": lambda tmp, good: ("scan", tmp / "no-such-folder"),
    "scan-missing-path-json": lambda tmp, good: ("scan", tmp / "nothing", "--json"),
    "scan-empty-folder": lambda tmp, good: ("scan", _empty(tmp)),
    "scan-non-dicom-file": lambda tmp, good: ("scan", _text_file(tmp)),
    "convert-missing-path": lambda tmp, good: (
        "convert",
        tmp / "no-such-folder",
        "--series",
        "0",
        "-o",
        tmp / "o.nii.gz",
    ),
    "convert-empty-folder": lambda tmp, good: (
        "convert",
        _empty(tmp),
        "--series",
        "0",
        "-o",
        tmp / "o.nii.gz",
    ),
    "convert-non-dicom-file": lambda tmp, good: (
        "convert",
        _text_file(tmp),
        "--series",
        "0",
        "-o",
        tmp / "o.nrrd",
    ),
    "convert-series-index-out-of-range": lambda tmp, good: (
        "convert",
        good,
        "--series",
        "7",
        "-o",
        tmp / "o.nii.gz",
    ),
    "convert-unknown-series-uid": lambda tmp, good: (
        "convert",
        good,
        "--series",
        "1.2.3.4.5",
        "-o",
        tmp / "o.mha",
    ),
    "convert-unknown-extension": lambda tmp, good: (
        "convert",
        good,
        "--series",
        "0",
        "-o",
        tmp / "out.xyz",
    ),
    "convert-no-extension": lambda tmp, good: (
        "convert",
        good,
        "--series",
        "0",
        "-o",
        tmp / "out",
    ),
    "convert-output-folder-missing-nii": lambda tmp, good: (
        "convert",
        good,
        "--series",
        "0",
        "-o",
        tmp / "missing" / "o.nii.gz",
    ),
    "convert-output-folder-missing-nrrd": lambda tmp, good: (
        "convert",
        good,
        "--series",
        "0",
        "-o",
        tmp / "missing" / "o.nrrd",
    ),
    "convert-output-folder-missing-mha": lambda tmp, good: (
        "convert",
        good,
        "--series",
        "0",
        "-o",
        tmp / "missing" / "o.mha",
    ),
    "convert-output-is-a-folder": lambda tmp, good: (
        "convert",
        good,
        "--series",
        "0",
        "-o",
        _folder_named(tmp, "taken.nii.gz"),
    ),
    "convert-output-under-a-file": lambda tmp, good: (
        "convert",
        good,
        "--series",
        "0",
        "-o",
        _text_file(tmp) / "o.mha",
    ),
}


def _empty(tmp: Path) -> Path:
    folder = tmp / "empty"
    folder.mkdir(exist_ok=True)
    return folder


def _text_file(tmp: Path) -> Path:
    path = tmp / "notes.txt"
    path.write_text("not a DICOM file\n")
    return path


def _folder_named(tmp: Path, name: str) -> Path:
    folder = tmp / name
    folder.mkdir()
    return folder


@pytest.mark.parametrize("case", list(BAD_INVOCATIONS))
def test_bad_input_gives_one_line_and_a_nonzero_status(
    tmp_path: Path, synthetic_folder: Path, case: str
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    args = BAD_INVOCATIONS[case](work, synthetic_folder)

    done = run_cli(*args, cwd=work)

    assert_one_line_error(done, case)
    assert done.stderr.startswith("imaging-viewer: "), done.stderr


def test_scan_into_a_closed_pipe_stops_quietly(sample_data: Path) -> None:
    # ``imaging-viewer scan PATH | head -1``: the reader leaves early.
    shell = subprocess.run(
        f"{shlex.quote(sys.executable)} -m imaging_viewer scan "
        f"{shlex.quote(str(sample_data))} | head -c 10",
        shell=True,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert len(shell.stdout) == 10
    assert "Traceback" not in shell.stderr
    assert "BrokenPipe" not in shell.stderr
