"""Tests for dexbulk.engine: one run against a fake transport, its result, exit code, journal."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from dexbulk.answers import Outcome
from dexbulk.batches import NOT_FOUND, ContactResult, ContactState
from dexbulk.engine import NOT_SENT, RunResult, SendOptions, describe, execute
from dexbulk.errors import AuthRefused, ExitCode
from dexbulk.journal import Journal, load_run
from dexbulk.plan import Plan, Update
from tests.conftest import TEST_KEY

API = "https://dex.test/v1"
PATCH = {"company": "Acme"}


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
        silent: bool = False,
        first_attempts: int = 1,
    ) -> None:
        self.bad = set(bad)
        self.missing = set(missing)
        self.refuse_after = refuse_after
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
        (tuple(cid(i) for i in range(20)), (), ExitCode.UNREACHABLE, 0),
        ((), tuple(cid(i) for i in range(20)), ExitCode.UNREACHABLE, 0),
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
    result = execute(plan_of(4), FakeTransport(bad=[cid(0)]), SendOptions(), stop_after=1)
    assert result.exit_code == ExitCode.UNREACHABLE


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
