"""The one atomic writer: content, file modes, and nothing left behind on failure."""

from __future__ import annotations

import os
import stat
import sys
from typing import TYPE_CHECKING

import pytest

from imaging_viewer.core.files import (
    atomic_path,
    current_umask,
    sync_directory,
    write_bytes_atomic,
    write_text_atomic,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

POSIX_ONLY = pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")


@pytest.fixture
def umask_027() -> Iterator[int]:
    """A umask other than the usual 022, so a hard-coded mode cannot pass."""
    previous = os.umask(0o027)
    yield 0o027
    os.umask(previous)


def test_bytes_and_text_are_written_whole(tmp_path: Path) -> None:
    target = write_bytes_atomic(tmp_path / "a.bin", b"\x00\x01old")
    assert target == tmp_path / "a.bin"
    assert target.read_bytes() == b"\x00\x01old"
    assert write_text_atomic(target, "héllo\n") == target
    assert target.read_bytes() == "héllo\n".encode()
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]


def test_a_writer_given_a_path_replaces_the_target(tmp_path: Path) -> None:
    target = tmp_path / "volume.nii.gz"
    target.write_bytes(b"old")
    with atomic_path(target, suffix=".nii.gz") as temporary:
        assert temporary.parent == tmp_path
        assert temporary.name.endswith(".nii.gz")
        assert temporary != target
        temporary.write_bytes(b"new")
        assert target.read_bytes() == b"old"  # not yet
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["volume.nii.gz"]


@POSIX_ONLY
def test_the_umask_is_read_without_changing_it(umask_027: int) -> None:
    assert current_umask() == umask_027
    assert os.umask(umask_027) == umask_027  # still set


@POSIX_ONLY
@pytest.mark.parametrize("form", ["bytes", "text", "path"])
def test_a_replaced_file_keeps_its_mode_and_a_new_one_follows_the_umask(
    tmp_path: Path, umask_027: int, form: str
) -> None:
    def write(target: Path, data: bytes) -> None:
        if form == "bytes":
            write_bytes_atomic(target, data)
        elif form == "text":
            write_text_atomic(target, data.decode())
        else:
            with atomic_path(target) as temporary:
                temporary.write_bytes(data)

    kept = tmp_path / "kept"
    kept.write_bytes(b"old")
    kept.chmod(0o604)
    write(kept, b"new")
    assert kept.read_bytes() == b"new"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o604
    fresh = tmp_path / "fresh"
    write(fresh, b"new")
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask_027 == 0o640


def test_a_failing_writer_leaves_the_target_and_no_temporary_file(
    tmp_path: Path,
) -> None:
    target = tmp_path / "image.png"
    target.write_bytes(b"old")

    def encode() -> None:
        with atomic_path(target, suffix=".png") as temporary:
            temporary.write_bytes(b"partial")
            raise RuntimeError("encoder failed")

    with pytest.raises(RuntimeError, match="encoder failed"):
        encode()
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["image.png"]


def test_a_failing_rename_leaves_the_target_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "a.json"
    target.write_bytes(b"old")

    def full_disk(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError, match="No space"):
        write_bytes_atomic(target, b"new")
    with pytest.raises(OSError, match="No space"), atomic_path(target) as temporary:
        temporary.write_bytes(b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_a_failing_write_leaves_no_new_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space"):
        write_text_atomic(tmp_path / "case.md", "text")
    assert list(tmp_path.iterdir()) == []


def test_a_missing_folder_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_bytes_atomic(tmp_path / "missing" / "a.bin", b"x")
    assert list(tmp_path.iterdir()) == []


def test_a_batch_write_is_whole_without_a_sync_per_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd) or real_fsync(fd))
    for k in range(3):
        write_bytes_atomic(tmp_path / f"{k}.dcm", b"part10", durable=False)
    assert synced == []
    sync_directory(tmp_path)
    assert len(synced) == (1 if hasattr(os, "O_DIRECTORY") else 0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0.dcm", "1.dcm", "2.dcm"]
