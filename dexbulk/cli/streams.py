"""stdout and stderr that a closed pipe cannot break.

``dexbulk star --from ids.txt --results - | head -1`` closes dexbulk's stdout after one line.
The run has already happened by the time its results are written: a ``BrokenPipeError`` there
must not turn a finished run into a crash, change its exit code, or skip the summary on
stderr. :class:`GuardedStream` wraps a standard stream so that, once its reader is gone, later
writes are dropped quietly, and points the file descriptor at ``/dev/null`` so that Python's
own flush at exit does not print "Exception ignored ... BrokenPipeError" either.
"""

from __future__ import annotations

import errno
import os
from typing import Any, TextIO


def is_closed_pipe(exc: BaseException) -> bool:
    """Whether ``exc`` says the reader of a pipe went away (EPIPE; EINVAL on Windows)."""
    return isinstance(exc, BrokenPipeError) or (
        isinstance(exc, OSError) and exc.errno in (errno.EPIPE, errno.EINVAL) and os.name == "nt"
    )


class GuardedStream:
    """A text stream proxy: the wrapped stream until its pipe closes, then a quiet sink.

    ``written`` says whether anything was (or was meant to be) written: ``run_main`` uses it to
    print exactly one JSON document under ``--json``.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.written = False
        self.broken = False

    def write(self, text: str) -> int:
        """Write ``text``; after the pipe closed, pretend to."""
        if text:
            self.written = True
        if self.broken:
            return len(text)
        try:
            return self.stream.write(text)
        except OSError as exc:
            if not is_closed_pipe(exc):
                raise
            self._close()
            return len(text)

    def writelines(self, lines: Any) -> None:
        """Write each of ``lines``."""
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        """Flush, unless the pipe is closed."""
        if self.broken:
            return
        try:
            self.stream.flush()
        except OSError as exc:
            if not is_closed_pipe(exc):
                raise
            self._close()

    def _close(self) -> None:
        """Drop what is left and send the descriptor's later writes (at exit too) to /dev/null."""
        self.broken = True
        try:
            fd = self.stream.fileno()
            devnull = os.open(os.devnull, os.O_WRONLY)
        except (OSError, ValueError, AttributeError):
            return  # not a real file (a test's StringIO): nothing will flush it at exit
        try:
            os.dup2(devnull, fd)
        finally:
            os.close(devnull)

    def __getattr__(self, name: str) -> Any:
        # isatty, fileno, encoding, buffer...: the wrapped stream's own.
        return getattr(self.stream, name)
