"""dciodvfy error counts of every DICOM image of a folder, before and after
de-identification (PS3.15 Basic Profile, as ``export`` applies it).

    python scripts/deidentified_validity.py ../shared/dicom [--tsv OUT] [--jobs N]

Prints one row per file (source errors, de-identified errors) and the files whose
de-identified copy has more errors than the source; exits 1 when there are any.
dciodvfy (Debian dicom3tools) must be on the PATH.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from imaging_viewer.core.exchange.deidentify import (
    BurnedInAnnotationError,
    DeidContext,
    deidentify,
    read_dataset,
    write_dataset,
)

_DIRECTORY = "1.2.840.10008.1.3.10"  # Media Storage Directory (DICOMDIR): no image
_ERROR = re.compile(r"^Error", re.MULTILINE)


def dciodvfy_errors(path: Path) -> int:
    """Lines of dciodvfy's report that are errors."""
    run = subprocess.run(
        ["dciodvfy", "-new", str(path)],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=300,
        check=False,
    )
    return len(_ERROR.findall(run.stdout + run.stderr))


def compare(path: Path) -> tuple[str, int, int | str]:
    """(path, source errors, de-identified errors or why there is none)."""
    try:
        ds = read_dataset(path)
    except Exception as error:
        return str(path), -1, f"unreadable: {error}"
    if "PixelData" not in ds or str(ds.get("SOPClassUID", "")) == _DIRECTORY:
        return str(path), -1, "no image"
    context = DeidContext("validity", accept_burned_in=True)
    try:
        out = deidentify(ds, context)
    except BurnedInAnnotationError as error:
        return str(path), -1, str(error)
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "deid.dcm"
        write_dataset(out, target)
        return str(path), dciodvfy_errors(path), dciodvfy_errors(target)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--tsv", type=Path)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    files = sorted(p for p in args.folder.rglob("*") if p.is_file())
    worse = []
    rows = []
    with ProcessPoolExecutor(args.jobs) as pool:
        for path, source, deidentified in pool.map(compare, files, chunksize=8):
            if source < 0:
                continue
            rows.append(f"{path}\t{source}\t{deidentified}")
            if isinstance(deidentified, int) and deidentified > source:
                worse.append(rows[-1])
    text = "path\tsource_errors\tdeidentified_errors\n" + "\n".join(rows) + "\n"
    if args.tsv:
        args.tsv.write_text(text)
    else:
        sys.stdout.write(text)
    print(f"{len(rows)} images, {len(worse)} with more errors:", file=sys.stderr)
    for row in worse:
        print(row, file=sys.stderr)
    return 1 if worse else 0


if __name__ == "__main__":
    sys.exit(main())
