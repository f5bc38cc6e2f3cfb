"""The console script builds only the command it runs (``dexbulk.cli.app.run``)."""

from __future__ import annotations

import inspect
import subprocess
import sys
from collections.abc import Callable

import pytest
import typer

from dexbulk.cli.app import _app_for, app, run

ALL_NAMES = {info.name for info in app.registered_commands} | {
    info.name for info in app.registered_groups
}


def names(built: typer.Typer) -> set[str | None]:
    return {info.name for info in built.registered_commands} | {
        info.name for info in built.registered_groups
    }


@pytest.mark.parametrize(
    ("args", "kept"),
    [
        (["star", "--ids", "x"], {"star"}),
        (["set", "company=Acme", "--from", "ids.txt"], {"set"}),
        (["runs", "show", "last"], {"runs"}),
        (["auth", "status"], {"auth"}),
    ],
)
def test_a_command_line_builds_only_the_command_it_names(args: list[str], kept: set[str]) -> None:
    assert names(_app_for(args)) == kept
    assert names(app) == ALL_NAMES, "the app itself keeps every command"


@pytest.mark.parametrize("name", sorted(ALL_NAMES - {"sandbox"}))
def test_every_command_alone_is_the_one_of_the_whole_app(name: str) -> None:
    assert names(_app_for([name, "--json"])) == {name}


@pytest.mark.parametrize("args", [["--version"], ["nope"], ["stars", "--ids", "x"]])
def test_unknown_names_get_every_command(args: list[str]) -> None:
    assert _app_for(args) is app


@pytest.mark.parametrize("args", [[], ["--help"], ["-h"]])
def test_the_listing_has_every_command_with_its_summary_and_no_options(args: list[str]) -> None:
    listing = _app_for(args)
    assert names(listing) == ALL_NAMES
    by_name = {info.name: info.callback for info in listing.registered_commands}
    whole = {info.name: info.callback for info in app.registered_commands}
    for name, stub in by_name.items():
        assert stub is not None
        assert stub.__doc__ == whole[name].__doc__  # type: ignore[union-attr]
        assert not inspect.signature(stub).parameters


def test_the_listing_is_the_whole_apps_help_word_for_word(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from dexbulk.cli import app as app_module

    code, listed = finished(lambda: app_module.run(["--help"]), capsys)
    code_whole, whole = finished(lambda: app(args=["--help"], prog_name="dexbulk"), capsys)
    assert (code, listed) == (code_whole, whole)


def finished(call: Callable[[], object], capsys: pytest.CaptureFixture[str]) -> tuple[object, str]:
    with pytest.raises(SystemExit) as done:
        call()
    out = capsys.readouterr()
    return done.value.code, out.out + out.err


@pytest.mark.parametrize(
    "args",
    [
        ["star", "--help"],
        ["runs", "show", "--help"],
        ["star", "--ids", "not-an-id"],
        ["star", "a", "b"],
        ["set"],
        ["starr"],
    ],
)
def test_run_answers_as_the_whole_app_does(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    whole = finished(lambda: app(args=args, prog_name="dexbulk"), capsys)
    assert finished(lambda: run(args), capsys) == whole


def test_only_dexbulk_sandbox_loads_the_sandboxs_flag_table() -> None:
    """A command imports what it needs: the sandbox's options only for ``dexbulk sandbox``."""
    code = (
        "import sys, typer.main\n"
        "from dexbulk.cli.app import _app_for\n"
        "for args in (['star', '--ids', 'x'], ['runs'], ['auth', 'status']):\n"
        "    typer.main.get_command(_app_for(args))\n"
        "assert not [m for m in sys.modules if m.startswith('dexbulk.sandbox')], 'early'\n"
        "typer.main.get_command(_app_for(['sandbox', '--help']))\n"
        "assert 'dexbulk.sandbox.options' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "sandbox" in ALL_NAMES


@pytest.mark.parametrize(
    ("args", "unwanted"),
    [
        (["star", "--ids", "x"], ["dexbulk.cli.ls", "dexbulk.cli.runs", "dexbulk.cli.admin"]),
        (["runs"], ["dexbulk.cli.update", "dexbulk.cli.ls", "dexbulk.cli.admin"]),
        (["ls"], ["dexbulk.cli.update", "dexbulk.cli.runs", "dexbulk.cli.admin"]),
    ],
)
def test_a_command_imports_no_other_commands_module(args: list[str], unwanted: list[str]) -> None:
    code = (
        "import sys, typer.main\n"
        "from dexbulk.cli.app import _app_for\n"
        f"typer.main.get_command(_app_for({args!r}))\n"
        f"print(*[m for m in {unwanted!r} if m in sys.modules])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [], f"{args[0]} imported {done.stdout.strip()}"
