"""How long run journals are kept: until deleted, one by one or by age.

A journal holds contact data (the plan, and the prior values an undo needs), so it should not
outlive its use. :func:`delete_runs` removes named runs; :func:`runs_older_than` finds the runs
started before a cut-off (``--older-than 30d``). A run whose lock a live process holds (it is
being sent, resumed or retried) is never deleted.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from dexbulk.configfile import show_path
from dexbulk.errors import InvalidInput
from dexbulk.runlock import RunLock, holder

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"\s*([0-9]{1,9})\s*([smhdw])\s*", re.IGNORECASE | re.ASCII)
"""ASCII digits only: int() would take '٣٠d' (Arabic-Indic digits) as 30 days."""
_START_LINE_MAX = 1 << 20
_MAX_SECONDS = timedelta.max.days * 86400


@dataclass(frozen=True)
class Journaled:
    """One run's journal on disk, and when the run started."""

    run_id: str
    path: Path
    started: datetime


def parse_age(text: str, option: str = "--older-than") -> timedelta:
    """``30d``, ``12h``, ``2w``, ``90m``, ``45s`` → a timedelta; InvalidInput otherwise."""
    match = _DURATION.fullmatch(text)
    if match is not None and match[2] not in _UNITS:
        # 'M' is a month to many people and a minute to others: a wrong guess deletes journals.
        raise InvalidInput(
            f"{option} {text!r}: units are lower case: s, m (minutes), h, d or w; "
            "for months, count days (e.g. 30d)"
        )
    if match is None:
        raise InvalidInput(
            f"{option} {text!r}: not a duration (a whole number and a unit: s, m, h, d or w, "
            "e.g. 30d)"
        )
    seconds = int(match[1]) * _UNITS[match[2]]
    # 999999999w is longer than a timedelta holds: longer than any run's age all the same.
    return timedelta(seconds=min(seconds, _MAX_SECONDS))


def journals(runs_dir: Path) -> list[Journaled]:
    """Every journal in ``runs_dir``, oldest first, with its start time (from its ``start``
    record; from the file's modification time when that cannot be read)."""
    found: list[Journaled] = []
    for path in sorted(runs_dir.glob("*.jsonl")) if runs_dir.is_dir() else []:
        found.append(Journaled(path.stem, path, _started(path)))
    return found


def runs_older_than(runs_dir: Path, age: timedelta, now: datetime | None = None) -> list[Journaled]:
    """The runs started more than ``age`` before ``now``, oldest first, running ones left out."""
    try:
        cutoff = (now or datetime.now(timezone.utc)) - age
    except OverflowError:
        return []  # a cut-off before the year 1: no run is that old
    return [j for j in journals(runs_dir) if j.started < cutoff and holder(j.path) is None]


def delete_run(path: Path) -> None:
    """Delete one run's journal, holding its lock meanwhile so no resume can start on it.

    Raises :class:`~dexbulk.runlock.RunInUse` (exit 2) when a live process holds the run, and
    InvalidInput when the file cannot be deleted.
    """
    try:
        lock = RunLock.acquire(path, path.stem)
    except OSError as exc:
        raise InvalidInput(f"cannot lock {show_path(path)}: {exc.strerror}") from None
    with lock:  # released (its file removed) once the journal is gone
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise InvalidInput(f"cannot delete {show_path(path)}: {exc.strerror}") from None


def _started(path: Path) -> datetime:
    try:
        with path.open("rb") as handle:
            record = json.loads(handle.readline(_START_LINE_MAX))
        at = datetime.fromisoformat(str(record["at"]))
        return at if at.tzinfo else at.replace(tzinfo=timezone.utc)
    except (OSError, ValueError, RecursionError, KeyError, TypeError):
        pass
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
    except OSError:
        return datetime.now(timezone.utc)  # gone or unreadable: never old enough to prune
