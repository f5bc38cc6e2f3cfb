"""The process around a run: Ctrl-C and SIGTERM handling, and the ``-v``/``--debug`` request log.

Signals are handled in the main thread only; the log never carries the key and shows Dex's
words with their control characters escaped.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING

from dexbulk.cli.options import OutputArgs

if TYPE_CHECKING:
    from rich.console import Console


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
    log_requests(stream, verbose=output.verbose, debug=output.debug)


def log_requests(stream: IO[str], *, verbose: bool, debug: bool = False) -> None:
    """:func:`configure_logging` for commands without the whole Output panel."""
    logger = logging.getLogger("dexbulk.http")
    if not (verbose or debug):
        # Set every time: a handler left by an earlier run in this process (a notebook, a test)
        # would write to a stream that may be closed by now.
        logger.handlers.clear()
        return
    handler = logging.StreamHandler(stream)
    handler.setFormatter(PrintableFormatter("%(message)s"))
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG if debug else logging.INFO)
    logger.propagate = False
