"""Tests for dexbulk.cli.tables: nothing a user types back is cut; piped, tables are TSV."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console

from dexbulk.cli import tables
from dexbulk.cli.render import make_console
from dexbulk.fields import FIELDS
from dexbulk.journal import RunState
from tests.cli.test_app import invoke

RUN_ID = "2026-11-26T18-03-50.123-1a2b"


def terminal(width: int) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=width, force_terminal=True, color_system=None), out


def piped() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return make_console(out), out


def run_state(command: str = "set 'company=Acme Corp'", **start: object) -> RunState:
    return RunState(
        RUN_ID, Path("/state/runs/x.jsonl"), {"command": command, "at": "2026-11-26", **start}, []
    )


def test_piped_tables_are_tab_separated_lines() -> None:
    con, out = piped()
    tables.render_runs(con, [run_state()])
    assert out.getvalue().splitlines() == [
        "run\tstate\ttotal\tupdated\tfailed\tnot sent\tundo\tcommand",
        f"{RUN_ID}\tcrashed\t0\t0\t0\t0\tno (--no-read)\tset 'company=Acme Corp'",
    ]


def test_piped_fields_can_be_grepped_whole() -> None:
    con, out = piped()
    tables.render_fields(con, list(FIELDS.values()), advanced=False)
    [line] = [line for line in out.getvalue().splitlines() if "phone" in line]
    assert line.split("\t")[:2] == ["contact_phone_numbers", "list"]
    assert not re.search("[┃│━─]", out.getvalue()), "no box drawing when piped"


@pytest.mark.parametrize("width", [40, 60, 80, 100, 160])
def test_run_ids_and_field_names_are_never_cut_on_a_terminal(width: int) -> None:
    con, out = terminal(width)
    tables.render_runs(con, [run_state("set 'job_title=Head of Sales and Marketing, EMEA'")])
    assert RUN_ID in out.getvalue()
    con, out = terminal(width)
    tables.render_fields(con, list(FIELDS.values()), advanced=True)
    for name in FIELDS:
        assert re.search(rf"(^|\s){name}\s", out.getvalue(), re.MULTILINE), (name, width)


def test_a_wide_terminal_gets_a_table_and_a_narrow_one_aligned_lines() -> None:
    con, out = terminal(120)
    tables.render_runs(con, [run_state()])
    wide = out.getvalue().splitlines()
    assert "─" in wide[1], "a rule under the header"
    con, out = terminal(60)
    tables.render_runs(con, [run_state()])
    narrow = out.getvalue().splitlines()
    assert narrow[0].split() == ["run", "state", "total", "updated", "failed", "not", "sent",
                                 "undo", "command"]  # fmt: skip
    assert narrow[1].startswith(f"{RUN_ID}  crashed")


def test_cells_show_control_characters_escaped_tsv_included() -> None:
    con, out = piped()
    tables.print_table(con, [tables.Column("a"), tables.Column("b")], [["x\ty", "\x1b]0;T\x07"]])
    assert out.getvalue().splitlines()[1] == "x\\ty\t\\x1b]0;T\\x07"


def test_run_show_gives_the_command_line_with_quotes_and_no_install_path() -> None:
    argv = ["/home/me/.venv/bin/dexbulk", "set", "company=Acme Corp", "--from", "ids.txt"]
    con, out = piped()
    tables.render_run(con, run_state(argv=argv))
    assert "command line: dexbulk set 'company=Acme Corp' --from ids.txt\n" in out.getvalue()
    assert "/home/me" not in out.getvalue()


def test_runs_show_through_the_cli(tmp_path: Path) -> None:
    listing = invoke("runs")
    assert (listing.code, listing.stdout) == (0, "No runs yet.\n")
