"""The exit-code table and the one exception hierarchy of dexbulk.

Every error dexbulk raises on purpose derives from :class:`DexbulkError` and carries the exit
code the CLI should end with. ``cli.py`` is the only place that turns them into messages.
This module imports nothing of ours, so every other module may import it.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Process exit codes, documented in ``--help``, the README and ``docs/exit-codes.md``."""

    OK = 0
    """Every selected contact was updated (or, with --dry-run, the plan is valid)."""
    SOME_FAILED = 1
    """The run reached Dex, and at least one contact was not updated (rejected, not found,
    or failed after every retry)."""
    USAGE = 2
    """Bad usage or input: nothing was sent."""
    AUTH = 3
    """The API refused the key (401/403); the run stopped at once."""
    UNREACHABLE = 4
    """The API could not be reached or used: the run stopped at the first sign of it (DNS,
    refused, TLS, not the Dex API), or no request got an answer from Dex at all."""
    INTERNAL = 70
    """An unexpected error (a bug): one line on stderr, the details in a crash file."""
    INTERRUPTED = 130
    """Interrupted by Ctrl-C or SIGTERM; the journal says how to resume."""


EXIT_CODE_HELP: dict[ExitCode, str] = {
    ExitCode.OK: "all selected contacts updated (or the dry-run plan is valid)",
    ExitCode.SOME_FAILED: "some contacts not updated (see the summary, --results, --failed-to)",
    ExitCode.USAGE: "bad usage or input; nothing was sent",
    ExitCode.AUTH: "authentication refused; the run stopped at once",
    ExitCode.UNREACHABLE: "API could not be reached or used; the rest was not sent",
    ExitCode.INTERNAL: "internal error (a bug); details in the crash file named",
    ExitCode.INTERRUPTED: "interrupted; resume with 'dexbulk resume RUN_ID'",
}


class DexbulkError(Exception):
    """Root of every error dexbulk raises on purpose.

    ``hint`` is an optional next step shown after the message (``run 'dexbulk auth login'``).
    """

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class InvalidInput(DexbulkError, ValueError):
    """User input (arguments, files, stdin) that cannot be turned into a valid plan."""

    exit_code = ExitCode.USAGE

    def at(self, where: str) -> InvalidInput:
        """Return a copy of this error whose message starts with a location (file, line, field)."""
        return type(self)(f"{where}: {self.message}", hint=self.hint)


class ConfigError(InvalidInput):
    """A malformed configuration file or an impossible combination of settings."""


class MissingCredentials(DexbulkError):
    """No API key could be found anywhere it may come from."""

    exit_code = ExitCode.USAGE


class ApiError(DexbulkError):
    """The API answered, but not with what we asked for."""

    exit_code = ExitCode.UNREACHABLE

    def __init__(self, message: str, *, status: int | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status


class AuthRefused(ApiError):
    """The API answered 401 or 403: the key is wrong, revoked, or the request was blocked."""

    exit_code = ExitCode.AUTH


class Unreachable(ApiError):
    """No usable answer: DNS, TLS, connection or timeout failures after every retry."""

    exit_code = ExitCode.UNREACHABLE


class NotDexApi(ApiError):
    """The URL answered, but not as the Dex API does: a 404/405 without Dex's JSON envelope,
    an HTML page, a redirect. The URL is wrong (often a missing ``/v1``), not the key."""

    exit_code = ExitCode.UNREACHABLE


class Interrupted(DexbulkError):
    """The run was interrupted by the user."""

    exit_code = ExitCode.INTERRUPTED
