"""The commands that update contacts: star, unstar, archive, unarchive, set, unset, apply.

Each parses its input into a :class:`~dexbulk.plan.Plan` and hands it to
:func:`dexbulk.cli.context.send_plan`, which sends it (or shows it, with ``--dry-run``) and
renders the outcome.
"""

import shlex
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dexbulk.cli.env import Env
from dexbulk.cli.errors import EXIT_CODES_EPILOG
from dexbulk.cli.help import DexbulkCommand
from dexbulk.cli.options import (
    UPDATE_PANEL,
    ColumnsOption,
    GuardArgs,
    IgnoreColumnsOption,
    OutputArgs,
    PatchFormat,
    SelectArgs,
    SendArgs,
    guard_options,
    output_options,
    selection_options,
    sending_options,
)
from dexbulk.errors import ExitCode, InvalidInput

if TYPE_CHECKING:
    from dexbulk.cli.selecting import Chosen
    from dexbulk.plan import Plan, Selection


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
    select: SelectArgs, send: SendArgs, output: OutputArgs, guard: GuardArgs, command: str,
    patch: Any, *, include_archived: bool = False,
) -> ExitCode:  # fmt: skip
    from dexbulk.cli.context import send_plan
    from dexbulk.cli.selecting import choose
    from dexbulk.plan import plan_for_selection

    e = Env()
    chosen = choose(select, e, include_archived=include_archived)
    if not chosen.criteria.filters:
        assert chosen.ids is not None  # choose() reads IDs when nothing filters
        plan = plan_for_selection(chosen.ids, patch, command)
        return send_plan(plan, send, output, e, guard=guard)
    return _filtered(
        chosen, send, output, guard, e, lambda s: plan_for_selection(s, patch, command)
    )


def _filtered(
    chosen: "Chosen", send: SendArgs, output: OutputArgs, guard: GuardArgs, e: Env,
    make_plan: "Callable[[Selection], Plan]",
) -> ExitCode:  # fmt: skip
    """Select by the filters through one client, then check and send the plan over it."""
    from dexbulk.cli.context import connect, send_plan
    from dexbulk.cli.preview import contacts_by_id
    from dexbulk.cli.selecting import as_selection, nothing_selected, select

    console = e.console(output)
    verbose = output.verbose or output.debug
    with connect(send, e, console, verbose=verbose, debug=output.debug) as client:
        result = select(client, chosen, console, verbose=verbose)
        plan = make_plan(as_selection(chosen, result))
        if not plan.updates:
            return nothing_selected(console, chosen.describe(), guard)
        current = None if guard.no_read else contacts_by_id(result.contacts)
        return send_plan(plan, send, output, e, guard=guard, client=client, current=current)


def _flag_command(
    name: str, field: str, value: bool, summary: str, example: str
) -> Callable[..., ExitCode]:
    def command(
        select: SelectArgs, send: SendArgs, output: OutputArgs, guard: GuardArgs
    ) -> ExitCode:
        from dexbulk.plan import flag_patch

        patch = flag_patch(field, value)
        # Unarchiving is about archived contacts: a filter must not leave them out.
        unarchive = field == "is_archived" and not value
        return _send_selected(select, send, output, guard, name, patch, include_archived=unarchive)

    command.__name__ = name
    command.__doc__ = (
        f"{summary}\n\nSets [bold]{field}[/bold] to {str(value).lower()} on every selected contact."
        f"\n\nExample: [bold]dexbulk {name} --ids 3c90c3cc-0d44-4b50-8888-8dd25736052a[/bold]"
        f"  ·  [bold]cat ids.txt | dexbulk {name}[/bold]  ·  [bold]dexbulk {name} {example}[/bold]"
    )
    return selection_options(sending_options(output_options(guard_options(command))))


FLAG_COMMANDS = (
    ("star", "starred", True, "Star contacts.", "--tag investor"),
    ("unstar", "starred", False, "Unstar contacts.", "--where company=OldCo"),
    ("archive", "is_archived", True, "Archive contacts.", "--where 'last_seen_at<2023-01-01'"),
    ("unarchive", "is_archived", False, "Unarchive contacts.", "--tag friends"),
)


@selection_options
@sending_options
@output_options
@guard_options
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
    guard: GuardArgs,
) -> ExitCode:
    """Set fields on every selected contact.

    Values are checked against the field's type: [bold]starred=true[/bold],
    [bold]birthday_year=1990[/bold], [bold]birthday=1990-05-02[/bold],
    [bold]next_reminder_at=2026-12-01T09:00:00Z[/bold], [bold]frequency=monthly[/bold].
    Use FIELD:=JSON for lists and objects. See every field with [bold]dexbulk fields[/bold].

    Before sending, the current values are read: you see before → after, and contacts that
    already hold the new values are not sent.

    Example: [bold]dexbulk set company=Acme job_title="Head of Sales" --from ids.txt[/bold]  ·  [bold]dexbulk set company=NewCo --where company=OldCo --dry-run[/bold]
    """
    from dexbulk.plan import parse_items

    command = shlex.join(["set", *items])  # shown back by 'dexbulk runs', quotes kept
    return _send_selected(select, send, output, guard, command, parse_items(items))


@selection_options
@sending_options
@output_options
@guard_options
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
    guard: GuardArgs,
) -> ExitCode:
    """Clear fields on every selected contact (sends null, which erases the value in Dex).

    Example: [bold]dexbulk unset job_title --from ids.txt --dry-run[/bold]
    """
    from dexbulk.plan import unset_fields

    command = shlex.join(["unset", *fields])
    return _send_selected(select, send, output, guard, command, unset_fields(fields))


@selection_options
@sending_options
@output_options
@guard_options
def apply(
    file: Annotated[
        str, typer.Argument(help="Patch file (- = stdin).", show_default=False, metavar="FILE")
    ],
    select: SelectArgs,
    send: SendArgs,
    output: OutputArgs,
    guard: GuardArgs,
    fmt: PatchFormat = "auto",
    columns: ColumnsOption = None,
    ignore_columns: IgnoreColumnsOption = None,
) -> ExitCode:
    """Apply a patch file.

    A mapping of fields (YAML/JSON) applies to every selected contact; a list of
    {contactId, data} (the API's own body), JSON Lines of those, or a CSV with a contactId
    column and one column per field (empty cell = unchanged) names its own contacts. A CSV
    exported by 'dexbulk ls --format csv' (it has an updated_at column) comes back whole: only
    cells that differ from Dex are sent, and a cell you emptied clears the field. A CSV column
    that is not a field is an error: pick columns with --columns or leave some out with
    --ignore-columns.

    Example: [bold]dexbulk apply patch.yaml --from ids.txt[/bold]  ·  [bold]dexbulk apply people.csv --columns company,job_title[/bold]  ·  [bold]dexbulk apply people.csv --dry-run[/bold]
    """
    from dexbulk.cli.context import send_plan
    from dexbulk.cli.selecting import Chosen
    from dexbulk.inputs.patches import load_patch
    from dexbulk.inputs.sheets import Columns
    from dexbulk.plan import Patch, Selection, plan_for_updates
    from dexbulk.selection import Criteria

    e = Env()
    picked = Columns.parse(select.id_column, columns or [], ignore_columns or [])
    loaded = load_patch(file, stdin=e.stdin, fmt=fmt, columns=picked)
    if isinstance(loaded, Patch):
        filters = bool(select.where or select.tag or select.group or select.search or select.all_)
        if file == "-" and not (select.ids or select.from_ or filters):
            raise InvalidInput(
                "the patch comes from stdin, so pass the contacts with --ids or --from FILE"
            )
        return _send_selected(select, send, output, guard, f"apply {file}", loaded)
    if select.ids or select.from_:
        raise InvalidInput(f"{file} names its own contacts; drop --ids/--from")
    criteria = Criteria.parse(
        where=select.where, tags=select.tag, groups=select.group, search=select.search
    )
    if select.all_:
        raise InvalidInput(f"{file} names its own contacts; drop --all")
    skipped = getattr(loaded, "skipped_rows", 0)
    if skipped:
        e.console(output).print(
            f"note: {skipped} row(s) of {file} change nothing; skipped", markup=False
        )
    duplicates = getattr(loaded, "duplicates", 0)
    plan = plan_for_updates(loaded, f"apply {file}", duplicates=duplicates, source=file)
    if criteria.filters:  # the filters narrow the file's contacts
        file_ids = Selection(tuple(u.contact_id for u in loaded), duplicates, (file,))

        def narrowed(selection: Selection) -> "Plan":
            keep = set(selection.ids)
            kept = [u for u in loaded if u.contact_id in keep]
            return plan_for_updates(kept, f"apply {file}", duplicates=duplicates, source=file)

        return _filtered(Chosen(criteria, file_ids), send, output, guard, e, narrowed)
    return send_plan(plan, send, output, e, guard=guard)


def register(app: typer.Typer) -> None:
    """Add the update commands to ``app``."""
    options: dict[str, Any] = {
        "cls": DexbulkCommand, "rich_help_panel": UPDATE_PANEL, "epilog": EXIT_CODES_EPILOG,
    }  # fmt: skip
    for name, field, value, summary, example in FLAG_COMMANDS:
        app.command(name, **options)(_flag_command(name, field, value, summary, example))
    app.command("set", **options)(set_)
    app.command("unset", **options)(unset)
    app.command("apply", **options)(apply)
