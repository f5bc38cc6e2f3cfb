"""One process at a time per run: a lock file beside the run's journal, holding the owner's PID.

Two ``dexbulk resume`` of the same run at once would each read the same pending contacts and
send all of them twice, so whoever writes to a run's journal holds ``RUN_ID.lock`` first. On
POSIX the lock is an ``flock`` on that file: the kernel drops it when its process dies however
it dies, so a stale lock (``kill -9``, a crash) is simply taken over by the next process. Where
``fcntl`` does not exist the file is created with ``O_EXCL`` and a lock whose PID is no longer
alive is taken over. Either way the PID in the file is what a refused process names.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from dexbulk.errors import DexbulkError, ExitCode

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: O_EXCL and a PID check instead
    fcntl = None  # type: ignore[assignment]


_UNWRITTEN_GRACE = 10.0
"""Seconds an ``O_EXCL`` lock file without a PID yet is taken as being written, not stale."""


class RunInUse(DexbulkError):
    """Another process is sending this run (a second ``resume`` would send it twice)."""

    exit_code = ExitCode.USAGE


@dataclass(frozen=True)
class Holder:
    """Who holds a run's lock, as written in the lock file."""

    pid: int
    since: str
    """UTC time the lock was taken, ``HH:MM:SS``."""


def lock_path(journal: Path) -> Path:
    """``RUN_ID.lock`` beside ``RUN_ID.jsonl``."""
    return journal.with_suffix(".lock")


class RunLock:
    """A held lock on one run; :meth:`release` (or leaving the ``with``) gives it up."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, journal: Path, run_id: str) -> RunLock:
        """Take the lock of the run whose journal is ``journal``, or raise :class:`RunInUse`."""
        path = lock_path(journal)
        fd = _take_flock(path, run_id) if fcntl is not None else _take_exclusive(path, run_id)
        record = {"pid": os.getpid(), "since": datetime.now(timezone.utc).strftime("%H:%M:%S")}
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, json.dumps(record).encode())
        return cls(path, fd)

    def release(self) -> None:
        """Remove the lock file and let go; safe to call twice."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        # Unlinked while still held, so nobody can lock the old file after we let go of it
        # (an acquirer checks that the file it locked is still the one at the path).
        with contextlib.suppress(OSError):
            self.path.unlink()
        os.close(fd)

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


def holder(journal: Path) -> Holder | None:
    """The live process holding a run's lock, if any (for ``dexbulk runs``: "running").

    Read from the file without locking it, so looking never gets in the way of a resume.
    """
    found = _read_holder(lock_path(journal))
    if found is None or found.pid == os.getpid() or not _alive(found.pid):
        return None
    return found


def _take_flock(path: Path, run_id: str) -> int:
    assert fcntl is not None
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise _in_use(run_id, _read_holder(path)) from None
        except BaseException:
            os.close(fd)
            raise
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # its holder released it (and unlinked it) while we waited: try again


def _take_exclusive(path: Path, run_id: str) -> int:
    for _ in range(3):
        try:
            return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            found = _read_holder(path)
            if found is None and _age(path) < _UNWRITTEN_GRACE:
                raise _in_use(run_id, None) from None  # its owner is writing its PID now
            if found is not None and _alive(found.pid):
                raise _in_use(run_id, found) from None
            with contextlib.suppress(FileNotFoundError):
                path.unlink()  # stale: its process is gone
    raise _in_use(run_id, _read_holder(path))


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return _UNWRITTEN_GRACE


def _in_use(run_id: str, found: Holder | None) -> RunInUse:
    who = f"process {found.pid} (since {found.since} UTC)" if found else "another process"
    return RunInUse(f"run {run_id} is in use by {who}: wait for it to finish, then try again")


def _read_holder(path: Path) -> Holder | None:
    try:
        record = json.loads(path.read_bytes())
        return Holder(int(record["pid"]), str(record.get("since", "?")))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    except OSError:
        return False
    return True
