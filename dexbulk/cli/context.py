"""The CLI's side of a send: settings, key, client, journal, signals, rendering.

Sits just below ``cli.py``: it draws on the consoles it is given but knows nothing of Typer, so
the same path serves every command (``star``, ``set``, ``apply``, ``resume``, ``demo``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from typing import IO, TYPE_CHECKING

from dexbulk.cli.env import Env
from dexbulk.cli.options import GuardArgs, OutputArgs, SendArgs
from dexbulk.errors import (
    ApiError,
    AuthRefused,
    ExitCode,
    Interrupted,
    InvalidInput,
    NotDexApi,
    Unreachable,
)
from dexbulk.plan import Plan
from dexbulk.secret import ApiKey, redact_argv

if TYPE_CHECKING:
    from rich.console import Console

    from dexbulk.cli.preview import Checked
    from dexbulk.dex import Dex
    from dexbulk.settings import Settings
from dexbulk.cli.process import interrupts, log_requests
from dexbulk.engine import RunResult, SendOptions
from dexbulk.journal import JournalError


@dataclass(frozen=True)
class Target:
    """Where a run goes and how it is sent, fully resolved."""

    api_url: str
    options: SendOptions
    settings: Settings
    """Everything resolved, with the profile and the key the config file held."""

    @property
    def confirm_over(self) -> int:
        """Ask before changing more contacts than this (when a person is there)."""
        return self.settings.confirm_over


def resolve_target(send: SendArgs, env: Env, *, api_url: str | None = None) -> Target:
    """Flags > environment > config profile > defaults, validated; the file is read here, once.

    ``api_url`` is the URL of the run being resumed: it comes after ``--api-url`` and
    ``DEX_API_URL``, before the config profile and the default.
    """
    from dexbulk.settings import SETTINGS, resolve_settings

    flags = {spec.name: getattr(send, spec.name) for spec in SETTINGS}
    settings = resolve_settings(flags=flags, env=env.environ, profile=send.profile)
    source = settings.sources.get("api_url", "default")
    if api_url is not None and source != "flag" and not source.startswith("env "):
        sources = {**settings.sources, "api_url": "the run's journal"}
        settings = replace(settings, api_url=api_url, sources=sources)
    options = SendOptions(**settings.per_run(), check_ids=send.check_ids)
    return Target(settings.checked_api_url(), options, settings)


def api_key_for(send: SendArgs, env: Env, target: Target) -> ApiKey:
    """The key, from the first place that has one (see ``credentials.find_api_key``)."""
    from dexbulk.credentials import find_api_key

    return find_api_key(flag=send.api_key, env=env.environ, settings=target.settings)


@dataclass(frozen=True)
class Client:
    """Where a run goes, its key, and the one Dex client its reads and its sending share (so
    both follow the same retry policy and pacing)."""

    target: Target
    key: ApiKey
    dex: Dex


@contextmanager
def connect(
    send: SendArgs,
    env: Env,
    console: Console,
    *,
    verbose: bool = False,
    debug: bool = False,
    target: Target | None = None,
) -> Iterator[Client]:
    """Resolve the target and the key, and open a Dex client for the whole command."""
    from dexbulk.dex import Dex
    from dexbulk.ratelimit import RateLimiter

    target = target or resolve_target(send, env)
    key = api_key_for(send, env, target)
    warn_foreign_host(env.stderr, target.api_url)
    if key.source == "--api-key":
        console.print(
            "[yellow]warning:[/yellow] --api-key is visible to other users in the process "
            "list; prefer DEX_API_KEY"
        )
    log_requests(env.stderr, verbose=verbose, debug=debug)
    options = target.options
    dex = Dex(
        target.api_url, key, timeout=options.timeout, max_attempts=options.max_attempts,
        pool_size=options.concurrency, limiter=RateLimiter(options.rate),
    )  # fmt: skip
    try:
        yield Client(target, key, dex)
    finally:
        dex.close()


@dataclass(frozen=True)
class ReadPlan:
    """A plan made once the client is open and the output files are ready (``undo`` makes its
    plan from the values it reads then), with the contacts it read and what it adds to the
    ``--json`` document."""

    plan: Plan
    current: Mapping[str, Mapping[str, object]]
    report: Mapping[str, object]


PlanFromRead = Callable[["Client"], "ReadPlan | None"]
"""Makes the plan inside :func:`send_plan`; None: nothing to send (it has said why)."""


def send_plan(
    plan: Plan | PlanFromRead,
    send: SendArgs,
    output: OutputArgs,
    env: Env,
    *,
    guard: GuardArgs | None = None,
    client: Client | None = None,
    current: Mapping[str, Mapping[str, object]] | None = None,
    resume_of: tuple[str, str] | None = None,
    api_url: str | None = None,
    prepare: Callable[[], Mapping[str, str]] | None = None,
    report: Mapping[str, object] | None = None,
) -> ExitCode:
    """Dry-run or send ``plan``, render the outcome, and return the exit code.

    With ``guard`` (the update commands), the plan is checked first (:mod:`dexbulk.cli.preview`):
    current values are read and shown before → after, unchanged contacts are left out, and a
    big change asks before it is sent. ``client`` is the command's open client, if it has one
    (a filter selection), and ``current`` the contacts it has already read. ``prepare`` runs
    once the plan is checked and confirmed, just before it is journaled and sent (never on a
    dry run): it makes what the plan names with stand-in keys (``--create``'s new tags) and
    says which real key replaces each. ``report`` adds to the ``--json`` document (the tags a
    dry run would create). ``plan`` may be a :data:`PlanFromRead` instead, called
    once the output files are open, so bad paths still cost no request.
    """
    from dexbulk.cli import render

    console = env.console(output)
    target = client.target if client is not None else resolve_target(send, env, api_url=api_url)
    if output.results == "-" and output.json:
        raise InvalidInput("--results - and --json both want stdout; give --results a file")
    with ExitStack() as scope:

        def open_client() -> Client:
            nonlocal client
            if client is None:
                opened = connect(
                    send, env, console, verbose=output.verbose, debug=output.debug, target=target
                )  # fmt: skip
                client = scope.enter_context(opened)
            return client

        # Opened before anything is read or sent, so a bad path costs no request.
        from dexbulk.cli.outputs import OutputFiles

        files = None if output.dry_run else OutputFiles(scope, output, env)
        report = dict(report or {})
        if not isinstance(plan, Plan):
            made = plan(open_client())
            if made is None:
                return ExitCode.OK
            plan, current = made.plan, made.current
            report.update(made.report)
        checked = None
        if guard is not None:
            from dexbulk.cli.preview import check_plan

            try:
                checked = check_plan(
                    plan, guard, output, env, console, open_client, current=current,
                    confirm_over=target.confirm_over,
                )  # fmt: skip
            except ApiError as exc:
                # Nothing was sent; the files still say so, so '--from failed.txt' works later.
                if files is not None:
                    files.write_unsent(plan, exc.status, _not_sent_because(exc))
                if isinstance(exc, AuthRefused):
                    raise
                # No run was recorded either: 'dexbulk retry last' would pick an older one.
                hint = (
                    "nothing was sent and no run was recorded: run this command again once Dex "
                    "answers (--no-read sends without reading current values first)"
                )
                message = exc.message
                if not isinstance(exc, (Unreachable, NotDexApi)):  # those name URL and cause
                    message = f"reading current values: {message}"
                raise type(exc)(message, hint=hint) from None
            if checked.done is not None:
                return checked.done
            plan = checked.plan
        if output.dry_run or files is None:
            # The complete plan (every contact) only where it is printed whole: --json.
            from dexbulk.describe import describe

            document = describe(plan, target.options, target.api_url, complete=output.json)
            if checked is not None and checked.preview is not None:
                document["preview"] = checked.preview.to_json()
            if output.json:
                document = {**document, **report, "ok": True, "exitCode": int(ExitCode.OK)}
                render.write_json(env.stdout, document)
            else:
                from dexbulk.cli.dryrun import render_plan

                render_plan(console, document)
                if checked is not None and checked.preview is not None:
                    from dexbulk.cli.preview import render_preview

                    render_preview(console, checked.preview)
            return ExitCode.OK
        if prepare is not None:
            from dexbulk.cli.outputs import rekeyed

            plan, checked = rekeyed(plan, checked, prepare())
        try:
            result = _execute(plan, open_client(), output, env, console, resume_of, checked)
        except (AuthRefused, JournalError) as exc:
            # Nothing was updated; the files still say so, so '--from failed.txt' works later.
            if isinstance(exc, AuthRefused):
                files.write_unsent(plan, exc.status, "not sent: authentication refused")
            else:
                files.write_unsent(plan, None, "not sent: the run journal could not be written")
            raise
        files.write(result)
    if output.json:
        render.write_json(env.stdout, {**render.run_document(result), **report})
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


def _not_sent_because(exc: ApiError) -> str:
    if isinstance(exc, AuthRefused):
        return "not sent: authentication refused"
    return f"not sent: reading current values failed ({exc.message})"


def _execute(
    plan: Plan, client: Client, output: OutputArgs, env: Env, console: Console,
    resume_of: tuple[str, str] | None, checked: Checked | None = None,
) -> RunResult:  # fmt: skip
    from dexbulk.cli import render
    from dexbulk.engine import execute, send
    from dexbulk.journal import Journal, default_runs_dir

    options = client.target.options
    unchanged = checked.unchanged if checked is not None else []
    if not plan.updates and unchanged:
        # Dex already holds every value: nothing to send, nothing to journal.
        return execute(plan, client.dex, options, unchanged=unchanged)
    runs_dir = default_runs_dir(env.environ)
    if resume_of is None:
        # Takes the new run's lock and seals its plan before anything is sent.
        read = checked is not None and checked.preview is not None
        journal = Journal.create(
            runs_dir, plan, argv=redact_argv(env.argv), api_url=client.target.api_url,
            options=options.to_json(), read=read,
        )  # fmt: skip
        if checked is not None and checked.preview is not None:
            journal.record_before(checked.preview.before_records(plan))
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
    stop_after = checked.stop_after if checked is not None else None
    total = min(plan.total, stop_after) if stop_after is not None else plan.total
    try:
        with (
            interrupts(stop, console),
            render.progress_bar(console, total, enabled=progress_on) as advance,
        ):
            return send(
                plan, client.dex, options, journal=journal, progress=advance, stop=stop,
                unchanged=unchanged, stop_after=stop_after,
            )  # fmt: skip
    except KeyboardInterrupt:
        # The second Ctrl-C: one message, said once by run_main, with the way to finish.
        raise Interrupted("aborted", hint=f"resume with: dexbulk resume {journal.run_id}") from None
