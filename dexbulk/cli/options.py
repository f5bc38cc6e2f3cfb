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
    where: list[str] = field(default_factory=list)
    tag: list[str] = field(default_factory=list)
    group: list[str] = field(default_factory=list)
    search: str | None = None
    all_: bool = False


@dataclass(frozen=True)
class SendArgs:
    """Where and how to send. ``None`` means "not given": config, env and defaults decide."""

    api_url: str | None
    api_key: str | None
    profile: str | None
    batch_size: int | None
    concurrency: int | None
    timeout: float | None
    max_attempts: int | None
    rate: float | None
    check_ids: bool


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

_SEND: dict[str, tuple[Any, Any]] = {
    "api_url": (Annotated[str | None, _opt("--api-url", panel=SEND_PANEL, help="API base URL \\[env DEX_API_URL; default: https://api.prod.getdex.com/v1].", metavar="URL")], None),
    "api_key": (Annotated[str | None, _opt("--api-key", panel=SEND_PANEL, help="API key; prefer DEX_API_KEY or 'dexbulk auth login' (a flag is visible in the process list).", metavar="KEY")], None),
    "profile": (Annotated[str | None, _opt("--profile", panel=SEND_PANEL, help="Config profile to use \\[env DEXBULK_PROFILE].", metavar="NAME")], None),
    "batch_size": (Annotated[int | None, _opt("--batch-size", panel=SEND_PANEL, help="Contacts per request, 1..500 \\[default: 100].", min=1, max=500, metavar="N")], None),
    "concurrency": (Annotated[int | None, _opt("--concurrency", "-c", panel=SEND_PANEL, help="Requests in flight at once, 1..32 \\[default: 4].", min=1, max=32, metavar="N")], None),
    "timeout": (Annotated[float | None, _opt("--timeout", panel=SEND_PANEL, help="Seconds to wait for each answer \\[default: 30].", min=0.1, metavar="SECONDS")], None),
    "max_attempts": (Annotated[int | None, _opt("--max-attempts", panel=SEND_PANEL, help="Tries per request, counting the first, 1..20 \\[default: 5].", min=1, max=20, metavar="N")], None),
    "rate": (Annotated[float | None, _opt("--rate", panel=SEND_PANEL, help="At most this many requests per second across all workers \\[default: unlimited, slowing down on 429].", min=0.01, metavar="PER_SECOND")], None),
    "check_ids": (Annotated[bool, _opt("--check-ids", panel=SEND_PANEL, help="Before sending, ask Dex which IDs exist and report the rest as failed.")], False),
}  # fmt: skip

_GUARD: dict[str, tuple[Any, Any]] = {
    "no_read": (Annotated[bool, _opt("--no-read", panel=GUARD_PANEL, help="Do not read current values first: no before → after, unchanged contacts are sent too, and the journal keeps no prior values.")], False),
    "include_unchanged": (Annotated[bool, _opt("--include-unchanged", panel=GUARD_PANEL, help="Send contacts that already hold the new values too (they are skipped by default).")], False),
    "stop_after": (Annotated[int | None, _opt("--stop-after", panel=GUARD_PANEL, help="Send only the first N contacts (a canary), then stop; 'dexbulk resume' sends the rest.", min=1, metavar="N")], None),
    "yes": (Annotated[bool, _opt("--yes", "-y", panel=GUARD_PANEL, help="Do not ask before changing more than confirm_over contacts \\[default: 20].")], False),
    "expected_count": (Annotated[int | None, _opt("--expected-count", panel=GUARD_PANEL, help="Send nothing (exit 2) unless exactly N contacts are selected.", min=0, metavar="N")], None),
}  # fmt: skip

_OUTPUT: dict[str, tuple[Any, Any]] = {
    "dry_run": (Annotated[bool, _opt("--dry-run", "-n", panel=OUTPUT_PANEL, help="Show the plan and the first request; send nothing.")], False),
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

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]

VerboseFlag = _OUTPUT["verbose"][0]
"""``-v``, as the Output panel declares it, for commands without the rest of the panel."""
NoColorFlag = _OUTPUT["no_color"][0]
