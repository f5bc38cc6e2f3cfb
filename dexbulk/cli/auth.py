"""``dexbulk auth`` and ``dexbulk config``: the CLI's side of credentials and settings."""

from __future__ import annotations

import getpass

from rich.markup import escape

from dexbulk.cli.context import Env
from dexbulk.credentials import (
    delete_api_key,
    find_api_key,
    key_status,
    looks_like_dex_key,
    store_api_key,
    validate_api_key,
)
from dexbulk.errors import ApiError, ExitCode, InvalidInput
from dexbulk.secret import ApiKey
from dexbulk.settings import check_api_url, config_path, config_show_rows, resolve_settings


def _settings(
    env: Env, profile: str | None, api_url: str | None = None, *, new_profile: bool = False
) -> tuple[str, str]:
    settings = resolve_settings(
        flags={"api_url": api_url}, env=env.environ, profile=profile,
        allow_new_profile=new_profile,
    )  # fmt: skip
    source = settings.sources["api_url"]
    source = "--api-url" if source == "flag" else source
    return settings.profile, check_api_url(settings.api_url, source=source)


def check_key(key: ApiKey, api_url: str) -> int | None:
    """One cheap authenticated request (``GET /v1/contacts/count``); raises AuthRefused."""
    from dexbulk.dex import Dex

    with Dex(api_url, key, timeout=15, max_attempts=2) as dex:
        return dex.count_contacts()


def login(env: Env, *, with_token: bool, profile: str | None, api_url: str | None) -> None:
    """Read a key (no echo, or stdin), check it, and store it."""
    console = env.console()
    name, url = _settings(env, profile, api_url, new_profile=True)
    if with_token:
        text = env.stdin.readline().strip()
    elif not env.stdin_isatty:
        raise InvalidInput("stdin is not a terminal: pipe the key with --with-token")
    else:
        text = getpass.getpass("Dex API key (from Dex → Settings → API): ", stream=env.stderr)
    key = validate_api_key(text, source="login")
    if not looks_like_dex_key(key):
        console.print("[yellow]warning:[/yellow] Dex keys usually start with 'dex_'")
    count = check_key(key, url)
    path = config_path(env.environ)
    where = store_api_key(key, profile=name, config_path=path)
    contacts = f" ({count:,} contacts)" if count is not None else ""
    console.print(f"Logged in as {key.masked}{contacts}; key stored in {escape(where)}.")
    if where != "keyring":
        console.print("No OS keyring is available, so the key is in the config file (mode 0600).")


def status(env: Env, *, profile: str | None, api_url: str | None) -> ExitCode:
    """Where the key comes from, masked, and whether the API accepts it."""
    console = env.console()
    name, url = _settings(env, profile, api_url)
    path = config_path(env.environ)
    info = key_status(flag=None, env=env.environ, profile=name, config_path=path)
    if info.source is None:
        console.print("Not logged in: no key in DEX_API_KEY, the keyring or the config file.")
        console.print("hint: run 'dexbulk auth login'")
        return ExitCode.AUTH
    console.print(f"key: {info.masked} (from {info.source})", markup=False)
    for other in info.shadowed:
        console.print(f"  also a key in {other} (not used)", markup=False)
    if info.keyring_problem:
        console.print(f"  keyring: {info.keyring_problem}", markup=False)
    key = find_api_key(flag=None, env=env.environ, profile=name, config_path=path)
    try:
        count = check_key(key, url)
    except ApiError as exc:
        console.print(f"[red]refused[/red] by {escape(url)}: {escape(exc.message)}")
        return exc.exit_code
    contacts = f"{count:,} contacts" if count is not None else "accepted"
    console.print(f"[green]valid[/green] for {escape(url)}: {contacts}")
    return ExitCode.OK


def logout(env: Env, *, profile: str | None) -> None:
    """Remove the stored key wherever it is."""
    console = env.console()
    name, _ = _settings(env, profile)
    removed = delete_api_key(profile=name, config_path=config_path(env.environ))
    if removed:
        console.print(f"Removed the key from {', '.join(removed)}.")
    else:
        console.print("No stored key to remove.")
    if env.environ.get("DEX_API_KEY"):
        console.print("DEX_API_KEY is still set in your environment.")


def show_config(env: Env, *, profile: str | None, as_json: bool) -> None:
    """Every effective setting with its source."""
    from dexbulk.cli import render

    settings = resolve_settings(flags={}, env=env.environ, profile=profile)
    rows = config_show_rows(settings)
    if as_json:
        render.write_json(
            env.stdout, {name: {"value": value, "source": src} for name, value, src in rows}
        )
        return
    from rich.table import Table

    table = Table("setting", "value", "source", title=f"config {settings.path}")
    for row in rows:
        table.add_row(*row)
    render.make_console(env.stdout).print(table)
