"""The dry run: a screenful for people on stderr, the complete plan as JSON on stdout."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.console import Console

from dexbulk.cli import dryrun
from tests.cli.test_app import API, PUT_URL, A, B, invoke

IDS = [f"00000000-0000-4000-8000-{i:012d}" for i in range(300)]


def console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=100, no_color=True, highlight=False), out


def test_a_large_plan_fits_in_a_screenful(tmp_path: Path) -> None:
    (tmp_path / "ids.txt").write_text("\n".join(IDS) + "\n")
    run = invoke("set", "company=Acme Corp", "starred=true", "--from", str(tmp_path / "ids.txt"),
                 "--dry-run", key=None)  # fmt: skip
    assert run.code == 0, run
    assert run.stdout == ""
    # Without a key the plan is shown without current values, and a note says so first.
    assert run.stderr.startswith("note: no API key")
    lines = run.stderr.splitlines()[1:]
    assert len(lines) <= 15, run.stderr
    assert lines[0] == "Dry run: nothing will be sent."
    assert lines[1] == f"contacts  300 from {tmp_path / 'ids.txt'}"
    assert lines[2:4] == ["change    company → Acme Corp", "          starred → true"]
    assert lines[4] == "batches   3 requests of up to 100 contacts, 4 at a time"
    assert lines[5] == f"request   PUT {PUT_URL} (key redacted)"
    assert lines[6] == f"sample    {IDS[0]}"
    assert "          … and 295 more" in lines


def test_the_complete_plan_is_json_on_stdout(tmp_path: Path) -> None:
    (tmp_path / "ids.txt").write_text("\n".join(IDS) + "\n")
    run = invoke("star", "--from", str(tmp_path / "ids.txt"), "--dry-run", "--json", key=None)
    assert run.code == 0, run
    assert run.stderr == ""
    plan = json.loads(run.stdout)
    assert plan["contactIds"] == IDS
    assert plan["data"] == {"starred": True}
    assert plan["fields"] == {"starred": 300}
    assert plan["updates"] is None, "one data object for all: no need to repeat it"
    assert (plan["selected"], plan["batches"], plan["exitCode"]) == (300, 3, 0)


def test_a_per_contact_plan_shows_each_sample_with_its_change(tmp_path: Path) -> None:
    path = tmp_path / "updates.csv"
    path.write_text(f"contactId,company,job_title\n{A},Acme,\n{B},,CTO\n")
    human = invoke("apply", str(path), "--dry-run", key=None)
    assert human.code == 0, human
    assert "change    per contact: company (1), job_title (1)\n" in human.stderr
    assert f"sample    {A}  company → Acme\n          {B}  job_title → CTO\n" in human.stderr
    plan = json.loads(invoke("apply", str(path), "--dry-run", "--json", key=None).stdout)
    assert plan["data"] is None
    assert plan["updates"] == [
        {"contactId": A, "data": {"company": "Acme"}},
        {"contactId": B, "data": {"job_title": "CTO"}},
    ]


def test_values_show_as_a_user_types_them_and_clearing_says_so() -> None:
    run = invoke("unset", "job_title", "--ids", A, "--dry-run", key=None)
    assert "change    job_title → null (erases the value in Dex)\n" in run.stderr
    run = invoke("set", "company=true", "birthday_year=1990", "--ids", A, "--dry-run", key=None)
    assert 'change    company → "true"\n          birthday_year → 1990\n' in run.stderr


def test_hostile_values_are_shown_escaped() -> None:
    run = invoke("set", "company=\x1b]0;PWNED\x07Acme", "--ids", A, "--dry-run", key=None)
    assert run.code == 0, run
    assert "company → \\x1b]0;PWNED\\x07Acme" in run.stderr
    assert "\x1b" not in run.stderr


def test_the_plan_shows_a_bracketed_url_as_written() -> None:
    con, out = console()
    url = "http://[::1]:8765/v1/[/]"
    document = {
        "selected": 1, "duplicates": 0, "batches": 1, "batchSize": 100, "concurrency": 4,
        "apiUrl": url, "data": {"company": "[bold]x[/]"}, "sample": [],
        "firstRequest": {"method": "PUT", "url": url + "/contacts/", "headers": {}, "body": []},
    }  # fmt: skip
    dryrun.render_plan(con, document)
    text = out.getvalue()
    assert f"PUT {url}/contacts/ (key redacted)" in text
    assert "company → [bold]x[/]" in text


def test_a_section_can_be_added_without_touching_the_others() -> None:
    def preview(console: Console, document: Mapping[str, Any]) -> None:
        console.print(f"preview of {document['selected']}")

    con, out = console()
    document = {"selected": 1, "duplicates": 0, "batches": 1, "batchSize": 100,
                "concurrency": 4, "apiUrl": API, "data": {"starred": True}}  # fmt: skip
    dryrun.render_plan(con, document, sections=(*dryrun.SECTIONS[:-1], preview,
                                                 dryrun.SECTIONS[-1]))  # fmt: skip
    lines = out.getvalue().splitlines()
    assert lines[-2:] == [
        "preview of 1",
        "Drop --dry-run to send it; --json prints the complete plan.",
    ]
