"""The ``/v1`` routes: each takes a parsed request and answers a :class:`Response`.

Nothing here knows about sockets; :mod:`dexbulk.sandbox.handlers` does the HTTP and the faults.
Contact routes live here, tag and group routes in :mod:`dexbulk.sandbox.links`. Shapes follow
dex-api.md; where Dex is silent the choice is marked [assumed] and listed in docs/sandbox.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timezone

from dexbulk.sandbox import query
from dexbulk.sandbox.envelope import ApiFailure, Request, Response, express_not_found, failure, ok
from dexbulk.sandbox.links import Links
from dexbulk.sandbox.options import SandboxOptions
from dexbulk.sandbox.seed import timestamp
from dexbulk.sandbox.store import Store
from dexbulk.sandbox.validate import parse_batch
from dexbulk.values import normalize_uuid

FILTER_TAKE = (100, 500)
"""POST /v1/contacts/filter: default and largest ``take`` [assumed]."""
SEARCH_TAKE = (50, 200)
"""GET /v1/search/contacts: default and largest ``take`` [seen: ≤ 200; default assumed]."""

Route = Callable[[Request], Response]


class Api:
    """The route table over one :class:`Store`.

    Each route has a label, ``"METHOD /v1/path/{id}"``, under which the stats count requests.
    """

    def __init__(self, store: Store, options: SandboxOptions) -> None:
        self.store = store
        self.options = options
        links = Links(store, options)
        self._routes: list[tuple[str, str, re.Pattern[str], Route]] = []
        for method, path, route in (
            ("PUT", "/v1/contacts", self.put_contacts),
            ("GET", "/v1/contacts", self.list_contacts),
            ("GET", "/v1/contacts/count", self.count_contacts),
            ("POST", "/v1/contacts/filter", self.filter_contacts),
            ("POST", "/v1/contacts/by-emails", self.by_emails),
            ("GET", "/v1/contacts/{id}", self.get_contact),
            ("GET", "/v1/search/contacts", self.search_contacts),
            ("GET", "/v1/search/tags", links.search_tags),
            ("GET", "/v1/search/groups", links.search_groups),
            ("POST", "/v1/tags", links.create_tag),
            ("POST", "/v1/groups", links.create_group),
            ("POST", "/v1/tags/contacts/add", links.add_tags),
            ("POST", "/v1/tags/contacts/remove", links.remove_tags),
            ("PUT", "/v1/groups/{id}/contacts", links.add_to_group),
            ("POST", "/v1/groups/{id}/contacts", links.remove_from_group),
        ):
            # Every path works with and without a trailing slash (Dex documents "/v1/contacts/").
            pattern = re.compile("^" + path.replace("{id}", "(?P<id>[^/]+)") + "/?$")
            self._routes.append((f"{method} {path}", method, pattern, route))

    def label(self, request: Request) -> str | None:
        """The label of the route ``request`` goes to, or None when no route takes it."""
        for label, method, pattern, _ in self._routes:
            if method == request.method and pattern.match(request.path):
                return label
        return None

    def handle(self, request: Request) -> Response:
        """Answer one request; an unknown path under ``/v1`` is a 404 envelope, and one
        outside it the HTML page Express answers (a base URL without ``/v1``)."""
        if request.path != "/v1" and not request.path.startswith("/v1/"):
            return express_not_found(request.method, request.path)
        for _, method, pattern, route in self._routes:
            match = pattern.match(request.path)
            if match and method == request.method:
                request.params = match.groupdict()
                try:
                    return route(request)
                except ApiFailure as error:
                    return failure(error.status, error.message, error.headers)
        return failure(404, f"Cannot {request.method} {request.path}")

    def _cursor(self, cursor: object) -> object:
        """The cursor a paged read goes on from: none at all with ``--ignore-cursor``."""
        return None if self.options.ignore_cursor else cursor

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
        """All contacts, 500 a page (``--page-size``); ``limit``/``offset``/``page`` are
        ignored, as seen on Dex."""
        cursor = self._cursor(request.query.get("cursor"))
        after = query.decode_cursor(cursor) if isinstance(cursor, str) and cursor else None
        size = self.options.page_size
        # Read one row more than a page: if it exists, there is a next page.
        rows = self.store.rows(after=after, limit=size + 1)
        items, cursor = query.paginate(rows, cursor=None, take=size)
        select = request.query.get("select")
        project = query.projection(select)
        return ok({"items": [project(c) for c in items], "nextCursor": cursor})

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
        select = body.get("select")
        # Whole contacts (and their links) only when the answer or the filter uses them.
        fields = query.fields_read(where, select)
        rows = self.store.rows(query.narrowing_ids(where), fields=fields)
        rows = [r for r in rows if predicate(r[1])]
        items, cursor = query.paginate(
            rows, cursor=self._cursor(body.get("cursor")), take=take, skip=skip
        )
        project = query.projection(select)
        return ok(
            {
                "items": [project(c) for c in items],
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
        items, cursor = query.paginate(
            rows, cursor=self._cursor(request.query.get("cursor")), take=take
        )
        return ok({"items": items, "nextCursor": cursor})

    @property
    def _reject_unknown(self) -> bool:
        return self.options.unknown_ids == "reject"
