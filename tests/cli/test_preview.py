"""Before → after on the update commands, through CliRunner with the API mocked: the read,
skipping unchanged contacts, --dry-run, --json, --no-read, --include-unchanged, --stop-after,
--expected-count, the confirmation, the journal's prior values, and filters on updates."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
from typer.testing import CliRunner

from dexbulk.cli.app import app
from dexbulk.cli.env import Env
from dexbulk.journal import default_runs_dir, load_run
from tests.cli.runner import Run
from tests.conftest import TEST_KEY

API = "https://api.test.getdex.com/v1"
PUT_URL = f"{API}/contacts/"
FILTER_URL = f"{API}/contacts/filter"
A = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
B = "8df02237-1111-4b50-8888-8dd25736052b"
C = "0a1b2c3d-2222-4b50-8888-8dd25736052c"
TAG = "11111111-1111-4111-8111-111111111111"
BOOK = {
    A: {"id": A, "full_name": "Ada", "company": "OldCo", "is_archived": False, "tags": []},
    B: {"id": B, "full_name": "Bob", "company": "NewCo", "is_archived": False, "tags": []},
}


def invoke(*args: str, stdin: str = "", **env: str) -> Run:
    environ = {"DEX_API_URL": API, "DEX_API_KEY": TEST_KEY, "COLUMNS": "200", "NO_COLOR": "1"}
    return Run(CliRunner().invoke(app, list(args), input=stdin, env={**environ, **env}))


def by_ids(request: Any) -> tuple[int, dict[str, str], str]:
    """Dex's filter: the contacts of where.in that the book holds (all of it otherwise)."""
    where = json.loads(request.body)["where"]
    asked = where.get("in")
    items = [BOOK[i] for i in asked if i in BOOK] if asked else list(BOOK.values())
    return 200, {}, json.dumps({"error": False, "data": {"items": items}})


def count_put(request: Any) -> tuple[int, dict[str, str], str]:
    return 200, {}, json.dumps({"error": False, "data": {"count": len(json.loads(request.body))}})


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.POST, FILTER_URL, callback=by_ids)
        mock.add_callback(responses.PUT, PUT_URL, callback=count_put)
        yield mock


def sent(mock: responses.RequestsMock) -> list[list[dict[str, Any]]]:
    return [json.loads(c.request.body) for c in mock.calls if c.request.method == "PUT"]


def reads(mock: responses.RequestsMock) -> int:
    return sum(1 for c in mock.calls if c.request.method != "PUT")


def test_contacts_that_already_hold_the_value_are_not_sent(
    api: responses.RequestsMock, tmp_path: Path
) -> None:
    results, failed = tmp_path / "results.jsonl", tmp_path / "failed.txt"
    run = invoke(
        "set", "company=NewCo", "--ids", f"{A},{B},{C}", "--json", "-v",
        "--results", str(results), "--failed-to", str(failed),
    )  # fmt: skip
    assert run.code == 0, run
    new = {"company": "NewCo"}
    assert sent(api) == [[{"contactId": A, "data": new}, {"contactId": C, "data": new}]]
    assert reads(api) == 1  # one where.in read for the three
    document = json.loads(run.stdout)
    assert (document["selected"], document["sent"], document["unchanged"]) == (3, 2, 1)
    outcomes = [json.loads(line)["outcome"] for line in results.read_text().splitlines()]
    assert outcomes == ["updated", "updated", "unchanged"]
    assert failed.read_text() == ""
    assert '1 contact: company "OldCo" → "NewCo"' in run.stderr
    assert '1 contact: company (not read) → "NewCo"' in run.stderr
    assert "1 unchanged (not sent)" in run.stderr
    assert "1 not found by the read (sent; Dex decides)" in run.stderr


def test_include_unchanged_sends_them_too(api: responses.RequestsMock) -> None:
    run = invoke("set", "company=NewCo", "--ids", f"{A},{B}", "--include-unchanged", "-v")
    assert run.code == 0, run
    assert [u["contactId"] for u in sent(api)[0]] == [A, B]
    assert "1 unchanged (sent anyway (--include-unchanged))" in run.stderr


def test_no_read_skips_the_read_and_says_what_it_gives_up(api: responses.RequestsMock) -> None:
    run = invoke("set", "company=NewCo", "--ids", f"{A},{B}", "--no-read")
    assert run.code == 0, run
    assert reads(api) == 0
    assert [u["contactId"] for u in sent(api)[0]] == [A, B]
    assert "--no-read: current values were not read" in run.stderr
    assert "journal keeps no prior values" in run.stderr


def test_when_everything_is_already_right_nothing_is_sent(api: responses.RequestsMock) -> None:
    run = invoke("set", "company=NewCo", "--ids", B, "--json")
    assert run.code == 0, run
    assert sent(api) == []
    document = json.loads(run.stdout)
    assert (document["sent"], document["unchanged"], document["runId"]) == (0, 1, None)
    assert document["notes"] == ["1 contact(s) unchanged: Dex already holds these values; not sent"]


def test_dry_run_groups_the_change_then_shows_samples(api: responses.RequestsMock) -> None:
    run = invoke("unset", "company", "--ids", f"{A},{B}", "--dry-run")
    assert run.code == 0, run
    assert sent(api) == []
    assert '2 contacts: company "OldCo" → (cleared)' not in run.stderr
    assert '1 contact: company "OldCo" → (cleared)' in run.stderr
    assert '1 contact: company "NewCo" → (cleared)' in run.stderr
    assert "Samples" in run.stderr
    assert "│ Ada " in run.stderr


def test_dry_run_json_has_every_contact_before_and_after(api: responses.RequestsMock) -> None:
    run = invoke("set", "company=NewCo", "--ids", f"{A},{B},{C}", "--dry-run", "--json")
    assert run.code == 0, run
    document = json.loads(run.stdout)
    assert document["selected"] == 2  # the plan sends two; B already holds the value
    preview = document["preview"]
    assert (preview["changed"], preview["unchanged"], preview["notFound"]) == (2, 1, 1)
    assert preview["contacts"][0] == {
        "contactId": A, "found": True, "before": {"company": "OldCo"},
        "after": {"company": "NewCo"}, "changed": ["company"],
    }  # fmt: skip
    assert preview["contacts"][2]["found"] is False


def test_expected_count_mismatch_exits_2_before_any_request(api: responses.RequestsMock) -> None:
    run = invoke("archive", "--ids", f"{A},{B}", "--expected-count", "3")
    assert run.code == 2, run
    assert "--expected-count 3: 2 contacts are selected; nothing sent" in run.stderr
    assert not api.calls
    assert invoke("archive", "--ids", f"{A},{B}", "--expected-count", "2").code == 0


def test_stop_after_sends_a_canary_and_resume_sends_the_rest(
    api: responses.RequestsMock,
) -> None:
    run = invoke("set", "company=Acme", "--ids", f"{A},{B},{C}", "--stop-after", "1", "--json")
    assert run.code == 0, run
    assert sent(api) == [[{"contactId": A, "data": {"company": "Acme"}}]]
    document = json.loads(run.stdout)
    assert (document["state"], document["sent"], document["notSent"]) == ("stopped", 1, 2)
    assert f"send the other 2 with: dexbulk resume {document['runId']}" in run.stderr
    rest = invoke("resume", document["runId"])
    assert rest.code == 0, rest
    assert [u["contactId"] for u in sent(api)[-1]] == [B, C]


def test_the_journal_keeps_the_prior_values_of_what_it_sends(
    api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = invoke("set", "company=NewCo", "job_title=CTO", "--ids", f"{A},{B}", "--json")
    assert run.code == 0, run
    journal = load_run(default_runs_dir({"DEXBULK_STATE_DIR": _state_dir()}), "last")
    # Every field sent, as Dex held it (B's company too: the shared patch sends it unchanged);
    # job_title is absent from Dex's answer (not known).
    assert journal.before == {A: {"company": "OldCo"}, B: {"company": "NewCo"}}
    assert journal.unknown == {A: ["job_title"], B: ["job_title"]}
    assert TEST_KEY not in journal.path.read_text()


def _state_dir() -> str:
    import os

    return os.environ["DEXBULK_STATE_DIR"]


@pytest.mark.parametrize(("answer", "code", "puts"), [("y\n", 0, 1), ("n\n", 1, 0), ("", 1, 0)])
def test_a_big_change_asks_on_the_terminal(
    api: responses.RequestsMock,
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
    code: int,
    puts: int,
) -> None:
    asked: list[io.StringIO] = []

    def tty(_self: Env) -> io.StringIO:
        asked.append(io.StringIO(answer))
        return asked[-1]

    monkeypatch.setattr(Env, "open_tty", tty)
    run = invoke("set", "company=Acme", "--ids", f"{A},{B}", DEXBULK_CONFIRM_OVER="1")
    assert run.code == code, run
    assert len(asked) == 1
    assert "2 contacts will change. Proceed? [y/N]" in run.stderr
    assert len(sent(api)) == puts
    if not puts:
        assert "nothing sent" in run.stderr


def test_yes_or_a_small_change_or_no_terminal_does_not_ask(
    api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_question(_self: Env) -> None:
        raise AssertionError("asked")

    monkeypatch.setattr(Env, "open_tty", no_question)
    assert invoke("star", "--ids", f"{A},{B}", "--yes", DEXBULK_CONFIRM_OVER="1").code == 0
    assert invoke("star", "--ids", f"{A},{B}", DEXBULK_CONFIRM_OVER="2").code == 0
    monkeypatch.undo()
    # CliRunner's stderr is not a terminal: open_tty finds no one to ask.
    assert invoke("star", "--ids", f"{A},{B}", DEXBULK_CONFIRM_OVER="0").code == 0
    assert len(sent(api)) == 3


@pytest.fixture
def no_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Env, "stdin_piped", property(lambda _self: False))


@pytest.mark.usefixtures("no_stdin")
def test_a_filter_selection_is_read_once_and_updated(api: responses.RequestsMock) -> None:
    run = invoke("set", "company=NewCo", "--where", "full_name:set", "-v")
    assert run.code == 0, run
    assert reads(api) == 1  # the selection's read gives the current values too
    assert sent(api) == [[{"contactId": A, "data": {"company": "NewCo"}}]]
    assert "before → after: read 2 contacts with the selection (no further request)" in run.stderr


@pytest.mark.usefixtures("no_stdin")
def test_a_filter_that_matches_nothing_says_so(api: responses.RequestsMock) -> None:
    run = invoke("star", "--where", "company:empty")
    assert run.code == 0, run
    assert "no contacts match --where company:empty; nothing sent" in run.stderr
    assert sent(api) == []
    mismatch = invoke("star", "--where", "company:empty", "--expected-count", "2")
    assert mismatch.code == 2, mismatch
    assert "--expected-count 2: no contacts match" in mismatch.stderr


@pytest.mark.usefixtures("no_stdin")
@pytest.mark.parametrize(("command", "archived_key"), [("archive", False), ("unarchive", None)])
def test_unarchive_does_not_leave_archived_contacts_out(
    api: responses.RequestsMock, command: str, archived_key: bool | None
) -> None:
    tags = {"error": False, "data": {"items": [{"id": TAG, "name": "x"}]}}
    api.get(f"{API}/search/tags", json=tags)
    invoke(command, "--tag", "x", "--dry-run")
    where = json.loads(next(c for c in api.calls if c.request.url == FILTER_URL).request.body)
    assert where["where"].get("is_archived") == archived_key


def test_a_refused_read_stops_before_anything_is_sent(api: responses.RequestsMock) -> None:
    api.replace(responses.POST, FILTER_URL, status=401, json={"error": True, "message": "no"})
    run = invoke("star", "--ids", A)
    assert run.code == 3, run
    assert sent(api) == []


def test_a_read_that_fails_sends_nothing_and_says_how_to_skip_it(
    api: responses.RequestsMock, tmp_path: Path
) -> None:
    api.replace(responses.POST, FILTER_URL, status=503, body="<html>down</html>")
    api.get(f"{API}/contacts/{A}", status=503, body="<html>down</html>")  # the fallback read
    failed = tmp_path / "failed.txt"
    run = invoke("star", "--ids", f"{A},{B}", "--max-attempts", "1", "--failed-to", str(failed))
    assert run.code == 4, run
    assert f"error: reading current values: GET /contacts/{A}: HTTP 503" in run.stderr
    assert "hint: nothing was sent and no run was recorded: run this command again" in run.stderr
    assert "--no-read sends without reading" in run.stderr
    assert "retry" not in run.stderr  # 'retry last' would pick an older run
    assert sent(api) == []
    assert failed.read_text() == f"{A}\n{B}\n"


def test_quiet_still_shows_what_it_asks_about(
    api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Env, "open_tty", lambda _self: io.StringIO("y\n"))
    run = invoke("set", "company=Acme", "--ids", f"{A},{B}", "--quiet", DEXBULK_CONFIRM_OVER="1")
    assert run.code == 0, run
    assert '1 contact: company "OldCo" → "Acme"' in run.stderr
    assert "2 contacts will change. Proceed? [y/N]" in run.stderr


@pytest.mark.usefixtures("no_stdin")
def test_filters_narrow_the_contacts_a_file_names(
    api: responses.RequestsMock, tmp_path: Path
) -> None:
    path = tmp_path / "updates.csv"
    path.write_text(f"contactId,job_title\n{A},CTO\n{B},CTO\n{C},CTO\n")
    run = invoke("apply", str(path), "--where", "company=NewCo", "--json")
    assert run.code == 0, run
    assert sent(api) == [[{"contactId": B, "data": {"job_title": "CTO"}}]]
