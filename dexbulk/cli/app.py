"""The Typer app: the commands of every module in this package, wired in one place.

Each command parses its input, calls one library function, renders the result and returns an
exit code; :func:`dexbulk.cli.errors.run_main` turns every error into a message and a code.
"""

import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer

from dexbulk import __version__
from dexbulk.cli.errors import EXIT_CODES_EPILOG
from dexbulk.cli.help import DexbulkCommand, DexbulkGroup
from dexbulk.cli.options import RUNS_PANEL, TOOLS_PANEL, UPDATE_PANEL


def _version(value: bool) -> None:
    if value:
        print(f"dexbulk {__version__}")
        raise typer.Exit()


def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Bulk-update contacts in Dex, the personal CRM, safely and fast.

    Pick contacts with --ids, --from FILE or stdin; say what to change; dexbulk validates
    everything first, then sends it in batches and tells you exactly what happened.
    Try it without an account: [bold]dexbulk demo[/bold].
    """


def build(*, sandbox: bool = True, only: str | None = None) -> typer.Typer:
    """The app with every command; ``sandbox=False`` leaves out ``dexbulk sandbox``, ``only``
    names the one command (or group) to register and import the module of.

    Only ``dexbulk sandbox`` needs the sandbox's flag table, from which its options are made:
    a twentieth of a one-contact ``star``'s time went into importing and turning it into
    options (bench/onecontact.py).
    """
    app = typer.Typer(
        name="dexbulk",
        epilog=EXIT_CODES_EPILOG,
        no_args_is_help=True,
        pretty_exceptions_show_locals=False,  # locals could hold the API key
        context_settings={"help_option_names": ["-h", "--help"]},
        rich_markup_mode=None,  # help and usage errors are drawn by cli.help, not rich_utils
        cls=DexbulkGroup,
    )
    app.callback()(main)
    _register(app, sandbox=sandbox, only=only)
    return app


MEMBERSHIP = frozenset({"tag", "group", "tags", "groups"})
"""The commands ``cli/membership.py`` declares."""
NOT_UPDATE = MEMBERSHIP | frozenset(
    {"ls", "fields", "resume", "retry", "undo", "sandbox", "demo", "runs", "auth", "config"}
)
"""The commands and groups ``cli/update.py`` does not declare; it declares all the others."""


def _register(app: typer.Typer, *, sandbox: bool, only: str | None = None) -> None:
    """Every command, in the order ``dexbulk --help`` lists them within each panel; or only the
    one named ``only``, importing no other command's module."""

    def wanted(name: str) -> bool:
        return only is None or only == name

    if only is None or only not in NOT_UPDATE:
        from dexbulk.cli.update import register

        register(app)
    tool: dict[str, Any] = {"cls": DexbulkCommand, "rich_help_panel": TOOLS_PANEL}
    run: dict[str, Any] = {**tool, "rich_help_panel": RUNS_PANEL, "epilog": EXIT_CODES_EPILOG}
    if only is None or only in MEMBERSHIP:
        from dexbulk.cli.membership import register as register_membership

        register_membership(app, UPDATE_PANEL)
    if wanted("ls"):
        from dexbulk.cli.ls import ls

        listing = {**run, "rich_help_panel": UPDATE_PANEL}
        app.command("ls", **listing)(ls)
    if wanted("fields"):
        from dexbulk.cli.admin import fields_

        app.command("fields", **tool)(fields_)
    if wanted("resume"):
        from dexbulk.cli.runs import resume

        app.command("resume", **run)(resume)
    if wanted("retry"):
        from dexbulk.cli.runs import retry

        app.command("retry", **run)(retry)
    if wanted("undo"):
        from dexbulk.cli.undo import undo

        app.command("undo", **run)(undo)
    if sandbox and wanted("sandbox"):
        from dexbulk.cli.admin import sandbox_command

        app.command("sandbox", **tool)(sandbox_command())
    if wanted("demo"):
        from dexbulk.cli.admin import demo

        app.command("demo", **tool)(demo)
    if wanted("runs"):
        from dexbulk.cli.runs import runs_app

        app.add_typer(runs_app(), name="runs", rich_help_panel=RUNS_PANEL)
    if wanted("auth"):
        from dexbulk.cli.admin import auth_app

        app.add_typer(auth_app(), name="auth", rich_help_panel=TOOLS_PANEL)
    if wanted("config"):
        from dexbulk.cli.admin import config_app

        app.add_typer(config_app(), name="config", rich_help_panel=TOOLS_PANEL)


_whole: typer.Typer | None = None


def _whole_app() -> typer.Typer:
    global _whole
    if _whole is None:
        _whole = build()
    return _whole


def __getattr__(name: str) -> typer.Typer:
    """``app``, the whole app (tests, docs/gen_reference.py), made on first use."""
    if name == "app":
        return _whole_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def run(argv: Sequence[str] | None = None) -> None:
    """The console script: run the app on ``argv`` (default ``sys.argv[1:]``); always exits."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--version"]:
        # Building 28 commands' options to print one line would double its time.
        print(f"dexbulk {__version__}")
        sys.exit(0)
    _app_for(args)(args=args, prog_name="dexbulk")


def _listing() -> typer.Typer:
    """The whole app for ``dexbulk --help`` (and a bare ``dexbulk``), which lists commands by
    name and summary only: each command's callback is swapped for one without parameters
    that has its docstring, so Typer does not build 500 options to print 30 lines."""
    app = build()

    def stubbed(infos: Sequence[Any]) -> None:
        for info in infos:
            callback = info.callback
            if callback is None:
                continue

            def stub() -> None:  # never called: the listing only reads the docstring
                """"""

            stub.__doc__ = callback.__doc__
            stub.__name__ = callback.__name__
            info.callback = stub

    stubbed(app.registered_commands)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            stubbed(group.typer_instance.registered_commands)
    return app


def _app_for(args: Sequence[str]) -> typer.Typer:
    """An app with only the command ``args`` name, or the whole app when they name none.

    Typer builds a click command, parameter by parameter, for every registered command before
    it runs one: a third of the time a one-contact ``star`` spent in Python outside imports
    (bench/onecontact.py); and each command's module imports what it needs. Help, a bare
    ``dexbulk`` and an unknown name get the whole app, so they list every command or suggest
    the nearest.
    """
    name = next((arg for arg in args if not arg.startswith("-")), None)
    if name is None and set(args) <= {"--help", "-h"}:
        return _listing()
    if name is None or name == "sandbox":
        return _whole_app()
    one = build(sandbox=False, only=name)
    one.registered_commands = [info for info in one.registered_commands if info.name == name]
    one.registered_groups = [info for info in one.registered_groups if info.name == name]
    if not one.registered_commands and not one.registered_groups:
        return _whole_app()
    return one
