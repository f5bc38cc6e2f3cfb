"""Parsers from the text of a flag to a :class:`~dexbulk.sandbox.options.SandboxOptions` value.

Each raises :class:`dexbulk.errors.InvalidInput` quoting what the user typed, so argparse and
Typer show the same message. Each is idempotent on its own output (``parse(str(parse(t)))``
gives the same value), so parsing twice does no harm.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path

from dexbulk.errors import InvalidInput

UNKNOWN_ID_MODES = ("skip", "reject")
RATE_LIMITERS = ("bucket", "window")
HOSTILE_MODES = ("escapes", "html", "500", "echo-key")
MAX_PAGE_SIZE = 500
"""Dex's list pages hold up to 500 contacts [seen]."""

_RATE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(?:/\s*(s|sec|second|m|min|minute))?\s*$", re.I)
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


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


def choice_parser(what: str, choices: tuple[str, ...]) -> Callable[[str], str]:
    """A parser accepting one of ``choices`` in any case: ``'x' is not <what> (expected ...)``."""
    expected = ", ".join(choices[:-1]) + f" or {choices[-1]}" if len(choices) > 1 else choices[0]

    def parse(text: str) -> str:
        value = text.strip().lower()
        if value not in choices:
            raise InvalidInput(f"'{text}' is not {what} (expected {expected})")
        return value

    return parse


parse_unknown_ids = choice_parser("an unknown-ids mode", UNKNOWN_ID_MODES)
parse_rate_limiter = choice_parser("a rate limiter", RATE_LIMITERS)
parse_hostile = choice_parser("a hostile mode", HOSTILE_MODES)


def int_parser(what: str, low: int | None = None, high: int | None = None) -> Callable[[str], int]:
    """A parser for a whole number in ``[low, high]``: ``'x' is not <what> (expected ...)``."""
    if low is not None and high is not None:
        expected = f"a whole number from {low} to {high}"
    elif low is not None:
        expected = f"a whole number, {low} or more"
    else:
        expected = "a whole number"

    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise InvalidInput(f"'{text}' is not {what} (expected {expected})") from None
        if (low is not None and value < low) or (high is not None and value > high):
            raise InvalidInput(f"'{text}' is not {what} (expected {expected})")
        return value

    return parse


parse_port = int_parser("a port", 0, 65535)
parse_seed = int_parser("a seed")
parse_contacts = int_parser("a number of contacts", 0)
parse_page_size = int_parser("a page size", 1, MAX_PAGE_SIZE)
parse_max_batch = int_parser("a batch size", 1)


def parse_ms(text: str) -> float:
    """Parse a duration in milliseconds, 0 or more (``"80"``, ``"12.5"``)."""
    try:
        value = float(text.strip())
    except ValueError:
        value = -1.0
    if not (math.isfinite(value) and value >= 0.0):
        raise InvalidInput(f"'{text}' is not a latency (expected milliseconds, 0 or more)")
    return value


def parse_text(text: str) -> str:
    """Parse non-empty text (a host, an API key); surrounding blanks are dropped."""
    value = text.strip()
    if not value:
        raise InvalidInput("the value must not be empty")
    return value


def parse_path(text: str) -> Path:
    """Parse a file path; ``~`` is expanded (``:memory:`` stays as is)."""
    if not text.strip():
        raise InvalidInput("the path must not be empty")
    return Path(text).expanduser()
