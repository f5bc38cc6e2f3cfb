"""Undo, end to end: the sandbox's whole address book after ``dexbulk undo`` is the book before
the run, contact by contact and field by field (``updated_at`` aside).

Each kind of run is undone: ``set``, ``unset``, ``star``, ``archive``, ``apply`` (a mapping, an
API-shaped list, a CSV), a ``--where`` selection, a run that partly failed (the undo touches only
the contacts it updated), and a run stopped then resumed. A contact edited between run and undo
is a conflict, left alone until ``--force``; an undo of an undo makes the change again; a
``--no-read`` run cannot be undone (exit 2, nothing sent).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TEST_KEY
from tests.e2e.conftest import DEXBULK, Result, SandboxApi, base_env
from tests.e2e.faults import (
    background_dexbulk,
    finish,
    snapshot,
    wait_quiet,
    wait_until,
    without_volatile,
    write_ids,
)

Sandbox = Callable[..., SandboxApi]
Dexbulk = Callable[..., Result]
Book = dict[str, dict[str, Any]]
QUIET = ("--yes", "--no-progress")


def book(api: SandboxApi) -> Book:
    """The whole address book as the API lists it (tags, groups, related contacts included),
    without ``updated_at``, which every write moves."""
    return {cid: without_volatile(contact) for cid, contact in snapshot(api).items()}


def differing(before: Book, after: Book) -> dict[str, set[str]]:
    """Per contact, the fields that differ."""
    return {
        cid: keys
        for cid in before.keys() | after.keys()
        if (keys := {
            k for k in before.get(cid, {}).keys() | after.get(cid, {}).keys()
            if before.get(cid, {}).get(k) != after.get(cid, {}).get(k)
        })
    }  # fmt: skip


def run_and_undo(
    dexbulk: Dexbulk, api: SandboxApi, *args: str, changed: int
) -> tuple[Result, Result]:
    """Run ``args``, check it changed ``changed`` contacts, undo it, check the book is back."""
    original = book(api)
    done = dexbulk(*args, *QUIET, "--json", api=api)
    assert done.code == 0, done
    assert len(differing(original, book(api))) == changed
    puts = api.stats()["put_items"]
    undone = dexbulk("undo", done.json()["runId"], *QUIET, "--json", api=api)
    assert undone.code == 0, undone
    assert book(api) == original
    assert undone.json()["undo"]["of"] == done.json()["runId"]
    assert api.stats()["put_items"] - puts == changed, "the undo sent exactly the changed ones"
    return done, undone


def some_ids(api: SandboxApi, n: int = 30) -> list[str]:
    return api.ids()[:n]


# -- every kind of run --------------------------------------------------------------------------


def test_set_of_every_kind_of_field_is_undone(
    sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path
) -> None:
    api = sandbox()
    ids = write_ids(tmp_path / "ids.txt", some_ids(api))
    run_and_undo(
        dexbulk, api, "set", "company=Undo Inc", "job_title=Tester", "birthday=1990-05-02",
        "last_seen_at=2024-03-01T12:00:00Z", "frequency=monthly", "birthday_year=1990",
        'contact_emails:=[{"email":"undo@example.com","label":"work"}]', "--from", str(ids),
        changed=30,
    )  # fmt: skip


def test_unset_is_undone(sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path) -> None:
    api = sandbox()
    current = snapshot(api)
    ids = [cid for cid, c in current.items() if c["company"] and c["job_title"]][:25]
    run_and_undo(
        dexbulk, api, "unset", "company", "job_title,linkedin", "--from",
        str(write_ids(tmp_path / "ids.txt", ids)), changed=25,
    )  # fmt: skip


@pytest.mark.parametrize(("command", "field"), [("star", "starred"), ("archive", "is_archived")])
def test_flags_go_back_to_each_contacts_own_prior_state(
    sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path, command: str, field: str
) -> None:
    api = sandbox()
    current = snapshot(api)
    already = [cid for cid, c in current.items() if c[field]][:5]
    others = [cid for cid, c in current.items() if not c[field]][:20]
    assert len(already) == 5, "the seeded book has contacts with the flag set"
    ids = write_ids(tmp_path / "ids.txt", already + others)
    done, _ = run_and_undo(dexbulk, api, command, "--from", str(ids), changed=20)
    assert done.json()["unchanged"] == 5
    assert all(snapshot(api)[cid][field] for cid in already), "they had it before: they keep it"


def test_null_overwritten_by_the_empty_string_goes_back_to_null(
    sandbox: Sandbox, dexbulk: Dexbulk
) -> None:
    api = sandbox()
    nulls = [cid for cid, c in snapshot(api).items() if c["job_title"] is None][:5]
    assert len(nulls) == 5, "the seeded book has contacts without a job title"
    done, _ = run_and_undo(
        dexbulk, api, "set", 'job_title:=""', "company=Blank Co", "--ids", ",".join(nulls),
        changed=5,
    )  # fmt: skip
    assert done.json()["sent"] == 5


def test_apply_a_yaml_mapping_is_undone(sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path) -> None:
    api = sandbox()
    patch = tmp_path / "patch.yaml"
    patch.write_text("company: Yaml Co\nnever_keep_in_touch: true\ndescription: from YAML\n")
    ids = write_ids(tmp_path / "ids.txt", some_ids(api, 22))
    run_and_undo(dexbulk, api, "apply", str(patch), "--from", str(ids), changed=22)


def test_apply_an_api_shaped_list_is_undone(
    sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path
) -> None:
    api = sandbox()
    items = [
        {"contactId": cid, "data": {"job_title": f"Role {n}", "website": f"https://{n}.example"}}
        for n, cid in enumerate(some_ids(api, 24))
    ]
    patch = tmp_path / "updates.json"
    patch.write_text(json.dumps(items))
    run_and_undo(dexbulk, api, "apply", str(patch), changed=24)


def test_apply_a_csv_is_undone(sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path) -> None:
    api = sandbox()
    rows = ["contactId,company,job_title"]
    # Every other row leaves job_title empty: that cell changes nothing, and is not undone.
    rows += [f"{cid},CSV Co {n},{'CSV' if n % 2 else ''}" for n, cid in enumerate(some_ids(api))]
    sheet = tmp_path / "people.csv"
    sheet.write_text("\n".join(rows) + "\n")
    run_and_undo(dexbulk, api, "apply", str(sheet), changed=30)


def test_a_where_selection_is_undone(sandbox: Sandbox, tmp_path: Path) -> None:
    api = sandbox()
    # Archived contacts are selected only when the filter names is_archived.
    contacts = snapshot(api).values()
    matching = [c for c in contacts if c["company"] == "Initech" and not c["is_archived"]]
    assert len(matching) > 3, "the seeded book has Initech contacts"
    env = {**base_env(tmp_path), "DEX_API_URL": api.url, "DEX_API_KEY": TEST_KEY}

    def dexbulk(*args: str) -> Result:
        # Nothing piped (stdin from /dev/null): the filter alone selects, as typed at a prompt.
        proc = subprocess.run(
            [str(DEXBULK), *args], stdin=subprocess.DEVNULL, capture_output=True, text=True,
            env=env, timeout=120, cwd=tmp_path,
        )  # fmt: skip
        assert TEST_KEY not in proc.stdout + proc.stderr
        return Result(proc.returncode, proc.stdout, proc.stderr)

    original = book(api)
    done = dexbulk("set", "company=Initrode", "starred=true", "--where", "company=Initech", *QUIET)
    assert done.code == 0, done
    assert set(differing(original, book(api))) == {c["id"] for c in matching}
    undone = dexbulk("undo", "last", *QUIET)
    assert undone.code == 0, undone
    assert f"✓ Reverted {len(matching)} contacts" in undone.stderr
    assert book(api) == original


# -- what the undo leaves alone ---------------------------------------------------------------


def test_a_partly_failed_run_is_undone_on_the_contacts_it_updated(
    sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path
) -> None:
    probe = sandbox()
    rejected = probe.ids()[3]
    api = sandbox("--reject", rejected)
    ids = write_ids(tmp_path / "ids.txt", some_ids(api, 12))
    original = book(api)
    done = dexbulk("set", "company=Partly", "--from", str(ids), "--batch-size", "4", *QUIET,
                   "--json", api=api)  # fmt: skip
    assert done.code == 1, done
    assert (done.json()["confirmed"], done.json()["failed"]) == (11, 1)
    results = tmp_path / "undo.jsonl"
    undone = dexbulk("undo", "last", *QUIET, "--results", str(results), api=api)
    assert undone.code == 0, undone
    records = [json.loads(line) for line in results.read_text().splitlines()]
    assert len(records) == 11
    assert rejected not in {r["contactId"] for r in records}
    assert book(api) == original


def test_a_stopped_then_resumed_run_is_undone_whole(
    sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path
) -> None:
    api = sandbox()
    ids = write_ids(tmp_path / "ids.txt", some_ids(api, 30))
    original = book(api)
    canary = dexbulk("set", "job_title=Canary", "--from", str(ids), "--stop-after", "5", *QUIET,
                     "--json", api=api)  # fmt: skip
    assert canary.code == 0, canary
    assert canary.json()["state"] == "stopped"
    run_id = canary.json()["runId"]
    rest = dexbulk("resume", run_id, "--no-progress", api=api)
    assert rest.code == 0, rest
    assert len(differing(original, book(api))) == 30
    undone = dexbulk("undo", run_id, *QUIET, api=api)
    assert undone.code == 0, undone
    assert "✓ Reverted 30 contacts" in undone.stderr
    assert book(api) == original


def test_a_run_killed_mid_send_is_undone_whole_without_a_resume(
    sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path
) -> None:
    # Killed while batches are on their way: the sandbox still applies them (after its
    # latency), but the journal never hears of it. The undo puts those contacts back too.
    api = sandbox("--contacts", "400", "--latency", "40")
    original = book(api)
    ids = write_ids(tmp_path / "ids.txt", list(original))
    args = ("set", "company=Killed", "--from", str(ids), "--batch-size", "20", "--concurrency",
            "2", "--no-progress")  # fmt: skip
    with background_dexbulk(tmp_path, api, *args) as proc:
        wait_until(
            lambda: api.stats()["put_requests"] >= 4 or proc.poll() is not None,
            timeout=20, what="4 batches sent",
        )  # fmt: skip
        assert proc.poll() is None, "the run ended before it could be killed"
        proc.kill()
        finish(proc)
    wait_quiet(api, quiet=0.15)  # the batches in flight land
    assert differing(original, book(api)), "the killed run changed contacts"

    undone = dexbulk("undo", "last", *QUIET, "--json", api=api)

    assert undone.code == 0, undone
    assert " not confirmed, started " in undone.stderr
    assert book(api) == original


def test_while_an_undo_runs_its_run_cannot_be_resumed_or_undone_again(
    sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path
) -> None:
    api = sandbox()
    ids = write_ids(tmp_path / "ids.txt", some_ids(api, 6))
    canary = dexbulk("set", "company=Locked", "--from", str(ids), "--stop-after", "3", *QUIET,
                     "--json", api=api)  # fmt: skip
    assert canary.code == 0, canary
    run_id = canary.json()["runId"]
    lock = tmp_path / "dexbulk-state" / "runs" / f"{run_id}.lock"
    # One request every 5 s: the undo reads at once, then holds the run until it may send.
    reads = api.stats()["requests"]
    with background_dexbulk(tmp_path, api, "undo", run_id, "--rate", "0.2", *QUIET) as proc:
        wait_until(
            lambda: api.stats()["requests"] > reads or proc.poll() is not None,
            timeout=20, what="the undo's read",
        )  # fmt: skip
        assert lock.exists()
        puts = api.stats()["put_items"]
        for args in (("resume", run_id), ("retry", run_id), ("undo", run_id, "--yes")):
            refused = dexbulk(*args, api=api)
            assert refused.code == 2, refused
            assert f"error: run {run_id} is in use by process {proc.pid} " in refused.stderr
        code, _, stderr = finish(proc)
    assert code == 0, stderr
    assert "✓ Reverted 3 contacts" in stderr
    assert api.stats()["put_items"] == puts + 3, "only the undo sent"


def edit(api: SandboxApi, contact_id: str, data: dict[str, Any]) -> None:
    """Someone changes a contact in Dex, outside dexbulk."""
    answer = api.http.put(
        f"{api.url}/contacts", json=[{"contactId": contact_id, "data": data}], timeout=10
    )
    answer.raise_for_status()


def test_a_contact_edited_since_is_left_alone_until_force(
    sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path
) -> None:
    api = sandbox()
    chosen = some_ids(api, 10)
    ids = write_ids(tmp_path / "ids.txt", chosen)
    original = book(api)
    done = dexbulk("set", "company=Mistake", "job_title=Oops", "--from", str(ids), *QUIET,
                   "--json", api=api)  # fmt: skip
    assert done.code == 0, done
    run_id = done.json()["runId"]
    edited = chosen[4]
    edit(api, edited, {"company": "Edited by hand"})

    undone = dexbulk("undo", run_id, *QUIET, api=api)
    assert undone.code == 0, undone
    assert f"1 field changed since run {run_id}: left alone (--force overwrites them):" in (
        undone.stderr
    )
    assert f'  {edited} company: the run wrote "Mistake", now "Edited by hand", before the run' in (
        undone.stderr
    )
    now = book(api)
    assert differing(original, now) == {edited: {"company"}}, "only the edited field differs"
    assert now[edited]["company"] == "Edited by hand"
    assert now[edited]["job_title"] == original[edited]["job_title"], "its other field went back"

    forced = dexbulk("undo", run_id, "--force", *QUIET, "--json", api=api)
    assert forced.code == 0, forced
    assert f"warning: run {run_id} was already undone by " in forced.stderr
    assert forced.json()["confirmed"] == 1, "only the conflict was left to put back"
    assert book(api) == original


def test_an_undo_of_an_undo_makes_the_change_again(
    sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path
) -> None:
    api = sandbox()
    ids = write_ids(tmp_path / "ids.txt", some_ids(api, 15))
    original = book(api)
    done = dexbulk("set", "company=Again", "--from", str(ids), *QUIET, api=api)
    assert done.code == 0, done
    changed = book(api)
    assert dexbulk("undo", "last", *QUIET, api=api).code == 0
    assert book(api) == original
    redo = dexbulk("undo", "last", *QUIET, api=api)
    assert redo.code == 0, redo
    assert book(api) == changed
    listing = {r["runId"]: r for r in dexbulk("runs", "--json", api=api).json()}
    chain = sorted(listing)
    assert [listing[r]["undoOf"] for r in chain] == [None, chain[0], chain[1]]
    assert [listing[r]["undoneBy"] for r in chain] == [chain[1], chain[2], None]


def test_a_no_read_run_cannot_be_undone(sandbox: Sandbox, dexbulk: Dexbulk) -> None:
    api = sandbox()
    done = dexbulk("star", "--ids", ",".join(some_ids(api, 3)), "--no-read", "--json", api=api)
    assert done.code == 0, done
    stats = api.stats()
    refused = dexbulk("undo", "last", api=api)
    assert refused.code == 2, refused
    assert refused.stderr.splitlines() == [
        f"error: run {done.json()['runId']} was sent with --no-read: it kept no prior values, "
        "so it cannot be undone"
    ]
    assert api.stats() == stats, "not a request"
    row = dexbulk("runs", api=api).stdout.splitlines()[1].split("\t")
    assert row[6] == "no (--no-read)"


def test_an_undone_run_is_not_resumed_and_undo_says_which_run(
    sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path
) -> None:
    api = sandbox()
    ids = str(write_ids(tmp_path / "ids.txt", some_ids(api, 10)))
    canary = dexbulk("set", "job_title=Canary", "--from", ids, "--stop-after", "3", "--json",
                     *QUIET, api=api)  # fmt: skip
    assert canary.code == 0, canary
    run_id = canary.json()["runId"]
    undone = dexbulk("undo", "last", *QUIET, api=api)
    assert undone.code == 0, undone
    assert f"undoing run {run_id}: set job_title=Canary (3 contacts updated" in undone.stderr
    original = book(api)
    puts = api.stats()["put_items"]
    resumed = dexbulk("resume", run_id, api=api)
    assert resumed.code == 2, resumed
    assert f"was undone by {undone.stderr.split('(run ')[-1].split(')')[0]}" in resumed.stderr
    assert api.stats()["put_items"] == puts
    assert book(api) == original
