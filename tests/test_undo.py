"""Tests for dexbulk.undo: a run's inverse plan from its journal and the values held now.

Journals are written by hand with :class:`~dexbulk.journal.Journal` (the plan, the ``before``
records a run with the read keeps, batch records), read back, and set beside current contacts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from dexbulk.batches import BatchReport, ContactResult, ContactState
from dexbulk.configfile import show_path
from dexbulk.errors import InvalidInput
from dexbulk.journal import Journal
from dexbulk.journal_read import RunState, read_run
from dexbulk.plan import MEMBERSHIP, Plan, Update
from dexbulk.preview import UNKNOWN
from dexbulk.runlock import lock_path
from dexbulk.undo import (
    Conflict,
    Lost,
    build_undo,
    check_undoable,
    fields_to_read,
    restorable,
    undo_ids,
    undo_links,
    undo_status,
)

A, B, C = (f"00000000-0000-4000-8000-00000000000{n}" for n in (1, 2, 3))
TAG = "tag:11111111-1111-4111-8111-111111111111"
GROUP = "group:22222222-2222-4222-8222-222222222222"


def journal_of(
    runs: Path,
    plan: Plan,
    before: Sequence[Mapping[str, object]] = (),
    *,
    ok: Sequence[str] | None = None,
    failed: Sequence[str] = (),
    read: bool = True,
    end: bool = True,
) -> RunState:
    """A run of ``plan`` that kept ``before``, confirmed ``ok`` (default: every contact not
    ``failed``) and failed ``failed``; read back from its journal."""
    journal = Journal.create(
        runs, plan, argv=["dexbulk"], api_url="https://dex.test/v1", options={}, read=read
    )
    if before:
        journal.record_before(before)
    ids = [u.contact_id for u in plan.updates]
    confirmed = [c for c in ids if c not in failed] if ok is None else list(ok)
    results = [ContactResult(c, ContactState.UPDATED, 200, None, 1) for c in confirmed]
    results += [ContactResult(c, ContactState.FAILED, 400, "rejected", 1) for c in failed]
    journal.record_batch(BatchReport(tuple(results), 1, 0, len(confirmed)))
    if end:
        journal.finish("completed", {})
    else:
        journal.close()
    return read_run(journal.path)


def shared(data: Mapping[str, Any], *ids: str, channel: str = "contacts") -> Plan:
    return Plan([Update(c, data) for c in ids], "set", patch=data, channel=channel)


def contact(cid: str, **fields: Any) -> dict[str, Any]:
    return {"id": cid, "full_name": "Ada", **fields}


# -- the inverse plan ---------------------------------------------------------------------------

LEFT = "(left alone)"
"""Nothing is sent back for the field."""

# (field, what the run wrote, prior value kept, value now, force) → (sent back, a conflict?)
FIELD_CASES: list[tuple[str, Any, Any, Any, bool, Any, bool]] = [
    ("company", "NewCo", "OldCo", "NewCo", False, "OldCo", False),
    ("company", "NewCo", None, "NewCo", False, None, False),  # was empty: cleared again
    ("company", "NewCo", "OldCo", "OldCo", False, "OldCo", False),  # already back: no conflict
    ("company", "NewCo", "OldCo", "Other", False, LEFT, True),  # changed since: left alone
    ("company", "NewCo", "OldCo", "Other", True, "OldCo", True),  # --force: put back anyway
    ("company", "NewCo", "OldCo", UNKNOWN, False, LEFT, True),  # not returned now: left alone
    ("starred", True, False, True, False, False, False),
    ("starred", True, None, True, False, None, False),  # a null flag comes back as null
    ("is_archived", True, False, False, False, False, False),
    ("birthday", "1990-05-02", "1985-01-01", "1990-05-02T00:00:00.000Z", False, "1985-01-01",
     False),  # a date Dex returns as a date-time is the date the run wrote
    ("birthday", "1990-05-02", "1985-01-01T00:00:00Z", "1990-05-02", False, "1985-01-01", False),
    ("last_seen_at", "2024-03-01T12:00:00Z", "2020-01-01T00:00:00.000Z",
     "2024-03-01T12:00:00.000Z", False, "2020-01-01T00:00:00.000Z", False),
    ("last_seen_at", "2024-03-01T12:00:00Z", None, "2024-03-02T00:00:00Z", False, LEFT, True),
    ("contact_emails", [{"email": "a@x.io"}], [{"email": "old@x.io", "label": "work"}],
     [{"email": "a@x.io"}], False, [{"email": "old@x.io", "label": "work"}], False),
    ("contact_emails", [{"email": "a@x.io"}], [], [{"email": "b@x.io"}], False, LEFT, True),
    ("birthday_year", 1990, 1985, 1990, False, 1985, False),
    ("linkedin_data", {"a": 1}, {"b": 2}, {"a": 1}, False, {"b": 2}, False),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "wrote", "prior", "now", "force", "back", "conflict"), FIELD_CASES
)
def test_each_field_goes_back_unless_changed_since(
    tmp_path: Path, name: str, wrote: Any, prior: Any, now: Any, force: bool, back: Any,
    conflict: bool,
) -> None:  # fmt: skip
    run = journal_of(tmp_path, shared({name: wrote}, A), [{"contactId": A, "data": {name: prior}}])
    current = {A: contact(A) if now is UNKNOWN else contact(A, **{name: now})}
    undo = build_undo(run, current, force=force)
    sent = [u.to_api() for u in undo.plan.updates]
    assert sent == ([] if back == LEFT else [{"contactId": A, "data": {name: back}}])
    expected = [Conflict(A, name, wrote, now, restorable(name, prior))] if conflict else []
    assert list(undo.conflicts) == expected
    assert undo.lost == ()


def test_a_patch_sends_back_only_the_fields_it_changed_on_each_contact(tmp_path: Path) -> None:
    data = {"company": "NewCo", "job_title": "CTO"}
    before = [
        {"contactId": A, "data": {"company": "OldCo", "job_title": "Dev"}},
        {"contactId": B, "data": {"job_title": None}},  # company was NewCo already
    ]
    run = journal_of(tmp_path, shared(data, A, B), before)
    current = {A: contact(A, **data), B: contact(B, **data)}
    undo = build_undo(run, current)
    assert [u.to_api() for u in undo.plan.updates] == [
        {"contactId": A, "data": {"company": "OldCo", "job_title": "Dev"}},
        {"contactId": B, "data": {"job_title": None}},
    ]
    assert (undo.conflicts, undo.lost) == ((), ())


def test_fields_a_shared_patch_sent_unchanged_are_neither_sent_back_nor_conflicts(
    tmp_path: Path,
) -> None:
    # B held company NewCo before the run (its record says so); someone changed it since.
    data = {"company": "NewCo", "job_title": "CTO"}
    before = [{"contactId": B, "data": {"company": "NewCo", "job_title": "Dev"}}]
    run = journal_of(tmp_path, shared(data, B), before)
    undo = build_undo(run, {B: contact(B, company="Other", job_title="CTO")}, force=True)
    assert [u.to_api() for u in undo.plan.updates] == [
        {"contactId": B, "data": {"job_title": "Dev"}}
    ]
    assert undo.conflicts == ()


def test_null_and_the_empty_string_are_told_apart(tmp_path: Path) -> None:
    # job_title was null and the run wrote "": the null goes back, and "" now is what it wrote.
    data = {"job_title": "", "company": "Z"}
    before = [{"contactId": A, "data": {"job_title": None, "company": "OldCo"}}]
    run = journal_of(tmp_path, shared(data, A), before)
    undo = build_undo(run, {A: contact(A, job_title="", company="Z")})
    assert [u.to_api() for u in undo.plan.updates] == [
        {"contactId": A, "data": {"job_title": None, "company": "OldCo"}}
    ]
    # And an unset of "" puts "" back.
    unset = journal_of(tmp_path, shared({"job_title": None}, B), [
        {"contactId": B, "data": {"job_title": ""}}
    ])  # fmt: skip
    back = build_undo(unset, {B: contact(B, job_title=None)})
    assert [u.to_api() for u in back.plan.updates] == [{"contactId": B, "data": {"job_title": ""}}]


# What an unconfirmed contact (failed, or in flight when the run died) holds now → sent back?
UNCONFIRMED_CASES = [
    ("NewCo", "OldCo"),  # what the run wrote: Dex took it after all, so it goes back
    ("OldCo", None),  # its prior value: the run did not change it; not listed
    ("Other", None),  # neither: someone else's value; left alone, and not a conflict
    (UNKNOWN, None),  # not found now: left alone
]


@pytest.mark.parametrize(("now", "back"), UNCONFIRMED_CASES)
def test_a_failed_contact_goes_back_only_where_it_holds_what_the_run_wrote(
    tmp_path: Path, now: Any, back: Any
) -> None:
    # B timed out: the journal says failed, but Dex may have taken the write.
    before = [{"contactId": c, "data": {"company": "OldCo"}} for c in (A, B)]
    run = journal_of(tmp_path, shared({"company": "NewCo"}, A, B), before, ok=[A], failed=[B])
    assert undo_ids(run) == [A, B]
    current = {A: contact(A, company="NewCo")}
    if now is not UNKNOWN:
        current[B] = contact(B, company=now)
    undo = build_undo(run, current, force=True)
    expected = [{"contactId": A, "data": {"company": "OldCo"}}]
    if back is not None:
        expected.append({"contactId": B, "data": {"company": back}})
    assert [u.to_api() for u in undo.plan.updates] == expected
    assert (undo.conflicts, undo.lost) == ((), ())


@pytest.mark.parametrize(
    ("end", "considered"),
    [(None, [A, B]), ("aborted", [A, B]), ("crashed", [A, B]), ("stopped", [A]),
     ("interrupted", [A]), ("completed", [A])],
)  # fmt: skip
def test_contacts_never_settled_count_only_when_the_run_did_not_end_cleanly(
    tmp_path: Path, end: str | None, considered: list[str]
) -> None:
    # A confirmed; B never settled: in flight when the process was killed (no end, aborted,
    # crashed), or never sent (a graceful stop journals every batch it sent).
    before = [{"contactId": c, "data": {"company": "OldCo"}} for c in (A, B)]
    journal = Journal.create(
        tmp_path, shared({"company": "NewCo"}, A, B), argv=["dexbulk"],
        api_url="https://dex.test/v1", options={}, read=True,
    )  # fmt: skip
    journal.record_before(before)
    journal.record_batch(
        BatchReport((ContactResult(A, ContactState.UPDATED, 200, None, 1),), 1, 0, 1)
    )
    if end is None:
        journal.close()
    else:
        journal.finish(end, {})
    run = read_run(journal.path)
    assert undo_ids(run) == considered
    current = {c: contact(c, company="NewCo") for c in (A, B)}
    assert [u.contact_id for u in build_undo(run, current).plan.updates] == considered


def test_a_resume_after_a_kill_keeps_the_contacts_in_flight_then_in_question(
    tmp_path: Path,
) -> None:
    before = [{"contactId": c, "data": {"company": "OldCo"}} for c in (A, B, C)]
    run = journal_of(tmp_path, shared({"company": "NewCo"}, A, B, C), before, ok=[A], end=False)
    journal = Journal.reopen(run.path, run.run_id)  # a resume, stopped gracefully at once
    journal.record_resume("resume", ["dexbulk", "resume"])
    journal.finish("interrupted", {})
    assert undo_ids(read_run(run.path)) == [A, B, C]


def test_fields_an_unconfirmed_contact_cannot_have_undone_are_not_listed(tmp_path: Path) -> None:
    data = {"tags_contacts": {"append": [{"tag_id": TAG[4:]}]}, "company": "NewCo"}
    before = [{"contactId": A, "data": {}, "unknown": ["company"]}]
    run = journal_of(tmp_path, shared(data, A), before, ok=[], failed=[A])
    undo = build_undo(run, {A: contact(A, company="NewCo")})
    assert (undo.plan.updates, undo.conflicts, undo.lost) == ([], (), ())


# (field the run wrote, what its before record held, what its "unknown" named) → why not
LOST_CASES = [
    ("tags_contacts", {"append": [{"tag_id": TAG[4:]}]}, None, None, "operation"),
    ("related_contacts", {"append": [{"destination": B}]}, [C], None, "operation"),
    ("coordinates", {"operation": "set", "data": {"latitude": 1, "longitude": 2}},
     {"latitude": 0, "longitude": 0}, None, "shape"),
    ("company", "NewCo", None, ["company"], "unknown"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "wrote", "prior", "unknown", "why"), LOST_CASES)
def test_fields_without_a_value_to_put_back_are_listed(
    tmp_path: Path, name: str, wrote: Any, prior: Any, unknown: list[str] | None, why: str
) -> None:
    data = {"job_title": "Dev"} if prior is None else {name: prior, "job_title": "Dev"}
    item: dict[str, object] = {"contactId": A, "data": data}
    if unknown:
        item["unknown"] = unknown
    run = journal_of(tmp_path, shared({name: wrote, "job_title": "CTO"}, A), [item])
    undo = build_undo(run, {A: contact(A, job_title="CTO")})
    assert undo.lost == (Lost(A, name, why),)
    assert [u.to_api() for u in undo.plan.updates] == [
        {"contactId": A, "data": {"job_title": "Dev"}}
    ]
    assert undo.to_json()["cannotUndo"] == [
        {"contactId": A, "field": name, "reason": Lost(A, name, why).reason}
    ]


def test_a_contact_the_read_did_not_find_before_the_run_cannot_be_undone(tmp_path: Path) -> None:
    before = [{"contactId": A, "data": {}, "unknown": ["company"]}]
    run = journal_of(tmp_path, shared({"company": "NewCo"}, A), before)
    undo = build_undo(run, {A: contact(A, company="NewCo")})
    assert undo.plan.updates == []
    assert undo.lost == (Lost(A, "company", "unknown"),)


def test_a_contact_gone_now_is_a_conflict_and_sent_only_with_force(tmp_path: Path) -> None:
    before = [{"contactId": A, "data": {"company": "OldCo"}}]
    run = journal_of(tmp_path, shared({"company": "NewCo"}, A), before)
    assert build_undo(run, {}).conflicts == (Conflict(A, "company", "NewCo", UNKNOWN, "OldCo"),)
    assert build_undo(run, {}).plan.updates == []
    assert [u.data for u in build_undo(run, {}, force=True).plan.updates] == [{"company": "OldCo"}]
    assert Conflict(A, "company", "NewCo", UNKNOWN, "OldCo").to_json() == {
        "contactId": A, "field": "company", "wrote": "NewCo", "prior": "OldCo",
    }  # fmt: skip


def test_the_undo_plan_is_a_run_of_its_own(tmp_path: Path) -> None:
    before = [{"contactId": A, "data": {"company": "OldCo"}}]
    run = journal_of(tmp_path, shared({"company": "NewCo"}, A), before)
    plan = build_undo(run, {A: contact(A, company="NewCo")}).plan
    assert (plan.command, plan.undo_of, plan.channel, plan.patch) == (
        f"undo {run.run_id}", run.run_id, "contacts", None,
    )  # fmt: skip
    assert fields_to_read(run) == ["company"]


# -- tags and groups: the prior membership sent back ---------------------------------------------


def held(*keys: str) -> dict[str, list[dict[str, str]]]:
    """A contact's ``tags`` and ``groups`` as Dex returns them, holding ``keys``."""
    return {
        "tags": [{"id": k[4:], "name": "t"} for k in keys if k.startswith("tag:")],
        "groups": [{"id": k[6:], "name": "g"} for k in keys if k.startswith("group:")],
    }


# (the run's change, each contact's prior membership, what they hold now) → what is sent back
MEMBERSHIP_CASES = [
    # tag add: A did not have it (gets it removed), B had it already (not in the plan: unchanged)
    ({TAG: True}, {A: {TAG: False}}, {A: held(TAG), B: held(TAG)}, {A: {TAG: False}}),
    # group remove: A had it (re-added)
    ({GROUP: False}, {A: {GROUP: True}}, {A: held(), B: held()}, {A: {GROUP: True}}),
    # both at once, A had neither
    ({TAG: True, GROUP: True}, {A: {TAG: False, GROUP: False}}, {A: held(TAG, GROUP)},
     {A: {TAG: False, GROUP: False}}),
    # the tag was removed since by hand: already as before, sent and found unchanged
    ({TAG: True}, {A: {TAG: False}}, {A: held()}, {A: {TAG: False}}),
]  # fmt: skip


@pytest.mark.parametrize(("change", "prior", "now", "back"), MEMBERSHIP_CASES)
def test_membership_runs_send_back_what_each_contact_held(
    tmp_path: Path,
    change: dict[str, bool],
    prior: dict[str, dict[str, bool]],
    now: dict[str, dict[str, Any]],
    back: dict[str, dict[str, bool]],
) -> None:
    ids = list(now)
    plan = Plan(
        [Update(c, change) for c in ids], "tag add", patch=change, channel=MEMBERSHIP,
        labels={TAG: "investor", GROUP: "Team"},
    )  # fmt: skip
    before = [{"contactId": c, "data": data} for c, data in prior.items()]
    run = journal_of(tmp_path, plan, before)
    current = {c: contact(c, **fields) for c, fields in now.items()}
    undo = build_undo(run, current)
    assert {u.contact_id: dict(u.data) for u in undo.plan.updates} == back
    assert undo.plan.channel == MEMBERSHIP
    assert undo.plan.labels == {TAG: "investor", GROUP: "Team"}
    assert undo.conflicts == ()
    assert set(fields_to_read(run)) == {"tags" if k == TAG else "groups" for k in change}


def test_membership_not_returned_now_is_a_conflict(tmp_path: Path) -> None:
    plan = Plan([Update(A, {TAG: True})], "tag add", patch={TAG: True}, channel=MEMBERSHIP)
    run = journal_of(tmp_path, plan, [{"contactId": A, "data": {TAG: False}}])
    undo = build_undo(run, {A: contact(A)})  # no "tags" in the answer
    assert undo.conflicts == (Conflict(A, TAG, True, UNKNOWN, False),)


# -- what cannot be undone at all ------------------------------------------------------------------


def test_a_no_read_run_is_refused_in_one_line(tmp_path: Path) -> None:
    run = journal_of(tmp_path, shared({"company": "NewCo"}, A), read=False)
    with pytest.raises(InvalidInput) as caught:
        check_undoable(run)
    assert caught.value.message == (
        f"run {run.run_id} was sent with --no-read: it kept no prior values, so it cannot be undone"
    )
    assert undo_status(run, {}).text() == "no (--no-read)"


def test_an_incomplete_journal_is_refused(tmp_path: Path) -> None:
    run = journal_of(tmp_path, shared({"company": "NewCo"}, A), [{"contactId": A, "data": {}}])
    lines = run.path.read_text().splitlines(keepends=True)
    run.path.write_text("".join(line for line in lines if '"seal"' not in line))
    damaged = read_run(run.path)
    with pytest.raises(InvalidInput, match=r"cannot be undone: its journal .* is incomplete: "):
        check_undoable(damaged)
    assert undo_status(damaged, {}).text() == "no (incomplete)"


@pytest.mark.parametrize(
    ("before", "missing"),
    [
        ([], 3),  # every before line deleted
        ([{"contactId": A, "data": {"company": "OldCo"}}], 2),  # cut short
        # C was not found by the read: its record says so, and it counts as kept.
        ([{"contactId": c, "data": {"company": "OldCo"}} for c in (A, B)]
         + [{"contactId": C, "data": {}, "unknown": ["company"]}], 0),
    ],
)  # fmt: skip
def test_a_journal_that_lost_before_records_is_refused(
    tmp_path: Path, before: list[dict[str, object]], missing: int
) -> None:
    run = journal_of(tmp_path, shared({"company": "NewCo"}, A, B, C), before)
    if not missing:
        check_undoable(run)
        assert undo_status(run, {}).text() == "yes"
        return
    with pytest.raises(InvalidInput) as caught:
        check_undoable(run)
    assert caught.value.message == (
        f"journal {show_path(run.path)} lost the prior values of {missing} contacts; cannot "
        "undo safely"
    )
    assert undo_status(run, {}).text() == "no (prior values lost)"


def test_only_the_contacts_an_undo_is_about_need_before_records(tmp_path: Path) -> None:
    # A stopped canary: B was never sent, so its lost record does not matter.
    before = [{"contactId": A, "data": {"company": "OldCo"}}]
    journal = Journal.create(
        tmp_path, shared({"company": "NewCo"}, A, B), argv=["dexbulk"],
        api_url="https://dex.test/v1", options={}, read=True,
    )  # fmt: skip
    journal.record_before(before)
    journal.record_batch(
        BatchReport((ContactResult(A, ContactState.UPDATED, 200, None, 1),), 1, 0, 1)
    )
    journal.finish("stopped", {})
    check_undoable(read_run(journal.path))


def _deep(levels: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(levels):
        value = [value]
    return value


# A before value edited into a journal by hand (field or key, forged prior) → the error's end
FORGED_CASES: list[tuple[str, Any, str]] = [
    ("company", {"evil": [1, 2, {"x": "y"}]}, "field 'company': expected a string (got an object"),
    ("company", "X" * 300_000, "is 300,000 characters, over the limit of 10,000 for text"),
    ("contact_emails", _deep(200), "field 'contact_emails': nested deeper than 64 levels"),
    ("birthday", "not-a-date", "field 'birthday': 'not-a-date' is not a date"),
    ("starred", "yes", "field 'starred': expected true or false (got a string 'yes')"),
    (TAG, "no", f"'{TAG}': expected true (add) or false (remove)"),
    (TAG, {"x": 1}, f"'{TAG}': expected true (add) or false (remove)"),
    (TAG, None, f"'{TAG}': expected true (add) or false (remove)"),
    (GROUP, 0, f"'{GROUP}': expected true (add) or false (remove)"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "forged", "problem"), FORGED_CASES)
def test_a_forged_prior_value_is_refused_naming_line_contact_and_field(
    tmp_path: Path, name: str, forged: Any, problem: str
) -> None:
    membership = name.startswith(("tag:", "group:"))
    wrote = {"company": "NewCo", "contact_emails": [], "birthday": "1990-05-02"}.get(name, True)
    change = {name: wrote}
    plan = Plan(
        [Update(c, change) for c in (A, B)], "x", patch=change,
        channel=MEMBERSHIP if membership else "contacts",
    )  # fmt: skip
    good = False if membership else None
    before = [{"contactId": A, "data": {name: good}}, {"contactId": B, "data": {name: forged}}]
    run = journal_of(tmp_path, plan, before)
    with pytest.raises(InvalidInput) as caught:
        check_undoable(run)
    message = caught.value.message
    line = next(
        n for n, text in enumerate(run.path.read_text().splitlines(), 1) if '"before"' in text
    )
    assert message.startswith(f"journal {show_path(run.path)} line {line}: contact {B}: ")
    assert problem in message
    assert message.endswith("; cannot undo safely")
    assert len(message) < 400


def test_a_running_run_is_refused(tmp_path: Path) -> None:
    before = [{"contactId": A, "data": {"company": "OldCo"}}]
    run = journal_of(tmp_path, shared({"company": "NewCo"}, A), before, end=False)
    # A live process that is not this one holds its lock.
    lock_path(run.path).write_text(json.dumps({"pid": os.getppid(), "since": "12:00:00"}))
    running = read_run(run.path)
    with pytest.raises(InvalidInput) as caught:
        check_undoable(running)
    assert caught.value.message == (
        f"run {run.run_id} is still running by process {os.getppid()}: wait for it to finish, "
        "then undo it"
    )
    assert undo_status(running, {}).text() == "no (running)"


# -- undone, and undos, in the list of runs ------------------------------------------------------


def test_undo_links_and_status_follow_a_chain_of_undos(tmp_path: Path) -> None:
    before = [{"contactId": A, "data": {"company": "OldCo"}}]
    first = journal_of(tmp_path, shared({"company": "NewCo"}, A), before)
    undo = build_undo(first, {A: contact(A, company="NewCo")}).plan
    second = journal_of(tmp_path, undo, [{"contactId": A, "data": {"company": "NewCo"}}])
    (tmp_path / "garbage.jsonl").write_bytes(b"\xff not json\n")  # skipped, not a crash
    links = undo_links(tmp_path)
    assert links == {first.run_id: [second.run_id]}
    assert undo_status(first, links).text() == f"undone by {second.run_id}"
    assert undo_status(second, links).text() == f"undo of {first.run_id}"
    assert undo_status(second, links).to_json() == {
        "undoable": True, "undoneBy": None, "undoOf": first.run_id,
    }  # fmt: skip
    assert undo_status(first, links).to_json()["undoneBy"] == second.run_id
    assert undo_links(tmp_path / "nowhere") == {}


def test_list_items_go_back_without_the_keys_dex_adds_itself() -> None:
    """Dex may return emails with their own id and contact_id; a write takes neither."""
    prior = [{"id": "e1", "contact_id": A, "email": "a@b.co", "label": "work", "ranking": 1}]
    assert restorable("contact_emails", prior) == [
        {"email": "a@b.co", "label": "work", "ranking": 1}
    ]
    assert restorable("linkedin_data", {"id": 1}) == {"id": 1}  # any object: kept whole


def test_a_run_that_updated_nobody_says_so_in_runs(tmp_path: Path) -> None:
    plan = Plan([Update(A, {"company": "NewCo"})], "set company=NewCo", patch={"company": "NewCo"})
    run = journal_of(tmp_path, plan, [{"contactId": A, "data": {"company": "OldCo"}}], ok=[])
    status = undo_status(run, {})
    assert (status.undoable, status.text()) == (False, "no (nothing updated)")
