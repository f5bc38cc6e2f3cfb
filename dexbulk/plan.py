"""What will be sent: :class:`Update`, :class:`Patch`, :class:`Selection` and :class:`Plan`.

Every way of choosing contacts and changes (flags, ``set`` items, patch files, and later
filters, previews that drop unchanged contacts, undo) ends in a :class:`Plan`, and every plan
goes down the same sending path (:func:`dexbulk.engine.execute`). ``FIELD=VALUE`` items and flags
become a :class:`Patch` here; patch *files* are read by :mod:`dexbulk.inputs.patches`.
Everything is validated through :mod:`dexbulk.values` before it is returned, and errors name
the token the user wrote.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from dexbulk.errors import InvalidInput
from dexbulk.fields import FIELDS, FieldKind, lookup, suggest
from dexbulk.limits import MAX_BODY_BYTES, check_tree, load_json, size_text
from dexbulk.values import JSON, coerce, is_uuid, normalize_uuid, quote, validate, validate_data

CONTACTS = "contacts"
"""The channel of field updates: ``PUT /v1/contacts/``."""
MEMBERSHIP = "membership"
"""The channel of tag and group changes: their own bulk endpoints."""
CHANNELS = (CONTACTS, MEMBERSHIP)

IDS_HINT = "contact IDs go after --ids (--ids ID,ID) or in a file (--from FILE)"
"""The hint for a contact ID typed where a field or item was expected."""


@dataclass(frozen=True, slots=True)
class Update:
    """One contact's change: the unit of the ``PUT /v1/contacts/`` body."""

    contact_id: str
    data: Mapping[str, JSON]
    blank: frozenset[str] = field(default=frozenset(), compare=False)
    """Fields set to null from a blank cell of an exported sheet: a blank cell cannot tell null
    from "", so any empty value Dex holds already is what it says (not a change)."""

    def to_api(self) -> dict[str, JSON]:
        """The JSON object the API expects: ``{"contactId": ..., "data": {...}}``."""
        return {"contactId": self.contact_id, "data": dict(self.data)}


@dataclass(frozen=True)
class Patch:
    """One data object, applied unchanged to every selected contact."""

    data: Mapping[str, JSON]

    @classmethod
    def parse(cls, items: Sequence[str]) -> Patch:
        """From ``FIELD=VALUE`` / ``FIELD:=JSON`` items, as ``dexbulk set`` takes them."""
        return parse_items(items)

    @classmethod
    def of(cls, data: Mapping[str, object]) -> Patch:
        """From a data object (``{"company": "Acme"}``), every field validated."""
        return cls(validate_data(data))

    def for_contact(self, contact_id: str) -> Update:
        """This patch as the update of one contact."""
        return Update(contact_id, self.data)

    def describe(self) -> str:
        """A short summary for people: ``set company='Acme', starred=true; clear birthday``."""
        sets = [f"{name}={quote(value)}" for name, value in self.data.items() if value is not None]
        clears = [name for name, value in self.data.items() if value is None]
        parts = (["set " + ", ".join(sets)] if sets else []) + (
            ["clear " + ", ".join(clears)] if clears else []
        )
        return "; ".join(parts) or "no change"


class UpdateList(list[Update]):
    """Per-contact updates read from a file, with what was left out while reading them."""

    def __init__(
        self, updates: Iterable[Update] = (), *, duplicates: int = 0, skipped_rows: int = 0
    ) -> None:
        super().__init__(updates)
        self.duplicates = duplicates
        """Repeats of a contact with identical data, dropped."""
        self.skipped_rows = skipped_rows
        """CSV rows with an ID but no value to change, skipped."""


@dataclass(frozen=True)
class Selection:
    """The contacts a run is about: unique lower-case IDs in first-seen order."""

    ids: tuple[str, ...]
    duplicates: int = 0
    """How many repeated IDs were dropped."""
    sources: tuple[str, ...] = ()
    """Where the IDs came from, for people: ``--ids``, ``ids.txt``, ``<stdin>``."""

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Plan:
    """What to send: one :class:`Update` per contact, in input order, each contact once."""

    updates: Sequence[Update]
    command: str
    patch: Mapping[str, JSON] | None = None
    """The shared data object when every contact gets the same one."""
    duplicates: int = 0
    sources: tuple[str, ...] = field(default=())
    channel: str = CONTACTS
    """How the updates are sent: ``contacts`` (``PUT /v1/contacts/``, data objects) or
    ``membership`` (tag and group endpoints; each update's data is a
    :mod:`dexbulk.membership` operation)."""
    undo_of: str | None = None
    """The run this plan takes back, when it is an undo."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Names of the tags and groups a membership plan's keys (``tag:<uuid>``) stand for."""

    @classmethod
    def for_ids(
        cls, ids: Iterable[str], patch: Patch | Mapping[str, object], command: str = ""
    ) -> Plan:
        """The same change for every contact of ``ids`` (validated, de-duplicated, in order)."""
        patch = patch if isinstance(patch, Patch) else Patch.of(patch)
        unique: dict[str, None] = {}
        total = 0
        for index, raw in enumerate(ids, 1):
            contact_id = normalize_uuid(str(raw))
            if contact_id is None:
                raise InvalidInput(f"ids item {index}: {quote(raw)} is not a contact ID (a UUID)")
            unique[contact_id] = None
            total += 1
        selection = Selection(tuple(unique), total - len(unique), ("ids",))
        return plan_for_selection(selection, patch, command or f"apply {patch.describe()}")

    @property
    def total(self) -> int:
        """How many contacts the plan touches."""
        return len(self.updates)

    def batch_count(self, batch_size: int) -> int:
        """How many requests the plan takes at ``batch_size`` (before any splitting), the
        request-size limit included."""
        if self.patch is not None and self.updates:  # one data object: every batch alike
            per_batch = len(next(cut(self.updates, lambda: batch_size)))
            return math.ceil(self.total / per_batch)
        return sum(1 for _ in cut(self.updates, lambda: batch_size))

    def first_body(self, batch_size: int) -> list[dict[str, JSON]]:
        """The body of the first request, exactly as it will be sent."""
        return [u.to_api() for u in self.first_body_updates(batch_size)]

    def first_body_updates(self, batch_size: int) -> list[Update]:
        """The updates of the first request."""
        return next(cut(self.updates, lambda: batch_size), [])


def encoded_size(update: Update) -> int:
    """Bytes ``update`` takes in a request body (``dex.encode_batch``'s compact UTF-8 JSON)."""
    return len(_compact(update.to_api()))


def data_size(data: Mapping[str, JSON]) -> int:
    """Bytes a data object takes in a request body, as :func:`encoded_size` counts them."""
    return len(_compact(data if isinstance(data, dict) else dict(data)))


def item_overhead(contact_id: str) -> int:
    """Bytes an update takes besides its data object: ``{"contactId":"…","data":…}`` and a comma."""
    if contact_id.isascii() and contact_id.isprintable() and not _ESCAPED & set(contact_id):
        return len(contact_id) + _ITEM_FRAME  # a UUID: nothing to escape, no need to encode
    return len(_compact({"contactId": contact_id, "data": None})) - len("null") + 1


_ITEM_FRAME = len('{"contactId":"","data":},')
_ESCAPED = frozenset('"\\')
# One encoder for every measurement: json.dumps(..., separators=...) builds a new one per call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def _compact(value: object) -> bytes:
    # Must match transport.compact_json, which sends the body; plan.py does not import requests.
    return _ENCODER.encode(value).encode("utf-8")


def cut(
    updates: Iterable[Update], size: Callable[[], int], max_bytes: int = MAX_BODY_BYTES
) -> Iterator[list[Update]]:
    """Cut ``updates`` into request bodies of at most ``size()`` contacts (asked at each cut, so
    it may shrink during a run) and at most ``max_bytes`` of JSON.

    A contact over ``max_bytes`` on its own goes alone (plans refuse such contacts before a
    run: :func:`check_sizes`). A data object shared by many contacts is measured once.
    """
    batch: list[Update] = []
    total = 2  # the body's "[" and "]"
    last: Mapping[str, JSON] | None = None
    data_bytes = 0
    for update in updates:
        if update.data is not last:
            last, data_bytes = update.data, data_size(update.data)
        item = data_bytes + item_overhead(update.contact_id)
        if batch and total + item - 1 > max_bytes:  # - 1: the last item needs no comma
            yield batch
            batch, total = [], 2
        batch.append(update)
        total += item
        if len(batch) >= size():
            yield batch
            batch, total = [], 2
    if batch:
        yield batch


def check_sizes(updates: Iterable[Update], source: str = "") -> None:
    """Refuse any contact whose update alone is over :data:`~dexbulk.limits.MAX_BODY_BYTES`.

    Batches are cut below that limit (:func:`dexbulk.batches.chunks`), so a contact over it
    could never be sent; saying so now, before any request, beats a rejection mid-run. A data
    object shared by many contacts is measured once.
    """
    last: Mapping[str, JSON] | None = None
    size = 0
    for update in updates:
        if update.data is not last:
            last, size = update.data, data_size(update.data)
        total = size + item_overhead(update.contact_id) + 2  # + "[]"
        if total > MAX_BODY_BYTES:
            where = f"{source}: " if source else ""
            raise InvalidInput(
                f"{where}contact {update.contact_id}: its update is {size_text(total)} as JSON, "
                f"over the {size_text(MAX_BODY_BYTES)} limit of one request",
                hint="shorten the largest values (lists, linkedin_data) of this contact",
            )


def plan_for_selection(selection: Selection, patch: Patch, command: str) -> Plan:
    """The same data object for every selected contact."""
    data = patch.data
    if selection.ids:
        check_sizes([Update(selection.ids[0], data)])  # one data object, and every ID is as long
    return Plan(
        updates=[Update(cid, data) for cid in selection.ids],
        command=command,
        patch=data,
        duplicates=selection.duplicates,
        sources=selection.sources,
    )


def plan_for_updates(
    updates: Sequence[Update], command: str, *, duplicates: int = 0, source: str = ""
) -> Plan:
    """Per-contact data objects, as read from a file in the API's own shape."""
    check_sizes(updates, source)
    return Plan(
        updates=updates,
        command=command,
        duplicates=duplicates,
        sources=(source,) if source else (),
    )


def parse_items(tokens: Sequence[str]) -> Patch:
    """Parse httpie-style items: ``FIELD=VALUE`` (text, coerced) and ``FIELD:=JSON`` (validated).

    The first ``=`` separates field and value, so values may contain ``=``. A field may be given
    once. Errors start with the token as typed: ``'birthday_year=19x0': field ...``.
    """
    if not tokens:
        raise InvalidInput(
            "empty patch: no fields to change", hint="pass FIELD=VALUE or FIELD:=JSON items"
        )
    data: dict[str, JSON] = {}
    for token in tokens:
        try:
            name, value = _parse_item(token)
            if name in data:
                raise InvalidInput(f"field '{name}' is given twice")
        except InvalidInput as error:
            raise error.at(quote(token)) from None
        data[name] = value
    return Patch(data)


def _parse_item(token: str) -> tuple[str, JSON]:
    equals = token.find("=")
    if equals < 0:
        if is_uuid(token):
            raise InvalidInput("a contact ID, where FIELD=VALUE was expected", hint=IDS_HINT)
        known = FIELDS.get(token) or FIELDS.get(suggest(token) or "")
        example = known.example if known else "company=Acme"
        raise InvalidInput(f"expected FIELD=VALUE or FIELD:=JSON, e.g. {example}")
    is_json = token[equals - 1 : equals] == ":"
    name, text = token[: equals - 1 if is_json else equals], token[equals + 1 :]
    if not name:
        raise InvalidInput("missing field name before '='")
    field = lookup(name)
    if not is_json:
        return name, coerce(name, text)
    try:
        value = load_json(text)
    except json.JSONDecodeError as error:
        hint = None if field.takes_json else f"for plain text, use {name}={text}"
        problem = f"not valid JSON after ':=' ({error.msg} at column {error.colno})"
        raise InvalidInput(problem, hint=hint) from None
    except InvalidInput as error:
        raise error.at(f"field '{name}'") from None
    check_tree(value, f"field '{name}'")
    return name, validate(name, value)


def unset_fields(names: Sequence[str]) -> Patch:
    """A patch that clears every named field (sends ``null``); names may be comma-separated."""
    data: dict[str, JSON] = {}
    for name in (part.strip() for value in names for part in value.split(",")):
        if name and is_uuid(name):
            raise InvalidInput(f"{quote(name)} is a contact ID, not a field", hint=IDS_HINT)
        if name:
            data[lookup(name).name] = None
    if not data:
        raise InvalidInput("no fields to clear: name at least one field")
    return Patch(data)


def flag_patch(field: str, value: bool) -> Patch:
    """A patch that sets one boolean field (``starred``, ``is_archived``, ...) to ``value``."""
    if lookup(field).kind is not FieldKind.BOOLEAN:
        raise InvalidInput(f"field '{field}' is not a flag (a true/false field)")
    return Patch({field: value})
