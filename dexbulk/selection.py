"""Selecting contacts by what they are: --where, --tag, --group, --search and --all.

:class:`Criteria` is the parsed selection (checked before any request); :func:`select_contacts`
reads the matching contacts from Dex. Dex's filter endpoint runs what it can (``is_starred``,
``is_archived``, ``has_tag``, ``has_groups``, ``has_*`` presence keys, ``created_at`` and
``updated_at`` ranges); every condition is then checked here as well, so a key Dex reads a
little differently can only narrow, never widen, what is selected. Tag and group names are
resolved through Dex's search and matched exactly, ignoring case.

Archived contacts are left out unless the selection names ``is_archived`` or the caller asks
for them (``unarchive``).

>>> criteria = Criteria.parse(where=["company=OldCo"], tags=["investor"])  # doctest: +SKIP
>>> result = select_contacts(dex, criteria)  # doctest: +SKIP
>>> len(result.contacts), result.notes  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dexbulk.errors import InvalidInput
from dexbulk.values import quote
from dexbulk.where import Condition, Op, instant

if TYPE_CHECKING:
    from dexbulk.dex import Dex
    from dexbulk.names import Named

Contact = dict[str, Any]

# Dex's filter keys for "this field is set" (true) / "is empty" (false) [seen].
_PRESENCE_KEYS = {
    "full_name": "has_name", "job_title": "has_job_title", "legacy_location": "has_location",
    "source": "has_source", "linkedin": "has_linkedin", "frequency": "has_frequency",
    "birthday": "has_birthday", "next_reminder_at": "has_next_reminder",
}  # fmt: skip
# Flags Dex filters on by value.
_FLAG_KEYS = {
    "starred": "is_starred", "is_archived": "is_archived",
    "never_keep_in_touch": "has_never_keep_in_touch",
}  # fmt: skip
# Presence keys that also take a value to match exactly [seen].
_VALUE_KEYS = {"source": "has_source", "frequency": "has_frequency"}
_RANGE_KEYS = {"created_at": "has_created_at", "updated_at": "has_updated_at"}
_SEARCH_NARROWS = ("company",)
"""Fields whose exact value Dex's search (name, email, company) is sure to find."""


@dataclass(frozen=True)
class Criteria:
    """A selection by what contacts are; every part must hold (AND)."""

    where: tuple[Condition, ...] = ()
    tags: tuple[str, ...] = ()
    """Tag names (or IDs): a contact must have every one."""
    groups: tuple[str, ...] = ()
    """Group names (or IDs): a contact must be in every one."""
    search: str | None = None
    """Dex's own search: name, email, company."""
    all: bool = False
    """Every contact (never implied by an empty selection)."""
    include_archived: bool = False
    """Keep archived contacts even though the selection does not name ``is_archived``."""

    @classmethod
    def parse(
        cls,
        *,
        where: Sequence[str] = (),
        tags: Sequence[str] = (),
        groups: Sequence[str] = (),
        search: str | None = None,
        all: bool = False,
        include_archived: bool = False,
    ) -> Criteria:
        """From the command line's values; every error is raised before any request."""
        for flag, names in (("--tag", tags), ("--group", groups)):
            if any(not name.strip() for name in names):
                raise InvalidInput(f"{flag}: the name is empty")
        if search is not None and not search.strip():
            raise InvalidInput("--search: the text is empty")
        return cls(
            where=tuple(Condition.parse(token) for token in where),
            tags=tuple(name.strip() for name in tags),
            groups=tuple(name.strip() for name in groups),
            search=search.strip() if search is not None else None,
            all=all,
            include_archived=include_archived,
        )

    @property
    def filters(self) -> bool:
        """Whether anything selects contacts by what they are."""
        return bool(self.where or self.tags or self.groups or self.search or self.all)

    @property
    def keeps_archived(self) -> bool:
        """Archived contacts stay in when the selection names is_archived, when asked, or when
        nothing filters (contacts given by ID are taken as given)."""
        named = any(c.field == "is_archived" for c in self.where)
        return self.include_archived or named or not self.filters

    def describe(self) -> str:
        """The selection as options, for people: ``--tag investor --where company=OldCo``."""
        parts = [f"--where {c}" for c in self.where]
        parts += [f"--tag {quote(t)}" for t in self.tags]
        parts += [f"--group {quote(g)}" for g in self.groups]
        parts += [f"--search {quote(self.search)}"] if self.search else []
        parts += ["--all"] if self.all else []
        return " ".join(parts)


@dataclass(frozen=True)
class SelectionResult:
    """The contacts selected, as Dex returned them, and how they were found."""

    contacts: list[Contact]
    reads: int
    """Read requests it took (pages, searches, lookups)."""
    notes: tuple[str, ...] = ()
    """Which parts Dex ran and which were checked here, and what reading cost."""
    missing: tuple[str, ...] = ()
    """IDs given to narrow that Dex does not know (not the user's, or deleted)."""
    examined: int = 0
    """Contacts read and checked."""

    @property
    def ids(self) -> list[str]:
        """The selected contacts' IDs, lower case, in order."""
        return [str(c.get("id", "")).lower() for c in self.contacts]


@dataclass
class _Plan:
    """How one selection is read: a Dex ``where`` and what is left to check here."""

    where: dict[str, object] = field(default_factory=dict)
    server: list[str] = field(default_factory=list)
    pushed: set[Condition] = field(default_factory=set)
    """Conditions Dex filtered on: checked again only where its answer carries the field."""
    trusted: set[str] = field(default_factory=set)
    """Tag/group IDs Dex filtered on: not checked again when an answer omits memberships."""

    @property
    def narrows(self) -> bool:
        """Whether Dex is asked more than to leave archived contacts out."""
        return any(key != "is_archived" or value is not False for key, value in self.where.items())


def select_contacts(
    dex: Dex,
    criteria: Criteria,
    ids: Sequence[str] | None = None,
    *,
    limit: int | None = None,
    server_side: bool = True,
) -> SelectionResult:
    """Read the contacts that match ``criteria`` (among ``ids`` when given), in Dex's order.

    ``ids`` narrow: only those contacts are read (``where.in``, 500 a request) and checked.
    ``limit`` stops reading once that many match. ``server_side=False`` reads every contact and
    checks everything here (a way to check what Dex's filter gives). Raises InvalidInput for a
    tag or group that does not exist or is ambiguous, ApiError when Dex cannot be read.
    """
    from dexbulk.names import resolve  # only a selection by tag or group needs it

    reads_before = dex.reads
    tags = [resolve(dex, "tag", name) for name in criteria.tags]
    groups = [resolve(dex, "group", name) for name in criteria.groups]
    plan = _dex_where(criteria, tags, groups)
    narrow = _search_narrowing(criteria)
    notes: list[str] = []
    missing: tuple[str, ...] = ()
    source: Iterable[Contact]
    filtered = False
    if ids is not None:
        found = dex.contacts_by_ids(list(ids))
        missing = tuple(i for i in ids if i not in found)
        source = [found[i] for i in ids if i in found]
        notes.append(f"read the {len(ids):,} contacts given by ID (where.in, 500 a request)")
        if criteria.search:
            hits = {_id(c) for c in dex.search_contacts(criteria.search)}
            source = [c for c in source if _id(c) in hits]
            notes.append(f"Dex searched for {quote(criteria.search)} (name, email, company)")
    elif criteria.search:
        source = dex.search_contacts(criteria.search)
        notes.append(f"Dex searched for {quote(criteria.search)} (name, email, company)")
    elif server_side and (plan.narrows or (plan.where and narrow is None)):
        source, filtered = dex.filter_contacts(plan.where), True
        notes.append("Dex filtered on " + ", ".join(plan.server))
    elif server_side and narrow is not None:
        source = dex.search_contacts(narrow)
        notes.append(f"Dex searched for {quote(narrow)} to find company={narrow}")
    else:
        source = dex.iter_contacts()
        notes.append("read every contact")
    if not filtered:
        plan = _Plan()  # nothing ran on Dex's side: everything is checked here
    check = _local_check(criteria, tags, groups, plan)
    local = [str(c) for c in criteria.where if c not in plan.pushed]
    local += [f"--tag {quote(t.name)}" for t in tags if t.id not in plan.trusted]
    local += [f"--group {quote(g.name)}" for g in groups if g.id not in plan.trusted]
    if not criteria.keeps_archived and not filtered:
        local.append("not archived")
    if local:
        notes.append("checked here: " + ", ".join(local))
    contacts: list[Contact] = []
    examined = 0
    for contact in source:
        examined += 1
        if check(contact):
            contacts.append(contact)
            if limit is not None and len(contacts) >= limit:
                break
    reads = dex.reads - reads_before
    notes.append(
        f"read {examined:,} contacts in {reads:,} request{'s' if reads != 1 else ''}; "
        f"{len(contacts):,} matched"
    )
    if missing:
        notes.append(f"{len(missing):,} ID(s) given are not contacts in Dex")
    return SelectionResult(contacts, reads, tuple(notes), missing, examined)


def _dex_where(criteria: Criteria, tags: Sequence[Named], groups: Sequence[Named]) -> _Plan:
    """What Dex's filter endpoint can be asked; the rest is only checked here."""
    plan = _Plan()
    if not criteria.keeps_archived:
        plan.where["is_archived"] = False
        plan.server.append("is_archived=false")
    for condition in criteria.where:
        _push(plan, condition)
    if tags:
        plan.where["has_tag"] = tags[0].id
        plan.server.append(f"has_tag {quote(tags[0].name)}")
        plan.trusted.add(tags[0].id)
    if groups:
        plan.where["has_groups"] = groups[0].id
        plan.server.append(f"has_groups {quote(groups[0].name)}")
        plan.trusted.add(groups[0].id)
    return plan


def _push(plan: _Plan, c: Condition) -> None:
    """Add one condition to Dex's ``where`` if a known key expresses it (first one wins)."""
    key: str | None = None
    value: object = None
    if c.field in _FLAG_KEYS and c.op in (Op.EQ, Op.NE) and isinstance(c.value, bool):
        key, value = _FLAG_KEYS[c.field], c.value is (c.op is Op.EQ)
    elif c.field in _PRESENCE_KEYS and c.op in (Op.EMPTY, Op.SET):
        key, value = _PRESENCE_KEYS[c.field], c.op is Op.SET
    elif c.field in _VALUE_KEYS and c.op is Op.EQ and isinstance(c.value, str):
        key, value = _VALUE_KEYS[c.field], c.value
    elif c.field in _RANGE_KEYS and c.op in (Op.LT, Op.LE, Op.GT, Op.GE, Op.EQ):
        key = _RANGE_KEYS[c.field]
        bounds = dict(plan.where.get(key) or {})  # type: ignore[call-overload]
        for bound, ops in (("gte", (Op.GT, Op.GE, Op.EQ)), ("lte", (Op.LT, Op.LE, Op.EQ))):
            if c.op in ops:
                old = bounds.get(bound)
                bounds[bound] = c.value if old is None else _tighter(bound, old, c.value)
        plan.where[key] = bounds
        plan.server.append(str(c))
        plan.pushed.add(c)
        return
    if key is None or key in plan.where:
        return
    plan.where[key] = value
    plan.server.append(str(c))
    plan.pushed.add(c)


def _tighter(bound: str, old: object, new: object) -> object:
    """Of two bounds of a range, the one that leaves less in."""
    a, b = instant(old), instant(new)
    if a is None or b is None:
        return new
    return new if (b > a if bound == "gte" else b < a) else old


def _search_narrowing(criteria: Criteria) -> str | None:
    """An exact company to look up with Dex's search instead of reading every contact."""
    if criteria.tags or criteria.groups:
        return None
    for condition in criteria.where:
        if condition.field in _SEARCH_NARROWS and condition.op is Op.EQ:
            return str(condition.value)
    return None


def _local_check(
    criteria: Criteria, tags: Sequence[Named], groups: Sequence[Named], plan: _Plan
) -> Callable[[Mapping[str, Any]], bool]:
    conditions = criteria.where
    keep_archived = criteria.keeps_archived
    trusted, pushed = plan.trusted, plan.pushed

    def check(contact: Mapping[str, Any]) -> bool:
        if not keep_archived and contact.get("is_archived"):
            return False
        if not _members(contact, "tags", tags, trusted):
            return False
        if not _members(contact, "groups", groups, trusted):
            return False
        # What Dex filtered on and left out of its answer cannot be checked again: trust it.
        return all(c.matches(contact) for c in conditions if c not in pushed or c.field in contact)

    return check


def _members(
    contact: Mapping[str, Any], key: str, wanted: Sequence[Named], trusted: set[str]
) -> bool:
    links = contact.get(key)
    if not isinstance(links, list):
        # Dex did not say; only what its filter already checked can be taken as true.
        return all(w.id in trusted for w in wanted)
    have = {str(link.get("id", "")).lower() for link in links if isinstance(link, dict)}
    return all(w.id in have for w in wanted)


def _id(contact: Mapping[str, Any]) -> str:
    return str(contact.get("id", "")).lower()
