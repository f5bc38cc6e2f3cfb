"""What one HTTP answer from Dex means for a batch: ok, rejected, too large, failed, or a refusal.

Kept apart from ``transport.py`` (which makes the requests) because this is where dexbulk reads
Dex's undocumented answers: where the message is, which statuses are about the content, and
when a 400/422 is about the size of the request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from dexbulk.errors import AuthRefused

OutcomeKind = Literal["ok", "rejected", "not_found", "too_large", "failed", "unreachable"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the API said about one request.

    ``ok``: accepted, ``count`` contacts updated (``None`` if Dex did not say);
    ``rejected``: refused because of its content (400/422), worth splitting;
    ``not_found``: refused because contacts in it do not exist (a 404 with Dex's envelope, or a
    message naming unknown contacts): worth one read to find them, not a split;
    ``too_large``: refused because of its size (413); ``failed``: transient or unknown failure
    after every retry; ``unreachable``: the API cannot be reached (DNS, refused, TLS) or the
    URL is not the Dex API (a 404/405 without Dex's envelope, an HTML page, a redirect), so
    every other request would end the same way: the run stops.
    """

    kind: OutcomeKind
    status: int | None
    count: int | None
    message: str | None
    attempts: int


REJECT_STATUSES = frozenset({400, 404, 422})
# The patterns below are compiled on first use (re caches them): a clean run never needs them.
# "contact 3c90... not found", "Unknown contactId", "contacts do not exist: ...": Dex's words for
# a batch refused for its unknown contacts are undocumented, so any of them.
_UNKNOWN_CONTACTS = (
    r"\bcontact(s|_?ids?)?\b[^.;]{0,80}?\b(not found|unknown|do(es)? not exist|doesn't exist"
    r"|don't exist|not yours)\b"
    r"|\b(unknown|missing|nonexistent|non-existent|no such)\s+contact(s|_?ids?)?\b"
)
_UNITS = r"(contacts|items|updates|records|elements|entries|objects)"
_WHOLE = r"(request|batch|body|array|payload|list)"
# A 400/422 "about size" talks about the request as a whole ("Too many contacts in one request",
# "array must contain at most 100 items", "Payload too large"). A bare "max" or "limit" also
# names a field's constraint ("job_title exceeds max length"), which splitting finds instead
# of shrinking every later batch of the run for it.
_SIZE_MESSAGE = (
    rf"payload|request entity|batch size|request size|body size"
    rf"|\btoo (many|large|big|long)\b.{{0,24}}\b({_UNITS}|{_WHOLE})\b"
    rf"|\b({_UNITS}|{_WHOLE})\b.{{0,24}}\btoo (many|large|big|long)\b"
    rf"|\b(max(imum)?( of)?|at most|more than|up to|limit( of| is)?)\s+\d+\s+{_UNITS}"
)


class Answer:
    """One HTTP exchange reduced to what the classification needs."""

    def __init__(
        self,
        status: int | None,
        payload: object,
        error: str | None,
        attempts: int,
        text: str,
        *,
        api_url: str = "the API URL",
        unreachable: bool = False,
        location: str | None = None,
    ) -> None:
        self.status = status
        self.payload = payload
        self.error = error
        """Why there is no answer (``status`` is None), in a person's words."""
        self.attempts = attempts
        self.text = text
        self.api_url = api_url
        self.unreachable = unreachable
        """No answer because nothing could reach the server (DNS, refused, TLS)."""
        self.location = location
        """A redirect's ``Location`` header."""

    @property
    def envelope(self) -> bool:
        """The answer is Dex's JSON envelope (``{"error": bool, "data": ...}``)."""
        return isinstance(self.payload, dict) and (
            "error" in self.payload or "data" in self.payload
        )

    def not_dex(self) -> str | None:
        """Why this answer cannot come from the Dex API, or None when it may.

        A redirect, a 404/405 without Dex's envelope (Express's "Cannot PUT /contacts/" page for
        a base URL missing ``/v1``), or an HTML page where a JSON answer belongs. 401/403 (a
        refusal), 413 (a proxy's size limit), 429 and 5xx (a struggling server or proxy in front
        of Dex) say nothing about the URL, so they are never "not Dex".
        """
        status = self.status
        if status is None or status in (401, 403, 413, 429) or status >= 500:
            return None
        if 300 <= status < 400:
            to = f" to {self.location[:100]}" if self.location else ""
            why = f"HTTP {status} redirect{to}, not followed"
        elif status in (404, 405) and not self.envelope:
            why = f"HTTP {status}"
        elif self.text.lstrip().startswith("<"):
            why = f"HTTP {status} with an HTML page"
        else:
            return None
        return f"{self.api_url} does not look like the Dex API ({why})"

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
        """What this answer means for the batch it answered; raises :class:`AuthRefused`."""
        if self.status is None:
            if self.unreachable:
                reason = f"cannot reach {self.api_url}: {self.error}"
                return Outcome("unreachable", None, None, reason, self.attempts)
            return Outcome("failed", None, None, self.error, self.attempts)
        self.raise_for_auth()
        status, message = self.status, self.message()
        not_dex = self.not_dex()
        if not_dex is not None:
            return Outcome("unreachable", status, None, not_dex, self.attempts)
        if 200 <= status < 300:
            data = self.data()
            count = data.get("count") if isinstance(data, dict) else None
            if isinstance(self.payload, dict) and self.payload.get("error") is True:
                return Outcome("rejected", status, None, message or "error: true", self.attempts)
            count = count if isinstance(count, int) and not isinstance(count, bool) else None
            return Outcome("ok", status, count, None, self.attempts)
        about_size = status in (400, 422) and re.search(_SIZE_MESSAGE, message, re.IGNORECASE)
        if status == 413 or about_size:
            return Outcome("too_large", status, None, message or "batch too large", self.attempts)
        if status in REJECT_STATUSES:
            # not_dex() has ruled out a 404 without Dex's envelope: this one is Dex's own.
            unknown = status == 404 or bool(re.search(_UNKNOWN_CONTACTS, message, re.IGNORECASE))
            kind: OutcomeKind = "not_found" if unknown else "rejected"
            return Outcome(kind, status, None, message or f"HTTP {status}", self.attempts)
        message = f"HTTP {status}" + (f": {message}" if message else "")
        return Outcome("failed", status, None, message, self.attempts)
