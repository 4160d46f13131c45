"""Coverage-guided fuzzing of the header reader and the decoders with atheris.

Optional (atheris is not a dependency): ``python -m tests.fuzz.atheris_target
-max_total_time=60 SEED_DIR`` with atheris importable. libFuzzer mutates the
seed files (copy a few corpus files into SEED_DIR) guided by the coverage of
imaging_viewer.core.dicom; any exception but the documented ones is a finding.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile

import atheris

with atheris.instrument_imports(include=["imaging_viewer"]):
    from imaging_viewer.core.dicom.header import InstanceHeader
    from imaging_viewer.core.dicom.pixels import DecodeError, decode_frames
    from imaging_viewer.core.dicom.scan import read_header

_PATH = os.path.join(tempfile.mkdtemp(prefix="imaging_viewer_atheris_"), "m.dcm")


def test_one_input(data: bytes) -> None:
    """Read the header of ``data`` as a file and, if it is an image, decode frame 0."""
    with open(_PATH, "wb") as handle:
        handle.write(data)
    header = read_header(_PATH)  # documented never to raise
    if isinstance(header, InstanceHeader):
        with contextlib.suppress(DecodeError):  # the documented refusal
            decode_frames(_PATH, [0], header.mosaic)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
