"""The sandbox's settings, and parsers for them shared by ``python -m dexbulk.sandbox`` and the CLI.

Parsers raise :class:`dexbulk.errors.InvalidInput` quoting what the user typed, so both
argparse and Typer can show the same message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from dexbulk.errors import InvalidInput

DEFAULT_API_KEY = "dex_sandbox_0123456789abcdef"
UNKNOWN_ID_MODES = ("skip", "reject")
MEMORY = ":memory:"

_RATE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(?:/\s*(s|sec|second|m|min|minute))?\s*$", re.I)
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def default_db_path() -> Path:
    """Where the sandbox keeps its address book unless told otherwise."""
    # Imported here so that merely importing the options costs nothing.
    import platformdirs

    return Path(platformdirs.user_data_dir("dexbulk")) / "sandbox.sqlite3"


@dataclass(frozen=True)
class SandboxOptions:
    """Everything that shapes one sandbox: where it listens, its data, and the faults it plays.

    Invalid values raise :class:`InvalidInput` at construction, so a CLI can build this straight
    from its flags and report the error.
    """

    host: str = "127.0.0.1"
    port: int = 0
    db_path: Path | None = None
    fresh: bool = False
    seed: int = 42
    contacts: int = 300
    api_key: str = DEFAULT_API_KEY
    latency_ms: float = 0.0
    fail_rate: float = 0.0
    rate_limit: float | None = None
    max_batch: int | None = None
    drop_rate: float = 0.0
    reject_ids: frozenset[str] = field(default_factory=frozenset)
    unknown_ids: str = "skip"
    verbose_log: TextIO | None = None

    def __post_init__(self) -> None:
        if isinstance(self.db_path, str):
            object.__setattr__(self, "db_path", Path(self.db_path))
        # IDs are compared in canonical lowercase form everywhere in the sandbox.
        object.__setattr__(self, "reject_ids", frozenset(i.lower() for i in self.reject_ids))
        if not 0 <= self.port <= 65535:
            raise InvalidInput(f"port {self.port} is out of range (0-65535)")
        if self.contacts < 0:
            raise InvalidInput(f"contacts must be 0 or more, not {self.contacts}")
        if not self.api_key:
            raise InvalidInput("the sandbox API key must not be empty")
        if self.latency_ms < 0:
            raise InvalidInput(f"latency must be 0 ms or more, not {self.latency_ms}")
        for name in ("fail_rate", "drop_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise InvalidInput(f"{name.replace('_', ' ')} {value} is not a probability (0-1)")
        if self.rate_limit is not None and self.rate_limit <= 0:
            raise InvalidInput(f"rate limit must be above 0 requests/s, not {self.rate_limit}")
        if self.max_batch is not None and self.max_batch < 1:
            raise InvalidInput(f"max batch must be 1 or more, not {self.max_batch}")
        if self.unknown_ids not in UNKNOWN_ID_MODES:
            raise InvalidInput(
                f"unknown-ids mode {self.unknown_ids!r} is not one of {', '.join(UNKNOWN_ID_MODES)}"
            )

    @property
    def resolved_db_path(self) -> Path:
        """The database file actually used (``:memory:`` stays as is)."""
        return self.db_path if self.db_path is not None else default_db_path()


def parse_rate(text: str) -> float:
    """Parse a request rate: ``"10/s"``, ``"5"`` (per second), ``"0.5/s"`` or ``"120/min"``."""
    match = _RATE.match(text)
    if not match:
        raise InvalidInput(f"'{text}' is not a rate (expected N or N/s, e.g. 10/s or 120/min)")
    value = float(match.group(1))
    unit = (match.group(2) or "s").lower()
    if unit.startswith("m"):
        value /= 60.0
    if value <= 0:
        raise InvalidInput(f"'{text}' is not a rate: it must be above 0")
    return value


def parse_probability(text: str) -> float:
    """Parse a probability ``0``-``1``; ``"5%"`` is accepted as 0.05."""
    raw = text.strip()
    try:
        value = float(raw[:-1]) / 100.0 if raw.endswith("%") else float(raw)
    except ValueError:
        raise InvalidInput(f"'{text}' is not a probability (expected 0-1, e.g. 0.1)") from None
    if not 0.0 <= value <= 1.0:
        raise InvalidInput(f"'{text}' is not a probability (expected 0-1, e.g. 0.1)")
    return value


def parse_contact_id(text: str) -> str:
    """Parse a contact ID for ``--reject``; returns it in canonical lowercase form."""
    value = text.strip().lower()
    if not _UUID.match(value):
        raise InvalidInput(f"'{text}' is not a contact ID (expected a UUID)")
    return value


def parse_unknown_ids(text: str) -> str:
    """Parse the unknown-IDs mode: ``skip`` or ``reject``."""
    value = text.strip().lower()
    if value not in UNKNOWN_ID_MODES:
        raise InvalidInput(f"'{text}' is not an unknown-ids mode (expected skip or reject)")
    return value
