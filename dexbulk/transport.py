"""The only module that knows ``requests``: one configured, retrying session to the Dex API.

:class:`dexbulk.dex.Dex` names the endpoints; this module sends a request and hands back an
:class:`~dexbulk.answers.Answer`.

Retry policy, chosen on purpose:

* Retried: connection errors, timeouts, dropped connections, and the statuses 429, 500, 502,
  503, 504. ``PUT /v1/contacts/`` sets absolute values and a tag append/remove of an existing
  link does nothing, so sending the same body twice leaves Dex as sending it once: retrying a
  PUT whose answer was lost is safe. The filter POST only reads, so it is retried too.
* ``--max-attempts`` (default 5) counts the first try. A 429 does not use it up: it asks us to
  wait, not to give up, so up to ``THROTTLE_RETRIES`` (10) of them per request are retried on
  top, and a rate-limited run does not fail contacts nothing is wrong with. (With
  ``--max-attempts 1`` nothing is retried.) Between attempts: exponential backoff
  with jitter (0.5 s, 1 s, 2 s, ... each scaled by a random 50-100%, at most 30 s), or the
  server's ``Retry-After`` (seconds or an HTTP date), never more than 60 s.
* A 429's ``Retry-After`` in whole seconds is rounded up; the retry goes at the answer's
  ``Date`` plus ``Retry-After`` (:mod:`dexbulk.servertime`), so a window that turns 50 ms
  later does not cost a full second, and the limiter learns that instant too. If a retry sent
  then is refused, the rest of the run waits the full ``Retry-After``.
* Every attempt, first or retry, takes a token from the run's shared :class:`RateLimiter`, and
  every 429 slows the whole run down.
* Never retried: 4xx other than 429. They say something about the request, which the batch
  layer acts on (split, shrink, report).
* Redirects are not followed, so the ``Authorization`` header can never travel to another host.
"""

from __future__ import annotations

import http.client
import json
import logging
import random
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3 import exceptions as urllib3_exceptions
from urllib3.exceptions import (
    ConnectTimeoutError,
    InvalidHeader,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)
from urllib3.util.retry import Retry

from dexbulk import __version__
from dexbulk.answers import Answer
from dexbulk.ratelimit import RateLimiter, Sleeper
from dexbulk.secret import ApiKey
from dexbulk.servertime import PROBE_SECONDS, ServerClock

log = logging.getLogger("dexbulk.http")

USER_AGENT = f"dexbulk/{__version__}"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_BACKOFF = 30.0
MAX_RETRY_AFTER = 60.0
THROTTLE_RETRIES = 10
_local = threading.local()


class DexRetry(Retry):
    """urllib3's Retry, plus run-wide pacing, a capped Retry-After and an injectable sleeper."""

    # urllib3 also retries a 413 that carries Retry-After; our policy never retries a 413.
    RETRY_AFTER_STATUS_CODES = frozenset({429, 503})

    def __init__(
        self,
        *args: Any,
        limiter: RateLimiter | None = None,
        sleeper: Sleeper = time.sleep,
        throttle_retries: int = 0,
        server_clock: ServerClock | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.limiter = limiter
        self.sleeper = sleeper
        self.throttle_retries = throttle_retries
        """429s still retried without using up ``total``."""
        self.server_clock = server_clock
        """Times a 429's retry by its ``Date`` (None: always the full ``Retry-After``)."""
        self.probing = False
        """True when :meth:`sleep` sent the next attempt at the instant a 429's Date named."""

    def new(self, **kw: Any) -> DexRetry:
        kw.setdefault("limiter", self.limiter)
        kw.setdefault("sleeper", self.sleeper)
        kw.setdefault("throttle_retries", self.throttle_retries)
        kw.setdefault("server_clock", self.server_clock)
        return super().new(**kw)

    def increment(self, *args: Any, **kwargs: Any) -> DexRetry:
        response = kwargs.get("response")
        current: Retry = self
        if getattr(response, "status", None) == 429:
            clock, retry_in = self.server_clock, None
            if clock is not None:
                if self.probing:
                    clock.trusted = False  # the instant was early: full Retry-After from now on
                turn = clock.turn(response)
                retry_in = clock.until(turn) if turn is not None else None
            if self.limiter is not None:
                self.limiter.on_response(throttled=True, probe=self.probing, retry_in=retry_in)
            if self.throttle_retries > 0 and isinstance(self.total, int):
                # Paid from the throttle budget: Retry.increment takes back the 1 added here.
                current = self.new(total=self.total + 1, throttle_retries=self.throttle_retries - 1)
        new = cast(DexRetry, Retry.increment(current, *args, **kwargs))
        # Only counted when another attempt follows (the last increment raises instead).
        _local.retries = getattr(_local, "retries", 0) + 1
        return new

    def get_retry_after(self, response: Any) -> float | None:
        try:
            return super().get_retry_after(response)
        except InvalidHeader:  # malformed ("soon", "1.5"): back off as if there were none
            return None

    def parse_retry_after(self, retry_after: str) -> float:
        return min(float(super().parse_retry_after(retry_after)), MAX_RETRY_AFTER)

    def get_backoff_time(self) -> float:
        # urllib3 waits nothing before the first retry; a struggling server deserves a pause.
        failures = len(self.history)
        if failures == 0:
            return 0.0
        base = min(MAX_BACKOFF, float(self.backoff_factor) * 2.0 ** (failures - 1))
        return base * random.uniform(0.5, 1.0)

    def sleep(self, response: Any = None) -> None:
        wait, turn, clock = None, None, self.server_clock
        if self.respect_retry_after_header and response is not None:
            wait = self.get_retry_after(response)
            if wait is not None and clock is not None and response.status == 429:
                turn = clock.turn(response)
                if turn is not None and clock.until(turn) < wait:
                    wait = clock.until(turn)
                else:
                    turn = None
        if wait is None:
            wait = self.get_backoff_time()
        if wait > 0:
            self.sleeper(wait)
        if self.limiter is not None:
            self.limiter.acquire()
        if turn is not None and clock is not None:
            self.probing = clock.wall_clock() - turn <= PROBE_SECONDS


class _Bearer(requests.auth.AuthBase):
    """Sets the Authorization header; also stops requests from applying ~/.netrc instead."""

    def __init__(self, key: ApiKey) -> None:
        self._key = key

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self._key.reveal()}"
        return r

    def __repr__(self) -> str:
        return f"_Bearer({self._key!r})"


class Transport:
    """A pooled, retrying session: one per run, shared by every worker thread."""

    def __init__(
        self,
        api_url: str,
        api_key: ApiKey,
        *,
        timeout: float = 30.0,
        max_attempts: int = 5,
        pool_size: int = 4,
        limiter: RateLimiter | None = None,
        sleeper: Sleeper = time.sleep,
        backoff_factor: float = 0.5,
        throttle_retries: int = THROTTLE_RETRIES,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        self.limiter = limiter
        self.retries = 0
        """Every retry this client made, of any request (PUTs and existence checks alike)."""
        self._count_lock = threading.Lock()
        retry = DexRetry(
            total=max_attempts - 1,
            redirect=0,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET", "PUT", "POST"}),
            backoff_factor=backoff_factor,
            raise_on_status=False,
            raise_on_redirect=False,
            respect_retry_after_header=True,
            limiter=limiter,
            sleeper=sleeper,
            throttle_retries=throttle_retries if max_attempts > 1 else 0,
            server_clock=ServerClock(),
        )
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=retry)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self._key = api_key
        self.session.auth = _Bearer(api_key)
        self.session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})

    def close(self) -> None:
        """Close pooled connections."""
        self.session.close()

    def request(self, method: str, path: str, body: bytes | None, contacts: int | None) -> Answer:
        """Send one request (retried per the policy above) and return its scrubbed answer.

        ``contacts`` is how many contacts the request carries, for the ``-v`` log; ``None``
        for a read of contacts, whose log line counts the contacts in the answer instead.
        """
        if self.limiter is not None:
            self.limiter.acquire()
        _local.retries = 0
        url = f"{self.api_url}{path}"
        started = time.perf_counter()
        headers = {"Content-Type": "application/json"} if body is not None else None
        try:
            response = self.session.request(
                method, url, data=body, headers=headers, timeout=self.timeout,
                allow_redirects=False,
            )  # fmt: skip
        except requests.RequestException as exc:
            attempts = self._count(_local.retries)
            failure = network_failure(exc, self.api_url, self.timeout)
            log.info("%s %s failed after %d attempts: %s", method, path, attempts, failure.reason)
            return Answer(
                None, None, failure.reason, attempts, "", api_url=self.api_url,
                unreachable=failure.unreachable,
            )  # fmt: skip
        attempts = self._count(_local.retries)
        if self.limiter is not None and response.status_code != 429:
            # A final 429 was already fed back by DexRetry.increment.
            self.limiter.on_response(throttled=False)
        ms = (time.perf_counter() - started) * 1000
        text, payload = self._scrubbed(response)
        if log.isEnabledFor(logging.INFO):
            count = contacts if contacts is not None else _items_in(payload)
            log.info(
                "%s %s %d %d contacts %.1f ms %d retries",
                method, path, response.status_code, count, ms, attempts - 1,
            )  # fmt: skip
        if log.isEnabledFor(logging.DEBUG):
            log.debug("request body: %s", (body or b"").decode("utf-8", "replace"))
            log.debug("response body: %s", text[:2000])
        return Answer(
            response.status_code, payload, None, attempts, text, api_url=self.api_url,
            location=response.headers.get("Location"),
        )  # fmt: skip

    def _scrubbed(self, response: requests.Response) -> tuple[str, object]:
        """The answer's text and JSON, with the key masked wherever the server echoed it.

        Dex is not known to echo the key, but a proxy's error page or a debugging server might,
        and an answer's words end up in messages, results files, journals and logs.
        """
        text = self._key.redact(response.text)
        if text == response.text:
            return text, _json_or_none(response)
        try:
            return text, json.loads(text)
        except ValueError:
            return text, None

    def _count(self, retries: int) -> int:
        with self._count_lock:
            self.retries += retries
        return retries + 1


def compact_json(value: object) -> bytes:
    """The compact UTF-8 JSON body of a request."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _items_in(payload: object) -> int:
    """How many items (contacts) a read's answer carries: ``data.items``, else 0."""
    data = payload.get("data") if isinstance(payload, dict) else None
    items = data.get("items") if isinstance(data, dict) else None
    return len(items) if isinstance(items, list) else 0


def _json_or_none(response: requests.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return None


@dataclass(frozen=True)
class NetworkFailure:
    """Why a request got no answer at all, said as a person would."""

    reason: str
    """``cannot resolve HOST (DNS)``, ``connection refused by HOST:PORT``, ..."""
    unreachable: bool
    """Nothing reached the server (DNS, refused, TLS, connect timeout): the API cannot be
    reached, and every other request would fail the same way. False when the request may have
    been sent (a read timeout, a dropped connection): that is a failure of this request only."""


def network_failure(exc: BaseException, api_url: str, timeout: float) -> NetworkFailure:
    """Read requests' and urllib3's nested exceptions into one short, quote-free cause.

    requests wraps urllib3's ``MaxRetryError``, whose ``reason`` holds the last attempt's error,
    which in turn chains the socket or ssl error; their reprs hold pool objects and quotes that
    a user has no use for (``NameResolutionError("HTTPSConnection(host=...``).
    """
    parts = urlsplit(api_url)
    host = parts.hostname or api_url
    port = parts.port or (443 if parts.scheme == "https" else 80)
    chain = _chain(exc)

    def find(*types: type[BaseException]) -> BaseException | None:
        return next((e for e in chain if isinstance(e, types)), None)

    if find(NameResolutionError, socket.gaierror):
        return NetworkFailure(f"cannot resolve {host} (DNS)", True)
    cert = find(ssl.SSLCertVerificationError)
    if cert is not None:
        why = getattr(cert, "verify_message", None) or ""
        detail = f" ({_short(why)})" if why else ""
        return NetworkFailure(f"TLS certificate not trusted for {host}{detail}", True)
    tls = find(ssl.SSLError, urllib3_exceptions.SSLError, requests.exceptions.SSLError)
    if tls is not None:
        return NetworkFailure(f"TLS handshake with {host} failed ({_tls_reason(chain)})", True)
    if find(ConnectionRefusedError) or "refused" in " ".join(map(str, chain)).lower():
        return NetworkFailure(f"connection refused by {host}:{port}", True)
    if find(NewConnectionError):
        # "Network is unreachable", "No route to host": the socket error's own words.
        why = next((e.strerror for e in chain if isinstance(e, OSError) and e.strerror), "")
        detail = f" ({_short(why).lower()})" if why else ""
        return NetworkFailure(f"cannot connect to {host}:{port}{detail}", True)
    waited = f"{timeout:g} s"
    if find(ConnectTimeoutError, requests.exceptions.ConnectTimeout):
        return NetworkFailure(f"timed out after {waited} connecting to {host}", True)
    if find(ReadTimeoutError, requests.exceptions.ReadTimeout, TimeoutError):
        return NetworkFailure(f"timed out after {waited} waiting for {host}", False)
    if find(http.client.RemoteDisconnected):
        return NetworkFailure(f"{host} closed the connection without an answer", False)
    if find(ConnectionResetError):
        return NetworkFailure(f"connection reset by {host}", False)
    if find(ProtocolError, ConnectionError, http.client.HTTPException):
        return NetworkFailure(f"the connection to {host} broke off ({_reason(exc)})", False)
    return NetworkFailure(f"request to {host} failed ({_reason(exc)})", False)


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and every exception it wraps: ``reason``, causes, contexts, exceptions in args."""
    found: list[BaseException] = []
    todo: list[object] = [exc]
    while todo and len(found) < 20:
        item = todo.pop(0)
        if not isinstance(item, BaseException) or any(item is e for e in found):
            continue
        found.append(item)
        todo.extend([getattr(item, "reason", None), item.__cause__, item.__context__])
        todo.extend(a for a in item.args if isinstance(a, BaseException))
    return found


def _tls_reason(chain: list[BaseException]) -> str:
    for error in chain:
        if isinstance(error, ssl.SSLError) and error.reason:
            return _short(str(error.reason).replace("_", " ").lower())
    return "not a TLS server, or no common protocol"


def _short(text: str) -> str:
    return " ".join(text.split()).strip(" .")[:100]


def _reason(exc: BaseException) -> str:
    """A short cause without the exception's repr noise (never contains headers or the key)."""
    text = str(exc.args[0] if exc.args else exc)
    for marker in ("Caused by ", "Failed to establish a new connection: "):
        if marker in text:
            text = text.split(marker, 1)[1]
    return text.strip("()'\" ")[:160] or type(exc).__name__
