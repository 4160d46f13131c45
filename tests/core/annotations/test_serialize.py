"""The annotation file: round trip, refusals that leave the file alone, atomic saves,
and the autosaver."""

from __future__ import annotations

import json
import os
import random
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from imaging_viewer.core.annotations.model import AnnotationSet, Lesion, Ruler
from imaging_viewer.core.annotations.serialize import (
    SCHEMA,
    AnnotationFileError,
    Autosaver,
    from_json,
    load,
    save_atomic,
    sidecar_path,
    to_json,
    user_data_dir,
)
from tests.core.annotations.test_model import every_kind

REPO_ROOT = Path(__file__).resolve().parents[3]
STUDY = "1.2.826.0.1.3680043.8.498.10"
OTHER_STUDY = "1.2.826.0.1.3680043.8.498.11"
FRAME = "1.2.826.0.1.3680043.8.498.12"


def sample_set() -> AnnotationSet:
    annotations = AnnotationSet()
    femur = annotations.add_lesion(
        annotations.make_lesion(
            site="left distal femur, metaphysis",
            finding="aggressive lesion, periosteal reaction",
            diagnosis="osteosarcoma",
            note="before chemotherapy — «mesure» 1",
        )
    )
    annotations.add_lesion(annotations.make_lesion(site="left femur, diaphysis (skip)"))
    for annotation in every_kind(femur.id):
        annotations.add_annotation(annotation)
    return annotations


def bytes_of(path: Path) -> bytes:
    return path.read_bytes()


# ---------------------------------------------------------------- round trip


def test_round_trip_keeps_everything() -> None:
    annotations = sample_set()
    document = to_json(annotations, STUDY, [FRAME])
    text = json.dumps(document)
    restored = from_json(json.loads(text))
    assert restored.lesions == annotations.lesions
    assert not restored.can_undo


def test_document_shape() -> None:
    annotations = sample_set()
    lesion = annotations.lesions[0]
    ruler = lesion.annotations[3]
    document = to_json(annotations, STUDY, [FRAME, ""])
    assert document["schema"] == SCHEMA == "imaging_viewer.annotations/1"
    assert document["coordinate_system"] == "LPS"
    assert document["units"] == "mm"
    assert document["study_instance_uid"] == STUDY
    assert document["frame_of_reference_uids"] == [FRAME]
    first = document["lesions"][0]
    assert set(first) == {
        "id",
        "label",
        "site",
        "finding",
        "diagnosis",
        "note",
        "colour",
        "tracking_uid",
        "annotations",
    }
    assert first["tracking_uid"] == lesion.tracking_uid
    item = first["annotations"][3]
    assert item == {
        "id": ruler.id,
        "kind": "ruler",
        "label": "",
        "frame_of_reference_uid": "",
        "referenced_sop_instance_uid": "",
        "referenced_frame": None,
        "plane_normal_lps": [0.0, 0.0, 1.0],
        "points_lps": [[0.0, 0.0, 10.0], [3.0, 4.0, 10.0]],
    }
    assert first["annotations"][2]["text"] == "skip lesion"
    kinds = [a["kind"] for a in first["annotations"]]
    assert kinds == [
        "point",
        "arrow",
        "text",
        "ruler",
        "angle",
        "cobb_angle",
        "ellipse",
        "polygon",
        "bidirectional",
    ]


def test_frames_of_annotations_are_listed() -> None:
    annotations = AnnotationSet()
    lesion = annotations.add_lesion(Lesion())
    annotations.add_annotation(
        Ruler(
            lesion_id=lesion.id,
            frame_of_reference_uid="1.2.3",
            referenced_sop_instance_uid="1.2.3.4",
            referenced_frame=2,
            plane_normal_lps=(1, 0, 0),
            start_lps=(0, 0, 0),
            end_lps=(0, 1, 1),
        )
    )
    document = to_json(annotations, STUDY, [FRAME])
    assert document["frame_of_reference_uids"] == [FRAME, "1.2.3"]
    assert from_json(document).lesions == annotations.lesions


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["lesions"][0]["annotations"][3].update(kind="spline"),
            "unknown kind",
        ),
        (
            lambda d: d["lesions"][0]["annotations"][3]["points_lps"].append([1, 2, 3]),
            "a ruler has 2 points, found 3",
        ),
        (
            lambda d: d["lesions"][0]["annotations"][0].update(
                points_lps=[[1, "x", 3]]
            ),
            "expected numbers",
        ),
        (lambda d: d["lesions"][0].update(colour="blue"), "rrggbb"),
        (lambda d: d["lesions"][0].pop("tracking_uid"), "'tracking_uid' is missing"),
        (lambda d: d.update(coordinate_system="RAS"), "not 'LPS'"),
        (lambda d: d.update(units="cm"), "not 'mm'"),
        (
            lambda d: d.update(schema="something.else/1"),
            "not an imaging_viewer annotation",
        ),
        (
            lambda d: d["lesions"][0]["annotations"][6]["points_lps"].__setitem__(
                2, [6, 7, 10]
            ),
            "perpendicular",
        ),
        (lambda d: d["lesions"].append(d["lesions"][0]), "already used"),
    ],
)
def test_malformed_documents_are_refused(edit: Any, message: str) -> None:
    document = json.loads(json.dumps(to_json(sample_set(), STUDY)))
    edit(document)
    with pytest.raises(AnnotationFileError, match=message):
        from_json(document)


def test_unknown_keys_are_ignored() -> None:
    annotations = sample_set()
    document = to_json(annotations, STUDY)
    document["viewer_settings"] = {"zoom": 2}
    document["lesions"][0]["annotations"][0]["style"] = "dashed"
    assert from_json(document).lesions == annotations.lesions


# ---------------------------------------------------------------- load


def test_load_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    annotations = sample_set()
    save_atomic(path, to_json(annotations, STUDY))
    assert load(path, STUDY).lesions == annotations.lesions


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "invalid JSON"),
        (b'{"schema": "imaging_viewer.annotations/1", "lesions": [', "invalid JSON"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b"[1, 2, 3]", "not an object"),
        (b'{"hello": "world"}', "not an imaging_viewer annotation file"),
    ],
)
def test_corrupt_files_are_refused_and_kept(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "a.json"
    path.write_bytes(content)
    with pytest.raises(AnnotationFileError, match=message) as caught:
        load(path, STUDY)
    assert caught.value.path == path
    assert str(path) in str(caught.value)
    assert bytes_of(path) == content


def test_truncated_real_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    save_atomic(path, to_json(sample_set(), STUDY))
    content = bytes_of(path)[: len(bytes_of(path)) // 2]
    path.write_bytes(content)
    with pytest.raises(AnnotationFileError, match="damaged"):
        load(path, STUDY)
    assert bytes_of(path) == content


def test_newer_schema_is_refused_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    document = to_json(sample_set(), STUDY)
    document["schema"] = "imaging_viewer.annotations/3"
    document["lesions"][0]["annotations"][0]["kind"] = "hologram"  # unknown to us
    path.write_text(json.dumps(document))
    content = bytes_of(path)
    with pytest.raises(
        AnnotationFileError,
        match=r"newer imaging_viewer: schema imaging_viewer\.annotations/3",
    ):
        load(path, STUDY)
    assert bytes_of(path) == content


def test_another_studys_file_is_refused_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    save_atomic(path, to_json(sample_set(), OTHER_STUDY))
    content = bytes_of(path)
    with pytest.raises(
        AnnotationFileError, match=f"study {OTHER_STUDY}, not of the open"
    ):
        load(path, STUDY)
    assert bytes_of(path) == content


def test_missing_file_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nothing.json", STUDY)


# ---------------------------------------------------------------- save_atomic


def test_save_atomic_creates_folders_and_leaves_no_temporary_files(
    tmp_path: Path,
) -> None:
    path = tmp_path / "deep" / "er" / "a.json"
    save_atomic(path, {"x": 1})
    save_atomic(path, {"x": 2})
    assert json.loads(path.read_text()) == {"x": 2}
    assert sorted(p.name for p in path.parent.iterdir()) == ["a.json"]


def test_unserialisable_document_leaves_the_file(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    save_atomic(path, {"x": 1})
    with pytest.raises(ValueError, match="JSON compliant"):
        save_atomic(path, {"x": float("nan")})
    assert json.loads(path.read_text()) == {"x": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def test_failed_rename_leaves_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.json"
    save_atomic(path, {"x": 1})

    def refuse(*_: object) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk gone"):
        save_atomic(path, {"x": 2})
    assert json.loads(path.read_text()) == {"x": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_permissions_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    save_atomic(path, {"x": 1})
    path.chmod(0o640)
    save_atomic(path, {"x": 2})
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


_WRITER = textwrap.dedent(
    """
    import os
    import sys
    import time

    from imaging_viewer.core.annotations.serialize import save_atomic

    path, generation, slow = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "slow"
    if slow:
        # A slow disk: the file goes out in 256 kB pieces, so kills land mid-write.
        real_fdopen = os.fdopen

        class SlowFile:
            def __init__(self, stream):
                self.stream = stream

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.stream.close()

            def write(self, data):
                for start in range(0, len(data), 1 << 18):
                    self.stream.write(data[start : start + (1 << 18)])
                    self.stream.flush()
                    time.sleep(0.03)

            def flush(self):
                self.stream.flush()

            def fileno(self):
                return self.stream.fileno()

        os.fdopen = lambda fd, mode: SlowFile(real_fdopen(fd, mode))
    # A large document: ~4 MB of JSON (a long freehand outline).
    payload = [[i * 0.001, i * 0.002, i * 0.003] for i in range(150_000)]
    print("ready", flush=True)
    while True:
        generation += 1
        save_atomic(path, {"generation": generation, "payload": payload})
    """
)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_killed_in_the_middle_of_saving_the_previous_file_survives(
    tmp_path: Path,
) -> None:
    path = tmp_path / "annotations.json"
    payload = [[i * 0.001, i * 0.002, i * 0.003] for i in range(150_000)]
    save_atomic(path, {"generation": 0, "payload": payload})
    assert path.stat().st_size > 4_000_000
    rng = random.Random(20240601)
    generation = 0
    for attempt in range(16):
        speed = "slow" if attempt % 2 else "fast"
        process = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(path), str(generation), speed],
            stdout=subprocess.PIPE,
            cwd=REPO_ROOT,
        )
        assert process.stdout is not None
        assert process.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.0, 1.0))
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        document = json.loads(path.read_text())  # whole, valid JSON
        assert document["payload"] == payload
        assert document["generation"] >= generation
        generation = document["generation"]
    assert generation > 0, "no save ever completed"
    # Kills that landed mid-write left a temporary file beside it, never a torn one.
    leftovers = [p for p in tmp_path.iterdir() if p.name != path.name]
    assert all(p.name.startswith(".annotations.json.") for p in leftovers)
    assert leftovers, "no kill hit a write: the test did not test anything"


# ---------------------------------------------------------------- autosave


def test_sidecar_path_follows_xdg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if sys.platform in ("win32", "darwin"):
        pytest.skip("XDG applies to Linux and other POSIX systems")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert user_data_dir() == tmp_path / "imaging_viewer"
    assert (
        sidecar_path(STUDY)
        == tmp_path / "imaging_viewer" / "annotations" / f"{STUDY}.json"
    )
    monkeypatch.setenv("XDG_DATA_HOME", "relative/path")
    assert user_data_dir() == Path.home() / ".local" / "share" / "imaging_viewer"
    assert sidecar_path("../../etc/passwd").parent == user_data_dir() / "annotations"


class Recorder:
    """Collects an autosaver's signals and lets a test wait for a save."""

    def __init__(self, saver: Autosaver) -> None:
        self.saved: list[Path] = []
        self.failed: list[str] = []
        self.event = threading.Event()
        saver.saved.connect(self._on_saved)
        saver.failed.connect(self.failed.append)

    def _on_saved(self, path: Path) -> None:
        self.saved.append(path)
        self.event.set()

    def wait(self) -> None:
        assert self.event.wait(10), "no autosave within 10 s"
        self.event.clear()


def test_autosave_is_debounced(tmp_path: Path) -> None:
    path = tmp_path / "sidecar" / f"{STUDY}.json"
    saver = Autosaver(lambda uid: tmp_path / "sidecar" / f"{uid}.json", delay_s=0.2)
    recorder = Recorder(saver)
    annotations = AnnotationSet()
    saver.watch(annotations, STUDY, [FRAME])
    lesion = annotations.add_lesion(annotations.make_lesion())
    for n in range(10):
        annotations.update_lesion(lesion.id, note=f"note {n}")
    assert saver.pending
    assert not path.exists()
    recorder.wait()
    assert recorder.saved == [path]
    assert not saver.pending
    assert load(path, STUDY).lesions == annotations.lesions
    time.sleep(0.4)
    assert len(recorder.saved) == 1, "ten quick edits, one save"
    annotations.undo()
    recorder.wait()
    assert load(path, STUDY).lesions == annotations.lesions
    saver.close()


def test_flush_saves_at_once(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    saver = Autosaver(lambda uid: path, delay_s=60.0)
    annotations = AnnotationSet()
    saver.watch(annotations, STUDY)
    assert saver.flush() is None, "nothing to save yet"
    annotations.add_lesion(Lesion(label="L1"))
    assert saver.flush() == path
    assert saver.path == path
    assert [lesion.label for lesion in load(path, STUDY).lesions] == ["L1"]
    annotations.add_lesion(Lesion(label="L2"))
    saver.unwatch()  # flushes
    assert [lesion.label for lesion in load(path, STUDY).lesions] == ["L1", "L2"]
    annotations.add_lesion(Lesion(label="L3"))  # no longer watched
    assert not saver.pending


def test_autosave_replaces_the_file_the_set_was_loaded_from(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    save_atomic(path, to_json(sample_set(), STUDY))
    annotations = load(path, STUDY)
    saver = Autosaver(lambda uid: path, delay_s=60.0)
    recorder = Recorder(saver)
    saver.watch(annotations, STUDY)
    annotations.remove_lesion(annotations.lesions[0].id)
    assert saver.flush() == path
    assert recorder.failed == []
    assert len(load(path, STUDY).lesions) == 1


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"schema": "imaging_viewer.annotations/1", "lesi', "invalid JSON"),
        (None, "newer imaging_viewer"),
        (None, "another study"),
        (None, "not loaded"),
    ],
)
def test_autosave_never_overwrites_what_it_did_not_load(
    tmp_path: Path, content: bytes | None, reason: str
) -> None:
    path = tmp_path / f"{STUDY}.json"
    if content is None:
        document = to_json(
            sample_set(), OTHER_STUDY if reason == "another study" else STUDY
        )
        if reason == "newer imaging_viewer":
            document["schema"] = "imaging_viewer.annotations/3"
        content = json.dumps(document).encode()
    path.write_bytes(content)
    saver = Autosaver(lambda uid: tmp_path / f"{uid}.json", delay_s=60.0)
    recorder = Recorder(saver)
    annotations = AnnotationSet()  # a fresh set: the file was not loaded into it
    saver.watch(annotations, STUDY)
    annotations.add_lesion(Lesion(label="new"))
    written = saver.flush()
    assert bytes_of(path) == content
    assert written == tmp_path / f"{STUDY}.1.json"
    assert [lesion.label for lesion in load(written, STUDY).lesions] == ["new"]
    assert len(recorder.failed) == 1
    assert reason.split()[0] in recorder.failed[0]
    assert str(path) in recorder.failed[0]
    saver.close()


def test_autosave_failure_keeps_the_change_pending(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.json"
    saver = Autosaver(lambda uid: path, delay_s=60.0)
    annotations = AnnotationSet()
    saver.watch(annotations, STUDY)
    annotations.add_lesion(Lesion(label="L1"))

    def refuse(*_: object) -> None:
        raise OSError("read-only file system")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="read-only"):
        saver.flush()
    assert saver.pending
    monkeypatch.undo()
    assert saver.flush() == path
    saver.close()


def test_a_timer_failure_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.json"
    saver = Autosaver(lambda uid: path, delay_s=0.05)
    failures: list[str] = []
    failed = threading.Event()

    def on_failed(message: str) -> None:
        failures.append(message)
        failed.set()

    saver.failed.connect(on_failed)
    annotations = AnnotationSet()
    saver.watch(annotations, STUDY)

    def refuse(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    annotations.add_lesion(Lesion(label="L1"))
    assert failed.wait(10)
    assert "disk full" in failures[0]
    monkeypatch.undo()
    saver.close()
    assert [lesion.label for lesion in load(path, STUDY).lesions] == ["L1"]
