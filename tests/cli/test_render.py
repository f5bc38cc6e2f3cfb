"""Tests for dexbulk.cli.render: what people see on stderr, drawn on a StringIO console."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console
from rich.table import Table

from dexbulk.batches import ContactResult, ContactState
from dexbulk.cli import render
from dexbulk.cli.safeconsole import SafeConsole
from dexbulk.engine import RunResult

A = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
B = "8df02237-1111-4b50-8888-8dd25736052b"

# What a server (or a user's value) might say that rich would read as markup.
MARKUP_LOOKALIKES = ["invalid value [/]", "field [bold] is [/bold] bad", "see [link=x]docs[/link]"]


def console(width: int = 100) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=width, no_color=True, highlight=False), out


def result_with(*errors: str) -> RunResult:
    failed = [ContactResult(B, ContactState.FAILED, 400, error, 1) for error in errors]
    return RunResult(
        "run-1", 1 + len(failed), 0, [ContactResult(A, ContactState.UPDATED, 200, None, 1), *failed]
    )


@pytest.mark.parametrize("message", MARKUP_LOOKALIKES)
def test_failure_messages_are_printed_as_written(message: str) -> None:
    con, out = console()
    result = result_with(message)
    result.notes.append(f"Dex said {message}")
    render.render_summary(con, result)
    text = out.getvalue()
    assert f"✗ {B}: {message}\n" in text
    assert f"note: Dex said {message}" in text


def test_a_failure_line_is_never_wrapped_however_narrow_the_console() -> None:
    con, out = console(width=40)
    long_reason = "contact cannot be updated because the server said so at length"
    render.render_failures(con, result_with(long_reason))
    assert out.getvalue() == f"  ✗ {B}: {long_reason}\n"


def test_more_failures_than_shown_point_to_the_files() -> None:
    con, out = console()
    render.render_failures(con, result_with(*["bad"] * (render.FAILURES_SHOWN + 3)))
    lines = out.getvalue().splitlines()
    assert len(lines) == render.FAILURES_SHOWN + 1
    assert lines[-1] == "  … and 3 more (see --results or --failed-to)"


# --- a clean run in one line; the table when something went wrong ----------------------------


def clean(n: int = 2, *, elapsed: float = 0.25, duplicates: int = 0) -> RunResult:
    ids = [f"00000000-0000-4000-8000-{i:012d}" for i in range(n)]
    results = [ContactResult(cid, ContactState.UPDATED, 200, None, 1) for cid in ids]
    return RunResult("run-7230", n, duplicates, results, updated=n, elapsed=elapsed)


@pytest.mark.parametrize(
    ("command", "line"),
    [
        ("star", "✓ Starred 2 contacts in 0.2 s (run run-7230)"),
        ("unarchive", "✓ Unarchived 2 contacts in 0.2 s (run run-7230)"),
        ("set 'company=Acme Corp'", "✓ Updated 2 contacts in 0.2 s (run run-7230)"),
    ],
)
def test_a_clean_run_answers_in_one_line(command: str, line: str) -> None:
    con, out = console()
    render.render_outcome(con, clean(), command)
    assert out.getvalue() == line + "\n"


def test_the_one_line_counts_one_contact_and_duplicates() -> None:
    assert render.summary_line(clean(1, duplicates=3), "star") == (
        "✓ Starred 1 contact in 0.2 s, 3 duplicates dropped (run run-7230)"
    )


@pytest.mark.parametrize(
    ("result", "verbose"),
    [
        (result_with("bad"), False),  # something went wrong
        (clean(), True),  # -v
        (clean(render.LARGE_RUN_CONTACTS), False),  # a large run
        (clean(elapsed=render.LARGE_RUN_SECONDS), False),  # a long run
    ],
    ids=["failure", "verbose", "many", "long"],
)
def test_the_summary_table_when_it_is_worth_reading(result: RunResult, verbose: bool) -> None:
    con, out = console()
    render.render_outcome(con, result, "star", verbose=verbose)
    assert "dexbulk summary" in out.getvalue()
    assert "✓" not in out.getvalue()


def test_a_retry_hint_only_for_failures_a_retry_can_fix() -> None:
    ids = [f"00000000-0000-4000-8000-{i:012d}" for i in range(3)]
    rejected = RunResult("run-1", 3, 0, [
        ContactResult(ids[0], ContactState.UPDATED, 200, None, 1),
        ContactResult(ids[1], ContactState.REJECTED, 400, "birthday: not a date", 1),
        ContactResult(ids[2], ContactState.NOT_FOUND, 200, "not found or not yours", 1),
    ])  # fmt: skip
    con, out = console()
    render.render_outcome(con, rejected, "set birthday=x")
    text = out.getvalue()
    assert f"✗ {ids[1]}: birthday: not a date" in text
    assert f"✗ {ids[2]}: not found or not yours" in text
    assert "retry" not in text
    assert "resume" not in text

    failed = RunResult("run-2", 1, 0, [ContactResult(ids[0], ContactState.FAILED, 503, "x", 5)])
    assert render.next_step(failed) == "retry the failures with: dexbulk retry run-2 --failed"
    stopped = RunResult("run-3", 1, 0, [ContactResult(ids[0], ContactState.NOT_SENT, None, "", 0)])
    assert render.next_step(stopped) == "resume with: dexbulk resume run-3"


@pytest.mark.parametrize(("seconds", "shown"), [(0.04, "0.0 s"), (9.94, "9.9 s"),
                                                  (12.4, "12 s"), (125, "2 min 05 s")])  # fmt: skip
def test_elapsed_is_as_precise_as_a_person_needs(seconds: float, shown: str) -> None:
    assert render.elapsed(seconds) == shown


# --- control characters never reach the terminal ---------------------------------------------

HOSTILE = "\x1b]0;PWNED\x07\x1b]52;c;UFdORUQ=\x07\x1b[2J\x1b[31mRED"


def test_failures_and_notes_show_escapes_instead_of_obeying_them() -> None:
    con, out = console()
    result = result_with(f"{HOSTILE} bad")
    result.notes.append(f"Dex said {HOSTILE}")
    render.render_summary(con, result)
    text = out.getvalue()
    assert "\x1b" not in text
    assert "\x07" not in text
    assert f"✗ {B}: \\x1b]0;PWNED\\x07" in text
    assert "note: Dex said \\x1b]0;PWNED" in text


def test_the_console_escapes_whatever_text_was_not_escaped_first() -> None:
    out = io.StringIO()
    con = render.make_console(out)
    con.print(f"name: {HOSTILE}\x9b2J", markup=False)
    con.print(Table("a", title=f"t{HOSTILE}"))
    text = out.getvalue()
    assert "\x1b" not in text
    assert "\x9b" not in text
    assert "name: \\x1b]0;PWNED" in text  # rich itself drops the BEL (\x07)


def test_the_console_keeps_its_own_colours_on_a_terminal() -> None:
    out = io.StringIO()
    con = SafeConsole(file=out, force_terminal=True, color_system="standard")
    con.print("[red]red[/red] " + HOSTILE, highlight=False)
    text = out.getvalue()
    assert text.startswith("\x1b[31mred\x1b[0m "), repr(text)
    assert "\x1b]0;" not in text
    assert "\\x1b]0;PWNED" in text


def test_json_output_escapes_c1_controls_and_stays_valid() -> None:
    out = io.StringIO()
    render.write_json(out, {"message": "a\x9b2Jb", "esc": "\x1b[2J"})
    assert "\x9b" not in out.getvalue()
    assert "\x1b" not in out.getvalue()
    assert json.loads(out.getvalue()) == {"message": "a\x9b2Jb", "esc": "\x1b[2J"}
