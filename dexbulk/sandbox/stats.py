"""Request counters, served at ``GET /_sandbox/stats`` for tests and benchmarks."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

PUT_ROUTE = "PUT /v1/contacts"
MEMBERSHIP_ROUTES = {
    "POST /v1/tags/contacts/add": "tags_add",
    "POST /v1/tags/contacts/remove": "tags_remove",
    "PUT /v1/groups/{id}/contacts": "groups_add",
    "POST /v1/groups/{id}/contacts": "groups_remove",
}
"""Routes that change tag or group membership, and their key in ``membership_contacts``."""
PUT_MEMBERSHIP_FIELDS = {
    "tags_contacts": "put_tags_contacts",
    "groups_contacts": "put_groups_contacts",
}
"""PUT ``data`` fields that change membership, and their key in ``membership_contacts``."""
COUNTED_BODIES = frozenset({PUT_ROUTE, *MEMBERSHIP_ROUTES})
"""Routes whose body the stats look into."""
OTHER = "other"
"""The ``by_route`` label of requests no route takes."""


class Stats:
    """Thread-safe counters of what clients did to the sandbox.

    Only API traffic counts: ``/_sandbox/*`` polls are left out, so a benchmark that watches the
    stats does not disturb them. ``connections`` counts sockets that carried at least one API
    request, which is what keep-alive is judged by.

    What was *sent* (``by_route``, ``put_items``, ``membership_contacts``) is counted when a
    request arrives, whatever its answer (a 429 or a dropped connection too); what was
    *applied* (``contacts_updated``) only on success.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests = 0
        self._connections = 0
        self._put_requests = 0
        self._put_items = 0
        self._contacts_updated = 0
        self._dropped = 0
        self._by_status: dict[str, int] = {}
        self._by_route: dict[str, int] = {}
        self._membership = dict.fromkeys(
            [*MEMBERSHIP_ROUTES.values(), *PUT_MEMBERSHIP_FIELDS.values()], 0
        )

    def connection(self) -> None:
        """A socket carried its first API request."""
        with self._lock:
            self._connections += 1

    def received(self, route: str, body: object) -> None:
        """A request for ``route`` (a label, or :data:`OTHER`) arrived with JSON ``body``
        (None when it is not JSON or not looked into)."""
        put_items, membership = _census(route, body)
        with self._lock:
            self._by_route[route] = self._by_route.get(route, 0) + 1
            self._put_items += put_items
            for key, count in membership.items():
                self._membership[key] += count

    def dropped(self) -> None:
        """A request was answered by closing the connection."""
        with self._lock:
            self._requests += 1
            self._dropped += 1

    def answered(self, status: int, *, is_put: bool, updated: int) -> None:
        """A request got an answer with ``status``; a bulk PUT updated ``updated`` contacts."""
        with self._lock:
            self._requests += 1
            self._by_status[str(status)] = self._by_status.get(str(status), 0) + 1
            if is_put:
                self._put_requests += 1
            self._contacts_updated += updated

    def snapshot(self) -> dict[str, Any]:
        """The counters as a JSON-ready dict."""
        with self._lock:
            return {
                "requests": self._requests,
                "connections": self._connections,
                "put_requests": self._put_requests,
                "put_items": self._put_items,
                "contacts_updated": self._contacts_updated,
                "by_status": dict(sorted(self._by_status.items())),
                "by_route": dict(sorted(self._by_route.items())),
                "membership_contacts": dict(self._membership),
                "dropped": self._dropped,
            }


def _census(route: str, body: object) -> tuple[int, dict[str, int]]:
    """Contacts in a PUT body, and contacts per membership change, as sent."""
    if route == PUT_ROUTE and isinstance(body, list):
        membership = dict.fromkeys(PUT_MEMBERSHIP_FIELDS.values(), 0)
        for item in body:
            data = item.get("data") if isinstance(item, Mapping) else None
            for name, key in PUT_MEMBERSHIP_FIELDS.items():
                if isinstance(data, Mapping) and name in data:
                    membership[key] += 1
        return len(body), membership
    if route in MEMBERSHIP_ROUTES and isinstance(body, Mapping):
        ids = body.get("contactIds")
        return 0, {MEMBERSHIP_ROUTES[route]: len(ids) if isinstance(ids, list) else 0}
    return 0, {}
