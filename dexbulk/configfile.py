"""The config file as text: reading it, its layout of profile tables, and editing ``api_key``.

:mod:`dexbulk.settings` decides what the settings in a table mean; this module knows TOML text
and the file's shape: only ``[default]`` and ``[profile.NAME]`` tables at the top. Writing
touches only ``api_key`` lines and table headers, keeps every other byte, re-parses the result
to prove nothing else changed, and replaces the file atomically with mode 0600.
"""

from __future__ import annotations

import copy
import difflib
import json
import os
import re
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from dexbulk.errors import ConfigError
from dexbulk.secret import ApiKey


def _toml() -> ModuleType:
    """``tomllib`` (``tomli`` before 3.11), imported when a file is read: ``--help`` reads none."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - only on 3.10
        import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]
    module: ModuleType = tomllib
    return module


DEFAULT_PROFILE = "default"
CONFIG_ENV = "DEXBULK_CONFIG"


@dataclass(frozen=True)
class Doc:
    """A parsed config file, with its lines kept for line numbers and minimal edits."""

    path: Path
    lines: list[str]  # with line endings, so edits keep them
    data: dict[str, Any]


def show_path(path: Path) -> str:
    """Shorten a path under the home directory to ``~/…`` for messages."""
    try:
        return f"~/{path.relative_to(Path.home()).as_posix()}"
    except (ValueError, RuntimeError):  # not under home, or no home directory at all
        return str(path)


def table_label(profile: str) -> str:
    """The TOML header of a profile's table: ``[default]`` or ``[profile.NAME]``."""
    if profile == DEFAULT_PROFILE:
        return "[default]"
    name = profile if re.fullmatch(r"[A-Za-z0-9_-]+", profile) else json.dumps(profile)
    return f"[profile.{name}]"


def table_path(profile: str) -> tuple[str, ...]:
    """The key path of a profile's table: ``("default",)`` or ``("profile", NAME)``."""
    return ("default",) if profile == DEFAULT_PROFILE else ("profile", profile)


def read(path: Path, *, must_exist: bool) -> Doc | None:
    """Read and parse the file; None when it does not exist (an error with ``must_exist``)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if must_exist:  # a file named on purpose should exist; the default one is optional
            raise ConfigError(f"{CONFIG_ENV}: {show_path(path)} does not exist") from None
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read {show_path(path)}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
        # An empty file needs no parser (a third of tomllib's import is its regexes).
        data: dict[str, Any] = _toml().loads(text) if text.strip(" \t\n") else {}
    except UnicodeDecodeError:
        raise ConfigError(f"{show_path(path)}: not valid TOML (not UTF-8 text)") from None
    except _toml().TOMLDecodeError as exc:
        # "Invalid value (at line 3, column 7)" on every Python that has tomllib or tomli.
        match = re.fullmatch(r"(.*) \(at line (\d+), column \d+\)", str(exc).splitlines()[0])
        reason, at = (match[1], f" line {match[2]}") if match else (str(exc), "")
        reason = reason[:1].lower() + reason[1:]
        raise ConfigError(f"{show_path(path)}{at}: not valid TOML ({reason})") from None
    return Doc(path, text.splitlines(keepends=True), data)


def locate(doc: Doc, key_path: tuple[str, ...]) -> str:
    """Where a key is, for messages: ``PATH line N``, or just the path if it is not found."""
    line = _line_of(doc.lines, key_path)
    return f"{show_path(doc.path)} line {line}" if line else show_path(doc.path)


def profile_table(doc: Doc | None, path: Path, profile: str, *, new_ok: bool) -> dict[str, Any]:
    """The profile's table as parsed (empty if absent); an unknown profile fails unless ``new_ok``.

    A missing file holds only an empty ``[default]``. The layout is checked first.
    """
    if doc is None:
        if not new_ok and profile != DEFAULT_PROFILE:
            raise ConfigError(
                f"unknown profile {profile!r}: {show_path(path)} does not exist",
                hint=f"add a {table_label(profile)} table to it, or run 'dexbulk auth login'",
            )
        return {}
    check_layout(doc)
    profiles: dict[str, Any] = doc.data.get("profile", {})
    if profile == DEFAULT_PROFILE:
        table: dict[str, Any] = doc.data.get("default", {})
        return table
    if profile in profiles:
        found: dict[str, Any] = profiles[profile]
        return found
    if new_ok:
        return {}
    names = [DEFAULT_PROFILE, *profiles]
    close = difflib.get_close_matches(profile, names, n=1)
    maybe = f"did you mean {close[0]!r}? " if close else ""
    raise ConfigError(
        f"unknown profile {profile!r} ({maybe}profiles in {show_path(path)}: {', '.join(names)})"
    )


def check_layout(doc: Doc) -> None:
    """Only ``[default]`` and ``[profile.NAME]`` tables may sit at the top of the file."""
    for key, value in doc.data.items():
        if key in ("default", "profile") and isinstance(value, dict):
            continue
        at = locate(doc, (key,))
        if not isinstance(value, dict):  # a setting written above every table header
            raise ConfigError(f"{at}: {key} must be inside [default] or [profile.NAME]")
        raise ConfigError(f"{at}: unexpected {key!r} (expected [default] or [profile.NAME] tables)")
    for name, value in doc.data.get("profile", {}).items():
        if name == DEFAULT_PROFILE:
            raise ConfigError(
                f"{locate(doc, ('profile', name))}: write [default], not [profile.default]"
            )
        if not isinstance(value, dict):
            raise ConfigError(f"{locate(doc, ('profile', name))}: profile.{name} must be a table")


def write_api_key(path: Path, profile: str, key: ApiKey) -> None:
    """Set ``api_key`` in the profile's table (adding the table if needed); the file ends 0600."""
    _edit_file(path, profile, key=key)


def remove_api_key(path: Path, profile: str) -> bool:
    """Remove ``api_key`` from the profile's table; return whether there was one to remove."""
    return _edit_file(path, profile, remove=True)


def ensure_profile_table(path: Path, profile: str) -> bool:
    """Add an empty table for the profile if the file lacks it; return whether it was added.

    ``auth login --profile work`` calls this when the key goes to the keyring, so that
    ``--profile work`` is then a known profile (unknown profiles are an error, to catch typos).
    """
    return profile != DEFAULT_PROFILE and _edit_file(path, profile)


def _edit_file(
    path: Path, profile: str, *, key: ApiKey | None = None, remove: bool = False
) -> bool:
    doc = read(path, must_exist=False)
    if doc is not None:
        check_layout(doc)
    return _edit(path, doc, profile, key=key, remove=remove)


def _header(line: str) -> tuple[str, ...] | None:
    """The key path of a ``[table]`` header line (quoted names included), else None."""
    text = line.strip()
    if not text.startswith("[") or text.startswith("[["):
        return None
    try:  # a header alone is a valid TOML document; let the real parser read its names
        node: Any = _toml().loads(text)
    except _toml().TOMLDecodeError:
        return None
    names: list[str] = []
    while isinstance(node, dict) and len(node) == 1:
        ((name, node),) = node.items()
        names.append(name)
    return tuple(names)


def _span(lines: list[str], table: tuple[str, ...]) -> tuple[int, int] | None:
    """Line indexes (header, end) of a table; the root table's header index is -1."""
    start = -1 if not table else None
    for i, line in enumerate(lines):
        if line.lstrip().startswith("["):
            if start is not None:
                return start, i
            if _header(line) == table:
                start = i
    return None if start is None else (start, len(lines))


def _key_re(key: str) -> re.Pattern[str]:
    return re.compile(rf"""\s*(?:{key}|"{key}"|'{key}')\s*=""")


def _line_of(lines: list[str], key_path: tuple[str, ...]) -> int | None:
    """1-based line of a key: scanning the text is good enough for a small hand-written file."""
    span = _span(lines, key_path[:-1])
    if span:
        pattern = _key_re(re.escape(key_path[-1]))
        for i in range(span[0] + 1, span[1]):
            if pattern.match(lines[i]):
                return i + 1
    for i, line in enumerate(lines):  # the key is itself a table: [defaults], [profile.work.x]
        names = _header(line)
        if names is not None and names[: len(key_path)] == key_path:
            return i + 1
    return span[0] + 1 if span and span[0] >= 0 else None


def _edit(
    path: Path, doc: Doc | None, profile: str, *, key: ApiKey | None = None, remove: bool = False
) -> bool:
    """Set or remove ``api_key`` in a profile's table, or just make sure the table exists.

    ``doc`` is the file as :func:`read` returned it, its layout already checked by the caller.
    Returns whether the file changed.
    """
    lines = list(doc.lines) if doc else []
    data = copy.deepcopy(doc.data) if doc else {}
    holder = data.setdefault("profile", {}) if profile != DEFAULT_PROFILE else data
    existed = table_path(profile)[-1] in holder
    table = holder.setdefault(table_path(profile)[-1], {})
    if (remove and "api_key" not in table) or (key is None and not remove and existed):
        return False
    nl = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += nl
    span = _span(lines, table_path(profile))
    if span is None and existed:  # defined by dotted keys or inline: too clever to rewrite
        raise ConfigError(
            f"{show_path(path)}: cannot edit {table_label(profile)} (not a plain table)",
            hint="edit the file by hand",
        )
    if span is None:
        lines += [nl] if lines and lines[-1].strip() else []
        lines.append(f"{table_label(profile)}{nl}")
        span = (len(lines) - 1, len(lines))
    start, end = span
    pattern = _key_re("api_key")
    body = [line for line in lines[start + 1 : end] if not pattern.match(line)]
    table.pop("api_key", None)
    if key is not None:
        # json.dumps escapes are a subset of TOML basic-string escapes.
        body.insert(0, f"api_key = {json.dumps(key.reveal())}{nl}")
        table["api_key"] = key.reveal()
    text = "".join([*lines[: start + 1], *body, *lines[end:]])
    try:  # prove the line edit changed nothing else (a multi-line api_key string would break)
        safe = _toml().loads(text) == data
    except _toml().TOMLDecodeError:
        safe = False
    if not safe:
        raise ConfigError(f"{show_path(path)}: cannot update it safely", hint="edit it by hand")
    _atomic_write(path, text)
    return True


def _atomic_write(path: Path, text: str) -> None:
    """Replace the file in one step, created 0600 so the key is never readable by others."""
    # Write through a symlink (dotfile managers link config.toml) instead of replacing the link.
    target = path.resolve() if path.is_symlink() else path
    temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as file:
            if hasattr(os, "fchmod"):  # the umask may have removed bits; make it exactly 0600
                os.fchmod(file.fileno(), 0o600)
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, target)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise ConfigError(f"cannot write {show_path(path)}: {exc.strerror}") from None
