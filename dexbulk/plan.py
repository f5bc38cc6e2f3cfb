"""A plan: the exact per-contact updates a run will send, whatever produced them.

Every way of choosing contacts and changes (flags, ``set``, patch files, and later filters,
previews that drop unchanged contacts, undo) ends in a :class:`Plan`, and every plan goes down
the same sending path (:func:`dexbulk.run.execute`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from dexbulk.ids import Selection
from dexbulk.patch import Patch, Update
from dexbulk.schema import JSON


@dataclass(frozen=True)
class Plan:
    """What to send: one :class:`Update` per contact, in input order, each contact once."""

    updates: Sequence[Update]
    command: str
    patch: Mapping[str, JSON] | None = None
    """The shared data object when every contact gets the same one."""
    duplicates: int = 0
    sources: tuple[str, ...] = field(default=())

    @property
    def total(self) -> int:
        """How many contacts the plan touches."""
        return len(self.updates)

    def batch_count(self, batch_size: int) -> int:
        """How many requests the plan takes at ``batch_size`` (before any splitting)."""
        return math.ceil(self.total / batch_size) if self.total else 0

    def first_body(self, batch_size: int) -> list[dict[str, JSON]]:
        """The body of the first request, exactly as it will be sent."""
        return [u.to_api() for u in self.updates[:batch_size]]


def plan_for_selection(selection: Selection, patch: Patch, command: str) -> Plan:
    """The same data object for every selected contact."""
    data = patch.data
    return Plan(
        updates=[Update(cid, data) for cid in selection.ids],
        command=command,
        patch=data,
        duplicates=selection.duplicates,
        sources=selection.sources,
    )


def plan_for_updates(
    updates: Sequence[Update], command: str, *, duplicates: int = 0, source: str = ""
) -> Plan:
    """Per-contact data objects, as read from a file in the API's own shape."""
    return Plan(
        updates=updates,
        command=command,
        duplicates=duplicates,
        sources=(source,) if source else (),
    )
