"""The console people read on stderr: rich where it draws something, plain text elsewhere.

:func:`make_console` is the one place that chooses. On a terminal (or when ``FORCE_COLOR`` or
``TTY_COMPATIBLE=1`` makes rich treat the stream as one) it returns rich's console, with its
colours, tables and progress bar. Everywhere else it returns a :class:`PlainConsole`, which
writes a line of plain text itself, exactly as rich would have written it there, and hands
anything else (a table, text it would have to wrap, control characters to escape) to a rich
console made on first use. A clean run whose stderr is a file or a pipe says its one line and
its notes without importing rich at all, a third of a one-contact run's start-up
(docs/performance.md, "A fast start").
"""

from __future__ import annotations

import builtins
import os
import re
import sys
from collections.abc import Mapping
from typing import IO, TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from rich.console import Console

# The text a plain console writes itself: printable ASCII and the few symbols dexbulk's own
# lines use, each one cell wide for rich too (tests/cli/test_console.py checks). Anything else
# (wide or combining characters, controls, tabs, newlines) is left to rich.
_SYMBOLS = str.maketrans("✓✗→…", "    ")
# The patterns below are compiled on first use (re caches them).
# rich replaces ``:name:`` with an emoji: text with two colons that close enough goes to rich.
_EMOJI_LIKE = r":\S*?:"
# rich's markup tags (rich.markup.RE_TAGS), and the styles dexbulk's markup uses: the ones a
# plain console knows to be valid and drops. Any other tag goes to rich, which may refuse it.
_TAGS = r"((\\*)\[([a-z#/@][^[]*?)])"
_STYLES = frozenset({"bold", "dim", "italic", "red", "green", "yellow", "cyan"})
# rich.markup.escape's pattern: what in untrusted text would read as a tag.
_TAG_LIKE = r"(\\*)(\[[a-z#/@][^[]*?])"


def make_console(stream: IO[str], *, no_color: bool = False, quiet: bool = False) -> Console:
    """The console for people on ``stream``; ``NO_COLOR`` and ``no_color`` mean no colour.

    A :class:`PlainConsole` where rich would not see a terminal, rich's console otherwise.
    """
    if _rich_sees_no_terminal(stream):
        # Not a rich Console, but one for every use dexbulk makes of it (see PlainConsole).
        return cast("Console", PlainConsole(stream, no_color=no_color, quiet=quiet))
    return rich_console(stream, no_color=no_color, quiet=quiet)


def rich_console(stream: IO[str], *, no_color: bool = False, quiet: bool = False) -> Console:
    """rich's console on ``stream``, with control characters in text escaped."""
    from dexbulk.cli.safeconsole import SafeConsole

    return SafeConsole(file=stream, no_color=no_color or None, highlight=False, quiet=quiet)


def _rich_sees_no_terminal(stream: IO[str]) -> bool:
    """Whether rich would write to ``stream`` as to a file: no colour, no cursor, 80 columns
    or the terminal's width (as ``rich.console.Console.is_terminal`` decides)."""
    if sys.platform == "win32" or hasattr(builtins, "get_ipython"):
        return False  # legacy Windows consoles and notebooks: rich's own business
    environ = os.environ
    if "FORCE_COLOR" in environ or environ.get("TTY_COMPATIBLE") == "1":
        return False
    try:
        return not stream.isatty()
    except (AttributeError, ValueError):
        return True


class PlainConsole:
    """What rich's console writes to a file, for one line of text, without importing rich.

    ``print`` of one string writes it itself when the result is certain to be what rich would
    write on this stream: no colour (not a terminal), markup limited to the styles in
    ``_STYLES`` (dropped), text of printable ASCII and ``✓✗→…``, no ``:emoji:`` codes, and a
    line that fits rich's width (or ``soft_wrap``). Anything else, and every other attribute
    (``width``, ``status``...), goes to a rich console on the same stream, made on first use.
    """

    is_terminal = False

    def __init__(self, file: IO[str], *, no_color: bool = False, quiet: bool = False) -> None:
        self.file = file
        self.quiet = quiet
        self._no_color = no_color
        self._rich: Console | None = None

    def print(
        self,
        *objects: Any,
        end: str = "\n",
        style: Any = None,
        markup: bool | None = None,
        highlight: bool | None = None,
        soft_wrap: bool | None = None,
        **more: Any,
    ) -> None:
        """rich's ``Console.print``: plain text written here, anything else by rich."""
        line = self._plain(objects, markup, highlight, soft_wrap, more)
        if line is None:
            self.rich.print(
                *objects, end=end, style=style, markup=markup, highlight=highlight,
                soft_wrap=soft_wrap, **more,
            )  # fmt: skip
        elif not self.quiet:
            self.file.write(line + end)
            self.file.flush()

    @property
    def rich(self) -> Console:
        """The rich console this one hands over to."""
        if self._rich is None:
            self._rich = rich_console(self.file, no_color=self._no_color, quiet=self.quiet)
        return self._rich

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # not set yet (copy, pickle): never make a console for it
            raise AttributeError(name)
        return getattr(self.rich, name)

    def _plain(
        self,
        objects: tuple[Any, ...],
        markup: bool | None,
        highlight: bool | None,
        soft_wrap: bool | None,
        more: dict[str, Any],
    ) -> str | None:
        """The line rich would write for ``objects``, or None when rich must say."""
        if len(objects) != 1 or not isinstance(objects[0], str) or more or highlight:
            return None
        text: str | None = objects[0]
        if markup is not False and text is not None and "[" in text:
            text = strip_markup(text)
        if text is None or not _is_plain(text) or (":" in text and re.search(_EMOJI_LIKE, text)):
            return None
        if not soft_wrap and len(text) > rich_width(os.environ):
            return None  # rich would wrap it
        return text


def _is_plain(text: str) -> bool:
    """Printable ASCII, or one of the symbols in ``_SYMBOLS``: one cell each."""
    text = text.translate(_SYMBOLS)
    return text.isascii() and text.isprintable()


def strip_markup(markup: str) -> str | None:
    """``markup`` as rich shows it without colour, or None if its tags are not all known ones.

    Follows ``rich.markup.render``: ``\\[`` is a literal bracket, a tag's style is dropped.
    """
    pieces: list[str] = []
    opened: list[str] = []
    position = 0
    for match in re.finditer(_TAGS, markup):
        full, escapes, tag = match.groups()
        start, end = match.span()
        if start > position:
            pieces.append(markup[position:start].replace("\\[", "["))
        position = end
        if escapes:
            backslashes, escaped = divmod(len(escapes), 2)
            pieces.append("\\" * backslashes)
            if escaped:
                pieces.append(full[len(escapes) :])
                continue
        if tag in _STYLES:
            opened.append(tag)
        elif tag == "/" and opened:
            opened.pop()
        elif tag.startswith("/") and tag[1:] in _STYLES and tag[1:] in opened:
            opened.reverse()
            opened.remove(tag[1:])  # the innermost one, as rich closes it
            opened.reverse()
        else:
            return None
    pieces.append(markup[position:].replace("\\[", "["))
    return "".join(pieces)


def escape(text: str) -> str:
    """``rich.markup.escape``: ``text`` shown as it is when printed with markup on."""
    text = re.sub(_TAG_LIKE, lambda m: f"{m.group(1)}{m.group(1)}\\{m.group(2)}", text)
    return text + "\\" if text.endswith("\\") and not text.endswith("\\\\") else text


def rich_width(environ: Mapping[str, str]) -> int:
    """The width rich lays text out in when it does not write to a terminal: ``COLUMNS``,
    else the first of stdin, stdout and stderr that is a terminal, else 80 (rich's
    ``Console.size``)."""
    columns = environ.get("COLUMNS")
    if columns is not None and columns.isdigit():
        return int(columns)
    for fd in (0, 1, 2):
        try:
            return os.get_terminal_size(fd).columns or 80
        except (AttributeError, ValueError, OSError):
            continue
    return 80
