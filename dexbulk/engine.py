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
from dexbulk.journal import Journal, JournalError
from dexbulk.plan import MEMBERSHIP, Plan, Update
from dexbulk.settings import BATCH_SIZE, CONCURRENCY, MAX_ATTEMPTS, RATE, TIMEOUT

if TYPE_CHECKING:
    from dexbulk.dex import Dex
    from dexbulk.secret import ApiKey

NOT_SENT = "not sent: the run stopped before this contact's batch"
JOURNAL_FAILED = "journal-failed"
"""The state of a run stopped because its journal could not be written."""
UNCHANGED = "not sent: Dex already holds these values"


class Sender(Protocol):
    """What a run needs from the API (:class:`~dexbulk.dex.Dex` in real use, fakes in tests)."""

    def put_contacts(self, updates: Sequence[Update]) -> Outcome: ...

    def existing_ids(self, ids: Sequence[str]) -> set[str] | None: ...


@dataclass(frozen=True)
class SendOptions:
    """How to send: batch size, workers, timeouts, retries, pacing.

    Each field but ``check_ids`` is a setting of :data:`dexbulk.settings.PER_RUN`, declared
    (default, range, help) in :mod:`dexbulk.settings`; the CLI fills it from resolved settings.
    """

    batch_size: int = BATCH_SIZE.default
    concurrency: int = CONCURRENCY.default
    timeout: float = TIMEOUT.default
    max_attempts: int = MAX_ATTEMPTS.default
    rate: float | None = RATE.default
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
    error: str | None = None
    """Why the run stopped early: the API could not be reached or used (one line naming the
    URL and the cause); ``state`` is then ``unreachable``."""
    journal_error: str | None = None
    """Why the journal could not be written, when it could not (the state is then
    ``journal-failed`` unless only the end record was lost)."""

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
        """0 all updated (or already right); 1 Dex was reached and some contacts were not
        updated; 4 the API could not be reached or used, or the journal could not be written;
        130 interrupted.

        4 is the run stopped at the first sign of an unusable API, or no request got an answer
        from Dex at all (every contact sent failed after every retry and none was updated). A
        run that reached Dex and had contacts rejected, or not found, exits 1. After
        ``--stop-after`` (state ``stopped``) only the contacts it sent count.
        """
        if self.state == JOURNAL_FAILED:
            return ExitCode.UNREACHABLE
        if self.state == "interrupted":
            return ExitCode.INTERRUPTED
        if self.state == "unreachable":
            return ExitCode.UNREACHABLE
        settled = [r for r in self.results if r.state is not ContactState.UNCHANGED]
        if self.state == "stopped":
            settled = [r for r in settled if r.state is not ContactState.NOT_SENT]
        if all(r.ok for r in settled):
            return ExitCode.OK
        sent = [r for r in settled if r.state is not ContactState.NOT_SENT]
        if self.updated == 0 and sent and all(r.state is ContactState.FAILED for r in sent):
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
            "error": self.error,
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
    is recorded per contact in the result. When the API cannot be reached or is not Dex's,
    the run stops after that request: ``state`` is ``unreachable``, ``error`` says why, and
    the contacts it did not reach are "not sent". ``unchanged`` names contacts left out of the
    plan because Dex already holds their values (see :mod:`dexbulk.preview`): they are
    reported as such. ``stop_after`` sends only the plan's first N contacts (a canary).
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
    sender: Sender = dex
    if plan.channel == MEMBERSHIP:
        from dexbulk.membership import MembershipSender

        sender = MembershipSender(dex)
    try:
        return execute(
            plan, sender, options, journal=journal, progress=progress, stop=stop,
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
    An :class:`AuthRefused` is journaled and re-raised. A journal that cannot be written
    stops the run like ``stop`` does, with the state ``journal-failed`` (exit 4).
    ``unchanged`` contacts (not in the plan) are reported as such; with ``stop_after``, only
    the first N contacts are sent, the rest are reported not sent and the state is ``stopped``
    (``resume`` sends them).
    """
    stop = stop or threading.Event()
    started = clock()
    sizer = BatchSizer(options.batch_size)
    settled: dict[str, ContactResult] = {}
    selected = plan.total + len(unchanged)
    result = RunResult(journal.run_id if journal else None, selected, plan.duplicates, [])
    journal_failed: list[JournalError] = []
    if unchanged:
        result.notes.append(
            f"{len(unchanged):,} contact(s) unchanged: Dex already holds these values; not sent"
        )
    canary = stop_after is not None and stop_after < len(plan.updates)

    def settle(report: BatchReport, *, by: str | None = None) -> None:
        """The one place an outcome is recorded, whoever decided it: journal, then result.

        A journal that cannot be written stops the run at once (no new batch); what was
        settled still reaches the result, so ``--results`` tells the truth about it.
        """
        if journal is not None and not journal_failed:
            try:
                journal.record_batch(report, by=by)
            except JournalError as exc:
                journal_failed.append(exc)
                stop.set()
        if report.stopped is not None and result.error is None:
            result.error = report.stopped
        for contact in report.results:
            settled[contact.contact_id] = contact

    def on_report(batch: list[Update], report: BatchReport) -> None:
        settle(report)
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

    # Until the run ends on purpose, an unexpected error ends it "crashed" (resumable), never
    # "completed": the journal must not say a run finished that did not.
    result.state = "crashed"
    try:
        updates: Sequence[Update] = plan.updates
        if stop_after is not None:
            updates = updates[:stop_after]
        if options.check_ids:
            updates, missing = _drop_unknown(updates, transport, result)
            if missing is not None:
                settle(missing, by="check-ids")
        send_all(
            chunks(updates, sizer), process, concurrency=options.concurrency,
            on_report=on_report, stop=stop,
        )  # fmt: skip
        if stop.is_set():
            result.state = "interrupted"
        elif result.error is not None:
            result.state = "unreachable"
        else:
            result.state = "stopped" if canary else "completed"
        if journal_failed:
            result.state = JOURNAL_FAILED
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
        unsent = NOT_SENT
        if result.error:
            unsent = f"not sent: {result.error}"
        elif canary:
            unsent = f"not sent: --stop-after {stop_after}"
        result.results = [
            settled.get(u.contact_id)
            or ContactResult(u.contact_id, ContactState.NOT_SENT, None, unsent, 0)
            for u in plan.updates
        ] + [ContactResult(cid, ContactState.UNCHANGED, None, UNCHANGED, 0) for cid in unchanged]
        if journal is not None:
            _end_journal(journal, result, journal_failed)
    return result


def _end_journal(journal: Journal, result: RunResult, failed: list[JournalError]) -> None:
    """Write the end record, or say why the journal stopped; never raise over the outcome."""
    if not failed:
        try:
            journal.finish(result.state, result.summary())
            return
        except JournalError as exc:
            result.journal_error = f"{exc.message}: the run's end was not recorded"
            result.notes.append(result.journal_error)
            return
    journal.close()
    result.journal_error = (
        f"{failed[0].message}: sending stopped at once; {result.not_sent:,} contact(s) not sent"
    )
    result.notes.append(result.journal_error)


def _drop_unknown(
    updates: Sequence[Update], transport: Sender, result: RunResult
) -> tuple[Sequence[Update], BatchReport | None]:
    """``--check-ids``: what to send, and the contacts that are not the user's, settled."""
    existing = transport.existing_ids([u.contact_id for u in updates])
    if existing is None:
        result.notes.append("--check-ids: Dex would not say which contacts exist; sent all")
        return updates, None
    missing = tuple(
        ContactResult(u.contact_id, ContactState.NOT_FOUND, 404, NOT_FOUND, 0)
        for u in updates
        if u.contact_id not in existing
    )
    if not missing:
        return updates, None
    result.notes.append(f"--check-ids: {len(missing)} contact(s) not found; not sent")
    return [u for u in updates if u.contact_id in existing], BatchReport(missing, 0, 0, 0)
