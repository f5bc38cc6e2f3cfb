"""Rendering for people (rich, on stderr) and for scripts (JSON documents, on stdout).

Every function takes the ``Console`` to draw on, so tests pass one that writes to a StringIO.
Text that comes from Dex or from the user (error messages, commands, URLs) is never read as
rich markup: a message such as "invalid value [/]" would otherwise raise MarkupError and lose
the summary of a run that has already been sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from dexbulk.engine import RunResult
    from dexbulk.fields import Field
    from dexbulk.journal import RunState

FAILURES_SHOWN = 10


def make_console(stream: IO[str], *, no_color: bool = False, quiet: bool = False) -> Console:
    """A console for human output; ``NO_COLOR`` is honoured by rich itself."""
    return Console(file=stream, no_color=no_color or None, highlight=False, quiet=quiet)


def write_json(stream: IO[str], document: object) -> None:
    """One JSON document on ``stream`` (stdout), nothing else."""
    stream.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    stream.flush()


def run_document(result: RunResult) -> dict[str, object]:
    """The ``--json`` result: the summary figures plus every failed contact with its reason."""
    document: dict[str, Any] = dict(result.summary())
    document["exitCode"] = int(result.exit_code)
    document["failures"] = [
        {k: v for k, v in r.to_json().items() if k != "ok"} for r in result.failed
    ]
    document["notes"] = list(result.notes)
    return document


def render_plan(
    console: Console, document: dict[str, Any], *, body_items: int | None = None
) -> None:
    """The dry-run plan: counts, the data object, and the first request in full.

    ``body_items`` shortens the body shown to that many contacts (the demo's view).
    """
    console.print("[bold]Dry run[/bold]: nothing will be sent.")
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_row("contacts", f"{document['selected']:,}")
    if document["duplicates"]:
        table.add_row("duplicates dropped", f"{document['duplicates']:,}")
    table.add_row("batches", f"{document['batches']:,} of up to {document['batchSize']} contacts")
    table.add_row("concurrency", str(document["concurrency"]))
    table.add_row("API", Text(document["apiUrl"]))
    console.print(table)
    if document["data"] is not None:
        console.print("[bold]Data object[/bold] (the same for every contact):")
        console.print_json(json.dumps(document["data"]))
    request = document["firstRequest"]
    if request is not None:
        console.print(f"[bold]First request[/bold]: {request['method']} {escape(request['url'])}")
        for name, value in request["headers"].items():
            console.print(f"  {name}: {value}", markup=False)
        body = request["body"]
        shown = body if body_items is None else body[:body_items]
        console.print_json(json.dumps(shown))
        if len(shown) < len(body):
            console.print(f"  … and {len(body) - len(shown)} more contacts in this request")


@contextmanager
def progress_bar(console: Console, total: int, *, enabled: bool) -> Iterator[Callable[[int], None]]:
    """Yield an ``advance(n)`` callback; draws a bar on a terminal, nothing otherwise."""
    if not enabled or not console.is_terminal:
        yield _ignore
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("updating"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
    )  # fmt: skip
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("updating", total=total)
        yield lambda n: bar.advance(task, n)


def _ignore(_count: int) -> None:
    """The progress callback when there is no bar to draw."""


def render_summary(console: Console, result: RunResult) -> None:
    """The end-of-run table, the failures (first few) and any notes."""
    s = result.summary()
    table = Table(title="dexbulk summary", show_header=False, title_justify="left")
    rows = [
        ("selected", f"{result.selected:,}"),
        ("sent", f"{result.sent:,}"),
        ("updated (Dex's counts)", f"{result.updated:,}"),
        ("failed", f"{len(result.failed):,}"),
        ("not sent", f"{result.not_sent:,}"),
        ("batches", f"{result.batches:,} ({result.requests:,} requests)"),
        ("retries", f"{result.retries:,}" + (f" ({result.throttled} for 429)" if result.throttled else "")),
        ("elapsed", f"{result.elapsed:.2f} s"),
        ("contacts/s", f"{s['contactsPerSecond']}" if s["contactsPerSecond"] else "-"),
    ]  # fmt: skip
    if result.duplicates:
        rows.insert(1, ("duplicates dropped", f"{result.duplicates:,}"))
    if result.run_id:
        rows.append(("run", result.run_id))
    for label, value in rows:
        style = "red" if label in ("failed", "not sent") and value != "0" else None
        table.add_row(label, value, style=style)
    console.print(table)
    render_failures(console, result)
    for note in result.notes:
        console.print(f"[yellow]note:[/yellow] {escape(note)}")


def render_failures(console: Console, result: RunResult) -> None:
    """One line per failed contact (the first few), and what to do about the rest."""
    failed = result.failed
    for item in failed[:FAILURES_SHOWN]:
        # soft_wrap: one line per contact, whatever the width, so it can be grepped and cut.
        console.print(
            f"  [red]✗[/red] {item.contact_id}: {escape(item.error or '')}", soft_wrap=True
        )
    if len(failed) > FAILURES_SHOWN:
        console.print(f"  … and {len(failed) - FAILURES_SHOWN} more (see --results or --failed-to)")


def render_fields(console: Console, fields: Sequence[Field], *, advanced: bool) -> None:
    """``dexbulk fields``: every field with its type and an example."""
    table = Table("field", "type", "example", "description", title="Contact data fields")
    for f in fields:
        if f.advanced and not advanced:
            continue
        kind = f.kind.name.lower() + (" (advanced)" if f.advanced else "")
        table.add_row(f.name, kind, Text(f.example), Text(f.description))
    console.print(table)
    if not advanced:
        console.print("Fields written by Dex's syncs are hidden; show them with --advanced.")


def render_runs(console: Console, runs: Sequence[RunState]) -> None:
    """``dexbulk runs``: recent runs, newest first."""
    if not runs:
        console.print("No runs yet.")
        return
    table = Table("run", "started", "command", "total", "updated", "failed", "not sent", "state")
    for run in runs:
        s = run.summary()
        cells = (run.run_id, s["at"], s["command"], s["total"], s["updated"], s["failed"],
                 s["notSent"], s["state"])  # fmt: skip
        table.add_row(*(Text(str(cell)) for cell in cells))
    console.print(table)


def write_results(stream: IO[str], result: RunResult) -> None:
    """``--results``: one JSON Lines record per contact of the plan, in input order."""
    for item in result.results:
        stream.write(json.dumps(item.to_json(), ensure_ascii=False) + "\n")
    stream.flush()


def write_failed_ids(stream: IO[str], result: RunResult) -> None:
    """``--failed-to``: the IDs not updated (failed or never sent), one per line.

    Contacts left out because Dex already held their values are not failures.
    """
    from dexbulk.batches import ContactState

    for item in result.results:
        if not item.ok and item.state is not ContactState.UNCHANGED:
            stream.write(item.contact_id + "\n")
    stream.flush()
