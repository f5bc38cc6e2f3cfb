"""`dexbulk undo`, `runs rm` and `runs prune` through CliRunner, Dex mocked by ``responses``
as a small address book that PUTs change (so a run and its undo can be compared)."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from typer.testing import CliRunner

from dexbulk.cli.app import app
from dexbulk.configfile import show_path
from dexbulk.runlock import RunInUse, RunLock, lock_path
from tests.cli.runner import Run
from tests.conftest import TEST_KEY

API = "https://api.test.getdex.com/v1"
A = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
B = "8df02237-1111-4b50-8888-8dd25736052b"
C = "0a1b2c3d-2222-4b50-8888-8dd25736052c"
START = {
    A: {"id": A, "full_name": "Ada", "company": "OldCo", "job_title": "Dev"},
    B: {"id": B, "full_name": "Bob", "company": "OldCo", "job_title": "CEO"},
    C: {"id": C, "full_name": "Cy", "company": None, "job_title": None},
}


def invoke(*args: str, **environ: str) -> Run:
    env = {"DEX_API_URL": API, "DEX_API_KEY": TEST_KEY, "COLUMNS": "200", "NO_COLOR": "1"}
    return Run(CliRunner().invoke(app, list(args), env={**env, **environ}))


class Book:
    """Dex as a dict: the filter reads it, a PUT changes it."""

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.contacts = copy.deepcopy(START)
        self.mock = mock
        mock.add_callback(responses.POST, f"{API}/contacts/filter", callback=self.filter)
        mock.add_callback(responses.PUT, f"{API}/contacts/", callback=self.put)

    def filter(self, request: Any) -> tuple[int, dict[str, str], str]:
        asked = json.loads(request.body)["where"]["in"]
        items = [self.contacts[i] for i in asked if i in self.contacts]
        return 200, {}, json.dumps({"error": False, "data": {"items": items}})

    def put(self, request: Any) -> tuple[int, dict[str, str], str]:
        body = json.loads(request.body)
        for item in body:
            self.contacts[item["contactId"]].update(item["data"])
        return 200, {}, json.dumps({"error": False, "data": {"count": len(body)}})

    @property
    def requests(self) -> int:
        return len(self.mock.calls)


@pytest.fixture
def book() -> Iterator[Book]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield Book(mock)


def one_error_line(run: Run) -> str:
    """The one error line (a hint may follow it)."""
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("hint: ")), run
    return lines[0]


def runs_dir() -> Path:
    return Path(os.environ["DEXBULK_STATE_DIR"]) / "runs"


def test_undo_puts_back_what_a_run_replaced_and_lists_a_conflict(book: Book) -> None:
    done = invoke("set", "company=NewCo", "--ids", f"{A},{B},{C}", "--json")
    assert done.code == 0, done
    run_id = done.json()["runId"]
    book.contacts[B]["company"] = "Other"  # edited in Dex since
    undone = invoke("undo", "last", "--json", "--no-progress")
    assert undone.code == 0, undone
    assert book.contacts == {**START, B: {**START[B], "company": "Other"}}
    document = undone.json()
    assert document["confirmed"] == 2
    assert document["undo"] == {
        "of": run_id, "contacts": 2, "forced": False, "cannotUndo": [],
        "conflicts": [{"contactId": B, "field": "company", "wrote": "NewCo", "now": "Other",
                       "prior": "OldCo"}],
    }  # fmt: skip
    assert undone.stderr.splitlines()[1:3] == [
        f"1 field changed since run {run_id}: left alone (--force overwrites them):",
        f'  {B} company: the run wrote "NewCo", now "Other", before the run "OldCo"',
    ]
    listed = {r["runId"]: r for r in invoke("runs", "--json").json()}
    assert listed[run_id]["undoneBy"] == document["runId"]
    assert listed[document["runId"]]["undoOf"] == run_id
    forced = invoke("undo", run_id, "--force", "--no-progress")
    assert forced.code == 0, forced
    assert forced.stderr.splitlines()[1].startswith(f"warning: run {run_id} was already undone by ")
    assert f"1 field changed since run {run_id}: overwritten (--force):" in forced.stderr
    assert book.contacts == START


def test_null_written_over_as_the_empty_string_goes_back_to_null(book: Book) -> None:
    # C's job_title is null: "" changes it, and the patch sends company with it.
    done = invoke("set", 'job_title:=""', "company=Z", "--ids", f"{A},{C}", "--json")
    assert done.code == 0, done
    assert book.contacts[C]["job_title"] == ""
    undone = invoke("undo", "last", "--json", "--no-progress")
    assert undone.code == 0, undone
    assert book.contacts == START
    # And back: an unset of "" is a change, sent, and undone to "".
    book.contacts[A]["job_title"] = ""
    cleared = invoke("unset", "job_title", "--ids", A, "--json")
    assert (cleared.code, cleared.json()["sent"]) == (0, 1), cleared
    assert book.contacts[A]["job_title"] is None
    assert invoke("undo", "last", "--no-progress").code == 0
    assert book.contacts[A]["job_title"] == ""


def test_contacts_dex_took_without_the_run_knowing_are_put_back(book: Book) -> None:
    def lost(request: Any) -> Any:
        book.put(request)  # Dex takes the write; its answer never arrives
        raise requests.ConnectionError("connection reset by peer")

    book.mock.remove(responses.PUT, f"{API}/contacts/")
    book.mock.add_callback(responses.PUT, f"{API}/contacts/", callback=lost)
    done = invoke("set", "company=NewCo", "--ids", f"{A},{B},{C}", "--max-attempts", "1", "--json")
    assert done.code != 0, done
    assert (done.json()["confirmed"], done.json()["failed"]) == (0, 3)
    assert {c["company"] for c in book.contacts.values()} == {"NewCo"}
    book.mock.remove(responses.PUT, f"{API}/contacts/")
    book.mock.add_callback(responses.PUT, f"{API}/contacts/", callback=book.put)
    book.contacts[B]["company"] = "Other"  # someone's since: the run never claimed it

    undone = invoke("undo", "last", "--json", "--no-progress")

    assert undone.code == 0, undone
    assert undone.stderr.startswith(
        f"undoing run {done.json()['runId']}: set company=NewCo (0 contacts updated, 3 not "
        "confirmed, started "
    )
    assert undone.json()["undo"]["conflicts"] == []
    assert "changed since" not in undone.stderr
    assert book.contacts == {**START, B: {**START[B], "company": "Other"}}


OTHER = "https://api.staging.getdex.com/v1"


@pytest.mark.parametrize(
    ("flags", "env", "expected"),
    [
        ([], {}, API),  # the run's own (DEX_API_URL names it too)
        ([], {"DEX_API_URL": OTHER}, OTHER),  # the environment beats the journal
        (["--api-url", OTHER], {"DEX_API_URL": API}, OTHER),  # the flag beats both
    ],
)
def test_undo_sends_to_the_flag_then_the_environment_then_the_runs_url(
    book: Book, flags: list[str], env: dict[str, str], expected: str
) -> None:
    done = invoke("set", "company=NewCo", "--ids", f"{A},{B}", "--json")
    assert done.code == 0, done
    book.mock.add_callback(responses.POST, f"{OTHER}/contacts/filter", callback=book.filter)
    book.mock.add_callback(responses.PUT, f"{OTHER}/contacts/", callback=book.put)
    start = len(book.mock.calls)
    undone = invoke("undo", "last", "--no-progress", *flags, **env)
    assert undone.code == 0, undone
    urls = {str(c.request.url).rsplit("/contacts/", 1)[0] for c in book.mock.calls[start:]}
    assert urls == {expected}
    assert book.contacts == START
    first = undone.stderr.splitlines()[0]
    assert first.startswith(f"undoing run {done.json()['runId']}: set company=NewCo (2 contacts")
    if expected == API:
        assert "sending to" not in first
    else:
        origin = "--api-url" if flags else "DEX_API_URL"
        assert first.endswith(f"; sending to {OTHER} ({origin}), not the run's {API}")


def test_a_few_conflicts_are_shown_and_every_one_with_verbose(book: Book) -> None:
    ids = [f"00000000-0000-4000-8000-{n:012d}" for n in range(8)]
    for cid in ids:
        book.contacts[cid] = {"id": cid, "company": "OldCo"}
    assert invoke("set", "company=NewCo", "--ids", ",".join(ids), "--yes").code == 0
    for cid in ids:
        book.contacts[cid]["company"] = "Edited"
    dry = invoke("undo", "last", "--dry-run")
    assert dry.code == 0, dry
    assert "8 fields changed since run" in dry.stderr
    assert sum(1 for line in dry.stderr.splitlines() if line.startswith("  0000")) == 5
    assert "  … and 3 more (-v lists every one; so does --json)" in dry.stderr
    verbose = invoke("undo", "last", "--dry-run", "-v")
    assert sum(1 for line in verbose.stderr.splitlines() if line.startswith("  0000")) == 8
    assert "nothing to undo: nothing left to put back; nothing sent" in verbose.stderr


@pytest.mark.parametrize("args", [("--no-read",), ("--no-read", "--dry-run")])
def test_a_no_read_run_is_refused_in_one_line_sending_nothing(
    book: Book, args: tuple[str, ...]
) -> None:
    done = invoke("set", "company=NewCo", "--ids", A, "--no-read", "--json")
    assert done.code == 0, done
    before = book.requests
    refused = invoke("undo", "last", *args[1:])
    assert refused.code == 2, refused
    assert one_error_line(refused) == (
        f"error: run {done.json()['runId']} was sent with --no-read: it kept no prior values, "
        "so it cannot be undone"
    )
    assert book.requests == before
    assert invoke("runs", "--json").json()[0]["undoable"] is False


@pytest.mark.parametrize("cut", ["all", "some"])
def test_a_journal_that_lost_its_prior_values_is_refused_sending_nothing(
    book: Book, cut: str
) -> None:
    done = invoke("set", "company=NewCo", "--ids", f"{A},{B},{C}", "--json")
    assert done.code == 0, done
    path = runs_dir() / f"{done.json()['runId']}.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    kept = []
    for line in lines:
        record = json.loads(line)
        if record["type"] != "before":
            kept.append(line)
        elif cut == "some":
            kept.append(json.dumps({**record, "items": record["items"][:1]}) + "\n")
    path.write_text("".join(kept))
    before = book.requests
    refused = invoke("undo", "last", "--force")
    assert refused.code == 2, refused
    missing = 3 if cut == "all" else 2
    assert one_error_line(refused) == (
        f"error: journal {show_path(path)} lost the prior values of {missing} contacts; cannot "
        "undo safely"
    )
    assert book.requests == before
    assert book.contacts[A]["company"] == "NewCo"
    listed = invoke("runs").stdout.splitlines()[1].split("\t")
    assert listed[6] == "no (prior values lost)"


def test_a_forged_prior_value_is_refused_sending_nothing(book: Book) -> None:
    done = invoke("set", "company=NewCo", "--ids", f"{A},{B}", "--json")
    assert done.code == 0, done
    path = runs_dir() / f"{done.json()['runId']}.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    number = next(n for n, line in enumerate(lines) if '"before"' in line)
    forged = {"type": "before", "items": [{"contactId": A, "data": {"company": "OldCo"}},
              {"contactId": B, "data": {"company": {"evil": []}}}]}  # fmt: skip
    lines[number] = json.dumps(forged) + "\n"
    path.write_text("".join(lines))
    journals, before = len(list(runs_dir().glob("*.jsonl"))), book.requests
    refused = invoke("undo", "last", "--force", "--yes")
    assert refused.code == 2, refused
    assert one_error_line(refused) == (
        f"error: journal {show_path(path)} line {number + 1}: contact {B}: field 'company': "
        'expected a string (got an object {"evil": []}); cannot undo safely'
    )
    assert (len(list(runs_dir().glob("*.jsonl"))), book.requests) == (journals, before)


def test_undo_holds_the_runs_lock_while_it_reads_and_sends(book: Book) -> None:
    done = invoke("set", "company=NewCo", "--ids", f"{A},{B}", "--json")
    assert done.code == 0, done
    run_id = done.json()["runId"]
    path = runs_dir() / f"{run_id}.jsonl"
    held_during: list[str] = []

    def check(step: str) -> None:
        try:
            RunLock.acquire(path, run_id).release()
        except RunInUse:
            held_during.append(step)

    def read(request: Any) -> Any:
        check("read")
        return book.filter(request)

    def put(request: Any) -> Any:
        check("send")
        return book.put(request)

    for method, url, callback in ((responses.POST, "contacts/filter", read),
                                  (responses.PUT, "contacts/", put)):  # fmt: skip
        book.mock.remove(method, f"{API}/{url}")
        book.mock.add_callback(method, f"{API}/{url}", callback=callback)
    assert invoke("undo", run_id, "--no-progress").code == 0
    assert held_during == ["read", "send"]
    assert not lock_path(path).exists(), "let go once done"


def test_undo_of_a_run_in_use_is_refused_sending_nothing(book: Book) -> None:
    done = invoke("set", "company=NewCo", "--ids", A, "--json")
    assert done.code == 0, done
    run_id = done.json()["runId"]
    before = book.requests
    with RunLock.acquire(runs_dir() / f"{run_id}.jsonl", run_id):  # a resume of it, say
        refused = invoke("undo", run_id)
    assert refused.code == 2, refused
    assert one_error_line(refused).startswith(f"error: run {run_id} is in use by process ")
    assert book.requests == before
    assert book.contacts[A]["company"] == "NewCo"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--results", "-", "--json"), "--results - and --json both want stdout"),
        (("--failed-to", "/nonexistent/dir/failed.txt"), "/nonexistent/dir/failed.txt: cannot"),
    ],
)
def test_bad_output_options_cost_no_request(
    book: Book, args: tuple[str, ...], message: str
) -> None:
    assert invoke("set", "company=NewCo", "--ids", A).code == 0
    before = book.requests
    refused = invoke("undo", "last", *args)
    assert refused.code == 2, refused
    assert message in refused.stderr
    assert book.requests == before


def test_undo_of_an_unknown_run_is_exit_2(book: Book) -> None:
    invoke("set", "company=NewCo", "--ids", A)
    before = book.requests
    refused = invoke("undo", "nope")
    assert refused.code == 2
    assert one_error_line(refused).startswith("error: no run 'nope' in ")
    assert book.requests == before


def test_the_runs_table_has_an_undo_column(book: Book) -> None:
    invoke("set", "company=NewCo", "--ids", A)
    invoke("set", "job_title=X", "--ids", A, "--no-read")
    table = invoke("runs").stdout.splitlines()
    assert table[0].split("\t")[6] == "undo"
    assert [line.split("\t")[6] for line in table[1:]] == ["no (--no-read)", "yes"]


# -- deleting journals -----------------------------------------------------------------------------


def three_runs() -> list[str]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        Book(mock)
        return [
            invoke("set", f"job_title=T{n}", "--ids", A, "--json").json()["runId"] for n in range(3)
        ]


def test_runs_rm_deletes_the_runs_named_and_prints_them() -> None:
    ids = three_runs()
    gone = invoke("runs", "rm", ids[0], ids[2][-4:])
    assert gone.code == 0, gone
    assert gone.stdout.splitlines() == [ids[0], ids[2]]
    assert gone.stderr == "deleted 2 runs\n"
    assert sorted(p.stem for p in runs_dir().glob("*.jsonl")) == [ids[1]]


def test_runs_rm_of_an_unknown_run_deletes_nothing() -> None:
    ids = three_runs()
    refused = invoke("runs", "rm", ids[0], "zzzz")
    assert refused.code == 2, refused
    assert one_error_line(refused).startswith("error: no run 'zzzz' in ")
    assert len(list(runs_dir().glob("*.jsonl"))) == 3


def test_runs_rm_refuses_a_running_run() -> None:
    [first, *_] = three_runs()
    lock = runs_dir() / f"{first}.lock"
    lock.write_text(json.dumps({"pid": os.getppid(), "since": "12:00:00"}))
    refused = invoke("runs", "rm", first)
    assert refused.code == 2, refused
    assert one_error_line(refused) == (
        f"error: run {first} is running (process {os.getppid()}): wait for it to finish, then "
        "delete it; nothing deleted"
    )
    assert (runs_dir() / f"{first}.jsonl").exists()


@pytest.mark.parametrize("as_json", [False, True])
def test_runs_rm_that_fails_midway_says_what_it_deleted(as_json: bool) -> None:
    ids = three_runs()
    # Found and not running, so the checks pass; but its lock cannot be taken to delete it.
    (runs_dir() / f"{ids[1]}.lock").mkdir()
    failed = invoke("runs", "rm", *ids, *(["--json"] if as_json else []))
    assert failed.code == 2, failed
    error = (
        f"cannot lock {show_path(runs_dir() / f'{ids[1]}.jsonl')}: Is a directory; deleted 1 of 3 "
        f"runs first{'' if as_json else ' (on stdout)'}, kept the other 2"
    )
    assert one_error_line(failed) == f"error: {error}"
    if as_json:
        assert failed.json() == {"deleted": [ids[0]], "dryRun": False, "error": error}
    else:
        assert failed.stdout == f"{ids[0]}\n"
    assert sorted(p.stem for p in runs_dir().glob("*.jsonl")) == ids[1:]


def test_runs_prune_by_age_with_a_dry_run_first() -> None:
    ids = three_runs()
    old = runs_dir() / f"{ids[0]}.jsonl"
    lines = old.read_text().splitlines(keepends=True)
    start = json.loads(lines[0])
    start["at"] = "2020-01-01T00:00:00+00:00"
    old.write_text(json.dumps(start) + "\n" + "".join(lines[1:]))
    dry = invoke("runs", "prune", "--older-than", "30d", "--dry-run")
    assert (dry.code, dry.stdout, dry.stderr) == (0, f"{ids[0]}\n", "would delete 1 run\n")
    assert old.exists()
    done = invoke("runs", "prune", "--older-than", "30d", "--json")
    assert done.json() == {"deleted": [ids[0]], "dryRun": False}
    assert not old.exists()
    none = invoke("runs", "prune", "--older-than", "1w")
    assert (none.code, none.stdout, none.stderr) == (0, "", "deleted 0 runs\n")


@pytest.mark.parametrize("age", ["200000w", "999999999d"])
def test_runs_prune_with_an_age_longer_than_any_run_deletes_nothing(age: str) -> None:
    ids = three_runs()
    kept = invoke("runs", "prune", "--older-than", age)
    assert (kept.code, kept.stdout, kept.stderr) == (0, "", "deleted 0 runs\n")
    assert len(list(runs_dir().glob("*.jsonl"))) == len(ids)


@pytest.mark.parametrize("age", ["30", "30 days", "1.5d", "\u0663\u0660d"])
def test_runs_prune_refuses_a_bad_age_in_one_line(age: str) -> None:
    ids = three_runs()
    refused = invoke("runs", "prune", "--older-than", age)
    assert refused.code == 2, refused
    assert one_error_line(refused) == (
        f"error: --older-than {age!r}: not a duration (a whole number and a unit: s, m, h, d "
        "or w, e.g. 30d)"
    )
    assert len(list(runs_dir().glob("*.jsonl"))) == len(ids)
