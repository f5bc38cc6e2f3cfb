"""Tests for dexbulk.journal_read: a journal proves its plan whole, or is never resumed.

Journals are cut at every record boundary and at random bytes, corrupted line by line, and
written as older versions wrote them; whatever is left, reading either refuses or gives back
the whole plan, never fewer contacts than were planned.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from dexbulk.batches import BatchReport, ContactResult, ContactState
from dexbulk.errors import InvalidInput
from dexbulk.journal import Journal
from dexbulk.journal_read import find_run, list_runs, load_run, read_run
from dexbulk.plan import Plan, Update
from dexbulk.runlock import lock_path

API = "https://dex.test/v1"
PATCH = {"company": "Acme"}


def cid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def shared_plan(n: int) -> Plan:
    return Plan([Update(cid(i), PATCH) for i in range(n)], "set", patch=PATCH)


def per_contact_plan(n: int) -> Plan:
    return Plan([Update(cid(i), {"job_title": f"#{i}"}) for i in range(n)], "apply")


def ok_report(ids: list[str]) -> BatchReport:
    results = tuple(ContactResult(c, ContactState.UPDATED, 200, None, 1) for c in ids)
    return BatchReport(results, 1, 0, len(ids))


def full_journal(runs: Path, plan: Plan, batch: int = 700) -> Journal:
    """A finished run: its plan, a batch record per ``batch`` contacts, an end."""
    journal = Journal.create(runs, plan, argv=["dexbulk"], api_url=API, options={})
    ids = [u.contact_id for u in plan.updates]
    for start in range(0, len(ids), batch):
        journal.record_batch(ok_report(ids[start : start + batch]))
    journal.finish("completed", {})
    return journal


def assert_refused_or_whole(path: Path, plan: Plan) -> str:
    """Read ``path`` as resume would: refused (unreadable or incomplete), or the whole plan."""
    try:
        run = read_run(path)
    except InvalidInput:
        return "unreadable"
    if run.problem is not None:
        assert run.state == "incomplete"
        with pytest.raises(InvalidInput, match=r"cannot be resumed: its journal .* is incomplete"):
            run.check_resumable()
        return "incomplete"
    run.check_resumable()
    assert run.updates == list(plan.updates), "a resumable journal lost part of its plan"
    planned = {u.contact_id for u in plan.updates}
    assert {u.contact_id for u in run.pending} | run.confirmed == planned
    return "whole"


# -- truncation ----------------------------------------------------------------------------


@pytest.mark.parametrize("plan", [shared_plan(2500), per_contact_plan(1200)], ids=["ids", "data"])
def test_a_journal_cut_at_any_record_boundary(tmp_path: Path, plan: Plan) -> None:
    journal = full_journal(tmp_path / "runs", plan)
    lines = journal.path.read_bytes().splitlines(keepends=True)
    seal_at = next(i for i, line in enumerate(lines) if b'"type":"seal"' in line)
    for keep in range(len(lines) + 1):
        cut = tmp_path / f"cut-{keep}.jsonl"
        cut.write_bytes(b"".join(lines[:keep]))
        outcome = assert_refused_or_whole(cut, plan)
        expected = "unreadable" if keep == 0 else "incomplete" if keep <= seal_at else "whole"
        assert outcome == expected, keep


@pytest.mark.parametrize("seed", range(4))
def test_a_journal_cut_at_random_bytes(tmp_path: Path, seed: int) -> None:
    plan = shared_plan(2500) if seed % 2 else per_contact_plan(1500)
    journal = full_journal(tmp_path / "runs", plan)
    data = journal.path.read_bytes()
    rng = random.Random(seed)
    seen = set()
    for n in range(60):
        cut = tmp_path / f"cut-{n}.jsonl"
        cut.write_bytes(data[: rng.randrange(len(data))])
        seen.add(assert_refused_or_whole(cut, plan))
    assert {"incomplete", "whole"} <= seen  # both sides of the seal were cut


def test_the_issue_repro_a_5k_journal_cut_to_its_first_three_lines(tmp_path: Path) -> None:
    journal = full_journal(tmp_path / "runs", shared_plan(5000))
    lines = journal.path.read_bytes().splitlines(keepends=True)
    journal.path.write_bytes(b"".join(lines[:3]))
    run = load_run(tmp_path / "runs", "last")
    assert run.state == "incomplete"
    assert run.problem == "the plan holds 2,000 of 5,000 contacts and was never sealed"
    summary = run.summary()
    assert summary["state"] == "incomplete"
    assert (summary["total"], summary["updated"], summary["notSent"]) == (5000, 0, 5000)
    with pytest.raises(InvalidInput, match=f"run {run.run_id} cannot be resumed") as caught:
        run.check_resumable()
    assert str(journal.path) in caught.value.message
    assert "2,000 of 5,000" in caught.value.message


# -- tampering -----------------------------------------------------------------------------


def _rewrite(path: Path, index: int, change: Callable[[dict[str, object]], object]) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    record = json.loads(lines[index])
    change(record)
    lines[index] = json.dumps(record, separators=(",", ":")).encode() + b"\n"
    path.write_bytes(b"".join(lines))


def _swap_an_id(record: dict[str, object]) -> None:
    ids = record["ids"]
    assert isinstance(ids, list)
    ids[5] = cid(99_999)


def _drop_an_id(record: dict[str, object]) -> None:
    ids = record["ids"]
    assert isinstance(ids, list)
    ids.pop()


@pytest.mark.parametrize(
    ("index", "change", "problem"),
    [
        (1, _swap_an_id, "do not match its seal"),
        (1, _drop_an_id, "the plan holds 2,499 contacts, its seal says 2,500"),
        (4, lambda r: r.update(count=2400), "its seal says 2,400"),
        (4, lambda r: r.update(sha256="0" * 64), "do not match its seal"),
        (0, lambda r: r.update(total=3000), "and its start 3,000"),
    ],
    ids=["changed-id", "dropped-id", "seal-count", "seal-sum", "start-total"],
)
def test_a_plan_that_does_not_match_its_seal(
    tmp_path: Path, index: int, change: Callable[[dict[str, object]], object], problem: str
) -> None:
    journal = full_journal(tmp_path, shared_plan(2500))
    _rewrite(journal.path, index, change)
    run = read_run(journal.path)
    assert run.state == "incomplete"
    assert run.problem is not None
    assert problem in run.problem


def test_records_out_of_place_make_a_journal_incomplete(tmp_path: Path) -> None:
    journal = full_journal(tmp_path, shared_plan(10))
    with journal.path.open("ab") as handle:
        handle.write(b'{"type":"ids","ids":["' + cid(50).encode() + b'"]}\n')
    assert "after the plan had ended" in str(read_run(journal.path).problem)

    stranger = full_journal(tmp_path, shared_plan(10))
    with stranger.path.open("ab") as handle:
        handle.write(json.dumps({"type": "batch", "ok": [cid(77)], "failed": []}).encode() + b"\n")
    assert f"contact {cid(77)} is not in the plan" in str(read_run(stranger.path).problem)


# -- journals of the previous version (no seal) --------------------------------------------


def legacy_journal(path: Path, total: int, held: int, batches: int = 1) -> Path:
    """A journal as dexbulk wrote it before plans were sealed."""
    records: list[dict[str, object]] = [
        {"type": "start", "run_id": path.stem, "at": "2026-01-02T03:04:05+00:00",
         "command": "set company=Acme", "argv": ["dexbulk"], "api_url": API, "options": {},
         "total": total, "duplicates": 0, "sources": [], "patch": PATCH},
    ]  # fmt: skip
    ids = [cid(i) for i in range(held)]
    records += [{"type": "ids", "ids": ids[i : i + 1000]} for i in range(0, held, 1000)]
    records += [
        {"type": "batch", "ok": [ids[n]], "failed": [[ids[n + 1], 400, "bad", 1]]}
        for n in range(batches)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_an_older_journal_with_its_whole_plan_still_resumes(tmp_path: Path) -> None:
    path = legacy_journal(tmp_path / "2026-01-02T03-04-05.678-abcd.jsonl", 2500, 2500)
    run = load_run(tmp_path, "last")
    run.check_resumable()
    assert run.path == path
    assert len(run.updates) == 2500
    assert run.confirmed == {cid(0)}
    assert run.failed[cid(1)].state is ContactState.FAILED  # four items: no outcome recorded
    assert run.state == "crashed"


def test_an_older_journal_missing_part_of_its_plan_is_refused(tmp_path: Path) -> None:
    legacy_journal(tmp_path / "2026-01-02T03-04-05.678-abcd.jsonl", 5000, 2000)
    run = load_run(tmp_path, "last")
    assert run.state == "incomplete"
    assert run.problem == "the plan holds 2,000 of 5,000 contacts (an older journal, unsealed)"


# -- unreadable journals -------------------------------------------------------------------

BATCH = b'{"type":"batch","ok":[],"failed":[]}\n'


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b'{"type":"batch","ok":[\n', "line 3: not a JSON record"),
        (b'\xff\xfe{"type":"batch"}\n', "line 3: not a JSON record"),
        (b"[1, 2]\n", "line 3: not a JSON record"),
        (b'{"type":"batch","ok":5,"failed":[]}\n', "line 3: a malformed 'batch' record"),
        (b'{"type":"batch","failed":[]}\n', "line 3: a malformed 'batch' record"),
        (b'{"type":"batch","ok":[],"failed":[["x"]]}\n', "line 3: a malformed 'batch' record"),
        (b'{"type":"batch","ok":[],"failed":[["x",1,"e",1,"gone"]]}\n', "a malformed 'batch'"),
        (b'{"type":"batch","ok":[],"failed":[["x","500","e",1]]}\n', "a malformed 'batch'"),
        (b'{"type":"ids","ids":[1,2]}\n', "line 3: a malformed 'ids' record"),
        (b'{"type":"updates","items":[{"contactId":"x"}]}\n', "a malformed 'updates' record"),
        (b'{"type":"seal","count":"many","sha256":"x"}\n', "line 3: a malformed 'seal' record"),
    ],
    ids=["torn-json", "not-utf8", "array", "ok-int", "no-ok", "short-failure", "unknown-state",
         "status-text", "ids-int", "updates-no-data", "seal-count"],
)  # fmt: skip
def test_a_corrupted_line_is_one_error_naming_file_and_line(
    tmp_path: Path, line: bytes, message: str
) -> None:
    journal = full_journal(tmp_path, shared_plan(3))
    lines = journal.path.read_bytes().splitlines(keepends=True)
    lines.insert(2, line)
    journal.path.write_bytes(b"".join(lines))
    with pytest.raises(InvalidInput) as caught:
        load_run(tmp_path, journal.run_id)
    assert caught.value.message.startswith(f"journal {journal.path}: ")
    assert message in caught.value.message
    assert "\n" not in caught.value.message


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty: its run stopped before writing anything"),
        (b'{"type":"start","run_id":"x","to', "empty: its run stopped"),  # torn start line
        (b"\n\n", "empty"),
        (b'{"type":"batch","ok":[],"failed":[]}\n', "not a dexbulk run journal"),
        (b'{"type":"start","total":"ten"}\n', "line 1: a malformed 'start' record"),
        (b'{"type":"start","total":1,"patch":[]}\n', "line 1: a malformed 'start' record"),
    ],
    ids=["empty", "torn-start", "blank", "no-start", "total-text", "patch-list"],
)
def test_a_file_that_is_no_journal_is_one_error(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "20260102-030405-abcd.jsonl"
    path.write_bytes(content)
    with pytest.raises(InvalidInput, match=message):
        load_run(tmp_path, "last")


def test_blank_lines_and_records_of_a_later_version_are_ignored(tmp_path: Path) -> None:
    journal = full_journal(tmp_path, shared_plan(3))
    with journal.path.open("ab") as handle:
        handle.write(b'\n{"type":"before","items":[]}\n')
    run = read_run(journal.path)
    assert run.problem is None
    assert run.state == "completed"


def test_an_unreadable_journal_is_skipped_and_named_but_hides_no_other(tmp_path: Path) -> None:
    good = [full_journal(tmp_path, shared_plan(n + 1)) for n in range(3)]
    (tmp_path / "20000101-000000-0000.jsonl").write_bytes(b"")
    (tmp_path / "29990101-000000-0000.jsonl").write_bytes(b"\xff\n")
    problems: list[str] = []
    runs = list_runs(tmp_path, problems=problems)
    assert [r.run_id for r in runs] == [j.run_id for j in reversed(good)]
    assert len(problems) == 2
    assert "29990101-000000-0000.jsonl: line 1: not a JSON record" in problems[0]
    assert "20000101-000000-0000.jsonl: empty" in problems[1]
    assert list_runs(tmp_path, limit=2) == runs[:2]  # the limit counts readable runs


def test_messages_shorten_paths_under_home(tmp_path: Path) -> None:
    runs = Path.home() / "state" / "runs"
    runs.mkdir(parents=True)
    (runs / "20260102-030405-abcd.jsonl").write_bytes(b"")
    with pytest.raises(InvalidInput, match=r"^journal ~/state/runs/20260102-030405-abcd\.jsonl"):
        load_run(runs, "last")
    with pytest.raises(InvalidInput, match=r"no run 'zzz' in ~/state/runs$"):
        find_run(runs, "zzz")


# -- running, finding ----------------------------------------------------------------------


def _lock_file(journal: Path, pid: int) -> None:
    lock_path(journal).write_text(json.dumps({"pid": pid, "since": "03:04:05"}))


def test_a_run_whose_process_holds_its_lock_reads_as_running(tmp_path: Path) -> None:
    journal = Journal.create(tmp_path, shared_plan(2), argv=[], api_url=API, options={})
    journal.close()
    assert read_run(journal.path).state == "crashed"
    _lock_file(journal.path, os.getppid())  # a live process that is not this one
    assert read_run(journal.path).state == "running"


def test_a_lock_left_by_a_dead_process_is_not_running(tmp_path: Path) -> None:
    journal = Journal.create(tmp_path, shared_plan(2), argv=[], api_url=API, options={})
    journal.close()
    _lock_file(journal.path, 2**22 + 12345)  # above Linux's pid_max: never a live process
    assert read_run(journal.path).state == "crashed"


OLD = ["2026-01-02T03-04-05.001-aaaa", "2026-01-02T03-04-05.002-abbb"]
NEW = ["20260102-030406-01ab", "20260102-030406-01k3", "20260103-000000-zz9q"]


@pytest.fixture
def mixed_runs(tmp_path: Path) -> Path:
    for n, run_id in enumerate(OLD + NEW):
        legacy_journal(tmp_path / f"{run_id}.jsonl", n + 2, n + 2)
    return tmp_path


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("last", NEW[2]),
        (OLD[0], OLD[0]),
        ("2026-01-02T03-04-05.002", OLD[1]),
        (NEW[1], NEW[1]),
        ("20260103", NEW[2]),
        ("z9q", NEW[2]),  # an ending, when no ID starts with it
        ("01k3", NEW[1]),
        ("bbb", OLD[1]),
    ],
)
def test_old_and_new_ids_are_found(mixed_runs: Path, ref: str, expected: str) -> None:
    assert find_run(mixed_runs, ref).stem == expected


@pytest.mark.parametrize(("ref", "names"), [("20260102", NEW[:2]), ("2026-01-02", OLD)])
def test_an_ambiguous_reference_names_the_candidates(
    mixed_runs: Path, ref: str, names: list[str]
) -> None:
    with pytest.raises(InvalidInput, match="is ambiguous") as caught:
        find_run(mixed_runs, ref)
    for name in names:
        assert name in caught.value.message


@pytest.mark.parametrize("ref", ["", "  "])
def test_an_empty_reference_is_refused(mixed_runs: Path, ref: str) -> None:
    with pytest.raises(InvalidInput, match="no run ID given"):
        find_run(mixed_runs, ref)


def test_a_journal_nested_too_deep_to_decode_is_skipped_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "20261201-090003-dddd.jsonl").write_text("[" * 100_000 + "\n")
    with pytest.raises(InvalidInput, match="line 1"):
        load_run(tmp_path, "dddd")


@pytest.mark.parametrize("ref", ["q", "9q", "b"])
def test_an_ending_of_one_or_two_characters_names_no_run(mixed_runs: Path, ref: str) -> None:
    """'runs rm 1' must not delete the one run whose ID happens to end in 1."""
    with pytest.raises(InvalidInput, match="no run"):
        find_run(mixed_runs, ref)
