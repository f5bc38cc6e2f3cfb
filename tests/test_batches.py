"""Tests for dexbulk.batches: settling contacts, bisection, shrinking, verification, send loop."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator, Sequence

import pytest

from dexbulk.answers import Outcome, OutcomeKind
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
from dexbulk.dex import encode_batch
from dexbulk.errors import AuthRefused
from dexbulk.plan import Update


def cid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def updates(n: int, start: int = 0) -> list[Update]:
    return [Update(cid(i), {"starred": True}) for i in range(start, start + n)]


class FakeApi:
    """A send function by rule: rejects batches holding a bad ID, refuses big ones, skips some.

    With ``reject_unknown``, a batch holding a missing ID is refused with a 404 naming it (the
    sandbox's ``--unknown-ids reject``) instead of being counted short.
    """

    def __init__(
        self,
        *,
        bad: Sequence[str] = (),
        limit: int | None = None,
        missing: Sequence[str] = (),
        counts: bool = True,
        attempts: int = 1,
        reject_unknown: bool = False,
    ) -> None:
        self.bad = set(bad)
        self.limit = limit
        self.missing = set(missing)
        self.counts = counts
        self.attempts = attempts
        self.reject_unknown = reject_unknown
        self.sent: list[list[str]] = []

    def send(self, batch: Sequence[Update]) -> Outcome:
        ids = [u.contact_id for u in batch]
        self.sent.append(ids)
        if self.limit is not None and len(ids) > self.limit:
            return Outcome("too_large", 413, None, "payload too large", self.attempts)
        bad = [i for i in ids if i in self.bad]
        if bad:
            return Outcome("rejected", 400, None, f"invalid contactId {bad[0]}", self.attempts)
        unknown = [i for i in ids if i in self.missing]
        if unknown and self.reject_unknown:
            return Outcome("not_found", 404, None, f"contact {unknown[0]} not found", 1)
        count = sum(1 for i in ids if i not in self.missing) if self.counts else None
        return Outcome("ok", 200, count, None, self.attempts)


class FakeVerify:
    """Answers which IDs exist (all but ``missing``), or ``None`` when told to stay silent."""

    def __init__(self, missing: Sequence[str] = (), *, silent: bool = False) -> None:
        self.missing = set(missing)
        self.silent = silent
        self.asked: list[list[str]] = []

    def __call__(self, ids: Sequence[str]) -> set[str] | None:
        self.asked.append(list(ids))
        return None if self.silent else {i for i in ids if i not in self.missing}


def by_id(report: BatchReport) -> dict[str, ContactResult]:
    ids = [r.contact_id for r in report.results]
    assert len(ids) == len(set(ids)), "each contact settled once"
    return {r.contact_id: r for r in report.results}


# -- process_batch: bisection --------------------------------------------------------------


@pytest.mark.parametrize("position", [0, 1, 37, 50, 98, 99])
def test_one_bad_contact_is_isolated_cheaply(position: int) -> None:
    batch = updates(100)
    bad = cid(position)
    api, verify = FakeApi(bad=[bad]), FakeVerify()
    report = process_batch(batch, api.send, verify, BatchSizer(100))
    results = by_id(report)
    assert set(results) == {u.contact_id for u in batch}
    assert results[bad] == ContactResult(
        bad, ContactState.REJECTED, 400, f"invalid contactId {bad}", 1
    )
    assert all(r.ok for i, r in results.items() if i != bad)
    assert report.requests == len(api.sent) <= 1 + 2 * math.ceil(math.log2(100))
    assert report.updated == 99
    assert verify.asked == []


def test_two_bad_contacts_each_fail_with_their_own_message() -> None:
    bad = [cid(3), cid(70)]
    api = FakeApi(bad=bad)
    report = process_batch(updates(100), api.send, FakeVerify(), BatchSizer(100))
    failed = {r.contact_id: r.error for r in report.results if not r.ok}
    assert failed == {b: f"invalid contactId {b}" for b in bad}
    assert sum(r.ok for r in report.results) == 98
    assert report.requests <= 1 + 2 * 2 * math.ceil(math.log2(100))


@pytest.mark.parametrize("size", [1, 2, 5, 8])
def test_all_bad_contacts_all_fail(size: int) -> None:
    batch = updates(size)
    api = FakeApi(bad=[u.contact_id for u in batch])
    report = process_batch(batch, api.send, FakeVerify(), BatchSizer(100))
    assert {r.contact_id: r.error for r in report.results} == {
        u.contact_id: f"invalid contactId {u.contact_id}" for u in batch
    }
    assert report.requests == 2 * size - 1, "every node of the split tree is sent once"
    assert report.updated == 0


def test_a_batch_of_one_is_sent_once() -> None:
    api = FakeApi(bad=[cid(0)])
    report = process_batch(updates(1), api.send, FakeVerify(), BatchSizer(100))
    rejected = ContactResult(cid(0), ContactState.REJECTED, 400, f"invalid contactId {cid(0)}", 1)
    assert report.results == (rejected,)
    assert api.sent == [[cid(0)]]


def test_halves_are_sent_in_order() -> None:
    api = FakeApi(bad=[cid(1)])
    process_batch(updates(4), api.send, FakeVerify(), BatchSizer(100))
    assert api.sent == [
        [cid(0), cid(1), cid(2), cid(3)],
        [cid(0), cid(1)],
        [cid(0)],
        [cid(1)],
        [cid(2), cid(3)],
    ]


def test_retries_are_summed_over_every_request() -> None:
    api = FakeApi(bad=[cid(0)], attempts=3)
    report = process_batch(updates(2), api.send, FakeVerify(), BatchSizer(100))
    assert report.requests == 3
    assert report.retries == 6
    assert {r.attempts for r in report.results} == {3}


# -- too large -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "rejected", "new", "after"),
    [(100, 100, 50, 50), (100, 50, 25, 25), (100, 300, None, 100), (50, 100, None, 50),
     (1, 1, None, 1), (2, 3, 1, 1)],
)  # fmt: skip
def test_sizer_only_shrinks(size: int, rejected: int, new: int | None, after: int) -> None:
    sizer = BatchSizer(size)
    assert sizer.shrink(rejected) == new
    assert sizer.size == after


def test_chunks_cut_at_the_size_of_the_moment() -> None:
    sizer = BatchSizer(4)
    cut = chunks(iter(updates(11)), sizer)
    assert len(next(cut)) == 4
    sizer.shrink(4)
    assert [len(b) for b in cut] == [2, 2, 2, 1]


def test_chunks_keep_every_update_in_order() -> None:
    plan = updates(23)
    batches = list(chunks(plan, BatchSizer(5)))
    assert [len(b) for b in batches] == [5, 5, 5, 5, 3]
    assert [u for b in batches for u in b] == plan


def body_sizes(batches: list[list[Update]]) -> list[int]:
    return [len(encode_batch(b)) for b in batches]


@pytest.mark.parametrize("limit", [1_000, 4_096, 10_000, 50_000])
def test_chunks_cut_by_bytes_exactly_at_the_limit(limit: int) -> None:
    """Each body stays within the limit, and taking one more contact would have crossed it."""
    plan = [Update(cid(i), {"company": "x" * (i % 700)}) for i in range(300)]
    batches = list(chunks(plan, BatchSizer(100), max_bytes=limit))
    assert [u for b in batches for u in b] == plan
    for batch, size in zip(batches, body_sizes(batches), strict=True):
        assert size <= limit or len(batch) == 1
        following = plan.index(batch[-1]) + 1
        if len(batch) < 100 and following < len(plan):
            assert len(encode_batch([*batch, plan[following]])) > limit


def test_chunks_cut_by_count_or_bytes_whichever_comes_first() -> None:
    plan = updates(250)
    assert [len(b) for b in chunks(plan, BatchSizer(100))] == [100, 100, 50]
    small = list(chunks(plan, BatchSizer(100), max_bytes=2_000))
    assert max(body_sizes(small)) <= 2_000
    assert len(small) > 3


def test_chunks_send_a_contact_over_the_limit_alone() -> None:
    plan = [
        Update(cid(0), {"company": "a"}),
        Update(cid(1), {"company": "x" * 5_000}),
        Update(cid(2), {"company": "b"}),
    ]
    assert [len(b) for b in chunks(plan, BatchSizer(100), max_bytes=1_000)] == [1, 1, 1]


def test_chunks_default_to_the_4_mib_limit() -> None:
    big = {"description": "x" * 10_000}
    plan = [Update(cid(i), big) for i in range(1_000)]  # 10 MB in all
    batches = list(chunks(plan, BatchSizer(500)))
    assert max(body_sizes(batches)) <= 4 << 20
    assert [len(b) for b in batches] == [416, 416, 168]  # 10,079 bytes a contact


def test_too_large_shrinks_the_size_and_settles_everything() -> None:
    plan = updates(250)
    sizer = BatchSizer(100)
    api = FakeApi(limit=30)
    reports = [process_batch(b, api.send, FakeVerify(), sizer) for b in chunks(plan, sizer)]
    assert reports[0].shrunk_to == 25
    assert sizer.size == 25
    assert all(r.shrunk_to is None for r in reports[1:])
    results = [r for report in reports for r in report.results]
    assert sorted(r.contact_id for r in results) == sorted(u.contact_id for u in plan)
    assert all(r.ok for r in results)
    assert [len(s) for s in api.sent[:7]] == [100, 50, 25, 25, 50, 25, 25]
    assert all(len(s) <= 25 for s in api.sent[7:])


def test_too_large_for_a_single_contact_fails_it() -> None:
    api = FakeApi(limit=0)
    report = process_batch(updates(2), api.send, FakeVerify(), BatchSizer(2))
    assert [(r.ok, r.status, r.error) for r in report.results] == [
        (False, 413, "payload too large")
    ] * 2


# -- short counts --------------------------------------------------------------------------


def test_a_short_count_is_verified() -> None:
    missing = [cid(2), cid(7)]
    api, verify = FakeApi(missing=missing), FakeVerify(missing)
    report = process_batch(updates(10), api.send, verify, BatchSizer(10))
    results = by_id(report)
    assert verify.asked == [[cid(i) for i in range(10)]]
    for m in missing:
        assert results[m] == ContactResult(m, ContactState.NOT_FOUND, 200, NOT_FOUND, 1)
    assert sum(r.ok for r in results.values()) == 8
    assert report.updated == 8
    assert report.requests == 1


@pytest.mark.parametrize(
    ("counts", "reason"),
    [
        (True, "not confirmed: Dex updated 9 of 10 and could not tell which"),
        (False, "not confirmed: Dex gave no count and could not tell which"),
    ],
)
def test_an_unverifiable_short_count_fails_the_batch(counts: bool, reason: str) -> None:
    api = FakeApi(missing=[cid(4)], counts=counts)
    report = process_batch(updates(10), api.send, FakeVerify(silent=True), BatchSizer(10))
    assert {(r.ok, r.status, r.error) for r in report.results} == {(False, 200, reason)}
    assert len(report.results) == 10
    assert report.updated == (9 if counts else 0)


def test_no_count_is_verified_and_counted_from_what_exists() -> None:
    api, verify = FakeApi(missing=[cid(1)], counts=False), FakeVerify([cid(1)])
    report = process_batch(updates(5), api.send, verify, BatchSizer(10))
    assert len(verify.asked) == 1
    assert [r.ok for r in report.results] == [True, False, True, True, True]
    assert report.results[1].error == NOT_FOUND
    assert report.updated == 4


def test_a_full_count_is_not_verified() -> None:
    verify = FakeVerify(silent=True)
    report = process_batch(updates(5), FakeApi().send, verify, BatchSizer(10))
    assert all(r.ok for r in report.results)
    assert verify.asked == []


def test_a_failed_batch_is_not_split() -> None:
    sent: list[int] = []

    def send(batch: Sequence[Update]) -> Outcome:
        sent.append(len(batch))
        return Outcome("failed", 503, None, "HTTP 503: busy", 5)

    report = process_batch(updates(10), send, FakeVerify(), BatchSizer(10))
    assert sent == [10]
    assert {(r.ok, r.status, r.error, r.attempts) for r in report.results} == {
        (False, 503, "HTTP 503: busy", 5)
    }
    assert len(report.results) == 10
    assert (report.requests, report.retries, report.updated) == (1, 4, 0)


def test_a_failure_without_a_message_still_says_something() -> None:
    def send(batch: Sequence[Update]) -> Outcome:
        return Outcome("failed", None, None, None, 1)

    report = process_batch(updates(2), send, FakeVerify(), BatchSizer(10))
    assert {r.error for r in report.results} == {"failed"}


# -- process_batch: unknown contacts refused -------------------------------------------------


def test_unknown_contacts_are_found_with_one_read_not_by_splitting() -> None:
    unknown = [cid(3), cid(40), cid(99)]
    api, verify = FakeApi(missing=unknown, reject_unknown=True), FakeVerify(missing=unknown)
    report = process_batch(updates(100), api.send, verify, BatchSizer(100))
    results = by_id(report)
    assert len(results) == 100
    for u in unknown:
        assert results[u] == ContactResult(u, ContactState.NOT_FOUND, 404, NOT_FOUND, 1)
    assert sum(r.ok for r in results.values()) == 97
    assert verify.asked == [[u.contact_id for u in updates(100)]], "one read"
    assert [len(s) for s in api.sent] == [100, 97], "the rest resent once, whole"
    assert (report.requests, report.updated) == (2, 97)


def test_a_batch_of_unknown_contacts_costs_one_put_and_one_read() -> None:
    everyone = [u.contact_id for u in updates(100)]
    api, verify = FakeApi(missing=everyone, reject_unknown=True), FakeVerify(missing=everyone)
    report = process_batch(updates(100), api.send, verify, BatchSizer(100))
    assert {r.state for r in report.results} == {ContactState.NOT_FOUND}
    assert len(report.results) == 100
    assert (len(api.sent), len(verify.asked), report.requests) == (1, 1, 1)


@pytest.mark.parametrize("silent", [True, False])
def test_not_found_that_a_read_cannot_explain_is_split(silent: bool) -> None:
    # Dex says "not found" but will not say which (silent), or every contact exists (a tag in
    # the data object is what it did not find): the batch is split, and read only once.
    def send(part: Sequence[Update]) -> Outcome:
        if any(u.contact_id == cid(2) for u in part):
            return Outcome("not_found", 404, None, "tag 7 not found", 1)
        return Outcome("ok", 200, len(part), None, 1)

    verify = FakeVerify(silent=silent)
    report = process_batch(updates(8), send, verify, BatchSizer(8))
    results = by_id(report)
    assert results[cid(2)] == ContactResult(
        cid(2), ContactState.REJECTED, 404, "tag 7 not found", 1
    )
    assert sum(r.ok for r in results.values()) == 7
    assert len(verify.asked) == 1


def test_a_rest_refused_again_is_split_without_another_read() -> None:
    unknown, bad = [cid(1)], [cid(6)]
    api = FakeApi(missing=unknown, bad=bad, reject_unknown=True)
    verify = FakeVerify(missing=unknown)

    def send(part: Sequence[Update]) -> Outcome:
        # The bad contact is refused only once the unknown one is gone (any order is possible).
        ids = {u.contact_id for u in part}
        if ids & set(unknown):
            api.sent.append(sorted(ids))
            return Outcome("not_found", 404, None, "contact not found", 1)
        return api.send(part)

    report = process_batch(updates(8), send, verify, BatchSizer(8))
    results = by_id(report)
    assert results[cid(1)].state is ContactState.NOT_FOUND
    assert results[cid(6)].state is ContactState.REJECTED
    assert sum(r.ok for r in results.values()) == 6
    assert len(verify.asked) == 1


# -- process_batch: an API that cannot be reached or used -----------------------------------

DOWN = "cannot reach https://dex.test/v1: connection refused by dex.test:443"


def test_an_unreachable_api_ends_the_batch_and_says_why() -> None:
    def send(part: Sequence[Update]) -> Outcome:
        return Outcome("unreachable", None, None, DOWN, 5)

    report = process_batch(updates(10), send, FakeVerify(), BatchSizer(10))
    assert report.stopped == DOWN
    assert report.results == (), "never reached Dex: not sent, not failed"
    assert (report.requests, report.retries) == (1, 4)


def test_an_api_lost_while_splitting_leaves_the_other_halves_unsent() -> None:
    calls: list[int] = []

    def send(part: Sequence[Update]) -> Outcome:
        calls.append(len(part))
        if len(calls) == 1:
            return Outcome("rejected", 400, None, "bad", 1)
        if len(calls) == 2:
            return Outcome("ok", 200, len(part), None, 1)
        return Outcome("unreachable", None, None, DOWN, 1)

    report = process_batch(updates(8), send, FakeVerify(), BatchSizer(8))
    assert calls == [8, 4, 4]
    assert (report.stopped, len(report.results)) == (DOWN, 4)
    assert all(r.ok for r in report.results)


def test_a_2xx_that_is_not_dex_fails_the_batch_it_answered() -> None:
    reason = "https://dex.test/v1 does not look like the Dex API (HTTP 200 with an HTML page)"

    def send(part: Sequence[Update]) -> Outcome:
        return Outcome("unreachable", 200, None, reason, 1)

    report = process_batch(updates(3), send, FakeVerify(), BatchSizer(3))
    assert report.stopped == reason
    # Something took the request: it may have done anything, so not confirmed, not "not sent".
    assert {(r.state, r.error) for r in report.results} == {(ContactState.FAILED, reason)}


# -- send_all ------------------------------------------------------------------------------


def batches_of(n: int) -> list[list[Update]]:
    return [[Update(cid(i), {})] for i in range(n)]


class Counting:
    """An iterator over batches that remembers how many were taken."""

    def __init__(self, batches: list[list[Update]]) -> None:
        self._it = iter(batches)
        self.taken = 0

    def __iter__(self) -> Iterator[list[Update]]:
        return self

    def __next__(self) -> list[Update]:
        batch = next(self._it)
        self.taken += 1
        return batch


def settle(batch: list[Update], ok: bool = True) -> BatchReport:
    state = ContactState.UPDATED if ok else ContactState.REJECTED
    results = tuple(ContactResult(u.contact_id, state, 200 if ok else 400, None, 1) for u in batch)
    return BatchReport(results, 1, 0, len(batch) if ok else 0)


def number(batch: list[Update]) -> int:
    return int(batch[0].contact_id[-12:])


class Recorder:
    """Collects on_report calls and the thread each was made in."""

    def __init__(self) -> None:
        self.reported: list[int] = []
        self.threads: set[int] = set()

    def __call__(self, batch: list[Update], report: BatchReport) -> None:
        self.threads.add(threading.get_ident())
        self.reported.append(number(batch))


def test_auth_refusal_on_the_first_batch_sends_only_that_batch() -> None:
    processed: list[int] = []

    def process(batch: list[Update]) -> BatchReport:
        processed.append(number(batch))
        raise AuthRefused("Dex refused the API key: HTTP 401", status=401)

    batches, recorder = Counting(batches_of(10)), Recorder()
    with pytest.raises(AuthRefused):
        send_all(batches, process, concurrency=4, on_report=recorder, stop=threading.Event())
    assert processed == [0]
    assert batches.taken == 1
    assert recorder.reported == []


def test_batches_go_alone_until_one_succeeds() -> None:
    caller = threading.get_ident()
    threads: dict[int, int] = {}
    lock = threading.Lock()

    def process(batch: list[Update]) -> BatchReport:
        with lock:
            threads[number(batch)] = threading.get_ident()
        return settle(batch, ok=number(batch) >= 2)

    recorder = Recorder()
    send_all(
        iter(batches_of(12)), process, concurrency=3, on_report=recorder, stop=threading.Event()
    )
    assert [threads[n] for n in (0, 1, 2)] == [caller] * 3, "sent alone, in the caller's thread"
    assert all(threads[n] != caller for n in range(3, 12)), "then by the workers"
    assert sorted(recorder.reported) == list(range(12))
    assert recorder.reported[:3] == [0, 1, 2]
    assert recorder.threads == {caller}


def test_nothing_ever_succeeds_means_nothing_is_sent_in_parallel() -> None:
    caller = threading.get_ident()
    threads: set[int] = set()

    def process(batch: list[Update]) -> BatchReport:
        threads.add(threading.get_ident())
        return settle(batch, ok=False)

    recorder = Recorder()
    send_all(iter(batches_of(5)), process, concurrency=4, on_report=recorder,
             stop=threading.Event())  # fmt: skip
    assert threads == {caller}
    assert recorder.reported == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("concurrency", [1, 2, 3, 5])
def test_workers_run_up_to_concurrency_at_once(concurrency: int) -> None:
    barrier = threading.Barrier(concurrency, timeout=5)
    lock = threading.Lock()
    running = peak = 0

    def process(batch: list[Update]) -> BatchReport:
        nonlocal running, peak
        if number(batch) > 0:
            with lock:
                running += 1
                peak = max(peak, running)
            barrier.wait()  # passes only if `concurrency` batches are in flight together
            with lock:
                running -= 1
        return settle(batch)

    recorder = Recorder()
    total = 1 + 4 * concurrency
    send_all(iter(batches_of(total)), process, concurrency=concurrency, on_report=recorder,
             stop=threading.Event())  # fmt: skip
    assert peak == concurrency
    assert sorted(recorder.reported) == list(range(total))


def test_stop_takes_no_new_batches_and_reports_those_in_flight() -> None:
    stop = threading.Event()
    processed: list[int] = []
    lock = threading.Lock()

    def process(batch: list[Update]) -> BatchReport:
        n = number(batch)
        with lock:
            processed.append(n)
        if n == 2:
            stop.set()  # Ctrl-C while batches 1 and 2 are in flight
        elif n == 1:
            assert stop.wait(5)
        return settle(batch)

    batches, recorder = Counting(batches_of(10)), Recorder()
    send_all(batches, process, concurrency=2, on_report=recorder, stop=stop)
    assert sorted(processed) == [0, 1, 2]
    assert sorted(recorder.reported) == [0, 1, 2]
    assert batches.taken == 3


def test_stop_before_the_first_batch_sends_nothing() -> None:
    stop = threading.Event()
    stop.set()
    processed: list[int] = []

    def process(batch: list[Update]) -> BatchReport:
        processed.append(number(batch))
        return settle(batch)

    send_all(iter(batches_of(3)), process, concurrency=2, on_report=Recorder(), stop=stop)
    assert processed == []


def test_stop_set_by_on_report_stops_the_fan_out() -> None:
    stop = threading.Event()
    recorder = Recorder()

    def on_report(batch: list[Update], report: BatchReport) -> None:
        recorder(batch, report)
        if len(recorder.reported) == 3:
            stop.set()

    send_all(iter(batches_of(50)), settle, concurrency=1, on_report=on_report, stop=stop)
    assert recorder.reported == [0, 1, 2]


def test_a_worker_exception_stops_the_run_and_is_re_raised_after_in_flight_batches() -> None:
    stop = threading.Event()
    processed: list[int] = []
    lock = threading.Lock()

    def process(batch: list[Update]) -> BatchReport:
        n = number(batch)
        with lock:
            processed.append(n)
        if n == 2:
            raise AuthRefused("Dex refused the API key: HTTP 401", status=401)
        if n == 1:
            assert stop.wait(5), "the caller stops the run when it sees the error"
        return settle(batch)

    batches, recorder = Counting(batches_of(10)), Recorder()
    with pytest.raises(AuthRefused, match="HTTP 401"):
        send_all(batches, process, concurrency=2, on_report=recorder, stop=stop)
    assert sorted(processed) == [0, 1, 2]
    assert recorder.reported == [0, 1], "batch 1 was in flight and still reported"
    assert batches.taken == 3


def stopping(batch: list[Update]) -> BatchReport:
    return BatchReport((), 1, 0, 0, stopped=DOWN)


def test_a_stopped_report_on_the_first_batch_sends_nothing_more() -> None:
    batches, recorder = Counting(batches_of(10)), Recorder()
    send_all(batches, stopping, concurrency=4, on_report=recorder, stop=threading.Event())
    assert (batches.taken, recorder.reported) == (1, [0])


@pytest.mark.parametrize("concurrency", [1, 3])
def test_a_stopped_report_in_the_fan_out_takes_no_new_batches(concurrency: int) -> None:
    def process(batch: list[Update]) -> BatchReport:
        return stopping(batch) if number(batch) >= 2 else settle(batch)

    stop = threading.Event()
    batches, recorder = Counting(batches_of(50)), Recorder()
    send_all(batches, process, concurrency=concurrency, on_report=recorder, stop=stop)
    # Batches 0 and 1 went in; the first stopped report ends it, once in-flight ones are back.
    assert batches.taken <= 3 + concurrency
    assert sorted(recorder.reported) == list(range(batches.taken))
    assert not stop.is_set(), "not an interrupt"


def test_on_report_is_always_called_in_the_callers_thread() -> None:
    recorder = Recorder()
    send_all(iter(batches_of(40)), settle, concurrency=4, on_report=recorder,
             stop=threading.Event())  # fmt: skip
    assert recorder.threads == {threading.get_ident()}
    assert sorted(recorder.reported) == list(range(40))


@pytest.mark.parametrize(
    ("kind", "state"),
    [
        ("rejected", ContactState.REJECTED),
        ("not_found", ContactState.NOT_FOUND),
        ("too_large", ContactState.REJECTED),
        ("failed", ContactState.FAILED),
    ],
)
def test_a_contact_settles_with_the_state_its_answer_means(
    kind: OutcomeKind, state: ContactState
) -> None:
    def send(part: Sequence[Update]) -> Outcome:
        return Outcome(kind, 400, None, "no", 1)

    # For "not_found", the read confirms the contact is not the user's.
    report = process_batch(updates(1), send, FakeVerify(missing=[cid(0)]), BatchSizer(10))
    assert [r.state for r in report.results] == [state]
    assert state.retryable is (kind == "failed")


@pytest.mark.parametrize(("count", "workers"), [(1, 0), (2, 3)])
def test_workers_start_only_when_a_batch_is_left_for_them(
    monkeypatch: pytest.MonkeyPatch, count: int, workers: int
) -> None:
    started: list[threading.Thread] = []
    real_start = threading.Thread.start

    def start(thread: threading.Thread) -> None:
        started.append(thread)
        real_start(thread)

    monkeypatch.setattr(threading.Thread, "start", start)
    recorder = Recorder()
    send_all(iter(batches_of(count)), settle, concurrency=3, on_report=recorder,
             stop=threading.Event())  # fmt: skip
    assert sorted(recorder.reported) == list(range(count))
    assert len(started) == workers, "a one-batch run (up to --batch-size contacts) starts none"


def test_an_answer_that_made_no_request_counts_none_and_no_negative_retry() -> None:
    # A membership change whose keys need no request combines no outcome: attempts 0.
    def send(part: Sequence[Update]) -> Outcome:
        return Outcome("ok", 200, len(part), None, 0)

    report = process_batch(updates(2), send, FakeVerify(), BatchSizer(10))
    assert (report.requests, report.retries) == (0, 0)
