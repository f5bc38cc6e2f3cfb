"""Every field of the Dex contact ``data`` object: its type, how text becomes a value, validation.

``FIELDS`` follows the order of Dex's "Update multiple contacts" page (``PUT /v1/contacts/``).
:func:`coerce` turns the text of ``FIELD=VALUE`` (command line, CSV cells) into a value;
:func:`validate` checks an already-parsed JSON value (``FIELD:=JSON``, JSON/YAML files). Both
return the value exactly as it will be sent and raise :class:`InvalidInput` with a one-line
message that quotes what the user gave and says what was expected. ``None`` (JSON ``null``) is
always accepted: it is how a field is cleared in Dex.
"""

from __future__ import annotations

import datetime as dt
import difflib
import enum
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeAlias

from dexbulk.errors import InvalidInput

JSON: TypeAlias = "bool | int | float | str | list[JSON] | dict[str, JSON] | None"
"""Any JSON value, as produced by :func:`json.loads`."""

Validator: TypeAlias = "Callable[[object, str], JSON]"
"""Checks one value found at a path (``contact_emails[0].email``) and returns it normalised."""


class FieldKind(enum.Enum):
    """The type of a field, which decides how its values are coerced and validated."""

    STRING = "string"
    BOOLEAN = "boolean"
    INTEGER = "integer"
    DATE = "date"
    DATETIME = "date-time"
    ENUM = "enum"
    LIST = "list"
    OPERATION = "operation"
    OBJECT = "object"


_JSON_KINDS = frozenset({FieldKind.LIST, FieldKind.OPERATION, FieldKind.OBJECT})


@dataclass(frozen=True, slots=True)
class Field:
    """One field of the contact data object, with what ``dexbulk fields`` shows about it."""

    name: str
    kind: FieldKind
    group: str
    description: str
    example: str
    advanced: bool = False
    choices: tuple[str, ...] = ()

    @property
    def takes_json(self) -> bool:
        """True when values must be written as JSON (``FIELD:=JSON``), never as plain text."""
        return self.kind in _JSON_KINDS


FREQUENCIES = ("7 days", "14 days", "1 mon", "42 days", "3 mons", "6 mons", "1 year")
_FREQUENCY_SPELLINGS = {
    "7 days": "7d 7day 1week 1w week weekly",
    "14 days": "14d 14day 2weeks 2w biweekly fortnightly fortnight",
    "1 mon": "1month 1mo 1mons month monthly",
    "42 days": "42d 42day 6weeks 6w",
    "3 mons": "3months 3mon 3mo quarter quarterly",
    "6 mons": "6months 6mon 6mo twiceayear biannual biannually semiannual semiannually halfyearly",
    "1 year": "1y 1yr 1years 12months 12mons 12mo year yearly annual annually",
}
FREQUENCY_ALIASES: dict[str, str] = {
    alias: api for api, spellings in _FREQUENCY_SPELLINGS.items() for alias in spellings.split()
}
"""Friendly spellings (lower case, without spaces, hyphens or underscores) → the API string."""
_FREQUENCY_EXPECTED = (
    ", ".join(FREQUENCIES)
    + " or "
    + ", ".join(("weekly", "biweekly", "monthly", "6 weeks", "quarterly", "twice a year", "yearly"))
)


def _squash(text: str) -> str:
    # "Twice a year", "semi-annually", "3_months" all compare equal to their alias key.
    return re.sub(r"[\s_-]+", "", text).lower()


# (name, kind, group, description, example); advanced = written by Dex's syncs.
_S, _B, _I, _D = FieldKind.STRING, FieldKind.BOOLEAN, FieldKind.INTEGER, FieldKind.DATE
_T, _E, _L = FieldKind.DATETIME, FieldKind.ENUM, FieldKind.LIST
_OP, _OB = FieldKind.OPERATION, FieldKind.OBJECT
_TS = "2024-03-01T12:00:00Z"


def _messaging(app: str, label: str) -> list[tuple[str, FieldKind, str, str, str]]:
    return [
        (f"{app}_message_link", _S, "sync", f"Link to the last {label} chat", "=https://..."),
        (f"{app}_message_snippet", _S, "sync", f"Text of the last {label} message", "='See you!'"),
        (f"{app}_last_message_at", _T, "sync", f"When the last {label} message came", "=" + _TS),
    ]


def _interaction(app: str, label: str, title: str) -> list[tuple[str, FieldKind, str, str, str]]:
    return [
        (f"{app}_last_interaction_at", _T, "sync", f"When the last {label} happened", "=" + _TS),
        (f"{app}_last_interaction_provider_id", _S, "sync", f"Provider ID of that {label}", "=x1"),
        (f"{app}_last_interaction_{title}", _S, "sync", f"The {title} of that {label}", "='Hi'"),
        (f"{app}_last_interaction_provider", _E, "sync", f"Provider of that {label}", "=GOOGLE"),
    ]


_EXAMPLES = {  # JSON-valued fields: the example is shell-quoted JSON
    "coordinates": '{"operation":"set","data":{"latitude":52.52,"longitude":13.405}}',
    "linkedin_data": "{}",
    "web_search_summary": "{}",
    "legacy_contact_addresses": '[{"formatted":"1 Main St, Springfield"}]',
    "contact_emails": '[{"email":"ada@example.com","label":"work"}]',
    "contact_phone_numbers": '[{"phone_number":"+44 20 7946 0000","label":"mobile"}]',
    "groups_contacts": '[{"group_id":"<uuid>"}]',
    "tags_contacts": '{"append":[{"tag_id":"<uuid>"}]}',
    "custom_fields": '[{"id":"<uuid>","type":"input","text_value":"VIP"}]',
    "contact_birthdays": '{"contact_id":"<uuid>","last_dismissal_year":2024}',
    "related_contacts": '{"append":[{"destination":"<uuid>"}]}',
}

# fmt: off
_TABLE: list[tuple[str, FieldKind, str, str, str]] = [
    ("full_name", _S, "text", "Full name as shown in Dex", "='Ada Lovelace'"),
    ("first_name", _S, "text", "Given name", "=Ada"),
    ("last_name", _S, "text", "Family name", "=Lovelace"),
    ("description", _S, "text", "Free-text notes about the contact", "='Met at PyCon'"),
    ("job_title", _S, "text", "Job title", "=CTO"),
    ("legacy_location", _S, "text", "Location as free text", "='Berlin, Germany'"),
    ("company", _S, "text", "Company or organisation", "=Acme"),
    ("education", _S, "text", "School or university", "='University of London'"),
    ("starred", _B, "flags", "Starred (favourite) contact", "=true"),
    ("source", _E, "provenance", "Where the contact came from", "=linkedin_sync"),
    ("coordinates", _OB, "location", "Map position {operation: set, data: {latitude, longitude}}",
     ""),
    ("image_url", _S, "text", "URL of the profile picture", "=https://example.com/ada.jpg"),
    ("image_source", _S, "text", "Where the profile picture came from", "=manual"),
    ("business_card_url", _S, "text", "URL of a scanned business card", "=https://example.com/c"),
    ("website", _S, "text", "Personal or company website", "=https://example.com"),
    ("birthday", _D, "birthday", "Birthday (YYYY-MM-DD)", "=1990-05-02"),
    ("birthday_year", _I, "birthday", "Year of birth, when known", "=1990"),
    ("frequency", _E, "keep in touch", "How often Dex reminds you to keep in touch", "=monthly"),
    ("last_seen_at", _T, "keep in touch", "When you last met or talked (UTC)", "=" + _TS),
    ("never_keep_in_touch", _B, "flags", "Never remind you to keep in touch", "=true"),
    ("next_reminder_at", _T, "keep in touch", "When Dex reminds you next (UTC)", "=" + _TS),
    ("linkedin", _S, "text", "LinkedIn profile URL or handle", "=https://linkedin.com/in/ada"),
    ("twitter", _S, "text", "Twitter/X handle", "=ada"),
    ("facebook", _S, "text", "Facebook profile", "=ada.lovelace"),
    ("instagram", _S, "text", "Instagram handle", "=ada"),
    ("telegram", _S, "text", "Telegram handle", "=ada"),
    ("tiktok", _S, "text", "TikTok handle", "=ada"),
    ("youtube", _S, "text", "YouTube channel", "=@ada"),
    *_messaging("whatsapp", "WhatsApp"),
    *_messaging("imessage", "iMessage"),
    ("linkedin_message_link", _S, "sync", "Link to the last LinkedIn conversation", "=https://..."),
    ("linkedin_last_message_snippet", _S, "sync", "Text of the last LinkedIn message", "='Hi!'"),
    ("linkedin_last_message_at", _T, "sync", "When the last LinkedIn message was sent", "=" + _TS),
    ("linkedin_data", _OB, "objects", "LinkedIn profile data (any JSON object)", ""),
    *_messaging("instagram", "Instagram"),
    *_interaction("gmail", "email", "subject"),
    *_interaction("gcal", "meeting", "title"),
    ("phone_call_last_interaction_at", _T, "sync", "When the last phone call happened", "=" + _TS),
    ("phone_call_interaction_snippet", _S, "sync", "Note about the last phone call", "='Called'"),
    ("web_search_summary", _OB, "objects", "Web search summary (any JSON object)", ""),
    ("legacy_contact_addresses", _L, "lists", "Postal addresses [{formatted}]", ""),
    ("contact_emails", _L, "lists", "Email addresses [{email, label, ranking}]", ""),
    ("contact_phone_numbers", _L, "lists", "Phone numbers [{phone_number, label, ...}]", ""),
    ("groups_contacts", _L, "lists", "Group memberships [{group_id}]", ""),
    ("tags_contacts", _OP, "operations", "Add, remove or replace tags", ""),
    ("custom_fields", _L, "lists", "Custom field values [{id, type, text_value}]", ""),
    ("contact_birthdays", _OB, "birthday", "Birthday reminder state", ""),
    ("is_archived", _B, "flags", "Archived contact", "=true"),
    ("ignore_merge", _B, "flags", "Leave out of duplicate-merge suggestions", "=true"),
    ("related_contacts", _OP, "operations", "Add or remove related contacts", ""),
]
# fmt: on


def _choices_for(name: str) -> tuple[str, ...]:
    if name == "frequency":
        return FREQUENCIES
    if name == "source":
        return ("linkedin_sync",)  # the only documented value
    return ("GOOGLE",) if name.endswith("_provider") else ()


FIELDS: dict[str, Field] = {
    name: Field(
        name,
        kind,
        group,
        text,
        name + (ex or ":='" + _EXAMPLES.get(name, "") + "'"),
        advanced=group == "sync",  # written by Dex's own syncs: allowed, but not for everyday use
        choices=_choices_for(name),
    )
    for name, kind, group, text, ex in _TABLE
}
"""Every field of the data object, in the order of Dex's reference page."""

_INT_RANGES = {"birthday_year": (1, 9999)}
# Words people reach for that difflib cannot connect to the real field name.
_SYNONYMS = {
    "email": "contact_emails", "emails": "contact_emails", "phone": "contact_phone_numbers",
    "phones": "contact_phone_numbers", "tags": "tags_contacts", "tag": "tags_contacts",
    "groups": "groups_contacts", "group": "groups_contacts", "name": "full_name",
    "title": "job_title", "notes": "description", "location": "legacy_location",
    "address": "legacy_contact_addresses", "archived": "is_archived", "star": "starred",
}  # fmt: skip


def suggest(name: str) -> str | None:
    """Return the known field name closest to ``name`` (for "did you mean"), or None."""
    key = re.sub(r"[\s-]+", "_", name.strip()).lower()
    if key in FIELDS:
        return key
    if key in _SYNONYMS:
        return _SYNONYMS[key]
    close = difflib.get_close_matches(key, FIELDS, n=1, cutoff=0.6)
    return close[0] if close else None


def lookup(name: str) -> Field:
    """Return the field called ``name``; raise InvalidInput with a did-you-mean otherwise."""
    field = FIELDS.get(name)
    if field is None:
        guess = suggest(name)
        maybe = f" (did you mean '{guess}'?)" if guess else ""
        raise InvalidInput(f"unknown field '{name}'{maybe}", hint="'dexbulk fields' lists them")
    return field


_UUID_RE = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE
)


def normalize_uuid(text: str) -> str | None:
    """Return ``text`` as a lower-case 8-4-4-4-12 UUID (surrounding space ignored), or None."""
    text = text.strip()
    return text.lower() if _UUID_RE.fullmatch(text) else None


def is_uuid(text: str) -> bool:
    """True when ``text`` is a UUID in the 8-4-4-4-12 hex form (no braces, no ``urn:``)."""
    return normalize_uuid(text) is not None


def quote(value: object) -> str:
    """Render a value for an error message, on one line: strings in quotes, the rest as JSON."""
    if isinstance(value, str):
        text = value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
        text = text.replace("\t", "\\t")
        return "'" + (text if len(text) <= 60 else text[:57] + "...") + "'"
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def kind_of(value: object) -> str:
    """Name the JSON type of ``value`` for an error message: "a string", "an object", "null"."""
    kinds = [(bool, "a boolean"), (int, "an integer"), (float, "a number"), (str, "a string")]
    kinds += [(list, "a list"), (dict, "an object"), (type(None), "null")]
    return next((k for t, k in kinds if isinstance(value, t)), type(value).__name__)


def _got(value: object) -> str:
    return "got null" if value is None else f"got {kind_of(value)} {quote(value)}"


def _fail(path: str, problem: str) -> InvalidInput:
    return InvalidInput(f"field '{path}': {problem}")


def _expect(path: str, expected: str, value: object) -> InvalidInput:
    return _fail(path, f"expected {expected} ({_got(value)})")


# -- rules for text (the same whether it came from FIELD=VALUE or a JSON string) -----------------

_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DATETIME_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[Tt ]([0-9]{2}):([0-9]{2})"
    r"(?::([0-9]{2})(\.[0-9]+)?)?([Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)?)?"
)
_TRUE, _FALSE = {"true", "yes", "1", "on"}, {"false", "no", "0", "off"}


def _parse_date(text: str, path: str) -> str:
    match = _DATE_RE.fullmatch(text.strip())
    try:
        if match:
            return dt.date(*map(int, match.groups())).isoformat()
    except ValueError:
        pass
    raise _fail(path, f"{quote(text)} is not a date (expected YYYY-MM-DD)")


def _parse_datetime(text: str, path: str) -> str:
    """ISO 8601 → ``YYYY-MM-DDTHH:MM:SS[.fff]Z``; no offset means UTC, a bare date is midnight."""
    match = _DATETIME_RE.fullmatch(text.strip())
    try:
        if match:
            year, month, day, hour, minute, second, fraction, offset = match.groups()
            tz = dt.timezone.utc
            if offset and offset not in "Zz":
                hours, minutes = int(offset[1:3]), int(offset[-2:]) if len(offset) > 3 else 0
                if minutes > 59:
                    raise ValueError(offset)
                sign = -1 if offset[0] == "-" else 1
                tz = dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
            hms = (int(hour or 0), int(minute or 0), int(second or 0))
            local = dt.datetime(int(year), int(month), int(day), *hms, tzinfo=tz)
            utc = local.astimezone(dt.timezone.utc)
            # Offsets are whole minutes, so the fraction survives the shift to UTC unchanged.
            stamp = f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc:%H:%M:%S}"
            return stamp + (fraction or "") + "Z"
    except (ValueError, OverflowError):
        pass
    raise _fail(path, f"{quote(text)} is not a date-time (expected ISO 8601, e.g. {_TS})")


def _parse_enum(field: Field, text: str, path: str) -> str:
    key = _squash(text)
    for choice in field.choices:
        if _squash(choice) == key:
            return choice
    if field.name == "frequency" and key in FREQUENCY_ALIASES:
        return FREQUENCY_ALIASES[key]
    what = field.name.rsplit("_", 1)[-1] if field.name.endswith("_provider") else field.name
    expected = _FREQUENCY_EXPECTED if field.name == "frequency" else ", ".join(field.choices)
    raise _fail(path, f"{quote(text)} is not a known {what} (expected one of: {expected})")


def _check_int(field: Field, value: int, path: str) -> int:
    low, high = _INT_RANGES.get(field.name, (-(2**31), 2**31 - 1))
    if not low <= value <= high:
        raise _fail(path, f"{value} is out of range (expected {low} to {high})")
    return value


def coerce(name: str, text: str) -> JSON:
    """Turn the text of ``FIELD=VALUE`` into the value sent for field ``name``.

    Strings are kept as typed. Booleans accept true/false, yes/no, 1/0, on/off (any case).
    Dates must be real ``YYYY-MM-DD`` dates. Date-times are ISO 8601 with ``Z``, an offset or
    neither; they are sent as UTC ``YYYY-MM-DDTHH:MM:SSZ`` (fractional seconds kept). A value
    without an offset is taken as UTC, and a bare date as midnight UTC. Enums ignore case;
    ``frequency`` also takes aliases (weekly, monthly, "3 months", ...). List, operation and
    object fields need JSON (``FIELD:=JSON``) and raise here.
    """
    field = lookup(name)
    if field.takes_json:
        raise _fail(name, f"needs a JSON value: use {name}:=JSON, e.g. {field.example}")
    try:
        return _coerce_text(field, text)
    except InvalidInput as error:
        if text.strip() in ("", "null"):
            raise InvalidInput(error.message, hint=f"to clear it, use {name}:=null") from None
        raise


def _coerce_text(field: Field, text: str) -> JSON:
    name, kind = field.name, field.kind
    if kind is FieldKind.BOOLEAN:
        word = text.strip().lower()
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
        raise _fail(name, f"{quote(text)} is not a boolean (expected true or false)")
    if kind is FieldKind.INTEGER:
        if not re.fullmatch(r"[+-]?[0-9]+", text.strip()):
            raise _fail(name, f"{quote(text)} is not an integer (expected a whole number)")
        return _check_int(field, int(text), name)
    if kind is FieldKind.STRING:
        return text
    return _STRING_RULES[kind](field, text, name)


_TEXT_EXPECTED = {FieldKind.DATE: "a YYYY-MM-DD string", FieldKind.DATETIME: "an ISO 8601 string"}
_STRING_RULES: dict[FieldKind, Callable[[Field, str, str], str]] = {
    FieldKind.DATE: lambda _field, text, path: _parse_date(text, path),
    FieldKind.DATETIME: lambda _field, text, path: _parse_datetime(text, path),
    FieldKind.ENUM: _parse_enum,
}


# -- rules for parsed JSON values --------------------------------------------------------------


def _any(value: object, path: str) -> JSON:
    """Accept any JSON value, checking it really is one (finite numbers, string keys)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _expect(path, "a finite number", value)
        return value
    if isinstance(value, list):
        return [_any(item, f"{path}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, dict):
        return {_key(key, path): _any(item, f"{path}.{key}") for key, item in value.items()}
    raise _expect(path, "a JSON value", value)


def _key(key: object, path: str) -> str:
    if not isinstance(key, str):
        raise _fail(path, f"keys must be strings (got {quote(key)})")
    return key


def _typed(expected: str, test: Callable[[object], bool]) -> Validator:
    def check(value: object, path: str) -> JSON:
        if not test(value):
            raise _expect(path, expected, value)
        return value  # type: ignore[return-value]  # test() has just checked the type

    return check


def _number(low: int, high: int) -> Validator:
    def check(value: object, path: str) -> JSON:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _expect(path, "a number", value)
        if not (math.isfinite(value) and low <= value <= high):
            raise _fail(path, f"{quote(value)} is out of range (expected {low} to {high})")
        return value

    return check


def _uuid(value: object, path: str) -> JSON:
    uuid = normalize_uuid(value) if isinstance(value, str) else None
    if uuid is None:
        raise _expect(path, "a UUID", value)
    return uuid


_SCALARS: dict[str, Validator] = {
    "any": _any,
    "uuid": _uuid,
    "str": _typed("a string", lambda v: isinstance(v, str)),
    "text": _typed("a non-empty string", lambda v: isinstance(v, str) and bool(v.strip())),
    "int": _typed("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "lat": _number(-90, 90),
    "lng": _number(-180, 180),
}

# The nested shapes, as data. An object spec maps keys to specs: "key!" is required, "*" lets
# other keys through, "+" needs at least one known key; a one-item list is a list of that spec;
# a string names a scalar rule above, or else lists the allowed values ("a|b"). Optional
# scalar keys may be null.
_ANY_OBJECT = {"*": "any"}
# fmt: off
_SHAPES: dict[str, object] = {
    "coordinates": {"operation!": "set", "data!": {"latitude!": "lat", "longitude!": "lng"}},
    "linkedin_data": _ANY_OBJECT,
    "web_search_summary": _ANY_OBJECT,
    "legacy_contact_addresses": [{"formatted!": "str"}],
    "contact_emails": [{"email!": "text", "label": "str", "ranking": "int"}],
    "contact_phone_numbers": [{"phone_number!": "text", "country_code": "str",
                               "phone_number_sanitized": "str", "label": "str", "ranking": "int"}],
    "groups_contacts": [{"group_id!": "uuid"}],
    "tags_contacts": {"+": "", "append": [{"tag_id!": "uuid"}],
                      "remove": [{"tag_id!": "uuid", "contact_id": "uuid"}],
                      "replace": "any"},  # the shape of replace is undocumented: passed through
    "custom_fields": [{"id!": "uuid", "type": "input|autocomplete|datepicker", "text_value": "str",
                       "custom_field": "any"}],
    "contact_birthdays": {"contact_id!": "uuid", "last_dismissal_year": "int"},
    # Dex types remove[].destination as "<unknown>", so it is passed through unchecked.
    "related_contacts": {"+": "", "append": [{"destination!": "uuid", "*": "any"}],
                         "remove": [{"source!": "uuid", "destination": "any"}], "replace": "any"},
}
# fmt: on


def _check(spec: object, value: object, path: str) -> JSON:
    """Check ``value`` against a shape spec (see ``_SHAPES``) and return it normalised."""
    if isinstance(spec, list):
        if not isinstance(value, list):
            raise _expect(path, "a list", value)
        return [_check(spec[0], item, f"{path}[{i}]") for i, item in enumerate(value)]
    if isinstance(spec, dict):
        return _check_object(spec, value, path)
    assert isinstance(spec, str)
    if spec in _SCALARS:
        return _SCALARS[spec](value, path)
    if not isinstance(value, str) or value not in spec.split("|"):
        raise _expect(path, "one of: " + spec.replace("|", ", "), value)
    return value


def _check_object(spec: Mapping[str, object], value: object, path: str) -> JSON:
    rules = {key.rstrip("!"): rule for key, rule in spec.items() if key not in ("*", "+")}
    known = ", ".join(rules)
    if not isinstance(value, dict):
        raise _expect(path, f"an object with keys {known}" if rules else "an object", value)
    out: dict[str, JSON] = {}
    for key, item in value.items():
        where = f"{path}.{_key(key, path)}"
        if key in rules:
            optional_null = item is None and isinstance(rules[key], str) and key + "!" not in spec
            out[key] = None if optional_null else _check(rules[key], item, where)
        elif "*" in spec:
            out[key] = _any(item, where)
        else:
            close = difflib.get_close_matches(key, rules, n=1)
            maybe = f"did you mean '{close[0]}'? " if close else ""
            raise _fail(where, f"unknown key ({maybe}expected one of: {known})")
    for key in spec:
        if key.endswith("!") and key[:-1] not in value:
            raise _fail(path, f"missing required key '{key[:-1]}'")
    if "+" in spec and not out:
        raise _fail(path, f"expected at least one of: {known}")
    return out


def validate(name: str, value: object) -> JSON:
    """Check a parsed JSON value for field ``name`` and return it normalised for sending.

    The rules are those of :func:`coerce`, except that the JSON type must already be right
    (``true``, not ``"true"``; a bool is not an integer). Date, date-time and enum fields take
    strings and are normalised the same way. ``None`` clears the field and is always allowed.
    Nested shapes are checked key by key; errors name the path (``contact_emails[0].emial``).
    """
    field = lookup(name)
    if value is None:
        return None
    kind = field.kind
    if field.takes_json:
        return _check(_SHAPES[name], value, name)
    if kind is FieldKind.BOOLEAN:
        if not isinstance(value, bool):
            raise _expect(name, "true or false", value)
        return value
    if kind is FieldKind.INTEGER:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _expect(name, "an integer", value)
        return _check_int(field, value, name)
    if not isinstance(value, str):
        raise _expect(name, _TEXT_EXPECTED.get(kind, "a string"), value)
    return value if kind is FieldKind.STRING else _STRING_RULES[kind](field, value, name)


def validate_data(data: Mapping[str, object]) -> dict[str, JSON]:
    """Validate a whole data object (field → value) and return it normalised, in input order."""
    if not isinstance(data, Mapping):
        raise InvalidInput(f"expected an object of fields ({_got(data)})")
    if not data:
        raise InvalidInput("empty patch: no fields to change")
    out: dict[str, JSON] = {}
    for name, value in data.items():
        if not isinstance(name, str):
            raise InvalidInput(f"field names must be strings (got {quote(name)})")
        out[name] = validate(name, value)
    return out
