"""Rendering for people (on stderr) and for scripts (JSON documents, on stdout).

Every function takes the console to draw on (:func:`dexbulk.cli.console.make_console`: rich on
a terminal, plain text when stderr is a file or a pipe), so tests pass one that writes to a
StringIO. Text that comes from Dex or from the user (error messages, commands, URLs, names) is
never read as rich markup (a message such as "invalid value [/]" would otherwise raise
MarkupError and lose the summary of a run that has already been sent), and never reaches a
terminal with its control characters: the functions here escape it
(:func:`dexbulk.text.printable`) before it is laid out, and the console escapes whatever else
would slip through (:class:`dexbulk.cli.safeconsole.SafeConsole`).

A clean run answers in one line; the full table is for runs where something went wrong, ``-v``,
and large runs. Tables (``runs``, ``fields``) are drawn by :mod:`dexbulk.cli.tables`, the
dry-run plan by :mod:`dexbulk.cli.dryrun`. rich is imported only where it draws: a clean run
piped or logged prints its line without it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any

from dexbulk.cli import console as consoles
from dexbulk.cli.console import escape
from dexbulk.engine import JOURNAL_FAILED
from dexbulk.text import escape_json_text, printable

if TYPE_CHECKING:
    from rich.console import Console

    from dexbulk.engine import RunResult
    from dexbulk.fields import Field
    from dexbulk.journal import RunState
    from dexbulk.undo import UndoStatus

FAILURES_SHOWN = 10
LARGE_RUN_CONTACTS = 1000
"""From this many contacts, the summary table is shown even when all went well."""
LARGE_RUN_SECONDS = 10.0
"""From this long a run, the summary table is shown even when all went well."""

PAST_TENSE = {"star": "Starred", "unstar": "Unstarred", "archive": "Archived",
              "unarchive": "Unarchived", "tag add": "Tagged", "tag remove": "Untagged",
              "group add": "Grouped", "group remove": "Ungrouped", "undo": "Reverted"}  # fmt: skip
"""What a command did, for the one-line summary; every other command "Updated" contacts."""


def make_console(stream: IO[str], *, no_color: bool = False, quiet: bool = False) -> Console:
    """The console for people on ``stream``: rich on a terminal, plain text on a file or a
    pipe (:func:`dexbulk.cli.console.make_console` chooses)."""
    return consoles.make_console(stream, no_color=no_color, quiet=quiet)


def write_json(stream: IO[str], document: object) -> None:
    """One JSON document on ``stream`` (stdout), nothing else.

    Written in pieces of about 64 KiB as it is encoded: a dry run's complete plan of 200,000
    contacts is 9 MB of text, which whole (and copied to escape it, then to add the newline)
    was the largest part of that run's peak memory (bench/memory.py).
    """
    pieces: list[str] = []
    size = 0
    for chunk in _JSON_OUT.iterencode(document):
        pieces.append(chunk)
        size += len(chunk)
        if size >= 65536:
            stream.write(escape_json_text("".join(pieces)))
            pieces, size = [], 0
    stream.write(escape_json_text("".join(pieces)) + "\n")
    stream.flush()


_JSON_OUT = json.JSONEncoder(indent=2, ensure_ascii=False)


def run_document(result: RunResult) -> dict[str, object]:
    """The ``--json`` result: the summary figures plus every failed contact with its reason."""
    document: dict[str, Any] = dict(result.summary())
    document["ok"] = result.exit_code == 0
    document["exitCode"] = int(result.exit_code)
    document["failures"] = [
        {k: v for k, v in r.to_json().items() if k != "ok"} for r in result.failed
    ]
    document["notes"] = list(result.notes)
    if result.exit_code != 0:
        # The same "error" every failed exit carries under --json (see cli.errors).
        document["error"] = {"message": problem(result), "hint": next_step(result)}
    return document


def problem(result: RunResult) -> str:
    """What went wrong, in one line: ``1 of 2 contacts updated; 1 failed (HTTP 503)``, or why
    the run stopped early (``cannot reach URL: connection refused by HOST``)."""
    if result.error is not None:
        return result.error
    failed = result.failed
    parts = [f"{len(failed):,} failed"] if failed else []
    if result.not_sent:
        parts.append(f"{result.not_sent:,} not sent")
    line = f"{len(result.ok):,} of {result.selected:,} contacts updated"
    line += "; " + ", ".join(parts) if parts else ""
    reasons = {r.error for r in failed}
    if len(reasons) == 1 and None not in reasons:
        line += f" ({reasons.pop()})"
    return f"interrupted: {line}" if result.state == "interrupted" else line


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


def render_outcome(
    console: Console, result: RunResult, command: str, *, verbose: bool = False
) -> None:
    """What a run did: one line when all went well, the summary table otherwise; then what next.

    The table is shown when a contact was not updated, with ``verbose``, and at the end of a
    large run (:data:`LARGE_RUN_CONTACTS`, :data:`LARGE_RUN_SECONDS`).
    """
    large = result.selected >= LARGE_RUN_CONTACTS or result.elapsed >= LARGE_RUN_SECONDS
    if result.exit_code != 0 or verbose or large:
        render_summary(console, result)
    else:
        console.print(summary_line(result, command), markup=False)
        render_notes(console, result)
    render_next_step(console, result)


def summary_line(result: RunResult, command: str) -> str:
    """``✓ Starred 2 contacts in 0.3 s (run ID)``: a clean run in one line."""
    done = len(result.ok)
    if not done and result.unchanged and not result.run_id:
        many = "contact already holds" if result.unchanged == 1 else "contacts already hold"
        return f"✓ Nothing to change: {result.unchanged:,} {many} these values (nothing sent)"
    words = command.split(" ", 2)
    verb = PAST_TENSE.get(" ".join(words[:2])) or PAST_TENSE.get(words[0], "Updated")
    line = f"✓ {verb} {done:,} contact{'' if done == 1 else 's'} in {elapsed(result.elapsed)}"
    if result.duplicates:
        line += f", {result.duplicates:,} duplicate{'' if result.duplicates == 1 else 's'} dropped"
    return line + (f" (run {result.run_id})" if result.run_id else "")


def elapsed(seconds: float) -> str:
    """``0.3 s``, ``12 s``, ``2 min 05 s``: as precise as a person needs."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def render_summary(console: Console, result: RunResult) -> None:
    """The end-of-run table, the failures (first few) and any notes."""
    from rich.table import Table

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
    # The run ID is typed back (resume, retry): the table may never cut it.
    table.columns[1].no_wrap = True
    console.print(table)
    render_failures(console, result)
    render_notes(console, result)


def render_notes(console: Console, result: RunResult) -> None:
    """The run's notes (``--check-ids`` findings, a batch size that shrank)."""
    for note in result.notes:
        console.print(f"[yellow]note:[/yellow] {escape(printable(note, keep=''))}")


def render_failures(console: Console, result: RunResult) -> None:
    """One line per failed contact (the first few) with Dex's reason, and where the rest are."""
    failed = result.failed
    for item in failed[:FAILURES_SHOWN]:
        reason = escape(printable(item.error or "", keep=""))
        # soft_wrap: one line per contact, whatever the width, so it can be grepped and cut.
        console.print(f"  [red]✗[/red] {item.contact_id}: {reason}", soft_wrap=True)
    if len(failed) > FAILURES_SHOWN:
        console.print(f"  … and {len(failed) - FAILURES_SHOWN} more (see --results or --failed-to)")


def render_next_step(console: Console, result: RunResult) -> None:
    """Why the run stopped early, if it did, and how to finish it (:func:`next_step`)."""
    if result.error is not None:
        console.print(f"error: {printable(result.error, keep='')}", markup=False, soft_wrap=True)
    step = next_step(result)
    if step:
        console.print(step, markup=False, soft_wrap=True)


def next_step(result: RunResult) -> str | None:
    """Resume what was never sent; retry what a retry can fix; else nothing.

    Contacts Dex rejected or does not know are listed with its reason and get no retry hint:
    sending them again would fail the same way.
    """
    if not result.run_id:
        return None
    if result.state == "stopped":
        return (
            f"stopped after {result.sent:,} contacts (--stop-after); send the other "
            f"{result.not_sent:,} with: dexbulk resume {result.run_id}"
        )
    if result.state in ("interrupted", JOURNAL_FAILED) or result.not_sent:
        return f"resume with: dexbulk resume {result.run_id}"
    if any(r.state.retryable for r in result.failed):
        return f"retry the failures with: dexbulk retry {result.run_id} --failed"
    return None


def render_fields(console: Console, fields: Sequence[Field], *, advanced: bool) -> None:
    """``dexbulk fields``: every field with its type and an example (see :mod:`.tables`)."""
    from dexbulk.cli.tables import render_fields as render

    render(console, fields, advanced=advanced)


def render_runs(
    console: Console, runs: Sequence[RunState], undo: Mapping[str, UndoStatus] | None = None
) -> None:
    """``dexbulk runs``: recent runs, newest first (see :mod:`.tables`)."""
    from dexbulk.cli.tables import render_runs as render

    render(console, runs, undo)


def write_results(stream: IO[str], result: RunResult) -> None:
    """``--results``: one JSON Lines record per contact of the plan, in input order."""
    for item in result.results:
        stream.write(escape_json_text(json.dumps(item.to_json(), ensure_ascii=False)) + "\n")
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
