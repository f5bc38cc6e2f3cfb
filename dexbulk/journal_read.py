"""Reading run journals back: find a run, rebuild its state, and prove its plan is whole.

A journal is read defensively: it may have been cut by a crash, a full disk, or a person. A
torn last line is ignored (the batch it described is resent). A line that is not a record of
ours makes the whole file unreadable: one :class:`~dexbulk.errors.InvalidInput` naming the file
and the line, never a traceback. A journal whose plan cannot be proven whole reads back with a
``problem`` and the state ``incomplete``, and nothing may resume or retry it: resuming a plan
that lost part of its contacts would report a run "completed" that silently dropped them.

The plan is whole when its ``seal`` record is there and matches it (count and SHA-256 of the
plan's lines, :mod:`dexbulk.journal`). Journals of older versions have no seal: theirs is whole
when it holds as many contacts as their ``start`` record's ``total``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

from dexbulk.batches import ContactResult, ContactState
from dexbulk.configfile import show_path
from dexbulk.errors import InvalidInput
from dexbulk.plan import CHANNELS, MEMBERSHIP, Plan, Update
from dexbulk.runlock import holder

FORMAT = 3
"""Journals since the plan is sealed (none in older ones); since 3 the seal covers the start."""

SEALED_START = ("patch", "channel", "labels", "undo_of", "api_url")
"""The start record's fields that decide what is sent, and where: a hand-edited one breaks the
seal (an edited URL would get the key when resumed)."""


def sealed_start(start: dict[str, Any]) -> bytes:
    """The bytes of the start record the seal covers (format 3 and later)."""
    fields = {key: start.get(key) for key in SEALED_START}
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode("utf-8")


INCOMPLETE = "incomplete"
RUNNING = "running"


@dataclass
class RunState:
    """A run as reconstructed from its journal."""

    run_id: str
    path: Path
    start: dict[str, Any]
    updates: list[Update]
    confirmed: set[str] = field(default_factory=set)
    failed: dict[str, ContactResult] = field(default_factory=dict)
    """The last outcome of every contact that has not ended updated, whoever decided it."""
    state: str = "crashed"
    ends: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    retries: int = 0
    invocations: int = 1
    """The run and each resume or retry of it (each writes one ``end`` unless it was killed)."""
    problem: str | None = None
    """Why the plan cannot be trusted whole, when it cannot: the run is then ``incomplete``."""
    before: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Each contact's values just before the run, as read from Dex (empty with --no-read)."""
    unknown: dict[str, list[str]] = field(default_factory=dict)
    """Per contact, the fields the run changed whose prior value Dex did not give."""
    before_line: dict[str, int] = field(default_factory=dict)  # its before record's, for messages

    @property
    def channel(self) -> str:
        """How the run sent its updates: ``contacts`` or ``membership`` (older: contacts)."""
        channel = self.start.get("channel")
        return channel if isinstance(channel, str) else "contacts"

    @property
    def undo_of(self) -> str | None:
        """The run this run took back, when it was an undo."""
        value = self.start.get("undo_of")
        return value if isinstance(value, str) else None

    @property
    def read_before(self) -> bool:
        """Whether the run read current values before sending (and so kept prior values).

        Journals older than the ``read`` mark read them when they hold ``before`` records."""
        read = self.start.get("read")
        return bool(self.before) if read is None else read is True

    def plan(self, updates: list[Update] | None = None) -> Plan:
        """The run's plan again (or ``updates`` of it), sent the way it was: channel and all."""
        patch = self.start.get("patch")
        return Plan(
            self.updates if updates is None else updates, str(self.start.get("command")),
            patch=patch, channel=self.channel, undo_of=self.undo_of, labels=self.labels,
        )  # fmt: skip

    @property
    def labels(self) -> dict[str, str]:
        """Names of the tags and groups a membership run changed, by key (``tag:<uuid>``)."""
        labels = self.start.get("labels")
        if not isinstance(labels, dict):
            return {}
        return {str(k): str(v) for k, v in labels.items()}

    @property
    def pending(self) -> list[Update]:
        """Contacts not confirmed updated: never sent, in flight when it stopped, or failed."""
        return [u for u in self.updates if u.contact_id not in self.confirmed]

    @property
    def failed_updates(self) -> list[Update]:
        """Only the contacts whose last outcome was a failure."""
        return [u for u in self.updates if u.contact_id in self.failed]

    def summary(self) -> dict[str, object]:
        """Counts for ``dexbulk runs``: total = updated + failed + notSent, always.

        The total is what was planned, even when the journal lost part of the plan.
        """
        total = max(len(self.updates), self.start.get("total") or 0)
        return {
            "runId": self.run_id, "at": self.start.get("at"), "command": self.start.get("command"),
            "total": total, "updated": len(self.confirmed), "failed": len(self.failed),
            "notSent": total - len(self.confirmed) - len(self.failed),
            "state": self.state, "apiUrl": self.start.get("api_url"), "problem": self.problem,
        }  # fmt: skip

    def check_resumable(self) -> None:
        """Raise :class:`InvalidInput` (one line: the file and what is wrong) if incomplete."""
        if self.problem is not None:
            raise InvalidInput(
                f"run {self.run_id} cannot be resumed: its journal {show_path(self.path)} "
                f"is incomplete: {self.problem}"
            )


class _Bad(Exception):
    """A line that is not a record of ours (turned into one InvalidInput with file:line)."""


class _Reader:
    """Rebuilds a :class:`RunState` one line at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.run: RunState | None = None
        self.digest = hashlib.sha256()
        self.sealed = False
        self.problems: list[str] = []
        self.plan_ids: set[str] | None = None

    def feed(self, number: int, raw: bytes) -> None:
        try:
            record = json.loads(raw)
        except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError, too deep
            raise _Bad(f"line {number}: not a JSON record") from None
        if not isinstance(record, dict):
            raise _Bad(f"line {number}: not a JSON record")
        kind = record.get("type")
        try:
            if self.run is None:
                self._start(record)
            elif kind in ("ids", "updates"):
                self._plan(number, kind, record, raw)
            elif kind == "seal":
                self._seal(number, record)
            elif kind in ("batch", "resume", "end"):
                self._after_plan(number, str(kind), record)
            elif kind == "before":
                self._before(number, record["items"])
            # Other types are from a later version: nothing to settle.
        except (KeyError, TypeError, ValueError, AttributeError, IndexError):
            raise _Bad(f"line {number}: a malformed {kind!r} record") from None

    def _before(self, number: int, items: list[Any]) -> None:
        run = self._run()
        for item in items:
            cid, data = _text(item["contactId"]), item["data"]
            if not isinstance(data, dict):
                raise TypeError
            run.before[cid], run.before_line[cid] = data, number
            if unknown := [_text(name) for name in item.get("unknown", [])]:
                run.unknown[cid] = unknown

    def _start(self, record: dict[str, Any]) -> None:
        if record.get("type") != "start":
            raise _Bad("not a dexbulk run journal (no start record)")
        total = record["total"]
        patch = record.get("patch")
        if not _is_int(total) or total < 0 or not isinstance(patch, (dict, type(None))):
            raise TypeError
        if not isinstance(record.get("argv", []), list):
            raise TypeError
        if record.get("channel", "contacts") not in CHANNELS:
            raise _Bad(f"line 1: channel {record.get('channel')!r} is not one this version knows")
        self.run = RunState(self.path.stem, self.path, record, [])
        version = record.get("format")
        if isinstance(version, int) and not isinstance(version, bool) and version >= 3:
            self.digest.update(sealed_start(record))

    def _plan(self, number: int, kind: str, record: dict[str, Any], raw: bytes) -> None:
        run = self._run()
        if self.sealed or self.plan_ids is not None:
            self.problems.append(f"line {number}: part of a plan after the plan had ended")
        self.digest.update(raw)
        membership = run.channel == MEMBERSHIP
        if kind == "ids":
            patch = run.start.get("patch") or {}
            if membership:
                _check_membership(patch)
            run.updates.extend(Update(_text(cid), patch) for cid in record["ids"])
        else:
            for item in record["items"]:
                if not isinstance(item["data"], dict):
                    raise TypeError
                if membership:
                    _check_membership(item["data"])
                run.updates.append(Update(_text(item["contactId"]), item["data"]))

    def _seal(self, number: int, record: dict[str, Any]) -> None:
        run = self._run()
        count, checksum = record["count"], record["sha256"]
        if not _is_int(count) or not isinstance(checksum, str):
            raise TypeError
        total = run.start["total"]
        if self.sealed:
            self.problems.append(f"line {number}: a second seal")
        elif count != total or len(run.updates) != count:
            self.problems.append(
                f"the plan holds {len(run.updates):,} contacts, its seal says {count:,} "
                f"and its start {total:,}"
            )
        elif checksum != self.digest.hexdigest():
            self.problems.append("the plan's contacts do not match its seal (checksum)")
        self.sealed = True

    def _after_plan(self, number: int, kind: str, record: dict[str, Any]) -> None:
        run = self._run()
        if self.plan_ids is None:
            if not self.sealed and run.start.get("format") is not None:
                self.problems.append(f"line {number}: a {kind} record before the plan was sealed")
            self.plan_ids = {u.contact_id for u in run.updates}
        if kind == "batch":
            self._batch(number, record, run, self.plan_ids)
        elif kind == "resume":
            run.state = "crashed"
            run.invocations += 1
        else:
            state = record.get("state", "completed")
            run.state = state if isinstance(state, str) else "completed"
            run.ends.append(record)

    def _batch(
        self, number: int, record: dict[str, Any], run: RunState, plan_ids: set[str]
    ) -> None:
        ok = [_text(cid) for cid in record["ok"]]
        failed = [_failure(item) for item in record["failed"]]
        strangers = [cid for cid in [*ok, *(r.contact_id for r in failed)] if cid not in plan_ids]
        if strangers:
            self.problems.append(f"line {number}: contact {strangers[0]} is not in the plan")
        for cid in ok:
            run.confirmed.add(cid)
            run.failed.pop(cid, None)
        for result in failed:
            if result.contact_id not in run.confirmed:
                run.failed[result.contact_id] = result
        run.requests += int(record.get("requests", 0))
        run.retries += int(record.get("retries", 0))

    def _run(self) -> RunState:
        assert self.run is not None
        return self.run

    def finish(self) -> RunState:
        if self.run is None:
            raise _Bad("empty: its run stopped before writing anything, and sent nothing")
        run = self.run
        held, total = len(run.updates), run.start["total"]
        if run.start.get("format") is None:
            if held != total:
                self.problems.append(
                    f"the plan holds {held:,} of {total:,} contacts (an older journal, unsealed)"
                )
        elif not self.sealed:
            self.problems.append(
                f"the plan holds {held:,} of {total:,} contacts and was never sealed"
                if held != total
                else "the plan was never sealed"
            )
        if self.problems:
            run.problem = self.problems[0]
            run.state = INCOMPLETE
        return run


def _check_membership(data: dict[str, Any]) -> None:
    """A membership data object, or TypeError: a hand edit must not send what nobody planned."""
    from dexbulk.membership import check_data

    try:
        check_data(data)
    except InvalidInput:
        raise TypeError from None


def _failure(item: list[Any]) -> ContactResult:
    """``[id, status, error, attempts, state]``; journals older than outcomes lack the state."""
    cid, status, error, attempts, *rest = item
    state = ContactState(rest[0]) if rest else ContactState.FAILED
    message = None if error is None else str(error)
    return ContactResult(_text(cid), state, _optional_int(status), message, int(attempts))


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError
    return value


def _optional_int(value: object) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise TypeError


def read_run(path: Path) -> RunState:
    """Rebuild the run a journal file holds; :class:`InvalidInput` if it is not readable."""
    reader = _Reader(path)
    try:
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, 1):
                if not raw.endswith(b"\n"):
                    break  # torn by a crash mid-write; the batch it described is resent
                if raw.strip():
                    reader.feed(number, raw)
        run = reader.finish()
    except _Bad as exc:
        raise InvalidInput(f"journal {show_path(path)}: {exc}") from None
    except OSError as exc:
        raise InvalidInput(f"journal {show_path(path)}: cannot read ({exc.strerror})") from None
    if run.state in ("crashed", INCOMPLETE) and holder(path) is not None:
        # No end (or no seal) yet because it has not ended: its process holds the lock.
        run.state = RUNNING
    return run


def load_run(runs_dir: Path, run_ref: str) -> RunState:
    """Read a run back from its journal; ``run_ref`` is an ID, a unique prefix, or ``last``."""
    return read_run(find_run(runs_dir, run_ref))


def _journals(runs_dir: Path) -> list[Path]:
    """Every journal, oldest first (run IDs sort by start time)."""
    return sorted(runs_dir.glob("*.jsonl")) if runs_dir.is_dir() else []


def find_run(runs_dir: Path, run_ref: str) -> Path:
    """The journal file for a run ID, a unique prefix or ending of one, or ``last``."""
    paths = _journals(runs_dir)
    where = show_path(runs_dir)
    if run_ref == "last":
        if not paths:
            raise InvalidInput(f"no runs yet in {where}")
        return paths[-1]
    if not run_ref.strip():
        raise InvalidInput("no run ID given", hint="list runs with 'dexbulk runs'")
    matches = [p for p in paths if p.stem == run_ref]
    matches = matches or [p for p in paths if p.stem.startswith(run_ref)]
    # An ending of 1 or 2 characters would name a run by chance ('runs rm 1').
    matches = matches or [p for p in paths if len(run_ref) > 2 and p.stem.endswith(run_ref)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise InvalidInput(f"no run {run_ref!r} in {where}", hint="list runs with 'dexbulk runs'")
    names = ", ".join(p.stem for p in matches[:5])
    raise InvalidInput(f"run {run_ref!r} is ambiguous: {names}")


def list_runs(
    runs_dir: Path, limit: int = 20, *, problems: list[str] | None = None
) -> list[RunState]:
    """The most recent readable runs, newest first. An unreadable journal never hides the
    others: it is skipped, and its error message is appended to ``problems`` when given."""
    runs: list[RunState] = []
    for path in reversed(_journals(runs_dir)):
        if len(runs) >= limit:
            break
        try:
            runs.append(read_run(path))
        except InvalidInput as exc:
            if problems is not None:
                problems.append(exc.message)
    return runs
