"""Tests for dexbulk.dex: the request sent, the classification of answers, retries, pacing."""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import random
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
import urllib3
from responses import matchers
from responses.registries import OrderedRegistry
from urllib3 import HTTPResponse
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError, ProtocolError

from dexbulk import __version__
from dexbulk.answers import Outcome
from dexbulk.dex import Dex, encode_batch
from dexbulk.errors import ApiError, AuthRefused, ExitCode, NotDexApi, Unreachable
from dexbulk.plan import Update
from dexbulk.ratelimit import RateLimiter
from dexbulk.secret import ApiKey
from dexbulk.transport import (
    MAX_BACKOFF,
    MAX_RETRY_AFTER,
    THROTTLE_RETRIES,
    DexRetry,
    NetworkFailure,
    network_failure,
)
from tests.conftest import TEST_KEY
from tests.fakes import FakeTime

API = "https://dex.test/v1"
PUT_URL = f"{API}/contacts/"
FILTER_URL = f"{API}/contacts/filter"
A = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
B = "0b5e7f0a-1111-4222-8333-944455556666"
C = "ffffffff-ffff-4fff-8fff-ffffffffffff"


def cid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def ordered() -> Iterator[responses.RequestsMock]:
    """Registered answers are given once each, in order: the way to script retries."""
    with responses.RequestsMock(registry=OrderedRegistry) as mock:
        yield mock


def make_client(
    fake_time: FakeTime,
    *,
    max_attempts: int = 5,
    limiter: RateLimiter | None = None,
    throttle_retries: int = THROTTLE_RETRIES,
) -> Dex:
    return Dex(
        API, ApiKey(TEST_KEY, "test"), max_attempts=max_attempts, limiter=limiter,
        sleeper=fake_time.sleep, throttle_retries=throttle_retries,
    )  # fmt: skip


UPDATES = [Update(A, {"company": "Acme", "starred": True}), Update(B, {"birthday": None})]


# -- the request ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("updates", "body"),
    [
        (
            UPDATES,
            f'[{{"contactId":"{A}","data":{{"company":"Acme","starred":true}}}},'
            f'{{"contactId":"{B}","data":{{"birthday":null}}}}]',
        ),
        (
            [Update(C, {"full_name": "Zoë Ångström", "contact_emails": [{"email": "z@x.io"}]})],
            f'[{{"contactId":"{C}","data":{{"full_name":"Zoë Ångström",'
            f'"contact_emails":[{{"email":"z@x.io"}}]}}}}]',
        ),
        (
            [Update(A, {"tags_contacts": {"append": [{"tag_id": B}]}, "birthday_year": 1990})],
            f'[{{"contactId":"{A}","data":{{"tags_contacts":{{"append":[{{"tag_id":"{B}"}}]}},'
            f'"birthday_year":1990}}}}]',
        ),
    ],
)
def test_put_sends_the_exact_compact_body(
    rsps: responses.RequestsMock, fake_time: FakeTime, updates: list[Update], body: str
) -> None:
    rsps.put(PUT_URL, json={"error": False, "data": {"count": len(updates)}})
    outcome = make_client(fake_time).put_contacts(updates)
    assert outcome == Outcome("ok", 200, len(updates), None, 1)
    assert len(rsps.calls) == 1
    request = rsps.calls[0].request
    assert request.method == "PUT"
    assert request.url == PUT_URL
    assert request.body == body.encode("utf-8")
    assert encode_batch(updates) == body.encode("utf-8")


def test_put_sends_auth_content_type_and_user_agent(
    rsps: responses.RequestsMock, fake_time: FakeTime
) -> None:
    rsps.put(PUT_URL, json={"error": False, "data": {"count": 2}})
    make_client(fake_time).put_contacts(UPDATES)
    headers = rsps.calls[0].request.headers
    assert headers["Authorization"] == f"Bearer {TEST_KEY}"
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == f"dexbulk/{__version__}"


def test_trailing_slash_of_the_api_url_is_not_doubled(
    rsps: responses.RequestsMock, fake_time: FakeTime
) -> None:
    rsps.put(PUT_URL, json={"error": False, "data": {"count": 2}})
    client = Dex(API + "/", ApiKey(TEST_KEY), sleeper=fake_time.sleep)
    client.put_contacts(UPDATES)
    assert rsps.calls[0].request.url == PUT_URL


def test_redirects_are_not_followed(rsps: responses.RequestsMock, fake_time: FakeTime) -> None:
    rsps.put(PUT_URL, status=302, headers={"Location": "https://elsewhere.test/v1/contacts/"})
    outcome = make_client(fake_time).put_contacts(UPDATES)
    assert outcome.kind == "unreachable", "a redirect means a wrong URL: the run stops"
    assert outcome.status == 302
    assert outcome.message == (
        f"{API} does not look like the Dex API "
        "(HTTP 302 redirect to https://elsewhere.test/v1/contacts/, not followed)"
    )
    assert len(rsps.calls) == 1


# -- classification ------------------------------------------------------------------------

HTML = "<html><body><h1>Not Found</h1></body></html>"


@pytest.mark.parametrize(
    ("status", "body", "kind", "count", "message"),
    [
        (200, {"error": False, "data": {"count": 2}}, "ok", 2, None),
        (200, {"error": False, "data": {"count": 1}}, "ok", 1, None),
        (200, {"error": False, "data": {}}, "ok", None, None),
        (200, {"error": False}, "ok", None, None),
        (200, {"error": False, "data": {"count": True}}, "ok", None, None),
        (200, "", "ok", None, None),
        (200, {"error": True, "message": "contact locked"}, "rejected", None, "contact locked"),
        (200, {"error": True, "errors": [{"field": "x"}]}, "rejected", None, '"field": "x"'),
        (400, {"error": True, "message": "invalid contactId"}, "rejected", None,
         "invalid contactId"),
        (422, {"error": True, "message": "first_name must be a string"}, "rejected", None,
         "first_name must be a string"),
        (400, {"error": "Invalid contactId"}, "rejected", None, "Invalid contactId"),
        (400, {"detail": "bad body"}, "rejected", None, "bad body"),
        (400, {"error": True, "data": {"message": "nested words"}}, "rejected", None,
         "nested words"),
        (400, "Bad Request: contactId is not a uuid", "rejected", None,
         "Bad Request: contactId is not a uuid"),
        (400, {"error": True}, "rejected", None, '{"error": true}'),
        (400, "", "rejected", None, "HTTP 400"),
        (422, HTML, "unreachable", None, "does not look like the Dex API (HTTP 422 with an HTML"),
        (200, HTML, "unreachable", None, "does not look like the Dex API (HTTP 200 with an HTML"),
        (400, {"error": True, "message": "Too many contacts in one request"}, "too_large", None,
         "Too many contacts in one request"),
        (422, {"error": "batch size above 100"}, "too_large", None, "batch size above 100"),
        (413, "Payload Too Large", "too_large", None, "Payload Too Large"),
        (400, {"error": True, "message": "array must contain at most 100 items"}, "too_large",
         None, "array must contain at most 100 items"),
        (400, {"error": True, "message": "Request body too large"}, "too_large", None,
         "Request body too large"),
        (422, {"error": True, "message": "maximum 50 contacts per request"}, "too_large", None,
         "maximum 50 contacts per request"),
        (400, {"error": True, "message": "job_title exceeds max length of 100"}, "rejected",
         None, "job_title exceeds max length of 100"),
        (400, {"error": True, "message": "too many tags on contact"}, "rejected", None,
         "too many tags on contact"),
        (422, {"error": True, "message": "note: value too long for the limit"}, "rejected",
         None, "note: value too long for the limit"),
        (413, HTML, "too_large", None, "batch too large"),
        (404, {"error": True, "message": "Contact not found"}, "not_found", None,
         "Contact not found"),
        (404, {"error": True, "message": "tag 1 not found"}, "not_found", None, "tag 1 not found"),
        (400, {"error": True, "message": "contact 3c90 not found"}, "not_found", None,
         "contact 3c90 not found"),
        (422, {"error": True, "message": "Unknown contactId 3c90"}, "not_found", None,
         "Unknown contactId 3c90"),
        (400, {"error": True, "message": "unknown field 'x'"}, "rejected", None,
         "unknown field 'x'"),
        (404, HTML, "unreachable", None, f"{API} does not look like the Dex API (HTTP 404)"),
        (404, {"detail": "Not Found"}, "unreachable", None, "does not look like the Dex API"),
        (405, "Method Not Allowed", "unreachable", None, "like the Dex API (HTTP 405)"),
        (405, {"error": True, "message": "method not allowed"}, "failed", None,
         "HTTP 405: method not allowed"),
        (409, "conflict", "failed", None, "HTTP 409: conflict"),
    ],
)  # fmt: skip
def test_answers_are_classified(
    rsps: responses.RequestsMock,
    fake_time: FakeTime,
    status: int,
    body: object,
    kind: str,
    count: int | None,
    message: str | None,
) -> None:
    if isinstance(body, str):
        content_type = "text/html" if body.startswith("<") else "text/plain"
        rsps.put(PUT_URL, status=status, body=body, content_type=content_type)
    else:
        rsps.put(PUT_URL, status=status, json=body)
    outcome = make_client(fake_time).put_contacts(UPDATES)
    assert (outcome.kind, outcome.status, outcome.count) == (kind, status, count)
    assert outcome.attempts == 1
    assert len(rsps.calls) == 1, "4xx and 2xx answers are never retried"
    if message is None:
        assert outcome.message is None
    else:
        assert outcome.message is not None
        assert message in outcome.message
        assert TEST_KEY not in outcome.message


@pytest.mark.parametrize(
    ("status", "body", "words"),
    [
        (401, {"error": True, "message": "Invalid API key"}, "HTTP 401 (Invalid API key)"),
        (401, "", "HTTP 401"),
        (403, {"error": True, "message": "Plan required"}, "HTTP 403 (Plan required)"),
        (403, "<!DOCTYPE html><html>Attention Required! | Cloudflare</html>", "blocked"),
    ],
)
def test_auth_refusals_raise_without_the_key(
    rsps: responses.RequestsMock, fake_time: FakeTime, status: int, body: object, words: str
) -> None:
    if isinstance(body, str):
        rsps.put(PUT_URL, status=status, body=body, content_type="text/html")
    else:
        rsps.put(PUT_URL, status=status, json=body)
    with pytest.raises(AuthRefused) as excinfo:
        make_client(fake_time).put_contacts(UPDATES)
    error = excinfo.value
    assert words in str(error)
    assert error.status == status
    assert error.exit_code == ExitCode.AUTH
    assert int(error.exit_code) == 3
    assert TEST_KEY not in str(error)
    assert TEST_KEY not in (error.hint or "")
    assert len(rsps.calls) == 1


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (500, {"error": True, "message": "database down"}, "HTTP 500: database down"),
        (502, "<html>Bad Gateway</html>", "HTTP 502"),
        (503, "upstream busy", "HTTP 503: upstream busy"),
    ],
)
@pytest.mark.parametrize("max_attempts", [1, 3, 5])
def test_server_errors_fail_after_every_attempt(
    rsps: responses.RequestsMock,
    fake_time: FakeTime,
    status: int,
    body: object,
    message: str,
    max_attempts: int,
) -> None:
    if isinstance(body, str):
        rsps.put(PUT_URL, status=status, body=body)
    else:
        rsps.put(PUT_URL, status=status, json=body)
    outcome = make_client(fake_time, max_attempts=max_attempts).put_contacts(UPDATES)
    assert outcome == Outcome("failed", status, None, message, max_attempts)
    assert len(rsps.calls) == max_attempts


# -- retries -------------------------------------------------------------------------------


def test_transient_errors_are_retried_until_success(
    ordered: responses.RequestsMock, fake_time: FakeTime
) -> None:
    ordered.put(PUT_URL, status=503, body="busy")
    ordered.put(PUT_URL, status=500, json={"error": True, "message": "oops"})
    ordered.put(PUT_URL, json={"error": False, "data": {"count": 2}})
    outcome = make_client(fake_time).put_contacts(UPDATES)
    assert outcome == Outcome("ok", 200, 2, None, 3)
    assert len(ordered.calls) == 3
    bodies = {call.request.body for call in ordered.calls}
    assert bodies == {encode_batch(UPDATES)}, "every attempt sends the same body"


def test_a_429_slows_the_shared_limiter_down(
    ordered: responses.RequestsMock, fake_time: FakeTime
) -> None:
    limiter = RateLimiter(clock=fake_time.clock, sleeper=fake_time.sleep)
    ordered.put(PUT_URL, status=429, json={"error": True, "message": "slow down"})
    ordered.put(PUT_URL, json={"error": False, "data": {"count": 2}})
    outcome = make_client(fake_time, limiter=limiter).put_contacts(UPDATES)
    assert outcome.kind == "ok"
    assert outcome.attempts == 2
    assert limiter.throttles == 1
    assert limiter.active


def test_a_final_429_is_counted_once(rsps: responses.RequestsMock, fake_time: FakeTime) -> None:
    limiter = RateLimiter(clock=fake_time.clock, sleeper=fake_time.sleep)
    rsps.put(PUT_URL, status=429, json={"error": True, "message": "slow down"})
    client = make_client(fake_time, max_attempts=2, limiter=limiter, throttle_retries=3)
    outcome = client.put_contacts(UPDATES)
    # 2 attempts of --max-attempts, plus the 3 that 429s may take on top.
    assert outcome == Outcome("failed", 429, None, "HTTP 429: slow down", 5)
    assert len(rsps.calls) == 5
    assert limiter.throttles == 5


def test_429s_do_not_use_up_max_attempts(
    ordered: responses.RequestsMock, fake_time: FakeTime
) -> None:
    for status in (503, 429, 429, 429, 503):
        ordered.put(PUT_URL, status=status, json={"error": True, "message": "later"})
    ordered.put(PUT_URL, json={"error": False, "data": {"count": 2}})
    outcome = make_client(fake_time, max_attempts=3).put_contacts(UPDATES)
    assert outcome == Outcome("ok", 200, 2, None, 6), "two 503s fit in 3 attempts; 429s are extra"


def test_server_errors_still_end_at_max_attempts_after_429s(
    ordered: responses.RequestsMock, fake_time: FakeTime
) -> None:
    for status in (429, 503, 429, 503, 503):
        ordered.put(PUT_URL, status=status, json={"error": True, "message": "later"})
    outcome = make_client(fake_time, max_attempts=3).put_contacts(UPDATES)
    assert outcome.kind == "failed"
    assert outcome.status == 503
    assert len(ordered.calls) == 5, "3 attempts for the 503s, 2 more for the 429s"


def test_max_attempts_1_does_not_retry_a_429(
    rsps: responses.RequestsMock, fake_time: FakeTime
) -> None:
    rsps.put(PUT_URL, status=429, json={"error": True, "message": "slow down"})
    outcome = make_client(fake_time, max_attempts=1).put_contacts(UPDATES)
    assert outcome == Outcome("failed", 429, None, "HTTP 429: slow down", 1)
    assert len(rsps.calls) == 1


def test_one_attempt_means_no_retry(ordered: responses.RequestsMock, fake_time: FakeTime) -> None:
    ordered.put(PUT_URL, status=503, body="busy")
    outcome = make_client(fake_time, max_attempts=1).put_contacts(UPDATES)
    assert outcome.kind == "failed"
    assert outcome.attempts == 1
    assert len(ordered.calls) == 1


@pytest.mark.parametrize("status", [400, 404, 413, 422])
def test_client_errors_are_never_retried_even_with_retry_after(
    rsps: responses.RequestsMock, fake_time: FakeTime, status: int
) -> None:
    rsps.put(
        PUT_URL, status=status, json={"error": True, "message": "no"},
        headers={"Retry-After": "1"},
    )  # fmt: skip
    outcome = make_client(fake_time).put_contacts(UPDATES)
    assert outcome.attempts == 1
    assert len(rsps.calls) == 1


def test_a_refused_connection_is_unreachable(
    rsps: responses.RequestsMock, fake_time: FakeTime
) -> None:
    rsps.put(PUT_URL, body=requests.ConnectionError("Connection refused"))
    outcome = make_client(fake_time).put_contacts(UPDATES)
    reason = f"cannot reach {API}: connection refused by dex.test:443"
    assert outcome == Outcome("unreachable", None, None, reason, 1)


def test_a_read_timeout_is_a_failure_of_this_batch_only(
    rsps: responses.RequestsMock, fake_time: FakeTime
) -> None:
    rsps.put(PUT_URL, body=requests.ReadTimeout("read timed out"))
    outcome = make_client(fake_time).put_contacts(UPDATES)
    assert outcome == Outcome("failed", None, None, "timed out after 30 s waiting for dex.test", 1)


# -- DexRetry.sleep ------------------------------------------------------------------------


class SpyLimiter(RateLimiter):
    """Records when a token is taken, in the same list as the sleeps."""

    def __init__(self, events: list[object]) -> None:
        super().__init__()
        self.events = events

    def acquire(self) -> None:
        self.events.append("acquire")


def answer(retry_after: str | None = None, status: int = 503) -> HTTPResponse:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return HTTPResponse(body=b"", headers=headers, status=status, preload_content=False)


def sleeps(events: list[object]) -> list[float]:
    """The waits recorded in ``events``, checking that nothing else happened."""
    waits = []
    for event in events:
        assert isinstance(event, tuple)
        assert event[0] == "sleep"
        waits.append(float(event[1]))
    return waits


def retry_after(failures: int, events: list[object], **kw: Any) -> DexRetry:
    retry = DexRetry(
        total=20, backoff_factor=0.5, respect_retry_after_header=True,
        status_forcelist=frozenset({500, 503}), raise_on_status=False,
        sleeper=lambda s: events.append(("sleep", s)), **kw,
    )  # fmt: skip
    for _ in range(failures):
        retry = retry.increment(method="PUT", url="/v1/contacts/", response=answer(status=500))
    return retry


@pytest.mark.parametrize(
    ("header", "wait"),
    [("7", 7.0), ("0", None), ("60", 60.0), ("61", MAX_RETRY_AFTER), ("86400", MAX_RETRY_AFTER)],
)
def test_sleep_honours_retry_after_seconds_with_a_cap(header: str, wait: float | None) -> None:
    events: list[object] = []
    retry = retry_after(1, events)
    retry.sleep(answer(header))
    assert events == ([("sleep", wait)] if wait else [])


@pytest.mark.parametrize(("ahead", "low", "high"), [(20, 18.0, 20.0), (7200, 60.0, 60.0)])
def test_sleep_honours_retry_after_http_dates(ahead: int, low: float, high: float) -> None:
    events: list[object] = []
    retry = retry_after(1, events)
    retry.sleep(answer(formatdate(time.time() + ahead, usegmt=True)))
    [wait] = sleeps(events)
    assert low <= wait <= high


def test_sleep_ignores_a_retry_after_date_in_the_past() -> None:
    events: list[object] = []
    retry = retry_after(0, events)
    retry.sleep(answer(formatdate(time.time() - 3600, usegmt=True)))
    assert events == []


@pytest.mark.parametrize("header", ["soon", "-5", "1.5", ""])
def test_sleep_falls_back_to_backoff_on_a_malformed_retry_after(header: str) -> None:
    events: list[object] = []
    retry = retry_after(3, events)
    retry.sleep(answer(header))
    [wait] = sleeps(events)
    assert 1.0 <= wait <= 2.0


@pytest.mark.parametrize(
    ("failures", "base"), [(1, 0.5), (2, 1.0), (3, 2.0), (5, 8.0), (7, MAX_BACKOFF), (15, 30.0)]
)
def test_backoff_is_exponential_with_jitter_and_capped(failures: int, base: float) -> None:
    events: list[object] = []
    retry = retry_after(failures, events)
    for _ in range(200):
        retry.sleep(answer())
    waits = sleeps(events)
    assert len(waits) == 200
    assert all(0.5 * base <= w <= base for w in waits)
    assert len(set(waits)) > 1, "jittered"
    assert max(waits) <= MAX_BACKOFF


@pytest.mark.parametrize(("end", "factor"), [(0.0, 0.5), (1.0, 1.0)])
def test_backoff_jitter_spans_half_to_all_of_the_base(
    monkeypatch: pytest.MonkeyPatch, end: float, factor: float
) -> None:
    monkeypatch.setattr(random, "uniform", lambda a, b: (a, b)[int(end)])
    events: list[object] = []
    retry_after(4, events).sleep(answer())
    assert events == [("sleep", 4.0 * factor)]


def test_no_wait_before_there_was_a_failure() -> None:
    events: list[object] = []
    retry_after(0, events).sleep(None)
    assert events == []


def test_a_limiter_token_is_taken_after_sleeping() -> None:
    events: list[object] = []
    limiter = SpyLimiter(events)
    retry = retry_after(1, events, limiter=limiter)
    retry.sleep(answer("3"))
    assert events == [("sleep", 3.0), "acquire"]


def test_new_and_increment_keep_limiter_and_sleeper() -> None:
    events: list[object] = []
    limiter = SpyLimiter(events)
    retry = retry_after(0, events, limiter=limiter)
    for copy in (retry.new(total=1), retry.increment(method="PUT", url="/", response=answer())):
        assert isinstance(copy, DexRetry)
        assert copy.limiter is limiter
        assert copy.sleeper is retry.sleeper


def test_the_session_retry_policy() -> None:
    client = Dex(API, ApiKey(TEST_KEY), max_attempts=4)
    retry = client.transport.session.get_adapter(PUT_URL).max_retries  # type: ignore[attr-defined]
    assert isinstance(retry, DexRetry)
    assert retry.total == 3
    assert set(retry.status_forcelist or ()) == {429, 500, 502, 503, 504}
    assert {"GET", "PUT", "POST"} <= set(retry.allowed_methods or ())
    assert retry.redirect == 0
    assert retry.throttle_retries == THROTTLE_RETRIES
    single = Dex(API, ApiKey(TEST_KEY), max_attempts=1)
    assert single.transport.session.get_adapter(PUT_URL).max_retries.throttle_retries == 0  # type: ignore[attr-defined]


# -- existing_ids --------------------------------------------------------------------------


def page(ids: list[str], cursor: str | None = None) -> dict[str, object]:
    items = [{"id": i, "full_name": "x"} for i in ids]
    return {"error": False, "data": {"items": items, "nextCursor": cursor, "count": len(ids)}}


def test_existing_ids_from_the_filter_endpoint(
    rsps: responses.RequestsMock, fake_time: FakeTime
) -> None:
    rsps.post(FILTER_URL, json=page([A, C]))
    assert make_client(fake_time).existing_ids([A, B, C]) == {A, C}
    request = rsps.calls[0].request
    assert json.loads(request.body or b"") == {"where": {"in": [A, B, C]}, "take": 3}
    assert request.headers["Content-Type"] == "application/json"


def test_existing_ids_ignores_contacts_it_did_not_ask_about(
    rsps: responses.RequestsMock, fake_time: FakeTime
) -> None:
    rsps.post(FILTER_URL, json=page([A, C, B]))
    assert make_client(fake_time).existing_ids([A, B]) == {A, B}


def test_existing_ids_follows_the_cursor(
    ordered: responses.RequestsMock, fake_time: FakeTime
) -> None:
    ordered.post(FILTER_URL, json=page([A], "next-1"))
    ordered.post(
        FILTER_URL, json=page([B]), match=[matchers.json_params_matcher({"cursor": "next-1"},
                                                                         strict_match=False)],
    )  # fmt: skip
    assert make_client(fake_time).existing_ids([A, B, C]) == {A, B}
    assert len(ordered.calls) == 2


def test_a_repeated_page_does_not_loop_forever(
    rsps: responses.RequestsMock, fake_time: FakeTime
) -> None:
    rsps.post(FILTER_URL, json=page([A], "same-cursor"))
    assert make_client(fake_time).existing_ids([A, B]) == {A}
    assert len(rsps.calls) == 2


@pytest.mark.parametrize(
    ("status", "body"),
    [(404, HTML), (500, "oops"), (200, {"error": False, "data": {"unexpected": 1}}), (200, "")],
)
def test_existing_ids_falls_back_to_one_get_per_contact(
    rsps: responses.RequestsMock, fake_time: FakeTime, status: int, body: object
) -> None:
    if isinstance(body, str):
        rsps.post(FILTER_URL, status=status, body=body)
    else:
        rsps.post(FILTER_URL, status=status, json=body)
    rsps.get(f"{API}/contacts/{A}", json={"error": False, "data": {"id": A}})
    rsps.get(f"{API}/contacts/{B}", status=404, json={"error": True, "message": "not found"})
    rsps.get(f"{API}/contacts/{C}", json={"error": False, "data": {"id": C}})
    assert make_client(fake_time, max_attempts=1).existing_ids([A, B, C]) == {A, C}


def test_existing_ids_is_none_when_dex_will_not_say(
    rsps: responses.RequestsMock, fake_time: FakeTime
) -> None:
    rsps.post(FILTER_URL, status=404, body=HTML)
    rsps.get(f"{API}/contacts/{A}", status=500, body="oops")
    assert make_client(fake_time, max_attempts=1).existing_ids([A, B]) is None
    assert [c.request.method for c in rsps.calls] == ["POST", "GET"]


def test_existing_ids_asks_500_at_a_time(rsps: responses.RequestsMock, fake_time: FakeTime) -> None:
    def known(request: Any) -> tuple[int, dict[str, str], str]:
        asked = json.loads(request.body or b"")["where"]["in"]
        return 200, {}, json.dumps(page([i for i in asked if int(i[-4:]) % 3]))

    rsps.add_callback(responses.POST, FILTER_URL, callback=known)
    ids = [cid(n) for n in range(1200)]
    assert make_client(fake_time).existing_ids(ids) == {i for i in ids if int(i[-4:]) % 3}
    sizes = [len(json.loads(c.request.body or b"")["where"]["in"]) for c in rsps.calls]
    assert sizes == [500, 500, 200]


@pytest.mark.parametrize("status", [401, 403])
def test_existing_ids_raises_on_auth_refusal(
    rsps: responses.RequestsMock, fake_time: FakeTime, status: int
) -> None:
    rsps.post(FILTER_URL, status=status, json={"error": True, "message": "bad key"})
    with pytest.raises(AuthRefused):
        make_client(fake_time).existing_ids([A])


def test_contacts_by_ids_asks_for_only_the_fields_wanted(
    ordered: responses.RequestsMock, fake_time: FakeTime
) -> None:
    ordered.post(FILTER_URL, status=400, json={"error": True, "message": "unknown select"})
    ordered.post(FILTER_URL, json=page([A]))
    found = make_client(fake_time, max_attempts=1).contacts_by_ids([A, B], ["company"])
    assert found == {A: {"id": A, "full_name": "x"}}
    bodies = [json.loads(c.request.body or b"") for c in ordered.calls]
    assert bodies[0] == {"where": {"in": [A, B]}, "take": 2, "select": ["id", "company"]}
    assert bodies[1] == {"where": {"in": [A, B]}, "take": 2}  # Dex refused select: without it


def test_reads_counts_every_read_request_but_no_write(
    rsps: responses.RequestsMock, fake_time: FakeTime
) -> None:
    rsps.post(FILTER_URL, status=404, body=HTML)
    rsps.get(f"{API}/contacts/{A}", json={"error": False, "data": {"id": A}})
    rsps.get(f"{API}/search/tags", json={"error": False, "data": {"items": []}})
    rsps.put(PUT_URL, json={"error": False, "data": {"count": 1}})
    client = make_client(fake_time, max_attempts=1)
    client.contacts_by_ids([A])
    client.search_tags("vip")
    client.put_contacts([Update(A, {"starred": True})])
    assert client.reads == 3  # the filter, the fallback GET, the search; not the PUT


# -- the key stays secret ------------------------------------------------------------------


def test_the_key_is_not_in_the_auth_repr(fake_time: FakeTime) -> None:
    client = make_client(fake_time)
    assert TEST_KEY not in repr(client.transport.session.auth)
    assert TEST_KEY not in repr(vars(client.transport.session.auth))


def test_the_key_is_not_logged_at_debug(
    ordered: responses.RequestsMock, fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="dexbulk.http")
    ordered.put(PUT_URL, status=503, body="busy")
    ordered.put(PUT_URL, json={"error": False, "data": {"count": 2}})
    ordered.put(PUT_URL, status=400, json={"error": True, "message": "no"})
    ordered.put(PUT_URL, body=requests.ConnectionError("Connection refused"))
    client = make_client(fake_time)
    outcomes = [client.put_contacts(UPDATES) for _ in range(3)]
    assert [o.kind for o in outcomes] == ["ok", "rejected", "unreachable"]
    assert "request body:" in caplog.text
    assert A in caplog.text, "debug logging did run"
    assert TEST_KEY not in caplog.text
    for outcome in outcomes:
        assert TEST_KEY not in (outcome.message or "")


@pytest.mark.parametrize("as_json", [True, False])
def test_a_key_echoed_by_the_server_is_masked_in_every_message(
    rsps: responses.RequestsMock,
    fake_time: FakeTime,
    as_json: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    echoed = f"bad request from Bearer {TEST_KEY}"
    if as_json:
        rsps.put(PUT_URL, status=400, json={"error": True, "message": echoed})
    else:
        rsps.put(PUT_URL, status=400, body=echoed)
    with caplog.at_level(logging.DEBUG, logger="dexbulk.http"):
        outcome = make_client(fake_time).put_contacts(UPDATES)
    assert outcome.kind == "rejected"
    assert outcome.message == f"bad request from Bearer {ApiKey(TEST_KEY).masked}"
    assert TEST_KEY not in caplog.text
    assert ApiKey(TEST_KEY).masked in caplog.text


# -- verify_key: only Dex's envelope proves a key -------------------------------------------

COUNT_URL = f"{API}/contacts/count"


@pytest.mark.parametrize(
    ("body", "count"),
    [
        ({"error": False, "data": {"count": 1234}}, 1234),
        ({"error": False, "data": {}}, None),
        ({"data": {"count": 3}}, 3),
    ],
)
def test_verify_key_accepts_dex_envelope(
    rsps: responses.RequestsMock, fake_time: FakeTime, body: object, count: int | None
) -> None:
    rsps.get(COUNT_URL, json=body)
    assert make_client(fake_time).verify_key() == count


@pytest.mark.parametrize(
    ("status", "body", "error", "message"),
    [
        (401, {"error": True, "message": "bad key"}, AuthRefused, "HTTP 401 (bad key)"),
        (403, {"error": True}, AuthRefused, "HTTP 403"),
        (404, "<html><pre>Cannot GET /contacts/count</pre></html>", NotDexApi,
         f"{API} does not look like the Dex API (HTTP 404)"),
        (404, {"message": "Not Found"}, NotDexApi, "(HTTP 404)"),
        (307, "", NotDexApi, "(HTTP 307 redirect to https://elsewhere.test/, not followed)"),
        (200, "<html>Welcome</html>", NotDexApi, "(HTTP 200 with an HTML page)"),
        (200, "", NotDexApi, "(HTTP 200 without Dex's JSON answer)"),
        (200, {"count": 3}, NotDexApi, "(HTTP 200 without Dex's JSON answer)"),
        (200, {"error": True, "message": "locked"}, ApiError, "answered with an error: locked"),
        (500, {"error": True, "message": "db down"}, ApiError,
         f"{API} answered HTTP 500: db down; the key could not be checked"),
        (404, {"error": True, "message": "no route"}, ApiError, "answered HTTP 404: no route"),
    ],
)  # fmt: skip
def test_verify_key_refuses_anything_less(
    rsps: responses.RequestsMock,
    fake_time: FakeTime,
    status: int,
    body: object,
    error: type[ApiError],
    message: str,
) -> None:
    headers = {"Location": "https://elsewhere.test/"} if status == 307 else None
    if isinstance(body, str):
        rsps.get(COUNT_URL, status=status, body=body, headers=headers)
    else:
        rsps.get(COUNT_URL, status=status, json=body, headers=headers)
    with pytest.raises(ApiError) as excinfo:
        make_client(fake_time, max_attempts=1).verify_key()
    assert type(excinfo.value) is error
    assert message in excinfo.value.message
    assert excinfo.value.status == status
    code = ExitCode.AUTH if error is AuthRefused else ExitCode.UNREACHABLE
    assert excinfo.value.exit_code == code


def test_verify_key_on_a_closed_port_is_unreachable(fake_time: FakeTime) -> None:
    port = closed_port()
    dex = Dex(f"http://127.0.0.1:{port}/v1", TEST_KEY, max_attempts=2, sleeper=fake_time.sleep)
    with pytest.raises(Unreachable) as excinfo:
        dex.verify_key()
    assert excinfo.value.message == (
        f"cannot reach http://127.0.0.1:{port}/v1: connection refused by 127.0.0.1:{port}"
    )
    assert excinfo.value.exit_code == ExitCode.UNREACHABLE


# -- network failures, said as a person would (issue 15) --------------------------------------


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextlib.contextmanager
def listener(behaviour: str) -> Iterator[int]:
    """A socket on 127.0.0.1 that accepts, then ``hangs`` or reads the request and ``closes``."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.1)
    done = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        while not done.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            if behaviour == "hangs":
                held.append(conn)
                continue
            conn.recv(65536)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        done.set()
        thread.join(5)
        for conn in held:
            conn.close()
        server.close()


def failure_of(url: str, *, timeout: float = 0.3) -> Outcome:
    dex = Dex(url, TEST_KEY, timeout=timeout, max_attempts=1)
    with dex:
        return dex.put_contacts(UPDATES)


def test_a_refused_connection_on_a_real_socket() -> None:
    port = closed_port()
    outcome = failure_of(f"http://127.0.0.1:{port}/v1")
    url = f"http://127.0.0.1:{port}/v1"
    reason = f"cannot reach {url}: connection refused by 127.0.0.1:{port}"
    assert (outcome.kind, outcome.message) == ("unreachable", reason)


@pytest.mark.parametrize(
    ("behaviour", "reasons"),
    [
        ("hangs", {"timed out after 0.3 s waiting for 127.0.0.1"}),
        # A close while the request is still being written reaches us as a reset instead:
        # which one depends on the scheduler, and both are said in plain words.
        (
            "closes",
            {
                "127.0.0.1 closed the connection without an answer",
                "connection reset by 127.0.0.1",
            },
        ),
    ],
)
def test_a_server_that_takes_the_request_and_fails_it(behaviour: str, reasons: set[str]) -> None:
    with listener(behaviour) as port:
        outcome = failure_of(f"http://127.0.0.1:{port}/v1")
    # The request may have been sent: a failure of this batch, not a reason to stop the run.
    assert outcome.kind == "failed"
    assert outcome.message in reasons


def test_tls_to_a_server_that_does_not_speak_it() -> None:
    with listener("closes") as port:
        outcome = failure_of(f"https://127.0.0.1:{port}/v1")
    assert outcome.kind == "unreachable"
    assert outcome.message is not None
    assert outcome.message.startswith(
        f"cannot reach https://127.0.0.1:{port}/v1: TLS handshake with 127.0.0.1 failed ("
    )


def test_tls_with_a_certificate_nobody_trusts(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]

    def serve() -> None:
        conn, _ = server.accept()
        with contextlib.suppress(OSError), context.wrap_socket(conn, server_side=True):
            pass  # the client gives up during the handshake

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        outcome = failure_of(f"https://localhost:{port}/v1", timeout=5)
    finally:
        thread.join(5)
        server.close()
    assert outcome.kind == "unreachable"
    assert outcome.message is not None
    assert outcome.message.startswith(
        f"cannot reach https://localhost:{port}/v1: TLS certificate not trusted for localhost ("
    ), outcome.message
    assert "self-signed" in outcome.message or "self signed" in outcome.message


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for localhost."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _dns_error(host: str) -> requests.ConnectionError:
    """requests' wrapping of a failed lookup, exactly as urllib3 2 builds it."""
    conn = urllib3.connection.HTTPSConnection(host, 443)
    reason = NameResolutionError(host, conn, socket.gaierror(-2, "Name or service not known"))
    return requests.ConnectionError(MaxRetryError(None, "/v1/contacts/", reason))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raised", "reason", "unreachable"),
    [
        (_dns_error("api.prod.getdex.com"), "cannot resolve api.prod.getdex.com (DNS)", True),
        (requests.exceptions.SSLError(MaxRetryError(None, "/", urllib3.exceptions.SSLError(  # type: ignore[arg-type]
            ssl.SSLCertVerificationError(1, "certificate verify failed")))),
         "TLS certificate not trusted for api.prod.getdex.com", True),
        (requests.ConnectionError(MaxRetryError(None, "/", NewConnectionError(  # type: ignore[arg-type]
            None, "Failed to establish a new connection: [Errno 101] Network is unreachable"))),  # type: ignore[arg-type]
         "cannot connect to api.prod.getdex.com:443", True),
        (requests.ConnectTimeout("connect timed out"),
         "timed out after 30 s connecting to api.prod.getdex.com", True),
        (requests.ReadTimeout("read timed out"),
         "timed out after 30 s waiting for api.prod.getdex.com", False),
        (requests.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError(104))),
         "connection reset by api.prod.getdex.com", False),
        (requests.RequestException("something else"),
         "request to api.prod.getdex.com failed (something else)", False),
    ],
)  # fmt: skip
def test_network_failures_read_as_a_person_would_say_them(
    raised: requests.RequestException, reason: str, unreachable: bool
) -> None:
    failure = network_failure(raised, "https://api.prod.getdex.com/v1", 30.0)
    assert failure == NetworkFailure(reason, unreachable)


def test_the_dns_failure_reaches_the_outcome_and_the_json_the_same(
    rsps: responses.RequestsMock, fake_time: FakeTime
) -> None:
    rsps.put(PUT_URL, body=_dns_error("dex.test"))
    outcome = make_client(fake_time).put_contacts(UPDATES)
    assert outcome == Outcome(
        "unreachable", None, None, f"cannot reach {API}: cannot resolve dex.test (DNS)", 1
    )
