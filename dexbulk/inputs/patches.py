"""Patch files → one :class:`Patch` or per-contact updates: JSON, YAML, JSON Lines, CSV, TSV.

A file holds either one data object for every selected contact, or one per contact: the API
body itself as JSON or YAML, JSON Lines of ``{"contactId", "data"}``, or CSV/TSV with an ID
column and one column per field. Everything is validated through :mod:`dexbulk.values`, and
errors name the file, line or item.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from dexbulk.errors import InvalidInput
from dexbulk.inputs.ids import STDIN_NAME, file_error, json_lines
from dexbulk.inputs.reading import (
    HEAD_CHARS,
    Prefixed,
    TextSource,
    lines,
    not_text,
    open_text,
    read_head,
    read_whole,
)
from dexbulk.inputs.sheets import Columns, load_csv
from dexbulk.limits import MAX_DOCUMENT_BYTES, MAX_YAML_BYTES, check_tree, load_json
from dexbulk.plan import Patch, Update, UpdateList
from dexbulk.values import kind_of, normalize_uuid, quote, validate_data

PATCH_FORMATS = ("auto", "json", "yaml", "jsonl", "csv", "tsv")
_EXTENSIONS = {".json": "json", ".yaml": "yaml", ".yml": "yaml", ".jsonl": "jsonl"}
_EXTENSIONS |= {".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv"}
_SHAPE = "a mapping of fields or a list of {contactId, data}"


def load_patch(
    source: str,
    *,
    stdin: TextIO,
    fmt: str = "auto",
    columns: Columns | None = None,
) -> Patch | list[Update]:
    """Read a patch file (``-`` is stdin) into one :class:`Patch` or per-contact updates.

    ``fmt`` is auto, json, yaml, jsonl, csv or tsv; auto goes by the file extension, then by the
    content. Shapes: a mapping of fields → Patch; a list of ``{"contactId", "data"}`` (the API
    body) or JSON Lines of them → :class:`UpdateList`; JSON Lines holding one plain mapping →
    Patch; CSV/TSV with an ID column and one column per field → UpdateList (see
    :mod:`dexbulk.inputs.sheets`; ``columns`` picks its columns). In CSV an empty cell leaves
    the field unchanged, the exact cell ``null`` (lower case) clears it, cells of list/object
    fields are JSON, and a row with nothing to change is skipped and counted. A contact
    repeated with identical data is kept once and counted; repeated with different data, it is
    an error naming both places. A key given twice in one JSON or YAML object is an error.
    A sheet with an ``updated_at`` column is an export of ``dexbulk ls``: an empty cell there
    is an empty field (null, a clear); its read-only columns (``created_at``, ``tags``, …) are
    ignored.

    Reading is bounded (:mod:`dexbulk.limits`): JSON Lines and CSV are read a line at a time,
    JSON and YAML documents are refused over their size limit, YAML aliases are refused.
    """
    if fmt not in PATCH_FORMATS:
        raise InvalidInput(
            f"unknown patch format '{fmt}' (expected one of: {', '.join(PATCH_FORMATS)})"
        )
    columns = columns or Columns()
    name = STDIN_NAME if source == "-" else source
    if fmt == "auto" and source != "-":
        fmt = _EXTENSIONS.get(Path(source).suffix.lower(), "auto")
    try:
        if source == "-":
            return _load(stdin, name, fmt, columns)
        with open_text(source) as stream:
            return _load(stream, name, fmt, columns)
    except (OSError, UnicodeDecodeError) as error:
        raise file_error(name, error) from None


def _load(stream: TextSource, name: str, fmt: str, columns: Columns) -> Patch | list[Update]:
    head = read_head(stream).removeprefix("\ufeff")
    if "\0" in head:
        raise not_text(name)
    if not head.strip():
        if len(head) < HEAD_CHARS:
            raise InvalidInput(f"{name}: empty, nothing to change")
        head += read_whole(stream, name, MAX_YAML_BYTES, "YAML", len(head))  # all blank so far
        if not head.strip():
            raise InvalidInput(f"{name}: empty, nothing to change")
    if fmt == "auto":
        fmt = _sniff(head)
    if columns.chosen and fmt not in ("csv", "tsv"):
        raise InvalidInput(f"{name}: --columns and --ignore-columns apply to CSV and TSV files")
    if fmt in ("csv", "tsv"):
        entries, skipped = load_csv(
            lines(Prefixed(head, stream), name), name, fmt == "tsv", columns
        )
        return _dedupe(entries, skipped)
    if fmt == "jsonl":
        return _load_jsonl(lines(Prefixed(head, stream), name), name)
    if fmt == "yaml":
        text = head + read_whole(stream, name, MAX_YAML_BYTES, "YAML", len(head))
        return _load_yaml(text, name)
    text = head + read_whole(stream, name, MAX_DOCUMENT_BYTES, "JSON", len(head))
    try:
        document = load_json(text)
    except json.JSONDecodeError as error:
        at = f"line {error.lineno} column {error.colno}"
        raise InvalidInput(f"{name}: not valid JSON ({error.msg} at {at})") from None
    except InvalidInput as error:
        raise error.at(name) from None
    return _from_document(document, name)


def _sniff(head: str) -> str:
    """The format of a patch from its first characters (:data:`HEAD_CHARS` of them)."""
    start = head.lstrip()
    first, newline, rest = start.partition("\n")
    if start.startswith("["):
        return "json"
    if start.startswith("{"):
        # One object a line is JSON Lines; an object spread over lines is one JSON document.
        try:
            load_json(first)
        except (json.JSONDecodeError, InvalidInput):
            return "json"
        more = bool(rest.strip()) or len(head) >= HEAD_CHARS
        return "jsonl" if newline and more else "json"
    if ": " not in first and any(d in first for d in ",;\t"):  # "key: value" is YAML
        return "csv"  # comma, semicolon or tab: the CSV reader tells which from the header
    return "yaml"


def _from_document(document: object, name: str) -> Patch | list[Update]:
    """A parsed JSON/YAML document: a data mapping, or the API body (or one item of it)."""
    if isinstance(document, dict):
        check_tree(document, name)
    if isinstance(document, dict) and "contactId" in document:
        return _dedupe([((name, ""), _update(document, name))])
    if isinstance(document, dict):
        try:
            return Patch(validate_data(document))
        except InvalidInput as error:
            raise error.at(name) from None
    if isinstance(document, list):
        if not document:
            raise InvalidInput(f"{name}: empty list, nothing to change")
        items = enumerate(document, 1)
        return _dedupe(
            ((name, f"item {i}"), _update(item, f"{name} item {i}")) for i, item in items
        )
    raise InvalidInput(f"{name}: expected {_SHAPE} (got {kind_of(document)})")


def _update(item: object, where: str) -> Update:
    if not isinstance(item, dict):
        raise InvalidInput(f"{where}: expected an object {{contactId, data}} (got {kind_of(item)})")
    check_tree(item, where, depth=2)  # for JSON Lines and a single object: checked already
    for key in item:
        if key not in ("contactId", "data"):
            raise InvalidInput(
                f"{where}: unexpected key {quote(key)} (expected contactId and data)"
            )
    for key in ("contactId", "data"):
        if key not in item:
            raise InvalidInput(f"{where}: missing '{key}'")
    contact_id = _contact_id(item["contactId"], where)
    if not isinstance(item["data"], dict):
        got = kind_of(item["data"])
        raise InvalidInput(f"{where}: 'data' must be an object of fields (got {got})")
    try:
        return Update(contact_id, validate_data(item["data"]))
    except InvalidInput as error:
        raise error.at(where) from None


def _contact_id(value: object, where: str) -> str:
    uuid = normalize_uuid(value) if isinstance(value, str) else None
    if uuid is None:
        raise InvalidInput(f"{where}: {quote(value)} is not a contact ID (expected a UUID)")
    return uuid


def _dedupe(entries: Iterable[tuple[tuple[str, str], Update]], skipped: int = 0) -> UpdateList:
    """Keep one update per contact; ``entries`` pair (file, position) with each update."""
    first: dict[str, tuple[str, Update]] = {}
    duplicates = 0
    for (name, position), update in entries:
        earlier = first.setdefault(update.contact_id, (position, update))
        if earlier[1] is update:
            continue
        if earlier[1].data != update.data:
            problem = f"already appears at {earlier[0]} with different data"
            raise InvalidInput(f"{name} {position}: contact {update.contact_id} {problem}")
        duplicates += 1
    updates = (update for _, update in first.values())
    return UpdateList(updates, duplicates=duplicates, skipped_rows=skipped)


def _load_jsonl(lines: Iterable[str], name: str) -> Patch | list[Update]:
    entries: list[tuple[tuple[str, str], Update]] = []
    plain: list[tuple[str, dict[str, object]]] = []  # lines that are a bare data mapping
    for where, number, item in json_lines(lines, name):
        if isinstance(item, dict) and "contactId" not in item and "data" not in item:
            plain.append((where, item))
        else:
            entries.append(((name, f"line {number}"), _update(item, where)))
    if plain and (entries or len(plain) > 1):
        expected = '{"contactId": ..., "data": {...}}'
        problem = "a plain mapping of fields is only allowed as the file's single line"
        raise InvalidInput(f"{plain[-1][0]}: expected {expected} ({problem})")
    if plain:
        try:
            return Patch(validate_data(plain[0][1]))
        except InvalidInput as error:
            raise error.at(plain[0][0]) from None
    return _dedupe(entries)


def _load_yaml(text: str, name: str) -> Patch | list[Update]:
    from dexbulk.inputs.yamldoc import load_yaml  # only YAML patches pay for importing PyYAML

    document = load_yaml(text, name)
    try:
        return _from_document(document, name)
    except InvalidInput as error:
        if error.hint is None and any(f"(got {k}" in error.message for k in _YAML_SURPRISES):
            hint = "YAML reads yes/no/on/off as booleans and bare numbers as numbers: quote text"
            raise InvalidInput(error.message, hint=hint) from None
        raise


_YAML_SURPRISES = ("a boolean", "an integer", "a number")
