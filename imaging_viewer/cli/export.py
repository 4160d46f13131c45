"""``imaging-viewer export``: one slice or plane as PNG (overlays optional), or a
plane as NIfTI/NRRD/MetaImage with its geometry."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from imaging_viewer.cli import options
from imaging_viewer.cli.headless_gui import start_headless_gui
from imaging_viewer.cli.options import CommandError

if TYPE_CHECKING:
    import argparse

    from imaging_viewer.cli.options import Subparsers
    from imaging_viewer.core.viewer_state import ViewportState


def add_parser(subparsers: Subparsers) -> argparse.ArgumentParser:
    """Add ``export`` to the command line."""
    parser = subparsers.add_parser(
        "export",
        help="write one slice as PNG, one pixel per DICOM pixel, overlays optional",
    )
    options.add_path_argument(parser)
    parser.add_argument(
        "--series", default="0", help=f"{options.SERIES_HELP}; default 0"
    )
    parser.add_argument(
        "--slice", metavar="K", help="slice index, from 0; default the middle slice"
    )
    parser.add_argument(
        "--time",
        metavar="T",
        help="time point (or cine frame) index, from 0; default 0",
    )
    options.add_window_options(
        parser,
        window_help="window in modality units (HU for CT), e.g. 40,400; a negative "
        "centre as --window=-600,1500. Default: the header's first window, else its "
        "VOI LUT, else auto",
        preset_help="CT window preset: brain, subdural, stroke, soft_tissue, "
        "mediastinum, liver, lung, bone, temporal_bone (any case; spaces or "
        "underscores)",
    )
    parser.add_argument(
        "--plane",
        choices=["axial", "coronal", "sagittal"],
        help="a reformatted plane, shown as radiologists do (axial from the feet, "
        "coronal from the front, sagittal with anterior on the left); as PNG in "
        "square pixels, as on screen",
    )
    parser.add_argument(
        "--position-lps",
        metavar="X,Y,Z",
        help="with --plane: the point (LPS mm) the plane passes through; default the "
        "volume's centre (or use --slice K to count planes)",
    )
    parser.add_argument(
        "--slab-mm", type=float, metavar="T", help="with --plane: thick slab in mm"
    )
    parser.add_argument(
        "--slab-mode",
        choices=["mip", "minip", "mean"],
        default="mip",
        help="how a thick slab is reduced (default mip)",
    )
    parser.add_argument(
        "--overlays",
        action="store_true",
        help="burn in corner text, orientation letters and a scale bar",
    )
    parser.add_argument(
        "--no-patient-data",
        action="store_true",
        help="with --overlays: leave out patient and study details (name, ID, dates, "
        "institution, descriptions)",
    )
    parser.add_argument("-o", "--output", required=True, help="output file: .png")
    return parser


def _parse_position(text: str) -> tuple[float, float, float]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError as error:
        raise CommandError(f"--position-lps {text!r}: give X,Y,Z in mm") from error
    if len(values) != 3 or not all(math.isfinite(v) for v in values):
        raise CommandError(f"--position-lps {text!r}: give X,Y,Z in mm")
    return values[0], values[1], values[2]


def _set_plane(
    viewport: ViewportState,
    plane: str,
    position: tuple[float, float, float] | None,
    slab_mm: float | None,
    slab_mode: str,
) -> None:
    """Show a reformatted plane: through ``position`` or the volume's centre."""
    volume = viewport.volume
    assert volume is not None
    if volume.is_projection or volume.shape_kji[0] < 2:
        raise CommandError("--plane needs a volume of several slices, not one image")
    if position is None:
        k, j, i = volume.shape_kji
        centre = volume.ijk_to_lps @ [(i - 1) / 2, (j - 1) / 2, (k - 1) / 2, 1.0]
        position = (float(centre[0]), float(centre[1]), float(centre[2]))
    viewport.cursor_lps = position
    viewport.orientation = plane
    if slab_mm is not None:
        if not (math.isfinite(slab_mm) and slab_mm >= 0):
            raise CommandError(f"--slab-mm {slab_mm}: give a thickness of 0 mm or more")
        viewport.slab_mm = slab_mm
        viewport.slab_mode = slab_mode
    viewport.sync_index_to_cursor()


def _write_plane_image(viewport: ViewportState, output: Path, series_id: str) -> int:
    """The plane's modality values with its geometry (a one-slice volume)."""
    from imaging_viewer.core.volume_io import write_plane

    current = viewport.current_slice()
    assert current is not None
    try:
        write_plane(current, output)
    except OSError as error:
        raise CommandError(options.cannot_write(output, error)) from error
    rows, columns = current.pixels.shape[:2]
    print(
        f"wrote {output} ({columns}×{rows} pixels, series {series_id}, "
        f"{viewport.orientation} plane {viewport.slice_index} "
        f"(0 to {viewport.n_slices - 1}))"
    )
    return 0


def run(args: argparse.Namespace) -> int:
    """``imaging-viewer export PATH [--series SEL] [--slice K] [--time T]
    [--window C,W | --preset NAME] [--overlays] -o OUT.png``."""
    from imaging_viewer.core.dicom.load import load_volume
    from imaging_viewer.core.viewer_state import ViewportState
    from imaging_viewer.core.volume_io import VOLUME_SUFFIXES

    output = Path(args.output)
    as_image = output.name.lower().endswith(VOLUME_SUFFIXES)
    if output.suffix.lower() != ".png" and not as_image:
        raise CommandError(
            f"{output}: export writes PNG, or a plane as NIfTI/NRRD/MetaImage "
            "(.nii, .nii.gz, .nrrd, .mha); give one of those"
        )
    if as_image and args.plane is None:
        raise CommandError("a NIfTI/NRRD/MetaImage export needs --plane")
    position = _parse_position(args.position_lps) if args.position_lps else None
    if position is not None and args.slice is not None:
        raise CommandError("give either --slice or --position-lps, not both")
    if args.slab_mm is not None and args.plane is None:
        raise CommandError("--slab-mm works on a --plane")
    window, preset = options.window_of(args)
    options.check_writable(output)
    info = options.find_series(args.path, args.series)
    try:
        volume = load_volume(info)
    except (OSError, ValueError, RuntimeError) as error:
        raise CommandError(f"series {info.id}: cannot load ({error})") from error
    viewport = ViewportState()
    viewport.show(info, volume)
    if args.plane is not None:
        _set_plane(viewport, args.plane, position, args.slab_mm, args.slab_mode)
    k = options.parse_index("--slice", args.slice, viewport.n_slices, "slices")
    t = options.parse_index("--time", args.time, viewport.n_time_points, "time points")
    if k is not None:
        viewport.set_slice(k)
    if t is not None:
        viewport.set_time(t)
    if as_image:
        return _write_plane_image(viewport, output, info.id)
    if window is not None:
        viewport.set_window(window, "manual")
    elif preset is not None:
        if volume.modality != "CT":
            print(
                f"warning: {preset} is a CT window in HU; series {info.id} is "
                f"{volume.modality or 'not CT'}",
                file=sys.stderr,
            )
        viewport.apply_preset(preset)
    elif viewport.window_label == "auto":
        viewport.apply_auto_window()  # of the slice shown, not the middle one

    if args.overlays:
        start_headless_gui()
    from imaging_viewer.ui.export import render_view_image, save_png

    # A plane is drawn as on screen, in square pixels (a coronal plane of 5 mm
    # slices would otherwise be squashed); an acquired slice stays one PNG
    # pixel per DICOM pixel.
    image = render_view_image(
        viewport,
        overlays=args.overlays,
        include_patient=not args.no_patient_data,
        correct_aspect=args.plane is not None,
    )
    try:
        save_png(image, output)
    except OSError as error:
        message = options.cannot_write(output, error, names_file=False)
        raise CommandError(message) from error
    for warning in volume.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(
        f"wrote {output} ({image.width()}×{image.height()} pixels, series {info.id}, "
        f"slice {viewport.slice_index} (0 to {viewport.n_slices - 1}), "
        f"{viewport.window_label or 'no window'})"
    )
    return 0
