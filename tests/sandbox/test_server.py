"""Serving: keep-alive, stats, logging, persistence, seeding, and the subprocess entry point."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from dexbulk.sandbox import Sandbox, SandboxOptions

from .conftest import Api, MakeApi, MakeSandbox

REPO = Path(__file__).resolve().parents[2]


def test_keep_alive_reuses_one_connection(api: Api, sandbox: Sandbox) -> None:
    contact_id = sandbox.store.all_ids()[0]
    body = [{"contactId": contact_id, "data": {"description": "x" * 5000}}]
    assert api.put("/contacts/", json=body).status_code == 200
    assert api.get("/contacts/count").status_code == 200
    assert api.get("/nope").status_code == 404
    stats = sandbox.stats()
    assert stats["connections"] == 1
    assert stats["requests"] == 3


def test_each_new_client_is_a_new_connection(sandbox: Sandbox, make_api: MakeApi) -> None:
    for _ in range(2):
        assert make_api(sandbox).get("/contacts/count").status_code == 200
    assert sandbox.stats()["connections"] == 2


def test_concurrent_clients_each_keep_their_connection(sandbox: Sandbox, make_api: MakeApi) -> None:
    ids = sandbox.store.all_ids()
    clients = [make_api(sandbox) for _ in range(6)]

    def work(index: int) -> list[int]:
        api = clients[index]
        mine = ids[index * 10 : index * 10 + 10]
        body = [{"contactId": i, "data": {"description": f"worker {index}"}} for i in mine]
        return [api.put("/contacts/", json=body).json()["data"]["count"] for _ in range(5)]

    with ThreadPoolExecutor(max_workers=6) as pool:
        counts = list(pool.map(work, range(6)))
    assert counts == [[10] * 5] * 6
    stats = sandbox.stats()
    assert (stats["connections"], stats["put_requests"], stats["contacts_updated"]) == (6, 30, 300)
    assert sandbox.store.get(ids[59])["description"] == "worker 5"  # type: ignore[index]


def test_chunked_request_body(api: Api, sandbox: Sandbox) -> None:
    contact_id = sandbox.store.all_ids()[0]

    def chunks() -> Iterator[bytes]:  # a generator body makes requests send it chunked
        yield b'[{"contactId": "' + contact_id.encode() + b'", '
        yield b'"data": {"company": "Chunked"}}]'

    response = api.put("/contacts/", data=chunks(), headers={"Content-Type": "application/json"})
    assert response.json() == {"error": False, "data": {"count": 1}}
    assert api.get("/contacts/count").status_code == 200  # the connection is still in step
    assert sandbox.store.get(contact_id)["company"] == "Chunked"  # type: ignore[index]
    assert sandbox.stats()["connections"] == 1


def test_stats_and_health_need_no_auth_and_are_not_counted(api: Api, sandbox: Sandbox) -> None:
    base = sandbox.url.removesuffix("/v1")
    api.put("/contacts/", json=[{"contactId": sandbox.store.all_ids()[0], "data": {}}])
    api.get("/contacts/count", headers={"Authorization": None})
    with requests.Session() as anonymous:
        health = anonymous.get(base + "/_sandbox/health", timeout=5)
        stats = anonymous.get(base + "/_sandbox/stats", timeout=5).json()
    assert health.status_code == 200
    assert stats == {
        "requests": 2,
        "connections": 1,
        "put_requests": 1,
        "put_items": 1,
        "contacts_updated": 1,
        "by_status": {"200": 1, "401": 1},
        "by_route": {"GET /v1/contacts/count": 1, "PUT /v1/contacts": 1},
        "membership_contacts": {
            "tags_add": 0,
            "tags_remove": 0,
            "groups_add": 0,
            "groups_remove": 0,
            "put_tags_contacts": 0,
            "put_groups_contacts": 0,
        },
        "dropped": 0,
    }
    assert sandbox.stats() == stats


def test_log_line_per_request_without_key_or_body(
    make_sandbox: MakeSandbox, make_api: MakeApi
) -> None:
    log = io.StringIO()
    sandbox = make_sandbox(verbose_log=log)
    api = make_api(sandbox)
    ids = sandbox.store.all_ids()[:2]
    api.put("/contacts/", json=[{"contactId": i, "data": {"company": "SecretCo"}} for i in ids])
    api.get("/contacts/count", params={"searchQuery": "private"})
    lines = log.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("PUT /v1/contacts/ 200 2 contacts ")
    assert lines[0].endswith(" ms")
    assert lines[1].startswith("GET /v1/contacts/count 200 ")
    text = log.getvalue()
    for secret in (sandbox.options.api_key, "SecretCo", "private", ids[0]):
        assert secret not in text


def test_changes_persist_across_restart_and_fresh_reseeds(tmp_path: Path) -> None:
    options = SandboxOptions(db_path=tmp_path / "book.sqlite3", contacts=20)
    with Sandbox(options) as first:
        target = first.store.all_ids()[0]
        with Api(first).session as session:
            response = session.put(
                first.url + "/contacts/",
                json=[{"contactId": target, "data": {"company": "Persisted"}}],
                headers={"Authorization": f"Bearer {options.api_key}"},
                timeout=5,
            )
        assert response.status_code == 200
    with Sandbox(options) as second:
        assert not second.reseeded
        assert second.store.get(target)["company"] == "Persisted"  # type: ignore[index]
    with Sandbox(SandboxOptions(db_path=options.db_path, contacts=20, fresh=True)) as third:
        assert third.reseeded
        assert third.store.get(target)["company"] != "Persisted"  # type: ignore[index]


def test_another_seed_or_size_replaces_the_stored_book(tmp_path: Path) -> None:
    db = tmp_path / "book.sqlite3"
    with Sandbox(SandboxOptions(db_path=db, contacts=20)) as first:
        ids = first.store.all_ids()
    with Sandbox(SandboxOptions(db_path=db, contacts=20, seed=7)) as second:
        assert second.reseeded
        assert second.store.all_ids() != ids
    with Sandbox(SandboxOptions(db_path=db, contacts=25, seed=7)) as third:
        assert third.store.count() == 25


def test_same_seed_same_book_in_memory() -> None:
    def book(seed: int) -> tuple[list[str], object, object]:
        sandbox = Sandbox(SandboxOptions(db_path=Path(":memory:"), seed=seed, contacts=40))
        try:
            return sandbox.store.all_ids(), sandbox.store.rows(), sandbox.store.tags()
        finally:
            sandbox.stop()

    assert book(42) == book(42)
    assert book(42)[0] != book(43)[0]


def test_seeded_book_is_realistic() -> None:
    sandbox = Sandbox(SandboxOptions(db_path=Path(":memory:")))
    try:
        contacts = [c for _, c in sandbox.store.rows()]
        assert len(contacts) == 300
        assert len({c["id"] for c in contacts}) == 300
        assert all(c["full_name"] for c in contacts)
        assert {"investor", "conference-2026", "friends", "VIP", "vip list"} <= {
            t["name"] for t in sandbox.store.tags()
        }
        assert len(sandbox.store.groups()) == 7
        assert sum(c["company"] == "OldCo" for c in contacts) > 10
        seen = sorted(c["last_seen_at"] for c in contacts if c["last_seen_at"])
        assert seen[0] < "2021"  # years apart
        assert seen[-1] > "2026"
        keys = ("starred", "is_archived", "birthday", "frequency", "contact_phone_numbers")
        for key in (*keys, "last_seen_at"):
            share = sum(bool(c[key]) for c in contacts) / len(contacts)
            assert 0.01 < share < 0.8, key
        assert sum(bool(c["tags"]) for c in contacts) > 100
        assert sum(bool(c["groups"]) for c in contacts) > 50
    finally:
        sandbox.stop()


def test_lifecycle_start_is_ready_stop_is_idempotent(tmp_path: Path) -> None:
    sandbox = Sandbox(SandboxOptions(db_path=tmp_path / "x.sqlite3", contacts=5))
    with pytest.raises(RuntimeError):
        _ = sandbox.url
    assert sandbox.start() is sandbox
    assert sandbox.url == f"http://127.0.0.1:{sandbox.port}/v1"
    with requests.Session() as session:
        response = session.get(sandbox.url.removesuffix("v1") + "_sandbox/health", timeout=5)
        assert response.json() == {"error": False, "data": {"status": "ok"}}
        sandbox.stop()
        sandbox.stop()
        with pytest.raises(requests.ConnectionError):
            session.get(sandbox.url + "/contacts/count", timeout=5)
    with pytest.raises(RuntimeError):
        sandbox.start()


def test_subprocess_prints_url_answers_health_and_stops_on_sigterm(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "dexbulk.sandbox", "--port", "0", "--contacts", "10"]
    command += ["--db", str(tmp_path / "sub.sqlite3"), "--key", "dex_subprocess"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None
            first = process.stdout.readline().strip()
            second = process.stdout.readline().strip()
            assert first.startswith("Dex sandbox listening on http://127.0.0.1:")
            url = first.rsplit(" ", 1)[1]
            assert url.endswith("/v1")
            assert f"DEX_API_URL={url} DEX_API_KEY=dex_subprocess" in second
            with requests.Session() as session:
                health = session.get(url.removesuffix("/v1") + "/_sandbox/health", timeout=5)
                count = session.get(
                    url + "/contacts/count",
                    headers={"Authorization": "Bearer dex_subprocess"},
                    timeout=5,
                )
            assert health.status_code == 200
            assert count.json() == {"error": False, "data": {"count": 10}}
        finally:
            process.send_signal(signal.SIGTERM)
            _, err = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "Traceback" not in err
    assert "GET /v1/contacts/count 200" in err
    assert "Dex sandbox stopped." in err


def test_subprocess_rejects_bad_flags() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "dexbulk.sandbox", "--rate-limit", "fast"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    assert result.returncode == 2
    assert "'fast' is not a rate" in result.stderr


def test_sandbox_imports_no_cli_or_http_client_libraries() -> None:
    code = (
        "import sys, dexbulk.sandbox, dexbulk.sandbox.__main__\n"
        "print(sorted({'typer', 'rich', 'requests', 'urllib3'} & set(sys.modules)))"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
