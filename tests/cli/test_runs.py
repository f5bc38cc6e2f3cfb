"""`dexbulk runs`, `runs show`, `resume` and `retry` against damaged, locked and unwritable
journals, through Typer's CliRunner with the HTTP layer mocked by ``responses``.

Whatever happened to a journal, these commands answer in one line and never send fewer
contacts than were planned: they finish the whole plan, or refuse (exit 2) without a request.
"""

from __future__ import annotations

import json
import os
import random
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
from typer.testing import CliRunner

from dexbulk.cli.app import app
from dexbulk.journal import Journal, JournalError
from dexbulk.runlock import RunLock
from tests.cli.runner import Run
from tests.conftest import TEST_KEY

API = "https://api.test.getdex.com/v1"
PUT_URL = f"{API}/contacts/"
FILTER_URL = f"{API}/contacts/filter"


def cid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def invoke(*args: str) -> Run:
    env = {"DEX_API_URL": API, "DEX_API_KEY": TEST_KEY, "COLUMNS": "200", "NO_COLOR": "1"}
    return Run(CliRunner().invoke(app, list(args), env=env))


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    """Dex that updates every contact it is sent (its count is the batch's size)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        # The read of current values before an update: Dex holds none, so every contact is sent.
        mock.post(
            re.compile(r".*/v1/contacts/filter$"), json={"error": False, "data": {"items": []}}
        )
        mock.add_callback(
            responses.PUT, PUT_URL,
            callback=lambda request: (200, {}, json.dumps(
                {"error": False, "data": {"count": len(json.loads(request.body))}})),
        )  # fmt: skip
        yield mock


def sent(api: responses.RequestsMock) -> list[str]:
    """Every contact ID PUT so far, in order."""
    return [
        item["contactId"]
        for call in api.calls
        if call.request.method == "PUT"
        for item in json.loads(call.request.body or b"[]")
    ]


def runs_dir() -> Path:
    return Path(os.environ["DEXBULK_STATE_DIR"]) / "runs"


def ids_file(tmp_path: Path, n: int) -> Path:
    path = tmp_path / "ids.txt"
    path.write_text("".join(f"{cid(i)}\n" for i in range(n)))
    return path


def first_run(tmp_path: Path, api: responses.RequestsMock, n: int, *extra: str) -> str:
    """Star ``n`` contacts in batches of 100; return the run ID."""
    done = invoke("star", "--from", str(ids_file(tmp_path, n)), "--no-progress", "--json", *extra)
    assert done.code == 0, done
    return str(done.json()["runId"])


def one_error_line(run: Run) -> str:
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run
    assert lines[0].startswith("error: "), run
    return lines[0]


# -- truncated journals --------------------------------------------------------------------


def _resume_cut(tmp_path: Path, api: responses.RequestsMock, data: bytes, total: int) -> str:
    """Resume a journal cut to ``data``: it finishes the whole plan, or refuses, sending nothing."""
    journal = runs_dir() / "20990101-000000-0000.jsonl"  # sorts last: 'resume last' picks it
    journal.write_bytes(data)
    before = len(sent(api))
    resumed = invoke("resume", "last", "--no-progress")
    newly = sent(api)[before:]
    if resumed.code == 2:
        assert newly == [], "a refused resume sent something"
        line = one_error_line(resumed)
        assert "20990101-000000-0000.jsonl" in line, line
        journal.unlink()
        return "refused"
    assert resumed.code == 0, resumed
    shown = invoke("runs", "show", "last", "--json").json()
    assert (shown["total"], shown["updated"], shown["failed"]) == (total, total, 0), shown
    # Cut after its last batch, there is nothing to send and no end to write: 'crashed'.
    assert shown["state"] == ("completed" if newly else shown["state"])
    journal.unlink()
    return "finished"


def test_resume_never_sends_fewer_contacts_than_planned(
    tmp_path: Path, api: responses.RequestsMock
) -> None:
    total = 2300
    run_id = first_run(tmp_path, api, total, "--batch-size", "500")
    journal = runs_dir() / f"{run_id}.jsonl"
    data = journal.read_bytes()
    journal.unlink()
    boundaries = [i + 1 for i, byte in enumerate(data) if byte == ord("\n")]
    outcomes = [_resume_cut(tmp_path, api, data[:cut], total) for cut in [0, *boundaries]]
    # Nothing, start, 3 plan chunks: refused; from the seal on (+ 3 chunks of before records,
    # every prior value unknown as the read found no contact, 5 batches, end): finished.
    assert outcomes == ["refused"] * 5 + ["finished"] * 10
    rng = random.Random(11)
    for _ in range(25):
        _resume_cut(tmp_path, api, data[: rng.randrange(len(data))], total)


def test_the_issue_repro_three_lines_of_a_5k_journal(
    tmp_path: Path, api: responses.RequestsMock
) -> None:
    run_id = first_run(tmp_path, api, 5000)
    journal = runs_dir() / f"{run_id}.jsonl"
    journal.write_bytes(b"".join(journal.read_bytes().splitlines(keepends=True)[:3]))
    before = len(api.calls)

    resumed = invoke("resume", "last")
    assert resumed.code == 2, resumed
    assert one_error_line(resumed) == (
        f"error: run {run_id} cannot be resumed: its journal ~/state/runs/{run_id}.jsonl is "
        "incomplete: the plan holds 2,000 of 5,000 contacts and was never sealed"
    )
    assert invoke("retry", run_id).code == 2
    assert len(api.calls) == before

    listing = invoke("runs", "--json")
    assert listing.code == 0, listing
    assert listing.json()[0]["state"] == "incomplete"
    assert "incomplete" in invoke("runs").stdout
    shown = invoke("runs", "show", "last")
    assert shown.code == 0, shown
    assert "incomplete: the plan holds 2,000 of 5,000 contacts" in shown.stdout


# -- unreadable journals -------------------------------------------------------------------

BAD = {
    "empty": b"",
    "not-json": b'{"type":"start"\n',
    "not-utf8": b"\xff\xfe\n",
    "no-start": b'{"type":"batch","ok":[],"failed":[]}\n',
    "bad-batch": None,  # a good journal whose batch record lost its "ok"
}


@pytest.mark.parametrize("kind", BAD)
def test_an_unreadable_journal_is_skipped_by_runs_and_refused_by_the_rest(
    tmp_path: Path, api: responses.RequestsMock, kind: str
) -> None:
    good = first_run(tmp_path, api, 3)
    bad = runs_dir() / "20990101-000000-0bad.jsonl"
    content = BAD[kind]
    if content is None:
        lines = (runs_dir() / f"{good}.jsonl").read_bytes().splitlines(keepends=True)
        content = b"".join(lines[:-2]) + b'{"type":"batch","failed":[]}\n'
    bad.write_bytes(content)
    before = len(api.calls)

    listing = invoke("runs")
    assert listing.code == 0, listing
    assert good in listing.stdout
    warning = listing.stderr.strip().splitlines()
    assert len(warning) == 1, listing
    assert warning[0].startswith("warning: skipped journal ~/state/runs/20990101-000000-0bad.jsonl")
    as_json = invoke("runs", "--json")
    assert [r["runId"] for r in as_json.json()] == [good]

    for command in (["runs", "show"], ["resume"], ["retry"]):
        refused = invoke(*command, "0bad")
        assert refused.code == 2, (command, refused)
        assert "20990101-000000-0bad.jsonl" in one_error_line(refused)
    assert len(api.calls) == before


def test_a_command_line_that_is_not_utf8_leaves_a_readable_journal(
    api: responses.RequestsMock,
) -> None:
    """`dexbulk set $'company=\\xff' --ids ID` crashed creating its journal and broke `runs`.

    Whether the value is then refused or sent is not the journal's business (values and the
    transport decide); the journal is written whole, and every run stays listable.
    """
    invoke("set", "company=\udcff", "--ids", cid(1), "--no-progress")
    listing = invoke("runs", "--json")
    assert listing.code == 0, listing
    assert listing.stderr == ""
    for run in listing.json():
        assert run["command"] == "set 'company=\\xff'"
        shown = invoke("runs", "show", run["runId"], "--json")
        assert shown.code == 0, shown
        assert shown.json()["patch"] == {"company": "\\xff"}
    journals = list(runs_dir().glob("*.jsonl"))
    for journal in journals:
        journal.read_bytes().decode("utf-8")


# -- --check-ids ---------------------------------------------------------------------------


def test_check_ids_failures_reach_runs_show_and_retry(api: responses.RequestsMock) -> None:
    api.post(FILTER_URL, json={"error": False, "data": {"items": [{"id": cid(1)}]}})
    done = invoke("star", "--ids", f"{cid(1)},{cid(2)},{cid(3)}", "--check-ids", "--json")
    assert done.code == 1, done
    document = done.json()
    assert sent(api) == [cid(1)]

    shown = invoke("runs", "show", "last", "--json").json()
    assert [f["contactId"] for f in shown["failures"]] == [cid(2), cid(3)]
    assert {f["outcome"] for f in shown["failures"]} == {"not_found"}
    assert (shown["total"], shown["updated"], shown["failed"], shown["notSent"]) == (
        document["selected"], document["confirmed"], document["failed"], document["notSent"],
    )  # fmt: skip
    assert shown["total"] == shown["updated"] + shown["failed"] + shown["notSent"]

    retried = invoke("retry", "last", "--failed", "--no-progress")
    assert retried.code == 0, retried
    assert sent(api)[1:] == [cid(2), cid(3)]


# -- the lock ------------------------------------------------------------------------------


def test_a_second_resume_of_a_run_in_use_is_refused(
    tmp_path: Path, api: responses.RequestsMock
) -> None:
    run_id = first_run(tmp_path, api, 3)
    journal = runs_dir() / f"{run_id}.jsonl"
    before = len(api.calls)
    with RunLock.acquire(journal, run_id):
        for command in ("resume", "retry"):
            refused = invoke(command, run_id)
            assert refused.code == 2, refused
            assert one_error_line(refused).startswith(
                f"error: run {run_id} is in use by process {os.getpid()} (since "
            )
    assert len(api.calls) == before
    assert invoke("resume", run_id).code == 0


# -- a journal that cannot be written ------------------------------------------------------


def test_a_journal_that_fails_mid_run_stops_it_and_keeps_the_files(
    tmp_path: Path, api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = Journal.record_batch
    calls = 0

    def record_batch(self: Journal, *args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls > 2:
            raise JournalError(f"cannot write the run journal {self.path}: No space left on device")
        real(self, *args, **kwargs)

    monkeypatch.setattr(Journal, "record_batch", record_batch)
    results, failed_to = tmp_path / "results.jsonl", tmp_path / "failed.txt"
    done = invoke(
        "star", "--from", str(ids_file(tmp_path, 10)), "--batch-size", "2", "--concurrency", "1",
        "--results", str(results), "--failed-to", str(failed_to), "--no-progress",
    )  # fmt: skip
    assert done.code == 4, done
    assert sent(api) == [cid(i) for i in range(6)]  # stopped after the batch it failed to record
    records = [json.loads(line) for line in results.read_text().splitlines()]
    assert [r["outcome"] for r in records] == ["updated"] * 6 + ["not_sent"] * 4
    assert failed_to.read_text().split() == [cid(i) for i in range(6, 10)]
    assert "No space left on device: sending stopped at once" in done.stderr
    assert "error: " not in done.stderr  # the summary's note says it; --quiet says it as:
    run_id = done.stderr.split("resume with: dexbulk resume ")[1].split()[0]
    quiet = invoke("star", "--ids", cid(20), "--quiet")
    assert quiet.code == 4, quiet
    error, hint = quiet.stderr.splitlines()
    assert re.fullmatch(
        r"error: cannot write the run journal \S+\.jsonl: No space left on device: "
        r"sending stopped at once; 0 contact\(s\) not sent", error,
    )  # fmt: skip
    assert re.fullmatch(r"resume with: dexbulk resume \S{20}", hint)

    monkeypatch.setattr(Journal, "record_batch", real)
    resumed = invoke("resume", run_id, "--no-progress")
    assert resumed.code == 0, resumed
    # What the journal holds (4 confirmed) is not resent; the unrecorded batch is (safe).
    assert sent(api)[7:] == [cid(i) for i in range(4, 10)]  # [6] was the --quiet run's


def test_a_journal_that_cannot_be_created_sends_nothing(
    tmp_path: Path, api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state-is-a-file"
    state.write_text("")
    monkeypatch.setenv("DEXBULK_STATE_DIR", str(state))
    failed_to = tmp_path / "failed.txt"
    done = invoke("star", "--ids", f"{cid(1)},{cid(2)}", "--failed-to", str(failed_to))
    assert done.code == 4, done
    assert one_error_line(done).startswith("error: cannot write the run journal ")
    assert done.stderr.rstrip().endswith("; nothing was sent")
    assert [c for c in api.calls if c.request.method == "PUT"] == []
    assert failed_to.read_text().split() == [cid(1), cid(2)]


# -- files, paths, IDs ---------------------------------------------------------------------


def test_journals_and_results_are_private(tmp_path: Path, api: responses.RequestsMock) -> None:
    results = tmp_path / "results.jsonl"
    run_id = first_run(tmp_path, api, 2, "--results", str(results))
    assert stat.S_IMODE(results.stat().st_mode) == 0o600
    assert stat.S_IMODE((runs_dir() / f"{run_id}.jsonl").stat().st_mode) == 0o600
    assert stat.S_IMODE(runs_dir().stat().st_mode) == 0o700
    assert stat.S_IMODE(runs_dir().parent.stat().st_mode) == 0o700


def test_runs_show_names_the_journal_under_home_and_finds_a_run_by_its_ending(
    tmp_path: Path, api: responses.RequestsMock
) -> None:
    run_id = first_run(tmp_path, api, 2)
    assert len(run_id) == 20
    shown = invoke("runs", "show", run_id[-4:])
    assert shown.code == 0, shown
    assert f"journal: ~/state/runs/{run_id}.jsonl" in shown.stdout
    assert str(Path.home()) not in shown.stdout
    assert invoke("runs", "show", run_id[-4:], "--json").json()["journal"] == (
        f"~/state/runs/{run_id}.jsonl"
    )
