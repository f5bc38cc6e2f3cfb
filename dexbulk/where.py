"""The ``--where`` grammar: one expression → a typed :class:`Condition`, and back to text.

``FIELD=VALUE``, ``FIELD!=VALUE``, ``FIELD~TEXT`` (contains, ignoring case), ``FIELD<VALUE``,
``<=``, ``>``, ``>=`` (dates, date-times, numbers), ``FIELD:empty`` and ``FIELD:set``. Values are
typed by the field table (:mod:`dexbulk.fields`, :mod:`dexbulk.values`): ``starred=yes`` is
``starred=true``, ``frequency=monthly`` is ``frequency=1 mon``, ``last_seen_at<2024-01-01`` is
midnight UTC. Spaces around the operator are ignored; a value wrapped in matching quotes is
taken literally (``company=" OldCo "``). ``str(condition)`` prints the canonical form, and
parsing it gives the same condition back.

A condition also evaluates itself against a contact as Dex returns it (:meth:`Condition.matches`);
which conditions Dex's filter endpoint can run instead is :mod:`dexbulk.selection`'s business.
"""

from __future__ import annotations

import datetime as dt
import difflib
import enum
import json
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dexbulk.errors import InvalidInput
from dexbulk.fields import FIELDS, Field, FieldKind, suggest
from dexbulk.values import JSON, coerce, normalize_uuid, quote

READ_ONLY: dict[str, Field] = {
    "id": Field("id", FieldKind.STRING, "read-only", "The contact's ID", "id=<uuid>"),
    "created_at": Field(
        "created_at", FieldKind.DATETIME, "read-only", "When the contact was added", ""
    ),
    "updated_at": Field(
        "updated_at", FieldKind.DATETIME, "read-only", "When the contact last changed", ""
    ),
}
"""Fields Dex returns but never takes in an update: they can be selected on and listed."""

_BY_TAG = {"tag", "tags", "tags_contacts", "group", "groups", "groups_contacts"}


class Op(str, enum.Enum):
    """A comparison of ``--where``; the value is how it is written."""

    NE = "!="
    LE = "<="
    GE = ">="
    EQ = "="
    CONTAINS = "~"
    LT = "<"
    GT = ">"
    EMPTY = ":empty"
    SET = ":set"


_VALUE_OPS = (Op.NE, Op.LE, Op.GE, Op.EQ, Op.CONTAINS, Op.LT, Op.GT)  # two-letter ones first
_ORDER_OPS = frozenset({Op.LT, Op.LE, Op.GT, Op.GE})
_ORDERED_KINDS = frozenset({FieldKind.DATE, FieldKind.DATETIME, FieldKind.INTEGER})
_JSON_KINDS = frozenset({FieldKind.LIST, FieldKind.OPERATION, FieldKind.OBJECT})
_OPERATOR_CHARS = "=!<>~:"
_KIND_WORDS = {FieldKind.STRING: "text", FieldKind.ENUM: "one of a list of values"}
SYNTAX = "FIELD=VALUE, FIELD!=VALUE, FIELD~TEXT, FIELD<VALUE (<=, >, >=), FIELD:empty, FIELD:set"


def where_field(name: str) -> Field:
    """The field called ``name`` (writable or read-only); InvalidInput with did-you-mean."""
    field = FIELDS.get(name) or READ_ONLY.get(name)
    if field is not None:
        return field
    key = name.strip().lower()
    if key in _BY_TAG:
        flag = "--tag" if key.startswith("tag") else "--group"
        raise InvalidInput(f"select by {key.rstrip('s').split('_')[0]} with {flag} NAME")
    guess = suggest(name)
    if guess is None:
        close = difflib.get_close_matches(key, READ_ONLY, n=1, cutoff=0.6)
        guess = close[0] if close else None
    maybe = f" (did you mean '{guess}'?)" if guess else ""
    raise InvalidInput(f"unknown field '{name}'{maybe}", hint="'dexbulk fields' lists them")


@dataclass(frozen=True)
class Condition:
    """One ``--where`` expression, typed: ``value`` is None for ``:empty`` and ``:set``."""

    field: str
    op: Op
    value: JSON = None

    @classmethod
    def parse(cls, token: str) -> Condition:
        """Parse one expression; errors quote it and say what was expected."""
        try:
            return _parse(token)
        except InvalidInput as error:
            raise error.at(f"--where {quote(token)}") from None

    def __str__(self) -> str:
        if self.op in (Op.EMPTY, Op.SET):
            return f"{self.field}{self.op.value}"
        return f"{self.field}{self.op.value}{_print_value(self.value)}"

    @property
    def kind(self) -> FieldKind:
        """The kind of the field compared."""
        return where_field(self.field).kind

    def matches(self, contact: Mapping[str, object]) -> bool:
        """Whether ``contact`` (as Dex returns it; a missing field counts as null) passes."""
        have = contact.get(self.field)
        if self.field == "id" and isinstance(have, str):
            have = have.lower()
        if self.op is Op.EMPTY:
            return is_empty(have)
        if self.op is Op.SET:
            return not is_empty(have)
        if self.op is Op.CONTAINS:
            needle = str(self.value).casefold()
            return any(needle in text.casefold() for text in _texts(have))
        if self.op in (Op.EQ, Op.NE):
            return same_value(self.kind, have, self.value) is (self.op is Op.EQ)
        return _compare(self.kind, have, self.value, self.op)


def is_empty(value: object) -> bool:
    """Null, an empty string, list or object: what ``:empty`` matches (and Dex's ``has_*``)."""
    return value is None or (isinstance(value, (str, list, dict)) and not value)


def same_value(kind: FieldKind, have: object, want: object) -> bool:
    """Whether a value Dex holds equals a typed value, the way the field's kind compares.

    Empty values are all alike (null, "", [], {}); a null flag is false; date-times compare as
    instants (``...00.000Z`` equals ``...00Z``); dates by their ``YYYY-MM-DD``; the rest exactly.
    """
    if kind is FieldKind.BOOLEAN:
        return bool(have) is bool(want) if isinstance(want, bool) else have == want
    if is_empty(have) or is_empty(want):
        return is_empty(have) and is_empty(want)
    if kind is FieldKind.DATETIME:
        a, b = instant(have), instant(want)
        return a is not None and a == b
    if kind is FieldKind.DATE and isinstance(have, str) and isinstance(want, str):
        return have[:10] == want[:10]
    if isinstance(have, bool) or isinstance(want, bool):
        return have is want
    return have == want


def instant(value: object) -> dt.datetime | None:
    """A date-time string (or a bare date, as midnight UTC) as an aware datetime, or None."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


_ORDER = {Op.LT: operator.lt, Op.LE: operator.le, Op.GT: operator.gt, Op.GE: operator.ge}


def _compare(kind: FieldKind, have: object, want: object, op: Op) -> bool:
    a: Any
    b: Any
    if kind is FieldKind.DATETIME:
        a, b = instant(have), instant(want)
    elif kind is FieldKind.DATE:
        a = have[:10] if isinstance(have, str) and len(have) >= 10 else None
        b = want
    else:
        ok = isinstance(have, (int, float)) and not isinstance(have, bool)
        a, b = (have if ok else None), want
    if a is None or b is None:
        return False  # an empty field is neither before nor after anything
    return bool(_ORDER[op](a, b))


def _texts(value: object) -> list[str]:
    """Every piece of text in a value: itself, or each string in a list or object."""
    if value is None or isinstance(value, bool):
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, (int, float)):
        return [str(value)]
    if isinstance(value, dict):
        return [t for item in value.values() for t in _texts(item)]
    if isinstance(value, list):
        return [t for item in value for t in _texts(item)]
    return []


# -- parsing ------------------------------------------------------------------------------------


def _parse(token: str) -> Condition:
    cut = next((i for i, ch in enumerate(token) if ch in _OPERATOR_CHARS), len(token))
    name, rest = token[:cut].strip(), token[cut:]
    if not name:
        raise InvalidInput(f"missing field name (expected {SYNTAX})")
    field = where_field(name)
    if rest.strip() in (Op.EMPTY.value, Op.SET.value):
        op = Op(rest.strip())
        if field.kind is FieldKind.BOOLEAN:
            raise InvalidInput(
                f"'{name}' is a flag: it is always true or false",
                hint=f"use {name}=true or {name}=false",
            )
        return Condition(field.name, op)
    op_found = next((o for o in _VALUE_OPS if rest.startswith(o.value)), None)
    if op_found is None:
        hint = "':=' sets JSON in 'set'; in --where write FIELD=VALUE" if rest[:2] == ":=" else None
        raise InvalidInput(f"expected {SYNTAX}", hint=hint)
    return Condition(field.name, op_found, _value(field, op_found, rest[len(op_found.value) :]))


def _value(field: Field, op: Op, raw: str) -> JSON:
    text = raw.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1]  # quoted: taken as written, spaces included
    if not text:
        raise InvalidInput(
            f"no value after '{op.value}'",
            hint=f"to match an empty field use {field.name}:empty",
        )
    kind = field.kind
    if op in _ORDER_OPS and kind not in _ORDERED_KINDS:
        raise InvalidInput(
            f"'{op.value}' compares dates, date-times and numbers; "
            f"'{field.name}' is {_KIND_WORDS.get(kind, kind.value)} (use = or ~)"
        )
    if op is Op.CONTAINS:
        if kind is FieldKind.BOOLEAN:
            raise InvalidInput(f"'~' finds text; '{field.name}' is a flag (use = true or false)")
        return text
    if kind in _JSON_KINDS:
        raise InvalidInput(
            f"'{field.name}' holds {kind.value} values: compare it with ~, :empty or :set"
        )
    if field.name == "id":
        uuid = normalize_uuid(text)
        if uuid is None:
            raise InvalidInput(f"{quote(text)} is not a contact ID (expected a UUID)")
        return uuid
    return _coerce(field, text)


def _coerce(field: Field, text: str) -> JSON:
    # Read-only date-times are typed like any writable date-time field.
    proxy = field.name if field.name in FIELDS else "last_seen_at"
    try:
        value = coerce(proxy, text)
    except InvalidInput as error:
        if field.kind is FieldKind.ENUM and field.name != "frequency":
            return text  # only one value of these enums is documented: others may exist
        message = error.message.replace(f"field '{proxy}'", f"field '{field.name}'")
        raise InvalidInput(message) from None
    return value


def _print_value(value: JSON) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, str):
        return json.dumps(value)
    quoted = len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'"
    if value != value.strip() or quoted:
        return f'"{value}"'  # the inside of quotes is taken literally, so no escaping
    return value
