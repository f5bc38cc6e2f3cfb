"""Tags and groups by name: ``dexbulk tag add|remove``, ``dexbulk group add|remove``, and the
``dexbulk tags`` / ``dexbulk groups`` listings.

A membership change is a plan like any other (:mod:`dexbulk.membership`): it goes through
:func:`dexbulk.cli.context.send_plan`, so the read of who already holds the tag, the grouped
preview, the question, batching, retries, the journal, ``resume``, ``retry`` and ``undo`` all
apply. Names are resolved before anything is read or sent; ``--create`` makes a missing tag or
group only once the run is confirmed (a dry run says it would).
"""

import inspect
import shlex
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dexbulk.cli.env import Env
from dexbulk.cli.errors import EXIT_CODES_EPILOG
from dexbulk.cli.help import DexbulkCommand, DexbulkGroup
from dexbulk.cli.options import (
    OUTPUT_PANEL,
    GuardArgs,
    NoColorFlag,
    OutputArgs,
    SelectArgs,
    SendArgs,
    VerboseFlag,
    guard_options,
    output_options,
    reading_options,
    selection_options,
    sending_options,
)
from dexbulk.errors import ExitCode, InvalidInput

if TYPE_CHECKING:
    from dexbulk.cli.context import Client
    from dexbulk.names import Named

NEW_ID = "00000000-0000-4000-8000-{:012x}"
"""Stand-in IDs for tags or groups ``--create`` will make: nobody holds them yet."""


def _create_flag(kind: str) -> Any:
    return typer.Option(
        "--create",
        help=f"Create the {kind} if no {kind} has that name yet (once the run is confirmed; "
        "a dry run only says it would).",
    )


def _names_argument(kind: str, many: bool) -> Any:
    what = f"{kind.capitalize()} names (or IDs)" if many else f"{kind.capitalize()} name (or ID)"
    return typer.Argument(help=f"{what}.", show_default=False, metavar="NAME")


def _change(
    kind: str, add: bool, names: list[str], select: SelectArgs, send: SendArgs,
    output: OutputArgs, guard: GuardArgs, create: bool,
) -> ExitCode:  # fmt: skip
    from dexbulk.cli.context import connect, send_plan
    from dexbulk.cli.preview import contacts_by_id
    from dexbulk.cli.selecting import as_selection, choose, nothing_selected
    from dexbulk.cli.selecting import select as read_selection
    from dexbulk.membership import membership_plan
    from dexbulk.text import printable

    names = [name.strip() for name in names]
    for name in names:
        if not name:
            raise InvalidInput(f"an empty {kind} name", hint=f"name the {kind} to {_verb(add)}")
    if create and not add:
        raise InvalidInput(f"--create makes a {kind} to add contacts to; 'remove' cannot use it")
    e = Env()
    chosen = choose(select, e)  # every ID read and checked before any request
    command = shlex.join([kind, "add" if add else "remove", *names])
    console = e.console(output)
    verbose = output.verbose or output.debug
    with connect(send, e, console, verbose=verbose, debug=output.debug) as client:
        targets, missing = _resolve(client, kind, names, create=create, add=add)
        current = None
        if chosen.criteria.filters:
            result = read_selection(client, chosen, console, verbose=verbose)
            selection = as_selection(chosen, result)
            current = None if guard.no_read else contacts_by_id(result.contacts)
        else:
            assert chosen.ids is not None  # choose() reads IDs when nothing filters
            selection = chosen.ids
        plan = membership_plan(selection, targets, kind, add, command)
        if not plan.updates:
            return nothing_selected(console, chosen.describe(), guard)
        for name in missing:
            if output.dry_run and not output.json:
                shown = printable(repr(name), keep="")
                console.print(f"will create {kind} {shown}", markup=False)
        prepare = None
        if missing:

            def prepare() -> dict[str, str]:
                return _create(client, kind, missing, console)

        # With --json, a dry run names what it would create (the plan holds stand-in IDs).
        report = {"create": [{"kind": kind, "name": name} for name in missing]}
        return send_plan(
            plan, send, output, e, guard=guard, client=client, current=current, prepare=prepare,
            report=report if missing else None,
        )  # fmt: skip


def _verb(add: bool) -> str:
    return "add" if add else "remove"


def _resolve(
    client: "Client", kind: str, names: list[str], *, create: bool, add: bool
) -> tuple[list["Named"], list[str]]:
    """Each name's tag or group; with ``create``, stand-ins for the names nobody has yet."""
    from dexbulk.names import Named, UnknownName, resolve
    from dexbulk.values import normalize_uuid

    targets: list[Named] = []
    missing: list[str] = []
    # One name once, whatever its case: 'Summit summit --create' must not make two tags.
    for name in {name.casefold(): name for name in reversed(names)}.values():
        try:
            targets.append(resolve(client.dex, kind, name, label=kind))
        except UnknownName as exc:
            looks_like_id = normalize_uuid(name) is not None
            if not create or looks_like_id:
                # A name shaped like an ID is always looked up as an ID: created, it could
                # never be found by its name again.
                hint = f"--create makes a new {kind} named {name!r}" if add else exc.hint
                if looks_like_id:
                    hint = f"a {kind} name cannot look like an ID; give its name instead"
                raise InvalidInput(exc.message, hint=hint) from None
            targets.append(Named(NEW_ID.format(len(missing) + 1), name))
            missing.append(name)
    return targets, missing


def _create(client: "Client", kind: str, missing: list[str], console: Any) -> dict[str, str]:
    """Create the missing tags or groups, once the run is confirmed: stand-in key → real key."""
    from dexbulk.errors import ApiError
    from dexbulk.names import find_exact
    from dexbulk.text import printable
    from dexbulk.values import normalize_uuid

    create = client.dex.create_tag if kind == "tag" else client.dex.create_group
    renamed: dict[str, str] = {}
    for number, name in enumerate(missing, 1):
        # Made meanwhile (another run, the app)? Then use it rather than make a twin. One
        # search, just before creating: Dex has no create-if-absent, so the window stays small.
        found = find_exact(client.dex, kind, name)
        made_id: str | None = found.id if found is not None else None
        said = "found"
        if found is None:
            made = create(name)
            answered = made.get("id")
            made_id = normalize_uuid(answered) if isinstance(answered, str) else None
            said = "created"
            if made_id is None:
                raise ApiError(
                    f"Dex created {kind} {name!r} but its answer holds no ID; nothing was sent",
                    hint=f"run the command again without --create: the {kind} exists now",
                ) from None
        renamed[f"{kind}:{NEW_ID.format(number)}"] = f"{kind}:{made_id}"
        console.print(f"{said} {kind} {printable(repr(name), keep='')}", markup=False)
    return renamed


def _membership_command(kind: str, add: bool) -> Any:
    """``tag add``, ``tag remove`` (many names), ``group add``, ``group remove`` (one name);
    only the add commands have ``--create``."""
    verb = _verb(add)
    if kind == "tag":
        names_type: Any = Annotated[list[str], _names_argument(kind, True)]
        sample = "investor" if add else "stale"
        summary = f"{verb.capitalize()} tags {'to' if add else 'from'} every selected contact"
    else:
        names_type = Annotated[str, _names_argument(kind, False)]
        sample = "Board"
        summary = (
            "Add every selected contact to a group"
            if add
            else "Take every selected contact out of a group"
        )

    def command(
        names: Any, select: SelectArgs, send: SendArgs, output: OutputArgs, guard: GuardArgs,
        create: bool = False,
    ) -> ExitCode:  # fmt: skip
        given = names if isinstance(names, list) else [names]
        return _change(kind, add, given, select, send, output, guard, create)

    parameters = [
        inspect.Parameter("names", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=names_type),
        *(
            inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=group)
            for name, group in (
                ("select", SelectArgs), ("send", SendArgs), ("output", OutputArgs),
                ("guard", GuardArgs),
            )
        ),
    ]  # fmt: skip
    if add:
        parameters.append(
            inspect.Parameter(
                "create", inspect.Parameter.KEYWORD_ONLY, default=False,
                annotation=Annotated[bool, _create_flag(kind)],
            )
        )  # fmt: skip
    command.__signature__ = inspect.Signature(parameters, return_annotation=ExitCode)  # type: ignore[attr-defined]
    command.__name__ = f"{kind}_{verb}"
    command.__doc__ = (
        f"{summary}, by name.\n\n"
        f"Names match exactly, ignoring case; an unknown name lists close ones. Contacts that "
        f"{'already have' if add else 'do not have'} the {kind} are not sent.\n\n"
        f"Example: [bold]dexbulk {kind} {verb} {sample} --from ids.txt[/bold]  ·  "
        f"[bold]dexbulk {kind} {verb} {sample} --where company=Acme[/bold]"
    )
    return selection_options(sending_options(output_options(guard_options(command))))


FormatOption = Annotated[
    str | None,
    typer.Option(
        "--format",
        "-f",
        help="table, ids, csv, jsonl or json \\[default: table on a terminal, jsonl when piped].",
        metavar="FORMAT",
        rich_help_panel=OUTPUT_PANEL,
        show_default=False,
    ),
]


def _listing(kind: str) -> Any:
    plural = f"{kind}s"

    @reading_options
    def command(
        send: SendArgs,
        *,
        fmt: FormatOption = None,
        as_json: Annotated[
            bool,
            typer.Option("--json", help="Same as --format json.", rich_help_panel=OUTPUT_PANEL),
        ] = False,
        verbose: VerboseFlag = False,
        no_color: NoColorFlag = False,
    ) -> ExitCode:
        from dexbulk.cli.context import connect
        from dexbulk.cli.env import isatty
        from dexbulk.cli.ls import FORMATS, json_format, write

        e = Env()
        fmt = json_format(fmt, as_json)
        if fmt is not None and fmt not in FORMATS:
            raise InvalidInput(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
        fmt = fmt or ("table" if isatty(e.stdout) else "jsonl")
        from dexbulk.cli.render import make_console

        console = make_console(e.stderr, no_color=no_color)
        with connect(send, e, console, verbose=verbose) as client:
            search = client.dex.search_tags if kind == "tag" else client.dex.search_groups
            items = sorted(search(""), key=lambda i: str(i.get("name", "")).casefold())
        if not items:
            console.print(f"no {plural} in Dex yet", markup=False)
        columns = ("name",) if fmt == "table" else ("id", "name")
        write(e.stdout, items, fmt, columns, no_color=no_color, export_mark=False)
        return ExitCode.OK

    command.__name__ = plural
    command.__doc__ = (
        f"List your {plural} by name (with their IDs in every --format but the table).\n\n"
        f"Example: [bold]dexbulk {plural}[/bold]  ·  [bold]dexbulk {plural} --format csv[/bold]"
    )
    return command


def register(app: typer.Typer, panel: str) -> None:
    """Add ``tag``, ``group``, ``tags`` and ``groups`` to ``app``."""
    options: dict[str, Any] = {"cls": DexbulkCommand, "epilog": EXIT_CODES_EPILOG}
    for kind in ("tag", "group"):
        sub = typer.Typer(
            name=kind, cls=DexbulkGroup, no_args_is_help=True, rich_markup_mode=None,
            help=f"Add contacts to a {kind} or remove them, by the {kind}'s name.",
        )  # fmt: skip
        for add in (True, False):
            sub.command(_verb(add), **options)(_membership_command(kind, add))
        app.add_typer(sub, name=kind, rich_help_panel=panel)
    for kind in ("tag", "group"):
        app.command(f"{kind}s", rich_help_panel=panel, **options)(_listing(kind))
