"""Tags and groups in bulk: membership changes as plans, and the one way they are sent.

A membership change is a plan on the ``membership`` channel (:data:`dexbulk.plan.MEMBERSHIP`)
whose data objects hold one boolean per tag or group: ``{"tag:<uuid>": true}`` adds the tag,
``false`` removes it; ``group:<uuid>`` likewise. Written that way, a membership is just another
field to the rest of dexbulk: the read before a run tells who already holds it (``unchanged``,
not sent), the journal's ``before`` records keep what each contact had, and an undo is the
prior values sent back, which removes exactly what a run added and re-adds what it removed.

:func:`send_membership` is the one place that chooses how a change reaches Dex (the tag and
group endpoints, or tags through ``PUT /v1/contacts/``'s ``tags_contacts`` operations, by
:data:`TAGS_VIA_PUT`); the sandbox plays both.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dexbulk.answers import Outcome
from dexbulk.errors import ApiError, AuthRefused, InvalidInput
from dexbulk.plan import MEMBERSHIP, Plan, Selection, Update
from dexbulk.values import JSON, normalize_uuid, quote

if TYPE_CHECKING:
    from dexbulk.dex import Dex
    from dexbulk.names import Named

KINDS = ("tag", "group")
READ_FIELD = {"tag": "tags", "group": "groups"}
"""The field of a contact, as Dex returns it, that lists its tags or groups (``[{id, name}]``)."""
TAGS_VIA_PUT = False
"""Send tag changes as ``PUT /v1/contacts/`` ``tags_contacts`` operations instead of
``POST /v1/tags/contacts/add|remove``. Both are documented; the dedicated endpoints take many
contacts in one small body, so they are the default. Groups have only their own endpoints."""


@dataclass(frozen=True)
class Target:
    """A tag or group key of a membership data object: ``tag:<uuid>``."""

    kind: str
    id: str

    @property
    def key(self) -> str:
        """The data object's key: ``tag:<uuid>``."""
        return f"{self.kind}:{self.id}"

    @classmethod
    @functools.lru_cache(maxsize=256)
    def parse(cls, key: str) -> Target:
        """``tag:<uuid>`` or ``group:<uuid>``; InvalidInput for anything else. Cached: the read
        before a run asks it for every contact and key it compares."""
        kind, _, raw = key.partition(":")
        uuid = normalize_uuid(raw)
        if kind not in KINDS or uuid is None:
            raise InvalidInput(f"{quote(key)} is not a tag or group key (tag:UUID, group:UUID)")
        return cls(kind, uuid)


def is_membership_key(name: str) -> bool:
    """Whether a data object's key is a membership (``tag:…``, ``group:…``), not a field."""
    return name.startswith(("tag:", "group:"))


def check_data(data: Mapping[str, object]) -> None:
    """Refuse a membership data object that is not ``{"tag:<uuid>": bool, ...}``."""
    if not data:
        raise InvalidInput("an empty membership change")
    for key, value in data.items():
        Target.parse(key)
        if not isinstance(value, bool):
            raise InvalidInput(f"{quote(key)}: expected true (add) or false (remove)")


def holds(contact: Mapping[str, Any], key: str) -> bool | None:
    """Whether ``contact`` (as Dex returned it) has the tag or group ``key``; None when the
    answer does not list its tags or groups."""
    target = Target.parse(key)
    listed = contact.get(READ_FIELD[target.kind])
    if not isinstance(listed, list):
        return None
    ids = [item.get("id") if isinstance(item, Mapping) else None for item in listed]
    if not all(isinstance(i, str) for i in ids):
        # A shape this version does not know ([{"tag_id": …}], names): unknown, never "lacks
        # it", or a remove would skip every contact as already right.
        return None
    return any(str(i).lower() == target.id for i in ids)


def read_fields(keys: Iterable[str]) -> list[str]:
    """The contact fields to read to compare ``keys`` (``tags`` and/or ``groups``)."""
    return list(dict.fromkeys(READ_FIELD[Target.parse(k).kind] for k in keys))


def membership_plan(
    selection: Selection, targets: Sequence[Named], kind: str, add: bool, command: str
) -> Plan:
    """Every selected contact gains (``add``) or loses each of ``targets``."""
    data: dict[str, JSON] = {f"{kind}:{t.id}": add for t in targets}
    labels = {f"{kind}:{t.id}": t.name for t in targets}
    return Plan(
        updates=[Update(cid, data) for cid in selection.ids], command=command, patch=data,
        duplicates=selection.duplicates, sources=selection.sources, channel=MEMBERSHIP,
        labels=labels,
    )  # fmt: skip


def target_label(key: str, labels: Mapping[str, str]) -> str:
    """``tag 'investor'`` or ``group 'Team'`` for people (the ID when no name is known)."""
    target = Target.parse(key)
    name = labels.get(key)
    return f"{target.kind} {quote(name) if name is not None else target.id}"


def describe_change(key: str, value: object, labels: Mapping[str, str]) -> str:
    """``+ tag 'investor'`` or ``- group 'Team'``: the change for people."""
    return f"{'+' if value else '-'} {target_label(key, labels)}"


class MembershipSender:
    """What :func:`dexbulk.engine.execute` sends a membership plan through."""

    def __init__(self, dex: Dex) -> None:
        self.dex = dex
        self._sent: dict[str, Mapping[str, JSON]] = {}
        self._lock = threading.Lock()

    def put_contacts(self, updates: Sequence[Update]) -> Outcome:
        """Send one batch: contacts with the same change go in one request per endpoint."""
        by_change: dict[str, list[Update]] = {}
        for update in updates:
            by_change.setdefault(_key(update.data), []).append(update)
        with self._lock:
            self._sent.update((u.contact_id, u.data) for u in updates)
        outcomes = [send_membership(self.dex, part) for part in by_change.values()]
        return combine(outcomes, len(updates))

    def existing_ids(self, ids: Sequence[str]) -> set[str] | None:
        """After a short count: the contacts that now hold what was sent (a contact Dex did not
        change is not confirmed, even if it exists); where the read cannot tell (no tags or
        groups in its answer), the contacts that exist."""
        with self._lock:
            sent = {cid: self._sent.get(cid) for cid in ids}
        fields = read_fields(key for data in sent.values() if data for key in data)
        try:
            found = self.dex.contacts_by_ids(ids, fields or None)
        except AuthRefused:
            raise
        except ApiError:
            return None
        confirmed: set[str] = set()
        for cid, contact in found.items():
            data = sent.get(cid) or {}
            if all(holds(contact, key) in (None, value) for key, value in data.items()):
                confirmed.add(cid)
        return confirmed


@dataclass(frozen=True)
class _Call:
    """One request of a membership change: every tag added (or removed) at once, or one group."""

    kind: str
    add: bool
    targets: tuple[str, ...]


def _calls(data: Mapping[str, JSON]) -> list[_Call]:
    """The requests that carry ``data``: adds first, then removes; tags together, a group each."""
    targets = [(Target.parse(key), value) for key, value in data.items()]
    calls: list[_Call] = []
    for add in (True, False):
        tags = tuple(t.id for t, value in targets if t.kind == "tag" and value is add)
        if tags:
            calls.append(_Call("tag", add, tags))
        calls += [
            _Call("group", add, (t.id,)) for t, v in targets if t.kind == "group" and v is add
        ]
    return calls


def send_membership(dex: Dex, updates: Sequence[Update]) -> Outcome:
    """Send one change (the same data object for every update) to Dex: the one function that
    knows which endpoint carries it. ``count`` is per contact: how many contacts took the
    whole change (Dex counts links; a change of two tags counts each contact twice)."""
    ids = [u.contact_id for u in updates]
    outcomes: list[Outcome] = []
    for call in _calls(updates[0].data):
        if call.kind == "tag" and TAGS_VIA_PUT:
            outcome = dex.put_contacts(_tag_ops(ids, call.targets, call.add))
        else:
            outcome = dex.change_membership(call.kind, call.add, ids, call.targets)
            outcome = _per_contact(outcome, len(call.targets))
        outcomes.append(outcome)
    return combine(outcomes, len(ids))


def first_request(updates: Sequence[Update], api_url: str) -> dict[str, object] | None:
    """The first request :func:`send_membership` would make for ``updates`` (one change), for
    the dry run: method, URL and body (the key is never in it)."""
    if not updates:
        return None
    data = updates[0].data
    ids = [u.contact_id for u in updates if u.data == data]
    call = _calls(data)[0]
    if call.kind == "tag" and TAGS_VIA_PUT:
        body: object = [u.to_api() for u in _tag_ops(ids, call.targets, call.add)]
        return {"method": "PUT", "url": f"{api_url}/contacts/", "body": body}
    from dexbulk.dex import membership_request  # the dry run needs no HTTP client otherwise

    method, path, request = membership_request(call.kind, call.add, ids, call.targets)
    return {"method": method, "url": api_url + path, "body": request}


def combine(outcomes: Sequence[Outcome], size: int) -> Outcome:
    """One outcome for requests that together carry one batch: the first that did not succeed,
    else ok with the smallest count (a contact is confirmed only if every request took it)."""
    for outcome in outcomes:
        if outcome.kind != "ok":
            return outcome
    counts = [o.count for o in outcomes]
    count = (
        None
        if any(c is None for c in counts)
        else min([size, *(c for c in counts if c is not None)])
    )
    attempts = max((o.attempts for o in outcomes), default=0)
    status = outcomes[-1].status if outcomes else 200
    return Outcome("ok", status, count, None, attempts)


def _per_contact(outcome: Outcome, links_per_contact: int) -> Outcome:
    if outcome.kind != "ok" or outcome.count is None or links_per_contact <= 1:
        return outcome
    return Outcome("ok", outcome.status, outcome.count // links_per_contact, None, outcome.attempts)


def _tag_ops(ids: Sequence[str], tags: Sequence[str], add: bool) -> list[Update]:
    if add:
        append: JSON = {"append": [{"tag_id": t} for t in tags]}
        return [Update(cid, {"tags_contacts": append}) for cid in ids]
    return [
        Update(cid, {"tags_contacts": {"remove": [{"tag_id": t, "contact_id": cid} for t in tags]}})
        for cid in ids
    ]


def _key(data: Mapping[str, JSON]) -> str:
    return json.dumps(data, sort_keys=True)
