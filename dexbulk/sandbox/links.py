"""The tag and group routes: search, create, and add or remove members.

Shapes follow dex-api.md "Tags and groups"; where Dex is silent the choice is marked [assumed]
and listed in docs/sandbox.md.
"""

from __future__ import annotations

import uuid
from typing import Any

from dexbulk.sandbox.envelope import ApiFailure, Request, Response, ok
from dexbulk.sandbox.options import SandboxOptions
from dexbulk.sandbox.seed import TAG_COLORS
from dexbulk.sandbox.store import Store
from dexbulk.values import normalize_uuid


class Links:
    """Routes over tags, groups and their links to contacts."""

    def __init__(self, store: Store, options: SandboxOptions) -> None:
        self.store = store
        self.options = options

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
