"""``--hostile MODE``: a server that misbehaves on purpose, for tests of a client's defences.

Each mode is one thing a client must survive; modes combine.

- ``escapes``: every error ``message`` and every contact ``full_name`` in an answer carries
  terminal escape sequences (set the window title, write the clipboard with OSC 52, clear the
  screen, turn text red). A client must escape them before showing them.
- ``html``: every request is answered 200 with an HTML page: the URL points at a web site, not
  at the Dex API. Nothing is applied.
- ``500``: every request is answered 500 with a JSON error envelope. Nothing is applied.
- ``echo-key``: every error ``message`` repeats the ``Authorization`` header received, so a
  client that prints server messages must mask the key in them.

Nothing here changes the address book: ``escapes`` decorates answers, not stored contacts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dexbulk.sandbox.envelope import Response, failure

ESCAPES = "\x1b]0;PWNED\x07\x1b]52;c;UFdORUQ=\x07\x1b[2J\x1b[31m"
"""Set the window title, put "PWNED" on the clipboard (OSC 52), clear the screen, go red."""

NOT_DEX_HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Welcome</title></head>
<body><h1>Welcome to our website</h1>
<p>This is a web page, not the Dex API (dexbulk sandbox --hostile html).</p></body></html>
"""
"""What a wrong base URL might answer: a 200 web page."""

HOSTILE_500 = "Internal server error (dexbulk sandbox --hostile 500)"


class Hostile:
    """The hostile modes of one sandbox."""

    def __init__(self, modes: frozenset[str]) -> None:
        self.modes = modes

    def __bool__(self) -> bool:
        return bool(self.modes)

    def replacement(self) -> Response | None:
        """The answer that replaces the API's for every request (``html``, ``500``), or None."""
        if "html" in self.modes:
            return Response(200, NOT_DEX_HTML, content_type="text/html; charset=utf-8")
        if "500" in self.modes:
            return failure(500, HOSTILE_500)
        return None

    def decorate(self, response: Response, authorization: str | None) -> Response:
        """Add escapes and the echoed key to ``response`` as the modes ask; returns it."""
        body = response.body
        if not isinstance(body, dict):
            return response  # HTML pages stay as they are
        if body.get("error") is True and isinstance(body.get("message"), str):
            message = body["message"]
            if "escapes" in self.modes:
                message = ESCAPES + message
            if "echo-key" in self.modes:
                received = authorization if authorization is not None else "(none)"
                message += f" (received Authorization: {received})"
            response.body = {**body, "message": message}
        elif "escapes" in self.modes and "data" in body:
            response.body = {**body, "data": _escape_contacts(body["data"])}
        return response


def _escape_contacts(data: object) -> object:
    """``data`` with escapes in each contact's ``full_name`` (one contact, or ``items``)."""
    if not isinstance(data, Mapping):
        return data
    if "items" in data and isinstance(data["items"], list):
        return {**data, "items": [_escape_contact(i) for i in data["items"]]}
    return _escape_contact(data)


def _escape_contact(item: Any) -> Any:
    if isinstance(item, Mapping) and "full_name" in item:
        return {**item, "full_name": f"{ESCAPES}{item['full_name'] or ''}"}
    return item
