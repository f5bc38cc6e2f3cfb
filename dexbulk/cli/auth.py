"""``dexbulk auth`` and ``dexbulk config``: the CLI's side of credentials and settings."""

from __future__ import annotations

import getpass

from rich.markup import escape

from dexbulk.cli.context import Env, warn_foreign_host
from dexbulk.credentials import (
    delete_api_key,
    find_api_key,
    key_status,
    looks_like_dex_key,
    store_api_key,
    validate_api_key,
)
from dexbulk.errors import ApiError, AuthRefused, ExitCode, InvalidInput
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
    """One cheap authenticated request that must prove the key (``Dex.verify_key``).

    Raises AuthRefused (exit 3), Unreachable or NotDexApi (exit 4), ApiError (exit 4).
    """
    from dexbulk.dex import Dex

    with Dex(api_url, key, timeout=15, max_attempts=2) as dex:
        return dex.verify_key()


def login(
    env: Env,
    *,
    with_token: bool,
    profile: str | None,
    api_url: str | None,
    verify: bool = True,
) -> None:
    """Read a key (no echo, or stdin), prove it against the API, and store it.

    Only a verified key is stored, unless ``verify`` is False (``--no-verify``).
    """
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
    path = config_path(env.environ)
    if not verify:
        where = store_api_key(key, profile=name, config_path=path)
        console.print(
            f"Stored {key.masked} in {escape(where)} without checking it (--no-verify); "
            "'dexbulk auth status' checks it."
        )
    else:
        warn_foreign_host(env.stderr, url)
        try:
            count = check_key(key, url)
        except ApiError as exc:
            if isinstance(exc, AuthRefused):
                hint = "nothing was stored; check the key (Dex → Settings → API)"
            else:
                unchecked = "nothing was stored (--no-verify stores a key unchecked)"
                hint = f"{exc.hint}; {unchecked}" if exc.hint else unchecked
            raise type(exc)(exc.message, status=exc.status, hint=hint) from None
        where = store_api_key(key, profile=name, config_path=path)
        contacts = f" ({count:,} contacts)" if count is not None else ""
        console.print(
            f"Logged in: {escape(url)} accepted {key.masked}{contacts}; key stored in "
            f"{escape(where)}."
        )
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
    warn_foreign_host(env.stderr, url)
    try:
        count = check_key(key, url)
    except AuthRefused as exc:
        console.print(f"[red]refused[/red] by {escape(url)}: {escape(exc.message)}")
        return exc.exit_code
    except ApiError as exc:
        # Not a verdict on the key: it could not be checked (exit 4).
        console.print(f"[red]not checked[/red]: {escape(exc.message)}")
        return exc.exit_code
    contacts = f": {count:,} contacts" if count is not None else ""
    console.print(f"[green]valid[/green]: {escape(url)} accepted the key{contacts}")
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
