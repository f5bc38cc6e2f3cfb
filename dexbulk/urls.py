"""Checking the API base URL before any key is sent to it."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from dexbulk.errors import InvalidInput

DEFAULT_API_URL = "https://api.prod.getdex.com/v1"


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_api_url(url: str, *, source: str = "--api-url") -> str:
    """Return ``url`` without a trailing slash, or raise if a key sent there could leak.

    Plain ``http://`` is refused except for loopback hosts (the local sandbox), so the key is
    never sent in clear text over a network.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidInput(
            f"{source}: {url!r} is not an API URL (expected https://host/v1, "
            f"e.g. {DEFAULT_API_URL})"
        )
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise InvalidInput(
            f"{source}: {url!r} uses plain http; the API key would travel in clear text "
            "(use https, or http only for 127.0.0.1/localhost)"
        )
    return url.strip().rstrip("/")
