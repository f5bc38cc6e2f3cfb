"""The CLI's side of a send: settings, key, client, journal, signals, rendering.

Sits just below ``cli.py``: it draws on the consoles it is given but knows nothing of Typer, so
the same path serves every command (``star``, ``set``, ``apply``, ``resume``, ``demo``).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, TextIO

from dexbulk.batches import ContactResult, ContactState
from dexbulk.cli.options import OutputArgs, SendArgs
from dexbulk.errors import AuthRefused, ExitCode, InvalidInput
from dexbulk.plan import Plan
from dexbulk.secret import ApiKey, redact_argv

if TYPE_CHECKING:
    from rich.console import Console
from dexbulk.engine import JOURNAL_FAILED, RunResult, SendOptions, describe
from dexbulk.journal import JournalError


@dataclass
class Env:
    """The process's I/O, injectable for tests (httpie's ``Environment``)."""

    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    argv: Sequence[str] = field(default_factory=lambda: list(sys.argv))
    """The command line as typed, recorded (key masked) in the run's journal."""

    @property
    def stdin_isatty(self) -> bool:
        """True when a person could be typing on stdin."""
        return _isatty(self.stdin)

    def console(self, output: OutputArgs | None = None) -> Console:
        """The human-facing console on stderr."""
        from dexbulk.cli.render import make_console

        quiet = bool(output and output.quiet)
        return make_console(self.stderr, no_color=bool(output and output.no_color), quiet=quiet)


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


@dataclass(frozen=True)
class Target:
    """Where a run goes and how it is sent, fully resolved."""

    api_url: str
    options: SendOptions
    profile: str
    config_path: str


def resolve_target(send: SendArgs, env: Env, *, api_url: str | None = None) -> Target:
    """Flags > environment > config profile > defaults, validated."""
    from dexbulk.settings import check_api_url, resolve_settings

    flags = {
        "api_url": send.api_url or api_url, "batch_size": send.batch_size,
        "concurrency": send.concurrency, "timeout": send.timeout,
        "max_attempts": send.max_attempts, "rate": send.rate,
    }  # fmt: skip
    settings = resolve_settings(flags=flags, env=env.environ, profile=send.profile)
    source = settings.sources.get("api_url", "flag")
    source = "--api-url" if source == "flag" else source
    options = SendOptions(
        batch_size=settings.batch_size, concurrency=settings.concurrency,
        timeout=settings.timeout, max_attempts=settings.max_attempts, rate=settings.rate,
        check_ids=send.check_ids,
    )  # fmt: skip
    return Target(
        check_api_url(settings.api_url, source=source), options, settings.profile,
        str(settings.path),
    )  # fmt: skip


def api_key_for(send: SendArgs, env: Env, target: Target) -> ApiKey:
    """The key, from the first place that has one (see ``credentials.find_api_key``)."""
    from pathlib import Path

    from dexbulk.credentials import find_api_key

    return find_api_key(
        flag=send.api_key, env=env.environ, profile=target.profile,
        config_path=Path(target.config_path),
    )  # fmt: skip


@contextmanager
def interrupts(stop: threading.Event, console: Console) -> Iterator[None]:
    """First Ctrl-C/SIGTERM: finish in-flight batches. Second: abort at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    presses = 0

    def handle(_signum: int, _frame: object) -> None:
        nonlocal presses
        presses += 1
        if presses == 1:
            stop.set()
            console.print(
                "[yellow]stopping:[/yellow] finishing the batches in flight "
                "(press Ctrl-C again to abort them)"
            )
        else:
            raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def configure_logging(output: OutputArgs, stream: IO[str]) -> None:
    """``-v``: one line per request on stderr; ``--debug``: bodies too. Never the key."""
    if not (output.verbose or output.debug):
        return
    logger = logging.getLogger("dexbulk.http")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG if output.debug else logging.INFO)
    logger.propagate = False


def send_plan(
    plan: Plan,
    send: SendArgs,
    output: OutputArgs,
    env: Env,
    *,
    resume_of: tuple[str, str] | None = None,
    api_url: str | None = None,
) -> ExitCode:
    """Dry-run or send ``plan``, render the outcome, and return the exit code."""
    from dexbulk.cli import render

    console = env.console(output)
    target = resolve_target(send, env, api_url=api_url)
    if output.results == "-" and output.json:
        raise InvalidInput("--results - and --json both want stdout; give --results a file")
    if output.dry_run:
        document = describe(plan, target.options, target.api_url)
        if output.json:
            render.write_json(env.stdout, document)
        else:
            render.render_plan(console, document)
        return ExitCode.OK
    key = api_key_for(send, env, target)
    if key.source == "--api-key":
        console.print(
            "[yellow]warning:[/yellow] --api-key is visible to other users in the process "
            "list; prefer DEX_API_KEY"
        )
    with ExitStack() as files:
        results_stream = _open_output(files, output.results, env)
        failed_stream = _open_output(
            files, str(output.failed_to) if output.failed_to else None, env
        )
        try:
            result = _execute(plan, target, key, output, env, console, resume_of)
        except (AuthRefused, JournalError) as exc:
            # Nothing was updated; the files still say so, so '--from failed.txt' works later.
            why = (
                "authentication refused"
                if isinstance(exc, AuthRefused)
                else "the run journal could not be written"
            )
            status = exc.status if isinstance(exc, AuthRefused) else None
            refused = [
                ContactResult(u.contact_id, ContactState.NOT_SENT, status, f"not sent: {why}", 0)
                for u in plan.updates
            ]
            for stream, write in (
                (results_stream, render.write_results),
                (failed_stream, render.write_failed_ids),
            ):
                if stream is not None:
                    write(stream, RunResult(None, plan.total, plan.duplicates, refused))
            raise
        if results_stream is not None:
            render.write_results(results_stream, result)
        if failed_stream is not None:
            render.write_failed_ids(failed_stream, result)
    if output.json:
        render.write_json(env.stdout, render.run_document(result))
    if output.quiet:
        # --quiet drops the summary, not the errors: failed contacts and the way to finish.
        console = render.make_console(env.stderr, no_color=output.no_color)
        render.render_failures(console, result)
        if result.journal_error:
            console.print(f"error: {result.journal_error}", markup=False)
    else:
        render.render_summary(console, result)
    if result.state in ("interrupted", JOURNAL_FAILED) and result.run_id:
        console.print(f"resume with: dexbulk resume {result.run_id}")
    elif result.failed and result.run_id:
        console.print(f"retry the failures with: dexbulk retry {result.run_id} --failed")
    return result.exit_code


def _open_output(files: ExitStack, path: str | None, env: Env) -> IO[str] | None:
    """Open an output file before anything is sent, so a bad path costs no request."""
    if path is None:
        return None
    if path == "-":
        return env.stdout
    try:
        # Contact data: created readable by the user only (an existing file keeps its mode).
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        return files.enter_context(os.fdopen(fd, "w", encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot write ({exc.strerror})") from None


def _execute(
    plan: Plan, target: Target, key: ApiKey, output: OutputArgs, env: Env,
    console: Console, resume_of: tuple[str, str] | None,
) -> RunResult:  # fmt: skip
    from dexbulk.cli import render
    from dexbulk.engine import send
    from dexbulk.journal import Journal, default_runs_dir

    configure_logging(output, env.stderr)
    options = target.options
    runs_dir = default_runs_dir(env.environ)
    if resume_of is None:
        # Takes the new run's lock and seals its plan before anything is sent.
        journal = Journal.create(
            runs_dir, plan, argv=redact_argv(env.argv), api_url=target.api_url,
            options=options.to_json(),
        )  # fmt: skip
    else:
        from dexbulk.journal import find_run

        # The caller (cli/runs.py) holds the run's lock from before it read the journal.
        run_id, mode = resume_of
        journal = Journal.reopen(find_run(runs_dir, run_id), run_id)
        try:
            journal.record_resume(mode, redact_argv(env.argv))
        except JournalError as exc:
            journal.close()
            raise JournalError(f"{exc.message}; nothing was sent") from None
    stop = threading.Event()
    progress_on = not (output.no_progress or output.quiet)
    try:
        with (
            interrupts(stop, console),
            render.progress_bar(console, plan.total, enabled=progress_on) as advance,
        ):
            return send(
                plan, None, options, api_key=key, api_url=target.api_url, journal=journal,
                progress=advance, stop=stop,
            )  # fmt: skip
    except KeyboardInterrupt:
        console.print(f"aborted; resume with: dexbulk resume {journal.run_id}")
        raise
