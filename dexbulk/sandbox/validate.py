"""Checking a ``PUT /v1/contacts/`` body before anything is applied.

Field rules come from :mod:`dexbulk.values`, the same table the CLI validates patches with, so the
sandbox and the client agree on what Dex accepts. :func:`validate_fields` is the one place that
knows about that module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dexbulk.errors import InvalidInput
from dexbulk.sandbox.envelope import ApiFailure
from dexbulk.values import normalize_uuid, validate_data


def validate_fields(data: Mapping[str, object]) -> dict[str, Any]:
    """Validate one contact's ``data`` object; raise :class:`InvalidInput` naming the field."""
    if not data:
        # The CLI refuses an empty patch, but an empty update is harmless for Dex [assumed]:
        # it is accepted, touches updated_at and counts.
        return {}
    return dict(validate_data(data))


def parse_batch(body: object) -> list[tuple[str, dict[str, Any]]]:
    """Turn a parsed PUT body into ``(contact_id, data)`` pairs; 400 naming the bad item.

    IDs come back in canonical lowercase form so the store can compare them.
    """
    if not isinstance(body, list):
        raise ApiFailure(400, "body must be a JSON array of {contactId, data} objects")
    items: list[tuple[str, dict[str, Any]]] = []
    for index, item in enumerate(body):
        if not isinstance(item, Mapping):
            raise ApiFailure(400, f"item {index}: expected an object with contactId and data")
        contact_id = item.get("contactId")
        canonical = normalize_uuid(contact_id) if isinstance(contact_id, str) else None
        if canonical is None:
            raise ApiFailure(400, f"item {index}: contactId {contact_id!r} is not a UUID")
        data = item.get("data")
        if not isinstance(data, Mapping):
            raise ApiFailure(400, f"item {index}: data must be an object")
        try:
            items.append((canonical, validate_fields(data)))
        except InvalidInput as error:
            raise ApiFailure(400, f"item {index} (contact {canonical}): {error.message}") from None
    return items
