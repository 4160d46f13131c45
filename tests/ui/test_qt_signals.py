"""Many signal emits must not crash the interpreter (guards the PySide6 pin).

Why the pin in pyproject.toml (``PySide6-Essentials==6.11.3``) exists: PySide6 6.12.0
on CPython 3.11 aborts the whole process after a few hundred emits of a
``Signal(bool)`` with "Fatal Python error: bool_dealloc: deallocating True or False"
(a reference-count underflow on the bool singletons; from 3.12 on they are immortal,
which hides the bug). A crash like that kills pytest itself, so the emits run in a
child pytest process and this test only reads its exit status. Checked by hand on
CPython 3.11.7: PySide6 6.11.3 passes (exit 0); 6.12.0 aborts (SIGABRT).
Before moving the pin, run this file against the new version.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Signal, Slot

N_EMITS = 10_000


class BoolEmitter(QObject):
    fired = Signal(bool)


class ObjectEmitter(QObject):
    fired = Signal(object)


class Receiver(QObject):
    """A QObject slot, as widgets use; a plain Python callable is checked too."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    @Slot(bool)
    def on_bool(self, value: bool) -> None:
        self.count += 1

    @Slot(object)
    def on_object(self, value: object) -> None:
        self.count += 1


# ``child_*`` functions are collected only by the child process (see below).


def child_bool_signal_emitted_many_times(qapp: object) -> None:
    emitter, receiver, seen = BoolEmitter(), Receiver(), []
    emitter.fired.connect(receiver.on_bool)
    emitter.fired.connect(seen.append)
    for n in range(N_EMITS):
        emitter.fired.emit(n % 2 == 0)
    assert receiver.count == N_EMITS
    assert len(seen) == N_EMITS
    assert seen[:2] == [True, False]


def child_object_signal_emitted_many_times(qapp: object) -> None:
    emitter, receiver, seen = ObjectEmitter(), Receiver(), []
    emitter.fired.connect(receiver.on_object)
    emitter.fired.connect(seen.append)
    payloads = [True, False, None, 1, {"n": 1}]
    for n in range(N_EMITS):
        emitter.fired.emit(payloads[n % len(payloads)])
    assert receiver.count == N_EMITS
    assert len(seen) == N_EMITS
    assert seen[:5] == payloads


def test_many_signal_emits_do_not_abort() -> None:
    repo_root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(Path(__file__).resolve()),
            "-o",
            "python_functions=child_*",
            "-p",
            "no:cacheprovider",
            "-q",
            # no capture: a fatal error's message must reach our pipe, not a
            # capture file that dies with the process
            "--capture=no",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=repo_root,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        check=False,
    )
    output = result.stdout + result.stderr
    if result.returncode < 0:
        pytest.fail(f"child process killed by signal {-result.returncode}:\n{output}")
    assert result.returncode == 0, output
    assert "2 passed" in result.stdout, output
