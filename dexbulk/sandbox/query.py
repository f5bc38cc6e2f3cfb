"""Reading contacts the way Dex's list, filter and search endpoints do.

``where`` keys are those third-party clients have been seen to send [seen]; their exact
semantics are not published, so each predicate below is our reading [assumed]. An unknown key
is a 400, so a client typo shows up in rehearsal instead of silently matching everything.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from dexbulk.sandbox.envelope import ApiFailure, Contact
from dexbulk.sandbox.store import Row

Predicate = Callable[[Contact], bool]


def _present(field: str) -> Callable[[object], Predicate]:
    """``has_x``/``is_x: true`` matches contacts whose ``x`` is set and not empty or false."""

    def build(value: object) -> Predicate:
        wanted = _bool(field, value)
        return lambda c: bool(c.get(field)) is wanted

    return build


def _present_or_equal(field: str) -> Callable[[object], Predicate]:
    """``has_source: true`` / ``has_source: "linkedin_sync"``: set at all, or set to that value."""

    def build(value: object) -> Predicate:
        if isinstance(value, str):
            return lambda c: c.get(field) == value
        return _present(field)(value)

    return build


def _ids(key: str, value: object) -> set[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ApiFailure(400, f"where.{key} must be an array of contact IDs")
    return {v.lower() for v in value}


def _in(value: object) -> Predicate:
    ids = _ids("in", value)
    return lambda c: c["id"] in ids


def _not_in(value: object) -> Predicate:
    ids = _ids("not_in", value)
    return lambda c: c["id"] not in ids


def _has_tag(value: object) -> Predicate:
    if not isinstance(value, str):
        raise ApiFailure(400, "where.has_tag must be a tag ID")
    tag = value.lower()
    return lambda c: any(t["id"] == tag for t in c["tags"])


def _has_groups(value: object) -> Predicate:
    negate = isinstance(value, Mapping) and set(value) == {"not"}
    group = value["not"] if isinstance(value, Mapping) and negate else value
    if not isinstance(group, str):
        raise ApiFailure(400, 'where.has_groups must be a group ID or {"not": group ID}')
    group = group.lower()
    return lambda c: any(g["id"] == group for g in c["groups"]) is not negate


def _between(field: str) -> Callable[[object], Predicate]:
    def build(value: object) -> Predicate:
        if not isinstance(value, Mapping) or not set(value) <= {"gte", "lte"}:
            raise ApiFailure(400, f"where.has_{field} must be an object with gte and/or lte")
        low = _moment(field, value.get("gte"))
        high = _moment(field, value.get("lte"))

        def check(contact: Contact) -> bool:
            stamp = _moment(field, contact.get(field))
            if stamp is None:
                return False
            return (low is None or stamp >= low) and (high is None or stamp <= high)

        return check

    return build


WHERE: dict[str, Callable[[object], Predicate]] = {
    "in": _in,
    "not_in": _not_in,
    "is_starred": _present("starred"),
    "is_archived": _present("is_archived"),
    "has_tag": _has_tag,
    "has_groups": _has_groups,
    "has_name": _present("full_name"),
    "has_job_title": _present("job_title"),
    "has_location": _present("legacy_location"),
    "has_source": _present_or_equal("source"),
    "has_linkedin": _present("linkedin"),
    "has_frequency": _present_or_equal("frequency"),
    "has_never_keep_in_touch": _present("never_keep_in_touch"),
    "has_created_at": _between("created_at"),
    "has_updated_at": _between("updated_at"),
    "has_birthday": _present("birthday"),
    "has_next_reminder": _present("next_reminder_at"),
}


def compile_where(where: object) -> Predicate:
    """Turn a ``where`` object into one predicate (all keys must hold); 400 on a bad key."""
    if where is None:
        return lambda _: True
    if not isinstance(where, Mapping):
        raise ApiFailure(400, "where must be an object")
    checks = []
    for key, value in where.items():
        if key not in WHERE:
            raise ApiFailure(400, f"unknown where key '{key}'")
        checks.append(WHERE[key](value))
    return lambda c: all(check(c) for check in checks)


def narrowing_ids(where: object) -> list[str] | None:
    """The IDs of ``where.in``, so only those rows are read (the common case: checking a batch)."""
    if isinstance(where, Mapping) and "in" in where:
        return sorted(_ids("in", where["in"]))
    return None


def matches_search(contact: Contact, query: str) -> bool:
    """Case-insensitive substring match on names, emails and company [seen]."""
    needle = query.strip().casefold()
    if not needle:
        return True
    haystack = [contact.get(k) for k in ("full_name", "first_name", "last_name", "company")]
    haystack += [e.get("email") for e in contact.get("contact_emails") or []]
    return any(needle in text.casefold() for text in haystack if isinstance(text, str))


def _selected(select: object) -> set[str]:
    if isinstance(select, str):
        return {s.strip() for s in select.split(",") if s.strip()}
    if isinstance(select, list):
        return {s for s in select if isinstance(s, str)}
    if isinstance(select, Mapping):
        return {k for k, v in select.items() if v}
    raise ApiFailure(400, "select must be a list of field names")


def project(contact: Contact, select: object) -> Contact:
    """Keep only the selected fields (plus ``id``): a list of names or ``{name: true}``."""
    return projection(select)(contact)


def projection(select: object) -> Callable[[Contact], Contact]:
    """:func:`project` for many contacts: ``select`` read once, only its names looked up."""
    if select is None:
        return lambda contact: contact
    names = ["id", *sorted(_selected(select) - {"id"})]
    return lambda contact: {k: contact[k] for k in names if k in contact}


_LINKS = frozenset({"tags", "groups", "related_contacts"})
WHERE_FIELDS = {
    "in": "id",
    "not_in": "id",
    "is_starred": "starred",
    "is_archived": "is_archived",
    "has_tag": "tags",
    "has_groups": "groups",
    "has_name": "full_name",
    "has_job_title": "job_title",
    "has_location": "legacy_location",
    "has_source": "source",
    "has_linkedin": "linkedin",
    "has_frequency": "frequency",
    "has_never_keep_in_touch": "never_keep_in_touch",
    "has_created_at": "created_at",
    "has_updated_at": "updated_at",
    "has_birthday": "birthday",
    "has_next_reminder": "next_reminder_at",
}
"""The contact field each ``where`` key reads (one each, kept beside :data:`WHERE`)."""


def fields_read(where: object, select: object) -> list[str] | None:
    """The fields a filter request needs, for its ``where`` and its answer, or None when it
    needs whole contacts: no ``select``, or one that asks for tags, groups or related
    contacts, or a ``where`` on a tag or group (links cost most of a whole read)."""
    if select is None:
        return None
    names = _selected(select) | {"id"}
    if isinstance(where, Mapping):
        names |= {WHERE_FIELDS.get(key, "") for key in where}
    return None if names & _LINKS or "" in names else sorted(names)


def encode_cursor(pos: int) -> str:
    """An opaque cursor pointing after the contact at ``pos``."""
    return base64.urlsafe_b64encode(f"after:{pos}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The position a cursor points after; 400 on anything we did not hand out."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, pos = text.partition(":")
        if prefix != "after":
            raise ValueError(text)
        return int(pos)
    except ValueError:
        raise ApiFailure(400, f"invalid cursor '{cursor}'") from None


def paginate(
    rows: Sequence[Row], *, cursor: object, take: int, skip: int = 0
) -> tuple[list[Contact], str | None]:
    """One page of ``rows`` after ``cursor``; the next cursor, or None after the last page."""
    if cursor not in (None, ""):
        if not isinstance(cursor, str):
            raise ApiFailure(400, "cursor must be a string")
        after = decode_cursor(cursor)
        rows = [r for r in rows if r[0] > after]
    rows = rows[skip:]
    page = rows[:take]
    more = len(rows) > take
    return [c for _, c in page], (encode_cursor(page[-1][0]) if more and page else None)


def int_param(name: str, value: Any, *, default: int, low: int, high: int) -> int:
    """A bounded integer from a query string or JSON body; 400 when out of range."""
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ApiFailure(400, f"{name} must be an integer, not {value!r}") from None
    if isinstance(value, bool) or not low <= number <= high:
        raise ApiFailure(400, f"{name} must be between {low} and {high}, not {value!r}")
    return number


def _bool(field: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ApiFailure(400, f"where value for '{field}' must be true or false")
    return value


def _moment(field: str, value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiFailure(400, f"{field}: {value!r} is not a date-time")
    try:
        # fromisoformat on 3.10 does not read "Z".
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiFailure(400, f"{field}: {value!r} is not a date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
