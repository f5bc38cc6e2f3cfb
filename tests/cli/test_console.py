"""Tests for dexbulk.cli.console: off a terminal, the plain console writes what rich would."""

from __future__ import annotations

import io
import os
from typing import Any

import pytest
from rich.cells import cell_len
from rich.errors import MarkupError
from rich.markup import escape as rich_escape
from rich.table import Table

from dexbulk.cli.console import PlainConsole, escape, make_console, rich_width, strip_markup
from dexbulk.cli.safeconsole import SafeConsole

WIDTH = 80
LINE = "✓ Starred 1 contact in 0.1 s (run 20261201-101244-dpvj)"
NOTE = "note: 1 contact(s) unchanged: Dex already holds these values; not sent"
UNTRUSTED = ["plain", "a [bold] b", "ends in \\", "\\[x]", "[/]", "a\\\\[b]", "[y/N]", "x [/red]"]

# (what is printed, print's keywords, whether the plain console writes it itself)
CASES: list[tuple[str, dict[str, Any], bool]] = [
    (LINE, {"markup": False}, True),
    (LINE, {}, True),
    (NOTE, {"markup": False}, True),
    ("", {}, True),
    ("  indented, and trailing  ", {}, True),
    ("no newline", {"end": ""}, True),
    ("coloured, but not here", {"style": "red"}, True),
    ("Proceed? [y/N] ", {"markup": False, "end": ""}, True),
    ("[yellow]note:[/yellow] batch size now 50", {}, True),
    ("[bold]1.[/bold] Started [red]a[/] sandbox", {}, True),
    ("[bold][red]nested[/red] tags[/bold]", {}, True),
    ("[red]✗[/red] 3c90c3cc: invalid value", {"soft_wrap": True}, True),
    *((f"[yellow]note:[/yellow] {escape(text)}", {}, True) for text in UNTRUSTED),
    ("x" * WIDTH, {}, True),
    ("x" * (WIDTH + 1), {}, False),  # rich wraps it
    ("word " * 20, {}, False),
    ("word " * 20, {"soft_wrap": True}, True),
    (":smile: hi", {}, False),  # rich draws an emoji
    ("at http://127.0.0.1:8080/v1", {}, False),
    ("café", {}, False),
    ("日本語の名前", {}, False),
    ("tab\there", {}, False),
    ("two\nlines", {}, False),
    ("escape \x1b]0;title\x07 \x9b2J", {"markup": False}, False),
    ("[link=https://example.com]docs[/link]", {}, False),
    ("[b]bold[/b]", {}, False),
    ("[foo]no such style[/foo]", {}, False),
    ("centred", {"justify": "center"}, False),
]


def consoles() -> tuple[PlainConsole, io.StringIO, SafeConsole, io.StringIO]:
    plain_out, rich_out = io.StringIO(), io.StringIO()
    rich = SafeConsole(file=rich_out, highlight=False)
    return PlainConsole(plain_out), plain_out, rich, rich_out


@pytest.fixture(autouse=True)
def width(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", str(WIDTH))
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(("text", "kwargs", "plain"), CASES)
def test_the_plain_console_writes_what_rich_writes(
    text: str, kwargs: dict[str, Any], plain: bool
) -> None:
    con, out, rich, rich_out = consoles()
    con.print(text, **kwargs)
    rich.print(text, **kwargs)
    assert out.getvalue() == rich_out.getvalue()
    assert (con._rich is None) is plain, "written by rich" if plain else "written without rich"


@pytest.mark.parametrize("columns", [None, "80", "132", "0", "wide"])
def test_the_width_is_richs(columns: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    if columns is None:
        monkeypatch.delenv("COLUMNS")  # then rich asks stdin, stdout and stderr, as we do
    else:
        monkeypatch.setenv("COLUMNS", columns)
    assert rich_width(os.environ) == SafeConsole(file=io.StringIO()).width


@pytest.mark.parametrize("markup", ["[/yellow] alone", "[bold]x[/red]", "[/]"])
def test_markup_rich_refuses_is_refused_the_same_way(markup: str) -> None:
    con, _, rich, _ = consoles()
    with pytest.raises(MarkupError):
        rich.print(markup)
    with pytest.raises(MarkupError):
        con.print(markup)
    assert strip_markup(markup) is None


def test_what_it_cannot_write_goes_to_rich_on_the_same_stream() -> None:
    con, out, rich, rich_out = consoles()
    for target in (con, rich):
        table = Table("a", "b", title="t")
        table.add_row("1", "2")
        target.print("before")
        target.print(table)
        target.print("after")
    assert out.getvalue() == rich_out.getvalue()
    assert con.width == WIDTH  # other attributes are rich's


def test_quiet_writes_nothing() -> None:
    out = io.StringIO()
    con = PlainConsole(out, quiet=True)
    con.print("plain")
    con.print("x" * 200)  # through rich, quiet too
    assert out.getvalue() == ""


@pytest.mark.parametrize("text", [*UNTRUSTED, "", "\\", "\\\\", "a\\[b]\\", "[@click]x", "[#fff]"])
def test_escape_is_richs(text: str) -> None:
    assert escape(text) == rich_escape(text)


@pytest.mark.parametrize("char", "✓✗→…")
def test_the_symbols_written_plain_are_one_cell_wide(char: str) -> None:
    assert cell_len(char) == 1


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("stream", "env", "plain"),
    [
        (io.StringIO, {}, True),
        (io.StringIO, {"NO_COLOR": "1"}, True),
        (io.StringIO, {"TTY_COMPATIBLE": "0"}, True),
        (io.StringIO, {"FORCE_COLOR": "1"}, False),
        (io.StringIO, {"TTY_COMPATIBLE": "1"}, False),
        (_Terminal, {}, False),
    ],
)
def test_rich_draws_wherever_it_sees_a_terminal(
    stream: type[io.StringIO], env: dict[str, str], plain: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    con = make_console(stream())
    assert isinstance(con, PlainConsole) is plain
    assert isinstance(con, SafeConsole) is not plain
