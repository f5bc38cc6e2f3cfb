"""The ``/v1`` routes: each takes a parsed request and answers a :class:`Response`.

Nothing here knows about sockets; :mod:`dexbulk.sandbox.handlers` does the HTTP and the faults.
Shapes follow dex-api.md; where Dex is silent the choice is marked [assumed] and listed in
docs/sandbox.md.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from dexbulk.sandbox import query
from dexbulk.sandbox.envelope import ApiFailure, Response, failure, ok
from dexbulk.sandbox.options import SandboxOptions
from dexbulk.sandbox.seed import TAG_COLORS, timestamp
from dexbulk.sandbox.store import Store
from dexbulk.sandbox.validate import parse_batch
from dexbulk.values import normalize_uuid

PAGE_SIZE = 500
"""GET /v1/contacts page size [seen: pages hold up to 500]."""
FILTER_TAKE = (100, 500)
"""POST /v1/contacts/filter: default and largest ``take`` [assumed]."""
SEARCH_TAKE = (50, 200)
"""GET /v1/search/contacts: default and largest ``take`` [seen: ≤ 200; default assumed]."""

_ID = r"(?P<id>[^/]+)"


@dataclass
class Request:
    """An HTTP request reduced to what routes need."""

    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    params: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        """The body parsed as JSON; 400 when it is not JSON."""
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            raise ApiFailure(400, "request body is not valid JSON") from None


Route = Callable[[Request], Response]


class Api:
    """The route table over one :class:`Store`."""

    def __init__(self, store: Store, options: SandboxOptions) -> None:
        self.store = store
        self.options = options
        self._routes: list[tuple[str, re.Pattern[str], Route]] = []
        for method, pattern, route in (
            ("PUT", "/v1/contacts", self.put_contacts),
            ("GET", "/v1/contacts", self.list_contacts),
            ("GET", "/v1/contacts/count", self.count_contacts),
            ("POST", "/v1/contacts/filter", self.filter_contacts),
            ("POST", "/v1/contacts/by-emails", self.by_emails),
            ("GET", f"/v1/contacts/{_ID}", self.get_contact),
            ("GET", "/v1/search/contacts", self.search_contacts),
            ("GET", "/v1/search/tags", self.search_tags),
            ("GET", "/v1/search/groups", self.search_groups),
            ("POST", "/v1/tags", self.create_tag),
            ("POST", "/v1/groups", self.create_group),
            ("POST", "/v1/tags/contacts/add", self.add_tags),
            ("POST", "/v1/tags/contacts/remove", self.remove_tags),
            ("PUT", f"/v1/groups/{_ID}/contacts", self.add_to_group),
            ("POST", f"/v1/groups/{_ID}/contacts", self.remove_from_group),
        ):
            # Every path works with and without a trailing slash (Dex documents "/v1/contacts/").
            self._routes.append((method, re.compile(f"^{pattern}/?$"), route))

    def handle(self, request: Request) -> Response:
        """Answer one request; unknown paths are a 404 envelope."""
        for method, pattern, route in self._routes:
            match = pattern.match(request.path)
            if match and method == request.method:
                request.params = match.groupdict()
                try:
                    return route(request)
                except ApiFailure as error:
                    return failure(error.status, error.message, error.headers)
        return failure(404, f"Cannot {request.method} {request.path}")

    # -- contacts -------------------------------------------------------------------------
    def put_contacts(self, request: Request) -> Response:
        """Bulk update: validate everything, then apply all-or-nothing; ``data.count``."""
        body = request.json()
        limit = self.options.max_batch
        if isinstance(body, list) and limit is not None and len(body) > limit:
            raise ApiFailure(413, f"too many contacts in one request: {len(body)} > {limit}")
        items = parse_batch(body)
        for contact_id, _ in items:
            if contact_id in self.options.reject_ids:
                raise ApiFailure(400, f"contact {contact_id} cannot be updated")
        count = self.store.apply_batch(
            items, reject_unknown=self._reject_unknown, now=timestamp(datetime.now(timezone.utc))
        )
        note = f"{len(items)} contacts" + (f", {count} updated" if count != len(items) else "")
        return ok({"count": count}, note=note, updated=count)

    def list_contacts(self, request: Request) -> Response:
        """All contacts, 500 a page; ``limit``/``offset``/``page`` are ignored, as seen on Dex."""
        cursor = request.query.get("cursor")
        after = query.decode_cursor(cursor) if cursor else None
        # Read one row more than a page: if it exists, there is a next page.
        rows = self.store.rows(after=after, limit=PAGE_SIZE + 1)
        items, cursor = query.paginate(rows, cursor=None, take=PAGE_SIZE)
        select = request.query.get("select")
        return ok({"items": [query.project(c, select) for c in items], "nextCursor": cursor})

    def count_contacts(self, _request: Request) -> Response:
        """``data.count``: how many contacts the account holds."""
        return ok({"count": self.store.count()})

    def get_contact(self, request: Request) -> Response:
        """One contact; 404 when missing."""
        contact_id = normalize_uuid(request.params["id"])
        contact = self.store.get(contact_id) if contact_id else None
        if contact is None:
            raise ApiFailure(404, f"contact {request.params['id']} not found")
        return ok(query.project(contact, request.query.get("select")))

    def filter_contacts(self, request: Request) -> Response:
        """``{take, skip, cursor, where, include, select}`` → items, nextCursor, count."""
        body = request.json() or {}
        if not isinstance(body, dict):
            raise ApiFailure(400, "body must be an object")
        take = query.int_param(
            "take", body.get("take"), default=FILTER_TAKE[0], low=1, high=FILTER_TAKE[1]
        )
        skip = query.int_param("skip", body.get("skip"), default=0, low=0, high=10**9)
        where = body.get("where")
        predicate = query.compile_where(where)
        rows = [r for r in self.store.rows(query.narrowing_ids(where)) if predicate(r[1])]
        items, cursor = query.paginate(rows, cursor=body.get("cursor"), take=take, skip=skip)
        select = body.get("select")
        return ok(
            {
                "items": [query.project(c, select) for c in items],
                "nextCursor": cursor,
                "count": len(rows),
            }
        )

    def by_emails(self, request: Request) -> Response:
        """Contacts having any of ``emails`` (case-insensitive)."""
        body = request.json()
        emails = body.get("emails") if isinstance(body, dict) else None
        if not isinstance(emails, list) or not all(isinstance(e, str) for e in emails):
            raise ApiFailure(400, 'body must be {"emails": [string, ...]}')
        wanted = {e.strip().casefold() for e in emails}
        items = [
            c
            for _, c in self.store.rows()
            if any(str(e.get("email", "")).casefold() in wanted for e in c["contact_emails"] or [])
        ]
        return ok({"items": items})

    # -- search ---------------------------------------------------------------------------
    def search_contacts(self, request: Request) -> Response:
        """Substring search on name, email and company."""
        text = request.query.get("searchQuery", "")
        take = query.int_param(
            "take", request.query.get("take"), default=SEARCH_TAKE[0], low=1, high=SEARCH_TAKE[1]
        )
        rows = [r for r in self.store.rows() if query.matches_search(r[1], text)]
        items, cursor = query.paginate(rows, cursor=request.query.get("cursor"), take=take)
        return ok({"items": items, "nextCursor": cursor})

    def search_tags(self, request: Request) -> Response:
        """Tags whose name contains ``searchQuery``; exact matching is the client's job."""
        return ok({"items": _named_like(self.store.tags(), request.query.get("searchQuery"))})

    def search_groups(self, request: Request) -> Response:
        """Groups whose name contains ``searchQuery``."""
        return ok({"items": _named_like(self.store.groups(), request.query.get("searchQuery"))})

    # -- tags and groups ------------------------------------------------------------------
    def create_tag(self, request: Request) -> Response:
        """``{"tag": {"name": ...}}`` → ``data.tag``."""
        name = _new_name(request.json(), "tag")
        tag = {"id": str(uuid.uuid4()), "name": name, "color": TAG_COLORS[0]}
        self.store.create("tags", tag)
        return ok({"tag": tag})

    def create_group(self, request: Request) -> Response:
        """``{"group": {"name": ...}}`` → ``data.group``."""
        name = _new_name(request.json(), "group")
        group = {"id": str(uuid.uuid4()), "name": name, "emoji": None}
        self.store.create("dex_groups", group)
        return ok({"group": group})

    def add_tags(self, request: Request) -> Response:
        """Link every tag to every contact; ``data.count`` = links created [assumed]."""
        return self._link(request, "tag", add=True)

    def remove_tags(self, request: Request) -> Response:
        """Unlink the tags; ``data.count`` = links removed [assumed]."""
        return self._link(request, "tag", add=False)

    def add_to_group(self, request: Request) -> Response:
        """Add members (those already in are skipped); ``data.count`` = members added."""
        return self._link(request, "group", add=True)

    def remove_from_group(self, request: Request) -> Response:
        """Remove members; ``data.count`` = members removed."""
        return self._link(request, "group", add=False)

    def _link(self, request: Request, kind: str, *, add: bool) -> Response:
        body = request.json()
        if not isinstance(body, dict):
            raise ApiFailure(400, "body must be an object")
        contact_ids = _uuid_list(body, "contactIds")
        if kind == "tag":
            targets = _uuid_list(body, "tagIds")
        else:
            group = normalize_uuid(request.params["id"])
            if group is None:
                raise ApiFailure(404, f"group {request.params['id']} not found")
            targets = [group]
        for contact_id in contact_ids:
            if contact_id in self.options.reject_ids:
                raise ApiFailure(400, f"contact {contact_id} cannot be updated")
        count = self.store.link(
            kind, contact_ids, targets, add=add, reject_unknown=self._reject_unknown
        )
        return ok({"count": count}, note=f"{len(contact_ids)} contacts")

    @property
    def _reject_unknown(self) -> bool:
        return self.options.unknown_ids == "reject"


def _named_like(items: list[dict[str, Any]], text: str | None) -> list[dict[str, Any]]:
    needle = (text or "").strip().casefold()
    return [i for i in items if needle in str(i["name"]).casefold()]


def _new_name(body: object, kind: str) -> str:
    inner = body.get(kind) if isinstance(body, dict) else None
    name = inner.get("name") if isinstance(inner, dict) else None
    if not isinstance(name, str) or not name.strip():
        raise ApiFailure(400, f'body must be {{"{kind}": {{"name": string}}}}')
    return name.strip()


def _uuid_list(body: dict[str, Any], key: str) -> list[str]:
    values = body.get(key)
    if not isinstance(values, list):
        raise ApiFailure(400, f"{key} must be an array of IDs")
    ids: list[str] = []
    for index, value in enumerate(values):
        canonical = normalize_uuid(value) if isinstance(value, str) else None
        if canonical is None:
            raise ApiFailure(400, f"{key}[{index}]: {value!r} is not a UUID")
        ids.append(canonical)
    return list(dict.fromkeys(ids))
