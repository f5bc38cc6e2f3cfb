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
from dexbulk.errors import AuthRefused, ExitCode, Interrupted, InvalidInput
from dexbulk.plan import Plan
from dexbulk.secret import ApiKey, redact_argv

if TYPE_CHECKING:
    from rich.console import Console

    from dexbulk.settings import Settings
from dexbulk.engine import RunResult, SendOptions, describe
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
    settings: Settings
    """Everything resolved, with the profile and the key the config file held."""


def resolve_target(send: SendArgs, env: Env, *, api_url: str | None = None) -> Target:
    """Flags > environment > config profile > defaults, validated; the file is read here, once.

    ``api_url`` is the URL of the run being resumed, used unless ``--api-url`` is given.
    """
    from dexbulk.settings import SETTINGS, resolve_settings

    flags = {spec.name: getattr(send, spec.name) for spec in SETTINGS}
    flags["api_url"] = send.api_url or api_url
    settings = resolve_settings(flags=flags, env=env.environ, profile=send.profile)
    options = SendOptions(**settings.per_run(), check_ids=send.check_ids)
    return Target(settings.checked_api_url(), options, settings)


def api_key_for(send: SendArgs, env: Env, target: Target) -> ApiKey:
    """The key, from the first place that has one (see ``credentials.find_api_key``)."""
    from dexbulk.credentials import find_api_key

    return find_api_key(flag=send.api_key, env=env.environ, settings=target.settings)


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


class PrintableFormatter(logging.Formatter):
    """Log lines with the control characters of what they quote (Dex's answers) escaped."""

    def format(self, record: logging.LogRecord) -> str:
        """The formatted record, made :func:`~dexbulk.text.printable`."""
        from dexbulk.text import printable

        return printable(super().format(record))


def configure_logging(output: OutputArgs, stream: IO[str]) -> None:
    """``-v``: one line per request on stderr; ``--debug``: bodies too. Never the key."""
    logger = logging.getLogger("dexbulk.http")
    if not (output.verbose or output.debug):
        # Set every time: a handler left by an earlier run in this process (a notebook, a test)
        # would write to a stream that may be closed by now.
        logger.handlers.clear()
        return
    handler = logging.StreamHandler(stream)
    handler.setFormatter(PrintableFormatter("%(message)s"))
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
        # The complete plan (every contact) only where it is printed whole: --json.
        document = describe(plan, target.options, target.api_url, complete=output.json)
        if output.json:
            render.write_json(env.stdout, {**document, "ok": True, "exitCode": int(ExitCode.OK)})
        else:
            from dexbulk.cli.dryrun import render_plan

            render_plan(console, document)
        return ExitCode.OK
    key = api_key_for(send, env, target)
    warn_foreign_host(env.stderr, target.api_url)
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
        if result.journal_error:  # the summary's notes say it; --quiet has no summary
            console.print(f"error: {result.journal_error}", markup=False, soft_wrap=True)
        render.render_next_step(console, result)
    else:
        verbose = output.verbose or output.debug
        render.render_outcome(console, result, plan.command, verbose=verbose)
    return result.exit_code


def warn_foreign_host(stderr: IO[str], api_url: str) -> None:
    """One line on stderr when the key is about to go to a host that is not Dex's (even with
    --quiet: it is about where the key goes)."""
    from dexbulk.settings import foreign_host_warning

    warning = foreign_host_warning(api_url)
    if warning is not None:
        print(f"warning: {warning}", file=stderr, flush=True)


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
        # The second Ctrl-C: one message, said once by run_main, with the way to finish.
        raise Interrupted("aborted", hint=f"resume with: dexbulk resume {journal.run_id}") from None
