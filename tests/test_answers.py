"""Tests for dexbulk.answers: what one answer means, without HTTP (test_dex.py has it over HTTP)."""

from __future__ import annotations

import json

import pytest

from dexbulk.answers import Answer, Outcome

API = "https://dex.test/v1"
EXPRESS_404 = (
    "<!DOCTYPE html>\n<html lang='en'><body><pre>Cannot PUT /contacts/</pre></body></html>"
)
NOT_DEX = f"{API} does not look like the Dex API"


def answer(
    status: int | None,
    body: object = None,
    *,
    error: str | None = None,
    unreachable: bool = False,
    location: str | None = None,
) -> Answer:
    """An answer as the transport builds it: text, and the JSON when the text is JSON."""
    text = body if isinstance(body, str) else "" if body is None else json.dumps(body)
    payload = None if isinstance(body, str) or body is None else body
    return Answer(
        status, payload, error, 1, text, api_url=API, unreachable=unreachable, location=location
    )


# -- not the Dex API ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "location", "why"),
    [
        (404, EXPRESS_404, None, "HTTP 404"),
        (404, {"message": "Not Found"}, None, "HTTP 404"),
        (404, "", None, "HTTP 404"),
        (405, "Method Not Allowed", None, "HTTP 405"),
        (307, "", "https://api.prod.getdex.com/v1/contacts/", "HTTP 307 redirect to "
         "https://api.prod.getdex.com/v1/contacts/, not followed"),
        (301, "", None, "HTTP 301 redirect, not followed"),
        (200, "<html><title>Welcome</title></html>", None, "HTTP 200 with an HTML page"),
        (400, "<html>Bad Request</html>", None, "HTTP 400 with an HTML page"),
    ],
)  # fmt: skip
def test_answers_that_cannot_be_dex_stop_the_run(
    status: int, body: object, location: str | None, why: str
) -> None:
    reply = answer(status, body, location=location)
    assert reply.not_dex() == f"{NOT_DEX} ({why})"
    assert reply.classify() == Outcome("unreachable", status, None, f"{NOT_DEX} ({why})", 1)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (404, {"error": True, "message": "contact x not found"}),  # Dex's own 404
        (405, {"error": True, "message": "method not allowed"}),
        (413, "<html>413 Request Entity Too Large</html>"),  # a proxy's size limit: shrink
        (429, "<html>slow down</html>"),
        (502, "<html>Bad Gateway</html>"),  # a proxy in front of Dex: retried, then failed
        (200, {"error": False, "data": {"count": 1}}),
        (200, ""),
        (400, "Bad Request: contactId is not a uuid"),
    ],
)
def test_answers_that_may_be_dex_are_not_called_otherwise(status: int, body: object) -> None:
    assert answer(status, body).not_dex() is None
    assert answer(status, body).classify().kind != "unreachable"


# -- no answer at all ---------------------------------------------------------------------


def test_no_connection_is_unreachable_and_names_the_url() -> None:
    reply = answer(None, error="connection refused by dex.test:443", unreachable=True)
    reason = f"cannot reach {API}: connection refused by dex.test:443"
    assert reply.classify() == Outcome("unreachable", None, None, reason, 1)


def test_a_timeout_is_a_failure_of_this_request_only() -> None:
    reply = answer(None, error="timed out after 30 s waiting for dex.test")
    assert reply.classify() == Outcome(
        "failed", None, None, "timed out after 30 s waiting for dex.test", 1
    )


# -- unknown contacts ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "message", "kind"),
    [
        (404, "contact 3c90c3cc-0d44-4b50-8888-8dd25736052a not found", "not_found"),
        (404, "Not Found", "not_found"),  # a 404 in Dex's envelope: worth one read
        (400, "Contact not found", "not_found"),
        (400, "contacts do not exist: a, b", "not_found"),
        (422, "Unknown contactId 3c90", "not_found"),
        (400, "unknown contact_ids: a", "not_found"),
        (400, "no such contact", "not_found"),
        (400, "contactId 3c90 does not exist", "not_found"),
        (400, "invalid contactId", "rejected"),
        (400, "unknown field 'compnay'", "rejected"),
        (422, "tag 7 not found", "rejected"),
        (400, "contact 3c90: job_title too long. tag not found", "rejected"),
    ],
)
def test_a_refusal_naming_unknown_contacts_is_not_found(
    status: int, message: str, kind: str
) -> None:
    outcome = answer(status, {"error": True, "message": message}).classify()
    assert (outcome.kind, outcome.status, outcome.message) == (kind, status, message)


# -- the envelope -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "envelope"),
    [
        ({"error": False, "data": {"count": 3}}, True),
        ({"error": True, "message": "no"}, True),
        ({"data": {}}, True),
        ({"count": 3}, False),
        ([1, 2], False),
        ("<html></html>", False),
        (None, False),
    ],
)
def test_the_envelope(body: object, envelope: bool) -> None:
    assert answer(200, body).envelope is envelope
