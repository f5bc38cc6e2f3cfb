"""The one place where errors become a message on stderr and an exit code.

Every command's exceptions reach :func:`run_main` (the top-level group's ``main`` calls it):
dexbulk's own errors print ``error: ...`` and their hint and exit with their code; click's
usage errors print the same two-line form and exit 2; Ctrl-C exits 130. Messages are scrubbed
of any API key we can know of before they are printed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from typer import Abort

from dexbulk.errors import EXIT_CODE_HELP, DexbulkError, ExitCode

try:  # recent Typers vendor click as typer._click
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover - older Typer runs on the real click
    from click import exceptions as click_errors  # type: ignore[no-redef,import-not-found,unused-ignore]

EXIT_CODES_EPILOG = "Exit codes: " + " · ".join(
    f"{int(code)} {text}" for code, text in EXIT_CODE_HELP.items()
)


def run_main(invoke: Callable[[], Any], argv: Sequence[str]) -> NoReturn:
    """Run ``invoke`` (click's non-standalone main) and exit with the code its outcome means."""
    try:
        result = invoke()
    except DexbulkError as exc:
        print(f"error: {scrub(exc.message, argv)}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {scrub(exc.hint, argv)}", file=sys.stderr)
        sys.exit(int(exc.exit_code))
    except click_errors.NoArgsIsHelpError as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click_errors.UsageError as exc:
        _usage_error(exc, argv)
    except click_errors.ClickException as exc:
        print(f"error: {scrub(exc.format_message(), argv)}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except (Abort, KeyboardInterrupt) as exc:
        interrupted = isinstance(exc, KeyboardInterrupt) or isinstance(
            exc.__context__, KeyboardInterrupt
        )
        print("interrupted" if interrupted else "aborted", file=sys.stderr)
        sys.exit(int(ExitCode.INTERRUPTED) if interrupted else 1)
    sys.exit(int(result) if isinstance(result, int) else 0)


def _usage_error(exc: Any, argv: Sequence[str]) -> NoReturn:
    """Print a usage error in dexbulk's two-line form and exit 2."""
    message = exc.format_message()
    token = offending_value(getattr(exc, "param", None), argv)
    if token is not None and message.startswith("Invalid value for "):
        # Typer's coercion says what was expected but not what was typed.
        message = message.replace("Invalid value for ", f"Invalid value '{token}' for ", 1)
    print(f"error: {scrub(message, argv)}", file=sys.stderr)
    if message.startswith("Got unexpected extra argument") and _has_uuid(message):
        # `dexbulk star ID ID`: say where IDs go instead of pointing at --help.
        from dexbulk.plan import IDS_HINT

        print(f"hint: {IDS_HINT}", file=sys.stderr)
    elif exc.ctx is not None:
        print(f"hint: '{exc.ctx.command_path} --help' shows what it accepts", file=sys.stderr)
    sys.exit(exc.exit_code)


def _has_uuid(text: str) -> bool:
    import re

    return re.search(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", text, re.IGNORECASE) is not None


def scrub(message: str, argv: Sequence[str]) -> str:
    """``message`` with any API key we can know of masked.

    Click quotes what the user typed ("Got unexpected extra argument (...)"), and a key pasted
    in the wrong place is still a key: the ``--api-key`` value and ``DEX_API_KEY`` are masked.
    """
    from dexbulk.secret import keys_in_argv, redact

    return redact(message, [os.environ.get("DEX_API_KEY", ""), *keys_in_argv(argv)])


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
