"""The run journal: an append-only JSON Lines file per run, enough to resume or retry it.

Records, one per line, in order:

* ``start``: run ID, time, version, the command (the API key never), API URL, send options,
  the shared patch if there is one.
* ``ids`` / ``updates``: the plan, in chunks: contact IDs (with a shared patch) or whole
  ``{contactId, data}`` updates (per-contact data).
* ``before``: the values the plan's fields held just before sending, read from Dex, in chunks
  of ``{contactId, data}`` (only the fields the plan changes; what an undo needs).
* ``batch``: one per settled batch: which contacts Dex confirmed, which failed and why.
  Written and fsync'd before the batch counts as done, so a crash loses at most the batches
  that were in flight, and those are resent by ``resume`` (a PUT may safely be sent twice).
* ``resume``: a later ``dexbulk resume`` or ``retry`` continuing this run in the same file.
* ``end``: the final state and counts of one invocation.

A torn last line (the process was killed mid-write) is ignored when reading.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from dexbulk import __version__
from dexbulk.batches import BatchReport, ContactResult, ContactState
from dexbulk.errors import InvalidInput
from dexbulk.plan import Plan, Update

_CHUNK = 1000


def default_runs_dir(environ: Mapping[str, str]) -> Path:
    """``$DEXBULK_STATE_DIR/runs`` or the platform's user state dir."""
    if environ.get("DEXBULK_STATE_DIR"):
        return Path(environ["DEXBULK_STATE_DIR"]) / "runs"
    import platformdirs

    return Path(platformdirs.user_state_dir("dexbulk")) / "runs"


def new_run_id(now: datetime | None = None) -> str:
    """A sortable, readable ID: ``2026-11-26T18-03-50.123-1a2b``.

    Milliseconds keep runs started within the same second in order, so ``last`` is the last.
    """
    now = now or datetime.now(timezone.utc)
    return f"{now:%Y-%m-%dT%H-%M-%S}.{now.microsecond // 1000:03d}-{secrets.token_hex(2)}"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Journal:
    """Appends records to one run's file, each flushed and fsync'd."""

    def __init__(self, path: Path, run_id: str, handle: IO[bytes]) -> None:
        self.path = path
        self.run_id = run_id
        self._file = handle

    @classmethod
    def create(
        cls, runs_dir: Path, plan: Plan, *, argv: Sequence[str], api_url: str,
        options: Mapping[str, object],
    ) -> Journal:  # fmt: skip
        """Start a new run's journal and write its plan."""
        runs_dir.mkdir(parents=True, exist_ok=True)
        run_id = new_run_id()
        path = runs_dir / f"{run_id}.jsonl"
        journal = cls(path, run_id, path.open("xb"))
        journal._write({
            "type": "start", "run_id": run_id, "at": _now(), "version": __version__,
            "command": plan.command, "argv": list(argv), "api_url": api_url,
            "options": dict(options), "total": plan.total, "duplicates": plan.duplicates,
            "sources": list(plan.sources),
            "patch": dict(plan.patch) if plan.patch is not None else None,
        }, sync=False)  # fmt: skip
        for start in range(0, plan.total, _CHUNK):
            chunk = plan.updates[start : start + _CHUNK]
            record: dict[str, object]
            if plan.patch is not None:
                record = {"type": "ids", "ids": [u.contact_id for u in chunk]}
            else:
                record = {"type": "updates", "items": [u.to_api() for u in chunk]}
            journal._write(record, sync=False)
        journal._sync()
        return journal

    @classmethod
    def reopen(cls, path: Path, run_id: str) -> Journal:
        """Continue an existing run's journal (resume, retry)."""
        _trim_torn_line(path)
        return cls(path, run_id, path.open("ab"))

    def record_batch(self, report: BatchReport) -> None:
        """Write one settled batch; returns only once it is on disk."""
        failed = [
            [r.contact_id, r.status, r.error, r.attempts, r.state.value]
            for r in report.results
            if not r.ok
        ]
        self._write({
            "type": "batch", "at": _now(),
            "ok": [r.contact_id for r in report.results if r.ok],
            "failed": failed, "requests": report.requests, "retries": report.retries,
            "updated": report.updated,
        })  # fmt: skip

    def record_before(self, items: Sequence[Mapping[str, object]]) -> None:
        """Write the prior values of the plan's contacts (``{contactId, data}``) before sending."""
        for start in range(0, len(items), _CHUNK):
            chunk = list(items[start : start + _CHUNK])
            self._write({"type": "before", "items": chunk}, sync=False)
        self._sync()

    def record_resume(self, mode: str, argv: Sequence[str]) -> None:
        """Mark that a later invocation continues this run."""
        self._write({"type": "resume", "at": _now(), "mode": mode, "argv": list(argv)})

    def finish(self, state: str, summary: Mapping[str, object]) -> None:
        """Write the end of this invocation and close the file."""
        self._write({"type": "end", "at": _now(), "state": state, "summary": dict(summary)})
        self._file.close()

    def close(self) -> None:
        """Close without an end record (the run will read as interrupted)."""
        self._file.close()

    def _write(self, record: Mapping[str, object], *, sync: bool = True) -> None:
        line = json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n"
        self._file.write(line.encode("utf-8"))
        if sync:
            self._sync()

    def _sync(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())


def _trim_torn_line(path: Path) -> None:
    """Cut a half-written last line, so appended records start on a line of their own."""
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with path.open("r+b") as handle:
            handle.truncate(data.rfind(b"\n") + 1)


@dataclass
class RunState:
    """A run as reconstructed from its journal."""

    run_id: str
    path: Path
    start: dict[str, Any]
    updates: list[Update]
    confirmed: set[str] = field(default_factory=set)
    failed: dict[str, ContactResult] = field(default_factory=dict)
    state: str = "crashed"
    ends: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    retries: int = 0
    before: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Each contact's values just before the run, as read from Dex (empty with --no-read)."""

    @property
    def pending(self) -> list[Update]:
        """Contacts not confirmed updated: never sent, in flight when it stopped, or failed."""
        return [u for u in self.updates if u.contact_id not in self.confirmed]

    @property
    def failed_updates(self) -> list[Update]:
        """Only the contacts whose last outcome was a failure."""
        return [u for u in self.updates if u.contact_id in self.failed]

    def summary(self) -> dict[str, object]:
        """Counts for ``dexbulk runs``."""
        return {
            "runId": self.run_id, "at": self.start.get("at"), "command": self.start.get("command"),
            "total": len(self.updates), "updated": len(self.confirmed),
            "failed": len(self.failed),
            "notSent": len(self.updates) - len(self.confirmed) - len(self.failed),
            "state": self.state, "apiUrl": self.start.get("api_url"),
        }  # fmt: skip


def _records(path: Path) -> Iterator[dict[str, Any]]:
    with path.open("rb") as handle:
        for raw in handle:
            if not raw.endswith(b"\n"):
                return  # torn by a crash mid-write; the batch it described is resent
            yield json.loads(raw)


def load_run(runs_dir: Path, run_ref: str) -> RunState:
    """Read a run back from its journal; ``run_ref`` is an ID, a unique prefix, or ``last``."""
    path = find_run(runs_dir, run_ref)
    records = _records(path)
    start = next(records, None)
    if start is None or start.get("type") != "start":
        raise InvalidInput(f"{path}: not a dexbulk run journal")
    patch = start.get("patch")
    run = RunState(path.stem, path, start, [])
    for record in records:
        kind = record.get("type")
        if kind == "ids":
            run.updates.extend(Update(cid, patch or {}) for cid in record["ids"])
        elif kind == "updates":
            run.updates.extend(Update(i["contactId"], i["data"]) for i in record["items"])
        elif kind == "before":
            run.before.update((i["contactId"], i["data"]) for i in record["items"])
        elif kind == "batch":
            for cid in record["ok"]:
                run.confirmed.add(cid)
                run.failed.pop(cid, None)
            for cid, status, error, attempts, *rest in record["failed"]:
                if cid not in run.confirmed:
                    # Journals written before outcomes were recorded hold four items.
                    state = ContactState(rest[0]) if rest else ContactState.FAILED
                    run.failed[cid] = ContactResult(cid, state, status, error, attempts)
            run.requests += record.get("requests", 0)
            run.retries += record.get("retries", 0)
        elif kind == "resume":
            run.state = "crashed"
        elif kind == "end":
            run.state = record.get("state", "completed")
            run.ends.append(record)
    return run


def find_run(runs_dir: Path, run_ref: str) -> Path:
    """The journal file for a run ID, a unique prefix of one, or ``last``."""
    paths = sorted(runs_dir.glob("*.jsonl")) if runs_dir.is_dir() else []
    if run_ref == "last":
        if not paths:
            raise InvalidInput(f"no runs yet in {runs_dir}")
        return paths[-1]
    matches = [p for p in paths if p.stem.startswith(run_ref)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise InvalidInput(
            f"no run {run_ref!r} in {runs_dir}", hint="list runs with 'dexbulk runs'"
        )
    names = ", ".join(p.stem for p in matches[:5])
    raise InvalidInput(f"run {run_ref!r} is ambiguous: {names}")


def list_runs(runs_dir: Path, limit: int = 20) -> list[RunState]:
    """The most recent runs, newest first."""
    paths = sorted(runs_dir.glob("*.jsonl"), reverse=True)[:limit] if runs_dir.is_dir() else []
    return [load_run(runs_dir, p.stem) for p in paths]
