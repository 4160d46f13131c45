"""``imaging-viewer register``: the rigid transform between two studies of a patient.

Prints the transform that maps the moving study's LPS coordinates onto the
fixed study's (PS3.3 C.7.6.2.1.1), and the final Mattes mutual information;
``--json`` prints ``{"moving_to_fixed": [[4×4]], "metric": number,
"converged": bool, ...}``. Exits non-zero with a one-line reason when the
series cannot be registered.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING

from imaging_viewer.cli import options
from imaging_viewer.cli.options import CommandError

if TYPE_CHECKING:
    import argparse

    from imaging_viewer.cli.options import Subparsers
    from imaging_viewer.core.dicom.series import SeriesInfo


def add_parser(subparsers: Subparsers) -> argparse.ArgumentParser:
    """Add ``register`` to the command line."""
    parser = subparsers.add_parser(
        "register",
        help="rigid registration of two studies (moving LPS → fixed LPS)",
    )
    parser.add_argument("fixed", help=f"FIXED study: {options.PATH_HELP}")
    parser.add_argument("moving", help=f"MOVING study: {options.PATH_HELP}")
    parser.add_argument(
        "--fixed-series",
        metavar="SEL",
        help=f"{options.SERIES_HELP}; default the series with the most slices",
    )
    parser.add_argument(
        "--moving-series",
        metavar="SEL",
        help=f"{options.SERIES_HELP}; default the series with the most slices",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="register studies of different patients",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    return parser


def _series(path: str, selector: str | None) -> SeriesInfo:
    if selector is not None:
        return options.find_series(path, selector)
    result = options.scan_path(path)
    volumes = [s for s in result.series if s.shape_kji[0] > 1]
    if not volumes:
        raise CommandError(f"{path}: no series with 3D geometry to register")
    return max(volumes, key=lambda s: (s.shape_kji[0], s.shape_kji[1] * s.shape_kji[2]))


def run(args: argparse.Namespace) -> int:
    """Register MOVING onto FIXED and print the transform."""
    from imaging_viewer.core.dicom.load import load_volume
    from imaging_viewer.core.followup.registration import (
        RegistrationError,
        register_rigid,
    )

    fixed_series = _series(args.fixed, args.fixed_series)
    moving_series = _series(args.moving, args.moving_series)
    if (
        not args.force
        and fixed_series.patient_id
        and moving_series.patient_id
        and fixed_series.patient_id != moving_series.patient_id
    ):
        raise CommandError(
            f"the studies are of different patients ({fixed_series.patient_id!r} "
            f"and {moving_series.patient_id!r}); give --force to register them anyway"
        )
    try:
        fixed = load_volume(fixed_series)
        moving = load_volume(moving_series)
        result = register_rigid(fixed, moving)
    except RegistrationError as error:
        raise CommandError(f"cannot register: {error}") from None
    except (OSError, ValueError) as error:
        raise CommandError(f"cannot register: {error}") from None
    matrix = [[float(v) for v in row] for row in result.moving_to_fixed]
    translation = [row[3] for row in matrix[:3]]
    if args.json:
        print(
            json.dumps(
                {
                    "moving_to_fixed": matrix,
                    "metric": result.metric,
                    "related_fraction": result.related_fraction,
                    "converged": result.converged,
                    "iterations": result.iterations,
                    "rotation_deg": result.rotation_deg,
                    "translation_mm": translation,
                    "fixed_series": fixed_series.uid,
                    "moving_series": moving_series.uid,
                    "fixed_frame_of_reference_uid": fixed.frame_of_reference_uid,
                    "moving_frame_of_reference_uid": moving.frame_of_reference_uid,
                    "seconds": result.seconds,
                }
            )
        )
        return 0
    print("moving_to_fixed (moving LPS mm → fixed LPS mm):")
    for row in matrix:
        print("  " + "  ".join(f"{v:12.6f}" for v in row))
    shift = math.sqrt(sum(t * t for t in translation))
    print(
        f"rotation {result.rotation_deg:.2f}°, translation {shift:.1f} mm; "
        f"metric {result.metric:.4f} (Mattes MI, lower is better); "
        f"{'converged' if result.converged else 'not converged'} after "
        f"{result.iterations} iterations in {result.seconds:.1f} s"
    )
    return 0
