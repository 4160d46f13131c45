"""Benchmark scan + load of CT series against SimpleITK, dcm2niix, pydicom, raw reads.

Run: python benchmarks/bench_load.py [--slices 300 1000] [--syntaxes raw jpegls j2k]
     [--repeat N] [--workdir DIR] [--contenders ...] [--gdcm-path DIR]
     (the default run takes about 8 to 10 minutes once the data exist; making them
     takes about a minute)

Synthetic 512×512 CT series (300 and 1000 slices) are made from the 28 real slices
of a Philips CT in ``../shared/dicom/dcm_qa_ct`` (interpolated along z, noise added
back inside the body), stored uncompressed and as JPEG-LS and JPEG 2000 lossless
copies. They are written outside the repo (``--workdir``, default
``$TMPDIR/imaging_viewer_bench_load``) and reused between runs.

Every contender runs in a fresh subprocess (peak memory is that process's VmHWM),
interleaved across repetitions. Before each run the files and the contenders'
libraries are read once (untimed: a warm page cache for all, which this VM does not
keep for long) and the memory the contender needs is touched and freed (see
:func:`prefault`); the driver also waits up to ``--max-wait`` s for the other
processes on the machine to go quiet, and the ``other`` column reports the cores
they kept busy anyway. The contenders:

- ``ours``: ``scan_folder`` + ``load_volume`` (fresh process: the worker pool is
  started inside the timed region; the time of a second load with the pool warm
  is printed too),
- ``sitk``: SimpleITK ``GetGDCMSeriesFileNames`` + ``ImageSeriesReader``,
- ``dcm2niix``: ``dcm2niix -o tmp -f out -z n folder`` (it also writes a NIfTI file
  and a JSON sidecar, to /dev/shm where there is one),
- ``naive``: pydicom ``dcmread`` of each file, sort by z, stack ``pixel_array``,
  apply the rescale (the well-known ``get_pixels_hu`` recipe),
- ``floor``: plain reads of the same files into a preallocated array (the pixel
  bytes of each file for uncompressed series, whole files for compressed ones).

Medians, ratios to the floor and to SimpleITK, peak RSS against the int16 volume,
CPU seconds and the cores kept busy (CPU time / wall time, worker processes
included) are printed, then whether each target of the issue is met (compressed:
"both cores busy" means our load phase averaged at least 1.6 cores). A last
section times the per-file decode of each pydicom decoding plugin (``--gdcm-path``
adds a folder holding python-gdcm to that measurement only, so it never changes
the plugin the contenders get).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

GENERATOR_VERSION = 1
ROWS = COLUMNS = 512
SPACING_MM = 0.625
INTERCEPT = -1024
SOURCE = (
    Path(__file__).resolve().parents[2]
    / "shared/dicom/dcm_qa_ct/In/Philips/S21570/S2010"
)
SYNTAXES = {
    "raw": "1.2.840.10008.1.2.1",  # Explicit VR Little Endian
    "jpegls": "1.2.840.10008.1.2.4.80",  # JPEG-LS Lossless
    "j2k": "1.2.840.10008.1.2.4.90",  # JPEG 2000 Lossless
}
ENCODERS = {"jpegls": "pyjpegls", "j2k": "pylibjpeg"}
CONTENDERS = ("ours", "sitk", "dcm2niix", "naive", "floor")
LIBRARIES = (
    "numpy",
    "pydicom",
    "SimpleITK",
    "pylibjpeg",
    "openjpeg",
    "libjpeg",
    "jpeg_ls",
    "rle",
    "imaging_viewer",
)
# Repetitions per slice count and syntax; the default run stays under ~10 minutes.
DEFAULT_REPEAT = {
    (300, "raw"): 5,
    (1000, "raw"): 3,
    (300, "jpegls"): 3,
    (1000, "jpegls"): 1,
    (300, "j2k"): 3,
    (1000, "j2k"): 1,
}
# Targets of the issue.
MAX_VS_FLOOR, AMBITION_VS_FLOOR = 4.0, 2.0
MAX_VS_SITK_RAW = 0.35
MAX_VS_SITK_COMPRESSED = 1.3
MEMORY_FACTOR, MEMORY_EXTRA_MIB = 1.1, 150.0
BUSY_CORES = 1.6
MIB = 1024 * 1024


# --------------------------------------------------------------------------------
# Synthetic data


def _default_workdir() -> Path:
    return Path(os.environ.get("TMPDIR") or tempfile.gettempdir()) / (
        "imaging_viewer_bench_load"
    )


def _source_volume(source: Path) -> tuple[Any, np.ndarray]:
    """The template header and the stored values [k, j, i] of the real CT, by z."""
    import pydicom

    datasets = [pydicom.dcmread(p) for p in sorted(source.glob("I*"))]
    datasets.sort(key=lambda ds: float(ds.ImagePositionPatient[2]))
    if len(datasets) < 2:
        raise SystemExit(f"{source}: expected the 28 slices of the Philips CT")
    stored = np.stack([ds.pixel_array for ds in datasets]).astype(np.float32)
    return datasets[0], stored


def _slice_values(stored: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Slice k of the synthetic series: linear interpolation along z, ping-pong over
    the source stack, with noise put back where interpolation averaged it away."""
    n_source = stored.shape[0]
    position = k * SPACING_MM / 5.0  # the source is 5 mm apart
    period = 2 * (n_source - 1)
    position %= period
    if position > n_source - 1:
        position = period - position
    below = min(int(position), n_source - 2)
    weight = position - below
    values = (1 - weight) * stored[below] + weight * stored[below + 1]
    # Averaging two noisy slices lowers the noise by up to √2: add it back in the
    # body only (air and the outside of the reconstruction circle stay clean).
    sigma = 12.0 * np.sqrt(max(0.0, 1.0 - ((1 - weight) ** 2 + weight**2)))
    body = values > 200
    values[body] += rng.normal(0.0, sigma, int(body.sum())).astype(np.float32)
    return np.clip(np.rint(values), 0, 4095).astype(np.uint16)


def _uid(*parts: object) -> str:
    from pydicom.uid import generate_uid

    return str(
        generate_uid(entropy_srcs=["imaging_viewer bench_load", *map(str, parts)])
    )


def _write_slices(args: tuple[str, str, int, list[int]]) -> int:
    """Write slices ``ks`` of one synthetic series (runs in a pool worker)."""
    import warnings

    from pydicom.uid import UID

    source, folder, n_slices, ks = args
    syntax_name = Path(folder).name
    template, stored = _source_volume(Path(source))
    template.PixelData = None
    del template.PixelData
    series_uid = _uid(n_slices, syntax_name, "series")
    x, y, z0 = (float(v) for v in template.ImagePositionPatient)
    for k in ks:
        rng = np.random.default_rng(k)
        values = _slice_values(stored, k, rng)
        ds = copy.deepcopy(template)
        sop_uid = _uid(n_slices, syntax_name, k)
        ds.SeriesInstanceUID = series_uid
        ds.SeriesDescription = f"bench_load synthetic CT {n_slices} ({syntax_name})"
        ds.SOPInstanceUID = sop_uid
        ds.file_meta.MediaStorageSOPInstanceUID = sop_uid
        ds.InstanceNumber = k + 1
        z = z0 + k * SPACING_MM
        ds.ImagePositionPatient = [x, y, round(z, 4)]
        ds.SliceLocation = round(z, 4)
        ds.SliceThickness = SPACING_MM
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
        ds.PixelRepresentation = 0
        ds.RescaleIntercept, ds.RescaleSlope = INTERCEPT, 1
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows, ds.Columns = values.shape
        ds.file_meta.TransferSyntaxUID = UID(SYNTAXES["raw"])
        ds.PixelData = values.tobytes()
        ds["PixelData"].VR = "OW"
        if syntax_name in ENCODERS:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds.compress(
                    SYNTAXES[syntax_name],
                    values,
                    encoding_plugin=ENCODERS[syntax_name],
                    generate_instance_uid=False,
                )
        # Scanner exports name files by UID: listing order is not slice order.
        ds.save_as(Path(folder) / f"CT.{sop_uid}.dcm", enforce_file_format=True)
    return len(ks)


def ensure_dataset(workdir: Path, source: Path, n_slices: int, syntax: str) -> Path:
    """The folder of one synthetic series, generated unless cached."""
    folder = workdir / f"ct{n_slices}" / syntax
    manifest = folder.parent / f"{syntax}.json"  # not in the folder: DICOM only there
    expected = {"version": GENERATOR_VERSION, "slices": n_slices, "syntax": syntax}
    if manifest.is_file():
        try:
            if json.loads(manifest.read_text()) == expected and (
                len(list(folder.glob("*.dcm"))) == n_slices
            ):
                return folder
        except (OSError, ValueError):
            pass
    if not source.is_dir():
        raise SystemExit(f"{source}: the real CT slices to start from are missing")
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    from concurrent.futures import ProcessPoolExecutor

    chunks = [list(range(k, min(k + 50, n_slices))) for k in range(0, n_slices, 50)]
    start = time.perf_counter()
    done = 0
    print(f"  generating {n_slices} slices ({syntax}) in {folder} ...", flush=True)
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        jobs = [(str(source), str(folder), n_slices, chunk) for chunk in chunks]
        for count in pool.map(_write_slices, jobs):
            done += count
            print(
                f"\r    {done}/{n_slices} ({time.perf_counter() - start:.0f} s)",
                end="",
                flush=True,
            )
    print()
    manifest.write_text(json.dumps(expected))
    return folder


def warm_page_cache(folder: Path) -> int:
    """Read every file (untimed), so every contender reads from the page cache."""
    total = 0
    for path in folder.iterdir():
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                total += len(chunk)
    return total


def library_folders() -> list[Path]:
    """Where the code the contenders load lives (to keep it in the page cache too)."""
    import importlib.util
    import sysconfig

    folders = [Path(sysconfig.get_paths()["stdlib"])]
    for name in LIBRARIES:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            folders.append(Path(spec.origin).parent)
    site = Path(np.__file__).parent.parent
    folders += [p for p in site.glob("*.libs") if p.is_dir()]
    return folders


def warm_libraries(folders: list[Path]) -> None:
    """Read the contenders' libraries: this VM evicts idle page cache within minutes,
    and a decoder's first import from disk would be timed."""
    skip = {"test", "tests", "site-packages", "idlelib", "tkinter", "ensurepip"}
    for folder in folders:
        for root, directories, files in os.walk(folder):
            directories[:] = [d for d in directories if d not in skip]
            for name in files:
                if name.endswith((".so", ".pyc")) or ".so." in name:
                    with open(os.path.join(root, name), "rb") as handle:
                        while handle.read(1 << 20):
                            pass
    exe = shutil.which("dcm2niix")
    if exe:
        Path(exe).read_bytes()


# --------------------------------------------------------------------------------
# Contenders (each runs in its own fresh subprocess: ``--child NAME FOLDER``)


def _cpu_seconds() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _system_busy() -> float:
    """CPU seconds all processes of the machine have used since boot (/proc/stat)."""
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:9]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values) - idle) / os.sysconf("SC_CLK_TCK")


def _others(busy0: float, wall: float, own_cpu: float) -> float:
    """Cores other processes kept busy while a contender ran (0 on a quiet machine)."""
    return max(0.0, (_system_busy() - busy0 - own_cpu) / wall)


def _maxrss_mib() -> float:
    """Peak RSS of this process since its exec (VmHWM).

    Not ``ru_maxrss``: after a (v)fork + exec, Linux reports the parent's peak there
    when it is larger, and the parent here has just touched the memory to come.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _checksums(voxels: np.ndarray) -> dict[str, Any]:
    """Order-independent and slice-order-dependent sums, to compare contenders."""
    per_slice = voxels.reshape(voxels.shape[0], -1).sum(axis=1, dtype=np.int64)
    return {
        "shape": list(voxels.shape),
        "dtype": str(voxels.dtype),
        "sum": int(per_slice.sum()),
        "ksum": int((per_slice * np.arange(len(per_slice))).sum()),
    }


def _proc_stats(pid: int) -> tuple[float, float]:
    """(CPU seconds, peak RSS MiB) of another process, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        cpu = (int(fields[11]) + int(fields[12])) / ticks
        hwm = 0.0
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) / 1024
        return cpu, hwm
    except (OSError, IndexError, ValueError):
        return 0.0, 0.0


def _helper_processes() -> list[int]:
    """The worker pool's processes and its forkserver (private attributes: guarded)."""
    from multiprocessing import forkserver

    from imaging_viewer.core.dicom import workers

    pids = list(getattr(workers._pool, "_processes", None) or {})
    server = getattr(getattr(forkserver, "_forkserver", None), "_forkserver_pid", None)
    if server:
        pids.append(int(server))
    return pids


def child_ours(folder: str) -> dict[str, Any]:
    from imaging_viewer.core.dicom.load import load_volume
    from imaging_viewer.core.dicom.scan import scan_folder

    busy0 = _system_busy()
    cpu0 = _cpu_seconds()
    t0 = time.perf_counter()
    result = scan_folder(folder)
    t1 = time.perf_counter()
    cpu1 = _cpu_seconds() + sum(_proc_stats(p)[0] for p in _helper_processes())
    if len(result.series) != 1:
        raise SystemExit(f"expected one series, found {len(result.series)}")
    volume = load_volume(result.series[0])
    t2 = time.perf_counter()
    cpu2 = _cpu_seconds()
    helpers = [_proc_stats(p) for p in _helper_processes()]
    cpu2 += sum(cpu for cpu, _ in helpers)
    out: dict[str, Any] = {
        "wall": t2 - t0,
        "scan": t1 - t0,
        "load": t2 - t1,
        "cpu": cpu2 - cpu0,
        "load_cores": (cpu2 - cpu1) / (t2 - t1),
        "others": _others(busy0, t2 - t0, cpu2 - cpu0),
        "maxrss": _maxrss_mib(),
        "helper_hwm": [hwm for _, hwm in helpers],
        **_checksums(volume.voxels),
    }
    del volume, result
    if Path(folder).name == "raw":
        # Again with the pool running, as for a second series in the app (the pool
        # start-up is a visible part of a cold raw load only).
        t0 = time.perf_counter()
        load_volume(scan_folder(folder).series[0])
        out["warm"] = time.perf_counter() - t0
    return out


def child_sitk(folder: str) -> dict[str, Any]:
    import SimpleITK as sitk

    busy0 = _system_busy()
    cpu0 = _cpu_seconds()
    t0 = time.perf_counter()
    names = sitk.ImageSeriesReader.GetGDCMSeriesFileNames(folder)
    t1 = time.perf_counter()
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(names)
    image = reader.Execute()
    voxels = sitk.GetArrayViewFromImage(image)  # no copy: [k, j, i]
    t2 = time.perf_counter()
    cpu = _cpu_seconds() - cpu0
    return {
        "wall": t2 - t0,
        "scan": t1 - t0,
        "load": t2 - t1,
        "cpu": cpu,
        "others": _others(busy0, t2 - t0, cpu),
        "maxrss": _maxrss_mib(),
        "threads": sitk.ProcessObject.GetGlobalDefaultNumberOfThreads(),
        **_checksums(voxels),
    }


def child_naive(folder: str) -> dict[str, Any]:
    import pydicom

    busy0 = _system_busy()
    cpu0 = _cpu_seconds()
    t0 = time.perf_counter()
    files = [os.path.join(folder, name) for name in os.listdir(folder)]
    slices = [pydicom.dcmread(f) for f in files if f.endswith(".dcm")]
    slices.sort(key=lambda ds: float(ds.ImagePositionPatient[2]))
    image = np.stack([ds.pixel_array for ds in slices]).astype(np.int16)
    for k, ds in enumerate(slices):
        slope, intercept = float(ds.RescaleSlope), float(ds.RescaleIntercept)
        if slope != 1:
            image[k] = (slope * image[k].astype(np.float64)).astype(np.int16)
        image[k] += np.int16(intercept)
    t1 = time.perf_counter()
    cpu = _cpu_seconds() - cpu0
    return {
        "wall": t1 - t0,
        "cpu": cpu,
        "others": _others(busy0, t1 - t0, cpu),
        "maxrss": _maxrss_mib(),
        **_checksums(image),
    }


def child_floor(folder: str, compressed: bool) -> dict[str, Any]:
    """Plain sequential reads into a buffer allocated once, no parsing, no sort."""
    busy0 = _system_busy()
    cpu0 = _cpu_seconds()
    t0 = time.perf_counter()
    paths = [os.path.join(folder, n) for n in os.listdir(folder) if n.endswith(".dcm")]
    out: dict[str, Any] = {}
    if compressed:
        sizes = [os.stat(p).st_size for p in paths]
        buffer = np.empty(sum(sizes), dtype=np.uint8)
        view = memoryview(buffer)
        offset = 0
        for path, size in zip(paths, sizes, strict=True):
            with open(path, "rb", buffering=0) as handle:
                handle.readinto(view[offset : offset + size])
            offset += size
    else:
        frame_bytes = ROWS * COLUMNS * 2
        volume = np.empty((len(paths), ROWS, COLUMNS), dtype=np.uint16)
        for k, path in enumerate(paths):
            with open(path, "rb", buffering=0) as handle:
                handle.seek(-frame_bytes, os.SEEK_END)
                handle.readinto(memoryview(volume[k]).cast("B"))
        out["stored_sum"] = int(volume.sum(dtype=np.int64))
    t1 = time.perf_counter()
    cpu = _cpu_seconds() - cpu0
    out.update(
        wall=t1 - t0,
        cpu=cpu,
        others=_others(busy0, t1 - t0, cpu),
        maxrss=_maxrss_mib(),
    )
    return out


def child_decode(folder: str, n_files: int, gdcm_path: str) -> dict[str, Any]:
    """ms per file (dcmread + pixel_array) for each decoding plugin pydicom has."""
    if gdcm_path:
        sys.path.insert(0, gdcm_path)
    import warnings

    import pydicom
    from pydicom.pixels import pixel_array
    from pydicom.pixels.decoders.base import get_decoder

    paths = sorted(Path(folder).glob("*.dcm"))[:n_files]
    syntax = pydicom.dcmread(paths[0], stop_before_pixels=True).file_meta
    decoder = get_decoder(syntax.TransferSyntaxUID)
    plugins = list(decoder._available)  # pydicom tries them in this order
    results: dict[str, Any] = {"order": plugins, "ms": {}, "decode_only_ms": {}}
    per_file: dict[str, list[float]] = {name: [] for name in plugins}
    decode_only: dict[str, list[float]] = {name: [] for name in plugins}
    mismatch: set[str] = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in plugins:  # warm-up: imports, first-call set-up
            pixel_array(pydicom.dcmread(paths[0]), decoding_plugin=name)
        # Plugins alternate file by file, so a busy spell hits them all alike.
        for n, path in enumerate(paths):
            reference = None
            for name in plugins[n % len(plugins) :] + plugins[: n % len(plugins)]:
                t0 = time.perf_counter()
                ds = pydicom.dcmread(path)
                t1 = time.perf_counter()
                values = pixel_array(ds, decoding_plugin=name)
                t2 = time.perf_counter()
                per_file[name].append(t2 - t0)
                decode_only[name].append(t2 - t1)
                if reference is None:
                    reference = values
                elif not np.array_equal(values, reference):
                    mismatch.add(name)
    for name in plugins:
        results["ms"][name] = 1000 * statistics.median(per_file[name])
        results["decode_only_ms"][name] = 1000 * statistics.median(decode_only[name])
    if mismatch:
        results["mismatch"] = sorted(mismatch)
    return results


def child_dcm2niix(folder: str) -> dict[str, Any]:
    """Time dcm2niix from this small parent.

    Its peak memory is ``ru_maxrss`` from ``wait4``: dcm2niix's own, or this
    parent's (~40 MiB) if larger, a quirk of exec on Linux.
    """
    exe = shutil.which("dcm2niix")
    if exe is None:
        return {"error": "dcm2niix not installed (apt-get install dcm2niix)"}
    shm = Path("/dev/shm")
    base = (
        shm if shm.is_dir() and os.access(shm, os.W_OK) else Path(folder).parent.parent
    )
    out_dir = Path(tempfile.mkdtemp(prefix="bench_load_dcm2niix_", dir=base))
    try:
        busy0 = _system_busy()
        t0 = time.perf_counter()
        process = subprocess.Popen(
            [exe, "-o", str(out_dir), "-f", "out", "-z", "n", folder],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        assert process.stdout is not None
        log = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - t0
        process.returncode = os.waitstatus_to_exitcode(status)
        written = sum(p.stat().st_size for p in out_dir.glob("*.nii"))
        if process.returncode != 0 or written == 0:
            lines = [
                line
                for line in log.decode(errors="replace").splitlines()
                if "rror" in line or "nsupported" in line
            ]
            return {"error": (lines or ["no NIfTI written"])[0][:90]}
        cpu = usage.ru_utime + usage.ru_stime
        return {
            "wall": wall,
            "cpu": cpu,
            "others": _others(busy0, wall, cpu),
            "maxrss": usage.ru_maxrss / 1024,
            "nifti_mib": written / MIB,
        }
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)


def run_child(args: argparse.Namespace) -> None:
    name, folder = args.child
    if name == "ours":
        result = child_ours(folder)
    elif name == "sitk":
        result = child_sitk(folder)
    elif name == "naive":
        result = child_naive(folder)
    elif name == "dcm2niix":
        result = child_dcm2niix(folder)
    elif name == "floor":
        result = child_floor(folder, compressed=Path(folder).name != "raw")
    elif name == "decode":
        result = child_decode(folder, args.decode_files, args.gdcm_path or "")
    else:
        raise SystemExit(f"unknown contender {name}")
    print(json.dumps(result))


# --------------------------------------------------------------------------------
# Driver


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    # One thread per pool worker; no oversubscription from BLAS in the children.
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def run_python_contender(name: str, folder: Path, *extra: str) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", name, str(folder), *extra]
    done = subprocess.run(
        command, capture_output=True, text=True, env=_child_env(), check=False
    )
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def wait_for_quiet(max_wait: float) -> float:
    """Wait (at most ``max_wait`` s) until other processes leave the cores idle.

    Returns the cores found busy at the last look.
    """
    deadline = time.monotonic() + max_wait
    while True:
        busy0 = _system_busy()
        time.sleep(0.25)
        busy = (_system_busy() - busy0) / 0.25
        if busy < 0.25 or time.monotonic() >= deadline:
            return busy
        time.sleep(0.5)


def prefault(mib: float) -> None:
    """Touch and free ``mib`` of memory just before a run.

    In a VM that hands freed memory back to the host (virtio-balloon free page
    reporting, as on the machine this was written on), the first touch of a page
    costs a host fault: ~1 ms per MiB, more than reading the pixel data. Touching
    the memory a contender will need right before it starts removes that artefact
    (the guest kernel still zeroes each page on the contender's first touch, as on
    a desktop) and gives every contender the same conditions.
    """
    block = np.ones(int(mib * MIB), dtype=np.uint8)
    del block


@dataclass
class Case:
    slices: int
    syntax: str
    folder: Path
    runs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def volume_mib(self) -> float:
        return self.slices * ROWS * COLUMNS * 2 / MIB

    def ok(self, name: str) -> list[dict[str, Any]]:
        return [r for r in self.runs.get(name, []) if "error" not in r]

    def median(self, name: str, key: str = "wall") -> float | None:
        values = [r[key] for r in self.ok(name) if key in r]
        return statistics.median(values) if values else None

    def peak(self, name: str) -> float | None:
        values = [r["maxrss"] for r in self.ok(name)]
        return max(values) if values else None


def run_case(
    case: Case, contenders: list[str], repeat: int, max_wait: float, touch: bool
) -> None:
    libraries = library_folders()
    size = warm_page_cache(case.folder)
    print(
        f"\n== {case.slices} slices, {case.syntax}: {size / MIB:.0f} MiB on disk, "
        f"int16 volume {case.volume_mib:.0f} MiB, {repeat} repetition(s) ==",
        flush=True,
    )
    for rep in range(repeat):
        order = (
            contenders[rep % len(contenders) :] + contenders[: rep % len(contenders)]
        )
        for name in order:
            wait_for_quiet(max_wait)
            # Again before every run: this VM evicts idle page cache within minutes.
            warm_page_cache(case.folder)
            warm_libraries(libraries)
            if touch:
                peaks = [r["maxrss"] for r in case.ok(name)]
                prefault((max(peaks) if peaks else 2.5 * case.volume_mib) + 64)
            result = run_python_contender(name, case.folder)
            case.runs.setdefault(name, []).append(result)
            shown = (
                f"error: {result['error']}"
                if "error" in result
                else f"{result['wall']:.3f} s, {result['maxrss']:.0f} MiB, "
                f"other processes busy {result['others']:.2f} cores"
            )
            print(f"  rep {rep + 1}/{repeat}  {name:9s} {shown}", flush=True)
    check_agreement(case)
    print_case(case)


def check_agreement(case: Case) -> None:
    """Every contender that returns a volume must return the same one."""
    sums = {
        name: (r["sum"], r["ksum"], tuple(r["shape"]))
        for name in ("ours", "sitk", "naive")
        for r in case.ok(name)[:1]
    }
    floor = case.ok("floor")[:1]
    if sums and len(set(sums.values())) > 1:
        print(f"  WARNING: the volumes differ: {sums}")
    if floor and "stored_sum" in floor[0] and "ours" in sums:
        hu_sum = floor[0]["stored_sum"] + INTERCEPT * case.slices * ROWS * COLUMNS
        if hu_sum != sums["ours"][0]:
            print("  WARNING: ours differs from the raw bytes + intercept")


def _fmt(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


TABLE_HEAD = (
    f"  {'contender':10s} {'median s':>9s} {'×floor':>7s} {'×sitk':>6s} "
    f"{'peak MiB':>9s} {'×vol':>5s} {'CPU s':>6s} {'cores':>5s} {'other':>5s}  notes"
)


def _notes(case: Case, name: str) -> str:
    runs = case.ok(name)
    if name == "ours":
        helper = max((max(r["helper_hwm"], default=0) for r in runs), default=0)
        warm = case.median("ours", "warm")
        return (
            f"scan {case.median('ours', 'scan'):.3f} + load "
            f"{case.median('ours', 'load'):.3f} s; load on "
            f"{case.median('ours', 'load_cores'):.2f} cores; "
            + (f"pool warm {warm:.3f} s; " if warm is not None else "")
            + f"worker peak {helper:.0f} MiB"
        )
    if name == "sitk":
        return (
            f"file names {case.median('sitk', 'scan'):.3f} + read "
            f"{case.median('sitk', 'load'):.3f} s"
        )
    if name == "dcm2niix":
        return f"writes {runs[0]['nifti_mib']:.0f} MiB of NIfTI (+ JSON)"
    if name == "floor":
        return "whole files" if case.syntax != "raw" else "pixel bytes only"
    return ""


def print_case(case: Case) -> None:
    floor = case.median("floor")
    sitk = case.median("sitk")
    print(TABLE_HEAD)
    for name in CONTENDERS:
        if name not in case.runs:
            continue
        wall = case.median(name)
        if wall is None:
            print(f"  {name:10s} failed: {case.runs[name][0]['error']}")
            continue
        peak = case.peak(name)
        cpu = case.median(name, "cpu")
        cells = [
            f"{wall:9.3f}",
            _fmt(wall / floor if floor else None, "7.1f"),
            _fmt(wall / sitk if sitk else None, "6.2f"),
            _fmt(peak, "9.0f"),
            _fmt(peak / case.volume_mib if peak else None, "5.2f"),
            _fmt(cpu, "6.2f"),
            _fmt(cpu / wall if cpu is not None else None, "5.2f"),
            _fmt(case.median(name, "others"), "5.2f"),
        ]
        print(f"  {name:10s} " + " ".join(cells) + f"  {_notes(case, name)}")


def targets(case: Case) -> list[tuple[str, bool | None, str]]:
    """(target, met or None when it could not be measured, figures)."""
    ours = case.median("ours")
    floor = case.median("floor")
    sitk = case.median("sitk")
    peak = case.peak("ours")
    out: list[tuple[str, bool | None, str]] = []
    limit = MEMORY_FACTOR * case.volume_mib + MEMORY_EXTRA_MIB
    if case.syntax == "raw":
        if ours and floor:
            ratio = ours / floor
            out.append(
                (
                    f"≤ {MAX_VS_FLOOR:g}× floor",
                    ratio <= MAX_VS_FLOOR,
                    f"{ratio:.1f}× (ambition {AMBITION_VS_FLOOR:g}×: "
                    f"{'met' if ratio <= AMBITION_VS_FLOOR else 'not met'})",
                )
            )
        if ours and sitk:
            ratio = ours / sitk
            out.append(
                (
                    f"≤ {MAX_VS_SITK_RAW:g}× sitk",
                    ratio <= MAX_VS_SITK_RAW,
                    f"{ratio:.2f}×",
                )
            )
    elif ours and sitk:
        ratio = ours / sitk
        cores = case.median("ours", "load_cores") or 0.0
        out.append(
            (
                f"≤ {MAX_VS_SITK_COMPRESSED:g}× sitk",
                ratio <= MAX_VS_SITK_COMPRESSED,
                f"{ratio:.2f}×",
            )
        )
        out.append(
            (
                "both cores busy",
                cores >= BUSY_CORES,
                f"load on {cores:.2f} cores (≥ {BUSY_CORES:g})",
            )
        )
    if peak:
        out.append(
            (
                f"peak ≤ {MEMORY_FACTOR:g}×vol+{MEMORY_EXTRA_MIB:g}",
                peak <= limit,
                f"{peak:.0f} MiB vs {limit:.0f} MiB",
            )
        )
    return out


def print_summary(cases: list[Case]) -> None:
    print("\n== Summary: median wall seconds (peak RSS MiB) ==")
    names = [n for n in CONTENDERS if any(n in c.runs for c in cases)]
    print(f"  {'series':16s}" + "".join(f"{n:>16s}" for n in names))
    for case in cases:
        cells = []
        for name in names:
            wall, peak = case.median(name), case.peak(name)
            if name not in case.runs:
                cells.append("")
            elif wall is None:
                cells.append("failed")
            else:
                cells.append(f"{wall:.2f} ({peak:.0f})")
        label = f"{case.slices} {case.syntax}"
        print(f"  {label:16s}" + "".join(f"{c:>16s}" for c in cells))
    print("\n== Targets ==")
    for case in cases:
        for target, met, figures in targets(case):
            verdict = "n/a " if met is None else ("MET " if met else "MISS")
            print(
                f"  {verdict} {case.slices:5d} {case.syntax:7s} {target:22s} {figures}"
            )


def run_decoders(cases: list[Case], args: argparse.Namespace) -> None:
    print(
        f"\n== Per-file decode (dcmread + pixel_array, median of {args.decode_files} "
        "files, one core) =="
    )
    seen = set()
    for case in cases:
        if case.syntax == "raw" or case.syntax in seen:
            continue
        seen.add(case.syntax)
        extra = ["--decode-files", str(args.decode_files)]
        if args.gdcm_path:
            extra += ["--gdcm-path", args.gdcm_path]
        result = run_python_contender("decode", case.folder, *extra)
        if "error" in result:
            print(f"  {case.syntax}: {result['error']}")
            continue
        order = result["order"]
        # The contenders run without --gdcm-path: their plugin is the first other one.
        default = next(n for n in order if n != "gdcm")
        best = min(order, key=lambda n: result["ms"][n])
        for name in order:
            ms = result["ms"][name]
            print(
                f"  {case.syntax:7s} {name:10s} {ms:6.1f} ms/file "
                f"(decode only {result['decode_only_ms'][name]:5.1f} ms)  "
                f"{result['ms'][default] / ms:4.2f}× the speed of {default}"
                + ("  <- what pydicom picks here" if name == default else "")
                + ("  <- fastest" if name == best else "")
            )
        if "gdcm" not in order:
            print(f"  {case.syntax:7s} gdcm       not importable (see --gdcm-path)")
        if result.get("mismatch"):
            print(f"  WARNING: {result['mismatch']} decode differently")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slices", type=int, nargs="+", default=[300, 1000])
    parser.add_argument(
        "--syntaxes", nargs="+", choices=list(SYNTAXES), default=list(SYNTAXES)
    )
    parser.add_argument(
        "--contenders", nargs="+", choices=CONTENDERS, default=list(CONTENDERS)
    )
    parser.add_argument("--repeat", type=int, help="repetitions (default: per case)")
    parser.add_argument("--workdir", type=Path, default=_default_workdir())
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--decode-files", type=int, default=60)
    parser.add_argument(
        "--gdcm-path",
        help="a folder holding python-gdcm (pip install --target DIR python-gdcm), "
        "added for the decode measurement only",
    )
    parser.add_argument("--no-decoders", action="store_true")
    parser.add_argument(
        "--no-prefault",
        action="store_true",
        help="do not touch the memory each contender needs before it runs",
    )
    parser.add_argument(
        "--max-wait",
        type=float,
        default=1.0,
        help="seconds to wait for other processes to leave the cores idle before "
        "each run (the 'other' column shows how busy they kept them)",
    )
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args)
        return

    workdir = args.workdir.resolve()
    repo = Path(__file__).resolve().parents[1]
    if workdir.is_relative_to(repo):
        raise SystemExit(f"--workdir {workdir} is inside the repo: choose another")
    print(f"data: {workdir} (cached between runs); {os.cpu_count()} cores")
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    cases = [
        Case(n, syntax, ensure_dataset(workdir, args.source, n, syntax))
        for n in args.slices
        for syntax in args.syntaxes
    ]
    start = time.perf_counter()
    for case in cases:
        repeat = args.repeat or DEFAULT_REPEAT.get((case.slices, case.syntax), 3)
        run_case(case, args.contenders, repeat, args.max_wait, not args.no_prefault)
    if not args.no_decoders:
        run_decoders(cases, args)
    print_summary(cases)
    print(
        f"\nmeasured in {time.perf_counter() - start:.0f} s; "
        f"load average after: {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
