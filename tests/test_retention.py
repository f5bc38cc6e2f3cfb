"""Tests for dexbulk.retention: ages, which runs are old, and deleting a run only when free."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from dexbulk.errors import InvalidInput
from dexbulk.retention import delete_run, journals, parse_age, runs_older_than
from dexbulk.runlock import RunInUse, RunLock, lock_path

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("text", "age"),
    [
        ("30d", timedelta(days=30)),
        ("12h", timedelta(hours=12)),
        ("2w", timedelta(weeks=2)),
        ("90m", timedelta(minutes=90)),
        ("45s", timedelta(seconds=45)),
        (" 7d ", timedelta(days=7)),
        ("0d", timedelta(0)),
    ],
)
def test_ages_are_a_whole_number_and_a_unit(text: str, age: timedelta) -> None:
    assert parse_age(text) == age


@pytest.mark.parametrize("text", ["200000w", "999999999d", "999999999w"])
def test_an_age_longer_than_dates_go_selects_no_run(tmp_path: Path, text: str) -> None:
    (tmp_path / "a.jsonl").write_text(json.dumps({"type": "start", "at": "0001-01-02"}) + "\n")
    # Even a run started in the year 1 is younger.
    assert runs_older_than(tmp_path, parse_age(text), NOW) == []


@pytest.mark.parametrize("text", ["\u0663\u0660d", "\uff13\uff10d", "3\u0660d"])
def test_digits_are_ascii_digits(text: str) -> None:
    with pytest.raises(InvalidInput, match="not a duration"):
        parse_age(text)


@pytest.mark.parametrize("text", ["1M", "7D", "2W"])
def test_upper_case_units_are_refused_since_1m_could_mean_a_month(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_age(text)
    assert caught.value.message == (
        f"--older-than {text!r}: units are lower case: s, m (minutes), h, d or w; "
        "for months, count days (e.g. 30d)"
    )


@pytest.mark.parametrize("text", ["30", "d", "1.5d", "-3d", "30 days", "3y", "", "1e3s"])
def test_anything_else_is_one_line_naming_the_option(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_age(text)
    assert caught.value.message == (
        f"--older-than {text!r}: not a duration (a whole number and a unit: s, m, h, d or w, "
        "e.g. 30d)"
    )


def journal(runs: Path, run_id: str, at: str | None) -> Path:
    runs.mkdir(parents=True, exist_ok=True)
    path = runs / f"{run_id}.jsonl"
    start = {"type": "start", "run_id": run_id, "total": 0}
    if at is not None:
        start["at"] = at
    path.write_text(json.dumps(start) + "\n")
    return path


def test_runs_are_old_by_their_start_time_or_else_their_file_time(tmp_path: Path) -> None:
    journal(tmp_path, "20261001-000000-aaaa", "2026-10-01T00:00:00+00:00")
    journal(tmp_path, "20261125-000000-bbbb", "2026-11-25T00:00:00+00:00")
    no_start = journal(tmp_path, "20260101-000000-cccc", None)  # by its file's time
    os.utime(no_start, (NOW.timestamp() - 40 * 86400,) * 2)
    (tmp_path / "20260102-000000-dddd.jsonl").write_bytes(b"\xff garbage\n")  # file time: now
    old = runs_older_than(tmp_path, timedelta(days=30), NOW)
    assert [j.run_id for j in old] == ["20260101-000000-cccc", "20261001-000000-aaaa"]
    assert len(journals(tmp_path)) == 4
    assert runs_older_than(tmp_path / "none", timedelta(0), NOW) == []


def test_a_running_run_is_never_old_enough(tmp_path: Path) -> None:
    path = journal(tmp_path, "20261001-000000-aaaa", "2026-10-01T00:00:00+00:00")
    lock_path(path).write_text(json.dumps({"pid": os.getppid(), "since": "12:00:00"}))
    assert runs_older_than(tmp_path, timedelta(days=1), NOW) == []


def test_delete_takes_the_lock_and_refuses_a_held_run(tmp_path: Path) -> None:
    path = journal(tmp_path, "20261001-000000-aaaa", None)
    with RunLock.acquire(path, path.stem), pytest.raises(RunInUse):
        delete_run(path)
    assert path.exists()
    delete_run(path)
    assert not path.exists()
    assert not lock_path(path).exists()
    delete_run(path)  # already gone: nothing to do
