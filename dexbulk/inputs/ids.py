"""Reading contact IDs: ``--ids`` values, files and stdin.

A source is plain lines (one ID a line, ``#`` comments), CSV/TSV with a ``contactId``,
``contact_id`` or ``id`` column, a JSON array, or JSON Lines; an array or line holds ID strings
or objects carrying one of those keys. Line-based formats are streamed, so 200,000 IDs cost one
pass and no copy of the file. :func:`select_ids` reads every source completely and validates
every ID before it returns, so nothing is sent when any input is bad.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain
from typing import TextIO

from dexbulk.errors import InvalidInput
from dexbulk.plan import Selection
from dexbulk.values import kind_of, normalize_uuid, quote

FORMATS = ("auto", "lines", "csv", "tsv", "jsonl", "json")
ID_KEYS = ("contactId", "contact_id", "id")
"""Keys and column names that hold a contact ID, in order of preference."""
STDIN_NAME = "<stdin>"
_ID_NAMES = ", ".join(ID_KEYS[:-1]) + " or " + ID_KEYS[-1]


def _checked(token: object, where: str) -> str:
    uuid = normalize_uuid(token) if isinstance(token, str) else None
    if uuid is None:
        raise InvalidInput(f"{where}: {quote(token)} is not a contact ID (expected a UUID)")
    return uuid


def parse_ids_option(values: Sequence[str]) -> list[str]:
    """Split the values of repeatable ``--ids`` on commas and whitespace; validate each ID.

    Returns lower-case IDs in the order given, duplicates included.
    """
    return [
        _checked(token, "--ids")
        for value in values
        for token in re.split(r"[,\s]+", value)
        if token
    ]


def id_column(header: Sequence[str]) -> int | None:
    """Index of the ID column in a CSV header (case-insensitive, preferring ``contactId``)."""
    names = [cell.strip().lstrip("\ufeff").lower() for cell in header]
    for key in ID_KEYS:
        if key.lower() in names:
            return names.index(key.lower())
    return None


def id_from_item(item: object, where: str) -> str:
    """The ID in one JSON item: an ID string, or an object with a contactId/contact_id/id key."""
    if isinstance(item, dict):
        key = next((k for k in ID_KEYS if k in item), None)
        if key is None:
            found = ", ".join(map(str, item)) or "no keys"
            raise InvalidInput(f"{where}: no {_ID_NAMES} key (found: {found})")
        return _checked(item[key], where)
    if isinstance(item, str):
        return _checked(item, where)
    raise InvalidInput(
        f"{where}: expected a contact ID or an object with a contactId key (got {kind_of(item)})"
    )


def read_ids(stream: TextIO, name: str, fmt: str = "auto") -> Iterator[str]:
    """Yield the lower-case IDs in ``stream``, validating each; ``name`` labels errors.

    ``fmt`` is one of auto, lines, csv, tsv, jsonl, json. ``auto`` looks at the first line that
    is neither blank nor a ``#`` comment: ``[`` starts a JSON array, ``{`` JSON Lines; a line with
    a comma or a tab that does not start with an ID is a CSV/TSV header; anything else is plain
    lines. Errors name the source and the line (``ids.txt line 17: ...``) or item. A leading
    byte-order mark and CRLF line ends are accepted everywhere.
    """
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown ID format '{fmt}' (expected one of: {', '.join(FORMATS)})")
    return _read(stream, name, fmt)


def _read(stream: Iterable[str], name: str, fmt: str) -> Iterator[str]:
    lines = iter(stream)
    first, number = None, 0  # the first significant line and its 1-based number
    for number, line in enumerate(lines, 1):
        if number == 1:
            line = line.removeprefix("\ufeff")  # noqa: PLW2901  (a BOM is not content)
        if line.strip() and not line.lstrip().startswith("#"):
            first = line
            break
    if first is None:
        return
    if fmt == "auto":
        fmt = _sniff(first)
    rest = chain([first], lines)
    if fmt == "json":
        yield from _json_array(rest, name, number)
    elif fmt == "jsonl":
        yield from _json_lines(rest, name, number)
    elif fmt in ("csv", "tsv"):
        yield from _csv(rest, name, number, "\t" if fmt == "tsv" else ",")
    else:
        yield from _plain_lines(rest, name, number)


def _sniff(first: str) -> str:
    text = first.strip()
    if text.startswith("["):
        return "json"
    if text.startswith(("{", '"')):
        return "jsonl"
    delimiter = "\t" if "\t" in text else "," if "," in text else None
    # "uuid,uuid" is a mistyped ID list, not a header: let plain lines report it as it is.
    if delimiter and normalize_uuid(text.split(delimiter)[0]) is None:
        return "tsv" if delimiter == "\t" else "csv"
    return "lines"


def _plain_lines(lines: Iterable[str], name: str, start: int) -> Iterator[str]:
    for number, line in enumerate(lines, start):
        text = line.split("#", 1)[0].strip()  # '#' never occurs in a UUID: the rest is a comment
        if not text:
            continue
        if number == start and text.lower() in (key.lower() for key in ID_KEYS):
            continue  # a one-column CSV whose header has no comma to give it away
        yield _checked(text, f"{name} line {number}")


def _csv(lines: Iterable[str], name: str, start: int, delimiter: str) -> Iterator[str]:
    reader = csv.reader(lines, delimiter=delimiter)
    last = 0  # reader.line_num after the previous record: a record starts on the next line
    try:
        header = next(reader, [])
        column = id_column(header)
        if column is None:
            found = ", ".join(cell.strip() for cell in header)
            raise InvalidInput(f"{name}: no {_ID_NAMES} column (found: {found})")
        last = reader.line_num
        for row in reader:
            number, last = start + last, reader.line_num
            if len(row) > column and row[column].strip():  # rows without an ID are padding
                yield _checked(row[column], f"{name} line {number}")
    except csv.Error as error:
        raise InvalidInput(f"{name} line {start + last}: not valid CSV ({error})") from None


def json_lines(
    lines: Iterable[str], name: str, start: int = 1
) -> Iterator[tuple[str, int, object]]:
    """Parse JSON Lines: yield ``(where, line number, value)``, skipping blank lines.

    Shared by ID files and patch files, so both report a bad line the same way.
    """
    for number, line in enumerate(lines, start):
        if not line.strip():
            continue
        where = f"{name} line {number}"
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            problem = f"not valid JSON ({error.msg} at column {error.colno})"
            raise InvalidInput(f"{where}: {problem}") from None
        yield where, number, item


def _json_lines(lines: Iterable[str], name: str, start: int) -> Iterator[str]:
    for where, _, item in json_lines(lines, name, start):
        yield id_from_item(item, where)


def _json_array(lines: Iterable[str], name: str, start: int) -> Iterator[str]:
    try:
        data = json.loads("".join(lines))
    except json.JSONDecodeError as error:
        at = f"line {error.lineno + start - 1} column {error.colno}"
        raise InvalidInput(f"{name}: not valid JSON ({error.msg} at {at})") from None
    if not isinstance(data, list):
        raise InvalidInput(f"{name}: expected a JSON array of contact IDs (got {kind_of(data)})")
    for index, item in enumerate(data, 1):
        yield id_from_item(item, f"{name} item {index}")


def file_error(path: str, error: Exception) -> InvalidInput:
    """Turn an error met while opening or decoding ``path`` into a message naming the path."""
    if isinstance(error, FileNotFoundError):
        return InvalidInput(f"{path}: no such file")
    if isinstance(error, IsADirectoryError):
        return InvalidInput(f"{path}: is a directory, not a file")
    if isinstance(error, UnicodeDecodeError):
        return InvalidInput(f"{path}: not UTF-8 text")
    return InvalidInput(f"{path}: cannot read ({getattr(error, 'strerror', None) or error})")


def _read_path(path: str, fmt: str) -> Iterator[str]:
    try:
        # newline="" hands CRLF to the csv module untouched; utf-8-sig drops a BOM.
        with open(path, encoding="utf-8-sig", newline="") as stream:
            yield from read_ids(stream, path, fmt)
    except (OSError, UnicodeDecodeError) as error:
        raise file_error(path, error) from None


def _read_stdin(stdin: TextIO, fmt: str) -> Iterator[str]:
    try:
        yield from read_ids(stdin, STDIN_NAME, fmt)
    except UnicodeDecodeError as error:
        raise file_error(STDIN_NAME, error) from None


def select_ids(
    *,
    ids_options: Sequence[str],
    from_paths: Sequence[str],
    stdin: TextIO,
    stdin_is_tty: bool,
    fmt: str = "auto",
    allow_empty: bool = False,
) -> Selection:
    """Read and validate every ID source, then return the combined, de-duplicated selection.

    Sources are ``--ids`` values, the ``--from`` paths (``-`` is stdin, read once) and, when
    neither is given and stdin is not a terminal, stdin itself. A source that yields no ID is an
    error unless ``allow_empty`` (an empty input usually means an earlier step failed).
    """
    sources: list[tuple[str, Iterable[str]]] = []
    if ids_options:
        sources.append(("--ids", parse_ids_option(ids_options)))
    for path in dict.fromkeys(from_paths):  # a path given twice is read once
        if path == "-":
            sources.append((STDIN_NAME, _read_stdin(stdin, fmt)))
        else:
            sources.append((path, _read_path(path, fmt)))
    if not ids_options and not from_paths and not stdin_is_tty:
        sources.append((STDIN_NAME, _read_stdin(stdin, fmt)))
    if not sources:
        raise InvalidInput("no contacts selected: pass --ids, --from FILE, or pipe IDs on stdin")

    unique: dict[str, None] = {}  # a dict keeps first-seen order
    total, empty = 0, []
    for source, ids in sources:
        count = 0
        for uuid in ids:
            unique[uuid] = None
            count += 1
        total += count
        if count == 0:
            empty.append(source)
    if empty and not allow_empty:
        raise InvalidInput(f"no contact IDs found in {', '.join(empty)}")
    return Selection(tuple(unique), total - len(unique), tuple(source for source, _ in sources))
