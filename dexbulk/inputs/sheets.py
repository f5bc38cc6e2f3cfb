"""Patch files from spreadsheets: CSV or TSV with an ID column and one column per field.

Headers are matched whatever their case and spacing (``Contact ID``, ``Job Title``), cells are
separated by commas, semicolons (what Excel writes in much of Europe) or tabs, and
:class:`Columns` says which columns to apply (``--columns``) or leave out
(``--ignore-columns``). A column that is not a field is still an error unless it is left out:
guessing which field it meant could overwrite the wrong data.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dexbulk.errors import InvalidInput
from dexbulk.fields import FIELDS, Field, suggest
from dexbulk.inputs.ids import header_key, id_column, no_id_column, sniff_delimiter
from dexbulk.inputs.reading import Records
from dexbulk.limits import check_tree, load_json
from dexbulk.plan import Update
from dexbulk.values import JSON, coerce, normalize_uuid, quote, validate
from dexbulk.where import READ_ONLY

EXPORTED_ONLY = frozenset({*READ_ONLY, "tags", "groups"})
"""Columns ``dexbulk ls`` can export that no update writes: ignored in a CSV patch."""
EXPORT_MARK = "updated_at"
"""The column every CSV export of ``dexbulk ls`` carries, by which apply recognises one."""


@dataclass(frozen=True)
class Columns:
    """Which columns of a spreadsheet patch to read: ``--id-column``, ``--columns``,
    ``--ignore-columns`` (names as in the header, any case and spacing)."""

    id_column: str | None = None
    only: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()

    @classmethod
    def parse(cls, id_column: str | None, only: Sequence[str], ignore: Sequence[str]) -> Columns:
        """From the option values; each may be comma-separated and repeated."""
        picked, left_out = _names(only), _names(ignore)
        if picked and left_out:
            raise InvalidInput("pass either --columns or --ignore-columns, not both")
        return cls(id_column, picked, left_out)

    @property
    def chosen(self) -> bool:
        """True when ``--columns`` or ``--ignore-columns`` was given."""
        return bool(self.only or self.ignore)


def _names(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(name.strip() for value in values for name in value.split(",") if name.strip())


def field_for(title: str) -> Field | None:
    """The field a column header names: ``company``, ``Company``, ``Job Title`` → job_title."""
    return FIELDS.get(re.sub(r"[\s-]+", "_", title.strip().lstrip("\ufeff")).lower())


def _pick(header: list[str], id_index: int, chosen: Columns, name: str) -> dict[int, str]:
    """The columns to read besides the ID one, by index, after --columns / --ignore-columns."""
    keys = [header_key(title) for title in header]
    for option, names in (("--columns", chosen.only), ("--ignore-columns", chosen.ignore)):
        for wanted in names:
            if header_key(wanted) not in keys:
                found = ", ".join(quote(title) for title in header)
                problem = f"{name} has no column {quote(wanted)} (found: {found})"
                raise InvalidInput(f"{option}: {problem}")
    only = {header_key(n) for n in chosen.only}
    ignore = {header_key(n) for n in chosen.ignore}
    exported = {header_key(n) for n in EXPORTED_ONLY}
    return {
        index: title
        for index, title in enumerate(header)
        if index != id_index
        and (not only or keys[index] in only)
        and keys[index] not in ignore
        and keys[index] not in exported  # read-only columns an export carries: ignored
    }


def _field_columns(
    header: list[str], id_index: int, chosen: Columns, name: str
) -> tuple[list[tuple[int, Field]], set[int]]:
    """The (index, field) of each column to apply, and the unnamed columns (must stay empty)."""
    columns: list[tuple[int, Field]] = []
    unnamed: set[int] = set()  # spreadsheets export trailing empty columns: fine while empty
    for index, title in _pick(header, id_index, chosen, name).items():
        field = field_for(title)
        if not title:
            unnamed.add(index)
        elif field is None:
            guess = suggest(title)
            maybe = f" (did you mean '{guess}'?)" if guess else ""
            raise InvalidInput(
                f"{name}: unknown column {quote(title)}{maybe}",
                hint=f"leave it out with --ignore-columns {quote(title)}, "
                "or name the columns to apply with --columns",
            )
        elif any(f.name == field.name for _, f in columns):
            raise InvalidInput(f"{name}: column {quote(title)} appears twice")
        else:
            columns.append((index, field))
    if not columns:
        raise InvalidInput(f"{name}: no field columns besides {quote(header[id_index])}")
    return columns, unnamed


def load_csv(
    lines: Iterable[str], name: str, tab: bool, chosen: Columns
) -> tuple[list[tuple[tuple[str, str], Update]], int]:
    """Read a CSV/TSV patch: ((name, "line N"), update) per row, and the rows skipped as empty.

    ``lines`` are bounded lines (:func:`~dexbulk.inputs.reading.lines`); the cell separator is
    a tab when ``tab``, else sniffed from the header (comma, semicolon or tab).
    """
    records = Records(lines, name)
    first = next(records, "")
    records.next_record()
    delimiter = "\t" if tab else sniff_delimiter(first) or ","
    try:
        header = [cell.strip() for cell in next(csv.reader([first], delimiter=delimiter))]
    except csv.Error as error:
        raise InvalidInput(f"{name} line 1: not valid CSV ({error})") from None
    id_index = id_column(header, chosen.id_column)
    if id_index is None:
        raise no_id_column(name, header, chosen.id_column)
    columns, unnamed = _field_columns(header, id_index, chosen, name)
    # `dexbulk ls` always exports an updated_at column: such a sheet holds each field's whole
    # value, so a blanked cell clears it. In any other sheet a blank cell leaves the field be.
    snapshot = header_key(EXPORT_MARK) in {header_key(title) for title in header}
    read = {id_index, *unnamed, *(i for i, _ in columns)}
    entries: list[tuple[tuple[str, str], Update]] = []
    skipped = 0
    reader = csv.reader(records, delimiter=delimiter)
    try:
        for row in reader:
            number = records.number
            records.next_record()
            cells = {
                i: cell
                for i, cell in enumerate(row)
                if cell.strip() and (i in read or i >= len(header))
            }
            if not cells:
                continue  # a blank line, or only columns left out
            where = f"{name} line {number}"
            if stray := [i + 1 for i in cells if i in unnamed or i >= len(header)]:
                raise InvalidInput(f"{where}: a value in column {stray[0]}, which has no name")
            if id_index not in cells:
                raise InvalidInput(f"{where}: no contact ID in column {quote(header[id_index])}")
            contact_id = _contact_id(cells[id_index], where)
            data = {f.name: _cell(f, cells[i], where) for i, f in columns if i in cells}
            blanked: set[str] = set()
            if snapshot:
                blanked = {f.name for i, f in columns if i < len(row) and i not in cells}
                data = {
                    f.name: data.get(f.name)
                    for _, f in columns
                    if f.name in data or f.name in blanked
                }
            if not data:
                skipped += 1  # a sparse sheet: this contact has nothing to change
                continue
            blank = frozenset(blanked) if snapshot else frozenset()
            entries.append(((name, f"line {number}"), Update(contact_id, data, blank)))
    except csv.Error as error:
        raise InvalidInput(f"{name} line {records.number}: not valid CSV ({error})") from None
    return entries, skipped


def _contact_id(value: str, where: str) -> str:
    uuid = normalize_uuid(value)
    if uuid is None:
        raise InvalidInput(f"{where}: {quote(value)} is not a contact ID (expected a UUID)")
    return uuid


def _cell(field: Field, cell: str, where: str) -> JSON:
    """One non-empty CSV cell: ``null`` clears, list/object fields hold JSON, others text."""
    try:
        if cell.strip() == "null":  # exact and lower case: "Null" or "NULL" stay text
            return None
        if not field.takes_json:
            return coerce(field.name, cell)
        try:
            value = load_json(cell)
        except json.JSONDecodeError as error:
            raise InvalidInput(
                f"field '{field.name}': {quote(cell)} is not valid JSON ({error.msg})"
            ) from None
        check_tree(value, f"field '{field.name}'")
        return validate(field.name, value)
    except InvalidInput as error:
        raise error.at(where) from None
