"""The before/after pairs of a teaching case, written into its folder.

For each lesion tracked over two time points or more (same Tracking UID,
PS3.16 TID 1500 Tracking Unique Identifier (112040); chosen by
:func:`~imaging_viewer.core.teaching.before_after.before_after_pairs`) the case
gets::

    <case>/before_after/pair01.png          both images side by side, captioned
                                            with time point and (shifted) date
    <case>/before_after/pair01_before.png   each side alone, annotations burned in
    <case>/before_after/pair01_after.png
    <case>/before_after/pair01_before.dcm   each side's DICOM, de-identified with
    <case>/before_after/pair01_after.dcm    the case's context: one pseudonym,
                                            one date shift, UIDs remapped alike

and a row in the case sheet with the lesion's size at both time points and its
change (sizes as the response table gives them, filled in by the caller with
``core.followup.teaching_sizes``). Every DICOM goes through the same checks as
the case's key images (PS3.15 Annex E, and the text-in-pixels check
of images at risk, PS3.15 E.3.1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from imaging_viewer.core.annotations.measure import spacing_source_of
from imaging_viewer.core.dicom.load import load_volume
from imaging_viewer.core.exchange.annotation_documents import read_image_for_export
from imaging_viewer.core.exchange.burned_in_text import PixelTextError
from imaging_viewer.core.exchange.deidentify import BurnedInAnnotationError
from imaging_viewer.core.teaching.before_after import before_after_pairs
from imaging_viewer.core.teaching.burn_in import KeyImageView, reader_calibration
from imaging_viewer.core.teaching.export import chosen_part
from imaging_viewer.core.teaching.key_images import (
    annotations_on,
    image_plane,
    key_image_viewport,
    with_resolved_images,
)

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence
    from pathlib import Path

    from imaging_viewer.core.annotations.model import AnnotationSet
    from imaging_viewer.core.exchange.annotation_documents import ExportedImage
    from imaging_viewer.core.exchange.deidentify import DeidContext
    from imaging_viewer.core.teaching.before_after import (
        BeforeAfterPair,
        PairImage,
        StudyTimepoint,
    )
    from imaging_viewer.core.teaching.burn_in import KeyImageBurnIn
    from imaging_viewer.core.volume import Volume, Window

__all__ = ["PairBurnIn", "WrittenPairs", "write_before_after"]

FOLDER = "before_after"


@runtime_checkable
class PairBurnIn(Protocol):
    """A burn-in that can also draw two key images side by side with captions."""

    def write_pair_png(
        self,
        before: KeyImageView,
        after: KeyImageView,
        captions: Sequence[str],
        path: Path,
    ) -> tuple[int, int]:
        """Write both images, annotated, side by side with their captions."""
        ...


@dataclass
class WrittenPairs:
    """What :func:`write_before_after` wrote (paths relative to the case)."""

    files: list[Path]
    entries: list[dict[str, Any]]
    """One per pair, for ``case.json``."""
    left_out: list[str]
    exported: list[ExportedImage]
    """The DICOM written, for the leak scan of their source values."""


@dataclass(frozen=True)
class _Side:
    view: KeyImageView
    dicom: ExportedImage


def _change_pct(pair: BeforeAfterPair) -> float | None:
    """The size change from before to after, in percent."""
    before, after = pair.before.size_mm, pair.after.size_mm
    if before is None or after is None or before <= 0:
        return None
    return (after - before) / before * 100.0


def _side(
    side: PairImage,
    annotation_set: AnnotationSet,
    context: DeidContext | None,
    volumes: dict[str, Volume],
    window: Window | None,
    preset: str | None,
    warnings: list[str],
) -> _Side:
    """One side drawn and de-identified; raises BurnedInAnnotationError or
    PixelTextError where its pixels may name the patient."""
    ref = side.image
    dicom = read_image_for_export(ref.path)
    redacted: tuple[Any, ...] = ()
    if context is not None:
        dicom, cleaned = dicom.deidentified_and_cleaned(context, ())
        redacted = tuple(cleaned or ())
    if ref.series.id not in volumes:
        volumes[ref.series.id] = load_volume(ref.series)
    volume = volumes[ref.series.id]
    viewport = key_image_viewport(ref, volume, window, preset, warnings)
    pixel_to_lps = viewport.pixel_to_lps()
    assert pixel_to_lps is not None
    part = with_resolved_images(
        chosen_part(annotation_set, [side.lesion.id], ()), [ref]
    )
    view = KeyImageView(
        viewport=viewport,
        annotations=tuple(annotations_on(part, ref, volume, pixel_to_lps)),
        plane=image_plane(pixel_to_lps),
        spacing_source=spacing_source_of(volume),
        include_patient=context is None,
        redacted=redacted,
        stored_size=dicom.stored_size,
        calibration=reader_calibration(annotation_set, viewport),
    )
    return _Side(view, dicom)


def write_before_after(
    staging: Path,
    timepoints: Sequence[StudyTimepoint],
    context: DeidContext | None,
    burn_in: KeyImageBurnIn,
    *,
    window: Window | None = None,
    preset: str | None = None,
    warnings: list[str],
    only: Collection[str] | None = None,
) -> WrittenPairs:
    """Write the before/after pair of each tracked lesion of ``timepoints``
    (the case's study and the patient's other studies) under
    ``staging/before_after``; dates as the case shows them (removed, kept or
    shifted with ``context``, PS3.15 E.3.6); only the lesions of the Tracking
    UIDs ``only`` when the case was narrowed to them."""
    keep = context is None or context.keep_dates
    shift = context.date_shift_days if context is not None else 0
    pairs, left_out = before_after_pairs(
        timepoints, keep_dates=keep, date_shift_days=shift, only=only
    )
    written = WrittenPairs([], [], list(left_out), [])
    if not pairs:
        return written
    folder = staging / FOLDER
    folder.mkdir()
    sets = {
        id(lesion): t.annotation_set
        for t in timepoints
        for lesion in t.annotation_set.lesions
    }
    volumes: dict[str, Volume] = {}
    for number, pair in enumerate(pairs, start=1):
        name = f"pair{number:02d}"
        try:
            sides = [
                _side(s, sets[id(s.lesion)], context, volumes, window, preset, warnings)
                for s in (pair.before, pair.after)
            ]
        except (BurnedInAnnotationError, PixelTextError, OSError, ValueError) as error:
            written.left_out.append(f"{pair.label or 'lesion'}: no pair ({error})")
            continue
        entry: dict[str, Any] = {
            "lesion": pair.label,
            "tracking_uid": (
                context.remap_uid(pair.tracking_uid) if context else pair.tracking_uid
            ),
        }
        change = _change_pct(pair)
        captions = [pair.before.caption, pair.after.caption]
        if isinstance(burn_in, PairBurnIn):
            path = folder / f"{name}.png"
            burn_in.write_pair_png(sides[0].view, sides[1].view, captions, path)
            written.files.append(path)
            entry["png"] = f"{FOLDER}/{name}.png"
        for which, side, pair_image, size in zip(
            ("before", "after"),
            sides,
            (pair.before, pair.after),
            (pair.before.size_mm, pair.after.size_mm),
            strict=True,
        ):
            png = folder / f"{name}_{which}.png"
            burn_in.write_png(side.view, png, annotated=True)
            dicom = side.dicom.write(folder / f"{name}_{which}.dcm")
            written.files += [png, dicom]
            written.exported.append(side.dicom)
            entry[which] = {
                "timepoint": pair_image.timepoint,
                "date": pair_image.date,
                "caption": pair_image.caption,
                "png": f"{FOLDER}/{png.name}",
                "dicom": f"{FOLDER}/{dicom.name}",
                "sop_instance_uid": side.dicom.sop_instance_uid,
                "size_mm": size,
            }
        entry["change_pct"] = change
        written.entries.append(entry)
    return written


def _mm(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} mm"


def before_after_markdown(
    entries: Sequence[dict[str, Any]], left_out: Sequence[str]
) -> str:
    """The case sheet's section on the pairs (empty when there are none)."""
    if not entries and not left_out:
        return ""
    lines = ["", "## Before and after", ""]
    if entries:
        lines += [
            "| Lesion | Before | After | Size before | Size after | Change |",
            "|---|---|---|---|---|---|",
        ]
        for entry in entries:
            change = entry["change_pct"]
            lines.append(
                f"| {entry['lesion'] or 'lesion'} | {entry['before']['caption']} | "
                f"{entry['after']['caption']} | {_mm(entry['before']['size_mm'])} | "
                f"{_mm(entry['after']['size_mm'])} | "
                + ("–" if change is None else f"{change:+.0f} %")
                + " |"
            )
        for entry in entries:
            shown = entry.get("png") or entry["before"]["png"]
            lines += [
                "",
                f"![{entry['lesion'] or 'lesion'}: {entry['before']['caption']} → "
                f"{entry['after']['caption']}]({shown})",
            ]
    lines += [f"- {line}" for line in left_out]
    return "\n".join(lines) + "\n"
