"""Reading text within bounds: lines and CSV records one at a time, documents up to a size.

Nothing here reads a whole stream without a limit: ``apply /dev/zero`` or a 500 MB file on one
line ends in one error line naming the source and line, after reading at most one limit's worth.
The limits themselves are in :mod:`dexbulk.limits`.
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterable, Iterator
from typing import Protocol

from dexbulk.errors import InvalidInput
from dexbulk.limits import MAX_LINE_CHARS, size_text

HEAD_CHARS = 64 << 10
"""How much of a patch file is read to tell its format."""
_CHUNK = 1 << 20


class LineSource(Protocol):
    """Anything with ``readline(size)``: text files, ``sys.stdin``, :class:`Prefixed`."""

    def readline(self, size: int = -1, /) -> str: ...


class TextSource(LineSource, Protocol):
    """A :class:`LineSource` that can also ``read(size)``."""

    def read(self, size: int = -1, /) -> str: ...


def open_text(path: str) -> io.TextIOWrapper:
    """Open a file as UTF-8 text; a BOM is dropped; line ends are kept (CSV needs them raw)."""
    return open(path, encoding="utf-8-sig", newline="")  # the caller closes it


def not_text(name: str) -> InvalidInput:
    """The error for binary data (NUL characters never occur in a text file)."""
    return InvalidInput(f"{name}: not a text file (it contains NUL characters)")


def lines(
    stream: LineSource, name: str, start: int = 1, limit: int = MAX_LINE_CHARS
) -> Iterator[str]:
    """Yield the lines of ``stream`` (ends included), refusing any over ``limit`` characters.

    ``start`` is the number of the first line, for the error message. Reading stops at the
    limit, so a stream without line ends costs at most ``limit`` characters of memory.
    """
    number = start
    while line := stream.readline(limit + 2):  # + 2: room for the "\r\n" of a full line
        if len(line.rstrip("\r\n")) > limit:
            raise InvalidInput(
                f"{name} line {number}: longer than {limit:,} characters, the limit for one line"
            )
        yield line
        number += 1


class Records:
    """Bounded lines (from :func:`lines`) for :mod:`csv`, with a bound on one whole record too:
    a quoted cell may span lines, and an unclosed quote would otherwise swallow the file.

    Call :meth:`next_record` after each row; ``number`` is the line the current record began on,
    counting the first line given as 1.
    """

    def __init__(self, lines: Iterable[str], name: str, limit: int = MAX_LINE_CHARS) -> None:
        self._lines = iter(lines)
        self._name, self._limit = name, limit
        self._size = 0
        self.read = 0
        """Lines read so far."""
        self.number = 1

    def __iter__(self) -> Records:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.read += 1
        self._size += len(line)
        if self._size > self._limit:
            problem = f"a record longer than {self._limit:,} characters (an unclosed quote?)"
            raise InvalidInput(f"{self._name} line {self.number}: {problem}")
        return line

    def next_record(self) -> None:
        """The row just returned by the reader ended; the next record starts after it."""
        self._size = 0
        self.number = self.read + 1


def read_whole(stream: TextSource, name: str, limit: int, kind: str, already: int = 0) -> str:
    """The rest of ``stream``, refused once it is over ``limit`` (``already`` read counts).

    A regular file is measured before reading it; a pipe or device is read in chunks until
    the limit is crossed.
    """
    fileno = getattr(stream, "fileno", None)
    try:
        info = os.fstat(fileno()) if fileno is not None else None
    except (OSError, ValueError, io.UnsupportedOperation):
        info = None
    if already > limit or (
        info is not None and stat.S_ISREG(info.st_mode) and info.st_size > limit
    ):
        raise _too_large(name, limit, kind)
    parts: list[str] = []
    total = already
    while chunk := stream.read(_CHUNK):
        total += len(chunk)
        if total > limit:
            raise _too_large(name, limit, kind)
        parts.append(chunk)
    return "".join(parts)


def _too_large(name: str, limit: int, kind: str) -> InvalidInput:
    return InvalidInput(
        f"{name}: larger than {size_text(limit)}, the limit for a {kind} file read whole",
        hint="use JSON Lines or CSV, which are read a line at a time, or split the file",
    )


class Prefixed:
    """A stream whose first characters were already read (to sniff its format): both, in order."""

    def __init__(self, head: str, stream: TextSource) -> None:
        self._head: io.StringIO | None = io.StringIO(head, newline="")
        self._left = len(head)
        self._stream = stream

    def readline(self, size: int = -1, /) -> str:
        """One line, as ``TextIOWrapper.readline`` gives it, across the seam."""
        if self._head is not None:
            line = self._head.readline(size)
            self._left -= len(line)
            if self._left <= 0:
                self._head = None
                if line and not line.endswith(("\n", "\r")) and (size < 0 or len(line) < size):
                    line += self._stream.readline(size - len(line) if size >= 0 else -1)
            if line:
                return line
        return self._stream.readline(size)

    def read(self, size: int = -1, /) -> str:
        """Up to ``size`` characters (all with -1), the head first."""
        if self._head is not None:
            text = self._head.read(size)
            self._left -= len(text)
            if self._left <= 0:
                self._head = None
            if text:
                return text
        return self._stream.read(size)


def read_head(stream: TextSource) -> str:
    """The first :data:`HEAD_CHARS` characters, never ending between a ``\\r`` and its ``\\n``."""
    head = stream.read(HEAD_CHARS)
    if head.endswith("\r"):
        head += stream.read(1)
    return head
