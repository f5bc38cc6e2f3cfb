"""The Typer app: the commands of every module in this package, wired in one place.

Each command parses its input, calls one library function, renders the result and returns an
exit code; :func:`dexbulk.cli.errors.run_main` turns every error into a message and a code.
"""

from collections.abc import Sequence
from typing import Annotated, Any

import typer

from dexbulk import __version__
from dexbulk.cli import admin, ls, runs, update
from dexbulk.cli.errors import EXIT_CODES_EPILOG
from dexbulk.cli.help import DexbulkCommand, DexbulkGroup
from dexbulk.cli.options import RUNS_PANEL, TOOLS_PANEL, UPDATE_PANEL

app = typer.Typer(
    name="dexbulk",
    epilog=EXIT_CODES_EPILOG,
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals could hold the API key
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,  # help and usage errors are drawn by cli.help, not rich_utils
    cls=DexbulkGroup,
)


def _version(value: bool) -> None:
    if value:
        print(f"dexbulk {__version__}")
        raise typer.Exit()


@app.callback()
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


def _register(app: typer.Typer) -> None:
    """Every command, in the order ``dexbulk --help`` lists them within each panel."""
    update.register(app)
    tool: dict[str, Any] = {"cls": DexbulkCommand, "rich_help_panel": TOOLS_PANEL}
    app.command("ls", cls=DexbulkCommand, rich_help_panel=UPDATE_PANEL, epilog=EXIT_CODES_EPILOG)(
        ls.ls
    )
    app.command("fields", **tool)(admin.fields_)
    run: dict[str, Any] = {**tool, "rich_help_panel": RUNS_PANEL, "epilog": EXIT_CODES_EPILOG}
    app.command("resume", **run)(runs.resume)
    app.command("retry", **run)(runs.retry)
    app.command("sandbox", **tool)(admin.sandbox_command())
    app.command("demo", **tool)(admin.demo)
    app.add_typer(runs.runs_app(), name="runs", rich_help_panel=RUNS_PANEL)
    app.add_typer(admin.auth_app(), name="auth", rich_help_panel=TOOLS_PANEL)
    app.add_typer(admin.config_app(), name="config", rich_help_panel=TOOLS_PANEL)


_register(app)


def run(argv: Sequence[str] | None = None) -> None:
    """The console script: run the app on ``argv`` (default ``sys.argv[1:]``); always exits."""
    app(args=list(argv) if argv is not None else None, prog_name="dexbulk")
