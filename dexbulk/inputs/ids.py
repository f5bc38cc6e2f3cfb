"""Reading contact IDs: ``--ids`` values, files and stdin.

A source is plain lines (one ID a line, ``#`` comments), CSV/TSV with a ``contactId``,
``contact_id``, ``Contact ID`` or ``id`` column (any case and spacing; comma, semicolon or tab
separated), a JSON array, or JSON Lines; an array or line holds ID strings or objects carrying
one of those keys. Line-based formats are streamed a bounded line at a time, so 200,000 IDs cost
one pass and no copy of the file, and a line without an end costs at most the line limit.
:func:`select_ids` reads every source completely and validates every ID before it returns, so
nothing is sent when any input is bad.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain
from typing import TextIO

from dexbulk.errors import InvalidInput
from dexbulk.inputs.reading import Records, TextSource, lines, not_text, open_text, read_whole
from dexbulk.limits import MAX_DOCUMENT_BYTES, check_tree, load_json
from dexbulk.plan import Selection
from dexbulk.values import kind_of, normalize_uuid, quote

FORMATS = ("auto", "lines", "csv", "tsv", "jsonl", "json")
ID_KEYS = ("contactId", "id")
"""Names of the column or key that holds a contact ID, in order of preference, as
:func:`header_key` sees them: ``contactId``, ``contact_id``, ``Contact ID``, ``ID`` all match."""
STDIN_NAME = "<stdin>"
_ID_NAMES = "contactId, contact_id, Contact ID or id"
DELIMITERS = ("\t", ",", ";")
"""What separates the cells of a CSV file, in order of preference when counts tie."""


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


def header_key(name: str) -> str:
    """A column name or key as matched: without BOM, case, spaces, ``_`` or ``-``."""
    return re.sub(r"[\s_-]+", "", name.lstrip("\ufeff")).lower()


def id_column(header: Sequence[str], wanted: str | None = None) -> int | None:
    """Index of the ID column in a CSV header: ``wanted`` (``--id-column``) or a known name.

    Names match whatever their case and spacing, so ``Contact ID``, ``contact_id`` and
    ``contactId`` are one name; ``contactId`` is preferred over ``id`` when both are there.
    """
    names = [header_key(cell) for cell in header]
    for key in [wanted] if wanted is not None else ID_KEYS:
        if header_key(key) in names:
            return names.index(header_key(key))
    return None


def no_id_column(name: str, header: Sequence[str], wanted: str | None) -> InvalidInput:
    """The error for a CSV header without the ID column, listing what it has."""
    found = ", ".join(quote(cell.strip()) for cell in header)
    if wanted is not None:
        return InvalidInput(f"{name}: no column {quote(wanted)} (found: {found})")
    return InvalidInput(
        f"{name}: no {_ID_NAMES} column (found: {found})",
        hint="name the column that holds the IDs with --id-column NAME",
    )


def id_from_item(item: object, where: str, wanted: str | None = None) -> str:
    """The ID in one JSON item: an ID string, or an object with an ID key (see :data:`ID_KEYS`)."""
    if isinstance(item, dict):
        keys: dict[str, object] = {}
        for k in item:
            keys.setdefault(header_key(str(k)), k)  # the first of two spellings wins
        names = [wanted] if wanted is not None else ID_KEYS
        key = next((keys[header_key(n)] for n in names if header_key(n) in keys), None)
        if key is None:
            found = ", ".join(map(str, item)) or "no keys"
            named = quote(wanted) if wanted is not None else f"{_ID_NAMES}"
            raise InvalidInput(f"{where}: no {named} key (found: {found})")
        return _checked(item[key], where)
    if isinstance(item, str):
        return _checked(item, where)
    raise InvalidInput(
        f"{where}: expected a contact ID or an object with a contactId key (got {kind_of(item)})"
    )


def read_ids(
    stream: TextSource, name: str, fmt: str = "auto", id_key: str | None = None
) -> Iterator[str]:
    """Yield the lower-case IDs in ``stream``, validating each; ``name`` labels errors.

    ``fmt`` is one of auto, lines, csv, tsv, jsonl, json. ``auto`` looks at the first line that
    is neither blank nor a ``#`` comment: ``[`` starts a JSON array, ``{`` JSON Lines; a line with
    a comma, semicolon or tab that does not start with an ID is a CSV/TSV header (the most
    frequent of the three separates the cells); anything else is plain lines. ``id_key`` names
    the column or key holding the IDs (``--id-column``); by default a known name is looked for.
    Errors name the source and the line (``ids.txt line 17: ...``) or item. A leading byte-order
    mark and CRLF line ends are accepted everywhere; a line over the line limit is an error.
    """
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown ID format '{fmt}' (expected one of: {', '.join(FORMATS)})")
    return _read(stream, name, fmt, id_key)


def _read(stream: TextSource, name: str, fmt: str, id_key: str | None) -> Iterator[str]:
    first, number = None, 0  # the first significant line and its 1-based number
    for number, line in enumerate(lines(stream, name), 1):
        if number == 1:
            line = line.removeprefix("\ufeff")  # noqa: PLW2901  (a BOM is not content)
        if "\0" in line:
            raise not_text(name)
        if line.strip() and not line.lstrip().startswith("#"):
            first = line
            break
    if first is None:
        return
    if fmt == "auto":
        fmt = _sniff(first)
    if fmt == "json":
        yield from _json_array(first, stream, name, number, id_key)
        return
    rest = chain([first], lines(stream, name, number + 1))
    if fmt == "jsonl":
        yield from _json_lines(rest, name, number, id_key)
    elif fmt in ("csv", "tsv"):
        delimiter = "\t" if fmt == "tsv" else sniff_delimiter(first)
        yield from _csv(rest, name, number, delimiter, id_key)
    else:
        yield from _plain_lines(rest, name, number, id_key)


def sniff_delimiter(header: str) -> str | None:
    """The cell separator of a CSV header line: the most frequent of tab, comma, semicolon."""
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])  # max keeps the first of a tie
    return best if counts[best] else None


def _sniff(first: str) -> str:
    text = first.strip()
    if text.startswith("["):
        return "json"
    if text.startswith("{") or (text.startswith('"') and _one_json_string(text)):
        return "jsonl"
    delimiter = sniff_delimiter(text)
    # "uuid,uuid" is a mistyped ID list, not a header: let plain lines report it as it is.
    if delimiter and normalize_uuid(text.split(delimiter)[0]) is None:
        return "tsv" if delimiter == "\t" else "csv"
    return "lines"


_ID_HEADERS = frozenset(re.sub(r"[\s_-]+", "", k).lower() for k in ID_KEYS)


def _one_json_string(text: str) -> bool:
    """Whether a line is one JSON string (``"3c90…"``, JSON Lines of IDs), not a CSV header
    whose cells are quoted (``"First Name","Contact ID"``, as many exports write them)."""
    try:
        value = json.loads(text)
    except ValueError:
        return False
    # A lone quoted header ("Contact ID", "id") is a one-column CSV, not JSON Lines of IDs.
    return isinstance(value, str) and header_key(value) not in _ID_HEADERS


def _plain_lines(lines: Iterable[str], name: str, start: int, id_key: str | None) -> Iterator[str]:
    headers = {header_key(k) for k in ([id_key] if id_key is not None else ID_KEYS)}
    for number, line in enumerate(lines, start):
        text = line.split("#", 1)[0].strip()  # '#' never occurs in a UUID: the rest is a comment
        if not text:
            continue
        if number == start and header_key(text.strip('"')) in headers:
            continue  # a one-column CSV whose header has no comma to give it away
        yield _checked(text, f"{name} line {number}")


def _csv(
    lines: Iterable[str], name: str, start: int, delimiter: str | None, id_key: str | None
) -> Iterator[str]:
    records = Records(lines, name)
    reader = csv.reader(records, delimiter=delimiter or ",")
    try:
        header = next(reader, [])
        column = id_column(header, id_key)
        if column is None:
            raise no_id_column(name, header, id_key)
        records.next_record()
        for row in reader:
            where = f"{name} line {start + records.number - 1}"
            records.next_record()
            if len(row) > column and row[column].strip():  # rows without an ID are padding
                yield _checked(row[column], where)
    except csv.Error as error:
        at = start + records.number - 1
        raise InvalidInput(f"{name} line {at}: not valid CSV ({error})") from None


def json_lines(
    lines: Iterable[str], name: str, start: int = 1
) -> Iterator[tuple[str, int, object]]:
    """Parse JSON Lines: yield ``(where, line number, value)``, skipping blank lines.

    Shared by ID files and patch files, so both report a bad line the same way. Every value
    is checked for depth and repeated keys (:func:`~dexbulk.limits.check_tree`).
    """
    for number, line in enumerate(lines, start):
        if not line.strip():
            continue
        where = f"{name} line {number}"
        try:
            item = load_json(line)
        except json.JSONDecodeError as error:
            problem = f"not valid JSON ({error.msg} at column {error.colno})"
            raise InvalidInput(f"{where}: {problem}") from None
        except InvalidInput as error:
            raise error.at(where) from None
        check_tree(item, where)
        yield where, number, item


def _json_lines(lines: Iterable[str], name: str, start: int, id_key: str | None) -> Iterator[str]:
    for where, _, item in json_lines(lines, name, start):
        yield id_from_item(item, where, id_key)


def _json_array(
    first: str, stream: TextSource, name: str, start: int, id_key: str | None
) -> Iterator[str]:
    text = first + read_whole(stream, name, MAX_DOCUMENT_BYTES, "JSON", len(first))
    try:
        data = load_json(text)
    except json.JSONDecodeError as error:
        at = f"line {error.lineno + start - 1} column {error.colno}"
        raise InvalidInput(f"{name}: not valid JSON ({error.msg} at {at})") from None
    except InvalidInput as error:
        raise error.at(name) from None
    if not isinstance(data, list):
        raise InvalidInput(f"{name}: expected a JSON array of contact IDs (got {kind_of(data)})")
    for index, item in enumerate(data, 1):
        where = f"{name} item {index}"
        check_tree(item, where, depth=2)
        yield id_from_item(item, where, id_key)


def file_error(path: str, error: Exception) -> InvalidInput:
    """Turn an error met while opening or decoding ``path`` into a message naming the path."""
    if isinstance(error, FileNotFoundError):
        return InvalidInput(f"{path}: no such file")
    if isinstance(error, IsADirectoryError):
        return InvalidInput(f"{path}: is a directory, not a file")
    if isinstance(error, UnicodeDecodeError):
        return InvalidInput(f"{path}: not UTF-8 text")
    return InvalidInput(f"{path}: cannot read ({getattr(error, 'strerror', None) or error})")


def _read_path(path: str, fmt: str, id_key: str | None) -> Iterator[str]:
    try:
        # newline="" hands CRLF to the csv module untouched; utf-8-sig drops a BOM.
        with open_text(path) as stream:
            yield from read_ids(stream, path, fmt, id_key)
    except (OSError, UnicodeDecodeError) as error:
        raise file_error(path, error) from None


def _read_stdin(stdin: TextIO, fmt: str, id_key: str | None) -> Iterator[str]:
    try:
        yield from read_ids(stdin, STDIN_NAME, fmt, id_key)
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
    id_column: str | None = None,
) -> Selection:
    """Read and validate every ID source, then return the combined, de-duplicated selection.

    Sources are ``--ids`` values, the ``--from`` paths (``-`` is stdin, read once) and, when
    neither is given and stdin is not a terminal, stdin itself. A source that yields no ID is an
    error unless ``allow_empty`` (an empty input usually means an earlier step failed).
    ``id_column`` names the column or key of ID files that holds the IDs (``--id-column``).
    """
    sources: list[tuple[str, Iterable[str]]] = []
    if ids_options:
        sources.append(("--ids", parse_ids_option(ids_options)))
    for path in dict.fromkeys(from_paths):  # a path given twice is read once
        if path == "-":
            sources.append((STDIN_NAME, _read_stdin(stdin, fmt, id_column)))
        else:
            sources.append((path, _read_path(path, fmt, id_column)))
    if not ids_options and not from_paths and not stdin_is_tty:
        sources.append((STDIN_NAME, _read_stdin(stdin, fmt, id_column)))
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
