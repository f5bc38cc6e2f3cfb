"""Tests for dexbulk.cli.render: what people see on stderr, drawn on a StringIO console."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from dexbulk.batches import ContactResult, ContactState
from dexbulk.cli import render
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


def test_the_plan_shows_a_bracketed_url_as_written() -> None:
    con, out = console()
    url = "http://[::1]:8765/v1/[/]"
    document = {
        "selected": 1, "duplicates": 0, "batches": 1, "batchSize": 100, "concurrency": 4,
        "apiUrl": url, "data": None,
        "firstRequest": {"method": "PUT", "url": url + "/contacts/", "headers": {}, "body": []},
    }  # fmt: skip
    render.render_plan(con, document)
    text = out.getvalue()
    assert url in text
    assert f"First request: PUT {url}/contacts/" in text
