"""``python -m dexbulk.sandbox``: run the sandbox in the foreground without the Typer CLI.

The flags come from :data:`dexbulk.sandbox.options.FLAGS`; argparse only collects their text and
:func:`~dexbulk.sandbox.options.options_from_flags` parses it, as the Typer command does.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from dexbulk.errors import DexbulkError, InvalidInput
from dexbulk.sandbox.options import FLAGS, Flag, options_from_flags
from dexbulk.sandbox.server import serve

EXAMPLE = "example: python -m dexbulk.sandbox --port 8765 --rate-limit 5/s --fail-rate 0.05"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: one argument per :class:`Flag`, grouped by its panel."""
    parser = argparse.ArgumentParser(
        prog="python -m dexbulk.sandbox",
        description="Run a local Dex API sandbox for rehearsing dexbulk runs.",
        epilog=EXAMPLE,
    )
    groups: dict[str, Any] = {}
    for flag in FLAGS:
        if flag.panel not in groups:
            groups[flag.panel] = parser.add_argument_group(flag.panel.lower())
        _add(groups[flag.panel], flag)
    return parser


def _add(group: Any, flag: Flag) -> None:
    # argparse formats help with %: a literal one must be doubled.
    text = flag.help.replace("%", "%%")
    if flag.default_text is not None:
        text += f" (default: {flag.default_text})"
    # default=None everywhere: "not given" lets options_from_flags apply the table's default.
    if flag.is_switch:
        group.add_argument(*flag.names, dest=flag.field, action="store_true", default=None,
                           help=text)  # fmt: skip
        return
    action = "append" if flag.repeatable else "store"
    group.add_argument(*flag.names, dest=flag.field, action=action, default=None,
                       metavar=flag.metavar, help=text)  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv``, serve until interrupted, return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        options = options_from_flags(vars(args))
    except InvalidInput as error:
        parser.error(error.message)
    try:
        serve(options, out=sys.stdout, err=sys.stderr)
    except DexbulkError as error:  # e.g. the port is taken
        print(f"error: {error.message}", file=sys.stderr)
        if error.hint:
            print(f"hint: {error.hint}", file=sys.stderr)
        return int(error.exit_code)
    except OSError as error:
        print(f"error: {error.strerror or error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
