"""The installed command against the sandbox: damaged journals and concurrent resumes.

A journal cut short while its plan was written is refused by ``resume`` (nothing sent; ``runs``
shows it ``incomplete``); one cut anywhere after its plan's seal is finished in full. Two
``resume`` of one run at once: the second is refused, naming the first one's process, and every
contact is sent once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from tests.e2e.conftest import Result, SandboxProc
from tests.e2e.faults import background_dexbulk, finish, wait_until, write_ids


def _journal(tmp_path: Path, run_id: str) -> Path:
    return tmp_path / "dexbulk-state" / "runs" / f"{run_id}.jsonl"


def _first_run(
    dexbulk: Callable[..., Result], api: SandboxProc, tmp_path: Path, *extra: str
) -> tuple[str, list[bytes]]:
    ids_file = write_ids(tmp_path / "ids.txt", api.ids())
    done = dexbulk(
        "set", "company=Journaled", "--from", str(ids_file), "--json", "--no-progress", "--no-read",
        *extra, api=api,
    )  # fmt: skip
    assert done.code == 0, done
    run_id = done.json()["runId"]
    return run_id, _journal(tmp_path, run_id).read_bytes().splitlines(keepends=True)


def _types(lines: list[bytes]) -> list[str]:
    return [json.loads(line)["type"] for line in lines]


def test_a_journal_cut_before_its_seal_is_refused_and_after_it_finished(
    sandbox: Callable[..., SandboxProc], dexbulk: Callable[..., Result], tmp_path: Path
) -> None:
    total = 2500
    api = sandbox("--contacts", str(total))
    run_id, lines = _first_run(dexbulk, api, tmp_path, "--batch-size", "100")
    assert _types(lines)[:5] == ["start", "ids", "ids", "ids", "seal"]
    journal = _journal(tmp_path, run_id)

    # Cut to its first three lines (2,000 of 2,500 contacts): refused, nothing sent.
    journal.write_bytes(b"".join(lines[:3]))
    before = api.stats()
    refused = dexbulk("resume", "last", api=api)
    assert refused.code == 2, refused
    assert refused.stderr.splitlines() == [
        f"error: run {run_id} cannot be resumed: its journal {journal} is incomplete: "
        "the plan holds 2,000 of 2,500 contacts and was never sealed"
    ]
    assert api.stats()["put_items"] == before["put_items"]
    listing = dexbulk("runs", "--json", api=api)
    assert listing.json()[0]["state"] == "incomplete", listing

    # Cut after its seal and 7 of its 25 batches, mid-way through the 8th: the rest is sent.
    journal.write_bytes(b"".join(lines[:12]) + lines[12][:40])
    before = api.stats()
    resumed = dexbulk("resume", "last", "--json", "--no-progress", api=api)
    assert resumed.code == 0, resumed
    assert resumed.json()["selected"] == total - 700
    assert api.stats()["put_items"] - before["put_items"] == total - 700
    shown = dexbulk("runs", "show", run_id, "--json", api=api).json()
    assert (shown["total"], shown["updated"], shown["failed"], shown["state"]) == (
        total, total, 0, "completed",
    )  # fmt: skip


def test_two_resumes_of_one_run_send_it_once(
    sandbox: Callable[..., SandboxProc], dexbulk: Callable[..., Result], tmp_path: Path
) -> None:
    total = 200
    api = sandbox("--contacts", str(total), "--latency", "150")
    run_id, lines = _first_run(dexbulk, api, tmp_path, "--batch-size", "10", "--concurrency", "1")
    seal = _types(lines).index("seal")
    _journal(tmp_path, run_id).write_bytes(b"".join(lines[: seal + 1]))  # nothing confirmed
    before = api.stats()

    args = ("resume", run_id, "--concurrency", "1", "--json", "--no-progress")
    with background_dexbulk(tmp_path, api, *args) as first:
        sent_once = before["put_requests"] + 1
        wait_until(
            lambda: api.stats()["put_requests"] >= sent_once or first.poll() is not None,
            timeout=20, what="the first resume to send",
        )  # fmt: skip
        assert first.poll() is None, "the first resume ended before the second could start"
        started = time.monotonic()
        second = dexbulk("resume", run_id[-4:], api=api)
        running = dexbulk("runs", "--json", api=api).json()[0]["state"]
        in_time = first.poll() is None
        code, stdout, stderr = finish(first)
    assert in_time, f"the first resume ended within {time.monotonic() - started:.1f} s"
    assert second.code == 2, second
    assert second.stderr.splitlines() == [
        f"error: run {run_id} is in use by process {first.pid} (since "
        + second.stderr.split("(since ", 1)[1].split(" UTC)")[0]
        + " UTC): wait for it to finish, then try again"
    ]
    assert running == "running"
    assert code == 0, stderr[-800:]
    assert json.loads(stdout)["confirmed"] == total
    stats = api.stats()
    assert stats["put_items"] - before["put_items"] == total, "a contact was sent twice"
