"""``dexbulk undo RUN``: send back the values a run replaced.

Reads the run's journal and the contacts' current values, builds the inverse plan
(:mod:`dexbulk.undo`), lists on stderr what is left alone (conflicts, fields that cannot be
undone), then hands the plan to :func:`dexbulk.cli.context.send_plan` like any update: dry run,
before → after, the question, batches, retries, journal, results, exit code.
"""

from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dexbulk.cli.env import Env
from dexbulk.cli.options import (
    GuardArgs,
    OutputArgs,
    SendArgs,
    confirm_options,
    output_options,
    sending_options,
)
from dexbulk.cli.runs import RunId
from dexbulk.errors import ApiError, AuthRefused, ExitCode, NotDexApi, Unreachable

if TYPE_CHECKING:
    from pathlib import Path

    from rich.console import Console

    from dexbulk.cli.context import Client, ReadPlan
    from dexbulk.journal import RunState
    from dexbulk.undo import Undo

SHOWN = 5
"""Conflicts listed without -v."""

ForceFlag = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Put back the prior value even where a field was changed since the run "
        "(a conflict, left alone by default).",
        show_default=False,
    ),
]


@sending_options
@output_options
@confirm_options
def undo(
    run_id: RunId, send: SendArgs, output: OutputArgs, guard: GuardArgs, force: ForceFlag = False
) -> ExitCode:
    """Undo a run: put back the values it replaced, on the contacts it updated.

    Contacts the run did not confirm (a timeout, a kill mid-send) are put back too wherever Dex
    holds exactly what the run wrote. Current values are read first: a field someone changed
    since the run is a conflict, listed and left alone (--force overwrites it). Fields the run
    changed by an operation (tags_contacts, related_contacts) cannot be undone and are listed.
    The undo is a run of its own, shown before → after, journalled, and can itself be undone.
    It goes to the run's own API URL unless --api-url or DEX_API_URL names another. Runs sent
    with --no-read kept no prior values and cannot be undone. See docs/undo.md.

    Example: [bold]dexbulk undo last --dry-run[/bold]  ·  [bold]dexbulk undo k3xq --force[/bold]
    """
    from dexbulk.cli.runs import lock_run
    from dexbulk.journal import default_runs_dir, find_run

    e = Env()
    path = find_run(default_runs_dir(e.environ), run_id)
    # Held while it reads and sends: a resume, retry or second undo of the run meanwhile would
    # send what this one is taking back (or take it back twice).
    with lock_run(path):
        return _undo(path, send, output, guard, e, force=force)


def _undo(
    path: "Path", send: SendArgs, output: OutputArgs, guard: GuardArgs, e: Env, *, force: bool
) -> ExitCode:
    from dexbulk.cli.context import resolve_target, send_plan
    from dexbulk.journal import read_run
    from dexbulk.text import printable
    from dexbulk.undo import check_undoable, undo_ids, undo_links

    runs_dir = path.parent
    run = read_run(path)
    check_undoable(run)
    ids = undo_ids(run)
    sent_to = run.start.get("api_url")
    journaled = sent_to if isinstance(sent_to, str) else None
    # --api-url > DEX_API_URL > the run's own URL > the config, as for resume and retry.
    target = resolve_target(send, e, api_url=journaled)
    console = e.console(output)
    if not output.quiet:
        # 'undo last' must say which run it takes back (and where, when that is not where the
        # run went) before it reads or asks anything.
        summary = run.summary()
        unsure = len(ids) - len(run.confirmed)
        also = f", {unsure:,} not confirmed" if unsure else ""
        elsewhere = ""
        if journaled is not None and target.api_url != journaled:
            origin = target.settings.origin("api_url").removeprefix("env ")
            elsewhere = f"; sending to {target.api_url} ({origin}), not the run's {journaled}"
        console.print(
            f"undoing run {run.run_id}: {printable(str(summary['command']))} "
            f"({summary['updated']:,} contact{'' if summary['updated'] == 1 else 's'} updated"
            f"{also}, started {summary['at']})" + printable(elsewhere),
            markup=False,
            soft_wrap=True,
        )
    undone_by = undo_links(runs_dir).get(run.run_id)
    if undone_by:
        console.print(
            f"warning: run {run.run_id} was already undone by {undone_by[-1]}; undoing it "
            "again puts back the same prior values",
            markup=False,
            soft_wrap=True,
        )
    if not ids:
        return _nothing(e, output, console, f"run {run.run_id} sent no contact", None)

    def from_read(client: "Client") -> "ReadPlan | None":
        return _inverse(run, ids, client, output, e, console, force=force)

    return send_plan(from_read, send, output, e, guard=guard, api_url=journaled)


def _inverse(
    run: "RunState",
    ids: list[str],
    client: "Client",
    output: OutputArgs,
    e: Env,
    console: "Console",
    *,
    force: bool,
) -> "ReadPlan | None":
    """Read the current values of ``ids`` (:func:`~dexbulk.undo.undo_ids`), build the inverse
    plan, list what it leaves alone."""
    from dexbulk.cli.context import ReadPlan
    from dexbulk.preview import read_current
    from dexbulk.undo import build_undo, fields_to_read

    try:
        current = read_current(
            client.dex, ids, fields=fields_to_read(run),
            concurrency=client.target.options.concurrency,
        )  # fmt: skip
    except ApiError as exc:
        if isinstance(exc, AuthRefused):
            raise
        message = exc.message
        if not isinstance(exc, (Unreachable, NotDexApi)):  # those name the URL and the cause
            message = f"reading current values: {message}"
        raise type(exc)(message, hint="nothing was sent") from None
    plan = build_undo(run, current, force=force)
    render_report(console, plan, verbose=output.verbose or output.debug)
    if not plan.plan.updates:
        _nothing(e, output, console, "nothing left to put back", plan)
        return None
    return ReadPlan(plan.plan, current, {"undo": plan.to_json()})


def _nothing(
    e: Env, output: OutputArgs, console: "Console", why: str, plan: "Undo | None"
) -> ExitCode:
    """Nothing to send: say why (and, with --json, one document)."""
    if output.json:
        from dexbulk.cli import render

        document: dict[str, Any] = {"ok": True, "exitCode": int(ExitCode.OK), "runId": None}
        document["selected"] = 0
        if plan is not None:
            document["undo"] = plan.to_json()
        render.write_json(e.stdout, document)
    if not output.quiet:
        console.print(f"nothing to undo: {why}; nothing sent", markup=False, soft_wrap=True)
    return ExitCode.OK


def render_report(console: "Console", plan: "Undo", *, verbose: bool = False) -> None:
    """Conflicts (a few, or all with ``verbose``) and what cannot be undone, grouped by field."""
    from dexbulk.cli.preview import printable, show

    conflicts = plan.conflicts
    labels = plan.plan.labels
    if conflicts:
        count = len(conflicts)
        what = f"{count:,} field{'' if count == 1 else 's'} changed since run {plan.run_id}"
        if plan.forced:
            console.print(f"{what}: overwritten (--force):", markup=False, soft_wrap=True)
        else:
            console.print(
                f"{what}: left alone (--force overwrites them):", markup=False, soft_wrap=True
            )
        shown = conflicts if verbose else conflicts[:SHOWN]
        for c in shown:
            name = printable(_label(c.field, labels))
            console.print(
                f"  {printable(c.contact_id)} {name}: the run wrote "
                f"{show(c.wrote, c.field, after=True)}, now {show(c.now, c.field)}, "
                f"before the run {show(c.prior, c.field)}",
                markup=False,
                soft_wrap=True,
            )
        if len(shown) < count:
            console.print(
                f"  … and {count - len(shown):,} more (-v lists every one; so does --json)",
                markup=False,
            )
    by_field = Counter((lost.field, lost.reason) for lost in plan.lost)
    for (name, reason), count in by_field.items():
        contacts = f"{count:,} contact{'' if count == 1 else 's'}"
        console.print(
            f"cannot undo {printable(_label(name, labels))} on {contacts}: {reason}",
            markup=False,
            soft_wrap=True,
        )


def _label(name: str, labels: Mapping[str, str]) -> str:
    """A field's name, or ``tag 'investor'`` for a membership key."""
    from dexbulk.membership import Target, is_membership_key
    from dexbulk.values import quote

    if not is_membership_key(name):
        return name
    target = Target.parse(name)
    label = labels.get(name)
    return f"{target.kind} {quote(label) if label is not None else target.id}"
