"""Before → after: what a plan would change, read from Dex before anything is sent.

:func:`read_current` reads the selected contacts (``where.in``, 500 a request, several chunks
at once, through the run's own client, so its retries and pacing apply). :func:`compare` sets an
update beside a contact's current values; :class:`Preview` groups the changes
(``212 contacts: company 'OldCo' → 'NewCo'``), drops the contacts that already hold the new
values from the plan, and gives the prior values the journal keeps for an undo.

Only the fields an update sets are compared and kept; null is compared as a value of its own
(not "" or false), except where a blank cell of an exported sheet set it. A field Dex's
answer leaves out, a
contact the read did not find, and fields whose written shape differs from the read one
(``tags_contacts``, ``related_contacts``, ``coordinates``, ``contact_birthdays``) are never
taken as unchanged: they are sent.

>>> current = read_current(dex, [u.contact_id for u in plan.updates])  # doctest: +SKIP
>>> preview = Preview.of(plan, current)  # doctest: +SKIP
>>> preview.changed, preview.unchanged, preview.groups()[:1]  # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from dexbulk.fields import FIELDS
from dexbulk.membership import holds, is_membership_key, read_fields
from dexbulk.plan import MEMBERSHIP, Plan, Update
from dexbulk.values import JSON
from dexbulk.where import is_empty, same_value

if TYPE_CHECKING:
    from dexbulk.dex import Dex

READ_CHUNK = 500
"""IDs per read request (Dex's page size)."""
NOT_COMPARED = frozenset({"tags_contacts", "related_contacts", "coordinates", "contact_birthdays"})
"""Fields written as operations or in another shape than Dex returns them: always sent."""


class _Unknown:
    """The before value of a field Dex did not return (or of a contact it did not find)."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


@dataclass(frozen=True)
class ContactChange:
    """One contact's update beside its current values."""

    contact_id: str
    before: Mapping[str, Any]
    """Current value of each field the update sets; :data:`UNKNOWN` where Dex did not say."""
    after: Mapping[str, JSON]
    changed: tuple[str, ...]
    """Fields whose value would change (or cannot be compared), in the update's order."""
    found: bool = True
    """Whether the read found the contact at all."""
    name: str | None = None
    """The contact's full name, for people."""

    @property
    def unchanged(self) -> bool:
        """Dex already holds every new value: sending it would change nothing."""
        return self.found and not self.changed

    def to_json(self) -> dict[str, object]:
        """``{contactId, found, before, after, changed}``; unknown before values are left out."""
        before = {k: v for k, v in self.before.items() if v is not UNKNOWN}
        return {
            "contactId": self.contact_id,
            "found": self.found,
            "before": before if self.found else None,
            "after": dict(self.after),
            "changed": list(self.changed),
        }


@dataclass(frozen=True)
class ChangeGroup:
    """Contacts whose field goes from one value to another (``company 'OldCo' → 'NewCo'``)."""

    field: str
    before: Any
    """The value now (:data:`UNKNOWN` when not read)."""
    after: JSON
    count: int

    def to_json(self) -> dict[str, object]:
        """For ``--json``: ``{field, before, after, count}`` (before absent when unknown)."""
        out: dict[str, object] = {"field": self.field, "after": self.after, "count": self.count}
        if self.before is not UNKNOWN:
            out["before"] = self.before
        return out


def compare(update: Update, current: Mapping[str, Any] | None) -> ContactChange:
    """Set ``update`` beside the contact as Dex returned it (None: the read did not find it)."""
    if current is None:
        before = dict.fromkeys(update.data, UNKNOWN)
        return ContactChange(update.contact_id, before, update.data, tuple(update.data), False)
    before = {name: _current(current, name) for name in update.data}
    changed = tuple(
        name
        for name, value in update.data.items()
        if not _same(name, before[name], value)
        and not (name in update.blank and is_empty(before[name]))
    )
    full_name = current.get("full_name")
    label = full_name if isinstance(full_name, str) else None
    return ContactChange(update.contact_id, before, update.data, changed, name=label)


def _current(contact: Mapping[str, Any], name: str) -> Any:
    """A field's value as Dex returned it; for a tag or group key, whether the contact holds it."""
    if is_membership_key(name):
        has = holds(contact, name)
        return UNKNOWN if has is None else has
    return contact.get(name, UNKNOWN)


_KINDS = {name: field.kind for name, field in FIELDS.items() if name not in NOT_COMPARED}


def same(name: str, have: Any, want: JSON) -> bool:
    """Whether ``have`` (as Dex returned it, or :data:`UNKNOWN`) already is ``want`` for field
    ``name``, compared the way the field's kind compares (dates, date-times, JSON).

    Empty values are values: null is not "", false, [] or {} (``--where``'s ``:empty`` and
    ``=`` take them alike; a write does not). Sending ``""`` to a null field changes it, and an
    undo must put back the null it held."""
    return _same(name, have, want)


def _same(name: str, have: Any, want: JSON) -> bool:
    if have is UNKNOWN:
        return False
    if have == want and type(have) is type(want):
        return True  # the common case, and cheap: 10,000 contacts are compared at a time
    if is_empty(have) or is_empty(want):
        return False  # equal empties matched above: null, "", [] and {} are each only themselves
    kind = _KINDS.get(name)
    return kind is not None and same_value(kind, have, want)


@dataclass(frozen=True)
class Preview:
    """Every contact of a plan, before and after, and what the plan becomes without the
    contacts that would not change."""

    changes: tuple[ContactChange, ...]
    reads: int = 0
    """Read requests it took."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Names of the tags and groups of a membership plan, by key (``tag:<uuid>``)."""

    @classmethod
    def of(cls, plan: Plan, current: Mapping[str, Mapping[str, Any]], reads: int = 0) -> Preview:
        """Compare every update of ``plan`` with ``current`` (contacts by lower-case ID)."""
        changes = tuple(compare(u, current.get(u.contact_id)) for u in plan.updates)
        return cls(changes, reads, plan.labels)

    @property
    def unchanged(self) -> int:
        """Contacts that already hold the new values."""
        return sum(1 for c in self.changes if c.unchanged)

    @property
    def changed(self) -> int:
        """Contacts that would change (including those the read did not find)."""
        return len(self.changes) - self.unchanged

    @property
    def not_found(self) -> int:
        """Contacts the read did not find (not the user's, or deleted): sent anyway."""
        return sum(1 for c in self.changes if not c.found)

    @property
    def unchanged_ids(self) -> list[str]:
        """The IDs of the contacts that already hold the new values, in plan order."""
        return [c.contact_id for c in self.changes if c.unchanged]

    def plan(self, plan: Plan, *, include_unchanged: bool = False) -> Plan:
        """``plan`` without the contacts that would not change (all of it with
        ``include_unchanged``). Per-contact data (a CSV, a JSON file) also keeps only the fields
        that change, so an edited sheet sends only its edited cells."""
        if include_unchanged:
            return plan
        skip = set(self.unchanged_ids)
        updates = [u for u in plan.updates if u.contact_id not in skip]
        if plan.patch is None:
            changed = {c.contact_id: c.changed for c in self.changes}
            updates = [_only(u, changed.get(u.contact_id, tuple(u.data))) for u in updates]
        if len(updates) == len(plan.updates) and all(
            a is b for a, b in zip(updates, plan.updates, strict=True)
        ):
            return plan
        return replace(plan, updates=updates)

    def groups(self) -> list[ChangeGroup]:
        """Each (field, before, after) with how many contacts it concerns, most first."""
        counts: Counter[tuple[str, object, object]] = Counter()
        values: dict[tuple[str, object, object], tuple[Any, JSON]] = {}
        for change in self.changes:
            for name in change.changed:
                before, after = change.before[name], change.after[name]
                key = (name, _key(before), _key(after))
                counts[key] += 1
                values.setdefault(key, (before, after))
        order = {name: index for index, name in enumerate(FIELDS)}
        ranked = sorted(counts.items(), key=lambda kv: (order.get(kv[0][0], len(order)), -kv[1]))
        return [ChangeGroup(k[0], *values[k], count=n) for k, n in ranked]

    def before_records(self, plan: Plan) -> list[dict[str, object]]:
        """Prior values of every field ``plan`` sends, one record per contact it sends, for
        the journal (values as Dex returned them).

        Every field the sent update carries is kept, changed or not: a shared patch sends its
        unchanged fields too, so an undo must know what they held. A field whose prior value
        Dex did not give (not returned, contact not found) is named in ``unknown`` instead.
        Every contact sent has a record, so an undo can tell a journal that lost some."""
        changes = {c.contact_id: c for c in self.changes}
        records: list[dict[str, object]] = []
        for update in plan.updates:
            change = changes.get(update.contact_id)
            before: Mapping[str, Any] = change.before if change is not None else {}
            known: dict[str, object] = {}
            unknown: list[str] = []
            for name in update.data:
                value = before.get(name, UNKNOWN)
                if value is UNKNOWN:
                    unknown.append(name)
                else:
                    known[name] = value
            record: dict[str, object] = {"contactId": update.contact_id, "data": known}
            if unknown:
                record["unknown"] = unknown
            records.append(record)
        return records

    def rekeyed(self, renamed: Mapping[str, str]) -> Preview:
        """The same preview with keys renamed (a tag created after the preview gets its ID)."""
        if not renamed:
            return self

        def keys(values: Mapping[str, Any]) -> dict[str, Any]:
            return {renamed.get(k, k): v for k, v in values.items()}

        changes = tuple(
            replace(
                c, before=keys(c.before), after=keys(c.after),
                changed=tuple(renamed.get(n, n) for n in c.changed),
            )
            for c in self.changes
        )  # fmt: skip
        labels = {renamed.get(k, k): v for k, v in self.labels.items()}
        return replace(self, changes=changes, labels=labels)

    def to_json(self) -> dict[str, object]:
        """The whole preview: counts, the groups, and every contact's before and after."""
        return {
            "changed": self.changed,
            "unchanged": self.unchanged,
            "notFound": self.not_found,
            "reads": self.reads,
            "groups": [g.to_json() for g in self.groups()],
            "contacts": [c.to_json() for c in self.changes],
        }


def _only(update: Update, fields: Sequence[str]) -> Update:
    """``update`` with only ``fields`` (the same object when that is all of it)."""
    if len(fields) == len(update.data):
        return update
    return Update(update.contact_id, {name: update.data[name] for name in fields}, update.blank)


def _key(value: Any) -> object:
    """A hashable stand-in for a value, telling 1 from true and "1" (cheap for scalars)."""
    if value is UNKNOWN or value is None or isinstance(value, (str, int, float)):
        return (type(value).__name__, value)
    return ("json", json.dumps(value, sort_keys=True, ensure_ascii=False))


def read_current(
    dex: Dex, ids: Sequence[str], *, fields: Sequence[str] | None = None, concurrency: int = 4
) -> dict[str, Any]:
    """The user's contacts among ``ids`` (lower case), read ``READ_CHUNK`` at a time with up to
    ``concurrency`` requests in flight; only ``fields`` (and ``full_name``, to name contacts)
    when given. Raises what the reads raise (ApiError and its children)."""
    chunks = [list(ids[i : i + READ_CHUNK]) for i in range(0, len(ids), READ_CHUNK)]
    wanted = list(dict.fromkeys([*fields, "full_name"])) if fields is not None else None

    def read(chunk: list[str]) -> dict[str, Any]:
        return dex.contacts_by_ids(chunk, wanted)

    if len(chunks) <= 1 or concurrency <= 1:
        found: dict[str, Any] = {}
        for chunk in chunks:
            found.update(read(chunk))
        return found
    with ThreadPoolExecutor(max_workers=min(concurrency, len(chunks))) as pool:
        parts = list(pool.map(read, chunks))
    return {cid: contact for part in parts for cid, contact in part.items()}


def fields_of(plan: Plan) -> list[str]:
    """Every field the plan's updates set, in first-seen order: what the read asks for (for a
    tag or group, the contact's ``tags`` or ``groups``)."""
    if plan.patch is not None:
        names = list(plan.patch)
    else:
        names = list(dict.fromkeys(name for u in plan.updates for name in u.data))
    if plan.channel == MEMBERSHIP:
        return read_fields(names)
    return names
