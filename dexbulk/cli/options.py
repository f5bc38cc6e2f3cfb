"""Options shared by many commands, declared once.

Each group is a frozen dataclass plus a decorator that adds the group's options to a command's
signature (so Typer shows them, in their own help panel) and hands the command one object
instead of twenty parameters.
"""

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from dexbulk.settings import API_URL, CONFIRM_OVER, PER_RUN, Spec

F = TypeVar("F", bound=Callable[..., Any])

UPDATE_PANEL = "Update contacts"
RUNS_PANEL = "Runs"
TOOLS_PANEL = "Tools"
SELECT_PANEL = "Selecting contacts"
SEND_PANEL = "Sending"
OUTPUT_PANEL = "Output"
GUARD_PANEL = "Before sending"


@dataclass(frozen=True)
class SelectArgs:
    """Where contact IDs come from."""

    ids: list[str]
    from_: list[str]
    input_format: str
    id_column: str | None = None
    where: list[str] = field(default_factory=list)
    tag: list[str] = field(default_factory=list)
    group: list[str] = field(default_factory=list)
    search: str | None = None
    all_: bool = False


@dataclass(frozen=True)
class SendArgs:
    """Where and how to send. ``None`` means "not given": config, env and defaults decide.

    One field per setting of :data:`dexbulk.settings.SETTINGS` (a test holds them equal), plus
    the key, the profile and ``check_ids``.
    """

    api_url: str | None
    api_key: str | None
    profile: str | None
    batch_size: int | None
    concurrency: int | None
    timeout: float | None
    max_attempts: int | None
    rate: float | None
    check_ids: bool
    confirm_over: int | None = None


@dataclass(frozen=True)
class GuardArgs:
    """What is read and checked before anything is sent (update commands only)."""

    no_read: bool = False
    include_unchanged: bool = False
    stop_after: int | None = None
    yes: bool = False
    expected_count: int | None = None


@dataclass(frozen=True)
class OutputArgs:
    """What to show and where."""

    dry_run: bool
    json: bool
    quiet: bool
    results: str | None
    failed_to: Path | None
    no_progress: bool
    no_color: bool
    verbose: bool
    debug: bool


def _opt(*decls: str, panel: str, help: str, **kw: Any) -> Any:
    return typer.Option(*decls, rich_help_panel=panel, help=help, show_default=False, **kw)


_SELECT: dict[str, tuple[Any, Any]] = {
    "ids": (
        Annotated[list[str] | None, _opt("--ids", panel=SELECT_PANEL, help="Contact IDs, comma- or space-separated; repeatable.", metavar="ID,ID")],
        None,
    ),
    "from_": (
        Annotated[list[str] | None, _opt("--from", panel=SELECT_PANEL, help="Read IDs from a file (- = stdin): plain lines, CSV/TSV with an id column, JSON, JSON Lines. Repeatable.", metavar="FILE")],
        None,
    ),
    "input_format": (
        Annotated[str, _opt("--input-format", panel=SELECT_PANEL, help="Format of ID files: auto, lines, csv, tsv, json, jsonl.", metavar="FORMAT")],
        "auto",
    ),
    "id_column": (
        Annotated[str | None, _opt("--id-column", panel=SELECT_PANEL, help="The CSV column (or JSON key) holding the contact IDs, in ID files and CSV patch files \\[default: contactId, contact_id, Contact ID or id, any case].", metavar="NAME")],
        None,
    ),
    "where": (
        Annotated[list[str] | None, _opt("--where", "-w", panel=SELECT_PANEL, help="Contacts whose field matches: FIELD=VALUE, FIELD!=VALUE, FIELD~TEXT (contains), FIELD<VALUE (<=, >, >=: dates, numbers), FIELD:empty, FIELD:set. Repeatable; all must hold.", metavar="EXPR")],
        None,
    ),
    "tag": (
        Annotated[list[str] | None, _opt("--tag", "-t", panel=SELECT_PANEL, help="Contacts with this tag (exact name, any case, or its ID). Repeatable: every one.", metavar="NAME")],
        None,
    ),
    "group": (
        Annotated[list[str] | None, _opt("--group", "-g", panel=SELECT_PANEL, help="Contacts in this group (exact name, any case, or its ID). Repeatable: every one.", metavar="NAME")],
        None,
    ),
    "search": (
        Annotated[str | None, _opt("--search", panel=SELECT_PANEL, help="Contacts Dex's own search finds (name, email, company).", metavar="TEXT")],
        None,
    ),
    "all_": (
        Annotated[bool, _opt("--all", panel=SELECT_PANEL, help="Every contact (archived ones only with --where is_archived=...). Never implied.")],
        False,
    ),
}  # fmt: skip


def _setting_option(spec: Spec[Any]) -> tuple[Any, Any]:
    """A Sending option generated from a setting's one declaration in :mod:`dexbulk.settings`.

    ``None`` means "not given", so the environment, the config file or the default decide.
    Integer ranges are also given to click, whose error quotes the value typed; numbers must be
    > 0, which click cannot say for floats, so :func:`~dexbulk.settings.resolve_settings` checks
    them (the same check as for the environment and the file, exit 2 all the same).
    """
    bounds = {"min": spec.low, "max": spec.high} if spec.kind is int else {}
    limits = f", {spec.range_text}" if spec.kind is int else ""
    help_text = f"{spec.help}{limits} \\[env {spec.env}; default: {spec.default_text}]."
    option = _opt(*spec.flags, panel=SEND_PANEL, help=help_text, metavar=spec.metavar, **bounds)
    return Annotated[spec.kind | None, option], None


_SEND: dict[str, tuple[Any, Any]] = {
    API_URL.name: _setting_option(API_URL),
    "api_key": (Annotated[str | None, _opt("--api-key", panel=SEND_PANEL, help="API key; prefer DEX_API_KEY or 'dexbulk auth login' (a flag is visible in the process list).", metavar="KEY")], None),
    "profile": (Annotated[str | None, _opt("--profile", panel=SEND_PANEL, help="Config profile to use \\[env DEXBULK_PROFILE].", metavar="NAME")], None),
    **{spec.name: _setting_option(spec) for spec in PER_RUN},
    CONFIRM_OVER.name: _setting_option(CONFIRM_OVER),
    "check_ids": (Annotated[bool, _opt("--check-ids", panel=SEND_PANEL, help="Before sending, ask Dex which IDs exist and report the rest as failed.")], False),
}  # fmt: skip
"""The Sending panel: the settings of :mod:`dexbulk.settings`, the key, the profile, --check-ids."""

_GUARD: dict[str, tuple[Any, Any]] = {
    "no_read": (Annotated[bool, _opt("--no-read", panel=GUARD_PANEL, help="Do not read current values first: no before → after, unchanged contacts are sent too, and the journal keeps no prior values.")], False),
    "include_unchanged": (Annotated[bool, _opt("--include-unchanged", panel=GUARD_PANEL, help="Send contacts that already hold the new values too (they are skipped by default).")], False),
    "stop_after": (Annotated[int | None, _opt("--stop-after", panel=GUARD_PANEL, help="Send only the first N contacts (a canary), then stop; 'dexbulk resume' sends the rest.", min=1, metavar="N")], None),
    "yes": (Annotated[bool, _opt("--yes", "-y", panel=GUARD_PANEL, help="Do not ask before changing more than confirm_over contacts \\[default: 20].")], False),
    "expected_count": (Annotated[int | None, _opt("--expected-count", panel=GUARD_PANEL, help="Send nothing (exit 2) unless exactly N contacts are selected.", min=0, metavar="N")], None),
}  # fmt: skip

_OUTPUT: dict[str, tuple[Any, Any]] = {
    "dry_run": (Annotated[bool, _opt("--dry-run", "-n", panel=OUTPUT_PANEL, help="Show the plan (counts, the change, sample contacts) and send nothing; with --json, the complete plan.")], False),
    "json": (Annotated[bool, _opt("--json", panel=OUTPUT_PANEL, help="Print one JSON document with the result (or plan) on stdout.")], False),
    "quiet": (Annotated[bool, _opt("--quiet", "-q", panel=OUTPUT_PANEL, help="No progress, no summary; errors and failed contacts still go to stderr.")], False),
    "results": (Annotated[str | None, _opt("--results", panel=OUTPUT_PANEL, help="Write one JSON Lines record per contact to FILE (- = stdout).", metavar="FILE")], None),
    "failed_to": (Annotated[Path | None, _opt("--failed-to", panel=OUTPUT_PANEL, help="Write the IDs that failed to FILE, one per line, ready for --from.", metavar="FILE")], None),
    "no_progress": (Annotated[bool, _opt("--no-progress", panel=OUTPUT_PANEL, help="No progress bar.")], False),
    "no_color": (Annotated[bool, _opt("--no-color", panel=OUTPUT_PANEL, help="No colour (also: NO_COLOR=1).")], False),
    "verbose": (Annotated[bool, _opt("--verbose", "-v", panel=OUTPUT_PANEL, help="Log every request (method, path, status, contacts, ms, retries) to stderr.")], False),
    "debug": (Annotated[bool, _opt("--debug", panel=OUTPUT_PANEL, help="Like --verbose, plus request and response bodies.")], False),
}  # fmt: skip


def _with_group(
    argname: str,
    cls: type,
    spec: dict[str, tuple[Any, Any]],
    defaults: dict[str, Any] | None = None,
) -> Callable[[F], F]:
    """Replace the parameter ``argname`` of a command by the options of one group.

    ``defaults`` fills the fields of ``cls`` that ``spec`` leaves out (a subset of a group).
    """

    def decorate(command: F) -> F:
        signature = inspect.signature(command)
        kept = [p for name, p in signature.parameters.items() if name != argname]
        added = [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=ann, default=default)
            for name, (ann, default) in spec.items()
        ]
        names = [f.name for f in fields(cls) if f.name in spec]

        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            values = {name: kwargs.pop(name) for name in names}
            for name in ("ids", "from_", "where", "tag", "group"):
                if name in values and values[name] is None:
                    values[name] = []
            return command(*args, **kwargs, **{argname: cls(**(defaults or {}), **values)})

        positional = [p for p in kept if p.kind != inspect.Parameter.KEYWORD_ONLY]
        keyword = [p for p in kept if p.kind == inspect.Parameter.KEYWORD_ONLY]
        wrapper.__signature__ = signature.replace(parameters=[*positional, *added, *keyword])  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def selection_options(command: F) -> F:
    """Add --ids, --from, --input-format and the filters as ``select: SelectArgs``."""
    return _with_group("select", SelectArgs, _SELECT)(command)


def sending_options(command: F) -> F:
    """Add the Sending panel as ``send: SendArgs``."""
    return _with_group("send", SendArgs, _SEND)(command)


_READING = ("api_url", "api_key", "profile", "timeout", "max_attempts", "rate")
_NOT_READING = {name: None for name in _SEND if name not in _READING} | {"check_ids": False}


def reading_options(command: F) -> F:
    """Add the Sending panel's options that a read-only command uses as ``send: SendArgs``."""
    spec = {name: _SEND[name] for name in _READING}
    return _with_group("send", SendArgs, spec, _NOT_READING)(command)


def guard_options(command: F) -> F:
    """Add the "Before sending" panel as ``guard: GuardArgs``."""
    return _with_group("guard", GuardArgs, _GUARD)(command)


_CONFIRMING = ("stop_after", "yes", "expected_count")


def confirm_options(command: F) -> F:
    """Add the "Before sending" options of a command that must read first (``undo``): no
    --no-read, no --include-unchanged; as ``guard: GuardArgs``."""
    spec = {name: _GUARD[name] for name in _CONFIRMING}
    return _with_group("guard", GuardArgs, spec)(command)


def output_options(command: F) -> F:
    """Add the Output panel as ``output: OutputArgs``."""
    return _with_group("output", OutputArgs, _OUTPUT)(command)


PatchFormat = Annotated[
    str,
    typer.Option(
        "--format",
        help="Patch file format: auto (by extension), json, yaml, jsonl, csv.",
        metavar="FORMAT",
        show_default=False,
    ),
]

ColumnsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--columns",
        help="Apply only these columns of a CSV/TSV patch file (comma-separated; repeatable); the others are ignored.",
        metavar="COLUMN,COLUMN",
        show_default=False,
    ),
]
IgnoreColumnsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--ignore-columns",
        help="Leave these columns of a CSV/TSV patch file out (comma-separated; repeatable).",
        metavar="COLUMN,COLUMN",
        show_default=False,
    ),
]

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]

VerboseFlag = _OUTPUT["verbose"][0]
"""``-v``, as the Output panel declares it, for commands without the rest of the panel."""
NoColorFlag = _OUTPUT["no_color"][0]
