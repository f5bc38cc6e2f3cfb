"""The Typer app: each command parses, calls one function below, renders, exits.

Errors become messages and exit codes in one place: :func:`handle_errors`.
"""

import functools
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from dexbulk import __version__
from dexbulk.cli.help import DexbulkCommand, DexbulkGroup
from dexbulk.cli.options import (
    OutputArgs,
    PatchFormat,
    SelectArgs,
    SendArgs,
    output_options,
    selection_options,
    sending_options,
)
from dexbulk.errors import EXIT_CODE_HELP, DexbulkError, ExitCode

if TYPE_CHECKING:
    from dexbulk.cli.context import Env

F = TypeVar("F", bound=Callable[..., Any])

EXIT_CODES_EPILOG = "Exit codes: " + " · ".join(
    f"{int(code)} {text}" for code, text in EXIT_CODE_HELP.items()
)

app = typer.Typer(
    name="dexbulk",
    epilog=EXIT_CODES_EPILOG,
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals could hold the API key
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,  # help and usage errors are drawn by cli_help, not rich_utils
    cls=DexbulkGroup,
)

SEND_PANEL_CMDS = "Update contacts"
RUNS_PANEL = "Runs"
TOOLS_PANEL = "Tools"


def env() -> "Env":
    """The I/O of this process (read at call time, so test runners can swap streams)."""
    from dexbulk.cli.context import Env

    return Env()


def handle_errors(command: F) -> F:
    """Turn dexbulk's errors into one line on stderr and the documented exit code."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            code = command(*args, **kwargs)
        except DexbulkError as exc:
            print(f"error: {exc.message}", file=sys.stderr)
            if exc.hint:
                print(f"hint: {exc.hint}", file=sys.stderr)
            raise typer.Exit(int(exc.exit_code)) from None
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        if code:
            raise typer.Exit(int(code))
        return None

    return wrapper  # type: ignore[return-value]


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


def complete_fields(incomplete: str) -> list[str]:
    """Shell completion: field names for ``unset``."""
    from dexbulk.fields import FIELDS

    return [name for name in FIELDS if name.startswith(incomplete)]


def complete_items(incomplete: str) -> list[str]:
    """Shell completion: ``FIELD=`` (or ``FIELD:=`` for JSON-valued fields) for ``set``."""
    from dexbulk.fields import FIELDS

    if "=" in incomplete:
        return []
    return [
        f"{f.name}:=" if f.kind.name in ("LIST", "OPERATION", "OBJECT") else f"{f.name}="
        for f in FIELDS.values()
        if f.name.startswith(incomplete)
    ]


def _send_selected(
    select: SelectArgs, send: SendArgs, output: OutputArgs, command: str, patch: Any
) -> ExitCode:
    from dexbulk.cli.context import send_plan
    from dexbulk.inputs.ids import select_ids
    from dexbulk.plan import plan_for_selection

    e = env()
    selection = select_ids(
        ids_options=select.ids, from_paths=select.from_, stdin=e.stdin,
        stdin_is_tty=e.stdin_isatty, fmt=select.input_format,
    )  # fmt: skip
    plan = plan_for_selection(selection, patch, command)
    return send_plan(plan, send, output, e, sys.argv)


def _flag_command(name: str, field: str, value: bool, summary: str) -> None:
    def command(select: SelectArgs, send: SendArgs, output: OutputArgs) -> ExitCode:
        from dexbulk.plan import flag_patch

        return _send_selected(select, send, output, name, flag_patch(field, value))

    command.__name__ = name
    command.__doc__ = (
        f"{summary}\n\nSets [bold]{field}[/bold] to {str(value).lower()} on every selected contact."
        f"\n\nExample: [bold]dexbulk {name} --ids 3c90c3cc-0d44-4b50-8888-8dd25736052a[/bold]"
        f"  ·  [bold]cat ids.txt | dexbulk {name}[/bold]"
    )
    wrapped = handle_errors(selection_options(sending_options(output_options(command))))
    app.command(
        name, cls=DexbulkCommand, rich_help_panel=SEND_PANEL_CMDS, epilog=EXIT_CODES_EPILOG
    )(wrapped)


_flag_command("star", "starred", True, "Star contacts.")
_flag_command("unstar", "starred", False, "Unstar contacts.")
_flag_command("archive", "is_archived", True, "Archive contacts.")
_flag_command("unarchive", "is_archived", False, "Unarchive contacts.")


@app.command("set", cls=DexbulkCommand, rich_help_panel=SEND_PANEL_CMDS, epilog=EXIT_CODES_EPILOG)
@handle_errors
@selection_options
@sending_options
@output_options
def set_(
    items: Annotated[
        list[str],
        typer.Argument(
            help="FIELD=VALUE (typed by the field) or FIELD:=JSON (raw JSON).",
            show_default=False,
            metavar="FIELD=VALUE",
        ),
    ],
    select: SelectArgs,
    send: SendArgs,
    output: OutputArgs,
) -> ExitCode:
    """Set fields on every selected contact.

    Values are checked against the field's type: [bold]starred=true[/bold],
    [bold]birthday_year=1990[/bold], [bold]birthday=1990-05-02[/bold],
    [bold]next_reminder_at=2026-12-01T09:00:00Z[/bold], [bold]frequency=monthly[/bold].
    Use FIELD:=JSON for lists and objects. See every field with [bold]dexbulk fields[/bold].

    Example: [bold]dexbulk set company=Acme job_title="Head of Sales" --from ids.txt[/bold]
    """
    from dexbulk.plan import parse_items

    return _send_selected(select, send, output, "set " + " ".join(items), parse_items(items))


@app.command("unset", cls=DexbulkCommand, rich_help_panel=SEND_PANEL_CMDS, epilog=EXIT_CODES_EPILOG)
@handle_errors
@selection_options
@sending_options
@output_options
def unset(
    fields: Annotated[
        list[str],
        typer.Argument(
            help="Field names to clear.",
            show_default=False,
            autocompletion=complete_fields,
            metavar="FIELD",
        ),
    ],
    select: SelectArgs,
    send: SendArgs,
    output: OutputArgs,
) -> ExitCode:
    """Clear fields on every selected contact (sends null, which erases the value in Dex).

    Example: [bold]dexbulk unset job_title --from ids.txt --dry-run[/bold]
    """
    from dexbulk.plan import unset_fields

    return _send_selected(select, send, output, "unset " + " ".join(fields), unset_fields(fields))


@app.command("apply", cls=DexbulkCommand, rich_help_panel=SEND_PANEL_CMDS, epilog=EXIT_CODES_EPILOG)
@handle_errors
@selection_options
@sending_options
@output_options
def apply(
    file: Annotated[
        str, typer.Argument(help="Patch file (- = stdin).", show_default=False, metavar="FILE")
    ],
    select: SelectArgs,
    send: SendArgs,
    output: OutputArgs,
    fmt: PatchFormat = "auto",
) -> ExitCode:
    """Apply a patch file.

    A mapping of fields (YAML/JSON) applies to every selected contact; a list of
    {contactId, data} (the API's own body), JSON Lines of those, or a CSV with a contactId
    column and one column per field (empty cell = unchanged) names its own contacts.

    Example: [bold]dexbulk apply patch.yaml --from ids.txt[/bold]  ·  [bold]dexbulk apply updates.csv[/bold]
    """
    from dexbulk.cli.context import send_plan
    from dexbulk.errors import InvalidInput
    from dexbulk.inputs.patches import load_patch
    from dexbulk.plan import Patch, plan_for_updates

    e = env()
    loaded = load_patch(file, stdin=e.stdin, fmt=fmt)
    if isinstance(loaded, Patch):
        if file == "-" and not (select.ids or select.from_):
            raise InvalidInput(
                "the patch comes from stdin, so pass the contacts with --ids or --from FILE"
            )
        return _send_selected(select, send, output, f"apply {file}", loaded)
    if select.ids or select.from_:
        raise InvalidInput(f"{file} names its own contacts; drop --ids/--from")
    skipped = getattr(loaded, "skipped_rows", 0)
    if skipped:
        e.console(output).print(
            f"note: {skipped} row(s) of {file} change nothing; skipped", markup=False
        )
    duplicates = getattr(loaded, "duplicates", 0)
    plan = plan_for_updates(loaded, f"apply {file}", duplicates=duplicates, source=file)
    return send_plan(plan, send, output, e, sys.argv)


@app.command("fields", cls=DexbulkCommand, rich_help_panel=TOOLS_PANEL)
@handle_errors
def fields_(
    advanced: Annotated[
        bool, typer.Option("--advanced", help="Also show fields written by Dex's syncs.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the fields as JSON on stdout.")
    ] = False,
) -> None:
    """List every field of the contact data object, with its type and an example.

    Example: [bold]dexbulk fields --advanced[/bold]
    """
    from dexbulk.cli import render
    from dexbulk.fields import FIELDS

    e = env()
    if as_json:
        render.write_json(e.stdout, [
            {"name": f.name, "type": f.kind.value, "group": f.group, "advanced": f.advanced,
             "example": f.example, "description": f.description, "choices": list(f.choices)}
            for f in FIELDS.values()
        ])  # fmt: skip
        return
    render.render_fields(render.make_console(e.stdout), list(FIELDS.values()), advanced=advanced)


def run(argv: "Sequence[str] | None" = None) -> None:
    """The console script: run the app on ``argv`` (default ``sys.argv[1:]``); always exits."""
    app(args=list(argv) if argv is not None else None, prog_name="dexbulk")


# Registers runs, resume, retry, sandbox, demo, auth and config on `app` (they import it).
from dexbulk.cli import admin  # noqa: E402

admin.register()
