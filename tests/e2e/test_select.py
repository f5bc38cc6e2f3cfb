"""Selecting by what contacts are, before → after, and the guards, end to end.

The installed ``dexbulk`` against a sandbox subprocess: every --where operator against an
independent reading of the whole address book, ``ls | update`` pipelines in every format, the
spreadsheet round trip (counted in PUT items), skipping what is already right, the prompt on a
pseudo-terminal, no prompt without one, --expected-count and --stop-after.
"""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import select
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TEST_KEY
from tests.e2e.conftest import DEXBULK, Result, SandboxProc, base_env

Sandbox = Callable[..., SandboxProc]
Contact = dict[str, Any]


@pytest.fixture
def run(tmp_path: Path) -> Callable[..., Result]:
    """Run the installed command with stdin from /dev/null (nothing piped: filters alone
    select) or from ``stdin`` text; checks the key never shows up in its output."""

    def go(*args: str, api: SandboxProc, stdin: str | None = None, **env: str) -> Result:
        full_env = {**base_env(tmp_path), "DEX_API_URL": api.url, "DEX_API_KEY": TEST_KEY, **env}
        source = None if stdin is not None else subprocess.DEVNULL
        proc = subprocess.run(
            [str(DEXBULK), *args], input=stdin, stdin=source, capture_output=True, text=True,
            env=full_env, timeout=120, cwd=tmp_path,
        )  # fmt: skip
        result = Result(proc.returncode, proc.stdout, proc.stderr)
        assert TEST_KEY not in result.stdout + result.stderr
        return result

    return go


def book(api: SandboxProc) -> list[Contact]:
    """Every contact, read straight from the sandbox (not through dexbulk)."""
    found: list[Contact] = []
    cursor = None
    while True:
        params = {"cursor": cursor} if cursor else {}
        data = api.http.get(f"{api.url}/contacts", params=params, timeout=10).json()["data"]
        found.extend(data["items"])
        cursor = data.get("nextCursor")
        if not cursor:
            return found


def ids_of(result: Result) -> list[str]:
    assert result.code == 0, result
    return result.stdout.split()


def live(contact: Contact) -> bool:
    return not contact["is_archived"]


# (--where, the same test written independently, whether Dex's filter runs part of it)
OPERATORS: list[tuple[str, Callable[[Contact], bool]]] = [
    ("company=OldCo", lambda c: c["company"] == "OldCo"),
    ("company!=OldCo", lambda c: c["company"] != "OldCo"),
    ("company~CORP", lambda c: "corp" in (c["company"] or "").lower()),
    ("last_seen_at<2021-01-01", lambda c: bool(c["last_seen_at"]) and c["last_seen_at"] < "2021"),
    ("last_seen_at<=2021-06-30T23:59:59Z", lambda c: (c["last_seen_at"] or "9") < "2021-07"),
    ("birthday_year>1990", lambda c: (c["birthday_year"] or 0) > 1990),
    ("birthday_year>=1990", lambda c: (c["birthday_year"] or 0) >= 1990),
    ("job_title:empty", lambda c: not c["job_title"]),
    ("linkedin:set", lambda c: bool(c["linkedin"])),  # Dex filters: has_linkedin
    ("starred=true", lambda c: c["starred"] is True),  # Dex filters: is_starred
    ("created_at>=2022-01-01", lambda c: c["created_at"] >= "2022-01-01"),  # has_created_at
    ("frequency=monthly", lambda c: c["frequency"] == "1 mon"),  # has_frequency
]


def test_every_operator_selects_what_reading_everything_selects(
    sandbox: Sandbox, run: Callable[..., Result]
) -> None:
    api = sandbox()
    everyone = book(api)
    for where, test in OPERATORS:
        expected = [c["id"] for c in everyone if live(c) and test(c)]
        assert expected, f"{where}: the seed has no such contact; pick another example"
        found = ids_of(run("ls", "--where", where, "--format", "ids", api=api))
        assert found == expected, where


def test_server_side_and_local_filtering_give_the_same_contacts(
    sandbox: Sandbox, run: Callable[..., Result]
) -> None:
    api = sandbox()
    everyone = book(api)
    by_id = {c["id"]: c for c in everyone}
    # Dex's filter runs is_archived, has_tag and is_starred; company is checked here.
    filtered = run("ls", "--tag", "investor", "--where", "starred=false", "--where",
                   "company!=OldCo", "-v", "--format", "ids", api=api)  # fmt: skip
    assert "Dex filtered on is_archived=false, starred=false, has_tag 'investor'" in (
        filtered.stderr
    )
    expected = [
        c["id"] for c in everyone
        if live(c) and not c["starred"] and c["company"] != "OldCo"
        and "investor" in [t["name"] for t in c["tags"]]
    ]  # fmt: skip
    assert ids_of(filtered) == expected
    # The same question with nothing for Dex to filter on: piped IDs are read by ID only.
    piped = run("ls", "--tag", "investor", "--where", "starred=false", "--where",
                "company!=OldCo", "--format", "ids", api=api, stdin="\n".join(by_id))  # fmt: skip
    assert ids_of(piped) == expected
    # "vip" is exactly one tag, not "vip list".
    vip = ids_of(run("ls", "--tag", "vip", "--format", "ids", api=api))
    assert vip == [c["id"] for c in everyone if live(c) and "VIP" in [t["name"] for t in c["tags"]]]
    # Archived contacts only when the selection names is_archived.
    archived = ids_of(run("ls", "--where", "is_archived=true", "--format", "ids", api=api))
    assert archived == [c["id"] for c in everyone if c["is_archived"]]


@pytest.mark.parametrize("fmt", ["ids", "csv", "jsonl", "json"])
def test_ls_piped_into_an_update_changes_exactly_those_contacts(
    sandbox: Sandbox, run: Callable[..., Result], fmt: str
) -> None:
    api = sandbox()
    listed = run("ls", "--tag", "friends", "--format", fmt, api=api)
    assert listed.code == 0, listed
    chosen = {c["id"] for c in book(api) if live(c) and "friends" in [t["name"] for t in c["tags"]]}
    value = f"Piped {fmt}"
    updated = run("set", f"job_title={value}", "--yes", "--json", api=api, stdin=listed.stdout)
    assert updated.code == 0, updated
    assert updated.json()["selected"] == len(chosen)
    assert {c["id"] for c in book(api) if c["job_title"] == value} == chosen


def test_the_spreadsheet_round_trip_sends_only_edited_cells(
    sandbox: Sandbox, run: Callable[..., Result], tmp_path: Path
) -> None:
    api = sandbox()
    exported = run("ls", "--where", "company=OldCo", "--format", "csv", "--columns",
                   "full_name,company,job_title", api=api)  # fmt: skip
    assert exported.code == 0, exported
    rows = list(csv.reader(io.StringIO(exported.stdout)))
    header, body = rows[0], rows[1:]
    assert header == ["id", "full_name", "company", "job_title", "updated_at"]
    moved = body[0]
    blanked = next(r for r in body[1:] if r[3])
    moved[2] = "NewCo"  # edited
    blanked[3] = ""  # emptied: a clear
    sheet = io.StringIO()
    csv.writer(sheet, lineterminator="\r\n").writerows([header, *body])  # as a spreadsheet saves
    (tmp_path / "people.csv").write_text(sheet.getvalue(), encoding="utf-8")
    before = {c["id"]: c for c in book(api)}
    items = api.stats()["put_items"]

    applied = run("apply", "people.csv", "--json", "--yes", api=api)

    assert applied.code == 0, applied
    assert api.stats()["put_items"] == items + 2, "only the two edited rows were sent"
    document = applied.json()
    assert (document["sent"], document["unchanged"]) == (2, len(body) - 2)
    after = {c["id"]: c for c in book(api)}
    assert after[moved[0]]["company"] == "NewCo"
    assert after[blanked[0]]["job_title"] is None
    for contact_id, contact in after.items():
        if contact_id not in (moved[0], blanked[0]):
            assert {k: v for k, v in contact.items() if k != "updated_at"} == {
                k: v for k, v in before[contact_id].items() if k != "updated_at"
            }


def test_a_blank_cell_is_any_empty_value_and_a_null_cell_is_null(
    sandbox: Sandbox, run: Callable[..., Result], tmp_path: Path
) -> None:
    api = sandbox()
    oldco = [c for c in book(api) if c["company"] == "OldCo"]
    emptied = [c["id"] for c in oldco[:2]]
    assert run("set", 'job_title:=""', "--ids", ",".join(emptied), "--yes", api=api).code == 0
    exported = run("ls", "--where", "company=OldCo", "--format", "csv", "--columns",
                   "company,job_title", api=api)  # fmt: skip
    assert exported.code == 0, exported
    rows = list(csv.reader(io.StringIO(exported.stdout)))
    (tmp_path / "as-is.csv").write_text(exported.stdout, encoding="utf-8")
    items = api.stats()["put_items"]
    # "" and null both export as a blank cell, which is the value Dex holds: nothing to send.
    as_is = run("apply", "as-is.csv", "--json", "--yes", api=api)
    assert as_is.code == 0, as_is
    assert (as_is.json()["sent"], api.stats()["put_items"]) == (0, items)
    # A cell reading null asks for null: the "" is cleared.
    first = next(r for r in rows[1:] if r[0] == emptied[0])
    first[2] = "null"
    sheet = io.StringIO()
    csv.writer(sheet, lineterminator="\r\n").writerows(rows)
    (tmp_path / "null.csv").write_text(sheet.getvalue(), encoding="utf-8")
    cleared = run("apply", "null.csv", "--json", "--yes", api=api)
    assert cleared.code == 0, cleared
    assert (cleared.json()["sent"], api.stats()["put_items"]) == (1, items + 1)
    after = {c["id"]: c for c in book(api)}
    assert (after[emptied[0]]["job_title"], after[emptied[1]]["job_title"]) == (None, "")


def test_contacts_already_right_are_counted_unchanged_and_not_sent(
    sandbox: Sandbox, run: Callable[..., Result]
) -> None:
    api = sandbox()
    args = ("set", "job_title=Same", "--where", "company=OldCo", "--json", "--yes")
    first = run(*args, api=api)
    assert first.code == 0, first
    selected = first.json()["selected"]
    already = sum(1 for c in book(api) if live(c) and c["company"] == "OldCo")
    assert selected == already
    items = api.stats()["put_items"]
    again = run(*args, api=api)
    assert again.code == 0, again
    assert (again.json()["sent"], again.json()["unchanged"]) == (0, selected)
    assert api.stats()["put_items"] == items
    anyway = run(*args, "--include-unchanged", api=api)
    assert anyway.json()["sent"] == selected
    assert api.stats()["put_items"] == items + selected


def test_expected_count_mismatch_sends_nothing(
    sandbox: Sandbox, run: Callable[..., Result]
) -> None:
    api = sandbox()
    puts = api.stats()["put_requests"]
    result = run("archive", "--where", "company=OldCo", "--expected-count", "1", api=api)
    assert result.code == 2, result
    assert "--expected-count 1:" in result.stderr
    assert "nothing sent" in result.stderr
    assert api.stats()["put_requests"] == puts
    nothing = run("star", "--where", "company=Nobody Inc", api=api)
    assert nothing.code == 0, nothing
    assert "no contacts match --where company=Nobody Inc; nothing sent" in nothing.stderr


def test_stop_after_sends_a_canary_then_resume_sends_the_rest(
    sandbox: Sandbox, run: Callable[..., Result]
) -> None:
    api = sandbox()
    items = api.stats()["put_items"]
    canary = run("set", "job_title=Canary", "--where", "company=OldCo", "--stop-after", "3",
                 "--json", "--yes", api=api)  # fmt: skip
    assert canary.code == 0, canary
    document = canary.json()
    assert document["state"] == "stopped"
    assert api.stats()["put_items"] == items + 3
    assert f"dexbulk resume {document['runId']}" in canary.stderr
    rest = run("resume", document["runId"], api=api)
    assert rest.code == 0, rest
    oldco = [c for c in book(api) if live(c) and c["company"] == "OldCo"]
    assert all(c["job_title"] == "Canary" for c in oldco)
    assert api.stats()["put_items"] == items + document["selected"]


# -- the question, on a terminal and without one ---------------------------------------------


def _on_a_pty(argv: list[str], env: dict[str, str], stdin: Path, answer: bytes) -> tuple[int, str]:
    """Run ``argv`` with stderr (and the controlling terminal) on a pseudo-terminal and stdin
    from a file; answer ``answer`` when it asks. Returns the exit code and what it wrote."""
    pid, master = pty.fork()
    if pid == 0:  # the child: IDs on stdin, a person on the terminal
        fd = os.open(stdin, os.O_RDONLY)
        os.dup2(fd, 0)
        os.execve(argv[0], argv, env)
    seen = b""
    answered = False
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed the terminal: it has finished
                break
            if not chunk:
                break
            seen += chunk
            if not answered and b"Proceed? [y/N]" in seen:
                os.write(master, answer)
                answered = True
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(master)
        if time.monotonic() >= deadline:
            os.kill(pid, 9)
    return os.waitstatus_to_exitcode(status), seen.decode("utf-8", "replace")


@pytest.mark.parametrize(("answer", "code", "sent"), [(b"y\n", 0, True), (b"n\n", 1, False)])
def test_a_big_change_asks_on_the_terminal_while_ids_come_on_stdin(
    sandbox: Sandbox, tmp_path: Path, answer: bytes, code: int, sent: bool
) -> None:
    api = sandbox()
    ids = api.ids(5)
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("\n".join(ids) + "\n", encoding="utf-8")
    env = {**base_env(tmp_path), "DEX_API_URL": api.url, "DEX_API_KEY": TEST_KEY,
           "DEXBULK_CONFIRM_OVER": "2"}  # fmt: skip
    items = api.stats()["put_items"]
    exit_code, shown = _on_a_pty([str(DEXBULK), "set", "job_title=Asked"], env, ids_file, answer)
    assert TEST_KEY not in shown
    assert "5 contacts will change. Proceed? [y/N]" in shown, shown
    assert "contacts: job_title" in shown  # the grouped before → after came first
    assert exit_code == code, shown
    assert (api.stats()["put_items"] == items + 5) is sent
    if not sent:
        assert "nothing sent" in shown


def test_without_a_terminal_nothing_is_asked(sandbox: Sandbox, tmp_path: Path) -> None:
    api = sandbox()
    ids = api.ids(5)
    env = {**base_env(tmp_path), "DEX_API_URL": api.url, "DEX_API_KEY": TEST_KEY,
           "DEXBULK_CONFIRM_OVER": "0"}  # fmt: skip
    proc = subprocess.run(
        [str(DEXBULK), "set", "job_title=Unasked", "--json"], input="\n".join(ids),
        capture_output=True, text=True, env=env, timeout=60, start_new_session=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Proceed?" not in proc.stderr
    assert json.loads(proc.stdout)["confirmed"] == 5
