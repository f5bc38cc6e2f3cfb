"""Tests for dexbulk.engine: one run against a fake transport, its result, exit code, journal."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from dexbulk.answers import Outcome
from dexbulk.batches import NOT_FOUND, BatchReport, ContactResult, ContactState
from dexbulk.describe import describe
from dexbulk.engine import NOT_SENT, RunResult, SendOptions, execute
from dexbulk.errors import AuthRefused, ExitCode
from dexbulk.journal import Journal, JournalError, load_run
from dexbulk.plan import Plan, Update
from tests.conftest import TEST_KEY

API = "https://dex.test/v1"
PATCH = {"company": "Acme"}
DOWN = f"cannot reach {API}: connection refused by dex.test:443"


def cid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def plan_of(n: int, *, duplicates: int = 0) -> Plan:
    return Plan([Update(cid(i), PATCH) for i in range(n)], "set", patch=PATCH,
                duplicates=duplicates)  # fmt: skip


class FakeTransport:
    """Rejects batches holding a ``bad`` ID, silently skips ``missing`` ones, may refuse the key.

    ``existing_ids`` answers like the filter endpoint: every ID but the missing ones.
    """

    def __init__(
        self,
        *,
        bad: Sequence[str] = (),
        missing: Sequence[str] = (),
        refuse_after: int | None = None,
        down_after: int | None = None,
        failing: Sequence[str] = (),
        silent: bool = False,
        first_attempts: int = 1,
    ) -> None:
        self.bad = set(bad)
        self.missing = set(missing)
        self.failing = set(failing)
        self.refuse_after = refuse_after
        self.down_after = down_after
        self.silent = silent
        self.first_attempts = first_attempts
        self.sent: list[list[str]] = []
        self.asked: list[list[str]] = []
        self._lock = threading.Lock()

    def put_contacts(self, updates: Sequence[Update]) -> Outcome:
        ids = [u.contact_id for u in updates]
        with self._lock:
            self.sent.append(ids)
            calls = len(self.sent)
        if self.refuse_after is not None and calls > self.refuse_after:
            raise AuthRefused("Dex refused the API key: HTTP 401", status=401)
        attempts = self.first_attempts if calls == 1 else 1
        if self.down_after is not None and calls > self.down_after:
            return Outcome("unreachable", None, None, DOWN, attempts)
        if any(i in self.failing for i in ids):
            return Outcome("failed", 503, None, "HTTP 503", attempts)
        if any(i in self.bad for i in ids):
            return Outcome("rejected", 400, None, "invalid contactId", attempts)
        count = sum(1 for i in ids if i not in self.missing)
        return Outcome("ok", 200, count, None, attempts)

    def existing_ids(self, ids: Sequence[str]) -> set[str] | None:
        self.asked.append(list(ids))
        return None if self.silent else {i for i in ids if i not in self.missing}

    @property
    def sent_ids(self) -> list[str]:
        return [i for batch in self.sent for i in batch]


def in_plan_order(result: RunResult, plan: Plan) -> None:
    assert [r.contact_id for r in result.results] == [u.contact_id for u in plan.updates]


# -- exit codes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "missing", "code", "ok"),
    [
        ((), (), ExitCode.OK, 20),
        ((cid(3),), (), ExitCode.SOME_FAILED, 19),
        ((), (cid(0), cid(19)), ExitCode.SOME_FAILED, 18),
        # Dex was reached and refused every contact, or knew none: 1, not 4 (issue 11 item 8).
        (tuple(cid(i) for i in range(20)), (), ExitCode.SOME_FAILED, 0),
        ((), tuple(cid(i) for i in range(20)), ExitCode.SOME_FAILED, 0),
    ],
)
@pytest.mark.parametrize("concurrency", [1, 4])
def test_exit_codes(
    bad: tuple[str, ...], missing: tuple[str, ...], code: ExitCode, ok: int, concurrency: int
) -> None:
    plan = plan_of(20)
    transport = FakeTransport(bad=bad, missing=missing)
    result = execute(plan, transport, SendOptions(batch_size=3, concurrency=concurrency))
    assert result.exit_code == code
    assert result.state == "completed"
    assert len(result.ok) == ok
    assert len(result.failed) == 20 - ok
    assert result.not_sent == 0
    in_plan_order(result, plan)
    if not bad:
        assert sorted(transport.sent_ids) == [u.contact_id for u in plan.updates], "each once"


@pytest.mark.parametrize(
    ("failing", "bad", "code"),
    [
        # No request got a usable answer and nothing was updated: the API could not be used.
        (tuple(cid(i) for i in range(9)), (), ExitCode.UNREACHABLE),
        # ... but one rejection is an answer from Dex about a contact.
        (tuple(cid(i) for i in range(6)), (cid(6), cid(7), cid(8)), ExitCode.SOME_FAILED),
    ],
)
def test_every_request_failing_is_4_unless_dex_answered_one(
    failing: tuple[str, ...], bad: tuple[str, ...], code: ExitCode
) -> None:
    result = execute(plan_of(9), FakeTransport(failing=failing, bad=bad), SendOptions(batch_size=3))
    assert result.state == "completed"
    assert not result.ok
    assert result.exit_code == code


def test_an_empty_plan_is_ok() -> None:
    result = execute(plan_of(0), FakeTransport(), SendOptions())
    assert result.exit_code == ExitCode.OK
    assert result.results == []


# -- stopping ------------------------------------------------------------------------------


def test_stop_before_start_sends_nothing() -> None:
    plan = plan_of(7)
    transport = FakeTransport()
    stop = threading.Event()
    stop.set()
    result = execute(plan, transport, SendOptions(batch_size=2), stop=stop)
    assert transport.sent == []
    assert result.state == "interrupted"
    assert result.exit_code == ExitCode.INTERRUPTED
    assert int(result.exit_code) == 130
    assert result.results == [ContactResult(u.contact_id, ContactState.NOT_SENT, None, NOT_SENT, 0)
                              for u in plan.updates]  # fmt: skip
    assert (result.not_sent, result.sent, result.failed) == (7, 0, [])


def test_stop_mid_way_keeps_what_was_sent() -> None:
    plan = plan_of(10)
    transport = FakeTransport()
    stop = threading.Event()
    settled: list[int] = []

    def progress(n: int) -> None:
        settled.append(n)
        stop.set()

    options = SendOptions(batch_size=3, concurrency=2)
    result = execute(plan, transport, options, stop=stop, progress=progress)
    assert settled == [3]
    assert result.state == "interrupted"
    assert result.exit_code == ExitCode.INTERRUPTED
    in_plan_order(result, plan)
    assert [r.ok for r in result.results] == [True] * 3 + [False] * 7
    assert {r.error for r in result.results[3:]} == {NOT_SENT}
    assert (result.sent, result.not_sent, len(result.failed)) == (3, 7, 0)


# -- an API that cannot be reached or used ---------------------------------------------------


@pytest.mark.parametrize("concurrency", [1, 4])
def test_an_unreachable_api_stops_the_run_after_the_first_batch(
    tmp_path: Path, concurrency: int
) -> None:
    plan = plan_of(1000)
    options = SendOptions(batch_size=100, concurrency=concurrency)
    journal = journal_for(tmp_path, plan, options)
    transport = FakeTransport(down_after=0)
    result = execute(plan, transport, options, journal=journal)
    assert len(transport.sent) == 1, "one batch, not ten"
    assert (result.state, result.exit_code, result.error) == ("unreachable", 4, DOWN)
    assert result.summary()["error"] == DOWN
    in_plan_order(result, plan)
    assert {(r.state, r.error) for r in result.results} == {
        (ContactState.NOT_SENT, f"not sent: {DOWN}")
    }
    assert (result.sent, result.not_sent, result.failed) == (0, 1000, [])
    run = load_run(tmp_path, journal.run_id)
    assert (run.state, len(run.pending)) == ("unreachable", 1000), "resume sends them all"


@pytest.mark.parametrize("concurrency", [1, 4])
def test_an_api_lost_mid_run_stops_taking_batches(concurrency: int) -> None:
    plan = plan_of(100)
    transport = FakeTransport(down_after=2)
    result = execute(plan, transport, SendOptions(batch_size=5, concurrency=concurrency))
    # Two batches went in; at most the batches already in flight then met the dead API.
    assert len(transport.sent) <= 2 + concurrency
    assert len(result.ok) == 10
    assert result.not_sent == 90
    assert (result.state, result.exit_code) == ("unreachable", ExitCode.UNREACHABLE)


def test_an_interrupt_wins_over_an_unreachable_api() -> None:
    stop = threading.Event()
    stop.set()
    result = execute(plan_of(3), FakeTransport(down_after=0), SendOptions(), stop=stop)
    assert (result.state, result.exit_code) == ("interrupted", ExitCode.INTERRUPTED)


# -- --check-ids ---------------------------------------------------------------------------


def test_check_ids_drops_unknown_contacts_up_front() -> None:
    plan = plan_of(6)
    unknown = [cid(1), cid(4)]
    transport = FakeTransport(missing=unknown)
    result = execute(plan, transport, SendOptions(batch_size=10, check_ids=True))
    assert transport.asked == [[u.contact_id for u in plan.updates]]
    assert transport.sent == [[cid(0), cid(2), cid(3), cid(5)]]
    in_plan_order(result, plan)
    for u in unknown:
        assert result.results[int(u[-1])] == ContactResult(
            u, ContactState.NOT_FOUND, 404, NOT_FOUND, 0
        )
    assert len(result.ok) == 4
    assert result.exit_code == ExitCode.SOME_FAILED
    assert any("2 contact(s) not found" in note for note in result.notes)


def test_check_ids_sends_everything_when_dex_will_not_say() -> None:
    plan = plan_of(4)
    transport = FakeTransport(silent=True)
    result = execute(plan, transport, SendOptions(check_ids=True))
    assert transport.sent_ids == [u.contact_id for u in plan.updates]
    assert result.exit_code == ExitCode.OK
    assert any("would not say" in note for note in result.notes)


def test_without_check_ids_nothing_is_asked_up_front() -> None:
    transport = FakeTransport()
    execute(plan_of(4), transport, SendOptions())
    assert transport.asked == []


# -- auth refusal and the journal ----------------------------------------------------------


def journal_for(runs: Path, plan: Plan, options: SendOptions) -> Journal:
    return Journal.create(runs, plan, argv=["dexbulk", "set"], api_url=API,
                          options=options.to_json())  # fmt: skip


@pytest.mark.parametrize("refuse_after", [0, 2])
def test_auth_refusal_propagates_and_is_journaled(tmp_path: Path, refuse_after: int) -> None:
    plan = plan_of(30)
    options = SendOptions(batch_size=5, concurrency=1)
    journal = journal_for(tmp_path, plan, options)
    transport = FakeTransport(refuse_after=refuse_after)
    with pytest.raises(AuthRefused):
        execute(plan, transport, options, journal=journal)
    run = load_run(tmp_path, journal.run_id)
    assert run.state == "auth-refused"
    assert run.ends[-1]["summary"]["state"] == "auth-refused"
    assert len(run.confirmed) == 5 * refuse_after
    assert TEST_KEY not in run.path.read_text()


def test_every_batch_is_journaled(tmp_path: Path) -> None:
    plan = plan_of(12)
    options = SendOptions(batch_size=4, concurrency=3)
    journal = journal_for(tmp_path, plan, options)
    result = execute(plan, FakeTransport(bad=[cid(7)]), options, journal=journal)
    assert result.run_id == journal.run_id
    run = load_run(tmp_path, journal.run_id)
    assert run.state == "completed"
    assert run.confirmed == {r.contact_id for r in result.ok}
    assert set(run.failed) == {cid(7)}
    assert run.requests == result.requests
    assert run.ends[-1]["summary"] == json.loads(json.dumps(result.summary()))


class Boom(FakeTransport):
    """A transport that fails in a way nobody planned for, on its second batch."""

    def put_contacts(self, updates: Sequence[Update]) -> Outcome:
        if len(self.sent) == 1:
            raise RuntimeError("unexpected")
        return super().put_contacts(updates)


def test_an_unexpected_error_never_journals_completed(tmp_path: Path) -> None:
    plan = plan_of(6)
    options = SendOptions(batch_size=2, concurrency=1)
    journal = journal_for(tmp_path, plan, options)
    with pytest.raises(RuntimeError):
        execute(plan, Boom(), options, journal=journal)
    run = load_run(tmp_path, journal.run_id)
    assert run.state == "crashed"
    assert [u.contact_id for u in run.pending] == [cid(i) for i in range(2, 6)]


# -- --check-ids reach the journal ---------------------------------------------------------


def test_check_ids_failures_are_journaled(tmp_path: Path) -> None:
    plan = plan_of(6)
    unknown = [cid(1), cid(4)]
    options = SendOptions(batch_size=10, check_ids=True)
    journal = journal_for(tmp_path, plan, options)
    result = execute(plan, FakeTransport(missing=unknown), options, journal=journal)
    run = load_run(tmp_path, journal.run_id)
    assert run.failed == {r.contact_id: r for r in result.failed}
    assert set(run.failed) == set(unknown)
    assert {r.state for r in run.failed.values()} == {ContactState.NOT_FOUND}
    assert [u.contact_id for u in run.failed_updates] == unknown  # what retry --failed sends
    records = [json.loads(line) for line in run.path.read_text().splitlines()]
    by = [r for r in records if r.get("by") == "check-ids"]
    assert len(by) == 1
    assert by[0]["requests"] == 0
    assert [f[0] for f in by[0]["failed"]] == unknown


class Chaos(FakeTransport):
    """Every way a contact can end: updated, rejected, missing, failed after retries."""

    def __init__(self, *, failing: Sequence[str] = (), **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.failing = set(failing)

    def put_contacts(self, updates: Sequence[Update]) -> Outcome:
        if any(u.contact_id in self.failing for u in updates):
            with self._lock:
                self.sent.append([u.contact_id for u in updates])
            return Outcome("failed", 503, None, "HTTP 503 after 5 attempts", 5)
        return super().put_contacts(updates)


SCENARIOS = {
    "clean": ({}, {}),
    "rejected": ({"bad": [cid(3), cid(11)]}, {}),
    "missing": ({"missing": [cid(0), cid(17)]}, {}),
    "check-ids": ({"missing": [cid(5), cid(6)]}, {"check_ids": True}),
    "server-down": ({"failing": [cid(8)]}, {}),
    "everything": ({"bad": [cid(2)], "missing": [cid(9)], "failing": [cid(14)]},
                   {"check_ids": True}),
    "stopped": ({"bad": [cid(1)]}, {"stop_after": 2}),
}  # fmt: skip


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_counts_reconcile_in_the_result_and_the_journal(tmp_path: Path, scenario: str) -> None:
    """selected = updated + failed + not sent, in the result, the journal, and between them."""
    transport_args, option_args = SCENARIOS[scenario]
    stop_after = option_args.pop("stop_after", None) if option_args else None
    plan = plan_of(20)
    options = SendOptions(batch_size=3, concurrency=2, **option_args)
    journal = journal_for(tmp_path, plan, options)
    stop = threading.Event()
    seen: list[int] = []

    def progress(n: int) -> None:
        seen.append(n)
        if stop_after is not None and len(seen) >= stop_after:
            stop.set()

    transport = Chaos(**transport_args)
    result = execute(plan, transport, options, journal=journal, stop=stop, progress=progress)
    summary = result.summary()
    assert summary["selected"] == summary["confirmed"] + summary["failed"] + summary["notSent"]
    assert len(result.results) == result.selected == plan.total
    run = load_run(tmp_path, journal.run_id).summary()
    assert run["total"] == run["updated"] + run["failed"] + run["notSent"]
    assert (run["total"], run["updated"], run["failed"], run["notSent"]) == (
        summary["selected"], summary["confirmed"], summary["failed"], summary["notSent"],
    )  # fmt: skip
    assert run["state"] == summary["state"]


# -- a journal that cannot be written ------------------------------------------------------


class BreakingJournal(Journal):
    """A journal whose disk fills up after ``writes`` batch records."""

    writes = 1

    def record_batch(self, report: BatchReport, *, by: str | None = None) -> None:
        if self.writes <= 0:
            raise JournalError(f"cannot write the run journal {self.path}: No space left on device")
        self.writes -= 1
        super().record_batch(report, by=by)


def breaking_journal(runs: Path, plan: Plan, options: SendOptions, writes: int) -> Journal:
    journal = journal_for(runs, plan, options)
    journal.__class__ = BreakingJournal
    journal.writes = writes  # type: ignore[attr-defined]
    return journal


@pytest.mark.parametrize("concurrency", [1, 3])
def test_a_journal_that_cannot_be_written_stops_the_run(tmp_path: Path, concurrency: int) -> None:
    plan = plan_of(30)
    options = SendOptions(batch_size=3, concurrency=concurrency)
    journal = breaking_journal(tmp_path, plan, options, writes=1)
    transport = FakeTransport()
    result = execute(plan, transport, options, journal=journal)
    assert result.state == "journal-failed"
    assert result.exit_code == ExitCode.UNREACHABLE
    # The second batch's record failed: no batch was taken after it; those in flight settled.
    assert len(transport.sent) <= 1 + concurrency
    sent = set(transport.sent_ids)
    assert {r.contact_id for r in result.ok} == sent  # what was answered is not hidden
    assert result.not_sent == 30 - len(sent) > 0
    assert any("No space left on device: sending stopped at once" in n for n in result.notes)
    run = load_run(tmp_path, journal.run_id)  # readable, and resumable for the rest
    assert run.confirmed == set(transport.sent[0])
    assert run.state == "crashed"
    assert not (tmp_path / f"{journal.run_id}.lock").exists()


def test_a_journal_that_cannot_record_check_ids_sends_nothing(tmp_path: Path) -> None:
    plan = plan_of(6)
    options = SendOptions(check_ids=True)
    journal = breaking_journal(tmp_path, plan, options, writes=0)
    transport = FakeTransport(missing=[cid(2)])
    result = execute(plan, transport, options, journal=journal)
    assert transport.sent == []
    assert result.state == "journal-failed"
    assert result.exit_code == ExitCode.UNREACHABLE
    assert result.not_sent == 5
    assert [r.state for r in result.failed] == [ContactState.NOT_FOUND]


def test_an_end_that_cannot_be_written_is_noted_not_raised(tmp_path: Path) -> None:
    plan = plan_of(3)
    options = SendOptions()
    journal = journal_for(tmp_path, plan, options)

    def full(*_args: object, **_kw: object) -> None:
        journal.close()
        raise JournalError("cannot write the run journal X: No space left on device")

    journal.finish = full  # type: ignore[method-assign]
    result = execute(plan, FakeTransport(), options, journal=journal)
    assert result.exit_code == ExitCode.OK
    assert any("the run's end was not recorded" in n for n in result.notes)


# -- figures -------------------------------------------------------------------------------


def test_summary_figures() -> None:
    plan = plan_of(10, duplicates=2)
    # Batches [0-3] (first attempt retried twice), [4-7] (5 is bad: 5 requests), [8-9]
    # (Dex updates 1 of 2: 9 does not exist).
    transport = FakeTransport(bad=[cid(5)], missing=[cid(9)], first_attempts=3)
    ticks = iter([100.0, 102.5])
    settled: list[int] = []
    result = execute(
        plan, transport, SendOptions(batch_size=4, concurrency=1), progress=settled.append,
        throttle_count=lambda: 3, clock=lambda: next(ticks),
    )  # fmt: skip
    assert result.summary() == {
        "runId": None, "state": "completed", "selected": 10, "duplicates": 2, "sent": 10,
        "updated": 8, "confirmed": 8, "failed": 2, "notSent": 0, "unchanged": 0, "batches": 3,
        "requests": 7,
        "retries": 2, "throttled": 3, "batchSize": 4, "elapsed": 2.5, "contactsPerSecond": 3.2,
        "error": None,
    }  # fmt: skip
    assert settled == [4, 4, 2]
    failed = {r.contact_id: (r.status, r.error) for r in result.failed}
    assert failed == {cid(5): (400, "invalid contactId"), cid(9): (200, NOT_FOUND)}
    assert result.exit_code == ExitCode.SOME_FAILED


def test_a_shrunk_batch_size_is_noted() -> None:
    class Small(FakeTransport):
        def put_contacts(self, updates: Sequence[Update]) -> Outcome:
            if len(updates) > 2:
                self.sent.append([u.contact_id for u in updates])
                return Outcome("too_large", 413, None, "payload too large", 1)
            return super().put_contacts(updates)

    result = execute(plan_of(9), Small(), SendOptions(batch_size=8, concurrency=2))
    assert result.exit_code == ExitCode.OK
    assert result.batch_size == 2
    assert any("batch size now 2" in note for note in result.notes)


def test_unchanged_contacts_are_reported_not_sent_and_not_failed() -> None:
    transport = FakeTransport()
    result = execute(plan_of(2), transport, SendOptions(), unchanged=[cid(8), cid(9)])
    assert transport.sent_ids == [cid(0), cid(1)]
    assert [r.state for r in result.results] == [ContactState.UPDATED] * 2 + [
        ContactState.UNCHANGED
    ] * 2
    assert (result.selected, result.sent, result.unchanged, len(result.failed)) == (4, 2, 2, 0)
    assert result.summary()["unchanged"] == 2
    assert result.exit_code == ExitCode.OK
    assert not ContactState.UNCHANGED.retryable
    assert "2 contact(s) unchanged" in result.notes[0]


def test_nothing_but_unchanged_contacts_sends_nothing_and_exits_0() -> None:
    transport = FakeTransport()
    result = execute(plan_of(0), transport, SendOptions(), unchanged=[cid(1)])
    assert transport.sent == []
    assert result.exit_code == ExitCode.OK
    assert result.sent == 0


def test_stop_after_sends_a_canary_and_the_rest_can_be_resumed(tmp_path: Path) -> None:
    plan = plan_of(10)
    journal = Journal.create(tmp_path, plan, argv=["dexbulk"], api_url=API, options={})
    transport = FakeTransport()
    result = execute(plan, transport, SendOptions(batch_size=2), journal=journal, stop_after=3)
    assert transport.sent_ids == [cid(0), cid(1), cid(2)]
    assert result.state == "stopped"
    assert result.exit_code == ExitCode.OK  # only what it sent counts
    assert result.not_sent == 7
    assert result.results[5].error == "not sent: --stop-after 3"
    run = load_run(tmp_path, journal.run_id)
    assert run.state == "stopped"
    assert [u.contact_id for u in run.pending] == [cid(i) for i in range(3, 10)]


def test_a_canary_that_fails_exits_like_any_failure() -> None:
    # Dex rejected the one contact the canary sent: it was reached, so 1, as for any rejection.
    result = execute(plan_of(4), FakeTransport(bad=[cid(0)]), SendOptions(), stop_after=1)
    assert result.exit_code == ExitCode.SOME_FAILED
    assert result.not_sent == 3


# -- dry run -------------------------------------------------------------------------------


def test_describe_shows_the_first_request_without_the_key() -> None:
    plan = plan_of(5, duplicates=1)
    shown = describe(plan, SendOptions(batch_size=2, concurrency=3), API)
    assert shown["firstRequest"] == {
        "method": "PUT",
        "url": f"{API}/contacts/",
        "headers": {"Authorization": "Bearer <redacted>", "Content-Type": "application/json"},
        "body": [{"contactId": cid(0), "data": PATCH}, {"contactId": cid(1), "data": PATCH}],
    }
    assert (shown["selected"], shown["duplicates"], shown["batches"]) == (5, 1, 3)
    assert (shown["batchSize"], shown["concurrency"], shown["data"]) == (2, 3, PATCH)
    assert shown["dryRun"] is True
    assert TEST_KEY not in json.dumps(shown)


def test_describe_an_empty_plan() -> None:
    shown = describe(plan_of(0), SendOptions(), API)
    assert shown["firstRequest"] is None
    assert shown["batches"] == 0
