"""Undo: a run's inverse plan, from the values it replaced and the values Dex holds now.

Every run that read current values first keeps, in its journal, each contact's prior value of
the fields it sends (``before`` records, :mod:`dexbulk.journal`). The inverse of such a run is
those prior values sent back, for the contacts it may have changed (:func:`undo_ids`): those
it confirmed, and those it did not confirm but Dex may have taken (a timeout after the write,
a kill mid-send) wherever they hold exactly what the run wrote.
Tags and groups (``tag:<uuid>`` keys) are no different: their prior value is whether the contact
held them, so an undo removes only what the run added and re-adds what it removed.

Before anything is sent, the current values are read again (:func:`fields_to_read`). A field that
no longer holds what the run wrote was changed since by someone else: it is a :class:`Conflict`,
left alone unless ``force``. A field whose prior value was never known (an operation such as
``tags_contacts``, a value Dex did not return) is :class:`Lost`: it cannot be undone.

>>> check_undoable(run)  # doctest: +SKIP
>>> current = read_current(dex, undo_ids(run), fields=fields_to_read(run))  # doctest: +SKIP
>>> undo = build_undo(run, current)  # doctest: +SKIP
>>> undo.plan.updates, undo.conflicts, undo.lost  # doctest: +SKIP

The plan is an ordinary :class:`~dexbulk.plan.Plan` (``undo_of`` set): it is sent, journalled,
and can itself be undone like any run. This module reads and decides; it never prints or sends.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dexbulk.configfile import show_path
from dexbulk.errors import InvalidInput
from dexbulk.fields import FIELDS, SHAPES, FieldKind
from dexbulk.journal_read import INCOMPLETE, RUNNING, RunState
from dexbulk.membership import check_data, holds, is_membership_key
from dexbulk.plan import Plan, Update
from dexbulk.preview import NOT_COMPARED, UNKNOWN, fields_of, same
from dexbulk.runlock import holder
from dexbulk.values import JSON, validate

OPERATIONS = frozenset({"tags_contacts", "related_contacts"})
"""Fields written as operations (append/remove): the run kept no value to put back."""

_WHY_NOT = {
    "operation": "an operation (append/remove), not a value: no prior value to put back",
    "shape": "Dex returns it in another shape than it takes: it cannot be sent back",
    "unknown": "Dex did not return its value before the run, so none was kept",
}


@dataclass(frozen=True)
class Conflict:
    """A field that no longer holds what the run wrote: someone changed it since."""

    contact_id: str
    field: str
    wrote: JSON
    """What the run wrote."""
    now: Any
    """What Dex holds now (:data:`~dexbulk.preview.UNKNOWN`: not returned, or contact not found)."""
    prior: JSON
    """What the undo would put back (sent only with ``force``)."""

    def to_json(self) -> dict[str, object]:
        """``{contactId, field, wrote, now, prior}``; ``now`` is absent when Dex did not say."""
        out: dict[str, object] = {"contactId": self.contact_id, "field": self.field}
        out["wrote"] = self.wrote
        if self.now is not UNKNOWN:
            out["now"] = self.now
        out["prior"] = self.prior
        return out


@dataclass(frozen=True)
class Lost:
    """A field the run changed that cannot be undone, and why (a key of ``_WHY_NOT``)."""

    contact_id: str
    field: str
    why: str

    @property
    def reason(self) -> str:
        """Why, in words."""
        return _WHY_NOT[self.why]

    def to_json(self) -> dict[str, object]:
        """``{contactId, field, reason}``."""
        return {"contactId": self.contact_id, "field": self.field, "reason": self.reason}


@dataclass(frozen=True)
class Undo:
    """The inverse of one run: what to send, and what is left as it is."""

    run_id: str
    plan: Plan
    conflicts: tuple[Conflict, ...]
    lost: tuple[Lost, ...]
    forced: bool
    """Whether conflicting fields are in the plan (``--force``) or left alone."""

    def to_json(self) -> dict[str, object]:
        """For ``--json``: the run undone, every conflict and every field that cannot be undone."""
        return {
            "of": self.run_id,
            "contacts": self.plan.total,
            "forced": self.forced,
            "conflicts": [c.to_json() for c in self.conflicts],
            "cannotUndo": [lost.to_json() for lost in self.lost],
        }


def check_undoable(run: RunState) -> None:
    """Raise :class:`InvalidInput` (one line, nothing sent) when ``run`` cannot be undone: it is
    still running, its journal is incomplete, it kept no prior values (``--no-read``), or its
    journal lost some (:func:`lost_before`)."""
    if run.state == RUNNING:
        held = holder(run.path)
        by = f" by process {held.pid}" if held is not None else ""
        raise InvalidInput(
            f"run {run.run_id} is still running{by}: wait for it to finish, then undo it"
        )
    if run.state == INCOMPLETE or run.problem is not None:
        raise InvalidInput(
            f"run {run.run_id} cannot be undone: its journal {show_path(run.path)} is "
            f"incomplete: {run.problem}"
        )
    if not run.read_before:
        raise InvalidInput(
            f"run {run.run_id} was sent with --no-read: it kept no prior values, so it cannot "
            "be undone"
        )
    missing = lost_before(run)
    if missing:
        raise InvalidInput(
            f"journal {show_path(run.path)} lost the prior values of {missing:,} "
            f"contact{'' if missing == 1 else 's'}; cannot undo safely"
        )
    check_priors(run)


def check_priors(run: RunState) -> None:
    """Raise :class:`InvalidInput` (one line: journal, line, contact, field) unless every prior
    value the undo could send back is one the field takes (:func:`dexbulk.values.validate`),
    and a boolean for a tag or group key: a journal edited by hand must not send what no read
    of Dex could have returned."""
    considered = set(undo_ids(run))
    for update in run.updates:
        cid = update.contact_id
        prior = run.before.get(cid, {}) if cid in considered else {}
        for name in update.data:
            if name not in prior or _cannot(name, True, False) is not None:
                continue  # never sent back
            value = restorable(name, prior[name])
            try:
                if is_membership_key(name):
                    check_data({name: value})
                else:
                    validate(name, value)
            except InvalidInput as exc:
                where = f"journal {show_path(run.path)} line {run.before_line.get(cid, '?')}"
                raise InvalidInput(
                    f"{where}: contact {cid}: {exc.message}; cannot undo safely"
                ) from None


def lost_before(run: RunState) -> int:
    """How many contacts the undo is about have no ``before`` record.

    A run that read values writes one for every contact it sends (with ``unknown`` for those
    the read did not find) before sending any: a contact without one means the journal was cut
    or edited, and an undo of what is left would silently skip it."""
    return sum(1 for cid in set(undo_ids(run)) if cid not in run.before)


CLEAN_ENDS = frozenset({"completed", "stopped", "interrupted"})
"""End states after which every batch sent was journaled (a graceful stop lets the batches in
flight finish); after any other, or no end at all (killed), a contact not settled may have
been sent, and Dex may have taken it."""


def undo_ids(run: RunState) -> list[str]:
    """The contacts an undo is about, in plan order: every contact the run may have changed.

    Those it confirmed; those that failed (a timeout may come after Dex took the write); and,
    when an invocation of the run did not end cleanly (killed, aborted, crashed), those never
    settled, which may have been in flight."""
    unsure = len(run.ends) < run.invocations or any(
        end.get("state") not in CLEAN_ENDS for end in run.ends
    )
    return [
        u.contact_id
        for u in run.updates
        if unsure or u.contact_id in run.confirmed or u.contact_id in run.failed
    ]


def fields_to_read(run: RunState) -> list[str]:
    """The fields to read now to compare what the run wrote (``tags``/``groups`` for
    membership keys)."""
    ids = set(undo_ids(run))
    return fields_of(run.plan([u for u in run.updates if u.contact_id in ids]))


def build_undo(
    run: RunState, current: Mapping[str, Mapping[str, Any]], *, force: bool = False
) -> Undo:
    """The inverse plan of ``run`` against ``current`` (contacts as Dex returns them now, by
    lower-case ID; a contact missing from it was not found).

    For each contact the run confirmed and each field it changed: a recorded prior value is put
    back when the field still holds what the run wrote, or already holds the prior value (the
    check before sending leaves those out); otherwise it is a :class:`Conflict` (put back only
    with ``force``). A field without a recorded prior value is :class:`Lost`. A field the run
    found at the new value already is skipped: the run changed nothing there.

    A contact the run did not confirm (:func:`undo_ids`: failed, or in flight when it died) is
    put back only where it holds exactly what the run wrote, and otherwise left alone without
    a word: the run never claimed it changed it, so nothing else is a conflict or a loss.
    """
    updates: list[Update] = []
    conflicts: list[Conflict] = []
    lost: list[Lost] = []
    considered = set(undo_ids(run))
    for update in run.updates:
        cid = update.contact_id
        if cid not in considered:
            continue
        claimed = cid in run.confirmed
        prior = run.before.get(cid, {})
        unknown = set(run.unknown.get(cid, ()))
        contact = current.get(cid)
        data: dict[str, JSON] = {}
        for name, wrote in update.data.items():
            why = _cannot(name, name in prior, name in unknown)
            if why is not None:
                if claimed:
                    lost.append(Lost(cid, name, why))
                continue
            if name not in prior or same(name, prior[name], wrote):
                continue  # the read found it at the new value already: the run changed nothing
            back = restorable(name, prior[name])
            now = UNKNOWN if contact is None else value_now(contact, name)
            if not claimed:
                if same(name, now, wrote) and not same(name, now, back):
                    data[name] = back
                continue
            if not same(name, now, wrote) and not same(name, now, back):
                conflicts.append(Conflict(cid, name, wrote, now, back))
                if not force:
                    continue
            data[name] = back
        if data:
            updates.append(Update(cid, data))
    plan = Plan(
        updates, f"undo {run.run_id}", channel=run.channel, undo_of=run.run_id,
        labels=run.labels, sources=(run.run_id,),
    )  # fmt: skip
    return Undo(run.run_id, plan, tuple(conflicts), tuple(lost), force)


def _cannot(name: str, recorded: bool, unknown: bool) -> str | None:
    """Why field ``name`` cannot be undone (a key of ``_WHY_NOT``), or None."""
    if name in OPERATIONS:
        return "operation"
    if name in NOT_COMPARED:
        return "shape"
    if unknown and not recorded:
        return "unknown"
    return None


def value_now(contact: Mapping[str, Any], name: str) -> Any:
    """A field's value in ``contact`` as Dex returned it; for a tag or group key, whether the
    contact holds it; :data:`~dexbulk.preview.UNKNOWN` when the answer does not say."""
    if is_membership_key(name):
        has = holds(contact, name)
        return UNKNOWN if has is None else has
    return contact.get(name, UNKNOWN)


def restorable(name: str, prior: JSON) -> JSON:
    """The prior value as it is sent back: as Dex returned it, except that a date Dex returned
    as a date-time (``1990-05-02T00:00:00Z``) is sent as the date it takes."""
    field = FIELDS.get(name)
    if (
        field is not None
        and field.kind is FieldKind.DATE
        and isinstance(prior, str)
        and len(prior) > 10
        and prior[10] in "Tt "
    ):
        return prior[:10]
    return _writable_items(name, prior)


def _writable_items(name: str, prior: JSON) -> JSON:
    """A list of objects with only the keys the field takes: Dex's answers may carry keys it
    adds itself (``id``, ``contact_id``, timestamps) that a write does not accept."""
    shape = SHAPES.get(name)
    if not (isinstance(shape, list) and isinstance(shape[0], dict) and isinstance(prior, list)):
        return prior
    keys = {key.rstrip("!") for key in shape[0]}
    if "*" in keys:
        return prior
    return [
        {k: v for k, v in item.items() if k in keys} if isinstance(item, dict) else item
        for item in prior
    ]


# -- undo's marks in the journal list -----------------------------------------------------------


@dataclass(frozen=True)
class UndoStatus:
    """Whether a run can be undone and whether it was, for ``dexbulk runs``."""

    undoable: bool
    why_not: str | None = None
    """Why not, when it cannot be: ``--no-read``, ``incomplete``, ``running``, ``prior values
    lost`` or ``nothing updated``."""
    undone_by: str | None = None
    """The latest run that undid it."""
    undo_of: str | None = None

    def text(self) -> str:
        """``yes``, ``no (--no-read)``, ``undone by <id>`` or ``undo of <id>``."""
        if self.undone_by is not None:
            return f"undone by {self.undone_by}"
        if not self.undoable:
            return f"no ({self.why_not})"
        if self.undo_of is not None:
            return f"undo of {self.undo_of}"
        return "yes"

    def to_json(self) -> dict[str, object]:
        """``{undoable, undoneBy, undoOf}``."""
        return {"undoable": self.undoable, "undoneBy": self.undone_by, "undoOf": self.undo_of}


def undo_status(run: RunState, undone_by: Mapping[str, Sequence[str]]) -> UndoStatus:
    """``run``'s status, given every run's undos (:func:`undo_links`)."""
    why_not = None
    if run.state == RUNNING:
        why_not = "running"
    elif run.state == INCOMPLETE or run.problem is not None:
        why_not = "incomplete"
    elif not run.read_before:
        why_not = "--no-read"
    elif lost_before(run):
        why_not = "prior values lost"
    elif not undo_ids(run):
        why_not = "nothing updated"
    by = undone_by.get(run.run_id) or []
    return UndoStatus(why_not is None, why_not, by[-1] if by else None, run.undo_of)


def undo_links(runs_dir: Path) -> dict[str, list[str]]:
    """Every run that was undone → the runs that undid it, oldest first.

    Only the first line (the ``start`` record) of each journal is read, so listing stays cheap
    whatever the runs' sizes; an unreadable journal is skipped.
    """
    links: dict[str, list[str]] = {}
    for path, start in _starts(sorted(runs_dir.glob("*.jsonl")) if runs_dir.is_dir() else []):
        undone = start.get("undo_of")
        if isinstance(undone, str):
            links.setdefault(undone, []).append(path.stem)
    return links


_START_LINE_MAX = 1 << 20
"""Bytes of a journal's first line read at most: a start record is far smaller."""


def _starts(paths: Iterable[Path]) -> Iterable[tuple[Path, dict[str, Any]]]:
    for path in paths:
        try:
            with path.open("rb") as handle:
                line = handle.readline(_START_LINE_MAX)
            record = json.loads(line)
        except (OSError, ValueError, RecursionError):
            continue
        if isinstance(record, dict) and record.get("type") == "start":
            yield path, record
