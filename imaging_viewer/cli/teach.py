"""``imaging-viewer teach``: a teaching case from an annotated study (key images
with annotations burned in, de-identified DICOM with SR and presentation state,
and a case sheet)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imaging_viewer.cli import options
from imaging_viewer.cli.headless_gui import start_headless_gui
from imaging_viewer.cli.options import CommandError

if TYPE_CHECKING:
    import argparse

    from imaging_viewer.cli.options import Subparsers
    from imaging_viewer.core.dicom.scan import ScanResult


def add_parser(subparsers: Subparsers) -> argparse.ArgumentParser:
    """Add ``teach`` to the command line."""
    parser = subparsers.add_parser(
        "teach",
        help="write a teaching case: key images with annotations burned in, "
        "de-identified DICOM with SR and presentation state, and a case sheet",
    )
    options.add_path_argument(parser, help=f"{options.PATH_HELP} of the study")
    parser.add_argument(
        "--annotations",
        required=True,
        metavar="FILE",
        help="the study's annotation file (JSON, docs/annotations.md)",
    )
    parser.add_argument(
        "-o", "--output", required=True, metavar="DIR", help="new (or empty) folder"
    )
    parser.add_argument(
        "--keep-dates",
        action="store_true",
        help="keep dates and times (PS3.15 Retain Longitudinal Temporal "
        "Information); by default they are removed",
    )
    parser.add_argument(
        "--date-shift-days",
        type=int,
        metavar="N",
        help="keep dates, moved by N days (times of day unchanged)",
    )
    parser.add_argument(
        "--no-deidentify",
        action="store_true",
        help="keep the DICOM as it is and patient data in the corner text "
        "(not for sharing)",
    )
    parser.add_argument(
        "--case-key",
        metavar="KEY",
        help="secret that makes the new UIDs repeatable across runs; random by default",
    )
    parser.add_argument(
        "--key-image",
        action="append",
        metavar="UID|SERIES:K",
        help="another key image: a SOP Instance UID, or a series (index, id or "
        "UID) and slice K from 0; repeatable",
    )
    parser.add_argument(
        "--lesion",
        action="append",
        metavar="LABEL|UID",
        help="export only this lesion: its label (e.g. 'Lesion 1'), id or "
        "Tracking UID; repeatable; all lesions by default",
    )
    parser.add_argument(
        "--prior",
        action="append",
        metavar="FILE",
        help="the annotation file of an earlier (or later) study of the patient, "
        "its images also under PATH; lesions with the same Tracking UID get a "
        "before/after pair in the case; repeatable",
    )
    parser.add_argument(
        "--key-images",
        default="marked",
        metavar="marked|none|N,N",
        help="which images marked as key (the annotation file's key_images) the "
        "case starts from: marked (all of them, the default), none, or their "
        "numbers from 1 in the file's order, e.g. 1,3; the images the lesions "
        "lie on are always added",
    )
    options.add_window_options(
        parser,
        window_help="window of every image, e.g. 40,400; default each image's own",
        preset_help="CT window preset for the CT images",
    )
    for name, text in (
        ("--title", "case title"),
        ("--history", "clinical history"),
        ("--findings", "imaging findings"),
        ("--diagnosis", "diagnosis"),
        ("--discussion", "discussion"),
        ("--modality", "modality, e.g. MR"),
        ("--anatomy", "anatomy, e.g. femur"),
    ):
        parser.add_argument(name, metavar="TEXT", help=text)
    parser.add_argument(
        "--reference", action="append", metavar="TEXT", help="a reference; repeatable"
    )
    parser.add_argument(
        "--keyword", action="append", metavar="TEXT", help="a keyword; repeatable"
    )
    return parser


def _parse_key_image(text: str) -> str | tuple[str, int]:
    """``--key-image``: a SOP Instance UID, or ``SERIES:K`` (slice K, from 0)."""
    if ":" in text:
        series, _, index = text.rpartition(":")
        try:
            k = int(index)
        except ValueError:
            raise CommandError(
                f"bad --key-image {text!r}: give SERIES:K (K a whole number) or a "
                "SOP Instance UID"
            ) from None
        if not series or k < 0:
            raise CommandError(f"bad --key-image {text!r}: give SERIES:K, K from 0")
        return series, k
    return text


def _chosen_lesions(annotation_set: Any, wanted: list[str] | None) -> list[str] | None:
    """Ids of the lesions ``--lesion`` names (label, id or Tracking UID); None
    for all of them."""
    if not wanted:
        return None
    chosen: list[str] = []
    for text in wanted:
        matches = [
            lesion.id
            for lesion in annotation_set.lesions
            if text in (lesion.id, lesion.tracking_uid)
            or text.strip().casefold() == (lesion.label or "").strip().casefold()
        ]
        if not matches:
            labels = ", ".join(
                repr(lesion.label or lesion.id) for lesion in annotation_set.lesions
            )
            raise CommandError(
                f"--lesion {text!r}: no lesion has that label, id or Tracking UID "
                f"(lesions: {labels})"
            )
        chosen.extend(m for m in matches if m not in chosen)
    return chosen


def _chosen_marks(annotation_set: Any, text: str) -> list[Any] | None:
    """The marked key images ``--key-images`` keeps; None for all of them."""
    marks = list(annotation_set.key_images)
    choice = text.strip().casefold()
    if choice in ("marked", "all"):
        return None
    if choice == "none":
        return []
    try:
        numbers = [int(part) for part in choice.split(",") if part.strip()]
    except ValueError:
        numbers = []
    if not numbers:
        raise CommandError(
            f"bad --key-images {text!r}: give marked, none, or numbers like 1,3"
        )
    outside = [n for n in numbers if not 1 <= n <= len(marks)]
    if outside:
        raise CommandError(
            f"--key-images {text!r}: the annotation file marks {len(marks)} key "
            f"image(s), numbered from 1; there is no {outside[0]}"
        )
    return [marks[n - 1] for n in dict.fromkeys(numbers)]


def _read_annotations(path: str, result: ScanResult) -> tuple[Any, str, str]:
    """The annotation file's set, study UID (checked against the scan) and
    time point label (its ``"timepoint"``, schema 2; ``""`` when none)."""
    from imaging_viewer.core.annotations.serialize import (
        check_schema,
        from_json,
        read_document,
        study_uid_of,
        timepoint_of,
    )

    with options.annotation_file_errors(path, missing="no such annotation file"):
        document = read_document(path)
        check_schema(document)
        study_uid = study_uid_of(document)
        annotation_set = from_json(document)
        _, label = timepoint_of(document)
    studies = {info.study_uid for info in result.series}
    if study_uid not in studies:
        raise CommandError(
            f"{path}: holds the annotations of study {study_uid}, which is not "
            f"under {result.root}"
        )
    if not len(annotation_set) and not annotation_set.key_images:
        raise CommandError(f"{path}: holds no lesions and no key images")
    return annotation_set, study_uid, label


def _timepoints(
    paths: list[str] | None,
    result: ScanResult,
    study_uid: str,
    annotation_set: Any,
    label: str = "",
) -> list[Any]:
    """The study and its ``--prior`` studies as time points of the pairs (none
    without ``--prior``), sized by the response table; each labelled as its
    annotation file says (else by date order)."""
    from imaging_viewer.core.followup.teaching_sizes import with_table_sizes
    from imaging_viewer.core.teaching.before_after import StudyTimepoint

    if not paths:
        return []
    own = [info for info in result.series if info.study_uid == study_uid]

    patient = {info.patient_id for info in result.series if info.study_uid == study_uid}
    timepoints = [StudyTimepoint(own, annotation_set, own[0].study_date, label)]
    for path in paths:
        annotation_set, prior_uid, label = _read_annotations(path, result)
        series = [info for info in result.series if info.study_uid == prior_uid]
        if prior_uid == study_uid:
            raise CommandError(f"--prior {path}: is the study of --annotations")
        if {info.patient_id for info in series} != patient:
            raise CommandError(
                f"--prior {path}: its study is of another patient; pairs are "
                "made within one patient"
            )
        timepoints.append(
            StudyTimepoint(series, annotation_set, series[0].study_date, label)
        )
    return with_table_sizes(timepoints)


def run(args: argparse.Namespace) -> int:
    """``imaging-viewer teach PATH --annotations FILE -o DIR [--lesion LABEL]...
    [--key-images marked|none|N,N] [--prior FILE]... [--keep-dates]
    [--date-shift-days N]
    [--window C,W | --preset NAME] [--no-deidentify] [--title ...] ...``."""
    from imaging_viewer.core.teaching.case import TeachingCase

    output = Path(args.output)
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise CommandError(f"{output}: exists and is not an empty folder")
    options.check_folder_writable(output)
    if args.no_deidentify and (args.keep_dates or args.date_shift_days):
        raise CommandError(
            "--keep-dates and --date-shift-days apply to de-identification; "
            "--no-deidentify keeps everything"
        )
    window, preset = options.window_of(args)
    key_images = [_parse_key_image(text) for text in args.key_image or ()]
    result = options.scan_path(args.path)
    if not result.series:
        raise CommandError(f"no DICOM images found under {args.path}")
    annotation_set, study_uid, label = _read_annotations(args.annotations, result)
    lesion_ids = _chosen_lesions(annotation_set, args.lesion)
    key_image_marks = _chosen_marks(annotation_set, args.key_images)
    timepoints = _timepoints(args.prior, result, study_uid, annotation_set, label)
    case = TeachingCase(
        title=args.title or "",
        history=args.history or "",
        findings=args.findings or "",
        diagnosis=args.diagnosis or "",
        discussion=args.discussion or "",
        references=tuple(args.reference or ()),
        modality=args.modality or "",
        anatomy=args.anatomy or "",
        keywords=tuple(args.keyword or ()),
    )
    start_headless_gui()
    from imaging_viewer.core.teaching.export import TeachingExportError
    from imaging_viewer.ui.teaching_export import export_teaching_case

    try:
        exported = export_teaching_case(
            result,
            annotation_set,
            case,
            output,
            deidentify=not args.no_deidentify,
            keep_dates=args.keep_dates,
            date_shift_days=args.date_shift_days or 0,
            key_images=key_images,
            case_key=args.case_key,
            window=window,
            preset=preset,
            study_uid=study_uid,
            lesion_ids=lesion_ids,
            key_image_marks=key_image_marks,
            before_after=timepoints,
        )
    except (TeachingExportError, LookupError) as error:
        raise CommandError(str(error)) from error
    except OSError as error:
        message = options.cannot_write(output, error, names_file=False)
        raise CommandError(message) from error
    for line in exported.skipped:
        print(f"warning: {line}", file=sys.stderr)
    for line in exported.warnings:
        print(f"warning: {line}", file=sys.stderr)
    extras = [
        name
        for name, path in (
            ("SR", exported.structured_report),
            ("presentation state", exported.presentation_state),
        )
        if path is not None
    ]
    pairs = sum(1 for path in exported.files if path.name.endswith("_after.dcm"))
    if args.prior:
        extras.append(f"{pairs} before/after pair(s)")
    what = "de-identified" if not args.no_deidentify else "NOT de-identified"
    print(
        f"wrote {output}: {len(exported.images)} key image(s), {what}"
        + (f", with {' and '.join(extras)}" if extras else "")
        + ", case.md and case.json"
    )
    return 0
