"""The one place where errors become a message on stderr and an exit code.

Every command's exceptions reach :func:`run_main` (the top-level group's ``main`` calls it):
dexbulk's own errors print ``error: ...`` and their hint and exit with their code; click's
usage errors print the same two-line form and exit 2; Ctrl-C exits 130; anything else is a bug:
one line, the details in a crash file under the state directory, exit 70. No traceback ever
reaches the user. Every line is scrubbed of any API key we can know of and has its control
characters escaped (:func:`dexbulk.text.printable`) before it is printed.

With ``--json`` anywhere on the command line, every exit also prints exactly one JSON document
on stdout: the command's own, or ``{"ok": false, "exitCode": N, "error": {"message", "hint"}}``.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TextIO, cast

from typer import Abort

from dexbulk.cli.streams import GuardedStream
from dexbulk.errors import EXIT_CODE_HELP, DexbulkError, ExitCode, Interrupted
from dexbulk.text import escape_json_text, printable

try:  # recent Typers vendor click as typer._click
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover - older Typer runs on the real click
    from click import exceptions as click_errors  # type: ignore[no-redef,import-not-found,unused-ignore]

EXIT_CODES_EPILOG = "Exit codes: " + " · ".join(
    f"{int(code)} {text}" for code, text in EXIT_CODE_HELP.items()
)

MESSAGE_LIMIT = 500
"""An internal error's message is cut here: the whole of it is in the crash file."""


@dataclass(frozen=True)
class _Exit:
    """How a run ended: its exit code and, for an error, what to tell the user."""

    code: int
    message: str | None = None
    hint: str | None = None


def run_main(invoke: Callable[[], Any], argv: Sequence[str]) -> NoReturn:
    """Run ``invoke`` (click's non-standalone main) and exit with the code its outcome means."""
    out, err = GuardedStream(sys.stdout), GuardedStream(sys.stderr)
    sys.stdout, sys.stderr = cast(TextIO, out), cast(TextIO, err)
    try:
        try:
            result = invoke()
            outcome = _Exit(int(result) if isinstance(result, int) else 0)
        except SystemExit:
            raise
        except BaseException as exc:  # the top of the program: nothing may pass unexplained
            outcome = _outcome(exc, argv)
        if wants_json(argv) and not out.written:
            _write_json_outcome(out, outcome)
        sys.exit(outcome.code)
    finally:
        sys.stdout, sys.stderr = out.stream, err.stream


def _outcome(exc: BaseException, argv: Sequence[str]) -> _Exit:
    """Print what ``exc`` means for people on stderr and return the exit it calls for."""
    if isinstance(exc, Interrupted):
        # Not an error: the user asked for it. One line says what happened and what is next.
        line = exc.message + (f"; {exc.hint}" if exc.hint else "")
        _say(scrub(line, argv))
        return _Exit(int(exc.exit_code), exc.message, exc.hint)
    if isinstance(exc, DexbulkError):
        return _error(int(exc.exit_code), exc.message, exc.hint, argv)
    if isinstance(exc, click_errors.NoArgsIsHelpError):
        exc.show()
        return _Exit(exc.exit_code)
    if isinstance(exc, click_errors.UsageError):
        return _usage_error(exc, argv)
    if isinstance(exc, click_errors.ClickException):
        return _error(exc.exit_code, exc.format_message(), None, argv)
    if isinstance(exc, (Abort, KeyboardInterrupt)):
        interrupted = isinstance(exc, KeyboardInterrupt) or isinstance(
            exc.__context__, KeyboardInterrupt
        )
        word = "interrupted" if interrupted else "aborted"
        _say(word)
        return _Exit(int(ExitCode.INTERRUPTED) if interrupted else 1, word)
    return _internal_error(exc, argv)


def _error(code: int, message: str, hint: str | None, argv: Sequence[str]) -> _Exit:
    """``error: MESSAGE`` and ``hint: HINT`` on stderr, each on one line."""
    message = scrub(message, argv)
    hint = scrub(hint, argv) if hint else None
    _say(f"error: {message}")
    if hint:
        _say(f"hint: {hint}")
    return _Exit(code, message, hint)


def _say(line: str) -> None:
    """One line for people on stderr, never a control character (a closed stderr is ignored)."""
    print(printable(line, keep="\t"), file=sys.stderr)


def _usage_error(exc: Any, argv: Sequence[str]) -> _Exit:
    """A usage error in dexbulk's two-line form; exit 2."""
    message = exc.format_message()
    token = offending_value(getattr(exc, "param", None), argv)
    if token is not None and message.startswith("Invalid value for "):
        # Typer's coercion says what was expected but not what was typed.
        message = message.replace("Invalid value for ", f"Invalid value '{token}' for ", 1)
    if message.startswith("Got unexpected extra argument") and _has_uuid(message):
        # `dexbulk star ID ID`: say where IDs go instead of pointing at --help.
        from dexbulk.plan import IDS_HINT

        hint: str | None = IDS_HINT
    else:
        hint = f"'{exc.ctx.command_path} --help' shows what it accepts" if exc.ctx else None
    return _error(exc.exit_code, message, hint, argv)


def _has_uuid(text: str) -> bool:
    return re.search(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", text, re.IGNORECASE) is not None


def _internal_error(exc: BaseException, argv: Sequence[str]) -> _Exit:
    """A bug: one line, the traceback in a crash file (key masked, 0600), exit 70."""
    keys = _keys_in_traceback(exc)
    text = scrub(str(exc), argv, keys)
    if len(text) > MESSAGE_LIMIT:
        text = text[: MESSAGE_LIMIT - 1] + "…"
    message = f"internal error: {type(exc).__name__}" + (f": {text}" if text else "")
    try:
        path = write_crash_report(exc, argv, os.environ, keys)
        hint = f"this is a bug in dexbulk; the details are in {path}"
    except OSError as problem:
        hint = f"this is a bug in dexbulk; the details could not be saved ({problem.strerror})"
    return _error(int(ExitCode.INTERNAL), message, hint, argv)


def state_dir(environ: Mapping[str, str]) -> Path:
    """Where crash reports go: ``$DEXBULK_STATE_DIR`` or the user state dir (as the journals)."""
    if environ.get("DEXBULK_STATE_DIR"):
        return Path(environ["DEXBULK_STATE_DIR"])
    import platformdirs

    return Path(platformdirs.user_state_dir("dexbulk"))


def write_crash_report(
    exc: BaseException, argv: Sequence[str], environ: Mapping[str, str], keys: Iterable[str] = ()
) -> Path:
    """Write the traceback of ``exc`` to ``crash-<time>.txt`` (mode 0600) and return its path.

    Every key :func:`scrub` knows of, and ``keys``, are masked in it.
    """
    import traceback

    from dexbulk import __version__
    from dexbulk.secret import redact_argv

    directory = state_dir(environ)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    report = (
        f"dexbulk {__version__} crashed at {time.strftime('%Y-%m-%d %H:%M:%S %z')}\n"
        f"command: dexbulk {' '.join(redact_argv(argv))}\n"
        f"python: {sys.version.split()[0]} on {sys.platform}\n\n{details}"
    )
    report = printable(scrub(report, argv, keys))
    for attempt in range(100):
        path = directory / f"crash-{stamp}-{os.getpid()}{f'-{attempt}' if attempt else ''}.txt"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "w", encoding="utf-8", errors="replace") as handle:
            handle.write(report)
        return path
    raise FileExistsError(f"no free crash file name in {directory}")


def wants_json(argv: Sequence[str]) -> bool:
    """Whether ``--json`` was asked for (before any ``--``), known even when parsing failed."""
    options = argv[: list(argv).index("--")] if "--" in argv else argv
    return "--json" in options


def _write_json_outcome(out: GuardedStream, outcome: _Exit) -> None:
    """The one JSON document of an exit whose command printed none."""
    document: dict[str, object] = {"ok": outcome.code == 0, "exitCode": outcome.code}
    if outcome.code != 0:
        # A command that only returned its code (Typer's answer to Ctrl-C is a bare 130).
        known = {int(code): text for code, text in EXIT_CODE_HELP.items()}
        message = outcome.message or known.get(outcome.code, f"exit code {outcome.code}")
        hint = outcome.hint
        if outcome.code == ExitCode.INTERRUPTED and outcome.message is None:
            # Stopped before a run began (no run ID to name): there may be nothing to resume.
            message = "interrupted"
            hint = hint or "'dexbulk runs' shows whether a run began; resume it with its ID"
        document["error"] = {"message": message, "hint": hint}
    out.write(escape_json_text(json.dumps(document, indent=2, ensure_ascii=False)) + "\n")
    out.flush()


_BEARER = re.compile(r"(Bearer\s+)[^\s'\"]+", re.IGNORECASE)


def scrub(message: str, argv: Sequence[str], keys: Iterable[str] = ()) -> str:
    """``message`` with any API key we can know of masked.

    Click quotes what the user typed ("Got unexpected extra argument (...)"), and a key pasted
    in the wrong place is still a key: the ``--api-key`` value and ``DEX_API_KEY`` (as given
    and stripped, the way it is sent) are masked, then ``keys``, and the token of any
    ``Bearer ...`` an exception quotes (requests quotes a header it refuses).
    """
    from dexbulk.secret import keys_in_argv, redact

    given = [os.environ.get("DEX_API_KEY", ""), *keys_in_argv(argv), *keys]
    message = redact(message, [*given, *(key.strip() for key in given)])
    return _BEARER.sub(r"\1<redacted>", message)


def _keys_in_traceback(exc: BaseException) -> list[str]:
    """The keys held by the frames ``exc`` went through (one from the keyring, say)."""
    from dexbulk.secret import ApiKey

    found = []
    tb = exc.__traceback__
    while tb is not None:
        found += [v.reveal() for v in tb.tb_frame.f_locals.values() if isinstance(v, ApiKey)]
        tb = tb.tb_next
    return found


def offending_value(param: Any, argv: Sequence[str]) -> str | None:
    """The value typed for the option ``param``, when it was given exactly once."""
    names = (
        set(getattr(param, "opts", ()) or ())
        if getattr(param, "param_type_name", "") == "option"
        else set()
    )
    values = []
    for i, arg in enumerate(argv):
        name, equals, value = arg.partition("=")
        if equals and name in names and name.startswith("--"):
            values.append(value)
        elif arg in names and i + 1 < len(argv):
            values.append(argv[i + 1])
    return values[0] if len(values) == 1 else None
