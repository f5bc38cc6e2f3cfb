"""One bulk run: :func:`send` is the library's front door. Never prints, never exits.

>>> import dexbulk
>>> plan = dexbulk.Plan.for_ids(ids, dexbulk.Patch.parse(["company=Acme"]))  # doctest: +SKIP
>>> result = dexbulk.send(plan, api_key="dex_...")  # doctest: +SKIP
>>> result.exit_code, len(result.failed)  # doctest: +SKIP

:func:`execute` is the engine under it: batches (:mod:`dexbulk.batches`), workers, the journal,
and the settling of every contact, against anything that can ``put_contacts``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Protocol

from dexbulk.answers import Outcome
from dexbulk.batches import (
    NOT_FOUND,
    BatchReport,
    BatchSizer,
    ContactResult,
    ContactState,
    chunks,
    process_batch,
    send_all,
)
from dexbulk.errors import AuthRefused, ExitCode
from dexbulk.journal import Journal
from dexbulk.plan import Plan, Update

if TYPE_CHECKING:
    from dexbulk.dex import Dex
    from dexbulk.secret import ApiKey

NOT_SENT = "not sent: the run stopped before this contact's batch"
UNCHANGED = "not sent: Dex already holds these values"


class Sender(Protocol):
    """What a run needs from the API (:class:`~dexbulk.dex.Dex` in real use, fakes in tests)."""

    def put_contacts(self, updates: Sequence[Update]) -> Outcome: ...

    def existing_ids(self, ids: Sequence[str]) -> set[str] | None: ...


@dataclass(frozen=True)
class SendOptions:
    """How to send: batch size, workers, timeouts, retries, pacing."""

    batch_size: int = 100
    concurrency: int = 4
    timeout: float = 30.0
    max_attempts: int = 5
    rate: float | None = None
    check_ids: bool = False

    def to_json(self) -> dict[str, object]:
        """For the journal and ``--json``."""
        return asdict(self)


@dataclass
class RunResult:
    """What happened to every contact of a plan in one invocation."""

    run_id: str | None
    selected: int
    duplicates: int
    results: list[ContactResult]
    """One per contact of the plan, in input order (unsent ones say so)."""
    requests: int = 0
    retries: int = 0
    throttled: int = 0
    updated: int = 0
    """The sum of Dex's own ``count`` answers."""
    batches: int = 0
    elapsed: float = 0.0
    state: str = "completed"
    batch_size: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> list[ContactResult]:
        """Contacts confirmed updated."""
        return [r for r in self.results if r.ok]

    @property
    def failed(self) -> list[ContactResult]:
        """Contacts that were sent and not updated."""
        unsent = (ContactState.NOT_SENT, ContactState.UNCHANGED)
        return [r for r in self.results if not r.ok and r.state not in unsent]

    @property
    def not_sent(self) -> int:
        """Contacts never sent because the run stopped early."""
        return sum(1 for r in self.results if r.state is ContactState.NOT_SENT)

    @property
    def unchanged(self) -> int:
        """Contacts not sent because Dex already held the new values."""
        return sum(1 for r in self.results if r.state is ContactState.UNCHANGED)

    @property
    def sent(self) -> int:
        """Contacts whose batch reached an outcome."""
        return len(self.results) - self.not_sent - self.unchanged

    @property
    def exit_code(self) -> ExitCode:
        """0 all updated (or unchanged), 1 some failed, 4 none updated (and none already right),
        130 interrupted.

        After ``--stop-after`` (state ``stopped``) only the contacts it sent count.
        """
        if self.state == "interrupted":
            return ExitCode.INTERRUPTED
        settled = [r for r in self.results if r.state is not ContactState.UNCHANGED]
        if self.state == "stopped":
            settled = [r for r in settled if r.state is not ContactState.NOT_SENT]
        if all(r.ok for r in settled):
            return ExitCode.OK
        if not any(r.ok for r in settled) and not self.unchanged:
            return ExitCode.UNREACHABLE
        return ExitCode.SOME_FAILED

    def summary(self) -> dict[str, object]:
        """The figures shown in the summary table, the journal and ``--json``."""
        return {
            "runId": self.run_id, "state": self.state, "selected": self.selected,
            "duplicates": self.duplicates, "sent": self.sent, "updated": self.updated,
            "confirmed": len(self.ok), "failed": len(self.failed), "notSent": self.not_sent,
            "unchanged": self.unchanged,
            "batches": self.batches, "requests": self.requests, "retries": self.retries,
            "throttled": self.throttled, "batchSize": self.batch_size,
            "elapsed": round(self.elapsed, 3),
            "contactsPerSecond": round(len(self.ok) / self.elapsed, 1) if self.elapsed else None,
        }  # fmt: skip


def send(
    plan: Plan,
    dex: Dex | None = None,
    options: SendOptions | None = None,
    *,
    api_key: ApiKey | str | None = None,
    api_url: str | None = None,
    journal: Journal | None = None,
    progress: Callable[[int], None] | None = None,
    stop: threading.Event | None = None,
    unchanged: Sequence[str] = (),
    stop_after: int | None = None,
) -> RunResult:
    """Send every update of ``plan`` to Dex and return what became of each contact.

    Pass a :class:`~dexbulk.dex.Dex` client, or ``api_key`` (and optionally ``api_url``) and
    one is made for this run from ``options`` (timeouts, retries, pacing) and closed after.
    Raises :class:`~dexbulk.errors.AuthRefused` when Dex refuses the key; every other failure
    is recorded per contact in the result. ``unchanged`` names contacts left out of the plan
    because Dex already holds their values (see :mod:`dexbulk.preview`): they are reported as
    such. ``stop_after`` sends only the plan's first N contacts (a canary).
    """
    from dexbulk.dex import Dex
    from dexbulk.ratelimit import RateLimiter
    from dexbulk.settings import DEFAULT_API_URL

    options = options or SendOptions()
    own = dex is None
    if dex is None:
        if not api_key:
            raise ValueError("send() needs a Dex client or an api_key")
        dex = Dex(
            api_url or DEFAULT_API_URL, api_key, timeout=options.timeout,
            max_attempts=options.max_attempts, pool_size=options.concurrency,
            limiter=RateLimiter(options.rate),
        )  # fmt: skip
    limiter = dex.transport.limiter
    try:
        return execute(
            plan, dex, options, journal=journal, progress=progress, stop=stop,
            throttle_count=(lambda: limiter.throttles) if limiter is not None else None,
            retry_count=lambda: dex.retries, unchanged=unchanged, stop_after=stop_after,
        )  # fmt: skip
    finally:
        if own:
            dex.close()


def execute(
    plan: Plan,
    transport: Sender,
    options: SendOptions,
    *,
    journal: Journal | None = None,
    progress: Callable[[int], None] | None = None,
    stop: threading.Event | None = None,
    throttle_count: Callable[[], int] | None = None,
    retry_count: Callable[[], int] | None = None,
    clock: Callable[[], float] = time.monotonic,
    unchanged: Sequence[str] = (),
    stop_after: int | None = None,
) -> RunResult:
    """Send every update of ``plan`` and settle every contact.

    ``throttle_count`` and ``retry_count`` read the transport's run-wide counters, when it has
    them. ``progress`` is called with the number of contacts settled by each batch. Setting
    ``stop`` (Ctrl-C) takes no new batches; in-flight batches finish and are journaled.
    An :class:`AuthRefused` is journaled and re-raised. ``unchanged`` contacts (not in the
    plan) are reported as such; with ``stop_after``, only the first N contacts are sent, the
    rest are reported not sent and the state is ``stopped`` (``resume`` sends them).
    """
    stop = stop or threading.Event()
    started = clock()
    sizer = BatchSizer(options.batch_size)
    settled: dict[str, ContactResult] = {}
    selected = plan.total + len(unchanged)
    result = RunResult(journal.run_id if journal else None, selected, plan.duplicates, [])

    if unchanged:
        result.notes.append(
            f"{len(unchanged):,} contact(s) unchanged: Dex already holds these values; not sent"
        )
    updates: Sequence[Update] = plan.updates
    canary = stop_after is not None and stop_after < len(updates)
    if stop_after is not None:
        updates = updates[:stop_after]
    if options.check_ids:
        updates = _drop_unknown(updates, transport, settled, result)

    def on_report(batch: list[Update], report: BatchReport) -> None:
        if journal is not None:
            journal.record_batch(report)
        for contact in report.results:
            settled[contact.contact_id] = contact
        result.batches += 1
        result.requests += report.requests
        result.retries += report.retries
        result.updated += report.updated
        if report.shrunk_to:
            result.notes.append(
                f"Dex refused a batch as too large; batch size now {report.shrunk_to}"
            )
        if progress is not None:
            progress(len(batch))

    def process(batch: list[Update]) -> BatchReport:
        return process_batch(batch, transport.put_contacts, transport.existing_ids, sizer)

    try:
        send_all(
            chunks(updates, sizer), process, concurrency=options.concurrency,
            on_report=on_report, stop=stop,
        )  # fmt: skip
        result.state = "interrupted" if stop.is_set() else "stopped" if canary else "completed"
    except AuthRefused:
        result.state = "auth-refused"
        raise
    except KeyboardInterrupt:
        result.state = "aborted"
        raise
    finally:
        result.elapsed = clock() - started
        result.batch_size = sizer.size
        result.throttled = throttle_count() if throttle_count else 0
        if retry_count is not None:
            # The transport's own count also covers the existence checks of short batches.
            result.retries = retry_count()
        not_sent = f"not sent: --stop-after {stop_after}" if canary else NOT_SENT
        result.results = [
            settled.get(u.contact_id)
            or ContactResult(u.contact_id, ContactState.NOT_SENT, None, not_sent, 0)
            for u in plan.updates
        ] + [ContactResult(cid, ContactState.UNCHANGED, None, UNCHANGED, 0) for cid in unchanged]
        if journal is not None:
            journal.finish(result.state, result.summary())
    return result


def _drop_unknown(
    updates: Sequence[Update],
    transport: Sender,
    settled: dict[str, ContactResult],
    result: RunResult,
) -> Sequence[Update]:
    """``--check-ids``: settle contacts that are not the user's before sending anything."""
    existing = transport.existing_ids([u.contact_id for u in updates])
    if existing is None:
        result.notes.append("--check-ids: Dex would not say which contacts exist; sent all")
        return updates
    for update in updates:
        if update.contact_id not in existing:
            settled[update.contact_id] = ContactResult(
                update.contact_id, ContactState.NOT_FOUND, 404, NOT_FOUND, 0
            )
    missing = len(updates) - len(existing)
    if missing:
        result.notes.append(f"--check-ids: {missing} contact(s) not found; not sent")
    return [u for u in updates if u.contact_id in existing]


def describe(plan: Plan, options: SendOptions, api_url: str) -> dict[str, object]:
    """The dry-run plan: counts, the shared data object, and the first request in full.

    The key is shown redacted; this needs no key at all, so a plan can be checked anywhere.
    """
    body = plan.first_body(options.batch_size)
    return {
        "dryRun": True,
        "command": plan.command,
        "selected": plan.total,
        "duplicates": plan.duplicates,
        "batches": plan.batch_count(options.batch_size),
        "batchSize": options.batch_size,
        "concurrency": options.concurrency,
        "apiUrl": api_url,
        "data": dict(plan.patch) if plan.patch is not None else None,
        "firstRequest": {
            "method": "PUT",
            "url": f"{api_url}/contacts/",
            "headers": {
                "Authorization": "Bearer <redacted>",
                "Content-Type": "application/json",
            },
            "body": body,
        }
        if body
        else None,
    }
