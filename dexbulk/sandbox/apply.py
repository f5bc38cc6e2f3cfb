"""Applying one ``PUT /v1/contacts/`` batch to the SQLite store, inside the caller's transaction.

The semantics (dex-api.md): only the fields present change; ``null`` clears; list fields replace
the stored list [assumed]; ``tags_contacts`` and ``related_contacts`` ``append``/``remove``/
``replace`` work on link tables, where appending an existing link does nothing [dex].
Any error raises :class:`ApiFailure` and the caller rolls the whole batch back.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from dexbulk.sandbox.envelope import ApiFailure, Contact

SQL_CHUNK = 500
"""IDs per ``IN (...)``: stays under SQLite's bound-parameter limit on every version."""


def load_contacts(db: sqlite3.Connection, ids: Sequence[str]) -> dict[str, Contact]:
    """The stored JSON of each existing contact among ``ids``."""
    found: dict[str, Contact] = {}
    for start in range(0, len(ids), SQL_CHUNK):
        chunk = ids[start : start + SQL_CHUNK]
        marks = ",".join("?" * len(chunk))
        for contact_id, data in db.execute(
            f"SELECT id, data FROM contacts WHERE id IN ({marks})", chunk
        ):
            found[contact_id] = json.loads(data)
    return found


def existing(db: sqlite3.Connection, table: str, ids: Iterable[str]) -> set[str]:
    """Which of ``ids`` exist in ``table`` (``tags``, ``dex_groups`` or ``contacts``)."""
    wanted = sorted(set(ids))
    found: set[str] = set()
    for start in range(0, len(wanted), SQL_CHUNK):
        chunk = wanted[start : start + SQL_CHUNK]
        marks = ",".join("?" * len(chunk))
        found.update(
            r[0] for r in db.execute(f"SELECT id FROM {table} WHERE id IN ({marks})", chunk)
        )
    return found


def apply_batch(
    db: sqlite3.Connection,
    items: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    reject_unknown: bool,
    now: str,
) -> int:
    """Apply validated ``(contact_id, data)`` items; return how many distinct contacts changed.

    Contacts not in the store are skipped (not counted), or with ``reject_unknown`` the batch
    fails with 404 naming the first one.
    """
    ids = list(dict.fromkeys(contact_id for contact_id, _ in items))
    contacts = load_contacts(db, ids)
    missing = [contact_id for contact_id in ids if contact_id not in contacts]
    if missing and reject_unknown:
        raise ApiFailure(404, f"contact {missing[0]} not found")
    touched: set[str] = set()
    for index, (contact_id, data) in enumerate(items):
        contact = contacts.get(contact_id)
        if contact is None:
            continue
        for key, value in data.items():
            where = f"item {index}: field '{key}'"
            if key == "tags_contacts":
                _link_ops(
                    db,
                    where,
                    table="contact_tags",
                    key="tag_id",
                    target_table="tags",
                    owner=contact_id,
                    ops=value,
                )
            elif key == "related_contacts":
                _link_ops(
                    db,
                    where,
                    table="related_contacts",
                    key="destination",
                    target_table="contacts",
                    owner=contact_id,
                    ops=value,
                )
            elif key == "groups_contacts":
                _replace_groups(db, where, contact_id, value)
            elif key == "coordinates" and isinstance(value, Mapping):
                # Only {"operation": "set", "data": {...}} is documented; store the point.
                contact[key] = value.get("data")
            else:
                contact[key] = value
        contact["updated_at"] = now
        touched.add(contact_id)
    db.executemany(
        "UPDATE contacts SET data = ? WHERE id = ?",
        [(json.dumps(contacts[cid], ensure_ascii=False), cid) for cid in touched],
    )
    return len(touched)


_LINK_SQL = {
    # table: (owner column, target column)
    "contact_tags": ("contact_id", "tag_id"),
    "related_contacts": ("source", "destination"),
}


def _link_ops(
    db: sqlite3.Connection,
    where: str,
    *,
    table: str,
    key: str,
    target_table: str,
    owner: str,
    ops: object,
) -> None:
    owner_col, target_col = _LINK_SQL[table]
    if ops is None:
        # null clears the field: the contact loses every link of this kind [assumed].
        db.execute(f"DELETE FROM {table} WHERE {owner_col} = ?", (owner,))
        return
    if not isinstance(ops, Mapping):
        raise ApiFailure(400, f"{where}: expected an object with append/remove/replace")
    unknown = set(ops) - {"append", "remove", "replace"}
    if unknown:
        raise ApiFailure(400, f"{where}: unknown operation '{sorted(unknown)[0]}'")
    # Order: replace, then remove, then append [assumed; Dex documents no order].
    if ops.get("replace") is not None:
        targets = _targets(where, "replace", ops["replace"], key)
        _require(db, where, target_table, targets)
        db.execute(f"DELETE FROM {table} WHERE {owner_col} = ?", (owner,))
        _insert_links(db, table, owner, targets)
    if ops.get("remove") is not None:
        for target in _targets(where, "remove", ops["remove"], key):
            db.execute(
                f"DELETE FROM {table} WHERE {owner_col} = ? AND {target_col} = ?", (owner, target)
            )
    if ops.get("append") is not None:
        targets = _targets(where, "append", ops["append"], key)
        _require(db, where, target_table, targets)
        _insert_links(db, table, owner, targets)


def _insert_links(db: sqlite3.Connection, table: str, owner: str, targets: list[str]) -> None:
    # OR IGNORE: appending a link that exists is a no-op [dex].
    db.executemany(f"INSERT OR IGNORE INTO {table} VALUES (?, ?)", [(owner, t) for t in targets])


def _replace_groups(db: sqlite3.Connection, where: str, contact_id: str, value: object) -> None:
    targets = [] if value is None else _targets(where, "list", value, "group_id")
    _require(db, where, "dex_groups", targets)
    db.execute("DELETE FROM group_members WHERE contact_id = ?", (contact_id,))
    db.executemany(
        "INSERT OR IGNORE INTO group_members VALUES (?, ?)", [(g, contact_id) for g in targets]
    )


def _targets(where: str, op: str, entries: object, key: str) -> list[str]:
    """IDs from ``[{key: id}, ...]``; bare ID strings are accepted too (``replace`` is
    undocumented, so both shapes are plausible)."""
    if not isinstance(entries, list):
        raise ApiFailure(400, f"{where}: '{op}' must be an array")
    ids: list[str] = []
    for position, entry in enumerate(entries):
        value = entry.get(key) if isinstance(entry, Mapping) else entry
        if not isinstance(value, str):
            raise ApiFailure(400, f"{where}: '{op}' entry {position} has no '{key}'")
        ids.append(value.lower())
    return ids


def _require(db: sqlite3.Connection, where: str, table: str, ids: list[str]) -> None:
    missing = sorted(set(ids) - existing(db, table, ids))
    if missing:
        noun = {"tags": "tag", "dex_groups": "group", "contacts": "contact"}[table]
        raise ApiFailure(400, f"{where}: {noun} {missing[0]} does not exist")
