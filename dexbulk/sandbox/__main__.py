"""``python -m dexbulk.sandbox``: run the sandbox in the foreground without the Typer CLI."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from dexbulk.errors import InvalidInput
from dexbulk.sandbox.options import (
    DEFAULT_API_KEY,
    UNKNOWN_ID_MODES,
    SandboxOptions,
    parse_contact_id,
    parse_probability,
    parse_rate,
    parse_unknown_ids,
)
from dexbulk.sandbox.server import serve

T = TypeVar("T")


def _arg(parse: Callable[[str], T]) -> Callable[[str], T]:
    """Adapt a parser so argparse shows its message instead of a generic one."""

    def wrapped(text: str) -> T:
        try:
            return parse(text)
        except InvalidInput as error:
            raise argparse.ArgumentTypeError(error.message) from None

    wrapped.__name__ = parse.__name__
    return wrapped


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; each flag maps to one :class:`SandboxOptions` field."""
    parser = argparse.ArgumentParser(
        prog="python -m dexbulk.sandbox",
        description="Run a local Dex API sandbox for rehearsing dexbulk runs.",
        epilog="example: python -m dexbulk.sandbox --port 8765 --rate-limit 5/s --fail-rate 0.05",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default %(default)s)")
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one")
    parser.add_argument("--db", type=Path, help="SQLite file (default: the user data dir)")
    parser.add_argument("--fresh", action="store_true", help="drop the stored book and reseed")
    parser.add_argument("--seed", type=int, default=42, help="seed of the address book")
    parser.add_argument("--contacts", type=int, default=300, help="how many contacts to seed")
    parser.add_argument("--key", default=DEFAULT_API_KEY, help="the API key the sandbox expects")
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        metavar="MS",
        help="latency per request in ms (±20%% jitter)",
    )
    parser.add_argument(
        "--fail-rate",
        type=_arg(parse_probability),
        default=0.0,
        metavar="P",
        help="probability of a random 500/502/503",
    )
    parser.add_argument(
        "--rate-limit",
        type=_arg(parse_rate),
        metavar="N/S",
        help="requests per second (e.g. 5/s); over it → 429 + Retry-After",
    )
    parser.add_argument(
        "--max-batch", type=int, metavar="N", help="PUT bodies with more contacts get 413"
    )
    parser.add_argument(
        "--drop-rate",
        type=_arg(parse_probability),
        default=0.0,
        metavar="P",
        help="probability of closing the connection without an answer",
    )
    parser.add_argument(
        "--reject",
        type=_arg(parse_contact_id),
        action="append",
        default=[],
        metavar="ID",
        help="a batch containing this contact gets 400 (repeatable)",
    )
    parser.add_argument(
        "--unknown-ids",
        type=_arg(parse_unknown_ids),
        default="skip",
        choices=UNKNOWN_ID_MODES,
        help="unknown contacts in a batch: skip them, or reject the batch (404)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv``, serve until interrupted, return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        options = SandboxOptions(
            host=args.host,
            port=args.port,
            db_path=args.db,
            fresh=args.fresh,
            seed=args.seed,
            contacts=args.contacts,
            api_key=args.key,
            latency_ms=args.latency,
            fail_rate=args.fail_rate,
            rate_limit=args.rate_limit,
            max_batch=args.max_batch,
            drop_rate=args.drop_rate,
            reject_ids=frozenset(args.reject),
            unknown_ids=args.unknown_ids,
        )
    except InvalidInput as error:
        parser.error(error.message)
    try:
        serve(options, out=sys.stdout, err=sys.stderr)
    except OSError as error:  # e.g. the port is taken
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
