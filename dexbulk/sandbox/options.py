"""The sandbox's settings, and the one table of its command-line flags.

:class:`SandboxOptions` is what a :class:`~dexbulk.sandbox.Sandbox` is built from. :data:`FLAGS`
declares every flag once (names, field, parser, default, help); ``python -m dexbulk.sandbox``
builds its argparse parser from it and the Typer command is generated from it. Both hand the
text they received to :func:`options_from_flags`, so parsing and errors are the same everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from dexbulk.errors import InvalidInput
from dexbulk.sandbox import parsers as P
from dexbulk.sandbox.parsers import (
    HOSTILE_MODES,
    MAX_PAGE_SIZE,
    RATE_LIMITERS,
    UNKNOWN_ID_MODES,
)

DEFAULT_API_KEY = "dex_sandbox_0123456789abcdef"
DEFAULT_PORT = 8765
"""The port the command-line sandbox listens on unless told otherwise (``--port 0``: any)."""
MEMORY = ":memory:"


def default_db_path() -> Path:
    """Where the sandbox keeps its address book unless told otherwise."""
    # Imported here so that merely importing the options costs nothing.
    import platformdirs

    return Path(platformdirs.user_data_dir("dexbulk")) / "sandbox.sqlite3"


@dataclass(frozen=True)
class SandboxOptions:
    """Everything that shapes one sandbox: where it listens, its data, and the faults it plays.

    Invalid values raise :class:`InvalidInput` at construction, so a CLI can build this straight
    from its flags and report the error. In-process (tests, ``dexbulk demo``) ``port`` defaults
    to 0, a free port; on the command line ``--port`` defaults to :data:`DEFAULT_PORT`.
    """

    host: str = "127.0.0.1"
    port: int = 0
    db_path: Path | None = None
    fresh: bool = False
    seed: int = 42
    contacts: int = 300
    page_size: int = MAX_PAGE_SIZE
    api_key: str = DEFAULT_API_KEY
    latency_ms: float = 0.0
    fail_rate: float = 0.0
    rate_limit: float | None = None
    rate_limiter: str = "bucket"
    max_batch: int | None = None
    drop_rate: float = 0.0
    reject_ids: frozenset[str] = field(default_factory=frozenset)
    unknown_ids: str = "skip"
    ignore_cursor: bool = False
    hostile: frozenset[str] = field(default_factory=frozenset)
    verbose_log: TextIO | None = None

    def __post_init__(self) -> None:
        if isinstance(self.db_path, str):
            object.__setattr__(self, "db_path", Path(self.db_path))
        # IDs are compared in canonical lowercase form everywhere in the sandbox.
        object.__setattr__(self, "reject_ids", frozenset(i.lower() for i in self.reject_ids))
        object.__setattr__(self, "hostile", frozenset(self.hostile))
        if not 0 <= self.port <= 65535:
            raise InvalidInput(f"port {self.port} is out of range (0-65535)")
        if self.contacts < 0:
            raise InvalidInput(f"contacts must be 0 or more, not {self.contacts}")
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise InvalidInput(f"page size must be 1-{MAX_PAGE_SIZE}, not {self.page_size}")
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
        if self.rate_limiter not in RATE_LIMITERS:
            raise InvalidInput(f"rate limiter {self.rate_limiter!r} is not bucket or window")
        if self.rate_limiter == "window" and self.rate_limit is not None and self.rate_limit < 1:
            raise InvalidInput(
                f"--rate-limiter window needs a rate of at least 1/s, not {self.rate_limit:g}/s"
            )
        if self.max_batch is not None and self.max_batch < 1:
            raise InvalidInput(f"max batch must be 1 or more, not {self.max_batch}")
        if self.unknown_ids not in UNKNOWN_ID_MODES:
            raise InvalidInput(
                f"unknown-ids mode {self.unknown_ids!r} is not one of {', '.join(UNKNOWN_ID_MODES)}"
            )
        for mode in sorted(self.hostile - set(HOSTILE_MODES)):
            raise InvalidInput(f"hostile mode {mode!r} is not one of {', '.join(HOSTILE_MODES)}")

    @property
    def resolved_db_path(self) -> Path:
        """The database file actually used (``:memory:`` stays as is)."""
        return self.db_path if self.db_path is not None else default_db_path()


@dataclass(frozen=True)
class Flag:
    """One command-line flag of the sandbox, mapped to one :class:`SandboxOptions` field.

    A value flag takes text and ``parse`` turns it into the field's value; a switch
    (``parse is None``) is present or not; a ``repeatable`` flag collects its values into a
    frozenset. ``default`` is the field's value when the flag is absent.
    """

    field: str
    names: tuple[str, ...]
    help: str
    parse: Callable[[str], Any] | None = None
    default: Any = None
    metavar: str | None = None
    repeatable: bool = False
    choices: tuple[str, ...] = ()
    panel: str = "Server"
    """A heading to group flags under in help (Typer's ``rich_help_panel``)."""

    @property
    def is_switch(self) -> bool:
        """True for an on/off flag that takes no value."""
        return self.parse is None

    @property
    def default_text(self) -> str | None:
        """The default as help shows it, or None when there is nothing worth showing."""
        if self.default is None or self.default is False or self.default == frozenset():
            return None
        if isinstance(self.default, float):
            return f"{self.default:g}"
        return str(self.default)

    def value(self, raw: object) -> Any:
        """The field's value for what a command line gave: text, a list of texts for a
        repeatable flag, a bool for a switch, or None when the flag was not given.

        Values that are already parsed (not ``str``) are kept as they are. A parse error is
        re-raised naming the flag: ``--port: 'x' is not a port (...)``.
        """
        if raw is None:
            return self.default
        if self.is_switch:
            return bool(raw)
        try:
            if self.repeatable:
                values = [raw] if isinstance(raw, str) else list(_iterable(raw))
                return frozenset(self._parse_one(v) for v in values)
            return self._parse_one(raw)
        except InvalidInput as error:
            raise error.at(self.names[0]) from None

    def _parse_one(self, raw: object) -> Any:
        if isinstance(raw, str) and self.parse is not None:
            return self.parse(raw)
        return raw


BOOK, FAULTS, HOSTILE = "Address book", "Faults", "Hostile server"

FLAGS: tuple[Flag, ...] = (
    Flag(field="host", names=("--host",), parse=P.parse_text, default="127.0.0.1",
         metavar="ADDR", help="Address to bind (IPv4)."),
    Flag(field="port", names=("--port",), parse=P.parse_port, default=DEFAULT_PORT,
         metavar="PORT", help="Port to listen on; 0 picks a free one (the URL on the first "
         "line printed shows it)."),
    Flag(field="api_key", names=("--key",), parse=P.parse_text, default=DEFAULT_API_KEY,
         metavar="KEY", help="The API key the sandbox accepts (Authorization: Bearer KEY); "
         "printed on the second line."),

    Flag(field="db_path", names=("--db",), parse=P.parse_path, default=None, metavar="FILE",
         panel=BOOK, help="SQLite file of the address book [default: <user data dir>/dexbulk/"
         "sandbox.sqlite3]."),
    Flag(field="fresh", names=("--fresh",), default=False, panel=BOOK,
         help="Drop the stored address book and reseed it."),
    Flag(field="seed", names=("--seed",), parse=P.parse_seed, default=42, metavar="N",
         panel=BOOK, help="Seed of the generated address book: same seed, same contacts."),
    Flag(field="contacts", names=("--contacts",), parse=P.parse_contacts, default=300,
         metavar="N", panel=BOOK, help="How many contacts to seed."),
    Flag(field="page_size", names=("--page-size",), parse=P.parse_page_size,
         default=MAX_PAGE_SIZE, metavar="N", panel=BOOK,
         help=f"Contacts per GET /v1/contacts page (1-{MAX_PAGE_SIZE})."),

    Flag(field="latency_ms", names=("--latency",), parse=P.parse_ms, default=0.0, metavar="MS",
         panel=FAULTS, help="Milliseconds added to every request (±20% jitter)."),
    Flag(field="fail_rate", names=("--fail-rate",), parse=P.parse_probability, default=0.0,
         metavar="P", panel=FAULTS, help="Probability (0-1) of a random 500/502/503."),
    Flag(field="drop_rate", names=("--drop-rate",), parse=P.parse_probability, default=0.0,
         metavar="P", panel=FAULTS,
         help="Probability (0-1) of closing the connection without an answer."),
    Flag(field="rate_limit", names=("--rate-limit",), parse=P.parse_rate, default=None,
         metavar="N/s", panel=FAULTS,
         help="Requests per second (5/s, 0.5/s, 120/min); over it: 429 with Retry-After."),
    Flag(field="rate_limiter", names=("--rate-limiter",), parse=P.parse_rate_limiter,
         default="bucket", metavar="bucket|window", choices=RATE_LIMITERS, panel=FAULTS,
         help="How --rate-limit counts: a token bucket (burst N) or N per clock second."),
    Flag(field="max_batch", names=("--max-batch",), parse=P.parse_max_batch, default=None,
         metavar="N", panel=FAULTS, help="A PUT /v1/contacts/ body with more contacts gets 413."),
    Flag(field="reject_ids", names=("--reject",), parse=P.parse_contact_id,
         default=frozenset(), metavar="ID", repeatable=True, panel=FAULTS,
         help="A batch containing this contact gets 400 (repeatable)."),
    Flag(field="unknown_ids", names=("--unknown-ids",), parse=P.parse_unknown_ids,
         default="skip", metavar="skip|reject", choices=UNKNOWN_ID_MODES, panel=FAULTS,
         help="Unknown contacts in a batch: skip them (not counted) or reject the batch (404)."),
    Flag(field="ignore_cursor", names=("--ignore-cursor",), default=False, panel=FAULTS,
         help="Paged reads ignore the cursor and repeat the first page, nextCursor included."),

    Flag(field="hostile", names=("--hostile",), parse=P.parse_hostile, default=frozenset(),
         metavar="MODE", repeatable=True, choices=HOSTILE_MODES, panel=HOSTILE,
         help="Misbehave on purpose (repeatable): escapes (terminal escapes in messages and "
         "names), html (200 HTML pages), 500 (every request), echo-key (error messages echo "
         "the Authorization header)."),
)  # fmt: skip
"""Every flag of ``dexbulk sandbox`` and ``python -m dexbulk.sandbox``, in help order."""

FLAG_BY_FIELD: dict[str, Flag] = {flag.field: flag for flag in FLAGS}


def options_from_flags(
    values: Mapping[str, object], *, verbose_log: TextIO | None = None
) -> SandboxOptions:
    """Build :class:`SandboxOptions` from a command line's values keyed by field name.

    Values are what the parser received: text (``"5/s"``), a list of texts for a repeatable
    flag, a bool for a switch, or None / absent for "not given" (the flag's default applies).
    Raises :class:`InvalidInput` naming the flag for a bad value, and ``TypeError`` for a key
    that is no flag's field (a programming error).
    """
    unknown = sorted(set(values) - set(FLAG_BY_FIELD))
    if unknown:
        raise TypeError(f"not a sandbox flag field: {', '.join(unknown)}")
    chosen = {flag.field: flag.value(values.get(flag.field)) for flag in FLAGS}
    return SandboxOptions(**chosen, verbose_log=verbose_log)


def _iterable(raw: object) -> Iterable[object]:
    if isinstance(raw, Iterable):
        return raw
    return [raw]
