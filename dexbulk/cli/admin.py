"""The tool commands: fields, sandbox, demo, auth (login, status, logout), config (show, path)."""

from pathlib import Path
from typing import Annotated

import typer

from dexbulk.cli.context import Env
from dexbulk.cli.help import DexbulkCommand, DexbulkGroup
from dexbulk.cli.options import JsonFlag
from dexbulk.errors import ExitCode


def fields_(
    advanced: Annotated[
        bool, typer.Option("--advanced", help="Also show fields written by Dex's syncs.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the fields as JSON on stdout.")
    ] = False,
) -> None:
    """List every field of the contact data object, with its type and an example.

    Example: [bold]dexbulk fields --advanced[/bold]
    """
    from dexbulk.cli import render
    from dexbulk.fields import FIELDS

    e = Env()
    if as_json:
        render.write_json(e.stdout, [
            {"name": f.name, "type": f.kind.value, "group": f.group, "advanced": f.advanced,
             "example": f.example, "description": f.description, "choices": list(f.choices)}
            for f in FIELDS.values()
        ])  # fmt: skip
        return
    render.render_fields(render.make_console(e.stdout), list(FIELDS.values()), advanced=advanced)


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

    e = Env()
    options = SandboxOptions(
        port=port, db_path=db, fresh=fresh, seed=seed, contacts=contacts,
        api_key=key or DEFAULT_API_KEY, latency_ms=latency, fail_rate=fail_rate,
        rate_limit=parse_rate(rate_limit) if rate_limit else None, max_batch=max_batch,
        drop_rate=drop_rate, reject_ids=frozenset(reject or ()), unknown_ids=unknown_ids,
        verbose_log=e.stderr,
    )  # fmt: skip
    serve(options, out=e.stdout, err=e.stderr)


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

    return run_demo(Env(), contacts=contacts, progress=not no_progress)


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

    login(Env(), with_token=with_token, profile=profile, api_url=api_url)


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

    return status(Env(), profile=profile, api_url=api_url)


def auth_logout(
    profile: Annotated[
        str | None, typer.Option("--profile", help="Config profile.", metavar="NAME")
    ] = None,
) -> None:
    """Remove the stored key from the keyring and the config file.

    Example: [bold]dexbulk auth logout[/bold]
    """
    from dexbulk.cli.auth import logout

    logout(Env(), profile=profile)


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

    show_config(Env(), profile=profile, as_json=as_json)


def config_path_cmd() -> None:
    """Print the config file's path.

    Example: [bold]$EDITOR "$(dexbulk config path)"[/bold]
    """
    from dexbulk.settings import config_path

    e = Env()
    print(config_path(e.environ), file=e.stdout)


def auth_app() -> typer.Typer:
    """The ``auth`` group: login, status, logout."""
    group = typer.Typer(
        cls=DexbulkGroup,
        rich_markup_mode=None,
        help="Log in, check and log out: where the API key is kept.",
        no_args_is_help=True,
    )
    group.command("login", cls=DexbulkCommand)(auth_login)
    group.command("status", cls=DexbulkCommand)(auth_status)
    group.command("logout", cls=DexbulkCommand)(auth_logout)
    return group


def config_app() -> typer.Typer:
    """The ``config`` group: show, path."""
    group = typer.Typer(
        cls=DexbulkGroup,
        rich_markup_mode=None,
        help="Show the effective configuration and where it comes from.",
        no_args_is_help=True,
    )
    group.command("show", cls=DexbulkCommand)(config_show)
    group.command("path", cls=DexbulkCommand)(config_path_cmd)
    return group
