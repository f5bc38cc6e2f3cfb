"""Patch files → one :class:`Patch` or per-contact updates: JSON, YAML, JSON Lines, CSV, TSV.

A file holds either one data object for every selected contact, or one per contact: the API
body itself as JSON or YAML, JSON Lines of ``{"contactId", "data"}``, or CSV/TSV with an ID
column and one column per field. Everything is validated through :mod:`dexbulk.values`, and
errors name the file, line or item.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from dexbulk.errors import InvalidInput
from dexbulk.fields import FIELDS, Field, suggest
from dexbulk.inputs.ids import STDIN_NAME, file_error, id_column, json_lines
from dexbulk.plan import Patch, Update, UpdateList
from dexbulk.values import JSON, coerce, kind_of, normalize_uuid, quote, validate, validate_data
from dexbulk.where import READ_ONLY

EXPORTED_ONLY = frozenset({*READ_ONLY, "tags", "groups"})
"""Columns ``dexbulk ls`` can export that no update writes: ignored in a CSV patch."""
EXPORT_MARK = "updated_at"
"""The column every CSV export of ``dexbulk ls`` carries, by which apply recognises one."""

PATCH_FORMATS = ("auto", "json", "yaml", "jsonl", "csv", "tsv")
_EXTENSIONS = {".json": "json", ".yaml": "yaml", ".yml": "yaml", ".jsonl": "jsonl"}
_EXTENSIONS |= {".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv"}
_SHAPE = "a mapping of fields or a list of {contactId, data}"


def load_patch(source: str, *, stdin: TextIO, fmt: str = "auto") -> Patch | list[Update]:
    """Read a patch file (``-`` is stdin) into one :class:`Patch` or per-contact updates.

    ``fmt`` is auto, json, yaml, jsonl, csv or tsv; auto goes by the file extension, then by the
    content. Shapes: a mapping of fields → Patch; a list of ``{"contactId", "data"}`` (the API
    body) or JSON Lines of them → :class:`UpdateList`; JSON Lines holding one plain mapping →
    Patch; CSV/TSV with a contactId/contact_id/id column and one column per field →
    UpdateList. In CSV an empty cell leaves the field unchanged, the exact cell ``null``
    (lower case) clears it, cells of list/object fields are JSON, and a row with nothing to
    change is skipped and counted. A sheet with an ``updated_at`` column is an export of
    ``dexbulk ls``: an empty cell there is an empty field (null, a clear). Read-only columns
    (``id`` beside another ID column, ``created_at``, ``updated_at``, ``tags``, ``groups``) are
    ignored in any sheet. A contact repeated with identical data is kept once and
    counted; repeated with different data, it is an error naming both places.
    """
    if fmt not in PATCH_FORMATS:
        raise InvalidInput(
            f"unknown patch format '{fmt}' (expected one of: {', '.join(PATCH_FORMATS)})"
        )
    name = STDIN_NAME if source == "-" else source
    try:
        text = stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise file_error(name, error) from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise InvalidInput(f"{name}: empty, nothing to change")
    if fmt == "auto":
        fmt = _EXTENSIONS.get(Path(source).suffix.lower(), "") if source != "-" else ""
        fmt = fmt or _sniff(text)
    if fmt in ("csv", "tsv"):
        return _load_csv(text, name, "\t" if fmt == "tsv" else ",")
    if fmt == "jsonl":
        return _load_jsonl(text, name)
    if fmt == "yaml":
        return _load_yaml(text, name)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        at = f"line {error.lineno} column {error.colno}"
        raise InvalidInput(f"{name}: not valid JSON ({error.msg} at {at})") from None
    return _from_document(document, name)


def _sniff(text: str) -> str:
    start = text.lstrip()
    if start.startswith("["):
        return "json"
    if start.startswith("{"):
        try:
            json.loads(text)
        except json.JSONDecodeError:
            return "jsonl"  # several objects, one a line (or broken JSON: reported per line)
        return "json"
    first = start.split("\n", 1)[0]
    if ": " not in first and ("\t" in first or "," in first):  # "key: value" is YAML
        return "tsv" if "\t" in first else "csv"
    return "yaml"


def _from_document(document: object, name: str) -> Patch | list[Update]:
    """A parsed JSON/YAML document: a data mapping, or the API body (or one item of it)."""
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


def _load_jsonl(text: str, name: str) -> Patch | list[Update]:
    entries: list[tuple[tuple[str, str], Update]] = []
    plain: list[tuple[str, dict[str, object]]] = []  # lines that are a bare data mapping
    for where, number, item in json_lines(text.split("\n"), name):
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
    import yaml  # only YAML patches pay for importing it

    class Loader(yaml.SafeLoader):
        """safe_load, except that dates and timestamps stay the strings that were typed."""

    def timestamp_as_text(loader: Loader, node: yaml.Node) -> str:
        assert isinstance(node, yaml.ScalarNode)
        return loader.construct_scalar(node)

    # YAML would turn 2020-01-01 into a date (and 1990-13-01 into a crash); schema wants text.
    Loader.add_constructor("tag:yaml.org,2002:timestamp", timestamp_as_text)
    try:
        document = yaml.load(text, Loader=Loader)  # a SafeLoader: as safe as yaml.safe_load
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or str(error).split("\n", 1)[0]
        mark = getattr(error, "problem_mark", None)
        at = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise InvalidInput(f"{name}: not valid YAML ({problem}{at})") from None
    try:
        return _from_document(document, name)
    except InvalidInput as error:
        if error.hint is None and any(f"(got {k}" in error.message for k in _YAML_SURPRISES):
            hint = "YAML reads yes/no/on/off as booleans and bare numbers as numbers: quote text"
            raise InvalidInput(error.message, hint=hint) from None
        raise


_YAML_SURPRISES = ("a boolean", "an integer", "a number")


def _load_csv(text: str, name: str, delimiter: str) -> list[Update]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [cell.strip() for cell in next(reader)]
    except csv.Error as error:
        raise InvalidInput(f"{name} line 1: not valid CSV ({error})") from None
    id_index = id_column(header)
    if id_index is None:
        found = ", ".join(header)
        raise InvalidInput(f"{name}: no contactId, contact_id or id column (found: {found})")
    columns: list[tuple[int, Field]] = []
    unnamed: list[int] = []  # spreadsheets export trailing empty columns: fine while empty
    # `dexbulk ls` always exports an updated_at column: such a sheet holds each field's whole
    # value, so a blanked cell clears it. In any other sheet a blank cell leaves the field be.
    snapshot = EXPORT_MARK in header
    for index, title in enumerate(header):
        if index == id_index or title in EXPORTED_ONLY:
            continue  # read-only columns an export carries (created_at, tags, ...): ignored
        if not title:
            unnamed.append(index)
        elif title not in FIELDS:
            guess = suggest(title)
            maybe = f" (did you mean '{guess}'?)" if guess else ""
            raise InvalidInput(f"{name}: unknown column {quote(title)}{maybe}")
        elif any(field.name == title for _, field in columns):
            raise InvalidInput(f"{name}: column {quote(title)} appears twice")
        else:
            columns.append((index, FIELDS[title]))
    if not columns:
        raise InvalidInput(f"{name}: no field columns besides '{header[id_index]}'")
    entries: list[tuple[tuple[str, str], Update]] = []
    skipped, last = 0, reader.line_num
    try:
        for row in reader:
            number, last = last + 1, reader.line_num  # the line the record starts on
            cells = {i: cell for i, cell in enumerate(row) if cell.strip()}
            if not cells:
                continue  # a blank line
            where = f"{name} line {number}"
            if stray := [i + 1 for i in cells if i in unnamed or i >= len(header)]:
                raise InvalidInput(f"{where}: a value in column {stray[0]}, which has no name")
            if id_index not in cells:
                raise InvalidInput(f"{where}: no contact ID in column '{header[id_index]}'")
            contact_id = _contact_id(cells[id_index], where)
            data = {f.name: _cell(f, cells[i], where) for i, f in columns if i in cells}
            if snapshot:
                blanked = {f.name: None for i, f in columns if i < len(row) and i not in cells}
                data = {f.name: data.get(f.name) for _, f in columns if f.name in data | blanked}
            if not data:
                skipped += 1  # a sparse sheet: this contact has nothing to change
                continue
            entries.append(((name, f"line {number}"), Update(contact_id, data)))
    except csv.Error as error:
        raise InvalidInput(f"{name} line {last}: not valid CSV ({error})") from None
    return _dedupe(entries, skipped)


def _cell(field: Field, cell: str, where: str) -> JSON:
    """One non-empty CSV cell: ``null`` clears, list/object fields hold JSON, others text."""
    try:
        if cell.strip() == "null":  # exact and lower case: "Null" or "NULL" stay text
            return None
        if not field.takes_json:
            return coerce(field.name, cell)
        try:
            value = json.loads(cell)
        except json.JSONDecodeError as error:
            raise InvalidInput(
                f"field '{field.name}': {quote(cell)} is not valid JSON ({error.msg})"
            ) from None
        return validate(field.name, value)
    except InvalidInput as error:
        raise error.at(where) from None
