"""Tests for dexbulk.journal: the plan round trip and seal, batch records, torn lines, finding
runs, run IDs, file modes, locks taken by a new run, and journals that cannot be written."""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path

import pytest

from dexbulk import journal as journal_module
from dexbulk.batches import BatchReport, ContactResult, ContactState
from dexbulk.errors import InvalidInput
from dexbulk.journal import Journal, JournalError, find_run, list_runs, load_run, read_run
from dexbulk.plan import Plan, Update
from dexbulk.runlock import RunInUse, RunLock, lock_path
from dexbulk.secret import redact_argv
from dexbulk.values import JSON
from tests.conftest import TEST_KEY

API = "https://dex.test/v1"
PATCH: dict[str, JSON] = {"company": "Acme", "starred": True, "birthday": None}


def cid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def shared_plan(n: int = 3) -> Plan:
    return Plan(
        [Update(cid(i), PATCH) for i in range(n)], "set", patch=PATCH, duplicates=1,
        sources=("ids.txt",),
    )  # fmt: skip


def per_contact_plan() -> Plan:
    updates = [
        Update(cid(0), {"full_name": "Zoë Ångström", "birthday_year": 1990}),
        Update(cid(1), {"contact_emails": [{"email": "a@b.io", "label": "work", "ranking": 1}]}),
        Update(cid(2), {"tags_contacts": {"append": [{"tag_id": cid(9)}]}, "website": None}),
    ]
    return Plan(updates, "apply", sources=("patch.jsonl",))


def create(runs: Path, plan: Plan, argv: list[str] | None = None) -> Journal:
    return Journal.create(
        runs, plan, argv=argv or ["dexbulk", "set"], api_url=API,
        options={"batch_size": 100, "concurrency": 4},
    )  # fmt: skip


def report(
    ok: list[str], failed: Sequence[tuple[str, int | None, str]] = (), **kw: int
) -> BatchReport:
    results = [ContactResult(c, ContactState.UPDATED, 200, None, 1) for c in ok]
    results += [ContactResult(c, ContactState.FAILED, s, e, 2) for c, s, e in failed]
    return BatchReport(tuple(results), kw.get("requests", 1), kw.get("retries", 0), len(ok))


@pytest.fixture
def run_ids(monkeypatch: pytest.MonkeyPatch) -> Callable[[list[str]], None]:
    """Hand out chosen run IDs, so ordering and prefixes do not depend on the clock."""

    def use(ids: list[str]) -> None:
        it: Iterator[str] = iter(ids)
        monkeypatch.setattr(journal_module, "new_run_id", lambda *_: next(it))

    return use


# -- the plan ------------------------------------------------------------------------------


@pytest.mark.parametrize("plan", [shared_plan(), per_contact_plan(), shared_plan(2500)])
def test_the_plan_round_trips(tmp_path: Path, plan: Plan) -> None:
    journal = create(tmp_path, plan)
    journal.close()
    run = load_run(tmp_path, journal.run_id)
    assert run.run_id == journal.run_id
    assert run.path == tmp_path / f"{journal.run_id}.jsonl"
    assert run.updates == list(plan.updates)
    assert [u.to_api() for u in run.updates] == [u.to_api() for u in plan.updates]
    assert run.start["command"] == plan.command
    assert run.start["patch"] == (dict(plan.patch) if plan.patch is not None else None)
    assert run.start["total"] == plan.total
    assert run.start["api_url"] == API
    assert run.start["options"] == {"batch_size": 100, "concurrency": 4}
    assert run.pending == run.updates
    assert run.state == "crashed"


def test_a_shared_patch_is_written_once(tmp_path: Path) -> None:
    journal = create(tmp_path, shared_plan(2500))
    journal.close()
    records = [json.loads(line) for line in journal.path.read_text().splitlines()]
    assert [r["type"] for r in records] == ["start", "ids", "ids", "ids", "seal"]
    assert [len(r["ids"]) for r in records[1:-1]] == [1000, 1000, 500]
    assert journal.path.read_text().count('"company"') == 1


def test_per_contact_plans_are_written_as_updates(tmp_path: Path) -> None:
    journal = create(tmp_path, per_contact_plan())
    journal.close()
    records = [json.loads(line) for line in journal.path.read_text().splitlines()]
    assert [r["type"] for r in records] == ["start", "updates", "seal"]
    assert records[1]["items"] == [u.to_api() for u in per_contact_plan().updates]


def test_prior_values_are_kept_for_an_undo(tmp_path: Path) -> None:
    plan = shared_plan(1500)
    journal = create(tmp_path, plan)
    items = [{"contactId": u.contact_id, "data": {"company": "OldCo"}} for u in plan.updates]
    journal.record_before(items)
    journal.close()
    records = [json.loads(line) for line in journal.path.read_text().splitlines()]
    assert [r["type"] for r in records] == ["start", "ids", "ids", "seal", "before", "before"]
    run = load_run(tmp_path, journal.run_id)
    assert len(run.before) == 1500
    assert run.before[plan.updates[0].contact_id] == {"company": "OldCo"}
    assert run.updates == list(plan.updates)


# -- batches -------------------------------------------------------------------------------


def test_batches_settle_contacts(tmp_path: Path) -> None:
    plan = shared_plan(4)
    journal = create(tmp_path, plan)
    journal.record_batch(report([cid(0)], [(cid(1), 400, "invalid contactId")], requests=3))
    journal.record_batch(report([cid(3)], retries=2))
    journal.close()
    run = load_run(tmp_path, journal.run_id)
    assert run.confirmed == {cid(0), cid(3)}
    failed = ContactResult(cid(1), ContactState.FAILED, 400, "invalid contactId", 2)
    assert run.failed == {cid(1): failed}
    assert [u.contact_id for u in run.pending] == [cid(1), cid(2)]
    assert [u.contact_id for u in run.failed_updates] == [cid(1)]
    assert (run.requests, run.retries) == (4, 2)
    summary = run.summary()
    assert (summary["total"], summary["updated"], summary["failed"], summary["notSent"]) == (
        4, 2, 1, 1,
    )  # fmt: skip


def test_a_failed_contact_later_confirmed_is_no_longer_failed(tmp_path: Path) -> None:
    journal = create(tmp_path, shared_plan(2))
    journal.record_batch(report([], [(cid(0), None, "connection failed: reset")]))
    journal.record_batch(report([cid(0)]))
    journal.close()
    run = load_run(tmp_path, journal.run_id)
    assert run.confirmed == {cid(0)}
    assert run.failed == {}


def test_a_confirmed_contact_stays_confirmed(tmp_path: Path) -> None:
    journal = create(tmp_path, shared_plan(2))
    journal.record_batch(report([cid(0)]))
    journal.record_batch(report([], [(cid(0), 400, "late")]))
    journal.close()
    run = load_run(tmp_path, journal.run_id)
    assert run.confirmed == {cid(0)}
    assert run.failed == {}


# -- torn lines ----------------------------------------------------------------------------


def test_a_torn_last_line_is_ignored_then_trimmed(tmp_path: Path) -> None:
    journal = create(tmp_path, shared_plan(3))
    journal.record_batch(report([cid(0)]))
    journal.close()
    intact = journal.path.read_bytes()
    with journal.path.open("ab") as handle:
        handle.write(b'{"type":"batch","ok":["' + cid(1).encode())
    run = load_run(tmp_path, journal.run_id)
    assert run.confirmed == {cid(0)}

    again = Journal.reopen(journal.path, journal.run_id)
    assert journal.path.read_bytes() == intact
    again.record_batch(report([cid(2)]))
    again.finish("completed", {"updated": 2})
    run = load_run(tmp_path, journal.run_id)
    assert run.confirmed == {cid(0), cid(2)}
    assert run.state == "completed"


def test_reopen_leaves_an_intact_journal_alone(tmp_path: Path) -> None:
    journal = create(tmp_path, shared_plan(1))
    journal.close()
    intact = journal.path.read_bytes()
    Journal.reopen(journal.path, journal.run_id).close()
    assert journal.path.read_bytes() == intact


# -- state ---------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["completed", "interrupted", "auth-refused", "aborted"])
def test_the_state_comes_from_the_end_record(tmp_path: Path, state: str) -> None:
    journal = create(tmp_path, shared_plan(1))
    journal.finish(state, {"updated": 0})
    run = load_run(tmp_path, journal.run_id)
    assert run.state == state
    assert [e["summary"] for e in run.ends] == [{"updated": 0}]


def test_no_end_record_reads_as_crashed(tmp_path: Path) -> None:
    journal = create(tmp_path, shared_plan(1))
    journal.record_batch(report([cid(0)]))
    journal.close()
    assert load_run(tmp_path, journal.run_id).state == "crashed"


def test_a_resume_without_an_end_reads_as_crashed(tmp_path: Path) -> None:
    journal = create(tmp_path, shared_plan(2))
    journal.finish("interrupted", {})
    again = Journal.reopen(journal.path, journal.run_id)
    again.record_resume("resume", ["dexbulk", "resume", "last"])
    again.close()
    run = load_run(tmp_path, journal.run_id)
    assert run.state == "crashed"
    assert len(run.ends) == 1

    again = Journal.reopen(journal.path, journal.run_id)
    again.finish("completed", {})
    assert load_run(tmp_path, journal.run_id).state == "completed"


def test_a_file_that_is_not_a_journal_is_refused(tmp_path: Path) -> None:
    (tmp_path / "2026-01-01T00-00-00-aaaa.jsonl").write_text('{"type":"batch"}\n')
    with pytest.raises(InvalidInput, match="not a dexbulk run journal"):
        load_run(tmp_path, "last")


# -- finding runs --------------------------------------------------------------------------

IDS = ["2026-01-02T03-04-05-aaaa", "2026-01-02T03-04-05-abbb", "2026-01-03T00-00-00-cccc"]


@pytest.fixture
def three_runs(tmp_path: Path, run_ids: Callable[[list[str]], None]) -> Path:
    run_ids(IDS)
    for n in range(3):
        create(tmp_path, shared_plan(n + 1)).finish("completed", {})
    return tmp_path


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        (IDS[0], IDS[0]),
        (IDS[1], IDS[1]),
        ("2026-01-02T03-04-05-aa", IDS[0]),
        ("2026-01-02T03-04-05-ab", IDS[1]),
        ("2026-01-03", IDS[2]),
        ("last", IDS[2]),
    ],
)
def test_find_run(three_runs: Path, ref: str, expected: str) -> None:
    assert find_run(three_runs, ref) == three_runs / f"{expected}.jsonl"
    assert load_run(three_runs, ref).run_id == expected


def test_an_unknown_run_has_a_hint(three_runs: Path) -> None:
    with pytest.raises(InvalidInput, match="no run '2027'") as excinfo:
        find_run(three_runs, "2027")
    assert excinfo.value.hint is not None
    assert "dexbulk runs" in excinfo.value.hint


def test_an_ambiguous_prefix_names_the_candidates(three_runs: Path) -> None:
    with pytest.raises(InvalidInput, match="ambiguous") as excinfo:
        find_run(three_runs, "2026-01-02")
    assert IDS[0] in str(excinfo.value)
    assert IDS[1] in str(excinfo.value)
    assert IDS[2] not in str(excinfo.value)


@pytest.mark.parametrize("exists", [True, False])
def test_last_without_runs(tmp_path: Path, exists: bool) -> None:
    runs = tmp_path / "runs"
    if exists:
        runs.mkdir()
    with pytest.raises(InvalidInput, match="no runs yet"):
        find_run(runs, "last")
    assert list_runs(runs) == []


@pytest.mark.parametrize(("limit", "expected"), [(20, IDS[::-1]), (2, IDS[:0:-1]), (1, IDS[2:])])
def test_list_runs_newest_first(three_runs: Path, limit: int, expected: list[str]) -> None:
    runs = list_runs(three_runs, limit=limit)
    assert [r.run_id for r in runs] == expected
    assert [r.state for r in runs] == ["completed"] * len(expected)


def _at(year: int, month: int, day: int, *rest: int) -> datetime:
    return datetime(year, month, day, *rest, tzinfo=timezone.utc)


def test_new_run_ids_are_short_and_sort_by_time() -> None:
    early = journal_module.new_run_id(_at(2026, 1, 2, 3, 4, 5, 1000))
    same_second = journal_module.new_run_id(_at(2026, 1, 2, 3, 4, 5, 2000))
    late_in_second = journal_module.new_run_id(_at(2026, 1, 2, 3, 4, 5, 999_000))
    next_second = journal_module.new_run_id(_at(2026, 1, 2, 3, 4, 6))
    assert re.fullmatch(r"20260102-030405-[0-9a-hjkmnp-tv-z]{4}", early)
    assert len(early) == 20
    assert early < same_second < late_in_second < next_second


def test_new_run_ids_sort_after_the_old_form() -> None:
    """`last` is the newest run across an upgrade: old IDs of the same day sort first."""
    old = "2026-01-02T23-59-59.999-ffff"
    assert old < journal_module.new_run_id(_at(2026, 1, 2, 0, 0, 0))
    assert journal_module.new_run_id(_at(2026, 1, 1)) > "2025-12-31T23-59-59.999-ffff"


def test_new_run_ids_differ_within_a_millisecond() -> None:
    now = _at(2026, 1, 2, 3, 4, 5, 6000)
    assert len({journal_module.new_run_id(now) for _ in range(50)}) > 1


# -- the key -------------------------------------------------------------------------------


def test_the_journal_never_holds_the_key(tmp_path: Path) -> None:
    argv = redact_argv(
        ["dexbulk", "set", "--ids", "ids.txt", "--api-key", TEST_KEY, f"--api-key={TEST_KEY}",
         "company=Acme"]
    )  # fmt: skip
    journal = create(tmp_path, shared_plan(2), argv)
    journal.record_batch(report([cid(0)], [(cid(1), 401, "bad key")]))
    journal.finish("completed", {"updated": 1})
    text = journal.path.read_text(encoding="utf-8")
    assert TEST_KEY not in text
    assert "<redacted>" in text
    start = load_run(tmp_path, journal.run_id).start
    assert start["argv"] == [
        "dexbulk", "set", "--ids", "ids.txt", "--api-key", "<redacted>",
        "--api-key=<redacted>", "company=Acme",
    ]  # fmt: skip


def test_a_command_line_that_is_not_utf8_is_stored_visibly(tmp_path: Path) -> None:
    """`dexbulk set $'company=\\xff'`: argv holds a lone surrogate, which cannot be encoded."""
    argv = ["dexbulk", "set", "company=\udcff", "--ids", cid(0)]
    plan = Plan([Update(cid(0), {"company": "\udcff"})], "set company=\udcff",
                patch={"company": "\udcff"})  # fmt: skip
    journal = create(tmp_path, plan, argv)
    journal.finish("completed", {})
    run = load_run(tmp_path, journal.run_id)
    assert run.start["argv"][2] == "company=\\xff"
    assert run.updates == list(plan.updates)  # the value itself round-trips exactly
    assert run.problem is None
    journal.path.read_bytes().decode("utf-8")  # the file stays valid UTF-8


# -- the seal ------------------------------------------------------------------------------


def test_the_plan_is_sealed_with_its_count_and_checksum(tmp_path: Path) -> None:
    journal = create(tmp_path, shared_plan(2500))
    journal.close()
    lines = journal.path.read_bytes().splitlines(keepends=True)
    seal = json.loads(lines[-1])
    assert seal["type"] == "seal"
    assert seal["count"] == 2500
    start = json.loads(lines[0])
    covered = json.dumps(
        {k: start[k] for k in ("patch", "channel", "labels", "undo_of", "api_url")},
        sort_keys=True, separators=(",", ":"),
    ).encode()  # fmt: skip
    assert seal["sha256"] == hashlib.sha256(covered + b"".join(lines[1:-1])).hexdigest()
    assert start["format"] == journal_module.FORMAT


@pytest.mark.parametrize(
    ("field", "forged"),
    [
        ("patch", {"company": "Evil"}),
        ("labels", {"x": "y"}),
        ("undo_of", "20261201-x"),
        ("api_url", "https://evil.example/v1"),
    ],
)
def test_a_start_record_edited_by_hand_breaks_the_seal(
    tmp_path: Path, field: str, forged: object
) -> None:
    journal = create(tmp_path, shared_plan(3))
    journal.close()
    lines = journal.path.read_bytes().splitlines(keepends=True)
    start = json.loads(lines[0])
    start[field] = forged
    journal.path.write_bytes(json.dumps(start).encode() + b"\n" + b"".join(lines[1:]))
    run = read_run(journal.path)
    assert run.state == "incomplete"
    assert run.problem == "the plan's contacts do not match its seal (checksum)"


# -- files, modes, locks -------------------------------------------------------------------


def test_journals_are_private(tmp_path: Path) -> None:
    runs = tmp_path / "state" / "runs"
    journal = create(runs, shared_plan(1))
    journal.close()
    assert stat.S_IMODE(journal.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(runs.stat().st_mode) == 0o700
    assert stat.S_IMODE(runs.parent.stat().st_mode) == 0o700


def test_a_loose_runs_dir_is_tightened(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    runs.mkdir(mode=0o755)
    runs.chmod(0o755)
    create(runs, shared_plan(1)).close()
    assert stat.S_IMODE(runs.stat().st_mode) == 0o700


def test_a_new_run_holds_its_lock_until_it_ends(tmp_path: Path) -> None:
    journal = create(tmp_path, shared_plan(1))
    with pytest.raises(RunInUse, match=f"in use by process {os.getpid()}"):
        RunLock.acquire(journal.path, journal.run_id)
    journal.finish("completed", {})
    assert not lock_path(journal.path).exists()
    RunLock.acquire(journal.path, journal.run_id).release()


# -- a journal that cannot be written ------------------------------------------------------


def _disk_full(journal: Journal) -> None:
    """Point the journal's descriptor at /dev/full: every write fails with ENOSPC."""
    full = os.open("/dev/full", os.O_WRONLY)
    os.dup2(full, journal._fd)  # type: ignore[arg-type]
    os.close(full)


def test_a_full_disk_raises_once_then_refuses_every_write(tmp_path: Path) -> None:
    journal = create(tmp_path, shared_plan(2))
    _disk_full(journal)
    with pytest.raises(JournalError, match=r"cannot write the run journal .*No space left"):
        journal.record_batch(report([cid(0)]))
    with pytest.raises(JournalError, match="No space left"):
        journal.record_batch(report([cid(1)]))
    with pytest.raises(JournalError):
        journal.finish("completed", {})
    assert not lock_path(journal.path).exists()  # let go of the run all the same


def test_a_read_only_runs_dir_is_a_journal_error_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A read-only directory, as the kernel answers it to anyone but root (CI runs as root).
    runs = tmp_path / "runs"
    runs.mkdir(mode=0o700)
    real_open = os.open

    def refuse(path: object, flags: int, *args: object) -> int:
        if str(path).endswith(".jsonl") and flags & os.O_CREAT:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(JournalError, match=r"Permission denied.*nothing was sent"):
        create(runs, shared_plan(1))
    assert [p for p in runs.iterdir() if p.suffix == ".jsonl"] == []


def test_a_runs_dir_that_cannot_be_made_is_a_journal_error(tmp_path: Path) -> None:
    (tmp_path / "state").write_text("a file where the state directory should be")
    with pytest.raises(JournalError, match=r"cannot write the run journal .*; nothing was sent"):
        create(tmp_path / "state" / "runs", shared_plan(1))


def test_a_plan_that_cannot_be_written_whole_leaves_no_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes = 0
    real = os.write

    def write(fd: int, data: bytes) -> int:
        nonlocal writes
        writes += 1
        if writes == 3:  # the second chunk of the plan
            raise OSError(28, "No space left on device")
        return real(fd, data)

    monkeypatch.setattr(journal_module.os, "write", write)
    with pytest.raises(JournalError, match="No space left on device; nothing was sent"):
        create(tmp_path, shared_plan(2500))
    assert list(tmp_path.iterdir()) == []
