"""Commands around the updates: runs, resume, retry, sandbox, demo, auth and config.

Registered on the app by :func:`register`; same habits as ``cli.py``.
"""

import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer

from dexbulk.cli.app import EXIT_CODES_EPILOG, RUNS_PANEL, TOOLS_PANEL, app, env, handle_errors
from dexbulk.cli.help import DexbulkCommand, DexbulkGroup
from dexbulk.cli.options import OutputArgs, SendArgs, output_options, sending_options
from dexbulk.errors import ExitCode, InvalidInput

runs_app = typer.Typer(no_args_is_help=False, cls=DexbulkGroup, rich_markup_mode=None)
auth_app = typer.Typer(
    cls=DexbulkGroup,
    rich_markup_mode=None,
    help="Log in, check and log out: where the API key is kept.",
    no_args_is_help=True,
)
config_app = typer.Typer(
    cls=DexbulkGroup,
    rich_markup_mode=None,
    help="Show the effective configuration and where it comes from.",
    no_args_is_help=True,
)

RunId = Annotated[
    str,
    typer.Argument(
        help="A run ID, a unique prefix of one, or 'last'.", show_default=False, metavar="RUN_ID"
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]


@runs_app.callback(invoke_without_command=True)
@handle_errors
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

    e = env()
    runs = list_runs(default_runs_dir(e.environ), limit)
    if as_json:
        render.write_json(e.stdout, [run.summary() for run in runs])
    else:
        render.render_runs(render.make_console(e.stdout), runs)


@runs_app.command("show", cls=DexbulkCommand)
@handle_errors
def runs_show(run_id: RunId, as_json: JsonFlag = False) -> None:
    """Show one run: its command, counts, and every failed contact with the reason.

    Example: [bold]dexbulk runs show last[/bold]
    """
    from dexbulk.cli import render
    from dexbulk.journal import default_runs_dir, load_run

    e = env()
    run = load_run(default_runs_dir(e.environ), run_id)
    document = dict(run.summary())
    document["argv"] = run.start.get("argv")
    document["patch"] = run.start.get("patch")
    document["options"] = run.start.get("options")
    document["journal"] = str(run.path)
    document["failures"] = [
        {k: v for k, v in r.to_json().items() if k != "ok"} for r in run.failed.values()
    ]
    if as_json:
        render.write_json(e.stdout, document)
        return
    console = render.make_console(e.stdout)
    render.render_runs(console, [run])
    console.print(f"command line: {' '.join(run.start.get('argv') or [])}", markup=False)
    console.print(f"journal: {run.path}", markup=False)
    for failure in run.failed.values():
        console.print(f"  ✗ {failure.contact_id}: {failure.error}", markup=False)


def _continue(run_id: str, mode: str, send: SendArgs, output: OutputArgs) -> ExitCode:
    from dexbulk.cli.context import send_plan
    from dexbulk.journal import default_runs_dir, load_run
    from dexbulk.plan import Plan

    e = env()
    run = load_run(default_runs_dir(e.environ), run_id)
    updates = run.pending if mode == "resume" else run.failed_updates
    if not updates:
        what = "every contact is confirmed updated" if mode == "resume" else "no failures"
        e.console(output).print(f"nothing to send for run {run.run_id}: {what}", markup=False)
        return ExitCode.OK
    plan = Plan(updates, str(run.start.get("command")), patch=run.start.get("patch"))
    # Unless told otherwise, continue the way the run was sent.
    sent_with = run.start.get("options") or {}
    overrides: dict[str, Any] = {
        name: sent_with.get(name) for name in ("batch_size", "concurrency", "timeout", "max_attempts", "rate")
        if getattr(send, name) is None and sent_with.get(name) is not None
    }  # fmt: skip
    send = replace(send, **overrides)
    return send_plan(
        plan, send, output, e, sys.argv, resume_of=(run.run_id, mode),
        api_url=run.start.get("api_url"),
    )  # fmt: skip


@app.command("resume", cls=DexbulkCommand, rich_help_panel=RUNS_PANEL, epilog=EXIT_CODES_EPILOG)
@handle_errors
@sending_options
@output_options
def resume(run_id: RunId, send: SendArgs, output: OutputArgs) -> ExitCode:
    """Finish an interrupted run: send only the contacts not confirmed updated.

    Uses the run's own API URL unless --api-url is given. Safe after a crash: a contact whose
    batch was in flight is sent again, which leaves Dex as sending it once.

    Example: [bold]dexbulk resume last[/bold]
    """
    return _continue(run_id, "resume", send, output)


@app.command("retry", cls=DexbulkCommand, rich_help_panel=RUNS_PANEL, epilog=EXIT_CODES_EPILOG)
@handle_errors
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

    Example: [bold]dexbulk retry 2026-11-26T18-03-50.123-1a2b --failed[/bold]
    """
    if not failed:
        raise InvalidInput("retry resends failures only; use 'dexbulk resume' for the rest")
    return _continue(run_id, "retry", send, output)


@app.command("sandbox", cls=DexbulkCommand, rich_help_panel=TOOLS_PANEL)
@handle_errors
def sandbox(
    port: Annotated[
        int, typer.Option("--port", help="Port on 127.0.0.1 (0 = pick a free one).", metavar="PORT")
    ] = 8765,
    db: Annotated[
        Path | None,
        typer.Option("--db", help="SQLite file \\[default: in the user data dir].", metavar="FILE"),
    ] = None,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Drop the stored address book and reseed.")
    ] = False,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the generated address book.", metavar="N")
    ] = 42,
    contacts: Annotated[
        int, typer.Option("--contacts", help="How many contacts to seed.", metavar="N")
    ] = 300,
    key: Annotated[
        str | None, typer.Option("--key", help="The API key the sandbox expects.", metavar="KEY")
    ] = None,
    latency: Annotated[
        float,
        typer.Option("--latency", help="Milliseconds per request (±20% jitter).", metavar="MS"),
    ] = 0.0,
    fail_rate: Annotated[
        float, typer.Option("--fail-rate", help="Probability of a random 500/502/503.", metavar="P")
    ] = 0.0,
    rate_limit: Annotated[
        str | None,
        typer.Option("--rate-limit", help="Requests per second before 429, as N/s.", metavar="N/s"),
    ] = None,
    max_batch: Annotated[
        int | None,
        typer.Option("--max-batch", help="Reject larger PUT bodies with 413.", metavar="N"),
    ] = None,
    drop_rate: Annotated[
        float,
        typer.Option(
            "--drop-rate", help="Probability of closing the connection mid-request.", metavar="P"
        ),
    ] = 0.0,
    reject: Annotated[
        list[str] | None,
        typer.Option(
            "--reject",
            help="A contact whose batch always fails with 400 (repeatable).",
            metavar="ID",
        ),
    ] = None,
    unknown_ids: Annotated[
        str,
        typer.Option(
            "--unknown-ids",
            help="skip: unknown contacts are not counted; reject: their batch fails with 404.",
            metavar="skip|reject",
        ),
    ] = "skip",
) -> None:
    """Run a local, simulated Dex API to rehearse changes on (no account needed).

    Example: [bold]dexbulk sandbox --port 8765 --latency 50 --fail-rate 0.1[/bold], then
    [bold]DEX_API_URL=http://127.0.0.1:8765/v1 DEX_API_KEY=<printed key> dexbulk star --ids ...[/bold]
    """
    from dexbulk.sandbox import SandboxOptions, serve
    from dexbulk.sandbox.options import DEFAULT_API_KEY, parse_rate

    e = env()
    options = SandboxOptions(
        port=port, db_path=db, fresh=fresh, seed=seed, contacts=contacts,
        api_key=key or DEFAULT_API_KEY, latency_ms=latency, fail_rate=fail_rate,
        rate_limit=parse_rate(rate_limit) if rate_limit else None, max_batch=max_batch,
        drop_rate=drop_rate, reject_ids=frozenset(reject or ()), unknown_ids=unknown_ids,
        verbose_log=e.stderr,
    )  # fmt: skip
    serve(options, out=e.stdout, err=e.stderr)


@app.command("demo", cls=DexbulkCommand, rich_help_panel=TOOLS_PANEL)
@handle_errors
def demo(
    contacts: Annotated[
        int, typer.Option("--contacts", help="How many contacts to update.", min=1, metavar="N")
    ] = 250,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="No progress bar.")] = False,
) -> ExitCode:
    """Rehearse a real bulk update on a built-in sandbox: no key, no network needed.

    Starts the sandbox on a free local port, selects contacts, shows the dry-run plan, sends
    the update in batches through the same code path as a real run, and shows a few contacts
    before and after.

    Example: [bold]dexbulk demo[/bold]
    """
    from dexbulk.cli.demo import run_demo

    return run_demo(env(), contacts=contacts, progress=not no_progress)


@auth_app.command("login", cls=DexbulkCommand)
@handle_errors
def auth_login(
    with_token: Annotated[
        bool, typer.Option("--with-token", help="Read the key from stdin instead of prompting.")
    ] = False,
    profile: Annotated[
        str | None,
        typer.Option("--profile", help="Config profile to store it for.", metavar="NAME"),
    ] = None,
    api_url: Annotated[
        str | None, typer.Option("--api-url", help="API to check the key against.", metavar="URL")
    ] = None,
) -> None:
    """Check an API key with one request and store it (OS keyring, else the config file, 0600).

    Example: [bold]dexbulk auth login[/bold]  ·  [bold]pass show dex | dexbulk auth login --with-token[/bold]
    """
    from dexbulk.cli.auth import login

    login(env(), with_token=with_token, profile=profile, api_url=api_url)


@auth_app.command("status", cls=DexbulkCommand)
@handle_errors
def auth_status(
    profile: Annotated[
        str | None, typer.Option("--profile", help="Config profile.", metavar="NAME")
    ] = None,
    api_url: Annotated[
        str | None, typer.Option("--api-url", help="API to check the key against.", metavar="URL")
    ] = None,
) -> ExitCode:
    """Say where the key comes from, show it masked, and check it against the API.

    Example: [bold]dexbulk auth status[/bold]
    """
    from dexbulk.cli.auth import status

    return status(env(), profile=profile, api_url=api_url)


@auth_app.command("logout", cls=DexbulkCommand)
@handle_errors
def auth_logout(
    profile: Annotated[
        str | None, typer.Option("--profile", help="Config profile.", metavar="NAME")
    ] = None,
) -> None:
    """Remove the stored key from the keyring and the config file.

    Example: [bold]dexbulk auth logout[/bold]
    """
    from dexbulk.cli.auth import logout

    logout(env(), profile=profile)


@config_app.command("show", cls=DexbulkCommand)
@handle_errors
def config_show(
    profile: Annotated[
        str | None, typer.Option("--profile", help="Config profile.", metavar="NAME")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Print every effective setting and where it came from (flag, env, profile, default).

    Example: [bold]DEXBULK_PROFILE=work dexbulk config show[/bold]
    """
    from dexbulk.cli.auth import show_config

    show_config(env(), profile=profile, as_json=as_json)


@config_app.command("path", cls=DexbulkCommand)
@handle_errors
def config_path_cmd() -> None:
    """Print the config file's path.

    Example: [bold]$EDITOR "$(dexbulk config path)"[/bold]
    """
    from dexbulk.settings import config_path

    e = env()
    print(config_path(e.environ), file=e.stdout)


def register() -> None:
    """Attach the sub-apps (importing this module registers its top-level commands)."""
    app.add_typer(runs_app, name="runs", rich_help_panel=RUNS_PANEL)
    app.add_typer(auth_app, name="auth", rich_help_panel=TOOLS_PANEL)
    app.add_typer(config_app, name="config", rich_help_panel=TOOLS_PANEL)
