"""dexbulk's own help pages and usage errors (``dexbulk/cli/help.py``)."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import pytest
import typer

from dexbulk.cli.app import app
from dexbulk.cli.help import (
    ANSI_BOLD,
    DexbulkCommand,
    DexbulkGroup,
    markup,
    param_record,
    plain,
    render,
    sections,
    usage,
)
from tests.cli.test_app import invoke
from tests.conftest import TEST_KEY

ROOT = typer.main.get_command(app)


def context(*words: str) -> tuple[Any, Any]:
    """The click command and context of ``dexbulk WORDS...``, as --help would see them."""
    command, ctx = ROOT, typer.Context(ROOT, info_name="dexbulk", **ROOT.context_settings)
    for word in words:
        command = command.get_command(ctx, word)  # type: ignore[attr-defined]
        ctx = typer.Context(command, info_name=word, parent=ctx)
    return command, ctx


def every_command() -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []

    def walk(words: tuple[str, ...]) -> None:
        found.append(words)
        command, _ = context(*words)
        for name in getattr(command, "commands", {}):
            walk((*words, name))

    walk(())
    return found


def visible(line: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", line)


# -- markup ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Try [bold]dexbulk demo[/bold].", "Try dexbulk demo."),
        ("[bold red]x[/bold red] and [dim]y[/]", "x and y"),
        ("SQLite file [default: in the data dir].", "SQLite file [default: in the data dir]."),
        ("API URL [env DEX_API_URL; default: 100].", "API URL [env DEX_API_URL; default: 100]."),
        (r"a literal \[bold] tag", "a literal [bold] tag"),
    ],
)  # fmt: skip
def test_markup_is_stripped_but_bracketed_text_is_kept(text: str, expected: str) -> None:
    assert plain(text) == expected


def test_bold_spans_are_wrapped_in_the_given_codes() -> None:
    assert markup("see [bold]dexbulk fields[/bold]", ("<", ">")) == "see <dexbulk fields>"


# -- every command draws with these classes -------------------------------------------------------


@pytest.mark.parametrize("words", every_command(), ids=lambda w: " ".join(w) or "dexbulk")
def test_every_command_uses_dexbulks_help_and_no_typer_metavars(words: tuple[str, ...]) -> None:
    command, ctx = context(*words)
    expected = DexbulkGroup if hasattr(command, "commands") else DexbulkCommand
    assert isinstance(command, expected), f"pass cls={expected.__name__} to the decorator"
    # Typer's own metavars ("<int range>", "{items}") appear when an option lacks metavar=.
    records = [param_record(p) for p in command.get_params(ctx)]
    for text in [usage(command, ctx), *(r[0] for r in records if r)]:
        assert not re.search(r"[<{]", text), f"{' '.join(words)}: {text!r} needs a metavar"


# -- records and usage ----------------------------------------------------------------------------


def test_records_show_metavar_default_and_required() -> None:
    command, ctx = context("sandbox")
    records = dict(r for r in map(param_record, command.get_params(ctx)) if r)
    assert records["--port PORT"].endswith(
        "0 picks a free one (the URL on the first line printed shows it).  [default: 8765]"
    )
    assert records["--latency MS"].endswith("[default: 0]"), "floats print without .0"
    assert records["--fresh"] == "Drop the stored address book and reseed it.", "flags: no default"
    assert "default" not in records["--rate-limit N/s"], "no default: no [default: ...]"

    command, ctx = context("set")
    records = dict(r for r in map(param_record, command.get_params(ctx)) if r)
    assert records["FIELD=VALUE..."].endswith("[required]")
    assert "-c, --concurrency N" in records, "short option first, then the long one"


def test_usage_lists_required_arguments_bare_and_groups_with_command() -> None:
    assert usage(*context("set")) == "dexbulk set [OPTIONS] FIELD=VALUE..."
    assert usage(*context("runs", "show")) == "dexbulk runs show [OPTIONS] RUN_ID"
    assert usage(*context("runs")) == "dexbulk runs [OPTIONS] COMMAND [ARGS]..."


def test_sections_follow_arguments_commands_panels_then_options() -> None:
    titles = [title for title, _ in sections(*context("set"))]
    assert titles == [
        "Arguments", "Selecting contacts", "Sending", "Output", "Before sending", "Options"
    ]  # fmt: skip
    titles = [title for title, _ in sections(*context())]
    assert titles == ["Update contacts", "Tools", "Runs", "Options"]
    runs = dict(sections(*context("runs")))
    assert [name for name, _ in runs["Commands"]] == ["show", "rm", "prune"]


# -- the page -------------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [40, 72, 100])
@pytest.mark.parametrize("words", [(), ("star",), ("set",), ("sandbox",)], ids=" ".join)
def test_page_fits_the_width_except_unbreakable_words(width: int, words: tuple[str, ...]) -> None:
    page = render(*context(*words), width=width, color=False)
    for line in page.splitlines():
        if len(line) > width:
            assert " " not in line.strip(), f"{line!r} is wider than {width} but could wrap"


def test_examples_get_a_line_each_and_exit_codes_a_list() -> None:
    page = render(*context("star"), width=100, color=False)
    lines = page.splitlines()
    at = lines.index("Examples:")
    assert lines[at + 1 : at + 3] == [
        "  dexbulk star --ids 3c90c3cc-0d44-4b50-8888-8dd25736052a",
        "  cat ids.txt | dexbulk star",
    ]
    at = lines.index("Exit codes:")
    codes = lines[at + 1 :]
    assert [line.split(None, 1)[0] for line in codes] == ["0", "1", "2", "3", "4", "70", "130"]
    assert codes[0].split(None, 1)[1].startswith("all selected contacts updated")
    assert codes[-1].split(None, 1)[1].startswith("interrupted")
    assert len({line.index(line.split(None, 1)[1]) for line in codes}) == 1, "one text column"


def test_options_align_in_one_column_and_long_terms_wrap_below() -> None:
    page = render(*context("sandbox"), width=100, color=False)
    starts = {
        line.index(help_start)
        for line in page.splitlines()
        for help_start in ("Port on", "Drop the stored", "Show this message")
        if help_start in line
    }
    assert len(starts) == 1, f"help texts start at columns {starts}"


@pytest.mark.parametrize("width", [40, 50, 55, 60, 72])
@pytest.mark.parametrize("words", [(), ("star",), ("set",), ("sandbox",), ("auth", "status")])
def test_wrapping_never_breaks_a_word(width: int, words: tuple[str, ...]) -> None:
    # Click's wrapping would split "--batch-size" after "--batch-" and cut "DEXBULK_MAX_ATTEMPTS".
    narrow = render(*context(*words), width=width, color=False)
    wide = render(*context(*words), width=1000, color=False)
    assert narrow.split() == wide.split()


def test_help_is_written_into_the_formatter_click_passes() -> None:
    command, ctx = context("star")
    formatter = ctx.make_formatter()
    command.format_help(ctx, formatter)
    assert formatter.getvalue().rstrip("\n") == render(
        command, ctx, width=formatter.width, color=False
    )


@pytest.mark.parametrize(("columns", "widest"), [("60", 58), ("100", 98), ("300", 98)])
def test_help_uses_the_terminal_up_to_a_limit(
    monkeypatch: pytest.MonkeyPatch, columns: str, widest: int
) -> None:
    monkeypatch.setenv("COLUMNS", columns)  # what click's formatter reads the width from
    command, ctx = context("star")
    lines = command.get_help(ctx).splitlines()
    assert max(len(line) for line in lines if " " in line.strip()) <= widest
    assert any(len(line) > widest - 10 for line in lines), "the width is used"


def test_bold_only_with_color_and_never_changes_the_text() -> None:
    cmd_ctx = context("set")
    colored = render(*cmd_ctx, width=80, color=True)
    bare = render(*cmd_ctx, width=80, color=False)
    assert ANSI_BOLD in colored
    assert not re.search("[\x1b\ue000\ue001\u2011]", bare), "no ANSI codes or markers left"
    assert [visible(line) for line in colored.splitlines()] == bare.splitlines()


def test_help_goes_to_stdout_without_rich_boxes_or_markup() -> None:
    run = invoke("star", "--help")
    assert run.code == 0, run
    assert run.stdout.startswith("Usage: dexbulk star [OPTIONS]\n")
    for leftover in ("╭", "[bold]", "\\["):  # rich's boxes and markup
        assert leftover not in run.stdout
    assert "\nSelecting contacts:\n  --ids ID,ID" in run.stdout


# -- usage errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["star", "--foo"], "error: No such option"),
        (["set"], "error: Missing argument 'FIELD=VALUE'."),
        (["sett", "a=1"], "error: No such command 'sett'."),
        (["star", "--batch-size", "x"], "error: Invalid value 'x' for '--batch-size'"),
    ],
)  # fmt: skip
def test_usage_errors_are_one_error_line_and_a_hint(args: list[str], message: str) -> None:
    run = invoke(*args)
    assert run.code == 2, run
    assert run.stdout == ""
    lines = run.stderr.splitlines()
    assert len(lines) == 2, run
    assert lines[0].startswith(message)
    command = " ".join(["dexbulk", *(a for a in args[:1] if a != "sett")])
    assert lines[1] == f"hint: '{command} --help' shows what it accepts"


@pytest.mark.parametrize(
    ("args", "first_line"),
    [
        (["star", "-c", "x"], "error: Invalid value 'x' for '--concurrency' / '-c': "),
        (["star", "--timeout=abc"], "error: Invalid value 'abc' for '--timeout': "),
        (["star", "--batch-size", "0"], "error: Invalid value '0' for '--batch-size': "),
        (["runs", "--limit", "0"], "error: Invalid value '0' for '--limit': "),
    ],
)  # fmt: skip
def test_an_invalid_option_value_is_quoted(args: list[str], first_line: str) -> None:
    run = invoke(*args)
    assert run.code == 2, run
    assert run.stderr.startswith(first_line), run


def test_a_repeated_option_is_not_guessed_at() -> None:
    run = invoke("star", "-c", "2", "-c", "x")
    assert run.code == 2, run
    assert run.stderr.startswith("error: Invalid value for '--concurrency' / '-c': "), run


@pytest.mark.parametrize("how", ["env", "flag", "flag="])
def test_a_key_typed_where_an_argument_goes_is_masked(how: str) -> None:
    flags = {"env": [], "flag": ["--api-key", TEST_KEY], "flag=": [f"--api-key={TEST_KEY}"]}[how]
    run = invoke("star", *flags, TEST_KEY, key=TEST_KEY if how == "env" else None)
    assert run.code == 2, run
    assert "unexpected extra argument" in run.stderr
    assert f"{TEST_KEY[:6]}…{TEST_KEY[-2:]}" in run.stderr  # masked; Run checks the key is absent


def test_no_arguments_prints_the_help_on_stderr_and_exits_2() -> None:
    run = invoke()
    assert run.code == 2
    assert run.stdout == ""
    assert run.stderr.startswith("Usage: dexbulk [OPTIONS] COMMAND [ARGS]...")


def test_help_does_not_import_rich_or_the_sending_stack() -> None:
    # Older Typers import rich themselves; only what dexbulk's --help adds to that counts.
    code = (
        "import sys, typer\n"
        "typer.Typer()\n"
        "baseline = set(sys.modules)\n"
        "from dexbulk.__main__ import main\n"
        "sys.argv = ['dexbulk', 'star', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('rich', 'requests', 'urllib3', 'yaml', 'typer.rich_utils')"
        " if m in sys.modules and m not in baseline]\n"
        "print(','.join(heavy), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", f"--help imported {result.stderr.strip()}"
