"""The frozen results of parsing a patch: :class:`Update`, :class:`Patch`, :class:`UpdateList`.

They are re-exported by :mod:`dexbulk.patch`, where the rest of dexbulk imports them from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from dexbulk.schema import JSON, quote


@dataclass(frozen=True, slots=True)
class Update:
    """One contact's change: the unit of the ``PUT /v1/contacts/`` body."""

    contact_id: str
    data: Mapping[str, JSON]

    def to_api(self) -> dict[str, JSON]:
        """The JSON object the API expects: ``{"contactId": ..., "data": {...}}``."""
        return {"contactId": self.contact_id, "data": dict(self.data)}


@dataclass(frozen=True)
class Patch:
    """One data object, applied unchanged to every selected contact."""

    data: Mapping[str, JSON]

    def for_contact(self, contact_id: str) -> Update:
        """This patch as the update of one contact."""
        return Update(contact_id, self.data)

    def describe(self) -> str:
        """A short summary for people: ``set company='Acme', starred=true; clear birthday``."""
        sets = [f"{name}={quote(value)}" for name, value in self.data.items() if value is not None]
        clears = [name for name, value in self.data.items() if value is None]
        parts = (["set " + ", ".join(sets)] if sets else []) + (
            ["clear " + ", ".join(clears)] if clears else []
        )
        return "; ".join(parts) or "no change"


class UpdateList(list[Update]):
    """Per-contact updates read from a file, with what was left out while reading them."""

    def __init__(
        self, updates: Iterable[Update] = (), *, duplicates: int = 0, skipped_rows: int = 0
    ) -> None:
        super().__init__(updates)
        self.duplicates = duplicates
        """Repeats of a contact with identical data, dropped."""
        self.skipped_rows = skipped_rows
        """CSV rows with an ID but no value to change, skipped."""
