"""Settings for a run, declared once and resolved from flags, environment, config file, defaults.

Every setting is one :class:`Spec` in :data:`SETTINGS`: its name (also its config-file key and
its field in :class:`Settings` and :class:`~dexbulk.engine.SendOptions`), type, default, range,
environment variable, flag names, metavar and help text. The CLI's "Sending" options, the config
file's allowed keys, ``dexbulk config show``, ``SendOptions``' defaults, what ``resume`` carries
over from a run, and the table in ``docs/configuration.md`` are all generated from it.

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

The file is read once per run, by :func:`resolve_settings`; the key found in it travels on as
:attr:`Settings.file_api_key`. Reading, locating and safely editing the file's text is
:mod:`dexbulk.configfile`. The API URL is checked here too (:func:`check_api_url`) before any
key is sent to it.
"""

from __future__ import annotations

import difflib
import ipaddress
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

from dexbulk.configfile import (
    CONFIG_ENV,
    DEFAULT_PROFILE,
    Doc,
    locate,
    profile_table,
    read,
    show_path,
    table_label,
    table_path,
)
from dexbulk.errors import ConfigError, InvalidInput
from dexbulk.secret import ApiKey

DEFAULT_API_URL = "https://api.prod.getdex.com/v1"
PROFILE_ENV = "DEXBULK_PROFILE"
API_KEY = "api_key"
"""The config-file key of the API key (resolved by :mod:`dexbulk.credentials`, not here)."""

V = TypeVar("V")


@dataclass(frozen=True)
class Spec(Generic[V]):
    """One setting, declared once; everything else about it is generated from this."""

    name: str
    """Also its config-file key, and its field in :class:`Settings` (and ``SendOptions``)."""
    kind: type[object]
    """``int`` (within ``low..high``), ``float`` (always > 0) or ``str`` (an http(s) URL)."""
    default: V
    env: str
    flags: tuple[str, ...]
    """The long flag first (named in messages), then any short one."""
    metavar: str
    help: str
    """One phrase, no trailing period; the range, variable and default are appended for help."""
    low: int = 0
    high: int = 0
    shown_default: str = ""
    """How the default reads in help and docs, when the value alone would not say it."""
    per_run: bool = True
    """How a run is sent (``SendOptions``, the journal): ``resume`` continues with the run's."""

    @property
    def config_key(self) -> str:
        """The key in a profile's table of the config file: the name, always."""
        return self.name

    @property
    def flag(self) -> str:
        """The long flag, as messages name it."""
        return self.flags[0]

    @property
    def range_text(self) -> str:
        """What the checks accept: ``1..500``, ``> 0``, or an https URL."""
        if self.kind is int:
            return f"{self.low}..{self.high}"
        return "> 0" if self.kind is float else "an https URL (http only to localhost)"

    @property
    def default_text(self) -> str:
        """The default as help, docs and ``config show`` write it (``30``, not ``30.0``)."""
        return self.shown_default or format_value(self.default)


API_URL: Spec[str] = Spec(
    "api_url", str, DEFAULT_API_URL, "DEX_API_URL", ("--api-url",), "URL", "API base URL",
    per_run=False,  # a run's URL is in its journal already; resume passes it on by itself
)  # fmt: skip
BATCH_SIZE: Spec[int] = Spec(
    "batch_size", int, 100, "DEXBULK_BATCH_SIZE", ("--batch-size",), "N",
    "Contacts per request", 1, 500,
)  # fmt: skip
CONCURRENCY: Spec[int] = Spec(
    "concurrency", int, 4, "DEXBULK_CONCURRENCY", ("--concurrency", "-c"), "N",
    "Requests in flight at once", 1, 32,
)  # fmt: skip
RATE: Spec[float | None] = Spec(
    "rate", float, None, "DEXBULK_RATE", ("--rate",), "PER_SECOND",
    "At most this many requests per second across all workers",
    shown_default="unlimited, slowing down on 429",
)  # fmt: skip
MAX_ATTEMPTS: Spec[int] = Spec(
    "max_attempts", int, 5, "DEXBULK_MAX_ATTEMPTS", ("--max-attempts",), "N",
    "Tries per request, counting the first", 1, 20,
)  # fmt: skip
TIMEOUT: Spec[float] = Spec(
    "timeout", float, 30.0, "DEXBULK_TIMEOUT", ("--timeout",), "SECONDS",
    "Seconds to wait for each answer",
)  # fmt: skip

CONFIRM_OVER: Spec[int] = Spec(
    "confirm_over", int, 20, "DEXBULK_CONFIRM_OVER", ("--confirm-over",), "N",
    "On a terminal, ask before a run changes more contacts than this", 0, 10**9,
    per_run=False,  # a question for the person at the terminal, not how the run is sent
)  # fmt: skip

SETTINGS: tuple[Spec[Any], ...] = (
    API_URL, BATCH_SIZE, CONCURRENCY, RATE, MAX_ATTEMPTS, TIMEOUT, CONFIRM_OVER,
)  # fmt: skip
"""Every setting, in the order help, ``config show`` and the docs list them."""
PER_RUN: tuple[Spec[Any], ...] = tuple(spec for spec in SETTINGS if spec.per_run)
"""The settings of how a run is sent: ``SendOptions`` fields, carried over by ``resume``."""
FILE_KEYS = (*(spec.config_key for spec in SETTINGS), API_KEY)
"""Every key a profile's table may hold."""


def format_value(value: object) -> str:
    """A setting's value as people read it: ``unlimited`` for no limit, ``30`` for 30.0."""
    if value is None:
        return "unlimited"
    return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass(frozen=True)
class Setting:
    """One value and its source: ``flag``, ``env VAR``, ``config PATH [table]`` or ``default``."""

    name: str
    value: object
    source: str


@dataclass(frozen=True, kw_only=True)
class Settings:
    """The resolved settings of a run: one field per :data:`SETTINGS` entry, and where from.

    ``sources`` maps each setting name, and ``profile`` and ``config`` (the file), to its origin.

    ``file_api_key`` is the key found in the config file while it was read, so nothing reads it
    again; which key a run uses is decided by :func:`dexbulk.credentials.find_api_key`.
    """

    api_url: str
    batch_size: int
    concurrency: int
    rate: float | None
    max_attempts: int
    timeout: float
    confirm_over: int
    """Ask (on a terminal) before a run changes more contacts than this."""
    file_api_key: ApiKey | None = None
    profile: str = DEFAULT_PROFILE
    path: Path
    sources: Mapping[str, str] = field(default_factory=dict)

    def setting(self, name: str) -> Setting:
        """Return one setting (``batch_size``, ...) with its value and source."""
        return Setting(name, getattr(self, name), self.sources.get(name, "default"))

    def per_run(self) -> dict[str, Any]:
        """The values of :data:`PER_RUN`, by name: the keyword arguments of ``SendOptions``."""
        return {spec.name: getattr(self, spec.name) for spec in PER_RUN}

    def origin(self, name: str) -> str:
        """Where a value came from, for a message: the flag's name rather than ``flag``."""
        source = self.sources.get(name, "default")
        return _SPECS[name].flag if source == "flag" else source

    def checked_api_url(self) -> str:
        """The API URL after :func:`check_api_url`, naming where it came from if refused."""
        return check_api_url(self.api_url, source=self.origin("api_url"))


_SPECS: Mapping[str, Spec[Any]] = MappingProxyType({spec.name: spec for spec in SETTINGS})


class _Invalid(Exception):
    """A value failed a check; the caller adds where it came from."""


def config_path(env: Mapping[str, str]) -> Path:
    """Return the config file path: ``$DEXBULK_CONFIG`` if set, else the platform config dir."""
    named = env.get(CONFIG_ENV, "").strip()
    if named:
        return Path(named).expanduser()
    import platformdirs  # only when no file is named: not on the start-up path of --help

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
    ``allow_new_profile`` (for ``auth login``, which is about to create them). The file is read
    here and only here; its ``api_key`` comes back as ``file_api_key``.
    """
    unknown = sorted(set(flags) - set(_SPECS))
    if unknown:  # a programming error in the caller, not a user error
        raise ValueError(f"unknown setting flags: {', '.join(unknown)}")
    path = config_path(env)
    name, name_source = _select_profile(profile, env)
    explicit = bool(env.get(CONFIG_ENV, "").strip())
    doc = read(path, must_exist=explicit and not allow_new_profile)
    table = _profile_table(doc, path, name, new_ok=allow_new_profile)
    where = f"config {show_path(path)} {table_label(name)}"
    values: dict[str, object] = {}
    sources = {"profile": name_source, "config": f"env {CONFIG_ENV}" if explicit else "default"}
    for spec in SETTINGS:
        found: list[tuple[object, str]] = []
        if flags.get(spec.name) is not None:
            found.append((_checked(spec, flags[spec.name], spec.flag), "flag"))
        raw_env = env.get(spec.env, "")
        if raw_env.strip():
            found.append((_checked(spec, raw_env, spec.env), f"env {spec.env}"))
        if spec.config_key in table:
            try:
                found.append((_check(spec, table[spec.config_key], parse=False), where))
            except _Invalid as exc:
                raise _file_error(doc, name, spec.config_key, str(exc)) from None
        values[spec.name], sources[spec.name] = found[0] if found else (spec.default, "default")
    return Settings(
        **values,  # type: ignore[arg-type]  # each value was checked against its spec above
        file_api_key=_file_key(doc, name, table, where),
        profile=name,
        path=path,
        sources=MappingProxyType(sources),
    )


def _select_profile(profile: str | None, env: Mapping[str, str]) -> tuple[str, str]:
    if profile is not None:
        if not profile.strip():
            raise ConfigError("--profile: the profile name is empty")
        return profile.strip(), "flag"
    named = env.get(PROFILE_ENV, "").strip()
    return (named, f"env {PROFILE_ENV}") if named else (DEFAULT_PROFILE, "default")


def _checked(spec: Spec[Any], raw: object, origin: str) -> object:
    try:
        return _check(spec, raw)
    except _Invalid as exc:
        raise ConfigError(f"{origin}: {exc}") from None


def _check(spec: Spec[Any], raw: object, *, parse: bool = True) -> object:
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
            raise _Invalid(f"{value:g} is out of range (expected a number {spec.range_text})")
    elif not spec.low <= value <= spec.high:
        raise _Invalid(f"{value} is out of range (expected {spec.range_text})")
    return value


def _profile_table(doc: Doc | None, path: Path, profile: str, *, new_ok: bool) -> dict[str, Any]:
    """The profile's table, every key in it a known one (with a "did you mean" if not)."""
    table = profile_table(doc, path, profile, new_ok=new_ok)
    for key in table:
        if doc is not None and key not in FILE_KEYS:  # (a table is only found in a file)
            close = difflib.get_close_matches(key, FILE_KEYS, n=1)
            maybe = f"did you mean {close[0]!r}?" if close else f"expected {', '.join(FILE_KEYS)}"
            where = locate(doc, (*table_path(profile), key))
            raise ConfigError(f"{where}: {table_label(profile)} unknown setting {key!r} ({maybe})")
    return table


def _file_key(doc: Doc | None, profile: str, table: dict[str, Any], where: str) -> ApiKey | None:
    value = table.get(API_KEY)
    if value is None:
        return None
    if not isinstance(value, str):  # never quote the value: it may be (part of) a secret
        raise _file_error(doc, profile, API_KEY, "expected a string")
    return ApiKey(value, source=where) if value.strip() else None


def _file_error(doc: Doc | None, profile: str, key: str, message: str) -> ConfigError:
    where = locate(doc, (*table_path(profile), key)) if doc else "config"
    return ConfigError(f"{where}: {table_label(profile)} {key}: {message}")


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
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018  (raises on a port out of range, as requests would later)
    except ValueError as exc:  # "Invalid IPv6 URL", "Port out of range 0-65535"
        raise InvalidInput(f"{source}: {url!r} is not a usable URL ({exc})") from None
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


DEX_DOMAIN = "getdex.com"


def foreign_host_warning(url: str) -> str | None:
    """A one-line warning when ``url`` is neither on this computer nor a getdex.com host.

    The key goes wherever the URL points; a typo'd or planted ``DEX_API_URL`` would hand it to
    someone else. Returns None for loopback (the sandbox) and ``getdex.com`` or its subdomains.
    """
    host = (urlsplit(url.strip()).hostname or "").rstrip(".").lower()
    if not host or is_loopback(host) or host == DEX_DOMAIN or host.endswith("." + DEX_DOMAIN):
        return None
    return f"the API key will be sent to {host}, which is not a Dex host ({DEX_DOMAIN})"
