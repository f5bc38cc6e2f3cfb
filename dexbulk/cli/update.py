"""The commands that update contacts: star, unstar, archive, unarchive, set, unset, apply.

Each parses its input into a :class:`~dexbulk.plan.Plan` and hands it to
:func:`dexbulk.cli.context.send_plan`, which sends it (or shows it, with ``--dry-run``) and
renders the outcome.
"""

import shlex
from collections.abc import Callable
from typing import Annotated, Any

import typer

from dexbulk.cli.context import Env
from dexbulk.cli.errors import EXIT_CODES_EPILOG
from dexbulk.cli.help import DexbulkCommand
from dexbulk.cli.options import (
    UPDATE_PANEL,
    ColumnsOption,
    IgnoreColumnsOption,
    OutputArgs,
    PatchFormat,
    SelectArgs,
    SendArgs,
    output_options,
    selection_options,
    sending_options,
)
from dexbulk.errors import ExitCode


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

    e = Env()
    selection = select_ids(
        ids_options=select.ids, from_paths=select.from_, stdin=e.stdin,
        stdin_is_tty=e.stdin_isatty, fmt=select.input_format, id_column=select.id_column,
    )  # fmt: skip
    plan = plan_for_selection(selection, patch, command)
    return send_plan(plan, send, output, e)


def _flag_command(name: str, field: str, value: bool, summary: str) -> Callable[..., ExitCode]:
    def command(select: SelectArgs, send: SendArgs, output: OutputArgs) -> ExitCode:
        from dexbulk.plan import flag_patch

        return _send_selected(select, send, output, name, flag_patch(field, value))

    command.__name__ = name
    command.__doc__ = (
        f"{summary}\n\nSets [bold]{field}[/bold] to {str(value).lower()} on every selected contact."
        f"\n\nExample: [bold]dexbulk {name} --ids 3c90c3cc-0d44-4b50-8888-8dd25736052a[/bold]"
        f"  ·  [bold]cat ids.txt | dexbulk {name}[/bold]"
    )
    return selection_options(sending_options(output_options(command)))


FLAG_COMMANDS = (
    ("star", "starred", True, "Star contacts."),
    ("unstar", "starred", False, "Unstar contacts."),
    ("archive", "is_archived", True, "Archive contacts."),
    ("unarchive", "is_archived", False, "Unarchive contacts."),
)


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

    command = shlex.join(["set", *items])  # shown back by 'dexbulk runs', quotes kept
    return _send_selected(select, send, output, command, parse_items(items))


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

    command = shlex.join(["unset", *fields])
    return _send_selected(select, send, output, command, unset_fields(fields))


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
    columns: ColumnsOption = None,
    ignore_columns: IgnoreColumnsOption = None,
) -> ExitCode:
    """Apply a patch file.

    A mapping of fields (YAML/JSON) applies to every selected contact; a list of
    {contactId, data} (the API's own body), JSON Lines of those, or a CSV with a contactId
    column and one column per field (empty cell = unchanged) names its own contacts.
    A CSV column that is not a field is an error: pick columns with --columns or
    leave some out with --ignore-columns.

    Example: [bold]dexbulk apply patch.yaml --from ids.txt[/bold]  ·  [bold]dexbulk apply people.csv --columns company,job_title[/bold]
    """
    from dexbulk.cli.context import send_plan
    from dexbulk.errors import InvalidInput
    from dexbulk.inputs.patches import load_patch
    from dexbulk.inputs.sheets import Columns
    from dexbulk.plan import Patch, plan_for_updates

    e = Env()
    chosen = Columns.parse(select.id_column, columns or [], ignore_columns or [])
    loaded = load_patch(file, stdin=e.stdin, fmt=fmt, columns=chosen)
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
    return send_plan(plan, send, output, e)


def register(app: typer.Typer) -> None:
    """Add the update commands to ``app``."""
    options: dict[str, Any] = {
        "cls": DexbulkCommand, "rich_help_panel": UPDATE_PANEL, "epilog": EXIT_CODES_EPILOG,
    }  # fmt: skip
    for name, field, value, summary in FLAG_COMMANDS:
        app.command(name, **options)(_flag_command(name, field, value, summary))
    app.command("set", **options)(set_)
    app.command("unset", **options)(unset)
    app.command("apply", **options)(apply)
