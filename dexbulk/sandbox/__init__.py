"""A faithful local stand-in for Dex's API, for rehearsals, demos, tests and benchmarks.

Standard library only at runtime (plus ``platformdirs`` for the default database path)::

    from dexbulk.sandbox import Sandbox, SandboxOptions

    with Sandbox(SandboxOptions(db_path=":memory:")) as sandbox:
        ...  # point a client at sandbox.url with the key sandbox.options.api_key

See docs/sandbox.md for the flags and how the sandbox differs from the real API.
"""

from __future__ import annotations

from dexbulk.sandbox.options import (
    DEFAULT_API_KEY,
    UNKNOWN_ID_MODES,
    SandboxOptions,
    default_db_path,
    parse_contact_id,
    parse_probability,
    parse_rate,
    parse_unknown_ids,
)
from dexbulk.sandbox.server import Sandbox, serve
from dexbulk.sandbox.store import Store

__all__ = [
    "DEFAULT_API_KEY",
    "UNKNOWN_ID_MODES",
    "Sandbox",
    "SandboxOptions",
    "Store",
    "default_db_path",
    "parse_contact_id",
    "parse_probability",
    "parse_rate",
    "parse_unknown_ids",
    "serve",
]
