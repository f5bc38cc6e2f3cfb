"""The tool commands: fields, sandbox, demo, auth (login, status, logout), config (show, path)."""

import functools
import inspect
from collections.abc import Callable
from typing import Annotated, Any

import typer

from dexbulk.cli.env import Env
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


def _sandbox(**values: Any) -> None:
    from dexbulk.sandbox.options import options_from_flags
    from dexbulk.sandbox.server import serve

    e = Env()
    serve(options_from_flags(values, verbose_log=e.stderr), out=e.stdout, err=e.stderr)


def sandbox_command() -> Callable[..., None]:
    """``dexbulk sandbox``, its options generated from the sandbox's one table of flags."""
    from dexbulk.sandbox.options import FLAGS

    parameters = []
    for flag in FLAGS:
        option = typer.Option(
            *flag.names, help=flag.help, metavar=flag.metavar, rich_help_panel=flag.panel,
            show_default=flag.default_text or False,
        )  # fmt: skip
        kind: Any = bool if flag.is_switch else list[str] | None if flag.repeatable else str | None
        default = False if flag.is_switch else None
        annotation = Annotated[kind, option]
        keyword = inspect.Parameter.KEYWORD_ONLY
        parameters.append(
            inspect.Parameter(flag.field, keyword, annotation=annotation, default=default)
        )

    @functools.wraps(_sandbox)
    def command(**values: Any) -> None:
        _sandbox(**values)

    command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    command.__doc__ = SANDBOX_HELP
    return command


SANDBOX_HELP = """Run a local, simulated Dex API to rehearse changes on (no account needed).

    Example: [bold]dexbulk sandbox --port 8765 --latency 50 --fail-rate 0.1[/bold], then
    [bold]DEX_API_URL=http://127.0.0.1:8765/v1 DEX_API_KEY=<printed key> dexbulk star --ids ...[/bold]
    """


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
    no_verify: Annotated[
        bool,
        typer.Option("--no-verify", help="Store the key without checking it against the API."),
    ] = False,
) -> None:
    """Check an API key with one request and store it (OS keyring, else the config file, 0600).

    Only a key the API accepted is stored: a refused key exits 3, an API that cannot be
    reached or is not Dex's exits 4, and nothing is stored (unless --no-verify).

    Example: [bold]dexbulk auth login[/bold]  ·  [bold]pass show dex | dexbulk auth login --with-token[/bold]
    """
    from dexbulk.cli.auth import login

    login(Env(), with_token=with_token, profile=profile, api_url=api_url, verify=not no_verify)


def auth_status(
    profile: Annotated[
        str | None, typer.Option("--profile", help="Config profile.", metavar="NAME")
    ] = None,
    api_url: Annotated[
        str | None, typer.Option("--api-url", help="API to check the key against.", metavar="URL")
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also say why no OS keyring is in use.")
    ] = False,
) -> ExitCode:
    """Say where the key comes from, show it masked, and check it against the API.

    Only an answer from Dex proves the key: exit 0 when it accepts it, 3 when it refuses
    it, 4 when the API cannot be reached or the URL is not Dex's.

    Example: [bold]dexbulk auth status[/bold]
    """
    from dexbulk.cli.auth import status

    return status(Env(), profile=profile, api_url=api_url, verbose=verbose)


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
