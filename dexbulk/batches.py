"""Chunking and the concurrent send loop. Knows nothing about HTTP.

A *send* function turns one batch into an :class:`Outcome`; this module decides what to do with
it: confirm contacts, split a rejected batch until the offending contacts are isolated, shrink
the batch size after a "too large", and ask a *verify* function which contacts of a short-counted
batch do not exist. The send loop sends batches one at a time until one succeeds (so a wrong key
or URL costs one request, not ``concurrency`` of them), then fans out to worker threads with a
bounded queue, so memory stays flat however many contacts are selected.
"""

from __future__ import annotations

import enum
import itertools
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from dexbulk.answers import Outcome
from dexbulk.limits import MAX_BODY_BYTES
from dexbulk.plan import Update, cut

NOT_FOUND = "not found or not yours (Dex did not update it)"


class ContactState(str, enum.Enum):
    """What became of one contact. Decided once, where it happened; never read back from text."""

    UPDATED = "updated"
    """Dex confirmed the update."""
    FAILED = "failed"
    """Sent, but no confirmation: the network or the server failed after every retry."""
    REJECTED = "rejected"
    """Dex refused this contact's data (400/422, or too large alone): resending will not help."""
    NOT_FOUND = "not_found"
    """Not one of the user's contacts, so Dex did not update it."""
    NOT_SENT = "not_sent"
    """Never sent: the run stopped before this contact's batch."""
    UNCHANGED = "unchanged"
    """Not sent because Dex already holds the new values (read just before sending)."""

    @property
    def retryable(self) -> bool:
        """Whether sending the contact again could change its fate."""
        return self in (ContactState.FAILED, ContactState.NOT_SENT)


@dataclass(frozen=True, slots=True)
class ContactResult:
    """The final word on one contact."""

    contact_id: str
    state: ContactState
    status: int | None
    error: str | None
    attempts: int

    @property
    def ok(self) -> bool:
        """Dex confirmed this contact updated."""
        return self.state is ContactState.UPDATED

    def to_json(self) -> dict[str, object]:
        """The ``--results`` record: ``{contactId, ok, outcome, status, error, attempts}``."""
        return {
            "contactId": self.contact_id,
            "ok": self.ok,
            "outcome": self.state.value,
            "status": self.status,
            "error": self.error,
            "attempts": self.attempts,
        }


@dataclass(frozen=True)
class BatchReport:
    """Everything that happened while sending one batch (splits and checks included)."""

    results: tuple[ContactResult, ...]
    requests: int
    retries: int
    updated: int
    shrunk_to: int | None = None
    stopped: str | None = None
    """Why the run must stop: the API cannot be reached or is not Dex's (one line naming the
    URL). Contacts of the batch that never reached Dex have no result: they are not sent."""


SendFn = Callable[[Sequence[Update]], Outcome]
VerifyFn = Callable[[Sequence[str]], "set[str] | None"]


class BatchSizer:
    """The batch size for the rest of the run; only ever shrinks (after a 413)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        """The current batch size."""
        return self._size

    def shrink(self, rejected_size: int) -> int | None:
        """Lower the size below ``rejected_size``; return the new size if it changed."""
        with self._lock:
            new = max(1, rejected_size // 2)
            if new < self._size:
                self._size = new
                return new
            return None


def chunks(
    updates: Iterable[Update], sizer: BatchSizer, max_bytes: int = MAX_BODY_BYTES
) -> Iterator[list[Update]]:
    """Yield batches lazily, each as large as the sizer allows at the time it is cut, and
    never larger than ``max_bytes`` as a request body (see :func:`dexbulk.plan.cut`)."""
    return cut(updates, lambda: sizer.size, max_bytes)


def process_batch(
    batch: Sequence[Update], send: SendFn, verify: VerifyFn, sizer: BatchSizer
) -> BatchReport:
    """Send one batch and settle every contact in it.

    A rejected batch is halved and each half resent, recursively, so one bad contact costs at
    most about ``2 * log2(batch size)`` extra requests and every other contact still goes in.
    A batch refused for unknown contacts costs one read instead: ``verify`` names the contacts
    that exist, the others are settled "not found", and the rest is resent once (split only
    if that fails too). An ``unreachable`` answer ends the batch at once and says why in
    ``stopped``; what it had not sent stays unsettled.
    """
    results: list[ContactResult] = []
    requests = retries = updated = 0
    shrunk_to: int | None = None
    # Each part carries whether a "not found" answer may still be settled by a read; after one
    # read (or one that could not tell), the part and its halves are split instead.
    stack: list[tuple[Sequence[Update], bool]] = [(batch, True)]
    while stack:
        part, may_verify = stack.pop()
        outcome = send(part)
        # attempts is 0 when no request was made (a membership change with nothing to send):
        # counted as such, never as -1 retries.
        requests += 1 if outcome.attempts else 0
        retries += max(outcome.attempts - 1, 0)
        kind = outcome.kind
        if kind == "unreachable":
            if outcome.status is not None and 200 <= outcome.status < 300:
                # Something accepted it and answered in a way Dex does not: not confirmed.
                results.extend(_failed(part, outcome.status, outcome.message, outcome.attempts))
            return BatchReport(
                tuple(results), requests, retries, updated, shrunk_to, outcome.message
            )
        if kind == "ok":
            confirmed, count = _settle_ok(part, outcome, verify)
            results.extend(confirmed)
            updated += count
            continue
        if kind == "not_found" and may_verify:
            missing = _unknown(part, verify)
            if missing:
                results.extend(
                    _not_found(u.contact_id, outcome) for u in part if u.contact_id in missing
                )
                rest = [u for u in part if u.contact_id not in missing]
                if rest:
                    stack.append((rest, False))
                continue
            may_verify = False  # every contact exists, or Dex would not say: split instead
        if kind in ("rejected", "not_found", "too_large") and len(part) > 1:
            if kind == "too_large":
                shrunk_to = sizer.shrink(len(part)) or shrunk_to
            middle = len(part) // 2
            stack.append((part[middle:], may_verify))
            stack.append((part[:middle], may_verify))
        else:
            state = ContactState.FAILED if kind == "failed" else ContactState.REJECTED
            results.extend(_failed(part, outcome.status, outcome.message, outcome.attempts, state))
    return BatchReport(tuple(results), requests, retries, updated, shrunk_to)


def _unknown(part: Sequence[Update], verify: VerifyFn) -> set[str]:
    """The contacts of ``part`` that are not the user's (empty when Dex would not say)."""
    ids = [u.contact_id for u in part]
    existing = verify(ids)
    return set() if existing is None else {i for i in ids if i not in existing}


def _not_found(contact_id: str, outcome: Outcome) -> ContactResult:
    return ContactResult(
        contact_id, ContactState.NOT_FOUND, outcome.status, NOT_FOUND, outcome.attempts
    )


def _settle_ok(
    part: Sequence[Update], outcome: Outcome, verify: VerifyFn
) -> tuple[list[ContactResult], int]:
    count = outcome.count
    if count is not None and count >= len(part):
        return [_ok(u.contact_id, outcome) for u in part], len(part)
    ids = [u.contact_id for u in part]
    existing = verify(ids)
    if existing is None:
        said = f"Dex updated {count} of {len(part)}" if count is not None else "Dex gave no count"
        reason = f"not confirmed: {said} and could not tell which"
        return _failed(part, outcome.status, reason, outcome.attempts), count or 0
    results = [_ok(cid, outcome) if cid in existing else _not_found(cid, outcome) for cid in ids]
    return results, count if count is not None else len(existing)


def _ok(contact_id: str, outcome: Outcome) -> ContactResult:
    return ContactResult(contact_id, ContactState.UPDATED, outcome.status, None, outcome.attempts)


def _failed(
    part: Sequence[Update],
    status: int | None,
    message: str | None,
    attempts: int,
    state: ContactState = ContactState.FAILED,
) -> list[ContactResult]:
    reason = message or "failed"
    return [ContactResult(u.contact_id, state, status, reason, attempts) for u in part]


def send_all(
    batches: Iterator[list[Update]],
    process: Callable[[list[Update]], BatchReport],
    *,
    concurrency: int,
    on_report: Callable[[list[Update], BatchReport], None],
    stop: threading.Event,
) -> None:
    """Send every batch, calling ``on_report`` in the caller's thread as each one settles.

    Batches go one at a time until one updates a contact, then ``concurrency`` workers share
    the rest. Setting ``stop`` takes no new batches and lets in-flight ones finish; so does a
    report that says the run must stop (``stopped``: the API cannot be reached or used). An
    exception raised by ``process`` (an auth refusal) stops the run and is re-raised once
    in-flight batches have settled. Workers are daemon threads, so a second Ctrl-C
    (KeyboardInterrupt in the caller) can leave at once without waiting for them.
    """
    for batch in batches:
        if stop.is_set():
            return
        report = process(batch)
        on_report(batch, report)
        if report.stopped is not None:
            return
        if any(r.ok for r in report.results):
            break
    else:
        return
    following = next(batches, None)
    if following is None:  # a small run is one batch: no workers to start and stop
        return
    _fan_out(itertools.chain([following], batches), process, concurrency, on_report, stop)


def _fan_out(
    batches: Iterator[list[Update]],
    process: Callable[[list[Update]], BatchReport],
    concurrency: int,
    on_report: Callable[[list[Update], BatchReport], None],
    stop: threading.Event,
) -> None:
    todo: queue.Queue[list[Update] | None] = queue.Queue()
    done: queue.Queue[tuple[list[Update], BatchReport | None, BaseException | None]] = queue.Queue()

    def work() -> None:
        while (batch := todo.get()) is not None:
            try:
                done.put((batch, process(batch), None))
            except BaseException as exc:  # handed to the caller's thread, re-raised there
                done.put((batch, None, exc))

    workers = [threading.Thread(target=work, daemon=True) for _ in range(concurrency)]
    for worker in workers:
        worker.start()
    error: BaseException | None = None
    in_flight = 0
    exhausted = halted = False
    try:
        while True:
            while not (exhausted or halted or stop.is_set()) and in_flight < concurrency:
                batch = next(batches, None)
                if batch is None:
                    exhausted = True
                    break
                todo.put(batch)
                in_flight += 1
            if in_flight == 0:
                break
            try:
                batch, report, exc = done.get(timeout=0.1)
            except queue.Empty:
                continue
            in_flight -= 1
            if exc is not None:
                error = error or exc
                stop.set()
            elif report is not None:
                on_report(batch, report)
                halted = halted or report.stopped is not None
    finally:
        for _ in workers:
            todo.put(None)
    if error is not None:
        raise error
