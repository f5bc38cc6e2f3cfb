"""dexbulk: bulk-update contacts in Dex through its public API.

The library is usable without the CLI::

    from dexbulk.send import execute
    from dexbulk.plan import build_plan

Importing this package is cheap on purpose: it pulls in nothing heavier than the standard
library, so ``dexbulk --version`` starts instantly.
"""

__version__ = "0.1.0"
