"""Entry point for ``python -m dexbulk`` and the ``dexbulk`` console script."""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> None:
    """Run the dexbulk command line on ``argv`` (default: ``sys.argv[1:]``); always exits."""
    from dexbulk.cli.app import run

    run(argv)


if __name__ == "__main__":
    main()
