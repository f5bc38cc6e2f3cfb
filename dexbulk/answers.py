"""What one HTTP answer from Dex means for a batch: ok, rejected, too large, failed, or a refusal.

Kept apart from ``client.py`` (which makes the requests) because this is where dexbulk reads
Dex's undocumented answers: where the message is, which statuses are about the content, and
when a 400/422 is about the size of the request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from dexbulk.errors import AuthRefused

OutcomeKind = Literal["ok", "rejected", "too_large", "failed"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the API said about one request.

    ``ok``: accepted, ``count`` contacts updated (``None`` if Dex did not say);
    ``rejected``: refused because of its content (400/404/422), worth splitting;
    ``too_large``: refused because of its size (413); ``failed``: transient or unknown failure
    after every retry, or unreachable.
    """

    kind: OutcomeKind
    status: int | None
    count: int | None
    message: str | None
    attempts: int


REJECT_STATUSES = frozenset({400, 404, 422})
_UNITS = r"(contacts|items|updates|records|elements|entries|objects)"
_WHOLE = r"(request|batch|body|array|payload|list)"
# A 400/422 "about size" talks about the request as a whole ("Too many contacts in one request",
# "array must contain at most 100 items", "Payload too large"). A bare "max" or "limit" also
# names a field's constraint ("job_title exceeds max length"), which splitting finds instead
# of shrinking every later batch of the run for it.
_SIZE_MESSAGE = re.compile(
    rf"payload|request entity|batch size|request size|body size"
    rf"|\btoo (many|large|big|long)\b.{{0,24}}\b({_UNITS}|{_WHOLE})\b"
    rf"|\b({_UNITS}|{_WHOLE})\b.{{0,24}}\btoo (many|large|big|long)\b"
    rf"|\b(max(imum)?( of)?|at most|more than|up to|limit( of| is)?)\s+\d+\s+{_UNITS}",
    re.IGNORECASE,
)


class Answer:
    """One HTTP exchange reduced to what the classification needs."""

    def __init__(
        self, status: int | None, payload: object, error: str | None, attempts: int, text: str
    ) -> None:
        self.status = status
        self.payload = payload
        self.error = error
        self.attempts = attempts
        self.text = text

    def data(self) -> object:
        return self.payload.get("data") if isinstance(self.payload, dict) else None

    def message(self) -> str:
        """The API's own words, from whichever field it used."""
        if isinstance(self.payload, dict):
            for key in ("message", "error", "detail"):
                value = self.payload.get(key)
                if isinstance(value, str) and value:
                    return value
            data = self.payload.get("data")
            if isinstance(data, dict) and isinstance(data.get("message"), str):
                return str(data["message"])
        text = " ".join(self.text.split())
        return text[:200] if text and not text.startswith("<") else ""

    def raise_for_auth(self) -> None:
        if self.status in (401, 403):
            looks_blocked = self.status == 403 and self.text.lstrip().startswith("<")
            if looks_blocked:
                raise AuthRefused(
                    "Dex answered 403 with an HTML page: the request was blocked before it "
                    "reached the API (a firewall), not necessarily a bad key",
                    status=403,
                    hint="try again later, or check proxies between you and Dex",
                )
            detail = f" ({self.message()})" if self.message() else ""
            raise AuthRefused(
                f"Dex refused the API key: HTTP {self.status}{detail}",
                status=self.status,
                hint="check DEX_API_KEY, or run 'dexbulk auth login'",
            )

    def classify(self) -> Outcome:
        if self.status is None:
            return Outcome("failed", None, None, self.error, self.attempts)
        self.raise_for_auth()
        status, message = self.status, self.message()
        envelope = isinstance(self.payload, dict) and "error" in self.payload
        if 200 <= status < 300:
            data = self.data()
            count = data.get("count") if isinstance(data, dict) else None
            if isinstance(self.payload, dict) and self.payload.get("error") is True:
                return Outcome("rejected", status, None, message or "error: true", self.attempts)
            count = count if isinstance(count, int) and not isinstance(count, bool) else None
            return Outcome("ok", status, count, None, self.attempts)
        if status == 413 or (status in (400, 422) and _SIZE_MESSAGE.search(message)):
            return Outcome("too_large", status, None, message or "batch too large", self.attempts)
        if status in REJECT_STATUSES and (status != 404 or envelope):
            return Outcome("rejected", status, None, message or f"HTTP {status}", self.attempts)
        if status == 404:
            message = "HTTP 404 without a Dex answer: check --api-url (expected .../v1)"
        elif 300 <= status < 400:
            message = f"HTTP {status} redirect, not followed: check --api-url"
        else:
            message = f"HTTP {status}" + (f": {message}" if message else "")
        return Outcome("failed", status, None, message, self.attempts)
