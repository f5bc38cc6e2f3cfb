"""The sandbox's address book in SQLite: contacts as JSON rows, tags, groups and link tables.

One connection shared by all request threads (``check_same_thread=False``) behind one lock:
simple, and fast enough that a 100-contact PUT takes a few milliseconds. Writes run in explicit
transactions so a batch is all-or-nothing.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dexbulk.sandbox import apply
from dexbulk.sandbox.envelope import ApiFailure, Contact
from dexbulk.sandbox.options import MEMORY
from dexbulk.sandbox.seed import build_address_book

SCHEMA_VERSION = "2"  # 2: fixed tags and groups, OldCo, last_seen_at
_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE contacts (pos INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, data TEXT NOT NULL);
CREATE TABLE tags (pos INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
                   color TEXT);
CREATE TABLE dex_groups (pos INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
                         emoji TEXT);
CREATE TABLE contact_tags (contact_id TEXT, tag_id TEXT, PRIMARY KEY (contact_id, tag_id))
    WITHOUT ROWID;
CREATE TABLE group_members (group_id TEXT, contact_id TEXT, PRIMARY KEY (group_id, contact_id))
    WITHOUT ROWID;
CREATE INDEX group_members_contact ON group_members (contact_id);
CREATE TABLE related_contacts (source TEXT, destination TEXT, PRIMARY KEY (source, destination))
    WITHOUT ROWID;
"""
_TABLES = (
    "meta",
    "contacts",
    "tags",
    "dex_groups",
    "contact_tags",
    "group_members",
    "related_contacts",
)

Row = tuple[int, Contact]
"""A contact view with its position in creation order (what cursors point at)."""


class Store:
    """The address book. Every public method is thread-safe."""

    def __init__(self, path: Path | str) -> None:
        target = str(path)
        if target != MEMORY:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a batch is one transaction.
        self._db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._closed = False
        if target != MEMORY:
            # No fsync at all: a power cut may lose the last writes of a rehearsal database,
            # which is acceptable; in exchange PUTs and start/stop take milliseconds, not tens.
            self._db.execute("PRAGMA synchronous=OFF")
            self._db.execute("PRAGMA journal_mode=WAL")

    # -- lifecycle ------------------------------------------------------------------------
    def prepare(self, *, seed: int, contacts: int, fresh: bool) -> bool:
        """Seed the address book unless a matching one is stored; return True if it reseeded.

        A stored book made from another seed or size (or an older layout) is replaced: asking
        for a different address book means wanting it. Otherwise earlier changes are kept.
        """
        with self._lock:
            wanted = {"schema": SCHEMA_VERSION, "seed": str(seed), "contacts": str(contacts)}
            if not fresh and self._meta() == wanted:
                return False
            book = build_address_book(seed, contacts)
            with self._transaction():
                for table in _TABLES:
                    self._db.execute(f"DROP TABLE IF EXISTS {table}")
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.executemany("INSERT INTO meta VALUES (?, ?)", wanted.items())
                self._db.executemany(
                    "INSERT INTO contacts (id, data) VALUES (?, ?)",
                    [(c["id"], json.dumps(c, ensure_ascii=False)) for c in book.contacts],
                )
                self._db.executemany(
                    "INSERT INTO tags (id, name, color) VALUES (:id, :name, :color)", book.tags
                )
                self._db.executemany(
                    "INSERT INTO dex_groups (id, name, emoji) VALUES (:id, :name, :emoji)",
                    book.groups,
                )
                self._db.executemany("INSERT INTO contact_tags VALUES (?, ?)", book.contact_tags)
                self._db.executemany("INSERT INTO group_members VALUES (?, ?)", book.group_members)
            return True

    def _meta(self) -> dict[str, str]:
        try:
            return dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.OperationalError:  # no meta table: a new or foreign database
            return {}

    def close(self) -> None:
        """Close the database; later calls are no-ops."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- reads ----------------------------------------------------------------------------
    def get(self, contact_id: str) -> Contact | None:
        """One contact as the API shows it, or None when there is no such contact."""
        rows = self.rows([contact_id.lower()])
        return rows[0][1] if rows else None

    def all_ids(self) -> list[str]:
        """Every contact ID in creation order."""
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT id FROM contacts ORDER BY pos")]

    def count(self) -> int:
        """How many contacts the address book holds."""
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM contacts").fetchone()[0])

    def rows(
        self,
        ids: Sequence[str] | None = None,
        *,
        after: int | None = None,
        limit: int | None = None,
        fields: Sequence[str] | None = None,
    ) -> list[Row]:
        """Contact views (with ``tags``, ``groups``, ``related_contacts``) in creation order.

        ``ids`` narrows to those contacts (unknown ones are left out); ``after`` and ``limit``
        read one page by position, so listing a large book does not decode all of it.
        ``fields`` reads only those fields of each contact (and ``id``; no links): SQLite picks
        them out of the stored JSON, so a read that selects two fields does not decode thirty.
        A field a contact does not hold stays absent, as in the whole contact.
        """
        names = None if fields is None else [f for f in dict.fromkeys(fields) if _plain(f)]
        columns = "data" if names is None else ", ".join(["data -> ?"] * len(names))
        paths = [] if names is None else [f'$."{name}"' for name in names]
        with self._lock:
            if ids is None:
                sql = f"SELECT pos, id, {columns} FROM contacts WHERE pos > ? ORDER BY pos LIMIT ?"
                raw = self._db.execute(
                    sql, (*paths, -1 if after is None else after, limit or -1)
                ).fetchall()
            else:
                raw = []
                for chunk in _chunks(sorted(set(ids))):
                    marks = ",".join("?" * len(chunk))
                    raw += self._db.execute(
                        f"SELECT pos, id, {columns} FROM contacts WHERE id IN ({marks})",
                        (*paths, *chunk),
                    ).fetchall()
                raw.sort()
            if names is not None:
                return [(row[0], _picked(row[1], names, row[2:])) for row in raw]
            # Only the links of the rows read: a page of a large book stays cheap.
            wanted = (
                None if ids is None and after is None and limit is None else [r[1] for r in raw]
            )
            tags = self._names("tags")
            groups = self._names("dex_groups")
            by_tag = self._links("contact_tags", "contact_id", "tag_id", wanted)
            by_group = self._links("group_members", "contact_id", "group_id", wanted)
            related = self._links("related_contacts", "source", "destination", wanted)
        result: list[Row] = []
        for pos, contact_id, data in raw:
            contact = json.loads(data)
            contact["tags"] = _named(by_tag.get(contact_id, []), tags)
            contact["groups"] = _named(by_group.get(contact_id, []), groups)
            contact["related_contacts"] = sorted(related.get(contact_id, []))
            result.append((pos, contact))
        return result

    def _names(self, table: str) -> dict[str, str]:
        return dict(self._db.execute(f"SELECT id, name FROM {table} ORDER BY pos").fetchall())

    def _links(
        self, table: str, owner: str, target: str, owners: list[str] | None
    ) -> dict[str, list[str]]:
        """``owner → [target]`` for every owner, or just for ``owners``."""
        sql = f"SELECT {owner}, {target} FROM {table}"
        batches = (
            [self._db.execute(sql)]
            if owners is None
            else [
                self._db.execute(f"{sql} WHERE {owner} IN ({','.join('?' * len(c))})", c)
                for c in _chunks(owners)
            ]
        )
        links: dict[str, list[str]] = {}
        for cursor in batches:
            for source, destination in cursor:
                links.setdefault(source, []).append(destination)
        return links

    def tags(self) -> list[dict[str, Any]]:
        """Every tag: ``{id, name, color}`` in creation order."""
        with self._lock:
            cursor = self._db.execute("SELECT id, name, color FROM tags ORDER BY pos")
            return [{"id": i, "name": n, "color": c} for i, n, c in cursor]

    def groups(self) -> list[dict[str, Any]]:
        """Every group: ``{id, name, emoji, contact_count}`` in creation order."""
        with self._lock:
            cursor = self._db.execute(
                "SELECT g.id, g.name, g.emoji, count(m.contact_id) FROM dex_groups g "
                "LEFT JOIN group_members m ON m.group_id = g.id GROUP BY g.id ORDER BY g.pos"
            )
            return [{"id": i, "name": n, "emoji": e, "contact_count": k} for i, n, e, k in cursor]

    # -- writes ---------------------------------------------------------------------------
    def apply_batch(
        self, items: Sequence[tuple[str, Mapping[str, Any]]], *, reject_unknown: bool, now: str
    ) -> int:
        """Apply a validated PUT batch in one transaction; return the contacts updated."""
        with self._lock, self._transaction():
            return apply.apply_batch(self._db, items, reject_unknown=reject_unknown, now=now)

    def create(self, table: str, item: Mapping[str, Any]) -> None:
        """Insert a new tag (``tags``) or group (``dex_groups``) row from ``item``."""
        columns = {"tags": ("id", "name", "color"), "dex_groups": ("id", "name", "emoji")}[table]
        with self._lock, self._transaction():
            self._db.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES (?, ?, ?)",
                [item.get(c) for c in columns],
            )

    def link(
        self,
        kind: str,
        contact_ids: Sequence[str],
        targets: Sequence[str],
        *,
        add: bool,
        reject_unknown: bool,
    ) -> int:
        """Add or remove tag (``kind="tag"``) or group links; return the links changed.

        Unknown targets are a 404; unknown contacts are skipped, or a 404 with
        ``reject_unknown``. Adding an existing link and removing a missing one change nothing.
        """
        # Link rows are (contact, tag) for tags but (group, contact) for groups.
        if kind == "tag":
            table, target_table, match = "contact_tags", "tags", "contact_id = ? AND tag_id = ?"
        else:
            table, target_table = "group_members", "dex_groups"
            match = "group_id = ? AND contact_id = ?"
        with self._lock, self._transaction():
            missing_targets = sorted(set(targets) - apply.existing(self._db, target_table, targets))
            if missing_targets:
                raise ApiFailure(404, f"{kind} {missing_targets[0]} not found")
            found = apply.existing(self._db, "contacts", contact_ids)
            unknown = [c for c in contact_ids if c not in found]
            if unknown and reject_unknown:
                raise ApiFailure(404, f"contact {unknown[0]} not found")
            pairs = [
                (c, t) if kind == "tag" else (t, c)
                for c in contact_ids
                if c in found
                for t in targets
            ]
            before = self._db.total_changes
            if add:
                self._db.executemany(f"INSERT OR IGNORE INTO {table} VALUES (?, ?)", pairs)
            else:
                self._db.executemany(f"DELETE FROM {table} WHERE {match}", pairs)
            return self._db.total_changes - before


_FIELD_NAME = re.compile(r"[A-Za-z0-9_]+")


def _plain(name: str) -> bool:
    """A field stored apart from ``id`` whose name SQLite's JSON path can quote as is (every
    stored field's name is one: a name that is not cannot be a field)."""
    return name != "id" and _FIELD_NAME.fullmatch(name) is not None


def _picked(contact_id: str, names: list[str], values: Sequence[str | None]) -> Contact:
    """A contact of just ``names`` from their JSON texts (None: the contact lacks the field)."""
    contact: Contact = {"id": contact_id}
    for name, value in zip(names, values, strict=True):
        if value is None:
            continue
        # Most values are strings without escapes: their text between the quotes is the value
        # (half the cost of a read of two fields went to json.loads).
        plain = value[:1] == '"' and "\\" not in value
        contact[name] = value[1:-1] if plain else json.loads(value)
    return contact


def _chunks(ids: list[str]) -> list[list[str]]:
    return [ids[i : i + apply.SQL_CHUNK] for i in range(0, len(ids), apply.SQL_CHUNK)]


def _named(ids: list[str], names: dict[str, str]) -> list[dict[str, str]]:
    # Ordered like the tag/group list itself, so output is stable.
    order = {tag_id: index for index, tag_id in enumerate(names)}
    return [
        {"id": i, "name": names[i]}
        for i in sorted(ids, key=lambda i: order.get(i, 0))
        if i in names
    ]
