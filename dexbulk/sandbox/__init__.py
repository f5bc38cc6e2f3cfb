"""A faithful local stand-in for Dex's API, for rehearsals, demos, tests and benchmarks.

Standard library only at runtime (plus ``platformdirs`` for the default database path)::

    from dexbulk.sandbox import Sandbox, SandboxOptions

    with Sandbox(SandboxOptions(db_path=":memory:")) as sandbox:
        ...  # point a client at sandbox.url with the key sandbox.options.api_key

See docs/sandbox.md for the flags and how the sandbox differs from the real API.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Names load their module on first use: the CLI reads FLAGS to build `dexbulk sandbox` on every
# start, and must not pay for http.server and sqlite3 unless a sandbox is actually run.
_EXPORTS = {
    "DEFAULT_API_KEY": "options", "DEFAULT_PORT": "options", "FLAGS": "options",
    "Flag": "options", "SandboxOptions": "options", "default_db_path": "options",
    "options_from_flags": "options", "HOSTILE_MODES": "parsers", "RATE_LIMITERS": "parsers",
    "UNKNOWN_ID_MODES": "parsers", "parse_contact_id": "parsers",
    "parse_probability": "parsers", "parse_rate": "parsers", "parse_unknown_ids": "parsers",
    "CannotListen": "server", "Sandbox": "server", "serve": "server", "Store": "store",
}  # fmt: skip

__all__ = [
    "DEFAULT_API_KEY", "DEFAULT_PORT", "FLAGS", "HOSTILE_MODES", "RATE_LIMITERS",
    "UNKNOWN_ID_MODES", "CannotListen", "Flag", "Sandbox", "SandboxOptions", "Store",
    "default_db_path", "options_from_flags", "parse_contact_id", "parse_probability",
    "parse_rate", "parse_unknown_ids", "serve",
]  # fmt: skip

if TYPE_CHECKING:
    from dexbulk.sandbox.options import (
        DEFAULT_API_KEY,
        DEFAULT_PORT,
        FLAGS,
        Flag,
        SandboxOptions,
        default_db_path,
        options_from_flags,
    )
    from dexbulk.sandbox.parsers import (
        HOSTILE_MODES,
        RATE_LIMITERS,
        UNKNOWN_ID_MODES,
        parse_contact_id,
        parse_probability,
        parse_rate,
        parse_unknown_ids,
    )
    from dexbulk.sandbox.server import CannotListen, Sandbox, serve
    from dexbulk.sandbox.store import Store


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dexbulk.sandbox' has no attribute {name!r}")
    return getattr(importlib.import_module(f"dexbulk.sandbox.{module}"), name)
