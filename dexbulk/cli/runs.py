"""The commands about past runs: runs, runs show, resume, retry.

Each reads a run's journal (:mod:`dexbulk.journal`); resume and retry turn what is left of it
into a :class:`~dexbulk.plan.Plan` and send it like any update.
"""

from dataclasses import replace
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dexbulk.cli.context import Env
from dexbulk.cli.help import DexbulkCommand, DexbulkGroup
from dexbulk.cli.options import (
    JsonFlag,
    OutputArgs,
    SendArgs,
    output_options,
    sending_options,
)
from dexbulk.errors import ExitCode, InvalidInput

if TYPE_CHECKING:
    from dexbulk.journal import RunState

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

    e = Env()
    problems: list[str] = []
    runs = list_runs(default_runs_dir(e.environ), limit, problems=problems)
    for problem in problems:
        # One unreadable journal must not hide the others: say so, and list the rest.
        print(f"warning: skipped {problem}", file=e.stderr)
    if as_json:
        render.write_json(e.stdout, [run.summary() for run in runs])
    else:
        render.render_runs(render.make_console(e.stdout), runs)


def runs_show(run_id: RunId, as_json: JsonFlag = False) -> None:
    """Show one run: its command, counts, and every failed contact with the reason.

    Example: [bold]dexbulk runs show last[/bold]
    """
    from dexbulk.cli import render
    from dexbulk.configfile import show_path
    from dexbulk.journal import default_runs_dir, load_run, printable

    e = Env()
    run = load_run(default_runs_dir(e.environ), run_id)
    document = dict(run.summary())
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

    render_run(render.make_console(e.stdout), run)


def _continue(run_id: str, mode: str, send: SendArgs, output: OutputArgs) -> ExitCode:
    from dexbulk.configfile import show_path
    from dexbulk.journal import JournalError, default_runs_dir, find_run, read_run
    from dexbulk.runlock import RunLock, lock_path

    e = Env()
    path = find_run(default_runs_dir(e.environ), run_id)
    # Locked before it is read: a second resume must not read the same pending contacts.
    try:
        lock = RunLock.acquire(path, path.stem)
    except OSError as exc:
        where = show_path(lock_path(path))
        raise JournalError(
            f"cannot lock the run: {where}: {exc.strerror}; nothing was sent"
        ) from None
    with lock:
        run = read_run(path)
        run.check_resumable()
        if run_id == "last" and not output.quiet:
            # 'last' is the newest journal, which may not be the run just tried: a run that
            # stopped before sending (its read failed) records none. Say which, before acting.
            e.console(output).print(f"{mode} last: {_picked(run)}", markup=False)
        return _send_rest(run, mode, send, output, e)


def _picked(run: "RunState") -> str:
    """``run ID ('dexbulk star --from ids.txt', started 2026-12-01 10:23:04 UTC)``."""
    from dexbulk.text import printable

    argv = run.start.get("argv")
    words = (
        [str(a) for a in argv[1:]] if isinstance(argv, list) else [str(run.start.get("command"))]
    )
    command = printable(" ".join(["dexbulk", *words]), keep="")
    command = command if len(command) <= 120 else command[:119] + "…"
    at = str(run.start.get("at") or "at an unknown time").replace("T", " ")
    return f"run {run.run_id} ('{command}', started {at.replace('+00:00', ' UTC')})"


def _send_rest(run: "RunState", mode: str, send: SendArgs, output: OutputArgs, e: Env) -> ExitCode:
    from dexbulk.cli.context import send_plan
    from dexbulk.plan import Plan

    updates = run.pending if mode == "resume" else run.failed_updates
    if not updates:
        what = "every contact is confirmed updated" if mode == "resume" else "no failures"
        e.console(output).print(f"nothing to send for run {run.run_id}: {what}", markup=False)
        return ExitCode.OK
    plan = Plan(updates, str(run.start.get("command")), patch=run.start.get("patch"))
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


def runs_app() -> typer.Typer:
    """The ``runs`` group: alone it lists runs; ``runs show RUN_ID`` shows one."""
    group = typer.Typer(no_args_is_help=False, cls=DexbulkGroup, rich_markup_mode=None)
    group.callback(invoke_without_command=True)(runs_list)
    group.command("show", cls=DexbulkCommand)(runs_show)
    return group
