"""The Dex API client: every endpoint dexbulk uses, each answer read into one shape.

Writes answer an :class:`~dexbulk.answers.Outcome` that the batch layer acts on (split, shrink,
settle). Reads answer plain contact dicts, or raise :class:`~dexbulk.errors.ApiError` when Dex
cannot be read. Requests, retries and pacing are :class:`~dexbulk.transport.Transport`'s; what an
answer means is :mod:`dexbulk.answers`'. Endpoint shapes are those of ``docs`` and
``shared/dex-api.md``; where the real API is undocumented ([assumed] there) the choice sits in
one method here, so switching is a one-line change.

>>> dex = Dex("https://api.prod.getdex.com/v1", "dex_...")  # doctest: +SKIP
>>> [c["full_name"] for c in dex.iter_contacts()][:3]  # doctest: +SKIP
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote as urlquote

from dexbulk.answers import Answer, Outcome
from dexbulk.errors import ApiError, AuthRefused, NotDexApi, Unreachable
from dexbulk.plan import Update
from dexbulk.ratelimit import RateLimiter, Sleeper
from dexbulk.secret import ApiKey
from dexbulk.settings import DEFAULT_API_URL
from dexbulk.transport import THROTTLE_RETRIES, Transport, compact_json

PAGE_SIZE = 500
"""The most contacts Dex returns in one page (list and filter)."""
SEARCH_PAGE_SIZE = 200
"""The most results Dex's search endpoints return in one page."""
MAX_PAGES = 100_000
"""A bound on any paging loop, whatever cursors a server hands out."""

Contact = dict[str, Any]
_URL_HINT = f"check --api-url or DEX_API_URL (Dex's is {DEFAULT_API_URL})"


def membership_request(
    kind: str, add: bool, contact_ids: Sequence[str], target_ids: Sequence[str]
) -> tuple[str, str, dict[str, list[str]]]:
    """Method, path and body of a membership change: ``POST /v1/tags/contacts/add|remove``
    with every tag, or ``PUT`` (add) / ``POST`` (remove) ``/v1/groups/{id}/contacts`` for the
    one group of ``target_ids``. Also what a dry run shows."""
    ids = list(contact_ids)
    if kind == "tag":
        path = "/tags/contacts/add" if add else "/tags/contacts/remove"
        return "POST", path, {"contactIds": ids, "tagIds": list(target_ids)}
    (group,) = target_ids
    return (
        "PUT" if add else "POST",
        f"/groups/{urlquote(group, safe='')}/contacts",
        {"contactIds": ids},
    )


class Dex:
    """A pooled, retrying client of the Dex API, safe to share between threads.

    ``api_key`` may be a plain string or an :class:`~dexbulk.secret.ApiKey`; it is sent only in
    the ``Authorization`` header and never shown. Close it (or use it as a context manager) to
    release its connections.
    """

    def __init__(
        self,
        api_url: str = DEFAULT_API_URL,
        api_key: ApiKey | str = "",
        *,
        timeout: float = 30.0,
        max_attempts: int = 5,
        pool_size: int = 4,
        limiter: RateLimiter | None = None,
        sleeper: Sleeper = time.sleep,
        backoff_factor: float = 0.5,
        throttle_retries: int = THROTTLE_RETRIES,
    ) -> None:
        key = api_key if isinstance(api_key, ApiKey) else ApiKey(api_key, source="argument")
        self.transport = Transport(
            api_url, key, timeout=timeout, max_attempts=max_attempts, pool_size=pool_size,
            limiter=limiter, sleeper=sleeper, backoff_factor=backoff_factor,
            throttle_retries=throttle_retries,
        )  # fmt: skip
        self.api_url = self.transport.api_url
        self._reads = 0
        self._reads_lock = threading.Lock()

    def __enter__(self) -> Dex:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close pooled connections."""
        self.transport.close()

    @property
    def retries(self) -> int:
        """Every retry this client made, of any request."""
        return self.transport.retries

    @property
    def reads(self) -> int:
        """Read requests this client made so far (pages, searches, lookups), retries aside."""
        return self._reads

    def _count_read(self) -> None:
        with self._reads_lock:
            self._reads += 1

    # -- writing ---------------------------------------------------------------------------

    def put_contacts(self, updates: Sequence[Update]) -> Outcome:
        """Send one batch to ``PUT /v1/contacts/`` and classify the answer.

        Raises :class:`~dexbulk.errors.AuthRefused` on 401/403 (the run must stop); every other
        answer becomes an :class:`Outcome` the batch layer acts on.
        """
        body = encode_batch(updates)
        return self.transport.request("PUT", "/contacts/", body, len(updates)).classify()

    def change_membership(
        self, kind: str, add: bool, contact_ids: Sequence[str], target_ids: Sequence[str]
    ) -> Outcome:
        """Add (``add``) or remove every contact's tags (``kind`` ``tag``, all ``target_ids``) or
        their membership of one group (``group``): the request :func:`membership_request` says."""
        method, path, body = membership_request(kind, add, contact_ids, target_ids)
        return self.transport.request(method, path, compact_json(body), len(contact_ids)).classify()

    def add_tags(self, contact_ids: Sequence[str], tag_ids: Sequence[str]) -> Outcome:
        """``POST /v1/tags/contacts/add``: every tag on every contact."""
        return self.change_membership("tag", True, contact_ids, tag_ids)

    def remove_tags(self, contact_ids: Sequence[str], tag_ids: Sequence[str]) -> Outcome:
        """``POST /v1/tags/contacts/remove``: every tag off every contact."""
        return self.change_membership("tag", False, contact_ids, tag_ids)

    def add_to_group(self, group_id: str, contact_ids: Sequence[str]) -> Outcome:
        """``PUT /v1/groups/{id}/contacts`` adds (members already in are skipped by Dex)."""
        return self.change_membership("group", True, contact_ids, [group_id])

    def remove_from_group(self, group_id: str, contact_ids: Sequence[str]) -> Outcome:
        """``POST /v1/groups/{id}/contacts`` removes (Dex's choice of verb, not ours)."""
        return self.change_membership("group", False, contact_ids, [group_id])

    def create_tag(self, name: str) -> Contact:
        """``POST /v1/tags/``: create a tag and return it (``{id, name, ...}``)."""
        data = self._data("POST", "/tags/", compact_json({"tag": {"name": name}}))
        return _object(data.get("tag", data), "POST /tags/")

    def create_group(self, name: str) -> Contact:
        """``POST /v1/groups/``: create a group and return it (``{id, name, ...}``)."""
        data = self._data("POST", "/groups/", compact_json({"group": {"name": name}}))
        return _object(data.get("group", data), "POST /groups/")

    # -- reading ---------------------------------------------------------------------------

    def get_contact(self, contact_id: str) -> Contact | None:
        """``GET /v1/contacts/{id}``: the contact, or ``None`` when missing or not the user's."""
        path = f"/contacts/{urlquote(contact_id, safe='')}"
        self._count_read()
        answer = self.transport.request("GET", path, None, 1)
        if answer.status == 404 and answer.not_dex() is not None:
            # Not Dex saying "no such contact" but a server without Dex's routes: the URL is
            # wrong, and asking for every other contact would only say so again.
            raise NotDexApi(str(answer.not_dex()), status=404, hint=_URL_HINT)
        if answer.status == 404:
            return None
        return _object(_data_of(answer, "GET", path), f"GET {path}")

    def verify_key(self) -> int | None:
        """Prove that Dex accepts the key: ``GET /v1/contacts/count`` answers 2xx with Dex's
        JSON envelope. Returns the address book's size when Dex gives it.

        Anything less proves nothing and raises: :class:`~dexbulk.errors.AuthRefused` (401/403,
        exit 3); :class:`~dexbulk.errors.Unreachable` (DNS, refused, TLS, timeouts, exit 4);
        :class:`~dexbulk.errors.NotDexApi` (a redirect, a 404 or an HTML page: the URL is
        wrong, exit 4); :class:`~dexbulk.errors.ApiError` (5xx, 429 or an error answer after
        every retry, exit 4).
        """
        answer = self.transport.request("GET", "/contacts/count", None, 0)
        if answer.status is None:
            raise Unreachable(f"cannot reach {self.api_url}: {answer.error}")
        answer.raise_for_auth()
        not_dex = answer.not_dex()
        if not_dex is not None:
            raise NotDexApi(not_dex, status=answer.status, hint=_URL_HINT)
        status, message = answer.status, answer.message()
        detail = f": {message}" if message else ""
        if not 200 <= status < 300:
            raise ApiError(
                f"{self.api_url} answered HTTP {status}{detail}; the key could not be checked",
                status=status, hint="try again later",
            )  # fmt: skip
        payload = answer.payload
        if not answer.envelope or not isinstance(payload, dict):
            raise NotDexApi(
                f"{self.api_url} does not look like the Dex API (HTTP {status} without Dex's "
                "JSON answer)", status=status, hint=_URL_HINT,
            )  # fmt: skip
        if payload.get("error") not in (False, None):
            raise ApiError(
                f"{self.api_url} answered with an error{detail}; the key could not be checked",
                status=status,
            )  # fmt: skip
        data = payload.get("data")
        count = data.get("count") if isinstance(data, dict) else None
        return count if isinstance(count, int) and not isinstance(count, bool) else None

    def count_contacts(self) -> int | None:
        """``GET /v1/contacts/count``: the size of the address book, or ``None``."""
        answer = self.transport.request("GET", "/contacts/count", None, 0)
        answer.raise_for_auth()
        data = answer.data()
        count = data.get("count") if isinstance(data, dict) else None
        return count if isinstance(count, int) and not isinstance(count, bool) else None

    def iter_contacts(self) -> Iterator[Contact]:
        """Every contact, page by page (``GET /v1/contacts?cursor=``), each contact once."""

        def page(cursor: str | None) -> tuple[object, str]:
            query = f"?cursor={urlquote(cursor, safe='')}" if cursor else ""
            return self._read("GET", f"/contacts{query}", None, None), "GET /contacts"

        yield from _paged(page)

    def filter_contacts(
        self,
        where: Mapping[str, object],
        *,
        take: int = PAGE_SIZE,
        select: Sequence[str] | None = None,
    ) -> Iterator[Contact]:
        """``POST /v1/contacts/filter`` with ``where`` (Dex's keys), every page, each once.

        ``select`` asks for only those fields (and ``id``), as a list of names [assumed].
        """

        def page(cursor: str | None) -> tuple[object, str]:
            query: dict[str, object] = {"where": dict(where), "take": take}
            if select is not None:
                query["select"] = list(dict.fromkeys(["id", *select]))
            if cursor:
                query["cursor"] = cursor
            return self._read("POST", "/contacts/filter", compact_json(query), None), "filter"

        yield from _paged(page)

    def contacts_by_ids(
        self, ids: Sequence[str], fields: Sequence[str] | None = None
    ) -> dict[str, Contact]:
        """The user's contacts among ``ids``, keyed by lower-case ID, in as few reads as possible.

        ``where.in`` takes up to 500 IDs a request; if Dex will not filter, one ``GET`` per ID.
        IDs that are not the user's are simply absent. ``fields`` asks for only those fields
        (a smaller answer); if Dex refuses the ``select``, the chunk is asked again without it.
        """
        wanted = {i.lower() for i in ids}
        found: dict[str, Contact] = {}
        for start in range(0, len(ids), PAGE_SIZE):
            chunk = [i.lower() for i in ids[start : start + PAGE_SIZE]]
            page: dict[str, Contact] | None = None
            for select in (fields, None) if fields else (None,):
                try:
                    where = {"in": chunk}
                    items = self.filter_contacts(where, take=len(chunk), select=select)
                    page = {_id_of(c): c for c in items}
                    break
                except (AuthRefused, Unreachable, NotDexApi):
                    raise  # a fallback would fail the same way
                except ApiError:
                    continue
            if page is None:
                page = {}
                for contact_id in chunk:
                    contact = self.get_contact(contact_id)
                    if contact is not None:
                        page[_id_of(contact)] = contact
            found.update({cid: c for cid, c in page.items() if cid in wanted})
        return found

    def existing_ids(self, ids: Sequence[str]) -> set[str] | None:
        """Which of ``ids`` are the user's contacts, or ``None`` if Dex would not say."""
        try:
            return set(self.contacts_by_ids(ids))
        except AuthRefused:
            raise
        except ApiError:
            return None

    def search_contacts(self, text: str) -> Iterator[Contact]:
        """``GET /v1/search/contacts``: Dex's own match on name, email and company."""
        yield from self._search("contacts", text)

    def search_tags(self, name: str) -> list[Contact]:
        """``GET /v1/search/tags``: tags whose name matches ``name`` (Dex decides how loosely)."""
        return list(self._search("tags", name))

    def search_groups(self, name: str) -> list[Contact]:
        """``GET /v1/search/groups``: groups whose name matches ``name``."""
        return list(self._search("groups", name))

    def _search(self, what: str, text: str) -> Iterator[Contact]:
        def page(cursor: str | None) -> tuple[object, str]:
            query = f"?searchQuery={urlquote(text, safe='')}&take={SEARCH_PAGE_SIZE}"
            if cursor:
                query += f"&cursor={urlquote(cursor, safe='')}"
            # Only a search of contacts answers contacts: count them in the -v log.
            contacts = None if what == "contacts" else 0
            return self._read("GET", f"/search/{what}{query}", None, contacts), f"search {what}"

        yield from _paged(page)

    def _read(
        self, method: str, path: str, body: bytes | None, contacts: int | None = 0
    ) -> dict[str, Any]:
        self._count_read()
        return self._data(method, path, body, contacts)

    def _data(
        self, method: str, path: str, body: bytes | None, contacts: int | None = 0
    ) -> dict[str, Any]:
        answer = self.transport.request(method, path, body, contacts)
        return _data_of(answer, method, path.split("?", 1)[0])


def _data_of(answer: Answer, method: str, path: str) -> dict[str, Any]:
    """The ``data`` object of a successful read, or an error saying why there is none."""
    answer.raise_for_auth()
    where = f"{method} {path}"
    if answer.status is None:
        # Said as a send says it: the cause already names the URL (cannot reach URL: …).
        raise Unreachable(answer.error or f"{where}: no answer")
    data = answer.data()
    if not 200 <= answer.status < 300 or not isinstance(data, dict):
        detail = answer.message() or ("not a Dex answer" if data is None else "no data")
        raise ApiError(f"{where}: HTTP {answer.status}: {detail}", status=answer.status)
    return data


def _paged(fetch: Any) -> Iterator[Contact]:
    """Follow ``nextCursor`` through pages of ``items``, yielding each item once.

    A page that holds nothing new ends the loop: some servers ignore the cursor and hand out
    the first page again, which would otherwise never end.
    """
    seen: set[str] = set()
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        data, where = fetch(cursor)
        items = data.get("items") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise ApiError(f"{where}: Dex's answer has no list of items")
        new = 0
        for item in items:
            if not isinstance(item, dict):
                continue
            key = _id_of(item)
            if key in seen:
                continue
            seen.add(key)
            new += 1
            yield item
        cursor = data.get("nextCursor")
        if new == 0 or not isinstance(cursor, str) or not cursor:
            return


def _id_of(item: Mapping[str, Any]) -> str:
    return str(item.get("id", "")).lower()


def _object(value: object, where: str) -> Contact:
    if not isinstance(value, dict):
        raise ApiError(f"{where}: Dex's answer is not an object")
    return value


def encode_batch(updates: Iterable[Update]) -> bytes:
    """The compact JSON body of one ``PUT /v1/contacts/`` request."""
    return compact_json([u.to_api() for u in updates])
