"""``dexbulk auth`` and ``dexbulk config``: the CLI's side of credentials and settings."""

from __future__ import annotations

import getpass

from rich.markup import escape

from dexbulk.cli.context import warn_foreign_host
from dexbulk.cli.env import Env
from dexbulk.configfile import show_path
from dexbulk.credentials import (
    delete_api_key,
    key_status,
    looks_like_dex_key,
    store_api_key,
    validate_api_key,
)
from dexbulk.errors import ApiError, AuthRefused, ExitCode, InvalidInput
from dexbulk.secret import ApiKey
from dexbulk.settings import API_KEY, SETTINGS, Settings, format_value, resolve_settings


def _settings(
    env: Env, profile: str | None, api_url: str | None = None, *, new_profile: bool = False
) -> Settings:
    """The settings of the command, the config file read once for everything it needs."""
    return resolve_settings(
        flags={"api_url": api_url}, env=env.environ, profile=profile,
        allow_new_profile=new_profile,
    )  # fmt: skip


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
    settings = _settings(env, profile, api_url, new_profile=True)
    url = settings.checked_api_url()
    if with_token:
        text = env.stdin.readline().strip()
    elif not env.stdin_isatty:
        raise InvalidInput("stdin is not a terminal: pipe the key with --with-token")
    else:
        text = getpass.getpass("Dex API key (from Dex → Settings → API): ", stream=env.stderr)
    key = validate_api_key(text, source="login")
    if not looks_like_dex_key(key):
        console.print("[yellow]warning:[/yellow] Dex keys usually start with 'dex_'")
    if not verify:
        where = store_api_key(key, profile=settings.profile, config_path=settings.path)
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
        where = store_api_key(key, profile=settings.profile, config_path=settings.path)
        contacts = f" ({count:,} contacts)" if count is not None else ""
        console.print(
            f"Logged in: {escape(url)} accepted {key.masked}{contacts}; key stored in "
            f"{escape(where)}."
        )
    if where != "keyring":
        console.print("No OS keyring is available, so the key is in the config file (mode 0600).")


def status(
    env: Env, *, profile: str | None, api_url: str | None, verbose: bool = False
) -> ExitCode:
    """Where the key comes from, masked, and whether the API accepts it.

    No keyring at all (not installed, no backend) is a normal setup: said only with ``verbose``.
    A keyring that failed (locked, D-Bus) is always worth its one line.
    """
    console = env.console()
    settings = _settings(env, profile, api_url)
    url = settings.checked_api_url()
    info = key_status(flag=None, env=env.environ, settings=settings)
    problem = info.keyring_problem if verbose or not info.keyring_absent else None
    if info.key is None:
        console.print("Not logged in: no key in DEX_API_KEY, the keyring or the config file.")
        if problem:
            console.print(f"  keyring: {problem}", markup=False, soft_wrap=True)
        console.print("hint: run 'dexbulk auth login'")
        return ExitCode.AUTH
    # soft_wrap: one line each, however long the path, so it can be copied whole.
    console.print(f"key: {info.masked} (from {info.source})", markup=False, soft_wrap=True)
    for other in info.shadowed:
        console.print(f"  also a key in {other} (not used)", markup=False, soft_wrap=True)
    if problem:
        console.print(f"  keyring: {problem}", markup=False, soft_wrap=True)
    warn_foreign_host(env.stderr, url)
    try:
        count = check_key(info.key, url)
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
    settings = _settings(env, profile)
    removed = delete_api_key(profile=settings.profile, config_path=settings.path)
    if removed:
        console.print(f"Removed the key from {', '.join(removed)}.")
    else:
        console.print("No stored key to remove.")
    if env.environ.get("DEX_API_KEY"):
        console.print("DEX_API_KEY is still set in your environment.")


def show_config(env: Env, *, profile: str | None, as_json: bool) -> None:
    """Every effective setting with its source; ``--json`` gives numbers as numbers."""
    from dexbulk.cli import render

    settings = resolve_settings(flags={}, env=env.environ, profile=profile)
    if as_json:
        render.write_json(env.stdout, config_document(settings))
        return
    from rich.table import Table

    table = Table("setting", "value", "source", title=f"config {settings.path}")
    for row in config_rows(settings):
        table.add_row(*row)
    render.make_console(env.stdout).print(table)


def config_rows(settings: Settings) -> list[tuple[str, str, str]]:
    """Rows of (name, value as text, source) for ``config show``; the key appears masked."""
    found = "" if settings.path.is_file() else " (not found)"
    rows = [
        ("profile", settings.profile, settings.sources.get("profile", "default")),
        ("config", show_path(settings.path) + found, settings.sources.get("config", "default")),
    ]
    for spec in SETTINGS:
        item = settings.setting(spec.name)
        rows.append((item.name, format_value(item.value), item.source))
    if settings.file_api_key is not None:
        rows.append((API_KEY, settings.file_api_key.masked, settings.file_api_key.source))
    return rows


def config_document(settings: Settings) -> dict[str, dict[str, object]]:
    """``config show --json``: the same rows, typed: numbers as numbers, no rate limit as null.

    The config row's value is the file's full path, with ``exists`` saying whether it is there.
    """
    typed = {spec.name for spec in SETTINGS}
    document: dict[str, dict[str, object]] = {
        name: {"value": getattr(settings, name) if name in typed else text, "source": source}
        for name, text, source in config_rows(settings)
    }
    document["config"].update(value=str(settings.path), exists=settings.path.is_file())
    return document
