"""Entry point for ``python -m dexbulk`` and the ``dexbulk`` console script."""

from __future__ import annotations


def main() -> None:
    """Run the dexbulk command line."""
    from dexbulk.cli import run

    run()


if __name__ == "__main__":
    main()
