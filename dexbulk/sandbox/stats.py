"""Request counters, served at ``GET /_sandbox/stats`` for tests and benchmarks."""

from __future__ import annotations

import threading
from typing import Any


class Stats:
    """Thread-safe counters of what clients did to the sandbox.

    Only API traffic counts: ``/_sandbox/*`` polls are left out, so a benchmark that watches the
    stats does not disturb them. ``connections`` counts sockets that carried at least one API
    request, which is what keep-alive is judged by.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests = 0
        self._connections = 0
        self._put_requests = 0
        self._contacts_updated = 0
        self._dropped = 0
        self._by_status: dict[str, int] = {}

    def connection(self) -> None:
        """A socket carried its first API request."""
        with self._lock:
            self._connections += 1

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
                "contacts_updated": self._contacts_updated,
                "by_status": dict(sorted(self._by_status.items())),
                "dropped": self._dropped,
            }
