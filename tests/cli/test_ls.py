"""``dexbulk ls`` and the selection options, through Typer's CliRunner with the API mocked.

Asserts exit code, stdout, stderr and the requests sent (or that none were).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from typer.testing import CliRunner

from dexbulk.cli.app import app
from dexbulk.cli.env import Env
from dexbulk.inputs.ids import read_ids
from tests.cli.runner import Run
from tests.conftest import TEST_KEY

API = "https://api.test.getdex.com/v1"
FILTER_URL = f"{API}/contacts/filter"
A = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
B = "8df02237-1111-4b50-8888-8dd25736052b"
C = "0a1b2c3d-2222-4b50-8888-8dd25736052c"
INVESTOR = "11111111-1111-4111-8111-111111111111"
PEOPLE = [
    {"id": A, "full_name": "Ada Lovelace", "company": "OldCo", "job_title": "CTO",
     "tags": [{"id": INVESTOR, "name": "investor"}], "groups": [], "is_archived": False},
    {"id": B, "full_name": 'Bob "the, builder"', "company": "OldCo", "job_title": None,
     "tags": [{"id": INVESTOR, "name": "investor"}], "groups": [], "is_archived": False},
]  # fmt: skip


def invoke(*args: str, stdin: str = "") -> Run:
    environ = {"DEX_API_URL": API, "DEX_API_KEY": TEST_KEY, "COLUMNS": "200", "NO_COLOR": "1"}
    return Run(CliRunner().invoke(app, list(args), input=stdin, env=environ))


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(
            f"{API}/search/tags",
            json={"error": False, "data": {"items": [{"id": INVESTOR, "name": "investor"}]}},
        )
        mock.post(FILTER_URL, json={"error": False, "data": {"items": PEOPLE}})
        yield mock


@pytest.fixture
def no_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run as from a terminal or </dev/null: nothing is piped in."""
    monkeypatch.setattr(Env, "stdin_piped", property(lambda _self: False))


def filter_bodies(mock: responses.RequestsMock) -> list[dict[str, Any]]:
    return [json.loads(c.request.body) for c in mock.calls if c.request.url == FILTER_URL]


@pytest.mark.usefixtures("no_stdin")
def test_ls_writes_json_lines_when_piped(api: responses.RequestsMock) -> None:
    run = invoke("ls", "--tag", "investor", "--where", "company=OldCo")
    assert run.code == 0, run
    assert [json.loads(line)["id"] for line in run.stdout.splitlines()] == [A, B]
    assert json.loads(run.stdout.splitlines()[0]) == PEOPLE[0]  # every field Dex returned
    assert filter_bodies(api)[0]["where"] == {"is_archived": False, "has_tag": INVESTOR}
    assert run.stderr == ""


@pytest.mark.usefixtures("no_stdin", "api")
@pytest.mark.parametrize("fmt", ["ids", "csv", "jsonl", "json"])
def test_every_format_is_read_back_as_the_same_ids(fmt: str) -> None:
    run = invoke("ls", "--all", "--format", fmt, "--columns", "full_name,job_title,tags")
    assert run.code == 0, run
    assert list(read_ids(io.StringIO(run.stdout), "<stdin>")) == [A, B]


@pytest.mark.usefixtures("no_stdin", "api")
def test_csv_has_id_first_updated_at_last_and_cells_people_can_edit() -> None:
    run = invoke("ls", "--all", "-f", "csv", "--columns", "full_name,company,job_title,tags")
    assert run.code == 0, run
    rows = list(csv.reader(io.StringIO(run.stdout)))
    assert rows == [
        ["id", "full_name", "company", "job_title", "tags", "updated_at"],
        [A, "Ada Lovelace", "OldCo", "CTO", "investor", ""],
        [B, 'Bob "the, builder"', "OldCo", "", "investor", ""],
    ]


@pytest.mark.usefixtures("no_stdin", "api")
def test_table_shows_whole_ids_and_escapes_control_characters(
    api: responses.RequestsMock,
) -> None:
    odd = {**PEOPLE[0], "full_name": "Eve\x1b[31m"}
    api.replace(responses.POST, FILTER_URL, json={"error": False, "data": {"items": [odd]}})
    run = invoke("ls", "--all", "--format", "table")
    assert run.code == 0, run
    assert A in run.stdout
    assert "Eve\\x1b[31m" in run.stdout
    assert "\x1b" not in run.stdout


@pytest.mark.usefixtures("no_stdin", "api")
def test_count_and_limit() -> None:
    assert invoke("ls", "--all", "--count").stdout == "2\n"
    limited = invoke("ls", "--all", "--limit", "1", "-f", "ids")
    assert limited.stdout == f"{A}\n"


@pytest.mark.usefixtures("no_stdin")
def test_nothing_matching_says_so_and_exits_0(api: responses.RequestsMock) -> None:
    run = invoke("ls", "--where", "company=Nobody", "--where", "starred=true", "-f", "json")
    assert run.code == 0, run
    assert run.stdout == "[]\n"
    assert "no contacts match --where company=Nobody --where starred=true" in run.stderr


@pytest.mark.usefixtures("no_stdin", "api")
def test_verbose_says_what_ran_where_and_what_reading_cost() -> None:
    run = invoke("ls", "--tag", "investor", "--where", "job_title:set", "-v", "-f", "ids")
    assert run.code == 0, run
    assert run.stdout == f"{A}\n"
    assert "selection: Dex filtered on is_archived=false, job_title:set, has_tag 'investor'" in (
        run.stderr
    )
    assert "selection: read 2 contacts in 2 requests; 1 matched" in run.stderr


def test_piped_ids_are_narrowed_by_the_filters(api: responses.RequestsMock) -> None:
    run = invoke("ls", "--where", "job_title:set", "-f", "ids", stdin=f"{A}\n{B}\n{C}\n")
    assert run.code == 0, run
    assert run.stdout == f"{A}\n"
    assert filter_bodies(api)[0]["where"] == {"in": [A, B, C]}


@pytest.mark.usefixtures("no_stdin")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ls"], "no contacts selected: pass --where, --tag, --group, --search or --all"),
        (["ls", "--where", "compny=OldCo"], "did you mean 'company'?"),
        (["ls", "--where", "company<OldCo"], "'<' compares dates"),
        (["ls", "--all", "--ids", A], "--all selects every contact"),
        (["ls", "--all", "--columns", "full_nme"], "--columns: unknown field 'full_nme'"),
        (["ls", "--all", "--format", "xml"], "--format 'xml'"),
        (["star", "--where", "starred:empty"], "'starred' is a flag"),
        (["set", "company=NewCo", "--tag", " "], "--tag: the name is empty"),
    ],
)
def test_bad_selections_exit_2_before_any_request(
    api: responses.RequestsMock, args: list[str], message: str
) -> None:
    run = invoke(*args)
    assert run.code == 2, run
    assert message in run.stderr
    assert not api.calls


def test_an_empty_pipe_with_filters_is_an_error(api: responses.RequestsMock) -> None:
    run = invoke("archive", "--tag", "investor", stdin="")
    assert run.code == 2, run
    assert "no contact IDs found in <stdin>" in run.stderr
    assert "pipe nothing into dexbulk (or add </dev/null)" in run.stderr
    assert not api.calls


@pytest.mark.usefixtures("no_stdin")
def test_an_unknown_tag_exits_2_listing_close_names(api: responses.RequestsMock) -> None:
    run = invoke("ls", "--tag", "investr")
    assert run.code == 2, run
    assert "--tag 'investr': no such tag in Dex (did you mean 'investor'?)" in run.stderr
    assert not filter_bodies(api)


@pytest.mark.usefixtures("no_stdin", "api")
def test_json_flag_is_format_json() -> None:
    run = invoke("ls", "--all", "--json")
    assert run.code == 0, run
    assert run.stdout == invoke("ls", "--all", "--format", "json").stdout
    assert [c["id"] for c in json.loads(run.stdout)] == [A, B]
    assert invoke("ls", "--all", "--json", "-f", "json").code == 0


def test_json_flag_with_another_format_exits_2_before_any_request(
    api: responses.RequestsMock,
) -> None:
    run = invoke("ls", "--all", "--json", "--format", "csv")
    assert run.code == 2, run
    assert "--json and --format csv ask for different formats" in run.stderr
    assert not api.calls


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_csv_and_ids_on_a_terminal_show_escape_sequences_escaped() -> None:
    from dexbulk.cli.ls import write

    hostile = {"id": "x\x1b]52;c;UA==\x07", "full_name": "Ana\u202egpj.exe"}
    screen = _Terminal()
    write(screen, [hostile], "csv", ("id", "full_name"))
    assert "\x1b" not in screen.getvalue()
    assert "\u202e" not in screen.getvalue()
    assert "Ana\\u202egpj.exe" in screen.getvalue()
    piped = io.StringIO()
    write(piped, [hostile], "ids", None)
    assert piped.getvalue() == "x\x1b]52;c;UA==\x07\n"  # data for a program: as it is
    jsonl = io.StringIO()
    write(jsonl, [{"id": "a", "full_name": "x\x9b2J"}], "jsonl", None)
    assert json.loads(jsonl.getvalue())["full_name"] == "x\x9b2J"
    assert "\x9b" not in jsonl.getvalue()
