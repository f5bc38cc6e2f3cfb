"""rich's console, made safe: text segments never carry a control character to the terminal.

Imported only when rich draws something (a terminal, a table, text a plain console cannot
write itself): see :func:`dexbulk.cli.console.make_console`.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console, ConsoleOptions, RenderableType
from rich.segment import Segment

from dexbulk.text import has_controls, printable


class SafeConsole(Console):
    """A console that never writes a control character it did not make itself.

    rich's own escape codes (colours, cursor moves) are kept; text segments with C0/C1 controls
    in them (from a renderable that was not escaped first) are shown escaped instead.
    """

    def render(
        self, renderable: RenderableType, options: ConsoleOptions | None = None
    ) -> Iterable[Segment]:
        """rich's rendering, with control characters in text made visible."""
        for segment in super().render(renderable, options):
            if segment.control is None and has_controls(segment.text):
                yield Segment(printable(segment.text), segment.style)
            else:
                yield segment
