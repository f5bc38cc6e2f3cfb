"""The run journal: an append-only JSON Lines file per run, enough to resume or retry it.

Records, one per line, in order:

* ``start``: run ID, time, version, journal ``format``, the command (the API key never), API
  URL, send options, the plan's ``total``, the shared patch if there is one, the ``channel``
  (field updates or membership), whether current values were ``read`` first (an undo needs
  them), and ``undo_of``, the run an undo takes back.
* ``ids`` / ``updates``: the plan, in chunks: contact IDs (with a shared patch) or whole
  ``{contactId, data}`` updates (per-contact data).
* ``seal``: the plan is whole: how many contacts it holds and the SHA-256 of its lines. Written
  (and fsync'd) before anything is sent; a journal without it, or whose plan does not match it,
  is ``incomplete`` and never resumed (:mod:`dexbulk.journal_read`), so a run killed while its
  plan was being written can never be finished with part of its contacts silently dropped.
* ``before``: the values the plan's fields held just before sending, read from Dex, in chunks
  of ``{contactId, data}``, one per contact sent (only the fields its update sends; what an
  undo needs), naming in ``unknown`` those Dex did not return.
* ``batch``: one per settled batch, and one for the contacts ``--check-ids`` found missing:
  which contacts Dex confirmed, which did not end updated and why. Written and fsync'd before
  the batch counts as done, so a crash loses at most the batches that were in flight, and
  those are resent by ``resume`` (a PUT may safely be sent twice).
* ``resume``: a later ``dexbulk resume`` or ``retry`` continuing this run in the same file.
* ``end``: the final state and counts of one invocation.

A torn last line (the process was killed mid-write) is ignored when reading. Journals are
created 0600 in a 0700 directory: they hold contact data. Whoever writes to a run holds its
lock (:mod:`dexbulk.runlock`) for as long as it does.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dexbulk import __version__
from dexbulk.batches import BatchReport
from dexbulk.configfile import show_path
from dexbulk.errors import DexbulkError, ExitCode
from dexbulk.journal_read import (
    FORMAT,
    RunState,
    find_run,
    list_runs,
    load_run,
    read_run,
    sealed_start,
)
from dexbulk.plan import Plan
from dexbulk.runlock import RunInUse, RunLock

__all__ = [
    "Journal", "JournalError", "RunState", "default_runs_dir", "find_run", "list_runs",
    "load_run", "new_run_id", "printable", "private_dir", "read_run", "safe_argv",
]  # fmt: skip

_CHUNK = 1000
_BASE32 = "0123456789abcdefghjkmnpqrstvwxyz"
"""Crockford's base 32 in lower case: its characters sort in ASCII order, so IDs sort too."""


class JournalError(DexbulkError):
    """The run's journal could not be written: sending stops, since nothing new is recorded."""

    exit_code = ExitCode.UNREACHABLE


def default_runs_dir(environ: Mapping[str, str]) -> Path:
    """``$DEXBULK_STATE_DIR/runs`` or the platform's user state dir."""
    if environ.get("DEXBULK_STATE_DIR"):
        return Path(environ["DEXBULK_STATE_DIR"]) / "runs"
    import platformdirs

    return Path(platformdirs.user_state_dir("dexbulk")) / "runs"


def private_dir(runs_dir: Path) -> None:
    """Create the state dir and ``runs_dir`` 0700; tighten ``runs_dir`` if it is looser."""
    runs_dir.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    runs_dir.mkdir(mode=0o700, exist_ok=True)
    if runs_dir.stat().st_mode & 0o077:
        runs_dir.chmod(0o700)


def new_run_id(now: datetime | None = None) -> str:
    """A short ID that sorts by start time: ``20261126-180350-k3xq`` (UTC).

    Of the last four characters, two count the millisecond, so runs started within the same
    second still sort in order and ``last`` is the last; two are random, so runs started within
    the same millisecond differ (and creating the journal with ``O_EXCL`` catches the rest).
    These IDs sort after the older ``2026-11-26T18-03-50.123-1a2b`` form of the same year.
    """
    now = now or datetime.now(timezone.utc)
    ms = now.microsecond // 1000
    tag = _BASE32[ms // 32] + _BASE32[ms % 32] + "".join(secrets.choice(_BASE32) for _ in "ab")
    return f"{now:%Y%m%d-%H%M%S}-{tag}"


def printable(value: Any) -> Any:
    """``value`` with every string made encodable: what a journal shows, it can always print.

    Bytes that were not UTF-8 on the command line arrive as lone surrogates
    (``$'company=\\xff'`` → ``\\udcff``), which no UTF-8 stream can take; they are kept
    visibly as ``\\xff``. Lists and objects are walked; other values are returned as they are.
    """
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    if isinstance(value, list):
        return [printable(item) for item in value]
    if isinstance(value, dict):
        return {printable(key): printable(item) for key, item in value.items()}
    return value


def safe_argv(argv: Sequence[str]) -> list[str]:
    """The command line as text that can always be written and shown (see :func:`printable`)."""
    return [printable(arg) for arg in argv]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _line(record: Mapping[str, object]) -> bytes:
    text = json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n"
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate in a value: JSON's \udcxx escape carries it, and reads it back.
        return (json.dumps(record, separators=(",", ":")) + "\n").encode("ascii")


class Journal:
    """Appends records to one run's file, each written whole and fsync'd.

    After a failed write nothing more is written (a half-written line followed by more lines
    would break the file); every later write raises :class:`JournalError` at once.
    """

    def __init__(self, path: Path, run_id: str, fd: int, lock: RunLock | None = None) -> None:
        self.path = path
        self.run_id = run_id
        self._fd: int | None = fd
        self._lock = lock
        self._broken: JournalError | None = None
        self._start_record: dict[str, object] = {}

    @classmethod
    def create(
        cls, runs_dir: Path, plan: Plan, *, argv: Sequence[str], api_url: str,
        options: Mapping[str, object], read: bool = False,
    ) -> Journal:  # fmt: skip
        """Start a new run: take its lock, write its plan, seal it. Nothing is sent before.

        ``read`` says the run read current values first: its ``before`` records follow, and
        it can be undone (:mod:`dexbulk.undo`).

        Raises :class:`JournalError` (nothing sent) when the journal cannot be written.
        """
        try:
            private_dir(runs_dir)
            journal = cls._new_file(runs_dir)
        except OSError as exc:
            raise _cannot(runs_dir, exc, "nothing was sent") from None
        try:
            journal._write_plan(plan, argv, api_url, options, read)
        except JournalError as exc:
            journal.close()
            with contextlib.suppress(OSError):
                journal.path.unlink()  # a plan that was never whole: nothing was sent from it
            raise JournalError(f"{exc.message}; nothing was sent") from None
        return journal

    @classmethod
    def _new_file(cls, runs_dir: Path) -> Journal:
        for _ in range(10):
            run_id = new_run_id()
            path = runs_dir / f"{run_id}.jsonl"
            try:
                lock = RunLock.acquire(path, run_id)
            except RunInUse:
                continue
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
            except FileExistsError:
                lock.release()
                continue
            except BaseException:
                lock.release()
                raise
            return cls(path, run_id, fd, lock)
        raise FileExistsError(f"no free run ID in {runs_dir}")  # pragma: no cover

    def _write_plan(
        self, plan: Plan, argv: Sequence[str], api_url: str, options: Mapping[str, object],
        read: bool,
    ) -> None:  # fmt: skip
        self._start_record = {
            "type": "start", "run_id": self.run_id, "at": _now(), "version": __version__,
            "format": FORMAT, "command": printable(plan.command), "argv": safe_argv(argv),
            "api_url": api_url, "options": dict(options), "total": plan.total,
            "duplicates": plan.duplicates, "sources": list(plan.sources),
            "patch": dict(plan.patch) if plan.patch is not None else None,
            "channel": plan.channel, "read": read, "undo_of": plan.undo_of,
            "labels": dict(plan.labels),
        }  # fmt: skip
        self._write(self._start_record, sync=False)
        digest = hashlib.sha256(sealed_start(self._start_record))
        for start in range(0, plan.total, _CHUNK):
            chunk = plan.updates[start : start + _CHUNK]
            record: dict[str, object]
            if plan.patch is not None:
                record = {"type": "ids", "ids": [u.contact_id for u in chunk]}
            else:
                record = {"type": "updates", "items": [u.to_api() for u in chunk]}
            digest.update(self._write(record, sync=False))
        self._write({"type": "seal", "count": plan.total, "sha256": digest.hexdigest()})
        _sync_dir(self.path.parent)

    @classmethod
    def reopen(cls, path: Path, run_id: str) -> Journal:
        """Continue an existing run's journal (resume, retry); the caller holds its lock."""
        try:
            _trim_torn_line(path)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        except OSError as exc:
            raise _cannot(path, exc, "nothing was sent") from None
        return cls(path, run_id, fd)

    def record_batch(self, report: BatchReport, *, by: str | None = None) -> None:
        """Write one settled batch; returns only once it is on disk.

        ``by`` names who settled it when it was not a request (``check-ids``).
        """
        failed = [
            [r.contact_id, r.status, r.error, r.attempts, r.state.value]
            for r in report.results
            if not r.ok
        ]
        record: dict[str, object] = {
            "type": "batch", "at": _now(),
            "ok": [r.contact_id for r in report.results if r.ok],
            "failed": failed, "requests": report.requests, "retries": report.retries,
            "updated": report.updated,
        }  # fmt: skip
        if by is not None:
            record["by"] = by
        self._write(record)

    def record_before(self, items: Sequence[Mapping[str, object]]) -> None:
        """Write the prior values of the plan's contacts (``{contactId, data}``) before sending."""
        chunks = [list(items[i : i + _CHUNK]) for i in range(0, len(items), _CHUNK)]
        for number, chunk in enumerate(chunks, 1):
            # On disk (fsync'd with the last chunk) before the first contact is sent.
            self._write({"type": "before", "items": chunk}, sync=number == len(chunks))

    def record_resume(self, mode: str, argv: Sequence[str]) -> None:
        """Mark that a later invocation continues this run."""
        self._write({"type": "resume", "at": _now(), "mode": mode, "argv": safe_argv(argv)})

    def finish(self, state: str, summary: Mapping[str, object]) -> None:
        """Write the end of this invocation, close the file and let go of the run."""
        try:
            self._write({"type": "end", "at": _now(), "state": state, "summary": dict(summary)})
        finally:
            self.close()

    def close(self) -> None:
        """Close without an end record (the run will read as interrupted); safe to repeat."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)
        if self._lock is not None:
            self._lock.release()

    def _write(self, record: Mapping[str, object], *, sync: bool = True) -> bytes:
        if self._broken is not None:
            raise self._broken
        if self._fd is None:
            raise JournalError(f"{show_path(self.path)}: the journal is closed")
        line = _line(record)
        try:
            view = memoryview(line)
            while view:
                view = view[os.write(self._fd, view) :]
            if sync:
                os.fsync(self._fd)
        except OSError as exc:
            self._broken = _cannot(self.path, exc)
            raise self._broken from None
        return line


def _cannot(path: Path, exc: OSError, then: str = "") -> JournalError:
    reason = exc.strerror or str(exc)
    return JournalError(
        f"cannot write the run journal {show_path(path)}: {reason}" + (f"; {then}" if then else "")
    )


def _sync_dir(directory: Path) -> None:
    """Make the new file's name durable too (best effort: not every platform can)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _trim_torn_line(path: Path) -> None:
    """Cut a half-written last line, so appended records start on a line of their own.

    Reads backwards from the end, a block at a time: a journal may hold a million contacts.
    """
    with path.open("r+b") as handle:
        end = handle.seek(0, os.SEEK_END)
        position = end
        while position > 0:
            block = min(65536, position)
            handle.seek(position - block)
            data = handle.read(block)
            if position == end and data.endswith(b"\n"):
                return
            newline = data.rfind(b"\n")
            if newline >= 0:
                handle.truncate(position - block + newline + 1)
                return
            position -= block
        handle.truncate(0)
