"""Entry point for ``python -m dexbulk`` and the ``dexbulk`` console script."""

from __future__ import annotations

import atexit
import gc
from collections.abc import Sequence

_exit_hook: list[bool] = []


def main(argv: Sequence[str] | None = None) -> None:
    """Run the dexbulk command line on ``argv`` (default: ``sys.argv[1:]``); always exits."""
    if not _exit_hook:
        _exit_hook.append(True)
        atexit.register(_freeze_heap)
    from dexbulk.cli.app import run

    run(argv)


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
