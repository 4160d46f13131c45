"""PACS throughput in one run against one local Orthanc (issue 14).

- C-GET of a 300-slice 512² CT: ours vs dcmtk's ``getscu`` (target ≤ 1.3×);
- WADO-RS of the same series: ours vs dicomweb-client's ``retrieve_series``
  (target ≤ 1.1×);
- indexing 5,000 files into the study database, files per second (≥ 2,000/s).

The series is made from one corpus CT slice with new UIDs and positions.

    PYTHONPATH=. python benchmarks/bench_pacs.py [--slices 300] [--files 5000]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pydicom
from pydicom.uid import generate_uid

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from imaging_viewer.core.pacs import remote  # noqa: E402
from imaging_viewer.core.pacs.database import StudyDatabase  # noqa: E402
from imaging_viewer.core.pacs.nodes import parse_node  # noqa: E402
from imaging_viewer.core.pacs.sink import InstanceSink  # noqa: E402
from tests.pacs.conftest import PASSWORD, USER, start_orthanc, stop_orthanc  # noqa: E402

SLICE = ROOT.parent / "shared" / "dicom" / "dcm_qa_ct" / "In" / "GE" / "01.dcm"


def make_series(folder: Path, count: int) -> tuple[str, str]:
    template = pydicom.dcmread(SLICE)
    study, series = generate_uid(), generate_uid()
    for k in range(count):
        template.StudyInstanceUID = study
        template.SeriesInstanceUID = series
        template.SOPInstanceUID = generate_uid()
        template.file_meta.MediaStorageSOPInstanceUID = template.SOPInstanceUID
        template.InstanceNumber = k + 1
        template.ImagePositionPatient = [0, 0, float(k)]
        template.save_as(folder / f"{k:05d}.dcm", enforce_file_format=True)
    return study, series


def timed(work: object) -> float:
    start = time.perf_counter()
    work()  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slices", type=int, default=300)
    parser.add_argument("--files", type=int, default=5000)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench_pacs."))
    try:
        source = scratch / "source"
        source.mkdir()
        study, series = make_series(source, args.slices)
        orthanc_folder = scratch / "orthanc"
        orthanc_folder.mkdir()
        orthanc = start_orthanc(orthanc_folder)
        try:
            node = parse_node(orthanc.node, configured={})
            remote.send(node, sorted(source.iterdir()))

            def ours_get() -> None:
                out = scratch / "ours_get"
                shutil.rmtree(out, ignore_errors=True)
                remote.retrieve(node, study, InstanceSink(folder=out))

            def dcmtk_get() -> None:
                out = scratch / "getscu"
                shutil.rmtree(out, ignore_errors=True)
                out.mkdir()
                subprocess.run(
                    [
                        "getscu",
                        "-aet",
                        "IMAGINGVIEWER",
                        "-aec",
                        orthanc.aet,
                        "-S",
                        "-k",
                        "QueryRetrieveLevel=STUDY",
                        "-k",
                        f"StudyInstanceUID={study}",
                        "-od",
                        str(out),
                        "127.0.0.1",
                        str(orthanc.dicom_port),
                    ],
                    check=True,
                    capture_output=True,
                )

            web = parse_node(
                orthanc.dicomweb_url, user=USER, password=PASSWORD, configured={}
            )

            def ours_wado() -> None:
                out = scratch / "ours_wado"
                shutil.rmtree(out, ignore_errors=True)
                remote.retrieve(web, study, InstanceSink(folder=out), series_uid=series)

            def plain_wado() -> None:
                import requests
                from dicomweb_client.api import DICOMwebClient

                session = requests.Session()
                session.auth = (USER, PASSWORD)
                client = DICOMwebClient(orthanc.dicomweb_url, session=session)
                client.retrieve_series(study, series)

            for name, ours, theirs, target in (
                ("C-GET vs getscu", ours_get, dcmtk_get, 1.3),
                ("WADO-RS vs retrieve_series", ours_wado, plain_wado, 1.1),
            ):
                a = min(timed(ours) for _ in range(3))
                b = min(timed(theirs) for _ in range(3))
                print(
                    f"{name}: ours {a:.2f} s, theirs {b:.2f} s, ratio {a / b:.2f} "
                    f"(target ≤ {target})"
                )
        finally:
            stop_orthanc(orthanc)

        many = scratch / "many"
        many.mkdir()
        files = sorted(source.iterdir())
        for k in range(args.files):
            (many / f"{k:05d}.dcm").symlink_to(files[k % len(files)])
        database = StudyDatabase(scratch / "db" / "studies.sqlite")
        seconds = timed(lambda: database.import_paths([many]))
        print(
            f"indexing {args.files} files: {seconds:.2f} s, "
            f"{args.files / seconds:.0f} files/s (target ≥ 2000)"
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
