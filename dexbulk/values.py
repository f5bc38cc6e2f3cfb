"""How text becomes a field value, and how parsed JSON values are validated.

The fields themselves (names, kinds, examples, choices, nested shapes) are the table in
:mod:`dexbulk.fields`. :func:`coerce` turns the text of ``FIELD=VALUE`` (command line, CSV
cells) into a value; :func:`validate` checks an already-parsed JSON value (``FIELD:=JSON``,
JSON/YAML files). Both return the value exactly as it will be sent and raise
:class:`InvalidInput` with a one-line message that quotes what the user gave and says what was
expected. ``None`` (JSON ``null``) is always accepted: it is how a field is cleared in Dex.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import math
import re
from collections.abc import Callable, Mapping
from typing import TypeAlias

from dexbulk.errors import InvalidInput
from dexbulk.fields import (
    EXAMPLE_TIMESTAMP,
    FREQUENCY_ALIASES,
    FREQUENCY_EXPECTED,
    INT_RANGES,
    SHAPES,
    Field,
    FieldKind,
    lookup,
)
from dexbulk.limits import MAX_TEXT_CHARS, check_tree

JSON: TypeAlias = "bool | int | float | str | list[JSON] | dict[str, JSON] | None"
"""Any JSON value, as produced by :func:`json.loads`."""

Validator: TypeAlias = "Callable[[object, str], JSON]"
"""Checks one value found at a path (``contact_emails[0].email``) and returns it normalised."""


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
        if not text.isascii():  # a lone surrogate shown as \udc9b: no stream can write it
            text = text.encode("utf-8", "backslashreplace").decode("utf-8")
        return "'" + (text if len(text) <= 60 else text[:57] + "...") + "'"
    if isinstance(value, float) and not math.isfinite(value):
        return _not_finite(value)
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        text = kind_of(value)  # not JSON, or too deep to show: say what it is
    return text if len(text) <= 60 else text[:57] + "..."


def kind_of(value: object) -> str:
    """Name the JSON type of ``value`` for an error message: "a string", "an object", "null"."""
    kinds = [(bool, "a boolean"), (int, "an integer"), (float, "a number"), (str, "a string")]
    kinds += [(list, "a list"), (dict, "an object"), (type(None), "null")]
    return next((k for t, k in kinds if isinstance(value, t)), type(value).__name__)


def _not_finite(value: float) -> str:
    """A JSON number that overflowed (``1e999`` reads as infinity), or Python's ``NaN``."""
    return "NaN (not a JSON number)" if math.isnan(value) else "a number too large to hold"


def _got(value: object) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return f"got {_not_finite(value)}"
    return "got null" if value is None else f"got {kind_of(value)} {quote(value)}"


def _fail(path: str, problem: str) -> InvalidInput:
    return InvalidInput(f"field '{path}': {problem}")


def _expect(path: str, expected: str, value: object) -> InvalidInput:
    return _fail(path, f"expected {expected} ({_got(value)})")


# -- rules for text (the same whether it came from FIELD=VALUE or a JSON string) -----------------

# Compiled on first use (re caches them): only date fields need them.
_DATE_RE = r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
_DATETIME_RE = (
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[Tt ]([0-9]{2}):([0-9]{2})"
    r"(?::([0-9]{2})(\.[0-9]+)?)?([Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)?)?"
)
_TRUE, _FALSE = {"true", "yes", "1", "on"}, {"false", "no", "0", "off"}


def _parse_date(text: str, path: str) -> str:
    match = re.fullmatch(_DATE_RE, text.strip())
    try:
        if match:
            return dt.date(*map(int, match.groups())).isoformat()
    except ValueError:
        pass
    raise _fail(path, f"{quote(text)} is not a date (expected YYYY-MM-DD)")


def _parse_datetime(text: str, path: str) -> str:
    """ISO 8601 → ``YYYY-MM-DDTHH:MM:SS[.fff]Z``; no offset means UTC, a bare date is midnight."""
    match = re.fullmatch(_DATETIME_RE, text.strip())
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
    raise _fail(
        path, f"{quote(text)} is not a date-time (expected ISO 8601, e.g. {EXAMPLE_TIMESTAMP})"
    )


def _squash(text: str) -> str:
    # "Twice a year", "semi-annually", "3_months" all compare equal to their alias key.
    return re.sub(r"[\s_-]+", "", text).lower()


def _parse_enum(field: Field, text: str, path: str) -> str:
    key = _squash(text)
    for choice in field.choices:
        if _squash(choice) == key:
            return choice
    if field.name == "frequency" and key in FREQUENCY_ALIASES:
        return FREQUENCY_ALIASES[key]
    what = field.name.rsplit("_", 1)[-1] if field.name.endswith("_provider") else field.name
    expected = FREQUENCY_EXPECTED if field.name == "frequency" else ", ".join(field.choices)
    raise _fail(path, f"{quote(text)} is not a known {what} (expected one of: {expected})")


def _check_text(value: str, path: str) -> str:
    if len(value) > MAX_TEXT_CHARS:
        problem = f"{len(value):,} characters, over the limit of {MAX_TEXT_CHARS:,} for text"
        raise _fail(path, f"{quote(value)} is {problem}")
    return _check_unicode(value, path)


def _check_unicode(value: str, path: str) -> str:
    if not value.isascii() and _SURROGATE.search(value):
        # A byte of an argument that is not UTF-8 (Python reads it as \udc9b), or a lone
        # surrogate escaped in JSON: neither is text that Dex (or a UTF-8 body) can carry.
        problem = "is not UTF-8 text (it holds an undecodable byte or a lone surrogate)"
        raise _fail(path, f"{quote(value)} {problem}")
    return value


_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_int(field: Field, value: int, path: str) -> int:
    low, high = INT_RANGES.get(field.name, (-(2**31), 2**31 - 1))
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
    if not text.strip():
        # "company=" is more often a shell variable that came out empty than a wish for "".
        empty = f"; for an empty string, {name}:='\"\"'" if field.kind is FieldKind.STRING else ""
        hint = f"to clear it, use 'dexbulk unset {name}'{empty}"
        raise InvalidInput(f"field '{name}': no value after '='", hint=hint)
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
        digits = text.strip()
        if not re.fullmatch(r"[+-]?[0-9]+", digits):
            raise _fail(name, f"{quote(text)} is not an integer (expected a whole number)")
        if len(digits.lstrip("+-").lstrip("0")) > 18:  # int() of 4,300+ digits raises
            low, high = INT_RANGES.get(name, (-(2**31), 2**31 - 1))
            raise _fail(name, f"{quote(text)} is out of range (expected {low} to {high})")
        return _check_int(field, int(digits), name)
    if kind is FieldKind.STRING:
        return _check_text(text, name)
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
    if isinstance(value, str):
        return _check_unicode(value, path)
    if value is None or isinstance(value, (bool, int)):
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
    return _check_unicode(key, path)


def _typed(expected: str, test: Callable[[object], bool]) -> Validator:
    def check(value: object, path: str) -> JSON:
        if not test(value):
            raise _expect(path, expected, value)
        return value  # type: ignore[return-value]  # test() has just checked the type

    return check


def _text(check: Validator) -> Validator:
    def checked(value: object, path: str) -> JSON:
        text = check(value, path)
        assert isinstance(text, str)
        return _check_text(text, path)

    return checked


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
    "str": _text(_typed("a string", lambda v: isinstance(v, str))),
    "text": _text(_typed("a non-empty string", lambda v: isinstance(v, str) and bool(v.strip()))),
    "int": _typed("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "lat": _number(-90, 90),
    "lng": _number(-180, 180),
}


def _check(spec: object, value: object, path: str) -> JSON:
    """Check ``value`` against a shape spec (see ``fields.SHAPES``) and return it normalised."""
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
        check_tree(value, f"field '{name}'")  # the checks below recurse: bound the depth first
        return _check(SHAPES[name], value, name)
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
    if kind is FieldKind.STRING:
        return _check_text(value, name)
    return _STRING_RULES[kind](field, value, name)


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
