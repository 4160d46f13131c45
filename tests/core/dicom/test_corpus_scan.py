"""Scanning the whole DICOM corpus: every file accounted for, against MANIFEST.tsv.

The expectations come from the corpus' own ``MANIFEST.tsv`` (one row per file, written
by whoever assembled the corpus) and from headers read here with pydicom, never from
our scanner. The corpus is scanned once for the module (a few seconds).
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pydicom
import pytest

from imaging_viewer.core.dicom.scan import ScanResult, scan_folder

if TYPE_CHECKING:
    from imaging_viewer.core.dicom.series import SeriesInfo

MEDIA_STORAGE_DIRECTORY = "Media Storage Directory Storage"


@dataclass(frozen=True)
class ManifestRow:
    path: str
    dicom: str
    """``yes``, ``no`` or ``DICOMDIR``."""
    modality: str
    sop_class: str
    transfer_syntax: str
    photometric: str
    rows: int
    columns: int
    frames: int
    series_number: str
    instance_number: str
    series_uid: str


@dataclass(frozen=True)
class CorpusScan:
    root: Path
    result: ScanResult
    manifest: dict[str, ManifestRow]
    """Relative path -> row."""

    def absolute(self, relative: str) -> str:
        return str(self.root / relative)

    def relative(self, path: str) -> str:
        return str(Path(path).relative_to(self.root))

    def series_under(self, folder: str) -> list[SeriesInfo]:
        prefix = str(self.root / folder) + "/"
        return [
            s for s in self.result.series if any(f.startswith(prefix) for f in s.files)
        ]

    def series_of(self, relative: str) -> list[SeriesInfo]:
        path = self.absolute(relative)
        return [s for s in self.result.series if path in s.files]


def _int(text: str) -> int:
    return int(text) if text.strip() else 0


def _read_manifest(root: Path) -> dict[str, ManifestRow]:
    rows: dict[str, ManifestRow] = {}
    with (root / "MANIFEST.tsv").open(newline="") as handle:
        for record in csv.DictReader(handle, delimiter="\t"):
            rows[record["path"]] = ManifestRow(
                path=record["path"],
                dicom=record["dicom"],
                modality=record["modality"],
                sop_class=record["sop_class"],
                transfer_syntax=record["transfer_syntax"],
                photometric=record["photometric"],
                rows=_int(record["rows"]),
                columns=_int(record["cols"]),
                frames=_int(record["frames"]) or 1,
                series_number=record["series_number"],
                instance_number=record["instance_number"],
                series_uid=record["series_uid"],
            )
    return rows


@pytest.fixture(scope="module")
def scanned(corpus: Path) -> CorpusScan:
    return CorpusScan(corpus, scan_folder(corpus), _read_manifest(corpus))


def _is_image(row: ManifestRow) -> bool:
    return row.dicom == "yes" and row.sop_class != MEDIA_STORAGE_DIRECTORY


@pytest.fixture(scope="module")
def sop_uids(scanned: CorpusScan) -> dict[str, str]:
    """Relative path -> SOP Instance UID of every DICOM image, read with pydicom."""
    uids: dict[str, str] = {}
    for relative, row in scanned.manifest.items():
        if not _is_image(row):
            continue
        ds = pydicom.dcmread(
            scanned.absolute(relative),
            stop_before_pixels=True,
            specific_tags=["SOPInstanceUID"],
            force=True,
        )
        uids[relative] = str(ds.get("SOPInstanceUID", "") or "")
    return uids


# ------------------------------------------------------------- every file once


def test_every_scanned_path_is_in_the_manifest(scanned: CorpusScan) -> None:
    listed = set(scanned.manifest) | {"MANIFEST.tsv"}
    in_series = {scanned.relative(f) for s in scanned.result.series for f in s.files}
    skipped = {scanned.relative(s.path) for s in scanned.result.skipped}
    assert in_series - listed == set(), "series hold files MANIFEST.tsv does not list"
    assert skipped - listed == set(), "skipped files MANIFEST.tsv does not list"
    assert scanned.result.files_examined == len(listed), (
        f"scan examined {scanned.result.files_examined} files, the corpus has "
        f"{len(listed)} (MANIFEST.tsv rows + MANIFEST.tsv itself)"
    )


def test_every_manifest_file_is_in_one_series_or_skipped(scanned: CorpusScan) -> None:
    """A file is in exactly one series, or skipped once; the one exception is a
    multi-frame file whose frames go to several series (each frame once, see
    test_every_frame_of_every_file_is_used_once), as the Philips B0 map."""
    in_series: dict[str, list[str]] = defaultdict(list)
    for series in scanned.result.series:
        for path in series.files:
            in_series[scanned.relative(path)].append(series.id)
    skipped: dict[str, list[str]] = defaultdict(list)
    for item in scanned.result.skipped:
        skipped[scanned.relative(item.path)].append(item.reason)
    problems = []
    for relative, row in scanned.manifest.items():
        series_ids, reasons = in_series.get(relative, []), skipped.get(relative, [])
        split_multiframe = row.frames > 1 and len(series_ids) > 1
        in_one_series = (len(series_ids) == 1 or split_multiframe) and not reasons
        skipped_once = not series_ids and len(reasons) == 1
        if not (in_one_series or skipped_once):
            problems.append(f"{relative}: series {series_ids}, skipped {reasons}")
    assert not problems, (
        f"{len(problems)} file(s) not placed exactly once:\n" + "\n".join(problems)
    )


def test_non_dicom_files_are_skipped_as_not_dicom(scanned: CorpusScan) -> None:
    reasons = {scanned.relative(s.path): s.reason for s in scanned.result.skipped}
    non_dicom = [r for r, row in scanned.manifest.items() if row.dicom == "no"]
    assert len(non_dicom) > 100, "MANIFEST.tsv lists the reference NIfTI, JSON, text"
    wrong = [
        f"{relative}: {reasons.get(relative, 'not skipped')}"
        for relative in non_dicom
        if "not a dicom" not in reasons.get(relative, "").lower()
    ]
    assert not wrong, "non-DICOM files without a 'not a DICOM' reason:\n" + "\n".join(
        wrong
    )


def test_dicomdirs_are_skipped_as_dicomdir(scanned: CorpusScan) -> None:
    reasons = {scanned.relative(s.path): s.reason for s in scanned.result.skipped}
    directories = [
        relative
        for relative, row in scanned.manifest.items()
        if row.dicom == "DICOMDIR" or row.sop_class == MEDIA_STORAGE_DIRECTORY
    ]
    # 1 Philips DICOMDIR + 5 DIRFILEs, dwv/DICOMDIR and dwv/bbmri.dcmdir.
    assert len(directories) == 8
    wrong = [
        f"{relative}: {reasons.get(relative, 'not skipped')}"
        for relative in directories
        if "DICOMDIR" not in reasons.get(relative, "")
    ]
    assert not wrong, "DICOMDIRs without a DICOMDIR reason:\n" + "\n".join(wrong)


def test_duplicate_sop_instances_are_skipped_as_duplicates(
    scanned: CorpusScan, sop_uids: dict[str, str]
) -> None:
    by_uid: dict[str, list[str]] = defaultdict(list)
    for relative, uid in sop_uids.items():
        if uid:  # four leadtools/pylibjpeg files have an empty SOP Instance UID
            by_uid[uid].append(relative)
    duplicated = {uid: paths for uid, paths in by_uid.items() if len(paths) > 1}
    # generic/compressed_* re-encode generic/compressed; generic/anatomical/001 is
    # in failing/slicecount; TOSHIBA SIZ1 and RG2_JPLY_fixed re-encode SIZ0, RG2_JPLY.
    assert sum(len(p) - 1 for p in duplicated.values()) == 20
    reasons = {scanned.relative(s.path): s.reason for s in scanned.result.skipped}
    in_series = {scanned.relative(f) for s in scanned.result.series for f in s.files}
    problems = []
    for uid, paths in sorted(duplicated.items()):
        kept = [p for p in paths if p in in_series]
        dropped = [p for p in paths if "duplicate" in reasons.get(p, "").lower()]
        if len(kept) != 1 or len(dropped) != len(paths) - 1:
            problems.append(f"{uid}: kept {kept}, skipped as duplicate {dropped}")
    assert not problems, "\n".join(problems)


def test_every_other_dicom_image_is_in_a_series(
    scanned: CorpusScan, sop_uids: dict[str, str]
) -> None:
    counts: dict[str, int] = defaultdict(int)
    for uid in sop_uids.values():
        counts[uid] += 1
    in_series = {scanned.relative(f) for s in scanned.result.series for f in s.files}
    reasons = {scanned.relative(s.path): s.reason for s in scanned.result.skipped}
    missing = [
        f"{relative}: {reasons.get(relative, '?')}"
        for relative, uid in sop_uids.items()
        if (not uid or counts[uid] == 1) and relative not in in_series
    ]
    assert not missing, "DICOM images left out of every series:\n" + "\n".join(missing)


# ------------------------------------------------------- per series vs MANIFEST


def test_series_agree_with_manifest(scanned: CorpusScan) -> None:
    problems: list[str] = []
    for series in scanned.result.series:
        rows = [scanned.manifest[scanned.relative(f)] for f in series.files]
        label = f"{series.id} ({scanned.relative(series.files[0])})"
        for row in rows:
            if row.modality != series.modality:
                problems.append(f"{label}: {row.path} is {row.modality}")
            if row.series_uid != series.uid:
                problems.append(f"{label}: {row.path} has series {row.series_uid}")
        tiles = {ref.tile is not None for frames in series.frames for ref in frames}
        if tiles == {True}:
            # Siemens mosaic: ceil(sqrt(n)) tiles per side (n slices per file).
            per_side = math.ceil(math.sqrt(len(series.frames[0])))
            expected = {(row.rows / per_side, row.columns / per_side) for row in rows}
        else:
            expected = {(row.rows, row.columns) for row in rows}
        got = (series.acquired_rows, series.acquired_columns)
        if expected != {got}:
            problems.append(f"{label}: rows×columns {got}, MANIFEST says {expected}")
        rgb = {row.photometric in ("RGB", "YBR_FULL", "YBR_FULL_422", "YBR_RCT")}
        if rgb != {series.samples_per_pixel == 3}:
            problems.append(
                f"{label}: {series.samples_per_pixel} samples for "
                f"{sorted({row.photometric for row in rows})}"
            )
    assert not problems, "\n".join(problems)


def test_every_frame_of_every_file_is_used_once(scanned: CorpusScan) -> None:
    """Multi-frame files: the frames spread over the series add up to the file's."""
    used: dict[str, list[tuple[int, int | None]]] = defaultdict(list)
    for series in scanned.result.series:
        for frames in series.frames:
            for ref in frames:
                used[ref.path].append((ref.frame_index, ref.tile))
    problems = []
    for path, refs in used.items():
        row = scanned.manifest[scanned.relative(path)]
        if len(set(refs)) != len(refs):
            problems.append(f"{row.path}: a frame is used twice")
        if all(tile is None for _, tile in refs) and len(refs) != row.frames:
            problems.append(f"{row.path}: {len(refs)} of {row.frames} frames used")
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------- expected splits


def test_philips_ct_scout_and_dose_report_are_apart_from_the_axial_ct(
    scanned: CorpusScan,
) -> None:
    axial_folder = "dcm_qa_ct/In/Philips/S21610/S2010"
    axial = scanned.series_under(axial_folder)
    assert len(axial) == 1, [s.id for s in axial]
    files = {scanned.relative(f) for f in axial[0].files}
    expected = {
        r
        for r, row in scanned.manifest.items()
        if r.startswith(axial_folder + "/") and _is_image(row)
    }
    assert files == expected, "the axial series holds exactly the 54 S2010 images"
    assert len(axial[0].frames[0]) == 54
    for folder in (
        "dcm_qa_ct/In/Philips/S21610/S1000",
        "dcm_qa_ct/In/Philips/S21610/S4010",
    ):
        others = scanned.series_under(folder)
        assert others, f"nothing from {folder}"
        for series in others:
            assert not any(f in axial[0].files for f in series.files)
            assert not any(axial_folder in f for f in series.files), (
                f"{series.id} mixes {folder} with the axial CT"
            )
    # The SCs of S4010 differ in size (256×512 grey, 741×650 and 512×650 RGB).
    sizes = {
        (s.acquired_rows, s.acquired_columns, s.samples_per_pixel)
        for s in scanned.series_under("dcm_qa_ct/In/Philips/S21610/S4010")
    }
    assert sizes == {(256, 512, 1), (741, 650, 3), (512, 650, 3)}


def test_mixed_orientation_series_gives_two_series(scanned: CorpusScan) -> None:
    folder = "dicom2nifti/failing/sliceorientation/001"
    series = scanned.series_under(folder)
    assert len(series) == 2, [s.id for s in series]
    orientations = []
    for part in series:
        iops = {
            tuple(
                np.round(
                    np.asarray(
                        pydicom.dcmread(
                            f, stop_before_pixels=True
                        ).ImageOrientationPatient,
                        dtype=float,
                    ),
                    4,
                )
            )
            for f in part.files
        }
        assert len(iops) == 1, f"{part.id} mixes orientations {iops}"
        orientations.append(iops.pop())
    assert orientations[0] != orientations[1]
    assert sum(len(s.files) for s in series) == 4


def test_philips_b0_gives_magnitude_and_field_map(scanned: CorpusScan) -> None:
    relative = "dcm_qa_enh/In/Philips/IM_0027_fMAP.dcm"
    series = scanned.series_of(relative)
    assert len(series) == 2, [s.id for s in series]
    ds = pydicom.dcmread(scanned.absolute(relative), stop_before_pixels=True)
    frame_types = [
        str(item.MRImageFrameTypeSequence[0].FrameType[3])
        for item in ds.PerFrameFunctionalGroupsSequence
    ]
    kinds = []
    for part in series:
        assert part.n_time_points == 1
        assert len(part.frames[0]) == 32, f"{part.id}: {part.shape_kji}"
        types = {frame_types[ref.frame_index] for ref in part.frames[0]}
        assert len(types) == 1, f"{part.id} mixes frame types {types}"
        kinds.append(types.pop())
    assert sorted(kinds) == ["FIELD_MAP", "M"]


def test_ge_epi_series_are_4d(scanned: CorpusScan) -> None:
    series = scanned.series_under("dcm_qa_nih/In/20180918GE")
    assert len(series) == 4
    for part in series:
        assert part.shape_kji == (15, 64, 64), part.id
        assert part.n_time_points == 10, part.id
        assert len(part.files) == 150
        # InstanceNumber runs through time (README): it must rise with t at each k.
        numbers = {
            ref.path: int(
                pydicom.dcmread(
                    ref.path, stop_before_pixels=True, specific_tags=["InstanceNumber"]
                ).InstanceNumber
            )
            for frames in part.frames
            for ref in frames
        }
        for k in range(15):
            along_time = [numbers[part.frames[t][k].path] for t in range(10)]
            assert along_time == sorted(along_time), f"{part.id} slice {k}"


def test_missing_slice_is_reported(scanned: CorpusScan) -> None:
    series = scanned.series_under("dicom2nifti/failing/sliceincrement/001")
    assert len(series) == 1
    warnings = " ".join(series[0].warnings).lower()
    assert "missing slice" in warnings, series[0].warnings


def test_gantry_tilt_is_reported(scanned: CorpusScan) -> None:
    series = scanned.series_under("dicom2nifti/failing/gantrytilting/001")
    assert len(series) == 1
    assert any("tilt" in w.lower() for w in series[0].warnings), series[0].warnings


def test_images_at_one_position_do_not_make_a_volume(scanned: CorpusScan) -> None:
    folder = "dicom2nifti/failing/notavolume/001"
    series = scanned.series_under(folder)
    assert series
    assert sum(len(s.files) for s in series) == 4
    for part in series:
        assert len(part.frames[0]) == 1, (
            f"{part.id}: 4 images at one position stacked as {len(part.frames[0])} "
            f"slices of spacing {part.spacing_mm[2]:g} mm"
        )
