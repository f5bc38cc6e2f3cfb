"""An interrupted run finished by ``dexbulk resume`` ends as if never interrupted, redoing nothing.

The command runs in the background against a sandbox with some latency; the test waits until a
seeded-random number of batches has been answered (plus a seeded-random few milliseconds, so the
signal lands at different moments of a request), then sends SIGINT/SIGTERM (graceful: in-flight
batches finish, exit 130, "resume with: dexbulk resume ID") or SIGKILL (a crash). ``resume``
must then bring every contact to the state an uninterrupted run gives (the new company, nothing
else changed), sending confirmed contacts never again: across both invocations the sandbox
applies at most the selection plus what was in flight at the kill (concurrency x batch size).

Only the interrupted command is a child process (the installed script: it is what gets the
signal); the sandbox, ``runs show`` and ``resume`` run in the test process (see conftest.py).
"""

from __future__ import annotations

import json
import random
import re
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Result, SandboxApi
from tests.e2e.faults import (
    background_dexbulk,
    changed_fields,
    finish,
    snapshot,
    wait_quiet,
    wait_until,
    write_ids,
)

CONTACTS = 600
BATCH = 20
CONCURRENCY = 2
BATCHES = CONTACTS // BATCH
IN_FLIGHT = CONCURRENCY * BATCH
"""Contacts that may have been sent but not journaled when the process died."""
RESUME_LINE = re.compile(r"resume with: dexbulk resume (\S+)")


def _send_args(ids_file: Path, value: str) -> tuple[str, ...]:
    return (
        "set", f"company={value}", "--from", str(ids_file), "--batch-size", str(BATCH),
        "--concurrency", str(CONCURRENCY), "--json", "--no-progress",
    )  # fmt: skip


def _show(dexbulk: Callable[..., Result], api: SandboxApi, run_id: str) -> dict[str, Any]:
    shown = dexbulk("runs", "show", run_id, "--json", api=api)
    assert shown.code == 0, shown
    return shown.json()  # type: ignore[no-any-return]


def _assert_final_state(api: SandboxApi, before: dict[str, dict[str, Any]], value: str) -> None:
    """Every contact as an uninterrupted run leaves it: the new company, nothing else changed."""
    after = snapshot(api)
    assert set(after) == set(before)
    wrong = {
        cid: changed_fields(old, after[cid])
        for cid, old in before.items()
        if after[cid]["company"] != value or changed_fields(old, after[cid]) != {"company"}
    }
    assert not wrong, f"{len(wrong)} contacts not as an uninterrupted run leaves them: {wrong}"


def _assert_all_confirmed(run: dict[str, Any], total: int) -> None:
    assert (run["total"], run["updated"], run["failed"], run["notSent"]) == (total, total, 0, 0)
    assert run["state"] == "completed", run
    assert run["failures"] == []


@pytest.mark.parametrize(
    ("how", "seed"),
    [("SIGINT", 1), ("SIGINT", 2), ("SIGINT", 3), ("SIGTERM", 4),
     ("SIGKILL", 11), ("SIGKILL", 12), ("SIGKILL", 13)],
)  # fmt: skip
def test_resume_finishes_an_interrupted_run(
    how: str,
    seed: int,
    sandbox: Callable[..., SandboxApi],
    dexbulk: Callable[..., Result],
    tmp_path: Path,
) -> None:
    rng = random.Random(f"{how}/{seed}")
    api = sandbox("--contacts", str(CONTACTS), "--latency", "40")
    before = snapshot(api)
    assert len(before) == CONTACTS
    ids = list(before)
    rng.shuffle(ids)
    value = f"Interrupted {how} {seed}"
    ids_file = write_ids(tmp_path / "ids.txt", ids)

    # Somewhere in the first three quarters of the run (the batches left keep it running).
    answered = rng.randint(1, BATCHES * 3 // 4)
    jitter = rng.uniform(0.0, 0.04)
    with background_dexbulk(tmp_path, api, *_send_args(ids_file, value)) as proc:
        wait_until(
            lambda: api.stats()["put_requests"] >= answered or proc.poll() is not None,
            timeout=20, what=f"{answered} batches answered",
        )  # fmt: skip
        time.sleep(jitter)
        assert proc.poll() is None, "the run ended before it could be interrupted"
        proc.send_signal(getattr(signal, how))
        code, stdout, stderr = finish(proc)

    if how == "SIGKILL":
        assert code == -signal.SIGKILL
        run_ref = "last"
        run = _show(dexbulk, api, run_ref)
        assert run["state"] == "crashed", run
    else:
        assert code == 130, (code, stderr[-800:])
        doc = json.loads(stdout)
        assert doc["state"] == "interrupted", doc
        match = RESUME_LINE.search(stderr)
        assert match, stderr[-800:]
        run_ref = match.group(1)
        assert run_ref == doc["runId"]
        assert doc["failed"] == 0, doc
        assert doc["notSent"] > 0, doc
        assert doc["confirmed"] + doc["notSent"] == CONTACTS, doc
        run = _show(dexbulk, api, run_ref)
        assert run["state"] == "interrupted", run
        assert run["updated"] == doc["confirmed"]
        # In-flight batches were allowed to finish and were journaled: the sandbox applied
        # exactly what the journal confirms, nothing more.
        assert api.stats()["contacts_updated"] == run["updated"]
    confirmed_first = run["updated"]
    assert run["total"] == CONTACTS
    assert run["failed"] == 0, run
    # A kill may land between an answer and its journal line; a graceful stop journals it.
    assert (0 if how == "SIGKILL" else 1) <= confirmed_first < CONTACTS, run

    # The dead process's last requests may still be on their way through the sandbox (40 ms
    # ± 20% each): let them land before counting.
    first = wait_quiet(api, quiet=0.15) if how == "SIGKILL" else api.stats()
    assert confirmed_first <= first["contacts_updated"] <= confirmed_first + IN_FLIGHT, first
    resumed = dexbulk("resume", run_ref, "--json", api=api, timeout=60)
    assert resumed.code == 0, resumed
    again = resumed.json()
    # Only what the journal did not confirm is sent again.
    assert again["selected"] == CONTACTS - confirmed_first, again
    assert again["confirmed"] == again["selected"], again
    assert again["failed"] == 0, again

    stats = api.stats()
    # resume sent exactly its selection, in its own PUTs (no faults here, so no retries).
    assert stats["contacts_updated"] - first["contacts_updated"] == again["selected"], stats
    assert stats["put_requests"] - first["put_requests"] == again["requests"], (stats, again)
    assert stats["contacts_updated"] <= CONTACTS + IN_FLIGHT, stats
    if how != "SIGKILL":
        # Graceful stop: nothing was in flight unjournaled, so nothing was sent twice.
        assert stats["contacts_updated"] == CONTACTS, stats
    _assert_final_state(api, before, value)
    _assert_all_confirmed(_show(dexbulk, api, run_ref), CONTACTS)


def test_second_sigint_aborts_and_the_run_stays_resumable(
    sandbox: Callable[..., SandboxApi], dexbulk: Callable[..., Result], tmp_path: Path
) -> None:
    """A second Ctrl-C abandons the batches in flight at once; ``resume`` still finishes.

    Each request takes 480-720 ms (latency 600 ms ± 20%). The first signal goes 50 ms after the
    sandbox answered the second batch, time enough for the run to hand its worker the next
    batch, and the second signal 40 ms later: so that batch is still in flight (for 400+ ms,
    room for a busy machine to be slow to run the signal handler) when the second arrives.
    """
    total = 200
    api = sandbox("--contacts", str(total), "--latency", "600")
    before = snapshot(api)
    value = "Aborted twice"
    ids_file = write_ids(tmp_path / "ids.txt", list(before))
    with background_dexbulk(tmp_path, api, *_send_args(ids_file, value)) as proc:
        wait_until(
            lambda: api.stats()["put_requests"] >= 2 or proc.poll() is not None,
            timeout=20, what="two batches answered",
        )  # fmt: skip
        time.sleep(0.05)
        assert proc.poll() is None, "the run ended before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        time.sleep(0.04)
        proc.send_signal(signal.SIGINT)
        code, _stdout, stderr = finish(proc)
    assert code == 130, (code, stderr[-800:])
    match = re.search(r"aborted; resume with: dexbulk resume (\S+)", stderr)
    assert match, stderr[-800:]
    run_id = match.group(1)

    run = _show(dexbulk, api, run_id)
    assert run["state"] == "aborted", run
    assert run["failed"] == 0, run
    journaled = run["updated"]
    assert 0 < journaled < total, run
    # The abandoned batches still reach the sandbox after the process is gone: proof that the
    # second signal did not wait for them, and that they are not in the journal.
    wait_until(
        lambda: api.stats()["contacts_updated"] > journaled, timeout=2,
        what="the abandoned in-flight batch to land",
    )  # fmt: skip

    resumed = dexbulk("resume", run_id, "--json", api=api, timeout=60)
    assert resumed.code == 0, resumed
    again = resumed.json()
    assert again["selected"] == total - journaled, again
    assert again["confirmed"] == again["selected"], again
    stats = api.stats()
    assert stats["contacts_updated"] <= total + IN_FLIGHT, stats
    _assert_final_state(api, before, value)
    _assert_all_confirmed(_show(dexbulk, api, run_id), total)
