"""dexbulk: bulk-update contacts in Dex through its public API.

The library works without the command line (see docs/library.md)::

    import dexbulk

    plan = dexbulk.Plan.for_ids(ids, dexbulk.Patch.parse(["company=Acme"]))
    result = dexbulk.send(plan, api_key="dex_...")
    print(result.summary())

Importing this package is cheap on purpose: the names below load their modules on first use,
so ``dexbulk --version`` starts instantly and ``import dexbulk`` never loads the CLI.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "send": "dexbulk.engine",
    "execute": "dexbulk.engine",
    "SendOptions": "dexbulk.engine",
    "RunResult": "dexbulk.engine",
    "Dex": "dexbulk.dex",
    "Plan": "dexbulk.plan",
    "Patch": "dexbulk.plan",
    "Update": "dexbulk.plan",
    "ContactResult": "dexbulk.batches",
    "ContactState": "dexbulk.batches",
    "ApiKey": "dexbulk.secret",
    "DEFAULT_API_URL": "dexbulk.settings",
    "DexbulkError": "dexbulk.errors",
    "InvalidInput": "dexbulk.errors",
    "ApiError": "dexbulk.errors",
    "AuthRefused": "dexbulk.errors",
    "ExitCode": "dexbulk.errors",
}

__all__ = [  # noqa: RUF022  (grouped as _EXPORTS is)
    "__version__", "send", "execute", "SendOptions", "RunResult", "Dex", "Plan", "Patch",
    "Update", "ContactResult", "ContactState", "ApiKey", "DEFAULT_API_URL", "DexbulkError",
    "InvalidInput", "ApiError", "AuthRefused", "ExitCode",
]  # fmt: skip

if TYPE_CHECKING:
    from dexbulk.batches import ContactResult, ContactState
    from dexbulk.dex import Dex
    from dexbulk.engine import RunResult, SendOptions, execute, send
    from dexbulk.errors import ApiError, AuthRefused, DexbulkError, ExitCode, InvalidInput
    from dexbulk.plan import Patch, Plan, Update
    from dexbulk.secret import ApiKey
    from dexbulk.settings import DEFAULT_API_URL


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dexbulk' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
