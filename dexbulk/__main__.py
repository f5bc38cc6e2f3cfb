"""Entry point for ``python -m dexbulk`` and the ``dexbulk`` console script."""

from __future__ import annotations

import atexit
import gc
from collections.abc import Sequence

GC_THRESHOLD = 10_000
"""New objects between two rounds of the cycle collector during a command (Python's is 700)."""

_exit_hook: list[bool] = []


def main(argv: Sequence[str] | None = None) -> None:
    """Run the dexbulk command line on ``argv`` (default: ``sys.argv[1:]``); always exits.

    A command loads Typer, requests and dexbulk: objects that all live until the end. At
    Python's default threshold the cycle collector searched them over and over while they were
    loaded, ~15 ms of a one-contact ``star`` (docs/performance.md, "A fast start"); garbage is
    still collected, in larger rounds. The threshold is put back when the command ends, for a
    caller that goes on (tests run commands in-process).
    """
    if not _exit_hook:
        _exit_hook.append(True)
        atexit.register(_freeze_heap)
    threshold = gc.get_threshold()
    gc.set_threshold(GC_THRESHOLD, *threshold[1:])
    try:
        from dexbulk.cli.app import run

        run(argv)
    finally:
        gc.set_threshold(*threshold)


def _freeze_heap() -> None:
    """At exit, spare the interpreter a last search of the whole heap for garbage cycles.

    Python's shutdown runs the cycle collector over every object still alive: for the modules a
    command imports (Typer, requests, dexbulk) that took about 50 ms of CPU, a sixth of a
    one-contact ``star`` (docs/performance.md, "A fast start"). Frozen objects are still freed
    as their modules are torn down; only cycles among them are left to the operating system.
    The run is over by then: its journal is sealed, its files closed, its output flushed.
    """
    gc.freeze()


if __name__ == "__main__":
    main()
