"""Tests for dexbulk.runlock: one process per run; a dead holder's lock is taken over."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dexbulk import runlock
from dexbulk.runlock import RunInUse, RunLock, holder, lock_path

DEAD_PID = 2**22 + 12345
"""Above Linux's largest pid_max: never a live process."""


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    path = tmp_path / "20260102-030405-abcd.jsonl"
    path.write_text("")
    return path


def test_a_second_holder_is_refused_with_the_first_ones_pid(journal: Path) -> None:
    with RunLock.acquire(journal, "R1") as lock:
        assert json.loads(lock.path.read_text())["pid"] == os.getpid()
        with pytest.raises(RunInUse, match=rf"^run R1 is in use by process {os.getpid()} "):
            RunLock.acquire(journal, "R1")
    assert not lock_path(journal).exists()
    RunLock.acquire(journal, "R1").release()


def test_the_refusal_is_exit_2() -> None:
    assert int(RunInUse("x").exit_code) == 2


def test_a_lock_held_by_another_process_is_refused(journal: Path) -> None:
    """A real second process holds it (flock is per open file, so this is the true case)."""
    code = (
        "import sys, time; from pathlib import Path; from dexbulk.runlock import RunLock\n"
        f"lock = RunLock.acquire(Path({str(journal)!r}), 'R1')\n"
        "print('held', flush=True); sys.stdin.read()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "held"
        with pytest.raises(RunInUse, match=f"in use by process {proc.pid} "):
            RunLock.acquire(journal, "R1")
        assert holder(journal) is not None
    finally:
        proc.communicate("")
    # It exited: its lock went with it.
    RunLock.acquire(journal, "R1").release()


def test_the_lock_of_a_killed_process_is_taken_over(journal: Path) -> None:
    code = (
        "import os; from pathlib import Path; from dexbulk.runlock import RunLock\n"
        f"RunLock.acquire(Path({str(journal)!r}), 'R1'); os._exit(9)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=False)
    assert lock_path(journal).exists()  # left behind, as by kill -9
    assert holder(journal) is None
    with RunLock.acquire(journal, "R1") as lock:
        assert json.loads(lock.path.read_text())["pid"] == os.getpid()


def test_release_twice_is_harmless(journal: Path) -> None:
    lock = RunLock.acquire(journal, "R1")
    lock.release()
    lock.release()


@pytest.fixture
def no_fcntl(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runlock, "fcntl", None)


@pytest.mark.usefixtures("no_fcntl")
def test_without_fcntl_a_live_holder_refuses(journal: Path) -> None:
    lock_path(journal).write_text(json.dumps({"pid": os.getppid(), "since": "03:04:05"}))
    with pytest.raises(RunInUse, match=f"in use by process {os.getppid()} \\(since 03:04:05 UTC"):
        RunLock.acquire(journal, "R1")


@pytest.mark.usefixtures("no_fcntl")
def test_without_fcntl_a_dead_holder_is_taken_over(journal: Path) -> None:
    lock_path(journal).write_text(json.dumps({"pid": DEAD_PID, "since": "03:04:05"}))
    with RunLock.acquire(journal, "R1"), pytest.raises(RunInUse):
        RunLock.acquire(journal, "R1")
    assert not lock_path(journal).exists()


@pytest.mark.usefixtures("no_fcntl")
def test_without_fcntl_a_lock_being_written_is_not_stale(journal: Path) -> None:
    lock_path(journal).write_text("")
    with pytest.raises(RunInUse, match="in use by another process"):
        RunLock.acquire(journal, "R1")


def test_holder_ignores_this_process_and_the_dead(journal: Path) -> None:
    assert holder(journal) is None
    for pid in (os.getpid(), DEAD_PID, 0):
        lock_path(journal).write_text(json.dumps({"pid": pid}))
        assert holder(journal) is None
    lock_path(journal).write_text("not json")
    assert holder(journal) is None
    lock_path(journal).write_text(json.dumps({"pid": os.getppid()}))
    found = holder(journal)
    assert found is not None
    assert found.pid == os.getppid()
