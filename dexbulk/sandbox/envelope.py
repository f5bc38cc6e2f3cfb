"""Requests as routes see them, Dex's response envelopes, and the exception behind errors.

Every ``/v1`` answer is ``{"error": false, "data": {...}}`` or
``{"error": true, "message": "..."}`` (dex-api.md, Basics). Route code raises
:class:`ApiFailure` and the HTTP layer turns it into the error envelope, so no route has to
remember the envelope shape.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import Any

Contact = dict[str, Any]
"""One contact as JSON: Dex's data is free-form, so values stay ``Any``."""


class ApiFailure(Exception):
    """An error answer: HTTP ``status`` with ``{"error": true, "message": message}``."""

    def __init__(self, status: int, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


_UNPARSED: Any = object()
_INVALID: Any = object()


@dataclass
class Request:
    """An HTTP request reduced to what routes need."""

    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    params: dict[str, str] = field(default_factory=dict)
    _json: Any = field(default=_UNPARSED, repr=False, compare=False)

    def json(self) -> Any:
        """The body parsed as JSON (once; the stats and the route share it); 400 when it is
        not JSON."""
        if self._json is _UNPARSED:
            try:
                self._json = json.loads(self.body or b"null")
            except ValueError:
                self._json = _INVALID
        if self._json is _INVALID:
            raise ApiFailure(400, "request body is not valid JSON")
        return self._json


@dataclass
class Response:
    """What a route answers; ``note`` goes into the request log (``100 contacts``)."""

    status: int
    body: object
    headers: dict[str, str] = field(default_factory=dict)
    note: str = ""
    content_type: str = "application/json; charset=utf-8"
    updated: int = 0
    """Contacts this request updated (PUT only), for the stats."""


def ok(data: object, *, note: str = "", updated: int = 0) -> Response:
    """A 200 success envelope around ``data``."""
    return Response(200, {"error": False, "data": data}, note=note, updated=updated)


def failure(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """An error envelope; Dex puts the reason in ``message``."""
    return Response(status, {"error": True, "message": message}, headers=dict(headers or {}))


BLOCKED_HTML = """<!DOCTYPE html>
<html lang="en-US"><head><title>Attention Required! | Cloudflare</title></head>
<body><h1>Sorry, you have been blocked</h1>
<p>You are unable to access api.prod.getdex.com (Dex sandbox: the request had no User-Agent).</p>
</body></html>
"""
"""What Cloudflare in front of Dex answers (403, HTML) to a request without a User-Agent."""


def blocked() -> Response:
    """The Cloudflare-style 403 with an HTML body, not a JSON envelope."""
    return Response(403, BLOCKED_HTML, content_type="text/html; charset=utf-8")


EXPRESS_NOT_FOUND = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Error</title>
</head>
<body>
<pre>Cannot {method} {path}</pre>
</body>
</html>
"""
"""Express's default 404 page (finalhandler), which Dex's server answers outside its routes."""


def express_not_found(method: str, path: str) -> Response:
    """The HTML 404 Express answers for a path no route takes, e.g. ``/contacts/`` without /v1."""
    body = EXPRESS_NOT_FOUND.format(method=method, path=html.escape(path, quote=False))
    headers = {"Content-Security-Policy": "default-src 'none'", "X-Content-Type-Options": "nosniff"}
    return Response(404, body, headers=headers, content_type="text/html; charset=utf-8")
