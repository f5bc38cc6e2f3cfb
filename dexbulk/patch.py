"""What to change: ``FIELD=VALUE`` items and flags → :class:`Patch`; patch files via re-export.

A :class:`Patch` is one data object applied to every selected contact. A patch file may instead
hold one data object per contact (a list of :class:`Update`); reading files is
:mod:`dexbulk.patchfile`, re-exported here as :func:`load_patch`. Everything is validated
through :mod:`dexbulk.schema` before it is returned, and errors name the token the user wrote.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from dexbulk.errors import InvalidInput
from dexbulk.patchfile import PATCH_FORMATS, load_patch
from dexbulk.schema import FIELDS, JSON, FieldKind, coerce, lookup, quote, suggest, validate
from dexbulk.updates import Patch, Update, UpdateList

__all__ = [  # the data types and the file loader are re-exported: import them from here
    "PATCH_FORMATS", "Patch", "Update", "UpdateList", "flag_patch", "load_patch", "parse_items",
    "unset_fields",
]  # fmt: skip


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
        value = json.loads(text)
    except json.JSONDecodeError as error:
        hint = None if field.takes_json else f"for plain text, use {name}={text}"
        problem = f"not valid JSON after ':=' ({error.msg} at column {error.colno})"
        raise InvalidInput(problem, hint=hint) from None
    return name, validate(name, value)


def unset_fields(names: Sequence[str]) -> Patch:
    """A patch that clears every named field (sends ``null``); names may be comma-separated."""
    data: dict[str, JSON] = {}
    for name in (part.strip() for value in names for part in value.split(",")):
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
