"""A dead or wrong API costs a request or two, not minutes; only Dex's answer proves a key.

Issue 11 items 2, 7 and 8, end to end: the installed command against a sandbox (or a closed
port) on 127.0.0.1, every request counted by the sandbox itself (``/_sandbox/stats``).
Exit 4 means only that the API could not be reached or used; a run that reached Dex exits 1.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path
from typing import Any

from tests.conftest import TEST_KEY
from tests.e2e.conftest import SandboxProc
from tests.e2e.faults import read_jsonl, snapshot, unknown_id, write_ids
from tests.e2e.test_commands import Dexbulk, Sandbox


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def unknown_ids(n: int, seed: str) -> list[str]:
    rng = random.Random(seed)
    return [unknown_id(rng) for _ in range(n)]


def routes_since(api: SandboxProc, before: dict[str, Any]) -> dict[str, int]:
    """Requests per route since ``before`` (the test's own reads are not the run's)."""
    now = api.stats()["by_route"]
    counts = {route: n - before["by_route"].get(route, 0) for route, n in now.items()}
    return {route: n for route, n in counts.items() if n}


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error: ")]


# -- a run against an API that cannot be reached or used ------------------------------------


def test_a_closed_port_costs_the_first_batch_only(dexbulk: Dexbulk, tmp_path: Path) -> None:
    port = closed_port()
    dead = f"http://127.0.0.1:{port}/v1"
    ids = write_ids(tmp_path / "ids.txt", unknown_ids(1000, "closed port"))

    result = dexbulk(
        "star", "--from", str(ids), "--api-url", dead, "--max-attempts", "2", "--json", "--no-read",
        "--results", "results.jsonl", "--concurrency", "4", env={"DEX_API_KEY": TEST_KEY},
    )  # fmt: skip

    assert result.code == 4, result
    doc = result.json()
    cause = f"cannot reach {dead}: connection refused by 127.0.0.1:{port}"
    # 10 batches of 100: one was tried (two attempts), nine never were.
    assert (doc["batches"], doc["requests"], doc["retries"]) == (1, 1, 1), doc
    assert (doc["state"], doc["error"]["message"], doc["exitCode"]) == ("unreachable", cause, 4)
    assert (doc["failed"], doc["notSent"], doc["updated"]) == (0, 1000, 0)
    assert error_lines(result.stderr) == [f"error: {cause}"], "one line naming URL and cause"
    assert f"resume with: dexbulk resume {doc['runId']}" in result.stderr
    records = read_jsonl(tmp_path / "results.jsonl")
    assert len(records) == 1000
    assert {(r["outcome"], r["error"]) for r in records} == {("not_sent", f"not sent: {cause}")}


def test_what_a_dead_api_left_unsent_is_resumed_elsewhere(
    sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path
) -> None:
    api = sandbox("--contacts", "30")
    ids = api.ids()
    dead = f"http://127.0.0.1:{closed_port()}/v1"
    first = dexbulk(
        "set", "company=Resumed", "--ids", ",".join(ids), "--batch-size", "10", "--no-read",
        "--max-attempts", "1", "--api-url", dead, env={"DEX_API_KEY": TEST_KEY},
    )  # fmt: skip
    assert first.code == 4, first

    again = dexbulk("resume", "last", "--json", "--api-url", api.url, api=api)

    assert again.code == 0, again
    assert again.json()["confirmed"] == 30
    assert api.stats()["put_requests"] == 3
    assert {c["company"] for c in snapshot(api).values()} == {"Resumed"}


def test_a_url_without_v1_costs_one_request(sandbox: Sandbox, dexbulk: Dexbulk) -> None:
    api = sandbox("--contacts", "300")
    ids = api.ids()
    before = snapshot(api)
    stats = api.stats()

    result = dexbulk(
        "star", "--ids", ",".join(ids), "--api-url", api.root, "--json", "--no-read", api=api
    )  # fmt: skip

    assert result.code == 4, result
    doc = result.json()
    cause = f"{api.root} does not look like the Dex API (HTTP 404)"
    assert (doc["error"]["message"], doc["notSent"], doc["failed"]) == (cause, 300, 0)
    assert error_lines(result.stderr) == [f"error: {cause}"]
    # Express's "Cannot PUT /contacts/" page once, instead of 3 batches (or 597 requests).
    assert routes_since(api, stats) == {"other": 1}
    assert snapshot(api) == before


def test_an_html_site_that_says_200_stops_the_run(sandbox: Sandbox, dexbulk: Dexbulk) -> None:
    api = sandbox("--hostile", "html")
    ids = unknown_ids(250, "html")  # a --hostile html sandbox cannot list its own contacts

    result = dexbulk("star", "--ids", ",".join(ids), "--json", "--no-read", api=api)

    assert result.code == 4, result
    doc = result.json()
    cause = f"{api.url} does not look like the Dex API (HTTP 200 with an HTML page)"
    assert doc["error"]["message"] == cause
    # Something took the first batch and answered as Dex never does: not confirmed, failed.
    assert (doc["failed"], doc["notSent"], doc["updated"]) == (100, 150, 0)
    assert api.stats()["put_requests"] == 1


# -- unknown contacts: one read per batch, not a bisection -------------------------------------


def test_a_thousand_unknown_ids_cost_about_twenty_requests(
    sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path
) -> None:
    api = sandbox("--contacts", "20", "--unknown-ids", "reject")
    ids = write_ids(tmp_path / "ids.txt", unknown_ids(1000, "a thousand"))

    result = dexbulk(
        "star", "--from", str(ids), "--json", "--results", "results.jsonl", "--no-read", api=api
    )  # fmt: skip

    stats = api.stats()
    assert result.code == 1, result  # Dex was reached: 1, not 4
    doc = result.json()
    assert (doc["failed"], doc["updated"], doc["notSent"]) == (1000, 0, 0)
    # Each batch: one PUT refused with 404, one filter read naming none of them (was 1,990).
    assert stats["put_requests"] == 10, stats
    assert stats["by_route"] == {"PUT /v1/contacts": 10, "POST /v1/contacts/filter": 10}, stats
    assert stats["requests"] <= 30
    records = read_jsonl(tmp_path / "results.jsonl")
    assert {(r["outcome"], r["status"]) for r in records} == {("not_found", 404)}
    assert all("not found" in r["error"] for r in records)


def test_unknown_ids_are_dropped_and_the_rest_resent_once(
    sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path
) -> None:
    api = sandbox("--contacts", "60", "--unknown-ids", "reject")
    known = api.ids(50)
    unknown = unknown_ids(50, "mixed")
    selection = [cid for pair in zip(known, unknown, strict=True) for cid in pair]
    stats = api.stats()

    result = dexbulk(
        "set", "company=Mixed", "--ids", ",".join(selection), "--json", "--results",
        "results.jsonl", "--no-read", api=api,
    )  # fmt: skip

    assert result.code == 1, result
    # One PUT refused, one read naming the 50 that exist, one PUT of those 50.
    routes = routes_since(api, stats)
    assert routes == {"PUT /v1/contacts": 2, "POST /v1/contacts/filter": 1}, routes
    outcomes = {r["contactId"]: r["outcome"] for r in read_jsonl(tmp_path / "results.jsonl")}
    assert outcomes == {**dict.fromkeys(known, "updated"), **dict.fromkeys(unknown, "not_found")}
    assert {c["company"] for cid, c in snapshot(api).items() if cid in known} == {"Mixed"}


def test_a_run_whose_every_contact_dex_rejected_exits_1(sandbox: Sandbox, dexbulk: Dexbulk) -> None:
    probe = sandbox("--contacts", "5", "--seed", "3")
    target = probe.ids(1)[0]
    probe.stop()
    api = sandbox("--contacts", "5", "--seed", "3", "--reject", target)

    result = dexbulk("star", "--ids", target, "--json", api=api)

    assert result.code == 1, result
    assert result.json()["failures"][0]["outcome"] == "rejected"


# -- auth login / auth status ------------------------------------------------------------------


def test_login_with_a_wrong_key_to_a_closed_port_stores_nothing(dexbulk: Dexbulk) -> None:
    port = closed_port()
    url = f"http://127.0.0.1:{port}/v1"

    login = dexbulk("auth", "login", "--with-token", "--api-url", url, input="dex_wrong\n")

    assert login.code == 4, login
    assert f"error: cannot reach {url}: connection refused by 127.0.0.1:{port}" in login.stderr
    assert "Logged in" not in login.stderr
    status = dexbulk("auth", "status", "--api-url", url)
    assert status.code == 3, status
    assert "Not logged in" in status.stderr


def test_login_against_the_sandbox_stores_only_the_accepted_key(
    sandbox: Sandbox, dexbulk: Dexbulk
) -> None:
    api = sandbox("--contacts", "7")

    wrong = dexbulk(
        "auth", "login", "--with-token", "--api-url", api.url, input="dex_wrong_00000000\n"
    )  # fmt: skip
    assert wrong.code == 3, wrong
    assert "nothing was stored" in wrong.stderr
    assert dexbulk("auth", "status", "--api-url", api.url).code == 3

    right = dexbulk("auth", "login", "--with-token", "--api-url", api.url, input=TEST_KEY + "\n")
    assert right.code == 0, right
    assert f"Logged in: {api.url} accepted" in right.stderr
    status = dexbulk("auth", "status", "--api-url", api.url)
    assert status.code == 0, status
    assert f"valid: {api.url} accepted the key: 7 contacts" in status.stderr


def test_status_refuses_to_call_a_key_valid_on_a_500_or_a_wrong_path(
    sandbox: Sandbox, dexbulk: Dexbulk
) -> None:
    broken = sandbox("--hostile", "500")
    good = sandbox("--contacts", "3")
    cases = {
        broken.url: f"{broken.url} answered HTTP 500",
        good.root + "/v2": f"{good.root}/v2 does not look like the Dex API (HTTP 404)",
    }
    for url, words in cases.items():
        status = dexbulk("auth", "status", "--api-url", url, env={"DEX_API_KEY": TEST_KEY})
        assert status.code == 4, status
        assert words in status.stderr
        assert "valid" not in status.stderr


def test_a_dead_api_met_by_the_read_before_a_run_is_one_line_and_nothing_sent(
    dexbulk: Dexbulk, tmp_path: Path
) -> None:
    dead = f"http://127.0.0.1:{closed_port()}/v1"
    result = dexbulk(
        "star", "--ids", "00000000-0000-4000-8000-000000000001", "--api-url", dead,
        "--max-attempts", "1", env={"DEX_API_KEY": TEST_KEY},
    )  # fmt: skip
    assert result.code == 4, result
    assert result.stderr.splitlines()[0] == f"error: connection refused by {dead.split('/')[2]}"
