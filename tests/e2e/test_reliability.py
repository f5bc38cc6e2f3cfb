"""Fault injection over real sockets: nothing lost, nothing reported wrongly.

Each scenario runs ``dexbulk set company=<unique> --from ids.txt`` against a sandbox playing one
fault, under both ways Dex may treat an unknown contact inside a batch (``--unknown-ids skip``:
short ``count``; ``reject``: the whole batch refused with 404). One unknown UUID is always in
the selection. The verdict comes from the sandbox's own state and counters, never from what
dexbulk says about itself:

* every contact reported ok has the new value, and every contact with it was reported ok;
* every selected contact is in ``--results`` exactly once, in input order; ok + failed = all;
* the unknown contact (and, where played, the rejected one) failed with a reason, unchanged;
  ``--failed-to`` lists exactly the failures; exit 1;
* retries and 429s are counted, and match what the sandbox saw;
* ``dexbulk retry last --failed`` resends the failures and nothing else.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Result, SandboxApi
from tests.e2e.faults import (
    changed_fields,
    read_jsonl,
    read_lines,
    sent_ids_from_debug,
    snapshot,
    tolerate_faults,
    unknown_id,
    write_ids,
)

BOOK = 260
"""Contacts in each sandbox; ``SELECTED`` of them are selected, the rest must stay untouched."""
SELECTED = 250
MAX_ATTEMPTS = "8"


@dataclass(frozen=True)
class Scenario:
    name: str
    flags: tuple[str, ...]
    batch_size: int
    retries: bool = False
    """The fault must have cost retries."""
    throttled: bool = False
    """The fault must have cost 429s."""
    reject: bool = False
    """One selected contact is refused by the sandbox (``--reject``)."""
    max_batch: int | None = None
    drops: bool = False
    """Dropped connections are not answered, so the sandbox cannot count those PUTs."""


SCENARIOS = [
    # The sandbox's fault dice are seeded (--seed 7): at 10% its 4th request already fails (or
    # is dropped), so "retries > 0" is certain, not merely likely, whatever the thread timing.
    # 5xx: backoff is 0.25-0.5 s, 0.5-1 s, ... so 30% with batches of 50 stays around 2-3 s.
    Scenario("5xx-10pct", ("--fail-rate", "0.1"), 50, retries=True),
    Scenario("5xx-30pct", ("--fail-rate", "0.3"), 50, retries=True),
    Scenario("drops-10pct", ("--drop-rate", "0.1"), 50, retries=True, drops=True),
    # 8 requests/s with a burst of 8: 13+ PUTs of 20 from 4 workers overrun it at once;
    # Retry-After is 1 s and the run then paces itself, so this is the slowest case (~5 s).
    Scenario("429", ("--rate-limit", "8/s"), 20, throttled=True),
    Scenario("rejected-contact", (), 100, reject=True),
    Scenario("max-batch-30", ("--max-batch", "30"), 100, max_batch=30),
]


def _scenario_id(scenario: Scenario) -> str:
    return scenario.name


@pytest.mark.parametrize("unknown_mode", ["skip", "reject"])
@pytest.mark.parametrize("scenario", SCENARIOS, ids=_scenario_id)
def test_every_contact_is_updated_or_reported(
    scenario: Scenario,
    unknown_mode: str,
    sandbox: Callable[..., SandboxApi],
    dexbulk: Callable[..., Result],
    tmp_path: Path,
) -> None:
    rng = random.Random(f"{scenario.name}/{unknown_mode}")
    book_flags = ("--contacts", str(BOOK), "--seed", "7")
    # The same seed gives the same book. Read it from a fault-free twin, so the faulty sandbox
    # sees no traffic but the run's (its counters and its fault dice belong to dexbulk).
    probe = sandbox(*book_flags)
    before = snapshot(probe)
    missing = unknown_id(rng)
    assert probe.contact(missing) is None
    probe.stop()
    assert len(before) == BOOK
    rejected = list(before)[rng.randrange(100, 200)] if scenario.reject else None
    faults = ("--reject", rejected) if rejected else scenario.flags
    api = sandbox(*book_flags, "--unknown-ids", unknown_mode, *faults)

    # A shuffled selection (so "input order" is not the sandbox's order), one unknown inside.
    chosen = [cid for cid in before if cid != rejected]
    rng.shuffle(chosen)
    selection = chosen[: SELECTED - (1 if rejected else 0)]
    if rejected is not None:
        selection.insert(rng.randrange(10, len(selection) - 10), rejected)
    selection.insert(rng.randrange(10, len(selection) - 10), missing)
    assert len(selection) == len(set(selection)) == SELECTED + 1
    expected_failures = [cid for cid in selection if cid in (missing, rejected)]

    value = f"Reliability {scenario.name} {unknown_mode} {rng.getrandbits(32):08x}"
    ids_file = write_ids(tmp_path / "ids.txt", selection)
    send_flags = (
        "--batch-size", str(scenario.batch_size), "--max-attempts", MAX_ATTEMPTS,
        "--concurrency", "4",
    )  # fmt: skip
    result = dexbulk(
        "set", f"company={value}", "--from", str(ids_file), "--results", "results.jsonl",
        "--failed-to", "failed.txt", "--json", *send_flags, api=api, timeout=60,
    )  # fmt: skip
    stats = api.stats()
    after = snapshot(tolerate_faults(api))
    assert set(after) == set(before)

    # Exit code and document.
    assert result.code == 1, result
    doc = result.json()
    assert doc["exitCode"] == 1
    assert doc["state"] == "completed"

    # Every selected contact exactly once, in input order; ok + failed = selected.
    results = read_jsonl(tmp_path / "results.jsonl")
    assert [r["contactId"] for r in results] == selection
    ok_ids = {r["contactId"] for r in results if r["ok"] is True}
    failed = [r for r in results if r["ok"] is not True]
    assert len(ok_ids) + len(failed) == len(selection)
    assert (doc["selected"], doc["sent"], doc["notSent"]) == (len(selection), len(selection), 0)
    assert doc["confirmed"] == len(ok_ids)
    assert doc["failed"] == len(failed)

    # None reported wrongly: "ok" <=> the sandbox holds the new value.
    has_value = {cid for cid, c in after.items() if c["company"] == value}
    assert ok_ids == has_value, (
        f"reported ok but unchanged: {sorted(ok_ids - has_value)[:5]}; "
        f"changed but not reported ok: {sorted(has_value - ok_ids)[:5]}"
    )
    # ... and nothing but the company changed, on selected contacts only.
    for cid, old in before.items():
        changed = changed_fields(old, after[cid])
        assert changed == ({"company"} if cid in ok_ids else set()), (cid, changed)

    # Exactly the unknown and the rejected contact failed, each with a reason.
    assert [r["contactId"] for r in failed] == expected_failures, failed
    reasons = {r["contactId"]: r for r in failed}
    assert "not found" in (reasons[missing]["error"] or "").lower(), reasons[missing]
    if unknown_mode == "reject":
        assert reasons[missing]["status"] == 404, reasons[missing]
    assert api.contact(missing) is None
    if rejected is not None:
        record = reasons[rejected]
        assert record["status"] == 400, record
        assert "cannot be updated" in (record["error"] or ""), record  # the API's own words
        assert after[rejected] == before[rejected]  # not even updated_at moved
    assert read_lines(tmp_path / "failed.txt") == expected_failures
    assert [f["contactId"] for f in doc["failures"]] == expected_failures
    assert all(f["error"] for f in doc["failures"])

    # The sandbox applied each confirmed contact once: no batch was applied twice.
    assert stats["contacts_updated"] == len(ok_ids) == doc["updated"]

    # Retries and throttles are counted, and agree with what the sandbox answered.
    attempts = doc["requests"] + doc["retries"]
    if scenario.drops:
        assert stats["dropped"] > 0
        assert stats["put_requests"] <= attempts <= stats["put_requests"] + stats["dropped"]
    else:
        # Every PUT attempt is counted; retries also count retried existence checks.
        assert doc["requests"] <= stats["put_requests"] <= attempts, (stats, doc)
    if scenario.retries:
        assert doc["retries"] > 0, doc
    if scenario.throttled:
        assert stats["by_status"].get("429", 0) > 0, stats
        assert doc["throttled"] > 0, doc
        assert doc["throttled"] == stats["by_status"]["429"], (stats, doc)
    else:
        assert doc["throttled"] == 0, doc
    if not (scenario.retries or scenario.throttled):
        assert doc["retries"] == 0, doc

    if scenario.reject:
        _check_bisection_cost(doc, stats, unknown_mode, len(selection), scenario.batch_size)
    if scenario.max_batch is not None:
        assert doc["batchSize"] <= scenario.max_batch, doc
        assert any("too large" in n and "batch size now" in n for n in doc["notes"]), doc
        assert stats["by_status"].get("413", 0) >= 1, stats
    else:
        assert doc["batchSize"] == scenario.batch_size, doc

    _check_journal(dexbulk, api, doc, len(ok_ids), expected_failures)
    _check_retry_failed(dexbulk, api, tmp_path, send_flags, expected_failures, scenario, value)


def doc_counts(doc: dict[str, Any]) -> tuple[int, int, int]:
    """(selected, confirmed, failed) of a ``--json`` result, checked for consistency."""
    assert doc["selected"] == doc["confirmed"] + doc["failed"] + doc["notSent"], doc
    return doc["selected"], doc["confirmed"], doc["failed"]


def _check_bisection_cost(
    doc: dict[str, Any], stats: dict[str, Any], unknown_mode: str, selected: int, batch: int
) -> None:
    """A bad contact costs at most two PUTs per halving level of its batch.

    Splitting a refused part of n contacts into halves costs 2 requests and the bad contact is
    then in a part of at most ceil(n/2), so isolating it takes at most ceil(log2(batch)) levels:
    2 * 7 = 14 extra PUTs for a batch of 100. The contacts that make a batch fail are the
    rejected one, plus the unknown one when the sandbox refuses unknown contacts (in skip mode
    it only shortens ``count``, which costs a filter request, not a PUT). This scenario plays no
    transient fault, so no retries are allowed either: the slack is zero.
    """
    batches = math.ceil(selected / batch)
    bad = 2 if unknown_mode == "reject" else 1
    bound = batches + bad * 2 * math.ceil(math.log2(batch))
    assert doc["batches"] == batches, doc
    assert doc["retries"] == 0, doc
    assert doc["requests"] > batches, doc  # the refused batch really was split
    assert stats["put_requests"] <= bound, (stats, bound)


def _check_journal(
    dexbulk: Callable[..., Result],
    api: SandboxApi,
    doc: dict[str, Any],
    confirmed: int,
    failures: list[str],
) -> None:
    shown = dexbulk("runs", "show", doc["runId"], "--json", api=api)
    assert shown.code == 0, shown
    run = shown.json()
    assert run["runId"] == doc["runId"]
    assert (run["total"], run["updated"], run["failed"], run["notSent"]) == (
        confirmed + len(failures), confirmed, len(failures), 0,
    )  # fmt: skip
    assert run["state"] == "completed"
    assert sorted(f["contactId"] for f in run["failures"]) == sorted(failures)


def _check_retry_failed(
    dexbulk: Callable[..., Result],
    api: SandboxApi,
    tmp_path: Path,
    send_flags: tuple[str, ...],
    failures: list[str],
    scenario: Scenario,
    value: str,
) -> None:
    """``retry last --failed`` sends the failed contacts again, and only those."""
    stats = api.stats()
    before = snapshot(api)
    again = dexbulk(
        "retry", "last", "--failed", "--json", "--debug", "--results", "retry.jsonl",
        *send_flags, api=api, timeout=60,
    )  # fmt: skip
    delta = api.stats()
    after = snapshot(api)
    # Every contact sent again fails again, refused or not found by Dex: the run reached Dex,
    # so exit 1 (4 is only for an API that could not be reached or used).
    assert again.code == 1, again
    doc = again.json()
    assert (doc["selected"], doc["confirmed"], doc["failed"]) == (len(failures), 0, len(failures))
    assert [r["contactId"] for r in read_jsonl(tmp_path / "retry.jsonl")] == failures

    bodies = sent_ids_from_debug(again.stderr)
    assert bodies, again.stderr[-2000:]
    assert {cid for body in bodies for cid in body} == set(failures), bodies
    assert delta["contacts_updated"] == stats["contacts_updated"]
    puts = delta["put_requests"] - stats["put_requests"]
    if scenario.drops:
        assert puts <= doc["requests"] + doc["retries"]
    else:
        # Retries also count retried existence checks, so PUTs alone can be fewer.
        assert doc["requests"] <= puts <= doc["requests"] + doc["retries"], (puts, doc)
    # One PUT with every failure, then (if refused) halves down to single contacts.
    assert doc["requests"] <= 2 * len(failures) - 1, doc
    assert after == before
    assert not any(c["company"] == value for c in after.values() if c["id"] in failures)


def test_a_retried_check_request_is_counted(
    sandbox: Callable[..., SandboxApi], dexbulk: Callable[..., Result], tmp_path: Path
) -> None:
    """Retries of the "which contacts exist?" request count too ("every retry is counted").

    A bucket of one request per second (starting full) lets the PUT through; the filter
    request that checks the short count follows within milliseconds, gets 429 with
    Retry-After: 1, and succeeds when retried. The first retry goes at the 429's Date plus
    Retry-After, which a bucket may refuse once more (it refills on its own clock, not on the
    second); then the full Retry-After. Every answer beyond the 2 logical requests is a retry
    of a 429, and each is counted.
    """
    probe = sandbox("--contacts", "20", "--seed", "7")
    ids = probe.ids(5)
    probe.stop()
    missing = unknown_id(random.Random("check-request"))
    api = sandbox("--contacts", "20", "--seed", "7", "--rate-limit", "1/s")
    result = dexbulk(
        "set", "company=Counted", "--ids", ",".join([*ids, missing]), "--json",
        "--concurrency", "1", "--no-read", api=api,
    )  # fmt: skip
    stats = api.stats()
    assert result.code == 1, result
    doc = result.json()
    assert (doc["confirmed"], doc["failed"]) == (5, 1), doc
    refused = stats["by_status"].get("429", 0)
    assert stats["by_status"] == {"200": 2, "429": refused}, stats
    assert 1 <= refused <= 2, stats
    assert stats["put_requests"] == 1, stats
    assert doc["throttled"] == refused, doc
    assert doc["retries"] == stats["requests"] - 2 == refused, (doc, stats)


def test_exhausted_retries_are_reported_then_retried_to_exit_0(
    sandbox: Callable[..., SandboxApi], dexbulk: Callable[..., Result], tmp_path: Path
) -> None:
    """A batch that fails every attempt is listed as failed with the HTTP reason, never lost.

    With one attempt and 30% random 5xx, some batches fail outright (P(all 10 succeed) = 3%,
    and the first batches go alone until one works, so P(none succeeds) is nil). ``retry last
    --failed`` with enough attempts (P(10 failures in a row) = 6e-6) then updates exactly
    those contacts: exit 0, and the sandbox applied every contact once.
    """
    api = tolerate_faults(sandbox("--contacts", "200", "--seed", "7", "--fail-rate", "0.3"))
    selection = api.ids()
    rng = random.Random("exhausted")
    rng.shuffle(selection)
    ids_file = write_ids(tmp_path / "ids.txt", selection)
    value = "Exhausted then retried"
    flags = ("--batch-size", "20", "--concurrency", "4", "--json")
    first = dexbulk(
        "set", f"company={value}", "--from", str(ids_file), "--results", "results.jsonl",
        "--failed-to", "failed.txt", "--max-attempts", "1", "--no-read", *flags, api=api,
        timeout=60,
    )  # fmt: skip
    stats = api.stats()
    results = read_jsonl(tmp_path / "results.jsonl")
    assert [r["contactId"] for r in results] == selection
    failed = [r for r in results if not r["ok"]]
    ok_ids = {r["contactId"] for r in results if r["ok"]}
    assert failed, "no batch failed: the fault did not play"
    assert ok_ids, first
    assert first.code == 1, first
    assert doc_counts(first.json()) == (len(selection), len(ok_ids), len(failed))
    assert first.json()["retries"] == 0
    for record in failed:
        assert record["status"] in (500, 502, 503), record
        assert (record["error"] or "").startswith(f"HTTP {record['status']}"), record
        assert record["attempts"] == 1, record
    failed_ids = [r["contactId"] for r in failed]
    assert read_lines(tmp_path / "failed.txt") == failed_ids
    has_value = {c for c, v in snapshot(api).items() if v["company"] == value}
    assert has_value == ok_ids
    assert stats["contacts_updated"] == len(ok_ids)

    again = dexbulk(
        "retry", "last", "--failed", "--debug", "--max-attempts", "10", *flags, api=api,
        timeout=60,
    )  # fmt: skip
    assert again.code == 0, again
    doc = again.json()
    assert doc_counts(doc) == (len(failed_ids), len(failed_ids), 0)
    bodies = sent_ids_from_debug(again.stderr)
    assert sorted(cid for body in bodies for cid in body) == sorted(failed_ids)
    after = snapshot(api)
    assert all(c["company"] == value for c in after.values())
    assert api.stats()["contacts_updated"] == len(selection)  # each contact applied once
