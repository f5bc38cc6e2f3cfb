"""The commands about past runs: runs, runs show, runs rm, runs prune, resume, retry.

Each reads a run's journal (:mod:`dexbulk.journal`); resume and retry turn what is left of it
into a :class:`~dexbulk.plan.Plan` and send it like any update.
"""

from dataclasses import replace
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dexbulk.cli.env import Env
from dexbulk.cli.help import DexbulkCommand, DexbulkGroup
from dexbulk.cli.options import (
    JsonFlag,
    OutputArgs,
    SendArgs,
    output_options,
    sending_options,
)
from dexbulk.errors import DexbulkError, ExitCode, InvalidInput

if TYPE_CHECKING:
    from pathlib import Path

    from dexbulk.journal import RunState
    from dexbulk.runlock import RunLock

RunId = Annotated[
    str,
    typer.Argument(
        help="A run ID, a unique prefix or ending of one (e.g. its last 4 characters), or 'last'.",
        show_default=False,
        metavar="RUN_ID",
    ),
]


def runs_list(
    ctx: typer.Context,
    limit: Annotated[
        int, typer.Option("--limit", help="How many runs to list.", min=1, metavar="N")
    ] = 20,
    as_json: JsonFlag = False,
) -> None:
    """List and inspect past runs (their journals); alone, list recent runs, newest first.

    Example: [bold]dexbulk runs --limit 5[/bold]
    """
    if ctx.invoked_subcommand is not None:
        return
    from dexbulk.cli import render
    from dexbulk.journal import default_runs_dir, list_runs
    from dexbulk.undo import undo_links, undo_status

    e = Env()
    problems: list[str] = []
    runs_dir = default_runs_dir(e.environ)
    runs = list_runs(runs_dir, limit, problems=problems)
    for problem in problems:
        # One unreadable journal must not hide the others: say so, and list the rest.
        print(f"warning: skipped {problem}", file=e.stderr)
    links = undo_links(runs_dir)
    undo = {run.run_id: undo_status(run, links) for run in runs}
    if as_json:
        render.write_json(
            e.stdout, [{**run.summary(), **undo[run.run_id].to_json()} for run in runs]
        )
    else:
        render.render_runs(render.make_console(e.stdout), runs, undo)


def runs_show(run_id: RunId, as_json: JsonFlag = False) -> None:
    """Show one run: its command, counts, and every failed contact with the reason.

    Example: [bold]dexbulk runs show last[/bold]
    """
    from dexbulk.cli import render
    from dexbulk.configfile import show_path
    from dexbulk.journal import default_runs_dir, load_run, printable
    from dexbulk.undo import undo_links, undo_status

    e = Env()
    runs_dir = default_runs_dir(e.environ)
    run = load_run(runs_dir, run_id)
    status = undo_status(run, undo_links(runs_dir))
    document = {**run.summary(), **status.to_json()}
    document["argv"] = run.start.get("argv")
    document["patch"] = run.start.get("patch")
    document["options"] = run.start.get("options")
    document["journal"] = show_path(run.path)
    document["failures"] = [
        {k: v for k, v in r.to_json().items() if k != "ok"} for r in run.failed.values()
    ]
    if as_json:
        render.write_json(e.stdout, printable(document))
        return
    from dexbulk.cli.tables import render_run

    render_run(render.make_console(e.stdout), run, {run.run_id: status})


def lock_run(path: "Path") -> "RunLock":
    """Take the lock of the run whose journal is ``path`` before reading it (resume, retry,
    undo): a second one must not read the same contacts and send them too. Raises RunInUse
    (exit 2) when a live process holds it."""
    from dexbulk.configfile import show_path
    from dexbulk.journal import JournalError
    from dexbulk.runlock import RunLock, lock_path

    try:
        return RunLock.acquire(path, path.stem)
    except OSError as exc:
        where = show_path(lock_path(path))
        raise JournalError(
            f"cannot lock the run: {where}: {exc.strerror}; nothing was sent"
        ) from None


def _continue(run_id: str, mode: str, send: SendArgs, output: OutputArgs) -> ExitCode:
    from dexbulk.journal import default_runs_dir, find_run, read_run

    e = Env()
    path = find_run(default_runs_dir(e.environ), run_id)
    with lock_run(path):
        run = read_run(path)
        run.check_resumable()
        _check_not_undone(run, mode, path.parent)
        if run_id == "last" and not output.quiet:
            # 'last' is the newest journal, which may not be the run just tried: a run that
            # stopped before sending (its read failed) records none. Say which, before acting.
            e.console(output).print(_picked(run, mode), markup=False, soft_wrap=True)
        return _send_rest(run, mode, send, output, e)


def _picked(run: "RunState", mode: str) -> str:
    """``retrying run ID: dexbulk star --from ids.txt (started 2026-12-01T10:23:04+00:00)``."""
    from dexbulk.cli.tables import command_line
    from dexbulk.text import printable

    command = command_line(run.start.get("argv")) or printable(str(run.start.get("command")))
    verb = "resuming" if mode == "resume" else "retrying"
    return f"{verb} run {run.run_id}: {command} (started {run.start.get('at')})"


def _check_not_undone(run: "RunState", mode: str, runs_dir: "Path") -> None:
    """A run that was undone is not finished later: that would send part of a change taken back
    (and 'runs' would still call it undone)."""
    from dexbulk.undo import undo_links

    undone_by = undo_links(runs_dir).get(run.run_id)
    if undone_by:
        raise InvalidInput(
            f"run {run.run_id} was undone by {undone_by[-1]}; {mode} would send part of a "
            "change you took back",
            hint="to make the change after all, run its command again (see: dexbulk runs show "
            f"{run.run_id})",
        )


def _send_rest(run: "RunState", mode: str, send: SendArgs, output: OutputArgs, e: Env) -> ExitCode:
    from dexbulk.cli.context import send_plan

    updates = run.pending if mode == "resume" else run.failed_updates
    if not updates:
        what = "every contact is confirmed updated" if mode == "resume" else "no failures"
        e.console(output).print(f"nothing to send for run {run.run_id}: {what}", markup=False)
        return ExitCode.OK
    plan = run.plan(updates)
    # Unless told otherwise, continue the way the run was sent.
    from dexbulk.settings import PER_RUN

    sent_with = run.start.get("options") or {}
    overrides: dict[str, Any] = {
        spec.name: sent_with[spec.name] for spec in PER_RUN
        if getattr(send, spec.name) is None and sent_with.get(spec.name) is not None
    }  # fmt: skip
    send = replace(send, **overrides)
    return send_plan(
        plan, send, output, e, resume_of=(run.run_id, mode),
        api_url=run.start.get("api_url"),
    )  # fmt: skip


@sending_options
@output_options
def resume(run_id: RunId, send: SendArgs, output: OutputArgs) -> ExitCode:
    """Finish an interrupted run: send only the contacts not confirmed updated.

    Uses the run's own API URL unless --api-url or DEX_API_URL names another. Safe after a
    crash: a contact whose batch was in flight is sent again, which leaves Dex as sending it once.

    Example: [bold]dexbulk resume last[/bold]
    """
    return _continue(run_id, "resume", send, output)


@sending_options
@output_options
def retry(
    run_id: RunId,
    send: SendArgs,
    output: OutputArgs,
    failed: Annotated[
        bool,
        typer.Option(
            "--failed", help="Resend the contacts that failed (the default).", show_default=False
        ),
    ] = True,
) -> ExitCode:
    """Resend only the contacts of a run that failed.

    Example: [bold]dexbulk retry 20261126-180350-k3xq --failed[/bold]
    """
    if not failed:
        raise InvalidInput("retry resends failures only; use 'dexbulk resume' for the rest")
    return _continue(run_id, "retry", send, output)


RunIds = Annotated[
    list[str],
    typer.Argument(
        help="Run IDs, unique prefixes or endings of them, or 'last'.",
        show_default=False,
        metavar="RUN_ID...",
    ),
]


def runs_rm(run_ids: RunIds, as_json: JsonFlag = False) -> None:
    """Delete runs' journals (they hold contact data); a run being sent is refused.

    Every run named is found first: an unknown, ambiguous or running one deletes nothing
    (exit 2). The IDs deleted are printed on stdout; if a deletion still fails, those deleted
    before it are, with the error (exit 2). A deleted run can no longer be resumed or undone.

    Example: [bold]dexbulk runs rm 20261126-180350-k3xq k3xq[/bold]
    """
    from dexbulk.journal import default_runs_dir, find_run
    from dexbulk.retention import delete_run
    from dexbulk.runlock import holder

    e = Env()
    runs_dir = default_runs_dir(e.environ)
    paths = list(dict.fromkeys(find_run(runs_dir, ref) for ref in run_ids))
    for path in paths:
        held = holder(path)
        if held is not None:
            raise InvalidInput(
                f"run {path.stem} is running (process {held.pid}): wait for it to finish, "
                "then delete it; nothing deleted"
            )
    deleted: list[str] = []
    try:
        for path in paths:
            delete_run(path)
            deleted.append(path.stem)
    except DexbulkError as exc:
        # Checked first, yet a deletion can still fail (a lock taken since, a file that cannot
        # go): say what is gone already, and stop.
        rest = len(paths) - len(deleted)
        error = (
            f"{exc.message}; deleted {len(deleted):,} of {len(paths):,} runs first"
            + (" (on stdout)" if deleted and not as_json else "")
            + f", kept the other {rest:,}"
        )
        _print_deleted(e, deleted, as_json, dry_run=False, error=error)
        raise InvalidInput(error) from None
    _print_deleted(e, deleted, as_json, dry_run=False)


def runs_prune(
    older_than: Annotated[
        str,
        typer.Option(
            "--older-than",
            help="Delete the journals of runs started longer ago than this: a whole number "
            "and a unit, s m h d w (30d, 12h, 2w).",
            metavar="AGE",
            show_default=False,
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", "-n", help="List what would be deleted; delete nothing.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Delete the journals of old runs (they hold contact data); running runs are kept.

    The IDs deleted (or, with --dry-run, that would be) are printed on stdout. A deleted run
    can no longer be resumed or undone.

    Example: [bold]dexbulk runs prune --older-than 30d --dry-run[/bold]
    """
    from dexbulk.journal import default_runs_dir
    from dexbulk.retention import delete_run, parse_age, runs_older_than
    from dexbulk.runlock import RunInUse

    e = Env()
    age = parse_age(older_than)
    old = runs_older_than(default_runs_dir(e.environ), age)
    deleted = []
    for journal in old:
        if not dry_run:
            try:
                delete_run(journal.path)
            except RunInUse:
                continue  # started sending since it was listed: it stays
        deleted.append(journal.run_id)
    _print_deleted(e, deleted, as_json, dry_run=dry_run)


def _print_deleted(
    e: Env, deleted: list[str], as_json: bool, *, dry_run: bool, error: str | None = None
) -> None:
    """The run IDs on stdout (or one JSON document, with the ``error`` that stopped it), and a
    count on stderr (unless an error line is to follow)."""
    from dexbulk.cli import render

    if as_json:
        document: dict[str, object] = {"deleted": deleted, "dryRun": dry_run}
        if error is not None:
            document["error"] = error
        render.write_json(e.stdout, document)
    else:
        e.stdout.write("".join(f"{run_id}\n" for run_id in deleted))
        e.stdout.flush()
    if error is None:
        count = f"{len(deleted):,} run{'' if len(deleted) == 1 else 's'}"
        print(f"{'would delete' if dry_run else 'deleted'} {count}", file=e.stderr)


def runs_app() -> typer.Typer:
    """The ``runs`` group: alone it lists runs; ``show``, ``rm`` and ``prune`` under it."""
    group = typer.Typer(no_args_is_help=False, cls=DexbulkGroup, rich_markup_mode=None)
    group.callback(invoke_without_command=True)(runs_list)
    group.command("show", cls=DexbulkCommand)(runs_show)
    group.command("rm", cls=DexbulkCommand)(runs_rm)
    group.command("prune", cls=DexbulkCommand)(runs_prune)
    return group
