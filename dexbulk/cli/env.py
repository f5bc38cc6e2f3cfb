"""``Env``: the process's standard streams, environment and command line, injectable for tests
(httpie's ``Environment``). Imports nothing heavy: every command makes one, and ``--help``
imports every command's module (bench/startup.py)."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.console import Console

    from dexbulk.cli.options import OutputArgs


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
        return isatty(self.stdin)

    @property
    def stdin_piped(self) -> bool:
        """True when stdin may carry IDs: not a terminal, and not a device such as /dev/null."""
        if self.stdin_isatty:
            return False
        try:
            mode = os.fstat(self.stdin.fileno()).st_mode
        except (AttributeError, OSError, ValueError):
            return True  # an in-memory stream (tests): it is data
        return not stat.S_ISCHR(mode)

    def open_tty(self) -> IO[str] | None:
        """The controlling terminal, to ask a person a question; None when no one is there
        (stderr is not a terminal, or there is no terminal to open)."""
        if not isatty(self.stderr):
            return None
        try:
            return open("/dev/tty", encoding="utf-8")
        except OSError:
            return None

    def console(self, output: OutputArgs | None = None) -> Console:
        """The human-facing console on stderr."""
        from dexbulk.cli.render import make_console

        quiet = bool(output and output.quiet)
        return make_console(self.stderr, no_color=bool(output and output.no_color), quiet=quiet)


def isatty(stream: IO[str]) -> bool:
    """Whether ``stream`` is a terminal (False for in-memory and closed streams)."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
