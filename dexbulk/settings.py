"""Settings for a run, resolved from flags, environment variables, the config file and defaults.

Precedence, highest first: a command-line flag, an environment variable, the selected profile's
table in the config file, the built-in default. Every value passes the same checks wherever it
came from. Every value present is checked even when a higher source overrides it, so an error
in the environment or the selected profile never hides behind a flag; other profiles are not
checked. An empty environment variable counts as unset.

The config file is TOML, at ``platformdirs.user_config_dir("dexbulk")/config.toml`` or wherever
``DEXBULK_CONFIG`` points::

    [default]
    batch_size = 50

    [profile.work]
    rate = 5

The profile is chosen by ``--profile``, then ``DEXBULK_PROFILE``, then ``"default"``, which
reads ``[default]``. Profiles do **not** inherit from ``[default]``: a setting missing from
``[profile.work]`` takes the built-in default. rclone and aws behave the same way; the deciding
reason is that ``[default]`` may hold an ``api_key``, and a ``--profile work`` run must never
send the default account's key (or rate limits tuned for it) by accident.

Reading, locating and safely editing the file's text is :mod:`dexbulk.configfile`. The API URL
is checked here too (:func:`check_api_url`) before any key is sent to it.
"""

from __future__ import annotations

import difflib
import ipaddress
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

import platformdirs

from dexbulk.configfile import (
    CONFIG_ENV,
    DEFAULT_PROFILE,
    Doc,
    edit,
    locate,
    read,
    show_path,
    table_label,
    table_path,
)
from dexbulk.errors import ConfigError, InvalidInput
from dexbulk.secret import ApiKey

DEFAULT_API_URL = "https://api.prod.getdex.com/v1"
PROFILE_ENV = "DEXBULK_PROFILE"


@dataclass(frozen=True)
class _Spec:
    name: str
    env: str
    kind: type[object]  # int, float (always > 0) or str (an http(s) URL)
    default: object
    low: int = 0
    high: int = 0


_SPECS = (
    _Spec("api_url", "DEX_API_URL", str, DEFAULT_API_URL),
    _Spec("batch_size", "DEXBULK_BATCH_SIZE", int, 100, 1, 500),
    _Spec("concurrency", "DEXBULK_CONCURRENCY", int, 4, 1, 32),
    _Spec("rate", "DEXBULK_RATE", float, None),
    _Spec("max_attempts", "DEXBULK_MAX_ATTEMPTS", int, 5, 1, 20),
    _Spec("timeout", "DEXBULK_TIMEOUT", float, 30.0),
    _Spec("confirm_over", "DEXBULK_CONFIRM_OVER", int, 20, 0, 10**9),
)
SETTING_ENV_VARS: Mapping[str, str] = MappingProxyType({s.name: s.env for s in _SPECS})
"""Each setting's environment variable, for documentation and help text."""
FILE_KEYS = (*SETTING_ENV_VARS, "api_key")


@dataclass(frozen=True)
class Setting:
    """One value and its source: ``flag``, ``env VAR``, ``config PATH [table]`` or ``default``."""

    name: str
    value: object
    source: str


@dataclass(frozen=True, kw_only=True)
class Settings:
    """The resolved settings of a run.

    ``sources`` maps each setting name, and ``profile`` and ``config`` (the file), to its origin.

    ``file_api_key`` is only the key found in the config file; which key a run uses is decided by
    :func:`dexbulk.credentials.find_api_key`.
    """

    api_url: str = DEFAULT_API_URL
    batch_size: int = 100
    concurrency: int = 4
    rate: float | None = None
    max_attempts: int = 5
    timeout: float = 30.0
    confirm_over: int = 20
    """Ask (on a terminal) before a run changes more contacts than this."""
    file_api_key: ApiKey | None = None
    profile: str = DEFAULT_PROFILE
    path: Path
    sources: Mapping[str, str] = field(default_factory=dict)

    def setting(self, name: str) -> Setting:
        """Return one setting (``batch_size``, ...) with its value and source."""
        return Setting(name, getattr(self, name), self.sources.get(name, "default"))


class _Invalid(Exception):
    """A value failed a check; the caller adds where it came from."""


def config_path(env: Mapping[str, str]) -> Path:
    """Return the config file path: ``$DEXBULK_CONFIG`` if set, else the platform config dir."""
    named = env.get(CONFIG_ENV, "").strip()
    if named:
        return Path(named).expanduser()
    # appauthor=False: on Windows the default would nest the folder twice (dexbulk\dexbulk).
    return Path(platformdirs.user_config_dir("dexbulk", appauthor=False)) / "config.toml"


def resolve_settings(
    *,
    flags: Mapping[str, object | None],
    env: Mapping[str, str],
    profile: str | None,
    allow_new_profile: bool = False,
) -> Settings:
    """Resolve every setting: flag > env > the profile's table in the config file > default.

    ``flags`` maps setting names to the flag values, ``None`` meaning "not given". Raises
    :class:`ConfigError` naming the file and line, the variable or the flag of a bad value.
    An unknown profile, or a missing file named by ``DEXBULK_CONFIG``, is an error unless
    ``allow_new_profile`` (for ``auth login``, which is about to create them).
    """
    unknown = sorted(set(flags) - set(SETTING_ENV_VARS))
    if unknown:  # a programming error in the caller, not a user error
        raise ValueError(f"unknown setting flags: {', '.join(unknown)}")
    path = config_path(env)
    name, name_source = _select_profile(profile, env)
    explicit = bool(env.get(CONFIG_ENV, "").strip())
    doc = read(path, must_exist=explicit and not allow_new_profile)
    table = _profile_table(doc, path, name, strict=True, new_ok=allow_new_profile)
    where = f"config {show_path(path)} {table_label(name)}"
    values: dict[str, object] = {}
    sources = {"profile": name_source, "config": f"env {CONFIG_ENV}" if explicit else "default"}
    for spec in _SPECS:
        found: list[tuple[object, str]] = []
        if flags.get(spec.name) is not None:
            flag = "--" + spec.name.replace("_", "-")
            found.append((_checked(spec, flags[spec.name], flag), "flag"))
        raw_env = env.get(spec.env, "")
        if raw_env.strip():
            found.append((_checked(spec, raw_env, spec.env), f"env {spec.env}"))
        if spec.name in table:
            try:
                found.append((_check(spec, table[spec.name], parse=False), where))
            except _Invalid as exc:
                raise _file_error(doc, name, spec.name, str(exc)) from None
        values[spec.name], sources[spec.name] = found[0] if found else (spec.default, "default")
    file_key = _file_key(doc, name, table, where)
    return Settings(
        **values,  # type: ignore[arg-type]  # each value was checked against its spec above
        file_api_key=file_key,
        profile=name,
        path=path,
        sources=MappingProxyType(sources),
    )


def read_api_key(path: Path, profile: str) -> ApiKey | None:
    """Return the profile's ``api_key`` from the config file, or None (no file, table or key)."""
    doc = read(path, must_exist=False)
    table = _profile_table(doc, path, profile, strict=False)
    return _file_key(doc, profile, table, f"config {show_path(path)} {table_label(profile)}")


def config_show_rows(settings: Settings) -> list[tuple[str, str, str]]:
    """Rows of (name, value, source) for ``dexbulk config show``; keys appear masked."""
    found = "" if settings.path.is_file() else " (not found)"
    rows = [
        ("profile", settings.profile, settings.sources.get("profile", "default")),
        ("config", show_path(settings.path) + found, settings.sources.get("config", "default")),
    ]
    for spec in _SPECS:
        item = settings.setting(spec.name)
        value = item.value
        text = "unlimited" if value is None else f"{value:g}" if isinstance(value, float) else value
        rows.append((item.name, str(text), item.source))
    if settings.file_api_key is not None:
        key = settings.file_api_key
        rows.append(("api_key", key.masked, key.source))
    return rows


def write_api_key_to_config(path: Path, profile: str, key: ApiKey) -> None:
    """Set ``api_key`` in the profile's table (adding the table if needed); the file ends 0600."""
    _edit(path, profile, key=key)


def remove_api_key_from_config(path: Path, profile: str) -> bool:
    """Remove ``api_key`` from the profile's table; return whether there was one to remove."""
    return _edit(path, profile, remove=True)


def ensure_profile_table(path: Path, profile: str) -> bool:
    """Add an empty table for the profile if the file lacks it; return whether it was added.

    ``auth login --profile work`` calls this when the key goes to the keyring, so that
    ``--profile work`` is then a known profile (unknown profiles are an error, to catch typos).
    """
    return profile != DEFAULT_PROFILE and _edit(path, profile)


def _select_profile(profile: str | None, env: Mapping[str, str]) -> tuple[str, str]:
    if profile is not None:
        if not profile.strip():
            raise ConfigError("--profile: the profile name is empty")
        return profile.strip(), "flag"
    named = env.get(PROFILE_ENV, "").strip()
    return (named, f"env {PROFILE_ENV}") if named else (DEFAULT_PROFILE, "default")


def _checked(spec: _Spec, raw: object, origin: str) -> object:
    try:
        return _check(spec, raw)
    except _Invalid as exc:
        raise ConfigError(f"{origin}: {exc}") from None


def _check(spec: _Spec, raw: object, *, parse: bool = True) -> object:
    """Check one value; strings from env and flags are parsed, TOML values must be typed."""
    if spec.kind is str:
        url = raw.strip() if isinstance(raw, str) else ""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise _Invalid(f"{raw!r} is not an http(s) URL")
        return url.rstrip("/")
    what = "an integer" if spec.kind is int else "a number"
    value: int | float
    try:
        if isinstance(raw, str) and parse:  # from the environment or a text flag
            value = int(raw.strip()) if spec.kind is int else float(raw.strip())
        elif isinstance(raw, int) and not isinstance(raw, bool):  # TOML true is not 1
            value = raw if spec.kind is int else float(raw)
        elif isinstance(raw, float) and spec.kind is float:
            value = raw
        else:
            raise ValueError
    except ValueError:
        raise _Invalid(f"{raw!r} is not {what}") from None
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Invalid(f"{raw!r} is not a finite number")
        if value <= 0:
            raise _Invalid(f"{value:g} is out of range (expected a number > 0)")
    elif not spec.low <= value <= spec.high:
        raise _Invalid(f"{value} is out of range (expected {spec.low}..{spec.high})")
    return value


def _profile_table(
    doc: Doc | None, path: Path, profile: str, *, strict: bool, new_ok: bool = False
) -> dict[str, Any]:
    """The profile's table; with ``strict``, unknown keys (and profiles, unless new_ok) fail."""
    if doc is None:
        if strict and not new_ok and profile != DEFAULT_PROFILE:
            raise ConfigError(
                f"unknown profile {profile!r}: {show_path(path)} does not exist",
                hint=f"add a {table_label(profile)} table to it, or run 'dexbulk auth login'",
            )
        return {}
    _check_layout(doc)
    profiles: dict[str, Any] = doc.data.get("profile", {})
    if profile == DEFAULT_PROFILE:
        table: dict[str, Any] = doc.data.get("default", {})
    elif profile in profiles:
        table = profiles[profile]
    elif strict and not new_ok:
        names = [DEFAULT_PROFILE, *profiles]
        close = difflib.get_close_matches(profile, names, n=1)
        maybe = f"did you mean {close[0]!r}? " if close else ""
        raise ConfigError(
            f"unknown profile {profile!r} ({maybe}profiles in {show_path(path)}: "
            f"{', '.join(names)})"
        )
    else:
        return {}
    for key in table if strict else ():
        if key not in FILE_KEYS:
            close = difflib.get_close_matches(key, FILE_KEYS, n=1)
            maybe = f"did you mean {close[0]!r}?" if close else f"expected {', '.join(FILE_KEYS)}"
            where = locate(doc, (*table_path(profile), key))
            raise ConfigError(f"{where}: {table_label(profile)} unknown setting {key!r} ({maybe})")
    return table


def _check_layout(doc: Doc) -> None:
    """Only ``[default]`` and ``[profile.NAME]`` tables may sit at the top of the file."""
    for key, value in doc.data.items():
        if key in ("default", "profile") and isinstance(value, dict):
            continue
        at = locate(doc, (key,))
        if key in FILE_KEYS:
            raise ConfigError(f"{at}: {key} must be inside [default] or [profile.NAME]")
        raise ConfigError(f"{at}: unexpected {key!r} (expected [default] or [profile.NAME] tables)")
    for name, value in doc.data.get("profile", {}).items():
        if name == DEFAULT_PROFILE:
            raise ConfigError(
                f"{locate(doc, ('profile', name))}: write [default], not [profile.default]"
            )
        if not isinstance(value, dict):
            raise ConfigError(f"{locate(doc, ('profile', name))}: profile.{name} must be a table")


def _file_key(doc: Doc | None, profile: str, table: dict[str, Any], where: str) -> ApiKey | None:
    value = table.get("api_key")
    if value is None:
        return None
    if not isinstance(value, str):  # never quote the value: it may be (part of) a secret
        raise _file_error(doc, profile, "api_key", "expected a string")
    return ApiKey(value, source=where) if value.strip() else None


def _file_error(doc: Doc | None, profile: str, key: str, message: str) -> ConfigError:
    where = locate(doc, (*table_path(profile), key)) if doc else "config"
    return ConfigError(f"{where}: {table_label(profile)} {key}: {message}")


def _edit(path: Path, profile: str, *, key: ApiKey | None = None, remove: bool = False) -> bool:
    """Set or remove ``api_key`` in a profile's table, or just make sure the table exists."""
    doc = read(path, must_exist=False)
    if doc is not None:
        _check_layout(doc)
    return edit(path, doc, profile, key=key, remove=remove)


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_api_url(url: str, *, source: str = "--api-url") -> str:
    """Return ``url`` without a trailing slash, or raise if a key sent there could leak.

    Plain ``http://`` is refused except for loopback hosts (the local sandbox), so the key is
    never sent in clear text over a network.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidInput(
            f"{source}: {url!r} is not an API URL (expected https://host/v1, "
            f"e.g. {DEFAULT_API_URL})"
        )
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise InvalidInput(
            f"{source}: {url!r} uses plain http; the API key would travel in clear text "
            "(use https, or http only for 127.0.0.1/localhost)"
        )
    return url.strip().rstrip("/")
