"""Tables that never cut what a user must type back, and become plain lines when piped.

Piped (``dexbulk runs | grep``, ``dexbulk fields | cut -f1``), a table is tab-separated lines:
a header line, then one line per row, no box drawing, every cell on one line with its control
characters (tabs and newlines included) escaped. On a terminal it is drawn by rich, the columns
a user types back (run IDs, field names) never wrapped or shortened; when the terminal is too
narrow for that and readable text besides, it is printed as aligned lines that run on instead.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from dexbulk.configfile import show_path
from dexbulk.text import printable

if TYPE_CHECKING:
    from dexbulk.fields import Field
    from dexbulk.journal import RunState
    from dexbulk.undo import UndoStatus


KEY, FIXED, WRAP = "key", "fixed", "wrap"
WRAP_MIN = 16
"""A wrapping column narrower than this is hard to read: the table is drawn as lines instead."""


@dataclass(frozen=True)
class Column:
    """One column and how it may be laid out.

    ``key``: typed back by users (run IDs, field names), never wrapped or shortened; ``fixed``:
    short values (numbers, states), never wrapped; ``wrap``: free text, wrapped to fit.
    """

    header: str
    kind: str = FIXED
    justify: str = "left"


def print_table(
    console: Console,
    columns: Sequence[Column],
    rows: Sequence[Sequence[object]],
    *,
    title: str | None = None,
) -> None:
    """Draw ``rows`` under ``columns``: TSV when piped, else a table, or aligned lines if narrow."""
    cells = [[printable(str(cell), keep="") for cell in row] for row in rows]
    if not console.is_terminal:
        print_tsv(console, columns, cells)
    elif _fits(columns, cells, console.width):
        console.print(_rich_table(columns, cells, title))
    else:
        print_aligned(console, columns, cells)


def print_tsv(console: Console, columns: Sequence[Column], cells: Sequence[Sequence[str]]) -> None:
    """The table as tab-separated lines: a header, then one line per row."""
    lines = ["\t".join(c.header for c in columns), *("\t".join(row) for row in cells)]
    # Straight to the file: rich would expand the tabs. The cells are printable already.
    console.file.write("".join(line + "\n" for line in lines))
    console.file.flush()


def print_aligned(
    console: Console, columns: Sequence[Column], cells: Sequence[Sequence[str]]
) -> None:
    """Columns aligned with spaces, nothing wrapped or cut: long cells push the rest along."""
    widths = _natural_widths(columns, cells)
    # A long text column in the middle would push every row far to the right: its longest cells
    # run on instead (the last column is not padded at all).
    widths = [
        min(size, 2 * WRAP_MIN) if column.kind == WRAP else size
        for column, size in zip(columns, widths, strict=True)
    ]
    for i, row in enumerate([[c.header for c in columns], *cells]):
        parts = [
            value.rjust(width) if column.justify == "right" else value.ljust(width)
            for column, value, width in zip(columns, row, widths, strict=True)
        ]
        line = Text("  ".join(parts).rstrip(), style="bold" if i == 0 else "")
        console.print(line, soft_wrap=True)


def _natural_widths(columns: Sequence[Column], cells: Sequence[Sequence[str]]) -> list[int]:
    return [
        max([len(column.header), *(len(row[i]) for row in cells)])
        for i, column in enumerate(columns)
    ]


def _fits(columns: Sequence[Column], cells: Sequence[Sequence[str]], width: int) -> bool:
    """Whether a table ``width`` wide keeps key and fixed cells whole and wraps text readably."""
    natural = _natural_widths(columns, cells)
    needed = sum(
        min(size, WRAP_MIN) if column.kind == WRAP else size
        for column, size in zip(columns, natural, strict=True)
    )
    return needed + 2 * len(columns) <= width  # one space of padding either side of each


def _rich_table(
    columns: Sequence[Column], cells: Sequence[Sequence[str]], title: str | None
) -> Table:
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False)
    for column, size in zip(columns, _natural_widths(columns, cells), strict=True):
        whole = column.kind != WRAP
        table.add_column(
            column.header, justify=column.justify,  # type: ignore[arg-type]
            no_wrap=whole, min_width=size if whole else None, overflow="fold",
        )  # fmt: skip
    for row in cells:
        table.add_row(*(Text(cell) for cell in row))
    return table


# -- the tables of dexbulk's commands -----------------------------------------------------------


def render_fields(console: Console, fields: Sequence[Field], *, advanced: bool) -> None:
    """``dexbulk fields``: every field with its type and an example."""
    columns = [Column("field", KEY), Column("type"), Column("example", WRAP),
               Column("description", WRAP)]  # fmt: skip
    rows = [
        (f.name, f.kind.name.lower() + (" (advanced)" if f.advanced else ""), f.example,
         f.description)
        for f in fields
        if advanced or not f.advanced
    ]  # fmt: skip
    print_table(console, columns, rows, title="Contact data fields")
    if not advanced and console.is_terminal:
        console.print("Fields written by Dex's syncs are hidden; show them with --advanced.")


# The run ID starts with the time the run started; the command, the longest, comes last.
RUN_COLUMNS = (
    Column("run", KEY), Column("state"), Column("total", justify="right"),
    Column("updated", justify="right"), Column("failed", justify="right"),
    Column("not sent", justify="right"), Column("undo", FIXED), Column("command", WRAP),
)  # fmt: skip


def render_runs(
    console: Console, runs: Sequence[RunState], undo: Mapping[str, UndoStatus] | None = None
) -> None:
    """``dexbulk runs``: recent runs, newest first; ``undo`` says whether each can be undone
    and whether it was (:func:`dexbulk.undo.undo_status`; without it, only whether it can)."""
    if not runs:
        console.print("No runs yet.")
        return
    from dexbulk.undo import undo_status

    rows = []
    for run in runs:
        s = run.summary()
        status = (undo or {}).get(run.run_id) or undo_status(run, {})
        rows.append((run.run_id, s["state"], s["total"], s["updated"], s["failed"],
                     s["notSent"], status.text(), s["command"]))  # fmt: skip
    print_table(console, RUN_COLUMNS, rows)


def render_run(
    console: Console, run: RunState, undo: Mapping[str, UndoStatus] | None = None
) -> None:
    """``dexbulk runs show``: the run's row, its command line, its journal, every failure."""
    render_runs(console, [run], undo)
    console.print(
        f"command line: {command_line(run.start.get('argv'))}", markup=False, soft_wrap=True
    )
    journal = printable(show_path(run.path), keep="")
    console.print(f"journal: {journal}", markup=False, soft_wrap=True)
    if run.problem:
        problem = printable(run.problem, keep="")
        console.print(f"incomplete: {problem}; it cannot be resumed", markup=False, soft_wrap=True)
    for failure in run.failed.values():
        reason = printable(failure.error or "", keep="")
        console.print(f"  ✗ {failure.contact_id}: {reason}", markup=False, soft_wrap=True)


def command_line(argv: object) -> str:
    """A recorded command line as the user could type it again, quotes kept.

    The program is shown as ``dexbulk`` whatever path it was started from, so no install path
    (``/home/me/.venv/bin/dexbulk``) is shown back.
    """
    if not isinstance(argv, list) or not argv:
        return ""
    return printable(shlex.join(["dexbulk", *(str(arg) for arg in argv[1:])]), keep="")
