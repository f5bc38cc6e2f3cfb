"""``dexbulk ls``: list the contacts a selection matches, in a format every command reads back.

A table on a terminal, JSON Lines when piped. ``ids``, ``csv``, ``jsonl`` and ``json`` all carry
an ``id`` (the first column or key), so ``dexbulk ls --tag investor | dexbulk set company=NewCo``
works, and a CSV export edited in a spreadsheet goes back with ``dexbulk apply people.csv``.
"""

import csv
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import IO, Annotated, Any

import typer

from dexbulk.cli.env import Env, isatty
from dexbulk.cli.options import (
    OUTPUT_PANEL,
    NoColorFlag,
    SelectArgs,
    SendArgs,
    VerboseFlag,
    reading_options,
    selection_options,
)
from dexbulk.errors import ExitCode, InvalidInput
from dexbulk.text import escape_json_text, printable

FORMATS = ("table", "ids", "csv", "jsonl", "json")
DEFAULT_COLUMNS = ("id", "full_name", "company", "job_title", "tags")
LINK_COLUMNS = ("tags", "groups")
"""Columns that show a contact's tag or group names (read-only, like ``id``)."""


def _opt(*decls: str, help: str, **kw: Any) -> Any:
    return typer.Option(*decls, rich_help_panel=OUTPUT_PANEL, help=help, show_default=False, **kw)


@selection_options
@reading_options
def ls(
    select: SelectArgs,
    send: SendArgs,
    *,
    fmt: Annotated[
        str | None,
        _opt(
            "--format",
            "-f",
            help="table, ids, csv, jsonl or json \\[default: table on a terminal, jsonl when piped].",
            metavar="FORMAT",
        ),
    ] = None,
    columns: Annotated[
        str | None,
        _opt(
            "--columns",
            help="Fields to show, comma-separated (id always comes first) \\[default: id,full_name,company,job_title,tags; jsonl and json: every field].",
            metavar="A,B,C",
        ),
    ] = None,
    limit: Annotated[
        int | None, _opt("--limit", help="Stop after N contacts.", min=1, metavar="N")
    ] = None,
    as_json: Annotated[bool, _opt("--json", help="Same as --format json.")] = False,
    count: Annotated[
        bool, _opt("--count", help="Print only the number of matching contacts.")
    ] = False,
    verbose: VerboseFlag = False,
    no_color: NoColorFlag = False,
) -> ExitCode:
    """List the contacts a selection matches.

    Select with --where, --tag, --group, --search or --all (and narrow IDs from --ids, --from or
    stdin). Every format but the table is read back by the update commands, and a CSV export
    comes back through 'apply' (see docs/selecting.md).

    Example: [bold]dexbulk ls --tag investor --where company=OldCo[/bold]  ·  [bold]dexbulk ls --where company=OldCo --format csv --columns full_name,company,job_title > people.csv[/bold]  ·  [bold]dexbulk ls --tag investor | dexbulk set company=NewCo[/bold]
    """
    from dexbulk.cli.context import connect
    from dexbulk.cli.render import make_console
    from dexbulk.cli.selecting import choose
    from dexbulk.cli.selecting import select as read_selection

    e = Env()
    if fmt is not None and fmt not in FORMATS:
        raise InvalidInput(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
    fmt = json_format(fmt, as_json)
    chosen = choose(select, e)
    shown = parse_columns(columns)
    fmt = fmt or ("table" if isatty(e.stdout) else "jsonl")
    console = make_console(e.stderr, no_color=no_color)
    with connect(send, e, console, verbose=verbose) as client:
        result = read_selection(client, chosen, console, verbose=verbose, limit=limit)
    if count:
        e.stdout.write(f"{len(result.contacts)}\n")
        return ExitCode.OK
    if not result.contacts:
        console.print(f"no contacts match {chosen.describe()}", markup=False)
    write(e.stdout, result.contacts, fmt, shown, no_color=no_color)
    return ExitCode.OK


def json_format(fmt: str | None, as_json: bool) -> str | None:
    """``--json`` is ``--format json``, as other commands spell it; both, different: exit 2."""
    if not as_json:
        return fmt
    if fmt not in (None, "json"):
        raise InvalidInput(f"--json and --format {fmt} ask for different formats; give one")
    return "json"


def parse_columns(text: str | None) -> tuple[str, ...] | None:
    """``a,b,c`` → known column names with ``id`` first; None when not given."""
    if text is None:
        return None
    from dexbulk.where import where_field

    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise InvalidInput("--columns: no column names")
    for name in names:
        if name not in LINK_COLUMNS:
            try:
                where_field(name)
            except InvalidInput as error:
                raise error.at("--columns") from None
    return ("id", *dict.fromkeys(n for n in names if n != "id"))


def write(
    stream: IO[str],
    contacts: Sequence[Mapping[str, Any]],
    fmt: str,
    columns: Sequence[str] | None,
    *,
    no_color: bool = False,
    export_mark: bool = True,
) -> None:
    """Write ``contacts`` to ``stream`` (stdout) in ``fmt``; a CSV of contacts carries the mark
    of an export (``export_mark``) so ``apply`` reads it back whole."""
    # Data for a program when piped, as it is; on a terminal, Dex's text could carry escape
    # sequences the terminal would obey, so they are shown escaped (JSON escapes them always).
    shown: Callable[[str], str] = printable if isatty(stream) else str
    if fmt == "ids":
        stream.writelines(f"{shown(str(c.get('id')))}\n" for c in contacts)
    elif fmt == "jsonl":
        for contact in contacts:
            line = json.dumps(_pick(contact, columns), ensure_ascii=False)
            stream.write(escape_json_text(line) + "\n")
    elif fmt == "json":
        items = [_pick(c, columns) for c in contacts]
        stream.write(escape_json_text(json.dumps(items, indent=2, ensure_ascii=False)) + "\n")
    elif fmt == "csv":
        from dexbulk.inputs.sheets import EXPORT_MARK

        writer = csv.writer(stream, lineterminator="\n")
        names = tuple(columns or DEFAULT_COLUMNS)
        # The mark of an export: 'apply' then reads a blanked cell as a clear.
        names += () if EXPORT_MARK in names or not export_mark else (EXPORT_MARK,)
        writer.writerow(names)
        writer.writerows([shown(cell(c, name)) for name in names] for c in contacts)
    else:
        _table(stream, contacts, columns or DEFAULT_COLUMNS, no_color=no_color)
    stream.flush()


def _pick(contact: Mapping[str, Any], columns: Sequence[str] | None) -> dict[str, Any]:
    if columns is None:
        return dict(contact)
    return {name: contact.get(name) for name in columns}


def cell(contact: Mapping[str, Any], name: str) -> str:
    """One value as text: empty for null, true/false, tag and group names, JSON for the rest."""
    value = contact.get(name)
    if name in LINK_COLUMNS and isinstance(value, list):
        return ", ".join(str(v.get("name", v.get("id", ""))) for v in value if isinstance(v, dict))
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def _table(
    stream: IO[str],
    contacts: Iterable[Mapping[str, Any]],
    columns: Sequence[str],
    *,
    no_color: bool,
) -> None:
    from rich.table import Table
    from rich.text import Text

    from dexbulk.cli.preview import printable
    from dexbulk.cli.render import make_console

    table = Table(box=None, pad_edge=False, header_style="bold")
    for name in columns:
        # IDs are never cut: a shortened ID could not be copied into another command.
        table.add_column(name, no_wrap=name == "id", min_width=36 if name == "id" else None)
    for contact in contacts:
        table.add_row(*(Text(printable(cell(contact, name))) for name in columns))
    make_console(stream, no_color=no_color).print(table)
